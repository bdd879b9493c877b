"""The kd printer: a syntax tree back to kd text in the canonical layout
(LANGUAGE.md section 11; the rules, with examples, in docs/fmt.md).

`format_module(module)` prints a parsed module; `format_text(text)` parses,
prints and checks the result as black does (it parses to the same tree,
holds the same comments in the same order, and formatting it again changes
nothing) before returning it.
"""

from __future__ import annotations

from ..syntax import parse
from ..syntax import tree as n
from ..syntax.comments import Attachments, SourceMap, attach_comments
from . import doc as d
from .doc import BREAK_PARENT, HARDLINE, LINE, SOFTLINE, Group, IfBreak, Indent, Trailing
from .safety import verify
from .strings import normalize_quotes

from .widths import DEFAULT_LINE_LENGTH, MAX_LINE_LENGTH, MIN_LINE_LENGTH  # noqa: F401 (re-exported)

# Binding strength, as grammar/kd.lark nests its rules: an operand weaker
# than its place needs parentheses.
_TESTLIST, _CHAIN, _IFEXP, _OR, _AND, _NOT, _COMPARE, _ARITH, _TERM, _UNARY, _POWER, _POSTFIX, _ATOM = range(13)
_BINARY = {"+": _ARITH, "-": _ARITH, "*": _TERM, "/": _TERM, "//": _TERM, "%": _TERM, "**": _POWER}


def _strength(node) -> int:
    kind = type(node)
    if kind is n.Chain:
        return _CHAIN
    if kind is n.IfExp:
        return _IFEXP
    if kind is n.BoolOp:
        return _OR if node.op == "or" else _AND
    if kind is n.UnaryOp:
        return _NOT if node.op == "not" else _UNARY
    if kind is n.Compare:
        return _COMPARE
    if kind is n.BinOp:
        return _BINARY[node.op]
    if kind in (n.Call, n.Subscript, n.Attribute):
        return _POSTFIX
    if kind is n.TupleExpr and not node.parenthesized:
        return _TESTLIST
    return _ATOM


def _operands(node) -> tuple:
    """The weakest strength each side of a binary operator accepts."""
    if node.op == "**":
        return _POSTFIX, _UNARY  # `postfix POW factor`
    level = _BINARY[node.op]
    return level, level + 1  # left-associative


class LayoutError(ValueError):
    """A setting of the layout out of its range."""


def _check_line_length(line_length: int) -> None:
    if not MIN_LINE_LENGTH <= line_length <= MAX_LINE_LENGTH:
        raise LayoutError(f"line length must be between {MIN_LINE_LENGTH} and {MAX_LINE_LENGTH}, not {line_length}")


def format_module(module: n.Module, line_length: int = DEFAULT_LINE_LENGTH) -> str:
    """MODULE (parsed from `module.source`) printed in kd's canonical layout.

    No check here: `format_text` is the safe entry point.
    """
    _check_line_length(line_length)
    printer = _Printer(module)
    text = d.render(printer.module(module), line_length)
    return text + "\n" if text else ""


def format_text(text: str, filename: str = "<string>", line_length: int = DEFAULT_LINE_LENGTH) -> str:
    """TEXT (kd source) in the canonical layout, checked before it is
    returned: it parses to the same syntax tree, holds the same comments in
    the same order, and formatting it again changes nothing.

    Raises `dsl.KdError` (with the syntax errors) when TEXT does not parse,
    `LayoutError` for a line length out of range, and `FormatterBug` when
    the check fails (a bug in kdsl: the caller must not use any output).
    """
    _check_line_length(line_length)
    module = parse(text, filename)
    output = format_module(module, line_length)
    verify(module, output, line_length, format_module)
    return output


