"""String literals in double quotes unless that needs more escapes: black's
rule (`normalize_string_quotes`), for kd's strings, which have no prefixes
and no triple quotes."""

from __future__ import annotations

import re

_PATTERNS: dict = {}


def _patterns(orig: str, new: str) -> tuple:
    found = _PATTERNS.get(orig)
    if found is None:
        found = _PATTERNS[orig] = (
            re.compile(rf"(([^\\]|^)(\\\\)*){new}"),  # a NEW quote not escaped
            re.compile(rf"([^\\]|^)\\((?:\\\\)*){new}"),  # a NEW quote escaped
            re.compile(rf"([^\\]|^)\\((?:\\\\)*){orig}"),  # an ORIG quote escaped
        )
    return found


def _sub_twice(pattern: re.Pattern, replacement: str, text: str) -> str:
    # Matches overlap by one character (`([^\\]|^)`), so one pass misses
    # every other one of two adjacent quotes.
    return pattern.sub(replacement, pattern.sub(replacement, text))


def normalize_quotes(literal: str) -> str:
    """LITERAL (a kd string as written, quotes included) in double quotes,
    unless that needs more backslashes than it has; escapes of the other
    quote that are not needed are dropped.

    >>> normalize_quotes("'relu'")
    '"relu"'
    >>> normalize_quotes("'say \\"hi\\"'")
    '\\'say "hi"\\''
    """
    if "\\" not in literal:  # the common case, quickly: no escapes to weigh
        if literal[0] == "'" and '"' not in literal:
            return f'"{literal[1:-1]}"'
        return literal
    orig, new = ("'", '"') if literal[0] == "'" else ('"', "'")
    unescaped_new, escaped_new, escaped_orig = _patterns(orig, new)
    body = literal[1:-1]
    new_body = _sub_twice(escaped_new, rf"\1\2{new}", body)
    if new_body != body:  # unneeded escapes dropped: that is the original now
        body = new_body
        literal = f"{orig}{body}{orig}"
    new_body = _sub_twice(escaped_orig, rf"\1\2{orig}", new_body)
    new_body = _sub_twice(unescaped_new, rf"\1\\{new}", new_body)
    old_escapes, new_escapes = body.count("\\"), new_body.count("\\")
    if new_escapes > old_escapes or (new_escapes == old_escapes and orig == '"'):
        return literal
    return f"{new}{new_body}{new}"
