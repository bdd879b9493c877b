"""Masks, as Keras makes and passes them in a functional graph.

`Embedding(mask_zero=True)` and `Masking` attach a mask to their output,
computed by ops of their own (`not_equal`, and `any` for Masking), whose
automatic names each call uses up.  Layers that pass a mask on (Dense,
Dropout, an RNN with return_sequences, ...) give their output their
input's mask; the others drop it.  A layer that consumes a mask (an RNN,
GlobalAveragePooling1D, TimeDistributed, BatchNormalization, Softmax) gets
it as `mask=`: then the ops that compute it become operations of the
model, rows of its summary.  Which classes consume or pass a mask is the
catalog's (`Catalog.masking`, generated from Keras); so is how a merge
combines its inputs' masks: `add`, `multiply` and the other elementwise
merges fold them with `logical_or` ops when every input has one.  Not
modelled: the ops `concatenate` and the attention layers make for their
masks (they drop them here).
"""

from __future__ import annotations

from typing import Any, Optional

from ..records import record
from ..shapes.base import TensorType
from .graph import Node
from .values import Instance, Tensor

# The layers that make a mask, and the ops that compute it (class, prefix).
PRODUCERS = {"Embedding": (("NotEqual", "not_equal"),), "Masking": (("NotEqual", "not_equal"), ("Any", "any"))}


@record(eq=False)
class Mask:
    """The mask of a tensor: made by a call of LAYER on SOURCE, its ops named
    NAMES (reserved when the call was made, as Keras names them then); the
    ops and their tensor are built when a layer first consumes it."""

    layer: Any  # the Instance that made it
    source: Any  # what the mask is computed from: the layer's input (a Tensor), or two masks ORed
    names: dict  # prefix -> the automatic name its op took
    span: Any
    filename: str
    block: Any = None
    tensor: Optional[Tensor] = None  # the mask tensor, once its ops are in the graph


def made_by(inst: Instance, source, names: dict, span, filename: str, block) -> Optional[Mask]:
    """The mask a call of INST on SOURCE makes (NAMES: its ops' automatic
    names, by prefix), or None."""
    if inst.cls not in PRODUCERS or not isinstance(source, Tensor) or not names:
        return None
    return Mask(inst, source, names, span, filename, block)


def merged(inst: Instance, tensors, next_name, span, filename: str, block) -> Optional[Mask]:
    """The mask of a merge of TENSORS that folds masks with logical_or
    (`add`, `multiply`, ...): None unless every input has one; NEXT_NAME
    takes each op's automatic name now, as Keras names it at the merge."""
    if not tensors or not all(type(t) is Tensor and t.mask is not None for t in tensors):
        return None
    mask = tensors[0].mask
    for tensor in tensors[1:]:
        mask = Mask(inst, (mask, tensor.mask), {"logical_or": next_name("logical_or")}, span, filename, block)
    return mask


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


def consumed(graph, mask: Mask) -> Tensor:
    """MASK's tensor, its ops added to GRAPH the first time it is consumed."""
    if mask.tensor is not None:
        return mask.tensor
    if isinstance(mask.source, tuple):  # two masks ORed by a merge
        first, second = (consumed(graph, part) for part in mask.source)
        op = Instance("op", "LogicalOr", {}, mask.names["logical_or"], mask.span, mask.filename)
        op.weights, op.params_known = (), True
        node = Node(op, (first, second), {}, None, mask.span, mask.filename, mask.block)
        mask.tensor = node.outputs = Tensor(TensorType(first.shape, "bool"), node, 0)
        op.calls.append(node)
        graph.instances.append(op)
        graph.nodes.append(node)
        return mask.tensor
    value = mask.source
    shape = value.shape
    for cls, prefix in PRODUCERS[mask.layer.cls]:
        op = Instance("op", cls, {}, mask.names[prefix], mask.span, mask.filename)
        op.weights, op.params_known = (), True
        if cls == "NotEqual":
            inputs, kwargs, shape = (value, mask.layer.args.get("mask_value", 0)), {}, shape
        else:  # Any over the last axis
            inputs, kwargs, shape = (value,), {"axis": -1}, (None if shape is None else shape[:-1])
        node = Node(op, inputs, kwargs, None, mask.span, mask.filename, mask.block)
        value = node.outputs = Tensor(TensorType(shape, "bool"), node, 0)
        op.calls.append(node)
        graph.instances.append(op)
        graph.nodes.append(node)
    mask.tensor = value
    return value
