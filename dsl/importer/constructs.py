"""Each layer of an imported graph as the kd constructor that makes it: the
callee, the arguments that differ from the catalog's defaults (in the
catalog's order) and the name.

`construct(layer)` decides; nothing here imports Keras: defaults come from
the catalog (`dsl/data/keras_catalog.json`).
"""

from __future__ import annotations

import re
from ..records import field, record
from typing import Optional

from .. import catalog as kcat
from ..check.auto_names import snake_case
from ..namespaces import namespace_of
from .graph import Layer
from .problems import ImportProblem
from .values import Obj, from_json, plain

# Keras's own keys that every layer's config holds; dealt with apart.
_BASE_KEYS = ("name", "trainable", "dtype")

# keras.ops classes that kd writes as operators (kd 1.0), with their operator.
ARITHMETIC = {"Add": "+", "Subtract": "-", "Multiply": "*", "TrueDivide": "/", "Negative": "neg"}

# Where kd writes the first optional argument by position, as Keras's docs do.
_FIRST_POSITIONAL = re.compile(r"^(Activation|(Max|Average)Pooling[123]D|UpSampling[123]D)$")
# Arguments Keras turns into tuples from an int: written back as the int when uniform.
_SIZE_KEYS = frozenset({"kernel_size", "strides", "dilation_rate", "pool_size", "size"})
_SIZE_CLASSES = re.compile(r"Conv|Pool|UpSampling")
_PADDING_CLASSES = {"ZeroPadding1D": ("padding", 1), "ZeroPadding2D": ("padding", 2), "ZeroPadding3D": ("padding", 3),
                    "Cropping1D": ("cropping", 1), "Cropping2D": ("cropping", 2), "Cropping3D": ("cropping", 3)}
_INPUT_FLAGS = (("sparse", False), ("ragged", False), ("optional", False))
# Settings Keras's configs hold that no constructor in the catalog declares
# (they reach a base class through **kwargs): dropped at their default.
_UNDECLARED_DEFAULTS = {"zero_output_for_mask": False, "rms_scaling": False}


@record
class Construct:
    """How kd makes one layer.

    `kind`: "input", "layer" (keras.layers), "merge" (a merge layer, which
    may be written with its helper), "custom" (a class from a `from` line),
    "arith" (an operator on tensors), "model" (a nested kd model),
    "application" (a keras.applications model).
    """

    kind: str
    callee: str
    args: list = field(default_factory=list)  # positional values
    arg_names: list = field(default_factory=list)  # the parameter each positional value is for
    kwargs: list = field(default_factory=list)  # (key, value), in the catalog's order
    name: Optional[str] = None  # the layer's Keras name
    auto: bool = False  # the name is the automatic one: kd leaves it out
    trainable: bool = True
    from_import: Optional[tuple] = None  # (module, class) for a custom class

    def key(self) -> tuple:
        """Everything but the name: two layers with equal keys are made alike."""
        return (self.kind, self.callee, tuple(self.args), tuple(self.kwargs), self.trainable)


def looks_automatic(name: str, cls: str) -> bool:
    """Whether NAME is one Keras would give an unnamed CLS (`conv2d_3`)."""
    prefix = snake_case(cls)
    return name == prefix or bool(re.fullmatch(re.escape(prefix) + r"_[1-9][0-9]*", name))


def auto_prefix(name: str) -> tuple:
    """(prefix, number) of an automatic-looking name: `conv2d_3` -> ("conv2d", 3)."""
    match = re.fullmatch(r"(.*?)_([1-9][0-9]*)", name)
    return (match.group(1), int(match.group(2))) if match else (name, 0)


# ------------------------------------------------------------- the catalog


def _dtype_name(value) -> Optional[str]:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, dict):
        config = value.get("config")
        if isinstance(config, dict) and isinstance(config.get("name"), str):
            return config["name"]
    return None


def _expand_padding(value, rank: int):
    """Padding or cropping in Keras's full form: a pair per dimension."""
    if isinstance(value, int):
        full = ((value, value),) * rank
    elif isinstance(value, tuple) and all(isinstance(v, int) for v in value) and len(value) == rank and rank > 1:
        full = tuple((v, v) for v in value)
    else:
        full = tuple(tuple(v) if isinstance(v, tuple) else v for v in value) if isinstance(value, tuple) else value
    return full[0] if rank == 1 and isinstance(full, tuple) and len(full) == 1 else full


def _short_padding(full, rank: int):
    """The shortest way to write a padding Keras would expand to FULL."""
    if rank == 1:
        return full[0] if isinstance(full, tuple) and len(full) == 2 and full[0] == full[1] else full
    if all(isinstance(p, tuple) and len(p) == 2 and p[0] == p[1] for p in full):
        sides = tuple(p[0] for p in full)
        return sides[0] if len(set(sides)) == 1 else sides
    return full


