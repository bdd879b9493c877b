"""Parse kd source text into the syntax tree of `dsl.syntax.tree`.

`parse(text, filename)` returns a `tree.Module` or raises `KdError` with the
diagnostics (a syntax error: the place, what was found and what was
expected).  No Lark exception or traceback ever leaves this package.

The LALR tables ship inside the package as a module of plain literals
(`kd_tables.py`, written by `scripts/gen_parser_tables.py`, used only when
they match the grammar and the Lark version of the shipped runtime,
`dsl/vendor/lark_runtime.py`), so starting needs neither building them
(about 80 ms) nor a cache: kdsl never unpickles a file, since a planted
pickle would run code.  (A module of literals loads from its bytecode
several times faster than the same data as JSON.)  Each thread gets its
own parser (the post-lexer and the tree builder keep per-parse state), so
parsing needs no lock.
"""

from __future__ import annotations

import zlib
import os
import threading
from functools import lru_cache
from pathlib import Path
from typing import Optional

from .. import codes
from ..diagnostics import Diagnostic, KdError, SourceError
from ..limits import DEFAULT_LIMITS, Limits
from ..resources import resource_path
from . import tree as n
from .builder import TreeBuilder, _span
from .errors import syntax_error
from ..vendor.lark_runtime import Lark, UnexpectedCharacters, UnexpectedInput
from ..vendor.lark_runtime import __version__ as RUNTIME_VERSION
from .lalr import KdLalrParser
from .layout import Layout
from .lexer import KdLexer
from .recovery import Failure, SyntaxFailure, recover

TABLES_PATH = Path(__file__).resolve().parent / "kd_tables.py"
# The options the tables are built with; the post-lexer and the tree builder
# are given to each parser when it is loaded.
OPTIONS = dict(parser="lalr", lexer="basic", propagate_positions=False, maybe_placeholders=True,
               start=["start", "value_start"])
# Lark's basic lexer and LALR parser, with kdsl's faster loops
# (dsl/syntax/lexer.py, dsl/syntax/lalr.py).
PLUGINS = {"BasicLexer": KdLexer, "LALR_Parser": KdLalrParser}


def grammar_text() -> str:
    """The text of grammar/kd.lark (shipped inside the package)."""
    return resource_path("grammar", "kd.lark").read_text(encoding="utf-8")


def _serialized(grammar: str) -> tuple:
    """(data, memo): GRAMMAR's tables built by the installed Lark, serialized."""
    import lark
    from lark.grammar import Rule
    from lark.lexer import TerminalDef

    data, memo = lark.Lark(grammar, postlex=Layout(), **OPTIONS).memo_serialize([TerminalDef, Rule])
    data["options"] = {k: v for k, v in data["options"].items() if k not in ("postlex", "transformer", "_plugins")}
    return data, memo


def _load(data: dict, memo: dict) -> Lark:
    """A parser run by the shipped runtime from serialized tables."""
    return Lark._load_from_dict(data, memo, postlex=Layout(), transformer=TreeBuilder(), _plugins=PLUGINS)


def build_parser(grammar: Optional[str] = None) -> Lark:
    """A parser whose tables the installed Lark builds from the grammar
    itself (not the shipped tables, no cache), run by the shipped runtime."""
    return _load(*_serialized(grammar if grammar is not None else grammar_text()))


def tables_text(grammar: Optional[str] = None) -> str:
    """The text of the module `kd_tables.py` for GRAMMAR (default: kd.lark):
    Lark's serialized tables as Python literals, and what they were built from."""
    import hashlib

    import lark

    grammar = grammar if grammar is not None else grammar_text()
    data, memo = _serialized(grammar)
    document = {"lark": lark.__version__, "grammar_sha256": hashlib.sha256(grammar.encode()).hexdigest(),
                "grammar_crc32": zlib.crc32(grammar.encode()), "data": data, "memo": memo}
    # One entry a line: a data file, read by Python, not by people.
    entries = "".join(f"    {key!r}: {document[key]!r},\n" for key in sorted(document))
    return f'"""{TABLES_DOC}"""\n\nTABLES = {{\n{entries}}}\n'


