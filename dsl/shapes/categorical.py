"""Shape rules of Keras's categorical and text preprocessing layers:
CategoryEncoding, Discretization, Hashing, HashedCrossing, IntegerLookup,
StringLookup and TextVectorization.

Their output shapes follow each class's `compute_output_shape`, quirks
included: the "multi_hot"/"count" modes fold the last axis into a depth
axis, so a (batch,) input comes out as (depth,) without a batch axis,
exactly as Keras reports it.  Lookup vocabularies are tables, not weights
(`count_params()` is 0).  The depth of a lookup layer is known when its
vocabulary is given as a list (or padded to max_tokens); a vocabulary
learned by `adapt()` or read from a file gives None there, where Keras too
has None before adapting (kdsl does not read files).
"""

from __future__ import annotations

from typing import Any, Optional

from .. import codes
from .base import LayerCall, Result, RuleError, TensorType, rule
from .helpers import variable_dtype
from .util import compute_dtype, describe, finish, format_shape, is_int, known_rank, single_input, tensor_list


def encoded_shape(shape: tuple, mode: str, depth: Optional[int]) -> tuple:
    """IndexLookup.compute_output_shape for a non-"int" MODE: one_hot adds a
    depth axis (replacing a trailing 1 when rank > 1); the other modes replace
    the last axis with it."""
    if mode == "one_hot":
        if len(shape) > 1 and shape[-1] == 1:
            return shape[:-1] + (depth,)
        return shape + (depth,)
    return shape[:-1] + (depth,)


@rule("CategoryEncoding")
def category_encoding(call: LayerCall) -> Result:
    """CategoryEncoding.compute_output_shape: one_hot appends num_tokens
    (or replaces a trailing 1 when rank > 1), multi_hot and count replace the
    last axis; output in the compute dtype."""
    shape = known_rank(call, single_input(call))
    tokens = call.args.get("num_tokens")
    if not isinstance(tokens, int) or tokens < 1:
        raise RuleError(codes.INVALID_SHAPE, f"CategoryEncoding needs num_tokens >= 1. Received: num_tokens={tokens!r}")
    mode = "multi_hot" if call.args.get("output_mode") == "binary" else call.args.get("output_mode", "multi_hot")
    if mode == "one_hot" and (shape[-1] != 1 or len(shape) == 1):
        out = shape + (tokens,)
    else:
        out = shape[:-1] + (tokens,)
    return finish(call, TensorType(out, compute_dtype(call.args)))


@rule("Discretization")
def discretization(call: LayerCall) -> Result:
    """Discretization.compute_output_shape: "int" keeps the shape (int32);
    one_hot appends the depth (replacing a trailing 1); multi_hot and count
    drop axis 1 and append it, or give (depth,) below rank 2."""
    shape = known_rank(call, single_input(call))
    mode = call.args.get("output_mode", "int")
    if mode == "int":
        return finish(call, TensorType(shape, "int32"))
    bounds, bins = call.args.get("bin_boundaries"), call.args.get("num_bins")
    depth = len(bounds) + 1 if bounds is not None else bins
    dtype = compute_dtype(call.args)
    if mode == "one_hot":
        out = shape[:-1] + (depth,) if shape[-1] == 1 and len(shape) > 1 else shape + (depth,)
    else:
        out = (shape[0],) + shape[2:] + (depth,) if len(shape) >= 2 else (depth,)
    return finish(call, TensorType(out, dtype))


@rule("Hashing")
def hashing(call: LayerCall) -> Result:
    """Hashing.compute_output_spec: "int" keeps the shape, the other modes
    replace the last axis with num_bins; the dtype is the layer's `dtype`
    (int64 by default in "int" mode, float32 otherwise)."""
    shape = known_rank(call, single_input(call))
    mode = call.args.get("output_mode", "int")
    dtype = variable_dtype(call.args.get("dtype") or ("int64" if mode == "int" else "float32"))
    if mode == "int":
        return finish(call, TensorType(shape, dtype))
    return finish(call, TensorType(shape[:-1] + (call.args["num_bins"],), dtype))


