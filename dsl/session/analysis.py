"""One check of a program, queried by position: the editor's facts.

`Analysis.value_at(file, position)` says what the expression at a position
evaluated to (a tensor's shape and dtype, a layer with its arguments and
counts, a constant); `definition_at` and `references_at` say what a name
means and where it is named; `comments_of` gives the comments attached to
a node.  Positions are editor positions (`positions.Position`: line from 0,
UTF-16 columns); places are `Location`s with both the kd span and the
editor range.
"""

from __future__ import annotations

from ..records import field, record
from typing import Optional

from ..check.values import Instance, Tensor
from ..span import Span
from ..syntax import tree as n
from ..syntax.comments import attach_comments
from .positions import LineIndex, Position, Range
from .symbols import (
    Symbol, enclosing_definition, occurrences, param_name_span, symbol_of_name,
)


@record(frozen=True)
class Location:
    """A place in a file of the program: its display name, path (None for
    text with no file), kd span and editor range."""

    filename: str
    path: object
    span: Span
    range: Range


@record
class ValueAt:
    """What the expression at a position evaluated to.

    node: the expression (or binding name, or parameter);
    values: the values it took, the first few (a block called in a loop
        takes one per call); count: how many times it was evaluated;
    outputs: for a step of a chain, the tensors it gave."""

    node: object
    filename: str
    values: list = field(default_factory=list)
    count: int = 0
    outputs: list = field(default_factory=list)

    @property
    def tensors(self) -> list:
        """The tensors among the values and outputs (a layer's outputs for a chain step)."""
        found = [v for v in self.outputs if isinstance(v, Tensor)]
        return found or [v for v in self.values if isinstance(v, Tensor)]

    @property
    def instances(self) -> list:
        return [v for v in self.values if isinstance(v, Instance)]


class _FileIndex:
    """Every node of one file with its parent, for position lookups."""

    def __init__(self, module: n.Module):
        self.entries = []  # (start, end, node, parent)
        self.parents: dict = {}  # id(node) -> its parent, for climbing from a hit
        for item in module.items:
            if not isinstance(item, (n.ModelDef, n.BlockDef)):
                continue
            stack = [(item, None)]
            while stack:
                node, parent = stack.pop()
                span = node.span
                self.entries.append((span.start, span.end, node, parent))
                self.parents[id(node)] = parent
                for child in n.children(node):
                    stack.append((child, node))

    def innermost(self, offset: int) -> tuple:
        """The smallest node whose span holds OFFSET, and its parent.  A name
        that ends at OFFSET wins only over a whole statement or definition
        (the cursor just after the last word of a line finds the word; on the
        `[` right after a name, the subscript)."""
        best, best_size, touch, touch_size = (None, None), None, (None, None), None
        for start, end, node, parent in self.entries:
            if end <= start or not start <= offset <= end:
                continue
            size = end - start
            if offset < end:
                if best_size is None or size < best_size or (size == best_size and isinstance(node, n.Name)):
                    best, best_size = (node, parent), size
            elif touch_size is None or size < touch_size or (size == touch_size and isinstance(node, n.Name)):
                touch, touch_size = (node, parent), size
        if best[0] is None or (touch[0] is not None and isinstance(touch[0], n.Name) and not isinstance(best[0], n.Name)
                               and best_size > touch_size and _statement_like(best[0])):
            return touch
        return best

    def parent_of(self, target) -> object:
        return self.parents.get(id(target))


