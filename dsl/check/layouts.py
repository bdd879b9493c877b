"""`layout(PATTERNS, mesh=MESH)` in a model: evaluated into a `Layout` on the
model's graph when the statement runs (its form, mesh, patterns and axis
names are checked then); layout_checks.py matches it against the model's
weights once the model is built (docs/language.md, section 9)."""

from __future__ import annotations

from ..records import field, record
from typing import Optional

from .. import codes
from ..diagnostics import Related, SourceError, suggest
from ..patterns import Pattern, PatternError, compile_pattern
from ..semantics.layouts import form_problem
from ..semantics.scope import BuiltinRef, resolve_global
from ..span import Span
from ..syntax import tree as n
from .frame import Frame
from .values import POISON, kind_name, show

@record(eq=False)
class LayoutEntry:
    """One `PATTERN: AXES` of a layout, and the weights it ends up placing."""

    pattern: Pattern
    axes: tuple  # one mesh axis name or None per leading dimension
    key_span: Span
    value_span: Span
    axis_spans: tuple  # the span of each axis as written, when AXES is a tuple literal
    matches: list = field(default_factory=list)  # layout_checks.WeightPath placed by this entry

    def axis_span(self, index: int) -> Span:
        return self.axis_spans[index] if index < len(self.axis_spans) else self.value_span


@record(eq=False)
class Layout:
    """A model's evaluated layout statement."""

    mesh: dict  # axis name -> size, in the source's order
    entries: list  # LayoutEntry, in the source's order
    span: Span
    filename: str
    checked: bool = False  # matched against the model's weights (layout_checks)
    replicated: list = field(default_factory=list)  # WeightPath matched by no entry
    unknown: list = field(default_factory=list)  # names of layers whose weight paths kdsl does not know


def report(ev, frame: Frame, err: SourceError) -> None:
    """Report a problem of the layout.  It leaves the model's graph complete
    (the layers are what they are), so the other checks still run, those of
    the layout's other entries included."""
    ev.reporter.add_once(err.diagnostic(frame.file.display))


def evaluate_layout(ev, frame: Frame, stmt: n.ExprStmt, call: n.Call) -> None:
    """Evaluate the layout statement STMT (calling `layout`) into the graph.
    Misplaced or repeated statements are reported statically and skipped."""
    if not frame.is_model or frame.caller is not None or not any(s is stmt for s in frame.definition.body):
        return
    if frame.graph.layout is not None:
        return
    if form_problem(call) is not None:
        return  # reported by the static checks
    try:
        _check_constant_only(frame, call)
        params = Frame(frame.file, frame.definition, frame.scope, frame.graph, dict(frame.graph.params))
        mesh = _mesh(ev, params, next(k.value for k in call.keywords if k.name == "mesh"))
    except SourceError as err:
        report(ev, frame, err)
        return
    if mesh is None:
        return  # a parameter failed; its error was reported
    frame.graph.layout = Layout(mesh, _entries(ev, frame, params, call.args[0], mesh), stmt.span, frame.file.display)


def _entries(ev, frame: Frame, params: Frame, patterns: n.DictExpr, mesh: dict) -> list:
    """The entries that are valid; each invalid one is reported."""
    entries, first_seen = [], {}
    for item in patterns.entries:
        try:
            entry = _entry(ev, params, item, mesh)
            if entry is not None and entry.pattern.text in first_seen:
                raise SourceError(codes.INVALID_LAYOUT, f"the pattern {show(entry.pattern.text)} is given twice", entry.key_span,
                                  related=(Related("first given here", first_seen[entry.pattern.text], frame.file.display),))
        except SourceError as err:
            report(ev, frame, err)
            continue
        if entry is not None:
            first_seen[entry.pattern.text] = entry.key_span
            entries.append(entry)
    return entries


def _check_constant_only(frame: Frame, call: n.Call) -> None:
    """A layout may use constants, the model's parameters and kd's builtins
    only: it becomes `layout_map_NAME(mesh, PARAM=DEFAULT, ...)`, which
    builds no layer and sees no binding of the model's body."""
    params = set(frame.scope.params)
    for node in (x for arg in [*call.args, *(k.value for k in call.keywords)] for x in n.walk(arg)):
        if isinstance(node, n.Name) and frame.scope.is_local(node.id) and node.id not in params:
            raise SourceError(codes.INVALID_LAYOUT, f"a layout may use constants and the model's parameters; `{node.id}` is a binding of the body",
                              node.span)
        builtin = isinstance(node, n.Call) and isinstance(node.func, n.Name) and not frame.scope.is_local(node.func.id) \
            and isinstance(resolve_global(frame.file, node.func.id), BuiltinRef)
        if isinstance(node, (n.Call, n.Chain)) and not builtin:
            raise SourceError(codes.INVALID_LAYOUT, "a layout may call kd's builtins only (range, len, str, ...): it builds no layer",
                              node.span)


