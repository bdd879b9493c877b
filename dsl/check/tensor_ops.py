"""Arithmetic with tensor operands (`x * 0.5`, `a + b`, `-x`).

With a tensor of the model among the operands it is a Keras op in the
model's graph, typed by the broadcasting and promotion rules of
`dsl.shapes.ops`.  Between constant tensors and numbers only (kd 1.1:
`ops.arange(16) * 2`) it is the backend's own operator, run once while the
model is built: no node, a constant result (`constant_arithmetic`).
"""

from __future__ import annotations

from .. import codes
from ..diagnostics import SourceError
from ..shapes import ops as shape_ops
from ..shapes.base import RuleError, TensorType
from ..shapes.util import broadcast_shapes, format_shape
from ..syntax import tree as n
from .auto_names import snake_case
from .instances import _has_unknown, _record, new_op
from .values import Tensor, kind_name, show


# kd's operator -> the class of the Keras operation it becomes in the graph
# (`x / y` is keras.ops.true_divide; its automatic name is `true_divide`).
_TENSOR_OPS = {"+": "Add", "-": "Subtract", "*": "Multiply", "/": "TrueDivide", "neg": "Negative"}


def tensor_op(ev, frame, op: str, left, right, span: n.Span):
    """Elementwise arithmetic with a tensor operand: a Keras op in the graph,
    or a constant when no operand is a tensor of the model."""
    if op == "pos":
        # Keras tensors have no unary plus: `+x` would fail when the model is built.
        raise SourceError(codes.WRONG_KIND, "unary `+` does not apply to tensors", span, "drop the `+`")
    if op not in _TENSOR_OPS:
        raise SourceError(codes.WRONG_KIND, f"`{op}` does not work on tensors; kd has + - * / on tensors", span)
    for value in (left, right):
        if value is not None and not isinstance(value, (Tensor, int, float)) or isinstance(value, bool):
            raise SourceError(codes.WRONG_KIND, f"elementwise `{op}` needs tensors or numbers; received {kind_name(value)} ({show(value)})", span)
    if not any(isinstance(v, Tensor) and not v.constant for v in (left, right)):
        return constant_arithmetic(op, left, right, span)
    # A constant operand is part of the op, not an input of its node (as in Keras).
    operands = [v for v in (left, right) if isinstance(v, Tensor) and not v.constant]
    check_batch_alignment(operands, f"`{op}`", span)
    a = left.type if isinstance(left, Tensor) else left
    b = right.type if isinstance(right, Tensor) else right
    negate = op == "neg"
    if negate:
        a, b, op = 0, a, "-"
    cls = _TENSOR_OPS["neg" if negate else op]
    inst = new_op(ev, frame, cls, snake_case(cls), span)
    if _has_unknown((a, b)):
        out = TensorType(None)
    else:
        try:
            out = shape_ops.elementwise(op, a, b)
        except RuleError as err:
            raise SourceError(err.code, f"`{op}`: {err.message}", span, err.hint) from None
    return _record(ev, frame, inst, operands, {}, span, out, ())


def check_batch_alignment(tensors: list, what: str, span: n.Span) -> None:
    """KD500 when tensors of the model of different ranks would broadcast:
    NumPy aligns shapes from the right, so the batch of the shorter one
    would meet a dimension of the longer one that is not its batch.  Keras
    builds such a model, and it fails on its first batch (or, against a
    dimension of 1, silently multiplies the batch)."""
    known = [t for t in tensors if t.shape is not None]
    ranks = {len(t.shape) for t in known}
    if len(ranks) < 2:
        return
    low = min(known, key=lambda t: len(t.shape))
    high = max(known, key=lambda t: len(t.shape))
    axis = len(high.shape) - len(low.shape)
    raise SourceError(
        codes.INCOMPATIBLE_SHAPES,
        f"{what} of tensors of different ranks, {show(high)} and {show(low)}: broadcasting aligns them from the "
        f"right, so the batch dimension of the second would meet dimension {axis} of the first",
        span,
        f"give the second the missing axes: `{low.label or 'y'}[:{', None' * axis}]` is "
        f"{format_shape((None, *(1,) * axis, *low.shape[1:]))}",
    )


