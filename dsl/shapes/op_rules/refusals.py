"""Why kdsl has no rule for the other `keras.ops` functions.

Every public function of keras.ops has either a rule (see the family
modules) or an entry here; tests/test_ops_catalog.py fails when a Keras
version adds an op that has neither, and the ops catalog records the reason
(the checker reports "no rule for ops.NAME" with it).
"""

from __future__ import annotations

from typing import Optional

TAKES_FUNCTION = "it takes a Python function, and kd has no function values"
NOT_A_TENSOR = "it returns a Python value or a NumPy array, not a tensor of the model"
CONSTANT_ARRAY = "kd writes constant tensors with ops.zeros, ops.ones, ops.full, ops.arange, ops.eye or ops.linspace"
UNINITIALIZED = "its values are uninitialized memory; use ops.zeros or ops.zeros_like"
DATA_DEPENDENT = "its output shape depends on the tensor's values, which kd cannot know before training"
COMPLEX = "it works with complex numbers, which kd does not model"
USE_CONV_LAYER = "use the convolution layer (Conv1D, Conv2D, ...), whose kernel is a weight of the model"
USE_POOL_LAYER = "use the pooling layer (MaxPooling2D, AveragePooling2D, ...)"
USE_NORM_LAYER = "use the normalization layer (BatchNormalization, LayerNormalization, RMSNormalization), whose weights belong to the model"
USE_ATTENTION = "use MultiHeadAttention, or write attention with ops.matmul and ops.softmax"
LOSS_OR_METRIC = "it is a loss or a metric; give it to `compile`"
NOT_YET = "kdsl has no shape rule for it yet"

_GROUPS = {
    TAKES_FUNCTION: (
        "associative_scan", "cond", "custom_gradient", "fori_loop", "jvp", "map", "scan", "switch",
        "vectorize", "vectorized_map", "while_loop",
    ),
    NOT_A_TENSOR: ("convert_to_numpy", "convert_to_tensor", "dtype", "is_tensor", "ndim", "shape", "size"),
    CONSTANT_ARRAY: ("array",),
    UNINITIALIZED: ("empty", "empty_like"),
    DATA_DEPENDENT: ("bincount", "nonzero", "unique"),
    COMPLEX: (
        "angle", "conj", "conjugate", "fft", "fft2", "ifft2", "imag", "irfft", "isreal", "istft", "polar",
        "real", "rfft", "stft", "view_as_complex", "view_as_real",
    ),
    USE_CONV_LAYER: ("conv", "conv_transpose", "depthwise_conv", "separable_conv"),
    USE_POOL_LAYER: ("adaptive_average_pool", "adaptive_max_pool", "average_pool", "max_pool"),
    USE_NORM_LAYER: ("batch_normalization", "layer_normalization", "rms_normalization"),
    USE_ATTENTION: ("dot_product_attention",),
    LOSS_OR_METRIC: (
        "binary_crossentropy", "categorical_crossentropy", "ctc_loss", "in_top_k", "psnr",
        "sparse_categorical_crossentropy",
    ),
    NOT_YET: (
        "allclose", "append", "argpartition", "argsort", "array_split", "average", "bartlett", "bitwise_and",
        "bitwise_invert", "bitwise_left_shift", "bitwise_not", "bitwise_or", "bitwise_right_shift", "bitwise_xor",
        "blackman", "cbrt", "cdist", "cholesky", "cholesky_inverse", "copy", "corrcoef", "correlate",
        "count_nonzero", "cross", "ctc_decode", "cumprod", "cumsum", "deg2rad", "depth_to_space", "det", "diag",
        "diagflat", "diagonal", "diff", "digitize", "dsplit", "dstack", "eig", "eigh", "extract_sequences", "fabs",
        "fliplr", "flipud", "fold", "full_like", "gcd", "geomspace", "glu", "hamming", "hanning", "heaviside",
        "histogram", "hsplit", "hstack", "hypot", "i0", "inner", "inv", "isclose", "isin", "kaiser", "kron", "lcm",
        "ldexp", "left_shift", "logaddexp2", "logdet", "logspace", "lstsq", "lu_factor", "matrix_rank", "median",
        "meshgrid", "moments", "multi_hot", "nanargmax", "nanargmin", "nancumprod", "nancumsum", "nanmax",
        "nanmean", "nanmedian", "nanmin", "nanpercentile", "nanprod", "nanquantile", "nanstd", "nansum", "nanvar",
        "nextafter", "normalize", "outer", "percentile", "pinv", "ptp", "qr", "quantile", "rad2deg", "rearrange",
        "right_shift", "rot90", "saturate_cast", "scatter", "scatter_update", "searchsorted", "segment_max",
        "segment_min", "segment_prod", "segment_sum", "select", "signbit", "slice", "slice_update", "slogdet",
        "solve", "solve_triangular", "sort", "space_to_depth", "sparsemax", "stop_gradient", "svd", "top_k",
        "trace", "trapezoid", "tri", "tril", "triu", "unfold", "unravel_index", "unstack", "vander", "vdot",
        "view", "vsplit", "vstack",
    ),
}


def _table() -> dict:
    table: dict = {}
    for reason, names in _GROUPS.items():
        for name in names:
            if name in table:
                raise ValueError(f"ops.{name} refused twice")
            table[name] = reason
    return dict(sorted(table.items()))


REFUSALS: dict = _table()


def refusal(name: str) -> Optional[str]:
    """Why kdsl has no rule for `keras.ops.NAME`, or None if it is not refused."""
    return REFUSALS.get(name)
