"""`kdsl summary`: a layer table per model, like Keras's model.summary(),
computed from the checker's graph without importing Keras; with a MACs
column and compute and memory total lines (docs/costs.md)."""

from __future__ import annotations

from ..check.values import Tensor, format_shape
from .costs import CostModel
from .counts import graph_counts, instance_counts, readable_size, type_name
from ..check.layout_checks import layout_lines

_KERAS_HEADERS = ("Layer (type)", "Output Shape", "Param #", "Connected to")
_MACS_HEADER = "MACs"


def _output_shape(inst) -> str:
    if not inst.calls:
        return "?"
    outputs = inst.calls[0].outputs
    if isinstance(outputs, Tensor):
        return format_shape(outputs.shape)
    shapes = [format_shape(t.shape) for t in outputs if isinstance(t, Tensor)]
    return "[" + ", ".join(shapes) + "]"


def _tensor_name(tensor) -> str:
    if tensor.node is None:
        spec = tensor.input_of
        return f"{spec.name}[0][0]" if spec is not None else "?"
    inst = tensor.node.instance
    call = inst.calls.index(tensor.node) if tensor.node in inst.calls else 0
    return f"{inst.name}[{call}][{tensor.index}]"


def _connected(inst) -> str:
    names = [_tensor_name(t) for node in inst.calls for t in node.input_tensors()]
    return ", ".join(names) if names else "-"


def _count(value) -> str:
    return "?" if value is None else f"{value:,}"


def _rows(graph, model: CostModel, compute: bool) -> list:
    """One row per layer, in the order of Keras's model.layers: the Keras
    columns, then the MACs when COMPUTE."""
    from ..check.graph import InputSpec, keras_order

    rows = []
    for op in keras_order(graph):
        if isinstance(op, InputSpec):
            row = [f"{op.name} (InputLayer)", format_shape(op.tensor.shape), "0", "-"]
        else:
            counts = instance_counts(op)
            params = "?" if counts.unknown else f"{counts.total:,}"
            row = [f"{op.name} ({type_name(op)})", _output_shape(op), params, _connected(op)]
        if compute:
            row.insert(3, _count(model.row(op).macs))
        rows.append(tuple(row))
    return rows


def _table(rows: list, compute: bool) -> list:
    headers = list(_KERAS_HEADERS)
    if compute:
        headers.insert(3, _MACS_HEADER)
    numeric = {2, 3} if compute else {2}
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]

    def line(cells):
        parts = [c.rjust(w) if i in numeric else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths))]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return [line(headers), rule, *(line(r) for r in rows), rule]


def render_graph(graph, compute: bool = True, model: CostModel = None) -> str:
    """The summary of one model graph; COMPUTE adds the MACs column and the
    compute and memory total lines."""
    model = model or CostModel()
    counts = graph_counts(graph)
    out = [f'Model: "{graph.name}"', *_table(_rows(graph, model, compute), compute)]
    for label, count in (("Total", counts.total), ("Trainable", counts.trainable), ("Non-trainable", counts.non_trainable)):
        out.append(f" {label} params: {_total_text(count, counts.unknown)}")
    if compute:
        totals = model.totals(graph)
        out.append(f" MACs per example: {_lower_bound(totals.macs, totals.unknown_macs, readable_macs)}")
        out.append(" Activation memory per example: "
                   f"{_lower_bound(totals.activation_bytes, totals.unknown_activation, readable_bytes, ' bytes')}")
        out.append(f" Weight memory: {_lower_bound(totals.weight_bytes, totals.unknown_weights, readable_bytes, ' bytes')}")
    out += layout_lines(graph)
    return "\n".join(out) + "\n"


def _total_text(count: int, unknown: tuple) -> str:
    """A total line's figure: exact, or a lower bound naming every layer
    whose count is unknown."""
    if unknown:
        return f"at least {count:,} (unknown for {', '.join(unknown)})"
    return f"{count:,} ({readable_size(count)})"


def _lower_bound(value: int, unknown: tuple, readable, unit: str = "") -> str:
    if unknown:
        return f"at least {value:,}{unit} (unknown for {', '.join(unknown)})"
    return f"{value:,}{unit} ({readable(value)})"


def readable_bytes(size: int) -> str:
    """Bytes in Keras's units (1024-based)."""
    return readable_size(size, 1)


def readable_macs(count: int) -> str:
    """A MAC count in decimal units: 3.86 G."""
    value = float(count)
    for unit in ("", " K", " M", " G", " T"):
        if value < 1000:
            return f"{value:.2f}{unit}" if unit else f"{count}"
        value /= 1000
    return f"{value:.2f} P"


def render_summaries(result, only=None, compute: bool = True) -> str:
    """Summaries of every evaluated model of a check result (or only ONLY)."""
    parts = []
    model = CostModel()
    for name, graph in result.graphs.items():
        if only is None or name == only:
            parts.append(render_graph(graph, compute, model))
    for name in result.skipped:
        if only is None or name == only:
            parts.append(f'Model: "{name}" was not evaluated (see the diagnostics above)\n')
    return "\n".join(parts)
