"""A model's layout against its weights, once the model is built: which
weights each pattern places (as keras.distribution.LayoutMap finds them),
and whether each split dimension exists and divides by its mesh axis.

Keras matches a layout's keys against `variable.path` when each variable
is created: a key equal to the path wins, else the one key that
`re.fullmatch`es it (two are an error), else the variable is replicated.
A split dimension that does not divide by its axis's size fails then too
(JAX's "should evenly divide the shape").  kdsl finds all of these before
Keras runs, at the entry of the layout that causes them.
"""

from __future__ import annotations

from ..records import record

from .. import catalog as kcat
from .. import codes
from ..diagnostics import Related, SourceError
from ..shapes.base import LayerSpec
from ..shapes.paths import relative_paths
from .applications import replay_run
from .layouts import report
from .values import format_shape, show

_LISTED = 3  # weights a message names before "and N more"


@record(frozen=True, slots=True)
class WeightPath:
    """One variable the model creates, as Keras will name it."""

    path: str
    shape: tuple
    layer: str  # the Keras name of the layer (of the model) that creates it


def weight_paths(graph) -> tuple:
    """(every WeightPath of GRAPH's layers, in creation order; the names of
    layers whose weight paths kdsl does not know).  Layers constructed but
    never called create no weight; kd models and applications create
    theirs when constructed, and add no segment to their layers' paths."""
    found, unknown = [], []
    inner = {id(i.args): i.name for i in graph.instances if i.wrapped}

    def inner_name(spec: LayerSpec):
        return inner.get(id(spec.args))

    for inst in graph.layer_instances():
        if inst.kind == "model" and inst.graph is not None:
            more, missing = weight_paths(inst.graph)
            found += more
            unknown += missing
        elif inst.kind == "layer" and not inst.calls:
            continue
        elif inst.kind == "application" and inst.weights is not None:
            more, missing = application_paths(inst)
            found += more
            unknown += missing
        elif inst.kind != "layer" or inst.weights is None:
            unknown.append(inst.name)
        else:
            paths = relative_paths(LayerSpec(inst.cls, inst.args), inst.weights, inner_name)
            if paths is None:
                unknown.append(inst.name)
                continue
            found += [WeightPath(f"{inst.name}/{p}", tuple(w.shape), inst.name) for p, w in zip(paths, inst.weights)]
    return found, unknown


def application_paths(inst) -> tuple:
    """(the WeightPaths of application INST, the names of its layers whose
    paths kdsl does not know).  An application's layers keep their own
    names as paths (`Conv1/kernel`, as Keras gives them inside a model): its
    replay, built for its declared input, gives each layer's weights."""
    run = replay_run(inst.cls, inst.args, inst.graph["input"])
    found, unknown = [], []
    for op, weights in zip(run.ops, run.op_weights):
        if not weights:
            continue
        paths = relative_paths(run.spec(op["class"], op["config"]), weights, lambda spec: None) \
            if kcat.load().layer(op["class"]) is not None else None
        if paths is None:
            unknown.append(f"{inst.name}/{op['name']}")
            continue
        found += [WeightPath(f"{op['name']}/{p}", tuple(w.shape), op["name"]) for p, w in zip(paths, weights)]
    return found, unknown


def check_layout(ev, frame) -> None:
    """Match the model's layout (if any) against its weights and report
    what Keras would refuse.  Only for a model evaluated on its own and
    without errors: inside another model its layers are named otherwise."""
    layout = frame.graph.layout
    if layout is None or ev.active or not frame.graph.complete:
        return
    weights, layout.unknown = weight_paths(frame.graph)
    try:
        conflicts = _place(ev, layout, weights)
    except SourceError as err:  # the step limit
        report(ev, frame, err)
        return
    layout.checked = True
    for (first, second), paths in conflicts.items():
        report(ev, frame, _ambiguous(first, second, paths, frame.file.display))
    clashing = {id(e) for pair in conflicts for e in pair}
    for entry in layout.entries:
        if entry.matches:
            _check_fit(ev, frame, entry, layout.mesh)
        elif id(entry) not in clashing:
            _warn_unmatched(ev, frame, entry, weights, layout.unknown)


def _place(ev, layout, weights) -> dict:
    """Give each weight its entry, as LayoutMap's lookup would; returns the
    pairs of entries that both match some weights, with those weights."""
    exact = {e.pattern.text: e for e in layout.entries}
    conflicts: dict = {}
    for weight in weights:
        entry = exact.get(weight.path)
        if entry is None:
            matching = [e for e in layout.entries if e.pattern.fullmatch(weight.path, _spender(ev, e))]
            if len(matching) > 1:
                conflicts.setdefault((matching[0], matching[1]), []).append(weight)
                continue
            entry = matching[0] if matching else None
        if entry is None:
            layout.replicated.append(weight)
        else:
            entry.matches.append(weight)
    return conflicts


