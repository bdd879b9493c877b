"""Builds the syntax tree of `dsl.syntax.tree` as the parser reduces each
grammar rule (Lark's inline transformer: no parse tree, no recursion), and
keeps the nesting depth of every node within the limit."""

from __future__ import annotations

import re
import warnings
from ..vendor.lark_runtime import Token

from .. import codes
from ..diagnostics import SourceError
from ..limits import DEFAULT_LIMITS, Limits
from ..span import token_span
from . import tree as n
from .precedence import resolve

def _span(x) -> n.Span:
    """The span of a Lark token or of a kdsl node."""
    if isinstance(x, Token):
        return token_span(x)
    return x.span


def _edge(x, last: bool):
    """The first (or last) span inside X: a token, a node, or a list of them."""
    if isinstance(x, Token):
        return _span(x)
    span = getattr(x, "span", None)  # a node, or a Body
    if span is not None:
        return span
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


def _short(text: str, most: int = 60) -> str:
    return text if len(text) <= most else text[: most - 3] + "..."


# A literal's inner text that Python reads as it stands: no escape, and
# nothing Python's parser refuses in source (a NUL, a lone surrogate).
_PLAIN_STRING = re.compile(r"[^\\\x00\ud800-\udfff]*")


def _decode_string(tok: Token, limits: Limits) -> str:
    """A string literal's value; its length counts against --max-sequence
    before it is decoded."""
    if len(tok.value) - 2 > limits.max_sequence:
        raise SourceError(codes.CONSTANT_TOO_LARGE, f"string literal too long: {len(tok.value) - 2:,} characters "
                          f"(limit {limits.max_sequence:,})", _span(tok), "raise the limit with --max-sequence")
    inner = tok.value[1:-1]
    if _PLAIN_STRING.fullmatch(inner):  # no escapes: the text between the quotes is the value
        return inner
    import ast as pyast  # only for escapes: importing ast costs about 1 ms

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            value = pyast.literal_eval(tok.value)
    except (SyntaxError, ValueError, Warning) as exc:
        raise SourceError(codes.INVALID_LITERAL, f"invalid string literal {_short(tok.value)}: {exc}", _span(tok)) from None
    if not isinstance(value, str):
        raise SourceError(codes.INVALID_LITERAL, f"invalid string literal {_short(tok.value)}", _span(tok))
    return value


def _decode_number(tok: Token, limits: Limits):
    """A number literal's value; an integer's digits are counted against
    --max-int-bits before it is converted."""
    text = tok.value
    if "." in text or "e" in text or "E" in text:  # a float (three `in`s: no generator per literal)
        value = float(text)
        if value in (float("inf"), float("-inf")):
            raise SourceError(codes.INVALID_LITERAL, f"float literal out of range: {_short(text)}", _span(tok))
        return value
    digits = len(text.replace("_", ""))
    if digits > limits.max_int_bits * 0.302 + 2:  # log10(2): the most digits the bits allow
        raise SourceError(codes.INVALID_LITERAL, f"number literal too long ({digits:,} digits)", _span(tok),
                          "raise the limit with --max-int-bits")
    return int(text)


def _tokens(children):
    return [c for c in children if isinstance(c, Token)]


def _not_tokens(children):
    return [c for c in children if not isinstance(c, Token) and c is not None]


# The deepest bracket nesting kd accepts: below the 200 of Python's parser,
# with room for what the generated code adds around an expression.
MAX_BRACKETS = 150
_BRACKETED = (n.Call, n.ListExpr, n.TupleExpr, n.DictExpr, n.Subscript)


