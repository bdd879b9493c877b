"""Generated differential tests of the shape rules: per family, hypothesis
draws layers and inputs Keras accepts at unusual ranks and dtypes (and
some it refuses), and kdsl must agree with Keras on every draw.

The oracle is what a kd user meets: Keras "accepts" a call when the layer
builds on `keras.Input` tensors *and* runs on a batch of data of those
shapes (unknown dimensions set to 3).  Then kdsl must give Keras's static
output (structure, shapes, dtypes), weights and count_params.  Where the
symbolic call raises, kdsl must raise RuleError.  Where only the run raises
(the model builds but fails on its first batch), kdsl may refuse the call
(the table tests record the cases it does refuse, each checked to fail in
Keras) or accept it, and then must match Keras's static output.

Embedding is the one documented exception: Keras casts float indices
silently, kdsl refuses them (KD504, see docs/diagnostics.md); the draws
give it integer inputs, and `test_embedding_float_policy` keeps the case.

The default run keeps each property at a moderate `max_examples`; the
`slow` variant (`make test-slow`) draws many more.
"""

from __future__ import annotations

import pytest

keras = pytest.importorskip("keras")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from test_shape_rules import In, L, compare_outputs, compare_weights, run_keras, run_kdsl, tree_map  # noqa: E402

from dsl.shapes import RuleError  # noqa: E402

FAST = settings(max_examples=15, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
SLOW = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))

FLOATS = ["float32", "float16", "float64", "bfloat16"]
LAYER_DTYPES = [None, "float32", "float16", "float64", "bfloat16", "mixed_float16", "mixed_bfloat16"]
INTS = ["int8", "uint8", "int16", "int32", "int64"]

dims = st.one_of(st.none(), st.integers(1, 6))
known = st.integers(1, 6)


def _data(t: In):
    """A batch of zeros for In T (strings: "a"), unknown dimensions 3."""
    import numpy as np

    shape = tuple(3 if d is None else d for d in (t.batch or 2,) + tuple(t.shape))
    if t.dtype == "string":
        return np.full(shape, "a", dtype=object)
    return keras.ops.zeros(shape, dtype=t.dtype)


def runs_on_data(layer: L, inputs: list, kwargs: dict) -> bool:
    """Whether a fresh Keras LAYER runs on a batch of zeros of INPUTS' shapes."""
    try:
        layer.keras()(*tree_map(_data, inputs), **tree_map(_data, kwargs))
    except Exception:
        return False
    return True


def agree(layer: L, inputs: list, kwargs: dict | None = None) -> None:
    """kdsl and Keras agree on LAYER called on INPUTS (see the module doc)."""
    kwargs = kwargs or {}
    try:
        klayer, kout = run_keras(layer, inputs, kwargs)
    except Exception:  # Keras refuses the call: so must kdsl
        with pytest.raises(RuleError):
            run_kdsl(layer, inputs, kwargs)
        return
    try:
        result = run_kdsl(layer, inputs, kwargs)
    except RuleError as err:
        # kdsl refuses what Keras builds: right only if the model cannot run.
        if runs_on_data(layer, inputs, kwargs):
            raise AssertionError(f"kdsl refuses a call Keras builds and runs: {err.code} {err.message}") from None
        return
    compare_outputs(kout, result.outputs)
    compare_weights(klayer, result)


def family(strategy, kinds: list, name: str):
    """A fast and a slow test of STRATEGY(kind), one case per kind (so that
    every class gets its share of draws)."""

    def run(kind, how):
        how(given(strategy(kind))(lambda case: agree(*case)))()

    @pytest.mark.parametrize("kind", kinds)
    def fast(kind):
        run(kind, FAST)

    @pytest.mark.slow
    @pytest.mark.parametrize("kind", kinds)
    def slow(kind):
        run(kind, SLOW)

    fast.__name__, slow.__name__ = f"test_{name}", f"test_{name}_slow"
    return fast, slow


# ------------------------------------------------------------------ core


