"""Where the cursor is, read from the text before it: inside which call,
at which argument, writing a keyword's string value, after `ops.`.

Completion and signature help run on half-typed text that does not parse,
so this reads tokens backwards on the text itself (strings and comments
skipped) rather than asking the tree.
"""

from __future__ import annotations

import re
from ..records import record
from typing import Optional

_WORD_BEFORE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_CALLEE_BEFORE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?)\s*\Z")
_KEYWORD_STRING = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*=\s*([\"'])([^\"'\\]*)\Z")
_DICT_STRING = re.compile(r"[\[{,:]\s*([\"'])([^\"'\\]*)\Z")
_OPS_PREFIX = re.compile(r"(?<![A-Za-z0-9_.])ops\.([A-Za-z0-9_]*)\Z")
# Most text read back from the cursor: a call's opening bracket is rarely further.
LOOKBACK = 4000


@record
class CallContext:
    """The innermost call whose brackets hold the cursor."""

    callee: str  # the name before `(` (`Conv2D`, `residual`, `ops.mean`)
    argument: int  # index of the argument being written (0-based, by commas)
    keywords: tuple  # keywords already written in this call
    current_keyword: Optional[str]  # the keyword whose value is being written, if any


@record
class CursorContext:
    word: str  # the identifier being typed (may be "")
    call: Optional[CallContext]
    string_of: Optional[str]  # writing a string value of this keyword (`padding="` -> "padding")
    in_string: bool  # inside a string literal
    string_prefix: str  # what is typed of that string
    ops_prefix: Optional[str]  # after `ops.`: what is typed of the op's name


def _strip_strings_and_comments(text: str) -> str:
    """TEXT with string contents and comments blanked (same length), so
    brackets inside them are not counted.  An unterminated string at the
    end is kept open."""
    out = list(text)
    i, quote = 0, None
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                out[i] = " "
                if i + 1 < len(text):
                    out[i + 1] = " "
                i += 2
                continue
            if ch == quote or ch == "\n":
                quote = None
            else:
                out[i] = " "
        elif ch in "\"'":
            quote = ch
        elif ch == "#":
            end = text.find("\n", i)
            end = len(text) if end == -1 else end
            for k in range(i, end):
                out[k] = " "
            i = end
            continue
        i += 1
    return "".join(out)


def _innermost_call(clean: str) -> Optional[CallContext]:
    depth = 0
    commas = 0
    for i in range(len(clean) - 1, -1, -1):
        ch = clean[i]
        if ch in ")]}":
            depth += 1
        elif ch in "([{":
            if depth == 0:
                if ch != "(":
                    return _innermost_call(clean[:i]) if ch == "[" else None
                match = _CALLEE_BEFORE.search(clean[:i])
                if match is None:
                    return None
                inside = clean[i + 1:]
                return CallContext(match.group(1), commas, _keywords_written(inside), _current_keyword(inside))
            depth -= 1
        elif ch == "," and depth == 0:
            commas += 1
    return None


def _top_level_pieces(inside: str) -> list:
    pieces, depth, start = [], 0, 0
    for i, ch in enumerate(inside):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            pieces.append(inside[start:i])
            start = i + 1
    pieces.append(inside[start:])
    return pieces


def _keywords_written(inside: str) -> tuple:
    found = []
    for piece in _top_level_pieces(inside):
        match = re.match(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*=(?!=)", piece)
        if match:
            found.append(match.group(1))
    return tuple(found)


def _current_keyword(inside: str) -> Optional[str]:
    last = _top_level_pieces(inside)[-1]
    match = re.match(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*=(?!=)", last)
    return match.group(1) if match else None


def cursor_context(text: str, offset: int) -> CursorContext:
    """What is being written at OFFSET in TEXT."""
    before = text[max(0, offset - LOOKBACK):offset]
    clean = _strip_strings_and_comments(before)
    in_string = _open_quote(before)
    word = ""
    if not in_string:
        match = _WORD_BEFORE.search(before)
        word = match.group(0) if match else ""
    call = _innermost_call(clean[: len(clean) - len(word)] if word else clean)
    string_of, prefix = None, ""
    if in_string:
        keyword = _KEYWORD_STRING.search(before)
        if keyword:
            string_of, prefix = keyword.group(1), keyword.group(3)
        else:
            element = _DICT_STRING.search(before)
            if element and call is not None and call.current_keyword:
                string_of, prefix = call.current_keyword, element.group(2)  # `metrics=["ac`
    ops = _OPS_PREFIX.search(before) if not in_string else None
    return CursorContext(word, call, string_of, in_string, prefix, ops.group(1) if ops else None)


def _open_quote(before: str) -> bool:
    """Whether the last line of BEFORE ends inside a string literal."""
    line = before[before.rfind("\n") + 1:]
    quote = None
    i = 0
    while i < len(line):
        ch = line[i]
        if quote:
            if ch == "\\":
                i += 2
                continue
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch == "#":
            return False
        i += 1
    return quote is not None
