"""Tests of kdsl's cost rules (dsl/shapes/costs) against independent references.

Each family's MACs are checked against a reference that never calls the
rules: a naive numpy forward pass of the layer on one random example that
counts every multiply-accumulate (or lone add, compare, divide) it performs,
whose output is checked against the real Keras layer's so the reference is
known to do the layer's arithmetic; or, where a forward pass would be long
(ResNet50, ConvLSTM), MACs computed from the built Keras layer's kernel and
output shapes.  The kdsl side sees only what the evaluator gives a rule: a
LayerSpec made from the Keras layer's config with the catalog's defaults.
"""

from __future__ import annotations

import itertools
import math
import os
import re
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

keras = pytest.importorskip("keras")
from hypothesis import HealthCheck, assume, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from dsl import catalog as kcat  # noqa: E402
from dsl.shapes import LayerCall, LayerSpec, TensorType, lookup  # noqa: E402
from dsl.shapes import costs  # noqa: E402
from dsl.shapes.base import RULES  # noqa: E402

# Random sizes of 1 give softmaxes over one element, which Keras warns about.
pytestmark = [
    pytest.mark.filterwarnings("ignore:You are using a softmax over axis"),
    pytest.mark.filterwarnings("ignore:You passed `rms_scaling=True`"),
]

CAT = kcat.load()
DOCS = Path(__file__).resolve().parent.parent / "docs" / "costs.md"
FAST, SLOW = 15, 100


