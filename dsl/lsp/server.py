"""`kdsl lsp`: the language server over standard input and output (pygls 2).

Every change schedules a check of the document after a short pause (the
debounce); a newer change supersedes a check not yet started, and a check
already running goes on in its thread but its answer is dropped when a newer
text was checked first, so a slow check never delays a newer one and the
latest text always wins.  Queries answer from the latest check.
"""

from __future__ import annotations

import asyncio
import gc
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer

from .. import __version__
from .convert import path_of
from .features import Features

DEBOUNCE_SECONDS = 0.02
CHECK_THREADS = 4
# A check leaves cyclic garbage (the previous answer's graph) that only the
# cyclic collector frees, and a full collection over a workspace's live
# objects takes tens of milliseconds: it runs once the editor is idle, never
# between a change and its diagnostics (checks pause the collector).
COLLECT_AFTER_IDLE_SECONDS = 1.0


class KdLanguageServer(LanguageServer):
    """pygls's server with kdsl's features and the scheduling of checks."""

    def __init__(self):
        super().__init__("kdsl", __version__, text_document_sync_kind=lsp.TextDocumentSyncKind.Incremental)
        self.features = Features()
        self.debounce = DEBOUNCE_SECONDS
        self.inlay_hints_enabled = True
        self.pending: dict = {}  # uri -> the asyncio task waiting to check it
        self.checks = ThreadPoolExecutor(max_workers=CHECK_THREADS, thread_name_prefix="kdsl-check")
        self.collection = None  # the pending idle-time garbage collection

    def warm_up(self) -> None:
        """Load what every check needs (the catalogs, the parser) and move it
        out of the collector's sight: it lives as long as the server."""
        from .. import catalog, ops_catalog
        from ..syntax.parser import thread_parser

        catalog.load()
        ops_catalog.load()
        thread_parser()
        gc.collect()
        gc.freeze()

    def collect_when_idle(self) -> None:
        if self.collection is not None:
            self.collection.cancel()
        self.collection = asyncio.get_running_loop().call_later(COLLECT_AFTER_IDLE_SECONDS, self._collect)

    def _collect(self) -> None:
        self.collection = None
        if not self.pending:
            gc.collect()

    def configure(self, options) -> None:
        """Settings from the client's initializationOptions (or didChangeConfiguration)."""
        if not isinstance(options, dict):
            return
        options = options.get("kdsl", options)
        hints = options.get("inlayHints")
        if isinstance(hints, dict):  # VS Code's settings: {"inlayHints": {"enabled": ...}}
            hints = hints.get("enabled")
        if isinstance(hints, bool):
            self.inlay_hints_enabled = hints
        debounce = options.get("debounce")
        if isinstance(debounce, (int, float)) and 0 <= debounce <= 5:
            self.debounce = float(debounce)

    def schedule(self, uri: str) -> None:
        """Check URI after the debounce, superseding a check not yet started."""
        waiting = self.pending.pop(uri, None)
        if waiting is not None:
            waiting.cancel()
        self.pending[uri] = asyncio.get_running_loop().create_task(self._check_later(uri))

    async def _check_later(self, uri: str) -> None:
        try:
            await asyncio.sleep(self.debounce)
        except asyncio.CancelledError:
            return
        if self.pending.get(uri) is asyncio.current_task():
            del self.pending[uri]
        doc = self.features.documents.get(uri)
        if doc is None:
            return
        version = doc.version
        analysis = await asyncio.get_running_loop().run_in_executor(self.checks, self.features.check, uri)
        current = self.features.documents.get(uri)
        if analysis is None or current is None or current.version != version:
            return  # a newer text is (or will be) checked: this answer is stale
        for target, diagnostics in self.features.diagnostics(analysis).items():
            self.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(
                uri=target, diagnostics=diagnostics, version=version if target == uri else None))
        self.collect_when_idle()


def workspace_roots(params: lsp.InitializeParams) -> list:
    """The workspace's folders an editor names at initialize: its
    workspaceFolders, else the older rootUri, else rootPath."""
    if params.workspace_folders:
        return [path_of(folder.uri) for folder in params.workspace_folders]
    if params.root_uri:
        return [path_of(params.root_uri)]
    return [Path(params.root_path)] if params.root_path else []


