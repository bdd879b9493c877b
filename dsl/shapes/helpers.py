"""Small helpers of the shape rules added with the preprocessing, audio and
wrapper rules (kept out of util.py, which other rules share)."""

from __future__ import annotations

from typing import Any

from .util import compute_dtype

_MIXED = ("mixed_float16", "mixed_bfloat16")


def variable_dtype(value: Any) -> str:
    """The `layer.dtype` Keras reports for a dtype argument: the policy's
    variable dtype, float32 for the mixed policies, else the compute dtype."""
    if isinstance(value, str) and value in _MIXED:
        return "float32"
    return compute_dtype(value)