class _Printer:
    """Builds the layout document of a module, one method per node kind."""

    def __init__(self, module: n.Module):
        self.smap = SourceMap(module)
        self.comments: Attachments = attach_comments(module, self.smap)
        # A comment between the parts of an expression needs a line break
        # there: the parentheses around it in the source stay.
        between = [a.comment for a in self.comments if a.where == "gap"]
        self.kept_parens = self.smap.innermost_brackets(between)

    # ------------------------------------------------------------ comments

    def _trailing(self, placed: list) -> list:
        """Comments after something: the first on its line, the rest below."""
        out: list = []
        for i, p in enumerate(placed):
            if i == 0 and not p.own_line:
                out.append(Trailing("  " + p.text))
            else:
                out += [HARDLINE, p.text]
        if placed:
            out.append(BREAK_PARENT)
        return out

    def _above(self, placed: list) -> list:
        """Own-line comments above something, at its indentation."""
        out: list = []
        for p in placed:
            out += [p.text, HARDLINE]
        return out

    def _gap(self, node, gap: int, text: str, prev=None):
        """TEXT (an operator or keyword with its spaces) between two parts of
        NODE, with the comments written there, each followed by a line
        break.  With PREV, the part before TEXT, a comment written before
        the operator stays before it (`a  # c` then `+ b` below)."""
        placed = self.comments.of(node).gaps.get(gap)
        if not placed:
            return text
        early: list = []
        if prev is not None:
            operator = self.smap.index_ending_at(self.smap.outer(prev)[1]) + 1
            start = self.smap.starts[operator]
            early = [p for p in placed if p.comment.span.start < start]
            placed = placed[len(early):]
        out: list = []
        if early:
            out += [*self._trailing(early), HARDLINE]
            text = text.lstrip()
        if placed:
            out += [text.rstrip(), *self._trailing(placed), HARDLINE]
        else:
            out.append(text)
        return out

    # ------------------------------------------------------------ brackets

    def _magic_comma(self, node) -> bool:
        """Whether the author wrote a comma before NODE's closing bracket
        (not the comma a one-element tuple needs)."""
        pair = self.smap.brackets(node)
        if pair is None:
            return False
        if isinstance(node, n.TupleExpr) and len(node.items) == 1:
            return False
        index = node.index if isinstance(node, n.Subscript) else None
        if isinstance(index, n.TupleExpr) and not index.parenthesized and len(index.items) == 1:
            return False  # `x[0,]`: the comma makes the tuple
        return pair[1] > pair[0] + 1 and self.smap.kinds[pair[1] - 1] == ","

    def _bracketed(self, node, open_, close, elements: list, comma: str = "auto"):
        """ELEMENTS ((node, doc) pairs, or (node, doc, comments to print after
        its comma) triples) between OPEN_ and CLOSE: on one line
        if they fit, else one a line, indented, with a trailing comma (COMMA
        "auto"; "one" for a one-element tuple's comma; "never")."""
        end = list(self.comments.of(node).end)
        if not elements and not end:
            return [open_, close]
        head: list = [open_]
        inner: list = []
        last = len(elements) - 1
        for k, (element, element_doc, *extra) in enumerate(elements):
            placed = self.comments.of(element)
            before = placed.before
            if k == 0 and before and not before[0].own_line:
                head += [Trailing("  " + before[0].text), BREAK_PARENT]
                before = before[1:]
            inner.append(SOFTLINE if k == 0 else LINE)
            inner += self._above(before)
            inner.append(element_doc)
            if k < last or comma == "one":
                inner.append(",")
            elif comma == "auto":
                inner.append(IfBreak(",", ""))
            inner += self._trailing([*(extra[0] if extra else ()), *placed.after])
        if end and not elements and not end[0].own_line:
            head += [Trailing("  " + end.pop(0).text), BREAK_PARENT]
        for p in end:
            inner += [HARDLINE, p.text]
        return Group([*head, Indent(inner), SOFTLINE, close], self._magic_comma(node))

    def _parens(self, inner_doc, before: list = (), after: list = ()):
        """INNER_DOC in parentheses, with the comments written inside them
        before and after it; broken like any bracket when it does not fit."""
        head: list = ["("]
        before = list(before)
        if before and not before[0].own_line:
            head += [Trailing("  " + before.pop(0).text), BREAK_PARENT]
        inner = [SOFTLINE, *self._above(before), inner_doc, *self._trailing(list(after))]
        return Group([*head, Indent(inner), SOFTLINE, ")"])

    # --------------------------------------------------------- expressions

    def expr(self, node, weakest: int = _CHAIN):
        """NODE's document, in parentheses when it binds less tightly than
        WEAKEST or when comments were written inside parentheses around it."""
        return self._kept_parens(node, self._expr(node), _strength(node) < weakest)

    def _kept_parens(self, node, node_doc, needed: bool = False):
        """NODE_DOC in parentheses when NEEDED or when comments stand inside
        the parentheses written around NODE, or they are the innermost
        brackets around a comment between the parts of an expression."""
        placed = self.comments.of(node)
        if needed or placed.paren_before or placed.paren_after or self.smap.wraps(node, self.kept_parens):
            return self._parens(node_doc, placed.paren_before, placed.paren_after)
        return node_doc

    def _expr(self, node):
        method = getattr(self, "_" + type(node).__name__)
        return method(node)

    def _Name(self, node):
        return node.id

    def _Constant(self, node):
        value = node.value
        if isinstance(value, str):
            return normalize_quotes(node.raw) if node.raw else _quote(value)
        if node.raw is not None:
            return node.raw
        return repr(value)

    def _TupleExpr(self, node):
        if not node.parenthesized:
            return self._bare(node.items)
        comma = "one" if len(node.items) == 1 else "auto"
        return self._bracketed(node, "(", ")", [(x, self.expr(x)) for x in node.items], comma)

    def _bare(self, items: list):
        """A tuple without parentheses (`x = a, b`; `x = a,`)."""
        return [*self._joined(items), ","] if len(items) == 1 else self._joined(items)

    def _joined(self, items: list) -> list:
        """ITEMS separated by commas (`return a, b`, `output a, b`)."""
        out: list = []
        for i, item in enumerate(items):
            if i:
                out.append(", ")
            out.append(self.expr(item))
        return out

    def _ListExpr(self, node):
        return self._bracketed(node, "[", "]", [(x, self.expr(x)) for x in node.items])

    def _DictExpr(self, node):
        return self._bracketed(node, "{", "}", [(e, self._DictEntry(e)) for e in node.entries])

    def _DictEntry(self, entry):
        key = self._kept_parens(entry.key, entry.key.value) if entry.bare else self.expr(entry.key)
        return [key, self._gap(entry, 1, ": ", entry.key), self.expr(entry.value)]

    def _UnaryOp(self, node):
        text = "not " if node.op == "not" else node.op
        weakest = _NOT if node.op == "not" else _UNARY
        return [self._gap(node, 0, text), self.expr(node.operand, weakest)]

    def _BinOp(self, node):
        left, right = _operands(node)
        return [
            self.expr(node.left, left), self._gap(node, 1, f" {node.op} ", node.left), self.expr(node.right, right),
        ]

    def _BoolOp(self, node):
        weakest = _AND if node.op == "or" else _NOT
        out: list = []
        for i, value in enumerate(node.values):
            if i:
                out.append(self._gap(node, i, f" {node.op} ", node.values[i - 1]))
            out.append(self.expr(value, weakest))
        return out

    def _Compare(self, node):
        out: list = [self.expr(node.left, _ARITH)]
        parts = [node.left, *node.comparators]
        for i, (op, value) in enumerate(zip(node.ops, node.comparators)):
            out += [self._gap(node, i + 1, f" {op} ", parts[i]), self.expr(value, _ARITH)]
        return out

    def _IfExp(self, node):
        return [
            self.expr(node.body, _OR), self._gap(node, 1, " if ", node.body), self.expr(node.test, _OR),
            self._gap(node, 2, " else ", node.test), self.expr(node.orelse, _IFEXP),
        ]

    def _Keyword(self, node):
        return [node.name, self._gap(node, 0, "="), self.expr(node.value)]

    def _Call(self, node):
        elements = [(a, self.expr(a)) for a in node.args] + [(k, self._Keyword(k)) for k in node.keywords]
        return [self.expr(node.func, _POSTFIX), self._bracketed(node, "(", ")", elements)]

    def _Subscript(self, node):
        index = node.index
        if isinstance(index, n.TupleExpr) and not index.parenthesized:
            # `x[:, 0]`, `x[0,]`: the items stand in the subscript's brackets;
            # comments at the end of a slice go after its comma.
            elements = [
                (item, self._Slice(item, tail=False), self._slice_tail(item)) if isinstance(item, n.Slice)
                else (item, self._index(item)) for item in index.items
            ]
            comma = "one" if len(elements) == 1 else "auto"
        else:
            elements, comma = [(index, self._index(index))], "never"
        return [self.expr(node.value, _POSTFIX), self._bracketed(node, "[", "]", elements, comma)]

    def _index(self, node):
        """One index of a subscript: a slice, `...`, or an expression."""
        if isinstance(node, n.Slice):
            return self._Slice(node)
        if isinstance(node, n.EllipsisExpr):
            return "..."
        return self.expr(node)

    def _slice_tail(self, node) -> list:
        """The comments after a slice's last bound (or its last colon)."""
        gap = sum(x is not None for x in (node.lower, node.upper, node.step))
        return list(self.comments.of(node).gaps.get(gap, []))

    def _Slice(self, node, tail: bool = True):
        """A slice; with TAIL, followed by the comments after its last bound."""
        slots = (node.lower, node.upper, node.step)
        spaced = any(x is not None and not _simple(x) for x in slots)
        out: list = []
        gap = 0
        for i, value in enumerate(slots):
            if i == 2 and value is None:
                break
            if i:
                space_before = spaced and slots[i - 1] is not None
                space_after = spaced and value is not None
                out.append((" " if space_before else "") + ":" + (" " if space_after else ""))
            if value is not None:
                out += [self._gap(node, gap, ""), self.expr(value)]
                gap += 1
        # Comments after the last bound: the subscript's closing bracket goes below them.
        return [*out, *self._trailing(self.comments.of(node).gaps.get(gap, []))] if tail else out

    def _Attribute(self, node):
        value = node.value
        value_doc = self.expr(value, _POSTFIX)
        if isinstance(value, n.Constant) and type(value.value) in (int, float) and value_doc == value.raw:
            value_doc = self._parens(value_doc)  # `1.real` would read as `1.` and `real`
        return [value_doc, self._gap(node, 1, ".", value), node.attr]

    def _Chain(self, node):
        """`x -> A -> B` on one line when it fits and its author wrote it so;
        otherwise broken before each `->`, one level deeper than its start."""
        steps = node.steps
        head = [*self._above(self.comments.of(steps[0]).before), self.expr(steps[0], _IFEXP)]
        rest: list = []  # indented: comments after a step stay in line with those below it
        broken = False
        last = len(steps) - 1
        for i, step in enumerate(steps):
            placed = self.comments.of(step)
            if i:
                before_end = self.smap.outer(steps[i - 1])[1]
                broken = broken or self.smap.has_newline(before_end, self.smap.outer(step)[0])
                rest += [LINE, *self._above(placed.before), "-> ", self.expr(step, _IFEXP)]
            if i < last:
                rest += self._trailing(placed.after)
        return Group([*head, Indent(rest)], broken)

    # ---------------------------------------------------------- statements

    def _testlist(self, node):
        if isinstance(node, n.TupleExpr) and not node.parenthesized:
            return self._bare(node.items)
        return self.expr(node)

    def _targets(self, names: list, unpack: bool):
        return self._bare(names) if unpack else self.expr(names[0])

    def stmt(self, node):
        return getattr(self, "_" + type(node).__name__)(node)

    def _Assign(self, node):
        out: list = [self._targets(node.targets, node.unpack)]
        if node.annotation is not None:
            out += [": ", self.expr(node.annotation)]
        return [*out, " = ", self._testlist(node.value)]

    def _SetTrainable(self, node):
        return [self.expr(node.target), ".trainable = ", self._testlist(node.value)]

    def _Output(self, node):
        out: list = ["output ", self._joined(node.names)]
        if node.annotation is not None:
            out += [": ", self.expr(node.annotation)]
        if node.value is not None:
            out += [" = ", self._testlist(node.value)]
        return out

    def _Return(self, node):
        return ["return ", self._joined(node.values)]

    def _ExprStmt(self, node):
        value = node.value
        if isinstance(value, n.TupleExpr) and not value.parenthesized:
            items = [self.expr(x) for x in value.items]
            if _first_text(items[0]) == "{":
                items[0] = self._parens(items[0])
            return [items[0], *[x for item in items[1:] for x in (", ", item)], *([","] if len(items) == 1 else [])]
        out = self.expr(value)
        # A statement cannot start with `{`: it would open a body.
        return self._parens(out) if _first_text(out) == "{" else out

    def _CompileStmt(self, node):
        elements = [(a, self.expr(a)) for a in node.args] + [(k, self._Keyword(k)) for k in node.keywords]
        return ["compile", self._bracketed(node, "(", ")", elements)]

    def _For(self, node):
        inline = self._inline(node.body)
        return Group([
            "for ", self._targets(node.targets, node.unpack), " in ", self.expr(node.iterable), " ",
            self._body(node.body, inline),
        ])

    def _If(self, node):
        bodies = [body for _, body in node.branches] + ([node.orelse] if node.orelse is not None else [])
        inline = all(self._inline(b) for b in bodies)
        out: list = []
        for i, (test, body) in enumerate(node.branches):
            out += ["if " if i == 0 else " else if ", self.expr(test), " ", self._body(body, inline)]
        if node.orelse is not None:
            out += [" else ", self._body(node.orelse, inline)]
        return Group(out)

    # -------------------------------------------------------------- bodies

    def _inline(self, body) -> bool:
        """A body may stay on the line of its braces when the author wrote it
        so, it holds one statement that has no body of its own, and no
        comment is inside it (whether it fits is up to the group)."""
        return (
            len(body) == 1
            and not isinstance(body[0], (n.If, n.For))
            and not self.comments.has_comments_inside(body)
            and not self.smap.has_newline(body.span.start, body.span.end)
        )

    def _body(self, body, inline: bool = False):
        end = list(self.comments.of(body).end)
        if not body and not end:
            return "{}"
        head: list = ["{"]
        skip_first = False
        if body:
            first = self.comments.of(body[0]).before
            if first and not first[0].own_line:
                head += [Trailing("  " + first[0].text), BREAK_PARENT]
                skip_first = True
        elif not end[0].own_line:
            head += [Trailing("  " + end.pop(0).text), BREAK_PARENT]
        inner = self._sequence(list(body), end, skip_first)
        if not inner:
            return [*head, HARDLINE, "}"]
        line = LINE if inline else HARDLINE
        return [*head, Indent([line, *inner]), line, "}"]

    def _sequence(self, items: list, end: list, skip_first_comment: bool = False, top: bool = False) -> list:
        """Statements or file items one a line, each with its comments; blank
        lines kept (one at most) where the author left them."""
        units: list = []  # (blank line before, document)
        for i, item in enumerate(items):
            placed = self.comments.of(item)
            before = placed.before[1:] if i == 0 and skip_first_comment else placed.before
            separate = top and i > 0 and isinstance(item, (n.ModelDef, n.BlockDef))
            for j, p in enumerate(before):
                units.append((p.blank_before or (separate and j == 0), p.text))
            blank = self.smap.blank_line_before(self.smap.outer(item)[0])
            units.append((blank or (separate and not before), [self.item(item), *self._trailing(placed.after)]))
        for p in end:
            units.append((p.blank_before, p.text))
        out: list = []
        for i, (blank, unit) in enumerate(units):
            if i:
                out += [HARDLINE, HARDLINE] if blank else [HARDLINE]
            out.append(unit)
        return out

    # ------------------------------------------------------------ the file

    def item(self, node):
        kind = type(node)
        if kind is n.Import:
            return ["import ", self._import_path(node)]
        if kind is n.FromImport:
            return self._from(node)
        if kind in (n.ModelDef, n.BlockDef):
            return self._definition(node)
        return self.stmt(node)

    def _import_path(self, node: n.Import) -> str:
        i = self.smap.index_at(node.span.start)
        if self.smap.kinds[i + 1] == "string":
            return normalize_quotes(self.smap.text(i + 1))
        return _quote(node.path)

    def _from(self, node: n.FromImport):
        names = [(x, self._imported(x)) for x in node.names]
        return ["from ", node.module, " import ", self._bracketed(node, IfBreak("(", ""), IfBreak(")", ""), names)]

    def _imported(self, node: n.ImportedName):
        if node.alias is None:
            return node.name
        return [node.name, self._gap(node, 0, " as "), node.alias]

    def _definition(self, node):
        keyword = "model " if isinstance(node, n.ModelDef) else "block "
        out: list = [keyword, node.name]
        if node.params is not None:
            out.append(self._bracketed(node, "(", ")", [(p, self._param(p)) for p in node.params]))
        inline = self._inline(node.body)
        return Group([*out, " ", self._body(node.body, inline)])

    def _param(self, node: n.Param):
        if node.default is None:
            return node.name
        return [node.name, self._gap(node, 0, "="), self.expr(node.default)]

    def module(self, module: n.Module):
        imports = [i for i in module.items if isinstance(i, (n.Import, n.FromImport))]
        rest = [i for i in module.items if not isinstance(i, (n.Import, n.FromImport))]
        return self._sequence(imports + rest, list(self.comments.of(module).end), top=True)


def _first_text(doc) -> str:
    """The first character DOC prints."""
    stack = [doc]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if item:
                return item[0]
        elif isinstance(item, list):
            stack.extend(reversed(item))
        elif isinstance(item, (d.Group, d.Indent)):
            stack.append(item.parts)
        elif isinstance(item, d.IfBreak):
            stack.append(item.flat)
    return ""


def _simple(node) -> bool:
    """A slice bound that needs no spaces around the colon (black's rule)."""
    if isinstance(node, n.UnaryOp) and node.op in "+-":
        return _simple(node.operand)
    return isinstance(node, (n.Name, n.Constant))


def _quote(value: str) -> str:
    """A string literal for VALUE (for nodes without their spelling)."""
    return normalize_quotes(repr(value))
