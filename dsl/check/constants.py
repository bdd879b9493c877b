"""Arithmetic, comparison and builtins on kd constants, within the limits.

Python does the work; these functions only refuse what kd does not allow
(unknown dimensions, tensors, layers) and what would be too large, before
Python is asked to compute it.  Each raises `ConstError(code, message, hint)`.
"""

from __future__ import annotations

import operator
from typing import Any

from .. import codes
from ..diagnostics import SourceError
from ..limits import Limits
from .values import Instance, KerasObject, Tensor, UnknownDim, kind_name, show

_ARITH = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "//": operator.floordiv,
    "%": operator.mod,
    "**": operator.pow,
}
_COMPARE = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


class ConstError(SourceError):
    """A problem with constant arithmetic; the evaluator places it at the expression."""

    def __init__(self, code: str, message: str, hint: str | None = None):
        super().__init__(code, message, None, hint)


def unknown_dim_error(dim: UnknownDim, what: str) -> ConstError:
    """The KD401 error for an unknown dimension used in WHAT."""
    axis = "the batch dimension" if dim.axis == 0 else f"dimension {dim.axis}"
    return ConstError(
        codes.UNKNOWN_DIMENSION,
        f"{axis} of `{dim.tensor}` is unknown here, so it cannot be used in {what}",
        f"annotate `{dim.tensor}` with its shape, e.g. `{dim.tensor}: (None, 32, 32, 3) = ...`",
    )


def require_constant(value: Any, what: str) -> None:
    """Refuse tensors, instances and unknown dimensions where kd needs a constant."""
    if isinstance(value, UnknownDim):
        raise unknown_dim_error(value, what)
    if isinstance(value, (Tensor, Instance, KerasObject)):
        raise ConstError(codes.WRONG_KIND, f"{what} needs constants; received {kind_name(value)} ({show(value)})")


def _is_seq(value) -> bool:
    return isinstance(value, (str, tuple, list))


_FLOAT_TEXT = 24  # the longest repr of a float (`-1.2345678901234567e-308`)


def _too_large(size: int, limits: Limits) -> ConstError:
    return ConstError(codes.CONSTANT_TOO_LARGE, f"constant too large: {size:,} items (limit {limits.max_sequence:,})",
                      "raise the limit with --max-sequence")


def _measure(value, depth: int, limits: Limits, memo: dict) -> tuple:
    """(size, height, text) of a constant: items counted through every
    level, a string counting its characters (a value shared by several
    places counts once per place, as printing it would); nesting levels below
    it; and an upper bound of the length of `str()` of it.  Raises as soon as
    a limit is passed, before anything is built from it."""
    if isinstance(value, bool) or value is None:
        return 1, 0, 5
    if isinstance(value, int):
        if value.bit_length() > limits.max_int_bits:
            raise ConstError(codes.CONSTANT_TOO_LARGE, f"integer too large: more than {limits.max_int_bits} bits",
                             "raise the limit with --max-int-bits")
        return 1, 0, value.bit_length() // 3 + 2
    if isinstance(value, float):
        return 1, 0, _FLOAT_TEXT
    if isinstance(value, str):
        return max(len(value), 1), 0, 4 * len(value) + 2  # each character escaped at worst
    if isinstance(value, range):
        return max(len(value), 1), 0, 64
    if not isinstance(value, (tuple, list, dict)):
        return 1, 0, 64  # a tensor, a layer instance, an unknown dimension
    key = id(value)
    if key in memo:
        size, height, text = memo[key]
    else:
        if depth > limits.max_depth:
            raise _too_deep(limits)
        items = [x for pair in value.items() for x in pair] if isinstance(value, dict) else value
        size, height, text = 1, 0, 2
        for item in items:
            s, h, tx = _measure(item, depth + 1, limits, memo)
            size, height, text = size + s, max(height, h + 1), text + tx + 2
            if size > limits.max_sequence:
                raise _too_large(size, limits)
        memo[key] = (size, height, text)
    if depth + height > limits.max_depth:
        raise _too_deep(limits)
    return size, height, text


def _too_deep(limits: Limits) -> ConstError:
    return ConstError(codes.TOO_DEEP, f"constant nested too deep: more than {limits.max_depth} levels",
                      "build flatter lists (or raise the limit with --max-depth)")


def measure(value, limits: Limits) -> tuple:
    """(size, text) of a constant within the limits (see `_measure`); raises
    KD404 for a constant too large and KD102 for one nested too deep."""
    size, _, text = _measure(value, 0, limits, {})
    if size > limits.max_sequence:
        raise _too_large(size, limits)
    return size, text


def _check_size(result, limits: Limits):
    measure(result, limits)
    return result


