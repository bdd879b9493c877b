"""What kdsl knows about Keras, read from data files instead of Keras itself.

The checker must not import Keras or TensorFlow, so ``scripts/gen_catalog.py``
records everything it needs from the installed Keras in
``dsl/data/keras_catalog.json`` (and one graph file per application under
``dsl/data/applications/``).  This module loads those files with the standard
library only and answers questions about them through small typed accessors::

    cat = load()
    cat.layer("Convolution2D").canonical        # "Conv2D"
    cat.allowed_values("Conv1D", "padding")     # frozenset({"valid", "same", "causal"})
    cat.is_metric_alias("acc")                  # True

Defaults are decoded to Python values: tuples are tuples, lists are lists,
and defaults Keras gives as objects or functions are ``Opaque`` reprs.
"""

from __future__ import annotations

import json
from .records import field, record
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping, Optional

DATA_DIR = Path(__file__).resolve().parent / "data"
CATALOG_PATH = DATA_DIR / "keras_catalog.json"

REGISTRIES = ("initializers", "regularizers", "constraints", "losses", "metrics", "optimizers")


# ---------------------------------------------------------------------------
# Value types
# ---------------------------------------------------------------------------


@record(frozen=True, slots=True)
class Opaque:
    """A default that is not a literal (an object or function), by repr."""

    repr: str

    def __str__(self) -> str:
        return self.repr


def decode_value(value: Any) -> Any:
    """Decode a JSON value written by the generator's ``encode_value``.

    ``{"tuple": [...]}`` -> tuple, ``{"dict": {...}}`` -> dict,
    ``{"float": "inf"}`` -> float, ``{"repr": "..."}`` -> ``Opaque``.
    """
    if isinstance(value, list):
        return [decode_value(v) for v in value]
    if isinstance(value, dict):
        if len(value) == 1:
            ((tag, inner),) = value.items()
            if tag == "tuple":
                return tuple(decode_value(v) for v in inner)
            if tag == "dict":
                return {k: decode_value(v) for k, v in inner.items()}
            if tag == "float":
                return float(inner)
            if tag == "repr":
                return Opaque(inner)
        raise ValueError(f"unknown encoded value: {value!r}")
    return value


@record(frozen=True, slots=True)
class Param:
    """One parameter of a constructor, function or ``call``.

    ``default`` is None when ``required``.  ``legacy`` marks keywords that
    ``Layer.__init__`` still accepts but warns about (``input_shape`` ...).
    """

    name: str
    required: bool
    default: Any = None
    keyword_only: bool = False
    positional_only: bool = False
    legacy: bool = False


def _param(raw: Mapping[str, Any]) -> Param:
    """Build a ``Param`` from its catalog entry."""
    return Param(
        name=raw["name"],
        required=raw["required"],
        default=None if raw["required"] else decode_value(raw["default"]),
        keyword_only=raw["kind"] == "keyword_only",
        positional_only=raw["kind"] == "positional_only",
        legacy=raw.get("legacy", False),
    )


@record(frozen=True, slots=True)
class Signature:
    """Parameters in order, and whether ``*args`` / ``**kwargs`` are taken."""

    params: tuple[Param, ...]
    var_positional: bool = False
    var_keyword: bool = False
    # name -> default, for the checker's per-call lookups (derived from params: not compared or hashed)
    defaults: Mapping[str, Any] = field(default=None, compare=False, hash=False, repr=False)
    # the parameters an argument may be given to by position (derived too)
    positional: tuple = field(default=None, compare=False, hash=False, repr=False)

    def __post_init__(self):
        if self.defaults is None:
            object.__setattr__(self, "defaults", {p.name: p.default for p in self.params})
        if self.positional is None:
            object.__setattr__(self, "positional", tuple(p for p in self.params if not p.keyword_only))

    def param(self, name: str) -> Optional[Param]:
        """The parameter called ``name``, or None."""
        for p in self.params:
            if p.name == name:
                return p
        return None

    @property
    def names(self) -> tuple[str, ...]:
        """Parameter names in order."""
        return tuple(p.name for p in self.params)

    @property
    def required(self) -> tuple[str, ...]:
        """Names of the parameters without a default."""
        return tuple(p.name for p in self.params if p.required)


