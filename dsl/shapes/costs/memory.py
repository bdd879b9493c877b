"""Activation and weight memory of a layer, in bytes, from static types.

Activation memory is what one example's outputs occupy at their dtype;
weight memory what the layer's variables occupy at the variable dtype of its
dtype policy (float32 for "mixed_float16" and "mixed_bfloat16").
"""

from __future__ import annotations

from typing import Any, Iterable, Optional

from ..base import LayerCall, Result, TensorType, Weight, infer
from .registry import per_example

DTYPE_BYTES = {
    "bool": 1,
    "int8": 1,
    "uint8": 1,
    "int16": 2,
    "uint16": 2,
    "float16": 2,
    "bfloat16": 2,
    "int32": 4,
    "uint32": 4,
    "float32": 4,
    "int64": 8,
    "uint64": 8,
    "float64": 8,
    "complex64": 8,
    "complex128": 16,
}

# Variables whose dtype is not the policy's: Normalization keeps an integer
# `count` for old saved models (dtype "int", int64 on every backend's
# standardize_dtype), whatever its policy.
_FIXED_DTYPE = {("Normalization", "count"): "int64"}

_MIXED = ("mixed_float16", "mixed_bfloat16")


def dtype_bytes(dtype: str) -> Optional[int]:
    """The size of one element of DTYPE, or None for a dtype without a
    fixed size (string)."""
    return DTYPE_BYTES.get(dtype)


def _tensors(outputs: Any) -> list:
    """Every TensorType in a (nested) output structure."""
    if isinstance(outputs, TensorType):
        return [outputs]
    if isinstance(outputs, (list, tuple)):
        return [t for o in outputs for t in _tensors(o)]
    if isinstance(outputs, dict):
        return [t for o in outputs.values() for t in _tensors(o)]
    return []


def activation_bytes(outputs: Any) -> Optional[int]:
    """The bytes of one example of OUTPUTS (a TensorType or a nested list or
    tuple of them): for each tensor, the product of its dimensions after the
    batch one times its dtype's size; None when any of these is unknown."""
    size = 0
    for t in _tensors(outputs):
        count, item = per_example(t.shape), dtype_bytes(t.dtype)
        if count is None or item is None:
            return None
        size += count * item
    return size


def weight_bytes(weights: Iterable[Weight], variable_dtype: str = "float32") -> int:
    """The bytes of WEIGHTS when every one is stored as VARIABLE_DTYPE."""
    item = dtype_bytes(variable_dtype)
    if item is None:
        raise ValueError(f"no fixed size for variable dtype {variable_dtype!r}")
    return sum(w.size for w in weights) * item


def variable_dtype(args: Any) -> str:
    """The variable dtype of a layer's policy from its `dtype` argument (a
    mapping of arguments or the value itself): None -> float32, mixed
    policies -> float32, a dtype name -> itself.  A policy object is asked
    for its `variable_dtype` or `name`."""
    value = args.get("dtype") if hasattr(args, "get") and not isinstance(args, str) else args
    if value is None or value in _MIXED:
        return "float32"
    if not isinstance(value, str):
        inner = getattr(value, "variable_dtype", None) or getattr(value, "name", None)
        return variable_dtype(inner)
    return {"float": "float32", "double": "float64"}.get(value, value)


def _inner_calls(call: LayerCall) -> list:
    """The inner layer calls of a wrapper, whose weights it owns: each keeps
    its own dtype policy."""
    x = call.inputs[0]
    if call.cls == "TimeDistributed":
        x = TensorType(None if x.shape is None else (x.shape[0],) + tuple(x.shape[2:]), x.dtype)
        specs = [call.args["layer"]]
    else:
        specs = [call.args["layer"], call.args.get("backward_layer") or call.args["layer"]]
    return [LayerCall(spec, (x,)) for spec in specs]


def layer_weight_bytes(call: LayerCall, result: Result) -> int:
    """The bytes of the weights RESULT says CALL builds, each at the layer's
    variable dtype (or the fixed dtype Keras gives it); a wrapper's weights
    at its inner layers' dtypes."""
    if call.cls in ("Bidirectional", "TimeDistributed"):
        return sum(layer_weight_bytes(c, infer(c.spec, c.inputs)) for c in _inner_calls(call))
    default = variable_dtype(call.args)
    size = 0
    for w in result.weights:
        dtype = _FIXED_DTYPE.get((call.cls, w.name), default)
        size += weight_bytes([w], dtype)
    return size
