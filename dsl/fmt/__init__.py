"""`kdsl fmt`: kd sources in one canonical layout (LANGUAGE.md section 11,
docs/fmt.md).

Public API:

- `format_text(text, filename, line_length)`: the formatted text, checked
  (same tree, same comments in order, stable); raises `dsl.KdError` when
  TEXT does not parse and `FormatterBug` when the check fails.
- `format_module(module, line_length)`: print a parsed module, unchecked.
- `same_tree(a, b)` / `tree_difference(a, b)`: syntax trees equal but for
  layout.
- Comment attachment lives with the syntax: `dsl.syntax.comments.attach_comments`.
"""

from .equality import same_tree, tree_difference
from .printer import (
    DEFAULT_LINE_LENGTH, MAX_LINE_LENGTH, MIN_LINE_LENGTH, LayoutError, format_module, format_text,
)
from .safety import FormatterBug

__all__ = [
    "DEFAULT_LINE_LENGTH", "MAX_LINE_LENGTH", "MIN_LINE_LENGTH", "FormatterBug", "LayoutError",
    "format_module", "format_text", "same_tree", "tree_difference",
]
