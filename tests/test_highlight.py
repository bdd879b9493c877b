"""The Pygments lexer of kd (dsl/highlight.py): clean on every kd program of the
repository, the token types of a table of snippets, in step with kd.lark, and
registered so that `pygmentize -l kd`, Sphinx and MkDocs find it."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lark import Lark
from pygments.lexers import find_lexer_class_for_filename, get_lexer_by_name, get_lexer_for_filename
from pygments.token import Comment, Error, Keyword, Name, Number, Operator, Punctuation, String, Whitespace

from dsl.highlight import KdLexer

REPO = Path(__file__).resolve().parent.parent
PROGRAMS = sorted(
    p for folder in ("examples", "tests/golden", "tests/hostile", "tests/readme") for p in (REPO / folder).glob("*.kd")
)


def tokens(text: str) -> list:
    """(type, text) of each token, without the whitespace between them."""
    return [(t, v) for t, v in KdLexer().get_tokens(text) if t is not Whitespace]


@pytest.mark.parametrize("program", PROGRAMS, ids=lambda p: str(p.relative_to(REPO)))
def test_every_program_lexes_without_error(program):
    text = program.read_text(encoding="utf-8")
    lexed = list(KdLexer().get_tokens(text))
    assert [v for t, v in lexed if t is Error] == []
    assert "".join(v for _, v in lexed) == text if text.endswith("\n") else text + "\n"


def test_there_are_programs_to_lex():
    assert len(PROGRAMS) >= 15


def test_a_stray_character_is_an_error():
    assert (Error, "$") in tokens("x = a $ b\n")
    assert (Error, "\n") in [(t, v) for t, v in KdLexer().get_tokens('x = "open\n')]


# Each snippet with the tokens a reader expects, written by hand.
SNIPPETS = [
    (
        "## Docs.\nmodel qa(vocab=10000, dims) {",
        [
            (String.Doc, "## Docs."),
            (Keyword.Declaration, "model"),
            (Name.Function, "qa"),
            (Punctuation, "("),
            (Name.Variable, "vocab"),
            (Operator, "="),
            (Number.Integer, "10000"),
            (Punctuation, ","),
            (Name.Variable, "dims"),
            (Punctuation, ")"),
            (Punctuation, "{"),
        ],
    ),
    (
        "block residual(x, shape=(1, 2), d={a: 1, b: 2}, f=Relu()) {",
        [
            (Keyword.Declaration, "block"),
            (Name.Function, "residual"),
            (Punctuation, "("),
            (Name.Variable, "x"),
            (Punctuation, ","),
            (Name.Variable, "shape"),
            (Operator, "="),
            (Punctuation, "("),
            (Number.Integer, "1"),
            (Punctuation, ","),
            (Number.Integer, "2"),
            (Punctuation, ")"),
            (Punctuation, ","),
            (Name.Variable, "d"),
            (Operator, "="),
            (Punctuation, "{"),
            (Name, "a"),
            (Punctuation, ":"),
            (Number.Integer, "1"),
            (Punctuation, ","),
            (Name, "b"),
            (Punctuation, ":"),
            (Number.Integer, "2"),
            (Punctuation, "}"),
            (Punctuation, ","),
            (Name.Variable, "f"),
            (Operator, "="),
            (Name.Class, "Relu"),
            (Punctuation, "("),
            (Punctuation, ")"),
            (Punctuation, ")"),
            (Punctuation, "{"),
        ],
    ),
    (
        "model plain { output y }",
        [
            (Keyword.Declaration, "model"),
            (Name.Function, "plain"),
            (Punctuation, "{"),
            (Keyword, "output"),
            (Name, "y"),
            (Punctuation, "}"),
        ],
    ),
    (
        '    x = image -> Conv2D(64, 3, padding="same")(x)  # a comment',
        [
            (Name, "x"),
            (Operator, "="),
            (Name, "image"),
            (Operator, "->"),
            (Name.Class, "Conv2D"),
            (Punctuation, "("),
            (Number.Integer, "64"),
            (Punctuation, ","),
            (Number.Integer, "3"),
            (Punctuation, ","),
            (Name.Attribute, "padding"),
            (Operator, "="),
            (String.Double, '"'),
            (String.Double, "same"),
            (String.Double, '"'),
            (Punctuation, ")"),
            (Punctuation, "("),
            (Name, "x"),
            (Punctuation, ")"),
            (Comment.Single, "# a comment"),
        ],
    ),
    (
        "merged = concatenate(a, b, axis=-1) -> residual(128, stride=2)",
        [
            (Name, "merged"),
            (Operator, "="),
            (Name.Builtin, "concatenate"),
            (Punctuation, "("),
            (Name, "a"),
            (Punctuation, ","),
            (Name, "b"),
            (Punctuation, ","),
            (Name.Attribute, "axis"),
            (Operator, "="),
            (Operator, "-"),
            (Number.Integer, "1"),
            (Punctuation, ")"),
            (Operator, "->"),
            (Name.Function, "residual"),
            (Punctuation, "("),
            (Number.Integer, "128"),
            (Punctuation, ","),
            (Name.Attribute, "stride"),
            (Operator, "="),
            (Number.Integer, "2"),
            (Punctuation, ")"),
        ],
    ),
    (
        "s = 'a\\'b\\n\\q'",
        [
            (Name, "s"),
            (Operator, "="),
            (String.Single, "'"),
            (String.Single, "a"),
            (String.Escape, "\\'"),
            (String.Single, "b"),
            (String.Escape, "\\n"),
            (String.Single, "\\q"),
            (String.Single, "'"),
        ],
    ),
    (
        "n = [1_000, 0.25, 1e-3, .5, 2., True, False, None]",
        [
            (Name, "n"),
            (Operator, "="),
            (Punctuation, "["),
            (Number.Integer, "1_000"),
            (Punctuation, ","),
            (Number.Float, "0.25"),
            (Punctuation, ","),
            (Number.Float, "1e-3"),
            (Punctuation, ","),
            (Number.Float, ".5"),
            (Punctuation, ","),
            (Number.Float, "2."),
            (Punctuation, ","),
            (Keyword.Constant, "True"),
            (Punctuation, ","),
            (Keyword.Constant, "False"),
            (Punctuation, ","),
            (Keyword.Constant, "None"),
            (Punctuation, "]"),
        ],
    ),
    (
        "for i in range(3) { if i > 0 and not x.shape[-1] == 2 { y = 1 } else { base.trainable = False } }",
        [
            (Keyword, "for"),
            (Name, "i"),
            (Keyword, "in"),
            (Name.Builtin, "range"),
            (Punctuation, "("),
            (Number.Integer, "3"),
            (Punctuation, ")"),
            (Punctuation, "{"),
            (Keyword, "if"),
            (Name, "i"),
            (Operator, ">"),
            (Number.Integer, "0"),
            (Operator.Word, "and"),
            (Operator.Word, "not"),
            (Name, "x"),
            (Punctuation, "."),
            (Name.Builtin.Pseudo, "shape"),
            (Punctuation, "["),
            (Operator, "-"),
            (Number.Integer, "1"),
            (Punctuation, "]"),
            (Operator, "=="),
            (Number.Integer, "2"),
            (Punctuation, "{"),
            (Name, "y"),
            (Operator, "="),
            (Number.Integer, "1"),
            (Punctuation, "}"),
            (Keyword, "else"),
            (Punctuation, "{"),
            (Name, "base"),
            (Punctuation, "."),
            (Name.Builtin.Pseudo, "trainable"),
            (Operator, "="),
            (Keyword.Constant, "False"),
            (Punctuation, "}"),
            (Punctuation, "}"),
        ],
    ),
    (
        'from my.layers import Gated, Scale as ScaleBy\nimport "lib.kd"',
        [
            (Keyword.Namespace, "from"),
            (Name.Namespace, "my.layers"),
            (Keyword.Namespace, "import"),
            (Name.Class, "Gated"),
            (Punctuation, ","),
            (Name.Class, "Scale"),
            (Keyword.Namespace, "as"),
            (Name.Class, "ScaleBy"),
            (Keyword.Namespace, "import"),
            (String.Double, '"'),
            (String.Double, "lib.kd"),
            (String.Double, '"'),
        ],
    ),
    (
        "from pkg import (\n    One,  # first\n    Two as Three,\n)",
        [
            (Keyword.Namespace, "from"),
            (Name.Namespace, "pkg"),
            (Keyword.Namespace, "import"),
            (Punctuation, "("),
            (Name.Class, "One"),
            (Punctuation, ","),
            (Comment.Single, "# first"),
            (Name.Class, "Two"),
            (Keyword.Namespace, "as"),
            (Name.Class, "Three"),
            (Punctuation, ","),
            (Punctuation, ")"),
        ],
    ),
    (
        'compile(optimizer=RMSprop(learning_rate=1e-3), loss={age: "mse"}); y: (None, 8) = e.output',
        [
            (Name.Builtin, "compile"),
            (Punctuation, "("),
            (Name.Attribute, "optimizer"),
            (Operator, "="),
            (Name.Class, "RMSprop"),
            (Punctuation, "("),
            (Name.Attribute, "learning_rate"),
            (Operator, "="),
            (Number.Float, "1e-3"),
            (Punctuation, ")"),
            (Punctuation, ","),
            (Name.Attribute, "loss"),
            (Operator, "="),
            (Punctuation, "{"),
            (Name, "age"),
            (Punctuation, ":"),
            (String.Double, '"'),
            (String.Double, "mse"),
            (String.Double, '"'),
            (Punctuation, "}"),
            (Punctuation, ")"),
            (Punctuation, ";"),
            (Name, "y"),
            (Punctuation, ":"),
            (Punctuation, "("),
            (Keyword.Constant, "None"),
            (Punctuation, ","),
            (Number.Integer, "8"),
            (Punctuation, ")"),
            (Operator, "="),
            (Name, "e"),
            (Punctuation, "."),
            (Name.Property, "output"),
        ],
    ),
    (
        "p = ops.softmax(ops.matmul(q, k), axis=-1)[..., :3, ::2, None]",
        [
            (Name, "p"),
            (Operator, "="),
            (Name.Namespace, "ops"),
            (Punctuation, "."),
            (Name.Builtin, "softmax"),
            (Punctuation, "("),
            (Name.Namespace, "ops"),
            (Punctuation, "."),
            (Name.Builtin, "matmul"),
            (Punctuation, "("),
            (Name, "q"),
            (Punctuation, ","),
            (Name, "k"),
            (Punctuation, ")"),
            (Punctuation, ","),
            (Name.Attribute, "axis"),
            (Operator, "="),
            (Operator, "-"),
            (Number.Integer, "1"),
            (Punctuation, ")"),
            (Punctuation, "["),
            (Name.Builtin.Pseudo, "..."),
            (Punctuation, ","),
            (Punctuation, ":"),
            (Number.Integer, "3"),
            (Punctuation, ","),
            (Punctuation, ":"),
            (Punctuation, ":"),
            (Number.Integer, "2"),
            (Punctuation, ","),
            (Keyword.Constant, "None"),
            (Punctuation, "]"),
        ],
    ),
    (
        "z = a ** b // c % d != e <= f >= g < h",
        [
            (Name, "z"),
            (Operator, "="),
            (Name, "a"),
            (Operator, "**"),
            (Name, "b"),
            (Operator, "//"),
            (Name, "c"),
            (Operator, "%"),
            (Name, "d"),
            (Operator, "!="),
            (Name, "e"),
            (Operator, "<="),
            (Name, "f"),
            (Operator, ">="),
            (Name, "g"),
            (Operator, "<"),
            (Name, "h"),
        ],
    ),
    (
        "modelled = blocky + outputs + format + iffy + Nonesuch + ops_count",
        [
            (Name, "modelled"),
            (Operator, "="),
            (Name, "blocky"),
            (Operator, "+"),
            (Name, "outputs"),
            (Operator, "+"),
            (Name, "format"),
            (Operator, "+"),
            (Name, "iffy"),
            (Operator, "+"),
            (Name, "Nonesuch"),
            (Operator, "+"),
            (Name, "ops_count"),
        ],
    ),
]


@pytest.mark.parametrize("source, expected", SNIPPETS, ids=[s.split("\n")[0][:40] for s, _ in SNIPPETS])
def test_snippet_tokens(source, expected):
    assert tokens(source) == expected


# ------------------------------------------------------------- kd.lark


def lark_terminals():
    """The terminals of kd.lark, every one kept (the layout's too)."""
    lark = Lark((REPO / "grammar" / "kd.lark").read_text(encoding="utf-8"), parser="lalr", lexer="basic")
    names = {name for name, _ in lark.grammar.term_defs}
    terminals, _, _ = lark.grammar.compile(["start"], names)
    return {t.name: t.pattern for t in terminals}


TERMINALS = lark_terminals()
LITERALS = {n: p.value for n, p in TERMINALS.items() if p.type == "str"}
KEYWORDS = sorted(v for v in LITERALS.values() if v.isidentifier())
OPERATORS = sorted(v for v in LITERALS.values() if not v.isidentifier())


def test_lark_grammar_has_the_keywords_of_the_language():
    # LANGUAGE.md section 2: if this fails, kd.lark changed and so must the lexer's keyword lists.
    assert set(KEYWORDS) == set(
        "model block output return for in if else import from and or not True False None".split()
    )


@pytest.mark.parametrize("keyword", KEYWORDS)
def test_every_keyword_of_the_lark_grammar_is_a_keyword(keyword):
    [(token_type, value)] = tokens(f"{keyword}\n")
    assert value == keyword
    assert token_type in Keyword or token_type is Operator.Word


@pytest.mark.parametrize("literal", OPERATORS)
def test_every_operator_of_the_lark_grammar_is_an_operator_or_punctuation(literal):
    [(token_type, value)] = tokens(f"{literal}\n")
    assert value == literal
    if literal == "...":  # kd 1.1's ELLIPSIS: a constant, as Pygments' Python lexer gives `Ellipsis`
        assert token_type is Name.Builtin.Pseudo
    else:
        assert token_type in Operator or token_type in Punctuation


def test_the_grammar_has_the_ellipsis_of_kd_1_1():
    assert "..." in OPERATORS and ":" in OPERATORS


@settings(max_examples=200, deadline=None)
@given(st.from_regex(TERMINALS["NUMBER"].value, fullmatch=True))
def test_every_lark_number_is_one_number_token(number):
    assert tokens(f"x = {number}\n")[2:] == [(Number.Float if set(number) & set(".eE") else Number.Integer, number)]


@settings(max_examples=200, deadline=None)
@given(st.from_regex(TERMINALS["STRING"].value, fullmatch=True).filter(lambda s: "\r" not in s))
def test_every_lark_string_is_string_tokens_only(string):
    lexed = tokens(f"x = {string}\n")[2:]
    assert all(t in String for t, _ in lexed), lexed
    assert "".join(v for _, v in lexed) == string


@settings(max_examples=200, deadline=None)
@given(st.from_regex(TERMINALS["NAME"].value, fullmatch=True).filter(lambda n: n not in KEYWORDS))
def test_every_lark_name_that_is_no_keyword_is_a_name(name):
    [(token_type, value)] = tokens(f"{name}\n")
    assert (token_type in Name, value) == (True, name)
    assert token_type not in Keyword


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=200))
def test_any_text_lexes_to_itself(text):
    """Whatever the input, the lexer ends and loses nothing (Pygments only normalises line ends)."""
    lexed = list(KdLexer(stripnl=False).get_tokens(text))
    expected = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    assert "".join(v for _, v in lexed) == (expected if expected.endswith("\n") else expected + "\n")