@st.composite
def core_cases(draw, cls):
    """Dense/EinsumDense/activations/PReLU at ranks 1-5 and every float dtype."""
    rank = draw(st.integers(0, 4))
    shape = [draw(dims) for _ in range(rank)]
    dtype = draw(st.sampled_from(FLOATS + ["int32", "uint8"]))
    kw = {"dtype": draw(st.sampled_from(LAYER_DTYPES))}
    if draw(st.booleans()):
        kw["autocast"] = False
    args = ()
    if cls == "Dense":
        args = (draw(st.integers(1, 5)),)
        kw["use_bias"] = draw(st.booleans())
        if shape and draw(st.booleans()):
            shape[-1] = draw(known)
    elif cls == "Activation":
        args = (draw(st.sampled_from(["relu", "softmax", "linear", "sigmoid"])),)
    elif cls == "Softmax":
        kw["axis"] = draw(st.integers(-3, 3))
    elif cls == "PReLU":
        shape = [draw(known) for _ in range(rank)]
        if rank and draw(st.booleans()):
            kw["shared_axes"] = sorted(set(draw(st.lists(st.integers(1, rank + 1), min_size=1, max_size=2))))
    return L(cls, *args, **kw), [In(*shape, dtype=dtype)], {}


@st.composite
def embedding_cases(draw, cls):
    """Embedding/ReversibleEmbedding on integer inputs of rank 1-4."""
    shape = [draw(dims) for _ in range(draw(st.integers(0, 3)))]
    kw = {"dtype": draw(st.sampled_from(LAYER_DTYPES)), "mask_zero": draw(st.booleans())}
    if draw(st.booleans()):
        kw["lora_rank"] = draw(st.integers(1, 3))
    return L(cls, draw(st.integers(2, 20)), draw(st.integers(1, 6)), **kw), [In(*shape, dtype=draw(st.sampled_from(INTS)))], {}


CORE_KINDS = ["Dense", "Activation", "ReLU", "LeakyReLU", "ELU", "Softmax", "Identity", "PReLU", "Masking", "ActivityRegularization"]
test_core, test_core_slow = family(core_cases, CORE_KINDS, "core")
EMBEDDING_KINDS = ["Embedding", "ReversibleEmbedding"]
test_embedding, test_embedding_slow = family(embedding_cases, EMBEDDING_KINDS, "embedding")


def test_embedding_float_policy():
    """Keras casts float indices to int32; kdsl refuses them (KD504)."""
    layer, inputs = L("Embedding", 10, 4), [In(5)]
    run_keras(layer, inputs, {})
    with pytest.raises(RuleError) as info:
        run_kdsl(layer, inputs, {})
    assert info.value.code == "KD504"


# ------------------------------------------------------------------ normalization


@st.composite
def normalization_cases(draw, cls):
    """Normalization layers with one or several (negative, unsorted) axes."""
    rank = draw(st.integers(1, 4))
    shape = [draw(st.one_of(st.none(), st.integers(1, 6))) for _ in range(rank)]
    full = rank + 1
    axis_value = st.integers(-full - 1, full)
    kw = {"dtype": draw(st.sampled_from(LAYER_DTYPES))}
    if cls in ("LayerNormalization", "RMSNormalization", "UnitNormalization"):
        kw["axis"] = draw(st.one_of(axis_value, st.lists(axis_value, min_size=1, max_size=3)))
    else:
        kw["axis"] = draw(axis_value)
    if cls == "GroupNormalization":
        kw["groups"] = draw(st.sampled_from([-1, 1, 2, 3]))
    if cls in ("LayerNormalization", "BatchNormalization", "GroupNormalization"):
        kw["center"], kw["scale"] = draw(st.booleans()), draw(st.booleans())
    return L(cls, **kw), [In(*shape, dtype=draw(st.sampled_from(FLOATS)))], {}


NORMALIZATION_KINDS = ["LayerNormalization", "RMSNormalization", "UnitNormalization", "BatchNormalization", "GroupNormalization"]
test_normalization, test_normalization_slow = family(normalization_cases, NORMALIZATION_KINDS, "normalization")


# ------------------------------------------------------------------ conv and pooling


