"""Shape rules of Keras's recurrent layers and wrappers: SimpleRNN, GRU,
LSTM, ConvLSTM1D/2D/3D, Bidirectional and TimeDistributed."""

from __future__ import annotations

from typing import Any, Optional

from .. import codes
from .base import LayerCall, LayerSpec, Result, RuleError, TensorType, Weight, infer, rule
from .helpers import check_orthogonal_dtype
from .util import (
    channel_axis,
    check_not_empty,
    compute_dtype,
    conv_output_shape,
    converted_dtype,
    data_format,
    describe,
    expect_rank,
    finish,
    format_shape,
    known_dim,
    layout,
    min_rank,
    normalize_padding,
    normalize_tuple,
    spatial_axes,
    window_text,
)

# Gate count (kernel columns per unit) and state count of each cell.
_GATES = {"SimpleRNN": 1, "GRU": 3, "LSTM": 4}
_STATES = {"SimpleRNN": 1, "GRU": 1, "LSTM": 2}


def sequence_input(call: LayerCall) -> tuple:
    """(sequence tensor, initial states or None): `initial_state` may come as
    a keyword or as the second positional argument, one tensor or a list."""
    if not call.inputs or not isinstance(call.inputs[0], TensorType):
        raise RuleError(codes.INVALID_SHAPE, f"{call.cls} expects a sequence tensor. Received: {describe(call.inputs)}")
    states = call.call_kwargs.get("initial_state")
    if states is None and len(call.inputs) > 1:
        states = call.inputs[1]
    if isinstance(states, TensorType):
        states = [states]
    return call.inputs[0], (None if states is None else list(states))


def check_states(call: LayerCall, states: Optional[list], expected: list) -> None:
    """KD500 unless STATES (if given) match the EXPECTED state shapes: their
    count, and every known dimension after the batch one."""
    if states is None:
        return
    ok = len(states) == len(expected) and all(
        isinstance(s, TensorType) and s.shape is not None and len(s.shape) == len(e)
        and all(a is None or b is None or a == b for a, b in zip(s.shape[1:], e[1:]))
        for s, e in zip(states, expected)
    )
    if not ok:
        want = " and ".join(format_shape(e) for e in expected)
        raise RuleError(
            codes.INCOMPATIBLE_SHAPES,
            f"{call.cls} initial_state must be {len(expected)} tensor(s) of shape {want}. "
            f"Received: {describe(list(states))}",
        )


def recurrent_outputs(call: LayerCall, batch, steps, state_shape: tuple, n_states: int) -> Any:
    """The output structure of an RNN layer: the last output or the sequence,
    followed by the states when return_state (a tuple, as Keras returns)."""
    dtype = compute_dtype(call.args)
    if call.args.get("return_sequences", False):
        out = TensorType((batch, steps) + state_shape, dtype)
    else:
        out = TensorType((batch,) + state_shape, dtype)
    if call.args.get("return_state", False):
        return (out,) + tuple(TensorType((batch,) + state_shape, dtype) for _ in range(n_states))
    return out


def check_stateful(call: LayerCall, shape: tuple) -> None:
    """A stateful RNN keeps per-sample state variables: Keras needs a fixed batch size."""
    if call.args.get("stateful", False) and shape[0] is None:
        raise RuleError(
            codes.INVALID_SHAPE,
            f"{call.cls} with stateful=True needs a fixed batch size. Received: {format_shape(shape)}",
            "give the input a batch_size",
        )


@rule("SimpleRNN", "GRU", "LSTM")
def recurrent(call: LayerCall) -> Result:
    """(batch, steps, d) -> (batch, units) or (batch, steps, units), plus the
    states; kernel (d, g*units), recurrent_kernel (units, g*units), bias."""
    x, states = sequence_input(call)
    shape = expect_rank(call, x, 3, "batch, timesteps, features")
    units, gates = call.args["units"], _GATES[call.cls]
    d = known_dim(call, shape, 2, "feature dimension")
    check_orthogonal_dtype(call)
    check_stateful(call, shape)
    n_states = _STATES[call.cls]
    check_states(call, states, [(shape[0], units)] * n_states)
    weights = [Weight("kernel", (d, gates * units)), Weight("recurrent_kernel", (units, gates * units))]
    if call.args.get("use_bias", True):
        after = call.cls == "GRU" and call.args.get("reset_after", True)
        weights.append(Weight("bias", (2, gates * units) if after else (gates * units,)))
    return finish(call, recurrent_outputs(call, shape[0], shape[1], (units,), n_states), weights)


def _conv_args(call: LayerCall, n: int) -> tuple:
    """(kernel, strides, dilation, padding) of a ConvLSTM, checked as Keras does."""
    kernel = normalize_tuple(call.args["kernel_size"], n, "kernel_size")
    strides = normalize_tuple(call.args.get("strides", 1), n, "strides")
    dilation = normalize_tuple(call.args.get("dilation_rate", 1), n, "dilation_rate")
    if max(strides) > 1 and max(dilation) > 1:
        raise RuleError(codes.INVALID_SHAPE, f"{call.cls} does not support strides > 1 with dilation_rate > 1. Received: strides={strides}, dilation_rate={dilation}")
    return kernel, strides, dilation, normalize_padding(call.args.get("padding", "valid"))


