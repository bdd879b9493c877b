"""The check made before any formatted text is used, as black makes it: the
output parses to the same tree as the input, holds the same comments in
the same order, and formatting it again changes nothing."""

from __future__ import annotations

from ..records import replace
from typing import Callable

from ..diagnostics import KdError
from ..limits import DEFAULT_LIMITS
from ..syntax import parse
from ..syntax import tree as n
from ..syntax.comments import attach_comments
from .equality import comment_texts, expected_comments, tree_difference

BUG_MESSAGE = "kdsl fmt produced different code; this is a bug in kdsl, please report"


class FormatterBug(Exception):
    """The formatter's output failed its check; nothing may be written.
    `detail` says what differed."""

    def __init__(self, filename: str, detail: str):
        super().__init__(f"{filename}: {BUG_MESSAGE} ({detail})")
        self.filename = filename
        self.detail = detail


def verify(module: n.Module, output: str, line_length: int, reformat: Callable) -> None:
    """Raise FormatterBug unless OUTPUT, the formatted MODULE, is safe.

    Output equal to the module's source needs no check: it parses to the
    very tree that was printed, and printing that again gives the output.
    """
    if output == module.source:
        return
    filename = module.filename
    # The output may be a little longer than a source that was just under the size limit.
    limits = replace(DEFAULT_LIMITS, max_file_bytes=max(DEFAULT_LIMITS.max_file_bytes, 2 * len(output)))
    try:
        again = parse(output, filename, limits)
    except KdError as err:
        raise FormatterBug(filename, f"the output does not parse: {err.diagnostics[0].message}") from None
    difference = tree_difference(module, again)
    if difference is not None:
        raise FormatterBug(filename, f"the output's syntax tree differs at {difference}")
    if comment_texts(again) != expected_comments(module, lambda: attach_comments(module)):
        raise FormatterBug(filename, "the output's comments differ from the input's")
    if reformat(again, line_length) != output:
        raise FormatterBug(filename, "formatting the output again changes it")
