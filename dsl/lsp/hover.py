"""What a hover shows: Markdown for the value at a position, or for what a
name means when it has no value (a block's name, a Keras class)."""

from __future__ import annotations

from typing import Optional

from .. import catalog as kcat
from ..check.values import Instance, KerasObject, Tensor, show
from ..semantics.scope import BUILTINS
from ..shapes.util import format_shape
from ..summary import instance_counts
from ..syntax import tree as n

# Distinct shapes listed for an expression evaluated many times.
SHOWN_VALUES = 6


def _distinct(items: list, key) -> list:
    seen, out = set(), []
    for item in items:
        k = key(item)
        if k not in seen:
            seen.add(k)
            out.append(item)
    return out


def tensor_text(tensor: Tensor) -> str:
    return f"`{format_shape(tensor.shape)}` {tensor.dtype}"


def _tensors_markdown(label: str, tensors: list, count: int) -> str:
    shapes = _distinct(tensors, lambda t: (tuple(t.shape) if t.shape is not None else None, t.dtype))
    head = f"**{label}**: tensor " if label else "tensor "
    if len(shapes) == 1:
        text = head + tensor_text(shapes[0])
        return text + (f" (in each of {count} evaluations)" if count > 1 else "")
    lines = [head + f"of {len(shapes)} shapes over {count} evaluations:"]
    lines += [f"- {tensor_text(t)}" for t in shapes[:SHOWN_VALUES]]
    if len(shapes) > SHOWN_VALUES:
        lines.append(f"- and {len(shapes) - SHOWN_VALUES} more")
    return "\n".join(lines)


def _argument_text(value) -> str:
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, KerasObject):
        return repr(value)
    return show(value)


def instance_markdown(inst: Instance) -> str:
    """A layer or model instance: class and name, arguments as bound
    (defaults included), weights, parameter counts and the Keras doc."""
    kind = {"model": "kd model", "application": "keras.applications model", "custom": "custom layer"}.get(inst.kind, "layer")
    lines = [f"**{inst.cls}** `{inst.name}` ({kind})"]
    if inst.args:
        arguments = ",\n".join(f"    {k}={_argument_text(v)}" for k, v in inst.args.items())
        lines += ["```kd", f"{inst.cls}(\n{arguments},\n)", "```"]
    if inst.weights is not None:
        counts = instance_counts(inst)
        weights = ", ".join(f"{w.name} {format_shape(w.shape)}" + ("" if w.trainable else " (non-trainable)") for w in inst.weights)
        lines.append(f"Weights: {weights or 'none'}  ")
        lines.append(f"Parameters: {counts.total:,} ({counts.trainable:,} trainable, {counts.non_trainable:,} non-trainable)")
    elif not inst.params_known:
        lines.append("Parameters: unknown to kdsl")
    if not inst.trainable:
        lines.append("Frozen (`trainable = False`)")
    outputs = [t for node in inst.calls for t in _flat(node.outputs)]
    if outputs:
        lines.append("Output: " + ", ".join(tensor_text(t) for t in _distinct(outputs, lambda t: tuple(t.shape or ()))[:SHOWN_VALUES]))
    doc = kcat.load().doc(inst.cls) if inst.kind in ("layer", "application") else ""
    if doc:
        lines += ["", doc]
    return "\n".join(lines)


def _flat(outputs) -> list:
    return [outputs] if isinstance(outputs, Tensor) else [t for t in outputs if isinstance(t, Tensor)]


def value_markdown(value_at) -> Optional[str]:
    """Markdown for what the expression at a position evaluated to."""
    node = value_at.node
    label = node.id if isinstance(node, n.Name) else node.name if isinstance(node, n.Param) else ""
    instances = _distinct(value_at.instances, id)
    tensors = value_at.tensors
    parts = []
    if instances:
        parts.append(instance_markdown(instances[0]))
        if len(instances) > 1:
            parts.append(f"({len(instances)} instances made here: " + ", ".join(f"`{i.name}`" for i in instances[:SHOWN_VALUES])
                         + (", ..." if len(instances) > SHOWN_VALUES else "") + ")")
    if tensors:
        parts.append(_tensors_markdown(label if not instances else "output", tensors, value_at.count))
    if not parts:
        constants = _distinct(value_at.values, repr)
        if not constants or any(not _is_constant(v) for v in constants):
            return None
        shown = ", ".join(f"`{show(v)}`" for v in constants[:SHOWN_VALUES])
        parts.append((f"**{label}** = " if label else "") + shown + (" ..." if len(constants) > SHOWN_VALUES else ""))
    return "\n\n".join(parts)


def _is_constant(value) -> bool:
    return value is None or isinstance(value, (bool, int, float, str, tuple, list, dict, range))


def definition_markdown(definition, source: str) -> str:
    """A block's or model's signature and doc comment."""
    keyword = "model" if isinstance(definition, n.ModelDef) else "block"
    params = definition.params
    text = ""
    if params is not None:
        text = "(" + ", ".join(source[p.span.start:p.span.end] for p in params) + ")"
    lines = ["```kd", f"{keyword} {definition.name}{text}", "```"]
    if definition.doc:
        lines += ["", definition.doc]
    return "\n".join(lines)


def keras_markdown(name: str) -> Optional[str]:
    """A Keras layer class, application, merge helper or builtin."""
    cat = kcat.load()
    info = cat.layer(name) or cat.application(name)
    if info is None and cat.merge_helper(name) is None and name not in BUILTINS and name != "Input":
        return None
    if name in BUILTINS:
        return f"`{name}`: Python's builtin, on constants"
    lines = [f"**{name}** (`{getattr(info, 'module', 'keras.layers')}`)"]
    if info is not None:
        params = ", ".join(p.name if p.required else f"{p.name}={_default_text(p)}" for p in info.signature.params)
        lines += ["```kd", f"{name}({params})", "```"]
    doc = cat.doc(name)
    if doc:
        lines += ["", doc]
    return "\n".join(lines)


def _default_text(param) -> str:
    value = getattr(param, "default", None)
    try:
        return _argument_text(value)
    except Exception:  # an opaque default recorded from Keras: no kd spelling
        return "..."