def _signature(raw: Mapping[str, Any]) -> Signature:
    """Build a ``Signature`` from a catalog entry with ``params``."""
    return Signature(
        params=tuple(_param(p) for p in raw["params"]),
        var_positional=raw.get("var_positional", False),
        var_keyword=raw.get("var_keyword", False),
    )


@record(frozen=True, slots=True)
class ClassInfo:
    """A Keras class as looked up by ``name``.

    ``name`` is the name asked for; ``canonical`` the class's own name (they
    differ for aliases such as ``MaxPool2D`` -> ``MaxPooling2D``).  ``call``
    is the ``call()`` signature for layers, None otherwise.  ``extra_kwargs``
    are further keywords the constructor pops from ``**kwargs`` itself.
    """

    name: str
    canonical: str
    module: str
    signature: Signature
    call: Optional[Signature] = None
    extra_kwargs: tuple[str, ...] = ()
    class_name: str = ""  # the class's own __name__, when it differs from canonical

    @property
    def keras_class(self) -> str:
        """The class name Keras shows (in summaries) and numbers automatic
        names by: `GroupQueryAttention` is exported for `GroupedQueryAttention`."""
        return self.class_name or self.canonical

    @property
    def is_alias(self) -> bool:
        """True when looked up under an alias name."""
        return self.name != self.canonical

    @property
    def params(self) -> tuple[Param, ...]:
        """Constructor parameters in order."""
        return self.signature.params

    @property
    def var_keyword(self) -> bool:
        """Whether the constructor takes ``**kwargs``."""
        return self.signature.var_keyword

    def param(self, name: str) -> Optional[Param]:
        """The constructor parameter called ``name``, or None."""
        return self.signature.param(name)


@record(frozen=True, slots=True)
class MergeHelper:
    """A functional merge helper (``add``, ``concatenate`` ...); its
    ``**kwargs`` go to the constructor of ``layer``."""

    name: str
    layer: str
    signature: Signature


@record(frozen=True, slots=True)
class ApplicationInfo:
    """A ``keras.applications`` model function and its input-size check.

    ``input_check`` is ``"obtain_input_shape"`` (the shared imagenet_utils
    check, with ``default_size`` and ``min_size``) or ``"own"`` (MobileNetV3:
    only ``min_size``).  ``square_sizes``: for MobileNet/V2, square inputs of
    these sizes replace ``default_size`` (this matters with imagenet weights).
    ``default_input_shape`` is what Keras uses with ``include_top=True`` and
    no ``input_shape``.
    """

    name: str
    module: str
    signature: Signature
    default_size: Optional[int]
    min_size: int
    input_check: str
    default_input_shape: tuple
    square_sizes: Optional[tuple[int, ...]]
    has_name: bool
    graph_file: str
    name_template: Optional[str] = None  # how Keras names the model by default, when that depends on the arguments

    def param(self, name: str) -> Optional[Param]:
        """The parameter called ``name``, or None."""
        return self.signature.param(name)


@record(frozen=True, slots=True)
class EnumInfo:
    """Probed values of one enumerated layer argument."""

    values: Optional[frozenset]
    validated: bool
    case_insensitive: bool


# ---------------------------------------------------------------------------
# Application graphs
# ---------------------------------------------------------------------------


