"""The parser: every form of the language, spans, and syntax errors."""

from __future__ import annotations

import ast as pyast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsl.syntax import tree as n
from dsl.diagnostics import KdError, render
from dsl.syntax.parser import parse, parse_value


def body(src: str) -> list:
    """The statements of the first model of SRC."""
    return parse(src).items[0].body


def syntax_error(src: str):
    with pytest.raises(KdError) as info:
        parse(src, "t.kd")
    (d,) = info.value.diagnostics
    return d


# --------------------------------------------------------------- file level


def test_file_items_in_source_order():
    module = parse(
        'import "common/blocks.kd"\n'
        "from my_project.layers import GatedUnit, Other as O\n"
        "block b(x) { return x }\n"
        "model m { x = Input(shape=(4,)); output x }\n"
    )
    kinds = [type(item).__name__ for item in module.items]
    assert kinds == ["Import", "FromImport", "BlockDef", "ModelDef"]
    assert module.items[0].path == "common/blocks.kd"
    names = module.items[1].names
    assert [(i.name, i.alias, i.bound) for i in names] == [("GatedUnit", None, "GatedUnit"), ("Other", "O", "O")]


def test_from_import_with_parentheses_over_lines():
    module = parse("from a.b import (\n  X,\n  Y as Z,\n)\n")
    assert [i.bound for i in module.items[0].names] == ["X", "Z"]


def test_model_with_and_without_parameters():
    a, b = parse("model a { }\nmodel b(x, y=2) { }").items
    assert a.params is None
    assert [(p.name, p.default.value if p.default else None) for p in b.params] == [("x", None), ("y", 2)]


def test_doc_comments_attach_to_the_definition_below():
    module = parse("# not a doc\n## First line.\n##   indented\nmodel m { }\n\n## orphan\n\nblock b() { return 1 }")
    m, b = module.items
    assert m.doc == "First line.\n  indented"
    assert b.doc is None
    assert [c.text for c in module.comments] == ["# not a doc", "## First line.", "##   indented", "## orphan"]


def test_as_is_not_reserved():
    (stmt,) = body("model m { as = 1 }")
    assert stmt.targets[0].id == "as"


# ---------------------------------------------------------------- statements


def test_statement_separators_newlines_semicolons_and_braces():
    stmts = body("model m {\n\n  a = 1; b = 2\n\n  c = 3 }")
    assert [s.targets[0].id for s in stmts] == ["a", "b", "c"]


def test_one_line_bodies():
    (stmt,) = body("model m { if c { x = 1 } else { x = 2 } }")
    assert isinstance(stmt, n.If) and stmt.orelse is not None


def test_else_may_start_a_new_line():
    (stmt,) = body("model m {\n if a { x = 1 }\n else if b { x = 2 }\n else { x = 3 }\n}")
    assert len(stmt.branches) == 2 and len(stmt.orelse) == 1


def test_chain_across_lines_with_comments():
    (stmt,) = body("model m {\n y = x\n   # a comment\n   -> A()\n   -> B() ->\n   C()\n}")
    assert isinstance(stmt.value, n.Chain)
    assert [s.func.id for s in stmt.value.steps[1:]] == ["A", "B", "C"]


def test_newlines_inside_brackets_and_dicts_do_not_end_statements():
    (stmt,) = body("model m {\n compile(optimizer=\"adam\",\n   loss={\n     age: \"mse\",\n   },\n   metrics=[\n \"acc\"])\n}")
    assert isinstance(stmt, n.CompileStmt)
    (entry,) = stmt.keywords[1].value.entries
    assert entry.bare and entry.key.value == "age"


def test_assignment_forms():
    a, b, c, d = body("model m { a = 1; b, c = f(x); d: (None, 8) = y; l.trainable = False }")
    assert not a.unpack and b.unpack and [t.id for t in b.targets] == ["b", "c"]
    assert isinstance(c.annotation, n.TupleExpr)
    assert isinstance(d, n.SetTrainable) and d.target.id == "l"


