"""Folding: the repeated parts of an imported model as kd blocks, and runs
of calls of one block as `for` loops.

1. Cut points.  Walking the steps in order, a tensor that is the only one
   still to be read cuts the model: the steps between two cuts read the
   first and give the second (a residual block, an inception module).
2. Units.  Neighbouring segments whose layer names share a stem (`pool2_bn`,
   `pool2_relu`, `pool2_conv`, `pool2_pool`) form one unit.
3. Blocks.  Units with the same structure (the same classes, wired the same
   way) become one block; the arguments that differ between them become its
   parameters (one per distinct series of values, `4 * filters` when one
   is a multiple of another), and layer names built from the call's `name`
   when they share their endings (`name + "_1_conv"`).
4. Loops.  Three or more calls of one block in a row, each on the result of
   the last, become a `for` loop: over `range` when the names count up
   (`"conv2_block" + str(i)`), else over the list of what differs.

Folding never changes what is made: the order of the layers is kept, and
the importer checks the folded kd against the saved graph.
"""

from __future__ import annotations

import copy
import re
from ..records import field, record
from typing import Optional

from .. import catalog as kcat
from ..syntax import tree as n
from .constructs import is_default, short_form
from .emit import KD_KEYWORDS, Namer, Step, identifier, literal
from .graph import is_ref
from .blocks import Block
from .motifs import extract_motifs
from .writer import expr

MIN_UNIT_STEPS = 2  # a block of one layer would say nothing a layer does not
MIN_LOOP = 3  # two calls read better than a loop
_LOOKAHEAD = 3  # segments around a merge whose stems may justify it
_LONG = 30  # steps without a cut after which cells are looked for
_MISSING = object()


@record(eq=False)
class Unit:
    steps: list
    head: Optional[tuple]  # the tensor it reads (None: more than one)
    out: Optional[tuple]  # the tensor it gives
    stem: Optional[str] = None
    heads: list = field(default_factory=list)  # all it reads, newest first (a cell reads two)

    def __post_init__(self):
        if not self.heads and self.head is not None:
            self.heads = [self.head]


def fold_steps(steps: list, graph, builder, namer: Namer) -> tuple:
    """(steps, block definitions, doc comments) for a model's flat STEPS."""
    results = set(graph.outputs)
    units = _units(_segments(steps, list(graph.inputs), results))
    groups: dict = {}
    for unit in units:
        key = _unit_key(unit, results)
        if key is not None:
            groups.setdefault(key, []).append(unit)
    uses: dict = {}  # id(unit) -> block step
    blocks: list = []
    for members in groups.values():
        if len(members) < 2:
            continue
        made = _make_block(members, builder)
        if made is None:
            continue
        blocks.append(made)
        for unit, step in zip(members, made.uses):
            uses[id(unit)] = step
    folded: list = []
    for unit in units:
        folded += [uses[id(unit)]] if id(unit) in uses else unit.steps
    folded = _loops(folded, namer)
    blocks += extract_motifs([folded] + [b.steps for b in blocks], results, builder)
    return folded, [b.definition(builder) for b in blocks], {b.name: b.doc for b in blocks}


# ------------------------------------------------------------ cut points


def _segments(steps: list, entry: list, results: set) -> list:
    last_read: dict = {}
    for i, step in enumerate(steps):
        for ref in step.tensor_inputs():
            last_read[ref] = i
    for ref in results:
        last_read[ref] = len(steps)
    made = {ref: -1 for ref in entry}
    live = {ref for ref in entry if ref in last_read}
    lives = []
    for i, step in enumerate(steps):
        for ref in step.tensor_inputs():
            if last_read.get(ref) == i:
                live.discard(ref)
        for ref in step.outputs:
            made[ref] = i
            if last_read.get(ref, -1) > i:
                live.add(ref)
        lives.append(frozenset(live))
    start_live = frozenset(ref for ref in entry if ref in last_read)
    segments, start = [], 0
    for i, step in enumerate(steps):
        if len(lives[i]) == 1:
            segments += _cells(steps, start, i, start_live, lives, made)
            start, start_live = i + 1, lives[i]
    if start < len(steps):
        segments.append(Unit(steps[start:], None, None))
    return segments


