"""Third-party code kdsl ships, generated, not edited: `lark_runtime`, Lark's
LALR runtime as Lark's stand-alone tool extracts it (scripts/gen_parser_tables.py).
A leaf: it imports nothing of kdsl."""
