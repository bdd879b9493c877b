"""Names: which are local to a body, and what a file-level name refers to.

Scoping is Python's: each model and block body is one scope, and a name bound
anywhere in it (a parameter, an assignment, a loop variable, an output) is
local throughout it.  Other names resolve, first match wins, to a block or
model of the file (or imported), a name from a `from` line, a Keras layer
class or merge helper, a `keras.applications` model, or a builtin.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from . import catalog as kcat
from . import nodes as n

BUILTINS = ("range", "len", "str", "int", "float", "min", "max", "abs")


@dataclass(frozen=True)
class DefRef:
    """A block or model of the program."""

    file: object  # program.SourceFile
    definition: object  # nodes.ModelDef | nodes.BlockDef

    @property
    def is_model(self) -> bool:
        return isinstance(self.definition, n.ModelDef)


@dataclass(frozen=True)
class CustomRef:
    """A name from a `from MODULE import NAME as ALIAS` line."""

    bound: str
    module: str
    name: str


@dataclass(frozen=True)
class LayerRef:
    """A class of keras.layers (aliases such as MaxPool2D included)."""

    name: str


@dataclass(frozen=True)
class MergeRef:
    """A merge helper function: add, concatenate, ..."""

    name: str


@dataclass(frozen=True)
class InputRef:
    name: str = "Input"


@dataclass(frozen=True)
class AppRef:
    """A model function of keras.applications."""

    name: str


@dataclass(frozen=True)
class BuiltinRef:
    name: str


Ref = object


def resolve_global(file, name: str) -> Optional[Ref]:
    """What a name that is not local to a body means in FILE, or None."""
    found = file.definition(name)
    if found is not None:
        return DefRef(*found)
    if name in file.from_names:
        item, imported = file.from_names[name]
        return CustomRef(name, item.module, imported.name)
    if name == "Input":
        return InputRef()
    cat = kcat.load()
    if cat.layer(name) is not None:
        return LayerRef(name)
    if cat.merge_helper(name) is not None:
        return MergeRef(name)
    if cat.application(name) is not None:
        return AppRef(name)
    if name in BUILTINS:
        return BuiltinRef(name)
    return None


def global_names(file) -> list:
    """Every file-level name FILE can use, for "did you mean" suggestions."""
    cat = kcat.load()
    return [
        *file.visible, *file.from_names, "Input", *cat.layer_names(),
        *cat.merge_helper_names(), *cat.application_names(), *BUILTINS,
    ]


# -------------------------------------------------------------------- locals


def _bound_by(stmt) -> list:
    """The Name nodes a statement binds directly (not inside nested bodies)."""
    if isinstance(stmt, n.Assign):
        return list(stmt.targets)
    if isinstance(stmt, n.Output) and stmt.value is not None:
        return list(stmt.names)
    if isinstance(stmt, n.For):
        return list(stmt.targets)
    return []


def nested_bodies(stmt) -> list:
    """The statement lists inside a compound statement."""
    if isinstance(stmt, n.For):
        return [stmt.body]
    if isinstance(stmt, n.If):
        return [body for _, body in stmt.branches] + ([stmt.orelse] if stmt.orelse is not None else [])
    return []


def iter_statements(body):
    """Every statement of BODY, nested ones included, in source order."""
    stack = list(reversed(body))
    while stack:
        stmt = stack.pop()
        yield stmt
        for inner in reversed(nested_bodies(stmt)):
            stack.extend(reversed(inner))


def bindings(body) -> list:
    """Every Name node bound in BODY, nested bodies included, in source order."""
    return [name for stmt in iter_statements(body) for name in _bound_by(stmt)]


@dataclass
class Scope:
    """The local names of one model or block body."""

    definition: object
    params: tuple
    assigned: frozenset  # names bound by statements
    names: frozenset  # params and assigned

    def is_local(self, name: str) -> bool:
        return name in self.names


_SCOPES: dict = {}


def scope_of(definition) -> Scope:
    """The (cached) scope of a model or block definition."""
    key = id(definition)
    cached = _SCOPES.get(key)
    if cached is not None and cached.definition is definition:
        return cached
    params = tuple(p.name for p in (definition.params or []))
    assigned = frozenset(name.id for name in bindings(definition.body))
    scope = Scope(definition, params, assigned, frozenset(params) | assigned)
    _SCOPES[key] = scope
    return scope


def loads(body) -> set:
    """The names read anywhere in BODY (not those only assigned)."""
    stored = {id(name) for name in bindings(body)}
    read = set()
    for stmt in body:
        for node in n.walk(stmt):
            if isinstance(node, n.Name) and id(node) not in stored:
                read.add(node.id)
    return read


def called_definitions(file, definition) -> list:
    """The DefRefs of the blocks and models DEFINITION's body names."""
    scope = scope_of(definition)
    found = []
    for stmt in definition.body:
        for node in n.walk(stmt):
            if isinstance(node, n.Name) and not scope.is_local(node.id):
                ref = resolve_global(file, node.id)
                if isinstance(ref, DefRef):
                    found.append(ref)
    return found
