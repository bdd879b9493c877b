"""The cost-rule registry, keyed by Keras layer class like the shape rules'.

A cost rule is a pure function of the `LayerCall` a shape rule took and the
`Result` it gave, returning the multiply-accumulates (MACs) of one forward
pass for one example, or None when a dimension it needs is unknown.  The
definitions are in docs/costs.md.
"""

from __future__ import annotations

from math import prod
from typing import Callable, Iterable, Optional

from ..base import LayerCall, Result

CostRule = Callable[[LayerCall, Result], Optional[int]]
COST_RULES: dict[str, CostRule] = {}
# Classes whose rule gives 0 whatever the call: data movement, activations,
# identities at inference.  Kept apart so docs and tests can list them.
ZERO_COST: set[str] = set()
# Classes with a shape rule that kdsl deliberately does not cost (macs None).
UNCOUNTED: frozenset[str] = frozenset({
    # Image statistics and histograms: data-dependent work, not MACs.
    "AutoContrast", "Equalization", "Solarization", "ContrastLimitedAdaptiveHistogramEqualization", "RandomCrop",
    # Comparisons against bin edges; a lookup or, reversed, a matrix product.
    "Discretization", "ReversibleEmbedding",
    # Not counted yet: Fourier transforms, grouped attention, a wrapper's power iteration.
    "MelSpectrogram", "STFTSpectrogram", "GroupQueryAttention", "SpectralNormalization",
})


def cost_rule(*class_names: str) -> Callable[[CostRule], CostRule]:
    """Register the decorated function as the cost rule of CLASS_NAMES."""

    def register(fn: CostRule) -> CostRule:
        for name in class_names:
            if name in COST_RULES:
                raise ValueError(f"two cost rules for {name}")
            COST_RULES[name] = fn
        return fn

    return register


def _no_macs(call: LayerCall, result: Result) -> int:
    """The rule of a layer that does no arithmetic worth counting."""
    return 0


def zero_cost(*class_names: str) -> None:
    """Register CLASS_NAMES as costing 0 MACs."""
    cost_rule(*class_names)(_no_macs)
    ZERO_COST.update(class_names)


def layer_macs(call: LayerCall, result: Result) -> Optional[int]:
    """The MACs of CALL for one example, given the shape rule's RESULT; None
    for a class without a cost rule or when a needed dimension is unknown."""
    fn = COST_RULES.get(call.cls)
    return None if fn is None else fn(call, result)


def cost_rule_classes() -> frozenset:
    """The class names that have a cost rule (zero-cost ones included)."""
    return frozenset(COST_RULES)


def zero_cost_classes() -> frozenset:
    """The class names whose cost rule always gives 0."""
    return frozenset(ZERO_COST)


# ------------------------------------------------------------ arithmetic


def times(*factors: Optional[int]) -> Optional[int]:
    """The product of FACTORS, or None when any is unknown."""
    if any(f is None for f in factors):
        return None
    return prod(factors)


def known_prod(dims: Iterable[Optional[int]]) -> Optional[int]:
    """The product of DIMS (1 for none), or None when any is unknown."""
    return times(*dims)


def per_example(shape: Optional[tuple]) -> Optional[int]:
    """The element count of one example of a tensor of SHAPE (batch first)."""
    return None if shape is None else known_prod(shape[1:])


def total(*terms: Optional[int]) -> Optional[int]:
    """The sum of TERMS, or None when any is unknown."""
    if any(t is None for t in terms):
        return None
    return sum(terms)


def first_output(result: Result):
    """The first TensorType of a result (RNNs with return_state give a tuple)."""
    out = result.outputs
    while isinstance(out, (list, tuple)):
        out = out[0]
    return out
