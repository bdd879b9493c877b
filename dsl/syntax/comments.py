"""Comments attached to the nodes of the syntax tree.

The parser keeps every comment of a file in `Module.comments`, apart from the
tree.  `attach_comments(module)` says, for each one, which node it belongs
to and where: before a statement, after it on its line, at the end of a
body, between the steps of a chain, before or after an element of an
argument list, list, tuple, dict or parameter list, at the end of such a
list, between the parts of an expression, or inside parentheses written
around an expression.  The formatter prints each comment from there; the
editor support uses it to tell which node a comment documents.

`SourceMap` is what both need to know about the text beyond the tree: the
tokens, which brackets match, the full extent of every node (its span
widened over the brackets of its parts) and the parentheses written around
a node that the tree does not record.
"""

from __future__ import annotations

import bisect
import re
from ..records import field, record
from typing import Iterator, Optional

from . import tree as n

# ----------------------------------------------------------------- tokens

# The terminals of grammar/kd.lark, enough to find brackets, commas and
# strings in a source that parsed (keywords are lexed as names here).
_TOKEN = re.compile(
    r"""
    (?P<ws>[ \t\f\r\n]+)
  | (?P<comment>\#[^\n]*)
  | (?P<string>"(?:[^"\\\n]|\\[^\n])*"|'(?:[^'\\\n]|\\[^\n])*')
  | (?P<number>(?:\d(?:_?\d)*)?\.\d(?:_?\d)*(?:[eE][+-]?\d(?:_?\d)*)?
              |\d(?:_?\d)*\.?(?:[eE][+-]?\d(?:_?\d)*)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>->|\*\*|//|==|!=|<=|>=|[-+*/%<>=(),\[\]{}:;.])
  | (?P<other>.)
    """,
    re.X | re.S,
)
_OPENERS = {"(": ")", "[": "]", "{": "}"}
_CLOSERS = {")", "]", "}"}


@record(frozen=True, slots=True)
class Token:
    kind: str  # "name", "number", "string", or the operator's text ("(", "->", ...)
    text: str
    start: int
    end: int


def _scan(source: str) -> tuple:
    """Parallel lists (kinds, starts, ends) of the significant tokens."""
    kinds, starts, ends = [], [], []
    for match in _TOKEN.finditer(source):
        kind = match.lastgroup
        if kind == "ws" or kind == "comment":
            continue
        start, end = match.span()
        kinds.append(source[start:end] if kind == "op" or kind == "other" else kind)
        starts.append(start)
        ends.append(end)
    return kinds, starts, ends


def tokenize(source: str) -> list:
    """The significant tokens of SOURCE (no whitespace, no comments)."""
    kinds, starts, ends = _scan(source)
    return [Token(k, source[s:e], s, e) for k, s, e in zip(kinds, starts, ends)]


# ------------------------------------------------------------- node parts


_PARTS = {
    n.Module: lambda x: list(x.items),
    n.Body: list,
    n.Name: lambda x: [],
    n.Constant: lambda x: [],
    n.Import: lambda x: [],
    n.ImportedName: lambda x: [],
    n.TupleExpr: lambda x: list(x.items),
    n.ListExpr: lambda x: list(x.items),
    n.DictExpr: lambda x: list(x.entries),
    n.DictEntry: lambda x: [x.key, x.value],
    n.UnaryOp: lambda x: [x.operand],
    n.BinOp: lambda x: [x.left, x.right],
    n.BoolOp: lambda x: list(x.values),
    n.Compare: lambda x: [x.left, *x.comparators],
    n.IfExp: lambda x: [x.body, x.test, x.orelse],
    n.Keyword: lambda x: [x.value],
    n.Call: lambda x: [x.func, *x.args, *x.keywords],
    n.Slice: lambda x: [v for v in (x.lower, x.upper, x.step) if v is not None],
    n.EllipsisExpr: lambda x: [],
    # `x[:, 0]`: the items of a tuple index are the subscript's own elements
    # (its brackets are the tuple's), so comments attach to them directly.
    n.Subscript: lambda x: [x.value, *_index_items(x.index)],
    n.Attribute: lambda x: [x.value],
    n.Chain: lambda x: list(x.steps),
    n.Assign: lambda x: [*x.targets, *([x.annotation] if x.annotation is not None else []), x.value],
    n.SetTrainable: lambda x: [x.target, x.value],
    n.Output: lambda x: [*x.names, *[v for v in (x.annotation, x.value) if v is not None]],
    n.Return: lambda x: list(x.values),
    n.For: lambda x: [*x.targets, x.iterable, x.body],
    n.If: lambda x: [v for test, body in x.branches for v in (test, body)] + (
        [x.orelse] if x.orelse is not None else []),
    n.ExprStmt: lambda x: [x.value],
    n.CompileStmt: lambda x: [*x.args, *x.keywords],
    n.Param: lambda x: [x.default] if x.default is not None else [],
    n.ModelDef: lambda x: [*(x.params or []), x.body],
    n.BlockDef: lambda x: [*(x.params or []), x.body],
    n.FromImport: lambda x: list(x.names),
}