def test_output_forms():
    a, b, c = body("model m { output a, b; output c = f(x); output d: (None, 1) = g(x) }")
    assert [x.id for x in a.names] == ["a", "b"] and a.value is None
    assert b.names[0].id == "c" and isinstance(b.value, n.Call)
    assert c.annotation is not None


def test_for_with_unpacking_and_return():
    (block,) = parse("block b(x) { for a, k in [(1, 2)] { return x, a } }").items
    (loop,) = block.body
    assert loop.unpack and [t.id for t in loop.targets] == ["a", "k"]
    assert len(loop.body[0].values) == 2


def test_compile_is_recognised_at_statement_level():
    (stmt,) = body('model m { compile(optimizer="rmsprop") }')
    assert isinstance(stmt, n.CompileStmt)


# --------------------------------------------------------------- expressions


def expr(text: str):
    return parse_value(text)


def test_precedence_follows_python():
    e = expr("1 + 2 * 3 ** -1")
    assert e.op == "+" and e.right.op == "*" and e.right.right.op == "**"
    assert expr("-2 ** 2").op == "-"  # unary minus binds looser than **
    assert isinstance(expr("not a == b"), n.UnaryOp)


def test_chained_comparison_and_boolean_operators():
    e = expr("a < b <= c")
    assert e.ops == ["<", "<="]
    assert expr("a or b and c").op == "or"


def test_conditional_expression_and_chain_precedence():
    e = expr("x -> A if c else B")
    assert isinstance(e, n.Chain) and isinstance(e.steps[1], n.IfExp)


def test_literals():
    assert expr("1_000").value == 1000
    assert expr("1e-3").value == 0.001 and expr(".5").value == 0.5
    assert expr("'it\\'s'").value == "it's"
    assert expr('"\\u00e9"').value == "é"
    assert [i.value for i in expr("(1,)").items] == [1]
    assert expr("()").items == []
    assert isinstance(expr("[1, 2,]"), n.ListExpr)


def test_subscripts_and_slices():
    e = expr("x.shape[-1]")
    assert isinstance(e, n.Subscript) and isinstance(e.value, n.Attribute)
    s = expr("t[1:]").index
    assert s.lower.value == 1 and s.upper is None and s.step is None
    s = expr("t[::2]").index
    assert s.lower is None and s.step.value == 2


def test_calls_with_keywords():
    e = expr("Conv2D(64, 3, padding=\"same\")(x)")
    assert isinstance(e.func, n.Call) and e.func.keywords[0].name == "padding"


def test_spans_are_exact():
    (stmt,) = body("model m {\n    y = Dense(3)(x)\n}")
    assert (stmt.span.line, stmt.span.col, stmt.span.end_col) == (2, 5, 20)
    call = stmt.value
    assert (call.span.col, call.span.end_col) == (9, 20)
    assert (call.func.func.span.col, call.func.func.span.end_col) == (9, 14)


# ------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "src, line, col, words",
    [
        ("model m { x = = 3 }", 1, 15, "unexpected `=`"),
        ("model m { x = 3 $ }", 1, 17, "unexpected character '$'"),
        ("model m {\n  x = \"abc\n}", 2, 7, "unterminated string"),
        ("model", 1, 6, "unexpected end of file; expected a name"),
        ("model m { x = 1 } }", 1, 19, "no body or dict is open"),
        ("model m { f(a=1, 2) }", 1, 18, "positional argument cannot follow"),
        ("model m { f(a=1, a=2) }", 1, 18, "given twice"),
        ("model m { output f(x) }", 1, 18, "`output` takes names"),
        ("model m { a + b = 3 }", 1, 11, "can only assign to a name"),
        ("model m { x.shape = 3 }", 1, 11, "trainable"),
        ("from a import b c d", 1, 17, "expected `as`"),
        ('model m { x = "\\q" }', 1, 15, "invalid string literal"),
        ("model m { x = 1 }\nmodel n {", 2, 10, "unexpected end of file"),
        ("block b(x) { return }", 1, 21, "unexpected `}`"),
    ],
)
def test_syntax_errors_point_at_the_problem(src, line, col, words):
    d = syntax_error(src)
    assert (d.span.line, d.span.col) == (line, col), d
    assert words in d.message, d.message
    assert d.code in ("KD100", "KD104", "KD306")


