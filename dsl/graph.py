"""The graph the evaluator builds for one model: inputs, layer instances,
their applications (nodes), outputs and compile settings.  This is what
`kdsl summary`, `kdsl graph` and the checks read."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from .nodes import Span


@dataclass(eq=False, slots=True)
class Node:
    """One application of a layer or model instance."""

    instance: Any  # values.Instance
    inputs: tuple  # positional call arguments (tensors, lists of tensors, constants)
    call_kwargs: dict
    outputs: Any  # a Tensor, or a tuple/list of them
    span: Span
    filename: str

    def input_tensors(self) -> list:
        """Every tensor the node reads, in argument order."""
        from .values import Tensor

        found: list = []
        stack = [list(self.inputs) + list(self.call_kwargs.values())]
        while stack:
            item = stack.pop()
            if isinstance(item, Tensor):
                found.append(item)
            elif isinstance(item, (list, tuple)):
                stack.extend(reversed(item))
        return found


@dataclass(eq=False, slots=True)
class InputSpec:
    name: str  # the Keras name
    binding: str  # the kd name it is bound to
    tensor: Any
    span: Span
    filename: str


@dataclass(eq=False, slots=True)
class OutputSpec:
    name: str  # the Keras name (the key of loss dicts)
    tensor: Any
    span: Span
    filename: str


@dataclass(eq=False)
class ModelGraph:
    """A model evaluated with one set of parameter values."""

    name: str  # the kd model name
    params: dict
    inputs: list = field(default_factory=list)  # InputSpec
    outputs: list = field(default_factory=list)  # OutputSpec
    instances: list = field(default_factory=list)  # values.Instance, in creation order
    nodes: list = field(default_factory=list)  # Node, in evaluation order
    compile: Optional[dict] = None  # evaluated compile keywords
    compile_stmt: Any = None  # the nodes.CompileStmt, for the spans of its entries
    complete: bool = True  # False when an error left parts unknown

    def layer_instances(self) -> list:
        """The instances Keras lists in model.layers (not arithmetic ops)."""
        return [i for i in self.instances if i.kind != "op"]
