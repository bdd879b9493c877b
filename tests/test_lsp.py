"""The language server, driven over stdio by pytest-lsp as an editor would
(issue 11): diagnostics as you type, hover, inlay hints, definitions and
references across an import, rename, completion, signature help, quick
fixes, outline and formatting."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types as lsp
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from dsl.fmt import format_text
from dsl.lsp.convert import uri_of

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}

pytestmark = pytest.mark.asyncio(loop_scope="module")

from editor_samples import LAYERS, MAIN  # noqa: E402

BROKEN = """\
model m {
    x = Input(shape=(4, 4, 3))
    a = x -> Conv2d(8, 3)
    b = x -> Conv2D(8, 3, padding="vaild")
    c = x ->
    output y = x -> Flatten() -> Dense(2)
}
"""


@pytest_lsp.fixture(loop_scope="module", scope="module",
                    config=ClientServerConfig(server_command=[sys.executable, "-m", "dsl", "lsp"], server_env=ENV))
async def client(lsp_client: LanguageClient, tmp_path_factory):
    root = tmp_path_factory.mktemp("workspace")
    (root / "layers.kd").write_text(LAYERS)
    (root / "net.kd").write_text(MAIN)
    lsp_client.root = root
    await lsp_client.initialize_session(lsp.InitializeParams(
        capabilities=client_capabilities("visual-studio-code"), root_uri=uri_of(root),
        initialization_options={"kdsl": {"debounce": 0.01}}))
    yield
    await lsp_client.shutdown_session()


async def _open(client: LanguageClient, path: Path, text: str) -> str:
    uri = uri_of(path)
    client.diagnostics.pop(uri, None)
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(
        text_document=lsp.TextDocumentItem(uri=uri, language_id="kd", version=1, text=text)))
    await _diagnostics(client, uri)
    return uri


async def _diagnostics(client: LanguageClient, uri: str) -> list:
    """The diagnostics published for URI (waits for them)."""
    async def wait():
        while uri not in client.diagnostics:
            await client.wait_for_notification(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        return client.diagnostics[uri]
    return await asyncio.wait_for(wait(), timeout=30)


def _at(text: str, line: int, needle: str, nth: int = 0) -> lsp.Position:
    """The position of the NTH NEEDLE on LINE (from 1)."""
    line_text = text.splitlines()[line - 1]
    col = -1
    for _ in range(nth + 1):
        col = line_text.index(needle, col + 1)
    return lsp.Position(line=line - 1, character=len(line_text[:col].encode("utf-16-le")) // 2)


def _doc(uri: str) -> lsp.TextDocumentIdentifier:
    return lsp.TextDocumentIdentifier(uri=uri)


async def test_every_error_of_the_file_at_its_range_then_updated_on_edit(client: LanguageClient):
    path = client.root / "broken.kd"
    uri = await _open(client, path, BROKEN)
    found = sorted((d.code, d.range.start.line + 1, d.range.start.character + 1) for d in client.diagnostics[uri])
    lines = BROKEN.splitlines()
    assert found == sorted([("KD100", 6, 5), ("KD300", 3, lines[2].index("Conv2d") + 1),
                            ("KD303", 4, lines[3].index('"vaild"') + 1)])
    by_code = {d.code: d for d in client.diagnostics[uri]}
    assert by_code["KD300"].range.end.character - by_code["KD300"].range.start.character == len("Conv2d")
    assert "did you mean `Conv2D`?" in by_code["KD300"].message

    fixed = BROKEN.replace("Conv2d", "Conv2D").replace("    c = x ->\n", "")
    client.diagnostics.pop(uri)
    client.text_document_did_change(lsp.DidChangeTextDocumentParams(
        text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=2),
        content_changes=[lsp.TextDocumentContentChangeWholeDocument(text=fixed)]))
    # Now that no statement is lost to a syntax error, unused bindings are reported too.
    assert sorted(d.code for d in await _diagnostics(client, uri)) == ["KD303", "KD900", "KD900"]


async def test_a_quick_fix_applied_turns_the_error_into_none(client: LanguageClient):
    text = "model q {\n    x = Input(shape=(4, 4, 3))\n    output y = x -> Conv2D(8, 3, padding=\"vaild\") -> Flatten()\n}\n"
    uri = await _open(client, client.root / "quick.kd", text)
    diagnostics = client.diagnostics[uri]
    assert [d.code for d in diagnostics] == ["KD303"]
    actions = await client.text_document_code_action_async(lsp.CodeActionParams(
        text_document=_doc(uri), range=diagnostics[0].range, context=lsp.CodeActionContext(diagnostics=diagnostics)))
    assert len(actions) == 1 and actions[0].kind == lsp.CodeActionKind.QuickFix
    (edit,) = actions[0].edit.changes[uri]
    assert edit.new_text == '"valid"'
    lines = text.splitlines(keepends=True)
    line = lines[edit.range.start.line]
    lines[edit.range.start.line] = line[:edit.range.start.character] + edit.new_text + line[edit.range.end.character:]
    client.diagnostics.pop(uri)
    client.text_document_did_change(lsp.DidChangeTextDocumentParams(
        text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=2),
        content_changes=[lsp.TextDocumentContentChangeWholeDocument(text="".join(lines))]))
    assert list(await _diagnostics(client, uri)) == []


async def test_hover_on_a_binding_inside_a_block_called_in_a_loop(client: LanguageClient):
    uri = await _open(client, client.root / "net.kd", MAIN)
    assert list(client.diagnostics[uri]) == []
    result = await client.text_document_hover_async(lsp.HoverParams(text_document=_doc(uri), position=_at(MAIN, 5, "h")))
    text = result.contents.value
    assert "tensor of 3 shapes over 3 evaluations" in text
    for shape in ("(None, 4)", "(None, 6)", "(None, 10)"):
        assert f"`{shape}` float32" in text
    layer = await client.text_document_hover_async(lsp.HoverParams(text_document=_doc(uri), position=_at(MAIN, 16, "Dense")))
    assert "**Dense** `out` (layer)" in layer.contents.value and "Parameters: 17 (17 trainable" in layer.contents.value
    assert "densely-connected" in layer.contents.value.lower()  # the first lines of Keras's docstring


async def test_definition_and_references_across_an_import(client: LanguageClient):
    uri = await _open(client, client.root / "net.kd", MAIN)
    found = await client.text_document_definition_async(lsp.DefinitionParams(
        text_document=_doc(uri), position=_at(MAIN, 15, "dense_stack")))
    assert found.uri == uri_of(client.root / "layers.kd")
    assert (found.range.start.line, found.range.start.character) == (1, 6)
    refs = await client.text_document_references_async(lsp.ReferenceParams(
        text_document=_doc(uri), position=_at(MAIN, 15, "dense_stack"),
        context=lsp.ReferenceContext(include_declaration=True)))
    assert sorted((Path(r.uri).name, r.range.start.line) for r in refs) == [("layers.kd", 1), ("net.kd", 14)]


async def test_rename_a_block_across_files_and_a_local(client: LanguageClient):
    uri = await _open(client, client.root / "net.kd", MAIN)
    edit = await client.text_document_rename_async(lsp.RenameParams(
        text_document=_doc(uri), position=_at(MAIN, 15, "dense_stack"), new_name="tower"))
    layers_uri = uri_of(client.root / "layers.kd")
    assert set(edit.changes) == {uri, layers_uri}
    assert [e.new_text for e in edit.changes[layers_uri]] == ["tower"]
    local = await client.text_document_rename_async(lsp.RenameParams(
        text_document=_doc(uri), position=_at(MAIN, 10, "parts"), new_name="branches"))
    assert sorted(e.range.start.line for e in local.changes[uri]) == [9, 11, 11, 13]
    # From the block's own file: the open files that import it are renamed too.
    layers = await _open(client, client.root / "layers.kd", LAYERS)
    from_definition = await client.text_document_rename_async(lsp.RenameParams(
        text_document=_doc(layers), position=_at(LAYERS, 2, "dense_stack"), new_name="tower"))
    assert {u: sorted(e.range.start.line for e in edits) for u, edits in from_definition.changes.items()} == {
        layers: [1], uri: [14]}
    refused = await client.text_document_prepare_rename_async(lsp.PrepareRenameParams(
        text_document=_doc(uri), position=_at(MAIN, 16, "Dense")))
    assert refused is None  # Keras's names are not the program's to rename


async def test_completion_of_layers_keywords_and_enumerated_values(client: LanguageClient):
    text = 'model c {\n    x = Input(shape=(8, 8, 3))\n    y = x -> Conv2D(8, 3, padding="\n}\n'
    uri = await _open(client, client.root / "complete.kd", text)

    async def labels(line: int, character: int) -> list:
        result = await client.text_document_completion_async(lsp.CompletionParams(
            text_document=_doc(uri), position=lsp.Position(line=line, character=character)))
        return [item.label for item in result.items]

    padding = await labels(2, len('    y = x -> Conv2D(8, 3, padding="'))
    assert sorted(padding) == ["same", "valid"]
    keywords = await labels(2, len("    y = x -> Conv2D(8, 3, "))
    assert {"strides=", "padding=", "activation=", "kernel_initializer="} <= set(keywords)
    names = await labels(2, len("    y = x -> Conv"))
    assert {"Conv2D", "Conv1D", "ConvLSTM2D", "ResNet50", "x", "concatenate"} <= set(names)
    help_ = await client.text_document_signature_help_async(lsp.SignatureHelpParams(
        text_document=_doc(uri), position=lsp.Position(line=2, character=len('    y = x -> Conv2D(8, 3, padding="'))))
    params = [p.label for p in help_.signatures[0].parameters]
    assert params[:2] == ["filters", "kernel_size"] and params[help_.active_parameter] == 'padding="valid"'


async def test_inlay_hints_on_resnet50_equal_kdsl_summary(client: LanguageClient):
    source = (ROOT / "examples" / "resnet50.kd").read_text()
    (client.root / "resnet50.kd").write_text(source)
    uri = await _open(client, client.root / "resnet50.kd", source)
    hints = await client.text_document_inlay_hint_async(lsp.InlayHintParams(
        text_document=_doc(uri), range=lsp.Range(start=lsp.Position(line=0, character=0),
                                                 end=lsp.Position(line=len(source.splitlines()), character=0))))
    shown = {}
    for hint in hints:
        for line in (hint.tooltip or "").splitlines():
            name, shape = re.fullmatch(r"(\S+) \(\w+\): (.*)", line).groups()
            shown[name] = shape
            assert shape in hint.label or hint.label.endswith(" | ...")
    summary = subprocess.run([sys.executable, "-m", "dsl", "summary", str(client.root / "resnet50.kd")],
                             capture_output=True, text=True, env=ENV, check=True).stdout
    rows = dict(re.findall(r"^(\w+) \(\w+\)\s+(\([^)]*\))", summary, re.M))
    rows.pop("image", None)  # the input layer: no step makes it
    assert len(rows) > 170 and shown == rows


async def test_document_symbols_and_formatting_equal_kdsl_fmt(client: LanguageClient):
    messy = "model   f{\n  x=Input(shape=(4,))\n  output y=x->Dense(2)\n}\n"
    uri = await _open(client, client.root / "messy.kd", messy)
    symbols = await client.text_document_document_symbol_async(lsp.DocumentSymbolParams(text_document=_doc(uri)))
    assert [(s.name, s.detail) for s in symbols] == [("f", "model")]
    assert [(c.name, c.detail) for c in symbols[0].children] == [("x", "input"), ("y", "output")]
    edits = await client.text_document_formatting_async(lsp.DocumentFormattingParams(
        text_document=_doc(uri), options=lsp.FormattingOptions(tab_size=4, insert_spaces=True)))
    assert len(edits) == 1 and edits[0].new_text == format_text(messy, "messy.kd")
    assert edits[0].new_text != messy


async def test_hover_on_a_subscript_shows_what_it_selects(client: LanguageClient):
    text = ("model t(maxlen=16) {\n    tokens = Input(shape=(maxlen,), dtype=\"int32\")\n"
            "    x = Embedding(100, 8)(tokens)\n    output first = x[:, 0] -> Dense(2)\n}\n")
    uri = await _open(client, client.root / "subscript.kd", text)
    assert list(client.diagnostics[uri]) == []
    for needle in ("[", "0"):
        result = await client.text_document_hover_async(lsp.HoverParams(text_document=_doc(uri), position=_at(text, 4, needle)))
        assert "tensor `(None, 8)` float32" in result.contents.value



# A program of the workspace no editor has open: it imports layers.kd.
UNOPENED_USER = """\
import "layers.kd"

