"""kd's places and diagnostics as the Language Server Protocol's types."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from lsprotocol import types as lsp
from pygls.uris import from_fs_path, to_fs_path

from ..session import LineIndex, Position, Range

SEVERITY = {"error": lsp.DiagnosticSeverity.Error, "warning": lsp.DiagnosticSeverity.Warning}


def path_of(uri: str) -> Path:
    """The file system path of a file: URI."""
    return Path(to_fs_path(uri) or uri)


def uri_of(path) -> str:
    return from_fs_path(str(path)) or str(path)


def lsp_position(position: Position) -> lsp.Position:
    return lsp.Position(line=position.line, character=position.character)


def kd_position(position: lsp.Position) -> Position:
    return Position(position.line, position.character)


def lsp_range(found: Range) -> lsp.Range:
    return lsp.Range(start=lsp_position(found.start), end=lsp_position(found.end))


def span_range(lines: Optional[LineIndex], span) -> lsp.Range:
    """The editor range of a kd span (by lines and columns when the text is not at hand)."""
    if lines is None:
        return lsp.Range(start=lsp.Position(line=max(span.line - 1, 0), character=max(span.col - 1, 0)),
                         end=lsp.Position(line=max(span.end_line - 1, 0), character=max(span.end_col - 1, 0)))
    return lsp_range(lines.range(span))


def diagnostic(d, lines_of) -> lsp.Diagnostic:
    """An LSP diagnostic for a kd one; LINES_OF(filename) gives a file's LineIndex (or None)."""
    related = [
        lsp.DiagnosticRelatedInformation(
            location=lsp.Location(uri=uri_of(Path(r.filename or d.filename).resolve()),
                                  range=span_range(lines_of(r.filename or d.filename), r.span)),
            message=r.message)
        for r in d.related
    ]
    message = d.message + (f"\nhint: {d.hint}" if d.hint else "")
    return lsp.Diagnostic(range=span_range(lines_of(d.filename), d.span), message=message,
                          severity=SEVERITY.get(d.severity, lsp.DiagnosticSeverity.Information),
                          code=d.code, source="kdsl", related_information=related or None,
                          data={"hint": d.hint} if d.hint else None)
