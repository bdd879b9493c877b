"""Differential tests of kdsl's shape rules (dsl/shapes) against real Keras.

Every case builds the real Keras layer on `keras.Input` symbolic tensors and
the kdsl rule on the same types, then compares the output structure, shapes
and dtypes, the weights (count, order, shapes, trainable flags, names) and
count_params.  Error cases check the kdsl code and that Keras fails too
(symbolically, or when run on data where its static check is laxer).
"""

from __future__ import annotations

import inspect
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

keras = pytest.importorskip("keras")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from dsl.shapes import (  # noqa: E402
    LayerCall,
    LayerSpec,
    RuleError,
    TensorType,
    elementwise,
    lookup,
)

# The base Layer keyword arguments the evaluator fills in for every layer
# whose constructor takes **kwargs.
BASE_KWARGS = {"dtype": None, "trainable": True, "name": None, "autocast": True, "activity_regularizer": None}


# ------------------------------------------------------------------ descriptions


class L:
    """A layer as written in kd: class name, positional and keyword
    arguments; wrapped layers are themselves L's."""

    def __init__(self, cls: str, *args, **kwargs):
        self.cls, self.args, self.kwargs = cls, args, kwargs

    def __repr__(self) -> str:
        parts = [repr(a) for a in self.args] + [f"{k}={v!r}" for k, v in self.kwargs.items()]
        return f"{self.cls}({', '.join(parts)})"

    def keras(self):
        """The real Keras layer."""
        conv = lambda v: v.keras() if isinstance(v, L) else v  # noqa: E731
        return getattr(keras.layers, self.cls)(*map(conv, self.args), **{k: conv(v) for k, v in self.kwargs.items()})

    def spec(self) -> LayerSpec:
        """The LayerSpec the evaluator would build: the constructor's
        signature bound, defaults filled, base layer kwargs added."""
        return bind(self.cls, self.args, self.kwargs)


def bind(cls_name: str, args: tuple, kwargs: dict) -> LayerSpec:
    """Bind ARGS and KWARGS to the Keras class's __init__ signature as the
    evaluator does; inner layers become LayerSpecs."""
    to_spec = lambda v: v.spec() if isinstance(v, L) else v  # noqa: E731
    sig = inspect.signature(getattr(keras.layers, cls_name).__init__)
    bound = sig.bind(None, *map(to_spec, args), **{k: to_spec(v) for k, v in kwargs.items()})
    bound.apply_defaults()
    out, extra, has_var_kw = {}, {}, False
    for name, p in list(sig.parameters.items())[1:]:
        if p.kind is inspect.Parameter.VAR_KEYWORD:
            has_var_kw, extra = True, bound.arguments.get(name, {})
        elif p.kind is not inspect.Parameter.VAR_POSITIONAL:
            out[name] = bound.arguments[name]
    if has_var_kw:
        for k, v in BASE_KWARGS.items():
            out.setdefault(k, v)
        out.update(extra)
    return LayerSpec(cls_name, out)


class In:
    """An input tensor: shape without batch, dtype, optional fixed batch."""

    def __init__(self, *shape, dtype="float32", batch=None):
        self.shape, self.dtype, self.batch = shape, dtype, batch

    def __repr__(self) -> str:
        return f"In{(self.batch,) + self.shape}:{self.dtype}"

    def keras(self):
        return keras.Input(shape=self.shape, dtype=self.dtype, batch_size=self.batch)

    def kd(self) -> TensorType:
        return TensorType((self.batch,) + tuple(self.shape), self.dtype)

    def data(self):
        """Concrete zeros (unknown dimensions set to 3) for eager calls."""
        shape = tuple(3 if d is None else d for d in (self.batch or 2,) + tuple(self.shape))
        return np.zeros(shape, dtype=self.dtype)


def tree_map(fn, value):
    """Apply FN to every In in VALUE (nested lists, tuples, dicts)."""
    if isinstance(value, In):
        return fn(value)
    if isinstance(value, (list, tuple)):
        return type(value)(tree_map(fn, v) for v in value)
    if isinstance(value, dict):
        return {k: tree_map(fn, v) for k, v in value.items()}
    return value


def run_kdsl(layer: L, inputs: list, kwargs: dict):
    """The kdsl Result of LAYER called on INPUTS."""
    rule = lookup(layer.cls)
    assert rule is not None, f"no shape rule for {layer.cls}"
    call = LayerCall(layer.spec(), tuple(tree_map(In.kd, inputs)), tree_map(In.kd, kwargs))
    return rule(call)


def run_keras(layer: L, inputs: list, kwargs: dict):
    """(Keras layer, its symbolic outputs) for LAYER called on INPUTS."""
    k = layer.keras()
    out = k(*tree_map(In.keras, inputs), **tree_map(In.keras, kwargs))
    return k, out


# ------------------------------------------------------------------ comparison


def compare_outputs(kout, ours, where="output"):
    """Same structure (tensor, tuple or list), shapes and dtypes."""
    if isinstance(kout, (list, tuple)):
        assert isinstance(ours, (list, tuple)) and type(ours) is type(kout), f"{where}: Keras gives a {type(kout).__name__}, kdsl {ours!r}"
        assert len(ours) == len(kout), f"{where}: {len(kout)} outputs in Keras, {len(ours)} in kdsl"
        for i, (a, b) in enumerate(zip(kout, ours)):
            compare_outputs(a, b, f"{where}[{i}]")
        return
    assert isinstance(ours, TensorType), f"{where}: expected a single tensor, kdsl gives {ours!r}"
    assert tuple(kout.shape) == ours.shape, f"{where}: shape {tuple(kout.shape)} in Keras, {ours.shape} in kdsl"
    assert kout.dtype == ours.dtype, f"{where}: dtype {kout.dtype} in Keras, {ours.dtype} in kdsl"


def compare_weights(klayer, result):
    """Same weights in the same order: shapes, effective trainability (what
    layer.trainable_weights holds), names, and count_params."""
    trainable_ids = {id(w) for w in klayer.trainable_weights}
    theirs = [(w.name, tuple(w.shape), id(w) in trainable_ids) for w in klayer.weights]
    ours = [(w.name, tuple(w.shape), w.trainable) for w in result.weights]
    assert ours == theirs
    assert result.params == klayer.count_params()


