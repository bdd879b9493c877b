"""`kdsl summary --format json`: the summary document, schema v1
(docs/summary-json.md). `kdsl graph` and `kdsl diff` read the same data."""

from __future__ import annotations

import json
import math
from typing import Optional

from .. import __version__, codes
from .. import catalog as kcat
from ..check.graph import InputSpec, keras_order
from ..check.values import Instance, KerasObject, Tensor, UnknownDim
from ..shapes.base import LayerSpec
from .applications import replay_layers, replay_outputs
from .costs import CostModel, output_types
from .counts import Counts, graph_counts, instance_counts, type_name
from .figures import sum_rows

SCHEMA = "kdsl-summary"
VERSION = 1


def summary_document(result, file: str, only: Optional[str] = None) -> dict:
    """The summary document of a check RESULT of FILE (every evaluated model,
    or only the one named ONLY)."""
    builder = _Builder()
    models = [builder.model(graph) for name, graph in result.graphs.items() if only is None or name == only]
    skipped = [{"name": name, "reason": _skip_reason(result, name)} for name in result.skipped if only is None or name == only]
    return {"schema": SCHEMA, "version": VERSION, "kdsl": __version__, "file": file, "models": models, "skipped": skipped}


def _skip_reason(result, name: str) -> str:
    """Why model NAME was not evaluated: its KD skip diagnostic's message,
    or the first error."""
    for d in result.diagnostics:
        if d.code == codes.MODEL_SKIPPED and f"`{name}`" in d.message:
            return d.message
    errors = [d for d in result.diagnostics if d.is_error]
    return f"an error stopped its evaluation: {errors[0].message}" if errors else "it could not be evaluated"


def to_json(document) -> str:
    """DOCUMENT as JSON text, one key a line, indented by 1; on one line:
    arrays that hold no object (a shape, a list of shapes) and short objects
    of plain values (a source place, a tensor read)."""
    return _dump(document, 0)


def _flat(value) -> bool:
    """No object in it but objects of plain values."""
    if isinstance(value, dict):
        return all(not isinstance(v, (dict, list)) for v in value.values())
    if isinstance(value, list):
        return all(_flat(v) for v in value)
    return True


def _has_object(value) -> bool:
    return isinstance(value, dict) or (isinstance(value, list) and any(_has_object(v) for v in value))


def _dump(value, depth: int) -> str:
    text = json.dumps(value, ensure_ascii=False)
    if _flat(value) and (not _has_object(value) or len(text) <= 80):
        return text
    pad, inner = " " * depth, " " * (depth + 1)
    if isinstance(value, dict):
        items = [f"{inner}{json.dumps(k, ensure_ascii=False)}: {_dump(v, depth + 1)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + f"\n{pad}}}"
    return "[\n" + ",\n".join(inner + _dump(v, depth + 1) for v in value) + f"\n{pad}]"


# --------------------------------------------------------------- values


def json_shape(shape):
    """A shape as JSON: a list, null for an unknown dimension; null for an
    unknown rank."""
    return None if shape is None else [d if isinstance(d, int) else None for d in shape]


