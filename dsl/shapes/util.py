"""Shared arithmetic of the shape rules, mirroring Keras 3.

Each helper copies the formula Keras uses (mostly from
`keras/src/ops/operation_utils.py` and `keras/src/backend/common/backend_utils.py`)
so that a rule computes the very shape Keras's `compute_output_shape` gives,
None dimensions included.  Nothing here imports Keras.
"""

from __future__ import annotations

from typing import Any, Iterable, Optional, Sequence

from .. import codes
from .base import LayerCall, Result, RuleError, TensorType, Weight

# The dtype names Keras treats as floating point (autocast applies to these).
FLOAT_DTYPES = frozenset({"float16", "bfloat16", "float32", "float64"})
INT_DTYPES = frozenset(
    {"int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"}
)
# Every dtype name a Keras tensor can have (an Input's `dtype=`).
KERAS_DTYPES = FLOAT_DTYPES | INT_DTYPES | frozenset({"bool", "string", "complex64", "complex128"})

# What a policy name computes in (Keras's DTypePolicy: "mixed_X" computes in X
# and keeps its variables in float32).
_MIXED = {"mixed_float16": "float16", "mixed_bfloat16": "bfloat16"}


# ---------------------------------------------------------------- dtypes


def compute_dtype(args: Any) -> str:
    """The compute dtype of a layer from its `dtype` argument (a mapping of
    arguments or the dtype value itself): None -> "float32", "mixed_float16"
    -> "float16", "mixed_bfloat16" -> "bfloat16", a plain name -> itself.
    An opaque policy object is asked for its `compute_dtype` or `name`."""
    value = args.get("dtype") if hasattr(args, "get") else args
    if value is None:
        return "float32"
    if not isinstance(value, str):
        inner = getattr(value, "compute_dtype", None) or getattr(value, "name", None)
        return compute_dtype(inner)
    if value in _MIXED:
        return _MIXED[value]
    # Python-type spellings as Keras's standardize_dtype maps them (TensorFlow backend).
    return {"float": "float32", "int": "int64", "double": "float64"}.get(value, value)


def is_float(dtype: str) -> bool:
    """Whether DTYPE is a floating-point dtype (the ones Keras autocasts)."""
    return dtype in FLOAT_DTYPES


def is_int(dtype: str) -> bool:
    """Whether DTYPE is a signed or unsigned integer dtype."""
    return dtype in INT_DTYPES


def converted_dtype(args: Any, t: TensorType) -> str:
    """The dtype of T as the layer's `call` sees it: Layer.__call__ casts
    floating inputs to the compute dtype when `autocast` is on and leaves
    integer and bool inputs alone.  Layers whose output spec copies the input
    dtype (Identity, Flatten, Reshape, Permute) therefore give this dtype."""
    if args.get("autocast", True) and is_float(t.dtype):
        return compute_dtype(args)
    return t.dtype


# ---------------------------------------------------------------- arguments


def data_format(args: Any) -> str:
    """The layer's data_format; None means Keras's default, channels_last."""
    fmt = args.get("data_format")
    if fmt is None:
        return "channels_last"
    fmt = str(fmt).lower()
    if fmt not in ("channels_last", "channels_first"):
        raise RuleError(
            codes.INVALID_SHAPE,
            'data_format must be "channels_last" or "channels_first". '
            f"Received: data_format={fmt!r}",
        )
    return fmt


def channel_axis(rank: int, fmt: str) -> int:
    """The index of the channel dimension for a tensor of RANK."""
    return rank - 1 if fmt == "channels_last" else 1


def spatial_axes(rank: int, fmt: str) -> range:
    """The indices of the spatial dimensions for a tensor of RANK."""
    return range(1, rank - 1) if fmt == "channels_last" else range(2, rank)