# ------------------------------------------------------------ registration


def test_pygments_finds_the_lexer_by_name_and_by_file_name():
    assert isinstance(get_lexer_by_name("kd"), KdLexer)
    assert find_lexer_class_for_filename("models/net.kd") is KdLexer
    assert isinstance(get_lexer_for_filename("net.kd", "model m {}"), KdLexer)


def test_the_entry_point_is_the_installed_distributions():
    [point] = [ep for ep in entry_points(group="pygments.lexers") if ep.name == "kd"]
    assert point.value == "dsl.highlight:KdLexer"
    assert point.dist is not None and point.dist.name == "keras-kdsl"


def test_pygmentize_highlights_kd():
    pygmentize = Path(sys.executable).parent / "pygmentize"
    result = subprocess.run(
        [str(pygmentize), "-l", "kd", "-f", "html"],
        input="model m { x = Input(shape=(4,)) }\n",
        capture_output=True,
        text=True,
        check=True,
    )
    # Pygments' short class names: kd Keyword.Declaration, nf Name.Function, nc Name.Class, na Name.Attribute.
    for span in (
        '<span class="kd">model</span>',
        '<span class="nf">m</span>',
        '<span class="nc">Input</span>',
        '<span class="na">shape</span>',
    ):
        assert span in result.stdout


def test_kdsl_runs_without_pygments():
    code = (
        "import sys; sys.modules['pygments'] = None\n"
        "import dsl\n"
        "text = dsl.compile_source('model m { x = Input(shape=(4,)); output y = Dense(2)(x) }', 'm.kd')\n"
        "assert 'layers.Dense(2' in text, text\n"
        "assert 'dsl.highlight' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)
