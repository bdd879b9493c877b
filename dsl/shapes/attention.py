"""Shape rules of Keras's attention layers: MultiHeadAttention, Attention
and AdditiveAttention."""

from __future__ import annotations

from .. import codes
from .base import LayerCall, Result, RuleError, TensorType, Weight, rule
from .core import analyze_einsum
from .util import broadcast_shapes, compute_dtype, describe, finish, format_shape, known_dim, known_rank


def _mha_inputs(call: LayerCall) -> tuple:
    """(query, value, key) shapes of a MultiHeadAttention call: positional
    query and value, key positional or keyword (defaults to value)."""
    args = list(call.inputs) + [None] * 3
    query, value, key = args[0], args[1], args[2] or call.call_kwargs.get("key")
    value = value if value is not None else call.call_kwargs.get("value")
    if not isinstance(query, TensorType) or not isinstance(value, TensorType):
        raise RuleError(codes.INVALID_SHAPE, f"{call.cls} expects query and value tensors, e.g. attention(q, v). Received: {describe(call.inputs)}")
    key = key if isinstance(key, TensorType) else value
    return known_rank(call, query), known_rank(call, value), known_rank(call, key)


def attention_axes(call: LayerCall, rank: int) -> tuple:
    """The attention axes over a rank-RANK input: by default every axis
    between batch and features; negative ones count from the features axis
    of the projected (rank + 1) tensor, as Keras's _build_attention."""
    axes = call.args.get("attention_axes")
    if axes is None:
        return tuple(range(1, rank - 1))
    axes = (axes,) if isinstance(axes, int) else tuple(axes)
    axes = tuple(a if a >= 0 else rank + a for a in axes)
    if not all(1 <= a < rank - 1 for a in axes):
        raise RuleError(
            codes.INVALID_SHAPE,
            f"MultiHeadAttention attention_axes {call.args.get('attention_axes')} must name axes "
            f"between the batch and the feature axis of a rank-{rank} input.",
        )
    return axes


def check_mha_shapes(call: LayerCall, q: tuple, v: tuple, k: tuple, axes: tuple) -> None:
    """KD500 when Keras's einsums would fail: value and key must agree
    except in features (checked by build), and query and value on every
    non-attention axis.  Different ranks build (Keras checks only value
    against key) but cannot run: the dot-product einsum is built for the
    value's rank ("Shape must be rank 4 but is rank 5 ... BTNH,BSNH->BNTS"
    on the first batch), so kdsl refuses them here."""
    if v[1:-1] != k[1:-1]:
        raise RuleError(codes.INCOMPATIBLE_SHAPES, f"All dimensions of `value` and `key`, except the last one, must be equal. Received: value {format_shape(v)} and key {format_shape(k)}")
    if not len(q) == len(v) == len(k):
        raise RuleError(
            codes.INCOMPATIBLE_SHAPES,
            f"MultiHeadAttention needs query, value and key of the same rank: Keras builds the layer, but its "
            f"attention einsum fails on the first batch. Received: query {format_shape(q)}, value {format_shape(v)}, key {format_shape(k)}",
            "reshape the query or the value so that both have the same rank",
        )
    for a in range(len(q) - 1):
        if a not in axes and q[a] is not None and v[a] is not None and q[a] != v[a]:
            raise RuleError(
                codes.INCOMPATIBLE_SHAPES,
                f"MultiHeadAttention query and value must agree on axis {a} (not an attention axis). "
                f"Received: query {format_shape(q)}, value {format_shape(v)}",
            )


def _projection(name: str, shape: tuple, heads: int, dim: int, bias: bool) -> list:
    """The kernel (features, heads, dim) and bias (heads, dim) of a projection."""
    return [Weight("kernel", (shape[-1], heads, dim))] + ([Weight("bias", (heads, dim))] if bias else [])


