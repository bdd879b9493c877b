"""`kdsl summary`: a layer table per model, like Keras's model.summary(),
computed from the checker's graph without importing Keras."""

from __future__ import annotations

from dataclasses import dataclass

from . import catalog as kcat
from .check.layout_checks import layout_lines
from .check.values import Tensor, format_shape

_DTYPE_BYTES = {"float16": 2, "bfloat16": 2, "float64": 8}


@dataclass
class Counts:
    trainable: int = 0
    non_trainable: int = 0
    unknown: tuple = ()  # names of layers whose count is unknown

    @property
    def total(self) -> int:
        return self.trainable + self.non_trainable


def instance_counts(inst) -> Counts:
    """Trainable and non-trainable parameters of one instance."""
    if inst.weights is None:
        return Counts(unknown=(inst.name,))
    counts = Counts()
    for weight in inst.weights:
        if weight.trainable and inst.trainable:
            counts.trainable += weight.size
        else:
            counts.non_trainable += weight.size
    return counts


def graph_counts(graph) -> Counts:
    """Totals of a model graph, as Keras's count_params() and summary give
    them: over the layers between the inputs and the outputs only."""
    total = Counts()
    unknown = []
    for inst in graph.model_layers():
        counts = instance_counts(inst)
        total.trainable += counts.trainable
        total.non_trainable += counts.non_trainable
        unknown.extend(counts.unknown)
    total.unknown = tuple(unknown)
    return total


def readable_size(count: int, bytes_per_param: int = 4) -> str:
    """Bytes of COUNT float32 weights in Keras's units (1024-based)."""
    size = float(count * bytes_per_param)
    for unit in ["B", "KB", "MB", "GB", "TB"]:
        if size / 1024 < 1:
            return f"{size:.2f} {unit}"
        size /= 1024
    return f"{size:.2f} PB"


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


def _rows(graph) -> list:
    """One row per layer, in the order of Keras's model.layers."""
    from .check.graph import InputSpec, keras_order

    rows = []
    for op in keras_order(graph):
        if isinstance(op, InputSpec):
            rows.append((f"{op.name} (InputLayer)", format_shape(op.tensor.shape), "0", "-"))
        else:
            counts = instance_counts(op)
            params = "?" if counts.unknown else f"{counts.total:,}"
            rows.append((f"{op.name} ({type_name(op)})", _output_shape(op), params, _connected(op)))
    return rows


def type_name(inst) -> str:
    """The class Keras shows for an instance: `Functional` for models,
    the class's own name for layers, custom layers and operations."""
    if inst.kind in ("model", "application"):
        return "Functional"
    if inst.kind == "layer":
        return kcat.load().layer(inst.cls).keras_class
    return inst.cls


def _table(rows: list) -> list:
    headers = ("Layer (type)", "Output Shape", "Param #", "Connected to")
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]

    def line(cells):
        parts = [c.ljust(w) if i != 2 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths))]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return [line(headers), rule, *(line(r) for r in rows), rule]


def render_graph(graph) -> str:
    """The summary of one model graph."""
    counts = graph_counts(graph)
    out = [f'Model: "{graph.name}"', *_table(_rows(graph))]
    for label, count in (("Total", counts.total), ("Trainable", counts.trainable), ("Non-trainable", counts.non_trainable)):
        out.append(f" {label} params: {_total_text(count, counts.unknown)}")
    out += layout_lines(graph)
    return "\n".join(out) + "\n"


def _total_text(count: int, unknown: tuple) -> str:
    """A total line's figure: exact, or a lower bound naming every layer
    whose count is unknown."""
    if unknown:
        return f"at least {count:,} (unknown for {', '.join(unknown)})"
    return f"{count:,} ({readable_size(count)})"


def render_summaries(result, only=None) -> str:
    """Summaries of every evaluated model of a check result (or only ONLY)."""
    parts = []
    for name, graph in result.graphs.items():
        if only is None or name == only:
            parts.append(render_graph(graph))
    for name in result.skipped:
        if only is None or name == only:
            parts.append(f'Model: "{name}" was not evaluated (see the diagnostics above)\n')
    return "\n".join(parts)
