"""Ops that make tensors: arange, zeros, ones, full, eye, linspace.

Called on constants, Keras runs these eagerly on the backend, so the rules
follow keras/src/backend/tensorflow/numpy.py and TensorFlow's kernels (the
backend the catalog records): `tf.range` sizes its output in the output
dtype's own arithmetic and supports no uint8 or bool; `tf.zeros` takes the
dtype name as given ("int" is not one).  Where TensorFlow's result differs
from NumPy's, and so from Keras's other backends, the rule refuses the call
(a kd model must build the same on every backend): `eye` with an offset `k`
on a non-square matrix, and `k` beyond the matrix; `arange` with negative
bounds in an unsigned dtype (TensorFlow wraps them around).  `linspace(...,
retstep=True)` (a (tensor, step) pair) is not supported.
"""

from __future__ import annotations

import math
import struct
from typing import Any

from ... import codes
from ..base import TensorType
from .base import OpCall, op_rule
from .common import (
    ALLOWED_DTYPES,
    FLOATX,
    broadcast,
    canonical_axis,
    fail,
    known_shape,
    operand_shape,
    result_type,
    show,
    standardize_dtype,
)


def _no_tensors(call: OpCall, *params: str) -> None:
    """KD400 when one of PARAMS is a tensor: these arguments must be constants."""
    for p in params:
        if isinstance(call.args[p], TensorType):
            raise fail(call, codes.WRONG_KIND, f"`{p}` must be a constant number, not a tensor.", hint="write the bound as a number")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _backend_dtype(call: OpCall) -> str:
    """The dtype handed to tf.zeros / tf.eye as written: a Keras dtype name
    ("int" is not one TensorFlow knows), floatx when None."""
    dtype = call["dtype"]
    if dtype is None:
        return FLOATX
    if isinstance(dtype, str) and dtype in ALLOWED_DTYPES:
        return dtype
    raise fail(call, codes.WRONG_DTYPE, f"Invalid dtype: {dtype}.", hint='use a dtype name such as "float32" or "int32"')


def _shape_argument(call: OpCall, allow_int: bool = True) -> tuple:
    """A constant shape: an int n is (n,) where the op allows it, else a
    tuple or list of non-negative ints."""
    shape = call["shape"]
    if allow_int and isinstance(shape, int):
        shape = (shape,)
    if not isinstance(shape, (tuple, list)) or not all(isinstance(d, int) for d in shape):
        raise fail(call, codes.INVALID_SHAPE, "`shape` must be a tuple of integers.", "shape")
    if any(d < 0 for d in shape):
        raise fail(call, codes.EMPTY_OUTPUT, "`shape` cannot have a negative dimension.", "shape")
    return tuple(int(d) for d in shape)


# ---------------------------------------------------------------- zeros, ones, full


@op_rule("zeros", "ones")
def zeros_ones(call: OpCall) -> TensorType:
    """tf.zeros / tf.ones of `shape` (an int or a tuple), dtype floatx by default."""
    _no_tensors(call, "shape")
    dtype = _backend_dtype(call)
    return TensorType(_shape_argument(call), dtype)


@op_rule("full")
def full(call: OpCall) -> TensorType:
    """Full: `shape` (a tuple: tf.broadcast_to takes no bare int) filled
    with `fill_value`, which must broadcast to it; dtype floatx by default.
    With a model tensor as fill_value Keras only records the shape."""
    dtype = None if call["dtype"] is None else standardize_dtype(call, call["dtype"])
    _no_tensors(call, "shape")
    fill = call["fill_value"]
    if isinstance(fill, TensorType) and not call.eager:
        shape = _shape_argument(call, allow_int=False)
        return TensorType(shape, dtype or FLOATX)
    shape = _shape_argument(call, allow_int=False)
    if isinstance(fill, TensorType):
        _broadcasts_to(call, known_shape(call, fill, "fill_value"), shape)
    elif not isinstance(fill, (bool, int, float)):
        raise fail(call, codes.INVALID_SHAPE, "`fill_value` must be a number or a tensor.", "fill_value")
    elif isinstance(fill, bool) and dtype == "bfloat16":
        # tf.convert_to_tensor has no bool -> bfloat16 conversion (other floats have one).
        raise fail(call, codes.WRONG_DTYPE, "TensorFlow cannot convert a bool to bfloat16.", "fill_value", hint="write 1.0 or 0.0")
    return TensorType(shape, dtype or FLOATX)


