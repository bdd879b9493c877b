"""`kdsl fmt`: the canonical layout of LANGUAGE.md section 11 (docs/fmt.md).

Golden before/after pairs for each layout rule (tests/fmt/NAME.before.kd ->
NAME.after.kd, written by hand from the rules); the safety properties on
every kd file of the repository and on random programs with comments in
every place a comment may stand (output parses to the same tree, same
comments in the same order, formatting twice changes nothing); the
comment attachment; the command line; and refusal of unsafe output.
"""

from __future__ import annotations

import io
import re
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsl.cli import main
from dsl.diagnostics import KdError
from dsl.fmt import FormatterBug, LayoutError, format_module, format_text, same_tree, tree_difference
from dsl.fmt import printer as printer_module
from dsl.fmt.command import diff_text
from dsl.fmt.config import _minimal_table
from dsl.fmt.strings import normalize_quotes
from dsl.syntax import parse
from dsl.syntax import tree as n
from dsl.syntax.comments import attach_comments
from fmt.programs import STRINGS, programs

ROOT = Path(__file__).parent.parent
PAIRS = sorted((ROOT / "tests" / "fmt").glob("*.before.kd"))
KD_FILES = sorted([*ROOT.glob("examples/*.kd"), *ROOT.glob("tests/golden/*.kd"), *ROOT.glob("tests/hostile/*.kd")])


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def comments(text: str) -> list:
    return [c.text.rstrip() for c in parse(text).comments]


def assert_canonical_text(text: str, line_length: int = 100) -> None:
    """Layout facts every formatted file has, checked line by line."""
    if not text:
        return
    assert text.endswith("\n") and not text.endswith("\n\n")
    assert "\r" not in text
    lines = text.split("\n")[:-1]
    for i, line in enumerate(lines):
        assert line == line.rstrip(), f"trailing whitespace on line {i + 1}"
        indent = len(line) - len(line.lstrip(" "))
        assert not line[indent:indent + 1] == "\t", f"tab indentation on line {i + 1}"
        assert indent % 4 == 0, f"indentation of {indent} on line {i + 1}"
        if i and not line and not lines[i - 1]:
            raise AssertionError(f"two blank lines at line {i + 1}")
        if not line and i and lines[i - 1].endswith("{") and "#" not in lines[i - 1]:
            raise AssertionError(f"blank line after `{{` at line {i + 1}")
        if not line and i + 1 < len(lines) and lines[i + 1].strip() == "}":
            raise AssertionError(f"blank line before `}}` at line {i + 1}")
    assert lines[0] != ""


def assert_safe(text: str, line_length: int = 100) -> str:
    """Format TEXT and check the properties independently of format_text's own check."""
    out = format_text(text, line_length=line_length)
    assert same_tree(parse(text), parse(out))
    assert comments(out) == comments(text)
    assert format_text(out, line_length=line_length) == out
    assert_canonical_text(out, line_length)
    return out


# ------------------------------------------------------------ golden pairs


@pytest.mark.parametrize("before", PAIRS, ids=[p.name[: -len(".before.kd")] for p in PAIRS])
def test_golden_pair(before):
    after = before.with_name(before.name.replace(".before.kd", ".after.kd"))
    source = before.read_bytes().decode("utf-8")  # CR LF kept, as the command reads it
    assert format_text(source, str(before)) == read(after)
    assert format_text(read(after), str(after)) == read(after)  # the canonical form is a fixed point


def test_every_rule_has_a_pair():
    names = {p.name[: -len(".before.kd")] for p in PAIRS}
    assert names >= {
        "indentation", "semicolons", "inline_bodies", "spacing", "strings", "literals", "chains", "calls",
        "magic_commas", "else", "blank_lines", "imports_first", "parentheses", "comments",
        "comments_in_expressions", "slices", "indexing",
    }


