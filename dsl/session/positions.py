"""Positions as editors speak them: lines from 0 and columns in UTF-16 code
units (the Language Server Protocol's default), converted to and from kd's
spans (lines and columns from 1, in code points, with character offsets).

A character outside the Basic Multilingual Plane (an emoji in a comment) is
one code point but two UTF-16 units; everything before it on its line is
unaffected, everything after it shifts by one.
"""

from __future__ import annotations

import bisect
from ..records import record

from ..span import Span


@record(frozen=True, slots=True)
class Position:
    """A place between two characters: LINE from 0, CHARACTER in UTF-16 units from 0."""

    line: int
    character: int


@record(frozen=True, slots=True)
class Range:
    start: Position
    end: Position


def _units(text: str) -> int:
    """The length of TEXT in UTF-16 code units."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


class LineIndex:
    """Converts between character offsets and editor positions in one text."""

    def __init__(self, text: str):
        self.text = text
        starts = [0]
        find = text.find
        at = find("\n")
        while at != -1:
            starts.append(at + 1)
            at = find("\n", at + 1)
        self.starts = starts

    def _line_text(self, line: int) -> str:
        start = self.starts[line]
        end = self.starts[line + 1] - 1 if line + 1 < len(self.starts) else len(self.text)
        return self.text[start:end]

    def offset(self, position: Position) -> int:
        """The character offset of POSITION (clamped to its line and the text)."""
        if position.line < 0:
            return 0
        if position.line >= len(self.starts):
            return len(self.text)
        line_text = self._line_text(position.line)
        units = 0
        for index, ch in enumerate(line_text):
            if units >= position.character:
                return self.starts[position.line] + index
            units += 2 if ord(ch) > 0xFFFF else 1
        return self.starts[position.line] + len(line_text)

    def position(self, offset: int) -> Position:
        """The editor position of the character offset OFFSET."""
        offset = max(0, min(offset, len(self.text)))
        line = bisect.bisect_right(self.starts, offset) - 1
        return Position(line, _units(self.text[self.starts[line]:offset]))

    def range(self, span: Span) -> Range:
        """The editor range of SPAN (by its offsets when it has them)."""
        if span.end > span.start or (span.start, span.end) != (0, 0):
            return Range(self.position(span.start), self.position(span.end))
        return self.range_of_lines(span)

    def range_of_lines(self, span: Span) -> Range:
        """The editor range of a span known only by its lines and columns."""
        def at(line: int, col: int) -> Position:
            line0 = max(0, min(line - 1, len(self.starts) - 1))
            return Position(line0, _units(self._line_text(line0)[: max(0, col - 1)]))
        return Range(at(span.line, span.col), at(span.end_line, span.end_col))
