"""Shape rules of Keras's pooling layers: Max/AveragePooling and their
global versions in 1, 2 and 3 dimensions."""

from __future__ import annotations

from .. import codes
from .base import LayerCall, Result, RuleError, TensorType, rule
from .util import (
    channel_axis,
    check_not_empty,
    compute_dtype,
    data_format,
    expect_rank,
    finish,
    layout,
    min_rank,
    normalize_tuple,
    pooling_output_shape,
    single_input,
    window_text,
)

_POOL = {
    f"{name}{n}D": n
    for n in (1, 2, 3)
    for name in ("MaxPooling", "MaxPool", "AveragePooling", "AvgPool")
}


@rule(*_POOL)
def pooling(call: LayerCall) -> Result:
    """Spatial sizes as compute_pooling_output_shape (strides default to
    pool_size); KD502 when a valid pool does not fit."""
    n = _POOL[call.cls]
    fmt = data_format(call.args)
    shape = expect_rank(call, single_input(call), n + 2, layout(n, fmt))
    pool = normalize_tuple(call.args.get("pool_size", 2), n, "pool_size")
    strides = call.args.get("strides")
    strides = pool if strides is None else normalize_tuple(strides, n, "strides")
    # Keras does not lowercase a pooling padding: "SAME" is an error there.
    padding = call.args.get("padding", "valid")
    if padding not in ("valid", "same"):
        raise RuleError(codes.INVALID_SHAPE, f"{call.cls} padding must be 'valid' or 'same'. Received: padding={padding!r}")
    out = pooling_output_shape(shape, pool, strides, padding, fmt)
    why = window_text("pool_size", pool, strides, padding)
    hint = 'use padding="same", or a smaller pool_size or strides'
    return finish(call, TensorType(check_not_empty(call, out, shape, why, hint), compute_dtype(call.args)))


_GLOBAL = {
    f"{name}{n}D": n
    for n in (1, 2, 3)
    for name in ("GlobalMaxPooling", "GlobalMaxPool", "GlobalAveragePooling", "GlobalAvgPool")
}


@rule(*_GLOBAL)
def global_pooling(call: LayerCall) -> Result:
    """(batch, channels), or with keepdims every spatial dimension kept as 1."""
    n = _GLOBAL[call.cls]
    fmt = data_format(call.args)
    shape = expect_rank(call, single_input(call), n + 2, layout(n, fmt))
    channels = shape[channel_axis(n + 2, fmt)]
    if call.args.get("keepdims", False):
        out = (shape[0], *(1,) * n, channels) if fmt == "channels_last" else (shape[0], channels, *(1,) * n)
    else:
        out = (shape[0], channels)
    return finish(call, TensorType(out, compute_dtype(call.args)))


_ADAPTIVE = {
    f"Adaptive{name}Pooling{n}D": n for n in (1, 2, 3) for name in ("Average", "Max")
}


@rule(*_ADAPTIVE)
def adaptive_pooling(call: LayerCall) -> Result:
    """BaseAdaptivePooling.compute_output_shape: (batch, *output_size,
    channels), channels read from axis -1 (channels_first: 1).  Keras's
    static check takes any rank and so does kdsl (ops.adaptive_*_pool runs
    an AdaptiveAveragePooling2D on a rank-3 tensor, although its static
    shape then differs from the result); below rank 3 the op fails."""
    n = _ADAPTIVE[call.cls]
    fmt = data_format(call.args)
    shape = min_rank(call, single_input(call), 3)
    size = normalize_tuple(call.args["output_size"], n, "output_size")
    channels = shape[-1] if fmt == "channels_last" else shape[1]
    out = (shape[0], *size, channels) if fmt == "channels_last" else (shape[0], channels, *size)
    return finish(call, TensorType(out, compute_dtype(call.args)))
