"""keras.applications models used as layers, without Keras.

The catalog records each application's layer graph (scripts/gen_catalog.py).
kdsl replays that graph with its own shape rules for the input it is given,
so an application gets exact output shapes for any input size it accepts,
and exact weights: `Xception(weights=None, include_top=False)` on 250x250x3
gives (None, 8, 8, 2048) and 20,861,480 parameters.
"""

from __future__ import annotations

import string
from typing import Optional

from .. import codes
from .. import catalog as kcat
from ..diagnostics import SourceError
from ..shapes import base as rules
from ..shapes import ops as shape_ops
from ..shapes.base import LayerSpec, RuleError, TensorType, Weight
from .values import Tensor, compatible, format_shape, show


def _tuples(value):
    """Recorded configs are JSON: lists become the tuples Keras keeps."""
    if isinstance(value, list):
        return tuple(_tuples(v) for v in value)
    if isinstance(value, dict):
        return {k: _tuples(v) for k, v in value.items()}
    return value


# ---------------------------------------------------------- input shape


def declared_input_shape(info, args: dict, span) -> tuple:
    """The input shape (batch first) the application builds with, checked
    as keras.applications' obtain_input_shape checks it."""
    shape = args.get("input_shape")
    include_top = bool(args.get("include_top"))
    name = info.name
    if shape is None:
        if include_top:
            return (None,) + tuple(info.default_input_shape)
        return (None, None, None, 3)
    if not isinstance(shape, (tuple, list)) or len(shape) != 3:
        raise SourceError(codes.INVALID_ARGUMENT, f"`{name}`: input_shape must have 3 dimensions (height, width, channels); received {show(shape)}", span)
    shape = tuple(shape)
    if args.get("weights") == "imagenet" and shape[-1] != 3:
        raise SourceError(codes.INVALID_ARGUMENT, f"`{name}`: with imagenet weights the input must have 3 channels; received {show(shape)}", span)
    if any(d is not None and d < info.min_size for d in shape[:2]):
        raise SourceError(codes.EMPTY_OUTPUT, f"`{name}`: the input must be at least {info.min_size}x{info.min_size}; received {show(shape)}", span)
    if include_top and None in shape:
        raise SourceError(codes.INVALID_ARGUMENT, f"`{name}` with include_top=True needs a static input_shape; received {show(shape)}", span)
    return (None,) + shape


def default_name(info, args: dict, span) -> str:
    """The name Keras gives the application's model when `name=` is not
    passed: the signature's default, or, for those whose default depends on
    the arguments, the recorded template filled in (`mobilenetv2_1.00_96`)."""
    graph = kcat.load().application_graph(info.name)
    param = info.param("name")
    fallback = param.default if param is not None and isinstance(param.default, str) else graph.model_name
    if info.name_template is None:
        return fallback
    shape = declared_input_shape(info, args, span)
    rows, cols = shape[1], shape[2]
    if args.get("weights") == "imagenet" and info.square_sizes and (rows != cols or rows not in info.square_sizes):
        rows = info.default_size  # Keras falls back to the default size's weights
    values = {**args, "rows": rows, "cols": cols}
    out = []
    for literal, field, spec, _ in string.Formatter().parse(info.name_template):
        out.append(literal)
        if field is not None:
            if field not in values:
                return fallback
            out.append(format(values[field], spec or ""))
    return "".join(out)


def _variant(args: dict) -> str:
    if args.get("include_top"):
        return "top"
    return {None: "none", "avg": "avg", "max": "max"}.get(args.get("pooling"), "none")


# -------------------------------------------------------------- replay