def _index_items(index) -> list:
    """The items of a subscript's index: those of a tuple written with a comma, else the index."""
    if isinstance(index, n.TupleExpr) and not index.parenthesized:
        return list(index.items)
    return [index]


def parts(node) -> list:
    """The nodes directly inside NODE, in source order (bodies included, as
    the `tree.Body` lists they are)."""
    try:
        return _PARTS[type(node)](node)
    except KeyError:
        raise TypeError(f"not a syntax tree node: {type(node).__name__}") from None


# -------------------------------------------------------------- source map


# Nodes whose parts stand in parentheses of their own.
_PAREN_OWNERS = {n.Call, n.CompileStmt, n.TupleExpr, n.ModelDef, n.BlockDef, n.FromImport}


class SourceMap:
    """Tokens, matching brackets and node extents of a parsed module.

    The extent of a node runs from its first token to its last, brackets of
    its parts included (the parser's spans leave out the parentheses around
    a leading or trailing operand); its outer extent adds the parentheses
    written around the node itself, which the tree does not record.
    """

    def __init__(self, module: n.Module):
        self.source = module.source
        self.kinds, self.starts, self.ends = _scan(self.source)
        self._by_start = {pos: i for i, pos in enumerate(self.starts)}
        self._by_end = {pos: i for i, pos in enumerate(self.ends)}
        self.match = self._match_brackets()
        self._extent: dict = {}
        self._outer: dict = {}
        self._groups: dict = {}  # id(node) -> [(open index, close index)], innermost first
        self._owned: set = set()  # indices of "(" that belong to a call, tuple or list of names
        self._compute(module)

    # -- tokens

    def _match_brackets(self) -> dict:
        match, stack = {}, []
        for i, kind in enumerate(self.kinds):
            if kind in _OPENERS:
                stack.append(i)
            elif kind in _CLOSERS and stack:
                j = stack.pop()
                match[i], match[j] = j, i
        return match

    def innermost_brackets(self, comments: list) -> set:
        """The opening brackets (token indices) that are the innermost
        brackets around one of COMMENTS (in source order)."""
        found, stack, i = set(), [], 0
        for comment in comments:
            pos = comment.span.start
            while i < len(self.kinds) and self.starts[i] < pos:
                kind = self.kinds[i]
                if kind in _OPENERS:
                    stack.append(i)
                elif kind in _CLOSERS and stack:
                    stack.pop()
                i += 1
            if stack:
                found.add(stack[-1])
        return found

    def wraps(self, node, brackets: set) -> bool:
        """Whether parentheses written around NODE are among BRACKETS."""
        return any(open_ in brackets for open_, _ in self._groups.get(id(node), ()))

    def index_at(self, pos: int) -> Optional[int]:
        """The index of the token starting at POS."""
        return self._by_start.get(pos)

    def index_ending_at(self, pos: int) -> Optional[int]:
        """The index of the token ending at POS."""
        return self._by_end.get(pos)

    def text(self, index: int) -> str:
        """The text of the token at INDEX."""
        return self.source[self.starts[index]:self.ends[index]]

    # -- extents

    def extent(self, node) -> tuple:
        """(start, end) character offsets of NODE's own tokens."""
        return self._extent[id(node)]

    def outer(self, node) -> tuple:
        """NODE's extent with the parentheses written around it."""
        return self._outer[id(node)]

    def paren_groups(self, node) -> list:
        """The parenthesis pairs written around NODE (token indices), innermost first."""
        return self._groups.get(id(node), [])

    def brackets(self, node) -> Optional[tuple]:
        """The token indices of the brackets that enclose NODE's elements:
        a call's or a subscript's, a list's, tuple's or dict's, a parameter
        list's, a parenthesized `from` list's, a body's braces; or None."""
        kind = type(node)
        if kind in (n.Call, n.Subscript, n.CompileStmt):
            close = self._by_end.get(node.span.end)
        elif kind in (n.ListExpr, n.DictExpr, n.Body) or (kind is n.TupleExpr and node.parenthesized):
            close = self.match.get(self._by_start.get(node.span.start, -1))
        elif kind in (n.ModelDef, n.BlockDef):
            if node.params is None:
                return None
            close = self.match.get(self._by_end[node.name_span.end] + 1)
        elif kind is n.FromImport:
            close = self._from_paren(node)
        else:
            return None
        if close is None or close not in self.match:
            return None
        return self.match[close], close

    def _from_paren(self, node) -> Optional[int]:
        i = self._by_start[node.span.start]
        while self.text(i) != "import":
            i += 1
        if i + 1 < len(self.kinds) and self.kinds[i + 1] == "(":
            return self.match.get(i + 1)
        return None

    def _compute(self, module: n.Module) -> None:
        # Post-order without recursion: children's extents first.
        stack = [(module, False)]
        order = []
        while stack:
            node, done = stack.pop()
            if done:
                order.append(node)
                continue
            stack.append((node, True))
            for child in reversed(parts(node)):
                stack.append((child, False))
        for node in order:  # every "(" owned by a node is known before any group is sought
            if type(node) not in _PAREN_OWNERS:
                continue
            pair = self.brackets(node)
            if pair is not None and self.kinds[pair[0]] == "(":
                self._owned.add(pair[0])
        for node in order:
            self._measure(node)

    def _measure(self, node) -> None:
        if isinstance(node, n.Module):
            self._extent[id(node)] = self._outer[id(node)] = (0, len(self.source))
            return
        lo, hi = None, None
        span = node.span
        if not (span.start == span.end == 0 and not isinstance(node, n.Body)):
            lo, hi = span.start, span.end
        if isinstance(node, n.Subscript) and isinstance(node.index, n.Slice):
            self._slice_extent(node)
        for child in parts(node):
            c_lo, c_hi = self._outer[id(child)]
            lo = c_lo if lo is None else min(lo, c_lo)
            hi = c_hi if hi is None else max(hi, c_hi)
        if lo is None:  # an empty slice: placed by its subscript
            lo, hi = self._extent.get(id(node), (0, 0))
        self._extent[id(node)] = (lo, hi)
        self._outer[id(node)] = self._widen(node, lo, hi)

    def _slice_extent(self, sub: n.Subscript) -> None:
        close = self._by_end[sub.span.end]
        open_ = self.match[close]
        # Up to the closing bracket: a comment after the last colon is the slice's.
        lo, hi = self.starts[open_ + 1], self.starts[close]
        self._extent[id(sub.index)] = self._outer[id(sub.index)] = (lo, hi)

    def _widen(self, node, lo: int, hi: int) -> tuple:
        i = self._by_start.get(lo)
        if i is None or i == 0 or self.kinds[i - 1] != "(" or isinstance(node, (n.Body, n.Slice)):
            return lo, hi  # (the common case: no parenthesis before the node)
        j = self._by_end.get(hi)
        groups = []
        while i is not None and j is not None and i > 0 and j + 1 < len(self.kinds):
            o, c = i - 1, j + 1
            if self.kinds[o] != "(" or o in self._owned or self.match.get(o) != c:
                break
            groups.append((o, c))
            i, j = o, c
        if not groups:
            return lo, hi
        self._groups[id(node)] = groups
        return self.starts[i], self.ends[j]

    # -- lines

    def line_start(self, pos: int) -> int:
        return self.source.rfind("\n", 0, pos) + 1

    def starts_line(self, pos: int) -> bool:
        """Whether only whitespace precedes POS on its line."""
        return not self.source[self.line_start(pos):pos].strip()

    def blank_line_before(self, pos: int) -> bool:
        """Whether the line above POS's line is blank (and POS starts its line)."""
        start = self.line_start(pos)
        if start == 0 or self.source[start:pos].strip():
            return False
        above = self.source.rfind("\n", 0, start - 1) + 1
        return not self.source[above:start - 1].strip()

    def has_newline(self, start: int, end: int) -> bool:
        return "\n" in self.source[start:end]