def short_form(cls: str, key: str, value):
    """VALUE as a reader would write it: `3` for `(3, 3)`."""
    if key in _SIZE_KEYS and _SIZE_CLASSES.search(cls) and isinstance(value, tuple) and value:
        if all(isinstance(v, int) and not isinstance(v, bool) for v in value) and len(set(value)) == 1:
            return value[0]
    padding = _PADDING_CLASSES.get(cls)
    if padding and key == padding[0]:
        return _short_padding(_expand_padding(value, padding[1]), padding[1])
    return value


def is_default(cls: str, key: str, value, default, config: dict) -> bool:
    """Whether VALUE is what Keras makes of the parameter's DEFAULT."""
    if isinstance(default, kcat.Opaque):
        return False
    if plain(value) == plain(default) or plain(short_form(cls, key, value)) == plain(short_form(cls, key, default)):
        return True
    if value == "linear" and default is None and key.endswith("activation"):
        return True
    if key == "data_format" and value == "channels_last" and default is None:
        return True
    if key == "axis" and isinstance(value, tuple) and len(value) == 1 and value[0] == default:
        return True
    if key == "strides" and default is None and "Pool" in cls and plain(value) == plain(config.get("pool_size")):
        return True
    padding = _PADDING_CLASSES.get(cls)
    if padding and key == padding[0]:
        return _expand_padding(plain(value), padding[1]) == _expand_padding(plain(default), padding[1])
    if isinstance(value, Obj) and isinstance(default, str):
        family = namespace_of(key)
        return family is not None and not value.args and not value.kwargs and (
            kcat.load().resolve_identifier(family, default) == value.callee)
    return False


def _object(key: str, value, layer: str):
    """A serialized initializer, regularizer or constraint (or a nested
    layer) as an `Obj`; other values as kd data."""
    if isinstance(value, dict) and "class_name" in value and "config" in value:
        family = namespace_of(key)
        if family is not None and family in ("initializers", "regularizers", "constraints"):
            return registry_object(family, value, key, layer)
        if str(value.get("module", "")).startswith("keras.layers") or kcat.load().layer(value["class_name"]):
            inner = construct(_layer_of(value))
            return Obj(inner.callee, tuple(inner.args), tuple(inner.kwargs) + _name_kwarg(inner))
    return from_json(value, key, layer, lists=False)


def _name_kwarg(inner: "Construct") -> tuple:
    return () if inner.auto or inner.name is None else (("name", inner.name),)


def _layer_of(serialized: dict) -> Layer:
    config = serialized.get("config") or {}
    name = config.get("name") if isinstance(config, dict) else None
    return Layer(name or "", serialized["class_name"], serialized.get("module") or "",
                 serialized.get("registered_name"), config)


def registry_object(family: str, value: dict, key: str, layer: Optional[str]) -> Obj:
    """The serialized object VALUE of keras.FAMILY (an initializer, an
    optimizer, a loss) as its class with the settings that differ from the
    class's defaults; KEY and LAYER say where, in problems."""
    cls = value["class_name"]
    info = kcat.load().registry_class(family, cls)
    if info is None:
        raise ImportProblem(f"`{key}` is a `{cls}`, which is not a class of keras.{family}", layer)
    config = value["config"] if isinstance(value["config"], dict) else {}
    kwargs = []
    for param in info.params:
        if param.name not in config:
            continue
        item = from_json(config[param.name], f"{key}.{param.name}", layer)
        if param.required or not is_default(cls, param.name, item, param.default, config):
            kwargs.append((param.name, item))
    unknown = sorted(set(config) - {p.name for p in info.params})
    if unknown:
        raise ImportProblem(f"`{key}` ({cls}) has the setting `{unknown[0]}`, which its constructor does not take", layer)
    return Obj(cls, (), tuple(kwargs))


# ----------------------------------------------------------- constructing


def construct(layer: Layer) -> Construct:
    """How kd makes LAYER (not a nested model: see `model_construct`)."""
    if layer.is_input:
        return _input(layer)
    if layer.cls == "Lambda" or layer.cls == "TFOpLambda":
        raise ImportProblem("a Lambda layer holds Python code, which kd cannot say (and never runs); "
                            "write it as a layer class and import that with a `from` line", layer.name)
    if layer.is_op:
        return _operation(layer)
    info = kcat.load().layer(layer.cls) if layer.module in ("keras.layers", "") or layer.module.startswith(
        "keras.src.layers") else None
    if info is None:
        return _custom(layer)
    return _keras_layer(layer, info)