def test_unclosed_bracket_hint():
    d = syntax_error("model m {\n  x = f(a\n  y = 2\n}")
    assert d.hint == "the `(` at line 2, column 8 is not closed"


def test_human_rendering_has_file_line_col_source_and_caret():
    d = syntax_error("model m {\n    x = = 3\n}")
    text = render([d], "human", {"t.kd": "model m {\n    x = = 3\n}"})
    assert text.splitlines() == [
        "t.kd:2:9: error[KD100]: unexpected `=`; expected an expression",
        "        x = = 3",
        "            ^",
    ]


def test_nesting_limit_is_a_clean_error_and_parentheses_do_not_nest():
    deep = "model m { x = " + "[" * 400 + "]" * 400 + " }"
    assert syntax_error(deep).code == "KD102"
    parens = "model m { x = " + "(" * 5000 + "1" + ")" * 5000 + " }"
    (stmt,) = body(parens)
    assert stmt.value.value == 1


def test_long_flat_chain_parses():
    src = "model m { x = Input(shape=(4,)); y = x" + " -> Dense(4)" * 20000 + "; output y }"
    (_, stmt, _) = body(src)
    assert len(stmt.value.steps) == 20001


# ------------------------------------------- operator precedence, against Python

_PY_BINOPS = {pyast.Add: "+", pyast.Sub: "-", pyast.Mult: "*", pyast.Div: "/", pyast.FloorDiv: "//",
              pyast.Mod: "%", pyast.Pow: "**"}
_PY_CMPOPS = {pyast.Eq: "==", pyast.NotEq: "!=", pyast.Lt: "<", pyast.LtE: "<=", pyast.Gt: ">", pyast.GtE: ">="}
_PY_UNARY = {pyast.USub: "-", pyast.UAdd: "+", pyast.Not: "not"}


def _python_shape(node) -> tuple:
    """Python's parse of an operator expression, as nested tuples."""
    if isinstance(node, pyast.BinOp):
        return (_PY_BINOPS[type(node.op)], _python_shape(node.left), _python_shape(node.right))
    if isinstance(node, pyast.UnaryOp):
        return (_PY_UNARY[type(node.op)], _python_shape(node.operand))
    if isinstance(node, pyast.BoolOp):
        return ("or" if isinstance(node.op, pyast.Or) else "and", *[_python_shape(v) for v in node.values])
    if isinstance(node, pyast.Compare):
        return ("compare", _python_shape(node.left), *[(_PY_CMPOPS[type(o)], _python_shape(c))
                                                       for o, c in zip(node.ops, node.comparators)])
    return ("name", node.id) if isinstance(node, pyast.Name) else ("number", node.value)


def _kd_shape(node) -> tuple:
    """kdsl's parse of the same expression, in the same form."""
    if isinstance(node, n.BinOp):
        return (node.op, _kd_shape(node.left), _kd_shape(node.right))
    if isinstance(node, n.UnaryOp):
        return (node.op, _kd_shape(node.operand))
    if isinstance(node, n.BoolOp):
        return (node.op, *[_kd_shape(v) for v in node.values])
    if isinstance(node, n.Compare):
        return ("compare", _kd_shape(node.left), *[(o, _kd_shape(c)) for o, c in zip(node.ops, node.comparators)])
    return ("name", node.id) if isinstance(node, n.Name) else ("number", node.value)


