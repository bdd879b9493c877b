"""The automatic names Keras gives to unnamed layers and operations."""

from __future__ import annotations

import re
from contextlib import contextmanager
from functools import lru_cache


@lru_cache(maxsize=512)  # one entry per class name; every unnamed layer asks
def snake_case(name: str) -> str:
    """Keras's automatic-name prefix of a class: Conv2D -> conv2d."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def name_problem(name: str):
    """Why Keras (or saving the model) refuses NAME as a layer or model
    name, or None: Keras's Operation refuses `/` (it separates the parts of
    a weight's path), and a lone surrogate cannot be written as UTF-8, so
    the model could be neither summarised nor saved."""
    if "/" in name:
        return "cannot contain `/` (Keras separates weight paths with it)"
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return "must be valid Unicode text (it holds a lone surrogate)"
    return None


class AutoNames:
    """Keras's counters of automatic names: the first unnamed Dense is
    `dense`, the next `dense_1`, ... (one count per prefix, per session)."""

    def __init__(self) -> None:
        self.counts: dict = {}

    def next(self, prefix: str) -> str:
        """The automatic name of the next unnamed object with PREFIX."""
        count = self.counts.get(prefix, 0)
        self.counts[prefix] = count + 1
        return prefix if count == 0 else f"{prefix}_{count}"

    def use(self, prefixes) -> None:
        """Count up PREFIXES (an iterable, or a mapping prefix -> count): the
        names a layer's sublayers or an application's unnamed layers take."""
        if not prefixes:  # most layers make no sublayers
            return
        items = prefixes.items() if hasattr(prefixes, "items") else ((p, 1) for p in prefixes)
        for prefix, count in items:
            self.counts[prefix] = self.counts.get(prefix, 0) + count

    def reset(self) -> None:
        """Start counting afresh, as a new Keras session does."""
        self.counts = {}

    @contextmanager
    def apart(self):
        """Count from zero inside the block, then resume the outer counts."""
        saved, self.counts = self.counts, {}
        try:
            yield
        finally:
            self.counts = saved