class ApplicationGraph:
    """The recorded layer graph of one application (see gen_catalog's
    ``build_application`` for the layout).

    A variant is ``"none"`` (``include_top=False``), ``"avg"``/``"max"``
    (``pooling``) or ``"top"`` (``include_top=True``).  Op records are the
    raw JSON dicts; tensor references are ``{"@": [op, call, output]}`` with
    ``op`` an index into ``ops(variant)``.  Treat them as read-only.
    """

    def __init__(self, raw: Mapping[str, Any]):
        self.raw = raw

    @property
    def input_shape(self) -> tuple:
        """The input shape (no batch) every variant was built with."""
        return tuple(self.raw["input_shape"])

    @property
    def model_name(self) -> str:
        """The Keras model name at default arguments."""
        return self.raw["model_name"]

    @property
    def variants(self) -> tuple[str, ...]:
        """The recorded variants."""
        return tuple(self.raw["variants"])

    def _section(self, unknown_size: bool) -> Mapping[str, Any]:
        if not unknown_size or self.raw.get("unknown_size") is None:
            return self.raw
        return self.raw["unknown_size"]

    def has_unknown_size_graph(self) -> bool:
        """True if unknown spatial sizes give a different graph (NASNet)."""
        return self.raw.get("unknown_size") is not None

    def ops(self, variant: str = "top", unknown_size: bool = False) -> list:
        """All op records of a variant: the shared base, then its own ops.

        With ``unknown_size`` the graph built with unknown spatial dims is
        used where it differs (only ``none``/``avg``/``max`` exist there).
        """
        section = self._section(unknown_size)
        return list(section["base"]["ops"]) + list(section["variants"][variant]["ops"])

    def outputs(self, variant: str = "top", unknown_size: bool = False) -> list:
        """References to the variant's output tensors."""
        return self._section(unknown_size)["variants"][variant]["outputs"]

    def names_used(self, variant: str = "top", unknown_size: bool = False) -> dict:
        """The automatic names (prefix -> count) building the variant uses up:
        its unnamed layers and ops, which later unnamed layers follow."""
        return dict(self._section(unknown_size)["variants"][variant].get("names_used", {}))

    def summary(self, variant: str = "top", unknown_size: bool = False) -> dict:
        """``{"output_shape": ..., "params": {...}}`` at default arguments."""
        v = self._section(unknown_size)["variants"][variant]
        return {"output_shape": v["output_shape"], "params": v["params"]}


def bind_params(value: Any, args: Mapping[str, Any]) -> Any:
    """Replace ``{"param": name}`` markers in a recorded config by
    ``args[name]`` (e.g. ``classes``, ``classifier_activation``)."""
    if isinstance(value, dict):
        if set(value) == {"param"}:
            return args[value["param"]]
        return {k: bind_params(v, args) for k, v in value.items()}
    if isinstance(value, list):
        return [bind_params(v, args) for v in value]
    return value


# ---------------------------------------------------------------------------
# The catalog
# ---------------------------------------------------------------------------


