"""Facts by position (issue 9): for a place in a file, the value there and
the definition and references of the name there, across imported files,
inside blocks called in loops, and in UTF-16 columns on non-ASCII lines; and
sessions that read open buffers and keep no state between workspaces."""

from __future__ import annotations

import os
import threading

import pytest

from dsl.check.values import Instance, Tensor
from dsl.session import LineIndex, Position, Session

from editor_samples import LAYERS, MAIN


def _position(text: str, line: int, needle: str, nth: int = 0) -> Position:
    """The editor position (line from 1 here, for readability) of the
    NTH occurrence of NEEDLE on LINE."""
    line_text = text.splitlines()[line - 1]
    col = -1
    for _ in range(nth + 1):
        col = line_text.index(needle, col + 1)
    return Position(line - 1, len(line_text[:col].encode("utf-16-le")) // 2)


@pytest.fixture
def project(tmp_path):
    (tmp_path / "layers.kd").write_text(LAYERS)
    main = tmp_path / "net.kd"
    main.write_text(MAIN)
    session = Session()
    analysis = session.analyse(main, display="net.kd")
    assert [d.code for d in analysis.diagnostics] == []
    return tmp_path, session, analysis


def test_a_binding_inside_a_block_called_in_a_loop_has_one_value_per_call(project):
    _, _, analysis = project
    value = analysis.value_at("net.kd", _position(MAIN, 5, "h"))
    assert value.count == 3
    assert [t.shape for t in value.tensors] == [(None, 4), (None, 6), (None, 10)]
    assert all(t.dtype == "float32" for t in value.tensors)


def test_a_loop_variable_and_a_layer_call_in_a_loop(project):
    _, _, analysis = project
    units = analysis.value_at("net.kd", _position(MAIN, 11, "units"))
    assert units.values == [4, 6, 10]
    layer = analysis.value_at("net.kd", _position(MAIN, 4, "Dense"))
    made = layer.instances
    assert [inst.cls for inst in made] == ["Dense"] * 3
    assert [inst.args["units"] for inst in made] == [4, 6, 10]
    assert [inst.name for inst in made] == ["dense", "dense_1", "dense_2"]
    assert [t.shape for t in layer.tensors] == [(None, 4), (None, 6), (None, 10)]


def test_values_in_an_imported_file_come_from_the_calls_into_it(project):
    _, _, analysis = project
    x = analysis.value_at("layers.kd", _position(LAYERS, 4, "x ="))
    assert [t.shape for t in x.tensors] == [(None, 32), (None, 16)]
    dense = analysis.value_at("layers.kd", _position(LAYERS, 4, "Dense"))
    assert [i.weights is not None and sum(w.size for w in i.weights) for i in dense.instances] == [
        20 * 32 + 32, 32 * 16 + 16]


def test_a_merge_and_a_chain_step(project):
    _, _, analysis = project
    joined = analysis.value_at("net.kd", _position(MAIN, 14, "joined"))
    assert [t.shape for t in joined.tensors] == [(None, 20)]
    step = analysis.value_at("net.kd", _position(MAIN, 16, "Dense"))
    assert [t.shape for t in step.tensors] == [(None, 1)]
    assert step.instances[0].args["activation"] == "sigmoid"


def test_definition_and_references_across_an_import(project):
    _, _, analysis = project
    definition = analysis.definition_at("net.kd", _position(MAIN, 15, "dense_stack"))
    assert (definition.filename, definition.span.line, definition.span.col) == ("layers.kd", 2, 7)
    refs = analysis.references_at("layers.kd", Position(1, 8))
    assert [(r.filename, r.span.line) for r in refs] == [("layers.kd", 2), ("net.kd", 15)]
    assert [(r.filename, r.span.line) for r in analysis.references_at("layers.kd", Position(1, 8), False)] == [("net.kd", 15)]


def test_locals_resolve_to_their_first_binding_and_stay_in_their_body(project):
    _, _, analysis = project
    definition = analysis.definition_at("net.kd", _position(MAIN, 12, "inp"))
    assert (definition.span.line, definition.span.col) == (9, 5)
    refs = analysis.references_at("net.kd", _position(MAIN, 5, "h"))
    assert [r.span.line for r in refs] == [4, 5]
    units = analysis.references_at("net.kd", _position(MAIN, 3, "units"))
    assert [r.span.line for r in units] == [3, 4]  # the block's parameter, not the model's loop variable
    parts = analysis.references_at("net.kd", _position(MAIN, 12, "parts", 1))
    assert [r.span.line for r in parts] == [10, 12, 12, 14]


def test_keras_names_have_no_definition_in_the_program(project):
    _, _, analysis = project
    assert analysis.definition_at("net.kd", _position(MAIN, 4, "Dense")) is None
    assert analysis.symbol_at("net.kd", _position(MAIN, 4, "Dense")).kind == "keras"


NON_ASCII = """\
model m {
    inp = Input(shape=(3,))
    _tag = "é😀ü"; y = inp -> Dense(5, name="d")
    output z = y -> Dense(2)
}
"""


def test_columns_are_utf16_code_units_on_non_ascii_lines(tmp_path):
    analysis = Session().analyse(tmp_path / "m.kd", NON_ASCII, display="m.kd")
    assert analysis.diagnostics == []
    line = NON_ASCII.splitlines()[2]
    code_points = line.index("y =")
    utf16 = code_points + 1  # the emoji is two UTF-16 units
    value = analysis.value_at("m.kd", Position(2, utf16))
    assert value.node.id == "y" and [t.shape for t in value.tensors] == [(None, 5)]
    # Counted in code points, the position would land one character later, on the space after `y`.
    assert analysis.definition_at("m.kd", Position(3, 15)).range.start == Position(2, utf16)


def test_line_index_round_trips_offsets():
    text = "a😀b\nc\n😀😀x"
    index = LineIndex(text)
    for offset in range(len(text) + 1):
        assert index.offset(index.position(offset)) == offset
    assert index.position(text.index("x")) == Position(2, 4)


def test_an_open_buffer_wins_over_the_file_on_disk(project):
    root, session, _ = project
    session.open(root / "layers.kd", LAYERS.replace('activation="relu"', 'activation="relu7"'))
    analysis = session.analyse(root / "net.kd", display="net.kd")
    assert [(d.code, d.filename) for d in analysis.diagnostics] == [("KD303", "layers.kd")]
    session.close(root / "layers.kd")
    assert session.analyse(root / "net.kd", display="net.kd").diagnostics == []


def test_facts_survive_syntax_errors_elsewhere_in_the_file(tmp_path):
    broken = "model m {\n    x = Input(shape=(4,))\n    a = x -> Dense(4\n    b = x -> Dense(3)\n    output y = b -> Dense(2)\n}\n"
    analysis = Session().analyse(tmp_path / "m.kd", broken, display="m.kd")
    assert [d.code for d in analysis.diagnostics] == ["KD100"]
    assert [t.shape for t in analysis.value_at("m.kd", Position(3, 4)).tensors] == [(None, 3)]


def test_sessions_are_independent_and_thread_safe(tmp_path):
    texts = {w: f"model m {{\n    x = Input(shape=(4,))\n    output y = x -> Dense({w})\n}}\n" for w in range(1, 9)}
    found = {}

    def work(width):
        session = Session()
        for _ in range(3):
            analysis = session.analyse(tmp_path / "m.kd", texts[width], display="m.kd")
            found[width] = analysis.value_at("m.kd", Position(2, 11)).tensors[0].shape

    threads = [threading.Thread(target=work, args=(w,)) for w in texts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert found == {w: (None, w) for w in texts}


def test_comments_are_exposed_by_node(project):
    _, _, analysis = project
    block = analysis.file("layers.kd").module.definitions[0]
    assert [p.text for p in analysis.comments_of("layers.kd", block).before] == ["## A stack of dense layers."]
    assert isinstance(analysis.value_at("net.kd", _position(MAIN, 9, "inp")).values[0], Tensor)
    assert not isinstance(analysis.value_at("net.kd", _position(MAIN, 9, "inp")).values[0], Instance)


ROOT = __import__("pathlib").Path(__file__).resolve().parent.parent
KD_FILES = sorted(ROOT.glob("examples/*.kd")) + sorted((ROOT / "tests").rglob("*.kd"))


def test_item_by_item_parsing_equals_parsing_the_whole_file():
    from dsl.syntax import parse_partial
    from dsl.syntax.incremental import ItemCache

    cache = ItemCache()
    assert len(KD_FILES) > 40
    for path in KD_FILES:
        text = path.read_text(encoding="utf-8")
        (ours, our_problems), (whole, problems) = cache.parse(text, path.name), parse_partial(text, path.name)
        assert repr(ours.items) == repr(whole.items), path  # spans included
        assert repr(ours.comments) == repr(whole.comments) and ours.broken == whole.broken, path
        assert [d.message for d in our_problems] == [d.message for d in problems], path
        assert [i.doc for i in ours.definitions] == [i.doc for i in whole.definitions], path


def test_an_edit_parses_only_the_item_it_touches():
    from dsl.syntax.incremental import ItemCache

    text = (ROOT / "examples" / "resnet50.kd").read_text()
    cache = ItemCache()
    before, _ = cache.parse(text, "r.kd")
    after, _ = cache.parse(text.replace("classes=1000", "classes=10"), "r.kd")
    assert [a is b for a, b in zip(before.items, after.items)] == [True, True, False]
    assert after.items[2].params[1].default.value == 10
    # An edit that moves later items (a line added above them) parses them again, at their new place.
    moved, _ = cache.parse(text.replace("block block1(", "\nblock block1("), "r.kd")
    assert moved.items[2].span.line == before.items[2].span.line + 1


OPS = """\
model cls(maxlen=16) {
    tokens = Input(shape=(maxlen,), dtype="int32")
    positions = ops.zeros_like(tokens) + ops.arange(maxlen)
    x = Embedding(100, 8)(tokens) + Embedding(maxlen, 8)(positions)
    first = x[:, 0]
    output y = ops.mean(x, axis=1) + first
}
"""


def test_values_of_kd_1_1_expressions(tmp_path):
    """Every kd 1.1 expression is evaluated through the recorder: a
    subscript shows its tensor (on its index too), an op call its
    tensor (on the op's name too), a constant tensor its shape."""
    path = tmp_path / "cls.kd"
    path.write_text(OPS)
    analysis = Session().analyse(path, display="cls.kd")
    assert [d.code for d in analysis.diagnostics] == []
    at = lambda line, needle, nth=0: analysis.value_at("cls.kd", _position(OPS, line, needle, nth))  # noqa: E731
    from dsl.syntax import tree as n

    module = analysis.file("cls.kd").module
    (subscript,) = [node for node in n.walk(module.items[0]) if isinstance(node, n.Subscript)]
    assert [t.shape for t in analysis.facts.get(subscript).values] == [(None, 8)]
    assert [t.shape for t in at(5, "first").tensors] == [(None, 8)]
    # On the index, the hover shows what the subscript selects, not the slice objects.
    assert [t.shape for t in at(5, ":").tensors] == [(None, 8)]
    assert [t.shape for t in at(5, "0").tensors] == [(None, 8)]
    assert [t.shape for t in at(6, "mean").tensors] == [(None, 8)]
    arange = at(3, "arange").tensors[0]
    assert (arange.shape, arange.dtype, arange.constant) == ((16,), "int32", True)
    assert [t.shape for t in at(3, "+").tensors] == [(None, 16)]
    assert [(t.shape, t.constant) for t in at(3, "positions").tensors] == [((None, 16), False)]


def test_the_kd_files_of_a_workspace(tmp_path):
    from dsl.session import workspace_sources

    for relative in ("b.kd", "a.kd", "notes.txt", "sub/c.kd", ".git/d.kd", "node_modules/pkg/e.kd",
                     "sub/__pycache__/f.kd", "venv/lib/site-packages/g.kd"):
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text("")
    (tmp_path / "linked").symlink_to(tmp_path / "sub", target_is_directory=True)
    os.mkfifo(tmp_path / "pipe.kd")  # opening it would wait for a writer forever
    (tmp_path / "zero.kd").symlink_to("/dev/zero")
    found = workspace_sources([tmp_path, tmp_path / "sub"])  # an overlapping second root adds nothing
    assert [p.relative_to(tmp_path.resolve()).as_posix() for p in found] == ["a.kd", "b.kd", "sub/c.kd"]
    assert workspace_sources([tmp_path], most=2) == found[:2]
    assert workspace_sources([tmp_path / "missing"]) == []

