"""Parse kd source text into the syntax tree of `dsl.nodes`.

This is the only module that knows Lark.  `parse(text, filename)` returns a
`nodes.Module` or raises `KdError` with one diagnostic (a syntax error, with
the place, what was found and what was expected).  No Lark exception or
traceback ever leaves this module.
"""

from __future__ import annotations

import ast as pyast
import os
import threading
import warnings
from functools import lru_cache
from typing import Optional

from lark import Lark, Token
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from .. import codes
from . import tree as n
from ..diagnostics import Diagnostic, KdError
from ..limits import DEFAULT_LIMITS, Limits
from ..resources import resource_path

# --------------------------------------------------------------------- layout

# A "{" after one of these opens a body (`model m {`, `if x > 1 {`); after
# anything else it opens a dict (`loss={...}`, `f({...})`).
_ENDS_EXPRESSION = {"RPAR", "RSQB", "NAME", "NUMBER", "STRING", "TRUE", "FALSE", "NONE", "RDICT"}
_OPENERS = {"LPAR": ")", "LSQB": "]"}
_CLOSERS = {"RPAR": "LPAR", "RSQB": "LSQB"}


class _LayoutState:
    """What the post-lexer knows at a point of the token stream."""

    def __init__(self) -> None:
        self.stack: list = []  # open brackets: (kind, token), kind in LPAR LSQB body dict
        self.comments: list = []


class _Layout:
    """A Lark post-lexer: turns newlines and ";" into statement separators
    where they end a statement, and tells body braces from dict braces.

    Newlines are dropped inside (), [] and dict braces, just before or after
    "->", at the start of a body and of the file, before "}" and before an
    `else` that follows "}"; runs of separators become one.
    """

    always_accept = ("NL", "SEMI", "LBRACE", "RBRACE", "COMMENT")

    def __init__(self) -> None:
        self.state = _LayoutState()

    def process(self, stream):
        self.state = state = _LayoutState()
        prev = prev2 = None
        pending = None
        for tok in stream:
            kind = tok.type
            if kind == "COMMENT":
                state.comments.append(tok)
                continue
            if kind in ("NL", "SEMI"):
                if state.stack and state.stack[-1][0] != "body" and kind == "NL":
                    continue
                if prev is None or prev.type in ("LBODY", "ARROW", "_SEP"):
                    continue
                pending = pending or Token.new_borrow_pos("_SEP", tok.value, tok)
                continue
            if pending is not None:
                drop = kind in ("RBRACE", "ARROW") or (kind == "ELSE" and prev.type == "RBODY")
                if not drop:
                    yield pending
                pending = None
            tok = self._rewrite_brace(tok, prev, prev2)
            self._track(tok)
            yield tok
            prev2, prev = prev, tok

    def _rewrite_brace(self, tok, prev, prev2):
        if tok.type == "LBRACE":
            body = prev is not None and (
                prev.type in _ENDS_EXPRESSION or (prev.type == "ELSE" and prev2 is not None and prev2.type == "RBODY")
            )
            return Token.new_borrow_pos("LBODY" if body else "LDICT", tok.value, tok)
        if tok.type == "RBRACE" and self.state.stack and self.state.stack[-1][0] in ("body", "dict"):
            kind = self.state.stack[-1][0]
            return Token.new_borrow_pos("RBODY" if kind == "body" else "RDICT", tok.value, tok)
        return tok

    def _track(self, tok) -> None:
        stack = self.state.stack
        kind = tok.type
        if kind in _OPENERS:
            stack.append((kind, tok))
        elif kind == "LBODY":
            stack.append(("body", tok))
        elif kind == "LDICT":
            stack.append(("dict", tok))
        elif kind in _CLOSERS or kind in ("RBODY", "RDICT"):
            if stack:
                stack.pop()

    def unclosed(self) -> Optional[Token]:
        """The innermost bracket still open where the stream stopped."""
        for kind, tok in reversed(self.state.stack):
            if kind != "body":
                return tok
        return None


# -------------------------------------------------------------------- parser

_LOCK = threading.Lock()


