"""Diagnostics: problems in the user's source, and the one printer for them.

Every problem kdsl reports about a .kd file is a `Diagnostic` with a stable
code (see `dsl.codes`), a span, a message and an optional hint.  Internal
errors (bugs in kdsl) are ordinary Python exceptions and never become
diagnostics; the CLI reports them apart.
"""

from __future__ import annotations

import json
from .records import field, record
from typing import Iterable, Optional

from . import codes
from .span import Span


@record(frozen=True, slots=True)
class Related:
    """Another place in the source that explains a diagnostic."""

    message: str
    span: Span
    filename: str


@record(frozen=True, slots=True)
class Diagnostic:
    code: str
    message: str
    filename: str
    span: Span
    hint: Optional[str] = None
    related: tuple = ()

    @property
    def severity(self) -> str:
        return "warning" if codes.is_warning(self.code) else "error"

    @property
    def is_error(self) -> bool:
        return not codes.is_warning(self.code)

    def sort_key(self) -> tuple:
        return (self.filename, self.span.line, self.span.col, self.code)


class SourceError(Exception):
    """A problem in the user's source, found by any stage (never a bug in
    kdsl).  Stages raise it, or a subclass, and the stage that knows where
    the problem is turns it into a `Diagnostic`.  SPAN may be None while the
    place is not known yet (constant arithmetic, shape rules): the caller
    adds it with `at`."""

    def __init__(self, code: str, message: str, span: Optional[Span] = None, hint: Optional[str] = None,
                 related: tuple = ()):
        super().__init__(message)
        self.code, self.message, self.span, self.hint, self.related = code, message, span, hint, tuple(related)

    def at(self, span: Span) -> "SourceError":
        """The same problem, placed at SPAN."""
        return SourceError(self.code, self.message, span, self.hint, self.related)

    def diagnostic(self, filename: str, extra_related: tuple = ()) -> "Diagnostic":
        """The problem as a diagnostic of FILENAME."""
        return Diagnostic(self.code, self.message, filename, self.span, self.hint, self.related + tuple(extra_related))


def suggest(name: str, candidates, *more) -> Optional[str]:
    """A "did you mean" hint for a misspelt NAME, or None.  Later groups of
    candidates (MORE) are tried only when the earlier ones give nothing, so
    local names win over the long list of Keras names.

    >>> suggest("Conv2d", ["Conv2D", "Dense"])
    'did you mean `Conv2D`?'
    """
    for group in (candidates, *more):
        group = list(dict.fromkeys(c for c in group if isinstance(c, str)))
        import difflib  # loaded only when a name is misspelt

        close = difflib.get_close_matches(name, group, n=1, cutoff=0.6)
        if not close:
            lowered = {c.lower(): c for c in group}
            close = [lowered[name.lower()]] if name.lower() in lowered else []
        if close:
            return f"did you mean `{close[0]}`?"
    return None


class KdError(Exception):
    """Raised by a stage that cannot go on; carries what it found."""

    def __init__(self, diagnostics: Iterable[Diagnostic]):
        self.diagnostics = list(diagnostics)
        super().__init__("\n".join(d.message for d in self.diagnostics))


def _place(d: Diagnostic) -> tuple:
    return (d.filename, d.span.line, d.span.col, d.span.end_line, d.span.end_col, d.is_error)


@record(slots=True)
class Reporter:
    """Collects the diagnostics of a run so stages can go on after an error."""

    diagnostics: list = field(default_factory=list)
    places: set = field(default_factory=set)  # where an error or a warning was reported

    def add(self, diagnostic: Diagnostic) -> None:
        self.diagnostics.append(diagnostic)
        self.places.add(_place(diagnostic))

    def add_once(self, diagnostic: Diagnostic) -> bool:
        """Add DIAGNOSTIC unless an error (or a warning, for a warning) was
        reported at its very place already: a problem found by the static
        checks is not reported again, in other words, by the evaluator."""
        if _place(diagnostic) in self.places:
            return False
        self.add(diagnostic)
        return True

    def checkpoint(self) -> tuple:
        """A mark to `rollback` to (for work whose diagnostics are dropped)."""
        return len(self.diagnostics), set(self.places)

    def rollback(self, mark: tuple) -> None:
        """Forget what was reported after MARK."""
        count, places = mark
        del self.diagnostics[count:]
        self.places = places

    @property
    def has_errors(self) -> bool:
        return any(d.is_error for d in self.diagnostics)

    def sorted(self) -> list:
        return sorted(self.diagnostics, key=Diagnostic.sort_key)


