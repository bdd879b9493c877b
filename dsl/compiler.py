"""The driver: source text -> checked program -> generated Python module."""

from __future__ import annotations

import os
import sys
from .records import field, record
from pathlib import Path
from typing import Optional

from . import codes
from . import __version__
from . import catalog as kcat
from .check import CheckResult, check_program
from .codegen.pynames import is_identifier
from .diagnostics import Diagnostic, KdError
from .files import HEADER_PREFIX, HEADER_SUFFIX
from .limits import DEFAULT_LIMITS, Limits
from .runtime import compile_runtime
from .semantics import load_program
from .span import Span


@record
class Compiled:
    """The result of compiling one source: the module text (None when the
    source has errors) and every diagnostic."""

    text: Optional[str]
    diagnostics: list = field(default_factory=list)
    check: Optional[CheckResult] = None

    @property
    def ok(self) -> bool:
        return self.text is not None


def header_line(source_label: str) -> str:
    """Line 1 of every generated module."""
    from .codegen.emit import header_path  # code generation loads only when a module is written

    return f"{HEADER_PREFIX}{__version__} from {header_path(source_label)}{HEADER_SUFFIX}"


def module_name_problem(filename: str) -> Optional[Diagnostic]:
    """What is wrong with the name of the module a source compiles to: KD209
    when it is no Python identifier, or names a module that importing Keras
    loads (the generated file would shadow it in its folder, and `import
    keras` there would fail); KD907, a warning, for another module of
    Python's standard library."""
    stem = Path(filename).name
    stem = stem[: -len(".kd")] if stem.endswith(".kd") else Path(stem).stem
    place = Span(1, 1, 1, 1)
    if not is_identifier(stem):
        return Diagnostic(codes.INVALID_MODULE_NAME, f"`{stem}` cannot be the name of a Python module: the generated file "
                          f"would be `{stem}.py`", filename, place,
                          "rename the file to a valid Python identifier (letters, digits, `_`)")
    if stem == "keras" or stem in kcat.load().import_time_modules():
        return Diagnostic(codes.INVALID_MODULE_NAME, f"`{stem}.py` would shadow the module `{stem}`, which importing Keras "
                          "loads: the generated module could not import Keras in its folder", filename, place,
                          f"rename the file, e.g. `{stem}_model.kd`")
    if stem in sys.stdlib_module_names:
        return Diagnostic(codes.SHADOWING_MODULE_NAME, f"`{stem}.py` would shadow the standard-library module `{stem}` "
                          "for code run in its folder", filename, place, f"rename the file, e.g. `{stem}_model.kd`")
    return None


def generate(program, source_label: str) -> str:
    """The formatted module for a checked PROGRAM."""
    from .codegen import generate as generate_module

    return generate_module(program, header_line(source_label))


def check_text(text: str, filename: str = "<string>", path: Optional[Path] = None, overrides: Optional[dict] = None,
               limits: Limits = DEFAULT_LIMITS) -> CheckResult:
    """Load and check kd TEXT (the source of FILENAME, read from PATH when it
    is a file, which places its imports); syntax and import errors become
    diagnostics of the result."""
    with compile_runtime(limits):
        return _check_text(text, filename, path, overrides, limits)


def _check_text(text, filename, path, overrides, limits) -> CheckResult:
    try:
        program = load_program(text, filename, path, limits)
    except KdError as err:
        return CheckResult(None, diagnostics=sorted(err.diagnostics, key=Diagnostic.sort_key))
    return check_program(program, overrides, limits)


def compile_text(text: str, filename: str, path: Optional[Path] = None, source_label: Optional[str] = None,
                 limits: Limits = DEFAULT_LIMITS, overrides: Optional[dict] = None) -> Compiled:
    """Check and generate; SOURCE_LABEL is the path the header shows."""
    with compile_runtime(limits):
        return _compile_text(text, filename, path, source_label, limits, overrides)


def _compile_text(text, filename, path, source_label, limits, overrides) -> Compiled:
    result = _check_text(text, filename, path, overrides, limits)
    if result.program is None:
        return Compiled(None, result.diagnostics, result)
    program = result.program
    problems = list(result.diagnostics)
    naming = module_name_problem(filename)
    if naming is not None:
        problems.append(naming)
    if any(d.is_error for d in problems):
        return Compiled(None, sorted(problems, key=Diagnostic.sort_key), result)
    try:
        module = generate(program, source_label or Path(filename).name)
    except KdError as err:
        return Compiled(None, sorted(problems + err.diagnostics, key=Diagnostic.sort_key), result)
    return Compiled(module, problems, result)


def relative_label(source: Path, out_dir: Path) -> str:
    """The source path relative to the generated file's folder, `/`-separated."""
    rel = os.path.relpath(os.path.abspath(source), os.path.abspath(out_dir))
    return rel.replace(os.sep, "/")


def output_path(source: Path, out_dir: Optional[Path] = None) -> Path:
    """Where the module for SOURCE goes: NAME.py beside it or in OUT_DIR."""
    stem = source.name[: -len(".kd")] if source.name.endswith(".kd") else source.stem
    return (out_dir if out_dir is not None else source.parent) / f"{stem}.py"