def _cache_path() -> Optional[str]:
    """A private directory for Lark's table cache (like __pycache__), or None."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    path = os.path.join(base, "kdsl")
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
        if not os.access(path, os.W_OK):
            return None
    except OSError:
        return None
    return os.path.join(path, "kd-grammar.lark-cache")


@lru_cache(maxsize=1)
def _parser() -> Lark:
    grammar = resource_path("grammar", "kd.lark").read_text(encoding="utf-8")
    options = dict(
        parser="lalr",
        lexer="basic",
        postlex=_Layout(),
        propagate_positions=True,
        maybe_placeholders=True,
        start=["start", "value_start"],
    )
    options["transformer"] = _ToNodes()
    cache = _cache_path()
    if cache is not None:
        try:
            return Lark(grammar, cache=cache, **options)
        except Exception:  # a stale or unreadable cache: build without it
            pass
    return Lark(grammar, **options)


# ------------------------------------------------------------------- helpers


def _span(x) -> n.Span:
    """The span of a Lark token or of a kdsl node."""
    if isinstance(x, Token):
        return n.Span(x.line, x.column, x.end_line, x.end_column, x.start_pos, x.end_pos)
    return x.span


def _edge(x, last: bool):
    """The first (or last) span inside X: a token, a node, or a list of them."""
    if x is None or isinstance(x, str) and not isinstance(x, Token):
        return None
    if isinstance(x, (Token, n.Body)) or hasattr(x, "span"):
        return _span(x)
    if isinstance(x, (list, tuple)):
        for item in reversed(x) if last else x:
            found = _edge(item, last)
            if found is not None:
                return found
    return None


def _cover(children) -> n.Span:
    """The span from the first to the last token or node of a rule's children."""
    first, last = _edge(children, False), _edge(children, True)
    if first is None:
        return n.NO_SPAN
    return first.to(last)


class _Problem(Exception):
    """A syntax problem found while building the tree."""

    def __init__(self, code: str, message: str, span: n.Span, hint: Optional[str] = None):
        super().__init__(message)
        self.code, self.message, self.span, self.hint = code, message, span, hint


def _decode_string(tok: Token) -> str:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            value = pyast.literal_eval(tok.value)
    except (SyntaxError, ValueError, Warning) as exc:
        raise _Problem(codes.INVALID_LITERAL, f"invalid string literal {tok.value}: {exc}", _span(tok)) from None
    if not isinstance(value, str):
        raise _Problem(codes.INVALID_LITERAL, f"invalid string literal {tok.value}", _span(tok))
    return value


def _decode_number(tok: Token):
    text = tok.value
    try:
        if any(c in text for c in ".eE"):
            return float(text)
        return int(text)
    except ValueError:
        raise _Problem(
            codes.INVALID_LITERAL, f"number literal too long ({len(text)} digits)", _span(tok)
        ) from None


def _tokens(children):
    return [c for c in children if isinstance(c, Token)]


def _not_tokens(children):
    return [c for c in children if not isinstance(c, Token) and c is not None]


# ------------------------------------------------------------- tree building