def _spender(ev, entry):
    """Charges matching work to the evaluation's step limit (KD405)."""
    def spend(work: int) -> None:
        ev.steps += work
        if ev.steps > ev.limits.max_steps:
            raise SourceError(codes.LOOP_TOO_LONG, f"evaluation stopped after {ev.limits.max_steps:,} steps while matching this pattern",
                              entry.key_span, "raise the limit with --max-steps")
    return spend


def _listing(weights) -> str:
    """`a/kernel` (3, 4), `b/kernel` (3, 4) and 2 more."""
    shown = ", ".join(f"`{w.path}` {format_shape(w.shape)}" for w in weights[:_LISTED])
    return shown + (f" and {len(weights) - _LISTED} more" if len(weights) > _LISTED else "")


def _ambiguous(first, second, weights, filename: str) -> SourceError:
    return SourceError(
        codes.AMBIGUOUS_LAYOUT,
        f"{_listing(weights)} {'matches' if len(weights) == 1 else 'match'} both {show(first.pattern.text)} and "
        f"{show(second.pattern.text)}; Keras refuses a weight that two patterns match",
        second.key_span, "narrow one of the patterns, or give the weight's whole path as a key of its own (an exact key wins)",
        (Related("the other pattern", first.key_span, filename),),
    )


def _check_fit(ev, frame, entry, mesh: dict) -> None:
    """Each split dimension exists and divides by its mesh axis's size."""
    rank = len(entry.axes)
    short = [w for w in entry.matches if len(w.shape) < rank]
    if short:
        report(ev, frame, SourceError(
            codes.LAYOUT_RANK, f"the layout {show(entry.axes)} has {rank} dimensions, but the pattern matches "
            f"{_listing(short)}, of rank {len(short[0].shape)}", entry.value_span,
            "a layout has at most one entry per dimension of the weights it matches (a shorter one leaves the rest whole)"))
    for index, axis in enumerate(entry.axes):
        if axis is None:
            continue
        size = mesh[axis]
        bad = [w for w in entry.matches if index < len(w.shape) and w.shape[index] % size]
        if bad:
            dims = ", ".join(str(w.shape[index]) for w in bad[:_LISTED])
            report(ev, frame, SourceError(
                codes.INDIVISIBLE_DIMENSION, f"mesh axis `{axis}` splits dimension {index} into {size} parts, which does not "
                f"divide {_listing(bad)} (dimension {index} is {dims})", entry.axis_span(index),
                f"Keras fails when the model is built; choose sizes that divide by {size}, split another dimension, "
                "or narrow the pattern"))


def _warn_unmatched(ev, frame, entry, weights, unknown) -> None:
    examples = ", ".join(f'"{w.path}"' for w in weights[:_LISTED])
    hint = f"patterns match whole weight paths LAYER/WEIGHT, such as {examples} (kdsl summary lists the layers)" if weights \
        else "the model has no weights"
    if unknown:
        hint += f"; kdsl does not know the weight paths of {', '.join(f'`{u}`' for u in unknown[:_LISTED])}"
    ev.warn(frame, codes.LAYOUT_MATCHES_NOTHING, f"the pattern {show(entry.pattern.text)} matches no weight of model `{frame.graph.name}`",
            entry.key_span, hint)


# ------------------------------------------------------------------ summary


def _per_device(shape: tuple, axes: tuple, mesh: dict) -> tuple:
    return tuple(d // mesh[a] if i < len(axes) and (a := axes[i]) is not None else d for i, d in enumerate(shape))


def layout_lines(graph) -> list:
    """The lines `kdsl summary` prints under a model with a checked layout:
    each weight a pattern places, its layout and its shape on one device."""
    layout = getattr(graph, "layout", None)
    if layout is None or not layout.checked:
        return []
    mesh = ", ".join(f"{axis}={size}" for axis, size in layout.mesh.items())
    rows = [("Weight", "Shape", "Layout", "Per device", "Pattern")]
    for entry in layout.entries:
        for w in entry.matches:
            axes = "(" + ", ".join("None" if a is None else a for a in entry.axes) + ("," if len(entry.axes) == 1 else "") + ")"
            rows.append((w.path, format_shape(w.shape), axes, format_shape(_per_device(w.shape, entry.axes, layout.mesh)),
                         entry.pattern.text))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    out = [f" Layout on the mesh {mesh}:"]
    out += ["  " + "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    count = len(layout.replicated)
    out.append(f" Replicated (matched by no pattern): {count} weight{'' if count == 1 else 's'}")
    if layout.unknown:
        out.append(f" Weight paths unknown to kdsl: {', '.join(layout.unknown)}")
    return out