def properties(strategy, fast: int = FAST, slow: int = SLOW):
    """Two hypothesis tests of CHECK: a few examples in the default run and
    many more under `-m slow`."""

    def wrap(check):
        common = dict(deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

        @settings(max_examples=fast, **common)
        @given(strategy)
        def test_fast(case):
            check(case)

        @pytest.mark.slow
        @settings(max_examples=slow, **common)
        @given(strategy)
        def test_slow(case):
            check(case)

        return test_fast, test_slow

    return wrap


# ------------------------------------------------------------ kdsl's side


def _tuples(value):
    """Keras configs hold lists where kd (and the rules) see tuples."""
    if isinstance(value, list):
        return tuple(_tuples(v) for v in value)
    return value


def spec_from_config(cls: str, config: dict) -> LayerSpec:
    """The LayerSpec the evaluator would build for a Keras layer: the
    catalog's constructor defaults (and base layer keywords), then the
    layer's config; inner layers become LayerSpecs, dtype policies names."""
    info = CAT.layer(cls)
    args = {p.name: p.default for p in CAT.base_layer_kwargs()} if info.var_keyword else {}
    args.update({p.name: p.default for p in info.params})
    for key, value in config.items():
        if key in ("layer", "backward_layer") and isinstance(value, dict):
            value = spec_from_config(value["class_name"], value["config"])
        elif key == "dtype" and isinstance(value, dict):
            value = value["config"]["name"]
        else:
            value = _tuples(value)
        args[key] = value
    return LayerSpec(info.canonical, args)


def spec_of(layer) -> LayerSpec:
    return spec_from_config(type(layer).__name__, layer.get_config())


def kd_type(x) -> TensorType:
    """The kd type of an example array (or Keras tensor): batch unknown."""
    return TensorType((None,) + tuple(x.shape[1:]), str(x.dtype))


def kd_call(layer, *inputs, **call_kwargs):
    """(LayerCall, Result) of kdsl's shape rule for LAYER on INPUTS (arrays,
    or lists of them for merges)."""
    to_type = lambda v: [kd_type(t) for t in v] if isinstance(v, list) else kd_type(v)  # noqa: E731
    call = LayerCall(spec_of(layer), tuple(to_type(v) for v in inputs), {k: to_type(v) for k, v in call_kwargs.items()})
    return call, lookup(call.cls)(call)


def ours(layer, *inputs, **call_kwargs):
    """kdsl's MACs for LAYER on INPUTS."""
    return costs.layer_macs(*kd_call(layer, *inputs, **call_kwargs))


# ------------------------------------------------------------ the counting references


class Count:
    """The arithmetic a reference forward pass does, one per elementary
    operation on a tensor element: a multiply fused with the accumulate that
    sums it, a lone add, compare, multiply or divide."""

    def __init__(self):
        self.n = 0

    def mul(self, a, b):
        out = np.multiply(a, b)
        self.n += out.size
        return out

    def contract(self, a, b, axis):
        """Multiply-accumulate A * B over AXIS."""
        return self.mul(a, b).sum(axis=axis)

    def op(self, fn, a, b):
        out = fn(a, b)
        self.n += np.size(out)
        return out

    def fma(self, x, a, b):
        """x * a + b as one multiply-add per element."""
        out = x * a + b
        self.n += out.size
        return out


def rand(*shape, dtype="float32"):
    return np.random.default_rng(len(shape) + sum(shape)).uniform(-1, 1, shape).astype(dtype)


def close(reference, got, what="output"):
    np.testing.assert_allclose(np.asarray(got, dtype="float64"), reference, rtol=2e-4, atol=2e-5, err_msg=what)


def w64(variable):
    return np.asarray(variable, dtype="float64")


def counted_einsum(equation: str, a, b, count: Count):
    """EQUATION evaluated naively: every product of the two operands over all
    the indices, counted, then summed into the output."""
    lhs, out = equation.replace(" ", "").split("->")
    sa, sb = lhs.split(",")
    letters = "".join(dict.fromkeys(c for c in sa + sb if c.isalpha()))
    if sa.startswith("..."):
        full = "..." + letters
    elif "..." in sa:
        full = letters + "..."
    else:
        full = letters
    products = np.einsum(f"{sa},{sb}->{full}", a, b)
    count.n += products.size
    return np.einsum(f"{full}->{out}", products)


def conv_pads(sizes, kernel, strides, dilation, padding):
    """The (before, after) zero padding Keras's convolutions use."""
    if padding == "valid":
        return [(0, 0)] * len(sizes)
    if padding == "causal":
        return [((kernel[0] - 1) * dilation[0], 0)]
    pads = []
    for n, k, s, d in zip(sizes, kernel, strides, dilation):
        need = max((-(-n // s) - 1) * s + (k - 1) * d + 1 - n, 0)
        pads.append((need // 2, need - need // 2))
    return pads


def taps(xp, kernel, strides, dilation):
    """(tap, patch) per kernel tap: the padded input elements it meets at
    every output position, shaped (*output positions, channels)."""
    out = [(xp.shape[i] - (k - 1) * d - 1) // s + 1 for i, (k, s, d) in enumerate(zip(kernel, strides, dilation))]
    for tap in np.ndindex(*kernel):
        yield tap, xp[tuple(slice(t * d, t * d + (o - 1) * s + 1, s) for t, d, o, s in zip(tap, dilation, out, strides))]


def pad_input(x, kernel, strides, dilation, padding, value=0.0):
    n = len(kernel)
    return np.pad(x, conv_pads(x.shape[:n], kernel, strides, dilation, padding) + [(0, 0)], constant_values=value)


def conv_reference(x, kernel, strides, dilation, padding, groups, count):
    """A channels-last convolution of one example X (*spatial, channels)
    with KERNEL (*k, channels / groups, filters)."""
    k = kernel.shape[:-2]
    xp = pad_input(x, k, strides, dilation, padding)
    cin, filters = kernel.shape[-2], kernel.shape[-1]
    fg = filters // groups
    out = 0
    for tap, patch in taps(xp, k, strides, dilation):
        parts = [
            count.contract(patch[..., g * cin:(g + 1) * cin, None], kernel[tap][:, g * fg:(g + 1) * fg], axis=-2)
            for g in range(groups)
        ]
        out = out + np.concatenate(parts, axis=-1)
    return out


def depthwise_reference(x, kernel, strides, dilation, padding, count):
    """Each channel convolved with its own depth_multiplier filters; output
    channel c * multiplier + m, as Keras orders them."""
    k = kernel.shape[:-2]
    xp = pad_input(x, k, strides, dilation, padding)
    out = 0
    for tap, patch in taps(xp, k, strides, dilation):
        term = count.mul(patch[..., :, None], kernel[tap])
        out = out + term.reshape(term.shape[:-2] + (-1,))
    return out


def transpose_reference(x, kernel, strides, dilation, count):
    """The full transposed convolution: every input element scattered through
    every kernel tap (kernel (*k, filters, channels)); Keras crops or pads it."""
    n = kernel.ndim - 2
    ins = x.shape[:n]
    full = [(i - 1) * s + (k - 1) * d + 1 for i, k, s, d in zip(ins, kernel.shape[:n], strides, dilation)]
    out = np.zeros(full + [kernel.shape[-2]])
    for tap in np.ndindex(*kernel.shape[:n]):
        term = count.contract(x[..., None, :], kernel[tap], axis=-1)
        out[tuple(slice(t * d, t * d + (i - 1) * s + 1, s) for t, d, i, s in zip(tap, dilation, ins, strides))] += term
    return out


def is_window_of(full, got) -> bool:
    """Whether GOT equals FULL (zero-extended) at some offset on each axis."""
    n = got.ndim - 1
    padded = np.pad(full, [(0, g) for g in got.shape[:n]] + [(0, 0)])
    for offset in itertools.product(*(range(f + 1) for f in full.shape[:n])):
        window = padded[tuple(slice(o, o + g) for o, g in zip(offset, got.shape[:n]))]
        if np.allclose(window, got, rtol=2e-4, atol=2e-5):
            return True
    return False


# ------------------------------------------------------------ convolutions


def to_last(x, channels_first):
    """One example in channels_last order."""
    return np.moveaxis(x, 0, -1) if channels_first else x


@st.composite
def conv_geometry(draw, max_rank=3, causal=True, dilation=True):
    """(n, spatial sizes, kernel, strides, dilation, padding, channels_first)."""
    n = draw(st.integers(1, max_rank))
    kernel = tuple(draw(st.lists(st.integers(1, 3), min_size=n, max_size=n)))
    strides = tuple(draw(st.lists(st.integers(1, 2), min_size=n, max_size=n)))
    dil = (1,) * n
    if dilation and max(strides) == 1:
        dil = tuple(draw(st.lists(st.integers(1, 2), min_size=n, max_size=n)))
    paddings = ["valid", "same"] + (["causal"] if causal and n == 1 else [])
    padding = draw(st.sampled_from(paddings))
    top = 4 if n == 3 else 6
    sizes = tuple((k - 1) * d + 1 + draw(st.integers(0, top)) for k, d in zip(kernel, dil))
    channels_first = padding != "causal" and draw(st.booleans())
    return n, sizes, kernel, strides, dil, padding, channels_first


@st.composite
def conv_cases(draw):
    n, sizes, kernel, strides, dil, padding, first = draw(conv_geometry())
    groups = draw(st.integers(1, 3))
    channels, filters = groups * draw(st.integers(1, 3)), groups * draw(st.integers(1, 3))
    return n, sizes, kernel, strides, dil, padding, first, groups, channels, filters


def _image(sizes, channels, first):
    shape = (1, channels) + sizes if first else (1,) + sizes + (channels,)
    return rand(*shape)


def _keras_out(layer, x, first):
    return to_last(np.asarray(layer(x))[0].astype("float64"), first)


def run_conv(make, x, first, reference, agrees=None):
    """(layer, MAC count): the layer MAKE(dtype) builds run on X, and
    REFERENCE(layer, count) checked against its output (AGREES(want, got),
    default allclose).  TensorFlow 2.21's float32 oneDNN kernels get some
    strided Conv3D geometries wrong, so when float32 disagrees the float64
    (Eigen) kernels of the same layer, same weights, decide."""
    agrees = agrees or (lambda want, got: np.allclose(got, want, rtol=2e-4, atol=2e-5))
    layer = make("float32")
    got = _keras_out(layer, x, first)
    count = Count()
    want = reference(layer, count)
    if not agrees(want, got):
        twin = make("float64")
        twin.build(x.shape)
        twin.set_weights(layer.get_weights())
        assert agrees(want, _keras_out(twin, x.astype("float64"), first)), "the reference disagrees with Keras"
    return layer, count


def check_conv(case):
    n, sizes, kernel, strides, dil, padding, first, groups, channels, filters = case
    fmt = "channels_first" if first else "channels_last"
    x = _image(sizes, channels, first)
    layer, count = run_conv(
        lambda dtype: getattr(keras.layers, f"Conv{n}D")(
            filters, kernel, strides=strides, dilation_rate=dil, padding=padding, groups=groups, data_format=fmt, dtype=dtype
        ),
        x, first,
        lambda layer, count: conv_reference(
            to_last(x[0].astype("float64"), first), w64(layer.kernel), strides, dil, padding, groups, count
        ),
    )
    assert ours(layer, x) == count.n


test_conv, test_conv_slow = properties(conv_cases())(check_conv)


@st.composite
def transpose_cases(draw):
    n, sizes, kernel, strides, dil, padding, first = draw(conv_geometry(causal=False))
    output_padding = None
    # Keras's TensorFlow backend aborts on some padding="same" convolutions
    # with an output_padding (a oneDNN primitive error), so only valid ones get it.
    if padding == "valid" and draw(st.booleans()) and max(strides) > 1:
        output_padding = tuple(draw(st.integers(0, s - 1)) for s in strides)
    return n, sizes, kernel, strides, dil, padding, first, draw(st.integers(1, 3)), draw(st.integers(1, 3)), output_padding


def check_conv_transpose(case):
    n, sizes, kernel, strides, dil, padding, first, channels, filters, output_padding = case
    fmt = "channels_first" if first else "channels_last"
    x = _image(sizes, channels, first)
    # Keras crops the full transposed convolution (or pads it): its output must be a window of it.
    layer, count = run_conv(
        lambda dtype: getattr(keras.layers, f"Conv{n}DTranspose")(
            filters, kernel, strides=strides, dilation_rate=dil, padding=padding, data_format=fmt,
            output_padding=output_padding, dtype=dtype,
        ),
        x, first,
        lambda layer, count: transpose_reference(to_last(x[0].astype("float64"), first), w64(layer.kernel), strides, dil, count),
        is_window_of,
    )
    assert ours(layer, x) == count.n


test_conv_transpose, test_conv_transpose_slow = properties(transpose_cases())(check_conv_transpose)


@st.composite
def depthwise_cases(draw):
    n, sizes, kernel, strides, dil, padding, first = draw(conv_geometry(max_rank=2, causal=False))
    # TensorFlow's 2-D depthwise kernels take equal strides only (float64:
    # "Current implementation only supports equal length strides"), so the
    # reference could not be checked on unequal ones.
    strides = (strides[0],) * n
    separable = draw(st.booleans())
    return n, sizes, kernel, strides, dil, padding, first, draw(st.integers(1, 3)), draw(st.integers(1, 3)), separable, draw(st.integers(1, 3))


def check_depthwise(case):
    n, sizes, kernel, strides, dil, padding, first, channels, mult, separable, filters = case
    fmt = "channels_first" if first else "channels_last"
    kw = dict(strides=strides, dilation_rate=dil, padding=padding, data_format=fmt, depth_multiplier=mult)
    x = _image(sizes, channels, first)
    xl = to_last(x[0].astype("float64"), first)

    def make(dtype):
        if separable:
            return getattr(keras.layers, f"SeparableConv{n}D")(filters, kernel, dtype=dtype, **kw)
        return getattr(keras.layers, f"DepthwiseConv{n}D")(kernel, dtype=dtype, **kw)

    def reference(layer, count):
        if not separable:
            return depthwise_reference(xl, w64(layer.kernel), strides, dil, padding, count)
        dw = depthwise_reference(xl, w64(layer.depthwise_kernel), strides, dil, padding, count)
        return count.contract(dw[..., :, None], w64(layer.pointwise_kernel).reshape(-1, filters), axis=-2)

    layer, count = run_conv(make, x, first, reference)
    assert ours(layer, x) == count.n


test_depthwise, test_depthwise_slow = properties(depthwise_cases())(check_depthwise)


# ------------------------------------------------------------ dense and einsum


def _dense_bias(layer):
    return 0 if getattr(layer, "bias", None) is None else w64(layer.bias)


@st.composite
def dense_cases(draw):
    lead = tuple(draw(st.lists(st.integers(1, 4), max_size=2)))
    return lead, draw(st.integers(1, 5)), draw(st.integers(1, 5)), draw(st.booleans())


def check_dense(case):
    lead, d, units, use_bias = case
    layer = keras.layers.Dense(units, use_bias=use_bias)
    x = rand(1, *lead, d)
    got = np.asarray(layer(x))[0]
    count = Count()
    close(counted_einsum("...i,ij->...j", x[0].astype("float64"), w64(layer.kernel), count) + _dense_bias(layer), got)
    assert ours(layer, x) == count.n


test_dense, test_dense_slow = properties(dense_cases())(check_dense)

# (equation, input dims after batch, output_shape) with sizes drawn by name.
EINSUMS = [
    ("ab,bc->ac", "b", "c"),
    ("abc,cd->abd", "tc", "td"),
    ("abc,cde->abde", "tc", "tde"),
    ("abcd,cde->abe", "tcd", "te"),
    ("abc,dc->abd", "tc", "td"),
    ("...b,bc->...c", "stb", "c"),
    ("ab...,bc->ac...", "bt", "c"),
]


@st.composite
def einsum_cases(draw):
    equation, dims, out = draw(st.sampled_from(EINSUMS))
    sizes = {c: draw(st.integers(1, 4)) for c in "bcdest"}
    bias = draw(st.sampled_from([None, equation.split("->")[1][-1].replace(".", "") or None]))
    return equation, tuple(sizes[c] for c in dims), tuple(sizes[c] for c in out), bias


def check_einsum(case):
    equation, dims, out, bias = case
    layer = keras.layers.EinsumDense(equation, output_shape=out, bias_axes=bias)
    x = rand(1, *dims)
    got = np.asarray(layer(x))
    count = Count()
    want = counted_einsum(equation, x.astype("float64"), w64(layer.kernel), count) + _dense_bias(layer)
    close(want, got)
    assert ours(layer, x) == count.n


test_einsum_dense, test_einsum_dense_slow = properties(einsum_cases())(check_einsum)


# ------------------------------------------------------------ attention


def _softmax(x, axes):
    e = np.exp(x - x.max(axis=axes, keepdims=True))
    return e / e.sum(axis=axes, keepdims=True)


def mha_reference(layer, q, v, k, count):
    """MultiHeadAttention from its built sub-layers' equations and kernels."""

    def project(dense, x):
        return counted_einsum(dense.equation, x, w64(dense.kernel), count) + _dense_bias(dense)

    query = project(layer._query_dense, q) / math.sqrt(layer._key_dim)
    key, value = project(layer._key_dense, k), project(layer._value_dense, v)
    scores = counted_einsum(layer._dot_product_equation, key, query, count)
    span = len(layer._attention_axes)
    probs = _softmax(scores, tuple(range(scores.ndim - span, scores.ndim)))
    out = counted_einsum(layer._combine_equation, probs, value, count)
    if layer._use_gate:
        out = out / (1 + np.exp(-project(layer._gate_dense, q)))
    return project(layer._output_dense, out)


@st.composite
def mha_cases(draw):
    rank = draw(st.sampled_from([3, 4]))
    axes = draw(st.sampled_from([None, (1,), (2,), (1, 2)] if rank == 4 else [None, (1,)]))
    inner_q = tuple(draw(st.lists(st.integers(1, 3), min_size=rank - 2, max_size=rank - 2)))
    inner_v = tuple(
        s if axes is not None and i + 1 not in axes else draw(st.integers(1, 3)) for i, s in enumerate(inner_q)
    )
    feats = [draw(st.integers(1, 4)) for _ in range(3)]
    out = draw(st.sampled_from([None, 2, (2, 3)]))
    kw = dict(
        num_heads=draw(st.integers(1, 3)), key_dim=draw(st.integers(1, 3)),
        value_dim=draw(st.sampled_from([None, 2])), output_shape=out, attention_axes=axes,
        use_bias=draw(st.booleans()), use_gate=draw(st.booleans()),
    )
    return inner_q, inner_v, feats, draw(st.booleans()), kw


def check_mha(case):
    inner_q, inner_v, (dq, dv, dk), separate_key, kw = case
    layer = keras.layers.MultiHeadAttention(**kw)
    q, v = rand(1, *inner_q, dq), rand(1, *inner_v, dv)
    k = rand(1, *inner_v, dk) if separate_key else v
    got = np.asarray(layer(q, v, key=k) if separate_key else layer(q, v))
    count = Count()
    close(mha_reference(layer, q.astype("float64"), v.astype("float64"), k.astype("float64"), count), got)
    assert (ours(layer, q, v, key=k) if separate_key else ours(layer, q, v)) == count.n


test_multi_head_attention, test_multi_head_attention_slow = properties(mha_cases())(check_mha)


@st.composite
def attention_cases(draw):
    cls = draw(st.sampled_from(["Attention", "AdditiveAttention"]))
    kw = {"use_scale": draw(st.booleans())}
    if cls == "Attention":
        kw["score_mode"] = draw(st.sampled_from(["dot", "concat"]))
    tq, tk, d, dv = (draw(st.integers(1, 4)) for _ in range(4))
    return cls, kw, tq, tk, d, dv, draw(st.booleans())


def check_attention(case):
    cls, kw, tq, tk, d, dv, with_key = case
    layer = getattr(keras.layers, cls)(**kw)
    q = rand(1, tq, d)
    v, k = (rand(1, tk, dv), rand(1, tk, d) + 1) if with_key else (rand(1, tk, d),) * 2
    inputs = [q, v, k] if with_key else [q, v]
    got = np.asarray(layer(inputs))[0]
    count = Count()
    q64, v64, k64 = q[0].astype("float64"), v[0].astype("float64"), k[0].astype("float64")
    if cls == "Attention" and kw["score_mode"] == "dot":
        scores = count.contract(q64[:, None, :], k64[None, :, :], axis=-1)
        scores = scores * (w64(layer.scale) if kw["use_scale"] else 1)
    else:
        summed = q64[:, None, :] + k64[None, :, :]
        if cls == "AdditiveAttention":
            scale = w64(layer.scale) if kw["use_scale"] else 1.0
            scores = count.contract(np.broadcast_to(scale, summed.shape), np.tanh(summed), axis=-1)
        else:
            scale = w64(layer.scale) if kw["use_scale"] else 1.0
            scores = count.contract(1.0, np.tanh(scale * summed), axis=-1) * w64(layer.concat_score_weight)
    want = count.contract(_softmax(scores, -1)[:, :, None], v64[None, :, :], axis=1)
    close(want, got)
    assert ours(layer, inputs) == count.n


test_attention, test_attention_slow = properties(attention_cases())(check_attention)


@st.composite
def dot_cases(draw):
    rank = draw(st.sampled_from([2, 3]))
    n = draw(st.integers(1, 4))
    if rank == 2:
        return (n,), (n,), draw(st.sampled_from([1, -1])), draw(st.booleans())
    m, k = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    axes = draw(st.sampled_from([(2, 2), (1, 1), (2, 1)]))
    a = (m, n) if axes[0] == 2 else (n, m)
    b = (k, n) if axes[1] == 2 else (n, k)
    return a, b, axes, draw(st.booleans())


def check_dot(case):
    a_dims, b_dims, axes, normalize = case
    layer = keras.layers.Dot(axes=axes, normalize=normalize)
    a, b = rand(1, *a_dims), rand(1, *b_dims)
    got = np.asarray(layer([a, b]))
    count = Count()
    examples = []
    for x, axis in zip((a, b), (axes, axes) if isinstance(axes, int) else axes):
        x, axis = x[0].astype("float64"), axis % x.ndim - 1  # one example: axes shift by the batch
        if normalize:
            norm = np.sqrt(np.maximum(count.contract(x, x, axis=axis), 1e-12))
            x = count.op(np.divide, x, np.expand_dims(norm, axis))
        examples.append(np.moveaxis(x, axis, -1))
    x, y = examples
    want = count.contract(x, y, axis=-1) if x.ndim == 1 else count.contract(x[:, None, :], y[None, :, :], axis=-1)
    close(want.reshape(got.shape[1:]), got[0])
    assert ours(layer, [a, b]) == count.n


test_dot, test_dot_slow = properties(dot_cases())(check_dot)


# ------------------------------------------------------------ recurrent


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def rnn_reference(layer, x, count):
    """The last output and the sequence of a SimpleRNN, GRU or LSTM cell run
    on one example X (steps, features), its matmuls counted."""
    cell = layer.cell
    kernel, recurrent = w64(cell.kernel), w64(cell.recurrent_kernel)
    two_biases = type(layer).__name__ == "GRU" and cell.reset_after
    bias = np.zeros((2,) * two_biases + (kernel.shape[1],)) if cell.bias is None else w64(cell.bias)
    units = recurrent.shape[0]
    h, c, outputs = np.zeros(units), np.zeros(units), []
    for t in (range(len(x) - 1, -1, -1) if layer.go_backwards else range(len(x))):
        mx = count.contract(x[t][:, None], kernel, axis=0)
        name = type(layer).__name__
        if name == "GRU" and cell.reset_after:
            bx, bh = bias if bias.ndim == 2 else (bias, 0 * bias)
            xz, xr, xh = np.split(mx + bx, 3)
            hz, hr, hh = np.split(count.contract(h[:, None], recurrent, axis=0) + bh, 3)
            z, r = _sigmoid(xz + hz), _sigmoid(xr + hr)
            h = z * h + (1 - z) * np.tanh(xh + r * hh)
        elif name == "GRU":
            b = bias if bias.ndim == 1 else bias[0]
            xz, xr, xh = np.split(mx + b, 3)
            rz = count.contract(h[:, None], recurrent[:, : 2 * units], axis=0)
            z, r = _sigmoid(xz + rz[:units]), _sigmoid(xr + rz[units:])
            hh = np.tanh(xh + count.contract((r * h)[:, None], recurrent[:, 2 * units:], axis=0))
            h = z * h + (1 - z) * hh
        elif name == "LSTM":
            i, f, g, o = np.split(mx + count.contract(h[:, None], recurrent, axis=0) + bias.reshape(-1), 4)
            c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
            h = _sigmoid(o) * np.tanh(c)
        else:
            h = np.tanh(mx + count.contract(h[:, None], recurrent, axis=0) + bias.reshape(-1))
        outputs.append(h)
    return h, np.array(outputs)


@st.composite
def rnn_cases(draw):
    cls = draw(st.sampled_from(["SimpleRNN", "GRU", "LSTM"]))
    kw = {"units": draw(st.integers(1, 4)), "return_sequences": draw(st.booleans()), "use_bias": draw(st.booleans())}
    if cls == "GRU":
        kw["reset_after"] = draw(st.booleans())
    return cls, kw, draw(st.integers(1, 5)), draw(st.integers(1, 4))


def check_rnn(case):
    cls, kw, steps, d = case
    layer = getattr(keras.layers, cls)(**kw)
    x = rand(1, steps, d)
    got = np.asarray(layer(x))[0]
    count = Count()
    last, seq = rnn_reference(layer, x[0].astype("float64"), count)
    close(seq if kw["return_sequences"] else last, got)
    assert ours(layer, x) == count.n


test_rnn, test_rnn_slow = properties(rnn_cases())(check_rnn)


def check_bidirectional(case):
    cls, kw, steps, d = case
    kw = dict(kw, return_sequences=False)
    backward = getattr(keras.layers, cls)(**kw, go_backwards=True)
    layer = keras.layers.Bidirectional(getattr(keras.layers, cls)(**kw), backward_layer=backward)
    x = rand(1, steps, d)
    got = np.asarray(layer(x))[0]
    count = Count()
    fwd, _ = rnn_reference(layer.forward_layer, x[0].astype("float64"), count)
    bwd, _ = rnn_reference(layer.backward_layer, x[0].astype("float64"), count)
    close(np.concatenate([fwd, bwd]), got)
    assert ours(layer, x) == count.n


test_bidirectional, test_bidirectional_slow = properties(rnn_cases(), fast=4)(check_bidirectional)


def check_time_distributed(case):
    steps, lead, d, units, conv = case
    inner = keras.layers.Conv1D(units, 2) if conv else keras.layers.Dense(units)
    layer = keras.layers.TimeDistributed(inner)
    x = rand(1, steps, lead[0] + 1, d) if conv else rand(1, steps, *lead, d)
    got = np.asarray(layer(x))[0]
    count = Count()
    if conv:
        want = [conv_reference(xt.astype("float64"), w64(inner.kernel), (1,), (1,), "valid", 1, count) for xt in x[0]]
    else:
        want = [counted_einsum("...i,ij->...j", xt.astype("float64"), w64(inner.kernel), count) for xt in x[0]]
    close(np.array(want) + _dense_bias(inner), got)
    assert ours(layer, x) == count.n


td_cases = st.tuples(st.integers(1, 4), st.lists(st.integers(1, 3), min_size=1, max_size=1).map(tuple), st.integers(1, 3), st.integers(1, 3), st.booleans())
test_time_distributed, test_time_distributed_slow = properties(td_cases, fast=4)(check_time_distributed)


@pytest.mark.parametrize("n", [1, 2])
def test_conv_lstm_from_built_kernels(n):
    """MACs from the built cell's kernel shapes and the output shape: at every
    step, each state position meets the whole input kernel and the whole
    recurrent kernel once."""
    steps = 4
    layer = getattr(keras.layers, f"ConvLSTM{n}D")(3, 2, padding="valid", return_sequences=n == 2)
    x = rand(1, steps, *(5,) * n, 2)
    out = layer(x)
    state = out.shape[2:] if n == 2 else out.shape[1:]
    positions = int(np.prod(state[:-1]))
    want = steps * positions * (int(np.prod(layer.cell.kernel.shape)) + int(np.prod(layer.cell.recurrent_kernel.shape)))
    assert ours(layer, x) == want


# ------------------------------------------------------------ merges, pooling


@st.composite
def merge_cases(draw):
    cls = draw(st.sampled_from(["Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum"]))
    k = 2 if cls == "Subtract" else draw(st.integers(2, 3))
    full = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    shapes = [tuple(1 if draw(st.booleans()) else s for s in full) for _ in range(k)]
    return cls, shapes


def bias_add_misfires(x1: tuple, x2: tuple) -> bool:
    """Whether Keras's TensorFlow `ops.add(x1, x2)` takes its tf.nn.bias_add
    shortcut (x2 squeezes to one dimension equal to x1's axis 1 or last)
    with x2's dimension elsewhere: it then adds along the wrong axis."""
    big = [i for i, d in enumerate(x2) if d > 1]
    if len(big) != 1 or x2[big[0]] not in (x1[1], x1[-1]):
        return False
    return big[0] != (len(x1) - 1 if x1[-1] == x2[big[0]] else 1)


def check_merge(case):
    cls, shapes = case
    if cls in ("Add", "Average"):
        acc = (1,) + shapes[0]
        for s in shapes[1:]:
            assume(not bias_add_misfires(acc, (1,) + s))
            acc = tuple(np.broadcast_shapes(acc, (1,) + s))
    layer = getattr(keras.layers, cls)()
    xs = [rand(1, *s) + i for i, s in enumerate(shapes)]
    got = np.asarray(layer(xs))[0]
    fn = {"Add": np.add, "Subtract": np.subtract, "Multiply": np.multiply, "Average": np.add, "Maximum": np.maximum, "Minimum": np.minimum}[cls]
    count = Count()
    out = xs[0][0].astype("float64")
    for x in xs[1:]:
        out = count.op(fn, out, x[0].astype("float64"))
    if cls == "Average":
        out = count.op(np.divide, out, len(xs))
    close(out, got)
    assert ours(layer, xs) == count.n


test_merge, test_merge_slow = properties(merge_cases())(check_merge)


@st.composite
def pool_cases(draw):
    n = draw(st.integers(1, 3))
    pool = tuple(draw(st.lists(st.integers(1, 3), min_size=n, max_size=n)))
    strides = draw(st.sampled_from([None, tuple(draw(st.lists(st.integers(1, 2), min_size=n, max_size=n)))]))
    sizes = tuple(p + draw(st.integers(0, 4 if n == 3 else 5)) for p in pool)
    return n, pool, strides, draw(st.sampled_from(["valid", "same"])), draw(st.booleans()), draw(st.booleans()), sizes


def check_pooling(case):
    n, pool, strides, padding, average, first, sizes = case
    cls = f"{'Average' if average else 'Max'}Pooling{n}D"
    fmt = "channels_first" if first else "channels_last"
    layer = getattr(keras.layers, cls)(pool, strides=strides, padding=padding, data_format=fmt)
    x = _image(sizes, 2, first)
    got = _keras_out(layer, x, first)
    steps, ones = strides or pool, (1,) * n
    xl = to_last(x[0].astype("float64"), first)
    count = Count()
    acc = None
    for tap, patch in taps(pad_input(xl, pool, steps, ones, padding, 0.0 if average else -np.inf), pool, steps, ones):
        if acc is None:
            acc = np.zeros_like(patch) if average else np.full_like(patch, -np.inf)
        acc = count.op(np.add if average else np.maximum, acc, patch)
    if average:
        valid = 0
        for _, patch in taps(pad_input(np.ones_like(xl), pool, steps, ones, padding), pool, steps, ones):
            valid = valid + patch  # the count of real elements per window: Keras's divisor, not arithmetic on data
        acc = count.op(np.divide, acc, valid)
    close(acc, got)
    assert ours(layer, x) == count.n


test_pooling, test_pooling_slow = properties(pool_cases())(check_pooling)


@st.composite
def global_pool_cases(draw):
    n = draw(st.integers(1, 3))
    sizes = tuple(draw(st.lists(st.integers(1, 4), min_size=n, max_size=n)))
    return n, sizes, draw(st.booleans()), draw(st.booleans()), draw(st.booleans())


def check_global_pooling(case):
    n, sizes, average, first, keepdims = case
    cls = f"Global{'Average' if average else 'Max'}Pooling{n}D"
    fmt = "channels_first" if first else "channels_last"
    layer = getattr(keras.layers, cls)(data_format=fmt, keepdims=keepdims)
    x = _image(sizes, 3, first)
    got = np.asarray(layer(x))[0].reshape(-1)
    count = Count()
    flat = to_last(x[0].astype("float64"), first).reshape(-1, 3)
    acc = np.zeros(3) if average else np.full(3, -np.inf)
    for row in flat:
        acc = count.op(np.add if average else np.maximum, acc, row)
    if average:
        acc = count.op(np.divide, acc, len(flat))
    close(acc, got)
    assert ours(layer, x) == count.n


test_global_pooling, test_global_pooling_slow = properties(global_pool_cases())(check_global_pooling)


# ------------------------------------------------------------ normalization


def _randomize(layer):
    """Random values in every weight (variances positive), so the reference
    is checked on more than the initial identity."""
    rng = np.random.default_rng(1)
    layer.set_weights([rng.uniform(0.5, 1.5, w.shape).astype(w.dtype) for w in layer.get_weights()])


def normalize_reference(x, axes, count, eps):
    """(x - mean) / sqrt(var + eps) over AXES: the mean and the sum of
    squares one pass each, then one multiply-add per element."""
    m = np.prod([x.shape[a] for a in axes])
    mean = count.contract(x, 1.0, axis=axes) / m
    var = count.contract(x, x, axis=axes) / m - mean**2
    mean, inv = np.expand_dims(mean, axes), 1 / np.sqrt(np.expand_dims(var, axes) + eps)
    return count.fma(x, inv, -mean * inv)


def _param(layer, name, axis_shape):
    value = getattr(layer, name, None)
    return None if value is None else w64(value).reshape(axis_shape)


@st.composite
def norm_cases(draw):
    cls = draw(st.sampled_from(["BatchNormalization", "LayerNormalization", "GroupNormalization", "RMSNormalization", "UnitNormalization"]))
    dims = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    kw = {}
    if cls in ("BatchNormalization", "LayerNormalization", "GroupNormalization"):
        kw = {"scale": draw(st.booleans()), "center": draw(st.booleans())}
    if cls == "LayerNormalization":
        kw["rms_scaling"] = draw(st.booleans())
    if cls == "GroupNormalization":
        groups = draw(st.integers(1, 3))
        dims = dims[:-1] + (groups * dims[-1],)
        kw["groups"] = groups
    return cls, dims, kw


def check_normalization(case):
    cls, dims, kw = case
    layer = getattr(keras.layers, cls)(**kw)
    x = rand(1, *dims)
    layer.build(x.shape)
    _randomize(layer)
    got = np.asarray(layer(x, training=False))[0]
    xe = x[0].astype("float64")
    count = Count()
    channel = (1,) * (xe.ndim - 1) + (dims[-1],)
    gamma, beta = _param(layer, "gamma", channel), _param(layer, "beta", channel)
    if cls == "BatchNormalization":
        mean, var = w64(layer.moving_mean), w64(layer.moving_variance)
        a = (1 if gamma is None else gamma) / np.sqrt(var + layer.epsilon)
        want = count.fma(xe, a, (0 if beta is None else beta) - mean * a)
    elif cls == "UnitNormalization":
        norm = np.sqrt(np.maximum(count.contract(xe, xe, axis=(xe.ndim - 1,)), 1e-12))
        want = count.op(np.divide, xe, norm[..., None])
    elif cls == "RMSNormalization":
        ms = count.contract(xe, xe, axis=-1)[..., None] / dims[-1]
        want = count.mul(count.mul(xe, 1 / np.sqrt(ms + layer.epsilon)), w64(layer.scale))
    elif cls == "GroupNormalization":
        g = kw["groups"]
        grouped = xe.reshape(xe.shape[:-1] + (g, dims[-1] // g))
        axes = tuple(a for a in range(grouped.ndim) if a != grouped.ndim - 2)
        want = normalize_reference(grouped, axes, count, layer.epsilon).reshape(xe.shape)
        if gamma is not None or beta is not None:
            want = count.fma(want, 1 if gamma is None else gamma, 0 if beta is None else beta)
    elif kw["rms_scaling"]:
        # Keras scales by the inverse square root of the variance here.
        mean = count.contract(xe, 1.0, axis=-1) / dims[-1]
        var = count.contract(xe, xe, axis=-1) / dims[-1] - mean**2
        want = count.mul(xe, 1 / np.sqrt(var + layer.epsilon)[..., None])
        if gamma is not None:
            want = count.mul(want, gamma)
    else:
        want = normalize_reference(xe, (xe.ndim - 1,), count, layer.epsilon)
        if gamma is not None or beta is not None:
            want = count.fma(want, 1 if gamma is None else gamma, 0 if beta is None else beta)
    close(want, got)
    assert ours(layer, x) == count.n


test_normalization, test_normalization_slow = properties(norm_cases(), fast=12)(check_normalization)


def test_rescaling_and_normalization_are_one_multiply_add():
    x = rand(1, 3, 4)
    for layer, (scale, offset) in (
        (keras.layers.Rescaling(0.5, offset=0.25), (0.5, 0.25)),
        (keras.layers.Normalization(mean=0.5, variance=4.0), (0.5, -0.25)),
    ):
        count = Count()
        close(count.fma(x[0].astype("float64"), scale, offset), np.asarray(layer(x))[0])
        assert ours(layer, x) == count.n


def test_bilinear_resizing_counts_four_taps():
    """A naive half-pixel bilinear resize that reads 4 taps per output
    element, checked against Keras's Resizing and UpSampling2D."""
    x = rand(1, 3, 4, 2)

    def bilinear(img, height, width, count):
        def axis(n_in, n_out):
            pos = np.maximum((np.arange(n_out) + 0.5) * n_in / n_out - 0.5, 0)
            lo = np.floor(pos).astype(int)
            return lo, np.minimum(lo + 1, n_in - 1), pos - lo

        (y0, y1, fy), (x0, x1, fx) = axis(img.shape[0], height), axis(img.shape[1], width)
        out = 0
        for ys, wy in ((y0, 1 - fy), (y1, fy)):
            for xs, wx in ((x0, 1 - fx), (x1, fx)):
                out = out + count.mul(img[ys][:, xs], (wy[:, None] * wx[None, :])[..., None])
        return out

    for layer, (h, w) in ((keras.layers.Resizing(5, 7), (5, 7)), (keras.layers.UpSampling2D(2, interpolation="bilinear"), (6, 8))):
        count = Count()
        close(bilinear(x[0].astype("float64"), h, w, count), np.asarray(layer(x))[0])
        assert ours(layer, x) == count.n
    assert ours(keras.layers.Resizing(5, 7, interpolation="nearest"), x) == 0
    assert ours(keras.layers.Resizing(5, 7, interpolation="lanczos3"), x) is None


def test_center_crop_costs_only_when_it_resizes():
    x = rand(1, 6, 6, 2)
    assert ours(keras.layers.CenterCrop(4, 5), x) == 0
    assert ours(keras.layers.CenterCrop(8, 5), x) == 4 * 8 * 5 * 2


# ------------------------------------------------------------ unknown dimensions


def test_unknown_dimensions_give_none():
    def macs(layer, shape, dtype="float32"):
        call = LayerCall(spec_of(layer), (TensorType(shape, dtype),))
        return costs.layer_macs(call, lookup(call.cls)(call))

    assert macs(keras.layers.Dense(3), (None, None, 4)) is None
    assert macs(keras.layers.Dense(3), (None, 4)) == 12
    assert macs(keras.layers.Conv2D(3, 2), (None, None, 5, 2)) is None
    assert macs(keras.layers.LSTM(3), (None, None, 2)) is None
    assert macs(keras.layers.GlobalMaxPooling2D(), (None, None, None, 2)) is None
    assert macs(keras.layers.Flatten(), (None, None, 2)) == 0
    assert macs(keras.layers.Embedding(10, 4), (None, None), "int32") == 0


# ------------------------------------------------------------ ResNet50


RESNET50_MACS = 3_857_973_248


def test_resnet50_conv_and_dense_macs():
    """The conv and dense MACs of Keras's ResNet50 at 224x224: from the built
    kernels and output shapes, and from kdsl's rules on LayerCalls made from
    each layer's config and input shape."""
    model = keras.applications.ResNet50(weights=None)
    reference = kdsl = 0
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            reference += int(np.prod(layer.output.shape[1:3])) * int(np.prod(layer.kernel.shape))
        elif isinstance(layer, keras.layers.Dense):
            reference += int(np.prod(layer.kernel.shape))
        else:
            continue
        call = LayerCall(spec_of(layer), (kd_type(layer.input),))
        kdsl += costs.layer_macs(call, lookup(call.cls)(call))
    assert reference == RESNET50_MACS
    assert kdsl == RESNET50_MACS


# ------------------------------------------------------------ memory


def itemsize(dtype: str) -> int:
    import ml_dtypes  # Keras's own dependency: numpy has no bfloat16

    return np.dtype(getattr(ml_dtypes, dtype, dtype)).itemsize


def keras_output_bytes(outputs) -> int:
    return sum(int(np.prod(o.shape[1:])) * itemsize(o.dtype) for o in keras.tree.flatten(outputs))


MEMORY_CASES = [
    (lambda: keras.layers.Dense(5), [(3, 4)], {}),
    (lambda: keras.layers.Conv2D(4, 3, dtype="mixed_float16"), [(6, 6, 2)], {}),
    (lambda: keras.layers.Conv2D(4, 3, dtype="float64"), [(6, 6, 2)], {}),
    (lambda: keras.layers.BatchNormalization(dtype="mixed_float16"), [(5, 3)], {}),
    (lambda: keras.layers.LSTM(3, return_state=True, return_sequences=True), [(4, 2)], {}),
    (lambda: keras.layers.Bidirectional(keras.layers.GRU(3, dtype="mixed_float16")), [(4, 2)], {}),
    (lambda: keras.layers.Embedding(10, 4, dtype="mixed_bfloat16"), [("int32", 5)], {}),
    (lambda: keras.layers.Normalization(), [(3, 2)], {}),
    (lambda: keras.layers.MultiHeadAttention(2, 3, dtype="mixed_float16"), [(4, 5), (6, 5)], {"return_attention_scores": True}),
    (lambda: keras.layers.TimeDistributed(keras.layers.Dense(3, dtype="float64")), [(4, 2)], {}),
]


@pytest.mark.parametrize("make, shapes, call_kwargs", MEMORY_CASES)
def test_memory_matches_keras(make, shapes, call_kwargs):
    layer = make()
    inputs = [
        keras.Input(shape=s[1:], dtype=s[0]) if isinstance(s[0], str) else keras.Input(shape=s) for s in shapes
    ]
    out = layer(*inputs, **call_kwargs)
    call = LayerCall(spec_of(layer), tuple(kd_type(i) for i in inputs), call_kwargs)
    result = lookup(call.cls)(call)
    assert costs.activation_bytes(result.outputs) == keras_output_bytes(out)
    assert costs.layer_weight_bytes(call, result) == sum(np.asarray(w).nbytes for w in layer.weights)
    full = costs.layer_costs(call, result)
    assert (full.activation_bytes, full.weight_bytes) == (keras_output_bytes(out), costs.layer_weight_bytes(call, result))


def test_weight_bytes_at_a_variable_dtype():
    layer = keras.layers.Dense(7, dtype="mixed_float16")
    layer.build((None, 3))
    call = LayerCall(spec_of(layer), (TensorType((None, 3)),))
    weights = lookup("Dense")(call).weights
    assert costs.weight_bytes(weights) == sum(np.asarray(w).nbytes for w in layer.weights)
    assert costs.weight_bytes(weights, "float16") == 2 * sum(np.asarray(w).size for w in layer.weights)
    assert costs.variable_dtype({"dtype": "mixed_float16"}) == layer.dtype_policy.variable_dtype
    assert costs.activation_bytes((TensorType((None, 2, None)),)) is None


# ------------------------------------------------------------ ops


OPS = {"+": "add", "-": "subtract", "*": "multiply", "/": "divide"}


@st.composite
def op_cases(draw):
    full = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    a = (None,) + tuple(1 if draw(st.booleans()) else s for s in full)
    b = draw(st.sampled_from(["scalar", "tensor"]))
    b = 2.0 if b == "scalar" else (None,) + tuple(1 if draw(st.booleans()) else s for s in full)
    return draw(st.sampled_from(list(OPS) + ["maximum", "minimum"])), a, b


def check_op(case):
    name, a, b = case
    ka = keras.Input(batch_shape=a)
    kb = b if isinstance(b, float) else keras.Input(batch_shape=b)
    out = getattr(keras.ops, OPS.get(name, name))(ka, kb)
    count = Count()
    count.op(np.add, np.zeros(a[1:]), 0 if isinstance(b, float) else np.zeros(b[1:]))
    tb = b if isinstance(b, float) else TensorType(b)
    assert costs.op_macs(name, [TensorType(a), tb], TensorType(tuple(out.shape), out.dtype)) == count.n


test_op_macs, test_op_macs_slow = properties(op_cases())(check_op)


def test_matmul_and_unknown_ops():
    a, b = rand(1, 3, 4), rand(1, 4, 5)
    count = Count()
    close(count.contract(a[0][:, :, None], b[0][None, :, :], axis=1), np.asarray(keras.ops.matmul(a, b))[0])
    assert costs.op_macs("matmul", [kd_type(a), kd_type(b)], TensorType((None, 3, 5))) == count.n
    assert costs.op_macs("sort", [kd_type(a)], kd_type(a)) is None
    assert costs.op_macs("+", [kd_type(a), 1.0], TensorType((None, None, 4))) is None
    assert "matmul" in costs.op_names()


# ------------------------------------------------------------ coverage and docs


def test_every_shape_rule_class_is_costed_or_listed():
    costed, uncounted = costs.cost_rule_classes(), costs.uncounted_classes()
    missing = sorted(set(RULES) - costed - uncounted)
    assert not missing, f"classes with a shape rule but no cost rule and not listed as uncounted: {missing}"
    assert not costed & uncounted
    assert costs.zero_cost_classes() <= costed


def _section(text: str, heading: str) -> str:
    m = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    assert m, f"docs/costs.md has no section '## {heading}'"
    return m.group(1)


def test_docs_name_every_costed_class():
    text = DOCS.read_text()
    named = set(re.findall(r"`([A-Z][A-Za-z0-9]+)`", text))
    assert not costs.cost_rule_classes() - named, sorted(costs.cost_rule_classes() - named)
    zero = set(re.findall(r"`([A-Z][A-Za-z0-9]+)`", _section(text, "Zero-cost layers")))
    assert zero == costs.zero_cost_classes(), sorted(zero ^ costs.zero_cost_classes())
    unknown = set(re.findall(r"`([A-Z][A-Za-z0-9]+)`", _section(text, "Uncounted layers")))
    assert unknown == costs.uncounted_classes()
