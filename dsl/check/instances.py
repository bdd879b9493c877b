"""Layer and model instances in the evaluator: construction (arguments bound
and checked against the Keras catalog), application (shape rules, weight
sharing) and the nodes they add to the model's graph."""

from __future__ import annotations

import math
from typing import Optional

from .. import codes
from .. import catalog as kcat
from ..diagnostics import Related, SourceError
from ..semantics.naming import has_name_keyword
from ..semantics.scope import AppRef, CustomRef
from ..shapes import base as rules
from ..shapes.base import LayerSpec, RuleError, TensorType, Weight
from ..shapes.refused import REFUSED
from ..syntax import tree as n
from . import applications, masks
from .arguments import (
    _ATOMS, _check_argument_types, _check_constant_args, _check_enums, _eval_constructor_args, _kw, _plain,
    base_kwargs, bind_arguments,
)
from .auto_names import name_problem
from .graph import Node
from .values import POISON, Instance, Tensor, compatible, format_shape, kind_name, show


def check_name(name, span: n.Span) -> None:
    """Refuse a `name=` that Keras would refuse when building the model."""
    if not isinstance(name, str):
        raise SourceError(codes.WRONG_KIND, f"`name` must be a string; received {show(name)}", span)
    problem = name_problem(name)
    if problem is not None:
        raise SourceError(codes.INVALID_ARGUMENT, f"the name {show(name)} {problem}", span)


def _instance_name(ev, frame, expr: n.Call, bound: dict, cls: str, default: Optional[str] = None):
    """The Keras name of a new instance: explicit, given by naming, or automatic."""
    explicit = bound.get("name")
    if explicit is not None:
        check_name(explicit, _kw(expr, "name").value.span if has_name_keyword(expr) else expr.span)
        return explicit, True
    implicit = frame.naming.implicit.get(id(expr)) if frame.naming else None
    if implicit is not None:
        bound["name"] = implicit
        return implicit, False
    return default or ev.auto_name(cls), False


def construct(ev, frame, ref, expr: n.Call):
    """A new instance of a Keras layer class, an application or a custom layer."""
    if isinstance(ref, CustomRef):
        args, kwargs = _eval_constructor_args(ev, frame, expr)
        if any(v is POISON for v in [*args, *kwargs.values()]):
            return POISON
        bound = dict(kwargs)
        name, explicit = _instance_name(ev, frame, expr, bound, ref.name)
        inst = Instance("custom", ref.name, {"args": args, **kwargs}, name, expr.span, frame.file.display, explicit)
        frame.graph.instances.append(inst)
        return inst
    cat = kcat.load()
    if isinstance(ref, AppRef):
        info = cat.application(ref.name)
        return _construct_application(ev, frame, ref, info, expr)
    info = cat.layer(ref.name)
    what = f"`{ref.name}`"
    if info.canonical in REFUSED:
        raise SourceError(codes.UNKNOWN_LAYER, f"`{ref.name}` is not available in kd", expr.func.span, REFUSED[info.canonical])
    args, kwargs = _eval_constructor_args(ev, frame, expr)
    if any(v is POISON for v in [*args, *kwargs.values()]):
        return POISON
    key = _binding_key(info.canonical, args, kwargs)
    known = ev.bindings.get(key) if key is not None else None
    if known is not None:
        bound = dict(known)
        if "name" in kwargs:
            bound["name"] = kwargs["name"]  # the key holds its place, not its value
        name, explicit = _instance_name(ev, frame, expr, bound, info.keras_class)
    else:
        bound = bind_arguments(info.signature, args, kwargs, expr, what, base_kwargs())
        _check_constant_args(bound, expr, what)
        _check_enums(info.canonical, bound, expr, what)
        _check_argument_types(info, bound, expr, what)
        if key is not None:
            ev.bindings[key] = dict(bound)  # before the name goes in: each instance has its own
        name, explicit = _instance_name(ev, frame, expr, bound, info.keras_class)
        for value in bound.values():
            if isinstance(value, Instance):
                value.wrapped = True  # a sublayer of this one, not a layer of the model
        bound = {k: _plain(v) for k, v in bound.items()}
    ev.names.use(cat.name_effects(info.canonical)[0])  # sublayers made by the constructor
    inst = Instance("layer", info.canonical, bound, name, expr.span, frame.file.display, explicit)
    inst.trainable = bound.get("trainable", True) is not False
    inst.binding = key
    frame.graph.instances.append(inst)
    return inst


