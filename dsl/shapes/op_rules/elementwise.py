"""Elementwise ops: math, activations, comparisons, logic, cast, where.

The output has the input's shape (unary ops) or the broadcast of the
operands' shapes (binary ops); each group below differs only in its dtype
rule, copied from the ops' compute_output_spec (keras/src/ops/numpy.py,
nn.py, math.py, core.py).  An operand that is not a tensor is a Python
number; Keras gives it shape () and, where it asks for a dtype, a weak type.
"""

from __future__ import annotations

from ... import codes
from ..base import TensorType
from .base import OpCall, op_rule
from .common import (
    FLOATX,
    broadcast,
    canonical_axes,
    fail,
    known_shape,
    operand_dtype,
    operand_shape,
    result_type,
    same,
    standardize_dtype,
    tensor,
)

# ---------------------------------------------------------------- unary

# `KerasTensor(x.shape, dtype=x.dtype)`: activations and value-preserving math.
SAME_DTYPE = (
    "abs", "absolute", "negative", "sign", "round", "trunc", "erf", "erfinv", "rsqrt", "nan_to_num",
    "relu", "relu6", "sigmoid", "silu", "swish", "elu", "selu", "gelu", "celu", "leaky_relu",
    "hard_sigmoid", "hard_silu", "hard_swish", "hard_tanh", "hard_shrink", "soft_shrink",
    "softplus", "softsign", "sparse_plus", "sparse_sigmoid", "squareplus", "tanh_shrink",
    "log_sigmoid", "threshold",
)

# `floatx if dtype == "int64" else result_type(dtype, float)`.
FLOAT_RESULT = (
    "sqrt", "log", "log2", "log10", "log1p", "ceil", "floor",
    "sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh",
    "arcsinh", "arccosh", "arctanh", "sinc",
)

# `floatx if "int" in dtype or dtype == "bool" else dtype`.
FLOAT_IF_INTEGER = ("exp", "exp2", "expm1")

# `KerasTensor(x.shape, dtype="bool")`.
BOOL_RESULT = ("logical_not", "isnan", "isinf", "isfinite", "isneginf", "isposinf")


@op_rule(*SAME_DTYPE)
def same_dtype(call: OpCall) -> TensorType:
    """Shape and dtype of x."""
    return same(tensor(call, "x"))


@op_rule(*FLOAT_RESULT)
def float_result(call: OpCall) -> TensorType:
    """Shape of x; a float dtype: int64 gives floatx, others their promotion with a weak float."""
    x = tensor(call, "x")
    return same(x, FLOATX if x.dtype == "int64" else result_type(call, x.dtype, float))


@op_rule(*FLOAT_IF_INTEGER)
def float_if_integer(call: OpCall) -> TensorType:
    """Shape of x; integers and bool give floatx, floats are kept."""
    x = tensor(call, "x")
    return same(x, FLOATX if "int" in x.dtype or x.dtype == "bool" else x.dtype)


@op_rule(*BOOL_RESULT)
def bool_result(call: OpCall) -> TensorType:
    """Shape of x, dtype bool."""
    return same(tensor(call, "x"), "bool")


@op_rule("square", "clip")
def bool_to_int32(call: OpCall) -> TensorType:
    """Shape and dtype of x, bool counted as int32 (Square, Clip)."""
    x = tensor(call, "x")
    return same(x, "int32" if x.dtype == "bool" else x.dtype)


@op_rule("reciprocal")
def reciprocal(call: OpCall) -> TensorType:
    """Reciprocal's `KerasTensor(x.shape)`: always floatx."""
    return same(tensor(call, "x"), FLOATX)


@op_rule("erfc")
def erfc(call: OpCall) -> TensorType:
    """Erfc: the promotion of x's dtype with a weak float."""
    x = tensor(call, "x")
    return same(x, result_type(call, x.dtype, float))


@op_rule("softmax", "log_softmax")
def softmax(call: OpCall) -> TensorType:
    """Shape and dtype of x, once `axis` (one or several) is checked."""
    x = tensor(call, "x")
    if call["axis"] is not None:
        canonical_axes(call, call["axis"], len(known_shape(call, x)))
    return same(x)


