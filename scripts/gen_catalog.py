#!/usr/bin/env python
"""Generate kdsl's Keras catalog from the installed Keras.

    python scripts/gen_catalog.py           # (re)write the data files
    python scripts/gen_catalog.py --check   # exit 1 if they are out of date
    python scripts/gen_catalog.py --only-catalog / --apps ResNet50 Xception

The checker (`kdsl check`, package `dsl`) never imports Keras.  Everything it
must know about Keras is written by this script into

* ``dsl/data/keras_catalog.json`` -- classes, signatures, identifiers, enums
  (see ``build_catalog``), pretty-printed so that a Keras upgrade shows up as
  a readable git diff;
* ``dsl/data/applications/<Name>.json`` -- the layer graph of each
  ``keras.applications`` model (see ``build_application``), compact.

How each fact is obtained (so a reader can judge how far to trust it):

* signatures (layers, ``call``, merge helpers, ``keras.Input``,
  ``Model.compile``, applications, initializers ...) -- ``inspect.signature``;
* ``base_layer_kwargs`` -- the keyword-only parameters of ``Layer.__init__``
  plus the legacy keys its body pops from ``**kwargs`` (read from its source);
  ``extra_kwargs`` per layer -- keys a subclass ``__init__`` pops from
  ``**kwargs`` itself (e.g. LSTM's ``implementation``), read from its source;
* string identifiers -- the keys of each module's ``ALL_OBJECTS_DICT`` table,
  each verified by calling the module's ``get()`` (only those that succeed
  are kept); the ``compile()`` shortcuts (``"acc"``, ``"ce"`` ...) are read
  from ``keras/src/trainers/compile_utils.py``;
* enums -- by probing: a candidate value is allowed unless Keras raises a
  Python error (ValueError, TypeError, ...) when constructing the layer with
  it or calling it on a symbolic tensor; ``interpolation``/``fill_mode``
  (checked by the backend only when a layer runs) and the upper-case
  variants behind ``case_insensitive`` are also run eagerly on a small zero
  tensor.  Errors from the TensorFlow runtime itself (``tf.errors.*``, e.g.
  "NCHW convolution is not supported on CPU") are device limits, not
  validation, and do not reject a value.  Candidates are ``ENUM_CANDIDATES``
  plus the TensorFlow backend's own tables; a parameter that also accepts
  a bogus value is recorded as not validated.  Parameter families
  (``activation``, ``*_initializer`` ...) are known from reading the layers:
  they pass such values to ``activations.get()``, ``initializers.get()`` ...;
* application input sizes -- by probing: ``imagenet_utils.obtain_input_shape``
  is wrapped to record the ``default_size``/``min_size`` each model passes;
  models that do not call it (MobileNetV3) are read from their source and the
  minimum is confirmed by probing;
* application graphs -- built with ``weights=None`` and walked node by node
  (see ``build_application`` for the layout).  Values that follow
  ``classes``/``classifier_activation`` are found by building the top twice;
  ZeroPadding2D paddings computed by ``imagenet_utils.correct_pad`` (they
  depend on the parity of the input size) are found by wrapping that helper.

Run time: the catalog takes ~10 s (mostly enum probes); all application
graphs ~8 min (six builds per application).

Nothing here is cached between runs; the output depends only on the
installed Keras (and its backend, recorded as ``backend``).
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import argparse
import ast
import contextlib
import inspect
import json
import math
import re
import sys
import warnings
from pathlib import Path

import numpy as np

import keras
import tensorflow as tf
from keras.src.applications import imagenet_utils
from keras.src.ops.function import make_node_key

tf.get_logger().setLevel("ERROR")  # probes retrace convolutions on purpose

SCHEMA_VERSION = 1
ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "dsl" / "data"
CATALOG_FILE = "keras_catalog.json"
APPS_SUBDIR = "applications"

# ---------------------------------------------------------------------------
# Value encoding
# ---------------------------------------------------------------------------

_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def stable_repr(value) -> str:
    """A repr of an opaque object that does not change between runs."""
    if inspect.isfunction(value) or inspect.isbuiltin(value):
        return f"<function {value.__module__}.{value.__qualname__}>"
    if inspect.isclass(value):
        return f"<class {value.__module__}.{value.__qualname__}>"
    return _ADDRESS.sub("", repr(value))


def encode_value(value, *, tuples: bool = True):
    """Turn a Python value into JSON.

    With ``tuples=True`` (signatures) tuples and dicts are tagged so the loader
    can restore them exactly: ``{"tuple": [...]}``, ``{"dict": {...}}``.
    With ``tuples=False`` (layer configs in graphs) they become plain lists and
    objects, as in Keras's own model JSON.  Non-finite floats become
    ``{"float": "inf"}``; anything else non-literal ``{"repr": "..."}``.
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.generic):
        return encode_value(value.item(), tuples=tuples)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else {"float": repr(value)}
    if isinstance(value, tuple):
        items = [encode_value(v, tuples=tuples) for v in value]
        return {"tuple": items} if tuples else items
    if isinstance(value, list):
        return [encode_value(v, tuples=tuples) for v in value]
    if isinstance(value, dict):
        items = {str(k): encode_value(v, tuples=tuples) for k, v in value.items()}
        return {"dict": items} if tuples else items
    return {"repr": stable_repr(value)}


# ---------------------------------------------------------------------------
# Signatures
# ---------------------------------------------------------------------------

_KINDS = {
    inspect.Parameter.POSITIONAL_ONLY: "positional_only",
    inspect.Parameter.POSITIONAL_OR_KEYWORD: "positional_or_keyword",
    inspect.Parameter.KEYWORD_ONLY: "keyword_only",
}


def describe_signature(fn, *, drop_first: bool = False) -> dict:
    """Parameters of ``fn`` in order, plus whether it takes *args/**kwargs."""
    params = list(inspect.signature(fn).parameters.values())
    if drop_first:
        params = params[1:]
    out, var_positional, var_keyword = [], False, False
    for p in params:
        if p.kind is inspect.Parameter.VAR_POSITIONAL:
            var_positional = True
            continue
        if p.kind is inspect.Parameter.VAR_KEYWORD:
            var_keyword = True
            continue
        entry = {"name": p.name, "kind": _KINDS[p.kind]}
        if p.default is inspect.Parameter.empty:
            entry["required"] = True
        else:
            entry["required"] = False
            entry["default"] = encode_value(p.default)
        out.append(entry)
    return {"params": out, "var_positional": var_positional, "var_keyword": var_keyword}


def describe_class(cls) -> dict:
    """Constructor signature and module of a class."""
    info = describe_signature(cls.__init__, drop_first=True)
    info["module"] = cls.__module__
    return info


def public_classes(module, base) -> dict:
    """``{exported name: class}`` for the subclasses of ``base`` in ``module``."""
    found = {}
    for name in sorted(dir(module)):
        obj = getattr(module, name)
        if inspect.isclass(obj) and issubclass(obj, base):
            found[name] = obj
    return found


def describe_classes(module, base, describe=describe_class) -> dict:
    """Describe every public subclass; an alias records only its canonical name.

    An exported name is an alias when the class's own ``__name__`` is a
    different name exported by the same module (``MaxPool2D`` ->
    ``MaxPooling2D``).  A class exported only under another name records its
    own as ``class_name`` (``GroupQueryAttention`` is ``GroupedQueryAttention``):
    that is the name Keras shows and numbers automatic names by.
    """
    classes = public_classes(module, base)
    out = {}
    for name, cls in classes.items():
        canonical = cls.__name__
        if canonical != name and classes.get(canonical) is cls:
            out[name] = {"canonical": canonical}
        else:
            out[name] = describe(cls)
            if canonical != name:
                out[name]["class_name"] = canonical
    return out