@st.composite
def conv_cases(draw, kind):
    """Convolutions of every kind at their rank and one off, both formats, all float dtypes."""
    n = draw(st.integers(1, 2 if kind in ("SeparableConv", "DepthwiseConv") else 3))
    cls = {"Conv": f"Conv{n}D", "SeparableConv": f"SeparableConv{n}D", "DepthwiseConv": f"DepthwiseConv{n}D", "ConvTranspose": f"Conv{n}DTranspose"}[kind]
    fmt = draw(st.sampled_from(["channels_last", "channels_first"]))
    kernel = draw(st.integers(1, 3))
    kw = {"data_format": fmt, "padding": draw(st.sampled_from(["valid", "same"])), "strides": draw(st.integers(1, 2)),
          "dilation_rate": draw(st.integers(1, 2)), "dtype": draw(st.sampled_from(LAYER_DTYPES))}
    args = (kernel,) if kind == "DepthwiseConv" else (draw(st.integers(1, 4)), kernel)
    rank = n + 2 + draw(st.sampled_from([0, 0, 0, -1, 1]))
    shape = [draw(st.one_of(st.none(), st.integers(1, 7))) for _ in range(rank - 1)]
    if shape:
        shape[-1 if fmt == "channels_last" else 0] = draw(st.integers(1, 4))
    return L(cls, *args, **kw), [In(*shape, dtype=draw(st.sampled_from(FLOATS)))], {}


@st.composite
def pooling_cases(draw, kind):
    """Local, global and adaptive pooling at their rank and one off."""
    n = draw(st.integers(1, 3))
    fmt = draw(st.sampled_from(["channels_last", "channels_first"]))
    cls = f"{kind}{n}D"
    kw = {"data_format": fmt, "dtype": draw(st.sampled_from(LAYER_DTYPES))}
    args = ()
    if kind.startswith("Global"):
        kw["keepdims"] = draw(st.booleans())
    elif kind.startswith("Adaptive"):
        args = (draw(st.integers(1, 4)),)
    else:
        args = (draw(st.integers(1, 3)),)
        kw["padding"] = draw(st.sampled_from(["valid", "same"]))
    rank = n + 2 + draw(st.sampled_from([0, 0, 0, -1, 1]))
    shape = [draw(st.one_of(st.none(), st.integers(1, 7))) for _ in range(rank - 1)]
    return L(cls, *args, **kw), [In(*shape, dtype=draw(st.sampled_from(FLOATS + ["int32"])))], {}


CONV_KINDS = ["Conv", "SeparableConv", "DepthwiseConv", "ConvTranspose"]
test_conv, test_conv_slow = family(conv_cases, CONV_KINDS, "conv")
POOLING_KINDS = ["MaxPooling", "AveragePooling", "GlobalMaxPooling", "GlobalAveragePooling", "AdaptiveMaxPooling", "AdaptiveAveragePooling"]
test_pooling, test_pooling_slow = family(pooling_cases, POOLING_KINDS, "pooling")


# ------------------------------------------------------------------ merging


@st.composite
def merging_cases(draw, cls):
    """Merges of broadcastable, clashing and differently ranked shapes and mixed dtypes."""
    count = 2 if cls in ("Subtract", "Dot") else draw(st.integers(1, 3))
    rank = draw(st.integers(1, 3))
    small = st.sampled_from([None, 1, 2, 3])
    dtype = st.sampled_from(FLOATS + ["int32"])
    inputs = []
    for _ in range(count):
        r = rank if draw(st.booleans()) else draw(st.integers(0, 3))
        inputs.append(In(*[draw(small) for _ in range(r)], dtype=draw(dtype), batch=draw(st.sampled_from([None, None, 2, 3]))))
    kw = {"dtype": draw(st.sampled_from(LAYER_DTYPES))}
    if cls == "Concatenate":
        kw["axis"] = draw(st.integers(-rank - 1, rank))
    if cls == "Dot":
        kw["axes"] = draw(st.one_of(st.integers(-2, 2), st.tuples(st.integers(-1, 2), st.integers(-1, 2))))
    return L(cls, **kw), [inputs], {}


