"""The steps of one imported model body, flat: each call of the graph, in
the order it is written, as an `emit.Step` with literal arguments."""

from __future__ import annotations

from ..records import field, record

from ..syntax import tree as n
from .constructs import Construct
from .emit import Step, literal
from .graph import Call, Graph

# Call keywords Keras records by itself: left out.
_RECORDED = (("mask", None), ("training", False))


@record
class Planned:
    """A model's flat steps and what they need."""

    steps: list
    calls: list  # the graph Call of each step (parallel to `steps`)
    bound: dict = field(default_factory=dict)  # id(step) -> statements binding a shared instance


def plan_steps(graph: Graph, order: list, constructs: dict, model_names: dict, explicit: set, namer) -> Planned:
    """The steps of GRAPH's calls in ORDER.  CONSTRUCTS: layer name ->
    Construct; MODEL_NAMES: nested layer name -> kd model name; EXPLICIT:
    names kd must write even though they look automatic."""
    outputs = set(graph.outputs)
    planned = Planned([], [])
    instances: dict = {}  # layer name -> variable of a bound instance
    for call in order:
        construct = constructs[call.layer.name]
        step = _step(call, construct, model_names, explicit, outputs)
        if call.layer.shared or (construct.kind in ("model", "application") and not construct.trainable):
            variable = instances.get(call.layer.name)
            if variable is None:
                hint = call.layer.name if namer.free(call.layer.name) else f"shared_{call.layer.name}"
                variable = instances[call.layer.name] = namer.fresh(hint)
                planned.bound[id(step)] = [n.Assign([n.Name(variable)], step.ctor_call())]
                if construct.kind in ("model", "application") and not construct.trainable:
                    planned.bound[id(step)].append(n.SetTrainable(n.Name(variable), n.Constant(False)))
            step.form, step.callee = "apply", variable
            step.ctor_args, step.ctor_kwargs, step.name_kw = [], [], None
        planned.steps.append(step)
        planned.calls.append(call)
    return planned


def _step(call: Call, construct: Construct, model_names: dict, explicit: set, outputs: set) -> Step:
    layer = call.layer
    kwargs = {k: v for k, v in call.kwargs.items() if (k, v) not in _RECORDED}
    named = not construct.auto or layer.name in explicit or any(call.output(i) in outputs for i in range(call.n_outputs))
    step = Step(
        form="make",
        callee=construct.callee,
        ctor_args=[literal(v) for v in construct.args],
        ctor_kwargs=[(k, literal(v)) for k, v in construct.kwargs],
        name_kw=n.Constant(layer.name) if named else None,
        inputs=list(call.args),
        call_kwargs=kwargs,
        outputs=[call.output(i) for i in range(call.n_outputs)],
        multi=call.n_outputs > 1 or _gives_tuple(construct),
        keras_name=layer.name,
        source=construct,
    )
    if not construct.trainable and construct.kind not in ("model", "application"):
        step.ctor_kwargs.append(("trainable", n.Constant(False)))
    if construct.kind == "arith":
        step.form, step.name_kw = "arith", None
    elif construct.kind == "merge" and not layer.shared and len(call.args) == 1 and isinstance(call.args[0], list) \
            and not kwargs:
        step.form, step.callee = "helper", _helper(construct.callee)
    elif construct.kind == "model":
        step.callee = model_names[layer.name]
        step.name_kw = n.Constant(layer.name) if layer.name != step.callee else None
    elif construct.kind == "custom":
        shape = call.shapes.get(0)
        if shape is not None and call.n_outputs == 1:
            step.annotation = literal(tuple(shape))
    return step


def _helper(cls: str) -> str:
    return {"Add": "add", "Subtract": "subtract", "Multiply": "multiply", "Average": "average", "Maximum": "maximum",
            "Minimum": "minimum", "Concatenate": "concatenate", "Dot": "dot"}[cls]


def _gives_tuple(construct: Construct) -> bool:
    return any(k in ("return_state", "return_attention_scores") and getattr(v, "value", v) is True
               for k, v in construct.kwargs)