# ---------------------------------------------------------------------------
# Layers
# ---------------------------------------------------------------------------

_POPPED = re.compile(r"""kwargs\.pop\(\s*["'](\w+)["']|["'](\w+)["']\s+in\s+kwargs""")


def popped_kwargs(fn) -> set:
    """Keys a function's body takes out of ``**kwargs`` by name (from source)."""
    try:
        source = inspect.getsource(fn)
    except (OSError, TypeError):
        return set()
    return {a or b for a, b in _POPPED.findall(source)}


def base_layer_kwargs() -> list:
    """What ``Layer.__init__`` accepts through a subclass's ``**kwargs``.

    Its keyword-only parameters, plus the legacy keys its body pops
    (``input_shape``/``input_dim`` in Keras 3; anything else left in
    ``kwargs`` raises "Unrecognized keyword arguments").
    """
    info = describe_signature(keras.layers.Layer.__init__, drop_first=True)
    params = [dict(p) for p in info["params"]]
    for key in sorted(popped_kwargs(keras.layers.Layer.__init__)):
        params.append({"name": key, "kind": "keyword_only", "required": False, "default": None, "legacy": True})
    return params


def extra_layer_kwargs(cls, known: set) -> list:
    """Keys popped from ``**kwargs`` by ``__init__`` of ``cls`` or a base
    class below ``Layer`` (e.g. LSTM's ``implementation``)."""
    found = set()
    for klass in cls.__mro__:
        if klass is keras.layers.Layer:
            break
        if "__init__" in vars(klass):
            found |= popped_kwargs(vars(klass)["__init__"])
    return sorted(found - known)


def first_paragraph(obj) -> str:
    """The first paragraph of OBJ's docstring, its lines joined (what an
    editor's hover shows; kdsl never imports Keras to read it)."""
    doc = inspect.getdoc(obj) or ""
    paragraph = doc.strip().split("\n\n")[0]
    return " ".join(line.strip() for line in paragraph.splitlines()).strip()


def describe_layer(cls, base_names: set) -> dict:
    """Constructor and ``call`` signatures of a layer class, and its doc."""
    info = describe_class(cls)
    info["doc"] = first_paragraph(cls)
    known = {p["name"] for p in info["params"]} | base_names
    info["extra_kwargs"] = extra_layer_kwargs(cls, known)
    info["call"] = describe_signature(cls.call, drop_first=True)
    return info


def build_layers(base_kwargs: list) -> dict:
    """Every public ``keras.layers`` Layer subclass (aliases included).

    ``Input`` is a function and ``InputSpec`` not a Layer, so both fall out of
    the ``issubclass(..., Layer)`` filter.
    """
    base_names = {p["name"] for p in base_kwargs}
    return describe_classes(keras.layers, keras.layers.Layer, lambda c: describe_layer(c, base_names))


def call_context_args() -> list:
    """Call keywords ``Layer.__call__`` accepts for every layer.

    Keras strips these before binding ``call()`` when the layer's ``call``
    does not declare them (``CallSpec`` in keras/src/layers/layer.py), so
    ``layer(x, training=True)`` is valid for any layer.
    """
    layer = keras.layers.Identity()
    return sorted(layer._call_context_args)


_MERGE_CLASS = re.compile(r"return\s+(\w+)\(")


def build_merge_helpers() -> dict:
    """The functional merge helpers (``keras.layers.add`` ...), their own
    parameters, and the layer class each one instantiates (read from the
    helper's source; its ``**kwargs`` go to that class's constructor)."""
    out = {}
    for name in ("add", "subtract", "multiply", "average", "maximum", "minimum", "concatenate", "dot"):
        fn = getattr(keras.layers, name)
        match = _MERGE_CLASS.search(inspect.getsource(fn))
        layer = match.group(1) if match else name.capitalize()
        if not issubclass(getattr(keras.layers, layer), keras.layers.Layer):
            raise RuntimeError(f"merge helper {name}: {layer} is not a layer")
        out[name] = {"layer": layer, **describe_signature(fn), "doc": first_paragraph(fn)}
    return out


# ---------------------------------------------------------------------------
# Identifier registries (initializers, losses, ...)
# ---------------------------------------------------------------------------


def _registry_module(kind: str):
    import importlib

    return importlib.import_module(f"keras.src.{kind}")


_BASES = {
    "initializers": lambda: keras.initializers.Initializer,
    "regularizers": lambda: keras.regularizers.Regularizer,
    "constraints": lambda: keras.constraints.Constraint,
    "losses": lambda: keras.losses.Loss,
    "metrics": lambda: keras.metrics.Metric,
    "optimizers": lambda: keras.optimizers.Optimizer,
}


def _target_name(obj) -> str:
    """Name of what ``get()`` returned: a class or function, or an instance."""
    if inspect.isclass(obj) or inspect.isfunction(obj):
        return obj.__name__
    return type(obj).__name__


def _try_get(getter, identifier):
    """``getter(identifier)``, or None when Keras rejects it."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return getter(identifier)
    except Exception:  # noqa: BLE001 - any failure means "not accepted"
        return None


def verified_identifiers(getter, candidates) -> dict:
    """``{identifier: target name}`` for the candidates ``getter`` accepts."""
    out = {}
    for ident in sorted(candidates):
        obj = _try_get(getter, ident)
        if obj is not None:
            out[ident] = _target_name(obj)
    return out


def _accepts_any_case(getter, identifiers) -> bool:
    """True if upper- and title-cased forms of every identifier also work."""
    if not identifiers:
        return False
    for ident in identifiers:
        for variant in (ident.upper(), ident.title()):
            if _try_get(getter, variant) is None:
                return False
    return True


def public_functions(module) -> dict:
    """Signatures of the public functions of a ``keras.<kind>`` module."""
    out = {}
    for name in sorted(dir(module)):
        obj = getattr(module, name)
        if name.startswith("_") or name in ("get", "serialize", "deserialize"):
            continue
        if inspect.isfunction(obj):
            out[name] = describe_signature(obj)
    return out


def build_registry(kind: str) -> dict:
    """Classes, functions and string identifiers of one ``keras.<kind>``."""
    public = getattr(keras, kind)
    src = _registry_module(kind)
    entry = {
        "classes": describe_classes(public, _BASES[kind]()),
        "functions": public_functions(public),
        "identifiers": verified_identifiers(public.get, src.ALL_OBJECTS_DICT),
    }
    entry["case_insensitive"] = _accepts_any_case(public.get, entry["identifiers"])
    return entry


_COMPILE_SHORTCUT = re.compile(r"str\(identifier\)\.lower\(\)\s+not\s+in\s+(\[[^\]]*\])")


def compile_shortcuts(fn) -> list:
    """The identifiers ``compile()`` special-cases before calling ``get()``.

    ``compile_utils.get_metric`` resolves ``"accuracy"``/``"acc"`` (any case)
    to Binary/Categorical/SparseCategoricalAccuracy from the target's shape;
    ``get_loss`` does the same for ``"crossentropy"``/``"ce"``.
    """
    match = _COMPILE_SHORTCUT.search(inspect.getsource(fn))
    if not match:
        raise RuntimeError(f"no shortcut list found in {fn.__qualname__}")
    return sorted(ast.literal_eval(match.group(1)))


def build_registries() -> dict:
    """All six registries, with the compile() shortcuts attached."""
    from keras.src.trainers import compile_utils

    out = {kind: build_registry(kind) for kind in _BASES}
    out["losses"]["compile_shortcuts"] = compile_shortcuts(compile_utils.get_loss)
    out["metrics"]["compile_shortcuts"] = compile_shortcuts(compile_utils.get_metric)
    return out


def build_activations() -> list:
    """Every string ``keras.activations.get()`` accepts."""
    from keras.src import activations

    return sorted(verified_identifiers(keras.activations.get, activations.ALL_OBJECTS_DICT))


# ---------------------------------------------------------------------------
# Enumerated string arguments, by probing
# ---------------------------------------------------------------------------


def _tf_backend_tables() -> dict:
    """The TensorFlow backend's own interpolation / fill-mode tables."""
    from keras.src.backend.tensorflow import image as tf_image

    interp = set(tf_image.RESIZE_INTERPOLATIONS)
    interp |= set(tf_image.AFFINE_TRANSFORM_INTERPOLATIONS)
    interp |= set(tf_image.SCALE_AND_TRANSLATE_METHODS)
    fill = set(tf_image.AFFINE_TRANSFORM_FILL_MODES)
    fill |= set(tf_image.MAP_COORDINATES_FILL_MODES)
    return {"interpolation": interp, "fill_mode": fill}


