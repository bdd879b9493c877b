"""Shape rules of Keras's reshaping layers: Flatten, Reshape, Permute,
RepeatVector, ZeroPadding, Cropping and UpSampling in 1, 2 and 3 dimensions."""

from __future__ import annotations

from math import prod

from .. import codes
from .base import LayerCall, Result, RuleError, TensorType, rule
from .util import (
    check_not_empty,
    compute_dtype,
    converted_dtype,
    data_format,
    expect_rank,
    finish,
    format_shape,
    layout,
    min_rank,
    normalize_tuple,
    pair_tuple,
    single_input,
    spatial_axes,
)


@rule("Flatten")
def flatten(call: LayerCall) -> Result:
    """(batch, ...) -> (batch, product of the rest), None if any is unknown.
    Flatten's output spec keeps the (autocast) input dtype."""
    t = single_input(call)
    shape = min_rank(call, t, 1)
    rest = shape[1:]
    flat = 1 if not rest else (None if None in rest else prod(rest))
    return finish(call, TensorType((shape[0], flat), converted_dtype(call.args, t)))


def reshape_target(call: LayerCall, source: tuple, target: tuple) -> tuple:
    """Keras's compute_reshape_output_shape: TARGET with its -1 resolved
    against SOURCE (both without batch); None when anything is unknown."""
    if any(d is not None and (not isinstance(d, int) or d < -1) for d in target) or target.count(-1) > 1:
        raise RuleError(
            codes.INVALID_SHAPE,
            "Reshape target_shape must hold non-negative integers and at most one -1. "
            f"Received: target_shape={target}",
        )
    if None in source or None in target:
        return tuple(None if d == -1 else d for d in target)
    known = prod(d for d in target if d != -1)
    total = prod(source)
    if -1 not in target and known == total:
        return target
    if -1 in target and known and total % known == 0:
        return tuple(total // known if d == -1 else d for d in target)
    raise RuleError(
        codes.INVALID_SHAPE,
        f"Reshape cannot turn {format_shape(source)} ({total} values per sample) into "
        f"target_shape={target}. Received: input shape {format_shape((None,) + source)}",
        "the product of target_shape must equal the input size; use -1 for one inferred dimension",
    )


@rule("Reshape")
def reshape(call: LayerCall) -> Result:
    """(batch, ...) -> (batch, *target_shape), -1 inferred where possible."""
    t = single_input(call)
    shape = min_rank(call, t, 1)
    target = reshape_target(call, shape[1:], tuple(call.args["target_shape"]))
    return finish(call, TensorType((shape[0],) + target, converted_dtype(call.args, t)))


@rule("Permute")
def permute(call: LayerCall) -> Result:
    """Axes reordered by `dims` (1-based, batch fixed)."""
    t = single_input(call)
    dims = tuple(call.args["dims"])
    if sorted(dims) != list(range(1, len(dims) + 1)):
        raise RuleError(
            codes.INVALID_SHAPE,
            "Permute dims must be a permutation of 1..n (the batch axis 0 stays). "
            f"Received: dims={dims}",
        )
    shape = expect_rank(call, t, len(dims) + 1)
    out = (shape[0],) + tuple(shape[d] for d in dims)
    return finish(call, TensorType(out, converted_dtype(call.args, t)))


@rule("RepeatVector")
def repeat_vector(call: LayerCall) -> Result:
    """(batch, d) -> (batch, n, d)."""
    shape = expect_rank(call, single_input(call), 2, "batch, features")
    return finish(call, TensorType((shape[0], call.args["n"], shape[1]), compute_dtype(call.args)))


_DIMS = {"1D": 1, "2D": 2, "3D": 3}


def _spatial_input(call: LayerCall) -> tuple:
    """(shape, n, data_format, spatial axis indices) of an N-d spatial layer."""
    n = _DIMS[call.cls[-2:]]
    fmt = data_format(call.args)
    shape = expect_rank(call, single_input(call), n + 2, layout(n, fmt))
    return shape, n, fmt, list(spatial_axes(n + 2, fmt))


def _resize(shape: tuple, axes: list, new) -> tuple:
    """SHAPE with each of AXES mapped through NEW(i, dim); None stays None."""
    out = list(shape)
    for i, a in enumerate(axes):
        if out[a] is not None:
            out[a] = new(i, out[a])
    return tuple(out)


@rule("ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D")
def zero_padding(call: LayerCall) -> Result:
    """Each spatial dimension grows by its (before, after) padding."""
    shape, n, fmt, axes = _spatial_input(call)
    pads = pair_tuple(call.args["padding"], n, "padding") if n > 1 else (normalize_tuple(call.args["padding"], 2, "padding", True),)
    out = _resize(shape, axes, lambda i, d: d + sum(pads[i]))
    return finish(call, TensorType(out, compute_dtype(call.args)))


@rule("Cropping1D", "Cropping2D", "Cropping3D")
def cropping(call: LayerCall) -> Result:
    """Each spatial dimension shrinks by its (before, after) cropping; KD502
    when nothing would be left."""
    shape, n, fmt, axes = _spatial_input(call)
    crops = pair_tuple(call.args["cropping"], n, "cropping") if n > 1 else (normalize_tuple(call.args["cropping"], 2, "cropping", True),)
    out = _resize(shape, axes, lambda i, d: d - sum(crops[i]))
    why = f"cropping={crops if n > 1 else crops[0]} removes the whole input"
    check_not_empty(call, out, shape, why, "crop less than the input size on each axis")
    return finish(call, TensorType(out, compute_dtype(call.args)))


@rule("UpSampling1D", "UpSampling2D", "UpSampling3D")
def up_sampling(call: LayerCall) -> Result:
    """Each spatial dimension multiplied by its size factor."""
    shape, n, fmt, axes = _spatial_input(call)
    factors = normalize_tuple(call.args["size"], n, "size")
    out = _resize(shape, axes, lambda i, d: d * factors[i])
    return finish(call, TensorType(out, compute_dtype(call.args)))
