"""The `kdsl` command line.

Exit status: 0 success; 1 errors in the input (or stale output under
`compile --check`); 2 wrong usage of the command line, or an internal error.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from dataclasses import replace
from pathlib import Path
from typing import Optional

from . import __version__
from .limits import DEFAULT_LIMITS, MAXIMA, Limits

EXIT_OK, EXIT_INPUT, EXIT_USAGE = 0, 1, 2

_LIMIT_FLAGS = {
    "max_file_size": ("max_file_bytes", "largest .kd file, in bytes"),
    "max_depth": ("max_depth", "deepest nesting of expressions and statements"),
    "max_layers": ("max_layers", "most layer applications in one model"),
    "max_iterations": ("max_iterations", "most iterations of one `for` loop"),
    "max_steps": ("max_steps", "most evaluation steps in all"),
    "max_sequence": ("max_sequence", "longest constant list, tuple or string"),
    "max_int_bits": ("max_int_bits", "largest constant integer, in bits"),
}


class UsageError(Exception):
    """Wrong use of the command line (exit status 2)."""


# ------------------------------------------------------------------ parsing


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=("human", "json", "github"), default="human",
                        help="how diagnostics are printed (default: human)")
    parser.add_argument("--strict", action="store_true", help="treat warnings as errors")
    parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                        help="a model parameter's value, a kd constant (repeatable)")
    parser.add_argument("--debug", action="store_true", help="show the traceback of an internal error")
    group = parser.add_argument_group("limits")
    for flag, (field, text) in _LIMIT_FLAGS.items():
        group.add_argument(f"--{flag.replace('_', '-')}", type=int, metavar="N",
                           help=f"{text} (default {getattr(DEFAULT_LIMITS, field):,})")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kdsl", description="Compile kd neural-network graphs to Keras 3 Python.")
    parser.add_argument("--version", action="version", version=f"kdsl {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    compile_ = commands.add_parser("compile", help="write NAME.py for each .kd file")
    compile_.add_argument("paths", nargs="+", metavar="FILE|DIR", help=".kd files, or folders to search for them")
    compile_.add_argument("-o", "--output", metavar="DIR", help="write the modules into DIR")
    mode = compile_.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="write nothing; exit 1 where an output is missing or stale")
    mode.add_argument("--stdout", action="store_true", help="print the module instead of writing it")
    compile_.add_argument("--force", action="store_true", help="overwrite files that kdsl did not generate")
    _add_common(compile_)

    check = commands.add_parser("check", help="parse and check only")
    check.add_argument("paths", nargs="+", metavar="FILE|DIR")
    _add_common(check)

    summary = commands.add_parser("summary", help="the layer table of each model, like model.summary()")
    summary.add_argument("paths", nargs=1, metavar="FILE")
    summary.add_argument("--model", metavar="NAME", help="only this model")
    _add_common(summary)

    from .fmt.command import add_arguments as add_fmt_arguments

    add_fmt_arguments(commands.add_parser("fmt", help="rewrite kd sources in the canonical layout"))

    from .importer.command import add_arguments as add_import_arguments

    add_import_arguments(commands.add_parser("import", help="kd source for an existing Keras model"))
    return parser


def _limits(args) -> Limits:
    values = {}
    for flag, (field, _) in _LIMIT_FLAGS.items():
        value = getattr(args, flag, None)
        if value is not None:
            most = MAXIMA[field]
            if not 0 < value <= most:
                raise UsageError(f"--{flag.replace('_', '-')} must be from 1 to {most:,}; received {value:,}")
            values[field] = value
    return replace(DEFAULT_LIMITS, **values)


def _params(args) -> dict:
    """--param NAME=VALUE pairs, each VALUE a kd constant."""
    from .diagnostics import KdError
    from .check.evaluator import evaluate_constant
    from .diagnostics import SourceError
    from .syntax.parser import parse_value

    out = {}
    for item in args.param:
        name, sep, text = item.partition("=")
        if not sep or not name.strip().isidentifier():
            raise UsageError(f"--param takes NAME=VALUE, e.g. --param \"input_shape=(32, 32, 3)\"; received {item!r}")
        try:
            out[name.strip()] = evaluate_constant(parse_value(text, f"--param {name}"))
        except KdError as err:
            raise UsageError(f"--param {name}: {err.diagnostics[0].message}") from None
        except SourceError as err:
            raise UsageError(f"--param {name}: {err.message}") from None
    return out


def _check_parameter_names(params: dict, sources: list, limits: Limits) -> None:
    """Refuse a --param that no model of the files has (a misspelt name
    would silently leave the default in place)."""
    if not params:
        return
    from .diagnostics import KdError, suggest
    from .syntax import parse, read_source
    from .syntax.tree import ModelDef

    known = set()
    for path, _ in sources:
        try:
            module = parse(read_source(path, str(path), limits), str(path), limits)
        except (KdError, OSError):
            return  # the command reports the file's problems itself
        known |= {p.name for item in module.items if isinstance(item, ModelDef) for p in item.params or []}
    for name in params:
        if name not in known:
            hint = suggest(name, sorted(known))
            raise UsageError(f"--param {name}: no model has a parameter `{name}`" + (f" ({hint})" if hint else ""))


def _sources(paths: list) -> list:
    """The .kd files named, folders searched recursively, in a stable order."""
    found = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            # Only files that really are kd files: a link `x.kd -> secret` is left alone.
            found.extend((p, path) for p in sorted(path.rglob("*.kd")) if p.is_file() and p.resolve().suffix == ".kd")
        elif path.is_file():
            found.append((path, None))
        else:
            raise UsageError(f"no such file or folder: {raw}")
    if not found:
        raise UsageError("no .kd files found")
    return found


# ---------------------------------------------------------------- printing


class _Printer:
    """Prints diagnostics in the chosen format; counts what it printed.
    Human diagnostics go to stderr, json and github ones to stdout, unless
    stdout carries something else (`compile --stdout`)."""

    def __init__(self, fmt: str, strict: bool, stdout_taken: bool = False):
        self.fmt = fmt
        self.strict = strict
        self.stdout_taken = stdout_taken
        self.failed = False

    def show(self, diagnostics: list, sources: dict) -> None:
        from .diagnostics import render

        if not diagnostics:
            return
        if any(d.is_error for d in diagnostics) or (self.strict and diagnostics):
            self.failed = True
        stream = sys.stdout if self.fmt in ("json", "github") and not self.stdout_taken else sys.stderr
        print(render(diagnostics, self.fmt, sources), file=stream)

    def fails(self, diagnostics: list) -> bool:
        return any(d.is_error for d in diagnostics) or (self.strict and bool(diagnostics))


def _read(path: Path, limits: Limits, printer: _Printer):
    """The text of a source file, or None after printing why it cannot be read."""
    from .diagnostics import KdError
    from .syntax import read_source

    try:
        return read_source(path, str(path), limits)
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
    except KdError as err:
        printer.show(err.diagnostics, {})
        return None


# ---------------------------------------------------------------- commands


def _note(message: str) -> None:
    print(f"kdsl: {message}", file=sys.stderr)


def cmd_check(args) -> int:
    from .compiler import check_text

    limits, params = _limits(args), _params(args)
    printer = _Printer(args.format, args.strict)
    sources = _sources(args.paths)
    _check_parameter_names(params, sources, limits)
    for path, _ in sources:
        text = _read(path, limits, printer)
        if text is None:
            continue
        result = check_text(text, str(path), path, params, limits)
        printer.show(result.diagnostics, _sources_of(result, path, text))
    return EXIT_INPUT if printer.failed else EXIT_OK


def _sources_of(result, path: Path, text: str) -> dict:
    if result is not None and getattr(result, "program", None) is not None:
        return result.program.sources
    return {str(path): text}


def _target(path: Path, root: Optional[Path], out: Optional[Path]) -> Path:
    from .compiler import output_path

    if out is None:
        return output_path(path)
    if root is not None:
        relative = path.parent.relative_to(root)
        return output_path(path, out / relative)
    return output_path(path, out)


def cmd_compile(args) -> int:
    from .compiler import compile_text, relative_label

    limits, params = _limits(args), _params(args)
    printer = _Printer(args.format, args.strict, stdout_taken=args.stdout)
    sources = _sources(args.paths)
    _check_parameter_names(params, sources, limits)
    if args.stdout and len(sources) != 1:
        raise UsageError("--stdout takes exactly one .kd file")
    out = Path(args.output) if args.output else None
    if not args.stdout:
        _refuse_shared_targets(sources, out)
    stale = False
    for path, root in sources:
        text = _read(path, limits, printer)
        if text is None:
            continue
        target = _target(path, root, out)
        result = compile_text(text, str(path), path, relative_label(path, target.parent), limits, params)
        printer.show(result.diagnostics, _sources_of(result.check, path, text))
        if not result.ok or printer.fails(result.diagnostics):
            continue
        if args.stdout:
            sys.stdout.write(result.text)
        elif args.check:
            stale |= _report_stale(target, result.text)
        else:
            _write(target, result.text, args.force, printer)
    if printer.failed or stale:
        return EXIT_INPUT
    return EXIT_OK


def _refuse_shared_targets(sources: list, out: Optional[Path]) -> None:
    """Two sources that would write the same module: refuse before anything
    is written (the second would silently replace the first)."""
    seen: dict = {}
    for path, root in sources:
        target = _target(path, root, out).resolve()
        if target in seen:
            raise UsageError(f"{seen[target]} and {path} would both be compiled to {_target(path, root, out)}; "
                             "compile them into different folders (-o)")
        seen[target] = path


def _report_stale(target: Path, text: str) -> bool:
    try:
        current = target.read_text(encoding="utf-8")
    except FileNotFoundError:
        _note(f"{target} is missing")
        return True
    except (OSError, UnicodeDecodeError):
        _note(f"{target} cannot be read")
        return True
    if current != text:
        _note(f"{target} is out of date")
        return True
    return False


def _write(target: Path, text: str, force: bool, printer: _Printer) -> None:
    from .files import atomic_write, is_generated

    try:
        foreign = target.exists() and not force and not is_generated(target)
    except OSError as exc:
        _note(f"error: cannot read {target}: {exc.strerror}; not overwriting it")
        printer.failed = True
        return
    if foreign:
        _note(f"error: {target} exists and was not generated by kdsl; not overwriting it (use --force)")
        printer.failed = True
        return
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists() and target.read_text(encoding="utf-8", errors="replace") == text:
            _note(f"{target} is up to date")
            return
        atomic_write(target, text)
    except OSError as exc:
        _note(f"error: cannot write {target}: {exc.strerror}")
        printer.failed = True
        return
    _note(f"wrote {target}")


def cmd_summary(args) -> int:
    from .compiler import check_text
    from .summary import render_summaries

    limits, params = _limits(args), _params(args)
    printer = _Printer(args.format, args.strict)
    sources = _sources(args.paths)
    _check_parameter_names(params, sources, limits)
    (path, _), = sources
    text = _read(path, limits, printer)
    if text is None:
        return EXIT_INPUT
    result = check_text(text, str(path), path, params, limits)
    printer.show(result.diagnostics, _sources_of(result, path, text))
    if args.model is not None and args.model not in result.graphs and args.model not in result.skipped:
        raise UsageError(f"no model named {args.model!r} in {path}")
    if printer.failed:
        return EXIT_INPUT
    print(render_summaries(result, args.model), end="")
    return EXIT_OK


def cmd_fmt(args) -> int:
    from .fmt.command import run

    return run(args)


COMMANDS = {"compile": cmd_compile, "check": cmd_check, "summary": cmd_summary, "fmt": cmd_fmt}


def cmd_import(args) -> int:
    from .importer.command import run

    return run(args)


COMMANDS["import"] = cmd_import


def main(argv: Optional[list] = None) -> int:
    """Run the kdsl command line; returns the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse's own usage errors and --version
        return int(exc.code or 0) and EXIT_USAGE
    try:
        return COMMANDS[args.command](args)
    except UsageError as err:
        print(f"kdsl: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("kdsl: interrupted", file=sys.stderr)
        return 130
    except Exception:  # a bug in kdsl, not in the input
        print("internal error in kdsl, please report", file=sys.stderr)
        if args.debug or os.environ.get("KDSL_DEBUG"):
            traceback.print_exc()
        return EXIT_USAGE


def run() -> None:
    """The console-script entry point."""
    sys.exit(main())
