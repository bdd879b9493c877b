"""`layout(...)` statements: how a model's weights split over a device mesh
(docs/language.md, section 9).

The grammar has no statement of its own for them: a statement that calls
the bare name `layout` is one, whatever `layout` means elsewhere, as a
statement calling `compile` holds the compile settings.  This module
recognises them and checks where they stand; dsl/check/layouts.py
evaluates and checks them, dsl/codegen/emit.py writes `layout_map_NAME`.
"""

from __future__ import annotations

from typing import Optional

from .. import codes
from ..diagnostics import Diagnostic, Related, suggest
from ..syntax import tree as n

LAYOUT = "layout"
FORM = "layout({PATTERN: AXES, ...}, mesh={AXIS: SIZE, ...})"


def layout_call(stmt) -> Optional[n.Call]:
    """The call of STMT when STMT is a layout statement, else None."""
    if isinstance(stmt, n.ExprStmt):
        value = stmt.value
        if isinstance(value, n.Call) and isinstance(value.func, n.Name) and value.func.id == LAYOUT:
            return value
    return None


def model_layout(model: n.ModelDef) -> Optional[n.ExprStmt]:
    """The first layout statement at the top level of MODEL's body, or None."""
    return next((s for s in model.body if layout_call(s) is not None), None)


def form_problem(call: n.Call):
    """(message, span, hint) when CALL is not `layout(DICT, mesh=DICT)`
    written with dict literals (whose entries the checker places its errors
    at, and the generator translates one by one), else None."""
    for keyword in call.keywords:
        if keyword.name != "mesh":
            return f"`layout` has no argument `{keyword.name}`", keyword.name_span, suggest(keyword.name, ["mesh"]) or f"write {FORM}"
    if len(call.args) != 1 or not isinstance(call.args[0], n.DictExpr):
        where = call.args[1].span if len(call.args) > 1 else call.args[0].span if call.args else call.span
        return "`layout` takes one dict literal of weight patterns and their layouts", where, f"write {FORM}"
    mesh = next((k.value for k in call.keywords if k.name == "mesh"), None)
    if mesh is None:
        return ("`layout` needs the mesh the weights split over: mesh={AXIS: SIZE, ...}", call.span,
                'kdsl checks each split against the axis sizes, e.g. mesh={"batch": 2, "model": 4}')
    if not isinstance(mesh, n.DictExpr) or not mesh.entries:
        return ("`mesh=` is a dict literal of mesh axis names and their sizes", mesh.span,
                'e.g. mesh={"batch": 2, "model": 4}: 8 devices, the batch split 2 ways and the weights 4 ways')
    return None


def check_layout_placement(file, definition, statements) -> list:
    """A layout statement stands at the top level of a model body, once, in
    its form.  STATEMENTS are every statement of DEFINITION, nested ones
    included."""
    out = []
    top = {id(s) for s in definition.body} if isinstance(definition, n.ModelDef) else set()
    placed = []
    for stmt in statements:
        call = layout_call(stmt)
        if call is None:
            continue
        problem = form_problem(call)
        if problem is not None:
            message, span, hint = problem
            out.append(Diagnostic(codes.INVALID_LAYOUT, message, file.display, span, hint))
        if id(stmt) not in top:
            out.append(Diagnostic(codes.MISPLACED_STATEMENT, "`layout(...)` belongs at the top level of a model body",
                                  file.display, stmt.span))
        else:
            placed.append(stmt)
    for extra in placed[1:]:
        out.append(Diagnostic(codes.INVALID_LAYOUT, "a model has at most one `layout(...)`", file.display, extra.span,
                              related=(Related("the first one is here", placed[0].span, file.display),)))
    return out
