"""The MACs of kd's arithmetic on tensors (`a + b` ... compile to
keras.ops.add ...) and of the keras.ops calls kdsl will type."""

from __future__ import annotations

from typing import Optional, Sequence

from ..base import TensorType
from .registry import per_example, times

# One operation per output element (Python numbers broadcast for free).
_ELEMENTWISE = frozenset(
    {"+", "-", "*", "/", "add", "subtract", "multiply", "divide", "true_divide", "maximum", "minimum"}
)


# The ops Keras computes a mask with (dsl/check/masks.py): comparisons,
# logic and copies, no multiply-accumulate, as kdsl counts Masking (0).
_MASK_OPS = frozenset({"not_equal", "any", "logical_or", "expand_dims", "zeros_like", "ones_like", "concatenate",
                       "convert_to_tensor"})


def op_macs(name: str, inputs: Sequence, output: TensorType) -> Optional[int]:
    """The MACs of one example of `name(*inputs) -> output`: for the
    elementwise operators (+ - * / and keras.ops add, subtract, multiply,
    divide, true_divide, maximum, minimum) one per output element; for
    matmul, output elements * the contracted size; 0 for the ops of a mask
    (not_equal, any, logical_or, expand_dims, zeros_like, ones_like,
    concatenate, convert_to_tensor).  None for an operation kdsl does not cost or an unknown
    dimension."""
    if name in _MASK_OPS:
        return 0
    if name in _ELEMENTWISE:
        return per_example(output.shape)
    if name == "matmul":
        a = inputs[0]
        if not isinstance(a, TensorType) or a.shape is None:
            return None
        return times(per_example(output.shape), a.shape[-1])
    return None


def op_names() -> frozenset:
    """The operation names op_macs costs."""
    return _ELEMENTWISE | _MASK_OPS | {"matmul"}
