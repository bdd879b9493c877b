"""The types shared by every shape rule, and the registry keyed by layer class.

A shape rule is a small pure function from a `LayerCall` (the layer's bound
constructor arguments and the types of what it is called on) to a `Result`
(the types of what it returns and the weights it builds).  Rules know nothing
of the kd source: they raise `RuleError` and the evaluator turns that into a
diagnostic at the call site.  Rules never import Keras.
"""

from __future__ import annotations

from ..records import field, record
from math import prod
from typing import Any, Callable, Mapping, Optional, Sequence, Union

from ..diagnostics import SourceError

Dim = Optional[int]
Shape = tuple  # tuple[Dim, ...], batch dimension first


@record(frozen=True, slots=True)
class TensorType:
    """The static type of a tensor: its shape (batch first; None for an
    unknown rank) and its dtype name ("float32", "int32", ...)."""

    shape: Optional[Shape]
    dtype: str = "float32"

    @property
    def rank(self) -> Optional[int]:
        return None if self.shape is None else len(self.shape)


@record(frozen=True, slots=True)
class Weight:
    """One variable a layer builds, as Keras would create it."""

    name: str
    shape: tuple
    trainable: bool = True

    @property
    def size(self) -> int:
        return prod(self.shape)


@record(frozen=True, slots=True)
class LayerSpec:
    """A layer instance as a rule sees it: a Keras class name and its
    constructor arguments by name, Keras's defaults filled in.  Wrappers
    (Bidirectional, TimeDistributed) receive their inner layer as one."""

    cls: str
    args: Mapping[str, Any]


# What a call argument may be: a tensor type, a constant, or a list or tuple of them.
CallValue = Union[TensorType, Any]


@record(frozen=True, slots=True)
class LayerCall:
    """One application of a layer: `layer(*inputs, **call_kwargs)`."""

    spec: LayerSpec
    inputs: tuple  # positional call arguments, each a TensorType or a list of them
    call_kwargs: Mapping[str, CallValue] = field(default_factory=dict)

    @property
    def cls(self) -> str:
        return self.spec.cls

    @property
    def args(self) -> Mapping[str, Any]:
        return self.spec.args


@record(frozen=True, slots=True)
class Result:
    """What a layer call gives: its outputs (a TensorType, or a tuple or list
    of them in the structure Keras returns) and the weights it builds."""

    outputs: Any
    weights: tuple = ()

    @property
    def params(self) -> int:
        return sum(w.size for w in self.weights)


class RuleError(SourceError):
    """A layer cannot be applied to these inputs.  `code` is a KD5xx code,
    `message` says what was expected and what was received, `hint` how to fix it.
    Rules know nothing of the source: the checker places it at the call."""

    def __init__(self, code: str, message: str, hint: Optional[str] = None):
        super().__init__(code, message, None, hint)


Rule = Callable[[LayerCall], Result]
RULES: dict[str, Rule] = {}


def rule(*class_names: str) -> Callable[[Rule], Rule]:
    """Register the decorated function as the shape rule of CLASS_NAMES."""

    def register(fn: Rule) -> Rule:
        for name in class_names:
            if name in RULES:
                raise ValueError(f"two shape rules for {name}")
            RULES[name] = fn
        return fn

    return register


def lookup(class_name: str) -> Optional[Rule]:
    """The shape rule of a Keras layer class, or None when kdsl has none."""
    return RULES.get(class_name)


def infer(spec: LayerSpec, inputs: Sequence, call_kwargs: Optional[Mapping] = None) -> Result:
    """Apply the rule of SPEC's class; used by wrappers on their inner layer.
    Raises KeyError when the class has no rule."""
    return RULES[spec.cls](LayerCall(spec, tuple(inputs), dict(call_kwargs or {})))
