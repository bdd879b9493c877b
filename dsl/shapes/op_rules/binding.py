"""Binding a call's arguments to an op's parameters, as Python would.

`bind_op("mean", (x,), {"axis": 1})` gives the OpCall a rule expects: every
parameter of the op's signature by name, Keras's defaults filled in (from
the ops catalog, dsl/data/keras_ops.json), extra positionals in `varargs`
when the op takes *args, extra keywords in `kwargs` when it takes **kwargs.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional, Sequence

from ... import codes
from ..base import RuleError, TensorType
from .base import OpCall


def bind_op(
    name: str,
    positional: Sequence = (),
    keywords: Optional[Mapping[str, Any]] = None,
    *,
    eager: Optional[bool] = None,
    signature: Any = None,
) -> OpCall:
    """The OpCall of `keras.ops.NAME(*positional, **keywords)`.

    SIGNATURE is a dsl.catalog.Signature; by default the op's own from the
    ops catalog.  EAGER defaults to "no argument is a tensor"; a checker that
    knows a tensor argument is a constant (no batch dimension) passes
    eager=True.  Raises KeyError for an op the catalog does not know and
    RuleError KD304 (too many positional arguments), KD301 (unknown
    keyword), KD306 (argument given twice) or KD302 (missing argument)."""
    keywords = dict(keywords or {})
    if signature is None:
        from ...ops_catalog import load

        info = load().op(name)
        if info is None:
            raise KeyError(name)
        signature = info.signature
    args: dict = {}
    params = [p for p in signature.params if not p.keyword_only]
    for p, value in zip(params, positional):
        args[p.name] = value
    extra = tuple(positional[len(params):])
    if extra and not signature.var_positional:
        raise RuleError(
            codes.TOO_MANY_POSITIONAL,
            f"ops.{name} takes at most {len(params)} positional argument(s). Received: {len(positional)}",
        )
    unknown = {}
    for key, value in keywords.items():
        p = signature.param(key)
        if p is None or p.positional_only:
            if not signature.var_keyword:
                raise RuleError(codes.UNKNOWN_KEYWORD, f"ops.{name} has no argument `{key}`. Its arguments: {', '.join(signature.names)}")
            unknown[key] = value
            continue
        if key in args:
            raise RuleError(codes.ARGUMENT_TWICE, f"ops.{name}: argument `{key}` given twice (by position and by name)")
        args[key] = value
    for p in signature.params:
        if p.name not in args:
            if p.required:
                raise RuleError(codes.MISSING_ARGUMENT, f"ops.{name} needs the argument `{p.name}`")
            args[p.name] = p.default
    ordered = {p.name: args[p.name] for p in signature.params}
    if eager is None:
        eager = not _has_tensor((ordered, extra, unknown))
    return OpCall(name, ordered, extra, unknown, eager)


def _has_tensor(value: Any) -> bool:
    if isinstance(value, TensorType):
        return True
    if isinstance(value, Mapping):
        return any(_has_tensor(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_has_tensor(v) for v in value)
    return False