def _cells(steps: list, start: int, end: int, live: frozenset, lives: list, made: dict) -> list:
    """The steps START..END (between two cuts) as segments: one, or, when
    it is long, cells between the merges that leave two tensors to read
    (a NASNet cell reads the last two cells' outputs)."""
    cuts = [i for i in range(start, end) if len(lives[i]) == 2 and _merges(steps[i])] if end - start > _LONG else []
    out, first = [], start
    for cut in cuts + [end]:
        heads = sorted(live, key=lambda r: (-made[r], r))
        result = [r for r in lives[cut] if r not in live]
        passing = [r for r in lives[cut] if r in live]
        if len(result) == 1 and len(lives[cut]) - len(passing) == 1:
            unit = Unit(steps[first:cut + 1], heads[0] if len(heads) == 1 else None, result[0], heads=heads)
        else:
            unit = Unit(steps[first:cut + 1], None, None)
        out.append(unit)
        first, live = cut + 1, lives[cut]
    return out


def _merges(step: Step) -> bool:
    return len(step.tensor_inputs()) > 1


def _explicit_names(steps: list) -> list:
    return [s.keras_name for s in steps if s.name_kw is not None and s.keras_name]


def stem(names: list) -> str:
    """The longest common beginning of NAMES that ends where a part of each
    ends (at `_` or the end): `conv2_block1` for `conv2_block1_1_conv`,
    `conv2_block1_out`; `mixed9` for `mixed9_0`, `mixed9`."""
    if not names:
        return ""
    prefix = names[0]
    for name in names[1:]:
        while not name.startswith(prefix):
            prefix = prefix[:-1]
    while prefix and not all(len(nm) == len(prefix) or nm[len(prefix)] == "_" for nm in names):
        cut = prefix.rfind("_")
        prefix = prefix[:cut] if cut > 0 else ""
    return prefix


def _segment_stem(unit: Unit) -> Optional[str]:
    names = _explicit_names(unit.steps)
    if len(names) == 1:
        # `pool2_bn` belongs to `pool2`; `conv_dw_1` is one of its own
        cut = names[0].rfind("_")
        if cut > 0 and not names[0][cut + 1:].isdigit():
            return names[0][:cut]
        return names[0] if cut > 0 else None
    return stem(names) or None


def _merged_stem(a: str, b: str, known: set) -> Optional[str]:
    """The stem of two neighbouring parts, when they belong together: one
    stem is the other (`block1`, `block1_conv1`), or their common stem is
    the stem of a layer nearby (`block2a` of `block2a_expand` and
    `block2a_dwconv_pad`, with the layer `block2a_dwconv` next); never when
    one only adds a number (`expanded_conv`, `expanded_conv_1`: siblings)."""
    common = stem([a, b])
    if not common or not (common in (a, b) or common in known):
        return None
    for rest in (a[len(common):], b[len(common):]):
        if re.match(r"_\d+(_|$)", rest):
            return None
    return common


def _units(segments: list) -> list:
    for segment in segments:
        segment.stem = _segment_stem(segment)
    units: list = []
    for i, segment in enumerate(segments):
        last = units[-1] if units else None
        merged = None
        if last is not None and last.head is not None and segment.head is not None and last.stem and segment.stem:
            nearby = {s.stem for s in segments[max(0, i - 2):i + _LOOKAHEAD]}
            merged = _merged_stem(last.stem, segment.stem, nearby)
        if merged is not None:
            last.steps = last.steps + segment.steps
            last.out = segment.out
            last.stem = merged
        else:
            units.append(segment)
    return units


# ----------------------------------------------------------- structure


class _Outside(Exception):
    """A step reads a tensor from outside its unit."""


def _wire(value, local: dict):
    if is_ref(value):
        if value not in local:
            raise _Outside
        return local[value]
    if isinstance(value, list):
        return ("list", tuple(_wire(v, local) for v in value))
    if isinstance(value, dict):
        return ("dict", tuple((k, _wire(v, local)) for k, v in value.items()))
    return ("const", ident(value))


