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


_TENSOR_OPS = {"+": "add", "-": "subtract", "*": "multiply", "/": "divide", "neg": "negative", "pos": "identity"}


def tensor_op(ev, frame, op: str, left, right, span: n.Span):
    """Elementwise arithmetic with a tensor operand: a Keras op in the graph."""
    if op not in _TENSOR_OPS:
        raise SourceError(codes.WRONG_KIND, f"`{op}` does not work on tensors; kd has + - * / on tensors", span)
    for value in (left, right):
        if value is not None and not isinstance(value, (Tensor, int, float)) or isinstance(value, bool):
            raise SourceError(codes.WRONG_KIND, f"elementwise `{op}` needs tensors or numbers; received {kind_name(value)} ({show(value)})", span)
    if op == "pos":
        return left
    a = left.type if isinstance(left, Tensor) else left
    b = right.type if isinstance(right, Tensor) else right
    if op == "neg":
        a, b, op = 0, a, "-"
    name = _TENSOR_OPS[op]
    inst = Instance("op", name, {}, ev.auto_name(name), span, frame.file.display)
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
