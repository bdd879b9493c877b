"""Syntax error messages: what was found, what was expected, and a hint
for the common mistakes."""

from __future__ import annotations

from typing import Optional

from ..vendor.lark_runtime import Token, UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from .. import codes
from ..diagnostics import Diagnostic
from . import tree as n
from .builder import _span

_DESCRIPTIONS = {
    "NAME": "a name",
    "NUMBER": "a number",
    "STRING": "a string",
    "LPAR": "`(`",
    "RPAR": "`)`",
    "LSQB": "`[`",
    "RSQB": "`]`",
    "LBODY": "`{`",
    "RBODY": "`}`",
    "LDICT": "`{`",
    "RDICT": "`}`",
    "LBRACE": "`{`",
    "RBRACE": "`}`",
    "ARROW": "`->`",
    "POW": "`**`",
    "_SEP": "end of statement",
    "$END": "end of file",
    "SEMI": "`;`",
}


_EXPRESSION_STARTS = {"NAME", "NUMBER", "STRING", "LPAR", "LSQB", "LDICT"}


def _describe_terminal(name: str, parser) -> str:
    if name in _DESCRIPTIONS:
        return _DESCRIPTIONS[name]
    try:
        pattern = parser.get_terminal(name).pattern
    except KeyError:
        return name.lower()
    if pattern.type == "str":
        return f"`{pattern.value}`"
    return name.lower()


def describe_token(tok: Token) -> str:
    if tok.type == "$END":
        return "end of file"
    if tok.type == "_SEP":
        return "`;`" if tok.value == ";" else "end of line"
    if tok.type in ("NAME", "NUMBER", "STRING"):
        return f"{tok.type.lower()} `{tok.value}`"
    return f"`{tok.value}`"


def _expected_text(expected: set, parser) -> str:
    names = set(expected)
    parts = []
    if _EXPRESSION_STARTS & names and len(names) > 6:
        parts.append("an expression")
        names -= _EXPRESSION_STARTS | {"TRUE", "FALSE", "NONE", "MINUS", "PLUS", "NOT"}
        names = {x for x in names if not x.startswith("__ANON")} if len(names) > 6 else names
    parts += sorted({_describe_terminal(x, parser) for x in names})
    if len(parts) > 8:
        parts = parts[:8] + ["..."]
    return ", ".join(parts)


def syntax_error(exc: UnexpectedInput, text: str, filename: str, layout, parser) -> Diagnostic:
    """The KD100 diagnostic of a Lark error; LAYOUT is the post-lexer that
    saw the input (for unclosed brackets), PARSER the Lark object."""
    if isinstance(exc, UnexpectedToken):
        tok = exc.token
        if tok.type == "$END":
            line = text.count("\n") + 1
            col = len(text) - (text.rfind("\n") + 1) + 1
            span = n.Span(line, col, line, col, len(text), len(text))
        else:
            span = _span(tok)
        message = f"unexpected {describe_token(tok)}; expected {_expected_text(exc.expected, parser)}"
        if tok.type == "RBRACE":
            message = "unexpected `}`: no body or dict is open here"
    else:
        assert isinstance(exc, UnexpectedCharacters)
        span = n.Span(exc.line, exc.column, exc.line, exc.column + 1, exc.pos_in_stream, exc.pos_in_stream + 1)
        char = text[exc.pos_in_stream] if exc.pos_in_stream < len(text) else ""
        if char in "\"'":
            message = "unterminated string"
        else:
            message = f"unexpected character {char!r}"
    hint = _syntax_hint(exc, text, span, layout)
    return Diagnostic(codes.SYNTAX, message, filename, span, hint)


_STRING_PREFIXES = set("fFrRbBuU")


def _syntax_hint(exc: UnexpectedInput, text: str, span: n.Span, layout) -> Optional[str]:
    """What probably went wrong, for the common mistakes."""
    tok = getattr(exc, "token", None)
    if tok is not None and tok.type == "NAME" and tok.value == "is":
        return "kd has no `is`: compare with `==` or `!=`"
    if tok is not None and tok.type == "NAME" and tok.value == "in":
        return "`in` only appears in `for NAME in ...`"
    if tok is not None and tok.type == "STRING" and tok.start_pos > 0 and text[tok.start_pos - 1] in _STRING_PREFIXES:
        return "kd has no f-strings or string prefixes: join strings with + and str(), e.g. \"conv\" + str(i)"
    opened = layout.unclosed()
    if opened is not None and span.line > opened.line:
        return f"the `{opened.value}` at line {opened.line}, column {opened.column} is not closed"
    return None
