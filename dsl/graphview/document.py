"""Reading a summary JSON document (docs/summary-json.md) into the graph the
pictures draw: one `Layer` per LAYER entry, one `Link` per tensor a call
reads, and a tree of `Container`s (block calls, and nested models when they
are expanded).

Only fields of the schema are read; unknown fields are ignored, as the
schema asks of consumers.
"""

from __future__ import annotations

from ..records import field, record
from typing import Optional

ROOT = "root"


@record
class Layer:
    """One LAYER entry, placed in the picture."""

    key: str  # unique in the picture: the name, prefixed by its nested model's path
    entry: dict  # the LAYER entry as the document holds it
    scope: str  # key of the model layer it is nested in, "" at the top level
    container: str  # id of the innermost container that draws it

    @property
    def name(self) -> str:
        """The layer's name in its model."""
        return str(self.entry.get("name", ""))

    @property
    def kind(self) -> str:
        """input, layer, custom, op, model or application."""
        return str(self.entry.get("kind", "layer"))

    @property
    def calls(self) -> list:
        """The CALL entries, one per application of the layer."""
        return self.entry.get("calls") or []

    @property
    def shared(self) -> bool:
        """Called more than once (or marked shared by the document)."""
        return len(self.calls) > 1 or bool(self.entry.get("shared"))


@record
class Link:
    """One tensor read by one call of a layer: an edge of the picture."""

    source: str  # key of the producing layer
    target: str  # key of the reading layer
    call: int  # which call of the target reads it
    source_call: int  # which call of the source produced it
    tensor: int  # which output of that call
    shape: object  # the tensor's shape (a list, or None when unknown)
    changes: bool  # the producer's output differs in shape from what it read


@record
class Output:
    """One model output: drawn as a terminal below the layer producing it."""

    key: str
    name: str
    layer: str  # key of the producing layer
    shape: object


@record
class Container:
    """A cluster: a block call, a nested model, or the model itself (root)."""

    id: str
    kind: str  # "root", "block" or "model"
    title: str
    parent: Optional[str]
    layer: Optional[str] = None  # for a model container: the key of its model layer
    block: Optional[dict] = None  # for a block container: the BLOCK entry
    members: list = field(default_factory=list)  # keys of layers drawn directly in it
    children: list = field(default_factory=list)  # ids of containers directly in it


@record
class Graph:
    """Everything a picture of one model draws."""

    model: dict
    layers: dict  # key -> Layer, in document order
    links: list  # Link, in document order
    outputs: list  # Output
    containers: dict  # id -> Container, parents before children

    def layer_count(self, container_id: str) -> int:
        """How many layers a container holds, nested ones included."""
        box = self.containers[container_id]
        return len(box.members) + sum(self.layer_count(c) for c in box.children)


def select_model(document: dict, model: Optional[str]) -> dict:
    """The MODEL of DOCUMENT named MODEL, or its first one when MODEL is None.

    Raises ValueError naming the models the document has when there is no
    such model (or none at all)."""
    if not isinstance(document, dict) or not isinstance(document.get("models"), list):
        raise ValueError("not a kdsl summary document: it has no `models` list")
    models = [m for m in document["models"] if isinstance(m, dict)]
    names = [str(m.get("name")) for m in models]
    if model is None:
        if not models:
            skipped = ", ".join(str(s.get("name")) for s in document.get("skipped") or [] if isinstance(s, dict))
            raise ValueError("the document has no model" + (f" (skipped: {skipped})" if skipped else ""))
        return models[0]
    for entry in models:
        if entry.get("name") == model:
            return entry
    there = ", ".join(names) if names else "none"
    raise ValueError(f"no model named {model!r} in the document; its models are: {there}")


def build_graph(model: dict, expand: bool) -> Graph:
    """The graph of MODEL; nested models are opened when EXPAND is true."""
    graph = Graph(model=model, layers={}, links=[], outputs=[], containers={})
    graph.containers[ROOT] = Container(ROOT, "root", str(model.get("name", "")), None)
    _add_model(graph, model, scope="", container=ROOT, expand=expand)
    _add_links(graph, model, scope="", expand=expand)
    for index, out in enumerate(model.get("outputs") or []):
        producer = _output_producer(graph, model, "", out.get("layer"), index, expand)
        if producer is not None:
            graph.outputs.append(Output(f"output:{index}", str(out.get("name", "")), producer, out.get("shape")))
    return graph


def _key(scope: str, name: str) -> str:
    return f"{scope}/{name}" if scope else name


def _block_container_id(scope: str, block_id) -> str:
    return f"block:{scope}:{block_id}"


