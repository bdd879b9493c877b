"""Re-parsing only what changed: a file is parsed item by item (each model,
block, `import` or `from` line with the comments above it), and the items
whose text and place are unchanged come from a cache.

An editor's edit touches one item; the others are not parsed again.  Each
item is parsed at its place in the file (the text before it stands in as
blank space with the same line breaks), so every span is exactly the one a
parse of the whole file gives.  The answer must equal `parse_partial` on
the whole text: when any item has a syntax error, or the split is in doubt,
the whole text is parsed as usual.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict

from ..limits import DEFAULT_LIMITS, Limits
from . import tree as n
from .parser import _attach_docs, parse_partial

# A top-level item starts at column 0 with one of these keywords.
_ITEM_START = re.compile(r"^(?:model|block|import|from)\b", re.M)
_COMMENT_LINE = re.compile(r"#[^\n]*\n")
ITEMS_KEPT = 2048


def item_starts(text: str) -> list:
    """Offsets where the items of TEXT start: at a keyword in column 0, or at
    the run of column-0 comment lines directly above it (a doc comment)."""
    starts = [0]
    for match in _ITEM_START.finditer(text):
        start = match.start()
        while True:
            above = text.rfind("\n", 0, max(start - 1, 0))
            line_start = above + 1 if above != -1 else 0
            if start == 0 or not _COMMENT_LINE.fullmatch(text, line_start, start):
                break
            start = line_start
        if start > starts[-1]:
            starts.append(start)
    return starts


def _blank(prefix: str) -> str:
    """Whitespace as long as PREFIX with as many line breaks, the last of
    them at its end, so what follows keeps its line, column and offset."""
    breaks = prefix.count("\n")
    return " " * (len(prefix) - breaks) + "\n" * breaks


class ItemCache:
    """Parsed items by (text, place); owned by one session (an editor's workspace)."""

    def __init__(self, kept: int = ITEMS_KEPT):
        self.kept = kept
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()  # guards the cache only: items parse outside it, each thread with its parser

    def _parse_item(self, text: str, start: int, end: int, filename: str, limits: Limits):
        piece = text[start:end]
        lines_before = text.count("\n", 0, start)
        key = (filename, piece, start, lines_before, id(limits))
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
                return hit
        found = parse_partial(_blank(text[:start]) + piece, filename, limits)
        with self._lock:
            self._items[key] = found
            while len(self._items) > self.kept:
                self._items.popitem(last=False)
        return found

    def parse(self, text: str, filename: str = "<string>", limits: Limits = DEFAULT_LIMITS) -> tuple:
        """What `parse_partial(text, filename, limits)` returns, re-using the
        items parsed before."""
        if "\r" in text:
            return parse_partial(text, filename, limits)
        starts = item_starts(text)
        if len(starts) < 2:
            return parse_partial(text, filename, limits)
        items, comments, broken = [], [], []
        for start, end in zip(starts, starts[1:] + [len(text)]):
            module, problems = self._parse_item(text, start, end, filename, limits)
            if problems or module.broken:
                return parse_partial(text, filename, limits)  # errors: exactly as a parse of the whole file
            items.extend(module.items)
            comments.extend(module.comments)
        module = n.Module(items, comments, filename, text, broken)
        _attach_docs(module, text)
        return module, []