# Where a given `name` stands in a binding key (see `_binding_key`).
_NAME_GIVEN = ("name given",)


def _binding_key(cls: str, args: list, kwargs: dict) -> Optional[tuple]:
    """The key under which a layer's bound and checked arguments are kept
    for its next construction with the same values (`Evaluator.bindings`),
    or None when a value is not a constant of plain types.  Binding and its
    checks are pure functions of the values and their types; the types are
    in the key, since `1`, `1.0` and `True` are equal but not the same
    argument.  Such values, and every catalog default, are immutable, so
    instances can share them.  A given `name` counts by its place only."""
    parts = [cls, len(args)]
    for value in args:
        part = _constant_key(value)
        if part is None:
            return None
        parts.append(part)
    for keyword, value in kwargs.items():
        part = _constant_key(value)
        if part is None:
            return None
        # Applications name every layer: the name's place is in the key, its
        # value is the instance's own (no check or rule looks at it).
        parts += (keyword, _NAME_GIVEN if keyword == "name" else part)
    return tuple(parts)


def _constant_key(value) -> Optional[tuple]:
    """VALUE with its type, hashable, if it is an atom or a tuple of them."""
    kind = type(value)
    if kind is float:
        return kind, value.hex()  # tells -0.0 from 0.0
    if kind in _ATOMS:
        return kind, value
    if kind is tuple:
        inner = tuple(_constant_key(v) for v in value)
        return None if None in inner else (kind, inner)
    return None


def _construct_application(ev, frame, ref, info, expr: n.Call):
    what = f"`{ref.name}`"
    args, kwargs = _eval_constructor_args(ev, frame, expr)
    if any(v is POISON for v in [*args, *kwargs.values()]):
        return POISON
    bound = bind_arguments(info.signature, args, kwargs, expr, what, {})
    _check_constant_args(bound, expr, what)
    if bound.get("weights") == "imagenet":
        span = _kw(expr, "weights").value.span if any(k.name == "weights" for k in expr.keywords) else expr.span
        ev.warn(frame, codes.WEIGHTS_DOWNLOADED, f"{what} with weights=\"imagenet\" downloads its weights when the model is built", span,
                "pass weights=None to build it without a download")
    name, explicit = _instance_name(ev, frame, expr, bound, ref.name, default=applications.default_name(info, bound, expr.span))
    explicit = explicit or has_name_keyword(expr)
    inst = Instance("application", ref.name, {k: _plain(v) for k, v in bound.items()}, name, expr.span,
                    frame.file.display, explicit)
    applications.prepare(ev, frame, inst, expr)
    frame.graph.instances.append(inst)
    return inst


def construct_model(ev, frame, ref, expr: n.Call):
    """An instance of a kd model, used as a layer: its graph is evaluated now."""
    model = ref.definition
    if model in ev.active:
        raise SourceError(codes.RECURSION, f"model `{model.name}` uses itself (recursion is not allowed)", expr.span)
    args, kwargs = ev.eval_arguments(frame, expr)
    if any(v is POISON for v in [*args, *kwargs.values()]):
        return POISON
    name_value = kwargs.pop("name", None)
    if name_value is not None:
        check_name(name_value, _kw(expr, "name").value.span)
    params = ev.bind_params(ref, model.params or [], args, kwargs, expr, f"model `{model.name}`")
    graph = ev.evaluate_model(ref.file, model, params)
    bound = {"name": name_value} if name_value is not None else {}
    name, explicit = _instance_name(ev, frame, expr, bound, model.name, default=model.name)
    inst = Instance("model", model.name, params, name, expr.span, frame.file.display, name_value is not None)
    inst.graph = graph
    inst.nested = (ref, params)
    inst.params_known = graph.complete
    inst.weights = model_weights(graph)
    frame.graph.instances.append(inst)
    return inst


def model_weights(graph):
    """Every weight of a model graph, with the trainable flags Keras reports."""
    if not graph.complete:
        return None
    weights = []
    for inst in graph.model_layers():
        if inst.weights is None:
            return None
        for w in inst.weights:
            weights.append(Weight(w.name, w.shape, w.trainable and inst.trainable))
    return tuple(weights)