MERGING_KINDS = ["Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate", "Dot"]
test_merging, test_merging_slow = family(merging_cases, MERGING_KINDS, "merging")


# ------------------------------------------------------------------ reshaping


@st.composite
def reshaping_cases(draw, cls):
    """Flatten/Reshape(-1)/Permute/RepeatVector and the N-d spatial layers, any rank and dtype."""
    rank = draw(st.integers(0, 4))
    shape = [draw(dims) for _ in range(rank)]
    kw = {"dtype": draw(st.sampled_from(LAYER_DTYPES))}
    args = ()
    if cls == "Flatten":
        kw["data_format"] = draw(st.sampled_from(["channels_last", "channels_first"]))
    elif cls == "Reshape":
        target = [draw(st.integers(1, 4)) for _ in range(draw(st.integers(1, 3)))]
        if draw(st.booleans()):
            target[draw(st.integers(0, len(target) - 1))] = -1
        args = (tuple(target),)
    elif cls == "Permute":
        perm = draw(st.permutations(list(range(1, draw(st.integers(1, 3)) + 1))))
        args = (tuple(perm),)
    elif cls == "RepeatVector":
        args = (draw(st.integers(1, 3)),)
    else:
        n = draw(st.integers(1, 3))
        cls = f"{cls}{n}D"
        if n > 1:
            kw["data_format"] = draw(st.sampled_from(["channels_last", "channels_first"]))
        args = (draw(st.integers(1, 2)),)
    return L(cls, *args, **kw), [In(*shape, dtype=draw(st.sampled_from(FLOATS + ["int32", "uint8"])))], {}


RESHAPING_KINDS = ["Flatten", "Reshape", "Permute", "RepeatVector", "ZeroPadding", "Cropping", "UpSampling"]
test_reshaping, test_reshaping_slow = family(reshaping_cases, RESHAPING_KINDS, "reshaping")


# ------------------------------------------------------------------ regularization


@st.composite
def regularization_cases(draw, cls):
    """Dropout-like layers (noise_shape included) at any rank and dtype."""
    rank = draw(st.integers(0, 5))
    shape = [draw(dims) for _ in range(rank)]
    kw = {"dtype": draw(st.sampled_from(LAYER_DTYPES))}
    if cls == "Dropout" and draw(st.booleans()):
        kw["noise_shape"] = tuple(draw(st.sampled_from([None, 1])) for _ in range(rank + 1))
    if cls in ("SpatialDropout2D", "SpatialDropout3D"):
        kw["data_format"] = draw(st.sampled_from(["channels_last", "channels_first"]))
    return L(cls, 0.3, **kw), [In(*shape, dtype=draw(st.sampled_from(FLOATS + ["int32"])))], {}


REGULARIZATION_KINDS = ["Dropout", "GaussianNoise", "GaussianDropout", "AlphaDropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D"]
test_regularization, test_regularization_slow = family(regularization_cases, REGULARIZATION_KINDS, "regularization")


# ------------------------------------------------------------------ rnn


@st.composite
def rnn_cases(draw, cls):
    """Recurrent layers on any float dtype and sequence shape, wrapped or
    not; TimeDistributed over Dense/Conv on ranks 3-5."""
    if cls == "TimeDistributed":
        inner = draw(st.sampled_from([L("Dense", 3), L("Conv1D", 2, 2), L("Flatten"), L("LayerNormalization")]))
        shape = [draw(dims) for _ in range(draw(st.integers(1, 4)))]
        if len(shape) >= 2:
            shape[-1] = draw(known)
        return L("TimeDistributed", inner), [In(*shape, dtype=draw(st.sampled_from(FLOATS)))], {}
    kw = {
        "return_sequences": draw(st.booleans()),
        "return_state": draw(st.booleans()),
        "go_backwards": draw(st.booleans()),
        "dtype": draw(st.sampled_from(LAYER_DTYPES)),
    }
    layer = L(cls, draw(st.integers(1, 4)), **kw)
    if draw(st.booleans()):
        layer = L("Bidirectional", L(cls, layer.args[0], **{k: v for k, v in kw.items() if k != "go_backwards"}), merge_mode=draw(st.sampled_from(["concat", "sum", "mul", "ave", None])))
    rank = draw(st.sampled_from([3, 3, 3, 2, 4]))
    shape = [draw(dims) for _ in range(rank - 1)]
    if shape and draw(st.booleans()):
        shape[-1] = draw(known)
    return layer, [In(*shape, dtype=draw(st.sampled_from(FLOATS)))], {}