@rule("MultiHeadAttention")
def multi_head_attention(call: LayerCall) -> Result:
    """query[:-1] + output_shape (default query's features); weights of the
    query, key, (gate,) value and attention_output projections in that order.
    With return_attention_scores the scores follow, shaped as Keras's static
    spec: (batch, heads, query.shape[1], query.shape[1])."""
    q, v, k = _mha_inputs(call)
    axes = attention_axes(call, len(q))
    check_mha_shapes(call, q, v, k, axes)
    for name, s in (("query", q), ("value", v), ("key", k)):
        known_dim(call, s, len(s) - 1, f"{name} feature dimension")
    heads, key_dim = call.args["num_heads"], call.args["key_dim"]
    value_dim = call.args.get("value_dim") or key_dim
    bias = call.args.get("use_bias", True)
    out_arg = call.args.get("output_shape")
    out_dims = () if not out_arg else ((out_arg,) if isinstance(out_arg, int) else tuple(out_arg))
    weights = _projection("query", q, heads, key_dim, bias) + _projection("key", k, heads, key_dim, bias)
    if call.args.get("use_gate", False):
        weights += _projection("gate", q, heads, value_dim, bias)
    weights += _projection("value", v, heads, value_dim, bias)
    final = out_dims or (q[-1],)
    weights += [Weight("kernel", (heads, value_dim) + final)] + ([Weight("bias", final)] if bias else [])
    dtype = compute_dtype(call.args)
    out = TensorType(q[:-1] + final, dtype)
    if call.call_kwargs.get("return_attention_scores", False):
        return finish(call, (out, TensorType((q[0], heads, q[1], q[1]), dtype)), weights)
    return finish(call, out, weights)


def _attention_inputs(call: LayerCall) -> tuple:
    """(query, value, key) shapes of an Attention call on [q, v] or [q, v, k]."""
    items = call.inputs[0] if len(call.inputs) == 1 else None
    if not isinstance(items, (list, tuple)) or not 2 <= len(items) <= 3 or not all(isinstance(t, TensorType) for t in items):
        raise RuleError(codes.INVALID_SHAPE, f"{call.cls} must be called on a list [query, value] or [query, value, key]. Received: {describe(call.inputs)}")
    q, v = known_rank(call, items[0]), known_rank(call, items[1])
    k = known_rank(call, items[2]) if len(items) == 3 else v
    return q, v, k


def _agree(a, b) -> bool:
    """Two dimensions that may be equal (None matches anything)."""
    return a is None or b is None or a == b


def _attention_weights(call: LayerCall, q: tuple) -> list:
    """AdditiveAttention: a scale per query feature (use_scale defaults on);
    Attention: a scalar scale if use_scale, a scalar for score_mode="concat"."""
    if call.cls == "AdditiveAttention":
        on = call.args.get("use_scale", True)
        return [Weight("scale", (known_dim(call, q, len(q) - 1, "query feature dimension"),))] if on else []
    weights = [Weight("scale", ())] if call.args.get("use_scale", False) else []
    if call.args.get("score_mode", "dot") == "concat":
        weights.append(Weight("concat_score_weight", ()))
    return weights


def _broadcastable(*shapes) -> bool:
    """Whether SHAPES broadcast (numpy rules, None matching anything)."""
    out: tuple = ()
    try:
        for shape in shapes:
            out = broadcast_shapes(out, shape)
    except ValueError:
        return False
    return True


@rule("Attention", "AdditiveAttention")
def attention(call: LayerCall) -> Result:
    """(*query[:-1], value[-1]); scores (*query[:-1], key[-2]), as Keras's
    compute_output_spec, which checks no shape.  kdsl refuses only what
    `call` cannot compute: the scores contract query and key features
    (equal for score_mode="dot", broadcastable for "concat" and
    AdditiveAttention), the output contracts key and value lengths, and the
    leading (batch) axes of all three broadcast, as in ops.matmul."""
    q, v, k = _attention_inputs(call)
    shapes = f"query {format_shape(q)}, value {format_shape(v)}, key {format_shape(k)}"
    if min(len(q), len(v), len(k)) < 2:
        raise RuleError(codes.WRONG_RANK, f"{call.cls} needs query, value and key of rank 2 or more (batch, length, features). Received: {shapes}")
    dot = call.cls == "Attention" and call.args.get("score_mode", "dot") == "dot"
    features_fit = _agree(q[-1], k[-1]) if dot else _broadcastable((q[-1],), (k[-1],))
    if not features_fit or not _agree(v[-2], k[-2]):
        raise RuleError(
            codes.INCOMPATIBLE_SHAPES,
            f"{call.cls} needs query and key with the same last dimension and value and key "
            f"with the same length. Received: {shapes}",
        )
    if not _broadcastable(q[:-2], v[:-2], k[:-2]):
        raise RuleError(codes.INCOMPATIBLE_SHAPES, f"{call.cls} needs query, value and key whose batch dimensions broadcast. Received: {shapes}")
    weights = _attention_weights(call, q)
    dtype = compute_dtype(call.args)
    out = TensorType(q[:-1] + (v[-1],), dtype)
    if call.call_kwargs.get("return_attention_scores", False):
        return finish(call, (out, TensorType(q[:-1] + (k[-2],), dtype)), weights)
    return finish(call, out, weights)