def merge(ev, frame, ref, expr: n.Call):
    """`add(a, b)`, `concatenate(a, b, axis=-1)`: construct the merge layer and apply it."""
    cat = kcat.load()
    helper = cat.merge_helper(ref.name)
    args = [ev.eval(frame, a) for a in expr.args]
    kwargs = {k.name: ev.eval(frame, k.value) for k in expr.keywords}
    if any(v is POISON for v in [*args, *kwargs.values()]):
        return POISON
    if len(args) == 1 and not isinstance(args[0], (list, tuple)):
        # One argument is the list of tensors, as in Keras (`add(parts)`).
        raise SourceError(codes.WRONG_KIND, f"`{ref.name}` takes the tensors to merge as separate arguments, "
                          f"or one list of them; received {kind_name(args[0])} ({show(args[0])})", expr.args[0].span,
                          f"write `{ref.name}(a, b)` or `{ref.name}(branches)` with a list")
    tensors = list(args[0]) if len(args) == 1 else args
    for value, node in zip(tensors, expr.args if len(args) > 1 else expr.args * len(tensors)):
        if value is not POISON and not isinstance(value, Tensor):
            raise SourceError(codes.WRONG_KIND, f"`{ref.name}` merges tensors; received {kind_name(value)} ({show(value)})", node.span)
    info = cat.layer(helper.layer)
    what = f"`{ref.name}`"
    bound = bind_arguments(info.signature, [], kwargs, expr, what, base_kwargs())
    _check_constant_args(bound, expr, what)
    name, explicit = _instance_name(ev, frame, expr, bound, info.keras_class)
    inst = Instance("layer", info.canonical, {k: _plain(v) for k, v in bound.items()}, name, expr.span,
                    frame.file.display, explicit)
    frame.graph.instances.append(inst)
    names = tuple(a.id if isinstance(a, n.Name) else "" for a in expr.args)
    return apply(ev, frame, inst, [tensors], {}, expr.span, names)


def _types(value):
    """Call arguments as rules see them: tensors become TensorTypes."""
    if isinstance(value, Tensor):
        return value.type
    if isinstance(value, (list, tuple)):
        return type(value)(_types(v) for v in value)
    return _plain(value)


def _has_unknown(value) -> bool:
    if isinstance(value, TensorType):
        return value.shape is None
    if isinstance(value, (list, tuple)):
        return any(_has_unknown(v) for v in value)
    return False


def _check_call_values(args, kwargs, span, inst) -> None:
    for value in [*args, *kwargs.values()]:
        if isinstance(value, Instance):
            raise SourceError(codes.WRONG_KIND, f"`{inst.label}` is applied to {kind_name(value)} ({show(value)}); it needs tensors", span)


# How a constant tensor becomes a tensor of the model (LANGUAGE.md section 12).
CONSTANT_HINT = ("tie it to an input of the model: `positions = ops.zeros_like(tokens) + ops.arange(maxlen)` "
                 "is a tensor of shape (None, maxlen) that `Embedding(maxlen, d)(positions)` trains on")


def _check_no_constants(args, kwargs, span, inst) -> None:
    """KD408 for a layer or model applied to a constant tensor (kd 1.1).
    Applied to constants alone, Keras would run it at once while the model
    is built, and its weights would not belong to the model; applied to a
    constant with model tensors, it would take the constant's first
    dimension for the batch.  Either way the model would not be what the
    source says."""
    # Most layers are applied to tensors only, by position.
    tensors = args if not kwargs and all(type(a) is Tensor for a in args) else _tensors([args, kwargs])
    constants = [t for t in tensors if t.constant]
    if not constants:
        return
    what = f"`{inst.label}` ({type_label(inst)})"
    if len(constants) == len(tensors):
        message = (f"{what} is applied to a constant tensor ({show(constants[0])}) only: Keras would run it once "
                   "while the model is built, and its weights would not belong to the model")
    else:
        message = (f"{what} is applied to a constant tensor ({show(constants[0])}), which has no batch dimension: "
                   "Keras layers take its first dimension for the batch")
    raise SourceError(codes.CONSTANT_TENSOR, message, span, CONSTANT_HINT)


