"""Linear algebra: matmul, dot, tensordot, einsum, norm.

Copied from compute_output_spec in keras/src/ops/numpy.py and linalg.py
(and operation_utils.compute_matmul_output_shape).  Known inner dimensions
must agree; unknown ones are assumed to.
"""

from __future__ import annotations

import re

from ... import codes
from ..base import TensorType
from ..util import broadcast_shapes, format_shape
from .base import OpCall, op_rule
from .common import (
    FLOATX,
    broadcast,
    fail,
    known_shape,
    operand_dtype,
    operand_shape,
    reduce_shape,
    result_type,
    shape_equal,
    tensor,
)

# What standardize_dtype(type(x)) makes of a Python number: a strong dtype.
_NUMBER_DTYPE = {bool: "bool", int: "int64", float: "float32"}


def _strong_dtype(call: OpCall, value) -> str:
    """`standardize_dtype(getattr(x, "dtype", type(x)))`: numbers are not weak here."""
    if isinstance(value, TensorType):
        return value.dtype
    operand_dtype(call, value)  # KD504 for what is neither a tensor nor a number
    return _NUMBER_DTYPE[type(value)]


def _shape_list(call: OpCall, value, param: str) -> list:
    """`list(getattr(x, "shape", []))`, the rank known."""
    if isinstance(value, TensorType):
        return list(known_shape(call, value, param))
    return []


def _both_tensors(call: OpCall) -> None:
    if not isinstance(call["x1"], TensorType) and not isinstance(call["x2"], TensorType):
        tensor(call, "x1")  # raises KD400: constant arithmetic needs no op


@op_rule("matmul")
def matmul(call: OpCall) -> TensorType:
    """Matmul: x1[..., n, k] @ x2[..., k, m] -> [..., n, m], batch
    dimensions broadcast, 1-D operands promoted then dropped as numpy does."""
    _both_tensors(call)
    s1, s2 = _shape_list(call, call["x1"], "x1"), _shape_list(call, call["x2"], "x2")
    d1, d2 = _strong_dtype(call, call["x1"]), _strong_dtype(call, call["x2"])
    if not s1 or not s2:
        raise fail(call, codes.WRONG_RANK, "both operands need at least one dimension.", "x1", "x2")
    one1, one2 = len(s1) == 1, len(s2) == 1
    if one1:
        s1 = [1, s1[0]]
    if one2:
        s2 = [s2[0], 1]
    if s1[-1] is not None and s2[-2] is not None and s1[-1] != s2[-2]:
        raise fail(
            call, codes.INCOMPATIBLE_SHAPES,
            "Inner dimensions (`x1.shape[-1]` and `x2.shape[-2]`) must be equal, but received "
            f"`x1.shape={format_shape(s1)}` and `x2.shape={format_shape(s2)}`.",
        )
    out = list(broadcast(call, s1[:-2], s2[:-2])) + [s1[-2], s2[-1]]
    if one1:
        del out[-2]
    if one2:
        del out[-1]
    dtype = "int32" if d1 == d2 == "int8" else result_type(call, d1, d2)
    return TensorType(tuple(out), dtype)


@op_rule("dot")
def dot(call: OpCall) -> TensorType:
    """Dot: a product with a scalar multiplies; 1-D . 1-D is a scalar;
    N-D . 1-D contracts the last axis (sizes must be equal, even when
    unknown); N-D . M-D contracts x1's last axis with x2's second last."""
    _both_tensors(call)
    x1, x2 = call["x1"], call["x2"]
    s1, s2 = _shape_list(call, x1, "x1"), _shape_list(call, x2, "x2")
    dtype = result_type(call, operand_dtype(call, x1), operand_dtype(call, x2))
    if not s1 or not s2:
        return TensorType(broadcast(call, s1, s2), dtype)
    if len(s1) == 1 and len(s2) == 1:
        return TensorType((), dtype)
    if len(s2) == 1:
        if s1[-1] != s2[0]:
            raise fail(
                call, codes.INCOMPATIBLE_SHAPES,
                "Shape must match on the last axis of `x1` and `x2` when `x1` is N-d array while `x2` is 1-D, "
                f"but receive shape `x1.shape={format_shape(s1)}` and x2.shape=`{format_shape(s2)}`.",
            )
        return TensorType(tuple(s1[:-1]), dtype)
    if s1[-1] is None or s2[-2] is None or s1[-1] == s2[-2]:
        return TensorType(tuple(s1[:-1] + s2[:-2] + s2[-1:]), dtype)
    raise fail(
        call, codes.INCOMPATIBLE_SHAPES,
        "Shape must match on the last axis of `x1` and second last axis of `x2` when `x1` is N-d array while "
        f"`x2` is M-D, but received `x1.shape={format_shape(s1)}` and x2.shape=`{format_shape(s2)}`.",
    )


