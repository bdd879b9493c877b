"""Differential tests of the shape rules added for the last 47 catalog
classes (image augmentation, categorical and text preprocessing, audio,
adaptive pooling, GroupQueryAttention, ReversibleEmbedding,
SpectralNormalization), and the test that every catalog class has a rule or
a documented refusal.

Each case builds the real Keras layer on `keras.Input` tensors and the kdsl
rule on the same types, and compares outputs (structure, shapes, dtypes),
weights and count_params (see test_shape_rules.check_case).
"""

from __future__ import annotations

import pytest

keras = pytest.importorskip("keras")

from test_shape_rules import C, E, In, L, check_case, keras_failure, run_kdsl  # noqa: E402

from dsl import catalog  # noqa: E402
from dsl.shapes import RuleError, lookup  # noqa: E402
from dsl.shapes.refused import REFUSED  # noqa: E402

# ------------------------------------------------------------------ coverage


def test_every_catalog_class_has_a_rule_or_a_refusal():
    """A class added by a new Keras version fails here until it gets a
    shape rule or a refusal with its reason."""
    names = catalog.load().layer_names(aliases=False)
    missing = sorted(n for n in names if lookup(n) is None and n not in REFUSED)
    assert not missing, f"catalog classes with neither a shape rule nor a refusal: {missing}"


def test_no_class_is_both_ruled_and_refused():
    both = sorted(n for n in REFUSED if lookup(n) is not None)
    assert not both, f"classes with a rule that kd refuses anyway: {both}"


def test_refusals_name_catalog_classes_and_give_reasons():
    names = set(catalog.load().layer_names(aliases=False))
    for cls, reason in REFUSED.items():
        assert cls in names, f"{cls} is refused but not in the catalog"
        assert isinstance(reason, str) and len(reason) > 20, f"{cls}: no real reason given"


# ------------------------------------------------------------------ the table

IMG = In(8, 8, 3)
IMG_U8 = In(8, 8, 3, dtype="uint8")
IMG_CF = In(3, 8, 8)
# Factor arguments the classes require.
FACTOR = {
    "RandomBrightness": (0.2,), "RandomContrast": (0.2,), "RandomRotation": (0.2,),
    "RandomTranslation": (0.1, 0.1), "RandomZoom": (0.2,), "RandomColorDegeneration": (0.2,),
    "RandomHue": (0.2,), "RandomSaturation": (0.2,), "RandomSharpness": (0.2,),
    "RandomPosterization": (4,), "RandomShear": (0.1,), "MaxNumBoundingBoxes": (5,),
}
IMAGE_LAYERS = [
    "AugMix", "AutoContrast", "ContrastLimitedAdaptiveHistogramEqualization", "CutMix",
    "Equalization", "MixUp", "RandAugment", "RandomBrightness", "RandomColorDegeneration",
    "RandomColorJitter", "RandomContrast", "RandomElasticTransform", "RandomErasing",
    "RandomFlip", "RandomGaussianBlur", "RandomGrayscale", "RandomHue", "RandomInvert",
    "RandomPerspective", "RandomPosterization", "RandomRotation", "RandomSaturation",
    "RandomSharpness", "RandomShear", "RandomTranslation", "RandomZoom", "Solarization",
    "MaxNumBoundingBoxes",
]


def image_cases():
    """Each image layer on float32, uint8, float64 and unknown-size images,
    channels_first, a rank-3 tensor, and with dtype="float16"."""
    cases = []
    for cls in IMAGE_LAYERS:
        a = FACTOR.get(cls, ())
        cases += [
            C(L(cls, *a), IMG),
            C(L(cls, *a), IMG_U8),
            C(L(cls, *a), In(None, None, 3, dtype="float64")),
            C(L(cls, *a), In(8, 3)),
            C(L(cls, *a, dtype="float16"), IMG),
            C(L(cls, *a, data_format="channels_first"), IMG_CF),
        ]
    return cases


V = ["a", "b", "c"]
NV = [1, 2, 3]

