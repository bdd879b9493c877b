"""The `kdsl` command line.

Exit status: 0 success; 1 errors in the input (or stale output under
`compile --check`); 2 wrong usage of the command line, or an internal error.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
from .records import replace
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
    "max_pattern_length": ("max_pattern_length", "longest layout pattern, in characters"),
}


class UsageError(Exception):
    """Wrong use of the command line (exit status 2)."""


# ------------------------------------------------------------------ parsing


def _add_common(parser: argparse.ArgumentParser, formats: Optional[tuple] = None, format_help: str = "") -> None:
    """The options every checking command takes. FORMATS (choices, the
    first the default) replaces what `--format` chooses, for commands whose
    output is not diagnostics; their diagnostics are then human ones."""
    if formats is None:
        parser.add_argument("--format", choices=("human", "json", "github"), default="human",
                            help="how diagnostics are printed (default: human)")
    else:
        parser.add_argument("--format", choices=formats, default=formats[0], help=f"{format_help} (default: {formats[0]})")
    parser.add_argument("--strict", action="store_true", help="treat warnings as errors")
    parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                        help="a model parameter's value, a kd constant (repeatable)")
    parser.add_argument("--debug", action="store_true", help="show the traceback of an internal error")
    group = parser.add_argument_group("limits")
    for flag, (field, text) in _LIMIT_FLAGS.items():
        group.add_argument(f"--{flag.replace('_', '-')}", type=int, metavar="N",
                           help=f"{text} (default {getattr(DEFAULT_LIMITS, field):,})")


def _compile_arguments(compile_) -> None:
    compile_.add_argument("paths", nargs="+", metavar="FILE|DIR", help=".kd files, or folders to search for them")
    compile_.add_argument("-o", "--output", metavar="DIR", help="write the modules into DIR")
    mode = compile_.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="write nothing; exit 1 where an output is missing or stale")
    mode.add_argument("--stdout", action="store_true", help="print the module instead of writing it")
    compile_.add_argument("--force", action="store_true", help="overwrite files that kdsl did not generate")
    _add_common(compile_)


def _check_arguments(check) -> None:
    check.add_argument("paths", nargs="+", metavar="FILE|DIR")
    _add_common(check)


def _summary_arguments(summary) -> None:
    summary.add_argument("paths", nargs=1, metavar="FILE")
    summary.add_argument("--model", metavar="NAME", help="only this model")
    summary.add_argument("--no-compute", action="store_true", help="leave out the MACs column and the compute and memory lines")
    _add_common(summary, ("human", "json", "github"), "human, github: the table, diagnostics so printed; "
                "json: the summary document of docs/summary-json.md, diagnostics as JSON on stderr")


def _graph_arguments(graph) -> None:
    from .graphview import FORMATS as GRAPH_FORMATS

    graph.add_argument("paths", nargs=1, metavar="FILE")
    graph.add_argument("--model", metavar="NAME", help="the model to draw (default: the file's first)")
    graph.add_argument("-o", "--output", metavar="OUT", help="write the picture to OUT instead of printing it")
    graph.add_argument("--expand", action="store_true", help="open nested models and applications")
    _add_common(graph, GRAPH_FORMATS, "the picture: svg, html (one self-contained page), dot (Graphviz) or mermaid")


def _diff_arguments(diff) -> None:
    diff.add_argument("paths", nargs="+", metavar="OLD.kd NEW.kd",
                      help="the two sources; or the 7 arguments git gives a diff driver")
    diff.add_argument("--model", metavar="NAME", help="only this model")
    _add_common(diff, ("text", "json"), "the report: text, or the JSON of docs/diff.md")


def _fmt_arguments(fmt) -> None:
    from .fmt.command import add_arguments

    add_arguments(fmt)


def _import_arguments(sub) -> None:
    from .importer.command import add_arguments

    add_arguments(sub)


# Each command: its help line and what adds its options.
SUBCOMMANDS = {
    "compile": ("write NAME.py for each .kd file", _compile_arguments),
    "check": ("parse and check only", _check_arguments),
    "summary": ("the layer table of each model, like model.summary()", _summary_arguments),
    "graph": ("a picture of a model's graph (no Keras, no Graphviz)", _graph_arguments),
    "diff": ("what changed between two architectures (exit 1 when they differ)", _diff_arguments),
    "fmt": ("rewrite kd sources in the canonical layout", _fmt_arguments),
    "import": ("kd source for an existing Keras model", _import_arguments),
    "lsp": ("the language server, on standard input and output (needs keras-kdsl[lsp])", None),
}


def build_parser(argv: Optional[list] = None) -> argparse.ArgumentParser:
    """The command line's parser.  Given the arguments, only the command
    they name gets its options (building all of them costs more than a
    one-layer check); `kdsl --help` and mistakes get every command."""
    parser = argparse.ArgumentParser(prog="kdsl", description="Compile kd neural-network graphs to Keras 3 Python.")
    parser.add_argument("--version", action="version", version=f"kdsl {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    wanted = argv[0] if argv and argv[0] in SUBCOMMANDS else None
    for name, (text, add_arguments) in SUBCOMMANDS.items():
        if wanted is not None and name != wanted:
            continue
        sub = commands.add_parser(name, help=text)
        if add_arguments is not None:
            add_arguments(sub)
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
        elif path.exists():  # a FIFO, a socket, a device: reading it might never end
            raise UsageError(f"not a regular file: {raw}")
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
    for path, _ in _each_file(sources):
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
    for path, root in _each_file(sources):
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


def _checked(args, printer: _Printer, path: Path, text: Optional[str] = None, display: Optional[str] = None,
             require_model: bool = True):
    """The check result of one source (TEXT, or read from PATH), its
    diagnostics printed; None when it has errors. DISPLAY names it in
    messages (default: PATH). REQUIRE_MODEL: a --model the file does not
    have is a usage error."""
    from .compiler import check_text

    limits, params = _limits(args), _params(args)
    if text is None:
        _check_parameter_names(params, [(path, None)], limits)
        text = _read(path, limits, printer)
        if text is None:
            return None
    label = display or str(path)
    result = check_text(text, label, path, params, limits)
    printer.show(result.diagnostics, _sources_of(result, Path(label), text))
    model = getattr(args, "model", None)
    if require_model and model is not None and model not in result.graphs and model not in result.skipped:
        raise UsageError(f"no model named {model!r} in {label}")
    return None if printer.failed else result


def cmd_summary(args) -> int:
    from .summary import render_summaries, summary_document

    printer = _Printer(args.format, args.strict, stdout_taken=args.format == "json")
    (path, _), = _sources(args.paths)
    result = _checked(args, printer, path)
    if result is None:
        return EXIT_INPUT
    if args.format == "json":
        print(_json(summary_document(result, str(path), args.model)))
    else:
        print(render_summaries(result, args.model, compute=not args.no_compute), end="")
    return EXIT_OK


def _json(document) -> str:
    from .summary import to_json

    return to_json(document)


def cmd_graph(args) -> int:
    from .files import atomic_write
    from .graphview import render
    from .summary import summary_document

    printer = _Printer("human", args.strict)
    (path, _), = _sources(args.paths)
    result = _checked(args, printer, path)
    if result is None:
        return EXIT_INPUT
    if not result.graphs or (args.model is not None and args.model not in result.graphs):
        what = f"model {args.model!r} was not evaluated" if args.model else f"no model of {path} was evaluated"
        _note(f"error: {what} (see above); nothing to draw")
        return EXIT_INPUT
    document = summary_document(result, str(path), args.model)
    picture = render(document, args.model, args.format, expand=args.expand)
    if args.output is None:
        sys.stdout.write(picture)
        return EXIT_OK
    try:
        atomic_write(Path(args.output), picture)
    except OSError as exc:
        raise UsageError(f"cannot write {args.output}: {exc.strerror}") from None
    _note(f"wrote {args.output}")
    return EXIT_OK


def cmd_diff(args) -> int:
    from .diff import compare, render_text
    from .summary import summary_document

    git = _git_diff_arguments(args.paths)
    if git is None and len(args.paths) != 2:
        raise UsageError("diff takes OLD.kd NEW.kd (or the 7 arguments git passes a diff driver)")
    if git is not None and git.get("unmerged"):
        print(f"* Unmerged path {git['path']}")
        return EXIT_OK
    printer = _Printer("human", args.strict)
    if git is None:
        for raw in args.paths:
            _sources([raw])  # each a regular file (a FIFO would never be read to its end)
        sides = [(Path(p), None, p) for p in args.paths]
        results = [_checked(args, printer, file, require_model=False) for file, _, _ in sides]
    else:  # imports are found beside the file in the work tree, not beside git's temporary copy
        sides = git["sides"]
        results = [_checked(args, printer, Path(git["path"]), text, label, False) for _, text, label in sides]
    if any(r is None for r in results):
        return _diff_failed(git, sides)
    if args.model is not None and all(args.model not in r.graphs and args.model not in r.skipped for r in results):
        raise UsageError(f"no model named {args.model!r} in either file")
    documents = [summary_document(r, label, args.model) for r, (_, _, label) in zip(results, sides)]
    report = compare(documents[0], documents[1], args.model)
    unknown = [s["name"] for d in documents for s in d["skipped"]]
    for name in unknown:
        _note(f"error: model {name!r} could not be evaluated, so it was not compared")
    sys.stdout.write(_json(report) + "\n" if args.format == "json" else render_text(report))
    if git is not None:
        return EXIT_OK  # git stops at an external diff driver's non-zero exit
    if unknown:
        return EXIT_USAGE
    return EXIT_OK if report["same"] else EXIT_INPUT


def _git_diff_arguments(paths: list):
    """The sides of a git external-diff call (`path old-file old-hex old-mode
    new-file new-hex new-mode`, or `path` alone for an unmerged path), None
    for an ordinary OLD NEW call. Each side is (file, text, label); a side
    git gives as /dev/null (an added or deleted file) has no models."""
    import re

    if len(paths) == 1 and "GIT_DIFF_PATH_TOTAL" in os.environ:  # git sets it for every path it passes
        return {"path": paths[0], "unmerged": True}
    if len(paths) != 7:
        return None
    path, old_file, old_hex, old_mode, new_file, new_hex, new_mode = paths
    hexes = all(re.fullmatch(r"[0-9a-f]{7,64}|\.", h) for h in (old_hex, new_hex))
    modes = all(re.fullmatch(r"[0-7]{6}|\.", m) for m in (old_mode, new_mode))
    if not (hexes and modes):
        return None
    sides = []
    for file, label in ((old_file, f"a/{path}"), (new_file, f"b/{path}")):
        try:
            text = "" if file == os.devnull else Path(file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"cannot read {file}: {exc}") from None
        sides.append((Path(file), text, label))
    return {"path": path, "sides": sides}


def _diff_failed(git, sides) -> int:
    """A side has errors: exit 2 (their diagnostics are printed); under git,
    show the sources' text diff instead, as git would have, and exit 0."""
    if git is None:
        return EXIT_USAGE
    import difflib

    _note("a side has errors (above): showing the text diff")
    (_, old, old_label), (_, new, new_label) = sides
    sys.stdout.writelines(difflib.unified_diff(old.splitlines(True), new.splitlines(True), old_label, new_label))
    return EXIT_OK