_INFIX = ["or", "and", "==", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/", "//", "%", "**"]


@st.composite
def _operator_expressions(draw) -> str:
    """A flat run of operands, prefix operators and binary operators, in
    any mix (brackets only around what is nested on purpose)."""
    parts = []
    for index in range(draw(st.integers(1, 7))):
        if index:
            parts.append(draw(st.sampled_from(_INFIX)))
        parts += draw(st.lists(st.sampled_from(["not", "-", "+"]), max_size=3))
        operand = draw(st.sampled_from(["a", "b", "c", "1", "2"]))
        if draw(st.integers(0, 9)) == 0:
            operand = f"({draw(_operator_expressions())})"
        parts.append(operand)
    return " ".join(parts)


@settings(max_examples=400, deadline=None)
@given(_operator_expressions())
def test_operators_group_exactly_as_in_python(text):
    """The grammar reads operators flat and the tree builder applies the
    precedence: every mix of them groups as Python groups it, and what
    Python refuses (`a + not b`) kdsl refuses too."""
    try:
        expected = _python_shape(pyast.parse(text, mode="eval").body)
    except SyntaxError:
        with pytest.raises(KdError):
            parse_value(text)
        return
    assert _kd_shape(parse_value(text)) == expected


def test_not_after_a_tighter_operator_is_refused_where_it_stands():
    d = syntax_error("model m { y = a == not b }")
    assert (d.code, d.span.line, d.span.col) == ("KD100", 1, 20)
    assert "`not` cannot follow `==`" in d.message


# ------------------------------------------------ kdsl's lexer loop against Lark's

def _token_stream(lexer, text: str) -> list:
    """Every token LEXER makes of TEXT with its positions, then the error it
    stops with (its class, place and the terminals it allowed), if any."""
    from dsl.vendor.lark_runtime import LexerThread, UnexpectedCharacters

    found = []
    try:
        for t in LexerThread.from_text(lexer, text).lex(None):
            found.append((t.type, t.value, t.start_pos, t.line, t.column, t.end_line, t.end_column, t.end_pos))
    except UnexpectedCharacters as err:
        history = [(t.type, t.start_pos) for t in err.token_history or ()]
        found.append(("error", err.pos_in_stream, err.line, err.column, sorted(err.allowed), history))
    return found


def _both_lexers():
    from dsl.vendor.lark_runtime import BasicLexer
    from dsl.syntax.lexer import KdLexer
    from dsl.syntax.parser import thread_parser

    conf = thread_parser().lexer_conf
    fast = KdLexer(conf)
    assert fast._fast_parts(), "the fast loop is not taken for kd's grammar"
    return BasicLexer(conf), fast


def test_the_lexer_loop_makes_larks_tokens_on_every_example():
    from pathlib import Path

    lark_lexer, kd_lexer = _both_lexers()
    root = Path(__file__).resolve().parent.parent
    sources = sorted(root.glob("examples/**/*.kd"))
    assert len(sources) > 10
    for path in sources:
        text = path.read_text(encoding="utf-8")
        assert _token_stream(kd_lexer, text) == _token_stream(lark_lexer, text), path


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["model", "m", "x1", "_y", "modelx", "if", "else", "1", "2.5e3", "1_000", '"s"', "'t\\'u'",
                                 '"open', "#c", "\n", "\r\n", " ", "\t", "(", ")", "{", "}", "[", "]", ",", ";", "->", "**",
                                 "//", "==", "=", ".", "...", ":", "é", "$", "\\"]), max_size=40))
def test_the_lexer_loop_makes_larks_tokens_and_errors_on_any_text(pieces):
    lark_lexer, kd_lexer = _both_lexers()
    text = "".join(pieces)
    assert _token_stream(kd_lexer, text) == _token_stream(lark_lexer, text)


