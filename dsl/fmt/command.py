"""`kdsl fmt FILE|DIR|-...`: rewrite kd sources in the canonical layout.

Files are rewritten in place, atomically, and only when their layout
changes; `--check` writes nothing and exits 1 when a file would change;
`--diff` prints what would change; `--stdout` prints the result; `-` reads
standard input and writes standard output.  A file that does not parse is
reported with its syntax errors and left as it is; output that fails the
safety check (`format_text`) is never written.

Exit status: 0 success; 1 a file would change (`--check`) or cannot be
formatted (syntax errors, unreadable); 2 wrong usage, a bad setting, or an
internal error.
"""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path
from typing import Optional

EXIT_OK, EXIT_INPUT, EXIT_USAGE = 0, 1, 2
STDIN = "-"


def add_arguments(parser) -> None:
    """The options of `kdsl fmt`, on its argparse subparser PARSER."""
    from .widths import DEFAULT_LINE_LENGTH, MAX_LINE_LENGTH, MIN_LINE_LENGTH

    parser.add_argument("paths", nargs="+", metavar="FILE|DIR|-",
                        help=".kd files, folders to search for them, or - for standard input")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 when a file would be reformatted")
    parser.add_argument("--diff", action="store_true", help="write nothing; print a unified diff of the changes")
    parser.add_argument("--stdout", action="store_true", help="print the formatted source instead of writing it")
    parser.add_argument("--line-length", type=int, metavar="N",
                        help=f"the line length to fit ({MIN_LINE_LENGTH} to {MAX_LINE_LENGTH}; default: "
                             f"[tool.kdsl] line-length in the nearest pyproject.toml, else {DEFAULT_LINE_LENGTH})")
    parser.add_argument("--format", choices=("human", "json", "github"), default="human",
                        help="how syntax errors are printed (default: human)")
    parser.add_argument("--debug", action="store_true", help="show what differed when the safety check fails")


class _Usage(Exception):
    """Wrong use of `kdsl fmt` (exit status 2)."""


def _note(message: str) -> None:
    print(f"kdsl: {message}", file=sys.stderr)


def _sources(paths: list) -> list:
    """(path or STDIN) for each source named, folders searched for .kd files."""
    found = []
    for raw in paths:
        if raw == STDIN:
            if STDIN in found:
                raise _Usage("- (standard input) may be given once")
            found.append(STDIN)
            continue
        path = Path(raw)
        if path.is_dir():
            found.extend(p for p in sorted(path.rglob("*.kd")) if p.is_file())
        elif path.is_file():
            found.append(path)
        elif path.exists():  # a FIFO, a socket, a device: reading it might never end
            raise _Usage(f"not a regular file: {raw}")
        else:
            raise _Usage(f"no such file or folder: {raw}")
    if not found:
        raise _Usage("no .kd files found")
    return found


def diff_text(before: str, after: str, label: str) -> str:
    """A unified diff from BEFORE to AFTER, both labelled LABEL."""
    import difflib  # only --diff needs it

    lines = difflib.unified_diff(
        before.splitlines(keepends=True), after.splitlines(keepends=True),
        f"{label} (original)", f"{label} (formatted)",
    )
    out = []
    for line in lines:
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)