CASES = image_cases() + [
    C(L("Equalization"), In(8, 8, 3, dtype="int32")),
    C(L("RandomGrayscale", autocast=False), In(8, 8, 3, dtype="float16")),
    C(L("RandomCrop", 4, 5), IMG),
    C(L("RandomCrop", 4, 5), In(None, None, 3, dtype="uint8")),
    C(L("RandomCrop", 4, 5, data_format="channels_first"), IMG_CF),
    C(L("RandomCrop", 10, 12), IMG),
    C(L("RandomCrop", 4, 5), In(8, 3)),
    C(L("Resizing", 4, 5), In(8, 3)),
    C(L("Resizing", 4, 5, data_format="channels_first"), In(3, 8)),
    C(L("CenterCrop", 4, 5), In(8, 3)),
    # categorical
    C(L("CategoryEncoding", 5), In(3, dtype="int32")),
    C(L("CategoryEncoding", 5), In(dtype="int32")),
    C(L("CategoryEncoding", 5, output_mode="one_hot"), In(dtype="int32")),
    C(L("CategoryEncoding", 5, output_mode="one_hot"), In(3, dtype="int32")),
    C(L("CategoryEncoding", 5, output_mode="one_hot"), In(3, 1, dtype="int64")),
    C(L("CategoryEncoding", 5, output_mode="one_hot"), In(None, dtype="int32")),
    C(L("CategoryEncoding", 5, output_mode="count"), In(3, 4, dtype="int64")),
    C(L("CategoryEncoding", 5, output_mode="binary"), In(3, 4, 2, dtype="int64")),
    C(L("CategoryEncoding", 5), In(3)),
    C(L("CategoryEncoding", 5, dtype="int32"), In(3, dtype="int32")),
    C(L("Discretization", bin_boundaries=[0.0, 1.0]), In(3)),
    C(L("Discretization", bin_boundaries=[0.0, 1.0]), In(3, 4, dtype="float16")),
    C(L("Discretization", bin_boundaries=[0.0, 1.0]), In(3, dtype="int32")),
    C(L("Discretization", bin_boundaries=[0.0, 1.0], output_mode="one_hot"), In()),
    C(L("Discretization", bin_boundaries=[0.0, 1.0], output_mode="one_hot"), In(3)),
    C(L("Discretization", bin_boundaries=[0.0, 1.0], output_mode="one_hot"), In(3, 1)),
    C(L("Discretization", bin_boundaries=[0.0, 1.0], output_mode="multi_hot"), In(3)),
    C(L("Discretization", bin_boundaries=[0.0, 1.0], output_mode="multi_hot"), In()),
    C(L("Discretization", bin_boundaries=[0.0, 1.0, 2.0], output_mode="count"), In(3, 4, dtype="float64")),
    C(L("Discretization", num_bins=4), In(3)),
    C(L("Discretization", num_bins=4, output_mode="one_hot"), In(3)),
    C(L("Discretization", bin_boundaries=[0.0], output_mode="multi_hot", dtype="float64"), In(3)),
    C(L("Hashing", 4), In(3, dtype="string")),
    C(L("Hashing", 4), In(3, dtype="int32")),
    C(L("Hashing", 4), In(3)),
    C(L("Hashing", 4, output_mode="one_hot"), In(dtype="string")),
    C(L("Hashing", 4, output_mode="one_hot"), In(3, dtype="string")),
    C(L("Hashing", 4, output_mode="multi_hot"), In(3, dtype="int64")),
    C(L("Hashing", 4, output_mode="count"), In(3, 4, dtype="int64")),
    C(L("Hashing", 4, mask_value="a", salt=7), In(3, dtype="string")),
    C(L("Hashing", 4, dtype="int32"), In(3, dtype="string")),
    C(L("Hashing", 4, output_mode="one_hot", dtype="float64"), In(3, dtype="string")),
    C(L("HashedCrossing", 5), [In(dtype="int64"), In(dtype="string")]),
    C(L("HashedCrossing", 5), [In(1, dtype="int64"), In(1, dtype="int32")]),
    C(L("HashedCrossing", 5, output_mode="one_hot"), [In(dtype="int64"), In(dtype="string")]),
    C(L("HashedCrossing", 5, output_mode="one_hot"), [In(1, dtype="string"), In(1, dtype="string")]),
    C(L("HashedCrossing", 5, dtype="int32"), [In(dtype="int64"), In(dtype="int64")]),
]

