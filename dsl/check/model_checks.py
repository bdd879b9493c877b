"""The checks of a finished model graph: unique names, connectivity, the use
of bound instances, and its compile settings."""

from __future__ import annotations

from .. import codes
from ..diagnostics import Related
from .compile_settings import check_compile
from .layout_checks import check_layout

# Weight memory above which a model is worth a warning: more than a large
# accelerator holds (docs/limits.md).
HUGE_WEIGHT_BYTES = 64 * 2**30


def _check_weight_memory(ev, frame) -> None:
    """KD906 when the model's weights alone need more than HUGE_WEIGHT_BYTES."""
    params = sum(w.size for inst in frame.graph.reached_layers() for w in (inst.weights or ()))
    if params * 4 > HUGE_WEIGHT_BYTES:
        ev.report(frame.file.display, codes.HUGE_MODEL, f"model `{frame.graph.name}` has {params:.3g} parameters: its "
                  f"weights alone need about {params * 4 / 2**30:,.0f} GiB as float32", frame.definition.name_span,
                  "check the layer sizes; kdsl warns above 64 GiB of weights")


def finish_model(ev, frame) -> None:
    """The checks of a whole model graph: names, connectivity, sharing."""
    graph = frame.graph
    _check_unique_names(ev, frame)
    _check_connected(ev, frame)
    if graph.complete:
        _check_instance_use(ev, frame)
        _check_weight_memory(ev, frame)
        check_compile(ev, frame)
        check_layout(ev, frame)


def _check_unique_names(ev, frame) -> None:
    seen: dict = {}
    for spec in frame.graph.inputs:
        seen.setdefault(spec.name, (spec.span, spec.filename, None))
    for inst in frame.graph.layer_instances():
        if inst.name in seen:
            first_span, first_file, first_inst = seen[inst.name]
            related = (Related(f"`{inst.name}` is first used here", first_span, first_file),)
            if first_inst is not None and inst.kind in ("model", "application") and first_inst.cls == inst.cls:
                ev.report(inst.filename, codes.NOT_NAMED_APART, f"two instances of `{inst.cls}` are both named \"{inst.name}\"", inst.span,
                          f"give each its own name: {inst.cls}(..., name=\"...\")", related)
            elif first_inst is None:
                ev.report(inst.filename, codes.DUPLICATE_LAYER_NAME, f"this layer would be named \"{inst.name}\", like the input `{inst.name}`",
                          inst.span, "Keras needs unique layer names: bind the output to another name "
                          "(`output y = ...`), or give the input `name=`", related)
            else:
                ev.report(inst.filename, codes.DUPLICATE_LAYER_NAME, f"two layers are named \"{inst.name}\"", inst.span,
                          "Keras needs every layer name of a model to be unique", related)
            continue
        seen[inst.name] = (inst.span, inst.filename, inst)
    names: dict = {}
    for out in frame.graph.outputs:
        if out.name in names:
            related = (Related("first declared here", names[out.name].span, names[out.name].filename),)
            ev.report(out.filename, codes.DUPLICATE_OUTPUT_NAME, f"two outputs are named \"{out.name}\"", out.span, None, related)
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
            ev.report(spec.filename, codes.DISCONNECTED, f"input `{spec.binding}` does not reach any output", spec.span,
                      "use it, or remove it (Keras would accept it silently; it is almost always a forgotten branch)")


def _check_instance_use(ev, frame) -> None:
    for inst in frame.graph.layer_instances():
        if inst.bound_to is None or inst.kind == "op":
            continue
        if not inst.calls:
            ev.report(inst.filename, codes.VALUE_DROPPED, f"`{inst.bound_to}` is constructed but never applied", inst.span,
                      f"apply it to a tensor: `{inst.bound_to}(x)`")
        elif len(inst.calls) == 1 and not getattr(inst, "touched", False):
            ev.report(inst.filename, codes.SHARED_ONCE, f"`{inst.bound_to}` is bound to a name but applied only once, so it shares no weights",
                      inst.span, "apply it where it is constructed, or apply it again to share its weights")
