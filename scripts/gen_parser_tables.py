"""Write dsl/vendor/lark_runtime.py and dsl/syntax/kd_tables.py: the
installed Lark's LALR runtime, as Lark's stand-alone tool extracts it, and
the LALR tables of grammar/kd.lark as a module of plain literals, so kdsl
starts without importing Lark's package, without building the tables and
without any cache file (never a pickle).

Lark numbers states in an order that changes from run to run, so the
tables are not byte-for-byte reproducible; they record the grammar's
SHA-256 and the Lark version they were built with, and kdsl uses them only
when both match the grammar and the runtime (else it builds the tables in
memory with the installed Lark).  The runtime is reproducible: the tests
compare it with what the installed Lark extracts.  `--check` exits 1 when
either is stale.
"""

from __future__ import annotations

import argparse
import ast
import sys
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNTIME_PATH = ROOT / "dsl" / "vendor" / "lark_runtime.py"

# The docstring of lark_runtime.py.
RUNTIME_DOC = ("Lark {version}'s LALR(1) parser runtime, as Lark's stand-alone tool\n"
               "(lark.tools.standalone) extracts it: written by scripts/gen_parser_tables.py\n"
               "(do not edit).  kdsl parses with it, so that starting needs no import of\n"
               "Lark's package (its grammar compiler, Earley parsers, caches).  This file is\n"
               "under Lark's license for its stand-alone code, the Mozilla Public License 2.0,\n"
               "as the notice below says.  Three imports of the standard library are\n"
               "replaced (PATCHES in the script says which and why).\n")

# What kdsl's copy changes in Lark's text: (Lark's text, kdsl's, why).  Each
# keeps the runtime's behaviour and spares an import of the standard library
# that together cost a fifth of a one-layer check's start-up (`logging`
# 30 M instructions, `dataclasses` with the `inspect` it imports 42 M).  Each
# of Lark's texts must occur exactly once: a Lark that changed them stops
# the generator, to be looked at again.
PATCHES = (
    ("import logging\n", "",
     "Lark's logger is set to CRITICAL and the runtime logs nothing at that level"),
    ('logger: logging.Logger = logging.getLogger("lark")\nlogger.addHandler(logging.StreamHandler())\n',
     "class _SilentLogger:\n"
     "    def _silent(self, *args, **kwargs):\n"
     "        pass\n"
     "    debug = info = warning = error = exception = critical = setLevel = _silent\n\n"
     "logger = _SilentLogger()\n",
     "a logger that drops what Lark's, at CRITICAL, drops (and leaves the installed Lark's logger alone)"),
    ("logger.setLevel(logging.CRITICAL)\n", "", "the silent logger has no level"),
    ("from dataclasses import dataclass\n", "from ..records import record as dataclass\n",
     "TextSlice, the one dataclass, as a kdsl record (frozen, with its __post_init__)"),
    ("from inspect import getmembers, getmro\n",
     "def getmro(cls):\n"
     "    return cls.__mro__\n\n"
     "def getmembers(obj):\n"
     "    from inspect import getmembers\n"
     "    return getmembers(obj)\n",
     "only v_args, which kdsl does not use, needs inspect: imported when it is called"),
)


def patched(text: str) -> str:
    """TEXT with PATCHES applied; ValueError when one of Lark's texts is not
    there exactly once."""
    for old, new, why in PATCHES:
        if text.count(old) != 1:
            raise ValueError(f"Lark's runtime no longer has {old!r} once (the patch for: {why})")
        text = text.replace(old, new)
    return text


def runtime_text() -> str:
    """The text of `lark_runtime.py`: the installed Lark's `standalone`
    sections, in the tool's order, docstrings stripped but the first file's
    (as the tool does), without tables, with PATCHES applied."""
    import lark
    from lark.tools import standalone

    lark_dir = Path(lark.__file__).resolve().parent
    parts = [f'"""{RUNTIME_DOC.format(version=lark.__version__)}"""', f'__version__ = "{lark.__version__}"']
    for i, name in enumerate(standalone.EXTRACT_STANDALONE_FILES):
        lines = (lark_dir / name).read_text(encoding="utf-8").splitlines(True)
        code = standalone.extract_sections(lines)["standalone"]
        if i:
            code = standalone.strip_docstrings(partial(next, iter(code.splitlines(True))))
        parts.append(code)
    return patched("\n".join(parts) + "\n")


def runtime_current() -> bool:
    """Whether the shipped runtime is what the installed Lark extracts."""
    try:
        return RUNTIME_PATH.read_text(encoding="utf-8") == runtime_text()
    except OSError:
        return False


def check_literals(text: str) -> dict:
    """The tables TEXT (a kd_tables.py) assigns, when it is a docstring and
    `TABLES = <a literal>`, nothing else; raises ValueError otherwise (the
    module is imported: it must be data only, whatever wrote it)."""
    body = ast.parse(text).body
    if [type(node) for node in body] != [ast.Expr, ast.Assign] or not isinstance(body[0].value, ast.Constant):
        raise ValueError("kd_tables.py must be a docstring and one assignment")
    if [getattr(t, "id", None) for t in body[1].targets] != ["TABLES"]:
        raise ValueError("kd_tables.py must assign TABLES only")
    return ast.literal_eval(body[1].value)  # raises ValueError on anything but literals


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when the runtime or the tables are stale")
    args = parser.parse_args(argv)
    if args.check:
        if not runtime_current():
            print(f"{RUNTIME_PATH} is not the installed Lark's runtime; run: python scripts/gen_parser_tables.py")
            return 1
    elif not runtime_current():
        text = runtime_text()
        compile(text, str(RUNTIME_PATH), "exec")  # well-formed before it is written
        RUNTIME_PATH.write_text(text, encoding="utf-8")
        print(f"wrote {RUNTIME_PATH} ({len(text)} bytes)")
    # Imported only now: the parser needs the runtime.
    sys.path.insert(0, str(ROOT))
    from dsl.syntax.parser import TABLES_PATH, tables_current, tables_text

    if args.check:
        if not tables_current():
            print(f"{TABLES_PATH} is out of date with grammar/kd.lark; run: python scripts/gen_parser_tables.py")
            return 1
        return 0
    if not tables_current():
        text = tables_text()
        check_literals(text)  # well-formed, and data only, before it is written
        TABLES_PATH.write_text(text, encoding="utf-8")
        print(f"wrote {TABLES_PATH} ({len(text)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
