"""Checks that need only the syntax tree and the names: run on every
definition, even blocks no model calls and models that cannot be evaluated."""

from __future__ import annotations

import sys

from typing import Optional

from .. import codes, ops_catalog
from ..syntax import tree as n
from ..diagnostics import Diagnostic, Related, SourceError, suggest
from .layouts import check_layout_placement
from .naming import input_statements, is_input_call
from .scope import (
    OPS_NAMESPACE, called_definitions, global_names, index_of, iter_statements, loads, lost_statements,
    resolve_global, scope_of,
)


def _d(file, code, message, span, hint=None, related=()):
    return Diagnostic(code, message, file.display, span, hint, tuple(related))


def check_params(file, definition) -> list:
    """Duplicate parameters, defaults before non-defaults, a model's `name`."""
    out = []
    seen = {}
    had_default = False
    for param in definition.params or []:
        if param.name in seen:
            out.append(_d(file, codes.INVALID_PARAMETERS, f"parameter `{param.name}` is listed twice", param.span))
        seen[param.name] = param
        if param.default is None and had_default:
            out.append(_d(file, codes.INVALID_PARAMETERS, f"parameter `{param.name}` without a default follows one with a default", param.span))
        had_default = had_default or param.default is not None
        if isinstance(definition, n.ModelDef) and param.name == "name":
            out.append(_d(file, codes.INVALID_PARAMETERS, "a model parameter cannot be called `name`: `name=` names a model instance", param.span))
    return out


def check_placement(file, definition) -> list:
    """Input, output, compile and layout only at a model's top level; return only in blocks."""
    out = []
    scope = scope_of(file, definition)
    is_model = isinstance(definition, n.ModelDef)
    top = {id(s) for s in definition.body}
    allowed_inputs = {id(s.value) for s in input_statements(file, definition)} if is_model else set()
    compiles = []
    for stmt in iter_statements(definition.body):
        if isinstance(stmt, n.Output) and (not is_model or id(stmt) not in top):
            where = "in a block" if not is_model else "inside `for` or `if`"
            out.append(_d(file, codes.MISPLACED_STATEMENT, f"`output` cannot stand {where}; outputs are declared at the top level of a model", stmt.span))
        if isinstance(stmt, n.CompileStmt):
            if not is_model or id(stmt) not in top:
                out.append(_d(file, codes.MISPLACED_STATEMENT, "`compile(...)` belongs at the top level of a model body", stmt.span))
            compiles.append(stmt)
        if isinstance(stmt, n.Return) and is_model:
            out.append(_d(file, codes.MISPLACED_STATEMENT, "`return` is for blocks; a model declares its results with `output`", stmt.span))
    for call in index_of(file, definition).calls:
        if id(call) not in allowed_inputs and is_input_call(file, scope, call):
            out.append(_d(file, codes.MISPLACED_STATEMENT, "`Input(...)` is assigned to a name at the top level of a model: `x = Input(shape=...)`",
                          call.span))
    for extra in compiles[1:]:
        out.append(_d(file, codes.SEVERAL_COMPILES, "a model has at most one `compile(...)`", extra.span,
                      related=(Related("the first one is here", compiles[0].span, file.display),)))
    return out + check_layout_placement(file, definition, iter_statements(definition.body))


def check_model_shape(file, model: n.ModelDef) -> list:
    """A model needs at least one input and one output."""
    out = []
    if not input_statements(file, model):
        out.append(_d(file, codes.NO_INPUTS_OR_OUTPUTS, f"model `{model.name}` has no inputs", model.name_span, "declare one: `x = Input(shape=(...))`"))
    if not any(isinstance(s, n.Output) for s in model.body):
        out.append(_d(file, codes.NO_INPUTS_OR_OUTPUTS, f"model `{model.name}` has no outputs", model.name_span, "declare them: `output y`"))
    return out


def check_names(file, definition) -> list:
    """Names that are neither local nor defined at file level (with suggestions).
    Class names in initializer, loss, ... arguments are checked by the evaluator."""
    out = []
    scope = scope_of(file, definition)
    index = index_of(file, definition)
    for node in index.loads:
        if id(node) in index.namespaced or scope.is_local(node.id) or resolve_global(file, node.id) is not None \
                or file.lenient:
            continue
        hint = suggest(node.id, scope.names, global_names(file))
        if id(node) in index.callees and node.id[:1].isupper():
            out.append(_d(file, codes.UNKNOWN_LAYER, f"`{node.id}` is not a Keras layer class, nor a name of this file", node.span, hint))
        else:
            out.append(_d(file, codes.UNDEFINED_NAME, f"`{node.id}` is not defined", node.span, hint))
    for param in definition.params or []:
        if param.default is None:
            continue
        for node in n.walk(param.default):
            if isinstance(node, n.Name) and resolve_global(file, node.id) is None:
                out.append(_d(file, codes.UNDEFINED_NAME, f"`{node.id}` is not defined (a default can use constants only)", node.span))
    return out