def normalize_tuple(value: Any, n: int, name: str, allow_zero: bool = False) -> tuple:
    """An int-or-sequence argument as an N-tuple of ints (kernel_size=3 ->
    (3, 3)), like Keras's standardize_tuple; raises KD505 on a bad value."""
    if isinstance(value, bool):
        raise RuleError(codes.INVALID_SHAPE, f"`{name}` must be an integer or a tuple of {n} integers. Received: {name}={value!r}")
    if isinstance(value, int):
        values = (value,) * n
    else:
        try:
            values = tuple(value)
        except TypeError:
            values = ()
        if len(values) != n or not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            raise RuleError(
                codes.INVALID_SHAPE,
                f"`{name}` must be an integer or a tuple of {n} integers. "
                f"Received: {name}={value!r}",
            )
    lowest = 0 if allow_zero else 1
    if any(v < lowest for v in values):
        bound = ">= 0" if allow_zero else "> 0"
        raise RuleError(codes.INVALID_SHAPE, f"`{name}` values must be {bound}. Received: {name}={value!r}")
    return values


def normalize_padding(value: Any, allow_causal: bool = False) -> str:
    """A conv padding name lowercased and checked ("valid", "same", and
    "causal" where the layer allows it), as Keras's standardize_padding."""
    padding = str(value).lower()
    allowed = ("valid", "same", "causal") if allow_causal else ("valid", "same")
    if padding not in allowed:
        raise RuleError(
            codes.INVALID_SHAPE,
            f"padding must be one of {', '.join(repr(a) for a in allowed)}. "
            f"Received: padding={value!r}",
        )
    return padding


def pair_tuple(value: Any, n: int, name: str) -> tuple:
    """An int, an N-tuple of ints, or an N-tuple of pairs, as N (left, right)
    pairs (ZeroPadding2D/Cropping2D's argument forms)."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            raise RuleError(codes.INVALID_SHAPE, f"`{name}` cannot be negative. Received: {name}={value}")
        return ((value, value),) * n
    try:
        items = tuple(value)
    except TypeError:
        items = ()
    if len(items) != n:
        raise RuleError(codes.INVALID_SHAPE, f"`{name}` should have {n} elements. Received: {name}={value!r}")
    return tuple(normalize_tuple(item, 2, name, allow_zero=True) for item in items)


# ---------------------------------------------------------------- arithmetic


def conv_output_length(length: Optional[int], kernel: int, stride: int, padding: str, dilation: int = 1) -> Optional[int]:
    """The length of one spatial dimension after a convolution, as
    compute_conv_output_shape: "valid" drops the dilated kernel's extent,
    "same" and "causal" keep ceil(length / stride).  May be <= 0 (the caller
    reports an empty output); None stays None."""
    if length is None:
        return None
    if padding == "valid":
        return (length - dilation * (kernel - 1) - 1) // stride + 1
    return (length - 1) // stride + 1


def conv_transpose_output_length(
    length: Optional[int], kernel: int, stride: int, padding: str,
    output_padding: Optional[int] = None, dilation: int = 1,
) -> Optional[int]:
    """The length of one spatial dimension after a transposed convolution,
    as Keras's _get_output_shape_given_tf_padding."""
    if length is None:
        return None
    kernel = (kernel - 1) * dilation + 1
    if padding == "valid":
        extra = max(kernel, stride) - kernel if output_padding is None else output_padding
        return (length - 1) * stride + kernel + extra
    if output_padding is None:
        return length * stride
    return (length - 1) * stride + kernel % 2 + output_padding


def pool_output_length(length: Optional[int], pool: int, stride: int, padding: str) -> Optional[int]:
    """The length of one spatial dimension after pooling, as
    compute_pooling_output_shape (may be <= 0; None stays None)."""
    if length is None:
        return None
    if padding == "valid":
        return (length - pool) // stride + 1
    return (length - 1) // stride + 1


def conv_output_shape(
    shape: tuple, filters: Optional[int], kernel: tuple, strides: tuple,
    padding: str, fmt: str, dilation: tuple,
) -> tuple:
    """The output shape of an N-d convolution (N = len(kernel)) of an input
    of SHAPE with FILTERS output channels.  Spatial lengths may come out <= 0:
    see `check_not_empty`."""
    axes = spatial_axes(len(shape), fmt)
    spatial = tuple(
        conv_output_length(shape[a], k, s, padding, d)
        for a, k, s, d in zip(axes, kernel, strides, dilation)
    )
    return place_spatial(shape, spatial, filters, fmt)