def test_line_length_setting_changes_the_layout():
    text = "model m {\n    x = Dense(64, activation=\"relu\", name=\"first_dense_layer\")(inputs)\n}\n"
    assert format_text(text) == text
    assert format_text(text, line_length=60) == (
        "model m {\n"
        "    x = Dense(\n"
        "        64,\n"
        "        activation=\"relu\",\n"
        "        name=\"first_dense_layer\",\n"
        "    )(inputs)\n"
        "}\n"
    )


def test_line_length_out_of_range_is_refused():
    with pytest.raises(LayoutError):
        format_text("model m {}\n", line_length=39)
    with pytest.raises(LayoutError):
        format_module(parse("model m {}\n"), line_length=1001)
    assert format_text("model m {}\n", line_length=40) == "model m {}\n"


def test_empty_and_comment_only_files():
    assert format_text("") == ""
    assert format_text("\n\n  \n") == ""
    assert format_text("# only a comment   \n\n\n# and another") == "# only a comment\n\n# and another\n"


def test_a_syntax_error_raises_kderror():
    with pytest.raises(KdError) as err:
        format_text("model m { x = = 1 }", "bad.kd")
    assert err.value.diagnostics[0].code == "KD100"


# ------------------------------------------------ safety on the repository


@pytest.mark.parametrize("path", KD_FILES, ids=[f"{p.parent.name}/{p.name}" for p in KD_FILES])
def test_repository_files_format_safely(path):
    assert_safe(read(path))


@pytest.mark.parametrize("path", [p for p in KD_FILES if "hostile" not in p.parts],
                         ids=lambda p: f"{p.parent.name}/{p.name}")
def test_repository_files_are_formatted(path):
    assert format_text(read(path), str(path)) == read(path)


def test_kdsl_fmt_check_passes_on_the_examples(capsys):
    assert main(["fmt", "--check", str(ROOT / "examples"), str(ROOT / "tests" / "golden")]) == 0
    assert "would be reformatted" in capsys.readouterr().err


# ---------------------------------------------------------- random programs

RANDOM = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@RANDOM
@given(programs())
def test_random_programs_format_safely(text):
    assert_safe(text)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(programs(), st.sampled_from([40, 60, 1000]))
def test_random_programs_at_other_line_lengths(text, line_length):
    assert_safe(text, line_length)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(programs(imports_first=False))
def test_imports_move_first_with_their_comments(text):
    out = format_text(text)
    module = parse(out)
    kinds = [isinstance(i, (n.Import, n.FromImport)) for i in module.items]
    assert kinds == sorted(kinds, reverse=True)  # imports, then definitions
    assert sorted(comments(out)) == sorted(comments(text))
    assert format_text(out) == out