class _ToNodes:
    """Builds `dsl.nodes` as the parser reduces each grammar rule (Lark's
    inline transformer: no parse tree, no recursion), one method per rule,
    and keeps the nesting depth of every node within the limit."""

    def __init__(self) -> None:
        self.reset(DEFAULT_LIMITS)

    def reset(self, limits: Limits) -> None:
        self.max_depth = limits.max_depth
        self.depth: dict = {}

    # -- depth bookkeeping: a node is one deeper than its deepest child.

    def _deep(self, node, *children):
        depth = 1 + max((self.depth.get(id(c), 0) for c in children), default=0)
        if depth > self.max_depth:
            raise _Problem(
                codes.TOO_DEEP,
                f"nesting too deep: more than {self.max_depth} levels",
                _span(node),
                "split the expression or the nested statements into several statements "
                "(or raise the limit with --max-depth)",
            )
        self.depth[id(node)] = depth
        return node

    def _deep_list(self, node, items):
        return self._deep(node, *[x for x in items if x is not None])

    # -- file level

    def start(self, children):
        return _not_tokens(children)

    def value_start(self, children):
        return children[0]

    def import_stmt(self, children):
        _, path = children
        return n.Import(_decode_string(path), _cover(children))

    def from_stmt(self, children):
        module, names = _not_tokens(children)
        return n.FromImport(module, names, _cover(children))

    def dotted_name(self, children):
        return ".".join(t.value for t in children)

    def import_names(self, children):
        return list(children)

    def import_name(self, children):
        name, as_kw, alias = children
        if as_kw is not None and as_kw.value != "as":
            raise _Problem(codes.SYNTAX, f"expected `as`, found `{as_kw.value}`", _span(as_kw))
        return n.ImportedName(name.value, alias.value if alias is not None else None, _cover(children))

    def model_def(self, children):
        _, name, params, body = children
        return n.ModelDef(name.value, params, body, None, _cover(children), _span(name))

    def block_def(self, children):
        _, name, params, body = children
        return n.BlockDef(name.value, params, body, None, _cover(children), _span(name))

    def param_list(self, children):
        return [c for c in children if isinstance(c, n.Param)]

    def param(self, children):
        name, default = children
        return n.Param(name.value, default, _cover(children))

    def body(self, children):
        stmts = n.Body(_not_tokens(children), _cover(children))
        depth = 1 + max((self.depth.get(id(s), 0) for s in stmts), default=0)
        if depth > self.max_depth:
            raise _Problem(codes.TOO_DEEP, f"nesting too deep: more than {self.max_depth} levels", _cover(children))
        self.depth[id(stmts)] = depth
        return stmts

    # -- statements

    def assign(self, children):
        lhs, rhs = children
        span = _cover(children)
        if isinstance(lhs, n.Attribute):
            if lhs.attr != "trainable" or not isinstance(lhs.value, n.Name):
                raise _Problem(
                    codes.SYNTAX, "only `NAME.trainable = ...` can be assigned to an attribute", lhs.span
                )
            return self._deep(n.SetTrainable(lhs.value, rhs, span), rhs)
        targets, unpack = self._targets(lhs)
        return self._deep(n.Assign(targets, rhs, None, unpack, span), rhs)

    def _targets(self, lhs):
        if isinstance(lhs, n.Name):
            return [lhs], False
        if isinstance(lhs, n.TupleExpr) and lhs.items and all(isinstance(t, n.Name) for t in lhs.items):
            return list(lhs.items), True
        raise _Problem(codes.SYNTAX, "can only assign to a name or to names separated by commas", _span(lhs))

    def annassign(self, children):
        target, annotation, value = children
        if not isinstance(target, n.Name):
            raise _Problem(codes.SYNTAX, "an annotation needs one name before the colon", _span(target))
        return self._deep(n.Assign([target], value, annotation, False, _cover(children)), value, annotation)

    def expr_stmt(self, children):
        (value,) = children
        span = _cover(children)
        if isinstance(value, n.Call) and isinstance(value.func, n.Name) and value.func.id == "compile":
            return self._deep(n.CompileStmt(value.keywords, value.args, span), value)
        return self._deep(n.ExprStmt(value, span), value)

    def output_stmt(self, children):
        rest = children[1:]
        span = _cover(children)
        if len(rest) == 1:
            (names,) = rest
            items = names.items if isinstance(names, n.TupleExpr) and not names.parenthesized else [names]
            for item in items:
                if not isinstance(item, n.Name):
                    raise _Problem(codes.SYNTAX, "`output` takes names: `output a, b` or `output a = EXPR`", _span(item))
            return n.Output(list(items), None, None, span)
        target, annotation, value = rest if len(rest) == 3 else (rest[0], None, rest[1])
        if not isinstance(target, n.Name):
            raise _Problem(codes.SYNTAX, "`output NAME = EXPR` binds one name", _span(target))
        return self._deep(n.Output([target], value, annotation, span), value)

    def return_stmt(self, children):
        _, value = children
        values = value.items if isinstance(value, n.TupleExpr) and not value.parenthesized else [value]
        return self._deep_list(n.Return(list(values), _cover(children)), values)

    def for_stmt(self, children):
        _, targets, _, iterable, body = children
        names, unpack = self._targets(targets)
        return self._deep(n.For(names, iterable, body, unpack, _cover(children)), iterable, body)

    def if_stmt(self, children):
        _, test, body, *rest = children
        orelse = rest.pop() if rest and (rest[-1] is None or isinstance(rest[-1], list)) else None
        branches = [(test, body)] + [b for b in rest if b is not None]
        parts = [x for branch in branches for x in branch] + ([orelse] if orelse is not None else [])
        return self._deep(n.If(branches, orelse, _cover(children)), *parts)

    def elif_clause(self, children):
        _, _, test, body = children
        return (test, body)

    def else_clause(self, children):
        return children[1]

    # -- expressions

    def bare_tuple(self, children):
        items = _not_tokens(children)
        return self._deep_list(n.TupleExpr(items, _cover(children), parenthesized=False), items)

    def chain(self, children):
        steps = _not_tokens(children)
        return self._deep_list(n.Chain(steps, _cover(children)), steps)

    def ifexp(self, children):
        body, _, test, _, orelse = children
        return self._deep(n.IfExp(body, test, orelse, _cover(children)), body, test, orelse)

    def _boolop(self, children, op):
        values = _not_tokens(children)
        return self._deep_list(n.BoolOp(op, values, _cover(children)), values)

    def or_test(self, children):
        return self._boolop(children, "or")

    def and_test(self, children):
        return self._boolop(children, "and")

    def not_test(self, children):
        _, operand = children
        return self._deep(n.UnaryOp("not", operand, _cover(children)), operand)

    def comparison(self, children):
        left, rest = children[0], children[1:]
        ops = [t.value for t in rest[0::2]]
        comparators = rest[1::2]
        return self._deep_list(n.Compare(left, ops, comparators, _cover(children)), [left, *comparators])

    def _fold(self, children):
        """Left-associative folding of `a op b op c` into nested BinOps."""
        node = children[0]
        for op, right in zip(children[1::2], children[2::2]):
            node = self._deep(n.BinOp(op.value, node, right, _span(node).to(_span(right))), node, right)
        return node

    def arith(self, children):
        return self._fold(children)

    def term(self, children):
        return self._fold(children)

    def unary(self, children):
        op, operand = children
        return self._deep(n.UnaryOp(op.value, operand, _cover(children)), operand)

    def power(self, children):
        base, _, exponent = children
        return self._deep(n.BinOp("**", base, exponent, _cover(children)), base, exponent)

    def call(self, children):
        func, _, arguments, _ = children
        args, keywords = [], []
        seen = {}
        for arg in arguments or []:
            if isinstance(arg, n.Keyword):
                if arg.name in seen:
                    raise _Problem(codes.ARGUMENT_TWICE, f"keyword argument `{arg.name}` given twice", arg.name_span)
                seen[arg.name] = arg
                keywords.append(arg)
            elif keywords:
                raise _Problem(codes.SYNTAX, "a positional argument cannot follow a keyword argument", _span(arg))
            else:
                args.append(arg)
        parts = [func, *args, *[k.value for k in keywords]]
        return self._deep_list(n.Call(func, args, keywords, _cover(children)), parts)

    def arguments(self, children):
        return _not_tokens(children)

    def keyword(self, children):
        name, value = children
        return self._deep(n.Keyword(name.value, value, _cover(children), _span(name)), value)

    def subscript(self, children):
        value, _, index, _ = children
        return self._deep(n.Subscript(value, index, _cover(children)), value, index)

    def slice(self, children):
        lower, upper, step = (list(children) + [None, None, None])[:3]
        return self._deep_list(n.Slice(lower, upper, step, _cover(children)), [lower, upper, step])

    def attribute(self, children):
        value, name = children
        return self._deep(n.Attribute(value, name.value, _cover(children), _span(name)), value)

    def name(self, children):
        (tok,) = children
        return n.Name(tok.value, _span(tok))

    def number(self, children):
        (tok,) = children
        return n.Constant(_decode_number(tok), _span(tok), tok.value)

    def string(self, children):
        (tok,) = children
        return n.Constant(_decode_string(tok), _span(tok), tok.value)

    def const_true(self, children):
        return n.Constant(True, _span(children[0]))

    def const_false(self, children):
        return n.Constant(False, _span(children[0]))

    def const_none(self, children):
        return n.Constant(None, _span(children[0]))

    def empty_tuple(self, children):
        return n.TupleExpr([], _cover(children))

    def paren(self, children):
        return children[1]

    def paren_tuple(self, children):
        items = _not_tokens(children)
        return self._deep_list(n.TupleExpr(items, _cover(children)), items)

    def list(self, children):
        items = _not_tokens(children)
        return self._deep_list(n.ListExpr(items, _cover(children)), items)

    def dict(self, children):
        entries = _not_tokens(children)
        parts = [x for e in entries for x in (e.key, e.value)]
        return self._deep_list(n.DictExpr(entries, _cover(children)), parts)

    def dict_entry(self, children):
        key, value = children
        span = _cover(children)
        if isinstance(key, n.Name):
            return self._deep(n.DictEntry(n.Constant(key.id, key.span), value, True, span), value)
        return self._deep(n.DictEntry(key, value, False, span), key, value)


