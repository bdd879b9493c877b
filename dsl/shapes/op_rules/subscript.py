"""Tensor subscripts `x[...]`: NumPy's basic indexing as Keras's
`GetItem.compute_output_spec` (keras/src/ops/numpy.py) does it.

An index is a tuple (or list) of ints (negative count from the end; they remove the
axis), slices (start, stop, step; they keep it, with its new length when
known), None (a new axis of 1) and at most one Ellipsis (as many full slices
as needed).  A missing trailing part is an implicit `...`.  An int outside a
known dimension is KD403; on an unknown dimension it is accepted.  A single
slice, None or `...` without a comma (`x[1:]`) is KD403 too: Keras 3 takes
only an int, a tuple or a list as the key of a symbolic tensor.
"""

from __future__ import annotations

from typing import Any

from ... import codes
from ..base import RuleError, TensorType
from ..util import format_shape
from .base import OpCall, op_rule


def subscript_type(t: TensorType, index: Any) -> TensorType:
    """The type of `t[index]`.  INDEX is what Python passes to __getitem__:
    a tuple of ints, slices, None and Ellipsis when the subscript has a
    comma, the single key otherwise (of which Keras accepts only an int).
    Raises RuleError(codes.OUT_OF_RANGE, ...) for an index Keras rejects."""
    if t.shape is None:
        raise RuleError(codes.OUT_OF_RANGE, "cannot index a tensor of unknown rank")
    keys = _keys(t, index)
    remaining = list(t.shape)
    out: list = []
    while keys:
        key = keys.pop(0)
        if key is Ellipsis:
            # As many full slices as the keys left need axes for (new axes need none).
            consumed = len(remaining) - (len(keys) - sum(k is None for k in keys))
            out += remaining[:consumed]
            remaining = remaining[consumed:]
            continue
        if key is None:
            out.append(1)
            continue
        if not remaining:
            raise _error(t, index, "too many indices")
        length = remaining.pop(0)
        if isinstance(key, int):
            _check_int(t, index, key, length)
        else:
            out.append(None if length is None else len(range(*_bounds(t, index, key, length))))
    return TensorType(tuple(out), t.dtype)


def _keys(t: TensorType, index: Any) -> list:
    """The index as a list of keys ending in an Ellipsis (explicit or implied)."""
    if isinstance(index, int):
        keys = [index]
    elif isinstance(index, (tuple, list)):
        keys = list(index)
    elif index is None or index is Ellipsis or isinstance(index, slice):
        # Keras 3 takes only an int, a tuple or a list: `x[1:]`, `x[None]`
        # and `x[...]` fail on a symbolic tensor, `x[1:, ...]` works.
        raise _error(t, index, "Keras cannot index a symbolic tensor with a single slice, None or ...", single=True)
    else:
        raise _error(t, index, "unsupported key type")
    for key in keys:
        if not (key is None or key is Ellipsis or isinstance(key, (int, slice))):
            raise _error(t, index, f"unsupported key {key!r}: use ints, slices, None and ...")
    ellipses = sum(k is Ellipsis for k in keys)
    if ellipses > 1:
        raise _error(t, index, "an index can have only one ellipsis (...)")
    if ellipses == 0:
        keys.append(Ellipsis)
    return keys


def _check_int(t: TensorType, index: Any, key: int, length: Any) -> None:
    """An int key must fall inside a known dimension (negative from the end)."""
    if length is None:
        return
    position = key if key >= 0 else key + length
    if not 0 <= position < length:
        raise _error(t, index, f"index {key} is out of range for a dimension of size {length}")


def _bounds(t: TensorType, index: Any, key: slice, length: int) -> tuple:
    """slice.indices(length), as KD403 when it fails (a zero step, a bound
    that is not an integer)."""
    try:
        return key.indices(length)
    except (ValueError, TypeError) as e:
        raise _error(t, index, str(e)) from None


def _error(t: TensorType, index: Any, what: str, single: bool = False) -> RuleError:
    hint = f"add `, ...`: x[{_show_index(index)}, ...] means the same and Keras accepts it" if single else None
    return RuleError(
        codes.OUT_OF_RANGE,
        f"{what}. Received: a tensor of shape {format_shape(t.shape)} indexed with [{_show_index(index)}]",
        hint,
    )


def _show_index(index: Any) -> str:
    """The index as kd writes it: `:, 0, None, ...`."""
    keys = index if isinstance(index, (tuple, list)) else (index,)
    return ", ".join(_show_key(k) for k in keys)


def _show_key(key: Any) -> str:
    if key is Ellipsis:
        return "..."
    if isinstance(key, slice):
        parts = ["" if v is None else str(v) for v in (key.start, key.stop, key.step)]
        text = f"{parts[0]}:{parts[1]}"
        return text + (f":{parts[2]}" if key.step is not None else "")
    return repr(key)


@op_rule("get_item")
def get_item(call: OpCall) -> TensorType:
    """`ops.get_item(x, key)` is `x[key]`."""
    x = call["x"]
    if not isinstance(x, TensorType):
        raise RuleError(codes.WRONG_KIND, "ops.get_item: `x` must be a tensor")
    return subscript_type(x, call["key"])