RNN_KINDS = ["SimpleRNN", "GRU", "LSTM", "TimeDistributed"]
test_rnn, test_rnn_slow = family(rnn_cases, RNN_KINDS, "rnn")


def test_rnn_after_masking_compatible_shapes():
    """Masking and Embedding(mask_zero) feed a mask the RNN accepts; the
    rules see only the shapes, which match Keras's."""
    from test_shape_rules import run_kdsl_types

    x = keras.Input((7, 3))
    masked = keras.layers.Masking()(x)
    out = keras.layers.LSTM(4, return_sequences=True)(masked)
    t = run_kdsl_types(L("Masking"), [In(7, 3).kd()]).outputs
    ours = run_kdsl_types(L("LSTM", 4, return_sequences=True), [t]).outputs
    assert ours.shape == tuple(out.shape) and ours.dtype == out.dtype


# ------------------------------------------------------------------ attention


@st.composite
def attention_cases(draw, cls):
    """MultiHeadAttention with query rank 3 and value/key rank 3 or 4
    (attention_axes too), GroupQueryAttention, Attention and AdditiveAttention."""
    dtype = st.sampled_from(FLOATS)
    feat = st.sampled_from([4, 8])
    qr, vr = draw(st.sampled_from([(3, 3), (3, 3), (3, 4), (4, 4), (4, 3), (2, 2)]))
    q = In(*[draw(dims) for _ in range(qr - 2)], draw(feat), dtype=draw(dtype))
    v = In(*[draw(dims) for _ in range(vr - 2)], draw(feat), dtype=draw(dtype))
    kw = {"dtype": draw(st.sampled_from(LAYER_DTYPES))}
    call_kw = {}
    if draw(st.booleans()):
        call_kw["return_attention_scores"] = True
    if cls == "MultiHeadAttention":
        if qr == 4 and draw(st.booleans()):
            kw["attention_axes"] = draw(st.sampled_from([1, 2, (1, 2), -2]))
        if draw(st.booleans()):
            call_kw["key"] = In(*v.shape[:-1], draw(feat))
        return L(cls, 2, 4, **kw), [q, v], call_kw
    if cls == "GroupQueryAttention":
        if draw(st.booleans()):
            call_kw["key"] = In(*v.shape[:-1], draw(feat))
        return L(cls, 4, 4, draw(st.sampled_from([1, 2, 4])), **kw), [q, v], call_kw
    items = [q, v] + ([In(*v.shape[:-1], q.shape[-1])] if draw(st.booleans()) else [])
    return L(cls, **kw), [items], call_kw


ATTENTION_KINDS = ["MultiHeadAttention", "GroupQueryAttention", "Attention", "AdditiveAttention"]
test_attention, test_attention_slow = family(attention_cases, ATTENTION_KINDS, "attention")


# ------------------------------------------------------------------ preprocessing