# ------------------------------------------------------------ syntax errors

_DESCRIPTIONS = {
    "NAME": "a name",
    "NUMBER": "a number",
    "STRING": "a string",
    "LPAR": "`(`",
    "RPAR": "`)`",
    "LSQB": "`[`",
    "RSQB": "`]`",
    "LBODY": "`{`",
    "RBODY": "`}`",
    "LDICT": "`{`",
    "RDICT": "`}`",
    "LBRACE": "`{`",
    "RBRACE": "`}`",
    "ARROW": "`->`",
    "POW": "`**`",
    "_SEP": "end of statement",
    "$END": "end of file",
    "SEMI": "`;`",
}
_EXPRESSION_STARTS = {"NAME", "NUMBER", "STRING", "LPAR", "LSQB", "LDICT"}


def _describe_terminal(name: str, parser: Lark) -> str:
    if name in _DESCRIPTIONS:
        return _DESCRIPTIONS[name]
    try:
        pattern = parser.get_terminal(name).pattern
    except KeyError:
        return name.lower()
    if pattern.type == "str":
        return f"`{pattern.value}`"
    return name.lower()


def _describe_token(tok: Token) -> str:
    if tok.type == "$END":
        return "end of file"
    if tok.type == "_SEP":
        return "`;`" if tok.value == ";" else "end of line"
    if tok.type in ("NAME", "NUMBER", "STRING"):
        return f"{tok.type.lower()} `{tok.value}`"
    return f"`{tok.value}`"


