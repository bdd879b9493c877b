"""Cost rules of the layers without a contraction: merges, pooling,
normalization, preprocessing, and the zero-cost ones.  Their per-element
arithmetic is counted in the contraction layers' unit: one per add,
multiply, divide, compare or fused multiply-add on a tensor element;
docs/costs.md gives each formula."""

from __future__ import annotations

from math import prod
from typing import Optional

from ..base import LayerCall, Result
from ..util import broadcast_shapes, channel_axis, data_format, normalize_tuple, spatial_axes
from .registry import cost_rule, known_prod, per_example, times, total, zero_cost

# ------------------------------------------------------------ merges


def _steps(shapes: list) -> Optional[int]:
    """The elements computed when SHAPES (batch first) are combined left to
    right, one binary operation per element of each partial result."""
    if any(s is None for s in shapes):
        return None
    acc, count = tuple(shapes[0][1:]), 0
    for s in shapes[1:]:
        try:
            acc = broadcast_shapes(acc, tuple(s[1:]))
        except ValueError:
            return None
        step = known_prod(acc)
        if step is None:
            return None
        count += step
    return count


@cost_rule("Add", "Subtract", "Multiply", "Maximum", "Minimum")
def binary_merge(call: LayerCall, result: Result) -> Optional[int]:
    """One add (subtract, multiply, compare) per element of each of the k - 1
    partial results: (k - 1) * output elements when the shapes agree."""
    return _steps([t.shape for t in call.inputs[0]])


@cost_rule("Average")
def average(call: LayerCall, result: Result) -> Optional[int]:
    """The k - 1 adds of Add, plus one multiply by 1/k per output element."""
    return total(_steps([t.shape for t in call.inputs[0]]), per_example(result.outputs.shape))


# ------------------------------------------------------------ pooling

_POOL = {f"{name}{n}D": n for n in (1, 2, 3) for name in ("MaxPooling", "MaxPool", "AveragePooling", "AvgPool")}
_GLOBAL = {
    f"{name}{n}D": n
    for n in (1, 2, 3)
    for name in ("GlobalMaxPooling", "GlobalMaxPool", "GlobalAveragePooling", "GlobalAvgPool")
}


def _is_average(cls: str) -> bool:
    return "Average" in cls or "Avg" in cls


@cost_rule(*_POOL)
def pooling(call: LayerCall, result: Result) -> Optional[int]:
    """output elements * prod(pool_size): one compare or accumulate per window
    element, padded positions included (as convolutions count them); average
    pooling adds one divide per output element."""
    pool = normalize_tuple(call.args.get("pool_size", 2), _POOL[call.cls], "pool_size")
    out = per_example(result.outputs.shape)
    return times(out, prod(pool) + (1 if _is_average(call.cls) else 0))


@cost_rule(*_GLOBAL)
def global_pooling(call: LayerCall, result: Result) -> Optional[int]:
    """input elements (one per window element, the window being the whole
    spatial extent); the average adds one divide per channel."""
    x = call.inputs[0].shape
    macs = per_example(x)
    if _is_average(call.cls):
        fmt = data_format(call.args)
        macs = total(macs, x[channel_axis(len(x), fmt)])
    return macs


# ------------------------------------------------------------ normalization


def _elements(call: LayerCall) -> Optional[int]:
    return per_example(call.inputs[0].shape)


@cost_rule("BatchNormalization")
def batch_normalization(call: LayerCall, result: Result) -> Optional[int]:
    """1 per element: at inference the moving statistics, gamma and beta fold
    into one multiply-add per channel."""
    return _elements(call)


def _affine(call: LayerCall) -> int:
    """1 when the layer applies gamma or beta after normalizing."""
    return int(bool(call.args.get("scale", True) or call.args.get("center", True)))


@cost_rule("LayerNormalization")
def layer_normalization(call: LayerCall, result: Result) -> Optional[int]:
    """Per element: 1 for the mean, 1 for the variance (a sum of squares),
    1 to normalize ((x - mean) * inv as one multiply-add), and 1 for the
    affine gamma/beta step when scale or center.  The deprecated
    rms_scaling=True always builds gamma (and divides by the variance's
    root, the same count): 4."""
    affine = 1 if call.args.get("rms_scaling", False) else _affine(call)
    return times(_elements(call), 3 + affine)


@cost_rule("GroupNormalization")
def group_normalization(call: LayerCall, result: Result) -> Optional[int]:
    """As LayerNormalization, the statistics taken per group: 3 per element,
    plus 1 when scale or center."""
    return times(_elements(call), 3 + _affine(call))