class TreeBuilder:
    """Builds `dsl.nodes` as the parser reduces each grammar rule (Lark's
    inline transformer: no parse tree, no recursion), one method per rule,
    and keeps the nesting depth of every node within the limit."""

    def __init__(self) -> None:
        self.reset(DEFAULT_LIMITS)

    def reset(self, limits: Limits) -> None:
        self.limits = limits
        self.max_depth = limits.max_depth
        self.depth: dict = {}
        self.brackets: dict = {}  # id(node) -> brackets the generated Python nests around it

    # -- depth bookkeeping: a node is one deeper than its deepest child.

    def _deep(self, node, *children):
        # One pass over the children for both counts (this runs for most nodes).
        depth_of, brackets_of = self.depth.get, self.brackets.get
        depth = brackets = 0
        for child in children:
            key = id(child)
            found = depth_of(key, 0)
            if found > depth:
                depth = found
            found = brackets_of(key, 0)
            if found > brackets:
                brackets = found
        self._count_brackets(node, brackets)
        return self._at_depth(node, 1 + depth)

    def _brackets(self, node, children) -> None:
        """Python's parser takes at most 200 nested brackets, whatever
        --max-depth says: the nodes the generated code writes in brackets
        (calls, lists, tuples, dicts, subscripts) may nest MAX_BRACKETS deep."""
        self._count_brackets(node, max((self.brackets.get(id(c), 0) for c in children), default=0))

    def _count_brackets(self, node, inside: int) -> None:
        """Record NODE's bracket count, INSIDE being its children's deepest."""
        count = inside + isinstance(node, _BRACKETED)
        if count > MAX_BRACKETS:
            raise SourceError(codes.TOO_DEEP, f"nesting too deep: more than {MAX_BRACKETS} brackets inside each other",
                              _span(node), "split the expression into several statements (Python's parser allows no more)")
        if count:
            self.brackets[id(node)] = count

    def _at_depth(self, node, depth: int):
        if depth > self.max_depth:
            raise SourceError(
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
        return n.Import(_decode_string(path, self.limits), _cover(children))

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
            raise SourceError(codes.SYNTAX, f"expected `as`, found `{as_kw.value}`", _span(as_kw))
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
            raise SourceError(codes.TOO_DEEP, f"nesting too deep: more than {self.max_depth} levels", _cover(children))
        self.depth[id(stmts)] = depth
        return stmts

    # -- statements

    def assign(self, children):
        lhs, rhs = children
        span = lhs.span.to(rhs.span)  # both sides are nodes
        if isinstance(lhs, n.Attribute):
            if lhs.attr != "trainable" or not isinstance(lhs.value, n.Name):
                raise SourceError(
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
        raise SourceError(codes.SYNTAX, "can only assign to a name or to names separated by commas", _span(lhs))

    def annassign(self, children):
        target, annotation, value = children
        if not isinstance(target, n.Name):
            raise SourceError(codes.SYNTAX, "an annotation needs one name before the colon", _span(target))
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
                    raise SourceError(codes.SYNTAX, "`output` takes names: `output a, b` or `output a = EXPR`", _span(item))
            return n.Output(list(items), None, None, span)
        target, annotation, value = rest if len(rest) == 3 else (rest[0], None, rest[1])
        if not isinstance(target, n.Name):
            raise SourceError(codes.SYNTAX, "`output NAME = EXPR` binds one name", _span(target))
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

    def operators(self, children):
        # Most expressions have no operator: their one child is the node.
        return children[0] if len(children) == 1 else resolve(children, self)

    operators.passes_one_child = True  # the parser's loop need not call it for one child (syntax/lalr.py)

    def comparison(self, children):
        left, rest = children[0], children[1:]
        ops = [t.value for t in rest[0::2]]
        comparators = rest[1::2]
        return self._deep_list(n.Compare(left, ops, comparators, _cover(children)), [left, *comparators])

    # A flat chain `a + b + c + ...` is folded into nested BinOps, but it is
    # not nesting: it counts one level per this many terms.
    TERMS_PER_LEVEL = 8

    def _fold(self, children):
        """Left-associative folding of `a op b op c` into nested BinOps."""
        node = children[0]
        operands = children[0::2]
        base = max(self.depth.get(id(c), 0) for c in operands)
        for index, (op, right) in enumerate(zip(children[1::2], children[2::2]), start=1):
            node = n.BinOp(op.value, node, right, _span(node).to(_span(right)))
            self._brackets(node, (node.left, right))
            self._at_depth(node, base + 1 + index // self.TERMS_PER_LEVEL)
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
        func, _, arguments, closing = children
        args, keywords = [], []
        seen = {}
        if arguments is None:
            arguments = ()
        elif not isinstance(arguments, list):  # one argument: `arguments` passed it through
            arguments = (arguments,)
        for arg in arguments:
            if isinstance(arg, n.Keyword):
                if arg.name in seen:
                    raise SourceError(codes.ARGUMENT_TWICE, f"keyword argument `{arg.name}` given twice", arg.name_span)
                seen[arg.name] = arg
                keywords.append(arg)
            elif keywords:
                raise SourceError(codes.SYNTAX, "a positional argument cannot follow a keyword argument", _span(arg))
            else:
                args.append(arg)
        # The callee is a node and the call ends at its `)`: no search for the edges.
        start = func.span
        span = n.Span(start.line, start.col, closing.end_line, closing.end_column, start.start, closing.end_pos)
        return self._deep(n.Call(func, args, keywords, span), func, *args, *[k.value for k in keywords])

    def arguments(self, children):
        # Most calls have one argument: it is passed on alone (`call` takes either).
        return children[0] if len(children) == 1 else _not_tokens(children)

    arguments.passes_one_child = True  # the parser's loop need not call it for one child (syntax/lalr.py)

    def keyword(self, children):
        name, value = children
        return self._deep(n.Keyword(name.value, value, _cover(children), _span(name)), value)

    def subscript(self, children):
        value, _, index, _ = children
        return self._deep(n.Subscript(value, index, _cover(children)), value, index)

    def index_tuple(self, children):
        items = _not_tokens(children)
        return self._deep_list(n.TupleExpr(items, _cover(children), parenthesized=False), items)

    def ellipsis(self, children):
        return n.EllipsisExpr(_span(children[0]))

    def slice(self, children):
        # [lower] COLON [upper] [COLON [step]]: the colons give the span of `:`.
        lower, _, upper, _, step = (list(children) + [None] * 5)[:5]
        return self._deep_list(n.Slice(lower, upper, step, _cover(children)), [lower, upper, step])

    def attribute(self, children):
        value, name = children
        return self._deep(n.Attribute(value, name.value, _cover(children), _span(name)), value)

    def name(self, children):
        (tok,) = children
        return n.Name(tok.value, token_span(tok))

    def number(self, children):
        (tok,) = children
        return n.Constant(_decode_number(tok, self.limits), _span(tok), tok.value)

    def string(self, children):
        (tok,) = children
        return n.Constant(_decode_string(tok, self.limits), _span(tok), tok.value)

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
