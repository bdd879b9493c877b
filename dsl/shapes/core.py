"""Shape rules of Keras's core and activation layers: Dense, EinsumDense,
Embedding, the activation layers, Identity, Masking, ActivityRegularization."""

from __future__ import annotations

import re

from .. import codes
from .base import LayerCall, Result, RuleError, TensorType, Weight, rule
from .util import (
    compute_dtype,
    converted_dtype,
    finish,
    format_shape,
    is_int,
    known_rank,
    min_rank,
    single_input,
    with_lora,
)


@rule("Dense")
def dense(call: LayerCall) -> Result:
    """(..., d) -> (..., units); kernel (d, units) and bias (units,)."""
    t = single_input(call)
    shape = min_rank(call, t, 2)
    units = call.args["units"]
    d = shape[-1]
    if d is None:
        raise RuleError(
            codes.INVALID_SHAPE,
            f"Dense needs a known last dimension to build its kernel. Received: {format_shape(shape)}",
            "give the input a fixed feature size, or Flatten/Reshape it first",
        )
    weights = [Weight("kernel", (d, units))]
    if call.args.get("use_bias", True):
        weights.append(Weight("bias", (units,)))
    weights = with_lora(weights, call.args.get("lora_rank"))
    return finish(call, TensorType(shape[:-1] + (units,), compute_dtype(call.args)), weights)


def analyze_einsum(equation: str, bias_axes, input_shape: tuple, output_shape) -> tuple:
    """Keras's _analyze_einsum_string: (kernel_shape, bias_shape or None,
    full_output_shape) for EinsumDense.  Raises ValueError as Keras does."""
    eq = equation.replace("...", "0")
    for pattern, left in (
        (r"([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)", False),
        (r"0([a-zA-Z]+),([a-zA-Z]+)->0([a-zA-Z]+)", True),
        (r"([a-zA-Z]{2,})0,([a-zA-Z]+)->([a-zA-Z]+)0", False),
    ):
        m = re.match(pattern, eq)
        if m:
            return _analyze_split(m.group(1), m.group(2), m.group(3), bias_axes, input_shape, output_shape, left)
    raise ValueError(
        f"Invalid einsum equation '{equation}'. Equations must be in the form "
        "[X],[Y]->[Z], ...[X],[Y]->...[Z], or [X]...,[Y]->[Z]...."
    )


def _einsum_output(input_spec, output_spec, input_shape, output_shape, left) -> tuple:
    """(full output shape, elided count, input axis map, output axis map):
    the user's partial output shape with the batch and elided dims added,
    as the first half of Keras's _analyze_split_string."""
    elided = len(input_shape) - len(input_spec)
    out = [output_shape] if isinstance(output_shape, int) else list(output_shape)
    out.insert(0, input_shape[0])
    if elided > 0 and left:
        for i in range(1, elided):
            out.insert(1, input_shape[i])
    elif elided > 0:
        out.extend(input_shape[len(input_shape) - elided:])
    if left:
        in_map = {c: i + elided - len(input_shape) for i, c in enumerate(input_spec)}
        return out, elided, in_map, {c: i + elided for i, c in enumerate(output_spec)}
    return out, elided, {c: i for i, c in enumerate(input_spec)}, {c: i for i, c in enumerate(output_spec)}


def _analyze_split(input_spec, weight_spec, output_spec, bias_axes, input_shape, output_shape, left):
    """The second half of Keras's _analyze_split_string (same checks, same order)."""
    out, elided, in_map, out_map = _einsum_output(input_spec, output_spec, input_shape, output_shape, left)
    for c in input_spec:
        if c in out_map and out[out_map[c]] is not None and out[out_map[c]] != input_shape[in_map[c]]:
            raise ValueError(
                f"Input shape and output shape do not match at shared dimension '{c}'. "
                f"Input shape is {input_shape[in_map[c]]}, and output shape is {out[out_map[c]]}."
            )
    for c in output_spec:
        if c not in input_spec and c not in weight_spec:
            raise ValueError(f"Dimension '{c}' was specified in the output '{output_spec}' but has no corresponding dim in the input spec '{input_spec}' or weight spec '{weight_spec}'")
    kernel = []
    for c in weight_spec:
        if c not in out_map and c not in in_map:
            raise ValueError(f"Weight dimension '{c}' did not have a match in either the input spec '{input_spec}' or the output spec '{output_spec}'.")
        kernel.append(out[out_map[c]] if c in out_map else input_shape[in_map[c]])
    return tuple(kernel), _einsum_bias(bias_axes, output_spec, out, elided, left), tuple(out)


def _einsum_bias(bias_axes, output_spec, out, elided, left):
    """The bias shape for BIAS_AXES, as Keras builds it (broadcastable from the
    first biased output axis on)."""
    if bias_axes is None:
        return None
    offset = elided if left else 0
    sizes = {c: out[i + offset] for i, c in enumerate(output_spec)}
    for c in bias_axes:
        if c not in output_spec:
            raise ValueError(f"Bias dimension '{c}' was requested, but is not part of the output spec '{output_spec}'")
    first = min(output_spec.find(c) for c in bias_axes)
    shape = [sizes[c] if c in bias_axes else 1 for c in output_spec[first:]]
    if not left:
        shape += [1] * max(elided, 0)
    return tuple(shape)