# Candidate values tried for each enumerated parameter (None included: it is
# a meaningful value for data_format and merge_mode).  Anything a layer
# accepts outside these lists is not recorded.
ENUM_CANDIDATES = {
    "padding": {"valid", "same", "causal", "full"},
    "data_format": {"channels_last", "channels_first"},
    "interpolation": {"nearest", "bilinear", "bicubic", "area", "gaussian", "lanczos3", "lanczos5", "mitchellcubic"},
    "fill_mode": {"constant", "reflect", "wrap", "nearest", "mirror"},
    "merge_mode": {"concat", "sum", "mul", "ave", "max"},
    "score_mode": {"dot", "concat", "add"},
    "mode": {
        "horizontal",
        "vertical",
        "horizontal_and_vertical",
        "log",
        "magnitude",
        "psd",
        "real",
        "imag",
        "angle",
        "stft",
    },
}

# Parameters that the TensorFlow backend checks only when the layer really
# runs (keras/src/backend/tensorflow/image.py); the others are checked in
# constructors or while computing output shapes.  Running every probe
# eagerly gives the same enums (checked when this list was written) but
# takes four times as long, mostly compiling convolutions.
EAGER_PARAMS = {"interpolation", "fill_mode"}

# A value no layer accepts: if it passes, Keras does not validate the
# parameter at all (RandomFlip's `mode`), and no value list is recorded.
_BOGUS = "kd_not_a_valid_value"

# Required constructor arguments used when probing (small, valid values).
_PROBE_ARGS = {
    "filters": 2,
    "kernel_size": 1,
    "pool_size": 2,
    "output_size": 2,
    "height": 4,
    "width": 4,
    "factor": 0.1,
    "height_factor": 0.1,
    "width_factor": 0.1,
    "rate": 0.1,
}
_PROBE_OVERRIDES = {"RandomPosterization": {"factor": 4}}


def _spatial_rank(cls) -> int | None:
    """1, 2 or 3 for ``...1D``/``2D``/``3D`` classes, 2 for image layers."""
    match = re.search(r"([123])D(Transpose)?$", cls.__name__)
    if match:
        return int(match.group(1))
    if "image_preprocessing" in cls.__module__ or cls.__name__ == "Flatten":
        return 2
    return None


def _probe_input(cls, data_format: str | None) -> tuple | None:
    """A small input shape (batch first) suited to ``cls``."""
    if cls.__name__ == "Bidirectional":
        return (1, 4, 3)
    if cls.__name__ == "STFTSpectrogram":
        return (1, 512, 1)
    if cls.__name__ == "Attention":
        return (1, 2, 4)
    rank = _spatial_rank(cls)
    if rank is None:
        return None
    spatial = {1: (8,), 2: (8, 8), 3: (4, 4, 4)}[rank]
    if cls.__name__.startswith("ConvLSTM"):
        spatial = (2,) + spatial  # time axis first
    channels_first = data_format == "channels_first"
    if channels_first and cls.__name__.startswith("ConvLSTM"):
        return (1, 2, 3) + spatial[1:]
    return (1, 3) + spatial if channels_first else (1,) + spatial + (3,)


def _probe_kwargs(cls) -> dict | None:
    """Values for the required constructor arguments, or None if unknown."""
    kwargs = {}
    params = describe_signature(cls.__init__, drop_first=True)["params"]
    if any(p["name"] == "seed" for p in params):
        kwargs["seed"] = 1  # random layers: the same draws on every run
    for p in params:
        if not p["required"]:
            continue
        if p["name"] == "layer":
            kwargs["layer"] = keras.layers.LSTM(2)
        elif p["name"] in _PROBE_OVERRIDES.get(cls.__name__, {}):
            kwargs[p["name"]] = _PROBE_OVERRIDES[cls.__name__][p["name"]]
        elif p["name"] in _PROBE_ARGS:
            kwargs[p["name"]] = _PROBE_ARGS[p["name"]]
        else:
            return None
    return kwargs


def _call_probe(layer, shape, symbolic: bool):
    """Call ``layer`` on a symbolic or zero tensor of ``shape``."""
    make = keras.KerasTensor if symbolic else (lambda s: np.zeros(s, "float32"))
    x = make(shape)
    if isinstance(layer, keras.layers.Attention):
        return layer([x, make(shape)])
    if "image_preprocessing" in type(layer).__module__:
        return layer(x, training=True)
    return layer(x)


def value_accepted(cls, param: str, value, eager: bool = False) -> bool | None:
    """Does Keras accept ``cls(param=value)`` (construction and first calls)?

    The layer is always called on a symbolic tensor, and also run eagerly
    when ``eager`` or ``param in EAGER_PARAMS``.  Returns None when the probe
    itself cannot be set up for ``cls``.
    """
    keras.utils.set_random_seed(1)  # random layers: reproducible draws
    kwargs = _probe_kwargs(cls)
    data_format = value if param == "data_format" else None
    shape = _probe_input(cls, data_format)
    if kwargs is None or shape is None:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            layer = cls(**kwargs, **{param: value})
            _call_probe(layer, shape, symbolic=True)
            if eager or param in EAGER_PARAMS:
                _call_probe(layer, shape, symbolic=False)
    except tf.errors.OpError:
        return True  # the TF runtime/device refused, Keras did not
    except ImportError:
        return None  # an optional dependency (scipy) is missing
    except Exception:  # noqa: BLE001 - Keras validation failed
        return False
    return True


def _enum_params(cls) -> list:
    """The probed enum parameters of ``cls`` (string or None default only)."""
    params = describe_signature(cls.__init__, drop_first=True)["params"]
    return [
        p["name"]
        for p in params
        if p["name"] in ENUM_CANDIDATES and (p.get("default") is None or isinstance(p.get("default"), str))
    ]


def probe_enum(cls, param: str, candidates: set) -> dict | None:
    """Allowed values of one (class, parameter), or None if not probeable.

    Probing is trusted only if the parameter's default is accepted.  If a
    bogus value is accepted too, Keras does not validate the parameter:
    ``{"values": None, "validated": False}``.
    """
    default = inspect.signature(cls.__init__).parameters[param].default
    if not value_accepted(cls, param, default):
        return None
    if value_accepted(cls, param, _BOGUS):
        return {"values": None, "validated": False, "case_insensitive": False}
    allowed = []
    for value in sorted(candidates | {None}, key=lambda v: (v is not None, v or "")):
        ok = value_accepted(cls, param, value)
        if ok is None:
            return None
        if ok:
            allowed.append(value)
    strings = [v for v in allowed if v is not None]
    # Case variants are run eagerly too: a few layers lower-case the value
    # for validation but compare the raw string when they run, so that e.g.
    # RandomGrayscale takes "CHANNELS_LAST" but not "CHANNELS_FIRST".
    any_case = bool(strings) and all(value_accepted(cls, param, v.upper(), eager=True) for v in strings)
    return {"values": allowed, "validated": True, "case_insensitive": any_case}