@op_rule("tensordot")
def tensordot(call: OpCall) -> TensorType:
    """Tensordot: with `axes` an int n, x1's last n dimensions and x2's
    first n are contracted (Keras does not compare their sizes); with a pair
    of axis lists, those dimensions must agree and are removed."""
    _both_tensors(call)
    x1, x2, axes = call["x1"], call["x2"], call["axes"]
    s1, s2 = _shape_list(call, x1, "x1"), _shape_list(call, x2, "x2")
    dtype = result_type(call, operand_dtype(call, x1), operand_dtype(call, x2))
    if isinstance(axes, int):
        out = s1 + s2 if axes <= 0 else s1[: -axes] + s2[axes:]
        return TensorType(tuple(out), dtype)
    a1, a2 = _axis_lists(call, axes)
    pick1, pick2 = _select(call, s1, a1), _select(call, s2, a2)
    if not shape_equal(pick1, pick2):
        raise fail(call, codes.INCOMPATIBLE_SHAPES, f"Shape mismatch on `x1[axes[0]]` and `x2[axes[1]]`, received {pick1} and {pick2}.")
    for a in a1:
        s1[a] = -1
    for a in a2:
        s2[a] = -1
    return TensorType(tuple(d for d in s1 + s2 if d != -1), dtype)


def _axis_lists(call: OpCall, axes) -> tuple:
    """axes[0] and axes[1] of tensordot's pair form, as lists of ints."""
    if isinstance(axes, (list, tuple)) and len(axes) >= 2:
        pair = axes[0], axes[1]
        if all(isinstance(a, (list, tuple)) and all(isinstance(i, int) for i in a) for a in pair):
            return list(pair[0]), list(pair[1])
    raise fail(call, codes.INVALID_SHAPE, "`axes` must be an integer or a pair of lists of axes.", "axes")


def _select(call: OpCall, shape: list, axes: list) -> list:
    """[shape[a] for a in axes], Python indexing (negative counts from the end)."""
    for a in axes:
        if not -len(shape) <= a < len(shape):
            raise fail(call, codes.INVALID_SHAPE, f"axis {a} is out of range for a tensor of shape {format_shape(shape)}.", "axes")
    return [shape[a] for a in axes]


# ---------------------------------------------------------------- einsum


@op_rule("einsum")
def einsum(call: OpCall) -> TensorType:
    """Einsum: Keras's own reading of the subscripts (one `...` per operand,
    lower-case letters), the operands' expanded shapes broadcast."""
    subscripts, operands = call["subscripts"], call.varargs
    if call.kwargs:
        raise fail(call, codes.INVALID_SHAPE, f"unexpected keyword arguments {sorted(call.kwargs)}.")
    if not isinstance(subscripts, str):
        raise fail(call, codes.INVALID_SHAPE, "`subscripts` must be a string.", "subscripts")
    if not any(isinstance(x, TensorType) for x in operands):
        raise fail(call, codes.WRONG_KIND, "needs at least one tensor operand.")
    parts = subscripts.split("->")
    if len(parts) > 2:
        raise fail(call, codes.INVALID_SHAPE, f"At most one '->' is supported in `einsum` subscripts, but received {subscripts}.")
    inputs, output_spec = (parts[0], parts[1]) if len(parts) == 2 else (subscripts, None)
    specs = inputs.split(",")
    if len(specs) != len(operands):
        raise fail(
            call, codes.INVALID_SHAPE,
            f"Number of operands ({len(operands)}) does not match the number of input specs ({len(specs)}) in "
            f"`einsum`, received subscripts={subscripts}.",
        )
    target = output_spec if output_spec is not None else "..." + "".join(_kept_letters(inputs, output_spec))
    shapes = [_expanded_shape(call, x, spec, target) for x, spec in zip(operands, specs)]
    out = shapes[0]
    for s in shapes[1:]:
        try:
            out = list(broadcast_shapes(out, s))
        except ValueError as e:
            raise fail(call, codes.INCOMPATIBLE_SHAPES, str(e)) from None
    dtypes = {_strong_dtype(call, x) for x in operands}
    dtype = "int32" if dtypes == {"int8"} else result_type(call, *sorted(dtypes))
    return TensorType(tuple(out), dtype)


