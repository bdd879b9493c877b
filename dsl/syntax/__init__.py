"""Stage 1, syntax: kd source text -> syntax tree.

`parse(text, filename)` gives a `tree.Module`; `parse_value(text)` one
expression (a `--param` value); `read_source(path, filename)` and
`decode_source(data, filename)` the text of a file.  Nothing of Lark escapes this package.
"""

from .parser import decode_source, parse, parse_partial, parse_value, read_source

__all__ = ["decode_source", "parse", "parse_partial", "parse_value", "read_source"]
