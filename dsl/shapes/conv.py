"""Shape rules of Keras's convolution layers: ConvND, SeparableConvND,
DepthwiseConvND and ConvNDTranspose, in both data formats."""

from __future__ import annotations

from ..records import record

from .. import codes
from .base import LayerCall, Result, RuleError, TensorType, Weight, rule
from .util import (
    channel_axis,
    check_not_empty,
    compute_dtype,
    conv_output_shape,
    conv_transpose_output_length,
    data_format,
    expect_rank,
    finish,
    format_shape,
    known_dim,
    layout,
    normalize_padding,
    normalize_tuple,
    place_spatial,
    single_input,
    spatial_axes,
    window_text,
    with_lora,
)


@record(frozen=True)
class Conv:
    """The normalized arguments of a convolution and the input it sees."""

    shape: tuple
    fmt: str
    kernel: tuple
    strides: tuple
    dilation: tuple
    padding: str
    channels: int


def _rank_of(cls: str) -> int:
    """1, 2 or 3 from a class name such as Conv2D or Convolution3DTranspose."""
    return int(cls.replace("Transpose", "")[-2])


def setup(call: LayerCall, causal: bool = False, dilated_strides: bool = False) -> Conv:
    """Normalize a convolution's arguments and check its input: the rank
    (KD501), a known channel count (KD505), and Keras's own argument rules.
    DILATED_STRIDES: the layer takes strides > 1 with dilation_rate > 1
    (BaseSeparableConv and BaseDepthwiseConv do not check it, and
    TensorFlow runs them; BaseConv and BaseConvTranspose raise)."""
    n = _rank_of(call.cls)
    fmt = data_format(call.args)
    shape = expect_rank(call, single_input(call), n + 2, layout(n, fmt))
    kernel = normalize_tuple(call.args["kernel_size"], n, "kernel_size")
    strides = normalize_tuple(call.args.get("strides", 1), n, "strides")
    dilation = normalize_tuple(call.args.get("dilation_rate", 1), n, "dilation_rate")
    padding = normalize_padding(call.args.get("padding", "valid"), allow_causal=causal and n == 1)
    if not dilated_strides and max(strides) > 1 and max(dilation) > 1:
        raise RuleError(
            codes.INVALID_SHAPE,
            f"{call.cls} does not support strides > 1 together with dilation_rate > 1. "
            f"Received: strides={strides}, dilation_rate={dilation}",
        )
    channels = known_dim(call, shape, channel_axis(n + 2, fmt), "channel dimension")
    return Conv(shape, fmt, kernel, strides, dilation, padding, channels)


def conv_shape(call: LayerCall, c: Conv, filters: int) -> tuple:
    """The output shape of convolution C with FILTERS channels; KD502 if empty."""
    out = conv_output_shape(c.shape, filters, c.kernel, c.strides, c.padding, c.fmt, c.dilation)
    why = window_text("kernel_size", c.kernel, c.strides, c.padding, c.dilation)
    return check_not_empty(call, out, c.shape, why)


@rule("Conv1D", "Conv2D", "Conv3D", "Convolution1D", "Convolution2D", "Convolution3D")
def conv(call: LayerCall) -> Result:
    """Kernel kernel_size + (channels // groups, filters), bias (filters,)."""
    c = setup(call, causal=True)
    filters, groups = call.args["filters"], call.args.get("groups", 1)
    if groups < 1 or c.channels % groups or filters % groups:
        raise RuleError(
            codes.INVALID_SHAPE,
            f"{call.cls} groups={groups} must divide both the input channels ({c.channels}) "
            f"and filters ({filters}). Received: {format_shape(c.shape)}",
        )
    weights = [Weight("kernel", c.kernel + (c.channels // groups, filters))]
    if call.args.get("use_bias", True):
        weights.append(Weight("bias", (filters,)))
    weights = with_lora(weights, call.args.get("lora_rank"))
    return finish(call, TensorType(conv_shape(call, c, filters), compute_dtype(call.args)), weights)


@rule("SeparableConv1D", "SeparableConv2D", "SeparableConvolution1D", "SeparableConvolution2D")
def separable_conv(call: LayerCall) -> Result:
    """A depthwise kernel kernel_size + (channels, depth_multiplier), a
    pointwise kernel (1,)*n + (channels * depth_multiplier, filters), a bias."""
    c = setup(call, dilated_strides=True)
    filters, mult = call.args["filters"], call.args.get("depth_multiplier", 1)
    weights = [
        Weight("depthwise_kernel", c.kernel + (c.channels, mult)),
        Weight("pointwise_kernel", (1,) * len(c.kernel) + (c.channels * mult, filters)),
    ]
    if call.args.get("use_bias", True):
        weights.append(Weight("bias", (filters,)))
    return finish(call, TensorType(conv_shape(call, c, filters), compute_dtype(call.args)), weights)


@rule("DepthwiseConv1D", "DepthwiseConv2D")
def depthwise_conv(call: LayerCall) -> Result:
    """channels * depth_multiplier output channels; kernel kernel_size +
    (channels, depth_multiplier), bias (channels * depth_multiplier,)."""
    c = setup(call, dilated_strides=True)
    mult = call.args.get("depth_multiplier", 1)
    weights = [Weight("kernel", c.kernel + (c.channels, mult))]
    if call.args.get("use_bias", True):
        weights.append(Weight("bias", (c.channels * mult,)))
    out = conv_shape(call, c, c.channels * mult)
    return finish(call, TensorType(out, compute_dtype(call.args)), weights)


@rule(
    "Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose",
    "Convolution1DTranspose", "Convolution2DTranspose", "Convolution3DTranspose",
)
def conv_transpose(call: LayerCall) -> Result:
    """Spatial sizes grow as Keras's transposed-conv formula (output_padding
    included); kernel kernel_size + (filters, channels), bias (filters,)."""
    c = setup(call)
    filters = call.args["filters"]
    op = call.args.get("output_padding")
    op = None if op is None else normalize_tuple(op, len(c.kernel), "output_padding", allow_zero=True)
    if op is not None and any(p >= s for p, s in zip(op, c.strides)):
        raise RuleError(
            codes.INVALID_SHAPE,
            f"{call.cls} output_padding must be smaller than strides in every dimension. "
            f"Received: output_padding={op}, strides={c.strides}",
        )
    spatial = tuple(
        conv_transpose_output_length(c.shape[a], k, s, c.padding, None if op is None else op[i], d)
        for i, (a, k, s, d) in enumerate(zip(spatial_axes(len(c.shape), c.fmt), c.kernel, c.strides, c.dilation))
    )
    out = place_spatial(c.shape, spatial, filters, c.fmt)
    weights = [Weight("kernel", c.kernel + (filters, c.channels))]
    if call.args.get("use_bias", True):
        weights.append(Weight("bias", (filters,)))
    return finish(call, TensorType(out, compute_dtype(call.args)), weights)