def type_label(inst: Instance) -> str:
    """The class of an instance as messages name it."""
    return {"model": "a kd model", "application": "an application"}.get(inst.kind, inst.cls)


def apply(ev, frame, inst: Instance, args: list, kwargs: dict, span: n.Span, names: tuple = ()):
    """Apply INST to tensors: infer its outputs, check shared weights, record a
    node.  NAMES are the kd names of the arguments, for messages."""
    if any(v is POISON for v in [*args, *kwargs.values()]):
        return POISON
    _check_call_values(args, kwargs, span, inst)
    _check_no_constants(args, kwargs, span, inst)
    if inst.kind == "model":
        return _apply_model(ev, frame, inst, args, kwargs, span)
    if inst.kind == "application":
        outputs, weights = applications.apply(ev, frame, inst, args, kwargs, span)
        return _record(ev, frame, inst, args, kwargs, span, outputs, weights)
    in_types = tuple(_types(a) for a in args)
    call_kwargs = {k: _types(v) for k, v in kwargs.items()}
    key = _result_key(inst, in_types, call_kwargs)
    known = ev.shape_results.get(key) if key is not None else None
    if known is not None:  # the same layer arguments applied to the same types before
        return _record(ev, frame, inst, args, kwargs, span, *known, checked=True)
    rule = rules.lookup(inst.cls) if inst.kind == "layer" else None
    if rule is None:
        if inst.kind == "layer" and inst.cls not in ev.warned_classes and not ev.annotating:
            ev.warned_classes.add(inst.cls)
            ev.warn(frame, codes.NO_SHAPE_RULE, f"kdsl has no shape rule for `{inst.cls}`: its output shape is unknown", span,
                    "annotate the result, e.g. `y: (None, 64) = ...`")
        return _record(ev, frame, inst, args, kwargs, span, TensorType(None), None)
    if _has_unknown(in_types) or _has_unknown(tuple(call_kwargs.values())):
        return _record(ev, frame, inst, args, kwargs, span, TensorType(None), None)
    try:
        result = rule(rules.LayerCall(LayerSpec(inst.cls, inst.args), in_types, call_kwargs))
        _check_rule_result(result)
    except RuleError as err:
        raise SourceError(err.code, _rule_message(inst, err.message, names), span, err.hint) from None
    except (TypeError, ValueError, AttributeError, ArithmeticError, KeyError, IndexError) as exc:
        # An argument of a type the rule cannot use (Keras would reject it too).
        raise SourceError(codes.INVALID_ARGUMENT, _rule_message(inst, f"{inst.cls} cannot be built with these arguments ({exc})", names),
                     inst.span, f"check the arguments against keras.layers.{inst.cls}") from None
    weights = tuple(result.weights)
    outputs = _record(ev, frame, inst, args, kwargs, span, result.outputs, weights)
    if key is not None:  # kept once `_record` found it buildable
        ev.shape_results[key] = (result.outputs, weights)
    return outputs


def _result_key(inst: Instance, in_types: tuple, call_kwargs: dict) -> Optional[tuple]:
    """The key of a shape rule's result in `Evaluator.shape_results`, or None.
    A rule is a pure function of the layer's class and arguments (its name
    aside: kept out of `inst.binding`, as no rule reads it) and of the types
    it is applied to; its outputs and weights are immutable records."""
    if inst.binding is None:
        return None
    # A TensorType hashes and compares in Python; its fields in a tuple, in C.
    types = tuple((t.shape, t.dtype) if type(t) is TensorType else t for t in in_types)
    key = (inst.binding, types, tuple(call_kwargs.items()) if call_kwargs else ())
    try:
        hash(key)
    except TypeError:  # a list of inputs (Concatenate's), or an unhashable call argument
        return None
    return key


def _is_dim(d) -> bool:
    return d is None or (isinstance(d, int) and not isinstance(d, bool) and d >= 0)


def _check_rule_result(result) -> None:
    """A rule given arguments of the wrong type may compute nonsense dims
    (`output_shape="abc"`): raise TypeError, so they are reported as invalid
    arguments, as Keras would refuse them."""
    for t in _flat_types(result.outputs):
        if t.shape is not None and not all(_is_dim(d) for d in t.shape):
            raise TypeError(f"output shape {t.shape!r}")
    for w in result.weights:
        if not all(_is_dim(d) and d is not None for d in w.shape):
            raise TypeError(f"weight shape {w.shape!r}")