def _predict_size(op: str, left, right, limits: Limits) -> None:
    """Refuse before computing a result that would blow the limits."""
    ints = all(isinstance(v, int) and not isinstance(v, bool) for v in (left, right))
    if op == "**" and ints and right > 0:
        bits = max(left.bit_length(), 1) * right if abs(left) > 1 else 1
        if bits > limits.max_int_bits:
            raise ConstError(codes.CONSTANT_TOO_LARGE, f"integer too large: {left} ** {right} has more than {limits.max_int_bits} bits",
                             "raise the limit with --max-int-bits")
    if op == "*" and ints and left.bit_length() + right.bit_length() > limits.max_int_bits + 1:
        raise ConstError(codes.CONSTANT_TOO_LARGE, f"integer too large: more than {limits.max_int_bits} bits",
                         "raise the limit with --max-int-bits")
    if op == "*" and (_is_seq(left) or _is_seq(right)):
        seq, count = (left, right) if _is_seq(left) else (right, left)
        if isinstance(count, int) and not isinstance(count, bool):
            size = measure(seq, limits)[0] * max(count, 0)
            if size > limits.max_sequence:
                raise _too_large(size, limits)
    if op == "+" and _is_seq(left) and _is_seq(right):
        size = measure(left, limits)[0] + measure(right, limits)[0]
        if size > limits.max_sequence:
            raise _too_large(size, limits)
    if op == "%" and isinstance(left, str):
        # "%1000000000d" % 1 would build a gigabyte before any check.
        raise ConstError(codes.INVALID_CONSTANT_OPERATION, "kd has no `%` formatting of strings",
                         'join strings with + and str(): "conv" + str(i)')


def _int_result(value: int, limits: Limits) -> int:
    if value.bit_length() > limits.max_int_bits:  # as `measure` refuses it
        raise ConstError(codes.CONSTANT_TOO_LARGE, f"integer too large: more than {limits.max_int_bits} bits",
                         "raise the limit with --max-int-bits")
    return value


def _simple_binary(op: str, left, right, limits: Limits):
    """`binary` for the commonest cases, with its checks and results, the
    long way round skipped: joining two strings (`name + "_conv"`, a few
    hundred times in an application) and adding, subtracting or multiplying
    two integers.  NotImplemented for anything else."""
    kinds = (type(left), type(right))
    if kinds == (str, str) and op == "+":
        # As `_predict_size` measures them: each string, then the two.
        for size in (max(len(left), 1), max(len(right), 1), max(len(left), 1) + max(len(right), 1)):
            if size > limits.max_sequence:
                raise _too_large(size, limits)
        return left + right
    if kinds == (int, int):
        if op == "+":
            return _int_result(left + right, limits)
        if op == "-":
            return _int_result(left - right, limits)
        if op == "*" and left.bit_length() + right.bit_length() <= limits.max_int_bits + 1:
            return _int_result(left * right, limits)
    return NotImplemented


def binary(op: str, left, right, limits: Limits):
    """`left op right` on constants (lists may hold tensors for + and *)."""
    simple = _simple_binary(op, left, right, limits)
    return simple if simple is not NotImplemented else general_binary(op, left, right, limits)


def general_binary(op: str, left, right, limits: Limits):
    """`binary` the long way: what it does for every case (tests compare the two)."""
    for value in (left, right):
        if isinstance(value, UnknownDim):
            raise unknown_dim_error(value, "arithmetic")
        if isinstance(value, (Instance, KerasObject)):
            raise ConstError(codes.WRONG_KIND, f"cannot use {kind_name(value)} in arithmetic ({show(value)})")
    _predict_size(op, left, right, limits)
    try:
        result = _ARITH[op](left, right)
    except ZeroDivisionError:
        raise ConstError(codes.INVALID_CONSTANT_OPERATION, f"division by zero: {show(left)} {op} {show(right)}") from None
    except OverflowError:
        raise ConstError(codes.INVALID_CONSTANT_OPERATION, f"result too large: {show(left)} {op} {show(right)}") from None
    except (TypeError, ValueError):
        raise ConstError(codes.INVALID_CONSTANT_OPERATION, f"cannot compute {kind_name(left)} {op} {kind_name(right)}: "
                                  f"{show(left)} {op} {show(right)}") from None
    return _check_size(result, limits)


def unary(op: str, operand):
    """`-x`, `+x` or `not x` on a constant."""
    require_constant(operand, "arithmetic" if op != "not" else "a condition")
    if op == "not":
        return not operand
    try:
        return -operand if op == "-" else +operand
    except TypeError:
        raise ConstError(codes.INVALID_CONSTANT_OPERATION, f"cannot compute {op}{kind_name(operand)}: {op}{show(operand)}") from None