def _correct_pad(shape, kernel) -> tuple:
    """imagenet_utils.correct_pad: ZeroPadding2D before a strided convolution."""
    kernel = (kernel, kernel) if isinstance(kernel, int) else tuple(kernel)
    size = shape[1:3]
    adjust = (1, 1) if size[0] is None else (1 - size[0] % 2, 1 - size[1] % 2)
    correct = (kernel[0] // 2, kernel[1] // 2)
    return ((correct[0] - adjust[0], correct[0]), (correct[1] - adjust[1], correct[1]))


class _Replay:
    """Runs an application's recorded ops with kdsl's rules."""

    def __init__(self, graph, variant: str, unknown_size: bool, args: dict, fixed: Optional[dict] = None):
        self.graph = graph
        self.ops = graph.ops(variant, unknown_size)
        self.outputs = graph.outputs(variant, unknown_size)
        self.args = args
        self.cat = kcat.load()
        self.results: list = []  # per op, per call: list of output TensorTypes
        self.weights: list = []
        self.op_weights: list = []  # per op: the weights its first call built
        # (op, call) -> [(LayerCall, Result)] of the rules run for it, which
        # kdsl summary costs; none for inputs, numpy ops and the two custom layers.
        self.layer_calls: dict = {}
        self.result = None  # (outputs, weights) once run
        # Values that depend on the input size are fixed when Keras builds the
        # model (at its declared input shape), and kept when it is called on
        # another size: (op, call) -> {argument: value}.
        self.fixed = fixed if fixed is not None else {}
        self.building = fixed is None

    def ref(self, value):
        """Resolve `{"@": [op, call, output]}` references in call arguments."""
        if isinstance(value, dict) and set(value) == {"@"}:
            op, call, index = value["@"]
            return self.results[op][call][index]
        if isinstance(value, list):
            return [self.ref(v) for v in value]
        return value

    def spec(self, op_class: str, config: dict) -> LayerSpec:
        info = self.cat.layer(op_class)
        args = {p.name: p.default for p in self.cat.base_layer_kwargs()} if info.var_keyword else {}
        args.update({p.name: p.default for p in info.params})
        args.update(_tuples(kcat.bind_params(config, self.args)))
        return LayerSpec(info.canonical, args)

    def run(self, input_type: TensorType):
        for index, op in enumerate(self.ops):
            calls = []
            for number, call in enumerate(op["calls"]):
                inputs = [self.ref(a) for a in call["args"]]
                outputs, weights = self.apply(op, call, inputs, input_type, (index, number))
                if not calls:
                    self.weights.extend(weights)
                    self.op_weights.append(tuple(weights))
                calls.append(outputs)
            self.results.append(calls)
        outs = [self.ref(o) for o in self.outputs]
        self.result = (outs, tuple(self.weights))
        return self.result

    def apply(self, op, call, inputs, input_type, where):
        cls = op["class"]
        if cls == "InputLayer":
            return [input_type], []
        if op.get("module") == "keras.src.ops.numpy":
            return [shape_ops.elementwise({"Add": "+", "Multiply": "*", "Subtract": "-", "Divide": "/"}[cls], *inputs)], []
        if cls == "Sequential":
            return self.sequential(op, inputs, where)
        if cls == "LayerScale":
            dim = op["config"]["projection_dim"]
            return [inputs[0]], [Weight("variable", (dim,), True)]
        if cls == "CustomScaleLayer":
            return [inputs[0][0]], []
        config = dict(op["config"])
        if "dynamic" in call:
            if self.building:
                self.fixed[where] = {key: _correct_pad(inputs[0].shape, dynamic["correct_pad"])
                                     for key, dynamic in call["dynamic"].items() if "correct_pad" in dynamic}
            config.update(self.fixed.get(where, {}))
        layer_call = rules.LayerCall(self.spec(cls, config), tuple(inputs), {})
        result = rules.lookup(self.cat.layer(cls).canonical)(layer_call)
        self.layer_calls[where] = [(layer_call, result)]
        out = result.outputs
        return (list(out) if isinstance(out, (list, tuple)) else [out]), list(result.weights)

    def sequential(self, op, inputs, where):
        value, weights, calls = inputs[0], [], []
        for layer in op["config"]["layers"]:
            spec = self.spec(layer["class"], layer["config"])
            layer_call = rules.LayerCall(spec, (value,), {})
            result = rules.lookup(spec.cls)(layer_call)
            calls.append((layer_call, result))
            value = result.outputs
            weights.extend(result.weights)
        self.layer_calls[where] = calls
        return [value], weights


def replay(name: str, args: dict, input_type: TensorType, built_for: Optional[TensorType] = None):
    """The outputs and weights of application NAME with ARGS, built for the
    input BUILT_FOR (default: INPUT_TYPE) and called on INPUT_TYPE.
    Raises RuleError when the input does not fit."""
    return replay_run(name, args, input_type, built_for).result


def replay_run(name: str, args: dict, input_type: TensorType, built_for: Optional[TensorType] = None) -> _Replay:
    """The replay `replay` makes, kept whole: its op records (`ops`,
    `outputs`), each op's outputs per call (`results`), each op's weights
    (`op_weights`) and the rules' calls (`layer_calls`), which kdsl summary
    reads for the layers inside an application."""
    graph = kcat.load().application_graph(name)
    built_for = built_for or input_type
    unknown_size = built_for.shape[1] is None and graph.has_unknown_size_graph()
    variant = _variant(args)
    build = _Replay(graph, variant, unknown_size, args)
    build.run(built_for)
    if built_for.shape == input_type.shape:
        return build
    final = _Replay(graph, variant, unknown_size, args, build.fixed)
    final.run(input_type)
    return final


# ---------------------------------------------------- evaluator entry points


# Arguments the recorded graphs account for; any other argument (MobileNet's
# alpha, EfficientNetV2's include_preprocessing, ...) changes the
# architecture, and kdsl then leaves the output unknown.
_REPLAYED_ARGS = frozenset(
    {"include_top", "weights", "input_tensor", "input_shape", "pooling", "classes", "classifier_activation", "name"}
)


def _unreplayable(info, args: dict) -> Optional[str]:
    """The first argument set away from its default that the graph does not cover."""
    for param in info.signature.params:
        if param.name not in _REPLAYED_ARGS and args.get(param.name) != param.default:
            return f"{param.name}={show(args.get(param.name))}"
    return None


def prepare(ev, frame, inst, expr) -> None:
    """Check a new application instance's arguments and build its weights."""
    info = kcat.load().application(inst.cls)
    args = inst.args
    if args.get("input_tensor") is not None:
        raise SourceError(codes.INVALID_ARGUMENT, f"`{inst.cls}`: input_tensor is not supported in kd; apply the model to a tensor instead",
                     expr.span)
    shape = declared_input_shape(info, args, expr.span)
    inst.graph = {"input": TensorType(shape, "float32"), "cache": {}}
    graph = kcat.load().application_graph(inst.cls)
    # Building it names its unnamed layers, which later unnamed layers follow.
    ev.names.use(graph.names_used(_variant(args), shape[1] is None and graph.has_unknown_size_graph()))
    unknown = _unreplayable(info, args)
    if unknown is not None:
        # Warned about where it is applied, unless that result is annotated.
        inst.graph["unknown"] = (f"kdsl knows `{inst.cls}` with its default architecture only, not {unknown}: "
                                 "its output shape and parameters are unknown")
        inst.weights, inst.params_known = None, False
        return
    try:
        outputs, weights = _replay_cached(inst, inst.graph["input"])
    except RuleError as err:
        raise SourceError(err.code, f"`{inst.cls}` cannot be built for input {format_shape(shape)}: {err.message}", expr.span) from None
    inst.weights = weights


def _replay_cached(inst, input_type: TensorType):
    cache = inst.graph["cache"]
    if input_type.shape not in cache:
        cache[input_type.shape] = replay(inst.cls, inst.args, input_type, inst.graph["input"])
    return cache[input_type.shape]


def apply(ev, frame, inst, args: list, kwargs: dict, span):
    """Apply an application instance to one image tensor: (output types, weights)."""
    tensor = args[0] if len(args) == 1 else None
    if isinstance(tensor, (list, tuple)) and len(tensor) == 1:
        tensor = tensor[0]
    if not isinstance(tensor, Tensor) or kwargs.keys() - {"training"}:
        raise SourceError(codes.WRONG_CALL_ARGUMENTS, f"`{inst.label}` takes one image tensor", span)
    declared = inst.graph["input"]
    unknown = inst.graph.get("unknown")
    if unknown and not ev.annotating:
        ev.warn(frame, codes.NO_SHAPE_RULE, unknown, span, "annotate the result, e.g. `features: (None, 7, 7, 1280) = base(x)`")
    if tensor.shape is None or unknown:
        return TensorType(None), inst.weights
    if not compatible(declared.shape, tensor.shape):
        raise SourceError(codes.INCOMPATIBLE_SHAPES, f"`{inst.label}` ({inst.cls}) expects inputs of shape {format_shape(declared.shape)}; "
                              f"received {show(tensor)}", span)
    try:
        outputs, weights = _replay_cached(inst, TensorType(tensor.shape, "float32"))
    except RuleError as err:
        raise SourceError(err.code, f"`{inst.label}` ({inst.cls}) on {show(tensor)}: {err.message}", span, err.hint) from None
    return (outputs[0] if len(outputs) == 1 else list(outputs)), weights