def check_case(layer: L, inputs: list, kwargs: dict):
    """Build LAYER in Keras and in kdsl and compare everything."""
    klayer, kout = run_keras(layer, inputs, kwargs)
    result = run_kdsl(layer, inputs, kwargs)
    compare_outputs(kout, result.outputs)
    compare_weights(klayer, result)


# ------------------------------------------------------------------ the table


def C(layer: L, *inputs, **kwargs):
    """A case: LAYER called on INPUTS with call KWARGS."""
    return pytest.param(layer, list(inputs), kwargs, id=f"{layer!r}<-{list(inputs)!r}{kwargs or ''}")


LSTM_SEQ = L("LSTM", 8, return_sequences=True)

CASES = [
    # core
    C(L("Dense", 16), In(32)),
    C(L("Dense", 4, use_bias=False, activation="relu"), In(None, 10)),
    C(L("Dense", 4), In(3, 5, 6, batch=7)),
    C(L("Dense", 4, trainable=False), In(5)),
    C(L("Dense", 4, dtype="mixed_float16"), In(5)),
    C(L("Dense", 4, dtype="bfloat16"), In(5, dtype="float16")),
    C(L("Dense", 6, lora_rank=2), In(5)),
    C(L("EinsumDense", "ab,bc->ac", output_shape=64, bias_axes="c"), In(32)),
    C(L("EinsumDense", "abc,cd->abd", output_shape=(None, 64), bias_axes="d"), In(7, 32)),
    C(L("EinsumDense", "abc,cde->abde", output_shape=(None, 4, 8), bias_axes="de"), In(5, 16)),
    C(L("EinsumDense", "...b,bc->...c", output_shape=64, bias_axes="c"), In(3, 5, 32)),
    C(L("EinsumDense", "abc,cd->abd", output_shape=(None, 64)), In(None, 32)),
    C(L("EinsumDense", "abc,bcd->ad", output_shape=(10,), bias_axes="d"), In(4, 6)),
    C(L("EinsumDense", "abc...,cd->abd...", output_shape=(None, 8), bias_axes="d"), In(5, 4, 3)),
    C(L("EinsumDense", "abc,cde->abde", output_shape=(5, 4, 8), bias_axes="be"), In(5, 16)),
    C(L("Activation", "relu"), In(3, 4)),
    C(L("Activation", "softmax"), In(4, dtype="int32")),
    C(L("ReLU", max_value=6.0), In(None, 8)),
    C(L("LeakyReLU", negative_slope=0.2), In(8)),
    C(L("ELU"), In(2, 8)),
    C(L("Softmax", axis=1), In(4, 5)),
    C(L("PReLU"), In(8, 8, 3)),
    C(L("PReLU", shared_axes=[1, 2]), In(8, 8, 3)),
    C(L("PReLU", shared_axes=1), In(None, 3)),
    C(L("Identity"), In(4, dtype="int32")),
    C(L("Identity"), In(4, dtype="float16")),
    C(L("Identity", autocast=False), In(4, dtype="float16")),
    C(L("Masking", mask_value=0.0), In(None, 6)),
    C(L("Masking"), In(5, dtype="int32")),
    C(L("ActivityRegularization", l1=0.01), In(6)),
    C(L("Embedding", 1000, 64), In(20, dtype="int32")),
    C(L("Embedding", 100, 8, mask_zero=True), In(None, dtype="int64")),
    C(L("Embedding", 100, 8), In(3, 4, dtype="uint8")),
    C(L("Embedding", 100, 8, dtype="mixed_float16"), In(4, dtype="int32")),
    C(L("Embedding", 100, 8, lora_rank=4), In(4, dtype="int32")),
    # regularization
    C(L("Dropout", 0.5), In(10)),
    C(L("Dropout", 0.5, noise_shape=(None, 1, 4)), In(3, 4)),
    C(L("Dropout", 0.1), In(3, dtype="int32")),
    C(L("SpatialDropout1D", 0.2), In(10, 4)),
    C(L("SpatialDropout2D", 0.2, data_format="channels_first"), In(3, 8, 8)),
    C(L("SpatialDropout3D", 0.2), In(4, 4, 4, 2)),
    C(L("GaussianNoise", 0.1), In(None, 3)),
    C(L("GaussianDropout", 0.1), In(3)),
    C(L("AlphaDropout", 0.1), In(3)),
    # reshaping
    C(L("Flatten"), In(4, 4, 3)),
    C(L("Flatten"), In(None, 3)),
    C(L("Flatten"), In(4, dtype="int32")),
    C(L("Flatten", data_format="channels_first"), In(3, 4, 4, dtype="float16")),
    C(L("Reshape", (4, 12)), In(6, 8)),
    C(L("Reshape", (-1, 4)), In(6, 8)),
    C(L("Reshape", (-1, 4)), In(None, 8)),
    C(L("Reshape", (2, -1, 2)), In(3, 4, dtype="int32")),
    C(L("Permute", (2, 1)), In(5, 7)),
    C(L("Permute", (3, 1, 2)), In(None, 4, 6)),
    C(L("RepeatVector", 3), In(8)),
    C(L("ZeroPadding1D", 2), In(10, 3)),
    C(L("ZeroPadding1D", (1, 3)), In(None, 3)),
    C(L("ZeroPadding2D", 1), In(28, 28, 3)),
    C(L("ZeroPadding2D", ((1, 2), (3, 4)), data_format="channels_first"), In(3, 10, None)),
    C(L("ZeroPadding3D", (1, 2, 3)), In(4, 4, 4, 1)),
    C(L("Cropping1D", (1, 2)), In(10, 3)),
    C(L("Cropping2D", ((2, 2), (4, 4))), In(28, 28, 3)),
    C(L("Cropping2D", 1, data_format="channels_first"), In(3, None, 8)),
    C(L("Cropping3D", 1), In(6, 6, 6, 2)),
    C(L("ZeroPadding2D", ((1, 0), 2)), In(3, 3, 3)),
    C(L("Cropping2D", (1, (2, 0))), In(5, 5, 3)),
    C(L("UpSampling1D", 3), In(5, 2)),
    C(L("UpSampling2D", (2, 3)), In(4, None, 3)),
    C(L("UpSampling2D", 2, data_format="channels_first", interpolation="bilinear"), In(3, 4, 4)),
    C(L("UpSampling3D", 2), In(2, 2, 2, 1)),
    # convolutions
    C(L("Conv2D", 32, 3), In(28, 28, 1)),
    C(L("Conv2D", 32, 3, padding="same", strides=2), In(28, 28, 3)),
    C(L("Conv2D", 8, (3, 5), strides=(2, 1)), In(17, 19, 3)),
    C(L("Conv2D", 8, 3, dilation_rate=2), In(16, 16, 3)),
    C(L("Conv2D", 8, 3, data_format="channels_first"), In(3, 16, 16)),
    C(L("Conv2D", 8, 3, data_format="channels_first", padding="same", strides=2), In(3, 15, None)),
    C(L("Conv2D", 16, 3, groups=4), In(16, 16, 8)),
    C(L("Conv2D", 16, 1, use_bias=False), In(None, None, 8)),
    C(L("Conv2D", 8, 3, lora_rank=2), In(8, 8, 3)),
    C(L("Convolution2D", 4, 3), In(8, 8, 3)),
    C(L("Conv1D", 8, 3, padding="causal", dilation_rate=4), In(100, 4)),
    C(L("Conv1D", 8, 5, strides=3), In(None, 4)),
    C(L("Conv1D", 8, 3, data_format="channels_first"), In(4, 20)),
    C(L("Conv1D", 8, 3, groups=2, padding="causal"), In(20, 4)),
    C(L("Conv3D", 4, 3), In(8, 8, 8, 1)),
    C(L("Conv3D", 4, (1, 3, 3), strides=(1, 2, 2), padding="same", data_format="channels_first"), In(2, 5, 9, 9)),
    C(L("SeparableConv2D", 16, 3, depth_multiplier=2), In(16, 16, 3)),
    C(L("SeparableConv2D", 16, 3, padding="same", data_format="channels_first", use_bias=False), In(3, 16, 16)),
    C(L("SeparableConvolution1D", 8, 3), In(10, 4)),
    C(L("SeparableConv1D", 8, 3, strides=2, depth_multiplier=3), In(None, 4)),
    C(L("DepthwiseConv2D", 3), In(16, 16, 8)),
    C(L("DepthwiseConv2D", 3, depth_multiplier=2, strides=2, padding="same", data_format="channels_first"), In(8, 16, 16)),
    C(L("DepthwiseConv1D", 5, dilation_rate=2), In(30, 4)),
    # Separable and depthwise convolutions take strides with dilation (Keras does not check, TensorFlow runs them).
    C(L("DepthwiseConv2D", 3, strides=2, dilation_rate=2), In(16, 16, 3)),
    C(L("SeparableConv1D", 4, 3, strides=2, dilation_rate=2), In(16, 3)),
    C(L("Conv2DTranspose", 16, 3, strides=2), In(8, 8, 32)),
    C(L("Conv2DTranspose", 16, 3, strides=2, padding="same"), In(8, 8, 32)),
    C(L("Conv2DTranspose", 16, 3, strides=2, padding="same", output_padding=1), In(8, 8, 32)),
    C(L("Conv2DTranspose", 16, 4, strides=(2, 3), output_padding=(1, 2)), In(7, None, 4)),
    C(L("Conv2DTranspose", 16, 3, dilation_rate=2, data_format="channels_first"), In(4, 7, 7)),
    C(L("Convolution2DTranspose", 4, 2, strides=3), In(5, 5, 2)),
    C(L("Conv1DTranspose", 8, 3, strides=2, padding="same"), In(10, 4)),
    C(L("Conv1DTranspose", 8, 1, strides=3), In(10, 4)),
    C(L("Conv3DTranspose", 4, 3, strides=2), In(4, 4, 4, 2)),
    # pooling
    C(L("MaxPooling2D"), In(28, 28, 3)),
    C(L("MaxPooling2D", 3, strides=2, padding="same"), In(27, 27, 3)),
    C(L("MaxPool2D", (2, 3), data_format="channels_first"), In(3, 9, None)),
    C(L("AveragePooling2D", 3, strides=1), In(5, 5, 1)),
    C(L("AvgPool2D", 2), In(7, 7, 4)),
    C(L("MaxPooling1D", 4, strides=2), In(20, 3)),
    C(L("AveragePooling1D", 3, padding="same", data_format="channels_first"), In(3, 10)),
    C(L("MaxPooling3D", 2), In(8, 8, 8, 1)),
    C(L("AvgPool3D", (1, 2, 2), padding="same"), In(3, 5, 5, 2)),
    C(L("GlobalAveragePooling2D"), In(7, 7, 64)),
    C(L("GlobalAvgPool2D", keepdims=True), In(7, 7, 64)),
    C(L("GlobalMaxPooling2D", data_format="channels_first"), In(64, 7, 7)),
    C(L("GlobalMaxPool2D", data_format="channels_first", keepdims=True), In(64, None, 7)),
    C(L("GlobalAveragePooling1D"), In(None, 16)),
    C(L("GlobalMaxPooling1D", keepdims=True), In(10, 16)),
    C(L("GlobalAveragePooling3D", keepdims=True), In(4, 4, 4, 2)),
    C(L("GlobalMaxPool3D", data_format="channels_first"), In(2, 4, 4, 4)),
    # recurrent
    C(L("LSTM", 8), In(10, 4)),
    C(L("LSTM", 8, return_sequences=True), In(None, 4)),
    C(L("LSTM", 8, return_state=True), In(10, 4)),
    C(L("LSTM", 8, return_sequences=True, return_state=True, use_bias=False), In(10, 4)),
    C(L("LSTM", 8), In(10, 4), initial_state=[In(8), In(8)]),
    C(L("LSTM", 8, stateful=True), In(10, 4, batch=2)),
    C(L("GRU", 6), In(10, 4)),
    C(L("GRU", 6, reset_after=False, return_state=True), In(10, 4)),
    C(L("GRU", 6, return_sequences=True), In(None, 3), initial_state=In(6)),
    C(L("SimpleRNN", 5, return_sequences=True, return_state=True), In(7, 3)),
    C(L("SimpleRNN", 3), In(5, 3), In(3)),  # initial_state given positionally
    C(L("GRU", 3, return_state=True, return_sequences=True), In(5, 3), initial_state=In(3)),
    C(L("SimpleRNN", 5, dtype="mixed_float16"), In(7, 3)),
    C(L("Bidirectional", L("LSTM", 8)), In(10, 4)),
    C(L("Bidirectional", LSTM_SEQ, merge_mode="sum"), In(10, 4)),
    C(L("Bidirectional", LSTM_SEQ, merge_mode="mul"), In(10, 4)),
    C(L("Bidirectional", LSTM_SEQ, merge_mode="ave"), In(None, 4)),
    C(L("Bidirectional", LSTM_SEQ, merge_mode=None), In(10, 4)),
    C(L("Bidirectional", L("LSTM", 8, return_state=True)), In(10, 4)),
    C(L("Bidirectional", L("LSTM", 8, return_state=True, return_sequences=True), merge_mode=None), In(10, 4)),
    C(L("Bidirectional", L("GRU", 5, return_state=True), merge_mode="sum"), In(10, 4)),
    C(L("Bidirectional", L("GRU", 5, reset_after=False)), In(10, 4)),
    C(L("Bidirectional", L("GRU", 5, return_sequences=True), merge_mode=None), In(10, 4)),
    C(L("Bidirectional", L("SimpleRNN", 3), backward_layer=L("SimpleRNN", 3, go_backwards=True)), In(6, 2)),
    C(L("Bidirectional", L("LSTM", 4), trainable=False), In(6, 2)),
    C(L("Bidirectional", L("LSTM", 4)), In(6, 2), initial_state=[In(4), In(4), In(4), In(4)]),
    C(L("Bidirectional", L("LSTM", 4, stateful=True)), In(5, 3, batch=2)),
    C(L("Bidirectional", L("LSTM", 4, return_sequences=True)), In(None, 3, batch=2)),
    C(L("TimeDistributed", L("Dense", 8)), In(10, 16)),
    C(L("TimeDistributed", L("Dense", 8)), In(None, 3, 16)),
    C(L("TimeDistributed", L("Conv2D", 4, 3)), In(5, 16, 16, 3)),
    C(L("TimeDistributed", L("Conv2D", 4, 3, strides=2, padding="same", data_format="channels_first")), In(None, 3, 16, 16)),
    C(L("TimeDistributed", L("MaxPooling2D")), In(5, 8, 8, 3)),
    C(L("TimeDistributed", L("Flatten")), In(5, 4, 4)),
    C(L("TimeDistributed", L("LSTM", 3)), In(4, 5, 6)),
    C(L("TimeDistributed", L("Embedding", 10, 3)), In(4, 6, dtype="int32")),
    C(L("TimeDistributed", L("Dense", 3, dtype="float16")), In(4, 6)),
    C(L("TimeDistributed", L("Dense", 3), dtype="mixed_float16"), In(4, 6)),
    C(L("ConvLSTM2D", 8, 3), In(5, 16, 16, 3)),
    C(L("ConvLSTM2D", 8, 3, padding="same", return_sequences=True, return_state=True), In(None, 16, 16, 3)),
    C(L("ConvLSTM2D", 4, 3, strides=2, data_format="channels_first"), In(5, 3, 9, 9)),
    C(L("ConvLSTM1D", 4, 3, return_sequences=True), In(5, 12, 2)),
    C(L("ConvLSTM3D", 2, 3, use_bias=False), In(3, 5, 5, 5, 1)),
    C(L("ConvLSTM2D", 4, 3), In(5, 8, 8, 3), initial_state=[In(6, 6, 4), In(6, 6, 4)]),
    # normalization
    C(L("BatchNormalization"), In(16, 16, 32)),
    C(L("BatchNormalization", axis=1), In(32, 16, 16)),
    C(L("BatchNormalization", center=False), In(8)),
    C(L("BatchNormalization", scale=False, trainable=False), In(8)),
    C(L("BatchNormalization", renorm=True), In(None, 8)),
    C(L("BatchNormalization", dtype="mixed_float16"), In(4, 8)),
    C(L("LayerNormalization"), In(10, 64)),
    C(L("LayerNormalization", axis=[1, 2]), In(10, 6)),
    C(L("LayerNormalization", axis=(-1, -2), center=False), In(3, 10, 6)),
    C(L("LayerNormalization", scale=False), In(None, 6)),
    C(L("LayerNormalization", axis=[-1, 1]), In(3, 4, 5)),
    C(L("RMSNormalization", axis=[2, -3]), In(3, 4, 5)),
    C(L("BatchNormalization", axis=-2), In(3, 4, 5)),
    C(L("GroupNormalization", groups=4), In(8, 8, 16)),
    C(L("GroupNormalization", groups=-1, axis=1), In(6, 8, 8)),
    C(L("GroupNormalization", groups=2, center=False), In(None, 6)),
    C(L("UnitNormalization"), In(5, 4)),
    C(L("UnitNormalization", axis=[1, 2]), In(5, 4)),
    C(L("RMSNormalization"), In(5, 4)),
    C(L("RMSNormalization", axis=[1, 2]), In(5, 4)),
    # attention
    C(L("MultiHeadAttention", num_heads=4, key_dim=16), In(10, 64), In(12, 32)),
    C(L("MultiHeadAttention", 2, 8, value_dim=4), In(10, 16), In(12, 16), key=In(12, 8)),
    C(L("MultiHeadAttention", 2, 8, output_shape=20), In(10, 16), In(10, 16)),
    C(L("MultiHeadAttention", 2, 8, output_shape=(4, 5), use_bias=False), In(10, 16), In(6, 16)),
    C(L("MultiHeadAttention", 2, 8), In(None, 16), In(None, 16), return_attention_scores=True),
    C(L("MultiHeadAttention", 2, 8), In(10, 16), In(7, 16), return_attention_scores=True),
    C(L("MultiHeadAttention", 2, 4, attention_axes=(1, 2)), In(5, 6, 8), In(3, 4, 8)),
    C(L("MultiHeadAttention", 2, 4, attention_axes=2), In(5, 6, 8), In(5, 4, 8)),
    C(L("MultiHeadAttention", 2, 4, attention_axes=(-2,)), In(5, 6, 8), In(5, 4, 8), return_attention_scores=True),
    C(L("MultiHeadAttention", 3, 4, use_gate=True), In(5, 8), In(5, 8)),
    C(L("MultiHeadAttention", 2, 4), In(3, 5, 8), In(3, 7, 8), return_attention_scores=True),
    C(L("Attention"), [In(3, 5, 8), In(3, 7, 8)], return_attention_scores=True),
    C(L("MultiHeadAttention", 2, 4, dtype="mixed_float16"), In(5, 8), In(5, 8)),
    C(L("Attention"), [In(10, 16), In(12, 16)]),
    C(L("Attention", use_scale=True, score_mode="concat"), [In(10, 16), In(12, 8), In(12, 16)]),
    C(L("Attention"), [In(None, 16), In(None, 16)], return_attention_scores=True),
    C(L("AdditiveAttention"), [In(10, 16), In(12, 16)]),
    C(L("AdditiveAttention", use_scale=False), [In(10, 16), In(12, 16)], return_attention_scores=True),
    # merging
    C(L("Add"), [In(16, 16, 8), In(16, 16, 8)]),
    C(L("Add"), [In(1, 8), In(5, 1)]),
    C(L("Add"), [In(None, 8), In(5, 1)]),
    C(L("Add"), [In(8), In(5, 8)]),
    C(L("Add"), [In(8, batch=4), In(8)]),
    C(L("Subtract"), [In(8), In(8)]),
    C(L("Multiply"), [In(4, 8), In(4, 8), In(4, 1)]),
    C(L("Average"), [In(8), In(8)]),
    C(L("Maximum"), [In(3, 8), In(3, 8)]),
    C(L("Minimum"), [In(8, dtype="int32"), In(8, dtype="int32")]),
    C(L("Concatenate"), [In(16, 16, 64), In(16, 16, 32)]),
    C(L("Concatenate", axis=1), [In(3, 8), In(5, 8), In(2, 8)]),
    C(L("Concatenate"), [In(None, 3), In(5, 3)]),
    C(L("Concatenate", axis=1), [In(None, 3), In(5, 3)]),
    C(L("Concatenate", axis=1), [In(4, 3), In(None, 3)]),
    C(L("Concatenate", axis=-2), [In(4, 6, 3), In(4, 2, 3)]),
    C(L("Dot", axes=1), [In(8), In(8)]),
    C(L("Dot", axes=-1), [In(5, 8), In(7, 8)]),
    C(L("Dot", axes=(2, 2)), [In(5, 8), In(7, 8)]),
    C(L("Dot", axes=(1, 2), normalize=True), [In(5, 8), In(7, 5)]),
    C(L("Dot", axes=(-1, 1)), [In(3, 4), In(4, 6)]),
    # preprocessing
    C(L("Rescaling", 1.0 / 255), In(32, 32, 3, dtype="uint8")),
    C(L("Rescaling", 2.0, offset=-1.0), In(None, 3)),
    C(L("Normalization"), In(8)),
    C(L("Normalization", axis=None), In(4, 8)),
    C(L("Normalization", axis=(1, 2)), In(4, 8)),
    C(L("Normalization", mean=2.0, variance=1.0), In(8)),
    C(L("Normalization", mean=[1.0, 2.0, 3.0], variance=[1.0, 1.0, 1.0]), In(5, 3)),
    C(L("Resizing", 64, 48), In(32, 32, 3)),
    C(L("Resizing", 64, 48, data_format="channels_first"), In(3, None, None)),
    C(L("CenterCrop", 20, 24), In(32, 32, 3)),
    # Rank 3 is one image to Keras: its height is kd's batch axis.
    C(L("Resizing", 8, 8), In(16, 16)),
    C(L("CenterCrop", 8, 8, data_format="channels_first"), In(16, 16)),
    C(L("CenterCrop", 20, 24, data_format="channels_first"), In(3, 32, 32, dtype="uint8")),
]