def compare(op: str, left, right) -> bool:
    """`left op right` on constants."""
    require_constant(left, "a comparison")
    require_constant(right, "a comparison")
    try:
        return bool(_COMPARE[op](left, right))
    except TypeError:
        raise ConstError(codes.INVALID_CONSTANT_OPERATION, f"cannot compare {kind_name(left)} and {kind_name(right)}: "
                                  f"{show(left)} {op} {show(right)}") from None


def truth(value, what: str = "a condition") -> bool:
    """Python truthiness of a constant."""
    require_constant(value, what)
    if isinstance(value, (list, tuple)):
        return len(value) > 0
    return bool(value)


def subscript(value, index):
    """`value[index]` on a tuple, list or string (or a dict, for compile settings)."""
    if isinstance(value, UnknownDim):
        raise unknown_dim_error(value, "an index")
    require_constant(index, "an index")
    if not isinstance(value, (tuple, list, str, dict, range)):
        raise ConstError(codes.WRONG_KIND, f"cannot index {kind_name(value)} ({show(value)})")
    if isinstance(index, tuple) or index is Ellipsis or (index is None and not isinstance(value, dict)):
        # kd 1.1's `x[:, 0]`, `x[...]`, `x[None]` index tensors; a sequence takes one int or one slice.
        raise ConstError(codes.INVALID_CONSTANT_OPERATION, f"{kind_name(value)} is indexed with one integer or one slice; "
                         f"received [{show(index)[1:-1] if isinstance(index, tuple) else show(index)}]")
    try:
        return value[index]
    except IndexError:
        raise ConstError(codes.OUT_OF_RANGE, f"index {index} out of range for {show(value)} of length {len(value)}") from None
    except KeyError:
        raise ConstError(codes.OUT_OF_RANGE, f"key {show(index)} not in {show(value)}") from None
    except (TypeError, ValueError):
        raise ConstError(codes.INVALID_CONSTANT_OPERATION, f"cannot index {kind_name(value)} with {kind_name(index)}") from None


def slice_of(value, lower, upper, step):
    """`value[lower:upper:step]` on a tuple, list or string."""
    for part in (lower, upper, step):
        if part is not None:
            require_constant(part, "a slice")
            if not isinstance(part, int):
                raise ConstError(codes.INVALID_CONSTANT_OPERATION, f"slice bounds must be integers; received {kind_name(part)}")
    if not isinstance(value, (tuple, list, str, range)):
        raise ConstError(codes.WRONG_KIND, f"cannot slice {kind_name(value)} ({show(value)})")
    if step == 0:
        raise ConstError(codes.INVALID_CONSTANT_OPERATION, "slice step cannot be zero")
    return value[lower:upper:step]


# ------------------------------------------------------------------ builtins


def _numbers(args, name):
    for a in args:
        require_constant(a, f"`{name}`")


def _range_extreme(name: str, values: range):
    if not values:
        raise ConstError(codes.INVALID_CONSTANT_OPERATION, f"`{name}` of an empty range")
    ascending = values.step > 0
    return values[0] if (name == "min") == ascending else values[-1]


def call_builtin(name: str, args: list, limits: Limits):
    """kd's builtins: range, len, str, int, float, min, max, abs."""
    _numbers(args, name)
    if name == "range":
        if not 1 <= len(args) <= 3 or not all(isinstance(a, int) and not isinstance(a, bool) for a in args):
            raise ConstError(codes.INVALID_CONSTANT_OPERATION, f"`range` takes one to three integers; received {show(tuple(args))}")
        if args[-1] == 0 and len(args) == 3:
            raise ConstError(codes.INVALID_CONSTANT_OPERATION, "`range` step cannot be zero")
        return range(*args)
    if name == "len":
        if len(args) != 1 or not isinstance(args[0], (str, tuple, list, dict, range)):
            raise ConstError(codes.INVALID_CONSTANT_OPERATION, f"`len` takes one tuple, list or string; received {show(tuple(args))}")
        return len(args[0])
    if name in ("min", "max") and len(args) == 1 and isinstance(args[0], range):
        return _range_extreme(name, args[0])  # without listing the range
    if name in ("min", "max") and len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = list(args[0])
        _numbers(args, name)
    if name == "str" and len(args) == 1:
        _, text = measure(args[0], limits)
        if text > limits.max_sequence:
            raise ConstError(codes.CONSTANT_TOO_LARGE, f"str() of this constant could be {text:,} characters "
                             f"(limit {limits.max_sequence:,})", "raise the limit with --max-sequence")
    try:
        result = {"str": str, "int": int, "float": float, "min": min, "max": max, "abs": abs}[name](*args)
    except (TypeError, ValueError, OverflowError) as exc:
        raise ConstError(codes.INVALID_CONSTANT_OPERATION, f"`{name}{show(tuple(args))}` failed: {exc}") from None
    return _check_size(result, limits)
