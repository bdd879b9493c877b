"""`compile(...)` in a model: evaluated with the model's parameters only, and
checked against the Keras catalog and the model's outputs (section 8)."""

from __future__ import annotations

from .. import codes
from .. import catalog as kcat
from ..diagnostics import SourceError, suggest
from ..namespaces import compile_namespace_of
from ..syntax import tree as n
from .arguments import eval_in_namespace
from .frame import Frame
from .values import KerasObject, show

# Keywords keyed by output (a list in output order, or a dict by output name).
_PER_OUTPUT = ("loss", "loss_weights", "metrics", "weighted_metrics")


def _check_names(frame, stmt: n.CompileStmt) -> None:
    """Compile arguments may use constants and the model's parameters only."""
    params = set(frame.scope.params)
    for keyword in stmt.keywords:
        for node in n.walk(keyword.value):
            if isinstance(node, n.Name) and frame.scope.is_local(node.id) and node.id not in params:
                raise SourceError(codes.INVALID_COMPILE_ARGUMENT, f"compile settings may use constants and the model's parameters; `{node.id}` is a binding of the body",
                             node.span)


def evaluate_compile(ev, frame, stmt: n.CompileStmt) -> None:
    """Evaluate a compile statement into the model graph (checked at the end)."""
    if stmt.args:
        raise SourceError(codes.INVALID_COMPILE_ARGUMENT, "compile takes keyword arguments only", stmt.args[0].span)
    allowed = [p.name for p in kcat.load().compile_params()]
    for keyword in stmt.keywords:
        if keyword.name not in allowed:
            raise SourceError(codes.INVALID_COMPILE_ARGUMENT, f"`compile` has no argument `{keyword.name}`", keyword.name_span, suggest(keyword.name, allowed))
    _check_names(frame, stmt)
    params_frame = Frame(frame.file, frame.definition, frame.scope, frame.graph, dict(frame.graph.params))
    settings = {}
    for keyword in stmt.keywords:
        namespace = compile_namespace_of(keyword.name)
        if namespace:
            settings[keyword.name] = eval_in_namespace(ev, params_frame, keyword.value, namespace)
        else:
            settings[keyword.name] = ev.eval(params_frame, keyword.value)
    frame.graph.compile = settings
    frame.graph.compile_stmt = stmt


def check_compile(ev, frame) -> None:
    """Check the compile settings against the model's outputs."""
    graph = frame.graph
    if graph.compile is None or not graph.complete:
        return
    stmt = graph.compile_stmt
    names = [o.name for o in graph.outputs]
    for keyword in stmt.keywords:
        if keyword.name in _PER_OUTPUT:
            try:
                _check_per_output(keyword, graph.compile[keyword.name], names)
            except SourceError as err:  # reported; the other keywords are still checked
                ev.report_error(frame, err)


def _check_per_output(keyword: n.Keyword, value, names: list) -> None:
    if value is None:
        return
    if isinstance(value, dict):
        entries = keyword.value.entries if isinstance(keyword.value, n.DictExpr) else []
        spans = {e.key.value if isinstance(e.key, n.Constant) else None: e.key.span for e in entries}
        for key in value:
            if key not in names:
                raise SourceError(codes.UNKNOWN_OUTPUT, f"`{keyword.name}` names an output \"{key}\", but the outputs are {', '.join(repr(x) for x in names)}",
                             spans.get(key, keyword.value.span), suggest(str(key), names))
        return
    several = len(names) > 1
    if keyword.name in ("metrics", "weighted_metrics") and not several:
        if not isinstance(value, (list, tuple)):
            raise SourceError(codes.INVALID_COMPILE_ARGUMENT, f"`{keyword.name}` is a list (or a dict keyed by output names); received {show(value)}", keyword.value.span)
        return
    if isinstance(value, (list, tuple)):
        if len(value) != len(names):
            raise SourceError(codes.WRONG_ENTRY_COUNT, f"`{keyword.name}` has {len(value)} entries for {len(names)} outputs ({', '.join(names)})",
                         keyword.value.span, "give one entry per output, in output order, or a dict keyed by output names")
        if keyword.name in ("metrics", "weighted_metrics"):
            for item in value:
                if not isinstance(item, (list, tuple, str, KerasObject)) and item is not None:
                    raise SourceError(codes.INVALID_COMPILE_ARGUMENT, f"each entry of `{keyword.name}` is a metric or a list of metrics; received {show(item)}",
                                 keyword.value.span)
        return
    if keyword.name in ("metrics", "weighted_metrics"):
        raise SourceError(codes.INVALID_COMPILE_ARGUMENT, f"`{keyword.name}` for several outputs is a list of lists or a dict keyed by output names", keyword.value.span)
    if keyword.name == "loss_weights" and several:
        raise SourceError(codes.INVALID_COMPILE_ARGUMENT, "`loss_weights` for several outputs is a list or a dict keyed by output names", keyword.value.span)
