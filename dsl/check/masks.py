"""Masks, as Keras makes and passes them in a functional graph.

`Embedding(mask_zero=True)` and `Masking` attach a mask to their output,
computed by ops of their own (`not_equal`, and `any` for Masking), whose
automatic names each call uses up.  Layers that pass a mask on (Dense,
Dropout, an RNN with return_sequences, ...) give their output their
input's mask; the others drop it.  A layer that consumes a mask (an RNN,
GlobalAveragePooling1D, TimeDistributed, BatchNormalization, Softmax),
called with one tensor argument, gets it as `mask=`: then the ops that
compute it become operations of the model, rows of its summary.  Which
classes consume or pass a mask is the catalog's (`Catalog.masking`,
generated from Keras); so is how a merge combines its inputs' masks: the
elementwise merges fold them with `logical_or` when every input has one,
`concatenate` as its `compute_mask` does (`ones_like` for an input without
a mask, `expand_dims` and `logical_or` with `zeros_like` for a mask of
lower rank, then `concatenate` and `any`).  Not modelled: the attention
layers' masks (they drop them here).

A mask is a small graph of `MaskOp`s, named when Keras makes them (at the
call that makes the mask); its ops become graph nodes only when a layer
consumes it.
"""

from __future__ import annotations

from typing import Any, Optional

from ..records import record
from ..shapes.base import TensorType
from .graph import Node
from .values import Instance, Tensor


@record(eq=False)
class MaskOp:
    """One op of a mask: CLS named NAME on INPUTS (Tensors, MaskOps or
    constants) with KWARGS, giving TYPE; TENSOR once it is in the graph."""

    cls: str
    name: str
    inputs: tuple
    kwargs: dict
    type: TensorType
    span: Any
    filename: str
    block: Any = None
    tensor: Optional[Tensor] = None


class _Maker:
    """Makes MaskOps at one call, naming each as Keras does then."""

    def __init__(self, next_name, span, filename: str, block):
        self.next_name, self.span, self.filename, self.block = next_name, span, filename, block

    def op(self, cls: str, prefix: str, inputs: tuple, shape, kwargs: Optional[dict] = None) -> MaskOp:
        return MaskOp(cls, self.next_name(prefix), inputs, kwargs or {}, TensorType(shape, "bool"),
                      self.span, self.filename, self.block)


def _rank(value) -> Optional[int]:
    shape = value.type.shape if isinstance(value, (Tensor, MaskOp)) else None
    return None if shape is None else len(shape)


def made_by(inst: Instance, source, next_name, span, filename: str, block) -> Optional[MaskOp]:
    """The mask a call of INST (Embedding(mask_zero=True), Masking) on
    SOURCE makes, or None."""
    if type(source) is not Tensor:
        return None
    make = _Maker(next_name, span, filename, block)
    if inst.cls == "Embedding":
        return make.op("NotEqual", "not_equal", (source, 0), source.shape)
    if inst.cls == "Masking":
        shape = source.shape
        unequal = make.op("NotEqual", "not_equal", (source, inst.args.get("mask_value", 0.0)), shape)
        return make.op("Any", "any", (unequal,), None if shape is None else shape[:-1], {"axis": -1})
    return None


def merged(how: Optional[str], inst: Instance, tensors, next_name, span, filename: str, block) -> Optional[MaskOp]:
    """The mask of a merge of TENSORS, combined as HOW says (the catalog's
    "logical_or" or "concatenate"), or None."""
    if not tensors or not all(type(t) is Tensor for t in tensors):
        return None
    make = _Maker(next_name, span, filename, block)
    if how == "logical_or":
        if not all(t.mask is not None for t in tensors):
            return None
        mask = tensors[0].mask
        for tensor in tensors[1:]:
            mask = make.op("LogicalOr", "logical_or", (mask, tensor.mask), mask.type.shape)
        return mask
    if how == "concatenate" and any(t.mask is not None for t in tensors):
        return _concatenated(make, inst, tensors)
    if how == "query" and tensors[0].mask is not None:  # Attention: the query's mask
        query = tensors[0].mask
        return make.op("ConvertToTensor", "convert_to_tensor", (query,), query.type.shape)
    return None


def _concatenated(make: _Maker, inst: Instance, tensors) -> Optional[MaskOp]:
    """Concatenate.compute_mask: each input's mask made of its rank, the
    masks concatenated on the layer's axis, then `any` over the last."""
    parts = []
    for tensor in tensors:
        mask = tensor.mask
        if mask is None:
            parts.append(make.op("OnesLike", "ones_like", (tensor,), tensor.shape, {"dtype": "bool"}))
        elif _rank(mask) is not None and _rank(tensor) is not None and _rank(mask) < _rank(tensor):
            widened = make.op("ExpandDims", "expand_dims", (mask,), mask.type.shape + (1,), {"axis": -1})
            zeros = make.op("ZerosLike", "zeros_like", (tensor,), tensor.shape, {"dtype": "bool"})
            parts.append(make.op("LogicalOr", "logical_or", (widened, zeros), tensor.shape))
        else:
            parts.append(mask)
    shapes = [p.type.shape for p in parts]
    axis = inst.args.get("axis", -1)
    if any(s is None for s in shapes) or len({len(s) for s in shapes}) != 1 or not isinstance(axis, int):
        return None
    rank = len(shapes[0])
    axis = axis % rank
    sizes = [s[axis] for s in shapes]
    joined = tuple(None if any(d is None for d in sizes) else sum(sizes) if i == axis else shapes[0][i]
                   for i in range(rank))
    concatenated = make.op("Concatenate", "concatenate", (list(parts),), joined, {"axis": inst.args.get("axis", -1)})
    return make.op("Any", "any", (concatenated,), joined[:-1], {"axis": -1, "keepdims": False})


def one_tensor_argument(args, kwargs) -> bool:
    """Whether a call has one argument holding tensors (a tensor, or a list
    of them): Keras fills in a layer's `mask=` only for such a call (an RNN
    given `initial_state` gets none)."""
    return sum(1 for value in (*args, *kwargs.values()) if _holds_tensors(value)) == 1


def _holds_tensors(value) -> bool:
    if type(value) is Tensor:
        return True
    if isinstance(value, (list, tuple)) and value:
        return all(type(v) is Tensor or v is None or _holds_tensors(v) for v in value)
    return False


def consumed(graph, mask: MaskOp) -> Tensor:
    """MASK's tensor, its ops added to GRAPH the first time it is consumed."""
    if mask.tensor is not None:
        return mask.tensor
    inputs = tuple(_resolved(graph, value) for value in mask.inputs)
    op = Instance("op", mask.cls, {}, mask.name, mask.span, mask.filename)
    op.weights, op.params_known = (), True
    node = Node(op, inputs, dict(mask.kwargs), None, mask.span, mask.filename, mask.block)
    mask.tensor = node.outputs = Tensor(mask.type, node, 0)
    op.calls.append(node)
    graph.instances.append(op)
    graph.nodes.append(node)
    return mask.tensor


def _resolved(graph, value):
    if isinstance(value, MaskOp):
        return consumed(graph, value)
    if isinstance(value, list):
        return [_resolved(graph, v) for v in value]
    return value