def pooling_output_shape(shape: tuple, pool: tuple, strides: tuple, padding: str, fmt: str) -> tuple:
    """The output shape of an N-d pooling of an input of SHAPE (channels kept)."""
    axes = spatial_axes(len(shape), fmt)
    spatial = tuple(
        pool_output_length(shape[a], p, s, padding) for a, p, s in zip(axes, pool, strides)
    )
    return place_spatial(shape, spatial, shape[channel_axis(len(shape), fmt)], fmt)


def place_spatial(shape: tuple, spatial: tuple, channels: Optional[int], fmt: str) -> tuple:
    """Batch, SPATIAL and CHANNELS assembled in FMT's order."""
    if fmt == "channels_last":
        return (shape[0], *spatial, channels)
    return (shape[0], channels, *spatial)


def broadcast_shapes(shape1: Sequence, shape2: Sequence) -> tuple:
    """Numpy broadcasting with Keras's None rules (operation_utils.
    broadcast_shapes): None against 1 gives None, None against n gives n.
    Raises ValueError when two known dimensions differ and neither is 1."""
    a, b = list(shape1), list(shape2)
    if len(a) < len(b):
        a = [1] * (len(b) - len(a)) + a
    if len(b) < len(a):
        b = [1] * (len(a) - len(b)) + b
    out = []
    for x, y in zip(a, b):
        if x == 1:
            out.append(y)
        elif x is None:
            out.append(None if y == 1 else y)
        elif y == 1 or y is None or y == x:
            out.append(x)
        else:
            raise ValueError(
                f"Cannot broadcast shape, the failure dim has value {x}, which "
                f"cannot be broadcasted to {y}. Input shapes are: "
                f"{list(shape1)} and {list(shape2)}."
            )
    return tuple(out)


# ---------------------------------------------------------------- messages and checks


def format_shape(shape: Optional[Sequence]) -> str:
    """A shape as Keras prints it: `(None, 28, 28)`, `(4,)`; "(unknown shape)"
    when even the rank is unknown.  The one shape printer of kdsl."""
    return "(unknown shape)" if shape is None else str(tuple(shape))


_SPATIAL_NAMES = {1: ("steps",), 2: ("height", "width"), 3: ("depth", "height", "width")}


def layout(n: int, fmt: str = "channels_last") -> str:
    """The axis names of an N-d spatial input in FMT, for rank messages:
    layout(2) == "batch, height, width, channels"."""
    names = list(_SPATIAL_NAMES[n])
    names = names + ["channels"] if fmt == "channels_last" else ["channels"] + names
    return ", ".join(["batch"] + names)


def single_input(call: LayerCall) -> TensorType:
    """The one tensor a single-input layer is called on."""
    if len(call.inputs) == 1 and isinstance(call.inputs[0], TensorType):
        return call.inputs[0]
    raise RuleError(
        codes.INVALID_SHAPE,
        f"{call.cls} expects a single input tensor. Received: {describe(call.inputs)}",
    )


def tensor_list(call: LayerCall, minimum: int = 1) -> list:
    """The list of tensors a merge-like layer is called on (`layer([a, b])`)."""
    if len(call.inputs) == 1 and isinstance(call.inputs[0], (list, tuple)):
        items = list(call.inputs[0])
        if len(items) >= minimum and all(isinstance(t, TensorType) for t in items):
            return items
    raise RuleError(
        codes.INVALID_SHAPE,
        f"{call.cls} should be called on a list of at least {minimum} tensors, "
        f"e.g. {call.cls}()([a, b]). Received: {describe(call.inputs)}",
    )


def describe(value: Any) -> str:
    """A short rendering of call arguments for messages."""
    if isinstance(value, TensorType):
        return format_shape(value.shape)
    if isinstance(value, (list, tuple)):
        inner = ", ".join(describe(v) for v in value)
        return f"[{inner}]" if isinstance(value, list) else inner
    return repr(value)


def known_rank(call: LayerCall, t: TensorType) -> tuple:
    """T's shape, or KD501 when its rank is unknown."""
    if t.shape is None:
        raise RuleError(codes.WRONG_RANK, f"{call.cls} needs an input of known rank. Received: a tensor of unknown rank")
    return tuple(t.shape)