def test_random_programs_do_have_comments_everywhere():
    """The strategy is not vacuous: its programs carry comments in every
    kind of place the attachment knows."""
    seen = set()

    @settings(max_examples=200, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(programs())
    def collect(text):
        for attachment in attach_comments(parse(text)):
            seen.add(attachment.where)

    collect()
    assert seen >= {"before", "after", "end", "gap", "paren_before", "paren_after"}


# --------------------------------------------------------- tree equality


@pytest.mark.parametrize("a, b", [
    ("x = a - b - c", "x = a - (b - c)"),
    ("x = 1_000", "x = 1000"),
    ("x = 'a'", "x = 'b'"),
    ("x = 1", "x = 1.0"),
    ("x = True", "x = 1"),
    ("x = (a, b)", "x = a, b"),
    ("return a, b", "return (a, b)"),
    ("x = f(a, k=1)", "x = f(a, j=1)"),
    ("x = {a: 1}", "x = {'a': 1}"),
    ("x = a -> (b -> c)", "x = a -> b -> c"),
])
def test_tree_difference_sees_a_change_of_meaning(a, b):
    left, right = parse(f"block f(a) {{ {a} }}"), parse(f"block f(a) {{ {b} }}")
    assert tree_difference(left, right) is not None
    assert not same_tree(left, right)


def test_tree_difference_ignores_layout_and_quotes():
    a = parse("## Doc.   \nblock f(a) { x = ((a)) + 'q'; return x }\nimport 'lib.kd'")
    b = parse('import "lib.kd"\n\n## Doc.\nblock f(a) {\n    x = a + "q"\n    return x\n}\n')
    assert tree_difference(a, b) is None


def test_tree_difference_sees_a_lost_doc_comment():
    a = parse("## Doc.\nblock f(a) { return a }")
    b = parse("## Doc.\n\nblock f(a) { return a }")
    assert "doc" in tree_difference(a, b)


# ----------------------------------------------------------- attachment


def test_comment_attachment_places_each_comment():
    module = parse(textwrap.dedent("""\
        # header
        model m(a=1,  # after param
                b=2) {  # opener
            # before x
            x = f(a,  # after arg
                  # before b
                  b)  # after statement
            y = x  # after step
                -> D()
            z = (a  # in parens
            )
            w = g(a +  # between parts
                  b)
            # end of body
        }
        # end of file
        """))
    model = module.items[0]
    x, y, z, w = model.body
    call = x.value
    got = [(a.comment.text, a.where, a.node) for a in attach_comments(module)]
    assert got == [
        ("# header", "before", model),
        ("# after param", "after", model.params[0]),
        ("# opener", "before", x),
        ("# before x", "before", x),
        ("# after arg", "after", call.args[0]),
        ("# before b", "before", call.args[1]),
        ("# after statement", "after", x),
        ("# after step", "after", y.value.steps[0]),
        ("# in parens", "paren_after", z.value),
        ("# between parts", "gap", w.value.args[0]),
        ("# end of body", "end", model.body),
        ("# end of file", "end", module),
    ]
    placed = attach_comments(module).of(x)
    assert [p.own_line for p in placed.before] == [False, True]


def test_a_comment_between_brace_and_else_goes_to_the_body_above():
    module = parse("block b(x) {\n    if x {\n        y = 1\n    }  # c\n    else { y = 2 }\n    return y\n}\n")
    branch_body = module.items[0].body[0].branches[0][1]
    (attachment,) = attach_comments(module)
    assert (attachment.where, attachment.node) == ("end", branch_body)


# --------------------------------------------------------------- strings

STRING_BODY = st.text(alphabet="ab'\"\\nxé ", max_size=8).filter(lambda s: not s.endswith("\\") or s.endswith("\\\\"))


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["'", '"']), STRING_BODY)
def test_string_quotes_as_black_normalizes_them(quote, body):
    black_strings = pytest.importorskip("black.strings")
    literal = quote + body + quote
    try:
        value = parse(f"model m {{ x = {literal} }}").items[0].body[0].value.value
    except KdError:
        return  # not a kd string (an unescaped quote, a bad escape)
    ours = normalize_quotes(literal)
    assert ours == black_strings.normalize_string_quotes(literal)
    assert parse(f"model m {{ x = {ours} }}").items[0].body[0].value.value == value


@pytest.mark.parametrize("literal", STRINGS)
def test_string_quotes_of_the_strategy_strings(literal):
    black_strings = pytest.importorskip("black.strings")
    assert normalize_quotes(literal) == black_strings.normalize_string_quotes(literal)


# ------------------------------------------------------------ settings


def test_minimal_pyproject_reader_agrees_with_tomllib():
    tomllib = pytest.importorskip("tomllib")
    texts = [
        "[tool.kdsl]\nline-length = 88\n",
        "[tool.black]\nline-length = 120\n\n[tool.kdsl]  # ours\n\"line-length\" = 1_00  # comment\n[tool.x]\n",
        "[ tool . kdsl ]\nother = 1\n",
        "[tool.ruff]\nline-length = 70\n",
    ]
    for text in texts:
        expected = tomllib.loads(text).get("tool", {}).get("kdsl")
        found = _minimal_table(text, Path("pyproject.toml"))
        assert (found is None) == (expected is None), text
        if found is not None:  # the one key it reads
            assert found.get("line-length") == expected.get("line-length"), text


