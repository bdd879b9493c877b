"""`ops.NAME(...)` in the evaluator (kd 1.1): the functions of keras.ops on
tensors and constants.

The call's arguments are bound to the op's signature from the ops catalog
(dsl/data/keras_ops.json) and typed by the op's rule (dsl/shapes/op_rules),
which copies Keras's compute_output_spec.  A call with a tensor of the
model among its arguments is a node of the model's graph, a row of the
summary named as Keras names it (`mean`, `mean_1`, `absolute` for
`ops.abs`).  A call on constants only (`ops.arange(16)`, `ops.zeros((1,
8))`) is what Keras runs at once while the model is built: it gives a
constant tensor, with a static shape and no batch dimension, and adds no
node.
"""

from __future__ import annotations

from typing import Any

from .. import codes, ops_catalog
from ..diagnostics import SourceError
from ..semantics.scope import OpRef
from ..semantics.static import op_name_error
from ..shapes.base import RuleError, TensorType
from ..shapes.op_rules import OpCall, bind_op, family, infer_op
from ..syntax import tree as n
from .constants import unknown_dim_error
from .instances import _record, _tensors, check_buildable, new_op
from .tensor_ops import check_batch_alignment
from .values import POISON, Tensor, UnknownDim, kind_name, show


def op_ref(expr: n.Attribute) -> OpRef:
    """`ops.NAME`: the op, when keras.ops has it and kdsl has its rule."""
    err = op_name_error(expr.attr, expr.attr_span)
    if err is not None:
        raise err
    return OpRef(expr.attr)


def call_op(ev, frame, ref: OpRef, expr: n.Call):
    """Evaluate `ops.NAME(...)`: a tensor of the model (a node in its graph)
    when an argument is one, else a constant tensor."""
    args, kwargs = ev.eval_arguments(frame, expr)
    if any(v is POISON for v in [*args, *kwargs.values()]):
        return POISON
    info = ops_catalog.op(ref.name)
    for value, node in [*zip(args, expr.args), *((kwargs[k.name], k.value) for k in expr.keywords)]:
        _check_value(ref.name, value, node.span)
    model_tensors = [t for t in _tensors((args, kwargs)) if not t.constant]
    eager = not model_tensors
    try:
        bound = bind_op(ref.name, args, kwargs, eager=eager, signature=info.signature)
    except RuleError as err:
        raise SourceError(err.code, err.message, expr.span, err.hint) from None
    out = _output_type(ref.name, bound, expr)
    if family(ref.name) == "elementwise":
        check_batch_alignment(model_tensors, f"ops.{ref.name}", expr.span)
    if eager:
        if info.eager_takes_name:
            ev.names.next(info.auto_name)  # Keras constructs the op all the same (ops.pad)
        return _constants(ref.name, out, expr.span)
    inst = new_op(ev, frame, info.op_class, info.auto_name, expr.span)
    # The node reads the model's tensors in the order of the op's parameters, as Keras flattens them.
    operands = [t for t in _tensors((bound.args, bound.varargs, bound.kwargs)) if not t.constant]
    return _record(ev, frame, inst, operands, {}, expr.span, out, ())


def _check_value(op: str, value: Any, span: n.Span) -> None:
    """An op takes tensors and constants (numbers, strings, None, tuples and
    lists of them), never a layer, a model or an unknown dimension."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, UnknownDim):
            err = unknown_dim_error(item, f"an argument of ops.{op}")
            raise SourceError(err.code, err.message, span, err.hint)
        if isinstance(item, (tuple, list)):
            stack.extend(item)
        elif not (item is None or isinstance(item, (Tensor, bool, int, float, str, range))):
            raise SourceError(codes.WRONG_KIND, f"ops.{op} takes tensors and constants; received {kind_name(item)} ({show(item)})",
                              span)


def _types(value):
    """A bound argument as a rule sees it: tensors become TensorTypes, ranges tuples."""
    if isinstance(value, Tensor):
        return value.type
    if isinstance(value, range):
        return tuple(value)
    if isinstance(value, (tuple, list)):
        return type(value)(_types(v) for v in value)
    return value


def _output_type(name: str, bound: OpCall, expr: n.Call):
    """The op's output type(s) by its rule; unknown when an input's shape is."""
    call = OpCall(name, {k: _types(v) for k, v in bound.args.items()}, _types(bound.varargs),
                  {k: _types(v) for k, v in bound.kwargs.items()}, bound.eager)
    if any(t.shape is None for t in _tensors((bound.args, bound.varargs, bound.kwargs))):
        return TensorType(None)
    try:
        return infer_op(call)
    except RuleError as err:
        raise SourceError(err.code, err.message, expr.span, err.hint) from None
    except (TypeError, ValueError, AttributeError, ArithmeticError, KeyError, IndexError) as exc:
        # An argument of a type the rule cannot use (Keras would reject it too).
        raise SourceError(codes.INVALID_ARGUMENT, f"ops.{name} cannot take these arguments ({exc})", expr.span,
                          f"check the arguments against keras.ops.{name}") from None


def _constants(name: str, types, span: n.Span):
    """Constant tensors of TYPES (a TensorType, or a list or tuple of them)."""
    if isinstance(types, (list, tuple)):
        return type(types)(_constants(name, t, span) for t in types)
    check_buildable(f"ops.{name}", TensorType((1, *(types.shape or ())), types.dtype), (), span)
    return Tensor(types, constant=True)