@rule("EinsumDense")
def einsum_dense(call: LayerCall) -> Result:
    """Output and weights from the equation, as Keras's EinsumDense."""
    shape = known_rank(call, single_input(call))
    out_arg = call.args["output_shape"]
    try:
        kernel, bias, out = analyze_einsum(call.args["equation"], call.args.get("bias_axes"), shape, out_arg)
    except (ValueError, IndexError) as e:
        raise RuleError(codes.INVALID_SHAPE, f"EinsumDense cannot apply {call.args['equation']!r} to {format_shape(shape)}: {e}") from None
    for name, w in (("kernel", kernel), ("bias", bias)):
        if w is not None and None in w:
            raise RuleError(
                codes.INVALID_SHAPE,
                f"EinsumDense needs every dimension of its {name} to be known; got {format_shape(w)} "
                f"from {call.args['equation']!r} on {format_shape(shape)}",
                "give the contracted input dimensions a fixed size",
            )
    weights = [Weight("kernel", kernel)] + ([Weight("bias", bias)] if bias is not None else [])
    weights = with_lora(weights, call.args.get("lora_rank"))
    return finish(call, TensorType(out, compute_dtype(call.args)), weights)


@rule("Activation", "ReLU", "LeakyReLU", "ELU", "Softmax", "Masking", "ActivityRegularization")
def same_shape(call: LayerCall) -> Result:
    """Same shape; the output spec has the layer's compute dtype (Keras's
    compute_output_shape path), whatever the input dtype."""
    t = single_input(call)
    return finish(call, TensorType(t.shape, compute_dtype(call.args)))


@rule("Identity")
def identity(call: LayerCall) -> Result:
    """The input itself: Identity's output spec copies the (autocast) input dtype."""
    t = single_input(call)
    return finish(call, TensorType(t.shape, converted_dtype(call.args, t)))


@rule("PReLU")
def prelu(call: LayerCall) -> Result:
    """Same shape; alpha has the input's shape without batch, 1 on shared axes."""
    t = single_input(call)
    shape = known_rank(call, t)
    alpha = list(shape[1:])
    shared = call.args.get("shared_axes")
    if shared is not None:
        for axis in shared if isinstance(shared, (list, tuple)) else [shared]:
            if not -len(alpha) <= axis - 1 < len(alpha):
                raise RuleError(codes.INVALID_SHAPE, f"PReLU shared_axes {shared} out of range for input {format_shape(shape)}")
            alpha[axis - 1] = 1
    if None in alpha:
        raise RuleError(
            codes.INVALID_SHAPE,
            f"PReLU needs known dimensions for its alpha weight {format_shape(alpha)}. Received: {format_shape(shape)}",
            "share alpha over the unknown axes with shared_axes=[...]",
        )
    return finish(call, TensorType(shape, compute_dtype(call.args)), [Weight("alpha", tuple(alpha))])


@rule("Embedding")
def embedding(call: LayerCall) -> Result:
    """(...) int -> (..., output_dim) float; embeddings (input_dim, output_dim).
    Keras would cast float indices silently; kdsl rejects them (KD504)."""
    t = single_input(call)
    if not is_int(t.dtype):
        raise RuleError(
            codes.WRONG_DTYPE,
            f"Embedding expects integer indices. Received: a {t.dtype} tensor of shape {format_shape(t.shape)}",
            'declare the input with an integer dtype, e.g. dtype="int32"',
        )
    shape = known_rank(call, t)
    out = TensorType(shape + (call.args["output_dim"],), compute_dtype(call.args))
    table = Weight("embeddings", (call.args["input_dim"], call.args["output_dim"]))
    return finish(call, out, with_lora([table], call.args.get("lora_rank"), "lora_embeddings"))


@rule("ReversibleEmbedding")
def reversible_embedding(call: LayerCall) -> Result:
    """Forward: (...) -> (..., output_dim), as Embedding (Keras casts float
    indices); with reverse=True: (..., output_dim) -> (..., input_dim)
    logits.  Weights: embeddings (and LoRA adapters), then
    reverse_embeddings (output_dim, input_dim) unless tie_weights."""
    t = single_input(call)
    shape = known_rank(call, t)
    in_dim, out_dim = call.args["input_dim"], call.args["output_dim"]
    if call.call_kwargs.get("reverse", False):
        out = shape[:-1] + (in_dim,) if shape else (in_dim,)
    else:
        out = shape + (out_dim,)
    lora = call.args.get("lora_rank")
    weights = with_lora([Weight("embeddings", (in_dim, out_dim))], lora, "lora_embeddings")
    if not call.args.get("tie_weights", True):
        if lora:
            # Embedding.build enables LoRA, which locks the layer's variables:
            # Keras then fails to add reverse_embeddings ("ValueError: None").
            raise RuleError(codes.INVALID_SHAPE, "ReversibleEmbedding cannot combine lora_rank with tie_weights=False (Keras fails to build it)")
        weights.append(Weight("reverse_embeddings", (out_dim, in_dim)))
    return finish(call, TensorType(out, compute_dtype(call.args)), weights)
