"""Motifs: a short run of unnamed layers that the written kd repeats many
times (Inception's convolution, batch normalization and ReLU, in every
branch of every module) becomes one small block, called where the run
stood: `x -> conv2d_bn_act(64, 1)`.

This runs after folding, on what will be written (the model's body and
each block's), so a run counts once per place it is written, not once per
layer of the model; a motif is taken only when it saves lines.  Only
unnamed layers form motifs: named ones belong to the blocks that name them.
"""

from __future__ import annotations

from typing import Optional

from .. import catalog as kcat
from ..syntax import tree as n
from .blocks import Block
from .constructs import short_form, snake_case
from .emit import Namer, Step, literal
from .writer import expr

MAX_RUN = 4
MIN_SAVED = 10  # lines a motif must save to be worth a definition
MAX_MOTIFS = 2
_SHORT = {"BatchNormalization": "bn", "Activation": "act", "DepthwiseConv2D": "dwconv", "SeparableConv2D": "sepconv"}


def extract_motifs(bodies: list, results: set, builder) -> list:
    """Blocks for the motifs of BODIES (lists of steps, changed in place)."""
    made = []
    for _ in range(MAX_MOTIFS):
        found = _best(bodies, results)
        if found is None:
            break
        block = _motif(found, bodies, builder)
        if block is None:
            break
        _replace(bodies, found, block)
        made.append(block)
    return made


def _readers(body: list) -> dict:
    readers: dict = {}
    for step in body:
        for ref in step.tensor_inputs():
            readers.setdefault(ref, []).append(step)
    return readers


def _single(step: Step) -> bool:
    return (step.form == "make" and step.name_kw is None and step.source is not None and step.source.kind == "layer"
            and not step.multi and step.annotation is None and step.chainable)


def _runs(body: list, results: set, length: int) -> list:
    """(start, key) of each run of LENGTH unnamed layers, each reading the
    last one's only reader, the last not a model output."""
    readers = _readers(body)
    found = []
    for start in range(len(body) - length + 1):
        run = body[start:start + length]
        if not all(_single(s) for s in run) or run[-1].outputs[0] in results:
            continue
        if all(b.inputs == [a.outputs[0]] and readers.get(a.outputs[0]) == [b] and a.outputs[0] not in results
               for a, b in zip(run, run[1:])):
            found.append((start, tuple((s.callee, len(s.ctor_args)) for s in run)))
    return found


def _best(bodies: list, results: set) -> Optional[list]:
    """The occurrences [(body, start, length)] of the motif saving most lines."""
    best, best_saved = None, MIN_SAVED - 1
    for length in range(2, MAX_RUN + 1):
        by_key: dict = {}
        for b, body in enumerate(bodies):
            taken_until: dict = {}
            for start, key in _runs(body, results, length):
                if start > taken_until.get(key, -1):  # occurrences of a motif do not overlap
                    by_key.setdefault(key, []).append((b, start, length))
                    taken_until[key] = start + length - 1
        for occurrences in by_key.values():
            saved = len(occurrences) * (length - 1) - (length + 4)
            if saved > best_saved:
                best, best_saved = occurrences, saved
    return best


def _defaults(cls: str) -> dict:
    info = kcat.load().layer(cls)
    return {p.name: p.default for p in info.params if not p.required} if info else {}


def _motif(occurrences: list, bodies: list, builder) -> Optional[Block]:
    runs = [bodies[b][start:start + length] for b, start, length in occurrences]
    namer = Namer(builder.taken)
    namer.take("x")
    series: list = []  # [name, [expression per call]]
    template = []
    for pos, step in enumerate(runs[0]):
        steps = [run[pos] for run in runs]
        copy = Step("make", step.callee, inputs=list(step.inputs), outputs=list(step.outputs), source=step.source,
                    keras_name=step.keras_name)
        for k, name in enumerate(step.source.arg_names):
            copy.ctor_args.append(_parameter([s.ctor_args[k] for s in steps], name, series, namer))
        defaults = _defaults(step.callee)
        keys = []
        for s in steps:
            keys += [k for k, _ in s.ctor_kwargs if k not in keys]
        order = list(defaults)
        keys.sort(key=lambda k: order.index(k) if k in order else len(order))  # the catalog's order
        for key in keys:
            values = []
            for s in steps:
                value = dict(s.ctor_kwargs).get(key)
                if value is None:
                    if key not in defaults or isinstance(defaults[key], kcat.Opaque):
                        return None
                    value = literal(short_form(step.callee, key, defaults[key]))
                values.append(value)
            copy.ctor_kwargs.append((key, _parameter(values, key, series, namer)))
        template.append(copy)
    params = _with_defaults(series)
    name = builder.unique("_".join(_SHORT.get(s.callee, snake_case(s.callee)) for s in runs[0]))
    classes = ", ".join(s.callee for s in runs[0])
    block = Block(name, ["x"], [(p, d) for p, _, d in params], template, [runs[0][0].inputs[0]],
                  runs[0][-1].outputs[0], [f"{len(runs[0])} unnamed layers ({classes}), written {len(runs)} times."])
    block.uses = [_use(name, run, i, params) for i, run in enumerate(runs)]
    return block


def _parameter(values: list, hint: str, series: list, namer: Namer):
    """The expression for one argument: itself when every call writes it
    alike, else a parameter (one per distinct series)."""
    texts = [expr(v) for v in values]
    if len(set(texts)) == 1 and not _reads_names(values[0]):
        return values[0]
    for entry in series:
        if [expr(v) for v in entry[1]] == texts:
            return n.Name(entry[0])
    series.append([namer.fresh(hint), values])
    return n.Name(series[-1][0])


def _with_defaults(series: list) -> list:
    """(name, values, default expression or None): a default where most
    calls pass the same constant; parameters without one first."""
    out = []
    for name, values in series:
        counts: dict = {}
        for v in values:
            counts.setdefault(expr(v), []).append(v)
        common = max(counts.values(), key=len)
        constant = isinstance(common[0], (n.Constant, n.TupleExpr, n.UnaryOp))
        default = common[0] if constant and len(common) >= 2 and 2 * len(common) > len(values) else None
        out.append((name, values, default))
    return [p for p in out if p[2] is None] + [p for p in out if p[2] is not None]


def _use(name: str, run: list, index: int, params: list) -> Step:
    args, kwargs = [], []
    for param, values, default in params:
        value = values[index]
        if default is None:
            args.append(value)
        elif expr(value) != expr(default):
            kwargs.append((param, value))
    return Step("block", name, args, kwargs, inputs=list(run[0].inputs), outputs=list(run[-1].outputs))


def _replace(bodies: list, occurrences: list, block: Block) -> None:
    for (b, start, length), use in sorted(zip(occurrences, block.uses), key=lambda o: (o[0][0], -o[0][1])):
        bodies[b][start:start + length] = [use]


def _reads_names(node) -> bool:
    """Whether NODE reads a variable (a parameter of the block it stands in),
    which the motif's body would not have; class names of calls do not count."""
    calls = {id(c.func) for c in n.walk(node) if isinstance(c, n.Call)}
    return any(isinstance(x, n.Name) and id(x) not in calls for x in n.walk(node))
