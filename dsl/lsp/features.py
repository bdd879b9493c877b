"""The language features over one workspace, without the protocol's
transport: what the server answers, callable (and measured) in process.

Documents are keyed by URI.  `update` checks a document's latest text and
keeps the answer; every query reads the latest answer, so hover, hints and
completion never wait for a check.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Optional

from lsprotocol import types as lsp

from ..fmt.config import Settings
from ..diagnostics import KdError
from ..session import LineIndex, Session, workspace_sources
from ..syntax import read_source
from ..session.analysis import Analysis
from . import completion, edits, hover, outline
from .context import cursor_context
from .convert import diagnostic, kd_position, lsp_range, path_of, span_range, uri_of


class Document:
    """An open document: its text and version, and the latest check of it."""

    def __init__(self, uri: str, text: str, version: int = 0):
        self.uri = uri
        self.text = text
        self.version = version
        self.analysis: Optional[Analysis] = None
        self.checked_version: Optional[int] = None


class Features:
    """The workspace's documents and the answers to every request."""

    def __init__(self, session: Optional[Session] = None):
        self.session = session or Session()
        self.documents: dict = {}
        self.fmt_settings = Settings()
        self.roots: list = []  # the workspace's folders: their .kd files are found by references and rename
        self._lock = threading.Lock()

    # ---------------------------------------------------------- documents

    def open(self, uri: str, text: str, version: int = 0) -> Document:
        doc = Document(uri, text, version)
        with self._lock:
            self.documents[uri] = doc
        self.session.open(path_of(uri), text)
        return doc

    def change(self, uri: str, text: str, version: int) -> Document:
        with self._lock:
            doc = self.documents.get(uri)
            if doc is None:
                doc = self.documents[uri] = Document(uri, text, version)
            doc.text, doc.version = text, version
        self.session.open(path_of(uri), text)
        return doc

    def close(self, uri: str) -> None:
        with self._lock:
            self.documents.pop(uri, None)
        self.session.close(path_of(uri))

    def display(self, uri: str) -> str:
        return str(path_of(uri))

    def check(self, uri: str) -> Optional[Analysis]:
        """Check the document's current text; returns the answer (None when
        the document is gone).  The answer is kept only if no newer text
        was checked first: the latest text wins."""
        doc = self.documents.get(uri)
        if doc is None:
            return None
        text, version = doc.text, doc.version
        analysis = self.session.analyse(path_of(uri), text, display=self.display(uri))
        with self._lock:
            if doc.checked_version is None or version >= doc.checked_version:
                doc.analysis, doc.checked_version = analysis, version
        return analysis

    def analysis(self, uri: str) -> Optional[Analysis]:
        doc = self.documents.get(uri)
        if doc is None:
            return None
        return doc.analysis if doc.analysis is not None else self.check(uri)

    # -------------------------------------------------------- diagnostics

    def diagnostics(self, analysis: Analysis) -> dict:
        """URI -> LSP diagnostics, for the checked file and the files it imports."""
        by_uri: dict = {}
        for file in analysis.files:
            by_uri[uri_of(Path(file.display).resolve())] = []

        def lines_of(filename: str) -> Optional[LineIndex]:
            file = analysis.file(filename)
            return analysis.lines(file) if file is not None else None

        for d in analysis.diagnostics:
            by_uri.setdefault(uri_of(Path(d.filename).resolve()), []).append(diagnostic(d, lines_of))
        return by_uri

    # ------------------------------------------------------------ queries

    def _at(self, uri: str):
        analysis = self.analysis(uri)
        return analysis, self.display(uri)

    def hover(self, uri: str, position: lsp.Position) -> Optional[lsp.Hover]:
        analysis, name = self._at(uri)
        if analysis is None or analysis.program is None:
            return None
        where = kd_position(position)
        value = analysis.value_at(name, where)
        parts = []
        symbol = analysis.symbol_at(name, where)
        if symbol is not None and symbol.kind in ("definition", "from"):
            parts.append(self._symbol_markdown(analysis, name, where))  # a block's signature before what the call gave
        shown = hover.value_markdown(value) if value is not None else None
        if shown is not None:
            parts.append(shown)
        elif not parts:
            parts.append(self._symbol_markdown(analysis, name, where))
        parts = [p for p in parts if p]
        if not parts:
            return None
        node = analysis.node_at(name, where) if value is None or symbol is not None else value.node
        file = analysis.file(name)
        span = span_range(analysis.lines(file), node.span) if node is not None else None
        return lsp.Hover(contents=lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value="\n\n---\n\n".join(parts)), range=span)

    def _symbol_markdown(self, analysis: Analysis, name: str, where) -> Optional[str]:
        symbol = analysis.symbol_at(name, where)
        if symbol is None:
            return None
        if symbol.kind == "definition":
            return hover.definition_markdown(symbol.owner, symbol.file.module.source)
        if symbol.kind == "keras":
            return hover.keras_markdown(symbol.name)
        if symbol.kind == "from":
            item, imported = symbol.file.from_names[symbol.name]
            return f"**{symbol.name}**: `{imported.name}` from the Python module `{item.module}` (a custom layer)"
        return None

    def inlay_hints(self, uri: str, first_line: int = 0, last_line: int = 1 << 30) -> list:
        analysis, name = self._at(uri)
        if analysis is None or analysis.facts is None:
            return []
        file = analysis.file(name)
        return outline.inlay_hints(file.module, analysis.facts, analysis.lines(file), first_line, last_line)

    def definition(self, uri: str, position: lsp.Position) -> Optional[lsp.Location]:
        analysis, name = self._at(uri)
        if analysis is None or analysis.program is None:
            return None
        found = analysis.definition_at(name, kd_position(position))
        return _location(found) if found is not None else None

    def references(self, uri: str, position: lsp.Position, include_declaration: bool = True) -> list:
        return [_location(loc) for loc in self._references(uri, position, include_declaration)]

    def _references(self, uri: str, position: lsp.Position, include_declaration: bool = True) -> list:
        """Session Locations of every reference: in the program of URI, and in
        the programs of the other files that import the file where the name
        is defined (a block's users, seen from the block's file): the open
        documents, then the workspace's other .kd files."""
        analysis, name = self._at(uri)
        if analysis is None or analysis.program is None:
            return []
        where = kd_position(position)
        found = list(analysis.references_at(name, where, include_declaration))
        definition = analysis.definition_at(name, where)
        symbol = analysis.symbol_at(name, where)
        if definition is None or definition.path is None or symbol is None or symbol.kind != "definition":
            return found  # locals live in one body; Keras's names have no place
        seen = {(str(loc.path), loc.span.start) for loc in found}
        for theirs in self._importers(uri, analysis, symbol.name):
            defined_in = _file_at(theirs, definition.path)
            if defined_in is None:
                continue
            for loc in theirs.references_at(defined_in.display, definition.range.start, include_declaration):
                if (str(loc.path), loc.span.start) not in seen:
                    seen.add((str(loc.path), loc.span.start))
                    found.append(loc)
        return found

    def _importers(self, uri: str, analysis: Analysis, name: str):
        """The analyses of the other open documents, then of the workspace's
        .kd files that are neither open nor in ANALYSIS's program and whose
        text names NAME (a file that never writes it cannot refer to it)."""
        done = {Path(file.path).resolve() for file in analysis.files if file.path is not None}
        for other in list(self.documents):
            done.add(path_of(other).resolve())
            if other != uri:
                theirs = self.analysis(other)
                if theirs is not None and theirs.program is not None:
                    yield theirs
        for path in workspace_sources(self.roots):
            if path in done:
                continue
            try:
                text = read_source(path, str(path), self.session.limits)
            except (KdError, OSError):
                continue  # unreadable, or over the size limit: not a program to look in
            if name in text:
                theirs = self.session.analyse(path, text, display=str(path))
                if theirs.program is not None:
                    yield theirs

    def prepare_rename(self, uri: str, position: lsp.Position) -> Optional[lsp.Range]:
        analysis, name = self._at(uri)
        if analysis is None or analysis.program is None:
            return None
        symbol = analysis.symbol_at(name, kd_position(position))
        if symbol is None or symbol.kind not in ("local", "definition"):
            return None
        for loc in analysis.references_at(name, kd_position(position)):
            if str(loc.path) == str(path_of(uri).resolve()) and _holds(loc.range, kd_position(position)):
                return lsp_range(loc.range)
        return None

    def rename(self, uri: str, position: lsp.Position, new_name: str) -> Optional[lsp.WorkspaceEdit]:
        if self.prepare_rename(uri, position) is None:
            return None
        return edits.rename_edit(self._references(uri, position), new_name)

    def _cursor(self, uri: str, position: lsp.Position):
        doc = self.documents.get(uri)
        text = doc.text if doc is not None else ""
        offset = LineIndex(text).offset(kd_position(position))
        analysis, name = self._at(uri)
        file = analysis.file(name) if analysis is not None and analysis.program is not None else None
        return analysis, file, cursor_context(text, offset), offset

    def completion(self, uri: str, position: lsp.Position) -> lsp.CompletionList:
        analysis, file, context, offset = self._cursor(uri, position)
        items = completion.completions(analysis, file, context, offset)
        return lsp.CompletionList(is_incomplete=False, items=items)

    def signature_help(self, uri: str, position: lsp.Position) -> Optional[lsp.SignatureHelp]:
        analysis, file, context, _ = self._cursor(uri, position)
        return completion.signature_help(analysis, file, context.call)

    def document_symbols(self, uri: str) -> list:
        analysis, name = self._at(uri)
        if analysis is None or analysis.program is None:
            return []
        file = analysis.file(name)
        return outline.document_symbols(file.module, analysis.lines(file))

    def formatting(self, uri: str) -> Optional[list]:
        doc = self.documents.get(uri)
        if doc is None:
            return None
        path = path_of(uri)
        return edits.format_edits(doc.text, self.display(uri), edits.line_length_for(path, self.fmt_settings))

    def code_actions(self, uri: str, diagnostics: list) -> list:
        doc = self.documents.get(uri)
        if doc is None:
            return []
        lines = LineIndex(doc.text)

        def text_of(found: lsp.Range) -> str:
            return doc.text[lines.offset(kd_position(found.start)):lines.offset(kd_position(found.end))]

        return edits.quick_fixes(uri, text_of, diagnostics)


def _file_at(analysis: Analysis, path):
    """The SourceFile of ANALYSIS's program read from PATH, or None."""
    wanted = Path(path).resolve()
    for file in analysis.files:
        if file.path is not None and Path(file.path).resolve() == wanted:
            return file
    return None


def _holds(found, position) -> bool:
    start, end = found.start, found.end
    return (start.line, start.character) <= (position.line, position.character) <= (end.line, end.character)


def _location(loc) -> lsp.Location:
    uri = uri_of(Path(loc.path)) if loc.path is not None else uri_of(Path(loc.filename).resolve())
    return lsp.Location(uri=uri, range=lsp_range(loc.range))