# ------------------------------------------------------- constant arithmetic

_FLOATS = frozenset({"float16", "bfloat16", "float32", "float64"})
_INT_RANGES = {
    f"{sign}int{bits}": ((-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if sign == "" else (0, 2 ** bits - 1))
    for sign in ("", "u") for bits in (8, 16, 32, 64)
}
_CAST_HINT = 'cast it first: ops.cast(t, "float32")'


def constant_arithmetic(op: str, left, right, span: n.Span) -> Tensor:
    """`a OP b` (or `-a` for OP "neg") on constant tensors and numbers.

    The operator is the backend's own (a TensorFlow, JAX or PyTorch tensor
    at build time), and the backends agree only on a part of what each
    allows; kd accepts that part: tensors of one dtype, numbers that the
    tensors' dtype holds exactly (an int within an integer dtype's range,
    any number for a float dtype), no bool tensors, `/` on floats only, and
    no negation of unsigned integers.  The result has the tensors' dtype
    and NumPy's broadcast shape."""
    operands = [left] if op == "neg" else [left, right]
    tensors = [v for v in operands if isinstance(v, Tensor)]
    dtypes = sorted({t.dtype for t in tensors})
    if len(dtypes) > 1:
        raise SourceError(codes.WRONG_DTYPE, f"`{_symbol(op)}` on constant tensors of different dtypes ({', '.join(dtypes)}): "
                          "the backends do not promote them alike (TensorFlow refuses)", span,
                          'cast one of them: ops.cast(t, "float32")')
    (dtype,) = dtypes
    if dtype not in _FLOATS and dtype not in _INT_RANGES:
        raise SourceError(codes.WRONG_DTYPE, f"`{_symbol(op)}` on a constant tensor of dtype {dtype}: the backends "
                          "have no such arithmetic", span, _CAST_HINT)
    if op == "/" and dtype not in _FLOATS:
        raise SourceError(codes.WRONG_DTYPE, f"`/` on constant tensors of dtype {dtype}: the backends give "
                          "different float dtypes (TensorFlow float64, JAX and PyTorch float32)", span, _CAST_HINT)
    if op == "neg" and dtype.startswith("uint"):
        raise SourceError(codes.WRONG_DTYPE, f"negating a constant tensor of dtype {dtype}", span, 'cast it first: ops.cast(t, "int32")')
    for number in (v for v in operands if not isinstance(v, Tensor)):
        _check_number(op, number, dtype, span)
    shape: tuple = ()
    for t in tensors:
        try:
            shape = broadcast_shapes(shape, t.shape)
        except ValueError:
            shapes = " and ".join(format_shape(x.shape) for x in tensors)
            raise SourceError(codes.INCOMPATIBLE_SHAPES, f"`{_symbol(op)}` needs shapes that broadcast; received {shapes}", span) from None
    return Tensor(TensorType(shape, dtype), constant=True)


def _check_number(op: str, number, dtype: str, span: n.Span) -> None:
    """A Python number meets a constant tensor: the backend converts it to
    the tensor's dtype, which must hold it exactly."""
    if dtype in _FLOATS:
        return
    if isinstance(number, float):
        raise SourceError(codes.WRONG_DTYPE, f"`{_symbol(op)}` of a constant tensor of dtype {dtype} and the float {number!r}: "
                          "the backends do not convert it alike (TensorFlow refuses)", span, _CAST_HINT)
    low, high = _INT_RANGES[dtype]
    if not low <= number <= high:
        raise SourceError(codes.WRONG_DTYPE, f"`{_symbol(op)}`: {number} does not fit the dtype {dtype} of the constant tensor",
                          span, 'cast the tensor to a wider dtype first: ops.cast(t, "int64")')


def _symbol(op: str) -> str:
    return "-" if op == "neg" else op