@pytest.mark.parametrize("layer, inputs, kwargs", CASES)
def test_rule_matches_keras(layer, inputs, kwargs):
    check_case(layer, inputs, kwargs)


# ------------------------------------------------------------------ error cases


def E(layer: L, inputs: list, code: str, keras_fails, *needles, **kwargs):
    """An error case: kdsl must raise CODE with each of NEEDLES in the
    message; KERAS_FAILS is "symbolic" (building raises), "eager" (building
    passes but running on data raises), "build" (the constructor raises),
    or None (kdsl policy only)."""
    return pytest.param(layer, inputs, kwargs, code, keras_fails, needles, id=f"{code}:{layer!r}<-{inputs!r}")


ERRORS = [
    E(L("Conv2D", 8, 3), [In(28, 28)], "KD501", "symbolic", "rank 4", "(None, 28, 28)", "height, width"),
    E(L("Conv1D", 8, 3), [In(5, 28, 28)], "KD501", "symbolic", "rank 3"),
    E(L("Conv2D", 8, 5), [In(4, 4, 3)], "KD502", "symbolic", "empty"),
    E(L("Conv2D", 8, 3, strides=4), [In(2, 9, 3)], "KD502", "symbolic"),
    E(L("Conv1D", 8, 3, dilation_rate=5), [In(10, 2)], "KD502", "symbolic"),
    E(L("Conv2D", 8, 3, data_format="channels_first"), [In(3, 2, 16)], "KD502", "symbolic"),
    E(L("Conv2D", 8, 3, groups=3), [In(8, 8, 4)], "KD505", "build"),
    E(L("Conv2D", 6, 3, groups=4), [In(8, 8, 8)], "KD505", "build"),
    E(L("Conv2D", 8, 3), [In(8, 8, None)], "KD505", "symbolic", "channel"),
    E(L("SeparableConv2D", 8, 5), [In(3, 3, 2)], "KD502", "symbolic"),
    E(L("MaxPooling2D", 3), [In(2, 2, 1)], "KD502", "symbolic"),
    E(L("MaxPooling2D"), [In(8, 8)], "KD501", "symbolic"),
    E(L("GlobalAveragePooling2D"), [In(8, 8)], "KD501", "symbolic"),
    E(L("Cropping2D", ((4, 4), (0, 0))), [In(8, 8, 1)], "KD502", "symbolic"),
    E(L("Cropping1D", (3, 3)), [In(5, 2)], "KD502", "symbolic"),
    E(L("Dense", 4), [In(3, None)], "KD505", "symbolic", "last dimension"),
    E(L("Dense", 4), [In(batch=None)], "KD501", "symbolic"),
    E(L("Reshape", (5, 5)), [In(4, 6)], "KD505", "symbolic", "target_shape"),
    E(L("Reshape", (-1, 5)), [In(4, 6)], "KD505", "symbolic"),
    E(L("Permute", (1, 3)), [In(4, 6)], "KD505", "build"),
    E(L("Permute", (2, 1)), [In(4, 6, 2)], "KD501", "symbolic"),
    E(L("RepeatVector", 3), [In(4, 6)], "KD501", "symbolic"),
    E(L("Embedding", 10, 4), [In(5)], "KD504", None, "integer"),
    E(L("Embedding", 10, 4), [In(5, dtype="float16")], "KD504", None),
    E(L("LSTM", 4), [In(10)], "KD501", "symbolic", "rank 3"),
    E(L("GRU", 4), [In(10, None)], "KD505", "symbolic"),
    E(L("LSTM", 4), [In(10, 3)], "KD500", "eager", "initial_state", initial_state=[In(4)]),
    E(L("LSTM", 4), [In(10, 3)], "KD500", "eager", initial_state=[In(5), In(5)]),
    E(L("LSTM", 4, stateful=True), [In(10, 3)], "KD505", "symbolic", "batch"),
    E(L("ConvLSTM2D", 4, 3), [In(5, None, 8, 3)], "KD505", "symbolic"),
    E(L("TimeDistributed", L("Dense", 3)), [In(4)], "KD501", "symbolic"),
    E(L("SpatialDropout2D", 0.1), [In(4, 4)], "KD501", "symbolic"),
    E(L("BatchNormalization", axis=3), [In(4, 4)], "KD505", "symbolic", "out of bounds"),
    E(L("GroupNormalization", groups=5), [In(4, 8)], "KD505", "symbolic", "groups=5"),
    E(L("LayerNormalization"), [In(4, None)], "KD505", "symbolic"),
    E(L("Add"), [[In(16, 16, 64), In(15, 15, 64)]], "KD500", "symbolic", "(None, 16, 16, 64)", "(None, 15, 15, 64)"),
    E(L("Subtract"), [[In(8), In(8), In(8)]], "KD500", "symbolic"),
    E(L("Multiply"), [[In(8, batch=2), In(8, batch=3)]], "KD500", "symbolic"),
    E(L("Concatenate"), [[In(16, 16, 64), In(15, 15, 32)]], "KD500", "symbolic", "(None, 16, 16, 64)", "(None, 15, 15, 32)", "axis 1"),
    E(L("Concatenate"), [[In(16, 64), In(16, 16, 32)]], "KD500", "symbolic", "ranks differ"),
    E(L("Concatenate", axis=1), [[In(4, 3), In(4, 5)]], "KD500", "symbolic"),
    E(L("Dot", axes=1), [[In(8), In(6)]], "KD500", "symbolic", "8", "6"),
    E(L("Dot", axes=-1), [[In(5, None), In(7, 8)]], "KD500", "symbolic"),
    E(L("MultiHeadAttention", 2, 4), [In(5, 8), In(6, 8)], "KD500", "symbolic", "key", key=In(7, 8)),
    E(L("MultiHeadAttention", 2, 4, attention_axes=2), [In(5, 6, 8), In(4, 6, 8)], "KD500", "eager", "axis 1"),
    E(L("MultiHeadAttention", 2, 4), [In(5, None), In(6, 8)], "KD505", "symbolic"),
    # Different ranks build in Keras (it compares only value and key) but fail on the first batch.
    E(L("MultiHeadAttention", 2, 4), [In(5, 8), In(3, 6, 8)], "KD500", "eager", "same rank"),
    E(L("MultiHeadAttention", 2, 4), [In(4, 5, 8), In(6, 8)], "KD500", "eager", "same rank"),
    E(L("MultiHeadAttention", 2, 4, attention_axes=(1,)), [In(3, 5, 8), In(6, 8)], "KD500", "eager", "same rank"),
    E(L("Attention"), [[In(5, 8), In(6, 4)]], "KD500", "eager", "last dimension"),
    E(L("Attention"), [[In(5, 8), In(6, 8), In(7, 8)]], "KD500", "eager"),
    E(L("PReLU"), [In(None, 3)], "KD505", "symbolic", "alpha", "(None, None, 3)"),
    E(L("Resizing", 8, 8), [In(16)], "KD501", "eager", "rank 4"),
    E(L("Normalization"), [In(None)], "KD505", "symbolic"),
    E(L("EinsumDense", "abc,cd->abd", output_shape=(6, 8)), [In(5, 16)], "KD505", "symbolic", "shared dimension"),
    E(L("EinsumDense", "abc,cde->abde", output_shape=(7, 4, 8), bias_axes="be"), [In(5, 16)], "KD505", "symbolic"),
    E(L("EinsumDense", "abc,cdx->abd", output_shape=(None, 8)), [In(5, 16)], "KD505", "symbolic", "Weight dimension"),
    E(L("EinsumDense", "ab,bc->ac", output_shape=8, bias_axes="z"), [In(5)], "KD505", "symbolic"),
    E(L("EinsumDense", "abc,cd->abd", output_shape=(None, 8)), [In(5, None)], "KD505", "symbolic", "kernel"),
    E(L("Bidirectional", L("LSTM", 4), backward_layer=L("LSTM", 6, go_backwards=True), merge_mode="sum"), [In(5, 3)], "KD505", "eager", "(None, 4)", "(None, 6)"),
    E(L("Bidirectional", L("LSTM", 4, return_sequences=True), backward_layer=L("LSTM", 4, go_backwards=True)), [In(5, 3)], "KD505", "build", "return_sequences"),
]


