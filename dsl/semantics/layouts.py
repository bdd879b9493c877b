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
from ..diagnostics import Diagnostic, Related
from ..syntax import tree as n

LAYOUT = "layout"


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


def check_layout_placement(file, definition, statements) -> list:
    """A layout statement stands at the top level of a model body, once.
    STATEMENTS are every statement of DEFINITION, nested ones included."""
    out = []
    top = {id(s) for s in definition.body} if isinstance(definition, n.ModelDef) else set()
    placed = []
    for stmt in statements:
        if layout_call(stmt) is None:
            continue
        if id(stmt) not in top:
            out.append(Diagnostic(codes.MISPLACED_STATEMENT, "`layout(...)` belongs at the top level of a model body",
                                  file.display, stmt.span))
        else:
            placed.append(stmt)
    for extra in placed[1:]:
        out.append(Diagnostic(codes.INVALID_LAYOUT, "a model has at most one `layout(...)`", file.display, extra.span,
                              related=(Related("the first one is here", placed[0].span, file.display),)))
    return out
