"""Shared arithmetic of the op rules, copied from Keras 3.

`canonical_axis`, `reduce_shape` and `broadcast` are keras/src/ops/
operation_utils.py's and backend_utils.py's formulas; `standardize_dtype`
and `result_type` are keras/src/backend/common's, on the TensorFlow backend
with floatx float32 (the backend kdsl's catalog records).
"""

from __future__ import annotations

import operator
from typing import Any, Optional, Sequence

from ... import codes
from ..base import RuleError, TensorType
from ..ops import result_type as _promote
from ..util import broadcast_shapes, format_shape
from .base import OpCall

FLOATX = "float32"

# keras/src/backend/common/dtypes.py ALLOWED_DTYPES.
ALLOWED_DTYPES = frozenset(
    {
        "float16", "float32", "float64", "uint8", "uint16", "uint32", "uint64",
        "int8", "int16", "int32", "int64", "bfloat16", "bool", "string",
        "float8_e4m3fn", "float8_e5m2", "complex64", "complex128",
    }
)

# PYTHON_DTYPES_MAP of the TensorFlow backend, for the names kd can write.
_PYTHON_NAMES = {"int": "int64"}

Number = (bool, int, float)


# ---------------------------------------------------------------- messages


def show(value: Any) -> str:
    """A call argument as a message shows it: a tensor by its shape and dtype."""
    if isinstance(value, TensorType):
        return f"<tensor shape={format_shape(value.shape)}, dtype={value.dtype}>"
    if isinstance(value, (list, tuple)):
        inner = ", ".join(show(v) for v in value)
        if isinstance(value, tuple):
            return f"({inner},)" if len(value) == 1 else f"({inner})"
        return f"[{inner}]"
    return repr(value)


def received(call: OpCall, *params: str) -> str:
    """"Received: x.shape=(None, 4), axis=3" for the named parameters."""
    parts = []
    for p in params:
        v = call.args[p]
        parts.append(f"{p}.shape={format_shape(v.shape)}" if isinstance(v, TensorType) else f"{p}={show(v)}")
    return "Received: " + ", ".join(parts)


def fail(call: OpCall, code: str, message: str, *params: str, hint: Optional[str] = None) -> RuleError:
    """A RuleError "ops.NAME: MESSAGE. Received: ..." to raise."""
    text = f"ops.{call.name}: {message}"
    if params:
        text += " " + received(call, *params)
    return RuleError(code, text, hint)


# ---------------------------------------------------------------- dtypes


def standardize_dtype(call: OpCall, value: Any, param: str = "dtype") -> str:
    """keras.backend.standardize_dtype of a dtype argument: None is floatx,
    "int" is int64 (TensorFlow), any other name must be one of Keras's."""
    if value is None:
        return FLOATX
    if isinstance(value, str):
        name = _PYTHON_NAMES.get(value, value)
        if name in ALLOWED_DTYPES:
            return name
    raise fail(call, codes.WRONG_DTYPE, f"Invalid dtype: {value}.", hint=f"use a dtype name such as \"float32\" for `{param}`")


def operand_dtype(call: OpCall, value: Any) -> Any:
    """What Keras gives `result_type` for an operand:
    `getattr(x, "dtype", type(x))`.  Python numbers stay numbers (weak
    types); anything else is not a dtype (Keras: "Invalid dtype: list")."""
    if isinstance(value, TensorType):
        return value.dtype
    if isinstance(value, Number):
        return value
    raise fail(call, codes.WRONG_DTYPE, f"Invalid dtype: {type(value).__name__}. Expected a tensor or a number, got {show(value)}")


def result_type(call: OpCall, *values: Any) -> str:
    """keras.backend.result_type of VALUES (tensor types, numbers, dtype
    names, or the Python types int and float), as a RuleError on failure."""
    resolved = []
    for v in values:
        if v is None:
            resolved.append(FLOATX)
        elif isinstance(v, str):
            resolved.append(standardize_dtype(call, v))
        else:
            resolved.append(v)
    try:
        return _promote(*resolved)
    except RuleError as e:
        raise fail(call, e.code, e.message, hint=e.hint) from None


# ---------------------------------------------------------------- arguments


def tensor(call: OpCall, param: str) -> TensorType:
    """The tensor argument PARAM; KD400 for anything else."""
    value = call.args[param]
    if isinstance(value, TensorType):
        return value
    raise fail(call, codes.WRONG_KIND, f"`{param}` must be a tensor.", param)


def known_shape(call: OpCall, t: TensorType, param: str = "x") -> tuple:
    """T's shape, or KD501 when its rank is unknown."""
    if t.shape is None:
        raise fail(call, codes.WRONG_RANK, f"`{param}` needs a known rank. Received: a tensor of unknown rank")
    return tuple(t.shape)