def keras_failure(layer: L, inputs: list, kwargs: dict, how: str) -> None:
    """Assert that Keras fails on this case in the way HOW says."""
    if how == "build":
        with pytest.raises(Exception):
            layer.keras()
        return
    if how == "symbolic":
        with pytest.raises(Exception):
            run_keras(layer, inputs, kwargs)
        return
    k = layer.keras()
    with pytest.raises(Exception):
        k(*tree_map(In.data, inputs), **tree_map(In.data, kwargs))


@pytest.mark.parametrize("layer, inputs, kwargs, code, keras_fails, needles", ERRORS)
def test_rule_errors(layer, inputs, kwargs, code, keras_fails, needles):
    with pytest.raises(RuleError) as info:
        run_kdsl(layer, inputs, kwargs)
    err = info.value
    assert err.code == code, f"{err.code}: {err.message}"
    for needle in needles:
        assert needle in err.message, f"{needle!r} not in {err.message!r}"
    if keras_fails:
        keras_failure(layer, inputs, kwargs, keras_fails)


def test_elementwise_merge_hint():
    """Add/Subtract/... mismatches point at the usual residual-block fixes."""
    with pytest.raises(RuleError) as info:
        run_kdsl(L("Add"), [[In(16, 16, 64), In(8, 8, 64)]], {})
    assert 'padding="same"' in info.value.hint and "1x1 convolution" in info.value.hint


