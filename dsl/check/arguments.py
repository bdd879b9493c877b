"""Constructor arguments of Keras layers, applications and objects: bound to
the catalog's signatures (positional to names, defaults filled), and checked
as Keras would check them (enumerated values, types, constants only)."""

from __future__ import annotations

from functools import lru_cache

from .. import codes
from .. import catalog as kcat
from ..diagnostics import SourceError, suggest
from ..namespaces import OBJECT_NAMESPACES, namespace_of, singular
from ..shapes.base import LayerSpec
from ..syntax import tree as n
from .values import Instance, KerasObject, Tensor, UnknownDim, show


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
        code = codes.UNKNOWN_KERAS_OBJECT if namespace in OBJECT_NAMESPACES else codes.UNKNOWN_COMPILE_NAME
        raise SourceError(code, f"`{name}` is not a class of keras.{namespace}", expr.func.span,
                     suggest(name, sorted(cat.raw[namespace]["classes"])))
    args, kwargs = ev.eval_arguments(frame, expr)
    return KerasObject(namespace, name, tuple(args), kwargs, expr.span)


def check_identifier(value: str, namespace: str, span: n.Span) -> None:
    """Refuse a string that keras.NAMESPACE.get() would not accept."""
    cat = kcat.load()
    if cat.is_identifier(namespace, value):
        return
    code = codes.UNKNOWN_KERAS_OBJECT if namespace in OBJECT_NAMESPACES else codes.UNKNOWN_COMPILE_NAME
    raise SourceError(code, f"unknown {singular(namespace)} \"{value}\"", span, suggest(value, cat.identifiers(namespace)))


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
    info = signature
    positional = info.positional
    if len(args) > len(positional):
        raise SourceError(codes.TOO_MANY_POSITIONAL, f"{what} takes at most {len(positional)} positional arguments; received {len(args)}",
                     expr.args[len(positional)].span)
    bound = {p.name: a for p, a in zip(positional, args)}
    known = info.defaults  # every parameter's name
    for key, value in kwargs.items():
        if key in bound:
            raise SourceError(codes.ARGUMENT_TWICE, f"{what} received `{key}` both by position and by keyword", _kw(expr, key).name_span)
        if key not in known and not (info.var_keyword and key in extra):
            allowed = [*known, *(extra if info.var_keyword else ())]
            raise SourceError(codes.UNKNOWN_KEYWORD, f"{what} has no argument `{key}`", _kw(expr, key).name_span, suggest(key, allowed))
        bound[key] = value
    for p in info.params:
        if p.name not in bound:
            if p.required:
                raise SourceError(codes.MISSING_ARGUMENT, f"{what} needs the argument `{p.name}`", expr.span)
            bound[p.name] = p.default
    if info.var_keyword:
        for key, default in extra.items():
            bound.setdefault(key, default)
    return bound


def _kw(expr: n.Call, key: str) -> n.Keyword:
    return next(k for k in expr.keywords if k.name == key)


_ATOMS = frozenset({int, float, str, bool, type(None)})


def _plain(value):
    """An argument value as shape rules see it: unknown dims become None,
    instances become LayerSpecs."""
    if type(value) in _ATOMS:  # most arguments: the fast way out
        return value
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
            raise SourceError(codes.WRONG_KIND, f"argument `{key}` of {what} must be a constant; received {show(value)}", span)


def _check_enums(cls: str, bound: dict, expr: n.Call, what: str) -> dict:
    """Refuse string arguments Keras would reject; returns BOUND with the
    values Keras lowercases itself lowercased, as the shape rules expect."""
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
            raise SourceError(codes.UNKNOWN_KERAS_OBJECT, f"{what}: unknown {singular(namespace_of(key))} \"{value}\" for `{key}`", span, hint)
        if key == "activation":
            raise SourceError(codes.INVALID_ARGUMENT, f"{what}: unknown activation \"{value}\"", span, hint)
        listed = ", ".join(f'"{v}"' for v in choices)
        hint = f"{hint} " if hint else ""
        raise SourceError(codes.INVALID_ARGUMENT, f"{what}: `{key}` cannot be \"{value}\"", span, f"{hint}{key} is one of {listed}".strip())
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


# Every argument `_argument_problem` has something to say about.
_CHECKED = frozenset(_POSITIVE_INTS | _SIZES | {"axis", "rate", "layer", "backward_layer"})


def _check_argument_types(info, bound: dict, expr: n.Call, what: str) -> None:
    defaults = info.signature.defaults
    for key, value in bound.items():
        if key not in _CHECKED:  # most of a layer's arguments
            continue
        problem = _argument_problem(key, value, defaults.get(key))
        if problem is not None:
            span = _kw(expr, key).value.span if any(k.name == key for k in expr.keywords) else expr.span
            raise SourceError(codes.INVALID_ARGUMENT, f"{what}: `{key}` must be {problem}; received {show(value)}", span)