def _expected_text(expected: set, parser: Lark) -> str:
    names = set(expected)
    parts = []
    if _EXPRESSION_STARTS & names and len(names) > 6:
        parts.append("an expression")
        names -= _EXPRESSION_STARTS | {"TRUE", "FALSE", "NONE", "MINUS", "PLUS", "NOT"}
        names = {x for x in names if not x.startswith("__ANON")} if len(names) > 6 else names
    parts += sorted({_describe_terminal(x, parser) for x in names})
    if len(parts) > 8:
        parts = parts[:8] + ["..."]
    return ", ".join(parts)


def _syntax_error(exc: UnexpectedInput, text: str, filename: str, layout: _Layout) -> Diagnostic:
    parser = _parser()
    if isinstance(exc, UnexpectedToken):
        tok = exc.token
        if tok.type == "$END":
            line = text.count("\n") + 1
            col = len(text) - (text.rfind("\n") + 1) + 1
            span = n.Span(line, col, line, col, len(text), len(text))
        else:
            span = _span(tok)
        message = f"unexpected {_describe_token(tok)}; expected {_expected_text(exc.expected, parser)}"
        if tok.type == "RBRACE":
            message = "unexpected `}`: no body or dict is open here"
    else:
        assert isinstance(exc, UnexpectedCharacters)
        span = n.Span(exc.line, exc.column, exc.line, exc.column + 1, exc.pos_in_stream, exc.pos_in_stream + 1)
        char = text[exc.pos_in_stream] if exc.pos_in_stream < len(text) else ""
        if char in "\"'":
            message = "unterminated string"
        else:
            message = f"unexpected character {char!r}"
    hint = _syntax_hint(exc, text, span, layout)
    return Diagnostic(codes.SYNTAX, message, filename, span, hint)


_STRING_PREFIXES = set("fFrRbBuU")