# ------------------------------------------------------------------ Inception


def _kd_apply(layer: L, *inputs):
    return run_kdsl_types(layer, list(inputs)).outputs


def run_kdsl_types(layer: L, inputs: list):
    """The kdsl Result of LAYER on TensorTypes (not In descriptions)."""
    return lookup(layer.cls)(LayerCall(layer.spec(), tuple(inputs), {}))


@pytest.mark.parametrize("strides, small", [(1, 30), (2, 15)])
def test_inception_valid_padding_concatenate(strides, small):
    """Four Inception branches where the 3x3 branch forgot padding="same":
    kdsl names both full shapes (and hints at padding="same"); Keras fails."""
    big = 32 // strides
    branches = [
        L("Conv2D", 64, 1, strides=strides),
        L("Conv2D", 32, 3, strides=strides),  # the culprit: padding="valid"
        L("Conv2D", 16, 5, strides=strides, padding="same"),
        L("MaxPooling2D", 3, strides=strides, padding="same"),
    ]
    x = TensorType((None, 32, 32, 48))
    outs = [_kd_apply(b, x) for b in branches]
    assert outs[1].shape == (None, small, small, 32)
    with pytest.raises(RuleError) as info:
        run_kdsl_types(L("Concatenate"), [outs])
    err = info.value
    assert err.code == "KD500"
    assert f"(None, {big}, {big}, 64)" in err.message
    assert f"(None, {small}, {small}, 32)" in err.message
    assert 'padding="same"' in err.hint
    kx = keras.Input((32, 32, 48))
    with pytest.raises(ValueError):
        keras.layers.Concatenate()([b.keras()(kx) for b in branches])


