"""Where TensorFlow's eager kernels differ from compute_output_spec.

An op whose arguments are all constants (an `OpCall` with `eager` set, such
as `ops.sin(ops.arange(16))`) does not go through compute_output_spec:
Keras runs the TensorFlow backend at once, while the generated module is
being built.  For floating-point inputs the types agree; for the others
some kernels differ.  `eager_adjust` applies the differences, as
keras/src/backend/tensorflow/{numpy,nn,math}.py and TensorFlow's kernels
show them (tests/test_op_rules.py compares every case with TensorFlow).
`infer_op` applies them to the type compute_output_spec gives:

* the activations and special functions below take floats only;
* bool tensors have no arithmetic (`add` of two bool tensors) and no order,
  and a Python bool does not convert to bfloat16;
* reciprocal and logsumexp keep a float input's dtype (compute_output_spec
  says float32);
* leaky_relu computes integers in float32;
* logaddexp, arctan2, mod and fmod convert a Python number to a tensor
  first, so it is not a weak type there.
"""

from __future__ import annotations

from typing import Any, Callable

from ... import codes
from ..base import TensorType
from .base import EAGER_ADJUSTMENTS, OpCall
from .common import FLOATX, fail, result_type
from .elementwise import PROMOTE, PROMOTE_FLOAT

# TensorFlow kernels registered for floating-point types only.
FLOAT_KERNELS = frozenset(
    {
        "sigmoid", "silu", "swish", "elu", "selu", "gelu", "celu", "hard_sigmoid", "hard_silu", "hard_swish",
        "hard_tanh", "hard_shrink", "soft_shrink", "softplus", "softsign", "sparse_plus", "sparse_sigmoid",
        "squareplus", "tanh_shrink", "log_sigmoid", "threshold", "erf", "erfinv", "erfc", "rsqrt", "softmax",
        "log_softmax", "reciprocal", "logsumexp",
    }
)

# Unary kernels without a bool version.
NO_BOOL_UNARY = frozenset({"relu", "relu6", "negative", "sign", "round", "leaky_relu"})

# Unary kernels without unsigned versions (negation).
NO_UNSIGNED_UNARY = frozenset({"negative"})

# Orderings without a bool kernel.
ORDERS = frozenset({"less", "less_equal", "greater", "greater_equal"})

_FLOATS = ("float16", "bfloat16", "float32", "float64")


def _input(call: OpCall) -> TensorType:
    return call.args["x"]


def _kernel_error(call: OpCall, dtype: str, what: str):
    return fail(
        call, codes.WRONG_DTYPE,
        f"on constant tensors Keras runs TensorFlow's kernel at once, and it takes {what}. Received: dtype {dtype}",
        hint='cast the constant first: ops.cast(..., "float32")',
    )


def _float_only(call: OpCall, out: TensorType) -> TensorType:
    x = _input(call)
    if x.dtype not in _FLOATS:
        raise _kernel_error(call, x.dtype, "floating-point tensors only")
    if call.name in ("reciprocal", "logsumexp"):
        return TensorType(out.shape, x.dtype)
    return out


def _unary_restricted(call: OpCall, out: TensorType) -> TensorType:
    x = _input(call)
    if x.dtype == "bool":
        raise _kernel_error(call, x.dtype, "no bool tensors")
    if call.name in NO_UNSIGNED_UNARY and x.dtype.startswith("uint"):
        raise _kernel_error(call, x.dtype, "no unsigned tensors")
    if call.name == "leaky_relu" and x.dtype not in _FLOATS:
        return TensorType(out.shape, FLOATX)
    return out


def _bool_dtype(value: Any) -> bool:
    return (isinstance(value, TensorType) and value.dtype == "bool") or isinstance(value, bool)


def _arithmetic(call: OpCall, out: TensorType) -> TensorType:
    """No bool arithmetic; and TensorFlow cannot convert a Python bool to
    bfloat16 to meet a bfloat16 tensor."""
    if out.dtype == "bool" and call.name in PROMOTE:
        raise _kernel_error(call, "bool", "no bool tensors")
    values = (call.args["x1"], call.args["x2"])
    if any(isinstance(v, bool) for v in values) and any(
        isinstance(v, TensorType) and v.dtype == "bfloat16" for v in values
    ):
        raise fail(call, codes.WRONG_DTYPE, "TensorFlow cannot convert a Python bool to bfloat16.", hint="write 1.0 or 0.0")
    return out


def _no_bool_order(call: OpCall, out: TensorType) -> TensorType:
    if _bool_dtype(call.args["x1"]) and _bool_dtype(call.args["x2"]):
        raise _kernel_error(call, "bool", "no bool tensors")
    return out


def _mod(call: OpCall, out: TensorType) -> TensorType:
    """mod, fmod: numbers converted to tensors first (not weak), bool as int32."""
    dtype = result_type(call, *(_tensor_dtype(call.args[p]) for p in ("x1", "x2")))
    return TensorType(out.shape, "int32" if dtype == "bool" else dtype)


def _strong_numbers(call: OpCall, out: TensorType) -> TensorType:
    """logaddexp, arctan2: both operands converted to tensors (int32,
    float32, bool), then promoted with a weak float."""
    dtypes = [_tensor_dtype(call.args[p]) for p in ("x1", "x2")]
    return TensorType(out.shape, result_type(call, *dtypes, float))


def _tensor_dtype(value: Any) -> str:
    """convert_to_tensor's dtype for a constant (TensorFlow: int -> int32)."""
    if isinstance(value, TensorType):
        return value.dtype
    if isinstance(value, bool):
        return "bool"
    return "int32" if isinstance(value, int) else "float32"


_ADJUSTMENTS: dict[str, Callable] = {
    **{name: _float_only for name in FLOAT_KERNELS},
    **{name: _unary_restricted for name in NO_BOOL_UNARY | NO_UNSIGNED_UNARY},
    **{name: _arithmetic for name in PROMOTE + PROMOTE_FLOAT if name != "logaddexp"},
    "mod": _mod,
    "fmod": _mod,
    **{name: _no_bool_order for name in ORDERS},
    "logaddexp": _strong_numbers,
    "arctan2": _strong_numbers,
}
EAGER_ADJUSTMENTS.update(_ADJUSTMENTS)
