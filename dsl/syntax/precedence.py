"""Operator precedence, resolved after parsing.

The grammar reads every operator of an expression in one flat rule
(`operators`: prefix operators, operands and binary operators in source
order), because a grammar level per precedence costs the LALR parser one
reduction per level for every operand, operator or not: eleven levels made
up most of the parse time of a plain `x = Dense(8)(x)` line.

`resolve` turns that flat list into the nodes the levels would have built,
with Python's precedence (lowest first):

    or  <  and  <  not (prefix)  <  == != < <= > >=  <  + -  <  * / // %
        <  + - (prefix)  <  ** (right to left; binds tighter than a prefix
           on its left, looser than one on its right: -a**-b is -(a**(-b)))

It is an operator-precedence (shunting-yard) loop with an explicit stack:
no recursion, so a long run of operators costs no Python stack, and nodes
are built innermost first, as the parser's reductions built them.  Chains
of one level stay together: `a < b < c` is one comparison, `a or b or c`
one BoolOp, and `a + b - c` is folded by the builder as before.
"""

from __future__ import annotations

from ..vendor.lark_runtime import Token

from .. import codes
from ..diagnostics import SourceError
from ..span import token_span

OR, AND, NOT, COMPARE, ADD, MULTIPLY, SIGN, POWER = range(1, 9)

INFIX_LEVELS = {
    "or": OR, "and": AND,
    "==": COMPARE, "!=": COMPARE, "<": COMPARE, "<=": COMPARE, ">": COMPARE, ">=": COMPARE,
    "+": ADD, "-": ADD,
    "*": MULTIPLY, "/": MULTIPLY, "//": MULTIPLY, "%": MULTIPLY,
    "**": POWER,
}
PREFIX_LEVELS = {"not": NOT, "+": SIGN, "-": SIGN}


class _Pending:
    """An operator still waiting for its right operand: a prefix operator
    (ITEMS is just the token) or a run of binary operators of one level
    (ITEMS is `left, op, right, op, ...`, ending with an operator)."""

    __slots__ = ("level", "prefix", "items")

    def __init__(self, level: int, prefix: bool, items: list) -> None:
        self.level = level
        self.prefix = prefix
        self.items = items


def resolve(children: list, builder):
    """The node of a flat operator sequence CHILDREN (tokens and operand
    nodes, as the `operators` rule reads them), built with BUILDER's
    methods for each level."""
    stack: list = []
    index, count = 0, len(children)
    while True:
        while isinstance(children[index], Token):
            _push_prefix(stack, children[index])
            index += 1
        value = children[index]
        op = children[index + 1] if index + 1 < count else None
        index += 2
        level = INFIX_LEVELS[op.value] if op is not None else 0
        # Close what binds tighter than OP (** is right-associative: an open
        # ** stays open under another; a prefix on its left closes after it).
        while stack and _closes(stack[-1], level):
            value = _close(stack.pop(), value, builder)
        if op is None:
            return value
        top = stack[-1] if stack else None
        if top is not None and not top.prefix and top.level == level and level != POWER:
            top.items += [value, op]
        else:
            stack.append(_Pending(level, False, [value, op]))


def _closes(pending: _Pending, level: int) -> bool:
    if pending.level > level:
        return not (pending.level == POWER and level == POWER)
    return False


def _push_prefix(stack: list, tok: Token) -> None:
    level = PREFIX_LEVELS[tok.value]
    if level == NOT and stack and stack[-1].level > NOT:
        after = stack[-1].items[-1].value
        raise SourceError(codes.SYNTAX, f"`not` cannot follow `{after}` without brackets",
                          token_span(tok), f"write `{after} (not ...)`")
    stack.append(_Pending(level, True, [tok]))


def _close(pending: _Pending, value, builder):
    """The node of PENDING completed by its last operand VALUE."""
    items = pending.items + [value]
    level = pending.level
    if pending.prefix:
        return builder.not_test(items) if level == NOT else builder.unary(items)
    if level == OR:
        return builder.or_test(items)
    if level == AND:
        return builder.and_test(items)
    if level == COMPARE:
        return builder.comparison(items)
    if level == POWER:
        return builder.power(items)
    return builder._fold(items)