def expect_rank(call: LayerCall, t: TensorType, rank: int, layout: str = "") -> tuple:
    """T's shape when it has exactly RANK dimensions, else KD501 saying
    what was expected (LAYOUT names the axes, e.g. "batch, steps, channels")."""
    shape = known_rank(call, t)
    if len(shape) != rank:
        names = f" ({layout})" if layout else ""
        raise RuleError(
            codes.WRONG_RANK,
            f"{call.cls} expects inputs of rank {rank}{names}. Received: {format_shape(shape)}",
        )
    return shape


def min_rank(call: LayerCall, t: TensorType, rank: int) -> tuple:
    """T's shape when it has at least RANK dimensions, else KD501."""
    shape = known_rank(call, t)
    if len(shape) < rank:
        raise RuleError(
            codes.WRONG_RANK,
            f"{call.cls} expects inputs of rank {rank} or more. Received: {format_shape(shape)}",
        )
    return shape


def known_dim(call: LayerCall, shape: tuple, axis: int, what: str) -> int:
    """SHAPE[AXIS] when known; KD505 otherwise (a weight would depend on it)."""
    dim = shape[axis]
    if dim is None:
        raise RuleError(
            codes.INVALID_SHAPE,
            f"{call.cls} needs a known {what} (axis {axis}) to build its weights. "
            f"Received: {format_shape(shape)}",
            "give the input a fixed size on that axis",
        )
    return dim


def canonical_axis(call: LayerCall, axis: int, rank: int, shape: tuple) -> int:
    """AXIS in [0, RANK), or KD505 when it is out of bounds."""
    if not -rank <= axis < rank:
        raise RuleError(
            codes.INVALID_SHAPE,
            f"{call.cls}: axis {axis} is out of bounds for input shape {format_shape(shape)}.",
        )
    return axis % rank


def check_not_empty(call: LayerCall, shape: tuple, input_shape: tuple, why: str, hint: Optional[str] = None) -> tuple:
    """SHAPE unchanged when no dimension is <= 0, else KD502 (a valid
    convolution, pooling or cropping larger than its input)."""
    if any(d is not None and d <= 0 for d in shape):
        bad = tuple(d if d is None or d > 0 else 0 for d in shape)
        raise RuleError(
            codes.EMPTY_OUTPUT,
            f"{call.cls} would give an empty output {format_shape(bad)}: {why}. "
            f"Received: {format_shape(input_shape)}",
            hint or 'use padding="same", or a smaller kernel or stride',
        )
    return shape


def window_text(kernel_name: str, kernel: tuple, strides: tuple, padding: str, dilation: Optional[tuple] = None) -> str:
    """"kernel_size=(3, 3), strides=(1, 1), padding="valid" do not fit the
    input" for empty-output messages (dilation shown when it is not 1)."""
    parts = [f"{kernel_name}={kernel}", f"strides={strides}"]
    if dilation and max(dilation) > 1:
        parts.append(f"dilation_rate={dilation}")
    parts.append(f'padding="{padding}"')
    return ", ".join(parts) + " do not fit the input"


# ---------------------------------------------------------------- results


def with_lora(weights: list, rank: Optional[int], prefix: str = "lora_kernel") -> list:
    """WEIGHTS (kernel first) after Keras's enable_lora(RANK): the kernel
    frozen in place, then the A (kernel[:-1] + (rank,)) and B
    ((rank, kernel[-1])) adapters appended.  Unchanged without a rank."""
    if not rank:
        return list(weights)
    kernel, rest = weights[0], list(weights[1:])
    frozen = Weight(kernel.name, kernel.shape, False)
    adapters = [
        Weight(f"{prefix}_a", kernel.shape[:-1] + (rank,)),
        Weight(f"{prefix}_b", (rank, kernel.shape[-1])),
    ]
    return [frozen, *rest, *adapters]


def finish(call: LayerCall, outputs: Any, weights: Iterable[Weight] = ()) -> Result:
    """The Result of CALL.  A layer built with trainable=False has no
    trainable weights in Keras (`layer.trainable_weights` is empty), so every
    weight is marked non-trainable then."""
    weights = tuple(weights)
    if call.args.get("trainable", True) is False:
        weights = tuple(Weight(w.name, w.shape, False) for w in weights)
    return Result(outputs, weights)