def build_enums(layers: dict) -> dict:
    """``{"classes": {class: {param: {...}}}, "families": ..., "unprobed": ...}``.

    ``families`` maps parameter names whose string values come from a
    registry (read from the layers' use of ``activations.get`` /
    ``initializers.get`` ...) to that registry.
    """
    candidates = {k: set(v) for k, v in ENUM_CANDIDATES.items()}
    for key, extra in _tf_backend_tables().items():
        candidates[key] |= extra
    classes, unprobed = {}, []
    for name, info in sorted(layers.items()):
        if "canonical" in info:
            continue
        cls = getattr(keras.layers, name)
        for param in _enum_params(cls):
            result = probe_enum(cls, param, candidates[param])
            if result is None:
                unprobed.append(f"{name}.{param}")
            else:
                classes.setdefault(name, {})[param] = result
    return {
        "classes": classes,
        "unprobed": unprobed,
        "families": {
            "activation": "activations",
            "recurrent_activation": "activations",
            "*_initializer": "initializers",
            "*_regularizer": "regularizers",
            "*_constraint": "constraints",
        },
        "method": "probe: construct, call symbolically, call eagerly on zeros",
    }


# ---------------------------------------------------------------------------
# Applications: signatures and input-size checks
# ---------------------------------------------------------------------------


# ---------------------------------------------------------------------------
# Automatic names a layer uses up beyond its own
# ---------------------------------------------------------------------------

# Counters that never name a layer or an operation of a model.
_NAME_COUNTERS_IGNORED = {"keras_tensor", "variable", "seed_generator", "input_layer"}
# Inputs tried, in order, for classes _probe_input has no shape for.
_FALLBACK_INPUTS = ((1, 4, 3), (1, 8, 8, 3), (1, 4), (1, 4, 4, 4, 3))
_MULTI_INPUT_CALLS = {"MultiHeadAttention": 2, "GroupedQueryAttention": 2, "GroupQueryAttention": 2}
_LIST_INPUT_CALLS = {"Attention", "AdditiveAttention", "Add", "Average", "Concatenate", "Dot", "Maximum", "Minimum",
                     "Multiply", "Subtract", "HashedCrossing"}
# Required arguments of the classes _probe_kwargs cannot make.
_NAME_PROBE_ARGS = {
    "units": 2, "activation": "relu", "num_heads": 2, "key_dim": 2, "input_dim": 5, "output_dim": 2,
    "axes": -1, "n": 2, "dims": (2, 1), "target_shape": (-1,), "scale": 0.5, "stddev": 0.1, "groups": 1,
    "num_bins": 4, "output_mode": "int", "num_tokens": 8, "equation": "ab,bc->ac", "output_shape": (2,),
    "num_query_heads": 2, "num_key_value_heads": 1, "head_dim": 2, "max_boxes": 2, "bin_boundaries": [0.0, 1.0],
}


def _name_counts() -> dict:
    from keras.src.backend.common import global_state

    counts = global_state.get_global_attribute("object_name_uids", default={}) or {}
    return {k: v for k, v in counts.items() if k not in _NAME_COUNTERS_IGNORED}


def _used_names(before: dict, after: dict, own: str | None = None) -> list:
    """The automatic-name prefixes counted up between two snapshots, one
    entry per use, sorted (OWN, the layer's own prefix, once excepted)."""
    used = []
    for prefix, count in sorted(after.items()):
        used += [prefix] * (count - before.get(prefix, 0))
    if own in used:
        used.remove(own)
    return used


def _name_probe_kwargs(cls) -> dict | None:
    """Values for CLS's required constructor arguments, or None."""
    kwargs = {}
    for p in describe_signature(cls.__init__, drop_first=True)["params"]:
        if not p["required"]:
            continue
        if p["name"] == "layer":
            kwargs["layer"] = keras.layers.Dense(2) if cls.__name__ != "Bidirectional" else keras.layers.LSTM(2)
        elif p["name"] in _PROBE_ARGS or p["name"] in _NAME_PROBE_ARGS:
            kwargs[p["name"]] = {**_PROBE_ARGS, **_NAME_PROBE_ARGS}[p["name"]]
        else:
            return None
    return kwargs


def _call_on(layer, shape):
    x = keras.KerasTensor(shape)
    name = type(layer).__name__
    if name in _MULTI_INPUT_CALLS:
        return layer(*([x] * _MULTI_INPUT_CALLS[name]))
    if name in _LIST_INPUT_CALLS:
        return layer([x, x])
    return layer(x)


# Arguments that make a layer compute a mask, with ops of its own, on every
# call: their names are used up by each call made with that argument.
_MASK_ARGUMENTS = {"Embedding": ("mask_zero", True)}


def name_effects(cls) -> dict | None:
    """The automatic names CLS uses up besides its own: sublayers made when
    it is constructed or on its first call (MultiHeadAttention makes a
    Softmax and a Dropout when first called), and the ops each call makes
    (Masking's mask: `not_equal`, `any`), so later unnamed layers and ops of
    those classes are numbered on; for a class of _MASK_ARGUMENTS, the ops
    each call makes when it is given that argument.  None when the probe
    cannot build CLS."""
    kwargs = _name_probe_kwargs(cls)
    if kwargs is None:
        return None
    own = naming_prefix(cls.__name__)
    shapes = [s for s in (_probe_input(cls, None),) if s] + list(_FALLBACK_INPUTS)
    for shape in shapes:
        try:
            construct, calls = _names_of_calls(cls, kwargs, shape, own)
        except Exception:  # noqa: BLE001 - this input does not suit the layer
            continue
        every = calls[1]  # what a later call uses again, each time
        effects = {"construct": construct, "first_call": _without(calls[0], every), "every_call": every}
        if cls.__name__ in _MASK_ARGUMENTS:
            argument, value = _MASK_ARGUMENTS[cls.__name__]
            _, masked = _names_of_calls(cls, {**kwargs, argument: value}, shape, own)
            effects["masked_call"] = {"argument": argument, "value": value, "names": _without(masked[1], every)}
        return effects
    return None


def _names_of_calls(cls, kwargs: dict, shape, own: str) -> tuple:
    """(the names constructing CLS uses, [the names of its first call, of its second])."""
    keras.backend.clear_session()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = _name_counts()
        layer = cls(**kwargs)
        built = _name_counts()
        _call_on(layer, shape)
        first = _name_counts()
        _call_on(layer, shape)
        second = _name_counts()
    return _used_names(start, built, own), [_used_names(built, first), _used_names(first, second)]


def _without(names: list, taken: list) -> list:
    """NAMES less one of each of TAKEN (a multiset difference)."""
    left = list(names)
    for name in taken:
        if name in left:
            left.remove(name)
    return left


def naming_prefix(class_name: str) -> str:
    """Keras's automatic-name prefix of a class (keras.src.utils.naming)."""
    from keras.src.utils.naming import to_snake_case

    return to_snake_case(class_name)