for _cls, _dt, _voc, _mask, _oov in (("StringLookup", "string", V, "", "[UNK]"), ("IntegerLookup", "int64", NV, 0, -1)):
    CASES += [
        C(L(_cls), In(3, dtype=_dt)),
        C(L(_cls), In(dtype=_dt)),
        C(L(_cls, vocabulary=_voc), In(2, 3, dtype=_dt)),
        C(L(_cls, vocabulary=_voc, output_mode="one_hot"), In(3, dtype=_dt)),
        C(L(_cls, vocabulary=_voc, output_mode="one_hot"), In(dtype=_dt)),
        C(L(_cls, vocabulary=_voc, output_mode="one_hot"), In(3, 1, dtype=_dt)),
        C(L(_cls, vocabulary=_voc, output_mode="multi_hot"), In(3, dtype=_dt)),
        C(L(_cls, vocabulary=_voc, output_mode="multi_hot"), In(dtype=_dt)),
        C(L(_cls, vocabulary=_voc, output_mode="count"), In(2, 3, dtype=_dt)),
        C(L(_cls, vocabulary=_voc, output_mode="tf_idf", idf_weights=[1.0, 2.0, 3.0]), In(3, dtype=_dt)),
        C(L(_cls, output_mode="one_hot"), In(3, dtype=_dt)),
        C(L(_cls, max_tokens=10, output_mode="multi_hot"), In(3, dtype=_dt)),
        C(L(_cls, vocabulary=_voc, max_tokens=10, pad_to_max_tokens=True, output_mode="multi_hot"), In(3, dtype=_dt)),
        C(L(_cls, vocabulary=_voc, invert=True), In(3, dtype="int64")),
        C(L(_cls, vocabulary=_voc, num_oov_indices=2, output_mode="multi_hot"), In(3, dtype=_dt)),
        C(L(_cls, vocabulary=_voc, num_oov_indices=0, output_mode="count"), In(3, dtype=_dt)),
        C(L(_cls, vocabulary=_voc, mask_token=_mask, output_mode="multi_hot"), In(3, dtype=_dt)),
        C(L(_cls, vocabulary=_voc, mask_token=_mask), In(3, dtype=_dt)),
        C(L(_cls, vocabulary=[_mask, _oov, *_voc], mask_token=_mask), In(3, dtype=_dt)),
        C(L(_cls, vocabulary=_voc, dtype="int32"), In(3, dtype=_dt)),
    ]
