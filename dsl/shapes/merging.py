"""Shape rules of Keras's merge layers: the element-wise ones (Add,
Subtract, Multiply, Average, Maximum, Minimum), Concatenate and Dot."""

from __future__ import annotations

from typing import Optional

from .. import codes
from .base import LayerCall, Result, RuleError, TensorType, rule
from .util import compute_dtype, finish, format_shape, known_rank, tensor_list

ELEMENTWISE_HINT = 'use padding="same", or a 1x1 convolution with strides on the shortcut, so the shapes agree'
CONCAT_HINT = 'use padding="same" on the convolution and pooling branches so their spatial sizes agree'


def _shapes_text(shapes) -> str:
    """'(a), (b) and (c)' for messages."""
    texts = [format_shape(s) for s in shapes]
    return texts[0] if len(texts) == 1 else ", ".join(texts[:-1]) + " and " + texts[-1]


def merge_shapes(call: LayerCall, shape1: Optional[tuple], shape2: Optional[tuple], shapes: list) -> Optional[tuple]:
    """Keras's _compute_elemwise_op_output_shape (batch excluded): shapes
    right-aligned, 1 broadcasts, None against anything gives None; KD500 when
    two known dimensions differ."""
    if shape1 is None or shape2 is None:
        return None
    if len(shape1) < len(shape2):
        shape1, shape2 = shape2, shape1
    if not shape2:
        return shape1
    out = list(shape1[: len(shape1) - len(shape2)])
    for i, j in zip(shape1[len(shape1) - len(shape2):], shape2):
        if i is None or j is None:
            out.append(None)
        elif i == 1 or j == 1:
            out.append(j if i == 1 else i)
        elif i != j:
            raise RuleError(
                codes.INCOMPATIBLE_SHAPES,
                f"{call.cls} needs inputs of the same shape (or broadcastable ones). "
                f"Received: {_shapes_text(shapes)}",
                ELEMENTWISE_HINT,
            )
        else:
            out.append(i)
    return tuple(out)


@rule("Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum")
def elementwise_merge(call: LayerCall) -> Result:
    """The common shape of the inputs (batch from whichever input knows it);
    Subtract takes exactly two.  Output in the layer's compute dtype."""
    tensors = tensor_list(call)
    shapes = [t.shape for t in tensors]
    if call.cls == "Subtract" and len(tensors) != 2:
        raise RuleError(codes.INCOMPATIBLE_SHAPES, f"Subtract should be called on exactly 2 inputs. Received: {_shapes_text(shapes)}")
    batches = {s[0] for s in shapes if s} - {None}
    if len(batches) > 1:
        raise RuleError(codes.INCOMPATIBLE_SHAPES, f"{call.cls} cannot merge tensors with different batch sizes. Received: {_shapes_text(shapes)}")
    out = None if shapes[0] is None else tuple(shapes[0][1:])
    for s in shapes[1:]:
        out = merge_shapes(call, out, None if s is None else tuple(s[1:]), shapes)
    batch = batches.pop() if batches else None
    return finish(call, TensorType(None if out is None else (batch,) + out, compute_dtype(call.args)))


def _concat_conflict(shapes: list, axis: int) -> Optional[int]:
    """The first axis (other than the concatenation one) on which two known
    dimensions differ, or None; -1 when the ranks differ."""
    if len({len(s) for s in shapes}) > 1:
        return -1
    rank = len(shapes[0])
    for a in range(rank):
        if a != axis % rank and len({s[a] for s in shapes} - {None}) > 1:
            return a
    return None


@rule("Concatenate")
def concatenate(call: LayerCall) -> Result:
    """The inputs joined on `axis`: the first input's shape with the axis
    summed (None if any is unknown); every other known dimension must agree.
    As Concatenate.build and compute_output_shape: one input is returned as
    it is (its axis is only indexed when there is a second one)."""
    tensors = tensor_list(call)
    shapes = [known_rank(call, t) for t in tensors]
    axis = call.args.get("axis", -1)
    rank = len(shapes[0])
    if axis < -rank or (len(shapes) > 1 and axis >= rank):
        raise RuleError(codes.INVALID_SHAPE, f"Concatenate axis {axis} is out of bounds for inputs of rank {rank}. Received: {_shapes_text(shapes)}")
    conflict = _concat_conflict(shapes, axis)
    if conflict is not None:
        where = "their ranks differ" if conflict < 0 else f"axis {conflict} differs"
        raise RuleError(
            codes.INCOMPATIBLE_SHAPES,
            f"Concatenate (axis={axis}) requires inputs with matching shapes except for the "
            f"concatenation axis, but {where}. Received: {_shapes_text(shapes)}",
            CONCAT_HINT,
        )
    out = list(shapes[0])
    for s in shapes[1:]:
        if out[axis] is None or s[axis] is None:
            out[axis] = None
            break
        out[axis] += s[axis]
    return finish(call, TensorType(tuple(out), compute_dtype(call.args)))


def _dot_axes(call: LayerCall, shape1: tuple, shape2: tuple) -> tuple:
    """The two contraction axes, normalized as Keras's Dot does (a negative
    int axis counts from each input's end)."""
    axes = call.args["axes"]
    if isinstance(axes, int):
        return (axes % len(shape1), axes % len(shape2)) if axes < 0 else (axes, axes)
    return tuple(axes)


@rule("Dot")
def dot(call: LayerCall) -> Result:
    """The batched dot product along `axes`: both inputs lose their
    contracted axis, the second its batch axis too; a lone (batch,) becomes
    (batch, 1).  Keras requires the contracted sizes to be equal (None too)."""
    tensors = tensor_list(call, 2)
    if len(tensors) != 2:
        raise RuleError(codes.INVALID_SHAPE, f"Dot should be called on a list of 2 inputs. Received: {_shapes_text([t.shape for t in tensors])}")
    s1, s2 = known_rank(call, tensors[0]), known_rank(call, tensors[1])
    a1, a2 = _dot_axes(call, s1, s2)
    if not (-len(s1) <= a1 < len(s1) and -len(s2) <= a2 < len(s2)):
        raise RuleError(codes.INVALID_SHAPE, f"Dot axes {call.args['axes']} are out of bounds for {format_shape(s1)} and {format_shape(s2)}")
    if s1[a1] != s2[a2]:
        raise RuleError(
            codes.INCOMPATIBLE_SHAPES,
            f"Dot needs equal sizes on the contracted axes: {s1[a1]} (axis {a1}) != {s2[a2]} (axis {a2}). "
            f"Received: {format_shape(s1)} and {format_shape(s2)}",
            "Keras compares the two sizes exactly, so an unknown size only matches another unknown one",
        )
    l1, l2 = list(s1), list(s2)
    l1.pop(a1)
    l2.pop(a2)
    if not l2:
        # Keras's compute_output_shape pops the batch axis next: IndexError.
        raise RuleError(codes.INVALID_SHAPE, f"Dot cannot contract the only axis of {format_shape(s2)}; axis 0 is the batch axis")
    l2.pop(0)
    out = l1 + l2
    if len(out) == 1:
        out.append(1)
    return finish(call, TensorType(tuple(out), compute_dtype(call.args)))
