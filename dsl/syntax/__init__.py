"""Stage 1, syntax: kd source text -> syntax tree.

`parse(text, filename)` gives a `tree.Module`; `parse_value(text)` one
expression (a `--param` value); `decode_source(data, filename)` the text of
a file's bytes.  Nothing of Lark escapes this package.
"""

from .parser import decode_source, parse, parse_value

__all__ = ["decode_source", "parse", "parse_value"]