def _gqa_dense(call: LayerCall, equation: str, bias_axes, shape: tuple, out_shape: tuple, what: str) -> list:
    """The kernel and bias of one of GroupedQueryAttention's EinsumDense
    projections built on SHAPE (Keras builds them on whatever rank it gets)."""
    try:
        kernel, bias, _ = analyze_einsum(equation, bias_axes, shape, out_shape)
    except (ValueError, IndexError) as e:
        raise RuleError(codes.INVALID_SHAPE, f"GroupQueryAttention cannot build its {what} projection on {format_shape(shape)}: {e}") from None
    if None in kernel or (bias is not None and None in bias):
        raise RuleError(
            codes.INVALID_SHAPE,
            f"GroupQueryAttention needs a known {what} feature dimension to build its weights. Received: {format_shape(shape)}",
            "give the input a fixed size on its last axis",
        )
    return [Weight("kernel", kernel)] + ([Weight("bias", bias)] if bias is not None else [])


@rule("GroupQueryAttention")
def group_query_attention(call: LayerCall) -> Result:
    """GroupedQueryAttention.compute_output_spec: the query's shape (query
    and value must share the last dimension, value and key all but the last);
    scores (batch, num_query_heads, query.shape[1], key.shape[1]).  Weights:
    the query, key, (gate,) value and attention_output EinsumDense layers."""
    q, v, k = _mha_inputs(call)
    if len(q) < 3:
        raise RuleError(codes.WRONG_RANK, f"GroupQueryAttention expects query and value of rank 3 (batch, length, features). Received: query {format_shape(q)}")
    if q[-1] != v[-1]:
        raise RuleError(codes.INCOMPATIBLE_SHAPES, f"The last dimension of query and value must be equal. Received: query {format_shape(q)}, value {format_shape(v)}")
    if v[1:-1] != k[1:-1]:
        raise RuleError(codes.INCOMPATIBLE_SHAPES, f"All dimensions of `value` and `key`, except the last one, must be equal. Received: value {format_shape(v)} and key {format_shape(k)}")
    dim, hq, hkv = call.args["head_dim"], call.args["num_query_heads"], call.args["num_key_value_heads"]
    bias = call.args.get("use_bias", True)
    query_proj = ("bqm,muh->bquh", "uh" if bias else None, (None, hq, dim))
    kv_proj = ("bkm,mvh->bkvh", "vh" if bias else None, (None, hkv, dim))
    weights = _gqa_dense(call, *query_proj[:2], q, query_proj[2], "query")
    weights += _gqa_dense(call, *kv_proj[:2], k, kv_proj[2], "key")
    if call.args.get("use_gate", False):
        weights += _gqa_dense(call, *query_proj[:2], q, query_proj[2], "gate")
    weights += _gqa_dense(call, *kv_proj[:2], v, kv_proj[2], "value")
    weights += _gqa_dense(call, "bquh,uhm->bqm", "m" if bias else None, (None, None, hq, dim), (None, q[-1]), "attention_output")
    dtype = compute_dtype(call.args)
    out = TensorType(q, dtype)
    if call.call_kwargs.get("return_attention_scores", False):
        return finish(call, (out, TensorType((q[0], hq, q[1], k[1]), dtype)), weights)
    return finish(call, out, weights)
