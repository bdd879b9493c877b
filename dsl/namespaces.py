"""Where bare class names in arguments resolve: the one table of keyword ->
Keras namespace.

`Conv2D(64, 3, kernel_initializer=HeNormal())` means
`keras.initializers.HeNormal()`; `compile(optimizer=RMSprop(...))` means
`keras.optimizers.RMSprop(...)`.  The checker, the static name checks and the
code generator all ask this module.
"""

from __future__ import annotations

from typing import Optional

# Layer constructor arguments, by the end of their name.
_ARGUMENT_SUFFIXES = {"_initializer": "initializers", "_regularizer": "regularizers", "_constraint": "constraints"}
# Keywords of Model.compile whose class names resolve in a Keras module.
COMPILE_NAMESPACES = {"optimizer": "optimizers", "loss": "losses", "metrics": "metrics", "weighted_metrics": "metrics"}
# Error codes for an unknown name in each namespace.
OBJECT_NAMESPACES = ("initializers", "regularizers", "constraints")


def namespace_of(keyword: str) -> Optional[str]:
    """The Keras module a layer argument's class names resolve in, by the
    argument's name (`kernel_initializer` -> "initializers"), or None."""
    for suffix, namespace in _ARGUMENT_SUFFIXES.items():
        if keyword.endswith(suffix):
            return namespace
    return None


def compile_namespace_of(keyword: str) -> Optional[str]:
    """The Keras module a `compile(...)` keyword's class names resolve in."""
    return COMPILE_NAMESPACES.get(keyword)


def singular(namespace: str) -> str:
    """"losses" -> "loss", "metrics" -> "metric", ..."""
    return {"losses": "loss"}.get(namespace, namespace[:-1])
