"""The Keras names kd gives to inputs and outputs, decided from the source.

An input is named after its binding.  An output is named after its binding:
when the layer producing it is constructed in the statement that binds the
output (for a chain, its last step) and has no explicit `name=`, that layer
gets the name; otherwise the generated code appends a `layers.Identity`
named after the output.  Both the evaluator and the code generator ask this
module, so the names Keras sees are the names the checker reports.

Only statements at the top level of a model body run exactly once whatever
the parameters, so only they can name a layer; an output whose binding may
come from inside an `if` or `for` gets an Identity.
"""

from __future__ import annotations

from ..records import field, record
from typing import Optional

from ..syntax import tree as n
from .scope import AppRef, DefRef, InputRef, LayerRef, MergeRef, bindings, resolve_global, scope_of


@record
class ModelNaming:
    """Naming decisions for one model body."""

    # id(Call node) -> name: constructions that take an output's or input's name
    implicit: dict = field(default_factory=dict)
    # id(Output node) -> [(output name, needs an Identity)], in order
    outputs: dict = field(default_factory=dict)
    # id(Output node) -> set of output names rebound later in the body
    rebound_after: dict = field(default_factory=dict)


def has_name_keyword(call: n.Call) -> bool:
    return any(k.name == "name" for k in call.keywords)


def _constructs(file, scope, call) -> bool:
    """Whether CALL constructs a layer or model instance that accepts name=."""
    if not isinstance(call, n.Call) or not isinstance(call.func, n.Name) or scope.is_local(call.func.id):
        return False
    ref = resolve_global(file, call.func.id)
    if isinstance(ref, DefRef):
        return ref.is_model
    return isinstance(ref, (LayerRef, AppRef, MergeRef))


def producer_call(file, scope, expr) -> Optional[n.Call]:
    """The call that constructs the layer producing EXPR's value, when EXPR
    both constructs and applies it: `Dense(3)(x)`, `add(a, b)`, or a chain
    whose last step is a constructor."""
    if isinstance(expr, n.Chain):
        last = expr.steps[-1]
        return last if _constructs(file, scope, last) and not _is_block_call(file, scope, last) else None
    if isinstance(expr, n.Call):
        if isinstance(expr.func, n.Call) and _constructs(file, scope, expr.func):
            return expr.func
        if isinstance(expr.func, n.Name) and not scope.is_local(expr.func.id):
            if isinstance(resolve_global(file, expr.func.id), MergeRef):
                return expr
    return None


def _is_block_call(file, scope, call) -> bool:
    ref = resolve_global(file, call.func.id) if isinstance(call.func, n.Name) else None
    return isinstance(ref, DefRef) and not ref.is_model


def is_input_call(file, scope, expr) -> bool:
    """Whether EXPR is `Input(...)` (not shadowed by a local name)."""
    return (
        isinstance(expr, n.Call)
        and isinstance(expr.func, n.Name)
        and expr.func.id == "Input"
        and not scope.is_local("Input")
        and isinstance(resolve_global(file, "Input"), InputRef)
    )


def input_statements(file, model: n.ModelDef) -> tuple:
    """The statements that declare MODEL's inputs, in order: `x = Input(...)`
    at the top level of its body, one name bound.  The one place that decides
    what an input declaration is (for the checks, naming and the generator).
    Cached by FILE, which owns it; a tuple, so no caller can change it."""
    cached = file.inputs.get(id(model))
    if cached is not None:
        return cached
    scope = scope_of(file, model)
    found = tuple(
        stmt for stmt in model.body
        if isinstance(stmt, n.Assign) and len(stmt.targets) == 1 and not stmt.unpack
        and is_input_call(file, scope, stmt.value)
    )
    file.inputs[id(model)] = found
    return found


def _binds(stmt, name: str) -> bool:
    if isinstance(stmt, (n.For, n.If)):
        inner = [b for body in _bodies(stmt) for b in bindings(body)]
        return any(b.id == name for b in inner) or (isinstance(stmt, n.For) and any(t.id == name for t in stmt.targets))
    if isinstance(stmt, n.Assign):
        return any(t.id == name for t in stmt.targets)
    if isinstance(stmt, n.Output) and stmt.value is not None:
        return stmt.names[0].id == name
    return False


def _bodies(stmt):
    if isinstance(stmt, n.For):
        return [stmt.body]
    return [body for _, body in stmt.branches] + ([stmt.orelse] if stmt.orelse is not None else [])


def _reaching_value(body: list, index: int, name: str):
    """The value expression of the one top-level binding of NAME that reaches
    statement INDEX, or None when the binding is not a plain top-level one."""
    for stmt in reversed(body[:index]):
        if not _binds(stmt, name):
            continue
        if isinstance(stmt, n.Assign) and len(stmt.targets) == 1 and not stmt.unpack:
            return stmt.value
        return None
    return None


def _name_output(file, scope, naming, expr, name) -> bool:
    """Give NAME to the construction producing EXPR; False when an Identity is needed."""
    call = producer_call(file, scope, expr) if expr is not None else None
    if call is None:
        return False
    if has_name_keyword(call):
        return True  # an explicit name= wins: the output takes the layer's name
    if id(call) in naming.implicit:
        return False  # already named after another output
    naming.implicit[id(call)] = name
    return True


def model_naming(file, model: n.ModelDef) -> ModelNaming:
    """Decide the names of MODEL's inputs and outputs."""
    scope = scope_of(file, model)
    naming = ModelNaming()
    body = model.body
    for stmt in input_statements(file, model):
        if not has_name_keyword(stmt.value):
            naming.implicit[id(stmt.value)] = stmt.targets[0].id
    for index, stmt in enumerate(body):
        if not isinstance(stmt, n.Output):
            continue
        decisions = []
        for name_node in stmt.names:
            name = name_node.id
            expr = stmt.value if stmt.value is not None else _reaching_value(body, index, name)
            named = _name_output(file, scope, naming, expr, name)
            decisions.append((name, not named))
        naming.outputs[id(stmt)] = decisions
        later = {name for name, _ in decisions if any(_binds(s, name) for s in body[index + 1:])}
        naming.rebound_after[id(stmt)] = later
    return naming
