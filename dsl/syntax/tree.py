"""The kd syntax tree: plain dataclasses, each carrying its exact source span.

The parser builds these; the evaluator and the code generator read them.  No
Lark type appears here.  The tree keeps what a printer needs to write the
source back in canonical form (bare dict keys, whether a model has a
parameter list, the comments of the file).
"""

from __future__ import annotations

from ..records import field, record
from typing import Any, Optional, Union


# Spans live in the leaf module dsl.span; the tree re-exports them for its users.
from ..span import NO_SPAN, Span  # noqa: E402,F401


class Body(list):
    """The statements of a body (a list), with the span of its braces."""

    __slots__ = ("span",)

    def __init__(self, stmts=(), span: Span = NO_SPAN):
        super().__init__(stmts)
        self.span = span


# ---------------------------------------------------------------- expressions


@record(slots=True, eq=False)
class Name:
    id: str
    span: Span = NO_SPAN


@record(slots=True, eq=False)
class Constant:
    """A literal: int, float, str, bool or None.  `raw` is the literal as
    written (`1_000`, `'relu'`), for a printer that keeps it."""

    value: Any
    span: Span = NO_SPAN
    raw: Optional[str] = None


@record(slots=True, eq=False)
class TupleExpr:
    items: list
    span: Span = NO_SPAN
    parenthesized: bool = True  # False for `a, b` written without parentheses


@record(slots=True, eq=False)
class ListExpr:
    items: list
    span: Span = NO_SPAN


@record(slots=True, eq=False)
class DictEntry:
    """`key: value`; `bare` when the key was written as an identifier, which
    means the string of its name (`{age: "mse"}`)."""

    key: "Expr"
    value: "Expr"
    bare: bool = False
    span: Span = NO_SPAN


@record(slots=True, eq=False)
class DictExpr:
    entries: list
    span: Span = NO_SPAN


@record(slots=True, eq=False)
class UnaryOp:
    op: str  # "-", "+", "not"
    operand: "Expr"
    span: Span = NO_SPAN


@record(slots=True, eq=False)
class BinOp:
    op: str  # + - * / // % **
    left: "Expr"
    right: "Expr"
    span: Span = NO_SPAN


@record(slots=True, eq=False)
class BoolOp:
    op: str  # "and", "or"
    values: list
    span: Span = NO_SPAN


@record(slots=True, eq=False)
class Compare:
    """`a < b <= c`: Python's chained comparison."""

    left: "Expr"
    ops: list
    comparators: list
    span: Span = NO_SPAN


@record(slots=True, eq=False)
class IfExp:
    body: "Expr"
    test: "Expr"
    orelse: "Expr"
    span: Span = NO_SPAN


@record(slots=True, eq=False)
class Keyword:
    name: str
    value: "Expr"
    span: Span = NO_SPAN  # the whole `name=value`
    name_span: Span = NO_SPAN


@record(slots=True, eq=False)
class Call:
    func: "Expr"
    args: list
    keywords: list
    span: Span = NO_SPAN


@record(slots=True, eq=False)
class Slice:
    lower: Optional["Expr"]
    upper: Optional["Expr"]
    step: Optional["Expr"]
    span: Span = NO_SPAN


@record(slots=True, eq=False)
class EllipsisExpr:
    """`...` in a subscript (`x[..., 0]`); it stands nowhere else."""

    span: Span = NO_SPAN


@record(slots=True, eq=False)
class Subscript:
    """`value[index]`.  INDEX is an expression, a Slice, an EllipsisExpr, or
    (when written with a comma: `x[:, 0]`) a TupleExpr that is not
    parenthesized and whose items may be any of these, as in Python's ast."""

    value: "Expr"
    index: Union["Expr", Slice, EllipsisExpr]
    span: Span = NO_SPAN


@record(slots=True, eq=False)
class Attribute:
    value: "Expr"
    attr: str
    span: Span = NO_SPAN
    attr_span: Span = NO_SPAN


@record(slots=True, eq=False)
class Chain:
    """`x -> A -> B`: `steps[0]` is the source, the rest are applied in turn."""

    steps: list
    span: Span = NO_SPAN


Expr = Union[
    Name, Constant, TupleExpr, ListExpr, DictExpr, UnaryOp, BinOp, BoolOp, Compare,
    IfExp, Call, Subscript, Attribute, Chain, Slice, EllipsisExpr,
]

# ----------------------------------------------------------------- statements


@record(slots=True, eq=False)
class Assign:
    """`a = e`, `a, b = e` (unpacking), or `a: (None, 8) = e` (annotated)."""

    targets: list  # of Name; more than one means unpacking
    value: Expr
    annotation: Optional[Expr] = None
    unpack: bool = False  # written with a comma (`a, = e` unpacks one value)
    span: Span = NO_SPAN


@record(slots=True, eq=False)
class SetTrainable:
    """`NAME.trainable = value`."""

    target: Name
    value: Expr
    span: Span = NO_SPAN


@record(slots=True, eq=False)
class Output:
    """`output a, b` (value None), or `output NAME = EXPR` (one name, a value)."""

    names: list  # of Name
    value: Optional[Expr] = None
    annotation: Optional[Expr] = None
    span: Span = NO_SPAN