# The docstring of kd_tables.py.
TABLES_DOC = ("The LALR tables of grammar/kd.lark, as Lark serializes them: written by\n"
              "scripts/gen_parser_tables.py (do not edit), loaded by dsl/syntax/parser.py\n"
              "when they match the grammar and the shipped Lark runtime.  Plain literals only.\n")


def _matches(document: dict) -> bool:
    # A checksum, not a digest: the tables are no secret and the grammar is
    # shipped beside them; this only notices a grammar edited since (the
    # tests compare the tables in full).  zlib loads far faster than hashlib.
    if document.get("lark") != RUNTIME_VERSION or document.get("grammar_crc32") != zlib.crc32(grammar_text().encode()):
        return False
    built_with = document.get("data", {}).get("options", {})
    return all(built_with.get(key) == value for key, value in OPTIONS.items())


def _read_tables() -> Optional[dict]:
    try:
        from .kd_tables import TABLES
    except ImportError:  # not shipped (a checkout between grammar edits)
        return None
    return TABLES if isinstance(TABLES, dict) else None


def tables_current() -> bool:
    """Whether the shipped tables were built from this grammar by the Lark of the shipped runtime."""
    document = _read_tables()
    return document is not None and _matches(document)


@lru_cache(maxsize=1)
def _tables() -> Optional[dict]:
    """The shipped tables, when current; None otherwise (then parsers are
    built from the grammar, in memory)."""
    document = _read_tables()
    return document if document is not None and _matches(document) else None


_LOCAL = threading.local()


def thread_parser() -> Lark:
    """This thread's parser (loaded from the tables on first use)."""
    parser = getattr(_LOCAL, "parser", None)
    if parser is None:
        tables = _tables()
        parser = build_parser() if tables is None else _load(tables["data"], tables["memo"])
        _LOCAL.parser = parser
    return parser


def _attach_docs(module: n.Module, text: str) -> None:
    """A run of `##` lines directly above a model or block is its doc comment."""
    lines = text.splitlines()
    doc_lines = {c.span.line: c for c in module.comments if c.text.startswith("##")}
    for item in module.definitions:
        found = []
        line = item.span.line - 1
        while line in doc_lines and lines[line - 1].lstrip().startswith("##"):
            found.append(doc_lines[line].text[2:])
            line -= 1
        if found:
            body = [s[1:] if s.startswith(" ") else s for s in reversed(found)]
            item.doc = "\n".join(body).strip("\n") or None


def _build(text: str, filename: str, start: str, limits: Limits):
    """Parse TEXT from rule START into nodes; returns (result, comments).
    Raises SyntaxFailure with the first problem."""
    parser = thread_parser()
    layout = parser.options.postlex
    builder = parser.options.transformer
    builder.reset(limits)
    try:
        result = parser.parse(text, start=start)
    except UnexpectedInput as exc:
        raise SyntaxFailure(_failure(exc, text, filename, layout, parser)) from None
    except SourceError as err:
        raise SyntaxFailure(Failure(err.diagnostic(filename), err.span.start)) from None
    finally:
        builder.reset(DEFAULT_LIMITS)  # drop the depth table
    comments = [n.Comment(t.value, _span(t)) for t in layout.state.comments]
    return result, comments


def _failure(exc: UnexpectedInput, text: str, filename: str, layout, parser) -> Failure:
    """What recovery needs to know about a Lark error."""
    diagnostic = syntax_error(exc, text, filename, layout, parser)
    if isinstance(exc, UnexpectedCharacters):
        char = text[exc.pos_in_stream] if exc.pos_in_stream < len(text) else ""
        return Failure(diagnostic, exc.pos_in_stream, string=char in "\"'", single=char not in "\"'")
    tok = exc.token
    at_end = tok.type == "$END"
    position = len(text) if at_end else tok.start_pos
    opened = layout.unclosed()
    return Failure(diagnostic, position, at_end=at_end, unclosed=opened.start_pos if opened is not None else None)


