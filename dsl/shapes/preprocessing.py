"""Shape rules of Keras's preprocessing layers: Rescaling, Normalization,
Resizing and CenterCrop."""

from __future__ import annotations

from .. import codes
from .augmentation import image_shape
from .base import LayerCall, Result, RuleError, TensorType, Weight, rule
from .util import (
    canonical_axis,
    compute_dtype,
    data_format,
    finish,
    format_shape,
    known_rank,
    single_input,
)


@rule("Rescaling")
def rescaling(call: LayerCall) -> Result:
    """Same shape, cast to the compute dtype (integer images become float)."""
    t = single_input(call)
    return finish(call, TensorType(t.shape, compute_dtype(call.args)))


def _rank_of_constant(value) -> int:
    """The rank of a nested list/tuple constant (0 for a scalar)."""
    rank = 0
    while isinstance(value, (list, tuple)):
        rank += 1
        value = value[0] if value else None
    return rank


@rule("Normalization")
def normalization(call: LayerCall) -> Result:
    """Same shape.  Without a given mean and variance Keras builds the
    non-trainable state to adapt: mean and variance over the kept axes, and
    a scalar count; with them, no weights."""
    shape = known_rank(call, single_input(call))
    axis = call.args.get("axis", -1)
    axes = () if axis is None else ((axis,) if isinstance(axis, int) else tuple(axis))
    keep = sorted(canonical_axis(call, a, len(shape), shape) for a in axes)
    for a in keep:
        if shape[a] is None:
            raise RuleError(
                codes.INVALID_SHAPE,
                f"Normalization needs a known size on each kept axis (axis {a}). Received: {format_shape(shape)}",
            )
    mean = call.args.get("mean")
    weights = []
    if mean is None:
        kept = tuple(shape[a] for a in keep)
        weights = [Weight("mean", kept, False), Weight("variance", kept, False), Weight("count", (), False)]
    elif _rank_of_constant(mean) > len(axes):
        raise RuleError(codes.INVALID_SHAPE, f"Normalization mean has rank {_rank_of_constant(mean)}, more than the {len(axes)} axes of axis={axis}")
    return finish(call, TensorType(shape, compute_dtype(call.args)), weights)


def _image_resize(call: LayerCall) -> Result:
    """Height and width replaced, as Resizing/CenterCrop.compute_output_shape:
    axes 1 and 2 of a rank-4 batch (channels_first: 2 and 3), axes 0 and 1 of
    a rank-3 tensor, which Keras reads as one image (channels_first: 1 and
    2) -- on a kd tensor that includes the batch axis, as in Keras."""
    fmt = data_format(call.args)
    shape = image_shape(call, single_input(call))
    out = list(shape)
    h = (1 if len(shape) == 4 else 0) + (1 if fmt == "channels_first" else 0)
    out[h], out[h + 1] = call.args["height"], call.args["width"]
    return finish(call, TensorType(tuple(out), compute_dtype(call.args)))


@rule("Resizing")
def resizing(call: LayerCall) -> Result:
    """Images resized to (height, width)."""
    return _image_resize(call)


@rule("CenterCrop")
def center_crop(call: LayerCall) -> Result:
    """Images cropped (or padded, as Keras does for small inputs) to (height, width)."""
    return _image_resize(call)