class _Run:
    """One `kdsl fmt` run: its options, and what happened to each source."""

    def __init__(self, args):
        from .config import Settings
        from .printer import MAX_LINE_LENGTH, MIN_LINE_LENGTH

        self.args = args
        length = args.line_length
        if length is not None and not MIN_LINE_LENGTH <= length <= MAX_LINE_LENGTH:
            raise _Usage(f"--line-length must be from {MIN_LINE_LENGTH} to {MAX_LINE_LENGTH}, not {length}")
        if args.stdout and args.check:
            raise _Usage("--stdout and --check do not go together")
        self.settings = Settings()
        self.changed = self.unchanged = 0
        self.failed = False  # an input error
        self.internal = False  # a formatter bug: nothing written
        self.stdout_taken = args.stdout or args.diff

    def line_length(self, source) -> int:
        from .config import ConfigError
        from .printer import DEFAULT_LINE_LENGTH

        if self.args.line_length is not None:
            return self.args.line_length
        start = Path.cwd() if source == STDIN else source.parent
        try:
            found = self.settings.line_length(start)
        except ConfigError as err:
            raise _Usage(str(err)) from None
        return DEFAULT_LINE_LENGTH if found is None else found

    def read(self, source) -> Optional[str]:
        from ..diagnostics import KdError
        from ..syntax import decode_source

        label = "<stdin>" if source == STDIN else str(source)
        try:
            data = sys.stdin.buffer.read() if source == STDIN else source.read_bytes()
        except OSError as exc:
            _note(f"error: cannot read {label}: {exc.strerror}")
            self.failed = True
            return None
        try:
            return decode_source(data, label)
        except KdError as err:
            self.show(err.diagnostics, {})
            return None

    def show(self, diagnostics: list, sources: dict) -> None:
        from ..diagnostics import render

        self.failed = True
        to_stdout = self.args.format in ("json", "github") and not self.stdout_taken
        print(render(diagnostics, self.args.format, sources), file=sys.stdout if to_stdout else sys.stderr)

    def format(self, source) -> None:
        from ..diagnostics import KdError
        from .safety import BUG_MESSAGE, FormatterBug
        from .printer import format_text

        text = self.read(source)
        if text is None:
            return
        label = "<stdin>" if source == STDIN else str(source)
        try:
            output = format_text(text, label, self.line_length(source))
        except KdError as err:
            self.show(err.diagnostics, {label: text})
            return
        except FormatterBug as bug:
            _note(f"error: {label}: {BUG_MESSAGE}")
            if self.args.debug or os.environ.get("KDSL_DEBUG"):
                _note(f"  {bug.detail}")
            self.internal = True
            return
        self.emit(source, label, text, output)

    def emit(self, source, label: str, text: str, output: str) -> None:
        args = self.args
        changed = output != text
        if changed:
            self.changed += 1
        else:
            self.unchanged += 1
        if args.diff and changed:
            sys.stdout.write(diff_text(text, output, label))
        if args.check:
            if changed:
                _note(f"would reformat {label}")
            return
        if args.diff:
            return
        if args.stdout or source == STDIN:
            sys.stdout.write(output)
            return
        if changed:
            self.write(source, output)

    def write(self, path: Path, output: str) -> None:
        from ..files import atomic_write

        try:
            atomic_write(path, output)
        except OSError as exc:
            _note(f"error: cannot write {path}: {exc.strerror}")
            self.failed = True
            self.changed -= 1
            return
        _note(f"reformatted {path}")

    def summary(self, sources: list) -> None:
        if sources == [STDIN] or self.args.stdout:
            return
        would = self.args.check or self.args.diff

        def files(count: int) -> str:
            return f"{count} file{'' if count == 1 else 's'}"

        if would:
            _note(f"{files(self.changed)} would be reformatted, {files(self.unchanged)} would be left unchanged")
        else:
            _note(f"{files(self.changed)} reformatted, {files(self.unchanged)} left unchanged")

    def status(self) -> int:
        if self.internal:
            return EXIT_USAGE
        if self.failed or (self.args.check and self.changed):
            return EXIT_INPUT
        return EXIT_OK


def run(args) -> int:
    """Run `kdsl fmt` with ARGS (parsed by a parser set up with
    `add_arguments`); returns the exit status."""
    try:
        sources = _sources(args.paths)
        if args.stdout and len(sources) != 1:
            raise _Usage("--stdout takes exactly one .kd file")
        state = _Run(args)
        state.stdout_taken |= STDIN in sources and not args.check  # the result goes there
        for source in sources:
            state.format(source)
        state.summary(sources)
        return state.status()
    except _Usage as err:
        print(f"kdsl: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except Exception:  # a bug in kdsl
        print("internal error in kdsl, please report", file=sys.stderr)
        if args.debug or os.environ.get("KDSL_DEBUG"):
            traceback.print_exc()
        return EXIT_USAGE