# ---------------------------------------------------------------- attachment


@record(frozen=True, slots=True)
class Placed:
    """A comment and how it stood: on a line of its own, or after code; with
    a blank line above it or not."""

    comment: n.Comment
    own_line: bool
    blank_before: bool

    @property
    def text(self) -> str:
        return self.comment.text.rstrip()


@record(slots=True)
class NodeComments:
    """The comments attached to one node, each list in source order.

    before: own-line comments above the node (the first one may instead
        follow the opening bracket or brace just before the node, on its line);
    after: comments after the node on its last line (for an element of a
        list, after its comma), then any further ones up to the next own-line
        comment;
    end: a module, body or bracketed list: the comments after its last
        element, before its closing bracket or brace (or the end of the file);
    gaps: any other node: {k: comments} between its parts k-1 and k (gap 0
        before its first part, after its leading keyword or operator);
    paren_before / paren_after: comments inside parentheses written around
        the node, before or after it.
    """

    before: list = field(default_factory=list)
    after: list = field(default_factory=list)
    end: list = field(default_factory=list)
    gaps: dict = field(default_factory=dict)
    paren_before: list = field(default_factory=list)
    paren_after: list = field(default_factory=list)


_NO_COMMENTS = NodeComments()


@record(frozen=True, slots=True)
class Attachment:
    """One comment placed: NODE, WHERE ("before", "after", "end", "gap",
    "paren_before", "paren_after") and, for a gap, its index."""

    comment: n.Comment
    node: object
    where: str
    gap: Optional[int] = None