def _rule_message(inst: Instance, message: str, names) -> str:
    """A shape rule's message, saying which layer and which inputs."""
    prefix = f"`{inst.bound_to}` ({inst.cls}): " if inst.bound_to else ""
    named = [x for x in names if x]
    suffix = f" (inputs: {', '.join(named)})" if named and len(named) == len(names) else ""
    return f"{prefix}{message}{suffix}"


def _tensors(value) -> list:
    if isinstance(value, Tensor):
        return [value]
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in _tensors(v)]
    if isinstance(value, dict):
        return [t for v in value.values() for t in _tensors(v)]
    return []


_INT64_MAX = 2**63 - 1  # no framework indexes a tensor of more elements


def _flat_types(value) -> list:
    if isinstance(value, TensorType):
        return [value]
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in _flat_types(v)]
    return []


def check_buildable(label: str, out_types, weights, span) -> None:
    """KD507 for a tensor or a weight with more elements than an int64 can
    count: no machine can build it (the batch dimension counts as 1)."""
    for t in _flat_types(out_types):
        known = [d for d in (t.shape or ())[1:] if d is not None]
        if known and math.prod(known) > _INT64_MAX:
            raise SourceError(codes.TOO_LARGE_TO_BUILD, f"`{label}` would output {format_shape(t.shape)}: "
                              f"{math.prod(known):.3g} elements per example, more than any machine can hold", span)
    for w in weights or ():
        if w.size > _INT64_MAX:
            raise SourceError(codes.TOO_LARGE_TO_BUILD, f"`{label}` would build the weight `{w.name}` of shape "
                              f"{format_shape(w.shape)}: {w.size:.3g} numbers, more than any machine can hold", span)


def new_op(ev, frame, cls: str, prefix: str, span: n.Span) -> Instance:
    """A new operation of class CLS (`Mean`, `GetItem`, `Add`) in the model's
    graph, named as Keras names the next one with PREFIX (`mean`, `mean_1`)."""
    inst = Instance("op", cls, {}, ev.names.next(prefix), span, frame.file.display)
    frame.graph.instances.append(inst)
    return inst


def _record(ev, frame, inst, args, kwargs, span, out_types, weights, checked: bool = False):
    """Check shared weights, then add the node and its output tensors to the
    graph.  CHECKED: the outputs and weights passed `check_buildable` already."""
    if not checked:
        check_buildable(inst.label, out_types, weights, span)
    if weights is not None:
        _check_sharing(inst, weights, args, span)
    if not inst.calls and inst.kind not in ("model", "application"):
        # A layer builds its weights (and some, sublayers) on its first call;
        # models and applications were built when they were constructed.
        inst.weights = weights
        inst.params_known = weights is not None
        if inst.kind == "layer":
            ev.names.use(kcat.load().name_effects(inst.cls)[1])
    consumed = attached = None
    if inst.kind == "layer":
        first = args[0] if args and type(args[0]) is Tensor else None
        effects = kcat.load().call_name_effects(inst.cls, inst.args)
        if effects:  # the ops of the mask it makes: their names are taken now, as in Keras
            attached = masks.made_by(inst, first, ev.names.next, span, frame.file.display, frame.block_call)
            if attached is None:
                ev.names.use(effects)
        elif first is None and args and isinstance(args[0], (list, tuple)):
            how = kcat.load().merged_masks(inst.cls)
            if how is not None:
                attached = masks.merged(how, inst, list(args[0]), ev.names.next, span, frame.file.display,
                                        frame.block_call)
        elif first is not None and first.mask is not None:
            takes, passes = kcat.load().masking(inst.cls, inst.args)
            if takes and masks.one_tensor_argument(args, kwargs):  # only then does Keras fill in `mask=`
                consumed = masks.consumed(frame.graph, first.mask)
            attached = first.mask if passes else None
    node = Node(inst, tuple(args), dict(kwargs), None, span, frame.file.display, frame.block_call, consumed)
    node.outputs = _wrap(out_types, node)
    if attached is not None:
        _attach_mask(node.outputs, attached)
    inst.calls.append(node)
    frame.graph.nodes.append(node)
    ev.layer_count += 1
    if ev.layer_count > ev.limits.max_layers:
        raise SourceError(codes.GRAPH_TOO_LARGE, f"the graph has more than {ev.limits.max_layers:,} layer applications", span,
                     "raise the limit with --max-layers")
    return node.outputs


