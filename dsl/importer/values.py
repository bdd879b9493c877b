"""The values of an imported model's arguments, hashable so that calls can
be compared (folding) and written back as kd expressions.

A value is a constant (int, float, str, bool, None), a `tuple`, a `KdList`,
a `KdDict`, or an `Obj`: something written as a call (`HeNormal()`,
`L2(l2=0.0001)`, the `LSTM(8)` inside a Bidirectional).
"""

from __future__ import annotations

import math
from ..records import record

from .problems import ImportProblem


class KdList(tuple):
    """A list (written `[a, b]`); a tuple subclass, so it hashes."""


class KdDict(tuple):
    """A dict (written `{"a": 1}`): its (key, value) pairs in order."""


@record(frozen=True)
class Obj:
    """A value written as a call: CALLEE(ARGS..., KEY=VALUE...)."""

    callee: str
    args: tuple = ()
    kwargs: tuple = ()  # ((key, value), ...)


def from_json(value, where: str, layer: str = None, lists: bool = False):
    """A JSON value of a config as a kd value: lists become tuples (Keras
    writes its tuples as JSON lists) unless LISTS; objects become dicts."""
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ImportProblem(f"`{where}` is {value}, which kd has no literal for", layer)
        return value
    if isinstance(value, list):
        items = tuple(from_json(v, where, layer, lists) for v in value)
        return KdList(items) if lists else items
    if isinstance(value, dict):
        if value.get("class_name") == "__tuple__" and isinstance(value.get("config"), dict):
            return tuple(from_json(v, where, layer, lists) for v in value["config"].get("value", []))
        if "class_name" in value and "config" in value:
            raise ImportProblem(f"`{where}` is a serialized `{value['class_name']}` object, which kd cannot write", layer)
        for key in value:
            if not isinstance(key, str):
                raise ImportProblem(f"`{where}` has a key that is not a string", layer)
        return KdDict((k, from_json(v, where, layer, lists)) for k, v in value.items())
    raise ImportProblem(f"`{where}` is a {type(value).__name__}, which kd has no literal for", layer)


def plain(value):
    """VALUE with lists as tuples, for comparing with a catalog default."""
    if isinstance(value, (list, tuple)):
        return tuple(plain(v) for v in value)
    return value