model other {
    x = Input(shape=(4,))
    output y = x -> dense_stack([8])
}
"""

# Names a `dense_stack` of its own: not a reference to layers.kd's.
DECOY = """\
block dense_stack(x) {
    return x -> Dense(3)
}

model decoy {
    x = Input(shape=(4,))
    output y = x -> dense_stack()
}
"""


async def test_references_and_rename_reach_the_workspace_s_unopened_files(client: LanguageClient):
    hidden = client.root / ".cache"
    hidden.mkdir()
    written = [client.root / "user.kd", client.root / "decoy.kd", hidden / "hidden.kd"]
    for path, text in zip(written, (UNOPENED_USER, DECOY, UNOPENED_USER.replace('"layers.kd"', '"../layers.kd"'))):
        path.write_text(text)
    try:
        uri = await _open(client, client.root / "net.kd", MAIN)
        refs = await client.text_document_references_async(lsp.ReferenceParams(
            text_document=_doc(uri), position=_at(MAIN, 15, "dense_stack"),
            context=lsp.ReferenceContext(include_declaration=True)))
        assert sorted((Path(r.uri).name, r.range.start.line) for r in refs) == [
            ("layers.kd", 1), ("net.kd", 14), ("user.kd", 4)]
        layers = await _open(client, client.root / "layers.kd", LAYERS)
        edit = await client.text_document_rename_async(lsp.RenameParams(
            text_document=_doc(layers), position=_at(LAYERS, 2, "dense_stack"), new_name="tower"))
        assert {Path(u).name: sorted(e.range.start.line for e in edits) for u, edits in edit.changes.items()} == {
            "layers.kd": [1], "net.kd": [14], "user.kd": [4]}
        user_edit = edit.changes[uri_of((client.root / "user.kd").resolve())][0]
        assert UNOPENED_USER.splitlines()[4][user_edit.range.start.character:user_edit.range.end.character] == "dense_stack"
    finally:
        for path in written:
            path.unlink()
        hidden.rmdir()


async def test_the_server_takes_the_workspace_folders_before_the_root():
    from dsl.lsp.server import workspace_roots

    folders = [lsp.WorkspaceFolder(uri="file:///w/one", name="one"), lsp.WorkspaceFolder(uri="file:///w/two", name="two")]
    both = lsp.InitializeParams(capabilities=lsp.ClientCapabilities(), root_uri="file:///w", workspace_folders=folders)
    assert [p.as_posix() for p in workspace_roots(both)] == ["/w/one", "/w/two"]
    assert [p.as_posix() for p in workspace_roots(lsp.InitializeParams(capabilities=lsp.ClientCapabilities(),
                                                                        root_uri="file:///w"))] == ["/w"]
    assert workspace_roots(lsp.InitializeParams(capabilities=lsp.ClientCapabilities())) == []
