"""What kdsl knows about `keras.ops`, read from ``dsl/data/keras_ops.json``.

``scripts/gen_ops_catalog.py`` writes that file from the installed Keras:
each public function of ``keras.ops`` with its signature, the first
paragraph of its docstring, the Operation class and automatic name Keras
gives its node in a functional graph, and whether kdsl has a shape rule for
it (or why not).  This module reads it with the standard library only::

    cat = load()
    cat.op("mean").op_class          # "Mean"
    cat.op("mean").auto_name         # "mean" (then "mean_1", ...)
    cat.op("abs").auto_name          # "absolute": ops.abs builds an Absolute node
    cat.op("fft").refusal            # "it works with complex numbers, ..."
    cat.operator("/").op_class       # "TrueDivide"

The module functions ``op(name)`` and ``op_names()`` ask the packaged catalog.
"""

from __future__ import annotations

import json
from .records import record
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping, Optional

from .catalog import Param, Signature, decode_value

OPS_CATALOG_PATH = Path(__file__).resolve().parent / "data" / "keras_ops.json"


@record(frozen=True, slots=True)
class OpInfo:
    """One function of ``keras.ops``.

    ``op_class``/``auto_name`` are the class and first automatic name of the
    node a call on symbolic tensors adds to a functional graph (later calls
    are named ``auto_name + "_1"``, ...); both None when the call adds no
    node (``makes_node`` False: the constant makers run eagerly on
    constants) or was not probed.  ``has_rule`` tells whether kdsl has a
    shape rule, ``refusal`` why not otherwise.  ``alias_of`` names the op
    this one is the same function as (``swish`` -> ``silu``).
    ``eager_takes_name`` is True when a call on constants (which adds no
    node) constructs the op all the same, using up its automatic name
    (``pad``); None when unknown.
    """

    name: str
    module: str
    signature: Signature
    doc: str
    op_class: Optional[str]
    auto_name: Optional[str]
    makes_node: Optional[bool]
    has_rule: bool
    refusal: Optional[str]
    alias_of: Optional[str]
    eager_takes_name: Optional[bool] = None

    @property
    def params(self) -> tuple:
        """The parameters in order (``dsl.catalog.Param``)."""
        return self.signature.params


@record(frozen=True, slots=True)
class OperatorInfo:
    """What a Python operator on a symbolic tensor does (``x + y``,
    ``x[:, 0]``): the ``keras.ops`` function it stands for, the class and
    automatic name of its node; all None when Keras makes no node (``==``
    compares the Python objects; ``raises`` names the exception when Python
    refuses the operator, as ``+x`` with TypeError)."""

    symbol: str
    op: Optional[str]
    op_class: Optional[str]
    auto_name: Optional[str]
    raises: Optional[str] = None


class OpsCatalog:
    """Typed, cached views of ``keras_ops.json``."""

    def __init__(self, raw: Mapping[str, Any]):
        self.raw = raw
        self._ops: dict[str, Optional[OpInfo]] = {}

    @property
    def keras_version(self) -> str:
        """The Keras version the catalog was generated from."""
        return self.raw["keras_version"]

    @property
    def backend(self) -> str:
        """The Keras backend used while generating."""
        return self.raw["backend"]

    def op(self, name: str) -> Optional[OpInfo]:
        """The function ``keras.ops.<name>``, or None."""
        if name not in self._ops:
            raw = self.raw["ops"].get(name)
            self._ops[name] = None if raw is None else _op_info(name, raw)
        return self._ops[name]

    def op_names(self) -> tuple[str, ...]:
        """Every public function name of ``keras.ops``, sorted."""
        return tuple(sorted(self.raw["ops"]))

    def ruled_names(self) -> tuple[str, ...]:
        """The ops kdsl has a shape rule for, sorted."""
        return tuple(n for n in self.op_names() if self.raw["ops"][n]["rule"] is True)

    def refusals(self) -> dict[str, str]:
        """``{name: reason}`` for the ops kdsl has no rule for."""
        return {n: r["rule"] for n, r in sorted(self.raw["ops"].items()) if r["rule"] is not True}

    def operator(self, symbol: str) -> Optional[OperatorInfo]:
        """A Python operator on a tensor (``"+"``, ``"-x"``, ``"[]"``...), or None."""
        raw = self.raw["operators"].get(symbol)
        if raw is None:
            return None
        return OperatorInfo(symbol, raw["op"], raw["class"], raw["name"], raw["raises"])

    def operator_symbols(self) -> tuple[str, ...]:
        """The recorded operator symbols."""
        return tuple(sorted(self.raw["operators"]))


def _signature(raw: Mapping[str, Any]) -> Signature:
    """A ``dsl.catalog.Signature`` from a record written by gen_catalog's
    ``describe_signature`` (the layer catalog's format)."""
    params = tuple(
        Param(
            name=p["name"],
            required=p["required"],
            default=None if p["required"] else decode_value(p["default"]),
            keyword_only=p["kind"] == "keyword_only",
            positional_only=p["kind"] == "positional_only",
        )
        for p in raw["params"]
    )
    return Signature(params, raw["var_positional"], raw["var_keyword"])


def _op_info(name: str, raw: Mapping[str, Any]) -> OpInfo:
    graph = raw["graph"]
    return OpInfo(
        name=name,
        module=raw["module"],
        signature=_signature(raw),
        doc=raw["doc"],
        op_class=graph["class"],
        auto_name=graph["name"],
        makes_node=graph["node"],
        has_rule=raw["rule"] is True,
        refusal=None if raw["rule"] is True else raw["rule"],
        alias_of=raw.get("alias_of"),
        eager_takes_name=graph.get("eager_takes_name"),
    )


@lru_cache(maxsize=None)
def load(path: Optional[str] = None) -> OpsCatalog:
    """The ops catalog (cached): the packaged one, or the file at ``path``."""
    file = Path(path) if path else OPS_CATALOG_PATH
    with open(file, "rb") as f:
        return OpsCatalog(json.loads(f.read()))


def op(name: str) -> Optional[OpInfo]:
    """``keras.ops.<name>`` in the packaged catalog, or None."""
    return load().op(name)


def op_names() -> tuple[str, ...]:
    """Every ``keras.ops`` function name in the packaged catalog, sorted."""
    return load().op_names()
