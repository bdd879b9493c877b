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

from importlib import import_module

# Names are loaded on first use: `kdsl check` imports this package's
# command-line options and nothing of the printer.
_HOMES = {
    "same_tree": "equality", "tree_difference": "equality", "DEFAULT_LINE_LENGTH": "widths",
    "MAX_LINE_LENGTH": "widths", "MIN_LINE_LENGTH": "widths", "LayoutError": "printer",
    "format_module": "printer", "format_text": "printer", "FormatterBug": "safety",
}

__all__ = sorted(_HOMES)


def __getattr__(name):
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f".{_HOMES[name]}", __name__), name)