def _unit_key(unit: Unit, results: set) -> Optional[tuple]:
    """The structure of UNIT, or None when it cannot be a block."""
    if not unit.heads or unit.out is None or len(unit.steps) < MIN_UNIT_STEPS:
        return None
    local = {head: ("in", k) for k, head in enumerate(unit.heads)}
    parts: list = []
    for pos, step in enumerate(unit.steps):
        if step.form not in ("make", "helper", "arith") or step.source is None:
            return None
        if step.source.kind in ("model", "application", "input") or any(o in results for o in step.outputs):
            return None
        try:
            wiring = (_wire(step.inputs, local), _wire(step.call_kwargs, local))
        except _Outside:
            return None
        for k, ref in enumerate(step.outputs):
            local[ref] = (pos, k)
        parts.append((step.form, step.callee, step.source.kind, tuple(step.source.arg_names), step.name_kw is None,
                      step.multi, len(step.outputs), step.annotation is not None, step.source.trainable, wiring))
    if unit.out not in local:
        return None
    return tuple(parts) + (local[unit.out],)


def ident(value):
    """A hashable identity of a value that tells 1, 1.0 and True apart."""
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, tuple(ident(v) for v in value))
    return (type(value).__name__, value if not isinstance(value, dict) else tuple(sorted(value.items())))


# --------------------------------------------------------------- blocks


@record
class _Param:
    name: str
    values: list
    key: tuple
    is_name: bool = False
    default: object = _MISSING


