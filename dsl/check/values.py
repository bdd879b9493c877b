"""The values the evaluator computes with.

Constants are plain Python values (int, float, str, bool, None, tuple, list,
dict).  Everything else is one of the classes here: a tensor (with its static
type and where it came from), a layer or model instance, an opaque Keras
object (an initializer, a loss, ...), an unknown dimension, or POISON, the
value of an expression that already failed (it silences follow-on errors).
"""

from __future__ import annotations

from ..records import field, record
from typing import Any, Optional

from ..span import Span
from ..shapes.base import TensorType
from ..shapes.util import format_shape  # noqa: F401  (re-exported for the checker's modules)


class _Poison:
    """The value of anything computed from an expression that failed."""

    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "POISON"


POISON = _Poison()


@record(frozen=True, slots=True)
class UnknownDim:
    """A dimension of `x.shape` that is not known statically (the batch, or a
    dimension left unknown by the layers).  Passing it on is fine; computing
    with it is an error that asks for an annotation."""

    tensor: str  # what the shape was taken of, for messages
    axis: int

    def __repr__(self) -> str:
        return "None"


@record(eq=False, slots=True)
class Tensor:
    """A symbolic tensor in a model's graph, or (CONSTANT) a constant tensor
    (kd 1.1): made by ops on constants only (`ops.arange(16)`), computed when
    the model is built, with a static shape and no batch dimension, and in
    no graph (node and input_of are None)."""

    type: TensorType
    node: Any = None  # the graph.Node that produced it (None for an input or a constant)
    index: int = 0  # which output of that node
    label: str = ""  # the binding or expression it came from, for messages
    input_of: Any = None  # the graph.InputSpec when this is a model input
    constant: bool = False
    mask: Any = None  # the masks.Mask Keras attaches to it (Embedding(mask_zero=True), Masking), passed on

    @property
    def shape(self):
        return self.type.shape

    @property
    def dtype(self) -> str:
        return self.type.dtype


@record(eq=False, slots=True)
class KerasObject:
    """An initializer, regularizer, constraint, optimizer, loss or metric
    written as a constructor call (`HeNormal()`, `RMSprop(learning_rate=1e-3)`)."""

    namespace: str  # "initializers", "optimizers", ...
    name: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    span: Optional[Span] = None

    def __repr__(self) -> str:
        return f"{self.name}(...)"


@record(eq=False)
class Instance:
    """A layer or model instance.  `kind` is "layer" (keras.layers), "custom"
    (from a `from` line), "application" (keras.applications), "model" (a kd
    model) or "op" (elementwise arithmetic on tensors)."""

    kind: str
    cls: str  # Keras class, custom class, application or kd model name
    args: dict  # constructor arguments by name (defaults filled for Keras classes)
    name: str  # the Keras name (explicit, or automatic as Keras would give it)
    span: Span  # where it was constructed
    filename: str
    explicit_name: bool = False
    trainable: bool = True
    calls: list = field(default_factory=list)  # graph.Node, in order
    weights: Optional[tuple] = None  # shapes.Weight, set by the first call
    params_known: bool = True
    bound_to: Optional[str] = None  # the first name it was bound to
    graph: Any = None  # the kd model's graph, or an application's replay
    nested: Any = None  # evaluation data for kd models (definition, params)
    touched: bool = False  # `.trainable` was set through a name
    wrapped: bool = False  # the inner layer of a wrapper (Bidirectional, TimeDistributed)
    binding: Optional[tuple] = None  # its arguments' key in Evaluator.bindings, when they are all constants

    @property
    def label(self) -> str:
        return self.bound_to or self.name

    def __repr__(self) -> str:
        return f"<{self.cls} {self.name}>"


def kind_name(value) -> str:
    """How a message names the kind of VALUE."""
    if isinstance(value, Tensor):
        return "a constant tensor" if value.constant else "a tensor"
    if isinstance(value, Instance):
        return {"model": "a model instance", "application": "a model instance"}.get(value.kind, "a layer instance")
    if isinstance(value, KerasObject):
        return f"a {value.namespace[:-1]} object"
    if isinstance(value, UnknownDim):
        return "an unknown dimension"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a float"
    if isinstance(value, str):
        return "a string"
    if value is None:
        return "None"
    if isinstance(value, tuple):
        return "a tuple"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a dict"
    return "a value"


def show(value) -> str:
    """A short kd-like rendering of a value for messages."""
    if isinstance(value, Tensor):
        return f"{value.label or ('constant' if value.constant else 'tensor')} {format_shape(value.shape)}"
    if isinstance(value, (Instance, KerasObject, UnknownDim)):
        return repr(value)
    if value is Ellipsis:
        return "..."
    if isinstance(value, slice):
        bounds = ["" if v is None else str(v) for v in (value.start, value.stop, value.step)]
        return f"{bounds[0]}:{bounds[1]}" + (f":{bounds[2]}" if value.step is not None else "")
    if isinstance(value, (tuple, list)):
        inner = ", ".join(show(v) for v in value[:8]) + (", ..." if len(value) > 8 else "")
        if isinstance(value, tuple):
            return f"({inner},)" if len(value) == 1 else f"({inner})"
        return f"[{inner}]"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def compatible(declared, actual) -> bool:
    """Whether a tensor of shape ACTUAL fits where DECLARED is expected
    (None matches any dimension, and an unknown shape matches any shape)."""
    if declared is None or actual is None:
        return True
    if len(declared) != len(actual):
        return False
    return all(a is None or b is None or a == b for a, b in zip(declared, actual))