def test_the_lexer_leaves_what_it_does_not_know_to_larks_loop():
    from copy import copy

    from dsl.vendor.lark_runtime import BasicLexer
    from dsl.syntax.lexer import KdLexer
    from dsl.syntax.parser import thread_parser

    conf = copy(thread_parser().lexer_conf)
    conf.callbacks = {"NUMBER": lambda t: t.update(value=t.value + "!")}  # a callback of the grammar's user
    kd_lexer = KdLexer(conf)
    assert kd_lexer._fast_parts() is False
    text = "model m { x = Dense(8)(x) }"
    assert _token_stream(kd_lexer, text) == _token_stream(BasicLexer(conf), text)
    assert ("NUMBER", "8!") in [(t[0], t[1]) for t in _token_stream(kd_lexer, text)]


# ------------------------------------------------ kdsl's LALR loop against Lark's

def _both_parsers():
    """Two parsers from the shipped tables: kdsl's loop, and Lark's."""
    from dsl.syntax import parser as p
    from dsl.vendor.lark_runtime import Lark

    tables = p._tables()
    assert tables is not None, "the shipped tables are not current"

    def load(plugins):
        return Lark._load_from_dict(tables["data"], tables["memo"], postlex=p.Layout(), transformer=p.TreeBuilder(),
                                    _plugins=plugins)

    lark_loop = {k: v for k, v in p.PLUGINS.items() if k != "LALR_Parser"}
    return load(lark_loop), load(p.PLUGINS)


def _dump(value):
    """A tree as nested tuples of every field (some nodes compare by identity)."""
    if hasattr(value, "__record_fields__"):
        return (type(value).__name__, *((f.name, _dump(getattr(value, f.name))) for f in value.__record_fields__))
    if isinstance(value, (list, tuple)):
        return tuple(_dump(v) for v in value)
    return value


def _outcome(parser, text: str, start: str = "start"):
    """The tree PARSER builds of TEXT, or what its error says: the class,
    the token with its place, what was expected and where the parser stood."""
    from dsl.diagnostics import SourceError
    from dsl.vendor.lark_runtime import UnexpectedInput
    from dsl.limits import DEFAULT_LIMITS

    parser.options.transformer.reset(DEFAULT_LIMITS)
    try:
        return "tree", _dump(parser.parse(text, start=start))
    except UnexpectedInput as err:
        token = getattr(err, "token", None)
        where = (token.type, token.start_pos, token.line, token.column) if token is not None else err.pos_in_stream
        stacks = getattr(err, "state", None)
        stood = (tuple(stacks.state_stack), len(stacks.value_stack)) if stacks is not None else None
        return (type(err).__name__, where, sorted(getattr(err, "expected", None) or err.allowed), stood,
                err.interactive_parser is not None)
    except SourceError as err:
        return "source error", err.code, err.span


def test_the_lalr_loop_builds_larks_trees_on_every_example():
    from pathlib import Path

    lark_parser, kd_parser = _both_parsers()
    loop = kd_parser.parser.parser.parser
    assert type(loop).__name__ == "_FastLoop"
    from dsl.syntax.lalr import _decoded_actions

    reductions = [a for row in _decoded_actions(loop.parse_table.states, loop.callbacks).values() for a in row.values()
                  if not a[0]]
    passed = {a[2] for a in reductions if a[3] is None}
    assert {"expr", "testlist"} <= passed  # `operators` with one operand, and a `?rule` with one child
    root = Path(__file__).resolve().parent.parent
    sources = sorted(root.glob("examples/**/*.kd"))
    assert len(sources) > 10
    for path in sources:
        text = path.read_text(encoding="utf-8")
        ours, theirs = _outcome(kd_parser, text), _outcome(lark_parser, text)
        assert ours[0] == "tree" and ours == theirs, path


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(["model m {", "block b(x) {", "}", "\n", "x", " = ", "Dense(8)", "(x)", "(", ")", ",",
                                 "[", "]", "1", "-", " + ", " * ", " if ", " else ", " not ", " and ", "y: (None, 8) = ",
                                 "output ", "for i in range(2) {", "return x", "a=1", "#c", "->", "**", ".", ":", "{"]),
                max_size=30))
