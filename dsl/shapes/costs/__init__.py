"""Static compute and memory costs of Keras layers, per example.

    macs = layer_macs(call, result)        # int, or None when unknown
    activation_bytes(result.outputs)       # bytes of one example's outputs
    weight_bytes(result.weights, "float32")
    layer_costs(call, result)              # all three, the weights at the layer's variable dtype

`call` and `result` are what a shape rule took and gave (dsl.shapes.base).
The definitions, formula by formula, are in docs/costs.md.
"""

from __future__ import annotations

from ...records import record
from typing import Optional

from ..base import LayerCall, Result
from . import contraction, elementwise  # noqa: F401  (imported to register their rules)
from .memory import activation_bytes, dtype_bytes, layer_weight_bytes, variable_dtype, weight_bytes
from .ops import op_macs, op_names
from .registry import UNCOUNTED, cost_rule_classes, layer_macs, zero_cost_classes


@record(frozen=True, slots=True)
class LayerCosts:
    """What one layer call costs for one example."""

    macs: Optional[int]
    activation_bytes: Optional[int]
    weight_bytes: int


def layer_costs(call: LayerCall, result: Result) -> LayerCosts:
    """MACs, output bytes and weight bytes of CALL, whose shape rule gave RESULT."""
    return LayerCosts(layer_macs(call, result), activation_bytes(result.outputs), layer_weight_bytes(call, result))


def uncounted_classes() -> frozenset:
    """Classes with a shape rule that kdsl does not cost (their macs are None)."""
    return UNCOUNTED


__all__ = [
    "LayerCosts",
    "activation_bytes",
    "cost_rule_classes",
    "dtype_bytes",
    "layer_costs",
    "layer_macs",
    "layer_weight_bytes",
    "op_macs",
    "op_names",
    "uncounted_classes",
    "variable_dtype",
    "weight_bytes",
    "zero_cost_classes",
]
