"""Inputs, outputs, shape annotations and `x.shape` in the evaluator."""

from __future__ import annotations

from .. import codes
from .. import catalog as kcat
from ..diagnostics import SourceError, suggest
from ..shapes.base import TensorType
from ..shapes.util import KERAS_DTYPES
from ..syntax import tree as n
from .arguments import _kw, bind_arguments
from .graph import InputSpec, OutputSpec
from .instances import CONSTANT_HINT, _instance_name, apply, check_buildable
from .values import POISON, Instance, Tensor, UnknownDim, format_shape, kind_name, show


def shape_of(tensor: Tensor, label: str, span: n.Span):
    """`x.shape`: a tuple with UnknownDim where the dimension is unknown."""
    if tensor.shape is None:
        raise SourceError(codes.UNKNOWN_DIMENSION, f"the shape of `{label}` is unknown here", span,
                     f"annotate `{label}` with its shape, e.g. `{label}: (None, 32) = ...`")
    return tuple(UnknownDim(label, i) if d is None else d for i, d in enumerate(tensor.shape))


def annotate(ev, frame, value, annotation, target: n.Name):
    """Check a tensor against `NAME: (dims) = ...`; unknown dims take the annotation's."""
    if value is POISON:
        return value
    declared = ev.eval(frame, annotation)
    if isinstance(declared, list):
        declared = tuple(declared)
    valid = isinstance(declared, tuple) and all(
        d is None or isinstance(d, UnknownDim) or (isinstance(d, int) and not isinstance(d, bool) and d >= 0) for d in declared
    )
    if not valid:
        raise SourceError(codes.WRONG_KIND, f"an annotation is a tuple of dimensions (integers or None); received {show(declared)}", annotation.span)
    declared = tuple(None if isinstance(d, UnknownDim) else d for d in declared)
    if not isinstance(value, Tensor):
        raise SourceError(codes.WRONG_KIND, f"only tensors can be annotated; `{target.id}` is {kind_name(value)}", annotation.span)
    shape = value.shape
    if shape is None:
        value.type = TensorType(declared, value.dtype)
        return value
    if len(shape) != len(declared) or any(d is not None and s is not None and d != s for d, s in zip(declared, shape)):
        raise SourceError(codes.ANNOTATION_MISMATCH, f"`{target.id}` has shape {format_shape(shape)}, not {format_shape(declared)} as annotated", annotation.span)
    merged = tuple(s if s is not None else d for s, d in zip(shape, declared))
    if merged != shape:
        value.type = TensorType(merged, value.dtype)
    return value


def make_input(ev, frame, expr: n.Call):
    """`Input(shape=..., dtype=...)`: a new input of the model."""
    cat = kcat.load()
    args, kwargs = ev.eval_arguments(frame, expr)
    if any(v is POISON for v in [*args, *kwargs.values()]):
        return POISON
    if not frame.is_model:
        raise SourceError(codes.MISPLACED_STATEMENT, "`Input` can only be used in a model body", expr.span)
    bound = bind_arguments(kcat.Signature(cat.input_params()), args, kwargs, expr, "`Input`", {})
    shape = _input_shape(bound, expr)
    dtype = bound.get("dtype") or "float32"
    if dtype not in KERAS_DTYPES:
        raise SourceError(codes.INVALID_ARGUMENT, f"`Input`: unknown dtype \"{dtype}\"", _kw(expr, "dtype").value.span, suggest(dtype, KERAS_DTYPES))
    index = len(frame.graph.inputs)
    if frame.input_shapes is not None and index < len(frame.input_shapes):
        shape = tuple(frame.input_shapes[index])
    name, _ = _instance_name(ev, frame, expr, bound, "InputLayer", default=None)
    tensor = Tensor(TensorType(shape, dtype), None, 0, label=name)
    check_buildable(name, tensor.type, (), expr.span)
    spec = InputSpec(name, name, tensor, expr.span, frame.file.display)
    tensor.input_of = spec
    frame.graph.inputs.append(spec)
    return tensor


def _input_shape(bound: dict, expr: n.Call):
    batch_shape = bound.get("batch_shape")
    shape = bound.get("shape")
    if batch_shape is not None:
        dims = batch_shape
    elif shape is not None:
        dims = (bound.get("batch_size"),) + tuple(shape) if isinstance(shape, (tuple, list)) else shape
    else:
        raise SourceError(codes.MISSING_ARGUMENT, "`Input` needs `shape=` (or `batch_shape=`)", expr.span)
    if not isinstance(dims, (tuple, list)):
        raise SourceError(codes.WRONG_KIND, f"`Input` shape must be a tuple of dimensions; received {show(shape)}", expr.span)
    dims = tuple(None if isinstance(d, UnknownDim) else d for d in dims)
    bad = next((i for i, d in enumerate(dims) if not (d is None or (isinstance(d, int) and not isinstance(d, bool) and d >= 0))), None)
    if bad is not None:
        # Name the argument the bad dimension came from: batch_size is dims[0].
        which = "batch_shape" if batch_shape is not None else ("batch_size" if bad == 0 else "shape")
        received = batch_shape if batch_shape is not None else (dims[0] if bad == 0 else shape)
        keyword = next((k for k in expr.keywords if k.name == which), None)
        raise SourceError(codes.WRONG_KIND, f"`Input` dimensions must be non-negative integers or None; "
                          f"received {which}={show(received)}", keyword.value.span if keyword else expr.span)
    return dims


def add_output(ev, frame, name_node: n.Name, name: str, value, identity: bool) -> None:
    """Declare VALUE an output named NAME (through an Identity when needed)."""
    if value is POISON:
        frame.graph.complete = False
        return
    if not isinstance(value, Tensor):
        raise SourceError(codes.WRONG_KIND, f"an output must be a tensor; `{name_node.id}` is {kind_name(value)} ({show(value)})", name_node.span)
    if value.constant:
        raise SourceError(codes.CONSTANT_TENSOR, f"an output must be a tensor of the model; `{name_node.id}` is a constant "
                          f"tensor ({show(value)}), made from constants only", name_node.span, CONSTANT_HINT)
    if identity or value.node is None:
        inst = Instance("layer", "Identity", {"name": name}, name, name_node.span, frame.file.display, True)
        frame.graph.instances.append(inst)
        value = apply(ev, frame, inst, [value], {}, name_node.span)
        out_name = name
    else:
        out_name = value.node.instance.name
    frame.graph.outputs.append(OutputSpec(out_name, value, name_node.span, frame.file.display))