def _broadcasts_to(call: OpCall, source: tuple, target: tuple) -> None:
    """tf.broadcast_to's check: SOURCE aligned right, each dim 1 or equal."""
    ok = len(source) <= len(target) and all(
        s == 1 or s == t for s, t in zip(reversed(source), reversed(target))
    )
    if not ok:
        raise fail(call, codes.INCOMPATIBLE_SHAPES, f"`fill_value` of shape {source} does not broadcast to `shape` {target}.")


# ---------------------------------------------------------------- eye


@op_rule("eye")
def eye(call: OpCall) -> TensorType:
    """Eye: an (N, M) matrix (M defaults to N), dtype floatx by default."""
    _no_tensors(call, "N", "M", "k")
    n, m, k = call["N"], call["M"], call["k"]
    if isinstance(n, float):
        raise fail(call, codes.INVALID_SHAPE, "Argument `N` must be an integer or an integer tensor.", "N")
    if isinstance(m, float):
        raise fail(call, codes.INVALID_SHAPE, "Argument `M` must be an integer, an integer tensor, or `None`.", "M")
    m = n if m is None else m
    if not (_is_int(n) and _is_int(m) and _is_int(k)):
        raise fail(call, codes.INVALID_SHAPE, "`N`, `M` and `k` must be integers.", "N", "M", "k")
    if n < 0 or m < 0:
        raise fail(call, codes.EMPTY_OUTPUT, "`N` and `M` cannot be negative.", "N", "M")
    dtype = _backend_dtype(call)
    if k != 0:
        _check_eye_offset(call, n, m, k)
    return TensorType((n, m), dtype)


def _check_eye_offset(call: OpCall, n: int, m: int, k: int) -> None:
    """TensorFlow builds eye(N, M, k) as a padded square eye; its shape is
    (N, M) only in some cases (NumPy and Keras's other backends always give
    (N, M)), and it fails when k is beyond the matrix."""
    side = min(m - k, n + k)
    if side < 0:
        raise fail(
            call, codes.INVALID_SHAPE, f"the offset k={k} is beyond a {n}x{m} matrix (Keras's TensorFlow backend fails here).",
            hint="use an offset k with -N <= k <= M",
        )
    rows = side + max(-k, 0) + max(n - m + k, 0)
    cols = side + max(k, 0) + max(m - n - k, 0)
    if (rows, cols) != (n, m):
        raise fail(
            call, codes.INVALID_SHAPE,
            f"Keras's TensorFlow backend gives a ({rows}, {cols}) tensor for eye({n}, {m}, k={k}), "
            f"other backends ({n}, {m}); kd refuses a shape that depends on the backend.",
            hint="use a square eye, or k=0",
        )


# ---------------------------------------------------------------- arange


# The dtypes tf.range supports (its Tidx attribute).
_RANGE_DTYPES = frozenset(
    {"bfloat16", "float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint16", "uint32", "uint64"}
)


@op_rule("arange")
def arange(call: OpCall) -> TensorType:
    """Arange: tf.range(start, stop, step) in the dtype of its bounds
    (ints give int32, a float float32) or `dtype`; its length is
    ceil((stop - start) / step), computed in that dtype."""
    dtype = None if call["dtype"] is None else standardize_dtype(call, call["dtype"])
    _no_tensors(call, "start", "stop", "step")
    start, stop, step = call["start"], call["stop"], call["step"]
    given = [v for v in (start, stop, step) if v is not None]
    if not all(_is_number(v) or isinstance(v, bool) for v in given):
        raise fail(call, codes.INVALID_SHAPE, "`start`, `stop` and `step` must be numbers.", "start", "stop", "step")
    if dtype is None:
        dtype = result_type(call, *(type(v) for v in given))
    if dtype not in _RANGE_DTYPES:
        raise fail(call, codes.WRONG_DTYPE, f"tf.range does not support dtype {dtype}.", hint='use "int32" and cast the result')
    if stop is None:
        start, stop = 0, start
    step = 1 if step is None else step
    values = (start, stop, step)
    if any(isinstance(v, bool) for v in values) or ("int" in dtype and not all(_is_int(v) for v in values)):
        raise fail(call, codes.INVALID_SHAPE, f"the bounds cannot be converted to {dtype}.", "start", "stop", "step")
    if dtype.startswith("uint") and any(v < 0 for v in values):
        # TensorFlow wraps them around (and crashes on uint64); kd refuses what no backend does sensibly.
        raise fail(
            call, codes.INVALID_SHAPE, f"negative bounds with the unsigned dtype {dtype} wrap around in TensorFlow.",
            "start", "stop", "step",
        )
    return TensorType((_range_size(call, dtype, *values),), dtype)