def _add_model(graph: Graph, model: dict, scope: str, container: str, expand: bool) -> None:
    """Add the layers and block calls of MODEL under CONTAINER."""
    for block in model.get("blocks") or []:
        parent = block.get("parent")
        parent_id = container if parent is None else _block_container_id(scope, parent)
        box_id = _block_container_id(scope, block.get("id"))
        title = str(block.get("call") or block.get("block") or "block")
        graph.containers[box_id] = Container(box_id, "block", title, parent_id, block=block)
    for box_id, box in graph.containers.items():
        if box.kind == "block" and box_id.startswith(f"block:{scope}:"):
            parent = graph.containers.get(box.parent) or graph.containers[container]
            if box.parent not in graph.containers:
                box.parent = container  # a parent id the document does not list: draw it at the top
            parent.children.append(box_id)
    for entry in model.get("layers") or []:
        block = entry.get("block")
        home = container if block is None else _block_container_id(scope, block)
        if home not in graph.containers:
            home = container
        key = _key(scope, str(entry.get("name")))
        graph.layers[key] = Layer(key, entry, scope, home)
        graph.containers[home].members.append(key)
        nested = entry.get("model")
        if expand and entry.get("kind") in ("model", "application") and isinstance(nested, dict):
            box_id = f"model:{key}"
            title = f"{entry.get('name')} ({entry.get('class', 'Functional')})"
            graph.containers[box_id] = Container(box_id, "model", title, home, layer=key)
            graph.containers[home].children.append(box_id)
            graph.containers[home].members.remove(key)
            _add_model(graph, nested, scope=key, container=box_id, expand=expand)


def _is_open_model(graph: Graph, key: str) -> bool:
    return f"model:{key}" in graph.containers


def _add_links(graph: Graph, model: dict, scope: str, expand: bool) -> None:
    """One Link per tensor each call reads; reads of an opened nested model go
    to (or come from) the layers inside it."""
    entries = {str(e.get("name")): e for e in model.get("layers") or []}
    for entry in model.get("layers") or []:
        key = _key(scope, str(entry.get("name")))
        if _is_open_model(graph, key):
            _add_links(graph, entry["model"], scope=key, expand=expand)
        for call_index, call in enumerate(entry.get("calls") or []):
            for arg_index, read in enumerate(call.get("inbound") or []):
                source_name = str(read.get("layer"))
                source_call = int(read.get("call") or 0)
                tensor = int(read.get("tensor") or 0)
                shape = _tensor_shape(entries.get(source_name), source_call, tensor)
                source = _resolve_source(graph, model, scope, source_name, tensor, expand)
                target = key
                if _is_open_model(graph, key):
                    target = _nested_input(graph, entry, key, arg_index)
                if source is None or target is None:
                    continue
                changes = _changes_shape(entries.get(source_name), source_call, tensor, entries)
                graph.links.append(Link(source, target, call_index, source_call, tensor, shape, changes))


def _resolve_source(graph, model, scope, name, tensor, expand) -> Optional[str]:
    key = _key(scope, name)
    if key not in graph.layers:
        return None
    if _is_open_model(graph, key):
        return _output_producer(graph, graph.layers[key].entry["model"], key, None, tensor, expand)
    return key


def _output_producer(graph, model, scope, layer_name, index, expand) -> Optional[str]:
    """The key of the layer that draws output INDEX of MODEL (following
    opened nested models down to a real layer)."""
    outputs = model.get("outputs") or []
    if layer_name is None:
        if not 0 <= index < len(outputs):
            return None
        layer_name = outputs[index].get("layer")
    key = _key(scope, str(layer_name))
    if key not in graph.layers:
        return None
    if _is_open_model(graph, key):
        return _output_producer(graph, graph.layers[key].entry["model"], key, None, 0, expand)
    return key


def _nested_input(graph: Graph, entry: dict, key: str, arg_index: int) -> Optional[str]:
    """The input layer of the nested model that argument ARG_INDEX feeds."""
    nested = entry["model"]
    inputs = nested.get("inputs") or []
    input_layers = [str(e.get("name")) for e in nested.get("layers") or [] if e.get("kind") == "input"]
    name = None
    if 0 <= arg_index < len(inputs) and _key(key, str(inputs[arg_index].get("name"))) in graph.layers:
        name = str(inputs[arg_index].get("name"))
    elif 0 <= arg_index < len(input_layers):
        name = input_layers[arg_index]
    return None if name is None else _key(key, name)


def _tensor_shape(entry: Optional[dict], call: int, tensor: int):
    """The shape of output TENSOR of call CALL of the layer ENTRY."""
    if entry is None:
        return None
    calls = entry.get("calls") or []
    shapes = calls[call].get("output_shapes") if 0 <= call < len(calls) else None
    if shapes is None:
        shapes = entry.get("output_shapes")
    if isinstance(shapes, list) and 0 <= tensor < len(shapes):
        return shapes[tensor]
    return None


def _changes_shape(entry: Optional[dict], call: int, tensor: int, entries: dict) -> bool:
    """Whether the producer's output TENSOR differs in shape from the first
    tensor it read: where the picture labels an edge with its shape."""
    if entry is None:
        return False
    if entry.get("kind") == "input":
        return False  # the input's box shows its shape; nothing changed yet
    out = _tensor_shape(entry, call, tensor)
    calls = entry.get("calls") or []
    reads = calls[call].get("inbound") if 0 <= call < len(calls) else None
    if not reads:
        return False
    first = reads[0]
    seen = _tensor_shape(
        entries.get(str(first.get("layer"))), int(first.get("call") or 0), int(first.get("tensor") or 0)
    )
    return out != seen
