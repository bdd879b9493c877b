"""kdsl's shape rules: the static output types and weights of Keras layers.

Importing this package registers every family's rules, so `lookup("Conv2D")`
finds them.  See base.py for the types and util.py for the shared arithmetic.
"""

from .base import (
    LayerCall,
    LayerSpec,
    Result,
    RuleError,
    TensorType,
    Weight,
    infer,
    lookup,
)
from . import (  # noqa: F401  (imported to register their rules)
    attention,
    audio,
    augmentation,
    categorical,
    conv,
    core,
    merging,
    normalization,
    pooling,
    preprocessing,
    regularization,
    reshaping,
    rnn,
)
from .ops import elementwise

__all__ = [
    "LayerCall",
    "LayerSpec",
    "Result",
    "RuleError",
    "TensorType",
    "Weight",
    "elementwise",
    "infer",
    "lookup",
]