# ------------------------------------------------------------------ kd arithmetic


OPERANDS = {
    "f32": In(4, 8),
    "f16": In(4, 8, dtype="float16"),
    "bf16": In(1, 8, dtype="bfloat16"),
    "i32": In(4, 8, dtype="int32"),
    "u8": In(4, 1, dtype="uint8"),
    "vec": In(8),
    "none": In(None, 8),
    "col": In(4, 1),
}
SCALARS = [2, 2.5]


def _operand(name_or_number, kind):
    if not isinstance(name_or_number, str):
        return name_or_number
    t = OPERANDS[name_or_number]
    return t.keras() if kind == "keras" else t.kd()


ELEMENTWISE = (
    [(a, op, b) for a in OPERANDS for b in ("f32", "none", "col") for op in "+-*/"]
    + [(a, op, s) for a in OPERANDS for s in SCALARS for op in "+-*/"]
    + [(s, op, a) for a in ("f32", "i32", "f16") for s in SCALARS for op in "-/"]
    + [(a, "+", b) for a in ("f16", "bf16", "i32", "u8") for b in ("f16", "bf16", "i32", "u8")]
)


@pytest.mark.parametrize("a, op, b", ELEMENTWISE)
def test_elementwise_matches_keras_ops(a, op, b):
    import operator

    fn = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv}[op]
    ka, kb = _operand(a, "keras"), _operand(b, "keras")
    if not any(isinstance(v, keras.KerasTensor) for v in (ka, kb)):
        pytest.skip("two constants")
    try:
        expected = fn(ka, kb)
    except ValueError:
        with pytest.raises(RuleError) as info:
            elementwise(op, _operand(a, "kd"), _operand(b, "kd"))
        assert info.value.code == "KD500"
        return
    ours = elementwise(op, _operand(a, "kd"), _operand(b, "kd"))
    assert ours.shape == tuple(expected.shape)
    assert ours.dtype == expected.dtype