def _masked_probe(cls, kwargs: dict) -> tuple | None:
    """(whether a layer of CLS made with KWARGS consumes a mask, whether it
    passes one on), probed on the output of `Embedding(mask_zero=True)`: it
    consumes it when the model gets the mask's `not_equal` op as an input of
    its call, passes it on when its output has a mask.  None when the probe
    cannot call it on a sequence."""
    keras.backend.clear_session()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tokens = keras.Input((5,), dtype="int32")
            masked = keras.layers.Embedding(10, 4, mask_zero=True)(tokens)
            layer = cls(**kwargs)
            name = type(layer).__name__
            if name in _MULTI_INPUT_CALLS:
                out = layer(*([masked] * _MULTI_INPUT_CALLS[name]))
            elif name in _LIST_INPUT_CALLS:
                out = layer([masked, masked])
            else:
                out = layer(masked)
            first = out[0] if isinstance(out, (list, tuple)) else out
            model = keras.Model(tokens, first)
    except Exception:  # noqa: BLE001 - not a layer for a sequence of vectors
        return None
    consumes = any(type(op).__name__ == "NotEqual" for op in model.operations)
    return consumes, getattr(first, "_keras_mask", None) is not None


def _merged_masks(cls, kwargs: dict) -> str | None:
    """How a merge of CLS combines its inputs' masks, probed on three (else
    two) masked sequences read by an LSTM: "logical_or" when Keras folds
    them with `logical_or` ops (one per input after the first),
    "concatenate" for Concatenate's widening and joining, "query" for the
    first input's mask through `convert_to_tensor` (Attention), "other"
    when it makes other ops, None when it passes no mask on."""
    for count in (3, 2):
        keras.backend.clear_session()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                tokens = keras.Input((5,), dtype="int32")
                masked = [keras.layers.Embedding(10, 4, mask_zero=True)(tokens) for _ in range(count)]
                model = keras.Model(tokens, keras.layers.LSTM(2)(cls(**kwargs)(masked)))
        except Exception:  # noqa: BLE001 - this count of inputs does not suit it
            continue
        made = sorted(type(op).__name__ for op in model.operations if not isinstance(op, keras.layers.Layer))
        if not made:
            return None
        if made == ["LogicalOr"] * (count - 1) + ["NotEqual"] * count:
            return "logical_or"
        if made == ["ConvertToTensor", "NotEqual"]:  # Attention: the query's mask, through convert_to_tensor
            return "query"
        # Concatenate.compute_mask: each mask widened to its input's rank, joined, then `any`.
        widened = ["Any", "Concatenate"] + ["ExpandDims", "LogicalOr", "NotEqual", "ZerosLike"] * count
        return "concatenate" if made == sorted(widened) else "other"
    return None


def build_masking(layers: dict) -> dict:
    """Per canonical layer class that consumes a mask or passes one on (the
    others drop it): {"consumes", "passes"}, and for the recurrent layers,
    which pass it on only with return_sequences, {"passes_when": [argument,
    value]} ({"passes_when_wrapped": ...} for a wrapper, of its layer's).  Masks come from Embedding(mask_zero=True) and Masking, whose
    ops `name_effects` records."""
    out = {}
    for name, entry in layers.items():
        if "canonical" in entry or name in ("Embedding", "Masking"):
            continue
        cls = getattr(keras.layers, name)
        kwargs = _name_probe_kwargs(cls)
        probed = _masked_probe(cls, kwargs) if kwargs is not None else None
        if probed is None:
            continue
        consumes, passes = probed
        found = {"consumes": consumes, "passes": passes}
        if not passes and any(p["name"] == "return_sequences" for p in entry["params"]):
            sequences = _masked_probe(cls, {**kwargs, "return_sequences": True})
            if sequences is not None and sequences[1]:
                found["passes_when"] = ["return_sequences", True]
        if not passes and "layer" in kwargs:  # a wrapper: Bidirectional(LSTM(..., return_sequences=True))
            inner = type(kwargs["layer"])
            if any(p["name"] == "return_sequences" for p in describe_signature(inner.__init__, drop_first=True)["params"]):
                sequences = _masked_probe(cls, {**kwargs, "layer": inner(2, return_sequences=True)})
                if sequences is not None and sequences[1]:
                    found["passes_when_wrapped"] = ["return_sequences", True]
        if name in _LIST_INPUT_CALLS and passes:
            found["merges"] = _merged_masks(cls, kwargs)
        if consumes or passes or "passes_when" in found or "passes_when_wrapped" in found:
            out[name] = found
    keras.backend.clear_session()
    return out


def build_name_effects(layers: dict) -> dict:
    """Per canonical layer class, the names it uses up besides its own (only
    classes that use any are listed)."""
    out = {}
    for name, entry in layers.items():
        if "canonical" in entry:
            continue
        effects = name_effects(getattr(keras.layers, name))
        if effects and (effects["construct"] or effects["first_call"] or effects["every_call"]
                        or effects.get("masked_call", {}).get("names")):
            out[name] = effects
    keras.backend.clear_session()
    return out


class _StopBuild(Exception):
    """Raised from the wrapped obtain_input_shape to skip building a model."""


@contextlib.contextmanager
def _patched(module, attr, replacement):
    """Temporarily replace ``module.attr``."""
    original = getattr(module, attr)
    setattr(module, attr, replacement(original))
    try:
        yield
    finally:
        setattr(module, attr, original)


def application_names() -> list:
    """The model functions of ``keras.applications`` (not the submodules)."""
    return sorted(n for n in dir(keras.applications) if inspect.isfunction(getattr(keras.applications, n)))


def _probe_obtain_input_shape(fn, **kwargs):
    """Call an application and capture its obtain_input_shape() call.

    Returns ``(call kwargs incl. the result, model or None)``: the build is
    aborted right after the call; a model is only built when the
    application never calls obtain_input_shape.
    """
    seen = {}

    def wrap(original):
        def recorder(input_shape, default_size, min_size, data_format, require_flatten, weights=None):
            result = original(input_shape, default_size, min_size, data_format, require_flatten, weights)
            seen.update(default_size=default_size, min_size=min_size, result=result)
            raise _StopBuild

        return recorder

    with _patched(imagenet_utils, "obtain_input_shape", wrap):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model = fn(weights=None, **kwargs)
        except _StopBuild:
            return seen, None
    return seen, model


_SQUARE_SIZES = re.compile(r"rows == cols and rows in (\[[\d,\s]+\])")
_OWN_MIN = re.compile(r"rows < (\d+) or cols < (\d+)")


def _square_sizes(fn, default_size) -> list | None:
    """Sizes that replace default_size when the input is square (MobileNet).

    Read from the source, then confirmed by probing each size.
    """
    match = _SQUARE_SIZES.search(inspect.getsource(inspect.getmodule(fn)))
    if not match:
        return None
    sizes = sorted(ast.literal_eval(match.group(1)))
    for size in sizes + [max(sizes) + 1]:
        seen, _ = _probe_obtain_input_shape(fn, input_shape=(size, size, 3))
        expected = size if size in sizes else default_size
        if seen.get("default_size") != expected:
            raise RuntimeError(f"{fn.__name__}: square-size rule not confirmed at {size}")
    return sizes


def _own_min_size(fn) -> int:
    """Minimum size of an application that checks its input itself."""
    match = _OWN_MIN.search(inspect.getsource(inspect.getmodule(fn)))
    if not match or match.group(1) != match.group(2):
        raise RuntimeError(f"{fn.__name__}: cannot find its input-size check")
    size = int(match.group(1))
    for bad in (size - 1,):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fn(weights=None, include_top=False, input_shape=(bad, bad, 3))
        except ValueError:
            continue
        raise RuntimeError(f"{fn.__name__}: size {bad} was not rejected")
    return size


_DEFAULT_MODEL_NAME = re.compile(r"""if name is None:\s+name = f["']([^"']+)["']\s+model = Functional\(""")


def _name_template(fn) -> str | None:
    """The f-string an application builds its default model name with when
    the name depends on its arguments (``mobilenetv2_{alpha:0.2f}_{rows}``),
    or None when the default is a constant."""
    source = inspect.getsource(inspect.getmodule(fn))
    found = set(_DEFAULT_MODEL_NAME.findall(source))
    if len(found) > 1:
        raise RuntimeError(f"{fn.__name__}: several default-name templates {found}")
    return found.pop() if found else None


