"""Syntax-error recovery: every syntax error of a file at once, and a tree of
the statements that did parse, so they are still checked.

A statement-level resynchronisation: on an error, the statement holding it
(the text from the separator before it to the separator after it, at the
same body depth, found on the layout post-lexer's token stream) is blanked
out — replaced by spaces, newlines kept, so every position stays where it
was — and the file is parsed again, up to MAX_ERRORS times.  Special
cases: an unclosed bracket ends its statement at the end of its line, an
unterminated string at the end of its line, and bodies still open at the
end of the file are closed.  The names a broken statement seemed to bind
(`a, b = <broken>`) are recorded, so later uses of them raise no follow-on
"undefined name".
"""

from __future__ import annotations

from ..records import record
from typing import Callable, Optional

from ..span import Span

MAX_ERRORS = 25


@record(frozen=True, slots=True)
class Failure:
    """One failed parse: its diagnostic, and what recovery needs to know."""

    diagnostic: object  # diagnostics.Diagnostic
    position: int  # offset of the offending token (len(text) at the end)
    at_end: bool = False  # the parser wanted more text
    unclosed: Optional[int] = None  # offset of a bracket left open before the error's line
    string: bool = False  # an unterminated string starts at POSITION
    single: bool = False  # just the character at POSITION is wrong


@record(frozen=True, slots=True)
class Broken:
    """A region blanked out by recovery, and the names it seemed to bind."""

    span: Span
    targets: tuple


def recover(text: str, attempt: Callable, tokens: Callable) -> tuple:
    """Parse TEXT with ATTEMPT (text -> result, or raises SyntaxFailure),
    blanking broken statements until it succeeds.  TOKENS(text) lists the
    layout tokens of a text (as far as they can be lexed).  Returns
    (result or None, [diagnostics], [Broken])."""
    diagnostics, broken = [], []
    current = text
    for _ in range(MAX_ERRORS):
        try:
            return attempt(current), diagnostics, broken
        except SyntaxFailure as failure:
            diagnostics.append(failure.info.diagnostic)
            repaired = _repair(current, failure.info, tokens, broken)
            if repaired == current:  # nothing left to blank: give up here
                return None, diagnostics, broken
            current = repaired
    return None, diagnostics, broken


class SyntaxFailure(Exception):
    """Raised by a parse attempt; carries a Failure."""

    def __init__(self, info: Failure):
        super().__init__(info.diagnostic)
        self.info = info


def _blank(text: str, start: int, end: int) -> str:
    return text[:start] + "".join(ch if ch == "\n" else " " for ch in text[start:end]) + text[end:]


def _line_end(text: str, position: int) -> int:
    end = text.find("\n", position)
    return len(text) if end < 0 else end


def _repair(text: str, info: Failure, tokens: Callable, broken: list) -> str:
    """TEXT with the statement of the failure blanked out (or closed)."""
    if info.string or info.single:
        # The bad character (or the rest of the line after an unterminated
        # quote) first, so the rest lexes and the statement is found.
        end = _line_end(text, info.position) if info.string else info.position + 1
        text = _blank(text, info.position, end)
    toks = tokens(text)
    if info.at_end:
        depth = _depth_at(toks, len(text))
        if depth > 0:
            return text + "\n}" * depth  # bodies left open at the end of the file
    anchor = info.unclosed if info.unclosed is not None else info.position
    start, end = _statement(toks, anchor, len(text))
    while start < end and text[start] in " \t\n":
        start += 1
    if info.unclosed is not None:
        closing = closing_bracket(text, info.unclosed)
        if closing is None:  # never closed: the statement ends with its line
            end = min(max(end, info.position), _line_end(text, max(anchor, min(info.position, _line_end(text, anchor)))))
        else:  # closed later: the statement runs to the end of that line at least
            end = max(min(end, _line_end(text, closing)), _line_end(text, closing))
    if end <= start:
        end = min(len(text), max(info.position + 1, start + 1))
    broken.append(Broken(_span(text, start, end), _targets([t for t in toks if start <= t.start_pos < end])))
    return _blank(text, start, end)


_PAIRS = {"(": ")", "[": "]", "{": "}"}


def closing_bracket(text: str, opener: int) -> "int | None":
    """The offset of the bracket that closes the one at OPENER, read on the
    raw text (strings and comments skipped), or None when it is never
    closed (or a bracket of another kind closes first)."""
    stack = []
    i, size = opener, len(text)
    while i < size:
        ch = text[i]
        if ch in "\"'":
            end = text.find("\n", i)
            j = i + 1
            while j < size and text[j] not in (ch, "\n"):
                j += 2 if text[j] == "\\" else 1
            i = j + 1 if j < size and text[j] == ch else (size if end < 0 else end)
            continue
        if ch == "#":
            end = text.find("\n", i)
            i = size if end < 0 else end
            continue
        if ch in _PAIRS:
            stack.append(_PAIRS[ch])
        elif ch in ")]}":
            if not stack or stack.pop() != ch:
                return None
            if not stack:
                return i
        i += 1
    return None


def _depth_at(toks: list, position: int) -> int:
    depth = 0
    for tok in toks:
        if tok.start_pos >= position:
            break
        if tok.type == "LBODY":
            depth += 1
        elif tok.type == "RBODY":
            depth -= 1
    return max(depth, 0)


def _statement(toks: list, position: int, size: int) -> tuple:
    """(start, end) offsets of the statement holding POSITION: from just
    after the separator (or `{`) before it, at the same body depth, to the
    separator (or `}`) after it."""
    depth, starts = 0, {0: 0}
    index = 0
    for index, tok in enumerate(toks):
        if tok.start_pos >= position:
            break
        if tok.type == "LBODY":
            depth += 1
            starts[depth] = tok.end_pos
        elif tok.type == "RBODY":
            depth = max(depth - 1, 0)
        elif tok.type == "_SEP":
            starts[depth] = tok.end_pos
    else:
        index = len(toks)
    start = starts.get(depth, 0)
    level = depth
    for tok in toks[index:]:
        if tok.type == "LBODY":
            level += 1
        elif tok.type == "RBODY":
            if level == depth:
                return start, tok.start_pos
            level -= 1
        elif tok.type == "_SEP" and level == depth:
            return start, tok.start_pos
    return start, size


def _targets(toks: list) -> tuple:
    """The names a statement binds, read from its first tokens:
    `a, b = ...`, `output a = ...`, `a: (...) = ...`."""
    names = []
    toks = toks[1:] if toks and toks[0].type == "OUTPUT" else toks
    for tok in toks:
        if tok.type == "NAME":
            names.append(tok.value)
        elif tok.type == "COMMA":
            continue
        elif tok.type in ("EQUAL", "COLON"):
            return tuple(names)
        else:
            break
    return ()


def _span(text: str, start: int, end: int) -> Span:
    line = text.count("\n", 0, start) + 1
    col = start - (text.rfind("\n", 0, start) + 1) + 1
    end_line = text.count("\n", 0, end) + 1
    end_col = end - (text.rfind("\n", 0, end) + 1) + 1
    return Span(line, col, end_line, end_col, start, end)