def check_unused(file, definition) -> list:
    """Warn about names bound and never read (`_` and names starting with it excepted)."""
    read = loads(file, definition)
    out = []
    reported = set()
    outputs = {name.id for s in definition.body if isinstance(s, n.Output) for name in s.names}
    for name in index_of(file, definition).bound:
        if name.id in read or name.id in outputs or name.id.startswith("_") or name.id in reported:
            continue
        if _is_loop_target(definition.body, name):
            continue
        reported.add(name.id)
        out.append(_d(file, codes.UNUSED_BINDING, f"`{name.id}` is bound but never used", name.span,
                      "use it, or drop the binding (a name starting with `_` is exempt)"))
    return out


def _is_loop_target(body, name) -> bool:
    return any(isinstance(s, n.For) and any(t is name for t in s.targets) for s in iter_statements(body))


def check_recursion(file) -> list:
    """A block or model that reaches itself through calls."""
    out = []
    for definition in file.defs.values():
        path = _find_cycle(file, definition)
        if path:
            chain = " -> ".join(d.name for d in path)
            out.append(_d(file, codes.RECURSION, f"recursion: {chain}", definition.name_span,
                          "blocks and models are unrolled at compile time, so they cannot call themselves"))
    return out


def _find_cycle(file, start):
    stack = [(file, start, [start])]
    seen = set()
    while stack:
        current_file, definition, path = stack.pop()
        for ref in called_definitions(current_file, definition):
            if ref.definition is start:
                return path + [start]
            if id(ref.definition) not in seen:
                seen.add(id(ref.definition))
                stack.append((ref.file, ref.definition, path + [ref.definition]))
    return None


# Modules a custom layer never comes from: a `from` line naming one would
# let a kd source call anything Python has (`from os import system`).
_REFUSED_MODULES = frozenset(sys.stdlib_module_names) | {"builtins", "__future__", "__main__"}


def check_from_lines(file) -> list:
    """`from` lines may not name a module of Python's standard library."""
    out = []
    for item in file.module.items:
        if isinstance(item, n.FromImport) and item.module.split(".")[0] in _REFUSED_MODULES:
            out.append(_d(file, codes.STDLIB_MODULE, f"`{item.module}` is part of Python's standard library, "
                          "which holds no Keras layers", item.span,
                          "`from` lines bring in custom layers from your own package, e.g. "
                          "`from my_project.layers import GatedUnit`"))
    return out


def check_reserved(file) -> list:
    """`ops` is the namespace of keras.ops (kd 1.1): nothing may be bound to
    that name, neither a definition, a `from` name, a parameter nor a local."""
    out = []
    what = f"`{OPS_NAMESPACE}` is reserved for the functions of keras.ops (`{OPS_NAMESPACE}.mean(x, axis=1)`)"
    for item in file.module.items:
        if isinstance(item, n.FromImport):
            for imported in item.names:
                if imported.bound == OPS_NAMESPACE:
                    out.append(_d(file, codes.RESERVED_NAME, f"{what}; a `from` line cannot bind it", imported.span,
                                  f"give it another name: `from {item.module} import {imported.name} as {imported.name}_`"))
        elif isinstance(item, (n.ModelDef, n.BlockDef)):
            if item.name == OPS_NAMESPACE:
                out.append(_d(file, codes.RESERVED_NAME, f"{what}; a block or model cannot be named so", item.name_span))
            names = [(p.name, p.span) for p in item.params or []]
            names += [(b.id, b.span) for b in index_of(file, item).bound]
            out += [_d(file, codes.RESERVED_NAME, f"{what}; it cannot be bound", span, "choose another name")
                    for name, span in names if name == OPS_NAMESPACE]
    return out


def op_name_error(attr: str, span) -> Optional[SourceError]:
    """Why `ops.ATTR` cannot be used (not a function of keras.ops, or one
    kdsl has no rule for), or None."""
    cat = ops_catalog.load()
    info = cat.op(attr)
    if info is None:
        return SourceError(codes.UNKNOWN_OP, f"keras.ops has no function `{attr}`", span,
                           suggest(attr, cat.ruled_names()) or "docs/ops.md lists the ops kd can check")
    if not info.has_rule:
        return SourceError(codes.NO_OP_RULE, f"no rule for ops.{attr}: {info.refusal}", span,
                           "docs/ops.md lists the ops kd can check")
    return None


def check_ops(file, definition) -> list:
    """Every `ops.NAME` of a definition names an op kdsl has a rule for,
    whether or not the definition is ever evaluated (the generated code
    holds every definition)."""
    found = list(index_of(file, definition).ops)
    for param in definition.params or []:
        if param.default is not None:
            found += [node for node in n.walk(param.default) if isinstance(node, n.Attribute)
                      and isinstance(node.value, n.Name) and node.value.id == OPS_NAMESPACE]
    out = []
    for node in found:
        err = op_name_error(node.attr, node.attr_span)
        if err is not None:
            out.append(_d(file, err.code, err.message, err.span, err.hint))
    return out


def check_file(file) -> list:
    """All static checks of one file's definitions."""
    out = check_from_lines(file) + check_reserved(file)
    for definition in file.module.definitions:
        out += check_params(file, definition)
        out += check_placement(file, definition)
        out += check_names(file, definition)
        out += check_ops(file, definition)
        if not lost_statements(file, definition):  # the lost statements may have read them
            out += check_unused(file, definition)
        if isinstance(definition, n.ModelDef) and not lost_statements(file, definition):
            out += check_model_shape(file, definition)
    out += check_recursion(file)
    return out
