"""What a rule for a `keras.ops` function sees, and the registry of rules.

An op rule is a pure function from an `OpCall` (the op's name and its
arguments bound to the op's parameter names, Keras's defaults filled in) to
the output type: a `TensorType`, or a list or tuple of them in the structure
Keras returns (`split` gives a list).  Tensor arguments are `TensorType`s;
everything else is a plain Python constant (int, float, bool, None, str,
tuple, list).  Rules raise `RuleError` for calls Keras rejects, and copy the
formulas of each op's `compute_output_spec` (keras/src/ops/*.py), so they
never import Keras.

Codes: KD500 shapes that do not fit together, KD501 a wrong rank, KD502 a
negative dimension, KD504 a dtype problem, KD505 an argument invalid for
the input (axis out of range, bad reshape ...), KD400 a non-tensor where the
op needs a tensor, KD403 a subscript out of range.
"""

from __future__ import annotations

from ...records import field, record
from typing import Any, Callable, Mapping, Optional

from ... import codes
from ..base import RuleError, TensorType
from ..util import format_shape


@record(frozen=True, slots=True)
class OpCall:
    """One call `keras.ops.NAME(...)` as a rule sees it.

    `args` holds every named parameter of the op's signature (in order), the
    call's values bound to them and Keras's defaults filled in for the rest.
    `varargs` are the values beyond the named parameters when the op takes
    `*args` (einsum's operands), `kwargs` the unknown keywords when it takes
    `**kwargs`.  `eager` is True when no argument is a model tensor: Keras
    then runs the backend at once (TensorFlow, for constant tensors such as
    `ops.arange(16)`) instead of `compute_output_spec`; only the constant
    makers (arange, zeros, ones, full, eye, linspace) depend on it.
    """

    name: str
    args: Mapping[str, Any]
    varargs: tuple = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    eager: bool = False

    def __getitem__(self, param: str) -> Any:
        return self.args[param]


OpRule = Callable[[OpCall], Any]
OP_RULES: dict[str, OpRule] = {}

# op name -> f(call, type) giving TensorFlow's eager result where it differs (eager.py).
EAGER_ADJUSTMENTS: dict[str, Callable[[OpCall, Any], Any]] = {}


def op_rule(*names: str) -> Callable[[OpRule], OpRule]:
    """Register the decorated function as the rule of the ops NAMES."""

    def register(fn: OpRule) -> OpRule:
        for name in names:
            if name in OP_RULES:
                raise ValueError(f"two rules for ops.{name}")
            OP_RULES[name] = fn
        return fn

    return register


def lookup_op(name: str) -> Optional[OpRule]:
    """The rule of `keras.ops.NAME`, or None when kdsl has none (see
    `refusal(name)` for why)."""
    return OP_RULES.get(name)


def ruled_ops() -> frozenset:
    """The names of every op with a rule."""
    return frozenset(OP_RULES)


def infer_op(call: OpCall) -> Any:
    """The output type(s) of CALL by its op's rule (with TensorFlow's eager
    differences when `call.eager`, see eager.py).  Every output shape is
    checked as `KerasTensor` checks it (no negative dimension).  Raises
    KeyError when the op has no rule, RuleError when Keras rejects the call."""
    out = OP_RULES[call.name](call)
    if call.eager and call.name in EAGER_ADJUSTMENTS:
        out = EAGER_ADJUSTMENTS[call.name](call, out)
    return _checked(call, out)


def _checked(call: OpCall, out: Any) -> Any:
    """OUT unchanged, after KerasTensor's standardize_shape on each tensor."""
    if isinstance(out, (list, tuple)):
        return type(out)(_checked(call, o) for o in out)
    if isinstance(out, TensorType) and out.shape is not None:
        if not all(d is None or isinstance(d, int) for d in out.shape):
            raise RuleError(
                codes.INVALID_SHAPE,
                f"ops.{call.name}: cannot convert {format_shape(out.shape)} to a shape: each dimension must be "
                "an integer or None",
            )
        if any(d is not None and d < 0 for d in out.shape):
            raise RuleError(
                codes.EMPTY_OUTPUT,
                f"ops.{call.name} would give a negative dimension. Received: output shape {format_shape(out.shape)}",
            )
        # bool dimensions (True) become ints, as `int(d)` in standardize_shape.
        return TensorType(tuple(None if d is None else int(d) for d in out.shape), out.dtype)
    return out