# --------------------------------------------------------- command line

BAD = 'model  tiny(units = 3){x=Input(shape=(4,)) ; output y=Dense( units )(x)}\n'
GOOD = "model tiny(units=3) {\n    x = Input(shape=(4,))\n    output y = Dense(units)(x)\n}\n"


def run(capsys, *argv):
    code = main(["fmt", *[str(a) for a in argv]])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def bad(tmp_path):
    path = tmp_path / "tiny.kd"
    path.write_text(BAD)
    return path


def test_check_reports_and_writes_nothing(capsys, bad):
    code, out, err = run(capsys, "--check", bad)
    assert code == 1 and out == ""
    assert f"would reformat {bad}" in err
    assert bad.read_text() == BAD


def test_fmt_rewrites_then_check_passes(capsys, bad):
    mtime = bad.stat().st_mtime_ns
    code, _, err = run(capsys, bad)
    assert code == 0 and f"reformatted {bad}" in err
    assert bad.read_text() == GOOD
    assert run(capsys, "--check", bad)[0] == 0
    bad.touch()
    mtime = bad.stat().st_mtime_ns
    assert run(capsys, bad)[0] == 0
    assert bad.stat().st_mtime_ns == mtime  # not rewritten when nothing changes
    assert not [p for p in bad.parent.iterdir() if p.name != bad.name]  # no temporary file left


def test_diff_prints_a_unified_diff(capsys, bad):
    code, out, _ = run(capsys, "--diff", bad)
    assert code == 0 and bad.read_text() == BAD
    assert out == diff_text(BAD, GOOD, str(bad))
    assert out.startswith(f"--- {bad} (original)\n+++ {bad} (formatted)\n@@ ")
    assert "-model  tiny(units = 3){x=Input(shape=(4,)) ; output y=Dense( units )(x)}\n" in out
    assert "+    output y = Dense(units)(x)\n" in out
    code, out, _ = run(capsys, "--diff", "--check", bad)
    assert code == 1 and out.startswith("--- ")


def test_diff_of_a_file_without_final_newline():
    assert diff_text("a", "a\n", "f") == "--- f (original)\n+++ f (formatted)\n@@ -1 +1 @@\n-a\n\\ No newline at end of file\n+a\n"


def test_stdout_prints_the_result(capsys, bad):
    code, out, _ = run(capsys, "--stdout", bad)
    assert (code, out) == (0, GOOD)
    assert bad.read_text() == BAD


def test_standard_input_round_trips(capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(BAD.encode())))
    code, out, err = run(capsys, "-")
    assert (code, out) == (0, GOOD)
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(GOOD.encode())))
    assert run(capsys, "-")[:2] == (0, GOOD)
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(BAD.encode())))
    assert run(capsys, "--check", "-")[:2] == (1, "")
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"model m { x = = 1 }")))
    code, out, err = run(capsys, "--format", "json", "-")
    assert (code, out) == (1, "") and '"code": "KD100"' in err  # standard output is the result's


def test_a_folder_formats_every_kd_file_below_it(capsys, tmp_path):
    (tmp_path / "deep" / "er").mkdir(parents=True)
    (tmp_path / "a.kd").write_text(BAD)
    (tmp_path / "deep" / "er" / "b.kd").write_text(BAD)
    (tmp_path / "deep" / "c.txt").write_text(BAD)
    code, _, err = run(capsys, tmp_path)
    assert code == 0 and "2 files reformatted, 0 files left unchanged" in err
    assert (tmp_path / "a.kd").read_text() == GOOD == (tmp_path / "deep" / "er" / "b.kd").read_text()
    assert (tmp_path / "deep" / "c.txt").read_text() == BAD