def build_server() -> KdLanguageServer:
    """The server with every feature registered."""
    server = KdLanguageServer()

    @server.feature(lsp.INITIALIZE)
    def initialize(ls: KdLanguageServer, params: lsp.InitializeParams):
        ls.configure(params.initialization_options)
        ls.features.roots = workspace_roots(params)
        ls.warm_up()

    @server.feature(lsp.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
    def did_change_folders(ls: KdLanguageServer, params: lsp.DidChangeWorkspaceFoldersParams):
        removed = {path_of(f.uri) for f in params.event.removed}
        kept = [root for root in ls.features.roots if root not in removed]
        ls.features.roots = kept + [path_of(f.uri) for f in params.event.added if path_of(f.uri) not in kept]

    @server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: KdLanguageServer, params: lsp.DidOpenTextDocumentParams):
        doc = params.text_document
        ls.features.open(doc.uri, doc.text, doc.version)
        ls.schedule(doc.uri)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: KdLanguageServer, params: lsp.DidChangeTextDocumentParams):
        uri = params.text_document.uri
        text = ls.workspace.get_text_document(uri).source  # pygls has applied the changes
        ls.features.change(uri, text, params.text_document.version)
        ls.schedule(uri)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: KdLanguageServer, params: lsp.DidCloseTextDocumentParams):
        ls.features.close(params.text_document.uri)
        ls.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri=params.text_document.uri, diagnostics=[]))

    @server.feature(lsp.WORKSPACE_DID_CHANGE_CONFIGURATION)
    def did_change_configuration(ls: KdLanguageServer, params: lsp.DidChangeConfigurationParams):
        ls.configure(params.settings)

    @server.feature(lsp.TEXT_DOCUMENT_HOVER)
    def hover(ls: KdLanguageServer, params: lsp.HoverParams):
        return ls.features.hover(params.text_document.uri, params.position)

    @server.feature(lsp.TEXT_DOCUMENT_INLAY_HINT)
    def inlay_hint(ls: KdLanguageServer, params: lsp.InlayHintParams):
        if not ls.inlay_hints_enabled:
            return []
        return ls.features.inlay_hints(params.text_document.uri, params.range.start.line, params.range.end.line)

    @server.feature(lsp.TEXT_DOCUMENT_DEFINITION)
    def definition(ls: KdLanguageServer, params: lsp.DefinitionParams):
        return ls.features.definition(params.text_document.uri, params.position)

    @server.feature(lsp.TEXT_DOCUMENT_REFERENCES)
    def references(ls: KdLanguageServer, params: lsp.ReferenceParams):
        return ls.features.references(params.text_document.uri, params.position, params.context.include_declaration)

    @server.feature(lsp.TEXT_DOCUMENT_PREPARE_RENAME)
    def prepare_rename(ls: KdLanguageServer, params: lsp.PrepareRenameParams):
        return ls.features.prepare_rename(params.text_document.uri, params.position)

    @server.feature(lsp.TEXT_DOCUMENT_RENAME)
    def rename(ls: KdLanguageServer, params: lsp.RenameParams):
        return ls.features.rename(params.text_document.uri, params.position, params.new_name)

    @server.feature(lsp.TEXT_DOCUMENT_COMPLETION,
                    lsp.CompletionOptions(trigger_characters=[".", '"', "(", ",", "="]))
    def completion(ls: KdLanguageServer, params: lsp.CompletionParams):
        return ls.features.completion(params.text_document.uri, params.position)

    @server.feature(lsp.TEXT_DOCUMENT_SIGNATURE_HELP, lsp.SignatureHelpOptions(trigger_characters=["(", ","]))
    def signature_help(ls: KdLanguageServer, params: lsp.SignatureHelpParams):
        return ls.features.signature_help(params.text_document.uri, params.position)

    @server.feature(lsp.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    def document_symbol(ls: KdLanguageServer, params: lsp.DocumentSymbolParams):
        return ls.features.document_symbols(params.text_document.uri)

    @server.feature(lsp.TEXT_DOCUMENT_FORMATTING)
    def formatting(ls: KdLanguageServer, params: lsp.DocumentFormattingParams):
        return ls.features.formatting(params.text_document.uri)

    @server.feature(lsp.TEXT_DOCUMENT_CODE_ACTION,
                    lsp.CodeActionOptions(code_action_kinds=[lsp.CodeActionKind.QuickFix]))
    def code_action(ls: KdLanguageServer, params: lsp.CodeActionParams):
        return ls.features.code_actions(params.text_document.uri, params.context.diagnostics)

    return server


def serve() -> None:
    """Run the server on standard input and output until the client exits."""
    build_server().start_io()