@st.composite
def preprocessing_cases(draw, family):
    """Image layers at ranks 2-5 and any dtype, Rescaling/Normalization,
    and the categorical layers on every rank they take."""
    if family == "image":
        cls = draw(st.sampled_from(["RandomFlip", "RandomGrayscale", "Equalization", "RandomCrop", "Resizing", "CenterCrop", "RandomColorDegeneration", "AutoContrast", "RandomBrightness"]))
        args = {"RandomCrop": (3, 2), "Resizing": (3, 2), "CenterCrop": (3, 2), "RandomColorDegeneration": (0.2,), "RandomBrightness": (0.2,)}.get(cls, ())
        shape = [draw(st.one_of(st.none(), st.integers(1, 6))) for _ in range(draw(st.integers(1, 4)))]
        kw = {"data_format": draw(st.sampled_from(["channels_last", "channels_first"]))}
        return L(cls, *args, **kw), [In(*shape, dtype=draw(st.sampled_from(FLOATS[:3] + ["uint8", "int32"])))], {}
    if family == "audio":
        if draw(st.booleans()):
            shape = [draw(st.one_of(st.none(), st.integers(1, 3000)))] + ([draw(st.integers(1, 3))] if draw(st.booleans()) else [])
            kw = {"sequence_stride": draw(st.sampled_from([64, 160, 512])), "num_mel_bins": draw(st.sampled_from([16, 128]))}
            return L("MelSpectrogram", fft_length=512, **kw), [In(*shape, dtype=draw(st.sampled_from(FLOATS[:3])))], {}
        fmt = draw(st.sampled_from(["channels_last", "channels_first"]))
        time, ch = draw(st.one_of(st.none(), st.integers(1, 400))), draw(st.integers(1, 3))
        kw = {"mode": draw(st.sampled_from(["log", "magnitude", "psd", "real", "imag", "angle", "stft"])), "frame_length": draw(st.sampled_from([16, 64])),
              "padding": draw(st.sampled_from(["valid", "same"])), "expand_dims": draw(st.booleans()), "data_format": fmt, "window": None}
        shape = [time, ch] if fmt == "channels_last" else [ch, time]
        return L("STFTSpectrogram", **kw), [In(*shape, dtype=draw(st.sampled_from(FLOATS[:3] + ["int32"])))], {}
    if family == "spectral":
        inner = draw(st.sampled_from([L("Dense", 3), L("Dense", 3, lora_rank=1), L("Conv1D", 2, 2), L("Embedding", 5, 2), L("EinsumDense", "ab,bc->ac", 3)]))
        rank = draw(st.integers(1, 3))
        shape = [draw(st.one_of(st.none(), st.integers(1, 5))) for _ in range(rank - 1)] + [draw(st.integers(1, 5))]
        dtype = "int32" if inner.cls == "Embedding" else draw(st.sampled_from(FLOATS[:3]))
        return L("SpectralNormalization", inner, dtype=draw(st.sampled_from(LAYER_DTYPES[:5]))), [In(*shape, dtype=dtype)], {}
    if family == "rescale":
        cls = draw(st.sampled_from(["Rescaling", "Normalization"]))
        shape = [draw(known) for _ in range(draw(st.integers(1, 3)))]
        args = (0.5,) if cls == "Rescaling" else ()
        kw = {"dtype": draw(st.sampled_from(LAYER_DTYPES[:5]))}
        if cls == "Normalization":
            kw["axis"] = draw(st.one_of(st.none(), st.integers(-2, 2)))
        return L(cls, *args, **kw), [In(*shape, dtype=draw(st.sampled_from(FLOATS[:3] + ["uint8", "int32"])))], {}
    cls = draw(st.sampled_from(["CategoryEncoding", "Hashing", "Discretization", "IntegerLookup", "StringLookup"]))
    mode = draw(st.sampled_from(["int", "one_hot", "multi_hot", "count"]))
    shape = [draw(st.sampled_from([None, 1, 2, 3])) for _ in range(draw(st.integers(0, 3)))]
    if cls == "CategoryEncoding":
        layer = L(cls, 4, output_mode=mode if mode != "int" else "multi_hot")
        dtype = "int32"
    elif cls == "Hashing":
        layer, dtype = L(cls, 4, output_mode=mode), draw(st.sampled_from(["string", "int64"]))
    elif cls == "Discretization":
        layer, dtype = L(cls, bin_boundaries=[0.0, 1.0], output_mode=mode), "float32"
    elif cls == "IntegerLookup":
        layer, dtype = L(cls, vocabulary=[1, 2, 3], output_mode=mode), "int64"
    else:
        layer, dtype = L(cls, vocabulary=["a", "b"], output_mode=mode), "string"
    return layer, [In(*shape, dtype=dtype)], {}