def test_the_lalr_loop_builds_larks_trees_and_errors_on_any_text(pieces):
    lark_parser, kd_parser = _both_parsers()
    text = "".join(pieces)
    assert _outcome(kd_parser, text) == _outcome(lark_parser, text)
    assert _outcome(kd_parser, text, "value_start") == _outcome(lark_parser, text, "value_start")


@settings(max_examples=300, deadline=None)
@given(st.text(st.sampled_from(["a", "é", " ", "\\", "n", "x", "0", "'", '"', "\x00", "\ud800", "\t", "u", "{"]), max_size=8),
       st.sampled_from(['"', "'"]))
def test_a_string_literal_means_what_python_reads(inner, quote):
    """Plain literals skip Python's parser; the value (or the refusal) must be the same."""
    import warnings

    text = quote + inner + quote
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            expected = pyast.literal_eval(text)
    except (SyntaxError, ValueError, Warning):
        expected = None
    try:
        value = parse_value(text)
    except KdError:
        value = None  # not a string literal of kd's grammar at all, or refused
    if value is not None:
        assert isinstance(value, n.Constant) and value.value == expected, text
    else:
        assert expected is None or quote in inner or "\\" in inner, text


# ------------------------------------------------ the runtime's three patches


def _generator():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "scripts" / "gen_parser_tables.py"
    spec = importlib.util.spec_from_file_location("gen_parser_tables_for_patches", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_check_imports_neither_logging_nor_dataclasses_nor_inspect():
    """What the runtime's patches are for: a whole check, from a fresh
    interpreter, without the standard library modules they spare."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    code = ("import sys\n"
            "from dsl.compiler import check_text\n"
            "result = check_text(open('examples/densenet121.kd').read(), 'densenet121.kd')\n"
            "assert not result.diagnostics, result.diagnostics\n"
            "print(sorted(m for m in ('logging', 'dataclasses', 'inspect', 'lark') if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=root, env=dict(os.environ, PYTHONPATH=str(root)),
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_the_runtime_text_slice_is_still_lark_s_frozen_dataclass():
    from dsl.records import FrozenInstanceError
    from dsl.vendor.lark_runtime import TextSlice

    whole = TextSlice("abcd", -1, None)  # __post_init__ resolves both ends
    assert (whole.text, whole.start, whole.end) == ("abcd", 3, 4)
    assert whole == TextSlice("abcd", 3, 4) and hash(whole) == hash(TextSlice("abcd", 3, 4))
    assert whole != TextSlice("abcd", 0, 4)
    with pytest.raises(FrozenInstanceError):
        whole.start = 0
    with pytest.raises(TypeError):
        TextSlice(["not", "text"], 0, 1)


def test_the_runtime_logger_is_silent_and_leaves_lark_s_logger_alone(capsys):
    import logging

    from dsl.vendor import lark_runtime

    before = logging.getLogger("lark").handlers[:]
    lark_runtime.logger.warning("%s", "dropped")
    lark_runtime.logger.exception("dropped too")
    assert capsys.readouterr() == ("", "")
    assert logging.getLogger("lark").handlers == before


def test_a_patch_whose_text_lark_no_longer_has_stops_the_generator():
    generator = _generator()
    assert "import logging\n" not in generator.runtime_text()
    olds = [old for old, _new, _why in generator.PATCHES]
    news = [new for _old, new, _why in generator.PATCHES]
    assert generator.patched("".join(olds)) == "".join(news)
    for i, old in enumerate(olds):
        with pytest.raises(ValueError, match="no longer has"):
            generator.patched("".join(olds[:i] + olds[i + 1:]))  # gone
        with pytest.raises(ValueError, match="no longer has"):
            generator.patched("".join(olds) + old)  # twice