class Attachments:
    """The result of `attach_comments`: the comments of each node."""

    def __init__(self, source_map: SourceMap):
        self.source_map = source_map
        self._nodes: dict = {}
        self._keep: dict = {}  # id -> node, so ids stay unique while this lives
        self._inside: set = set()  # ids of nodes with a comment attached within them

    def of(self, node) -> NodeComments:
        """NODE's comments (an empty record when it has none)."""
        return self._nodes.get(id(node), _NO_COMMENTS)

    def has_comments_inside(self, node) -> bool:
        """Whether any comment is attached to NODE or to a node within it."""
        return id(node) in self._inside

    def _record(self, node) -> NodeComments:
        record = self._nodes.get(id(node))
        if record is None:
            record = self._nodes[id(node)] = NodeComments()
            self._keep[id(node)] = node
        return record

    def __iter__(self) -> Iterator[Attachment]:
        """Every comment's attachment, in source order."""
        found = []
        for key, entry in self._nodes.items():
            node = self._keep[key]
            for where in ("before", "after", "end", "paren_before", "paren_after"):
                found.extend(Attachment(p.comment, node, where) for p in getattr(entry, where))
            for gap, placed in entry.gaps.items():
                found.extend(Attachment(p.comment, node, "gap", gap) for p in placed)
        return iter(sorted(found, key=lambda a: a.comment.span.start))


# Nodes whose parts are a list of elements (separated by commas, statements
# or arrows), and the index in parts() of their first element.
_SEQUENCES = {
    n.Module: 0, n.Body: 0, n.ListExpr: 0, n.TupleExpr: 0, n.DictExpr: 0, n.Chain: 0,
    n.FromImport: 0, n.CompileStmt: 0, n.Call: 1, n.Subscript: 1,
}


