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
    """Check the compile settings against the model's outputs, as Keras
    checks them at `compile` and at the first `fit` step."""
    graph = frame.graph
    if graph.compile is None or not graph.complete:
        return
    stmt = graph.compile_stmt
    keywords = {k.name: k for k in stmt.keywords}
    names = [o.name for o in graph.outputs]
    for check in (_check_loss, _check_loss_weights, _check_metrics):
        try:
            check(stmt, keywords, graph.compile, names)
        except SourceError as err:  # reported; the other keywords are still checked
            ev.report_error(frame, err)


def _outputs_text(names: list) -> str:
    return ", ".join(repr(x) for x in names)


def _check_keys(keyword: n.Keyword, value: dict, names: list) -> None:
    """Every key of a per-output dict names an output."""
    entries = keyword.value.entries if isinstance(keyword.value, n.DictExpr) else []
    spans = {e.key.value if isinstance(e.key, n.Constant) else None: e.key.span for e in entries}
    for key in value:
        if key not in names:
            raise SourceError(codes.UNKNOWN_OUTPUT, f"`{keyword.name}` names an output \"{key}\", but the outputs are "
                              f"{_outputs_text(names)}", spans.get(key, keyword.value.span), suggest(str(key), names))


def _check_every_output(keyword: n.Keyword, value: dict, names: list, why: str) -> None:
    missing = [name for name in names if name not in value]
    if missing:
        raise SourceError(codes.WRONG_ENTRY_COUNT, f"`{keyword.name}` has no entry for {_outputs_text(missing)}: {why}",
                          keyword.value.span, f"give every output an entry ({_outputs_text(names)}); None leaves one out")


def _check_length(keyword: n.Keyword, value, names: list) -> None:
    if len(value) != len(names):
        raise SourceError(codes.WRONG_ENTRY_COUNT, f"`{keyword.name}` has {len(value)} entries for {len(names)} outputs "
                          f"({', '.join(names)})", keyword.value.span,
                          "give one entry per output, in output order, or a dict keyed by output names")


def _check_loss(stmt, keywords: dict, settings: dict, names: list) -> None:
    """A loss for the model: Keras's `fit` refuses to train without one."""
    keyword = keywords.get("loss")
    value = settings.get("loss")
    place = keyword.value.span if keyword is not None else stmt.span
    if value is None:
        raise SourceError(codes.INVALID_COMPILE_ARGUMENT, "`compile` needs a loss: Keras's fit refuses to train without one",
                          place, 'add one, e.g. loss="mse"')
    if isinstance(value, dict):
        _check_keys(keyword, value, names)
        _check_every_output(keyword, value, names, "Keras's fit expects exactly the output names as keys")
        entries = list(value.values())
    elif isinstance(value, (list, tuple)):
        _check_length(keyword, value, names)
        entries = list(value)
    else:
        return
    if all(entry is None for entry in entries):
        raise SourceError(codes.INVALID_COMPILE_ARGUMENT, "every entry of `loss` is None, so there is nothing to train", place)


def _check_loss_weights(stmt, keywords: dict, settings: dict, names: list) -> None:
    """Loss weights in the form of the losses they weigh."""
    keyword = keywords.get("loss_weights")
    value = settings.get("loss_weights")
    if keyword is None or value is None:
        return
    loss = settings.get("loss")
    one_loss = not isinstance(loss, (list, tuple, dict))
    span = keyword.value.span
    if isinstance(value, bool) or isinstance(value, int):
        raise SourceError(codes.INVALID_COMPILE_ARGUMENT, f"`loss_weights` as one number must be a float; received {show(value)}",
                          span, f"write {float(value)!r}" if not isinstance(value, bool) else None)
    if isinstance(value, float):
        if not one_loss and len(names) > 1:
            raise SourceError(codes.INVALID_COMPILE_ARGUMENT, "one number for `loss_weights` weighs one loss; "
                              "`loss` has one per output", span, "give one weight per output, as a list or a dict")
        return
    if isinstance(value, dict):
        _check_keys(keyword, value, names)
        if one_loss and len(names) > 1:
            raise SourceError(codes.INVALID_COMPILE_ARGUMENT, "with one loss for every output, `loss_weights` is one number",
                              span, "write loss_weights=1.0, or give `loss` one entry per output")
        if isinstance(loss, (list, tuple)) and len(names) > 1 and sorted(value) != names:
            # Keras pairs a list of losses with the dict's values in sorted-key
            # order: only when that is the output order do they pair by name.
            raise SourceError(codes.INVALID_COMPILE_ARGUMENT, "`loss_weights` is a dict but `loss` is a list: Keras would "
                              "pair them by the dict's sorted keys, not by output", span, "write both as dicts, or both as lists")
        if isinstance(loss, dict):
            _check_every_output(keyword, value, names, "Keras looks the weight of every loss up by output name")
        return
    if isinstance(value, (list, tuple)):
        if one_loss:
            if len(value) != 1:
                raise SourceError(codes.WRONG_ENTRY_COUNT, f"`loss_weights` has {len(value)} entries for the one loss of the model",
                                  span, "write one number, or give `loss` one entry per output")
            return
        _check_length(keyword, value, names)
        return
    raise SourceError(codes.INVALID_COMPILE_ARGUMENT, f"`loss_weights` is a float, a list or a dict; received {show(value)}", span)


def _check_metrics(stmt, keywords: dict, settings: dict, names: list) -> None:
    for key in ("metrics", "weighted_metrics"):
        keyword, value = keywords.get(key), settings.get(key)
        if keyword is None or value is None:
            continue
        span = keyword.value.span
        if isinstance(value, dict):
            _check_keys(keyword, value, names)
        elif not isinstance(value, (list, tuple)):
            raise SourceError(codes.INVALID_COMPILE_ARGUMENT, f"`{key}` is a list (or a dict keyed by output names); "
                              f"received {show(value)}", span, f'write {key}=[{show(value)}]')
        elif len(names) > 1:
            _check_length(keyword, value, names)
            for item in value:
                if not isinstance(item, (list, tuple, str, KerasObject)) and item is not None:
                    raise SourceError(codes.INVALID_COMPILE_ARGUMENT, f"each entry of `{key}` is a metric or a list of "
                                      f"metrics; received {show(item)}", span)