def describe_application(name: str) -> dict:
    """Signature and input-size facts of one application function."""
    fn = getattr(keras.applications, name)
    info = describe_signature(fn)
    info["module"] = fn.__module__
    info["doc"] = first_paragraph(fn)
    info["has_name"] = any(p["name"] == "name" for p in info["params"])
    info["name_template"] = _name_template(fn)
    seen, model = _probe_obtain_input_shape(fn)
    if model is None:
        info["input_check"] = "obtain_input_shape"
        info["default_size"] = seen["default_size"]
        info["min_size"] = seen["min_size"]
        info["default_input_shape"] = list(seen["result"])
        info["square_sizes"] = _square_sizes(fn, seen["default_size"])
    else:
        info["input_check"] = "own"
        info["default_size"] = None
        info["min_size"] = _own_min_size(fn)
        info["default_input_shape"] = list(model.input_shape[1:])
        info["square_sizes"] = None
    info["graph"] = f"{APPS_SUBDIR}/{name}.json"
    return info


def build_applications() -> dict:
    """``describe_application`` for every application."""
    return {name: describe_application(name) for name in application_names()}


# ---------------------------------------------------------------------------
# The catalog
# ---------------------------------------------------------------------------


_IMPORTED_MODULES = """
import json, sys
import keras
from keras import layers
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""


def import_time_modules() -> list:
    """The top-level modules Python loads to import Keras as a generated
    module does (`import keras`, `from keras import layers`), in a fresh
    interpreter: a generated module named like one of them would shadow it
    in its own folder, and `import keras` there would fail."""
    import subprocess

    env = {**os.environ, "KERAS_BACKEND": keras.backend.backend()}
    out = subprocess.run([sys.executable, "-c", _IMPORTED_MODULES], capture_output=True, text=True, env=env, check=True)
    names = json.loads(out.stdout.strip().splitlines()[-1])
    # Private helpers of this environment (editable-install finders, Cython
    # runtimes) are no module a user could name a file after by accident.
    return sorted(n for n in names if n.isidentifier() and (n in sys.stdlib_module_names or not n.startswith("_")))


def build_catalog() -> dict:
    """Everything the checker needs to know about the installed Keras."""
    base_kwargs = base_layer_kwargs()
    layers = build_layers(base_kwargs)
    catalog = {
        "schema": SCHEMA_VERSION,
        "keras_version": keras.__version__,
        "backend": keras.backend.backend(),
        "image_data_format": keras.backend.image_data_format(),
        "base_layer_kwargs": base_kwargs,
        "call_context_args": call_context_args(),
        "layers": layers,
        "merge_helpers": build_merge_helpers(),
        "input": describe_signature(keras.Input),
        "compile": describe_signature(keras.Model.compile, drop_first=True),
        "activations": build_activations(),
        "applications": build_applications(),
        "enums": build_enums(layers),
        "name_effects": build_name_effects(layers),
        "masking": build_masking(layers),
        "import_time_modules": import_time_modules(),
    }
    catalog.update(build_registries())
    return catalog


# ---------------------------------------------------------------------------
# Application graphs
# ---------------------------------------------------------------------------

_DROPPED_SUFFIXES = ("_initializer", "_regularizer", "_constraint")
_PUBLIC_LAYERS = {id(getattr(keras.layers, n)) for n in dir(keras.layers)}


def clean_config(op) -> dict:
    """The part of ``op.get_config()`` that decides shapes and weights.

    Drops the name (recorded separately), initializers, regularizers,
    constraints and the dtype policy unless it is not the default float32.
    """
    try:
        config = op.get_config()
    except NotImplementedError:
        return {}
    out = {}
    for key, value in config.items():
        if key == "name" or key.endswith(_DROPPED_SUFFIXES):
            continue
        if key == "activity_regularizer":
            continue
        if key == "dtype" and isinstance(value, dict):
            policy = value.get("config", {}).get("name")
            if policy in (None, "float32"):
                continue
            value = policy
        out[key] = encode_value(value, tuples=False)
    return out


def weight_list(op) -> list:
    """``[[name, shape, trainable], ...]`` for an op's own variables."""
    if not isinstance(op, keras.layers.Layer):
        return []
    return [[w.name, list(w.shape), bool(w.trainable)] for w in op.weights]


def describe_op(op) -> dict:
    """Class, name, module (if not a public keras.layers class) and config."""
    cls = type(op)
    record = {"class": cls.__name__, "name": op.name}
    if id(cls) not in _PUBLIC_LAYERS:
        record["module"] = cls.__module__
    if isinstance(op, keras.Sequential):
        record["config"] = {"layers": [describe_op(layer) for layer in op.layers]}
        record["weights"] = []
        return record
    if isinstance(op, keras.Model):
        raise NotImplementedError(f"nested functional model {op.name}")
    record["config"] = clean_config(op)
    record["weights"] = weight_list(op)
    return record


def _encode_arg(value, ref):
    """A call argument: tensors become references, the rest JSON."""
    if isinstance(value, keras.KerasTensor):
        return ref(value)
    if isinstance(value, (list, tuple)):
        return [_encode_arg(v, ref) for v in value]
    if isinstance(value, dict):
        return {k: _encode_arg(v, ref) for k, v in value.items()}
    return encode_value(value, tuples=False)


def _shape(t) -> list:
    return list(t.shape)


def _explicit_kwargs(op, kwargs: dict) -> dict:
    """Call keywords minus those equal to the ``call()`` default.

    ``Layer.__call__`` fills in ``mask=None`` / ``training=False`` itself;
    recording them would only add noise.
    """
    try:
        params = inspect.signature(op.call).parameters
    except (TypeError, ValueError):
        return dict(kwargs)
    out = {}
    for key, value in kwargs.items():
        default = params[key].default if key in params else inspect.Parameter.empty
        literal = value is None or isinstance(value, (bool, int, float, str))
        if not (literal and type(value) is type(default) and value == default):
            out[key] = value  # (tensors are never compared: == builds an op)
    return out


def graph_records(model, pads=()) -> tuple:
    """One record per operation, in ``model.operations`` (topological) order.

    Tensor references are ``{"@": [op name, call, output]}`` here; they are
    turned into list indices by ``_index_refs``.  ``call`` counts only the
    calls that belong to this model.  Returns ``(records, ref)`` where
    ``ref(tensor)`` makes such a reference.
    """
    ops = model.operations
    calls = {}
    for op in ops:
        kept = [k for k in range(len(op._inbound_nodes)) if make_node_key(op, k) in model._nodes]
        calls[id(op)] = {k: i for i, k in enumerate(kept)}

    def ref(tensor):
        history = tensor._keras_history
        op = history.operation
        return {"@": [op.name, calls[id(op)][history.node_index], history.tensor_index]}

    records = []
    for op in ops:
        record = describe_op(op)
        record["calls"] = []
        for k in calls[id(op)]:
            node = op._inbound_nodes[k]
            call = {"args": _encode_arg(list(node.arguments.args), ref)}
            kwargs = _explicit_kwargs(op, node.arguments.kwargs)
            if kwargs:
                call["kwargs"] = _encode_arg(kwargs, ref)
            call["out"] = [_shape(t) for t in node.outputs]
            dyn = _dynamic_padding(op, node, pads)
            if dyn:
                call["dynamic"] = dyn
            record["calls"].append(call)
        records.append(record)
    return records, ref