def test_elementwise_mismatch():
    with pytest.raises(RuleError) as info:
        elementwise("+", TensorType((None, 16, 16, 64)), TensorType((None, 8, 8, 64)))
    assert info.value.code == "KD500" and "(None, 16, 16, 64)" in info.value.message


# ------------------------------------------------------------------ properties

PROPERTY = settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))


def both_agree(layer: L, inputs: list, kwargs: dict | None = None) -> None:
    """Keras and kdsl agree: both fail (kdsl with a RuleError), or both
    succeed with the same outputs and weights."""
    kwargs = kwargs or {}
    try:
        klayer, kout = run_keras(layer, inputs, kwargs)
    except (ValueError, TypeError, IndexError):
        with pytest.raises(RuleError):
            run_kdsl(layer, inputs, kwargs)
        return
    result = run_kdsl(layer, inputs, kwargs)
    compare_outputs(kout, result.outputs)
    compare_weights(klayer, result)


dims = st.one_of(st.none(), st.integers(1, 12))


@st.composite
def conv_cases(draw):
    """A random convolution of any kind and an input for it."""
    kind = draw(st.sampled_from(["Conv", "SeparableConv", "DepthwiseConv", "ConvTranspose"]))
    n = draw(st.integers(1, 2 if kind in ("SeparableConv", "DepthwiseConv") else 3))
    cls = {"Conv": f"Conv{n}D", "SeparableConv": f"SeparableConv{n}D", "DepthwiseConv": f"DepthwiseConv{n}D", "ConvTranspose": f"Conv{n}DTranspose"}[kind]
    kernel = tuple(draw(st.integers(1, 4)) for _ in range(n))
    strided = draw(st.booleans())
    strides = tuple(draw(st.integers(1, 3)) for _ in range(n)) if strided else (1,) * n
    dilation = (1,) * n if strided else tuple(draw(st.integers(1, 3)) for _ in range(n))
    paddings = ["valid", "same"] + (["causal"] if cls == "Conv1D" else [])
    kwargs = {"strides": strides, "dilation_rate": dilation, "padding": draw(st.sampled_from(paddings))}
    fmt = draw(st.sampled_from(["channels_last", "channels_first"]))
    kwargs["data_format"] = fmt
    channels = draw(st.integers(1, 6))
    if kind == "Conv":
        groups = draw(st.sampled_from([g for g in (1, 2, 3) if channels % g == 0]))
        kwargs["groups"] = groups
        args = (groups * draw(st.integers(1, 3)), kernel)
    elif kind == "DepthwiseConv":
        kwargs["depth_multiplier"] = draw(st.integers(1, 3))
        args = (kernel,)
    else:
        args = (draw(st.integers(1, 5)), kernel)
        if kind == "SeparableConv":
            kwargs["depth_multiplier"] = draw(st.integers(1, 2))
        elif strided and draw(st.booleans()):
            kwargs["output_padding"] = tuple(draw(st.integers(0, s - 1)) for s in strides)
    kwargs["use_bias"] = draw(st.booleans())
    spatial = [draw(dims) for _ in range(n)]
    shape = (*spatial, channels) if fmt == "channels_last" else (channels, *spatial)
    return L(cls, *args, **kwargs), [In(*shape)]


