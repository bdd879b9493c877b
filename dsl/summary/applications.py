"""The layers inside a keras.applications model used as a layer, from the
checker's replay of its recorded graph (dsl/check/applications.py): what
`kdsl summary --format json` nests under the application's row, and what
the row's compute and memory sum."""

from __future__ import annotations

from ..records import record
from typing import Optional

from ..check.applications import replay_run
from ..shapes import costs
from ..shapes.base import RuleError, TensorType
from ..shapes.costs.registry import per_example
from .figures import CallCost, RowCost, costs_sum

# The numpy operations recorded in application graphs, by class, as
# dsl.shapes.costs.op_macs names them.
_NUMPY_OPS = {"Add": "add", "Multiply": "multiply", "Subtract": "subtract", "Divide": "divide"}


@record(frozen=True)
class ReplayedCall:
    """One call of an op of the replay."""

    inbound: tuple  # (op index, call, tensor) per tensor read, in argument order
    outputs: tuple  # TensorTypes


@record(frozen=True)
class ReplayedLayer:
    """One op of an application's graph, as a row of its nested table."""

    name: str
    cls: str
    kind: str  # "input", "op" (a numpy operation) or "layer"
    calls: tuple  # ReplayedCall
    weights: tuple  # shapes.base.Weight of its first call
    cost: RowCost


def replay_for(inst, input_type: TensorType):
    """The replay (check.applications._Replay) of application instance INST
    called on INPUT_TYPE, or None when kdsl cannot replay it: an argument
    that changes the architecture, or an input of unknown shape."""
    graph = inst.graph if isinstance(inst.graph, dict) else None
    if graph is None or graph.get("unknown") or input_type.shape is None:
        return None
    try:
        return replay_run(inst.cls, inst.args, TensorType(input_type.shape, "float32"), graph["input"])
    except RuleError:  # not reached for a graph the checker accepted
        return None


def _refs(value) -> list:
    """Every `{"@": [op, call, output]}` reference in a recorded argument."""
    if isinstance(value, dict) and set(value) == {"@"}:
        return [tuple(value["@"])]
    if isinstance(value, (list, tuple)):
        return [r for v in value for r in _refs(v)]
    return []


def _kind(op: dict) -> str:
    if op["class"] == "InputLayer":
        return "input"
    if op.get("module") == "keras.src.ops.numpy":
        return "op"
    return "layer"


def _call_cost(run, index: int, number: int, op: dict, inputs: list, outputs: list) -> CallCost:
    """The MACs and output bytes of call NUMBER of op INDEX."""
    cls, activation = op["class"], costs.activation_bytes(outputs)
    if cls == "InputLayer":
        return CallCost(0, activation)
    if cls in _NUMPY_OPS:
        return CallCost(costs.op_macs(_NUMPY_OPS[cls], inputs, outputs[0]), activation)
    if cls in ("LayerScale", "CustomScaleLayer"):
        # ConvNeXt's x * gamma and Inception-ResNet's x + r * scale: one
        # multiply (or multiply-add) per element, as Rescaling counts.
        return CallCost(per_example(outputs[0].shape), activation)
    pairs = run.layer_calls.get((index, number), [])
    return CallCost(costs_sum(costs.layer_macs(c, r) for c, r in pairs) if pairs else None, activation)


def _weight_bytes(run, index: int, op: dict) -> Optional[int]:
    if op["class"] in ("InputLayer", "CustomScaleLayer") or op["class"] in _NUMPY_OPS:
        return 0
    if op["class"] == "LayerScale":
        return costs.weight_bytes(run.op_weights[index])
    pairs = run.layer_calls.get((index, 0), [])
    return sum(costs.layer_weight_bytes(c, r) for c, r in pairs) if pairs else None


def replay_layers(run) -> list:
    """The ReplayedLayers of a replay, in the order of the application's
    `model.layers`."""
    layers = []
    for index, op in enumerate(run.ops):
        calls, call_costs = [], []
        for number, call in enumerate(op["calls"]):
            outputs = list(run.results[index][number])
            inputs = [run.ref(a) for a in call["args"]]
            calls.append(ReplayedCall(tuple(r for r in _refs(call["args"])), tuple(outputs)))
            call_costs.append(_call_cost(run, index, number, op, inputs, outputs))
        cost = RowCost(tuple(call_costs), _weight_bytes(run, index, op))
        layers.append(ReplayedLayer(op["name"], op["class"], _kind(op), tuple(calls), run.op_weights[index], cost))
    return layers


def replay_op_costs(run) -> list:
    """The RowCost of every op of a replay."""
    return [layer.cost for layer in replay_layers(run)]


def replay_outputs(run) -> list:
    """(op index, call, tensor) of each of the application's outputs."""
    return [r for ref in run.outputs for r in _refs(ref)]
