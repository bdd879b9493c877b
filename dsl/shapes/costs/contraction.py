"""Cost rules of the layers whose work is a contraction (a matmul, an einsum,
a convolution): their MACs are the multiplies of the contraction, each fused
with its accumulate.  Bias adds, activations and the elementwise arithmetic
around the contraction (RNN gates, attention scaling, masks) are not counted;
docs/costs.md says why."""

from __future__ import annotations

from math import prod
from typing import Optional

from ..attention import attention_axes
from ..base import LayerCall, Result, TensorType, infer
from ..conv import setup as conv_setup
from ..core import analyze_einsum
from ..rnn import sequence_input
from ..util import channel_axis, data_format, normalize_tuple, spatial_axes
from .registry import cost_rule, first_output, known_prod, layer_macs, per_example, times, total


def _spatial(shape: tuple, fmt: str) -> tuple:
    """The spatial dimensions of a batch-first SHAPE in data format FMT."""
    return tuple(shape[a] for a in spatial_axes(len(shape), fmt))


@cost_rule("Dense")
def dense(call: LayerCall, result: Result) -> Optional[int]:
    """positions * d * units, positions = the output's dims between batch and units."""
    d = call.inputs[0].shape[-1]
    out = result.outputs.shape
    return times(known_prod(out[1:-1]), d, out[-1])


def einsum_macs(equation: str, input_shape: tuple, output_shape, bias_axes=None) -> Optional[int]:
    """The multiplies of EinsumDense's einsum for one example: the product of
    the sizes of every index of the equation, elided (...) dims included."""
    shape = (1,) + tuple(input_shape[1:])  # one example: the batch index has size 1
    if None in shape:
        return None
    kernel, _, _ = analyze_einsum(equation, bias_axes, shape, output_shape)
    inputs = equation.replace("...", "0").split("->")[0]
    in_spec, w_spec = inputs.split(",")
    letters = in_spec.replace("0", "")
    if in_spec.startswith("0"):
        dims, elided = shape[len(shape) - len(letters):], shape[: len(shape) - len(letters)]
    else:
        dims, elided = shape[: len(letters)], shape[len(letters):]
    sizes = dict(zip(letters, dims))
    for c, d in zip(w_spec, kernel):
        sizes.setdefault(c, d)
    return prod(sizes.values()) * prod(elided)


@cost_rule("EinsumDense")
def einsum_dense(call: LayerCall, result: Result) -> Optional[int]:
    """The product of the sizes of all the equation's indices, batch excluded."""
    a = call.args
    return einsum_macs(a["equation"], call.inputs[0].shape, a["output_shape"], a.get("bias_axes"))


CONV = ("Conv1D", "Conv2D", "Conv3D", "Convolution1D", "Convolution2D", "Convolution3D")
TRANSPOSE = tuple(f"{c}Transpose" for c in CONV)