def cmd_fmt(args) -> int:
    from .fmt.command import run

    return run(args)


def cmd_lsp(args) -> int:
    from .lsp import main as serve

    return serve()


COMMANDS = {"compile": cmd_compile, "check": cmd_check, "summary": cmd_summary, "fmt": cmd_fmt,
            "graph": cmd_graph, "diff": cmd_diff, "lsp": cmd_lsp}


def cmd_import(args) -> int:
    from .importer.command import run

    return run(args)


COMMANDS["import"] = cmd_import


def main(argv: Optional[list] = None) -> int:
    """Run the kdsl command line; returns the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(argv)
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
        if getattr(args, "debug", False) or os.environ.get("KDSL_DEBUG"):
            import traceback  # only here: it costs a few ms of every start

            traceback.print_exc()
        return EXIT_USAGE


# Commands that check some files and end: they run without the cyclic
# collector, collecting only between files (`_each_file`).
ONE_SHOT = frozenset({"check", "compile", "summary", "graph"})


def _each_file(sources: list):
    """SOURCES, one by one; the cycles one file's check left are collected
    before the next file when the collector is off (a one-shot command)."""
    for index, source in enumerate(sources):
        if index and not gc.isenabled():
            gc.collect()
        yield source


def run() -> None:
    """The console-script entry point.

    The process ends without the interpreter's teardown: collecting
    and freeing the objects of a large check costs more than the check's
    own evaluation (0.5 s of a 20,000-layer file) and frees nothing the
    system would not.  Everything kdsl writes is closed by then; the
    standard streams are flushed here.
    """
    argv = sys.argv[1:]
    if argv and argv[0] in ONE_SHOT:
        # The collector only ever finds the cycles of a finished check, and
        # re-enabling it after a large one costs a pass over every object
        # the check made; one file's garbage goes with the process.
        gc.disable()
    status = main(argv)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (BrokenPipeError, OSError):  # a reader that went away, as `kdsl ... | head`
        status = status or 1
    os._exit(status)
