"""Shape rules of Keras's normalization layers: they keep the input shape
and build per-feature weights along `axis`."""

from __future__ import annotations

from .. import codes
from .base import LayerCall, Result, RuleError, TensorType, Weight, infer, rule
from .util import canonical_axis, compute_dtype, finish, format_shape, known_dim, known_rank, single_input


def _axes(value) -> list:
    """An int-or-list axis argument as a list."""
    return list(value) if isinstance(value, (list, tuple)) else [value]


@rule("BatchNormalization")
def batch_normalization(call: LayerCall) -> Result:
    """gamma (if scale) and beta (if center) trainable; moving_mean and
    moving_variance (and renorm's three) non-trainable; all of shape (dim,)."""
    shape = known_rank(call, single_input(call))
    axis = canonical_axis(call, int(call.args.get("axis", -1)), len(shape), shape)
    dim = (known_dim(call, shape, axis, "dimension on the normalized axis"),)
    weights = []
    if call.args.get("scale", True):
        weights.append(Weight("gamma", dim))
    if call.args.get("center", True):
        weights.append(Weight("beta", dim))
    names = ["moving_mean", "moving_variance"]
    if call.args.get("renorm", False):
        names += ["moving_stddev", "renorm_mean", "renorm_stddev"]
    weights += [Weight(n, dim, False) for n in names]
    return finish(call, TensorType(shape, compute_dtype(call.args)), weights)


def axis_weight_shape(call: LayerCall, shape: tuple, axis) -> tuple:
    """The shape of a per-axis weight: the input's dimensions at the axes in
    sorted order of the axis values as given (as Keras's build does)."""
    axes = sorted(axis) if isinstance(axis, (list, tuple)) else [axis]
    for a in axes:
        canonical_axis(call, a, len(shape), shape)
    return tuple(known_dim(call, shape, a, "dimension on the normalized axis") for a in axes)


def _check_axes(call: LayerCall, shape: tuple, axis) -> None:
    """KD505 unless every axis of AXIS exists in SHAPE."""
    for a in _axes(axis):
        canonical_axis(call, a, len(shape), shape)


@rule("LayerNormalization")
def layer_normalization(call: LayerCall) -> Result:
    """gamma (if scale or rms_scaling) and beta (if center, without
    rms_scaling) over the normalized axes; no weights, no known sizes needed."""
    shape = known_rank(call, single_input(call))
    # LayerNormalization.build: gamma if scale or rms_scaling, beta if center and not rms_scaling.
    rms = call.args.get("rms_scaling", False)
    scale, center = call.args.get("scale", True) or rms, call.args.get("center", True) and not rms
    if not (scale or center):
        # No weights to build: Keras checks only that the axes exist.
        _check_axes(call, shape, call.args.get("axis", -1))
        return finish(call, TensorType(shape, compute_dtype(call.args)))
    w = axis_weight_shape(call, shape, call.args.get("axis", -1))
    weights = [Weight(n, w) for n, on in (("gamma", scale), ("beta", center)) if on]
    return finish(call, TensorType(shape, compute_dtype(call.args)), weights)


@rule("RMSNormalization")
def rms_normalization(call: LayerCall) -> Result:
    """One `scale` weight over the normalized axes."""
    shape = known_rank(call, single_input(call))
    w = axis_weight_shape(call, shape, call.args.get("axis", -1))
    return finish(call, TensorType(shape, compute_dtype(call.args)), [Weight("scale", w)])


@rule("GroupNormalization")
def group_normalization(call: LayerCall) -> Result:
    """gamma and beta of shape (channels,); groups (-1: one per channel) must
    divide the channels."""
    shape = known_rank(call, single_input(call))
    axis = canonical_axis(call, call.args.get("axis", -1), len(shape), shape)
    dim = known_dim(call, shape, axis, "channel dimension")
    groups = call.args.get("groups", 32)
    groups = dim if groups == -1 else groups
    if groups > dim or dim % groups:
        raise RuleError(
            codes.INVALID_SHAPE,
            f"GroupNormalization groups={groups} must divide the {dim} channels on axis {call.args.get('axis', -1)}. "
            f"Received: {format_shape(shape)}",
            "choose groups among the divisors of the channel count",
        )
    weights = [Weight(n, (dim,)) for n, on in (("gamma", call.args.get("scale", True)), ("beta", call.args.get("center", True))) if on]
    return finish(call, TensorType(shape, compute_dtype(call.args)), weights)


@rule("UnitNormalization")
def unit_normalization(call: LayerCall) -> Result:
    """Same shape, no weights; the axes must exist."""
    shape = known_rank(call, single_input(call))
    for a in _axes(call.args.get("axis", -1)):
        canonical_axis(call, a, len(shape), shape)
    return finish(call, TensorType(shape, compute_dtype(call.args)))


# Layers whose weights include one named "kernel" that lives on their cell
# or inner layer, not on the layer object SpectralNormalization inspects.
_NO_KERNEL_ATTRIBUTE = frozenset({
    "SimpleRNN", "GRU", "LSTM", "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D",
    "Bidirectional", "TimeDistributed", "SpectralNormalization",
})


@rule("SpectralNormalization")
def spectral_normalization(call: LayerCall) -> Result:
    """The wrapped layer's output shape, in the wrapper's compute dtype
    (compute_output_shape delegates to the layer).  Weights: the layer's
    `kernel` (or `embeddings`), which the wrapper tracks as its own, then
    its non-trainable vector_u (1, kernel.shape[-1]), then the layer's other
    weights; a frozen (LoRA) kernel is tracked after vector_u."""
    spec = call.args["layer"]
    inner = infer(spec, call.inputs, call.call_kwargs)
    kernel = next((w for w in inner.weights if w.name in ("kernel", "embeddings")), None)
    if kernel is None or spec.cls in _NO_KERNEL_ATTRIBUTE:
        raise RuleError(
            codes.INVALID_SHAPE,
            f"SpectralNormalization wraps a layer with a `kernel` or `embeddings` weight (Dense, Conv, Embedding, ...). "
            f"Received: {call.args['layer'].cls}",
        )
    u = Weight("vector_u", (1, kernel.shape[-1]), False)
    # LoRA freezes the kernel variable inside the layer's build, before the
    # wrapper tracks it; a layer built with trainable=False does not.
    own = [u, kernel] if spec.args.get("lora_rank") else [kernel, u]
    weights = own + [w for w in inner.weights if w is not kernel]
    outputs = inner.outputs
    if not isinstance(outputs, TensorType):
        raise RuleError(codes.INVALID_SHAPE, f"SpectralNormalization needs a layer with a single output. Received: {outputs}")
    return finish(call, TensorType(outputs.shape, compute_dtype(call.args)), weights)