@contextlib.contextmanager
def recording_correct_pad():
    """Record every ``imagenet_utils.correct_pad(x, k)`` during a build.

    That helper sizes a ZeroPadding2D from the parity of ``x``'s spatial
    size, so its padding is a function of the input size, not a constant.
    """
    seen = []

    def wrap(original):
        def recorder(inputs, kernel_size):
            result = original(inputs, kernel_size)
            k = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
            seen.append((inputs, list(k), result))
            return result

        return recorder

    with _patched(imagenet_utils, "correct_pad", wrap):
        yield seen


def _dynamic_padding(op, node, pads) -> dict | None:
    """``{"padding": {"correct_pad": [kh, kw]}}`` for a ZeroPadding2D whose
    padding came from ``correct_pad`` on its own input, else None."""
    if not isinstance(op, keras.layers.ZeroPadding2D) or not pads:
        return None
    x = node.arguments.args[0]
    for tensor, kernel, result in pads:
        if tensor is x and tuple(map(tuple, op.padding)) == tuple(map(tuple, result)):
            return {"padding": {"correct_pad": kernel}}
    return None


def _check_pads_used(records, pads) -> None:
    """Every correct_pad() result must have fed a ZeroPadding2D we marked."""
    marked = sum(1 for r in records for c in r["calls"] if "dynamic" in c)
    if marked != len(pads):
        raise RuntimeError(f"{len(pads)} correct_pad calls, {marked} marked")


def build_model(name: str, **kwargs):
    """Build an application with ``weights=None`` and fresh layer names.

    ``clear_session()`` resets Keras's name counters, so unnamed layers get
    the same auto-generated names on every run.  (Garbage collection is left
    to ``build_application``: a full collection costs ~0.25 s per build.)
    """
    keras.backend.clear_session(free_memory=False)
    fn = getattr(keras.applications, name)
    with recording_correct_pad() as pads, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = fn(weights=None, **kwargs)
    model.kd_names_used = dict(sorted(_name_counts().items()))
    records, ref = graph_records(model, pads)
    _check_pads_used(records, pads)
    model.kd_refs = {"inputs": [ref(t) for t in model.inputs], "outputs": [ref(t) for t in model.outputs]}
    return model, records


def _model_summary(model) -> dict:
    """Counts and output shape of a built model, for checking replays."""
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    non_trainable = sum(int(np.prod(w.shape)) for w in model.non_trainable_weights)
    return {
        "output_shape": [_shape(t) for t in model.outputs],
        "params": {"total": model.count_params(), "trainable": trainable, "non_trainable": non_trainable},
    }


def _ref_names(value, found: set) -> set:
    """Names of the ops referenced anywhere inside ``value``."""
    if isinstance(value, dict):
        if set(value) == {"@"}:
            found.add(value["@"][0])
        else:
            for v in value.values():
                _ref_names(v, found)
    elif isinstance(value, list):
        for v in value:
            _ref_names(v, found)
    return found


def shared_base(variants: list, name: str) -> list:
    """The ops that every variant contains identically, in the order of the
    first variant, closed under their inputs.

    Not simply the ``include_top=False`` model: ConvNeXt ends that model with
    a LayerNormalization that its ``include_top=True`` model does not have.
    """
    first, others = variants[0], variants[1:]
    maps = [{r["name"]: r for r in records} for records in others]
    base = [r for r in first if all(m.get(r["name"]) == r for m in maps)]
    while True:  # drop ops whose inputs are not all in the base
        names = {r["name"] for r in base}
        kept = [r for r in base if _ref_names(r["calls"], set()) <= names]
        if len(kept) == len(base):
            break
        base = kept
    if not base:
        raise RuntimeError(f"{name}: the variants share no ops")
    return base


def _extra_ops(base: list, records: list) -> list:
    """The records of one variant that are not in the shared base."""
    names = {r["name"] for r in base}
    return [r for r in records if r["name"] not in names]


def _mark_params(a, b, path: str):
    """Mark values that differ between the two top builds as parameters."""
    if isinstance(a, dict) and isinstance(b, dict) and a.keys() == b.keys():
        return {k: _mark_params(a[k], b[k], f"{path}.{k}") for k in a}
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [_mark_params(x, y, f"{path}[{i}]") for i, (x, y) in enumerate(zip(a, b))]
    if a == b:
        return a
    for param, (default, probe) in PARAM_PROBES.items():
        if (a, b) == (default, probe):
            return {"param": param}
    raise RuntimeError(f"unexplained difference at {path}: {a!r} vs {b!r}")


# The top is built twice: once with the defaults and once with the probe
# values; a config value that changes accordingly is a parameter.  7 and
# "sigmoid" appear in no application's default top.
PARAM_PROBES = {"classes": (1000, 7), "classifier_activation": ("softmax", "sigmoid")}


def _parameterise(top: list, probe_top: list, name: str) -> list:
    """Replace config values in ``top`` that follow ``classes`` or
    ``classifier_activation`` by ``{"param": ...}``.

    Only ``config`` is parameterised; ``out`` shapes and ``weights`` stay
    those of the defaults.
    """
    if [r["name"] for r in top] != [r["name"] for r in probe_top]:
        raise RuntimeError(f"{name}: the structure of the top depends on classes")
    out = []
    for record, probe in zip(top, probe_top):
        record = dict(record)
        record["config"] = _mark_params(record["config"], probe["config"], f"{name}.{record['name']}")
        out.append(record)
    return out


def _index_refs(value, index: dict):
    """Turn ``{"@": [name, call, out]}`` into ``{"@": [op index, call, out]}``."""
    if isinstance(value, dict):
        if set(value) == {"@"}:
            op, call, out = value["@"]
            return {"@": [index[op], call, out]}
        return {k: _index_refs(v, index) for k, v in value.items()}
    if isinstance(value, list):
        return [_index_refs(v, index) for v in value]
    return value


# The variants recorded, with the arguments that select them.
VARIANTS = {
    "none": {"include_top": False, "pooling": None},
    "avg": {"include_top": False, "pooling": "avg"},
    "max": {"include_top": False, "pooling": "max"},
    "top": {"include_top": True},
}


def _variant_set(name: str, shape: tuple, keys) -> dict:
    """Build the given variants at ``shape``; return ``{"base", "variants"}``
    with name references (see ``build_application``)."""
    models, records = {}, {}
    for key in keys:
        models[key], records[key] = build_model(name, input_shape=shape, **VARIANTS[key])
    base = shared_base(list(records.values()), name)
    variants = {}
    for key, model in models.items():
        ops = _extra_ops(base, records[key])
        if key == "top":
            _, probe = build_model(
                name,
                input_shape=shape,
                include_top=True,
                **{k: v[1] for k, v in PARAM_PROBES.items()},
            )
            ops = _parameterise(ops, _extra_ops(base, probe), name)
        variants[key] = {"ops": ops, "outputs": model.kd_refs["outputs"], **_model_summary(model),
                         "names_used": model.kd_names_used}
    first = next(iter(models.values()))
    return {
        "input_shape": list(shape),
        "model_name": first.name,
        "base": {"ops": base, "inputs": first.kd_refs["inputs"]},
        "variants": variants,
    }


def _shape_free(records: list) -> dict:
    """Records by name, without what legitimately depends on the input size:
    output shapes, weight lists (Flatten-fed Dense), the Input's batch shape
    and correct_pad paddings."""
    out = {}
    for record in json.loads(json.dumps(records)):
        record.pop("weights", None)
        record["config"].pop("batch_shape", None)
        for call in record["calls"]:
            call.pop("out", None)
            if "dynamic" in call:
                record["config"].pop("padding", None)
        out[record["name"]] = record
    return out


def _unknown_size(shape: tuple) -> tuple:
    """``shape`` with its spatial dimensions unknown (channels-last)."""
    return tuple(None for _ in shape[:-1]) + (shape[-1],)