@cost_rule("RMSNormalization")
def rms_normalization(call: LayerCall, result: Result) -> Optional[int]:
    """Per element: 1 for the mean of squares, 1 to normalize, 1 for scale."""
    return times(_elements(call), 3)


@cost_rule("UnitNormalization")
def unit_normalization(call: LayerCall, result: Result) -> Optional[int]:
    """Per element: 1 for the sum of squares, 1 to divide by the norm."""
    return times(_elements(call), 2)


# ------------------------------------------------------------ preprocessing


@cost_rule("Rescaling", "Normalization")
def affine_constant(call: LayerCall, result: Result) -> Optional[int]:
    """1 per element: x * scale + offset (Normalization: (x - mean) / std
    folded into one multiply-add with constants)."""
    return _elements(call)


# Per output element, the taps an interpolation reads, each a multiply-add
# (fvcore: 4 for bilinear); nearest only copies.
_TAPS = {"nearest": 0, "bilinear": 4, "bicubic": 16}


def _interpolation(method: str, result: Result) -> Optional[int]:
    """The MACs of resizing to RESULT's output with METHOD; None when kdsl
    does not count METHOD."""
    taps = _TAPS.get(str(method).lower())
    return None if taps is None else times(per_example(result.outputs.shape), taps)


@cost_rule("Resizing")
def resizing(call: LayerCall, result: Result) -> Optional[int]:
    """Output elements * taps: nearest 0, bilinear 4, bicubic 16; others unknown."""
    return _interpolation(call.args.get("interpolation", "bilinear"), result)


@cost_rule("UpSampling1D", "UpSampling2D", "UpSampling3D")
def up_sampling(call: LayerCall, result: Result) -> Optional[int]:
    """As Resizing: nearest (the default, and the only mode of 1D and 3D)
    repeats elements, 0."""
    return _interpolation(call.args.get("interpolation", "nearest"), result)


@cost_rule("CenterCrop")
def center_crop(call: LayerCall, result: Result) -> Optional[int]:
    """0 when it only crops; when the input is smaller than the target on
    an axis Keras resizes it (smart_resize, bilinear): 4 per output element."""
    x = call.inputs[0].shape
    fmt = data_format(call.args)
    h, w = (x[a] for a in spatial_axes(len(x), fmt))
    if h is None or w is None:
        return None
    if h >= call.args["height"] and w >= call.args["width"]:
        return 0
    return _interpolation("bilinear", result)


_ADAPTIVE = {f"Adaptive{kind}Pooling{n}D": kind for n in (1, 2, 3) for kind in ("Average", "Max")}


@cost_rule(*_ADAPTIVE)
def adaptive_pooling(call: LayerCall, result: Result) -> Optional[int]:
    """input elements (each accumulated or compared once into its bin), plus
    one divide per output element for average pooling."""
    inputs = per_example(call.inputs[0].shape)
    if _ADAPTIVE[call.cls] == "Max":
        return inputs
    return total(inputs, per_example(result.outputs.shape))


# ------------------------------------------------------------ zero cost

# Activation functions cost 0 (as in fvcore), standalone or inside a layer.
zero_cost("Activation", "ReLU", "LeakyReLU", "ELU", "Softmax", "PReLU")
# Identities at inference.
zero_cost(
    "Identity", "Masking", "ActivityRegularization", "Dropout", "GaussianNoise", "GaussianDropout",
    "AlphaDropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D",
)
# Data movement.
zero_cost(
    "Flatten", "Reshape", "Permute", "RepeatVector", "Concatenate",
    "ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D", "Cropping1D", "Cropping2D", "Cropping3D",
)
# A table lookup.
zero_cost("Embedding")
# Augmentations are identities at inference (they act only when training).
zero_cost(
    "AugMix", "CutMix", "MixUp", "RandAugment", "RandomBrightness", "RandomColorDegeneration", "RandomColorJitter",
    "RandomContrast", "RandomElasticTransform", "RandomErasing", "RandomFlip", "RandomGaussianBlur",
    "RandomGrayscale", "RandomHue", "RandomInvert", "RandomPerspective", "RandomPosterization", "RandomRotation",
    "RandomSaturation", "RandomSharpness", "RandomShear", "RandomTranslation", "RandomZoom",
)
# Lookups, hashes and encodings of indices: no multiply-accumulate.
zero_cost("CategoryEncoding", "Hashing", "HashedCrossing", "IntegerLookup", "StringLookup", "TextVectorization",
          "MaxNumBoundingBoxes")