def test_a_syntax_error_leaves_the_file_untouched(capsys, tmp_path, bad):
    broken = tmp_path / "broken.kd"
    broken.write_bytes(b"model m {\r\n  x = = 1\r\n}")
    code, _, err = run(capsys, broken, bad)
    assert code == 1
    assert broken.read_bytes() == b"model m {\r\n  x = = 1\r\n}"
    assert f"{broken}:2:7: error[KD100]: unexpected `=`" in err
    assert bad.read_text() == GOOD  # the others are still formatted
    code, out, _ = run(capsys, "--format", "json", broken)
    assert code == 1 and '"code": "KD100"' in out


def test_a_file_that_is_not_utf8_is_reported(capsys, tmp_path):
    path = tmp_path / "latin.kd"
    path.write_bytes(b"# caf\xe9\nmodel m {}\n")
    code, _, err = run(capsys, path)
    assert code == 1 and "KD101" in err
    assert path.read_bytes() == b"# caf\xe9\nmodel m {}\n"


@pytest.mark.parametrize("argv, message", [
    (["--line-length", "39", "x.kd"], "--line-length must be from 40 to 1000"),
    (["--line-length", "1001", "x.kd"], "--line-length must be from 40 to 1000"),
    (["missing.kd"], "no such file or folder"),
    (["--stdout", "a.kd", "b.kd"], "--stdout takes exactly one"),
    (["-", "-"], "may be given once"),
])
def test_usage_errors(capsys, tmp_path, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    for name in ("x.kd", "a.kd", "b.kd"):
        (tmp_path / name).write_text(GOOD)
    code, _, err = run(capsys, *argv)
    assert code == 2 and message in err


LONG = "model m {\n    x = Dense(64, activation=\"relu\", name=\"first_dense_layer\")(inputs)\n}\n"


def test_pyproject_sets_the_line_length(capsys, tmp_path):
    project = tmp_path / "project"
    (project / "models" / "sub").mkdir(parents=True)
    (project / "pyproject.toml").write_text("[tool.kdsl]\nline-length = 60\n")
    (project / "models" / "pyproject.toml").write_text("[tool.black]\nline-length = 120\n")  # no [tool.kdsl]: passed over
    source = project / "models" / "sub" / "m.kd"
    source.write_text(LONG)
    assert run(capsys, "--check", source)[0] == 1
    assert run(capsys, source)[0] == 0
    assert source.read_text() == format_text(LONG, line_length=60) != LONG
    source.write_text(LONG)
    assert run(capsys, "--check", "--line-length", "100", source)[0] == 0  # the command line wins
    (project / "models" / "pyproject.toml").write_text("[tool.kdsl]\nline-length = 120\n")  # the nearest wins
    assert run(capsys, "--check", source)[0] == 0


def test_a_bad_pyproject_setting_is_a_usage_error(capsys, tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.kdsl]\nline-length = 10\n")
    (tmp_path / "m.kd").write_text(GOOD)
    code, _, err = run(capsys, tmp_path / "m.kd")
    assert code == 2 and "line-length must be an integer from 40 to 1000" in err
    (tmp_path / "pyproject.toml").write_text("[tool.kdsl\n")
    code, _, err = run(capsys, tmp_path / "m.kd")
    assert code == 2 and "not valid TOML" in err


# ----------------------------------------------------- refusing unsafe output


def _drop_trailing_comments(self, placed):
    return []


def _swap_minus(self, node):
    if node.op == "-":
        return [self.expr(node.right), " - ", self.expr(node.left)]
    return original_binop(self, node)


original_binop = printer_module._Printer._BinOp


@pytest.mark.parametrize("bug, source, detail", [
    (("_trailing", _drop_trailing_comments), "model m {\n    x = 1  # kept\n}\n", "comments differ"),
    (("_BinOp", _swap_minus), "model m {\n    x = a-b\n}\n", "syntax tree differs at definitions[0].body[0].value"),
])
def test_a_printer_bug_is_refused_and_nothing_written(capsys, monkeypatch, tmp_path, bug, source, detail):
    monkeypatch.setattr(printer_module._Printer, *bug)
    with pytest.raises(FormatterBug) as err:
        format_text(source, "m.kd")
    assert detail in err.value.detail
    path = tmp_path / "m.kd"
    path.write_text(source.replace("\n    ", "\n  "))  # needs formatting
    before = path.read_bytes()
    code, out, err = run(capsys, "--debug", path)
    assert code == 2
    assert f"{path}: kdsl fmt produced different code; this is a bug in kdsl, please report" in err
    assert detail in err
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.kd"]


def test_output_that_does_not_parse_is_refused(monkeypatch):
    monkeypatch.setattr(printer_module._Printer, "_Name", lambda self, node: node.id + " +")
    with pytest.raises(FormatterBug) as err:
        format_text("model m {\n  x = y\n}\n")
    assert "does not parse" in err.value.detail


def test_unstable_output_is_refused(monkeypatch):
    real = printer_module.format_module
    calls = []

    def unstable(module, line_length=100):
        calls.append(module)
        return real(module, line_length) + ("# again\n" if len(calls) > 1 else "")

    monkeypatch.setattr(printer_module, "format_module", unstable)
    with pytest.raises(FormatterBug) as err:
        format_text("model m {\n  x = y\n}\n")
    assert "again changes it" in err.value.detail


# --------------------------------------------------- kd blocks in the docs

FENCE = re.compile(r"^( *)```kd\n(.*?)^\1```", re.S | re.M)
FRAGMENT = "model fragment {\n"
# Blocks that are not kd programs or statements (syntax-error examples, placeholders).
NOT_KD = {
    "model m { x = = 1 }     # unexpected `=`; expected an expression",
    "model m { x = [[[[ ... ]]]] }    # 300 levels of lists",
    "block b(x, k=1) { return x }",
    "model NAME(PARAM, PARAM=DEFAULT, ...) { STATEMENTS }",
}
# Blocks that show an accepted but not canonical layout, on purpose.
NOT_CANONICAL = {"if stride > 1 { x = pool(x) }"}


def _doc_blocks() -> list:
    found = []
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for match in FENCE.finditer(read(path)):
            found.append((path.name, textwrap.dedent(match.group(2))))
    return found


def format_block(block: str) -> str:
    """A kd block formatted: a whole file, or else statements (formatted
    as the body of a model)."""
    try:
        return format_text(block)
    except KdError:
        pass
    out = format_text(FRAGMENT + textwrap.indent(block, "    ") + "}\n")
    assert out.startswith(FRAGMENT) and out.endswith("}\n")
    return textwrap.dedent(out[len(FRAGMENT):-2])


@pytest.mark.parametrize("name, block", _doc_blocks(), ids=lambda x: x if isinstance(x, str) and x.endswith(".md") else "")
def test_doc_kd_blocks_are_formatted(name, block):
    first = block.splitlines()[0]
    if first in NOT_KD:
        with pytest.raises(KdError):
            format_block(block)
    elif first in NOT_CANONICAL:
        assert format_block(block) != block
    else:
        assert format_block(block) == block


def test_doc_block_exceptions_exist():
    firsts = {block.splitlines()[0] for _, block in _doc_blocks()}
    assert NOT_KD | NOT_CANONICAL <= firsts  # no stale exception


def test_readme_lists_kdsl_fmt():
    assert "| `kdsl fmt " in read(ROOT / "README.md")
    assert "docs/fmt.md" in read(ROOT / "README.md")


def test_docs_fmt_examples_are_what_fmt_does():
    """docs/fmt.md shows each rule as a pair of ```text before / ```kd after
    blocks: the after block is what kdsl fmt makes of the before block."""
    page = read(ROOT / "docs" / "fmt.md")
    pairs = re.findall(r"```text\n(.*?)```\n+```kd\n(.*?)```", page, re.S)
    assert len(pairs) >= 10
    for before, after in pairs:
        assert format_block(before) == after