def kd_text(value) -> str:
    """VALUE in kd's notation, for arguments JSON cannot hold as constants."""
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, tuple):
        inner = ", ".join(kd_text(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, list):
        return "[" + ", ".join(kd_text(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{kd_text(k)}: {kd_text(v)}" for k, v in value.items()) + "}"
    if isinstance(value, LayerSpec):
        return f"{value.cls}({_call_text(_layer_arguments(value.cls, value.args))})"
    if isinstance(value, KerasObject):
        parts = [kd_text(a) for a in value.args] + [f"{k}={kd_text(v)}" for k, v in value.kwargs.items()]
        return f"{value.name}({', '.join(parts)})"
    if isinstance(value, Instance):
        return value.label
    if isinstance(value, UnknownDim):
        return "None"
    return repr(value)


def _call_text(arguments: dict) -> str:
    return ", ".join(f"{k}={kd_text(v)}" for k, v in arguments.items())


def json_value(value):
    """An argument value as JSON: constants as they are (tuples as arrays),
    anything else as a string in kd's notation."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else kd_text(value)
    if isinstance(value, (list, tuple)):
        return [json_value(v) for v in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {k: json_value(v) for k, v in value.items()}
    return kd_text(value)


def _compile_entry(graph) -> Optional[dict]:
    """The model's compile settings as written (each keyword's value as
    JSON), or None when the model has no `compile(...)`."""
    if graph.compile is None:
        return None
    return {keyword: json_value(value) for keyword, value in graph.compile.items()}


def _layout_entry(graph) -> Optional[dict]:
    """The model's `layout(...)`: its mesh, each rule with the weights it
    places, the weights no rule places; None when the model has none."""
    layout = graph.layout
    if layout is None:
        return None
    return {
        "mesh": dict(layout.mesh),
        "rules": [{"pattern": e.pattern.text, "axes": list(e.axes), "weights": [w.path for w in e.matches]}
                  for e in layout.entries],
        "replicated": [w.path for w in layout.replicated],
        "unknown": list(layout.unknown),
    }


def _layer_arguments(cls: str, args: dict) -> dict:
    """ARGS of Keras layer class CLS whose values differ from its defaults
    (and not `name`, which the entry holds)."""
    cat = kcat.load()
    info = cat.layer(cls)
    defaults = {p.name: p.default for p in cat.base_layer_kwargs()}
    if info is not None:
        defaults.update({p.name: p.default for p in info.signature.params if not p.required})
    return {k: v for k, v in args.items() if k != "name" and (k not in defaults or json_value(v) != json_value(defaults[k]))}


def _arguments(inst) -> dict:
    """The constructor's arguments of a row, as the schema gives them."""
    if inst.kind == "layer":
        args = _layer_arguments(inst.cls, inst.args)
    elif inst.kind == "application":
        info = kcat.load().application(inst.cls)
        defaults = {p.name: p.default for p in info.signature.params if not p.required}
        args = {k: v for k, v in inst.args.items()
                if k != "name" and (k not in defaults or json_value(v) != json_value(defaults[k]))}
    elif inst.kind == "custom":
        args = {k: v for k, v in inst.args.items() if k != "name" and not (k == "args" and not v)}
    else:  # a kd model: its parameters; an operation: none
        args = dict(inst.args)
    return {k: json_value(v) for k, v in args.items()}


def _source(span, filename: str) -> dict:
    return {"file": filename, "line": span.line, "column": span.col}


def _block_id(block) -> Optional[int]:
    return None if block is None else block.id


# ---------------------------------------------------------------- models


class _Builder:
    """Builds MODEL entries, sharing one CostModel (nested models' totals and
    applications' replays are computed once)."""

    def __init__(self):
        self.costs = CostModel()

    def model(self, graph, frozen: bool = False) -> dict:
        """The MODEL entry of a ModelGraph; FROZEN: it is a nested model set
        `trainable = False`, which freezes every layer in it, as in Keras."""
        ops = keras_order(graph)
        layers = [self._input(op) if isinstance(op, InputSpec) else self._layer(op, frozen) for op in ops]
        return {
            "name": graph.name,
            "parameters": {k: json_value(v) for k, v in graph.params.items()},
            "inputs": [{"name": s.name, "shape": json_shape(s.tensor.shape), "dtype": s.tensor.dtype} for s in graph.inputs],
            "outputs": [self._output(o) for o in graph.outputs],
            "compile": _compile_entry(graph),
            "layout": _layout_entry(graph),
            "layers": layers,
            "blocks": _blocks(graph, layers),
            "totals": totals_entry(_frozen(graph_counts(graph), frozen), self.costs.totals(graph)),
        }

    @staticmethod
    def _output(spec) -> dict:
        tensor = spec.tensor
        if not isinstance(tensor, Tensor):
            return {"name": spec.name, "layer": None, "shape": None, "dtype": None}
        producer = tensor.node.instance.name if tensor.node is not None else tensor.input_of.name
        return {"name": spec.name, "layer": producer, "shape": json_shape(tensor.shape), "dtype": tensor.dtype}

    def _input(self, spec) -> dict:
        shape = json_shape(spec.tensor.shape)
        source = _source(spec.span, spec.filename)
        cost = self.costs.row(spec)
        return {
            "name": spec.name, "class": "InputLayer", "kind": "input", "output_shapes": [shape],
            "dtype": spec.tensor.dtype, "params": 0, "trainable": 0, "non_trainable": 0, "frozen": False,
            "arguments": {}, "inbound": [],
            "calls": [{"inbound": [], "output_shapes": [shape], "block": None, "source": source,
                       "macs": 0, "activation_bytes": cost.activation_bytes}],
            "shared": False, "block": None, "source": source,
            "macs": 0, "activation_bytes": cost.activation_bytes, "weight_bytes": 0,
        }

    def _layer(self, inst, frozen: bool) -> dict:
        counts = _frozen(instance_counts(inst), frozen)
        known = not counts.unknown
        cost = self.costs.row(inst)
        calls = [self._call(node, call_cost) for node, call_cost in zip(inst.calls, cost.calls)]
        first = output_types(inst.calls[0].outputs) if inst.calls else []
        inbound = list(dict.fromkeys(read["layer"] for call in calls for read in call["inbound"]))
        entry = {
            "name": inst.name,
            "class": type_name(inst),
            "kind": inst.kind,
            "output_shapes": [json_shape(t.shape) for t in first],
            "dtype": first[0].dtype if first else None,
            "params": counts.total if known else None,
            "trainable": counts.trainable if known else None,
            "non_trainable": counts.non_trainable if known else None,
            "frozen": frozen or not inst.trainable,
            "arguments": _arguments(inst),
            "inbound": inbound,
            "calls": calls,
            "shared": len(inst.calls) > 1,
            "block": calls[0]["block"] if calls else None,
            "source": _source(inst.span, inst.filename),
            "macs": cost.macs,
            "activation_bytes": cost.activation_bytes,
            "weight_bytes": cost.weight_bytes,
        }
        if inst.kind == "model":
            entry["model"] = self.model(inst.graph, entry["frozen"])
        elif inst.kind == "application":
            entry["model"] = self._application_model(inst, entry["frozen"])
        return entry

    @staticmethod
    def _call(node, cost) -> dict:
        reads = []
        for tensor in node.input_tensors():
            if tensor.node is None:
                name = tensor.input_of.name if tensor.input_of is not None else None
                reads.append({"layer": name, "call": 0, "tensor": 0})
            else:
                producer = tensor.node.instance
                number = producer.calls.index(tensor.node) if tensor.node in producer.calls else 0
                reads.append({"layer": producer.name, "call": number, "tensor": tensor.index})
        return {
            "inbound": reads,
            "output_shapes": [json_shape(t.shape) for t in output_types(node.outputs)],
            "block": _block_id(node.block),
            "source": _source(node.span, node.filename),
            "macs": cost.macs,
            "activation_bytes": cost.activation_bytes,
        }

    def _application_model(self, inst, frozen: bool) -> Optional[dict]:
        """The MODEL of an application used as a layer: its own graph, as
        Keras builds it for its declared input (a call on a larger image
        does not change it, as a kd model's graph is the one evaluated for
        its declared inputs); None when kdsl cannot replay it."""
        declared = inst.graph.get("input") if isinstance(inst.graph, dict) else None
        run = self.costs.replay(inst, declared) if declared is not None else None
        return None if run is None else application_document(inst, run, frozen)


def _frozen(counts: Counts, frozen: bool) -> Counts:
    """COUNTS with every weight non-trainable when FROZEN."""
    return Counts(0, counts.total, counts.unknown) if frozen else counts


def totals_entry(counts, figures) -> dict:
    """The TOTALS entry of parameter Counts and cost Totals."""
    return {
        "params": counts.total, "trainable": counts.trainable, "non_trainable": counts.non_trainable,
        "exact": not counts.unknown, "unknown": list(counts.unknown),
        "macs": figures.macs, "activation_bytes": figures.activation_bytes, "weight_bytes": figures.weight_bytes,
        "costs_unknown": {"macs": list(figures.unknown_macs), "activation_bytes": list(figures.unknown_activation),
                          "weight_bytes": list(figures.unknown_weights)},
    }


def _blocks(graph, layers: list) -> list:
    """The BLOCK entries of the block calls that hold a row of the table
    (directly or in a nested call): a call whose layers all fall outside
    the model draws nothing."""
    used, by_id = set(), {call.id: call for call in graph.block_calls}
    for entry in layers:
        for call in entry["calls"]:
            block = by_id.get(call["block"])
            while block is not None and block.id not in used:
                used.add(block.id)
                block = block.parent
    return [
        {"id": b.id, "block": b.block, "call": b.call, "parent": _block_id(b.parent), "source": _source(b.span, b.filename)}
        for b in graph.block_calls if b.id in used
    ]


# ---------------------------------------------------------- applications


def application_document(inst, run, frozen: bool = False) -> dict:
    """The MODEL entry of application INST from its replay RUN: one layer per
    op of Keras's recorded graph, without blocks or sources of their own
    (they are Keras's code, not kd's); each layer's source is the
    application's construction."""
    layers = replay_layers(run)
    frozen = frozen or not inst.trainable
    source = _source(inst.span, inst.filename)
    entries = [_replayed_entry(layer, layers, frozen, source) for layer in layers]
    inputs = [e for e in entries if e["kind"] == "input"]
    outputs = []
    for op, call, tensor in replay_outputs(run):
        out = layers[op].calls[call].outputs[tensor]
        outputs.append({"name": layers[op].name, "layer": layers[op].name, "shape": json_shape(out.shape), "dtype": out.dtype})
    counts = Counts(sum(e["trainable"] for e in entries), sum(e["non_trainable"] for e in entries))
    return {
        "name": inst.name,
        "parameters": {k: json_value(v) for k, v in inst.args.items()},
        "inputs": [{"name": e["name"], "shape": e["output_shapes"][0], "dtype": e["dtype"]} for e in inputs],
        "outputs": outputs,
        "compile": None,  # an application is built uncompiled
        "layout": None,
        "layers": entries,
        "blocks": [],
        "totals": totals_entry(counts, sum_rows([(layer.name, layer.cost) for layer in layers])),
    }


def _replayed_entry(layer, layers: list, frozen: bool, source: dict) -> dict:
    trainable = sum(w.size for w in layer.weights if w.trainable and not frozen)
    total = sum(w.size for w in layer.weights)
    calls = []
    for call, cost in zip(layer.calls, layer.cost.calls):
        calls.append({
            "inbound": [{"layer": layers[op].name, "call": number, "tensor": tensor} for op, number, tensor in call.inbound],
            "output_shapes": [json_shape(t.shape) for t in call.outputs],
            "block": None, "source": source, "macs": cost.macs, "activation_bytes": cost.activation_bytes,
        })
    first = layer.calls[0].outputs if layer.calls else ()
    return {
        "name": layer.name, "class": layer.cls, "kind": layer.kind,
        "output_shapes": [json_shape(t.shape) for t in first], "dtype": first[0].dtype if first else None,
        "params": total, "trainable": trainable, "non_trainable": total - trainable, "frozen": frozen,
        "arguments": {}, "inbound": list(dict.fromkeys(r["layer"] for c in calls for r in c["inbound"])),
        "calls": calls, "shared": len(calls) > 1, "block": None, "source": source,
        "macs": layer.cost.macs, "activation_bytes": layer.cost.activation_bytes, "weight_bytes": layer.cost.weight_bytes,
    }


__all__ = ["SCHEMA", "VERSION", "summary_document", "to_json", "application_document", "json_shape", "json_value", "kd_text"]