@op_rule("cast")
def cast(call: OpCall) -> TensorType:
    """Shape of x, the standardized `dtype`."""
    dtype = standardize_dtype(call, call["dtype"])
    return same(tensor(call, "x"), dtype)


# ---------------------------------------------------------------- binary

# `result_type(x1, x2)`: arithmetic that keeps the operands' promoted dtype.
PROMOTE = ("add", "subtract", "multiply", "maximum", "minimum", "power", "floor_divide", "fmax", "fmin")

# `result_type(x1, x2, float)`: division gives a float.
PROMOTE_FLOAT = ("divide", "true_divide", "divide_no_nan", "logaddexp")

# `KerasTensor(broadcast_shapes(...), dtype="bool")`: no dtype asked of the operands.
COMPARE = (
    "equal", "not_equal", "less", "less_equal", "greater", "greater_equal",
    "logical_and", "logical_or", "logical_xor",
)


def _operands(call: OpCall) -> tuple:
    """The two operands x1, x2, at least one of them a tensor (else the call
    is constant arithmetic, which kd does without ops)."""
    x1, x2 = call["x1"], call["x2"]
    if not isinstance(x1, TensorType) and not isinstance(x2, TensorType):
        tensor(call, "x1")  # raises KD400
    return x1, x2


def _broadcast_pair(call: OpCall, x1, x2) -> tuple:
    return broadcast(call, operand_shape(x1), operand_shape(x2))


@op_rule(*PROMOTE)
def promote(call: OpCall) -> TensorType:
    """Broadcast shape, promoted dtype."""
    x1, x2 = _operands(call)
    shape = _broadcast_pair(call, x1, x2)
    return TensorType(shape, result_type(call, operand_dtype(call, x1), operand_dtype(call, x2)))


@op_rule(*PROMOTE_FLOAT)
def promote_float(call: OpCall) -> TensorType:
    """Broadcast shape, dtype promoted with a weak float."""
    x1, x2 = _operands(call)
    shape = _broadcast_pair(call, x1, x2)
    return TensorType(shape, result_type(call, operand_dtype(call, x1), operand_dtype(call, x2), float))


@op_rule("mod", "fmod")
def mod(call: OpCall) -> TensorType:
    """Broadcast shape, promoted dtype with bool counted as int32."""
    out = promote(call)
    return same(out, "int32" if out.dtype == "bool" else out.dtype)


@op_rule("arctan2")
def arctan2(call: OpCall) -> TensorType:
    """Broadcast shape; a number operand counts as floatx (not weak)."""
    x1, x2 = _operands(call)
    shape = _broadcast_pair(call, x1, x2)
    d1, d2 = (v.dtype if isinstance(v, TensorType) else FLOATX for v in (x1, x2))
    return TensorType(shape, result_type(call, d1, d2, float))


@op_rule(*COMPARE)
def compare(call: OpCall) -> TensorType:
    """Broadcast shape, dtype bool."""
    x1, x2 = _operands(call)
    return TensorType(_broadcast_pair(call, x1, x2), "bool")


@op_rule("where")
def where(call: OpCall) -> TensorType:
    """`where(condition, x1, x2)`: the broadcast of the three shapes, the
    promotion of x1's and x2's dtypes (a missing one counts as "int")."""
    condition, x1, x2 = call["condition"], call["x1"], call["x2"]
    if (x1 is None) != (x2 is None):
        raise fail(call, codes.INVALID_SHAPE, "`x1` and `x2` either both should be `None` or both should have non-None value.")
    if not any(isinstance(v, TensorType) for v in (condition, x1, x2)):
        tensor(call, "condition")  # raises KD400
    shape = broadcast(call, operand_shape(condition), operand_shape(x1), operand_shape(x2))
    d1, d2 = ("int" if v is None else operand_dtype(call, v) for v in (x1, x2))
    return TensorType(shape, result_type(call, d1, d2))

