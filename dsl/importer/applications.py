"""A nested model that is a keras.applications model, unchanged, becomes
the application's call (`Xception(weights=None, include_top=False)`).

It is recognised from the catalog's recorded graphs of every application
(dsl/data/applications/): the same layers, of the same classes, wired the
same way, with the same settings; the settings the application's
arguments decide (`classes`, `classifier_activation`) give those
arguments.  Layers Keras names by counting (`conv2d_3`) may carry other
numbers, as the model was built after other layers.  Anything else
(another `alpha`, a frozen part, a changed layer) is not the application:
the model is written out as a kd model instead.
"""

from __future__ import annotations

from typing import Optional

from .. import catalog as kcat
from .constructs import Construct, auto_prefix, looks_automatic
from .graph import Graph, Layer
from .values import plain

# Settings that depend on the input size (the recorded graphs are at the default size).
_SIZED = {"ZeroPadding2D": "padding", "Cropping2D": "cropping", "InputLayer": "batch_shape", "Reshape": "target_shape"}


def application_construct(layer: Layer) -> Optional[Construct]:
    """The application LAYER (a nested model) is, or None."""
    graph = layer.sub
    if graph is None or graph.cls != "Functional" or len(graph.inputs) != 1:
        return None
    layers = list(graph.layers.values())
    cat = kcat.load()
    for name in cat.application_names():
        recorded = cat.application_graph(name)
        for variant in recorded.variants:
            ops = recorded.ops(variant)
            if len(ops) != len(layers) or ops[1]["class"] != layers[1].cls:
                continue
            args = _match(ops, layers, graph)
            if args is not None:
                return _construct(name, variant, args, layer, recorded, cat.application(name))
    return None


def _same_name(recorded: str, actual: str, cls: str) -> bool:
    if recorded == actual:
        return True
    return looks_automatic(recorded, cls) and looks_automatic(actual, cls) and \
        auto_prefix(recorded)[0] == auto_prefix(actual)[0]


def _match(ops: list, layers: list, graph: Graph) -> Optional[dict]:
    """The application's arguments the recorded OPS take to be LAYERS, or
    None when they are not the same graph."""
    position = {layer.name: i for i, layer in enumerate(layers)}
    args: dict = {}
    trainable = {layer.config.get("trainable", True) is not False for layer in layers if not layer.is_input}
    if len(trainable) > 1:
        return None  # partly frozen: not the application as Keras makes it
    for op, layer in zip(ops, layers):
        if op["class"] != layer.cls or not _same_name(op["name"], layer.name, layer.cls):
            return None
        if not _same_settings(op, layer, args) or not _same_wiring(op, layer, position):
            return None
    return args


def _same_settings(op: dict, layer: Layer, args: dict) -> bool:
    sized = _SIZED.get(layer.cls)
    for key, value in op.get("config", {}).items():
        if key == sized or key == "trainable":
            continue
        actual = layer.config.get(key) if isinstance(layer.config, dict) else None
        if isinstance(value, dict) and set(value) == {"param"}:
            if args.setdefault(value["param"], actual) != actual:
                return False
        elif plain(value) != plain(actual):
            return False
    return True


def _same_wiring(op: dict, layer: Layer, position: dict) -> bool:
    calls = op.get("calls", [])
    if len(calls) != len(layer.calls):
        return False
    for recorded, call in zip(calls, layer.calls):
        ours = [(position.get(r[0]), r[1], r[2]) for r in call.input_refs()]
        theirs = [tuple(m["@"]) for m in _marks(recorded.get("args", []))]
        if not layer.is_input and ours != theirs:
            return False
    return True


def _marks(value) -> list:
    found, stack = [], [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict) and "@" in item:
            found.append(item)
        elif isinstance(item, list):
            stack.extend(reversed(item))
        elif isinstance(item, dict):
            stack.extend(reversed(list(item.values())))
    return found


def _construct(name: str, variant: str, args: dict, layer: Layer, recorded, info) -> Optional[Construct]:
    graph = layer.sub
    kwargs = [("weights", None)]
    if variant != "top":
        kwargs.append(("include_top", False))
    shape = graph.shape(graph.inputs[0])
    if shape is not None and tuple(shape[1:]) != (None, None, 3):
        kwargs.append(("input_shape", tuple(shape[1:])))
    if variant in ("avg", "max"):
        kwargs.append(("pooling", variant))
    for key, value in args.items():
        param = info.param(key)
        if param is None:
            return None
        if value != param.default:
            kwargs.append((key, value))
    default_name = recorded.model_name
    if layer.name != default_name and not info.has_name:
        return None
    return Construct("application", name, [], [], kwargs, name=layer.name, auto=layer.name == default_name,
                     trainable=graph.trainable)
