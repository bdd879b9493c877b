"""Write dsl/syntax/kd_tables.py, the LALR tables of grammar/kd.lark as a
module of plain literals, so kdsl starts without building them and without
any cache file (never a pickle).

Lark numbers states in an order that changes from run to run, so the file
is not byte-for-byte reproducible; it records the grammar's SHA-256 and the
Lark version it was built from, and kdsl uses it only when both match (else
it builds the tables in memory).  `--check` exits 1 when they do not match;
tests/test_parse.py checks the same and that the tables parse like the
grammar.
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dsl.syntax.parser import TABLES_PATH, tables_current, tables_text  # noqa: E402


def _check_literals(text: str) -> None:
    """TEXT is a docstring and `TABLES = <a literal>`, nothing else."""
    docstring, assignment = ast.parse(text).body
    assert isinstance(docstring, ast.Expr) and isinstance(assignment, ast.Assign)
    assert [t.id for t in assignment.targets] == ["TABLES"]
    ast.literal_eval(assignment.value)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when the tables are stale")
    args = parser.parse_args(argv)
    if args.check:
        if not tables_current():
            print(f"{TABLES_PATH} is out of date with grammar/kd.lark; run: python scripts/gen_parser_tables.py")
            return 1
        return 0
    if not tables_current():
        text = tables_text()
        _check_literals(text)  # well-formed, and data only, before it is written
        TABLES_PATH.write_text(text, encoding="utf-8")
        print(f"wrote {TABLES_PATH} ({len(text)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
