"""Layer and model instances in the evaluator: construction (arguments bound
and checked against the Keras catalog), application (shape rules, weight
sharing), inputs, outputs and the checks of a finished model graph."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Optional

from . import catalog as kcat
from . import nodes as n
from .diagnostics import Related
from .graph import InputSpec, Node, OutputSpec
from .naming import _has_name_kw
from .scope import AppRef, CustomRef, LayerRef
from .shapes import base as rules
from .shapes.base import LayerSpec, RuleError, TensorType, Weight
from .values import POISON, Instance, KerasObject, Tensor, UnknownDim, format_shape, kind_name, show

DTYPES = frozenset(
    "float16 float32 float64 bfloat16 int8 int16 int32 int64 uint8 uint16 uint32 uint64 "
    "bool string complex64 complex128".split()
)
# Keras classes kd does not offer, and what to use instead.
UNSUPPORTED = {
    "Lambda": "Lambda layers run Python code and are not in kd version 1; write a custom layer and import it with `from`",
    "Layer": "the base class cannot be used as a layer; import a custom layer with `from`",
    "InputLayer": "declare inputs with `x = Input(shape=...)`",
    "RNN": "use LSTM, GRU or SimpleRNN (cells are not in kd version 1)",
    "StackedRNNCells": "use LSTM, GRU or SimpleRNN (cells are not in kd version 1)",
    "LSTMCell": "use LSTM (cells are not in kd version 1)",
    "GRUCell": "use GRU (cells are not in kd version 1)",
    "SimpleRNNCell": "use SimpleRNN (cells are not in kd version 1)",
    "Wrapper": "use Bidirectional or TimeDistributed",
    "TFSMLayer": "saved-model layers load files at build time; import a custom layer with `from`",
    "JaxLayer": "framework wrappers are not in kd version 1",
    "FlaxLayer": "framework wrappers are not in kd version 1",
    "TorchModuleWrapper": "framework wrappers are not in kd version 1",
    "Pipeline": "write the layers as a chain: x -> A() -> B()",
}
_OBJECT_SUFFIXES = {"_initializer": "initializers", "_regularizer": "regularizers", "_constraint": "constraints"}


def _error(*args, **kwargs):
    from .evaluate import EvalError

    return EvalError(*args, **kwargs)


@lru_cache(maxsize=1)
def _base_kwargs() -> tuple:
    return tuple((p.name, p.default) for p in kcat.load().base_layer_kwargs())


def base_kwargs() -> dict:
    """Keywords every Keras layer takes through **kwargs, with defaults."""
    return dict(_base_kwargs())


@lru_cache(maxsize=None)
def _enum(cls: str, param: str):
    """(allowed values or None, whether case is ignored) of a layer argument."""
    cat = kcat.load()
    allowed = cat.allowed_values(cls, param)
    info = cat.enum_info(cls, param) if allowed is not None else None
    return allowed, bool(info and info.case_insensitive)


def snake_case(name: str) -> str:
    """Keras's automatic-name prefix of a class: Conv2D -> conv2d."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


# ------------------------------------------------------------- construction


def namespace_of(keyword: str) -> Optional[str]:
    """The Keras module an argument's class names resolve in, by its name."""
    for suffix, namespace in _OBJECT_SUFFIXES.items():
        if keyword.endswith(suffix):
            return namespace
    return None


def eval_in_namespace(ev, frame, expr, namespace: str):
    """Evaluate EXPR where a bare class name means one of keras.NAMESPACE
    (`HeNormal()` for an initializer, `RMSprop(...)` for an optimizer).
    Strings are checked against the namespace's identifiers."""
    if isinstance(expr, (n.ListExpr, n.TupleExpr)):
        items = [eval_in_namespace(ev, frame, item, namespace) for item in expr.items]
        return items if isinstance(expr, n.ListExpr) else tuple(items)
    if isinstance(expr, n.DictExpr):
        out = {}
        for entry in expr.entries:
            out[ev.eval(frame, entry.key)] = eval_in_namespace(ev, frame, entry.value, namespace)
        return out
    if isinstance(expr, n.Call) and isinstance(expr.func, n.Name) and not frame.scope.is_local(expr.func.id):
        return keras_object(ev, frame, expr, namespace)
    value = ev.eval(frame, expr)
    if isinstance(value, str):
        check_identifier(value, namespace, expr.span)
    return value