def _elements(node) -> Optional[list]:
    """NODE's elements, if it is a sequence (a parameter list counts, the
    body that follows it apart)."""
    kind = type(node)
    if kind in (n.ModelDef, n.BlockDef):
        return list(node.params or [])
    first = _SEQUENCES.get(kind)
    if first is None:
        return None
    return parts(node)[first:]


def attach_comments(module: n.Module, source_map: Optional[SourceMap] = None) -> Attachments:
    """Attach every comment of MODULE (parsed with its source text) to a node.

    A comment between two elements of a sequence (the items of the file, the
    statements of a body, the steps of a chain, the elements of a bracketed
    list) goes after the element it follows when it stands on that
    element's line, and before the element below otherwise; once one comment
    of a run stands on its own line, the rest of the run goes below too, so
    the order is kept.  A comment after a sequence's last element goes to its
    `end`.  A comment between `}` and `else` goes to the end of the body
    before it.  A comment between the parts of another node goes to that
    node's gap; one inside parentheses written around a node, to its
    paren_before or paren_after.  `##` doc comments are ordinary comments
    here, before their definition.
    """
    smap = source_map or SourceMap(module)
    result = Attachments(smap)
    pending: dict = {}
    cache: dict = {}
    for comment in module.comments:
        pos = comment.span.start
        placed = Placed(comment, smap.starts_line(pos), smap.blank_line_before(pos))
        _place(result, smap, module, pos, placed, pending, cache)
    late = pending.pop("late", [])
    for node, gap, run in pending.values():
        _distribute(result, node, gap, run)
    for body, placed in late:  # after the body's own comments
        result._record(body).end.append(placed)
    return result


def _place(result: Attachments, smap: SourceMap, node, pos: int, placed: Placed, pending: dict,
           cache: dict) -> None:
    while True:
        result._inside.add(id(node))
        found = cache.get(id(node))
        if found is None:
            inside = parts(node)
            found = cache[id(node)] = (inside, [smap.outer(p)[0] for p in inside])
        inside, starts = found
        k = bisect.bisect_right(starts, pos) - 1
        if k >= 0 and pos < smap.outer(inside[k])[1]:
            child = inside[k]
            lo, hi = smap.extent(child)
            if lo <= pos < hi:
                node = child
                continue
            result._inside.add(id(child))
            record = result._record(child)
            (record.paren_before if pos < lo else record.paren_after).append(placed)
            return
        gap = k + 1  # the comment lies between part k and part k + 1
        _place_in_gap(result, smap, node, inside, gap, pos, placed, pending)
        return


def _place_in_gap(result, smap, node, inside, gap, pos, placed, pending) -> None:
    kind = type(node)
    if kind is n.If:  # between `}` and `else`: the end of the body above
        body = inside[gap - 1] if gap > 0 and isinstance(inside[gap - 1], n.Body) else None
        if body is not None:
            result._inside.add(id(body))
            pending.setdefault("late", []).append((body, placed))
            return
    elements = _elements(node)
    if elements is not None:
        offset = len(inside) - len(elements) if kind not in (n.ModelDef, n.BlockDef) else 0
        index = max(0, min(gap - offset, len(elements)))
        key = (id(node), index)
        pending.setdefault(key, (node, index, []))[2].append(placed)
        return
    result._record(node).gaps.setdefault(gap, []).append(placed)


def _distribute(result: Attachments, node, gap: int, run: list) -> None:
    """Share a run of comments between the elements around GAP."""
    elements = _elements(node)
    if not elements:
        result._record(node).end.extend(run)
        return
    if gap == 0:
        result._record(elements[0]).before.extend(run)
        result._inside.add(id(elements[0]))
        return
    split = next((i for i, p in enumerate(run) if p.own_line), len(run))
    if split:
        result._record(elements[gap - 1]).after.extend(run[:split])
        result._inside.add(id(elements[gap - 1]))
    rest = run[split:]
    if not rest:
        return
    if gap < len(elements):
        result._record(elements[gap]).before.extend(rest)
        result._inside.add(id(elements[gap]))
    else:
        result._record(node).end.extend(rest)
