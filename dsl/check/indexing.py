"""Indexing and slicing tensors (kd 1.1): `x[:, 0]`, `x[..., :3]`,
`x[:, ::2]`, `x[:, None]`, `x[:, -1]`.

The index is evaluated to what Python hands to `__getitem__` (ints,
`slice` objects, None, Ellipsis, a tuple of them); its type follows
NumPy's rules as Keras's GetItem computes them
(`dsl.shapes.op_rules.subscript_type`), with an int outside a known
dimension refused.  On a tensor of the model the batch dimension may be
sliced only with `:` and must stay first, and the subscript is a GetItem
node of the graph (`get_item`, `get_item_1`, ...).  On a constant tensor
it is the backend's own indexing, run once: a constant, no node.
"""

from __future__ import annotations

from .. import codes, ops_catalog
from ..diagnostics import SourceError
from ..shapes.base import RuleError, TensorType
from ..syntax import tree as n
from .constants import unknown_dim_error
from .instances import _record, check_buildable, new_op
from .values import POISON, Tensor, UnknownDim, kind_name, show

_FULL = slice(None, None, None)


def slice_value(ev, frame, expr: n.Slice):
    """A slice's value: a Python slice of ints (or None where a bound is left out)."""
    parts = [None if p is None else ev.eval(frame, p) for p in (expr.lower, expr.upper, expr.step)]
    if any(p is POISON for p in parts):
        return POISON
    for part, node in zip(parts, (expr.lower, expr.upper, expr.step)):
        if isinstance(part, UnknownDim):
            err = unknown_dim_error(part, "a slice")
            raise SourceError(err.code, err.message, node.span, err.hint)
        if part is not None and (not isinstance(part, int) or isinstance(part, bool)):
            raise SourceError(codes.INVALID_CONSTANT_OPERATION, f"slice bounds must be integers; received {kind_name(part)} ({show(part)})",
                              node.span)
    return slice(*parts)


def has_poison(index) -> bool:
    return index is POISON or (isinstance(index, tuple) and any(k is POISON for k in index))


def subscript_tensor(ev, frame, tensor: Tensor, index, expr: n.Subscript):
    """`tensor[index]`: a GetItem node on a tensor of the model, a constant
    on a constant tensor."""
    keys = index if isinstance(index, tuple) else (index,)
    _check_keys(keys, expr)
    if tensor.constant:
        # Backends index their own tensors with a single key too (`t[1:]`).
        out = _indexed(tensor, keys, expr)
        check_buildable("the subscript", TensorType((1, *out.shape), out.dtype), (), expr.span)
        return Tensor(out, constant=True)
    _check_batch(tensor, keys, expr)
    out = _indexed(tensor, index, expr) if tensor.shape is not None else TensorType(None, tensor.dtype)
    info = ops_catalog.load().operator("[]")
    inst = new_op(ev, frame, info.op_class, info.auto_name, expr.span)
    return _record(ev, frame, inst, [tensor], {}, expr.span, out, ())


def _check_keys(keys: tuple, expr: n.Subscript) -> None:
    """Each key is an int, a slice, None or `...` (not a list, a bool, a tensor)."""
    items = expr.index.items if isinstance(expr.index, n.TupleExpr) and not expr.index.parenthesized else [expr.index]
    spans = [item.span for item in items] if len(items) == len(keys) else [expr.span] * len(keys)
    for key, span in zip(keys, spans):
        if isinstance(key, UnknownDim):
            err = unknown_dim_error(key, "an index")
            raise SourceError(err.code, err.message, span, err.hint)
        if isinstance(key, slice) and key.step is not None and key.step < 0:
            # PyTorch's tensors refuse a negative step (Keras's GetItem fails
            # there); TensorFlow and JAX accept it: a module must run on all three.
            raise SourceError(codes.BACKWARD_SLICE, f"the slice `{_slice_text(key)}` runs backwards, which PyTorch's tensors "
                              "do not allow: the generated module would fail on that backend", span,
                              "reverse an axis with ops.flip, e.g. `ops.flip(x, axis=1)`")
        if key is None or key is Ellipsis or isinstance(key, slice) or (isinstance(key, int) and not isinstance(key, bool)):
            continue
        raise SourceError(codes.WRONG_KIND, f"a tensor is indexed with integers, slices, None and `...`; received {kind_name(key)} ({show(key)})",
                          span, "write the indexes separated by commas: `x[:, 0]`")


def _slice_text(key: slice) -> str:
    parts = ["" if v is None else str(v) for v in (key.start, key.stop, key.step)]
    return ":".join(parts)


def _check_batch(tensor: Tensor, keys: tuple, expr: n.Subscript) -> None:
    """KD409 unless the batch dimension (the first) is kept whole and first:
    its key must be `:` (or part of `...`), with no new axis before it."""
    first = keys[0] if keys else Ellipsis
    if first is Ellipsis:
        if tensor.shape is None or len(keys) == 1:
            return  # the rank is unknown (or `x[...]`, which Keras refuses anyway)
        consumed = len(tensor.shape) - sum(1 for k in keys[1:] if k is not None and k is not Ellipsis)
        if consumed >= 1:
            return
        first = keys[1]
    if isinstance(first, slice) and first == _FULL:
        return
    where = show(first)
    if first is None:
        message = f"`{where}` would put a new axis before the batch dimension of {show(tensor)}"
    elif isinstance(first, int):
        message = f"index {first} picks one example of the batch of {show(tensor)}: the batch size is not known before training"
    else:
        message = f"`{where}` slices the batch dimension of {show(tensor)}; the batch may be sliced only with `:`"
    raise SourceError(codes.BATCH_INDEX, message, expr.span,
                      "keep the batch whole with `:` first: `x[:, 0]` is the first position of every example")


def _indexed(tensor: Tensor, index, expr: n.Subscript) -> TensorType:
    # The op rules load with the first tensor indexed (most files index none).
    from ..shapes.op_rules import subscript_type

    try:
        return subscript_type(tensor.type, index)
    except RuleError as err:
        raise SourceError(err.code, err.message, expr.span, err.hint) from None