def keras_object(ev, frame, expr: n.Call, namespace: str) -> KerasObject:
    name = expr.func.id
    cat = kcat.load()
    if cat.registry_class(namespace, name) is None:
        from .evaluate import suggest

        code = "KD305" if namespace in ("initializers", "regularizers", "constraints") else "KD700"
        raise _error(code, f"`{name}` is not a class of keras.{namespace}", expr.func.span,
                     suggest(name, sorted(cat.raw[namespace]["classes"])))
    args, kwargs = ev.eval_arguments(frame, expr)
    return KerasObject(namespace, name, tuple(args), kwargs, expr.span)


def check_identifier(value: str, namespace: str, span: n.Span) -> None:
    """Refuse a string that keras.NAMESPACE.get() would not accept."""
    cat = kcat.load()
    if cat.is_identifier(namespace, value):
        return
    from .evaluate import suggest

    code = "KD305" if namespace in ("initializers", "regularizers", "constraints") else "KD700"
    singular = {"losses": "loss", "metrics": "metric", "optimizers": "optimizer", "initializers": "initializer",
                "regularizers": "regularizer", "constraints": "constraint"}[namespace]
    raise _error(code, f"unknown {singular} \"{value}\"", span, suggest(value, cat.identifiers(namespace)))


def _eval_constructor_args(ev, frame, expr: n.Call):
    args = [ev.eval(frame, a) for a in expr.args]
    kwargs = {}
    for k in expr.keywords:
        namespace = namespace_of(k.name)
        kwargs[k.name] = eval_in_namespace(ev, frame, k.value, namespace) if namespace else ev.eval(frame, k.value)
    return args, kwargs


def bind_arguments(signature, args: list, kwargs: dict, expr: n.Call, what: str, extra: dict) -> dict:
    """Match ARGS and KWARGS to the parameters of a Keras class or function
    (a catalog Signature), fill in the defaults; EXTRA maps the keywords
    accepted through **kwargs to their defaults."""
    from .evaluate import suggest

    info = signature
    positional = [p for p in info.params if not p.keyword_only]
    if len(args) > len(positional):
        raise _error("KD304", f"{what} takes at most {len(positional)} positional arguments; received {len(args)}",
                     expr.args[len(positional)].span)
    bound = {p.name: a for p, a in zip(positional, args)}
    known = {p.name for p in info.params}
    for key, value in kwargs.items():
        if key in bound:
            raise _error("KD306", f"{what} received `{key}` both by position and by keyword", _kw(expr, key).name_span)
        if key not in known and not (info.var_keyword and key in extra):
            allowed = [*known, *(extra if info.var_keyword else ())]
            raise _error("KD301", f"{what} has no argument `{key}`", _kw(expr, key).name_span, suggest(key, allowed))
        bound[key] = value
    for p in info.params:
        if p.name not in bound:
            if p.required:
                raise _error("KD302", f"{what} needs the argument `{p.name}`", expr.span)
            bound[p.name] = p.default
    if info.var_keyword:
        for key, default in extra.items():
            bound.setdefault(key, default)
    return bound


def _kw(expr: n.Call, key: str) -> n.Keyword:
    return next(k for k in expr.keywords if k.name == key)


def _plain(value):
    """An argument value as shape rules see it: unknown dims become None,
    instances become LayerSpecs."""
    if isinstance(value, UnknownDim):
        return None
    if isinstance(value, Instance):
        return LayerSpec(value.cls, value.args) if value.kind == "layer" else value
    if isinstance(value, tuple):
        return tuple(_plain(v) for v in value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, range):
        return tuple(value)
    return value


def _check_constant_args(bound: dict, expr: n.Call, what: str) -> None:
    for key, value in bound.items():
        if isinstance(value, Tensor):
            span = _kw(expr, key).value.span if any(k.name == key for k in expr.keywords) else expr.span
            raise _error("KD400", f"argument `{key}` of {what} must be a constant; received {show(value)}", span)


