"""Shape rules of Keras's audio preprocessing layers: MelSpectrogram and
STFTSpectrogram."""

from __future__ import annotations

import math

from .. import codes
from .base import LayerCall, Result, RuleError, TensorType, Weight, rule
from .util import (
    check_not_empty,
    compute_dtype,
    conv_output_length,
    converted_dtype,
    data_format,
    expect_rank,
    finish,
    format_shape,
    known_rank,
    single_input,
)


@rule("MelSpectrogram")
def mel_spectrogram(call: LayerCall) -> Result:
    """MelSpectrogram.compute_output_shape: (batch, num_mel_bins, frames)
    with frames = (samples + stride + 1) // stride, read from axis 1 (a
    (batch,) input gives (num_mel_bins, frames) as Keras has it)."""
    shape = known_rank(call, single_input(call))
    bins, stride = call.args.get("num_mel_bins", 128), call.args.get("sequence_stride", 512)
    if len(shape) == 1:
        n = shape[0]
        return finish(call, TensorType((bins, None if n is None else (n + stride + 1) // stride), compute_dtype(call.args)))
    n = shape[1]
    frames = None if n is None else (n + stride + 1) // stride
    return finish(call, TensorType((shape[0], bins, frames), compute_dtype(call.args)))


def _fft_length(call: LayerCall) -> int:
    """fft_length, or the next power of two of frame_length (Keras's _fft_length)."""
    given = call.args.get("fft_length")
    return given or 2 ** int(math.ceil(math.log2(call.args.get("frame_length", 256))))


@rule("STFTSpectrogram")
def stft_spectrogram(call: LayerCall) -> Result:
    """(batch, time, channels) -> (batch, frames, channels * freq) (or
    expand_dims: (batch, frames, freq, channels)); freq = fft_length // 2 + 1,
    doubled in mode "stft"; frames as a 1-d convolution with kernel
    frame_length and stride frame_step.  Kernels real_kernel and imag_kernel
    (frame_length, 1, fft_length // 2 + 1), one of them dropped in mode
    "imag"/"real"."""
    t = single_input(call)
    fmt = data_format(call.args)
    shape = expect_rank(call, t, 3, "batch, time, channels" if fmt == "channels_last" else "batch, channels, time")
    if converted_dtype(call.args, t) not in ("float16", "float32", "float64"):
        # STFTSpectrogram.call raises on its first batch.
        raise RuleError(codes.WRONG_DTYPE, f"STFTSpectrogram expects a float16, float32 or float64 signal. Received: a {t.dtype} tensor",
                        "cast the input to float32")
    mode, frame = call.args.get("mode", "log"), call.args.get("frame_length", 256)
    step = call.args.get("frame_step") or frame // 2
    fft = _fft_length(call)
    freq = fft // 2 + 1
    out_freq = 2 * freq if mode == "stft" else freq
    channels = shape[-1] if fmt == "channels_last" else shape[1]
    if channels is None:
        raise RuleError(codes.INVALID_SHAPE, f"STFTSpectrogram needs a known channel count. Received: {format_shape(shape)}")
    time = shape[1] if fmt == "channels_last" else shape[2]
    padding = call.args.get("padding", "valid")
    frames = conv_output_length(time, frame, step, padding)
    check_not_empty(call, (shape[0], frames), shape, f"frame_length={frame} is longer than the signal",
                    'use padding="same" or a shorter frame_length')
    if call.args.get("expand_dims", False):
        out = (shape[0], frames, out_freq, channels) if fmt == "channels_last" else (shape[0], channels, frames, out_freq)
    else:
        out = (shape[0], frames, out_freq * channels) if fmt == "channels_last" else (shape[0], out_freq * channels, frames)
    kernel = (frame, 1, freq)
    weights = [Weight(name, kernel) for name, skip in (("real_kernel", "imag"), ("imag_kernel", "real")) if mode != skip]
    return finish(call, TensorType(out, compute_dtype(call.args)), weights)