@PROPERTY
@given(conv_cases())
def test_property_conv(case):
    both_agree(*case)


@st.composite
def pooling_cases(draw):
    """A random local or global pooling and an input for it."""
    n = draw(st.integers(1, 3))
    fmt = draw(st.sampled_from(["channels_last", "channels_first"]))
    spatial = [draw(dims) for _ in range(n)]
    channels = draw(st.integers(1, 4))
    shape = (*spatial, channels) if fmt == "channels_last" else (channels, *spatial)
    if draw(st.booleans()):
        cls = draw(st.sampled_from([f"GlobalMaxPooling{n}D", f"GlobalAveragePooling{n}D"]))
        return L(cls, data_format=fmt, keepdims=draw(st.booleans())), [In(*shape)]
    cls = draw(st.sampled_from([f"MaxPooling{n}D", f"AveragePooling{n}D"]))
    pool = tuple(draw(st.integers(1, 4)) for _ in range(n))
    strides = draw(st.one_of(st.none(), st.tuples(*[st.integers(1, 3)] * n)))
    padding = draw(st.sampled_from(["valid", "same"]))
    return L(cls, pool, strides=strides, padding=padding, data_format=fmt), [In(*shape)]


@PROPERTY
@given(pooling_cases())
def test_property_pooling(case):
    both_agree(*case)


@PROPERTY
@given(
    units=st.integers(1, 16),
    use_bias=st.booleans(),
    lead=st.lists(dims, max_size=2),
    features=st.integers(1, 16),
    dtype=st.sampled_from([None, "float16", "mixed_float16", "mixed_bfloat16"]),
)
def test_property_dense(units, use_bias, lead, features, dtype):
    both_agree(L("Dense", units, use_bias=use_bias, dtype=dtype), [In(*lead, features)])


@st.composite
def rnn_cases(draw):
    """A random SimpleRNN/GRU/LSTM, maybe wrapped in Bidirectional."""
    cls = draw(st.sampled_from(["SimpleRNN", "GRU", "LSTM"]))
    kwargs = {
        "return_sequences": draw(st.booleans()),
        "return_state": draw(st.booleans()),
        "use_bias": draw(st.booleans()),
    }
    if cls == "GRU":
        kwargs["reset_after"] = draw(st.booleans())
    layer = L(cls, draw(st.integers(1, 8)), **kwargs)
    if draw(st.booleans()):
        layer = L("Bidirectional", layer, merge_mode=draw(st.sampled_from(["concat", "sum", "mul", "ave", None])))
    return layer, [In(draw(dims), draw(st.integers(1, 6)))]


@PROPERTY
@given(rnn_cases())
def test_property_rnn(case):
    both_agree(*case)


@st.composite
def merge_cases(draw):
    """A random merge layer on 2 or 3 inputs of small, often clashing shapes."""
    cls = draw(st.sampled_from(["Add", "Subtract", "Multiply", "Maximum", "Concatenate", "Dot"]))
    count = 2 if cls in ("Subtract", "Dot") else draw(st.integers(2, 3))
    rank = draw(st.integers(1, 3))
    small = st.sampled_from([None, 1, 2, 3])
    shapes = [
        tuple(draw(small) for _ in range(rank if cls == "Concatenate" or draw(st.booleans()) else draw(st.integers(1, 3))))
        for _ in range(count)
    ]
    kwargs = {}
    if cls == "Concatenate":
        kwargs["axis"] = draw(st.integers(-rank, rank))
    if cls == "Dot":
        kwargs["axes"] = draw(st.one_of(st.integers(1, 2), st.integers(-1, -1), st.tuples(st.integers(1, 2), st.integers(1, 2))))
    return L(cls, **kwargs), [[In(*s) for s in shapes]]


@PROPERTY
@given(merge_cases())
def test_property_merge(case):
    both_agree(*case)


# ------------------------------------------------------------------ plain unit tests


def test_compute_dtype_names():
    from dsl.shapes.util import compute_dtype

    assert compute_dtype({"dtype": None}) == "float32"
    assert compute_dtype({"dtype": "mixed_float16"}) == "float16"
    assert compute_dtype({"dtype": "mixed_bfloat16"}) == "bfloat16"
    assert compute_dtype({"dtype": "float64"}) == "float64"
    assert compute_dtype({}) == "float32"


def test_unknown_rank_propagates_or_is_rejected():
    unknown = TensorType(None)
    relu = lookup("ReLU")(LayerCall(L("ReLU").spec(), (unknown,)))
    assert relu.outputs == TensorType(None, "float32")
    with pytest.raises(RuleError) as info:
        lookup("Dense")(LayerCall(L("Dense", 3).spec(), (unknown,)))
    assert info.value.code == "KD501"


def test_wrapper_of_a_layer_without_rule_raises_key_error():
    """infer() raises KeyError for an inner class without a rule, so the
    evaluator can report KD902 for the wrapper."""
    spec = LayerSpec("TimeDistributed", {"layer": LayerSpec("NoSuchLayer", {}), "trainable": True})
    with pytest.raises(KeyError):
        lookup("TimeDistributed")(LayerCall(spec, (TensorType((None, 4, 3)),)))