PREPROCESSING_KINDS = ["image", "rescale", "categorical", "audio", "spectral"]
test_preprocessing, test_preprocessing_slow = family(preprocessing_cases, PREPROCESSING_KINDS, "preprocessing")


# ------------------------------------------------------------------ arguments in all their forms


@st.composite
def argument_form_cases(draw, kind):
    """Layers whose arguments come as ints, tuples or pairs of pairs
    (ZeroPadding, Cropping, UpSampling, Dropout noise_shape, PReLU
    shared_axes, EinsumDense equations with ellipses, ConvLSTM)."""
    if kind in ("ZeroPadding", "Cropping", "UpSampling"):
        n = draw(st.integers(1, 3))
        pair = st.one_of(st.integers(0, 2), st.tuples(st.integers(0, 2), st.integers(0, 2)))
        if kind == "UpSampling":
            arg = draw(st.one_of(st.integers(1, 3), st.tuples(*[st.integers(1, 3)] * n))) if n > 1 else draw(st.integers(1, 3))
        elif n == 1:
            arg = draw(st.one_of(st.integers(0, 2), st.tuples(st.integers(0, 2), st.integers(0, 2))))
        else:
            arg = draw(st.one_of(st.integers(0, 2), st.tuples(*[st.integers(0, 2)] * n), st.tuples(*[pair] * n)))
        kw = {"data_format": draw(st.sampled_from(["channels_last", "channels_first"]))} if n > 1 else {}
        shape = [draw(st.one_of(st.none(), st.integers(1, 6))) for _ in range(n + 1)]
        return L(f"{kind}{n}D", arg, **kw), [In(*shape)], {}
    if kind == "EinsumDense":
        eq, rank, out = draw(st.sampled_from([
            ("ab,bc->ac", 1, (4,)), ("abc,cd->abd", 2, (None, 4)), ("...b,bc->...c", None, (4,)),
            ("abc,cde->abde", 2, (None, 2, 3)), ("abc...,cd->abd...", None, (None, 3)), ("abc,bcd->ad", 2, (4,)),
        ]))
        rank = draw(st.integers(1, 4)) if rank is None else rank
        shape = [draw(st.one_of(st.none(), st.integers(1, 5))) for _ in range(rank - 1)] + [draw(st.integers(1, 5))]
        bias = draw(st.sampled_from([None, eq[-1]]))
        return L("EinsumDense", eq, output_shape=out, bias_axes=bias if bias != "." else None), [In(*shape, dtype=draw(st.sampled_from(FLOATS)))], {}
    if kind == "ConvLSTM":
        n = draw(st.integers(1, 2))
        fmt = draw(st.sampled_from(["channels_last", "channels_first"]))
        spatial = [draw(st.integers(2, 6)) for _ in range(n)]
        channels = draw(st.integers(1, 3))
        shape = [draw(dims)] + (spatial + [channels] if fmt == "channels_last" else [channels] + spatial)
        kw = {"data_format": fmt, "padding": draw(st.sampled_from(["valid", "same"])), "return_sequences": draw(st.booleans()),
              "return_state": draw(st.booleans()), "strides": draw(st.integers(1, 2))}
        return L(f"ConvLSTM{n}D", 2, draw(st.integers(1, 3)), **kw), [In(*shape)], {}
    q = In(draw(dims), draw(st.sampled_from([4, 6])))
    v = In(draw(dims), draw(st.sampled_from([4, 6])))
    kw = {"output_shape": draw(st.sampled_from([None, 3, (2, 2)])), "use_gate": draw(st.booleans()), "use_bias": draw(st.booleans()),
          "value_dim": draw(st.sampled_from([None, 2]))}
    call = {"key": In(v.shape[0], draw(st.sampled_from([4, 5])))} if draw(st.booleans()) else {}
    return L("MultiHeadAttention", 2, 3, **kw), [q, v], call


ARGUMENT_FORM_KINDS = ["ZeroPadding", "Cropping", "UpSampling", "EinsumDense", "ConvLSTM", "MultiHeadAttention"]
test_argument_forms, test_argument_forms_slow = family(argument_form_cases, ARGUMENT_FORM_KINDS, "argument_forms")
