"""Ops that rearrange a tensor: reshape, transpose, expand_dims, squeeze,
concatenate, stack, split, tile, repeat, broadcast_to, flip, roll, pad,
take, take_along_axis, one_hot, zeros_like, ones_like, swapaxes, moveaxis,
ravel.

Each rule copies its op's compute_output_spec in keras/src/ops/numpy.py (and
operation_utils.py's compute_reshape/transpose/expand_dims/take_along_axis
formulas), quirks included: a repeated axis in `squeeze` removes two
dimensions, `squeeze` of an unknown dimension is an error, `pad` and `tile`
accept what their compute_output_spec accepts.
"""

from __future__ import annotations

from math import prod
from typing import Any

from ... import codes
from ..base import TensorType
from ..util import format_shape
from .base import OpCall, op_rule
from .common import (
    broadcast,
    canonical_axes,
    canonical_axis,
    fail,
    index,
    known_shape,
    result_type,
    same,
    shape_equal,
    show,
    standardize_dtype,
    tensor,
    to_tuple_or_list,
)


def _x(call: OpCall, param: str = "x") -> tuple:
    """The tensor PARAM and its (known) shape as a list."""
    t = tensor(call, param)
    return t, list(known_shape(call, t, param))


# ---------------------------------------------------------------- reshape, transpose