def _check_enums(cls: str, bound: dict, expr: n.Call, what: str) -> dict:
    """Refuse string arguments Keras would reject; returns BOUND with the
    values Keras lowercases itself lowercased, as the shape rules expect."""
    from .evaluate import suggest

    for key, value in list(bound.items()):
        if not isinstance(value, str):
            continue
        allowed, case_insensitive = _enum(cls, key)
        if allowed is None or value in allowed:
            continue
        if case_insensitive and value.lower() in allowed:
            bound[key] = value.lower()
            continue
        choices = sorted(a for a in allowed if isinstance(a, str))
        span = _kw(expr, key).value.span if any(k.name == key for k in expr.keywords) else expr.span
        hint = suggest(value, choices)
        if namespace_of(key) is not None:
            raise _error("KD305", f"{what}: unknown {namespace_of(key)[:-1]} \"{value}\" for `{key}`", span, hint)
        if key == "activation":
            raise _error("KD303", f"{what}: unknown activation \"{value}\"", span, hint)
        listed = ", ".join(f'"{v}"' for v in choices)
        hint = f"{hint} " if hint else ""
        raise _error("KD303", f"{what}: `{key}` cannot be \"{value}\"", span, f"{hint}{key} is one of {listed}".strip())
    return bound


# Arguments whose type Keras checks (or would fail on): name -> (test, what it must be).
_POSITIVE_INTS = {"units", "filters", "num_heads", "key_dim", "value_dim", "output_dim", "input_dim", "groups",
                  "depth_multiplier", "n", "num_tokens", "projection_dim", "height", "width"}
_SIZES = {"kernel_size", "strides", "pool_size", "dilation_rate", "size"}


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _argument_problem(key: str, value, default):
    """What is wrong with argument KEY=VALUE, or None."""
    if value is None and default is None:
        return None
    if key in _POSITIVE_INTS and not (_is_int(value) and value > 0):
        return "a positive integer"
    if key in _SIZES:
        items = value if isinstance(value, (tuple, list)) else (value,)
        if not items or not all(_is_int(v) and v > 0 for v in items):
            return "a positive integer or a tuple of them"
    if key == "axis":
        items = value if isinstance(value, (tuple, list)) else (value,)
        if not items or not all(_is_int(v) for v in items):
            return "an integer or a tuple of integers"
    if key == "rate" and not (isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= 1):
        return "a number from 0 to 1"
    if key in ("layer", "backward_layer") and not isinstance(value, Instance):
        return "a layer instance, e.g. LSTM(32)"
    return None


def _check_argument_types(info, bound: dict, expr: n.Call, what: str) -> None:
    defaults = {p.name: p.default for p in info.params}
    for key, value in bound.items():
        problem = _argument_problem(key, value, defaults.get(key))
        if problem is not None:
            span = _kw(expr, key).value.span if any(k.name == key for k in expr.keywords) else expr.span
            raise _error("KD303", f"{what}: `{key}` must be {problem}; received {show(value)}", span)


def _instance_name(ev, frame, expr: n.Call, bound: dict, cls: str, default: Optional[str] = None):
    """The Keras name of a new instance: explicit, given by naming, or automatic."""
    explicit = bound.get("name")
    if explicit is not None:
        if not isinstance(explicit, str):
            raise _error("KD400", f"`name` must be a string; received {show(explicit)}", _kw(expr, "name").value.span)
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
        return Instance("custom", ref.bound, {"args": args, **kwargs}, name, expr.span, frame.file.display, explicit)
    cat = kcat.load()
    if isinstance(ref, AppRef):
        info = cat.application(ref.name)
        return _construct_application(ev, frame, ref, info, expr)
    info = cat.layer(ref.name)
    what = f"`{ref.name}`"
    if info.canonical in UNSUPPORTED:
        raise _error("KD300", f"`{ref.name}` is not available in kd", expr.func.span, UNSUPPORTED[info.canonical])
    args, kwargs = _eval_constructor_args(ev, frame, expr)
    if any(v is POISON for v in [*args, *kwargs.values()]):
        return POISON
    bound = bind_arguments(info.signature, args, kwargs, expr, what, base_kwargs())
    _check_constant_args(bound, expr, what)
    _check_enums(info.canonical, bound, expr, what)
    _check_argument_types(info, bound, expr, what)
    name, explicit = _instance_name(ev, frame, expr, bound, info.canonical)
    for value in bound.values():
        if isinstance(value, Instance):
            value.wrapped = True  # a sublayer of this one, not a layer of the model
    bound = {k: _plain(v) for k, v in bound.items()}
    inst = Instance("layer", info.canonical, bound, name, expr.span, frame.file.display, explicit)
    inst.trainable = bound.get("trainable", True) is not False
    frame.graph.instances.append(inst)
    return inst


