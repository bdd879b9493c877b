"""What a name at a place refers to, and every place that refers to it.

A symbol is what a name means: a local of one model or block body (its
parameters, assignments, loop variables and outputs, Python's scoping), a
block or model of the program, a name of a `from` line, or something of
Keras (a layer class, a merge helper, an application, `Input`, a builtin),
which has no place in the program.  Definitions and references are found
from the tree alone: no evaluation is needed, so they work in files that do
not check.
"""

from __future__ import annotations

from ..records import record
from typing import Optional

from ..semantics.scope import DefRef, CustomRef, index_of, resolve_global, scope_of
from ..span import Span
from ..syntax import tree as n


@record(frozen=True)
class Symbol:
    """What a name means.  KIND is "local", "definition", "from" or "keras";
    OWNER is the body's definition (locals), the definition itself, or the
    `from` line's ImportedName; FILE is the SourceFile it belongs to."""

    kind: str
    name: str
    file: object = None
    owner: object = None

    def key(self) -> tuple:
        return (self.kind, self.name, id(self.file), id(self.owner))


@record(frozen=True)
class Occurrence:
    """One place a symbol is named: FILE (a SourceFile), SPAN of the name,
    and whether it binds the name (a definition, parameter or assignment)."""

    file: object
    span: Span
    binds: bool


def enclosing_definition(file, offset: int):
    """The model or block of FILE whose text holds OFFSET, or None."""
    for item in file.module.definitions:
        if item.span.start <= offset < item.span.end or (item.span.start <= offset == item.span.end):
            return item
    return None


def param_name_span(param: n.Param) -> Span:
    """The span of a parameter's name (a Param's span covers its default too)."""
    s = param.span
    return Span(s.line, s.col, s.line, s.col + len(param.name), s.start, s.start + len(param.name))


def symbol_of_name(file, definition, name: str) -> Optional[Symbol]:
    """What NAME means inside DEFINITION's body of FILE (DEFINITION None: at
    file level, as in a parameter's default)."""
    if definition is not None and scope_of(file, definition).is_local(name):
        return Symbol("local", name, file, definition)
    ref = resolve_global(file, name)
    if ref is None:
        return None
    if isinstance(ref, DefRef):
        return Symbol("definition", name, ref.file, ref.definition)
    if isinstance(ref, CustomRef):
        item, imported = file.from_names[name]
        return Symbol("from", name, file, imported)
    return Symbol("keras", name)


def _local_occurrences(file, definition, name: str) -> list:
    found = []
    for param in definition.params or []:
        if param.name == name:
            found.append(Occurrence(file, param_name_span(param), True))
    stored = {id(t) for t in index_of(file, definition).bound}
    for stmt in definition.body:
        for node in n.walk(stmt):
            if type(node) is n.Name and node.id == name:
                found.append(Occurrence(file, node.span, id(node) in stored))
    return found


def _global_occurrences(files: list, symbol: Symbol) -> list:
    """Every place in FILES where a file-level name resolves to SYMBOL."""
    found = []
    if symbol.kind == "definition":
        found.append(Occurrence(symbol.file, symbol.owner.name_span, True))
    elif symbol.kind == "from":
        found.append(Occurrence(symbol.file, symbol.owner.span, True))
    for file in files:
        for definition in file.module.definitions:
            for node in _file_level_names(file, definition):
                if node.id == symbol.name:
                    here = symbol_of_name(file, definition if _in_body(node, definition) else None, node.id)
                    if here is not None and here.key() == symbol.key():
                        found.append(Occurrence(file, node.span, False))
    return found


def _in_body(node, definition) -> bool:
    """Whether NODE of DEFINITION is in its body (not in a parameter's default)."""
    return all(not (p.span.start <= node.span.start < p.span.end) for p in definition.params or [])


def _file_level_names(file, definition):
    """The Name nodes of DEFINITION (its body and parameter defaults)."""
    for param in definition.params or []:
        if param.default is not None:
            yield from (node for node in n.walk(param.default) if type(node) is n.Name)
    for stmt in definition.body:
        yield from (node for node in n.walk(stmt) if type(node) is n.Name)


def occurrences(files: list, symbol: Symbol) -> list:
    """Every place SYMBOL is named in FILES, its definition first."""
    if symbol.kind == "keras":
        return []
    if symbol.kind == "local":
        found = _local_occurrences(symbol.file, symbol.owner, symbol.name)
    else:
        found = _global_occurrences(files, symbol)
    return _first_binding_first(found)


def _first_binding_first(found: list) -> list:
    """Source order, with the first binding (the definition) moved to the front."""
    ordered = sorted(found, key=lambda o: (o.file.display, o.span.start))
    for index, occ in enumerate(ordered):
        if occ.binds:
            return [occ] + ordered[:index] + ordered[index + 1:]
    return ordered
