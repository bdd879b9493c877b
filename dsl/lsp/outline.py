"""The outline (document symbols) and the inlay hints: each binding's and
each chain step's output shape, written after it."""

from __future__ import annotations

from lsprotocol import types as lsp

from ..check.values import Tensor
from ..semantics.scope import iter_statements
from ..shapes.util import format_shape
from ..syntax import tree as n
from .convert import span_range

# Shapes written in one hint (a block called with several shapes).
HINT_SHAPES = 4


def _is_input(value) -> bool:
    return isinstance(value, n.Call) and isinstance(value.func, n.Name) and value.func.id == "Input"


def _children(definition, lines) -> list:
    found = []
    for stmt in iter_statements(definition.body):
        if isinstance(stmt, n.Assign) and _is_input(stmt.value):
            for target in stmt.targets:
                found.append(lsp.DocumentSymbol(name=target.id, detail="input", kind=lsp.SymbolKind.Variable,
                                                range=span_range(lines, stmt.span), selection_range=span_range(lines, target.span)))
        elif isinstance(stmt, n.Output):
            for name in stmt.names:
                found.append(lsp.DocumentSymbol(name=name.id, detail="output", kind=lsp.SymbolKind.Field,
                                                range=span_range(lines, stmt.span), selection_range=span_range(lines, name.span)))
    return found


def document_symbols(module: n.Module, lines) -> list:
    """Models and blocks, each with its inputs and outputs."""
    symbols = []
    for item in module.definitions:
        is_model = isinstance(item, n.ModelDef)
        symbols.append(lsp.DocumentSymbol(
            name=item.name, detail="model" if is_model else "block",
            kind=lsp.SymbolKind.Class if is_model else lsp.SymbolKind.Function,
            range=span_range(lines, item.span), selection_range=span_range(lines, item.name_span),
            children=_children(item, lines)))
    return symbols


def _tensors(values) -> list:
    out = []
    for value in values:
        if isinstance(value, Tensor):
            out.append(value)
        elif isinstance(value, (tuple, list)):
            out.extend(v for v in value if isinstance(v, Tensor))
    return out


def _hint(lines, span, tensors: list) -> lsp.InlayHint:
    shapes = list(dict.fromkeys(format_shape(t.shape) for t in tensors))
    label = " | ".join(shapes[:HINT_SHAPES]) + (" | ..." if len(shapes) > HINT_SHAPES else "")
    made = []
    for t in tensors:
        if t.node is not None:
            made.append(f"{t.node.instance.name} ({t.node.instance.cls}): {format_shape(t.shape)}")
    end = span_range(lines, span).end
    return lsp.InlayHint(position=end, label=f": {label}", kind=lsp.InlayHintKind.Type, padding_left=True,
                         tooltip="\n".join(dict.fromkeys(made)) or None)


def inlay_hints(module: n.Module, facts, lines, first_line: int = 0, last_line: int = 1 << 30) -> list:
    """A hint after each chain step and each binding of a tensor whose
    value is no chain, on lines FIRST_LINE..LAST_LINE (from 0)."""
    hints = []
    for definition in module.definitions:
        for stmt in iter_statements(definition.body):
            if not isinstance(stmt, (n.Assign, n.Output)) or stmt.value is None:
                continue
            if not first_line <= stmt.span.line - 1 <= last_line:
                continue
            hints.extend(_statement_hints(stmt, facts, lines))
    return hints


def _statement_hints(stmt, facts, lines) -> list:
    value = stmt.value
    if isinstance(value, n.Chain):
        found = []
        for step in value.steps[1:]:
            fact = facts.get(step)
            tensors = _tensors(fact.outputs) if fact is not None else []
            if tensors:
                found.append(_hint(lines, step.span, tensors))
        return found
    targets = stmt.targets if isinstance(stmt, n.Assign) else stmt.names[:1]
    fact = facts.get(targets[0]) if len(targets) == 1 else None
    tensors = _tensors(fact.values) if fact is not None else []
    return [_hint(lines, value.span, tensors)] if tensors else []
