"""Check passes => the module builds (issue 7): every program of the test
corpora that `kdsl check` accepts compiles to a module that Keras builds
with the layer table kdsl reports, and that trains one step where the
program compiles its model.  The examples have their own, fuller tests
(tests/test_examples.py); the fuzzer's programs are checked as they are
made (tests/test_program_fuzz.py)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

keras = pytest.importorskip("keras")

from keras_compare import assert_document_matches, assert_same_model, load_module, train_one_step  # noqa: E402

from dsl.compiler import compile_text, relative_label  # noqa: E402
from dsl.summary import summary_document  # noqa: E402

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
CORPORA = sorted([*TESTS.glob("golden/*.kd"), *TESTS.glob("hostile/*.kd"), *TESTS.glob("readme/*.kd"),
                  *TESTS.glob("fmt/**/*.kd")])


def _doc_blocks():
    """The kd blocks of the README and the docs, each a program."""
    out = []
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for i, block in enumerate(re.findall(r"```kd\n(.*?)```", doc.read_text(encoding="utf-8"), re.S)):
            out.append(pytest.param(block, id=f"{doc.name}-{i}"))
    return out


@pytest.fixture(autouse=True)
def _custom_layers(monkeypatch):
    monkeypatch.syspath_prepend(str(TESTS / "corpus_modules"))


def _builds(text: str, filename: str, path, folder: Path) -> int:
    """Compile TEXT; when kdsl accepts it, build every model it checked."""
    target = folder / (Path(filename).stem + ".py")
    compiled = compile_text(text, filename, path, relative_label(path or target, folder))
    if not compiled.ok:
        return 0
    target.write_text(compiled.text, encoding="utf-8")
    module = load_module(target)
    for name, graph in compiled.check.graphs.items():
        keras.backend.clear_session(free_memory=False)
        model = getattr(module, f"build_{name}")()
        assert_same_model(graph, model)
        assert_document_matches(summary_document(compiled.check, filename, name)["models"][0], model)
        train_one_step(module, name, model)
    return len(compiled.check.graphs)


@pytest.mark.parametrize("path", CORPORA, ids=lambda p: str(p.relative_to(TESTS)))
def test_accepted_corpus_programs_build(path, tmp_path):
    _builds(path.read_text(encoding="utf-8"), str(path), path, tmp_path)


@pytest.mark.parametrize("block", _doc_blocks())
def test_accepted_doc_programs_build(block, tmp_path):
    _builds(block, "doc.kd", None, tmp_path)


def test_the_corpora_hold_accepted_programs(tmp_path):
    """The corpora are not all refused (which would make the tests above vacuous)."""
    built = sum(_builds(p.read_text(encoding="utf-8"), str(p), p, tmp_path) for p in CORPORA)
    assert built >= 8