def _construct_application(ev, frame, ref, info, expr: n.Call):
    from . import applications

    what = f"`{ref.name}`"
    args, kwargs = _eval_constructor_args(ev, frame, expr)
    if any(v is POISON for v in [*args, *kwargs.values()]):
        return POISON
    bound = bind_arguments(info.signature, args, kwargs, expr, what, {})
    _check_constant_args(bound, expr, what)
    if bound.get("weights") == "imagenet":
        span = _kw(expr, "weights").value.span if any(k.name == "weights" for k in expr.keywords) else expr.span
        ev.warn(frame, "KD903", f"{what} with weights=\"imagenet\" downloads its weights when the model is built", span,
                "pass weights=None to build it without a download")
    name, explicit = _instance_name(ev, frame, expr, bound, ref.name, default=bound.get("name"))
    explicit = explicit or _has_name_kw(expr)
    inst = Instance("application", ref.name, {k: _plain(v) for k, v in bound.items()}, name, expr.span,
                    frame.file.display, explicit)
    applications.prepare(ev, frame, inst, expr)
    frame.graph.instances.append(inst)
    return inst


def construct_model(ev, frame, ref, expr: n.Call):
    """An instance of a kd model, used as a layer: its graph is evaluated now."""
    model = ref.definition
    if model in ev.active:
        raise _error("KD203", f"model `{model.name}` uses itself (recursion is not allowed)", expr.span)
    args, kwargs = ev.eval_arguments(frame, expr)
    if any(v is POISON for v in [*args, *kwargs.values()]):
        return POISON
    name_value = kwargs.pop("name", None)
    if name_value is not None and not isinstance(name_value, str):
        raise _error("KD400", f"`name` must be a string; received {show(name_value)}", _kw(expr, "name").value.span)
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
    for inst in graph.layer_instances():
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
    tensors = list(args[0]) if len(args) == 1 and isinstance(args[0], (list, tuple)) else args
    for value, node in zip(tensors, expr.args if len(args) > 1 else expr.args * len(tensors)):
        if value is not POISON and not isinstance(value, Tensor):
            raise _error("KD400", f"`{ref.name}` merges tensors; received {kind_name(value)} ({show(value)})", node.span)
    info = cat.layer(helper.layer)
    what = f"`{ref.name}`"
    bound = bind_arguments(info.signature, [], kwargs, expr, what, base_kwargs())
    _check_constant_args(bound, expr, what)
    name, explicit = _instance_name(ev, frame, expr, bound, info.canonical)
    inst = Instance("layer", info.canonical, {k: _plain(v) for k, v in bound.items()}, name, expr.span,
                    frame.file.display, explicit)
    frame.graph.instances.append(inst)
    names = tuple(a.id if isinstance(a, n.Name) else "" for a in expr.args)
    return apply(ev, frame, inst, [tensors], {}, expr.span, names)


# -------------------------------------------------------------- application


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
            raise _error("KD400", f"`{inst.label}` is applied to {kind_name(value)} ({show(value)}); it needs tensors", span)


def apply(ev, frame, inst: Instance, args: list, kwargs: dict, span: n.Span, names: tuple = ()):
    """Apply INST to tensors: infer its outputs, check shared weights, record a
    node.  NAMES are the kd names of the arguments, for messages."""
    if any(v is POISON for v in [*args, *kwargs.values()]):
        return POISON
    _check_call_values(args, kwargs, span, inst)
    if inst.kind == "model":
        return _apply_model(ev, frame, inst, args, kwargs, span)
    if inst.kind == "application":
        from . import applications

        outputs, weights = applications.apply(ev, frame, inst, args, kwargs, span)
        return _record(ev, frame, inst, args, kwargs, span, outputs, weights)
    in_types = tuple(_types(a) for a in args)
    call_kwargs = {k: _types(v) for k, v in kwargs.items()}
    rule = rules.lookup(inst.cls) if inst.kind == "layer" else None
    if rule is None:
        if inst.kind == "layer" and inst.cls not in ev.warned_classes:
            ev.warned_classes.add(inst.cls)
            ev.warn(frame, "KD902", f"kdsl has no shape rule for `{inst.cls}`: its output shape is unknown", span,
                    "annotate the result, e.g. `y: (None, 64) = ...`")
        return _record(ev, frame, inst, args, kwargs, span, TensorType(None), None)
    if _has_unknown(in_types) or _has_unknown(tuple(call_kwargs.values())):
        return _record(ev, frame, inst, args, kwargs, span, TensorType(None), None)
    try:
        result = rule(rules.LayerCall(LayerSpec(inst.cls, inst.args), in_types, call_kwargs))
    except RuleError as err:
        raise _error(err.code, _rule_message(inst, err.message, names), span, err.hint) from None
    except (TypeError, ValueError, AttributeError, ArithmeticError, KeyError, IndexError) as exc:
        # An argument of a type the rule cannot use (Keras would reject it too).
        raise _error("KD303", _rule_message(inst, f"{inst.cls} cannot be built with these arguments ({exc})", names),
                     inst.span, f"check the arguments against keras.layers.{inst.cls}") from None
    return _record(ev, frame, inst, args, kwargs, span, result.outputs, tuple(result.weights))


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