def build_application(name: str) -> dict:
    """The layer graph of one application, replayable without Keras.

    Layout: ``base.ops`` are the ops shared by all variants; for each variant
    in ``VARIANTS`` (``none`` = ``include_top=False, pooling=None``, ``avg``,
    ``max``, ``top`` = ``include_top=True``) ``variants[v].ops`` lists the
    ops it adds.  The op list of a variant is ``base.ops + variants[v].ops``;
    references ``{"@": [op, call, output]}`` index into that concatenation.
    Every build uses the default input shape (``input_shape``).

    ``unknown_size`` is null when building with unknown spatial dimensions
    (what ``include_top=False`` without ``input_shape`` does) gives the same
    graph up to shapes; otherwise it holds the ``none``/``avg``/``max``
    variants built that way (NASNet: ``_adjust_block`` compares static
    shapes, and ``None != None`` is False).

    An op record: ``class``; ``module`` unless the class is public in
    ``keras.layers`` (custom layers, ``keras.src.ops.numpy`` arithmetic,
    ``Sequential``); ``name``; ``config`` (``get_config()`` without name,
    initializers, regularizers, constraints and a float32 dtype policy;
    tuples as lists; a ``Sequential`` has ``{"layers": [records]}`` applied
    in order); ``weights`` ``[[name, shape, trainable]]``; ``calls``, one
    per call: ``args`` (tensors as references, constants as JSON, lists
    kept, e.g. ``Add([a, b])``), ``kwargs`` if any differ from ``call()``'s
    defaults, ``out`` (output shapes), and ``dynamic`` where a config value
    is a function of the input: ``{"padding": {"correct_pad": [kh, kw]}}``
    means ``((kh//2 - a, kh//2), (kw//2 - a', kw//2))`` with
    ``a = 1 - h % 2`` for the call's input height ``h`` (``a = a' = 1`` if
    the size is unknown).  ``{"param": "classes"}`` in a ``top`` config
    stands for that argument.  ``out``, ``weights``, ``output_shape`` and
    ``params`` are those at default arguments, for checking replays.
    ``names_used`` counts the automatic names each variant's build used up
    (unnamed layers and ops inside it), which later unnamed layers of the
    same session are numbered after.
    """
    fn = getattr(keras.applications, name)
    shape = tuple(describe_application(name)["default_input_shape"])
    main = _variant_set(name, shape, VARIANTS)
    unknown = None
    if None not in shape[:-1]:
        shape_u = _unknown_size(shape)
        _, records_u = build_model(name, input_shape=shape_u, **VARIANTS["none"])
        records = main["base"]["ops"] + main["variants"]["none"]["ops"]
        if _shape_free(records_u) != _shape_free(records):
            unknown = _finalise_refs(_variant_set(name, shape_u, ("none", "avg", "max")))
    graph = {
        "schema": SCHEMA_VERSION,
        "keras_version": keras.__version__,
        "application": name,
        "module": fn.__module__,
        **_finalise_refs(main),
        "unknown_size": unknown,
    }
    keras.backend.clear_session()  # and collect garbage: models are large
    return graph


def _finalise_refs(graph: dict) -> dict:
    """Rewrite every name reference as an index into base (+ variant) ops."""
    base_index = {r["name"]: i for i, r in enumerate(graph["base"]["ops"])}
    graph["base"] = _index_refs(graph["base"], base_index)
    for key, variant in graph["variants"].items():
        index = dict(base_index)
        for j, record in enumerate(variant["ops"]):
            index[record["name"]] = len(base_index) + j
        graph["variants"][key] = _index_refs(variant, index)
    return graph


# ---------------------------------------------------------------------------
# Writing and checking
# ---------------------------------------------------------------------------


def dump_catalog(catalog: dict) -> str:
    """Pretty, stable JSON for the catalog (readable git diffs)."""
    return json.dumps(catalog, indent=1, sort_keys=True) + "\n"


def dump_application(graph: dict) -> str:
    """Compact, stable JSON for an application graph."""
    return json.dumps(graph, sort_keys=True, separators=(",", ":")) + "\n"


def expected_files(apps: list | None = None, with_catalog: bool = True) -> dict:
    """``{relative path: text}`` of the files this script produces."""
    files = {}
    if with_catalog:
        files[CATALOG_FILE] = dump_catalog(build_catalog())
    for name in application_names() if apps is None else apps:
        files[f"{APPS_SUBDIR}/{name}.json"] = dump_application(build_application(name))
    return files


def _short(value, width: int = 70) -> str:
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= width else text[: width - 3] + "..."


def json_differences(old, new, path: str = "") -> list:
    """Readable ``path: old -> new`` lines for two JSON values.

    List items that are records with a ``name`` (layers, ops, params) are
    labelled by that name rather than their index.
    """
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for key in sorted(set(old) | set(new)):
            sub = f"{path}.{key}" if path else str(key)
            if key not in old:
                out.append(f"{sub}: added {_short(new[key])}")
            elif key not in new:
                out.append(f"{sub}: removed")
            else:
                out.extend(json_differences(old[key], new[key], sub))
        return out
    if isinstance(old, list) and isinstance(new, list):
        out = []
        if len(old) != len(new):
            out.append(f"{path}: {len(old)} -> {len(new)} items")
        for i, (a, b) in enumerate(zip(old, new)):
            label = a.get("name", i) if isinstance(a, dict) else i
            out.extend(json_differences(a, b, f"{path}[{label}]"))
        return out
    return [] if old == new else [f"{path}: {_short(old)} -> {_short(new)}"]


def diff_summary(path: str, old: str | None, new: str, limit: int = 25) -> str:
    """What changed in one out-of-date file, as JSON paths."""
    if old is None:
        return f"{path}: missing"
    try:
        lines = json_differences(json.loads(old), json.loads(new))
    except json.JSONDecodeError:
        lines = ["(committed file is not valid JSON)"]
    if not lines:
        lines = ["(same data, different formatting)"]
    more = f"\n  ... and {len(lines) - limit} more" if len(lines) > limit else ""
    return f"{path}: {len(lines)} difference(s)\n  " + "\n  ".join(lines[:limit]) + more


def _orphans(files: dict) -> list:
    """Committed graph files of applications Keras no longer has."""
    wanted = {rel for rel in files if rel.startswith(APPS_SUBDIR + "/")}
    present = {f"{APPS_SUBDIR}/{p.name}" for p in (DATA_DIR / APPS_SUBDIR).glob("*.json")}
    return sorted(present - wanted)


def main(argv=None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing; exit 1 on differences")
    parser.add_argument("--apps", nargs="*", default=None, help="only these applications (default: all)")
    parser.add_argument("--only-catalog", action="store_true", help="skip the application graphs")
    args = parser.parse_args(argv)
    apps = [] if args.only_catalog else args.apps
    files = expected_files(apps)
    orphans = _orphans(files) if apps is None else []
    stale = [f"{rel}: no longer an application" for rel in orphans]
    for rel, text in files.items():
        path = DATA_DIR / rel
        old = path.read_text(encoding="utf-8") if path.exists() else None
        if old == text:
            continue
        if args.check:
            stale.append(diff_summary(rel, old, text))
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(ROOT)} ({len(text)} bytes)")
    if not args.check:
        for rel in orphans:
            (DATA_DIR / rel).unlink()
            print(f"removed {rel}")
        return 0
    if stale:
        print(f"{len(stale)} file(s) differ from Keras {keras.__version__}:\n")
        print("\n\n".join(stale))
        print("\nRun: python scripts/gen_catalog.py")
        return 1
    print(f"{len(files)} file(s) up to date with Keras {keras.__version__}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
