"""Compute and memory of each row of a model's table, for one example.

The per-layer formulas are dsl/shapes/costs's (docs/costs.md); this module
applies them to the checker's graph: it runs each layer's shape rule again on
the types of each call (the graph keeps the types, not the rule's call), sums
a shared layer's calls, and a nested model's or application's layers.
"""

from __future__ import annotations

import re
from typing import Optional

from ..check.graph import InputSpec, keras_order
from ..check.values import Tensor, UnknownDim
from ..shapes import base as rules
from ..shapes import costs
from ..shapes.base import LayerSpec, RuleError, TensorType
from .applications import replay_for, replay_op_costs
from .figures import CallCost, RowCost, Totals, costs_sum, sum_rows


def _types(value):
    """A call argument as shape rules see it (what the evaluator passed)."""
    if isinstance(value, Tensor):
        return value.type
    if isinstance(value, (list, tuple)):
        return type(value)(_types(v) for v in value)
    if isinstance(value, UnknownDim):
        return None
    if isinstance(value, range):
        return tuple(value)
    return value


def _unknown(value) -> bool:
    if isinstance(value, TensorType):
        return value.shape is None
    if isinstance(value, (list, tuple)):
        return any(_unknown(v) for v in value)
    return False


def output_types(outputs) -> list:
    """Every TensorType of a node's outputs (a Tensor or a nested list of them)."""
    if isinstance(outputs, Tensor):
        return [outputs.type]
    if isinstance(outputs, (list, tuple)):
        return [t for o in outputs for t in output_types(o)]
    return []


def _activation(node) -> Optional[int]:
    types = output_types(node.outputs)
    return costs.activation_bytes(types) if types else None


def _op_name(cls: str) -> str:
    """The keras.ops name of an operation row's class (`TrueDivide` ->
    `true_divide`). Negation, `0 - x` in kd's typing, costs one subtract
    per element."""
    if cls == "Negative":
        return "-"
    return re.sub(r"(?<!^)(?=[A-Z])", "_", cls).lower()


class CostModel:
    """The costs of the rows of model graphs, remembering nested models'
    totals and applications' replays, which several rows may need."""

    def __init__(self):
        self._totals: dict = {}
        self._replays: dict = {}
        self._rows: dict = {}

    # ----------------------------------------------------------- rows

    def row(self, op) -> RowCost:
        """The costs of one row (an InputSpec or an Instance of keras_order)."""
        key = id(op)
        if key not in self._rows:
            self._rows[key] = (op, self._row(op))  # the op is kept so its id stays its own
        return self._rows[key][1]

    def _row(self, op) -> RowCost:
        if isinstance(op, InputSpec):
            return RowCost((CallCost(0, costs.activation_bytes(op.tensor.type)),), 0)
        kind = op.kind
        if kind == "layer":
            return self._layer(op)
        if kind == "op":
            calls = tuple(CallCost(self._op_macs(op, node), _activation(node)) for node in op.calls)
            return RowCost(calls, 0)
        if kind == "model":
            return self._model(op)
        if kind == "application":
            return self._application(op)
        # A custom layer: kdsl knows its shapes (annotated), not its arithmetic.
        return RowCost(tuple(CallCost(None, _activation(node)) for node in op.calls), None)

    def layer_call(self, inst, node):
        """(LayerCall, Result) of NODE, a call of the Keras layer INST, as the
        evaluator ran its shape rule; None when no rule could run."""
        rule = rules.lookup(inst.cls)
        inputs = tuple(_types(a) for a in node.inputs)
        kwargs = {k: _types(v) for k, v in node.call_kwargs.items()}
        if rule is None or _unknown(inputs) or _unknown(tuple(kwargs.values())):
            return None
        call = rules.LayerCall(LayerSpec(inst.cls, inst.args), inputs, kwargs)
        try:
            return call, rule(call)
        except RuleError:  # not reached for a graph the checker accepted
            return None

    def _layer(self, inst) -> RowCost:
        calls, weights = [], None
        for number, node in enumerate(inst.calls):
            ran = self.layer_call(inst, node)
            macs = None if ran is None else costs.layer_macs(*ran)
            calls.append(CallCost(macs, _activation(node)))
            if number == 0 and ran is not None and inst.weights is not None:
                weights = costs.layer_weight_bytes(*ran)
        return RowCost(tuple(calls), weights)

    @staticmethod
    def _op_macs(inst, node) -> Optional[int]:
        outputs = output_types(node.outputs)
        if len(outputs) != 1 or outputs[0].shape is None:
            return None
        inputs = [_types(a) for a in node.inputs]
        return costs.op_macs(_op_name(inst.cls), inputs, outputs[0])

    def _model(self, inst) -> RowCost:
        nested = self.totals(inst.graph)
        declared = [spec.tensor.shape for spec in inst.graph.inputs]
        exact_macs = not nested.unknown_macs
        calls = []
        for node in inst.calls:
            # Called on the shapes it was built for, it does its own layers'
            # work; on other shapes (Keras re-runs it) kdsl does not sum it.
            same = [t.shape for t in node.input_tensors()] == declared
            calls.append(CallCost(nested.macs if exact_macs and same else None, _activation(node)))
        weights = None if nested.unknown_weights else nested.weight_bytes
        return RowCost(tuple(calls), weights)

    def replay(self, inst, input_type: TensorType):
        """The replay of application INST on INPUT_TYPE, or None when kdsl
        cannot replay it (a non-default architecture, an unknown input)."""
        key = (id(inst), input_type.shape)
        if key not in self._replays:
            self._replays[key] = (inst, replay_for(inst, input_type))
        return self._replays[key][1]

    def _application(self, inst) -> RowCost:
        calls, weights = [], None
        for number, node in enumerate(inst.calls):
            tensors = node.input_tensors()
            run = self.replay(inst, tensors[0].type) if len(tensors) == 1 else None
            ops = replay_op_costs(run) if run is not None else None
            macs = None if ops is None else costs_sum(c.macs for row in ops for c in row.calls)
            calls.append(CallCost(macs, _activation(node)))
            if number == 0 and ops is not None:
                weights = costs_sum(row.weight_bytes for row in ops)
        return RowCost(tuple(calls), weights)

    # --------------------------------------------------------- totals

    def totals(self, graph) -> Totals:
        """The sums over the rows of GRAPH (a ModelGraph)."""
        key = id(graph)
        if key not in self._totals:
            self._totals[key] = (graph, sum_rows([(op.name, self.row(op)) for op in keras_order(graph)]))
        return self._totals[key][1]
