"""Shape rules of Keras's regularization layers: they keep the input shape."""

from __future__ import annotations

from .base import LayerCall, Result, TensorType, rule
from .util import compute_dtype, data_format, expect_rank, finish, layout, single_input


@rule("Dropout", "GaussianNoise", "GaussianDropout", "AlphaDropout")
def dropout(call: LayerCall) -> Result:
    """Same shape, in the layer's compute dtype (Keras's output spec)."""
    t = single_input(call)
    return finish(call, TensorType(t.shape, compute_dtype(call.args)))


_SPATIAL = {"SpatialDropout1D": 1, "SpatialDropout2D": 2, "SpatialDropout3D": 3}


@rule(*_SPATIAL)
def spatial_dropout(call: LayerCall) -> Result:
    """Same shape; the input must have the rank of the layer's InputSpec."""
    n = _SPATIAL[call.cls]
    # SpatialDropout1D has no data_format argument: it is always channels_last.
    fmt = data_format(call.args)
    shape = expect_rank(call, single_input(call), n + 2, layout(n, fmt))
    return finish(call, TensorType(shape, compute_dtype(call.args)))