@op_rule("reshape")
def reshape(call: OpCall) -> TensorType:
    """compute_reshape_output_shape: at most one -1, sizes that agree when
    every dimension is known; an unknown input dimension leaves -1 unknown."""
    x, shape = _x(call)
    newshape = call["newshape"]
    if isinstance(newshape, TensorType):
        n = newshape.shape
        return TensorType((None,) * n[0] if n and len(n) == 1 and n[0] is not None else (None,), x.dtype)
    newshape = tuple(newshape) if isinstance(newshape, (tuple, list, str)) else (newshape,)
    ints = [d for d in newshape if isinstance(d, int)]
    if any(d < -1 for d in ints):
        raise fail(
            call, codes.INVALID_SHAPE, "Each dimension in `newshape` must be a non-negative integer, or `-1` for a single "
            f"unknown dimension. Received: newshape={show(newshape)}."
        )
    if ints.count(-1) > 1:
        raise fail(call, codes.INVALID_SHAPE, f"There must be at most one unknown dimension (-1) in `newshape`. Received: newshape={show(newshape)}.")
    dims = tuple(d if isinstance(d, int) else None for d in newshape)
    if None in shape or None in dims:
        return TensorType(tuple(None if d == -1 else d for d in dims), x.dtype)
    size = prod(shape)
    if -1 not in dims:
        if size != prod(dims):
            raise fail(
                call, codes.INVALID_SHAPE,
                f"The total size of the tensor must be unchanged. Received: input_shape={format_shape(shape)}, "
                f"newshape={show(newshape)}",
            )
        return TensorType(dims, x.dtype)
    known = prod(d for d in dims if d != -1)
    if known == 0 or size % known != 0:
        raise fail(
            call, codes.INVALID_SHAPE,
            "The total size of the tensor must be unchanged, however, the input size cannot by divided by the "
            f"specified dimensions in newshape. Received: input_shape={format_shape(shape)}, newshape={show(newshape)}",
        )
    return TensorType(tuple(size // known if d == -1 else d for d in dims), x.dtype)


@op_rule("transpose")
def transpose(call: OpCall) -> TensorType:
    """compute_transpose_output_shape: reversed axes, or a permutation."""
    x, shape = _x(call)
    axes = call["axes"]
    if axes is None:
        return TensorType(tuple(reversed(shape)), x.dtype)
    ndim = len(shape)
    if not isinstance(axes, (tuple, list, str)) or len(axes) != ndim:
        count = len(axes) if isinstance(axes, (tuple, list, str)) else show(axes)
        raise fail(call, codes.INVALID_SHAPE, f"axis must be a list of the same length as the input shape, expected {ndim}, but received {count}.")
    if not all(isinstance(a, int) and -ndim <= a < ndim for a in axes):
        raise fail(call, codes.INVALID_SHAPE, f"Each axis in `axes` must be an integer in [-{ndim}, {ndim}). Received: axes={list(axes)}.")
    normal = [a % ndim for a in axes]
    if len(set(normal)) != ndim:
        raise fail(
            call, codes.INVALID_SHAPE,
            f"`axes` must be a valid permutation of the input dimensions (no duplicates). Received: axes={list(axes)} "
            f"for input of rank {ndim}.",
        )
    return TensorType(tuple(shape[a] for a in normal), x.dtype)


@op_rule("swapaxes")
def swapaxes(call: OpCall) -> TensorType:
    """Swapaxes: the two axes exchanged."""
    x, shape = _x(call)
    a = canonical_axis(call, call["axis1"], len(shape))
    b = canonical_axis(call, call["axis2"], len(shape))
    shape[a], shape[b] = shape[b], shape[a]
    return TensorType(tuple(shape), x.dtype)


@op_rule("moveaxis")
def moveaxis(call: OpCall) -> TensorType:
    """Moveaxis: `source` axes placed at `destination`, the others in order."""
    source, destination = ([v] if isinstance(v, int) else v for v in (call["source"], call["destination"]))
    if not all(isinstance(v, (list, tuple)) for v in (source, destination)) or len(source) != len(destination):
        raise fail(call, codes.INVALID_SHAPE, "`source` and `destination` arguments must have the same number of elements.", "source", "destination")
    x, shape = _x(call)
    ndim = len(shape)
    sources = [canonical_axis(call, a, ndim) for a in source]
    targets = [canonical_axis(call, a, ndim) for a in destination]
    out: list = [-1] * ndim
    rest: list = list(shape)
    for s, d in zip(sources, targets):
        out[d] = rest[s]
        rest[s] = -1
    # Keras fills the free places with the dimensions not moved, in order.
    i = j = 0
    while i < ndim:
        while i < ndim and out[i] != -1:
            i += 1
        while j < ndim and rest[j] == -1:
            j += 1
        if i == ndim:
            break
        if j == ndim:
            raise fail(call, codes.INVALID_SHAPE, "repeated axes in `source` or `destination`.", "source", "destination")
        out[i] = rest[j]
        i += 1
        j += 1
    if -1 in out:
        raise fail(call, codes.INVALID_SHAPE, "repeated axes in `source` or `destination`.", "source", "destination")
    return TensorType(tuple(out), x.dtype)


@op_rule("ravel")
def ravel(call: OpCall) -> TensorType:
    """Ravel: one dimension, unknown if any input dimension is."""
    x, shape = _x(call)
    return TensorType((None,) if None in shape else (prod(shape),), x.dtype)


# ---------------------------------------------------------------- adding and removing axes


@op_rule("expand_dims")
def expand_dims(call: OpCall) -> TensorType:
    """compute_expand_dims_output_shape: a 1 at each of `axis` (counted in
    the output's rank)."""
    axis = call["axis"]
    if not isinstance(axis, (int, tuple, list)):
        raise fail(call, codes.INVALID_SHAPE, "The `axis` argument to `expand_dims` should be an integer, tuple or list.", "axis")
    x, shape = _x(call)
    axes = to_tuple_or_list(call, axis, "axis")
    ndim = len(axes) + len(shape)
    axes = [canonical_axis(call, a, ndim) for a in axes]
    dims = iter(shape)
    out = []
    for ax in range(ndim):
        if ax in axes:
            out.append(1)
            continue
        d = next(dims, _END)
        if d is _END:
            raise fail(call, codes.INVALID_SHAPE, "repeated axes in `axis`.", "axis")
        out.append(d)
    return TensorType(tuple(out), x.dtype)


_END = object()


@op_rule("squeeze")
def squeeze(call: OpCall) -> TensorType:
    """Squeeze: every dimension of size 1 (unknown ones stay), or the given
    axes, each of which must be 1 (not unknown)."""
    x, shape = _x(call)
    axes = to_tuple_or_list(call, call["axis"], "axis")
    if axes is None:
        return TensorType(tuple(d for d in shape if d != 1), x.dtype)
    for a in axes:
        a_int = index(call, a, "an axis")
        if not -len(shape) <= a_int < len(shape):
            raise fail(call, codes.INVALID_SHAPE, f"axis {a_int} is out of bounds for an array with dimension {len(shape)}.")
        if shape[a_int] != 1:
            raise fail(call, codes.INVALID_SHAPE, f"Cannot squeeze axis {a_int}, because the dimension is not 1.", "x")
    for a in sorted((canonical_axis(call, a, len(shape)) for a in axes), reverse=True):
        if a >= len(shape):
            raise fail(call, codes.INVALID_SHAPE, "repeated axes in `axis` remove more dimensions than there are.", "axis")
        del shape[a]
    return TensorType(tuple(shape), x.dtype)


# ---------------------------------------------------------------- joining and splitting


def _tensor_list(call: OpCall, param: str) -> list:
    """A non-empty list of tensors of known rank (concatenate, stack)."""
    items = call[param]
    if isinstance(items, (list, tuple)) and items and all(isinstance(t, TensorType) for t in items):
        for t in items:
            known_shape(call, t, param)
        return list(items)
    raise fail(call, codes.WRONG_KIND, f"`{param}` must be a non-empty list of tensors.", param)


@op_rule("concatenate")
def concatenate(call: OpCall) -> TensorType:
    """Concatenate: equal shapes but on `axis` (unknown matches anything),
    whose sizes add up (unknown if one is)."""
    if call["axis"] is None:
        raise fail(call, codes.INVALID_SHAPE, "`axis` cannot be None for `concatenate`.")
    xs = _tensor_list(call, "xs")
    first = list(xs[0].shape)
    axis = canonical_axis(call, call["axis"], len(first))
    total = 0
    for t in xs:
        if not shape_equal(t.shape, first, axis=[axis]):
            raise fail(
                call, codes.INCOMPATIBLE_SHAPES,
                "Every value in `xs` must have the same shape except on the `axis` dim. But found element of "
                f"shape {format_shape(t.shape)}, which is different from the first element's shape {format_shape(first)}.",
            )
        total = None if total is None or t.shape[axis] is None else total + t.shape[axis]
    first[axis] = total
    return TensorType(tuple(first), result_type(call, *(t.dtype for t in xs)))


@op_rule("stack")
def stack(call: OpCall) -> TensorType:
    """Stack: equal shapes (unknown matches anything), a new axis of len(x)."""
    xs = _tensor_list(call, "x")
    first = list(xs[0].shape)
    axis = canonical_axis(call, call["axis"], len(first) + 1)
    for t in xs:
        if not shape_equal(t.shape, first):
            raise fail(
                call, codes.INCOMPATIBLE_SHAPES,
                f"Every value in `x` must have the same shape. But found element of shape {format_shape(t.shape)}, "
                f"which is different from the first element's shape {format_shape(first)}.",
            )
    first.insert(axis, len(xs))
    return TensorType(tuple(first), result_type(call, *(t.dtype for t in xs)))


@op_rule("split")
def split(call: OpCall) -> list:
    """Split: a list of equal parts (the size must divide), or the pieces
    between the given indices."""
    x, shape = _x(call)
    sections = call["indices_or_sections"]
    axis = canonical_axis(call, call["axis"], len(shape))
    size = shape[axis]

    def piece(length) -> TensorType:
        out = list(shape)
        out[axis] = length
        return TensorType(tuple(out), x.dtype)

    if isinstance(sections, int):
        if size is None:
            return [piece(None) for _ in range(sections)]
        if sections == 0 or size % sections != 0:
            raise fail(
                call, codes.INVALID_SHAPE,
                "`x` size on given `axis` must be divisible by `indices_or_sections` when `indices_or_sections` "
                f"is an int. But received {size} and {sections}.",
            )
        return [piece(size // sections) for _ in range(sections)]
    if not isinstance(sections, (list, tuple)) or not all(i is None or isinstance(i, int) for i in sections):
        raise fail(call, codes.INVALID_SHAPE, "`indices_or_sections` must be an integer or a list of indices.", "indices_or_sections")
    bounds = [0, *sections, size]
    return [piece(None if a is None or b is None else b - a) for a, b in zip(bounds, bounds[1:])]


# ---------------------------------------------------------------- repeating


@op_rule("tile")
def tile(call: OpCall) -> TensorType:
    """Tile: each known dimension times its repeat, the ranks aligned from
    the right (the shorter padded with 1)."""
    x, shape = _x(call)
    repeats = call["repeats"]
    repeats = [repeats] if isinstance(repeats, int) else _as_list(call, repeats, "repeats")
    if len(shape) > len(repeats):
        repeats = [1] * (len(shape) - len(repeats)) + repeats
    else:
        shape = [1] * (len(repeats) - len(shape)) + shape
    return TensorType(tuple(d * r if isinstance(d, int) else None for d, r in zip(shape, repeats)), x.dtype)


def _as_list(call: OpCall, value: Any, param: str) -> list:
    if isinstance(value, (list, tuple)):
        return list(value)
    raise fail(call, codes.INVALID_SHAPE, f"`{param}` must be an integer or a list of integers.", param)


@op_rule("repeat")
def repeat(call: OpCall) -> TensorType:
    """Repeat: along `axis` (or the flattened tensor) each element `repeats`
    times; a list of repeats must match the size."""
    x, shape = _x(call)
    repeats, axis = call["repeats"], call["axis"]
    repeats = [repeats] if isinstance(repeats, int) else _as_list(call, repeats, "repeats")
    broadcast_one = len(repeats) == 1
    if axis is None:
        if None in shape:
            return TensorType((None,), x.dtype)
        flat = prod(shape)
        if broadcast_one:
            return TensorType((flat * repeats[0],), x.dtype)
        if len(repeats) != flat:
            raise fail(
                call, codes.INVALID_SHAPE,
                "Size of `repeats` and dimensions of `x` after flattening should be compatible. "
                f"Received: {len(repeats)} and {flat}",
            )
        return TensorType((sum(repeats),), x.dtype)
    a = index(call, axis, "`axis`")
    if not -len(shape) <= a < len(shape):
        raise fail(call, codes.INVALID_SHAPE, f"axis {a} is out of bounds for an array with dimension {len(shape)}.")
    if shape[a] is None:
        return TensorType(tuple(shape), x.dtype)
    if broadcast_one:
        shape[a] = shape[a] * repeats[0]
    elif shape[a] != len(repeats):
        raise fail(
            call, codes.INVALID_SHAPE,
            f"Size of `repeats` and dimensions of `axis {axis} of x` should be compatible. "
            f"Received: {len(repeats)} and {format_shape(shape)}",
        )
    else:
        shape[a] = sum(repeats)
    return TensorType(tuple(shape), x.dtype)


@op_rule("broadcast_to")
def broadcast_to(call: OpCall) -> TensorType:
    """Broadcast_to: the given shape, once x's shape broadcasts with it."""
    x, shape = _x(call)
    target = call["shape"]
    if not isinstance(target, (list, tuple)):
        raise fail(call, codes.INVALID_SHAPE, "`shape` must be a tuple of integers.", "shape")
    broadcast(call, shape, target)
    return TensorType(tuple(target), x.dtype)


# ---------------------------------------------------------------- same shape


@op_rule("flip", "roll")
def flip_roll(call: OpCall) -> TensorType:
    """Flip and roll keep the shape, once `axis` is checked."""
    x, shape = _x(call)
    if call["axis"] is not None:
        canonical_axes(call, call["axis"], len(shape))
    return same(x)


@op_rule("zeros_like", "ones_like")
def like(call: OpCall) -> TensorType:
    """Zeros_like and ones_like: x's shape, `dtype` or x's dtype."""
    dtype = None if call["dtype"] is None else standardize_dtype(call, call["dtype"])
    return same(tensor(call, "x"), dtype)


# ---------------------------------------------------------------- padding


@op_rule("pad")
def pad(call: OpCall) -> TensorType:
    """Pad: each known dimension grows by its (before, after) widths; one
    pair (or one int) applies to every dimension."""
    x, shape = _x(call)
    widths = _pad_widths(call, call["pad_width"])
    if len(widths) == 1:
        widths = [widths[0]] * len(shape)
    elif len(widths) != len(shape):
        raise fail(
            call, codes.INVALID_SHAPE,
            f"`pad_width` must have the same length as `x.shape`. Received: pad_width={show(call['pad_width'])} "
            f"(of length {len(widths)}) and x.shape={format_shape(shape)} (of length {len(shape)})",
        )
    out = []
    for d, w in zip(shape, widths):
        if not isinstance(w, (list, tuple)) or len(w) < 2:
            raise fail(call, codes.INVALID_SHAPE, "each entry of `pad_width` must be a (before, after) pair.", "pad_width")
        out.append(None if d is None else d + w[0] + w[1])
    return TensorType(tuple(out), x.dtype)


def _pad_widths(call: OpCall, value: Any) -> list:
    """Pad._process_pad_width: an int is ((p, p),), a flat pair one pair, a
    list of 1- or 2-sequences all of one length (1 meaning (p, p))."""
    if isinstance(value, int):
        return [(value, value)]
    if isinstance(value, (tuple, list)) and value and isinstance(value[0], int):
        return [tuple(value)]
    if not isinstance(value, (tuple, list)) or not value or not all(isinstance(w, (tuple, list)) for w in value):
        raise fail(call, codes.INVALID_SHAPE, "`pad_width` must be an int, a pair, or a list of pairs.", "pad_width")
    first = len(value[0])
    out = []
    for w in value:
        if len(w) != first:
            raise fail(call, codes.INVALID_SHAPE, "`pad_width` should be a list of tuples of length 1 or 2.", "pad_width")
        if len(w) == 1:
            if isinstance(value, tuple):
                # Keras assigns into the sequence it was given, which a tuple refuses.
                raise fail(call, codes.INVALID_SHAPE, "write 1-element pad widths in a list, or as (before, after) pairs.", "pad_width")
            w = (w[0], w[0])
        out.append(tuple(w))
    return out


# ---------------------------------------------------------------- gathering


def _constant_shape(call: OpCall, value: Any, param: str) -> tuple:
    """np.array(VALUE).shape for a constant: () for a scalar, the nesting of
    equal-length lists and tuples otherwise."""
    if not isinstance(value, (list, tuple)):
        return ()
    inner = [_constant_shape(call, v, param) for v in value]
    if any(s != inner[0] for s in inner[1:]):
        raise fail(call, codes.INVALID_SHAPE, f"`{param}` must be a rectangular list of indices.", param)
    return (len(value), *(inner[0] if inner else ()))


@op_rule("take")
def take(call: OpCall) -> TensorType:
    """Take: the indices' shape, in place of `axis` (or alone without one)."""
    x, shape = _x(call)
    indices = call["indices"]
    if isinstance(indices, TensorType):
        idx = list(known_shape(call, indices, "indices"))
    else:
        idx = list(_constant_shape(call, indices, "indices"))
    if call["axis"] is None:
        return TensorType(tuple(idx), x.dtype)
    axis = canonical_axis(call, call["axis"], len(shape))
    return TensorType(tuple(shape[:axis] + idx + shape[axis + 1:]), x.dtype)


@op_rule("take_along_axis")
def take_along_axis(call: OpCall) -> TensorType:
    """compute_take_along_axis_output_shape: equal ranks, the indices' size
    on `axis`, the other dimensions broadcast."""
    x, shape = _x(call)
    _, idx = _x(call, "indices")
    if call["axis"] is None:
        shape = [None] if None in shape else [prod(shape)]
    if len(shape) != len(idx):
        raise fail(
            call, codes.WRONG_RANK,
            "`x` and `indices` must have the same number of dimensions, but receive shape "
            f"{format_shape(shape)} and {format_shape(idx)}.",
        )
    axis = 0 if call["axis"] is None else canonical_axis(call, call["axis"], len(shape))
    shape[axis] = idx[axis]
    return TensorType(broadcast(call, shape, idx), x.dtype)


@op_rule("one_hot")
def one_hot(call: OpCall) -> TensorType:
    """One_hot: a new axis of `num_classes` at `axis` (-1 or in [0, rank)),
    dtype `dtype` (floatx by default)."""
    dtype = standardize_dtype(call, call["dtype"])
    x, shape = _x(call)
    axis = call["axis"]
    if axis == -1:
        shape.append(call["num_classes"])
    elif isinstance(axis, int) and 0 <= axis < len(shape):
        shape.insert(axis, call["num_classes"])
    else:
        raise fail(call, codes.INVALID_SHAPE, f"axis must be -1 or between [0, {len(shape)}), but received {show(axis)}.")
    return TensorType(tuple(shape), dtype)
