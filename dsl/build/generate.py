"""What every build integration shares: find the .kd files, compile each one
to its module's text, and report the diagnostics the way `kdsl` does."""

from __future__ import annotations

import os
import sys
from ..records import field, record
from pathlib import Path
from typing import Iterable, Optional, TextIO

from ..limits import DEFAULT_LIMITS, Limits


class KdBuildError(Exception):
    """A build step stops because .kd files have errors (or warnings, when
    strict); the diagnostics were printed before it was raised."""


@record(frozen=True)
class Job:
    """One .kd file to compile and where its module belongs in the source
    tree (the header of the module names the source relative to that place)."""

    source: Path
    target: Path
    display: str  # how diagnostics name the source


@record
class Outcome:
    """The result of one job: the module's text (None on errors), its
    diagnostics, the kd sources for printing them, and whether it fails."""

    job: Job
    text: Optional[str]
    diagnostics: list = field(default_factory=list)
    sources: dict = field(default_factory=dict)
    failed: bool = False


def module_path(source: Path, out_dir: Optional[Path], root: Optional[Path]) -> Path:
    """Where the module of SOURCE goes: NAME.py beside it; or in OUT_DIR,
    under the folders that lead from ROOT to SOURCE (flat without ROOT).
    The same rule as `kdsl compile [-o DIR] FILE|DIR`."""
    name = (source.name[: -len(".kd")] if source.name.endswith(".kd") else source.stem) + ".py"
    if out_dir is None:
        return source.parent / name
    if root is None:
        return out_dir / name
    return out_dir / source.parent.relative_to(root) / name


def jobs_for(paths: Iterable, out_dir: Optional[Path] = None, base: Optional[Path] = None) -> list:
    """Jobs for PATHS (files, and folders searched recursively), in a stable
    order.  Relative paths are taken from BASE (default: the current folder),
    and diagnostics name sources as given."""
    base = base if base is not None else Path(".")
    jobs, seen = [], set()
    for raw in paths:
        given = Path(raw)
        path = given if given.is_absolute() else base / given
        if path.is_dir():
            found = [(p, path) for p in sorted(path.rglob("*.kd")) if p.is_file()]
        elif path.is_file():
            found = [(path, None)]
        else:
            raise FileNotFoundError(f"no such file or folder: {raw}")
        for source, root in found:
            if source.resolve() in seen:
                continue
            seen.add(source.resolve())
            display = _display(source, base)
            jobs.append(Job(source, module_path(source, out_dir, root), display))
    return jobs


def _display(source: Path, base: Path) -> str:
    try:
        return source.relative_to(base).as_posix()
    except ValueError:
        return str(source)


def header_label(source: Path, module_dir: Path) -> str:
    """The source as the generated header names it: relative to the module."""
    rel = os.path.relpath(os.path.abspath(source), os.path.abspath(module_dir))
    return rel.replace(os.sep, "/")


def compile_job(job: Job, strict: bool = False, limits: Limits = DEFAULT_LIMITS):
    """Compile one job; never raises for problems in the kd source."""
    from ..compiler import compile_text
    from ..diagnostics import KdError
    from ..syntax import read_source

    try:
        text = read_source(job.source, job.display, limits)
    except KdError as err:
        return Outcome(job, None, err.diagnostics, {}, True)
    result = compile_text(text, job.display, job.source, header_label(job.source, job.target.parent), limits)
    sources = result.check.program.sources if result.check is not None else {job.display: text}
    failed = not result.ok or (strict and bool(result.diagnostics))
    return Outcome(job, result.text if not failed else None, list(result.diagnostics), sources, failed)


def compile_jobs(jobs: Iterable, strict: bool = False, limits: Limits = DEFAULT_LIMITS) -> list:
    """Compile every job (all of them, so one run reports every problem)."""
    return [compile_job(job, strict, limits) for job in jobs]


def render_outcome(outcome: Outcome, fmt: str = "human") -> str:
    """The diagnostics of OUTCOME as `kdsl` prints them ('' when none)."""
    from ..diagnostics import render

    return render(outcome.diagnostics, fmt, outcome.sources) if outcome.diagnostics else ""


def report(outcomes: Iterable, stream: Optional[TextIO] = None, fmt: str = "human") -> int:
    """Print the diagnostics of OUTCOMES; return how many outcomes failed."""
    stream = stream if stream is not None else sys.stderr
    failed = 0
    for outcome in outcomes:
        shown = render_outcome(outcome, fmt)
        if shown:
            print(shown, file=stream)
        failed += outcome.failed
    return failed


def require_success(outcomes: list, what: str) -> None:
    """Print the diagnostics; raise KdBuildError when any outcome failed."""
    failed = report(outcomes)
    if failed:
        raise KdBuildError(f"kdsl: {failed} .kd file(s) failed; {what} stops (see the diagnostics above)")
