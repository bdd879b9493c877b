"""Every error at once (issue 9): the parser recovers at statements, so a
file with several syntax errors reports each at its place and the
statements that did parse are still checked; a broken or missing import is
an error at its line and the rest of the file is still checked."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsl.cli import main
from dsl.compiler import check_text
from dsl.syntax import parse_partial

THREE_AND_ONE = """\
model m {
    x = Input(shape=(4,))
    a = x -> Dense(4
    b = x -> -> Dense(3)
    c = x +* 2
    d = Conv2D(8, 3)(x)
    output y = x -> Dense(2)
}
"""


def _found(source: str, filename: str = "m.kd", path=None) -> list:
    return [(d.code, d.span.line, d.span.col) for d in check_text(source, filename, path).diagnostics]


def test_three_syntax_errors_and_a_shape_error_in_one_run():
    assert _found(THREE_AND_ONE) == [("KD100", 4, 5), ("KD100", 4, 14), ("KD100", 5, 12), ("KD501", 6, 9)]


def test_names_bound_by_broken_statements_raise_nothing_more():
    source = "model m {\n    x = Input(shape=(4,))\n    y = x -> Dense(4 +\n    output z = y -> Dense(2)\n}\n"
    assert _found(source) == [("KD100", 4, 5)]


def test_a_broken_definition_leaves_the_others_checked():
    source = ("block broken(x {\n    return x\n}\n\n"
              "model m {\n    x = Input(shape=(4,))\n    output y = x -> Dense(2, activation=\"relu7\")\n}\n")
    codes = [c for c, *_ in _found(source)]
    assert codes[0] == "KD100" and "KD303" in codes


def test_an_unclosed_body_at_the_end_of_the_file():
    source = "model m {\n    x = Input(shape=(4,))\n    output y = x -> Dense(2, activation=\"relu7\")\n"
    col = source.splitlines()[2].index('"relu7"') + 1
    assert _found(source) == [("KD303", 3, col), ("KD100", 4, 1)]


def test_a_missing_import_is_an_error_at_its_line_and_the_rest_is_checked(tmp_path):
    main_file = tmp_path / "m.kd"
    main_file.write_text('import "missing.kd"\n'
                         "model m {\n    x = Input(shape=(4,))\n    y = x -> helper()\n"
                         "    output z = y -> Dense(2)\n    output w = x -> Dense(2, activation=\"relu7\")\n}\n")
    found = _found(main_file.read_text(), str(main_file), main_file)
    col = main_file.read_text().splitlines()[5].index('"relu7"') + 1
    assert found == [("KD204", 1, 1), ("KD303", 6, col)]  # `helper` may come from the missing file: no KD200


def test_syntax_errors_in_an_imported_file(tmp_path):
    (tmp_path / "lib.kd").write_text("block good(x) { return x -> Dense(3) }\nblock bad(x) { return x -> }\n")
    main_file = tmp_path / "m.kd"
    main_file.write_text('import "lib.kd"\nmodel m {\n    x = Input(shape=(4,))\n    output y = x -> good()\n}\n')
    result = check_text(main_file.read_text(), str(main_file), main_file)
    assert [(d.code, d.filename.split("/")[-1], d.span.line) for d in result.diagnostics] == [("KD100", "lib.kd", 2)]
    assert result.graphs["m"].outputs[0].tensor.shape == (None, 3)


def test_the_command_line_prints_them_all(tmp_path, capsys):
    (tmp_path / "m.kd").write_text(THREE_AND_ONE)
    assert main(["check", str(tmp_path / "m.kd")]) == 1
    err = capsys.readouterr().err
    assert err.count("error[KD100]") == 3 and err.count("error[KD501]") == 1


_PIECES = ["x", "=", "(", ")", "{", "}", "->", ",", "Dense(2)", "1", "\n", "output", "if", "for", "in", '"s', "$", "[", "]"]


@settings(max_examples=200, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(_PIECES), max_size=40), st.integers(0, 200))
def test_recovery_always_ends_with_positions_inside_the_text(pieces, where):
    """Garbage spliced into a valid file: recovery ends, every error lies in
    the text, and what it kept parses again without errors."""
    text = THREE_AND_ONE.replace("    a = x -> Dense(4\n", "").replace("    b = x -> -> Dense(3)\n", "").replace("+*", "*")
    where = min(where, len(text))
    text = text[:where] + " ".join(pieces) + text[where:]
    module, problems = parse_partial(text, "f.kd")
    lines = text.count("\n") + 1
    for d in problems:
        assert 1 <= d.span.line <= lines + 1 and d.code.startswith("KD1")
    assert len(module.broken) <= len(problems)