class Catalog:
    """Typed, cached views of ``keras_catalog.json``."""

    def __init__(self, raw: Mapping[str, Any], data_dir: Path = DATA_DIR):
        self.raw = raw
        self._data_dir = data_dir
        self._layers: dict[str, Optional[ClassInfo]] = {}
        self._graphs: dict[str, ApplicationGraph] = {}
        self._name_effects: dict[str, tuple] = {}  # asked twice for every layer the checker builds
        self._call_effects: dict[str, tuple] = {}  # class -> (every call's names, (argument, value, names) or None)

    # -- general -----------------------------------------------------------

    @property
    def keras_version(self) -> str:
        """The Keras version the catalog was generated from."""
        return self.raw["keras_version"]

    @property
    def backend(self) -> str:
        """The Keras backend used while generating (enums depend on it)."""
        return self.raw["backend"]

    def doc(self, name: str) -> str:
        """The first paragraph of the Keras docstring of the layer class,
        application or merge helper NAME ("" when none is recorded)."""
        for table in ("layers", "applications", "merge_helpers"):
            raw = self.raw[table].get(name)
            if raw is not None:
                raw = self.raw[table].get(raw.get("canonical", name), raw)
                return raw.get("doc", "")
        return ""

    # -- layers ------------------------------------------------------------

    def layer(self, name: str) -> Optional[ClassInfo]:
        """The public ``keras.layers`` class ``name`` (aliases resolved to
        the canonical class, ``ClassInfo.name`` keeps the alias), or None."""
        if name not in self._layers:
            self._layers[name] = self._class_info(self.raw["layers"], name, layer=True)
        return self._layers[name]

    def layer_names(self, aliases: bool = True) -> tuple[str, ...]:
        """All public layer class names, sorted; without aliases if asked."""
        layers = self.raw["layers"]
        return tuple(n for n in layers if aliases or "canonical" not in layers[n])

    def canonical_layer(self, name: str) -> Optional[str]:
        """The canonical class name for a layer name or alias, or None."""
        info = self.layer(name)
        return info.canonical if info else None

    def base_layer_kwargs(self) -> tuple[Param, ...]:
        """Keywords every layer accepts through ``**kwargs`` (``name``,
        ``dtype``, ``trainable``, ...; ``input_shape``/``input_dim`` are
        ``legacy``)."""
        return tuple(_param(p) for p in self.raw["base_layer_kwargs"])

    def call_context_args(self) -> frozenset:
        """Call keywords any layer accepts even if its ``call`` does not
        declare them (``training``)."""
        return frozenset(self.raw["call_context_args"])

    def name_effects(self, class_name: str) -> tuple:
        """(construct, first_call): the automatic-name prefixes a layer class
        uses up besides its own, when constructed and on its first call
        (MultiHeadAttention: ((), ("dropout", "softmax")))."""
        known = self._name_effects.get(class_name)
        if known is None:
            raw = self.raw.get("name_effects", {}).get(self.canonical_layer(class_name) or class_name)
            known = ((), ()) if raw is None else (tuple(raw["construct"]), tuple(raw["first_call"]))
            self._name_effects[class_name] = known
        return known

    def call_name_effects(self, class_name: str, args: dict) -> tuple:
        """The automatic-name prefixes every call of a layer of CLASS_NAME,
        constructed with ARGS, uses up: the ops that compute its mask
        (`Masking`: any, not_equal; `Embedding(mask_zero=True)`: not_equal)."""
        known = self._call_effects.get(class_name)
        if known is None:
            raw = self.raw.get("name_effects", {}).get(self.canonical_layer(class_name) or class_name) or {}
            masked = raw.get("masked_call")
            condition = (masked["argument"], masked["value"], tuple(masked["names"])) if masked else None
            known = self._call_effects[class_name] = (tuple(raw.get("every_call", ())), condition)
        every, condition = known
        if condition is not None and args.get(condition[0]) == condition[1] and type(args.get(condition[0])) is type(condition[1]):
            return every + condition[2]
        return every

    def masking(self, class_name: str, args: dict) -> tuple:
        """(whether a layer of CLASS_NAME constructed with ARGS consumes the
        mask of its input, whether it passes that mask on to its output),
        as Keras does; (False, False) for the layers that drop a mask."""
        raw = self._masking_entry(class_name)
        if raw is None:
            return False, False
        passes = raw["passes"]
        when = raw.get("passes_when")
        if when is not None and args.get(when[0]) == when[1]:
            passes = True
        when = raw.get("passes_when_wrapped")
        inner = getattr(args.get("layer"), "args", None)  # a wrapper's layer: an instance
        if when is not None and isinstance(inner, dict) and inner.get(when[0]) == when[1]:
            passes = True
        return raw["consumes"], passes

    def merged_masks(self, class_name: str) -> Optional[str]:
        """How a merge layer combines its inputs' masks: "logical_or" (folded
        with logical_or ops, when every input has one), "concatenate"
        (Concatenate's compute_mask), "other" (not modelled), or None."""
        raw = self._masking_entry(class_name)
        return None if raw is None else raw.get("merges")

    def _masking_entry(self, class_name: str) -> Optional[dict]:
        """The generated `masking` entry of a layer class (by its canonical name), or None."""
        return self.raw.get("masking", {}).get(self.canonical_layer(class_name) or class_name)

    def import_time_modules(self) -> frozenset:
        """Top-level modules loaded by importing Keras as a generated module
        does (a module of that name beside it would shadow one)."""
        return frozenset(self.raw.get("import_time_modules", ()))

    def merge_helper(self, name: str) -> Optional[MergeHelper]:
        """The merge helper function ``name`` (``add``, ``dot`` ...), or None."""
        raw = self.raw["merge_helpers"].get(name)
        if raw is None:
            return None
        return MergeHelper(name=name, layer=raw["layer"], signature=_signature(raw))

    def merge_helper_names(self) -> tuple[str, ...]:
        """Names of the merge helper functions."""
        return tuple(sorted(self.raw["merge_helpers"]))

    def input_params(self) -> tuple[Param, ...]:
        """Parameters of ``keras.Input``."""
        return _signature(self.raw["input"]).params

    def compile_params(self) -> tuple[Param, ...]:
        """Parameters of ``keras.Model.compile`` (without ``self``)."""
        return _signature(self.raw["compile"]).params

    def _class_info(self, table: Mapping[str, Any], name: str, layer: bool = False) -> Optional[ClassInfo]:
        """``ClassInfo`` for ``name`` in a class table, resolving an alias."""
        raw = table.get(name)
        if raw is None:
            return None
        canonical = raw.get("canonical", name)
        raw = table[canonical]
        return ClassInfo(
            name=name,
            canonical=canonical,
            module=raw["module"],
            signature=_signature(raw),
            call=_signature(raw["call"]) if layer else None,
            extra_kwargs=tuple(raw.get("extra_kwargs", ())),
            class_name=raw.get("class_name", ""),
        )

    # -- initializers, losses, ... -------------------------------------------

    def registry_class(self, kind: str, name: str) -> Optional[ClassInfo]:
        """A public class of ``keras.<kind>`` (``kind`` in ``REGISTRIES``)."""
        return self._class_info(self.raw[kind]["classes"], name)

    def registry_function(self, kind: str, name: str) -> Optional[Signature]:
        """A public function of ``keras.<kind>`` (losses, metrics), or None."""
        raw = self.raw[kind]["functions"].get(name)
        return _signature(raw) if raw else None

    def resolve_identifier(self, kind: str, text: str) -> Optional[str]:
        """What ``keras.<kind>.get(text)`` returns (class or function name),
        or None if it rejects ``text``.  Optimizers ignore case."""
        registry = self.raw[kind]
        key = text.lower() if registry["case_insensitive"] else text
        return registry["identifiers"].get(key)

    def is_compile_shortcut(self, kind: str, text: str) -> bool:
        """True for the strings ``compile()`` special-cases before ``get()``
        (``"acc"``/``"accuracy"`` metrics, ``"ce"``/``"crossentropy"``
        losses; any case)."""
        return text.lower() in self.raw[kind].get("compile_shortcuts", ())

    def is_identifier(self, kind: str, text: str) -> bool:
        """True if ``text`` is a valid string for ``keras.<kind>.get``; for
        losses and metrics also the ``compile()`` shortcuts."""
        return self.resolve_identifier(kind, text) is not None or self.is_compile_shortcut(kind, text)

    def identifiers(self, kind: str) -> frozenset:
        """Every string ``keras.<kind>.get`` accepts (as recorded)."""
        return frozenset(self.raw[kind]["identifiers"])

    def initializer(self, name: str) -> Optional[ClassInfo]:
        """Class ``keras.initializers.<name>`` (``he_normal`` -> HeNormal)."""
        return self.registry_class("initializers", name)

    def regularizer(self, name: str) -> Optional[ClassInfo]:
        """Class ``keras.regularizers.<name>`` (``l2`` -> L2)."""
        return self.registry_class("regularizers", name)

    def constraint(self, name: str) -> Optional[ClassInfo]:
        """Class ``keras.constraints.<name>`` (``max_norm`` -> MaxNorm)."""
        return self.registry_class("constraints", name)

    def loss(self, name: str) -> Optional[ClassInfo]:
        """Class ``keras.losses.<name>``."""
        return self.registry_class("losses", name)

    def metric(self, name: str) -> Optional[ClassInfo]:
        """Class ``keras.metrics.<name>``."""
        return self.registry_class("metrics", name)

    def optimizer(self, name: str) -> Optional[ClassInfo]:
        """Class ``keras.optimizers.<name>``."""
        return self.registry_class("optimizers", name)

    def is_initializer_alias(self, text: str) -> bool:
        """True if ``text`` is a valid initializer string (``"he_normal"``)."""
        return self.is_identifier("initializers", text)

    def is_regularizer_alias(self, text: str) -> bool:
        """True if ``text`` is a valid regularizer string (``"l2"``)."""
        return self.is_identifier("regularizers", text)

    def is_constraint_alias(self, text: str) -> bool:
        """True if ``text`` is a valid constraint string (``"non_neg"``)."""
        return self.is_identifier("constraints", text)

    def is_loss_alias(self, text: str) -> bool:
        """True if ``compile(loss=text)`` accepts it (``"mse"``, ``"ce"``)."""
        return self.is_identifier("losses", text)

    def is_metric_alias(self, text: str) -> bool:
        """True if ``compile(metrics=[text])`` accepts it (``"acc"``)."""
        return self.is_identifier("metrics", text)

    def is_optimizer_alias(self, text: str) -> bool:
        """True if ``compile(optimizer=text)`` accepts it (``"rmsprop"``)."""
        return self.is_identifier("optimizers", text)

    def activations(self) -> frozenset:
        """Every string ``keras.activations.get`` accepts."""
        return frozenset(self.raw["activations"])

    def is_activation(self, text: str) -> bool:
        """True if ``text`` names an activation function."""
        return text in self.raw["activations"]

    # -- enumerated arguments ---------------------------------------------

    def enum_info(self, class_name: str, param: str) -> Optional[EnumInfo]:
        """The probed enum record for a layer argument, or None."""
        canonical = self.canonical_layer(class_name) or class_name
        raw = self.raw["enums"]["classes"].get(canonical, {}).get(param)
        if raw is None:
            return None
        values = None if raw["values"] is None else frozenset(raw["values"])
        return EnumInfo(values, raw["validated"], raw["case_insensitive"])

    def allowed_values(self, class_name: str, param: str) -> Optional[frozenset]:
        """The string values (and None where valid) Keras accepts for
        ``class_name(param=...)``, or None when the layer or parameter is
        unknown, not enumerated, or not validated by Keras.

        Probed enums come first; otherwise parameter families apply:
        ``activation`` -> activations, ``*_initializer`` -> initializer
        identifiers, and so on.
        """
        layer = self.layer(class_name)
        if layer is None or layer.param(param) is None:
            return None
        info = self.enum_info(class_name, param)
        if info is not None:
            return info.values
        family = self._family(param)
        if family == "activations":
            return self.activations()
        if family is not None:
            return self.identifiers(family)
        return None

    def is_allowed_value(self, class_name: str, param: str, value: Any) -> Optional[bool]:
        """Whether ``value`` is accepted for the argument (honouring case
        insensitivity), or None when the catalog cannot tell."""
        allowed = self.allowed_values(class_name, param)
        if allowed is None:
            return None
        if value in allowed:
            return True
        info = self.enum_info(class_name, param)
        if info and info.case_insensitive and isinstance(value, str):
            return value.lower() in allowed
        return False

    def _family(self, param: str) -> Optional[str]:
        """The registry whose identifiers a parameter takes, by its name."""
        for pattern, family in self.raw["enums"]["families"].items():
            if pattern.startswith("*") and param.endswith(pattern[1:]):
                return family
            if pattern == param:
                return family
        return None

    # -- applications ------------------------------------------------------

    def application(self, name: str) -> Optional[ApplicationInfo]:
        """The ``keras.applications`` function ``name``, or None."""
        raw = self.raw["applications"].get(name)
        if raw is None:
            return None
        squares = raw["square_sizes"]
        return ApplicationInfo(
            name=name,
            module=raw["module"],
            signature=_signature(raw),
            default_size=raw["default_size"],
            min_size=raw["min_size"],
            input_check=raw["input_check"],
            default_input_shape=tuple(raw["default_input_shape"]),
            square_sizes=None if squares is None else tuple(squares),
            has_name=raw["has_name"],
            graph_file=raw["graph"],
            name_template=raw.get("name_template"),
        )

    def application_names(self) -> tuple[str, ...]:
        """All application function names, sorted."""
        return tuple(sorted(self.raw["applications"]))

    def application_graph(self, name: str) -> Optional[ApplicationGraph]:
        """The recorded graph of an application, loaded on first use."""
        if name not in self._graphs:
            raw = self.raw["applications"].get(name)
            if raw is None:
                return None
            path = self._data_dir / raw["graph"]
            self._graphs[name] = ApplicationGraph(_read_json(path))
        return self._graphs[name]


def _read_json(path: Path) -> Any:
    """Parse a UTF-8 JSON file."""
    with open(path, "rb") as f:
        return json.loads(f.read())


@lru_cache(maxsize=None)
def load(path: Optional[str] = None) -> Catalog:
    """The catalog (cached): the packaged one, or the file at ``path``."""
    file = Path(path) if path else CATALOG_PATH
    return Catalog(_read_json(file), data_dir=file.parent)