CASES += [
    C(L("StringLookup", vocabulary=["[UNK]", "a", "b"], output_mode="multi_hot"), In(3, dtype="string")),
    C(L("IntegerLookup", vocabulary=[-1, 5, 6], output_mode="count"), In(3, dtype="int64")),
    C(L("IntegerLookup", vocabulary=NV), In(3, dtype="int32")),
    C(L("TextVectorization"), In(dtype="string")),
    C(L("TextVectorization", vocabulary=V), In(3, dtype="string")),
    C(L("TextVectorization", output_sequence_length=7), In(1, dtype="string")),
    C(L("TextVectorization", vocabulary=V, output_sequence_length=7), In(dtype="string")),
    C(L("TextVectorization", vocabulary=V, output_mode="multi_hot"), In(dtype="string")),
    C(L("TextVectorization", vocabulary=V, output_mode="multi_hot"), In(3, dtype="string")),
    C(L("TextVectorization", vocabulary=V, output_mode="count", split=None), In(dtype="string")),
    C(L("TextVectorization", vocabulary=V, output_mode="count", split=None), In(1, dtype="string")),
    C(L("TextVectorization", vocabulary=V, output_mode="one_hot", split=None), In(1, dtype="string")),
    C(L("TextVectorization", vocabulary=V, output_mode="tf_idf", idf_weights=[1.0, 1.0, 1.0]), In(dtype="string")),
    C(L("TextVectorization", output_mode="multi_hot"), In(dtype="string")),
    C(L("TextVectorization", max_tokens=10, output_mode="multi_hot", pad_to_max_tokens=True), In(1, dtype="string")),
    C(L("TextVectorization", vocabulary=["[UNK]", "a"], output_mode="multi_hot", ngrams=2), In(dtype="string")),
    C(L("TextVectorization", vocabulary=V, ragged=True), In(dtype="string")),
    # audio (STFTSpectrogram's default window="hann" needs scipy, which the tests do not
    # install; the window changes the kernels' values, not their shapes)
    C(L("MelSpectrogram"), In(16000)),
    C(L("MelSpectrogram"), In(None)),
    C(L("MelSpectrogram"), In()),
    C(L("MelSpectrogram", fft_length=512, sequence_stride=256, sequence_length=400, num_mel_bins=64), In(16000)),
    C(L("MelSpectrogram"), In(16000, dtype="int32")),
    C(L("MelSpectrogram", dtype="float64"), In(16000, dtype="float16")),
    C(L("STFTSpectrogram", window=None), In(1000, 1)),
    C(L("STFTSpectrogram", window=None, mode="stft"), In(None, 2)),
    C(L("STFTSpectrogram", window=None, mode="real", frame_length=64, frame_step=16, fft_length=128), In(1000, 3)),
    C(L("STFTSpectrogram", window=None, mode="imag", expand_dims=True), In(1000, 2)),
    C(L("STFTSpectrogram", window=None, mode="magnitude", data_format="channels_first"), In(2, 1000)),
    C(L("STFTSpectrogram", window=None, mode="angle", expand_dims=True, data_format="channels_first"), In(2, 1000)),
    C(L("STFTSpectrogram", window=None, mode="psd", padding="same", frame_length=200, frame_step=100), In(1000, 1)),
    C(L("STFTSpectrogram", window=None, padding="same"), In(100, 1)),
    C(L("STFTSpectrogram", window=None, trainable=False), In(1000, 1, dtype="float16")),
    C(L("STFTSpectrogram", window=None, dtype="float64"), In(1000, 1)),
    # adaptive pooling
    C(L("AdaptiveAveragePooling1D", 4), In(10, 3)),
    C(L("AdaptiveMaxPooling1D", 4), In(None, 3)),
    C(L("AdaptiveMaxPooling1D", (20,)), In(10, 3, dtype="int32")),
    C(L("AdaptiveAveragePooling1D", 4, data_format="channels_first"), In(3, 10)),
    C(L("AdaptiveAveragePooling2D", 4), In(10, 10, 3)),
    C(L("AdaptiveAveragePooling2D", 4), In(10, 3)),  # Keras's static shape; the op gives (None, 4, 3)
    C(L("AdaptiveMaxPooling1D", 4, data_format="channels_first"), In(3, 10, 2)),
    C(L("AdaptiveMaxPooling2D", (2, 3)), In(None, None, 3, dtype="float16")),
    C(L("AdaptiveMaxPooling2D", 4, data_format="channels_first"), In(3, 10, 10)),
    C(L("AdaptiveAveragePooling3D", 2), In(4, 4, 4, 3)),
    C(L("AdaptiveMaxPooling3D", (1, 2, 3), data_format="channels_first", dtype="float64"), In(3, 4, 4, 4)),
    # GroupQueryAttention
    C(L("GroupQueryAttention", 8, 4, 2), In(5, 16), In(7, 16)),
    C(L("GroupQueryAttention", 8, 4, 2, use_bias=False, use_gate=True), In(5, 16), In(7, 16), In(7, 12)),
    C(L("GroupQueryAttention", 8, 4, 2), In(5, 16), In(7, 16), return_attention_scores=True),
    C(L("GroupQueryAttention", 8, 4, 4), In(5, 16), In(7, 16), key=In(7, 4), return_attention_scores=True),
    C(L("GroupQueryAttention", 8, 4, 2), In(5, 3, 16), In(7, 3, 16)),
    C(L("GroupQueryAttention", 4, 2, 1, use_gate=True), In(None, 8), In(None, 8)),
    C(L("GroupQueryAttention", 4, 2, 1, dtype="mixed_float16"), In(5, 8), In(6, 8)),
    # ReversibleEmbedding
    C(L("ReversibleEmbedding", 100, 8), In(5, dtype="int32")),
    C(L("ReversibleEmbedding", 100, 8, tie_weights=False), In(5, dtype="int64")),
    C(L("ReversibleEmbedding", 100, 8, tie_weights=False), In(5, 8), reverse=True),
    C(L("ReversibleEmbedding", 100, 8), In(5, 8, dtype="float16"), reverse=True),
    C(L("ReversibleEmbedding", 100, 8), In(5)),
    C(L("ReversibleEmbedding", 100, 8, lora_rank=2), In(5, dtype="int32")),
    C(L("ReversibleEmbedding", 100, 8, dtype="mixed_float16"), In(5, dtype="uint8")),
    # SpectralNormalization
    C(L("SpectralNormalization", L("Dense", 4)), In(6)),
    C(L("SpectralNormalization", L("Dense", 4)), In(5, 6, dtype="float64")),
    C(L("SpectralNormalization", L("Dense", 4, dtype="float16")), In(6)),
    C(L("SpectralNormalization", L("Dense", 4), dtype="float16"), In(6)),
    C(L("SpectralNormalization", L("Dense", 4, lora_rank=2)), In(6)),
    C(L("SpectralNormalization", L("Dense", 4), trainable=False), In(6)),
    C(L("SpectralNormalization", L("Dense", 4, trainable=False)), In(6)),
    C(L("SpectralNormalization", L("Conv2D", 4, 3), power_iterations=2), In(8, 8, 3)),
    C(L("SpectralNormalization", L("Conv1D", 4, 3, data_format="channels_first")), In(3, 8)),
    C(L("SpectralNormalization", L("Embedding", 10, 4)), In(5, dtype="int32")),
    C(L("SpectralNormalization", L("Embedding", 10, 4, lora_rank=2)), In(5, dtype="int32")),
    C(L("SpectralNormalization", L("DepthwiseConv2D", 3)), In(8, 8, 3)),
    C(L("SpectralNormalization", L("Conv2DTranspose", 2, 3)), In(8, 8, 3)),
    C(L("SpectralNormalization", L("EinsumDense", "ab,bc->ac", 4)), In(6)),
    C(L("SpectralNormalization", L("EinsumDense", "abc,cde->abde", (None, 2, 4), bias_axes="de")), In(5, 6)),
]