def operand_shape(value: Any) -> Optional[tuple]:
    """Keras's `getattr(x, "shape", [])`: a tensor's shape (None for an
    unknown rank), () for a number or any other constant."""
    if isinstance(value, TensorType):
        return None if value.shape is None else tuple(value.shape)
    return ()


def index(call: OpCall, value: Any, what: str) -> int:
    """operator.index(VALUE) (ints and bools), or KD505."""
    try:
        return operator.index(value)
    except TypeError:
        raise fail(call, codes.INVALID_SHAPE, f"{what} must be an integer. Received: {show(value)}") from None


def canonical_axis(call: OpCall, axis: Any, ndim: int) -> int:
    """canonicalize_axis: AXIS in [-ndim, ndim) as [0, ndim), else KD505."""
    a = index(call, axis, "an axis")
    if not -ndim <= a < ndim:
        raise fail(call, codes.INVALID_SHAPE, f"axis {a} is out of bounds for an array with dimension {ndim}.")
    return a + ndim if a < 0 else a


def canonical_axes(call: OpCall, axis: Any, ndim: int) -> tuple:
    """canonicalize_axes: one axis or a tuple/list of them, each canonical."""
    if isinstance(axis, (tuple, list)):
        return tuple(canonical_axis(call, a, ndim) for a in axis)
    return (canonical_axis(call, axis, ndim),)


def iter_axes(call: OpCall, axis: Any) -> list:
    """The items of an axis argument Keras iterates over (an int is one)."""
    if isinstance(axis, (list, tuple)):
        return list(axis)
    if isinstance(axis, int):
        return [axis]
    if isinstance(axis, str):
        return list(axis)  # Keras iterates a string too, and then fails on its letters
    raise fail(call, codes.INVALID_SHAPE, f"`axis` must be an integer or a tuple of integers. Received: axis={show(axis)}")


def to_tuple_or_list(call: OpCall, value: Any, param: str) -> Any:
    """backend_utils.to_tuple_or_list: None, or an int as a 1-tuple."""
    if value is None:
        return None
    if not isinstance(value, (int, tuple, list)):
        raise fail(call, codes.INVALID_SHAPE, f"`{param}` must be an integer, tuple or list. Received: {param}={show(value)}")
    return (value,) if isinstance(value, int) else value


def reduce_shape(call: OpCall, shape: Sequence, axis: Any = None, keepdims: bool = False) -> tuple:
    """operation_utils.reduce_shape: SHAPE without (or with 1 on) AXIS.
    Like Keras, a repeated axis removes two dimensions when keepdims is off."""
    shape = list(shape)
    if axis is None:
        return tuple(1 for _ in shape) if keepdims else ()
    axes = [canonical_axis(call, a, len(shape)) for a in iter_axes(call, axis)]
    if keepdims:
        for a in axes:
            shape[a] = 1
        return tuple(shape)
    for a in sorted(axes, reverse=True):
        if a >= len(shape):
            raise fail(call, codes.INVALID_SHAPE, f"axis {a} is out of bounds once the repeated axes are removed.")
        del shape[a]
    return tuple(shape)


def broadcast(call: OpCall, *shapes: Optional[Sequence]) -> Optional[tuple]:
    """Numpy broadcasting with Keras's None rules, left to right like
    `broadcast_shapes(broadcast_shapes(a, b), c)`; an unknown rank (None)
    gives an unknown rank.  KD500 when two known dimensions differ."""
    if any(s is None for s in shapes):
        return None
    out = tuple(shapes[0])
    for s in shapes[1:]:
        try:
            out = broadcast_shapes(out, s)
        except ValueError:
            shown = " and ".join(format_shape(x) for x in shapes)
            raise fail(
                call,
                codes.INCOMPATIBLE_SHAPES,
                "the shapes do not broadcast: each dimension must be equal, 1 or unknown, "
                f"aligned from the right. Received: {shown}",
            ) from None
    return out


def shape_equal(shape1: Sequence, shape2: Sequence, axis: Sequence = (), allow_none: bool = True) -> bool:
    """numpy.py's shape_equal: equal ranks and dimensions, AXIS ignored,
    None matching anything."""
    if len(shape1) != len(shape2):
        return False
    a, b = list(shape1), list(shape2)
    for ax in axis:
        a[ax] = b[ax] = -1
    if allow_none:
        for i in range(len(a)):
            if a[i] is None:
                a[i] = b[i]
            if b[i] is None:
                b[i] = a[i]
    return a == b


def same(t: TensorType, dtype: Optional[str] = None) -> TensorType:
    """T's shape with DTYPE (default: T's own)."""
    return TensorType(t.shape, t.dtype if dtype is None else dtype)
