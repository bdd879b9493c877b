"""A saved Keras model's configuration read as a graph: layers, their calls
(Keras's "inbound nodes") and the tensors between them.

The input is the JSON Keras writes (`model.to_json()`, the `config.json` of
a `.keras` file): plain data, read without Keras.  A tensor is named as
Keras names it, `(layer name, call index, output index)`.
"""

from __future__ import annotations

from ..records import field, record
from typing import Any, Optional

from .problems import ImportProblem

TensorRef = tuple  # (layer name, call index, output index)

MODEL_CLASSES = ("Functional", "Model", "Sequential")


@record(eq=False)
class Call:
    """One application of a layer: the tensors (and constants) it was
    called with, and how many tensors it gave."""

    layer: "Layer"
    index: int
    args: list  # positional arguments: TensorRef leaves inside lists, or constants
    kwargs: dict
    n_outputs: int = 1
    shapes: dict = field(default_factory=dict)  # output index -> shape (batch first), where recorded

    def output(self, index: int = 0) -> TensorRef:
        return ref(self.layer.name, self.index, index)

    def input_refs(self) -> list:
        """Every tensor the call reads, in argument order."""
        return collect_refs([self.args, list(self.kwargs.values())])


@record(eq=False)
class Layer:
    """One entry of the model's `layers`: a layer, an operation, an input or
    a nested model."""

    name: str
    cls: str
    module: str
    registered: Optional[str]
    config: dict
    calls: list = field(default_factory=list)
    sub: Optional["Graph"] = None  # the graph of a nested model

    @property
    def is_input(self) -> bool:
        return self.cls == "InputLayer"

    @property
    def is_model(self) -> bool:
        return self.sub is not None

    @property
    def is_op(self) -> bool:
        return self.module.startswith("keras.src.ops")

    @property
    def shared(self) -> bool:
        return len(self.calls) > 1


@record(eq=False)
class Graph:
    """A functional model: its layers in the config's order, its inputs and
    outputs (tensors), whether it is trainable, and its class (Functional or
    Sequential)."""

    name: str
    layers: dict  # name -> Layer
    inputs: list  # TensorRef
    outputs: list  # TensorRef
    trainable: bool = True
    cls: str = "Functional"

    def call(self, ref: TensorRef) -> Call:
        return self.layers[ref[0]].calls[ref[1]]

    def calls(self) -> list:
        """Every call of every layer (inputs included), in the config's order."""
        return [c for layer in self.layers.values() for c in layer.calls]

    def shape(self, ref: TensorRef):
        """The recorded shape of a tensor (batch first), or None."""
        return self.call(ref).shapes.get(ref[2])


def collect_refs(value) -> list:
    """The tensor references inside VALUE (lists, tuples, dicts), in order."""
    found: list = []
    stack = [value]
    while stack:
        item = stack.pop()
        if _is_ref(item):
            found.append(item)
        elif isinstance(item, (list, tuple)):
            stack.extend(reversed(item))
        elif isinstance(item, dict):
            stack.extend(reversed(list(item.values())))
    return found


class _Ref(tuple):
    """A tensor reference (a tuple subclass, so constants that are tuples of
    a string and two numbers are never mistaken for one)."""


def _is_ref(item) -> bool:
    return isinstance(item, _Ref)


def ref(layer: str, call: int, index: int) -> TensorRef:
    """A tensor reference."""
    return _Ref((layer, call, index))


is_ref = _is_ref


# ----------------------------------------------------------------- reading


def read_model(serialized: Any) -> Graph:
    """The graph of a serialized model: the object `model.to_json()` writes
    (`{"class_name": "Functional", "config": {...}}`)."""
    if not isinstance(serialized, dict) or "config" not in serialized:
        raise ImportProblem("this is not a saved Keras model: no `config` entry")
    cls = serialized.get("class_name")
    if cls == "Sequential":
        return _read_sequential(serialized["config"], None)
    if cls not in ("Functional", "Model"):
        raise ImportProblem(f"the model is a `{cls}`: kd imports functional models (and Sequential ones); "
                            "a subclassed model has no graph to read")
    return _read_functional(serialized["config"])


def _read_functional(config: dict) -> Graph:
    if not isinstance(config, dict) or not isinstance(config.get("layers"), list):
        raise ImportProblem("the model's config has no `layers` list")
    layers: dict = {}
    for entry in config["layers"]:
        layer = _read_layer(entry)
        if layer.name in layers:
            raise ImportProblem(f"two layers are named `{layer.name}`")
        layers[layer.name] = layer
        for index, node in enumerate(entry.get("inbound_nodes") or []):
            layer.calls.append(_read_call(layer, index, node))
    _renumber_model_calls(layers)
    graph = Graph(
        name=str(config.get("name", "model")),
        layers=layers,
        inputs=_endpoints(config.get("input_layers"), "inputs"),
        outputs=_endpoints(config.get("output_layers"), "outputs"),
        trainable=config.get("trainable", True) is not False,
    )
    _count_outputs(graph)
    return graph


def _read_layer(entry: dict) -> Layer:
    if not isinstance(entry, dict) or "class_name" not in entry:
        raise ImportProblem("a layer of the config has no `class_name`")
    config = entry.get("config") or {}
    name = entry.get("name") or (config.get("name") if isinstance(config, dict) else None)
    if not isinstance(name, str):
        raise ImportProblem(f"a `{entry['class_name']}` layer has no name")
    layer = Layer(name, entry["class_name"], entry.get("module") or "", entry.get("registered_name"), config)
    if layer.cls in MODEL_CLASSES:
        layer.sub = _read_sequential(config, None) if layer.cls == "Sequential" else _read_functional(config)
    if layer.is_input:
        layer.calls.append(Call(layer, 0, [], {}, 1, {0: _shape(config.get("batch_shape"))}))
    return layer