def _record(ev, frame, inst, args, kwargs, span, out_types, weights):
    """Check shared weights, then add the node and its output tensors to the graph."""
    if weights is not None:
        _check_sharing(inst, weights, args, span)
    if not inst.calls and inst.kind not in ("model", "application"):
        # A layer builds its weights on its first call; models and
        # applications were built when they were constructed.
        inst.weights = weights
        inst.params_known = weights is not None
    node = Node(inst, tuple(args), dict(kwargs), None, span, frame.file.display)
    node.outputs = _wrap(out_types, node)
    inst.calls.append(node)
    frame.graph.nodes.append(node)
    ev.layer_count += 1
    if ev.layer_count > ev.limits.max_layers:
        raise _error("KD406", f"the graph has more than {ev.limits.max_layers:,} layer applications", span,
                     "raise the limit with --max-layers")
    return node.outputs


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
    raise _error("KD506", message, span, "use a separate layer for inputs of another shape", related)


def _apply_model(ev, frame, inst: Instance, args: list, kwargs: dict, span):
    graph = inst.graph
    declared = [spec.tensor.type for spec in graph.inputs]
    flat = list(args[0]) if len(args) == 1 and isinstance(args[0], (list, tuple)) else list(args)
    if len(args) != 1 or len(flat) != len(declared) or not all(isinstance(t, Tensor) for t in flat):
        want = "one tensor" if len(declared) == 1 else f"a list of {len(declared)} tensors"
        raise _error("KD211", f"model `{inst.label}` takes {want}; received {show(args[0] if len(args) == 1 else tuple(args))}", span)
    for spec, tensor, want in zip(graph.inputs, flat, declared):
        if not compatible(want.shape, tensor.shape):
            raise _error("KD500", f"model `{inst.label}` expects input `{spec.name}` of shape {format_shape(want.shape)}; "
                                  f"received {show(tensor)}", span)
    shapes = [t.type for t in flat]
    if all(t.shape == w.shape for t, w in zip(shapes, declared)) or not graph.complete:
        out_graph = graph
    else:
        out_graph = _rerun_model(ev, inst, shapes)
        weights = model_weights(out_graph)
        if weights is not None and inst.weights is not None and weights != inst.weights:
            raise _error("KD506", f"model `{inst.label}` was built for inputs {', '.join(format_shape(w.shape) for w in declared)}; "
                                  f"its weights do not fit {', '.join(format_shape(s.shape) for s in shapes)}", span)
    outs = [o.tensor.type if isinstance(o.tensor, Tensor) else TensorType(None) for o in out_graph.outputs]
    out_types = outs[0] if len(outs) == 1 else list(outs)
    return _record(ev, frame, inst, args, kwargs, span, out_types, None)


def _rerun_model(ev, inst: Instance, shapes):
    """Evaluate a kd model again on inputs of more specific shapes, as Keras
    re-runs a functional model's layers when it is called on new inputs."""
    ref, params = inst.nested
    saved = (ev.uids, ev.reporter.diagnostics[:], set(ev.reported))
    ev.uids = {}
    try:
        return ev.evaluate_model(ref.file, ref.definition, params, [s.shape for s in shapes])
    finally:
        ev.uids, ev.reporter.diagnostics[:], ev.reported = saved[0], saved[1], saved[2]


def compatible(declared, actual) -> bool:
    """Whether a tensor of shape ACTUAL fits where DECLARED is expected."""
    if declared is None or actual is None:
        return True
    if len(declared) != len(actual):
        return False
    return all(a is None or b is None or a == b for a, b in zip(declared, actual))