def _kept_letters(inputs: str, output_spec) -> list:
    """The letters that appear once in the inputs (Keras's kept_dims), sorted."""
    reduced, kept = set(), set()
    for s in inputs:
        if not s.isalpha():
            continue
        if s not in reduced and s not in kept:
            kept.add(s)
        elif s in kept:
            kept.remove(s)
            reduced.add(s)
    return sorted(kept)


def _expanded_shape(call: OpCall, x, spec: str, target: str) -> list:
    """One operand's shape written in the target spec's order (Keras's
    string substitution, -1 standing for an unknown size), 1 for letters it
    lacks."""
    x_shape = [-1 if d is None else d for d in operand_shape(x) or ()]
    if isinstance(x, TensorType):
        known_shape(call, x, "operands")
    split_spec = spec.split("...")
    expanded = target
    if len(split_spec) == 1:
        if len(x_shape) != len(split_spec[0]):
            raise fail(
                call, codes.WRONG_RANK,
                "Number of dimensions in the subscript does not match the number of dimensions in the operand, "
                f"received subscript `{spec}` and operand of shape {x_shape}.",
            )
        for size, s in zip(x_shape, split_spec[0]):
            expanded = expanded.replace(s, f"{size} ")
        expanded = expanded.replace("...", "")
    else:
        head, tail = split_spec[0], split_spec[1]
        if len(head) > len(x_shape) or len(tail) > len(x_shape):
            raise fail(call, codes.WRONG_RANK, f"subscript `{spec}` has more letters than the operand has dimensions {x_shape}.")
        for i in range(len(head)):
            expanded = expanded.replace(head[i], f"{x_shape[i]} ")
        for i in range(len(tail)):
            expanded = expanded.replace(tail[-i - 1], f"{x_shape[-i - 1]} ")
        end = len(x_shape) if len(tail) == 0 else -len(tail)
        wildcard = x_shape[len(head):end]
        expanded = expanded.replace("...", f"{' '.join(str(s) for s in wildcard)} ")
    expanded = re.sub("[a-z]", "1 ", expanded)
    dims = []
    for size in expanded.split():
        try:
            dims.append(None if size == "-1" else int(size))
        except ValueError:
            raise fail(call, codes.INVALID_SHAPE, f"cannot read the subscripts {call['subscripts']!r} (use lower-case letters).") from None
    return dims


# ---------------------------------------------------------------- norm

_MATRIX_ORDS = (None, "fro", "nuc", float("inf"), float("-inf"), 1, -1, 2, -2)


@op_rule("norm")
def norm(call: OpCall) -> TensorType:
    """Norm: a vector norm over one axis, a matrix norm over two (the `ord`s
    each allows), floatx for integer inputs."""
    order, axis = call["ord"], call["axis"]
    if isinstance(order, str) and order not in ("fro", "nuc"):
        raise fail(call, codes.INVALID_SHAPE, "Invalid `ord` argument. Expected one of {'fro', 'nuc'} when using string.", "ord")
    x = tensor(call, "x")
    shape = known_shape(call, x)
    axes = [axis] if isinstance(axis, int) else axis
    count = len(shape) if axes is None else _length(call, axes)
    if count == 1 and isinstance(order, str):
        raise fail(call, codes.INVALID_SHAPE, "Invalid `ord` argument for vector norm.", "ord")
    if count == 2 and order not in _MATRIX_ORDS:
        raise fail(call, codes.INVALID_SHAPE, "Invalid `ord` argument for matrix norm.", "ord")
    dtype = FLOATX if "int" in x.dtype or x.dtype == "bool" else x.dtype
    return TensorType(reduce_shape(call, shape, axes, call["keepdims"]), dtype)


def _length(call: OpCall, axes) -> int:
    """len(axes), which Keras takes before checking them."""
    try:
        return len(axes)
    except TypeError:
        raise fail(call, codes.INVALID_SHAPE, "`axis` must be an integer or a tuple of integers.", "axis") from None
