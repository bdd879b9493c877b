"""The types of kd's arithmetic on tensors: `a + b`, `a - b`, `a * b`, `a / b`
compile to keras.ops.add/subtract/multiply/divide, whose output spec is
numpy broadcasting (Keras's None rules) and Keras's JAX-like type promotion,
where a Python int or float is a "weak" type that defers to the tensor's."""

from __future__ import annotations

from functools import lru_cache
from typing import Union

from .. import codes
from .base import RuleError, TensorType
from .util import broadcast_shapes, format_shape

# A tensor type, a Python number, a dtype name ("int32") or the type int/float/bool.
Operand = Union[TensorType, int, float, bool, str, type]

# keras/src/backend/common/dtypes.py: each type's immediate successors.
_LATTICE = {
    "bool": ["int"],
    "uint8": ["int16", "uint16"],
    "uint16": ["int32", "uint32"],
    "uint32": ["int64", "uint64"],
    "uint64": ["float"],
    "int": ["uint8", "int8", "complex64"],
    "int8": ["int16"],
    "int16": ["int32"],
    "int32": ["int64"],
    "int64": ["float"],
    "float": ["bfloat16", "float16"],
    "bfloat16": ["float32"],
    "float16": ["float32"],
    "float32": ["float64", "complex64"],
    "float64": ["complex128"],
    "complex64": ["complex128"],
    "complex128": [],
}


@lru_cache(maxsize=None)
def _upper_bounds(node: str) -> frozenset:
    """Every type NODE promotes to, itself included."""
    out = {node}
    for succ in _LATTICE[node]:
        out |= _upper_bounds(succ)
    return frozenset(out)


def _least_upper_bound(nodes: frozenset) -> str:
    """The least type every one of NODES promotes to."""
    unknown = sorted(n for n in nodes if n not in _LATTICE)
    if unknown:
        # float8 and string dtypes have no implicit promotion in Keras.
        raise RuleError("KD504", f"no implicit type promotion for {unknown}", "cast the operand explicitly")
    common = frozenset.intersection(*(_upper_bounds(n) for n in nodes))
    lub = (common & nodes) or {c for c in common if common <= _upper_bounds(c)}
    if len(lub) != 1:
        raise RuleError(codes.WRONG_DTYPE, f"no implicit type promotion between {sorted(nodes)}", "cast one operand explicitly")
    return next(iter(lub))


def _weak(value: Operand) -> tuple:
    """(dtype, is_weak) of an operand; Python numbers are weak, like Keras's
    `type(x)` operands (int -> int64 on TensorFlow, float -> float32).  A
    dtype name is a strong dtype, and the Python types `int` and `float`
    are weak like their values (`dtypes.result_type(x.dtype, float)`)."""
    if isinstance(value, TensorType):
        return value.dtype, False
    if isinstance(value, str):
        return value, False
    if value is int or value is float:
        return ("int64" if value is int else "float32"), True
    if value is bool:
        return "bool", False
    if isinstance(value, bool):
        return "bool", False  # Keras marks only `int` and `float` as weak
    return ("int64" if isinstance(value, int) else "float32"), True


def result_type(*operands: Operand) -> str:
    """keras.backend.result_type of the operands' dtypes (floatx float32,
    TensorFlow backend, so 64-bit types are kept)."""
    if not operands:
        return "float32"  # Keras: no dtypes gives floatx
    pairs = [_weak(v) for v in operands]
    if any(d.startswith("float8") for d, _ in pairs):
        raise RuleError("KD504", "there is no implicit conversion from float8 dtypes to others", "cast it explicitly")
    dtypes = [d for d, _ in pairs]
    if len(pairs) == 1:
        out, weak = pairs[0]
    elif len(set(dtypes)) == 1 and not all(w for _, w in pairs):
        out, weak = dtypes[0], False
    elif all(w for _, w in pairs):
        out, weak = _least_upper_bound(frozenset(dtypes)), True
    else:
        out = _least_upper_bound(frozenset(_weak_name(d) if w else d for d, w in pairs))
        weak = out in ("int", "float")
    if weak and out != "bool":
        # Keras resolves a weak result at floatx's precision (32 bits).
        out = "float32" if out == "bfloat16" else {"i": "int32", "u": "uint32"}.get(out[0], "float32")
    # BIT64_TO_BIT32_DTYPE on TensorFlow: int64 and float64 survive, these do not.
    return {"uint64": "uint32", "complex128": "complex64"}.get(out, out)


def _weak_name(dtype: str) -> str:
    """The weak lattice node of a Python number's dtype."""
    if dtype == "bool":
        return dtype
    return "float" if "float" in dtype else "int"


_OPS = {"+": "add", "-": "subtract", "*": "multiply", "/": "divide"}


def elementwise(op: str, a: Operand, b: Operand) -> TensorType:
    """The type of `a OP b` for OP in + - * / (keras.ops.add, subtract,
    multiply, divide): broadcast shapes and the promoted dtype; `/` always
    gives a float (Keras adds a weak float to the promotion).  KD500 when
    the shapes do not broadcast."""
    if op not in _OPS:
        raise ValueError(f"unknown operator {op!r}")
    shape_a = a.shape if isinstance(a, TensorType) else ()
    shape_b = b.shape if isinstance(b, TensorType) else ()
    if shape_a is None or shape_b is None:
        shape = None
    else:
        try:
            shape = broadcast_shapes(shape_a, shape_b)
        except ValueError:
            raise RuleError(
                codes.INCOMPATIBLE_SHAPES,
                f"`{op}` needs shapes that broadcast: each dimension equal, 1, or unknown, "
                f"aligned from the right. Received: {format_shape(shape_a)} and {format_shape(shape_b)}",
                'use padding="same", or a 1x1 convolution with strides on the shortcut, so the shapes agree',
            ) from None
    operands = (a, b, 1.0) if op == "/" else (a, b)
    return TensorType(shape, result_type(*operands))
