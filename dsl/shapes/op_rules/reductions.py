"""Reductions over axes (`axis`, `keepdims`): sum, mean, max, min, prod, std,
var, argmax, argmin, all, any, logsumexp (norm is in linalg.py).

The shape is operation_utils.reduce_shape's; the dtype rules are each op's
compute_output_spec (keras/src/ops/numpy.py, math.py).
"""

from __future__ import annotations

from ..base import TensorType
from .base import OpCall, op_rule
from .common import FLOATX, known_shape, reduce_shape, result_type, standardize_dtype, tensor


def _reduced(call: OpCall, dtype_of) -> TensorType:
    """x reduced over `axis` (keepdims honoured), with dtype DTYPE_OF(x)."""
    x = tensor(call, "x")
    shape = reduce_shape(call, known_shape(call, x), call["axis"], call["keepdims"])
    return TensorType(shape, dtype_of(x))


# Sum and Prod widen small integers like JAX does.
_WIDENED = {"bool": "int32", "int8": "int32", "int16": "int32", "uint8": "uint32", "uint16": "uint32"}


@op_rule("sum")
def sum_(call: OpCall) -> TensorType:
    """Sum: small integers and bool widen to 32 bits; 64-bit unsigned
    narrows to 32 bits as result_type does."""
    return _reduced(call, lambda x: _WIDENED.get(result_type(call, x.dtype), result_type(call, x.dtype)))


@op_rule("prod")
def prod(call: OpCall) -> TensorType:
    """Prod: the `dtype` argument if given, else x's dtype widened like Sum's."""
    dtype = None if call["dtype"] is None else standardize_dtype(call, call["dtype"])
    return _reduced(call, lambda x: dtype or _WIDENED.get(x.dtype, x.dtype))


@op_rule("mean")
def mean(call: OpCall) -> TensorType:
    """Mean: integers and bool compute in their promotion with float32."""
    return _reduced(
        call, lambda x: result_type(call, x.dtype, "float32") if "int" in x.dtype or x.dtype == "bool" else x.dtype
    )


@op_rule("max", "min", "amax", "amin")
def extremum(call: OpCall) -> TensorType:
    """Max and min keep x's dtype (`initial` does not change it)."""
    return _reduced(call, lambda x: x.dtype)


@op_rule("std")
def std(call: OpCall) -> TensorType:
    """Std: integers and bool give floatx."""
    return _reduced(call, lambda x: FLOATX if "int" in x.dtype or x.dtype == "bool" else x.dtype)


@op_rule("var")
def var(call: OpCall) -> TensorType:
    """Var: x's dtype promoted with a weak float."""
    return _reduced(call, lambda x: result_type(call, x.dtype, float))


@op_rule("argmax", "argmin")
def arg_extremum(call: OpCall) -> TensorType:
    """Argmax and argmin give int32 indices."""
    return _reduced(call, lambda x: "int32")


@op_rule("all", "any")
def all_any(call: OpCall) -> TensorType:
    """All and any give bool."""
    return _reduced(call, lambda x: "bool")


@op_rule("logsumexp")
def logsumexp(call: OpCall) -> TensorType:
    """Logsumexp's `KerasTensor(shape)`: always float32, whatever x's dtype."""
    return _reduced(call, lambda x: "float32")