def _read_call(layer: Layer, index: int, node) -> Call:
    if isinstance(node, dict):
        args, kwargs = node.get("args", []), node.get("kwargs", {})
    elif isinstance(node, list):  # the older layout: [[layer, node, index, kwargs], ...]
        args, kwargs = [[ref(*item[:3]) for item in node]], {}
    else:
        raise ImportProblem(f"layer `{layer.name}`: a call of it is not readable")
    return Call(layer, index, _decode(args), _decode(kwargs) if isinstance(kwargs, dict) else {})


def _decode(value):
    """Tensors in call arguments become references; the rest stays data."""
    if isinstance(value, dict):
        if value.get("class_name") == "__keras_tensor__":
            history = value["config"]["keras_history"]
            return _TensorMark(ref(*history[:3]), _shape(value["config"].get("shape")), value["config"].get("dtype"))
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


@record
class _TensorMark:
    ref: TensorRef
    shape: Any
    dtype: Any


def _shape(value):
    return tuple(value) if isinstance(value, list) else None


def _endpoints(value, what: str) -> list:
    if value is None:
        raise ImportProblem(f"the model's config has no {what}")
    if isinstance(value, dict):
        raise ImportProblem(f"the model's {what} are a dict: kd models take and give tensors in order")
    if len(value) == 3 and isinstance(value[0], str):
        return [ref(*value)]
    found = []
    for item in value:
        if not (isinstance(item, list) and len(item) == 3 and isinstance(item[0], str)):
            raise ImportProblem(f"the model's {what} are nested: kd models take and give tensors in order")
        found.append(ref(*item))
    return found


def _renumber_model_calls(layers: dict) -> None:
    """Nested models count their calls from 1 in some Keras versions (call 0
    being the model's own graph): references are made 0-based."""
    marks = [m for layer in layers.values() for c in layer.calls for m in _marks(c.args, c.kwargs)]
    used: dict = {}
    for mark in marks:
        used.setdefault(mark.ref[0], set()).add(mark.ref[1])
    shifted = {
        name for name, indices in used.items()
        if name in layers and layers[name].is_model and 0 not in indices and max(indices) == len(layers[name].calls)
    }
    for mark in marks:
        if mark.ref[0] in shifted:
            mark.ref = ref(mark.ref[0], mark.ref[1] - 1, mark.ref[2])


def _marks(args, kwargs) -> list:
    found, stack = [], [args, kwargs]
    while stack:
        item = stack.pop()
        if isinstance(item, _TensorMark):
            found.append(item)
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
    return found


def _count_outputs(graph: Graph) -> None:
    """How many tensors each call gives (the highest index read, at least
    one), the recorded shape of each, and the marks replaced by references."""
    for layer in graph.layers.values():
        for call in layer.calls:
            for mark in _marks(call.args, call.kwargs):
                producer = graph.layers.get(mark.ref[0])
                if producer is None or mark.ref[1] >= len(producer.calls):
                    raise ImportProblem(f"layer `{layer.name}` reads `{mark.ref[0]}`, which is not a call in the model")
                target = producer.calls[mark.ref[1]]
                target.n_outputs = max(target.n_outputs, mark.ref[2] + 1)
                if mark.shape is not None:
                    target.shapes.setdefault(mark.ref[2], mark.shape)
            call.args = _unmark(call.args)
            call.kwargs = _unmark(call.kwargs)
    for end in graph.inputs + graph.outputs:
        producer = graph.layers.get(end[0])
        if producer is None or end[1] >= len(producer.calls):
            raise ImportProblem(f"the model's inputs or outputs name `{end[0]}`, which is not a call in the model")
        target = producer.calls[end[1]]
        target.n_outputs = max(target.n_outputs, end[2] + 1)
    for end in graph.inputs:
        if not graph.layers[end[0]].is_input:
            raise ImportProblem(f"the model's input `{end[0]}` is not an Input layer")


def _unmark(value):
    if isinstance(value, _TensorMark):
        return value.ref
    if isinstance(value, list):
        return [_unmark(v) for v in value]
    if isinstance(value, dict):
        return {k: _unmark(v) for k, v in value.items()}
    return value


def _read_sequential(config: dict, input_shape) -> Graph:
    """A Sequential model as a graph: each layer called once on the last."""
    if not isinstance(config, dict) or not isinstance(config.get("layers"), list):
        raise ImportProblem("the Sequential model's config has no `layers` list")
    name = str(config.get("name", "sequential"))
    layers: dict = {}
    entries = list(config["layers"])
    if entries and entries[0].get("class_name") == "InputLayer":
        first = _read_layer(entries.pop(0))
    else:
        shape = config.get("build_input_shape")
        if shape is None:
            raise ImportProblem(f"the Sequential model `{name}` records no input shape")
        first = Layer(f"{name}_input", "InputLayer", "keras.layers", None, {"batch_shape": list(shape)})
        first.calls.append(Call(first, 0, [], {}, 1, {0: _shape(list(shape))}))
    layers[first.name] = first
    previous = first.calls[0].output()
    for entry in entries:
        layer = _read_layer(entry)
        if layer.name in layers:
            raise ImportProblem(f"two layers of `{name}` are named `{layer.name}`")
        layer.calls.append(Call(layer, 0, [previous], {}))
        layers[layer.name] = layer
        previous = layer.calls[0].output()
    return Graph(name, layers, [first.calls[0].output()], [previous],
                 trainable=config.get("trainable", True) is not False, cls="Sequential")