class Analysis:
    """A checked program (a session's answer for one file), queried by position."""

    def __init__(self, program, result, facts, diagnostics: list):
        self.program = program
        self.result = result  # check.CheckResult (its graphs by model name)
        self.facts = facts
        self.diagnostics = diagnostics
        self._lines: dict = {}
        self._indexes: dict = {}
        self._comments: dict = {}

    # ------------------------------------------------------------ files

    @property
    def files(self) -> list:
        return self.program.files if self.program is not None else []

    def file(self, filename: str):
        """The SourceFile with display name (or path) FILENAME, or None."""
        for file in self.files:
            if file.display == filename or (file.path is not None and str(file.path) == str(filename)):
                return file
        return None

    def lines(self, file) -> LineIndex:
        index = self._lines.get(id(file))
        if index is None:
            index = self._lines[id(file)] = LineIndex(file.module.source)
        return index

    def location(self, file, span: Span) -> Location:
        """The Location of SPAN in FILE."""
        return Location(file.display, file.path, span, self.lines(file).range(span))

    def _index(self, file) -> _FileIndex:
        index = self._indexes.get(id(file))
        if index is None:
            index = self._indexes[id(file)] = _FileIndex(file.module)
        return index

    def offset(self, file, position: Position) -> int:
        return self.lines(file).offset(position)

    # ------------------------------------------------------------ values

    def node_at(self, filename: str, position: Position):
        """The innermost node at POSITION in FILENAME, or None."""
        file = self.file(filename)
        if file is None:
            return None
        return self._index(file).innermost(self.offset(file, position))[0]

    def value_at(self, filename: str, position: Position) -> Optional[ValueAt]:
        """What the expression at POSITION evaluated to, or None (nothing
        there, or it was never evaluated: a branch not taken, a model not
        checked).  On a layer's class name in a call (`Conv2D` of
        `Conv2D(64, 3)`), the answer is the layer the call made."""
        file = self.file(filename)
        if file is None or self.facts is None:
            return None
        index = self._index(file)
        node, parent = index.innermost(self.offset(file, position))
        node, parent = _subscript_of_index(index, node, parent)
        while node is not None:
            if isinstance(parent, n.Call) and parent.func is node:
                node, parent = parent, index.parent_of(parent)  # the class name: show what the call made
                continue
            fact = self.facts.get(node)
            if fact is not None:
                return ValueAt(node, file.display, list(fact.values), fact.count, list(fact.outputs))
            node, parent = parent, index.parent_of(parent) if parent is not None else None
        return None

    # ----------------------------------------------------------- symbols

    def symbol_at(self, filename: str, position: Position) -> Optional[Symbol]:
        """What the name at POSITION means (None when there is no name there)."""
        file = self.file(filename)
        if file is None:
            return None
        offset = self.offset(file, position)
        for item in file.module.items:
            symbol = _declared_at(file, item, offset)
            if symbol is not None:
                return symbol
        node, _ = self._index(file).innermost(offset)
        if isinstance(node, n.Param) and _holds(param_name_span(node), offset):
            return Symbol("local", node.name, file, enclosing_definition(file, offset))
        if not isinstance(node, n.Name):
            return None
        definition = enclosing_definition(file, offset)
        if definition is not None and any(_holds(p.span, offset) for p in definition.params or []):
            definition = None  # a parameter's default sees file-level names only
        return symbol_of_name(file, definition, node.id)

    def definition_at(self, filename: str, position: Position) -> Optional[Location]:
        """Where the name at POSITION is defined (its first binding, for a
        local), or None (nothing there, or something of Keras)."""
        symbol = self.symbol_at(filename, position)
        if symbol is None:
            return None
        found = occurrences(self.files, symbol)
        return self.location(found[0].file, found[0].span) if found and found[0].binds else None

    def references_at(self, filename: str, position: Position, include_definition: bool = True) -> list:
        """Every place the name at POSITION is named, across the program's files."""
        symbol = self.symbol_at(filename, position)
        if symbol is None:
            return []
        found = occurrences(self.files, symbol)
        if not include_definition and found and found[0].binds:
            found = found[1:]
        return [self.location(o.file, o.span) for o in found]

    # ----------------------------------------------------------- comments

    def comments_of(self, filename: str, node):
        """The comments attached to NODE of FILENAME (syntax.comments.NodeComments)."""
        file = self.file(filename)
        attached = self._comments.get(id(file))
        if attached is None:
            attached = self._comments[id(file)] = attach_comments(file.module)
        return attached.of(node)


def _statement_like(node) -> bool:
    """A node a word at its edge should win over (a whole statement or definition)."""
    return isinstance(node, (n.Assign, n.Output, n.Return, n.ExprStmt, n.For, n.If, n.ModelDef, n.BlockDef, n.Chain))


def _subscript_of_index(index: "_FileIndex", node, parent) -> tuple:
    """On the index of a subscript (the `:, 0` of `x[:, 0]`), the subscript
    itself: what it selects is what a hover wants, not the slice objects."""
    chain = [(node, parent)]
    while parent is not None and not isinstance(parent, (n.Subscript, n.Call)) and len(chain) < 4:
        node, parent = parent, index.parent_of(parent)
        chain.append((node, parent))
    if isinstance(parent, n.Subscript) and node is parent.index:
        return parent, index.parent_of(parent)
    return chain[0]


def _holds(span: Span, offset: int) -> bool:
    return span.start <= offset <= span.end


def _declared_at(file, item, offset: int) -> Optional[Symbol]:
    """The symbol declared by ITEM's name at OFFSET (a definition's name, a
    `from` line's bound name), or None."""
    if isinstance(item, (n.ModelDef, n.BlockDef)) and _holds(item.name_span, offset):
        return Symbol("definition", item.name, file, item)
    if isinstance(item, n.FromImport):
        for imported in item.names:
            if _holds(imported.span, offset):
                return Symbol("from", imported.bound, file, imported)
    return None