def _layout_tokens(text: str) -> list:
    """The tokens of TEXT after the layout post-lexer, as far as it lexes."""
    found = []
    try:
        for tok in thread_parser().lex(text):
            found.append(tok)
    except (UnexpectedInput, SourceError):
        pass
    return found


def _build_or_raise(text: str, filename: str, start: str, limits: Limits):
    try:
        return _build(text, filename, start, limits)
    except SyntaxFailure as failure:
        raise KdError([failure.info.diagnostic]) from None


def parse_value(text: str, where: str = "<command line>") -> n.Expr:
    """Parse one kd expression (a `--param` value) into a node."""
    return _build_or_raise(text, where, "value_start", DEFAULT_LIMITS)[0]


def parse(text: str, filename: str = "<string>", limits: Limits = DEFAULT_LIMITS) -> n.Module:
    """Parse kd TEXT (the contents of FILENAME) into a `nodes.Module`.

    Raises `KdError` with every syntax error of the file (KD1xx).

    >>> parse("model m { x = Input(shape=(4,)); output x }").items[0].name
    'm'
    """
    module, problems = parse_partial(text, filename, limits)
    if problems:
        raise KdError(problems)
    return module


def parse_partial(text: str, filename: str = "<string>", limits: Limits = DEFAULT_LIMITS) -> tuple:
    """(module, syntax diagnostics): every syntax error of TEXT, and the tree
    of the statements that did parse (see `recovery`).  The module's
    `broken` lists the regions left out and the names they seemed to bind.
    Raises KdError only for a file too large to parse at all."""
    _check_size(len(text), "characters", filename, limits)
    # One line ending: `\r\n` and a lone `\r` (old Mac files) end lines too,
    # so carets, doc comments and the generated docstrings never see a `\r`.
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    built, problems, broken = recover(text, lambda current: _build(current, filename, "start", limits), _layout_tokens)
    items, comments = built if built is not None else ([], [])
    module = n.Module(items, comments, filename, text, broken)
    _attach_docs(module, text)
    return module, problems


def _check_size(size: int, unit: str, filename: str, limits: Limits) -> None:
    """KD103 when a source is larger than the limit."""
    if size > limits.max_file_bytes:
        raise KdError([Diagnostic(codes.FILE_TOO_LARGE, f"file too large: {size:,} {unit} (limit {limits.max_file_bytes:,})",
                                  filename, n.Span(1, 1, 1, 2), "raise the limit with --max-file-size")])


def read_source(path, filename: str, limits: Limits = DEFAULT_LIMITS) -> str:
    """The text of the kd file at PATH (named FILENAME in messages): its size
    is checked against the limit before it is read (a sparse or endless file
    costs nothing), and it is decoded as UTF-8.  Raises KdError (KD103,
    KD101) or OSError."""
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        _check_size(size, "bytes", filename, limits)
        data = handle.read(limits.max_file_bytes + 1)  # a file that grows, or reports no size
    return decode_source(data, filename, limits)


def decode_source(data: bytes, filename: str, limits: Limits = DEFAULT_LIMITS) -> str:
    """Decode a .kd file's bytes as UTF-8 (a BOM is allowed)."""
    _check_size(len(data), "bytes", filename, limits)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        col = exc.start - (before.rfind(b"\n") + 1) + 1
        raise KdError([Diagnostic(codes.NOT_UTF8, f"the file is not valid UTF-8: byte 0x{data[exc.start]:02x} at offset {exc.start}",
                                  filename, n.Span(line, col, line, col + 1, exc.start, exc.start + 1))]) from None
    return text