def _range_size(call: OpCall, dtype: str, start, stop, step) -> int:
    """The length of tf.range's output, as its kernel computes it."""
    if step == 0:
        raise fail(call, codes.INVALID_SHAPE, "Requires delta != 0.", "step")
    if (step > 0 and start > stop) or (step < 0 and start < stop):
        raise fail(
            call, codes.INVALID_SHAPE,
            f"Requires start <= limit when delta > 0 (start >= limit when delta < 0): {start}/{stop}.",
            "start", "stop", "step",
        )
    if "int" in dtype:
        return (abs(stop - start) + abs(step) - 1) // abs(step)
    rnd = _ROUNDING[dtype]
    start, stop, step = rnd(start), rnd(stop), rnd(step)
    return int(math.ceil(abs(rnd(rnd(stop - start) / step))))


def _float32(x: float) -> float:
    return struct.unpack("<f", struct.pack("<f", x))[0]


def _float16(x: float) -> float:
    return struct.unpack("<e", struct.pack("<e", x))[0]


def _bfloat16(x: float) -> float:
    """X rounded to bfloat16 (round to nearest even on float32's top 16 bits)."""
    bits = struct.unpack("<I", struct.pack("<f", _float32(x)))[0]
    bits = (bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000
    return struct.unpack("<f", struct.pack("<I", bits))[0]


_ROUNDING = {"float64": float, "float32": _float32, "float16": _float16, "bfloat16": _bfloat16}


# ---------------------------------------------------------------- linspace


@op_rule("linspace")
def linspace(call: OpCall) -> TensorType:
    """Linspace: `num` values along a new `axis` of the broadcast of start's
    and stop's shapes; a float dtype unless `dtype` says otherwise (eager)."""
    if call["retstep"]:
        raise fail(call, codes.INVALID_SHAPE, "retstep=True (a (values, step) pair) is not supported by kd.", hint="compute the step")
    start, stop, num = call["start"], call["stop"], call["num"]
    for p in ("start", "stop"):
        v = call[p]
        if not isinstance(v, (TensorType, bool, int, float)):
            raise fail(call, codes.INVALID_SHAPE, f"`{p}` must be a number or a tensor.", p)
    shape = list(broadcast(call, operand_shape(start), operand_shape(stop)) or [])
    axis = canonical_axis(call, call["axis"], len(shape) + 1)
    symbolic = not call.eager and any(isinstance(v, TensorType) for v in (start, stop))
    if symbolic:
        # Linspace.compute_output_spec: `dtype`, else start's (not weak), promoted with a weak float.
        base = call["dtype"] if call["dtype"] is not None else _strong(start)
        dtype = result_type(call, base, float)
    else:
        if not _is_int(num) or num < 0:
            raise fail(call, codes.INVALID_SHAPE, f"`num` must be a non-negative integer. Received: num={show(num)}")
        if call["dtype"] is None:
            dtype = result_type(call, *(v.dtype if isinstance(v, TensorType) else type(v) for v in (start, stop)), float)
        else:
            dtype = standardize_dtype(call, call["dtype"])
        if dtype == "bool":
            raise fail(call, codes.WRONG_DTYPE, "TensorFlow's linspace cannot compute in bool.", "dtype")
        if dtype == "bfloat16" and any(isinstance(v, bool) for v in (start, stop)):
            raise fail(call, codes.WRONG_DTYPE, "TensorFlow cannot convert a bool to bfloat16.", "start", "stop")
    shape.insert(axis, num)
    return TensorType(tuple(shape), dtype)


def _strong(value: Any) -> str:
    """standardize_dtype(getattr(x, "dtype", type(x))): a number's type as a strong dtype."""
    if isinstance(value, TensorType):
        return value.dtype
    return {bool: "bool", int: "int64", float: "float32"}[type(value)]


@op_rule("identity")
def identity(call: OpCall) -> TensorType:
    """Identity(n): the (n, n) eye, dtype floatx by default."""
    _no_tensors(call, "n")
    n = call["n"]
    if not _is_int(n):
        raise fail(call, codes.INVALID_SHAPE, "`n` must be an integer.", "n")
    if n < 0:
        raise fail(call, codes.EMPTY_OUTPUT, "`n` cannot be negative.", "n")
    return TensorType((n, n), _backend_dtype(call))
