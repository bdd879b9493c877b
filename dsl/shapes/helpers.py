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


def check_orthogonal_dtype(call, names: tuple = ("recurrent_initializer", "kernel_initializer")) -> None:
    """KD505 for an orthogonal initializer of bfloat16 variables: Keras's
    Orthogonal initializer runs a QR decomposition, which TensorFlow has no
    bfloat16 kernel for, so the layer fails to build (the RNNs' default
    recurrent_initializer is "orthogonal")."""
    from .. import codes
    from .base import RuleError

    if variable_dtype(call.args.get("dtype")) != "bfloat16":
        return
    for name in names:
        value = call.args.get(name)
        if isinstance(value, str) and value.lower() in ("orthogonal", "orthogonalinitializer"):
            raise RuleError(
                codes.INVALID_SHAPE,
                f"{call.cls} with dtype=\"bfloat16\" cannot build its weights: {name}=\"{value}\" "
                "needs a QR decomposition, which TensorFlow has no bfloat16 kernel for",
                'use dtype="mixed_bfloat16" (float32 variables), or another initializer',
            )