@pytest.mark.parametrize("layer, inputs, kwargs", CASES)
def test_rule_matches_keras(layer, inputs, kwargs):
    check_case(layer, inputs, kwargs)


# ------------------------------------------------------------------ error cases

ERRORS = [
    # Keras's image layers take rank 3 (one image) or 4 (a batch) when they run.
    *[E(L(c, *FACTOR.get(c, ())), [In(8)], "KD501", "eager", "rank 4") for c in ("RandomFlip", "RandomZoom", "Solarization", "MixUp")],
    *[E(L(c, *FACTOR.get(c, ())), [In(2, 8, 8, 3)], "KD501", "eager") for c in ("RandomFlip", "RandomRotation", "AutoContrast", "RandomGrayscale")],
    E(L("RandomColorDegeneration", 0.2), [In(8, 8, 1)], "KD505", "symbolic", "3 channels"),
    E(L("RandomHue", 0.2), [In(8, 8, 4)], "KD505", "eager", "3 channels"),
    E(L("RandomSaturation", 0.2, data_format="channels_first"), [In(1, 8, 8)], "KD505", "eager", "3 channels"),
    E(L("RandomCrop", 4, 5), [In(8)], "KD501", "symbolic"),
    E(L("Resizing", 4, 4), [In(2, 8, 8, 3)], "KD501", "eager"),
    E(L("CenterCrop", 4, 4), [In(8)], "KD501", "symbolic"),
    E(L("HashedCrossing", 5), [[In(dtype="int64"), In(dtype="int64"), In(dtype="int64")]], "KD505", "symbolic"),
    E(L("HashedCrossing", 5), [[In(2, dtype="int64"), In(3, dtype="int64")]], "KD500", "symbolic"),
    E(L("HashedCrossing", 5), [[In(2, dtype="int64"), In(2, dtype="int64")]], "KD501", "eager"),
    E(L("HashedCrossing", 5), [[In(), In(dtype="int64")]], "KD504", "eager"),
    E(L("StringLookup", vocabulary=V, max_tokens=3), [In(3, dtype="string")], "KD505", "build", "max_tokens"),
    E(L("StringLookup", vocabulary=["", *V], mask_token=""), [In(3, dtype="string")], "KD505", "build", "mask"),
    E(L("IntegerLookup", vocabulary=[0, 1, 2], mask_token=0), [In(3, dtype="int64")], "KD505", "build", "mask"),
    E(L("IntegerLookup", vocabulary=[1, 2, 1]), [In(3, dtype="int64")], "KD505", "build", "repeats"),
    # the mask only leads the vocabulary in "int" mode
    E(L("StringLookup", vocabulary=["", "[UNK]", *V], mask_token="", output_mode="multi_hot"), [In(3, dtype="string")], "KD505", "build", "mask"),
    E(L("IntegerLookup", vocabulary=[0, -1, *NV], mask_token=0, output_mode="count"), [In(3, dtype="int64")], "KD505", "build", "mask"),
    E(L("STFTSpectrogram", window=None), [In(1000)], "KD501", "symbolic"),
    E(L("STFTSpectrogram", window=None), [In(100, 1)], "KD502", "symbolic"),
    E(L("STFTSpectrogram", window=None), [In(1000, 1, dtype="int32")], "KD504", "eager"),
    E(L("AdaptiveAveragePooling1D", 4), [In(10)], "KD501", "eager"),
    E(L("AdaptiveMaxPooling2D", 4), [In(10)], "KD501", "eager"),
    E(L("ReversibleEmbedding", 100, 8, lora_rank=2, tie_weights=False), [In(5, dtype="int32")], "KD505", "symbolic", "lora_rank"),
    E(L("GroupQueryAttention", 8, 4, 2), [In(5, 16), In(7, 12)], "KD500", "symbolic"),
    E(L("GroupQueryAttention", 8, 4, 2), [In(5, 16), In(7, 16)], "KD500", "symbolic", key=In(6, 16)),
    E(L("GroupQueryAttention", 8, 4, 2), [In(5, None), In(7, None)], "KD505", "symbolic"),
    E(L("GroupQueryAttention", 8, 4, 2), [In(16), In(16)], "KD501", "symbolic"),
    E(L("SpectralNormalization", L("LSTM", 3)), [In(4, 5)], "KD505", "symbolic", "kernel"),
    E(L("SpectralNormalization", L("SeparableConv2D", 4, 3)), [In(8, 8, 3)], "KD505", "symbolic", "kernel"),
    E(L("SpectralNormalization", L("TimeDistributed", L("Dense", 3))), [In(4, 5)], "KD505", "symbolic", "kernel"),
]


@pytest.mark.parametrize("layer, inputs, kwargs, code, keras_fails, needles", ERRORS)
def test_rule_errors(layer, inputs, kwargs, code, keras_fails, needles):
    with pytest.raises(RuleError) as info:
        run_kdsl(layer, inputs, kwargs)
    err = info.value
    assert err.code == code, f"{err.code}: {err.message}"
    for needle in needles:
        assert needle in err.message, f"{needle!r} not in {err.message!r}"
    keras_failure(layer, inputs, kwargs, keras_fails)
