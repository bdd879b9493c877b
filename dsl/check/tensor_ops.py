"""Arithmetic with tensor operands (`x * 0.5`, `a + b`, `-x`): Keras ops in
the model's graph, typed by the broadcasting and promotion rules of
`dsl.shapes.ops`."""

from __future__ import annotations

from .. import codes
from ..diagnostics import SourceError
from ..shapes import ops as shape_ops
from ..shapes.base import RuleError, TensorType
from ..syntax import tree as n
from .instances import _has_unknown, _record
from .values import Instance, Tensor, kind_name, show


# kd's operator -> the class of the Keras operation it becomes in the graph
# (`x / y` is keras.ops.true_divide; its automatic name is `true_divide`).
_TENSOR_OPS = {"+": "Add", "-": "Subtract", "*": "Multiply", "/": "TrueDivide", "neg": "Negative"}


def tensor_op(ev, frame, op: str, left, right, span: n.Span):
    """Elementwise arithmetic with a tensor operand: a Keras op in the graph."""
    if op == "pos":
        # Keras tensors have no unary plus: `+x` would fail when the model is built.
        raise SourceError(codes.WRONG_KIND, "unary `+` does not apply to tensors", span, "drop the `+`")
    if op not in _TENSOR_OPS:
        raise SourceError(codes.WRONG_KIND, f"`{op}` does not work on tensors; kd has + - * / on tensors", span)
    for value in (left, right):
        if value is not None and not isinstance(value, (Tensor, int, float)) or isinstance(value, bool):
            raise SourceError(codes.WRONG_KIND, f"elementwise `{op}` needs tensors or numbers; received {kind_name(value)} ({show(value)})", span)
    a = left.type if isinstance(left, Tensor) else left
    b = right.type if isinstance(right, Tensor) else right
    negate = op == "neg"
    if negate:
        a, b, op = 0, a, "-"
    cls = _TENSOR_OPS["neg" if negate else op]
    inst = Instance("op", cls, {}, ev.auto_name(cls), span, frame.file.display)
    frame.graph.instances.append(inst)
    if _has_unknown((a, b)):
        out = TensorType(None)
    else:
        try:
            out = shape_ops.elementwise(op, a, b)
        except RuleError as err:
            raise SourceError(err.code, f"`{op}`: {err.message}", span, err.hint) from None
    operands = [v for v in (left, right) if isinstance(v, Tensor)]
    return _record(ev, frame, inst, operands, {}, span, out, ())