# ------------------------------------------------------ arithmetic and shape

_TENSOR_OPS = {"+": "add", "-": "subtract", "*": "multiply", "/": "divide", "neg": "negative", "pos": "identity"}


def tensor_op(ev, frame, op: str, left, right, span: n.Span):
    """Elementwise arithmetic with a tensor operand: a Keras op in the graph."""
    from .shapes import ops as shape_ops

    if op not in _TENSOR_OPS:
        raise _error("KD400", f"`{op}` does not work on tensors; kd has + - * / on tensors", span)
    for value in (left, right):
        if value is not None and not isinstance(value, (Tensor, int, float)) or isinstance(value, bool):
            raise _error("KD400", f"elementwise `{op}` needs tensors or numbers; received {kind_name(value)} ({show(value)})", span)
    if op == "pos":
        return left
    a = left.type if isinstance(left, Tensor) else left
    b = right.type if isinstance(right, Tensor) else right
    if op == "neg":
        a, b, op = 0, a, "-"
    name = _TENSOR_OPS[op]
    inst = Instance("op", name, {}, ev.auto_name(name), span, frame.file.display)
    frame.graph.instances.append(inst)
    if _has_unknown((a, b)):
        out = TensorType(None)
    else:
        try:
            out = shape_ops.elementwise(op, a, b)
        except RuleError as err:
            raise _error(err.code, f"`{op}`: {err.message}", span, err.hint) from None
    operands = [v for v in (left, right) if isinstance(v, Tensor)]
    return _record(ev, frame, inst, operands, {}, span, out, ())