def _attach_mask(outputs, mask) -> None:
    """Give a layer's (first) output tensor MASK, as Keras attaches it."""
    first = outputs[0] if isinstance(outputs, (list, tuple)) and outputs else outputs
    if type(first) is Tensor:
        first.mask = mask


def _wrap(types, node, counter=None):
    counter = counter if counter is not None else [0]
    if isinstance(types, TensorType):
        tensor = Tensor(types, node, counter[0])
        counter[0] += 1
        return tensor
    if isinstance(types, (list, tuple)):
        return type(types)(_wrap(t, node, counter) for t in types)
    return types


def _check_sharing(inst: Instance, weights, args, span) -> None:
    if not inst.calls or inst.weights is None:
        return
    before = [(w.name, tuple(w.shape)) for w in inst.weights]
    now = [(w.name, tuple(w.shape)) for w in weights]
    if before == now:
        return
    first = inst.calls[0]
    detail = next(((a, b) for a, b in zip(before, now) if a != b), None)
    first_in = ", ".join(format_shape(t.shape) for t in first.input_tensors())
    now_in = ", ".join(format_shape(t.shape) for t in _tensors(args))
    message = (f"`{inst.label}` is shared, and its weights were built by its first call on {first_in}; "
               f"they do not fit {now_in}")
    if detail is not None:
        message += f" (weight `{detail[0][0]}` is {format_shape(detail[0][1])}, this call needs {format_shape(detail[1][1])})"
    related = (Related("first called here", first.span, first.filename),)
    raise SourceError(codes.SHARED_WEIGHTS_MISFIT, message, span, "use a separate layer for inputs of another shape", related)


def _apply_model(ev, frame, inst: Instance, args: list, kwargs: dict, span):
    graph = inst.graph
    declared = [spec.tensor.type for spec in graph.inputs]
    flat = list(args[0]) if len(args) == 1 and isinstance(args[0], (list, tuple)) else list(args)
    if len(args) != 1 or len(flat) != len(declared) or not all(isinstance(t, Tensor) for t in flat):
        want = "one tensor" if len(declared) == 1 else f"a list of {len(declared)} tensors"
        raise SourceError(codes.WRONG_CALL_ARGUMENTS, f"model `{inst.label}` takes {want}; received {show(args[0] if len(args) == 1 else tuple(args))}", span)
    for spec, tensor, want in zip(graph.inputs, flat, declared):
        if not compatible(want.shape, tensor.shape):
            raise SourceError(codes.INCOMPATIBLE_SHAPES, f"model `{inst.label}` expects input `{spec.name}` of shape {format_shape(want.shape)}; "
                                  f"received {show(tensor)}", span)
    shapes = [t.type for t in flat]
    if all(t.shape == w.shape for t, w in zip(shapes, declared)) or not graph.complete:
        out_graph = graph
    else:
        out_graph = _rerun_model(ev, inst, shapes)
        weights = model_weights(out_graph)
        if weights is not None and inst.weights is not None and weights != inst.weights:
            raise SourceError(codes.SHARED_WEIGHTS_MISFIT, f"model `{inst.label}` was built for inputs {', '.join(format_shape(w.shape) for w in declared)}; "
                                  f"its weights do not fit {', '.join(format_shape(s.shape) for s in shapes)}", span)
    outs = [o.tensor.type if isinstance(o.tensor, Tensor) else TensorType(None) for o in out_graph.outputs]
    out_types = outs[0] if len(outs) == 1 else list(outs)
    return _record(ev, frame, inst, args, kwargs, span, out_types, None)


def _rerun_model(ev, inst: Instance, shapes):
    """Evaluate a kd model again on inputs of more specific shapes, as Keras
    re-runs a functional model's layers when it is called on new inputs."""
    ref, params = inst.nested
    mark = ev.reporter.checkpoint()
    try:
        with ev.names.apart():
            return ev.evaluate_model(ref.file, ref.definition, params, [s.shape for s in shapes])
    finally:
        ev.reporter.rollback(mark)  # its problems were reported on the first evaluation