def _positive_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _mesh(ev, frame: Frame, expr: n.DictExpr) -> Optional[dict]:
    """The mesh's axis sizes, from its dict literal (`{"batch": 2, "model": 4}`);
    None when a value failed before."""
    mesh = {}
    for item in expr.entries:
        axis, size = ev.eval(frame, item.key), ev.eval(frame, item.value)
        if axis is POISON or size is POISON:
            return None
        if not isinstance(axis, str) or not axis:
            raise SourceError(codes.INVALID_LAYOUT, f"a mesh axis is named by a non-empty string; received {show(axis)}", item.key.span)
        if axis in mesh:
            raise SourceError(codes.INVALID_MESH_AXIS, f"the mesh names the axis `{axis}` twice", item.key.span)
        if not _positive_int(size):
            raise SourceError(codes.INVALID_LAYOUT, f"the size of mesh axis `{axis}` is a positive integer; received {kind_name(size)} ({show(size)})",
                              item.value.span)
        mesh[axis] = size
    return mesh


def _entry(ev, frame: Frame, item: n.DictEntry, mesh: dict) -> Optional[LayoutEntry]:
    """One `PATTERN: AXES` entry, checked; None when part of it failed
    before (its error was reported where it failed)."""
    key, value = ev.eval(frame, item.key), ev.eval(frame, item.value)
    if key is POISON or value is POISON:
        return None
    if not isinstance(key, str):
        raise SourceError(codes.INVALID_LAYOUT, f"a layout pattern is a string (a regular expression); received {kind_name(key)} ({show(key)})",
                          item.key.span)
    try:
        pattern = compile_pattern(key, ev.limits.max_pattern_length)
    except PatternError as err:
        where = f" (at position {err.position} of the pattern)" if err.position is not None else ""
        raise SourceError(codes.INVALID_LAYOUT_PATTERN, f"{show(key)}: {err.message}{where}", item.key.span,
                          _pattern_hint(err)) from None
    axes = _axes(value, item.value, mesh)
    spans = tuple(x.span for x in item.value.items) if isinstance(item.value, n.TupleExpr) else ()
    return LayoutEntry(pattern, axes, item.key.span, item.value.span, spans)


def _pattern_hint(err: PatternError) -> Optional[str]:
    if "limit" in err.message:
        return "raise the limit with --max-pattern-length"
    if "escape" in err.message:
        return "a kd string has Python's escapes: write `\\\\d` for the regular expression's \\d, or use [0-9]"
    if err.position is None:
        return "kdsl matches patterns in linear time: it takes the regular part of Python's syntax (docs/language.md, section 9)"
    return "a pattern is a Python regular expression, matched in full against weight paths such as \"dense/kernel\""


def _axes(value, expr, mesh: dict) -> tuple:
    """A layout value: a tuple of mesh axis names and None, one per dimension."""
    if not isinstance(value, tuple):
        hint = f"write ({show(value)},) for a tuple of one axis" if isinstance(value, str) else \
            "write a tuple, e.g. (None, \"model\")"
        raise SourceError(codes.INVALID_LAYOUT, f"a layout is a tuple of mesh axis names and None, one per dimension of the weight; "
                          f"received {kind_name(value)} ({show(value)})", expr.span, hint)
    items = expr.items if isinstance(expr, n.TupleExpr) and len(expr.items) == len(value) else [expr] * len(value)
    used = set()
    for axis, node in zip(value, items):
        if axis is None:
            continue
        if not isinstance(axis, str):
            raise SourceError(codes.INVALID_LAYOUT, f"each dimension of a layout is a mesh axis name or None; received {kind_name(axis)} ({show(axis)})",
                              node.span)
        if axis not in mesh:
            hint = suggest(axis, list(mesh)) or f"the mesh's axes are {', '.join(mesh)}"
            raise SourceError(codes.INVALID_MESH_AXIS, f"the mesh has no axis `{axis}`", node.span, hint)
        if axis in used:
            raise SourceError(codes.INVALID_MESH_AXIS, f"the layout splits two dimensions over the mesh axis `{axis}`", node.span,
                              "each mesh axis splits at most one dimension of a weight")
        used.add(axis)
    return value