def shape_of(tensor: Tensor, label: str, span: n.Span):
    """`x.shape`: a tuple with UnknownDim where the dimension is unknown."""
    if tensor.shape is None:
        raise _error("KD401", f"the shape of `{label}` is unknown here", span,
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
        raise _error("KD400", f"an annotation is a tuple of dimensions (integers or None); received {show(declared)}", annotation.span)
    declared = tuple(None if isinstance(d, UnknownDim) else d for d in declared)
    if not isinstance(value, Tensor):
        raise _error("KD400", f"only tensors can be annotated; `{target.id}` is {kind_name(value)}", annotation.span)
    shape = value.shape
    if shape is None:
        value.type = TensorType(declared, value.dtype)
        return value
    if len(shape) != len(declared) or any(d is not None and s is not None and d != s for d, s in zip(declared, shape)):
        raise _error("KD503", f"`{target.id}` has shape {format_shape(shape)}, not {format_shape(declared)} as annotated", annotation.span)
    merged = tuple(s if s is not None else d for s, d in zip(shape, declared))
    if merged != shape:
        value.type = TensorType(merged, value.dtype)
    return value


# ------------------------------------------------------------ inputs, outputs


def make_input(ev, frame, expr: n.Call):
    """`Input(shape=..., dtype=...)`: a new input of the model."""
    cat = kcat.load()
    args, kwargs = ev.eval_arguments(frame, expr)
    if any(v is POISON for v in [*args, *kwargs.values()]):
        return POISON
    if not frame.is_model:
        raise _error("KD206", "`Input` can only be used in a model body", expr.span)
    bound = bind_arguments(kcat.Signature(cat.input_params()), args, kwargs, expr, "`Input`", {})
    shape = _input_shape(bound, expr)
    dtype = bound.get("dtype") or "float32"
    if dtype not in DTYPES:
        from .evaluate import suggest

        raise _error("KD303", f"`Input`: unknown dtype \"{dtype}\"", _kw(expr, "dtype").value.span, suggest(dtype, DTYPES))
    index = len(frame.graph.inputs)
    if frame.input_shapes is not None and index < len(frame.input_shapes):
        shape = tuple(frame.input_shapes[index])
    name, _ = _instance_name(ev, frame, expr, bound, "InputLayer", default=None)
    tensor = Tensor(TensorType(shape, dtype), None, 0, label=name)
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
        raise _error("KD302", "`Input` needs `shape=` (or `batch_shape=`)", expr.span)
    if not isinstance(dims, (tuple, list)):
        raise _error("KD400", f"`Input` shape must be a tuple of dimensions; received {show(shape)}", expr.span)
    dims = tuple(None if isinstance(d, UnknownDim) else d for d in dims)
    if not all(d is None or (isinstance(d, int) and not isinstance(d, bool) and d >= 0) for d in dims):
        raise _error("KD400", f"`Input` dimensions must be non-negative integers or None; received {show(shape)}", expr.span)
    return dims


def add_output(ev, frame, name_node: n.Name, name: str, value, identity: bool) -> None:
    """Declare VALUE an output named NAME (through an Identity when needed)."""
    if value is POISON:
        frame.graph.complete = False
        return
    if not isinstance(value, Tensor):
        raise _error("KD400", f"an output must be a tensor; `{name_node.id}` is {kind_name(value)} ({show(value)})", name_node.span)
    if identity or value.node is None:
        inst = Instance("layer", "Identity", {"name": name}, name, name_node.span, frame.file.display, True)
        frame.graph.instances.append(inst)
        value = apply(ev, frame, inst, [value], {}, name_node.span)
        out_name = name
    else:
        out_name = value.node.instance.name
    frame.graph.outputs.append(OutputSpec(out_name, value, name_node.span, frame.file.display))


# ------------------------------------------------------------ model checks


def finish_model(ev, frame) -> None:
    """The checks of a whole model graph: names, connectivity, sharing."""
    graph = frame.graph
    _check_unique_names(ev, frame)
    _check_connected(ev, frame)
    if graph.complete:
        _check_instance_use(ev, frame)
        from .compile_settings import check_compile

        check_compile(ev, frame)


def _check_unique_names(ev, frame) -> None:
    seen: dict = {}
    for spec in frame.graph.inputs:
        seen.setdefault(spec.name, (spec.span, spec.filename, None))
    for inst in frame.graph.layer_instances():
        if inst.name in seen:
            first_span, first_file, first_inst = seen[inst.name]
            related = (Related(f"`{inst.name}` is first used here", first_span, first_file),)
            if first_inst is not None and inst.kind in ("model", "application") and first_inst.cls == inst.cls:
                ev.report(inst.filename, "KD603", f"two instances of `{inst.cls}` are both named \"{inst.name}\"", inst.span,
                          f"give each its own name: {inst.cls}(..., name=\"...\")", related)
            elif first_inst is None:
                ev.report(inst.filename, "KD600", f"this layer would be named \"{inst.name}\", like the input `{inst.name}`",
                          inst.span, "Keras needs unique layer names: bind the output to another name "
                          f"(`output y = ...`), or give the input `name=`", related)
            else:
                ev.report(inst.filename, "KD600", f"two layers are named \"{inst.name}\"", inst.span,
                          "Keras needs every layer name of a model to be unique", related)
            continue
        seen[inst.name] = (inst.span, inst.filename, inst)
    names: dict = {}
    for out in frame.graph.outputs:
        if out.name in names:
            related = (Related("first declared here", names[out.name].span, names[out.name].filename),)
            ev.report(out.filename, "KD601", f"two outputs are named \"{out.name}\"", out.span, None, related)
        names.setdefault(out.name, out)


def _check_connected(ev, frame) -> None:
    graph = frame.graph
    if not graph.complete or not graph.outputs:
        return
    reached = set()
    stack = [o.tensor for o in graph.outputs]
    while stack:
        tensor = stack.pop()
        if id(tensor) in reached:
            continue
        reached.add(id(tensor))
        if tensor.node is not None:
            stack.extend(tensor.node.input_tensors())
    for spec in graph.inputs:
        if id(spec.tensor) not in reached:
            ev.report(spec.filename, "KD602", f"input `{spec.binding}` does not reach any output", spec.span,
                      "use it, or remove it (Keras would accept it silently; it is almost always a forgotten branch)")


def _check_instance_use(ev, frame) -> None:
    for inst in frame.graph.layer_instances():
        if inst.bound_to is None or inst.kind == "op":
            continue
        if not inst.calls:
            ev.report(inst.filename, "KD905", f"`{inst.bound_to}` is constructed but never applied", inst.span,
                      f"apply it to a tensor: `{inst.bound_to}(x)`")
        elif len(inst.calls) == 1 and not getattr(inst, "touched", False):
            ev.report(inst.filename, "KD901", f"`{inst.bound_to}` is bound to a name but applied only once, so it shares no weights",
                      inst.span, "apply it where it is constructed, or apply it again to share its weights")