@rule("ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D")
def conv_lstm(call: LayerCall) -> Result:
    """(batch, time, *spatial, channels) -> the conv output per step, as a
    sequence or the last one, plus states h and c; weights as a 4-gate conv.
    Keras needs every dimension but batch and time to be known."""
    x, states = sequence_input(call)
    n, fmt = int(call.cls[-2]), data_format(call.args)
    shape = expect_rank(call, x, n + 3, "batch, time, " + layout(n, fmt)[len("batch, "):])
    for a in spatial_axes(n + 2, fmt):
        known_dim(call, shape, a + 1, "spatial dimension")
    channels = known_dim(call, shape, channel_axis(n + 2, fmt) + 1, "channel dimension")
    kernel, strides, dilation, padding = _conv_args(call, n)
    check_orthogonal_dtype(call)
    filters, step = call.args["filters"], (shape[0],) + shape[2:]
    state = conv_output_shape(step, filters, kernel, strides, padding, fmt, dilation)
    check_not_empty(call, state, step, window_text("kernel_size", kernel, strides, padding, dilation))
    check_stateful(call, shape)
    check_states(call, states, [state, state])
    weights = [Weight("kernel", kernel + (channels, 4 * filters)), Weight("recurrent_kernel", kernel + (filters, 4 * filters))]
    if call.args.get("use_bias", True):
        weights.append(Weight("bias", (4 * filters,)))
    return finish(call, recurrent_outputs(call, shape[0], shape[1], state[1:], 2), weights)


def _split(outputs: Any, with_state: bool) -> tuple:
    """(output, states) of an RNN result."""
    if with_state:
        return outputs[0], tuple(outputs[1:])
    return outputs, ()


def _run_both(call: LayerCall, x: TensorType, states: Optional[list]) -> tuple:
    """The forward and backward layers' Results (initial states split in half)."""
    fspec: LayerSpec = call.args["layer"]
    bspec: LayerSpec = call.args.get("backward_layer") or fspec
    for attr in ("stateful", "return_sequences", "return_state"):
        if bool(fspec.args.get(attr, False)) != bool(bspec.args.get(attr, False)):
            raise RuleError(codes.INVALID_SHAPE, f"Bidirectional: the forward and backward layers must agree on {attr}.")
    half = None if states is None else len(states) // 2
    fwd = infer(fspec, (x,), {} if states is None else {"initial_state": states[:half]})
    bwd = infer(bspec, (x,), {} if states is None else {"initial_state": states[half:]})
    return fwd, bwd, bool(fspec.args.get("return_state", False))


@rule("Bidirectional")
def bidirectional(call: LayerCall) -> Result:
    """The forward and backward layers' outputs merged by merge_mode
    (concat doubles the last dimension; None gives both); with return_state
    the forward's states follow twice, as Keras's static spec has them.
    Weights: forward, then backward."""
    x, states = sequence_input(call)
    fwd, bwd, with_state = _run_both(call, x, states)
    (fo, fs), (bo, _) = _split(fwd.outputs, with_state), _split(bwd.outputs, with_state)
    if fo.shape != bo.shape:
        # Keras would take the forward shape for both: a wrong static shape.
        raise RuleError(
            codes.INVALID_SHAPE,
            "Bidirectional needs forward and backward layers with the same output shape. "
            f"Received: {format_shape(fo.shape)} and {format_shape(bo.shape)}",
            "give the backward layer the same units; Keras would report the forward layer's shape for both",
        )
    dtype, merge = compute_dtype(call.args), call.args.get("merge_mode", "concat")
    out = TensorType(fo.shape, dtype)
    if merge == "concat":
        last = fo.shape[-1]
        out = TensorType(fo.shape[:-1] + (None if last is None else 2 * last,), dtype)
    heads = (out, out) if merge is None else (out,)
    outputs = heads + tuple(TensorType(s.shape, dtype) for s in fs + fs)
    return finish(call, outputs if len(outputs) > 1 else out, fwd.weights + bwd.weights)


@rule("TimeDistributed")
def time_distributed(call: LayerCall) -> Result:
    """The inner layer applied to (batch, *shape[2:]); its output gets the
    time axis back at position 1.  Weights: the inner layer's."""
    if not call.inputs or not isinstance(call.inputs[0], TensorType):
        raise RuleError(codes.INVALID_SHAPE, f"TimeDistributed expects a single tensor. Received: {describe(call.inputs)}")
    x = call.inputs[0]
    shape = min_rank(call, x, 3)
    child = TensorType((shape[0],) + shape[2:], converted_dtype(call.args, x))
    kwargs = {k: v for k, v in call.call_kwargs.items() if k != "mask"}
    inner = infer(call.args["layer"], (child,), kwargs)
    if not isinstance(inner.outputs, TensorType) or inner.outputs.shape is None:
        raise RuleError(codes.INVALID_SHAPE, f"TimeDistributed needs an inner layer with a single output of known rank. Received: {inner.outputs}")
    co = inner.outputs.shape
    out = TensorType((co[0], shape[1]) + tuple(co[1:]), compute_dtype(call.args))
    return finish(call, out, inner.weights)
