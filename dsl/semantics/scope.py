"""Names: which are local to a body, and what a file-level name refers to.

Scoping is Python's: each model and block body is one scope, and a name bound
anywhere in it (a parameter, an assignment, a loop variable, an output) is
local throughout it.  Other names resolve, first match wins, to a block or
model of the file (or imported), a name from a `from` line, a Keras layer
class or merge helper, a `keras.applications` model, or a builtin.
"""

from __future__ import annotations

from ..records import field, record
from typing import Optional

from .. import catalog as kcat
from ..namespaces import compile_namespace_of, namespace_of
from ..syntax import tree as n
from .layouts import layout_call

# kd's builtins (section 5): Python's functions of these names, on constants.
BUILTINS = ("range", "len", "str", "int", "float", "min", "max", "abs")
# kd 1.1: `ops.NAME(...)` calls keras.ops.NAME; `ops` names nothing else.
OPS_NAMESPACE = "ops"


@record(frozen=True)
class DefRef:
    """A block or model of the program."""

    file: object  # program.SourceFile
    definition: object  # nodes.ModelDef | nodes.BlockDef

    @property
    def is_model(self) -> bool:
        return isinstance(self.definition, n.ModelDef)


@record(frozen=True)
class CustomRef:
    """A name from a `from MODULE import NAME as ALIAS` line."""

    bound: str
    module: str
    name: str


@record(frozen=True)
class LayerRef:
    """A class of keras.layers (aliases such as MaxPool2D included)."""

    name: str


@record(frozen=True)
class MergeRef:
    """A merge helper function: add, concatenate, ..."""

    name: str


@record(frozen=True)
class InputRef:
    name: str = "Input"


@record(frozen=True)
class AppRef:
    """A model function of keras.applications."""

    name: str


@record(frozen=True)
class BuiltinRef:
    name: str


@record(frozen=True)
class OpsRef:
    """The namespace `ops` (kd 1.1): its attributes are keras.ops functions."""

    name: str = OPS_NAMESPACE


@record(frozen=True)
class OpRef:
    """`ops.NAME`, a function of keras.ops that kdsl has a rule for."""

    name: str


Ref = object


def resolve_global(file, name: str) -> Optional[Ref]:
    """What a name that is not local to a body means in FILE, or None."""
    try:
        return file.resolved[name]
    except KeyError:
        ref = file.resolved[name] = _resolve(file, name)
        return ref


def _resolve(file, name: str) -> Optional[Ref]:
    if name == OPS_NAMESPACE:
        return OpsRef()  # reserved: a binding of this name is an error (KD214)
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
        *cat.merge_helper_names(), *cat.application_names(), *BUILTINS, OPS_NAMESPACE,
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


# The statements `_bound_by` finds names in.
_BINDING_STATEMENTS = frozenset({n.Assign, n.Output, n.For})


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


@record
class Scope:
    """The local names of one model or block body."""

    definition: object
    params: tuple
    assigned: frozenset  # names bound by statements
    names: frozenset  # params and assigned
    broken: frozenset = frozenset()  # bound by statements lost to syntax errors: their uses are no error

    def is_local(self, name: str) -> bool:
        return name in self.names


def _inside(inner, outer) -> bool:
    return outer.start <= inner.start and inner.end <= outer.end


def lost_statements(file, definition) -> bool:
    """Whether syntax errors took statements out of DEFINITION's body (then
    what the body lacks — inputs, outputs, a return — is no further error)."""
    return any(_inside(b.span, definition.span) for b in file.module.broken)


def scope_of(file, definition) -> Scope:
    """The scope of a model or block definition of FILE (cached by the file)."""
    cached = file.scopes.get(id(definition))
    if cached is not None:
        return cached
    params = tuple(p.name for p in (definition.params or []))
    broken = frozenset(name for b in file.module.broken if _inside(b.span, definition.span) for name in b.targets)
    assigned = frozenset(name.id for name in index_of(file, definition).bound) | broken
    scope = Scope(definition, params, assigned, frozenset(params) | assigned, broken)
    file.scopes[id(definition)] = scope
    return scope


def loads(file, definition) -> set:
    """The names read anywhere in DEFINITION's body (not those only assigned)."""
    return {name.id for name in index_of(file, definition).loads}


def called_definitions(file, definition) -> list:
    """The DefRefs of the blocks and models DEFINITION's body names."""
    scope = scope_of(file, definition)
    found = []
    for name in index_of(file, definition).loads:
        if not scope.is_local(name.id):
            ref = resolve_global(file, name.id)
            if isinstance(ref, DefRef):
                found.append(ref)
    return found


# ------------------------------------------------------------------ an index



@record
class BodyIndex:
    """What the static checks need from one body, gathered in one walk."""

    loads: list  # Name nodes read (not binding targets), in source order
    callees: set  # ids of Name nodes in call position
    namespaced: set  # ids of class names resolved in a Keras module (`kernel_initializer=HeNormal()`)
    calls: list  # every Call node
    ops: list = field(default_factory=list)  # every `ops.NAME` Attribute node (kd 1.1)
    bound: list = field(default_factory=list)  # every Name node the body binds (`bindings`), in source order


def _namespaced_values(node):
    """The keyword values of NODE whose bare class names resolve in a Keras module."""
    for k in getattr(node, "keywords", ()):
        compiling = isinstance(node, n.CompileStmt)
        if (compile_namespace_of(k.name) if compiling else namespace_of(k.name)) is not None:
            yield k.value


def _namespaced_classes(value, found: set) -> None:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, n.Call) and isinstance(item.func, n.Name):
            found.add(id(item.func))
        elif isinstance(item, (n.ListExpr, n.TupleExpr)):
            stack.extend(item.items)
        elif isinstance(item, n.DictExpr):
            stack.extend(e.value for e in item.entries)


def index_of(file, definition) -> BodyIndex:
    """The index of a definition's body (cached by FILE, which owns it)."""
    cached = file.indexes.get(id(definition))
    if cached is not None:
        return cached
    # One walk: a statement comes before the names it binds, so they are
    # known as bound (`stored`) when the walk reaches them.
    bound, stored = [], set()
    loads, callees, namespaced, calls, ops = [], set(), set(), [], []
    for stmt in definition.body:
        for node in n.walk(stmt):
            kind = type(node)
            if kind is n.Name:
                if id(node) not in stored:
                    loads.append(node)
            elif kind is n.Call:
                calls.append(node)
                callees.add(id(node.func))
            elif kind is n.Attribute and type(node.value) is n.Name and node.value.id == OPS_NAMESPACE:
                ops.append(node)
            elif kind in _BINDING_STATEMENTS:
                names = _bound_by(node)
                bound += names
                stored.update(map(id, names))
            elif kind is n.ExprStmt:
                call = layout_call(node)
                if call is not None:  # the `layout` of a layout statement names the statement, not a value
                    stored.add(id(call.func))
            if kind is n.Call or kind is n.CompileStmt:
                for value in _namespaced_values(node):
                    _namespaced_classes(value, namespaced)
    index = BodyIndex(loads, callees, namespaced, calls, ops, bound)
    file.indexes[id(definition)] = index
    return index