# ------------------------------------------------------------------ printing


def _source_line(sources: dict, filename: str, line: int) -> Optional[str]:
    text = sources.get(filename)
    if text is None:
        return None
    lines = text.splitlines()
    return lines[line - 1] if 0 < line <= len(lines) else ""


def _caret(line_text: str, span: Span) -> str:
    """A run of ^ under the span on its first line (at least one)."""
    start = max(span.col - 1, 0)
    if span.end_line == span.line:
        end = max(span.end_col - 1, start + 1)
    else:
        end = max(len(line_text), start + 1)
    # Keep tabs so the caret lines up with the source line in a terminal.
    prefix = "".join("\t" if ch == "\t" else " " for ch in line_text[:start])
    return prefix + "^" * (end - start)


def _printable(line_text: str) -> str:
    """The source line with control characters made visible, so a hostile
    file cannot move the cursor or reorder the terminal's text."""
    return "".join(
        ch if ch == "\t" or ch.isprintable() else f"\\u{ord(ch):04x}" if ord(ch) <= 0xFFFF else f"\\U{ord(ch):08x}"
        for ch in line_text
    )


_WINDOW = 160  # the most characters of a source line a diagnostic shows


def _window(line_text: str, span: Span):
    """(shown text, span within it): a long line cut around the span."""
    if len(line_text) <= _WINDOW:
        return line_text, span
    start = max(0, min(span.col - 1 - _WINDOW // 2, len(line_text) - _WINDOW))
    shown = ("..." if start else "") + line_text[start:start + _WINDOW] + ("..." if start + _WINDOW < len(line_text) else "")
    shift = start - (3 if start else 0)
    end_col = span.end_col - shift if span.end_line == span.line else len(shown) + 1
    return shown, Span(span.line, span.col - shift, span.line, min(end_col, len(shown) + 1))


def format_human(d: Diagnostic, sources: dict) -> str:
    """`file:line:col: error[KD301]: message`, the source line, a caret run
    under the span, then the hint and related places.  Every piece of text
    that comes from a user (file names, names and strings quoted in
    messages) is printed with its control characters made visible, so no
    input can forge a diagnostic line or drive the terminal."""
    head = f"{_printable(d.filename)}:{d.span.line}:{d.span.col}: {d.severity}[{d.code}]: {_printable(d.message)}"
    parts = [head]
    line_text = _source_line(sources, d.filename, d.span.line)
    if line_text is not None:
        window, span = _window(line_text, d.span)
        shown = _printable(window)
        parts.append(f"    {shown}")
        if shown == window:
            parts.append(f"    {_caret(window, span)}")
    if d.hint:
        parts.append(f"  hint: {_printable(d.hint)}")
    for r in d.related:
        parts.append(f"  note: {_printable(r.filename)}:{r.span.line}:{r.span.col}: {_printable(r.message)}")
    return "\n".join(parts)


def as_json(d: Diagnostic) -> dict:
    """One diagnostic as a JSON-ready dict."""
    return {
        "file": d.filename,
        "line": d.span.line,
        "column": d.span.col,
        "end_line": d.span.end_line,
        "end_column": d.span.end_col,
        "severity": d.severity,
        "code": d.code,
        "message": d.message,
        "hint": d.hint,
        "related": [
            {"file": r.filename, "line": r.span.line, "column": r.span.col, "message": r.message}
            for r in d.related
        ],
    }


def _github_escape(text: str, *, prop: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


def format_github(d: Diagnostic) -> str:
    """A GitHub Actions workflow command that annotates the line."""
    message = d.message + (f" (hint: {d.hint})" if d.hint else "")
    props = ",".join(
        [
            f"file={_github_escape(d.filename, prop=True)}",
            f"line={d.span.line}",
            f"col={d.span.col}",
            f"endLine={d.span.end_line}",
            f"endColumn={d.span.end_col}",
            f"title={d.code}",
        ]
    )
    return f"::{d.severity} {props}::{_github_escape(f'{d.code}: {message}')}"


def render(diagnostics: Iterable[Diagnostic], fmt: str, sources: dict) -> str:
    """All diagnostics in one of the formats human, json or github."""
    ds = list(diagnostics)
    if fmt == "json":
        return "\n".join(json.dumps(as_json(d), ensure_ascii=True) for d in ds)
    if fmt == "github":
        return "\n".join(format_github(d) for d in ds)
    return "\n".join(format_human(d, sources) for d in ds)
