"""Places in a source file: spans, with lines and columns counted from 1.

A leaf module: every stage (syntax, diagnostics, the checker, the editor
support) speaks in these.
"""

from __future__ import annotations

from .records import record


@record(frozen=True, slots=True)
class Span:
    """A region of a source file.  Lines and columns count from 1; the end is
    exclusive (end_col is the column just after the last character).
    `start` and `end` are character offsets into the text."""

    line: int
    col: int
    end_line: int
    end_col: int
    start: int = 0
    end: int = 0

    def to(self, other: "Span") -> "Span":
        """The span from the start of this one to the end of OTHER."""
        return Span(self.line, self.col, other.end_line, other.end_col, self.start, other.end)


def token_span(tok) -> Span:
    """The span of a lexer token (Lark's Token: its line, column, end and offsets)."""
    return Span(tok.line, tok.column, tok.end_line, tok.end_column, tok.start_pos, tok.end_pos)


NO_SPAN = Span(1, 1, 1, 1)