@rule("HashedCrossing")
def hashed_crossing(call: LayerCall) -> Result:
    """Called on [a, b]: compute_output_shape needs exactly two inputs with
    the same last dimension; "int" gives a's shape (int64), one_hot adds a
    num_bins axis (replacing a trailing 1).  `call` also needs each input
    to be (batch,) or (batch, 1) of an integer or string dtype, and equal
    shapes: KD501/KD500/KD504 for what would fail on the first batch."""
    items = tensor_list(call, 2)
    if len(items) != 2:
        raise RuleError(codes.INVALID_SHAPE, f"HashedCrossing expects a list of 2 tensors. Received: {describe(call.inputs)}")
    a, b = (known_rank(call, t) for t in items)
    if a[-1] != b[-1] or a != b:
        raise RuleError(codes.INCOMPATIBLE_SHAPES, f"HashedCrossing inputs must have identical shapes. Received: {format_shape(a)} and {format_shape(b)}")
    if len(a) > 2 or (len(a) == 2 and a[-1] != 1):
        raise RuleError(codes.WRONG_RANK, f"HashedCrossing inputs must have shape (batch,) or (batch, 1). Received: {format_shape(a)}")
    for t in items:
        if not (is_int(t.dtype) or t.dtype == "string"):
            raise RuleError(codes.WRONG_DTYPE, f"HashedCrossing inputs must be integer or string tensors. Received: a {t.dtype} tensor")
    mode = call.args.get("output_mode", "int")
    dtype = compute_dtype(call.args.get("dtype") or ("int64" if mode == "int" else None))
    if mode == "int":
        return finish(call, TensorType(a, dtype))
    bins = call.args["num_bins"]
    out = a + (bins,) if a[-1] != 1 else a[:-1] + (bins,)
    return finish(call, TensorType(out, dtype))


# ---------------------------------------------------------------- lookups


def _strip_special(vocab: list, special: list) -> list:
    """The vocabulary without a leading copy of the special tokens, as
    IndexLookup.set_vocabulary strips them (only an exact prefix)."""
    return vocab[len(special):] if vocab[: len(special)] == special else vocab


def lookup_depth(call: LayerCall, mask_token: Any, oov_token: Any, mode: str) -> Optional[int]:
    """The encoded depth of an IndexLookup layer (its vocabulary_size()):
    max_tokens when padded; else the tokens, plus the OOV indices, plus the
    mask in "int" mode; None when the vocabulary is not a given list."""
    args = call.args
    max_tokens = args.get("max_tokens")
    if args.get("pad_to_max_tokens", False):
        return max_tokens
    vocab = args.get("vocabulary")
    if not isinstance(vocab, (list, tuple)):
        return None  # learned by adapt() or read from a file
    oov = args.get("num_oov_indices", 1)
    mask_slots = 1 if mask_token is not None and mode == "int" else 0
    special = [mask_token] * mask_slots + [oov_token] * oov
    tokens = _strip_special(list(vocab), special)
    if (mask_token is not None and mask_token in tokens) or len(set(tokens)) != len(tokens):
        raise RuleError(
            codes.INVALID_SHAPE,
            f"{call.cls}: the vocabulary repeats a term or holds the mask token; mask and OOV tokens "
            f"may only lead it, in this order: {special}. Received: vocabulary={list(vocab)}",
        )
    size = len(tokens) + mask_slots + oov
    if max_tokens is not None and size > max_tokens:
        raise RuleError(
            codes.INVALID_SHAPE,
            f"{call.cls}: the vocabulary ({size} entries with the mask and OOV indices) is larger "
            f"than max_tokens={max_tokens}",
        )
    return size


def lookup_output(call: LayerCall, shape: tuple, mode: str, depth: Optional[int]) -> TensorType:
    """IndexLookup.compute_output_spec: "int" keeps the shape as int64 (even
    with invert=True, as Keras's static spec says); the encodings are float32."""
    if mode == "int":
        return TensorType(shape, "int64")
    return TensorType(encoded_shape(shape, mode, depth), "float32")


def _lookup_mode(call: LayerCall) -> str:
    mode = call.args.get("output_mode", "int")
    return {"binary": "multi_hot", "tf-idf": "tf_idf"}.get(mode, mode)


@rule("StringLookup", "IntegerLookup")
def index_lookup(call: LayerCall) -> Result:
    """Tokens to indices ("int", int64, same shape) or to encodings of the
    vocabulary's depth (float32); no weights."""
    shape = known_rank(call, single_input(call))
    mode = _lookup_mode(call)
    if call.args.get("invert", False) and mode != "int":
        raise RuleError(codes.INVALID_SHAPE, f"{call.cls}: output_mode must be 'int' when invert is true. Received: output_mode={mode!r}")
    default_oov = "[UNK]" if call.cls == "StringLookup" else -1
    depth = lookup_depth(call, call.args.get("mask_token"), call.args.get("oov_token", default_oov), mode)
    return finish(call, lookup_output(call, shape, mode, depth))


@rule("TextVectorization")
def text_vectorization(call: LayerCall) -> Result:
    """TextVectorization.compute_output_shape: "int" gives (batch,
    output_sequence_length) (None without one), int64; the encodings add a
    token axis (split on) or a trailing 1 below rank 2 (split=None) and then
    encode it like its inner StringLookup (mask "", one OOV index)."""
    shape = known_rank(call, single_input(call))
    mode = _lookup_mode(call)
    if mode == "int":
        return finish(call, TensorType((shape[0], call.args.get("output_sequence_length")), "int64"))
    if call.args.get("split", "whitespace") is None:
        tokens = shape + (1,) if len(shape) <= 1 else shape
    else:
        tokens = shape + (None,)
    depth = lookup_depth(call, "", "[UNK]", mode)
    return finish(call, lookup_output(call, tokens, mode, depth))