@cost_rule(*CONV)
def conv(call: LayerCall, result: Result) -> Optional[int]:
    """output positions * prod(kernel_size) * (channels / groups) * filters."""
    c = conv_setup(call, causal=True)
    groups = call.args.get("groups", 1) or 1
    positions = known_prod(_spatial(result.outputs.shape, c.fmt))
    return times(positions, prod(c.kernel), c.channels // groups, call.args["filters"])


@cost_rule(*TRANSPOSE)
def conv_transpose(call: LayerCall, result: Result) -> Optional[int]:
    """input positions * prod(kernel_size) * channels * filters: every input
    element meets every kernel tap once (fvcore's count)."""
    c = conv_setup(call)
    return times(known_prod(_spatial(c.shape, c.fmt)), prod(c.kernel), c.channels, call.args["filters"])


@cost_rule("DepthwiseConv1D", "DepthwiseConv2D")
def depthwise_conv(call: LayerCall, result: Result) -> Optional[int]:
    """output positions * prod(kernel_size) * channels * depth_multiplier."""
    c = conv_setup(call)
    positions = known_prod(_spatial(result.outputs.shape, c.fmt))
    return times(positions, prod(c.kernel), c.channels, call.args.get("depth_multiplier", 1))


@cost_rule("SeparableConv1D", "SeparableConv2D", "SeparableConvolution1D", "SeparableConvolution2D")
def separable_conv(call: LayerCall, result: Result) -> Optional[int]:
    """The depthwise step, output positions * prod(kernel_size) * channels *
    depth_multiplier, plus the pointwise one, output positions * channels *
    depth_multiplier * filters."""
    c = conv_setup(call)
    positions = known_prod(_spatial(result.outputs.shape, c.fmt))
    inner = c.channels * call.args.get("depth_multiplier", 1)
    return times(positions, inner, prod(c.kernel) + call.args["filters"])


# ------------------------------------------------------------ attention


def _mha_shapes(call: LayerCall) -> tuple:
    """(query, value, key) shapes, as the shape rule reads them."""
    args = list(call.inputs) + [None] * 3
    query, value, key = args[0], args[1], args[2] or call.call_kwargs.get("key")
    value = value if value is not None else call.call_kwargs.get("value")
    key = key if isinstance(key, TensorType) else value
    return query.shape, value.shape, key.shape


@cost_rule("MultiHeadAttention")
def multi_head_attention(call: LayerCall, result: Result) -> Optional[int]:
    """The query, key, value (and gate) projections, the QK^T scores, the
    scores-times-V product and the output projection; N = heads."""
    q, v, k = _mha_shapes(call)
    heads, key_dim = call.args["num_heads"], call.args["key_dim"]
    value_dim = call.args.get("value_dim") or key_dim
    out_dims = first_output(result).shape[len(q) - 1:]
    queries = known_prod(q[1:-1])
    attended = known_prod(k[a] for a in attention_axes(call, len(q)))
    terms = [
        times(queries, q[-1], heads, key_dim),  # query projection
        times(known_prod(k[1:-1]), k[-1], heads, key_dim),  # key projection
        times(known_prod(v[1:-1]), v[-1], heads, value_dim),  # value projection
        times(queries, attended, heads, key_dim),  # scores
        times(queries, attended, heads, value_dim),  # scores x value
        times(queries, heads, value_dim, known_prod(out_dims)),  # output projection
    ]
    if call.args.get("use_gate", False):
        terms.append(times(queries, q[-1], heads, value_dim))
    return total(*terms)


@cost_rule("Attention", "AdditiveAttention")
def attention(call: LayerCall, result: Result) -> Optional[int]:
    """queries * keys * (features + value features): the scores (a dot
    product, or the sum over features of tanh(q + k) in the additive and
    concat forms) and the scores-times-value product."""
    items = call.inputs[0]
    q, v = items[0].shape, items[1].shape
    k = items[2].shape if len(items) == 3 else v
    return times(known_prod(q[1:-1]), k[-2], total(q[-1], v[-1]))


@cost_rule("Dot")
def dot(call: LayerCall, result: Result) -> Optional[int]:
    """output elements * contracted size; with normalize=True, each input's
    L2 normalization as UnitNormalization counts it (2 per element)."""
    a, b = (t.shape for t in call.inputs[0])
    axes = call.args["axes"]
    axes = (axes, axes) if isinstance(axes, int) else tuple(axes)
    contracted = a[axes[0] % len(a)]
    macs = times(per_example(first_output(result).shape), contracted)
    if call.args.get("normalize", False):
        macs = total(macs, times(2, per_example(a)), times(2, per_example(b)))
    return macs


# ------------------------------------------------------------ recurrent

_GATES = {"SimpleRNN": 1, "GRU": 3, "LSTM": 4}


@cost_rule("SimpleRNN", "GRU", "LSTM")
def recurrent(call: LayerCall, result: Result) -> Optional[int]:
    """timesteps * gates * units * (features + units): the input and the
    recurrent kernels at every step (gates: 1, 3, 4).  GRU's reset_after
    moves the reset gate before or after the recurrent product, but the
    product keeps its size, so the count does not change."""
    x, _ = sequence_input(call)
    steps, d = x.shape[1], x.shape[2]
    units = call.args["units"]
    return times(steps, _GATES[call.cls] * units, d + units)


@cost_rule("ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D")
def conv_lstm(call: LayerCall, result: Result) -> Optional[int]:
    """timesteps * state positions * prod(kernel_size) * 4 * filters *
    (channels + filters): the input convolution and the recurrent one (same
    padding, stride 1, so over the state's positions) at every step."""
    x, _ = sequence_input(call)
    n, fmt = int(call.cls[-2]), data_format(call.args)
    kernel = normalize_tuple(call.args["kernel_size"], n, "kernel_size")
    out = first_output(result).shape
    state = out[2:] if call.args.get("return_sequences", False) else out[1:]
    positions = known_prod(_spatial((None,) + tuple(state), fmt))
    channels = x.shape[channel_axis(n + 2, fmt) + 1]
    filters = call.args["filters"]
    return times(x.shape[1], positions, prod(kernel), 4 * filters, channels + filters)


# ------------------------------------------------------------ wrappers


@cost_rule("Bidirectional")
def bidirectional(call: LayerCall, result: Result) -> Optional[int]:
    """The forward layer's MACs plus the backward layer's; merging the two
    directions is not counted."""
    x, _ = sequence_input(call)
    fspec = call.args["layer"]
    specs = (fspec, call.args.get("backward_layer") or fspec)
    return total(*(layer_macs(LayerCall(s, (x,)), infer(s, (x,))) for s in specs))


@cost_rule("TimeDistributed")
def time_distributed(call: LayerCall, result: Result) -> Optional[int]:
    """timesteps * the inner layer's MACs on one step."""
    x = call.inputs[0]
    child = TensorType((x.shape[0],) + tuple(x.shape[2:]), x.dtype)
    kwargs = {k: v for k, v in call.call_kwargs.items() if k != "mask"}
    inner = LayerCall(call.args["layer"], (child,), kwargs)
    return times(x.shape[1], layer_macs(inner, infer(inner.spec, inner.inputs, kwargs)))
