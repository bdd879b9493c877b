"""kdsl's rules for `keras.ops` functions and tensor subscripts.

Importing this package registers every family's rules:

    from dsl.shapes.op_rules import bind_op, infer_op
    infer_op(bind_op("mean", (TensorType((None, 8, 4)),), {"axis": 1}))
    # TensorType(shape=(None, 4), dtype='float32')

`lookup_op(name)` gives an op's rule or None; `refusal(name)` says why an op
has none.  `subscript_type(t, index)` is the type of `t[index]`.  See base.py
for OpCall and the registry, common.py for the shared Keras arithmetic.
"""

from . import constants, eager, elementwise, linalg, reductions, shaping  # noqa: F401  (imported to register their rules)
from .base import OP_RULES, OpCall, OpRule, infer_op, lookup_op, op_rule, ruled_ops
from .binding import bind_op
from .refusals import REFUSALS, refusal
from .subscript import subscript_type

# The family each rule module stands for (docs/ops.md groups ops by these).
FAMILIES = {
    "elementwise": "Elementwise math, activations, comparisons and logic",
    "reductions": "Reductions",
    "shaping": "Shape ops",
    "linalg": "Linear algebra",
    "constants": "Constant makers",
    "subscript": "Subscripts",
}


def family(name: str) -> str:
    """The family (a key of FAMILIES) of a ruled op."""
    return OP_RULES[name].__module__.rsplit(".", 1)[-1]


__all__ = [
    "FAMILIES",
    "OP_RULES",
    "OpCall",
    "OpRule",
    "REFUSALS",
    "bind_op",
    "family",
    "infer_op",
    "lookup_op",
    "op_rule",
    "refusal",
    "ruled_ops",
    "subscript_type",
]