@record
class _Params:
    namer: Namer
    entries: list = field(default_factory=list)

    def add(self, hint: str, values: list, is_name: bool = False):
        """The expression of a parameter holding VALUES (one per call)."""
        key = tuple(ident(v) for v in values)
        for entry in self.entries:
            if entry.key == key and entry.is_name == is_name:
                return n.Name(entry.name)
        if not is_name and all(_is_int(v) for v in values):
            for entry in self.entries:
                factor = _factor(entry.values, values)
                if factor is not None and not entry.is_name:
                    return n.BinOp("*", n.Constant(factor), n.Name(entry.name))
        entry = _Param(self.namer.fresh(hint), list(values), key, is_name)
        self.entries.append(entry)
        return n.Name(entry.name)


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _factor(base: list, values: list) -> Optional[int]:
    if not all(_is_int(b) and b > 0 for b in base):
        return None
    factors = {v // b if v % b == 0 else None for b, v in zip(base, values)}
    if len(factors) == 1:
        (factor,) = factors
        if factor is not None and factor > 1:
            return factor
    return None


def _defaults(cls: str) -> dict:
    cat = kcat.load()
    info = cat.layer(cls)
    out = {p.name: p.default for p in cat.base_layer_kwargs()}
    if info is not None:
        out.update({p.name: (_MISSING if p.required else p.default) for p in info.params})
    return out


def _argument_values(steps: list) -> Optional[list]:
    """(key, values, positional) for each argument of the layer the steps
    make, in the catalog's order; None when one cannot be a parameter."""
    sources = [s.source for s in steps]
    cls = sources[0].callee
    defaults = _defaults(cls) if sources[0].kind in ("layer", "merge") else {}
    order = list(defaults)
    tables = []
    for source in sources:
        table = dict(zip(source.arg_names, source.args))
        table.update(source.kwargs)
        tables.append(table)
        order += [k for k in table if k not in order]
    found = []
    positional = set(sources[0].arg_names)
    for key in order:
        present = [key in t for t in tables]
        if not any(present):
            continue
        values = []
        for table in tables:
            if key in table:
                values.append(table[key])
            else:
                default = defaults.get(key, _MISSING)
                if default is _MISSING or isinstance(default, kcat.Opaque):
                    return None
                values.append(short_form(cls, key, default))
        found.append((key, values, key in positional and all(present), all(present)))
    return found


def _make_block(members: list, builder) -> Optional[Block]:
    """The block MEMBERS (units of one structure) are calls of, or None."""
    template = members[0]
    namer = Namer(builder.taken)
    for tensor in ("x", "p", "p2", "p3"):
        namer.take(tensor)
    params = _Params(namer)
    built: list = []
    name_exprs = _name_expressions(members, params)
    for pos, step in enumerate(template.steps):
        steps = [u.steps[pos] for u in members]
        copy_ = copy.copy(step)
        if step.form != "arith":
            arguments = _argument_values(steps)
            if arguments is None:
                return None
            copy_.ctor_args, copy_.ctor_kwargs = [], []
            cls = step.source.callee
            for key, values, positional, everywhere in arguments:
                if key == "trainable":
                    continue
                same = len({ident(v) for v in values}) == 1
                if same and (everywhere or is_default(cls, key, values[0], _defaults(cls).get(key), {})):
                    value = literal(values[0])
                    if not everywhere:
                        continue
                else:
                    value = params.add(key, values)
                if positional:
                    copy_.ctor_args.append(value)
                else:
                    copy_.ctor_kwargs.append((key, value))
            if not step.source.trainable:
                copy_.ctor_kwargs.append(("trainable", n.Constant(False)))
        copy_.name_kw = name_exprs.get(pos)
        if step.annotation is not None:
            shapes = [s.annotation for s in steps]
            copy_.annotation = _annotation(shapes, params)
        built.append(copy_)
    _choose_defaults(params)
    name = _block_name(members, params, builder)
    ordered = ([e for e in params.entries if e.default is _MISSING and not e.is_name]
               + [e for e in params.entries if e.is_name]
               + [e for e in params.entries if e.default is not _MISSING])
    tensors = ["x"] + [f"p{k}" if k > 1 else "p" for k in range(1, len(template.heads))]
    block = Block(name, tensors, [(e.name, None if e.default is _MISSING else literal(e.default)) for e in ordered],
                  built, list(template.heads), template.out, _doc(members, params))
    block.uses = [_use(name, members[i], i, ordered) for i in range(len(members))]
    return block


def _annotation(shapes: list, params: _Params):
    """The annotation of a custom layer's result: as written when every call
    gives one shape, else a parameter."""
    if len({expr(s) for s in shapes}) == 1:
        return shapes[0]
    return params.add("shape", [_constant_of(s) for s in shapes])


def _constant_of(node):
    if isinstance(node, n.Constant):
        return node.value
    if isinstance(node, n.TupleExpr):
        return tuple(_constant_of(i) for i in node.items)
    if isinstance(node, n.UnaryOp) and node.op == "-":
        return -_constant_of(node.operand)
    raise TypeError(node)


def _name_expressions(members: list, params: _Params) -> dict:
    """Position -> the `name=` expression of each explicitly named layer:
    `name + "_suffix"` when every call's names share their endings, else a
    parameter per name."""
    template = members[0]
    positions = [p for p, s in enumerate(template.steps) if s.name_kw is not None]
    if not positions:
        return {}
    per_unit = [[u.steps[p].keras_name for p in positions] for u in members]
    stems = [stem(names) for names in per_unit]
    suffixes = [[nm[len(s):] for nm in names] for s, names in zip(stems, per_unit)]
    out = {}
    if all(s for s in stems) and len(set(stems)) == len(stems) and all(x == suffixes[0] for x in suffixes):
        base = params.add("name", stems, is_name=True)
        for pos, suffix in zip(positions, suffixes[0]):
            out[pos] = base if not suffix else n.BinOp("+", base, n.Constant(suffix))
        return out
    infix = _infix(per_unit)
    if infix is not None:
        templates, ids = infix
        if all(i.isdigit() and str(int(i)) == i for i in ids):
            base = n.Call(n.Name("str"), [params.add("block_id", [int(i) for i in ids])], [])
        else:
            base = params.add("name", ids, is_name=True)
        for pos, (before, after) in zip(positions, templates):
            value = base if not before else n.BinOp("+", n.Constant(before), base)
            out[pos] = value if not after else n.BinOp("+", value, n.Constant(after))
        return out
    for i, pos in enumerate(positions):
        out[pos] = params.add("name", [names[i] for names in per_unit], is_name=True)
    return out


def _infix(per_unit: list) -> Optional[tuple]:
    """([(before, after)] per position, [id] per call) when every name is
    `before + id + after` with one id per call: `normal_conv_1_0`,
    `normal_add_1_0` ... of the cell whose id is 0."""
    templates, ids = [], None
    for names in zip(*per_unit):
        before = _common_prefix(list(names))
        after = _common_prefix([nm[len(before):][::-1] for nm in names])[::-1]
        while before and before[-1].isdigit():  # never cut a number in two
            before = before[:-1]
        while after and after[0].isdigit():
            after = after[1:]
        middles = [nm[len(before):len(nm) - len(after)] for nm in names]
        if ids is None:
            ids = middles
        if middles != ids or not all(middles):
            return None
        templates.append((before, after))
    if ids is None or len(set(ids)) != len(ids):
        return None
    return templates, ids


def _common_prefix(names: list) -> str:
    prefix = names[0]
    for name in names[1:]:
        while not name.startswith(prefix):
            prefix = prefix[:-1]
    return prefix


def _choose_defaults(params: _Params) -> None:
    """A parameter gets the value most calls pass as its default, when more
    than half of them (and at least two) pass it."""
    for entry in params.entries:
        if entry.is_name:
            continue
        counts: dict = {}
        for value in entry.values:
            counts.setdefault(ident(value), []).append(value)
        best = max(counts.values(), key=len)
        if len(best) >= 2 and len(best) * 2 > len(entry.values):
            entry.default = best[0]


def _use(name: str, unit: Unit, index: int, ordered: list) -> Step:
    args, kwargs, values = [], [], {}
    for entry in ordered:
        value = entry.values[index]
        values[entry.name] = value
        if entry.is_name:
            kwargs.append((entry.name, literal(value)))
        elif entry.default is _MISSING:
            args.append(literal(value))
        elif ident(value) != ident(entry.default):
            kwargs.append((entry.name, literal(value)))
    return Step("block", name, args, kwargs, inputs=list(unit.heads), outputs=[unit.out], values=values,
                source=_BlockSource(ordered))


@record
class _BlockSource:
    params: list  # _Param, in the block's order


def _block_name(members: list, params: _Params, builder) -> str:
    """After what the calls are called, numbers left out (`conv_block` for
    conv2_block1, conv3_block1, ...), else `unit`."""
    names = [e.values for e in params.entries if e.is_name]
    stems = names[0] if names else [u.stem for u in members if u.stem]
    if any(e.name.startswith("block_id") for e in params.entries):  # names around an id: after the result's
        last = members[0].steps[-1].keras_name or ""
        stems = [last.split("_")[0]] if not last[:1].isdigit() else []
    base = ""
    if stems and all(isinstance(s, str) for s in stems):
        base = re.sub(r"_+", "_", re.sub(r"\d+", "", stem(list(stems)) or stems[0])).strip("_")
    if not base or base in KD_KEYWORDS or not identifier(base).isidentifier():
        base = "unit"
    return builder.unique(base)


def _doc(members: list, params: _Params) -> list:
    classes: list = []
    for step in members[0].steps:
        label = step.source.callee if step.form != "arith" else {"+": "add", "-": "subtract", "*": "multiply",
                                                                   "/": "divide", "neg": "negate"}[step.callee]
        if label not in classes:
            classes.append(label)
    names = [e.values for e in params.entries if e.is_name]
    stems = list(names[0]) if names else [u.stem for u in members if u.stem]
    where = f"at {_listed(stems)}" if len(stems) == len(members) else f"{len(members)} times"
    return wrap(f"{len(members[0].steps)} layers ({', '.join(classes)}), found {where}.")


def wrap(text: str, width: int = 94) -> list:
    """TEXT in lines that fit a `## ` comment within the line length."""
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    return lines + ([line] if line else [])


def _listed(items: list) -> str:
    if len(items) > 6:
        return f"{', '.join(items[:3])}, ... {items[-1]} ({len(items)} places)"
    return ", ".join(items[:-1]) + f" and {items[-1]}" if len(items) > 1 else items[0]


# ---------------------------------------------------------------- loops


def _loops(steps: list, namer: Namer) -> list:
    out, i = [], 0
    while i < len(steps):
        run = [steps[i]]
        if steps[i].form == "block":
            j = i + 1
            while (j < len(steps) and steps[j].form == "block" and steps[j].callee == run[0].callee
                   and steps[j].inputs == [run[-1].outputs[0]]):
                run.append(steps[j])
                j += 1
        if len(run) >= MIN_LOOP:
            out.append(_loop(run, namer))
        else:
            out += run[:1]
            run = run[:1]
        i += len(run)
    return out


def _loop_variable(namer: Namer, hint: str) -> str:
    """A loop's variable: loops follow each other, so they may share one."""
    loops = getattr(namer, "loop_variables", None)
    if loops is None:
        loops = namer.loop_variables = set()
    if hint in loops:
        return hint
    name = namer.fresh(hint)
    loops.add(name)
    return name


def _progression(values: list) -> Optional[tuple]:
    """(prefix, start, suffix) when VALUES count up by one: ints
    (`prefix` None) or strings `prefix + str(k) + suffix`."""
    if all(_is_int(v) for v in values):
        return (None, values[0], None) if all(v == values[0] + k for k, v in enumerate(values)) else None
    if not all(isinstance(v, str) for v in values):
        return None
    first = values[0]
    for match in reversed(list(re.finditer(r"\d+", first))):
        prefix, suffix = first[:match.start()], first[match.end():]
        start = int(match.group())
        if str(start) != match.group():
            continue
        if all(v == f"{prefix}{start + k}{suffix}" for k, v in enumerate(values)):
            return (prefix, start, suffix)
    return None


def _loop(run: list, namer: Namer) -> Step:
    params = run[0].source.params
    varying, fixed = [], {}
    for entry in params:
        values = [s.values[entry.name] for s in run]
        if len({ident(v) for v in values}) == 1:
            fixed[entry.name] = values[0]
        else:
            varying.append((entry, values))
    counted = [(e, v, _progression(v)) for e, v in varying]
    exprs: dict = {}
    if varying and all(p is not None for _, _, p in counted):
        index = _loop_variable(namer, "i")
        start = counted[0][2][1]
        for entry, _, (prefix, first, suffix) in counted:
            k = n.Name(index) if first == start else n.BinOp("+", n.Name(index), n.Constant(first - start))
            if prefix is None:
                exprs[entry.name] = k
                continue
            value = n.Call(n.Name("str"), [k], [])
            if prefix:
                value = n.BinOp("+", n.Constant(prefix), value)
            if suffix:
                value = n.BinOp("+", value, n.Constant(suffix))
            exprs[entry.name] = value
        targets = [index]
        iterable = n.Call(n.Name("range"), [n.Constant(start), n.Constant(start + len(run))], [])
    else:
        targets = [_loop_variable(namer, e.name) for e, _ in varying]
        for (entry, _), target in zip(varying, targets):
            exprs[entry.name] = n.Name(target)
        rows = [[s.values[e.name] for e, _ in varying] for s in run]
        iterable = n.ListExpr([literal(r[0]) if len(r) == 1 else n.TupleExpr([literal(v) for v in r]) for r in rows])
    args, kwargs = [], []
    for entry in params:
        value = exprs.get(entry.name)
        if value is None:
            value = literal(fixed[entry.name])
            if entry.default is not _MISSING and not entry.is_name and ident(fixed[entry.name]) == ident(entry.default):
                continue
        if entry.is_name or entry.default is not _MISSING:
            kwargs.append((entry.name, value))
        else:
            args.append(value)
    return Step("loop", run[0].callee, args, kwargs, inputs=list(run[0].inputs), outputs=list(run[-1].outputs),
                loop_targets=targets, loop_iterable=iterable, source=run[0].source)