def _syntax_hint(exc: UnexpectedInput, text: str, span: n.Span, layout: _Layout) -> Optional[str]:
    """What probably went wrong, for the common mistakes."""
    tok = getattr(exc, "token", None)
    if tok is not None and tok.type == "NAME" and tok.value == "is":
        return "kd has no `is`: compare with `==` or `!=`"
    if tok is not None and tok.type == "NAME" and tok.value == "in":
        return "`in` only appears in `for NAME in ...`"
    if tok is not None and tok.type == "STRING" and tok.start_pos > 0 and text[tok.start_pos - 1] in _STRING_PREFIXES:
        return "kd has no f-strings or string prefixes: join strings with + and str(), e.g. \"conv\" + str(i)"
    opened = layout.unclosed()
    if opened is not None and span.line > opened.line:
        return f"the `{opened.value}` at line {opened.line}, column {opened.column} is not closed"
    return None


# ---------------------------------------------------------------- doc comments


def _attach_docs(module: n.Module, text: str) -> None:
    """A run of `##` lines directly above a model or block is its doc comment."""
    lines = text.splitlines()
    doc_lines = {c.span.line: c for c in module.comments if c.text.startswith("##")}
    for item in module.definitions:
        found = []
        line = item.span.line - 1
        while line in doc_lines and lines[line - 1].lstrip().startswith("##"):
            found.append(doc_lines[line].text[2:])
            line -= 1
        if found:
            body = [s[1:] if s.startswith(" ") else s for s in reversed(found)]
            item.doc = "\n".join(body).strip("\n") or None


# ------------------------------------------------------------------- public


def _build(text: str, filename: str, start: str, limits: Limits):
    """Parse TEXT from rule START into nodes; returns (result, comments)."""
    parser = _parser()
    with _LOCK:
        layout = parser.options.postlex
        builder = parser.options.transformer
        builder.reset(limits)
        try:
            result = parser.parse(text, start=start)
        except UnexpectedInput as exc:
            raise KdError([_syntax_error(exc, text, filename, layout)]) from None
        except _Problem as err:
            raise KdError([Diagnostic(err.code, err.message, filename, err.span, err.hint)]) from None
        finally:
            builder.reset(DEFAULT_LIMITS)  # drop the depth table
        comments = [n.Comment(t.value, _span(t)) for t in layout.state.comments]
    return result, comments


def parse_value(text: str, where: str = "<command line>") -> n.Expr:
    """Parse one kd expression (a `--param` value) into a node."""
    return _build(text, where, "value_start", DEFAULT_LIMITS)[0]


def parse(text: str, filename: str = "<string>", limits: Limits = DEFAULT_LIMITS) -> n.Module:
    """Parse kd TEXT (the contents of FILENAME) into a `nodes.Module`.

    Raises `KdError` with a KD1xx diagnostic on a syntax error.

    >>> parse("model m { x = Input(shape=(4,)); output x }").items[0].name
    'm'
    """
    _check_size(len(text), "characters", filename, limits)
    items, comments = _build(text, filename, "start", limits)
    module = n.Module(items, comments, filename, text)
    _attach_docs(module, text)
    return module


def _check_size(size: int, unit: str, filename: str, limits: Limits) -> None:
    """KD103 when a source is larger than the limit."""
    if size > limits.max_file_bytes:
        raise KdError([Diagnostic(codes.FILE_TOO_LARGE, f"file too large: {size:,} {unit} (limit {limits.max_file_bytes:,})",
                                  filename, n.Span(1, 1, 1, 2), "raise the limit with --max-file-size")])


def decode_source(data: bytes, filename: str, limits: Limits = DEFAULT_LIMITS) -> str:
    """Decode a .kd file's bytes as UTF-8 (a BOM is allowed)."""
    _check_size(len(data), "bytes", filename, limits)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        col = exc.start - (before.rfind(b"\n") + 1) + 1
        raise KdError([Diagnostic(codes.NOT_UTF8, f"the file is not valid UTF-8: byte 0x{data[exc.start]:02x} at offset {exc.start}",
                                  filename, n.Span(line, col, line, col + 1, exc.start, exc.start + 1))]) from None
    return text
