"""A saved model's compile settings (`compile_config`) as kd's `compile(...)`.

Keras saves what `compile` was given, each object serialized: an optimizer
or a loss as a class and its config, strings as they were. kd writes the
keywords that differ from `Model.compile`'s defaults, and each object as
its class with the settings that differ from the class's defaults, as the
layers' initializers are written.

Two values are read as Keras means them rather than as saved: a learning
rate, which Keras keeps in a float32 variable (`0.009999999776482582` is
written `0.01`, the shortest decimal with the same float32), and
`jit_compile=False`, which is also what the default `"auto"` becomes on a
backend that does not compile with XLA (only `True` is written).
"""

from __future__ import annotations

import re
import struct
from typing import Optional

from .. import catalog as kcat
from ..namespaces import compile_namespace_of
from ..syntax import tree as n
from .constructs import registry_object
from .emit import literal
from .problems import ImportProblem
from .values import KdDict, KdList, Obj, from_json

_WHERE = "compile settings"


def compile_statement(config) -> Optional[n.CompileStmt]:
    """The `compile(...)` statement of COMPILE_CONFIG (None when the model
    was not compiled, or only with every default). Raises ImportProblem for
    a setting kd cannot write."""
    if config is None:
        return None
    if not isinstance(config, dict):
        raise ImportProblem("the compile settings are not a JSON object", None)
    params = {p.name: p for p in kcat.load().compile_params()}
    unknown = sorted(set(config) - set(params))
    if unknown:
        raise ImportProblem(f"the compile setting `{unknown[0]}` is not an argument of `Model.compile`", None)
    keywords = []
    for name, param in params.items():
        if name not in config or config[name] is None or config[name] == param.default:
            continue
        if name == "jit_compile" and config[name] is False:
            continue  # what "auto" becomes without XLA: the default says it
        keywords.append(n.Keyword(name, literal(_value(name, config[name]))))
    return n.CompileStmt(keywords, []) if keywords else None


def _value(keyword: str, value):
    """A compile keyword's saved VALUE as a kd value."""
    family = compile_namespace_of(keyword)
    if family is None:
        return from_json(value, f"{_WHERE}: {keyword}", None, lists=True)
    return _objects(family, keyword, value)


def _objects(family: str, keyword: str, value):
    """Strings, serialized objects of FAMILY, and lists and dicts of them."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return KdList(_objects(family, keyword, v) for v in value)
    if isinstance(value, dict) and "class_name" in value and "config" in value:
        made = registry_object(family, value, f"{_WHERE}: {keyword}", None)
        return _as_given(family, made)
    if isinstance(value, dict):
        return KdDict((str(k), _objects(family, keyword, v)) for k, v in value.items())
    return from_json(value, f"{_WHERE}: {keyword}", None, lists=True)


def _as_given(family: str, made: Obj) -> Obj:
    """MADE without the settings Keras filled in by itself: a learning rate
    back to what was given (`_float32`), and left out at the class's
    default; the `name` Keras derives from the class (`Adam` -> "adam",
    `AUC` -> "auc") and the default dtype "float32" where the class's
    default is None."""
    defaults = {p.name: p.default for p in kcat.load().registry_class(family, made.callee).params}
    kwargs = []
    for key, value in made.kwargs:
        if key == "learning_rate" and family == "optimizers":
            value = _float32(value)
            if value == defaults.get(key):
                continue
        if defaults.get(key, _GIVEN) is None and (
                (key == "name" and value == _snake_case(made.callee)) or (key == "dtype" and value == "float32")):
            continue
        kwargs.append((key, value))
    return Obj(made.callee, made.args, tuple(kwargs))


_GIVEN = object()  # a setting the class has no default for


def _snake_case(name: str) -> str:
    """Keras's `to_snake_case`, which names an object after its class."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def _float32(value):
    """The shortest decimal with VALUE's float32 (a float32 read back as a
    double: `0.009999999776482582` -> `0.01`); other values as they are."""
    if not isinstance(value, float):
        return value
    single = struct.unpack("f", struct.pack("f", value))[0]
    if single != value:
        return value  # not a float32: written as saved
    for digits in range(1, 18):
        shorter = float(f"{value:.{digits}g}")
        if struct.unpack("f", struct.pack("f", shorter))[0] == single:
            return shorter
    return value
