"""The check stage: static checks, then every model of the main file run
with its default parameters (or those given with --param)."""

from __future__ import annotations

from ..records import field, record
from typing import Optional

from .. import codes
from ..syntax import tree as n
from ..diagnostics import Diagnostic, Reporter, SourceError
from .evaluator import Evaluator, StopEvaluation
from ..limits import DEFAULT_LIMITS, Limits
from ..semantics.static import check_file


@record
class CheckResult:
    program: object  # program.Program
    graphs: dict = field(default_factory=dict)  # model name -> ModelGraph
    skipped: list = field(default_factory=list)  # names of models not evaluated
    diagnostics: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(d.is_error for d in self.diagnostics)


def _params_for(ev: Evaluator, file, model: n.ModelDef, overrides: dict, reporter: Reporter) -> Optional[dict]:
    """Default parameter values, with overrides; None when one has no value."""
    params = {}
    for param in model.params or []:
        if param.name in overrides:
            params[param.name] = overrides[param.name]
        elif param.default is not None:
            try:
                params[param.name] = ev.default_value(file, param)
            except SourceError as err:
                reporter.add(Diagnostic(err.code, err.message, file.display, err.span, err.hint))
                return None
        else:
            reporter.add(Diagnostic(
                codes.MODEL_SKIPPED, f"model `{model.name}` was not checked: parameter `{param.name}` has no default",
                file.display, param.span, f"give it a value: kdsl check --param \"{param.name}=...\"",
            ))
            return None
    return params


def check_program(program, overrides: Optional[dict] = None, limits: Limits = DEFAULT_LIMITS,
                  only: Optional[str] = None, facts=None) -> CheckResult:
    """Check PROGRAM: static checks of every file, then each model of the
    main file (or only the model named ONLY) evaluated into a graph.  With
    FACTS (a facts.Facts), every value an expression takes is recorded in it."""
    overrides = overrides or {}
    reporter = Reporter()
    for d in program.problems:
        reporter.add(d)
    for file in program.files:
        for d in check_file(file):
            reporter.add(d)
    result = CheckResult(program)
    ev = Evaluator(program, limits, reporter, facts)
    for item in program.main.module.definitions:
        if not isinstance(item, n.ModelDef) or (only is not None and item.name != only):
            continue
        params = _params_for(ev, program.main, item, overrides, reporter)
        if params is None:
            result.skipped.append(item.name)
            continue
        ev.names.reset()  # each model is built in a session of its own
        try:
            result.graphs[item.name] = ev.evaluate_model(program.main, item, params)
        except StopEvaluation:
            result.skipped.append(item.name)
    result.diagnostics = reporter.sorted()
    return result