@record(slots=True, eq=False)
class Return:
    values: list
    span: Span = NO_SPAN


@record(slots=True, eq=False)
class For:
    targets: list  # of Name
    iterable: Expr
    body: list
    unpack: bool = False
    span: Span = NO_SPAN


@record(slots=True, eq=False)
class If:
    """`if t { } else if t { } else { }`: one (test, body) pair per branch."""

    branches: list  # of (Expr, list of statements)
    orelse: Optional[list] = None
    span: Span = NO_SPAN


@record(slots=True, eq=False)
class ExprStmt:
    value: Expr
    span: Span = NO_SPAN


@record(slots=True, eq=False)
class CompileStmt:
    """`compile(optimizer=..., loss=...)` in a model body."""

    keywords: list
    args: list
    span: Span = NO_SPAN


Stmt = Union[Assign, SetTrainable, Output, Return, For, If, ExprStmt, CompileStmt]

# ------------------------------------------------------------------ file level


@record(slots=True, eq=False)
class Param:
    name: str
    default: Optional[Expr] = None
    span: Span = NO_SPAN


@record(slots=True, eq=False)
class ModelDef:
    name: str
    params: Optional[list]  # None: written without a parameter list
    body: list
    doc: Optional[str] = None
    span: Span = NO_SPAN
    name_span: Span = NO_SPAN


@record(slots=True, eq=False)
class BlockDef:
    name: str
    params: list
    body: list
    doc: Optional[str] = None
    span: Span = NO_SPAN
    name_span: Span = NO_SPAN


@record(slots=True, eq=False)
class Import:
    path: str
    span: Span = NO_SPAN


@record(slots=True, eq=False)
class ImportedName:
    name: str
    alias: Optional[str] = None
    span: Span = NO_SPAN

    @property
    def bound(self) -> str:
        """The name this import binds in the file."""
        return self.alias or self.name


@record(slots=True, eq=False)
class FromImport:
    module: str
    names: list  # of ImportedName
    span: Span = NO_SPAN


@record(slots=True, eq=False)
class Comment:
    text: str  # with its leading "#"
    span: Span = NO_SPAN


@record(slots=True, eq=False)
class Module:
    """A parsed .kd file."""

    items: list  # Import, FromImport, ModelDef, BlockDef in source order
    comments: list = field(default_factory=list)
    filename: str = "<string>"
    source: str = ""
    broken: list = field(default_factory=list)  # recovery.Broken: regions left out after syntax errors

    @property
    def definitions(self) -> list:
        return [i for i in self.items if isinstance(i, (ModelDef, BlockDef))]


# ------------------------------------------------------------------ traversal

# The fields of each node type that hold nodes (or lists of them).
_CHILD_FIELDS = {
    "Name": (), "Constant": (), "TupleExpr": ("items",), "ListExpr": ("items",),
    "DictEntry": ("key", "value"), "DictExpr": ("entries",), "UnaryOp": ("operand",),
    "BinOp": ("left", "right"), "BoolOp": ("values",), "Compare": ("left", "comparators"),
    "IfExp": ("body", "test", "orelse"), "Keyword": ("value",), "Call": ("func", "args", "keywords"),
    "Slice": ("lower", "upper", "step"), "EllipsisExpr": (), "Subscript": ("value", "index"), "Attribute": ("value",),
    "Chain": ("steps",), "Assign": ("targets", "value", "annotation"), "SetTrainable": ("target", "value"),
    "Output": ("names", "value", "annotation"), "Return": ("values",), "For": ("targets", "iterable", "body"),
    "If": ("branches", "orelse"), "ExprStmt": ("value",), "CompileStmt": ("keywords", "args"),
    "Param": ("default",), "ModelDef": ("params", "body"), "BlockDef": ("params", "body"),
}
_FIELDS_BY_TYPE: dict = {}


def children(node) -> list:
    """The nodes directly inside NODE (expressions and statements), in order."""
    out: list = []
    for field_name in _FIELDS_BY_TYPE[type(node)]:
        value = getattr(node, field_name)
        if value is None:
            continue
        if isinstance(value, list):
            for item in value:
                if isinstance(item, tuple):  # If.branches: (test, body)
                    out.append(item[0])
                    out.extend(item[1])
                elif item is not None:
                    out.append(item)
        else:
            out.append(value)
    return out


def walk(node):
    """NODE and every node inside it, depth first, without recursion."""
    stack = [node]
    pop, extend, fields_of = stack.pop, stack.extend, _FIELDS_BY_TYPE
    while stack:
        current = pop()
        yield current
        if fields_of[type(current)]:  # names and constants, most nodes, hold none
            extend(reversed(children(current)))


_FIELDS_BY_TYPE.update({cls: _CHILD_FIELDS[cls.__name__] for cls in (
    Name, Constant, TupleExpr, ListExpr, DictEntry, DictExpr, UnaryOp, BinOp, BoolOp,
    Compare, IfExp, Keyword, Call, Slice, EllipsisExpr, Subscript, Attribute, Chain, Assign,
    SetTrainable, Output, Return, For, If, ExprStmt, CompileStmt, Param, ModelDef, BlockDef,
)})
