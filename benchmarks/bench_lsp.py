"""How quickly does the language server answer?

    python benchmarks/bench_lsp.py [--edits 30]

Two measurements on examples/resnet50.kd (results in docs/benchmarks.md):

1. Over stdio, as an editor sees it: the real `kdsl lsp` process driven by
   a pygls client (pytest-lsp's); the time from sending a one-line edit
   (`didChange`) to receiving its `publishDiagnostics`, debounce included,
   and the time of a hover request on a binding inside a block.
2. In process: the server's own work for the same edit (check, facts and
   the conversion of diagnostics) and for the hover, without the transport.

Run it on an otherwise idle machine; medians and 90th percentiles are printed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SOURCE = ROOT / "examples" / "resnet50.kd"
HOVER_AT = (15, 8)  # `x` of `x = x -> Conv2D(...)` inside block1 (called 16 times)


def _edit(text: str, i: int) -> str:
    return text.replace("classes=1000", f"classes={1000 + i % 7}")


def _stats(label: str, seconds: list) -> None:
    ms = sorted(s * 1000 for s in seconds)
    p90 = ms[min(len(ms) - 1, int(len(ms) * 0.9))]
    print(f"{label:<40} median {statistics.median(ms):7.2f} ms   p90 {p90:7.2f} ms   ({len(ms)} runs)")


async def over_stdio(edits: int) -> None:
    from lsprotocol import types as lsp
    from pytest_lsp import client_capabilities, make_test_lsp_client

    from dsl.lsp.convert import uri_of

    client = make_test_lsp_client()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    await client.start_io(sys.executable, "-m", "dsl", "lsp", env=env)
    await client.initialize_session(lsp.InitializeParams(capabilities=client_capabilities("visual-studio-code")))
    uri = uri_of(SOURCE)
    text = SOURCE.read_text()
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(
        text_document=lsp.TextDocumentItem(uri=uri, language_id="kd", version=1, text=text)))
    await client.wait_for_notification(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    published, hovers = [], []
    for i in range(edits):
        await asyncio.sleep(0.05)  # as between keystrokes: each edit is checked on its own
        start = time.perf_counter()
        client.text_document_did_change(lsp.DidChangeTextDocumentParams(
            text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=i + 2),
            content_changes=[lsp.TextDocumentContentChangeWholeDocument(text=_edit(text, i))]))
        await client.wait_for_notification(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        published.append(time.perf_counter() - start)
        start = time.perf_counter()
        await client.text_document_hover_async(lsp.HoverParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri), position=lsp.Position(line=HOVER_AT[0], character=HOVER_AT[1])))
        hovers.append(time.perf_counter() - start)
    await client.shutdown_session()
    print("\n1. Over stdio (the kdsl lsp process)")
    _stats("change -> diagnostics published", published)
    _stats("hover request -> answer", hovers)


def in_process(edits: int) -> None:
    import gc

    from lsprotocol import types as lsp

    from dsl.lsp.convert import uri_of
    from dsl.lsp.features import Features

    features = Features()
    uri = uri_of(SOURCE)
    text = SOURCE.read_text()
    features.open(uri, text, 1)
    features.check(uri)
    checks, hovers = [], []
    for i in range(edits):
        gc.collect()  # as the server does when idle
        features.change(uri, _edit(text, i), i + 2)
        start = time.perf_counter()
        features.diagnostics(features.check(uri))
        checks.append(time.perf_counter() - start)
        start = time.perf_counter()
        features.hover(uri, lsp.Position(line=HOVER_AT[0], character=HOVER_AT[1]))
        hovers.append(time.perf_counter() - start)
    print("\n2. In process (the server's work, no transport)")
    _stats("re-check after a one-line edit", checks)
    _stats("hover", hovers)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--edits", type=int, default=30, help="edits measured")
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cpus, {SOURCE.name}")
    asyncio.run(over_stdio(args.edits))
    in_process(args.edits)


if __name__ == "__main__":
    main()
