"""Shape rules of Keras's image augmentation layers (keras/src/layers/
preprocessing/image_preprocessing): the random transforms, the colour
operations, RandomCrop and MaxNumBoundingBoxes.

Every one of them is a DataLayer.  Its `compute_output_shape` returns the
input shape (RandomCrop replaces height and width), so the static output
has the layer's compute dtype: integer images come out float32.  Two
classes override `compute_output_spec` to return the (autocast) input
itself and so keep integer dtypes: Equalization and RandomGrayscale.

Keras's static check accepts any rank, but `call` reads a rank-3 tensor as
one image and a rank-4 tensor as a batch and raises on anything else
(`_is_batched`, "Expected image tensor to have rank 3 or 4"): a model
built on another rank fails on its first batch, so kdsl refuses it.  A kd
tensor of rank 3 is (batch, height, width) to kd but one image of height
`batch` to Keras; the same-shape layers give the right shape either way.
"""

from __future__ import annotations

from .. import codes
from .base import LayerCall, Result, RuleError, TensorType, rule
from .util import compute_dtype, converted_dtype, data_format, finish, format_shape, known_rank, single_input

# Layers whose output spec is the input itself (compute_output_spec returns `inputs`).
_KEEP_DTYPE = {"Equalization", "RandomGrayscale"}

# Layers whose call needs three colour channels (RGB <-> HSV conversions):
# RandomColorDegeneration checks it in compute_output_shape, RandomHue and
# RandomSaturation fail in rgb_to_hsv on the first batch.
_RGB_ONLY = {"RandomColorDegeneration", "RandomHue", "RandomSaturation"}

SAME_SHAPE = (
    "AugMix", "AutoContrast", "ContrastLimitedAdaptiveHistogramEqualization", "CutMix",
    "Equalization", "MixUp", "RandAugment", "RandomBrightness", "RandomColorDegeneration",
    "RandomColorJitter", "RandomContrast", "RandomElasticTransform", "RandomErasing",
    "RandomFlip", "RandomGaussianBlur", "RandomGrayscale", "RandomHue", "RandomInvert",
    "RandomPerspective", "RandomPosterization", "RandomRotation", "RandomSaturation",
    "RandomSharpness", "RandomShear", "RandomTranslation", "RandomZoom", "Solarization",
    "MaxNumBoundingBoxes",
)


def image_shape(call: LayerCall, t: TensorType) -> tuple:
    """T's shape when it is rank 3 (one image to Keras) or 4 (a batch); KD501 otherwise."""
    shape = known_rank(call, t)
    if len(shape) not in (3, 4):
        raise RuleError(
            codes.WRONG_RANK,
            f"{call.cls} expects images of rank 4 (batch, height, width, channels), or 3, which "
            f"Keras reads as a single image. Received: {format_shape(shape)}",
        )
    return shape


def _check_rgb(call: LayerCall, shape: tuple) -> None:
    """KD505 when a colour-space layer gets a known channel count other than 3."""
    axis = -1 if data_format(call.args) == "channels_last" else -3
    channels = shape[axis]
    if call.cls in _RGB_ONLY and channels is not None and channels != 3:
        raise RuleError(
            codes.INVALID_SHAPE,
            f"{call.cls} needs RGB images (3 channels on axis {len(shape) + axis}). "
            f"Received: {format_shape(shape)}",
        )


@rule(*SAME_SHAPE)
def same_image_shape(call: LayerCall) -> Result:
    """Images of rank 3 or 4 keep their shape (no weights)."""
    t = single_input(call)
    shape = image_shape(call, t)
    _check_rgb(call, shape)
    dtype = converted_dtype(call.args, t) if call.cls in _KEEP_DTYPE else compute_dtype(call.args)
    return finish(call, TensorType(shape, dtype))


@rule("RandomCrop")
def random_crop(call: LayerCall) -> Result:
    """Height and width (axes -3 and -2, channels_first -2 and -1) replaced,
    as RandomCrop.compute_output_shape; on a rank-3 kd tensor that includes
    the batch axis, as in Keras."""
    shape = list(image_shape(call, single_input(call)))
    h, w = (-3, -2) if data_format(call.args) == "channels_last" else (-2, -1)
    shape[h], shape[w] = call.args["height"], call.args["width"]
    return finish(call, TensorType(tuple(shape), compute_dtype(call.args)))