def _input(layer: Layer) -> Construct:
    config = layer.config
    shape = config.get("batch_shape") or config.get("batch_input_shape")
    if not isinstance(shape, list) or not shape:
        raise ImportProblem("the input has no shape", layer.name)
    kwargs = [("shape", tuple(shape[1:]))]
    if shape[0] is not None:
        kwargs.append(("batch_size", shape[0]))
    dtype = _dtype_name(config.get("dtype"))
    if dtype not in (None, "float32"):
        kwargs.append(("dtype", dtype))
    for flag, default in _INPUT_FLAGS:
        if config.get(flag, default) != default:
            kwargs.append((flag, config[flag]))
    return Construct("input", "Input", [], [], kwargs, layer.name)


def _operation(layer: Layer) -> Construct:
    if layer.module == "keras.src.ops.numpy" and layer.cls in ARITHMETIC:
        return Construct("arith", ARITHMETIC[layer.cls], name=layer.name, auto=True)
    raise ImportProblem(f"it is the operation keras.ops `{snake_case(layer.cls)}`; kd 1.0 writes only + - * / "
                        "between tensors (other keras.ops functions are kd 1.1)", layer.name)


def _common(layer: Layer, out: Construct) -> Construct:
    config = layer.config
    out.name = layer.name
    out.auto = looks_automatic(layer.name, layer.cls)
    out.trainable = config.get("trainable", True) is not False
    dtype = _dtype_name(config.get("dtype"))
    if dtype not in (None, "float32"):
        out.kwargs.append(("dtype", dtype))
    return out


def _keras_layer(layer: Layer, info: kcat.ClassInfo) -> Construct:
    cls = info.canonical
    config = layer.config if isinstance(layer.config, dict) else {}
    args, arg_names, kwargs = [], [], []
    base = {p.name: p.default for p in kcat.load().base_layer_kwargs()}
    taken = set(_BASE_KEYS)
    for index, param in enumerate(info.params):
        if param.name in _BASE_KEYS or param.name not in config:
            continue
        taken.add(param.name)
        value = _object(param.name, config[param.name], layer.name)
        if not param.required and is_default(cls, param.name, value, param.default, config):
            continue
        value = short_form(cls, param.name, value)
        if (param.required and not param.keyword_only and len(args) == index) or (
                index == 0 and _FIRST_POSITIONAL.match(cls) and not param.keyword_only):
            args.append(value)
            arg_names.append(param.name)
        else:
            kwargs.append((param.name, value))
    for key in config:
        if key in taken:
            continue
        if key in base:
            value = _object(key, config[key], layer.name)
            if not is_default(cls, key, value, base[key], config):
                kwargs.append((key, value))
        elif key in _UNDECLARED_DEFAULTS and config[key] == _UNDECLARED_DEFAULTS[key]:
            continue
        elif key in info.extra_kwargs:
            kwargs.append((key, _object(key, config[key], layer.name)))
        else:
            raise ImportProblem(f"its setting `{key}` is not an argument of {cls} that kd knows "
                                "(the catalog may be older than the Keras that saved the model)", layer.name)
    kind = "merge" if kcat.load().merge_helper(snake_case(cls)) and kcat.load().merge_helper(snake_case(cls)).layer == cls else "layer"
    return _common(layer, Construct(kind, cls, args, arg_names, kwargs))


def _custom(layer: Layer) -> Construct:
    module = layer.module
    cls = layer.cls
    if layer.registered and ">" in layer.registered:
        cls = layer.registered.split(">", 1)[1] or cls
    if not module or module in ("__main__", "builtins") or not all(p.isidentifier() for p in module.split(".")):
        raise ImportProblem(f"it is a `{cls}`, a class with no importable module (defined in `{module or '?'}`); "
                            "move it into a module and save the model again", layer.name)
    if not cls.isidentifier():
        raise ImportProblem(f"its class `{cls}` is not a Python identifier", layer.name)
    kwargs = []
    config = layer.config if isinstance(layer.config, dict) else {}
    for key, value in config.items():
        if key in _BASE_KEYS:
            continue
        if not key.isidentifier():
            raise ImportProblem(f"its setting `{key}` is not a keyword kd can pass", layer.name)
        kwargs.append((key, from_json(value, key, layer.name, lists=True)))
    out = Construct("custom", cls, [], [], kwargs, from_import=(module, cls))
    return _common(layer, out)


__all__ = ["ARITHMETIC", "Construct", "auto_prefix", "construct", "is_default", "looks_automatic", "short_form"]
