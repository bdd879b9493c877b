"""The graph the evaluator builds for one model: inputs, layer instances,
their applications (nodes), outputs and compile settings.  This is what
`kdsl summary`, `kdsl graph` and the checks read."""

from __future__ import annotations

from ..records import field, record
from typing import Any, Optional

from ..syntax.tree import Span
from .values import Tensor


@record(eq=False, slots=True)
class Node:
    """One application of a layer or model instance."""

    instance: Any  # values.Instance
    inputs: tuple  # positional call arguments (tensors, lists of tensors, constants)
    call_kwargs: dict
    outputs: Any  # a Tensor, or a tuple/list of them
    span: Span
    filename: str
    block: Any = None  # the BlockCall it was applied in, None at the model's top level
    mask: Any = None  # the mask tensor Keras passes the call (`mask=`), when the layer consumes its input's

    def input_tensors(self) -> list:
        """Every tensor the node reads, in argument order (a consumed mask last,
        as Keras passes it: `mask=`)."""
        inputs = self.inputs
        if len(inputs) == 1 and not self.call_kwargs and self.mask is None and type(inputs[0]) is Tensor:
            return [inputs[0]]  # the usual call: one tensor
        found: list = []
        stack = [list(self.inputs) + list(self.call_kwargs.values()) + ([self.mask] if self.mask is not None else [])]
        while stack:
            item = stack.pop()
            if isinstance(item, Tensor):
                found.append(item)
            elif isinstance(item, (list, tuple)):
                stack.extend(reversed(item))
        return found


@record(eq=False, slots=True)
class BlockCall:
    """One call of a block while a model was evaluated (a block called in a
    loop gives one per iteration): what `kdsl graph` draws as a cluster."""

    id: int
    block: str  # the block's name
    call: str  # the call as written (`residual(128, stride=2)`)
    parent: Optional["BlockCall"]
    span: Span
    filename: str


@record(eq=False, slots=True)
class InputSpec:
    name: str  # the Keras name
    binding: str  # the kd name it is bound to
    tensor: Any
    span: Span
    filename: str


@record(eq=False, slots=True)
class OutputSpec:
    name: str  # the Keras name (the key of loss dicts)
    tensor: Any
    span: Span
    filename: str


@record(eq=False)
class ModelGraph:
    """A model evaluated with one set of parameter values."""

    name: str  # the kd model name
    params: dict
    inputs: list = field(default_factory=list)  # InputSpec
    outputs: list = field(default_factory=list)  # OutputSpec
    instances: list = field(default_factory=list)  # values.Instance, in creation order
    nodes: list = field(default_factory=list)  # Node, in evaluation order
    block_calls: list = field(default_factory=list)  # BlockCall, in evaluation order
    compile: Optional[dict] = None  # evaluated compile keywords
    compile_stmt: Any = None  # the nodes.CompileStmt, for the spans of its entries
    layout: Any = None  # layouts.Layout of the model's `layout(...)`, if it has one
    complete: bool = True  # False when an error left parts unknown

    def layer_instances(self) -> list:
        """Every layer and model instance constructed while evaluating the
        model (not arithmetic ops, not layers wrapped by another), whether or
        not it reaches an output."""
        return [i for i in self.instances if i.kind != "op" and not i.wrapped]

    def model_layers(self) -> list:
        """The layer and model instances of the Keras model: those between
        its inputs and outputs (Keras's Model drops the rest), in the order
        of `model.layers`."""
        return [op for op in keras_order(self) if _is_model_layer(op)]

    def reached_layers(self) -> list:
        """The instances of `model_layers`, in no particular order: what a
        sum over the model's layers needs, without Keras's ordering."""
        ordered, _ = _traverse(self)
        found = {id(op): op for op in map(_operation, ordered) if _is_model_layer(op)}
        return list(found.values())


def _is_model_layer(op) -> bool:
    """Whether an operation of the graph is one of `model.layers` (not an
    input, nor an arithmetic op)."""
    return not isinstance(op, InputSpec) and op.kind != "op"


# ------------------------------------------------------------- Keras order


def _producer(tensor):
    """The graph node that made TENSOR: a Node, or the InputSpec of an input."""
    return tensor.node if tensor.node is not None else tensor.input_of


def _parents(node) -> list:
    return [] if isinstance(node, InputSpec) else node.input_tensors()


def _operation(node):
    return node if isinstance(node, InputSpec) else node.instance


def _traverse(graph):
    """Keras's _build_map: nodes from inputs to outputs by a depth-first walk
    from the outputs, and each operation's first traversal index.  Written
    with an explicit stack, so deep graphs need no recursion."""
    finished, ordered, indices = set(), [], {}
    for output in graph.outputs:
        start = _producer(output.tensor)
        if start is None or id(start) in finished:
            continue
        indices.setdefault(id(_operation(start)), len(indices))
        stack = [(start, iter(_parents(start)))]
        while stack:
            node, pending = stack[-1]
            child = next((_producer(t) for t in pending), None)
            if child is not None:
                if id(child) not in finished:
                    indices.setdefault(id(_operation(child)), len(indices))
                    stack.append((child, iter(_parents(child))))
                continue
            stack.pop()
            if id(node) not in finished:
                finished.add(id(node))
                ordered.append(node)
    return ordered, indices


def keras_order(graph) -> list:
    """The model's operations in the order of Keras's `model.layers` (Keras's
    map_graph: by decreasing depth from the outputs, then traversal order).
    Items are InputSpecs and Instances (arithmetic ops included)."""
    ordered, indices = _traverse(graph)
    node_depth: dict = {}
    op_depth: dict = {}
    ops: dict = {}
    for node in reversed(ordered):
        depth = node_depth.setdefault(id(node), 0)
        op = _operation(node)
        depth = max(depth, op_depth.get(id(op), 0))
        op_depth[id(op)] = depth
        ops[id(op)] = op
        node_depth[id(node)] = depth
        for tensor in _parents(node):
            parent = _producer(tensor)
            if parent is not None:
                node_depth[id(parent)] = max(depth + 1, node_depth.get(id(parent), 0))
    for spec in graph.inputs:
        if id(spec) not in op_depth:  # an input no output uses
            op_depth[id(spec)], indices[id(spec)], ops[id(spec)] = 0, -1, spec
    return sorted(ops.values(), key=lambda op: (-op_depth[id(op)], indices[id(op)]))
