"""A Pygments lexer for kd, so that `pygmentize -l kd`, Sphinx and MkDocs highlight kd.

Pygments finds it through the ``pygments.lexers`` entry point of the
distribution (``kd = "dsl.highlight:KdLexer"``); Pygments is an optional
dependency (``pip install keras-kdsl[highlight]``).  This module imports
Pygments and nothing of kdsl, and nothing of kdsl imports it, so the compiler
runs where Pygments is not installed.

The lexer is regular, not a parser: it tells a call's keyword arguments
(``padding=``) from an assignment by tracking open brackets, and parameters
from their defaults inside ``model NAME(...)`` and ``block NAME(...)``.
The token types it gives (a table in ``tests/test_highlight.py``):

- ``##`` doc comments ``String.Doc`` (as Pygments' Rust lexer does for
  ``///``), other comments ``Comment.Single``;
- ``model``/``block`` ``Keyword.Declaration`` and the name they define
  ``Name.Function``; its parameters ``Name.Variable``;
- ``import``/``from``/``as`` ``Keyword.Namespace``, the module
  ``Name.Namespace``, the imported names ``Name.Class``;
- ``and``/``or``/``not`` ``Operator.Word``; ``True``/``False``/``None``
  ``Keyword.Constant``; the other keywords ``Keyword``;
- a CamelCase name called (a layer class: ``Conv2D(``) ``Name.Class``, another
  name called (a block, a model) ``Name.Function``; Python's builtins of kd,
  Keras's merge helpers, ``compile(``, ``layout(`` and the functions of ``ops.``
  ``Name.Builtin``, with ``ops`` itself ``Name.Namespace``;
- a keyword argument's name ``Name.Attribute``; ``.shape`` and
  ``.trainable`` ``Name.Builtin.Pseudo``, other attributes ``Name.Property``;
- ``...`` (kd 1.1 indexing) ``Name.Builtin.Pseudo``, as Pygments' Python
  lexer gives ``Ellipsis``.
"""

from __future__ import annotations

import re

from pygments.lexer import RegexLexer, bygroups, default, include, words
from pygments.token import (
    Comment,
    Error,
    Keyword,
    Name,
    Number,
    Operator,
    Punctuation,
    String,
    Whitespace,
)

__all__ = ["KdLexer"]

NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_DIGITS = r"\d(?:_?\d)*"
_EXPONENT = rf"[eE][+-]?{_DIGITS}"
# kd's NUMBER (grammar/kd.lark), split into floats and integers.
FLOAT = rf"(?:(?:{_DIGITS})?\.{_DIGITS}(?:{_EXPONENT})?|{_DIGITS}\.(?:{_EXPONENT})?|{_DIGITS}{_EXPONENT})"
INTEGER = _DIGITS
# Python's escapes, which kd strings have.
ESCAPE = r"\\(?:[\\'\"abfnrtv]|[0-7]{1,3}|x[0-9A-Fa-f]{2}|u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|N\{[^}\n]+\})"

BUILTINS = ("abs", "float", "int", "len", "max", "min", "range", "str")
MERGE_HELPERS = ("add", "average", "concatenate", "dot", "maximum", "minimum", "multiply", "subtract")
KNOWN_ATTRIBUTES = ("shape", "trainable")
# Longest first, so that "->" is not "-" then ">".
OPERATORS = ("->", "**", "//", "==", "!=", "<=", ">=", "<", ">", "+", "-", "*", "/", "%", "=")


def _string_state(quote: str, token) -> list:
    """The rules inside a one-line string; a line end before the closing quote is an error."""
    return [
        (ESCAPE, String.Escape),
        (rf"[^{quote}\\\n]+", token),
        (r"\\.", token),  # not an escape: Python keeps the backslash
        (quote, token, "#pop"),
        (r"\n", Error, "#pop"),
    ]


class KdLexer(RegexLexer):
    """Lexer for kd, the text language of neural-network graphs compiled to Keras by kdsl."""

    name = "kd"
    aliases = ["kd"]
    filenames = ["*.kd"]
    mimetypes = ["text/x-kd"]
    url = "https://pypi.org/project/keras-kdsl/"
    flags = re.MULTILINE

    tokens = {
        "root": [
            include("space"),
            (r"(from)(\s+)", bygroups(Keyword.Namespace, Whitespace), "from-module"),
            (
                rf"\b(model|block)(\s+)({NAME})(\s*)(\()",
                bygroups(Keyword.Declaration, Whitespace, Name.Function, Whitespace, Punctuation),
                "parameters",
            ),
            (rf"\b(model|block)(\s+)({NAME})\b", bygroups(Keyword.Declaration, Whitespace, Name.Function)),
            include("expression"),
        ],
        "space": [
            (r"^([ \t]*)(##[^\n]*)", bygroups(Whitespace, String.Doc)),
            (r"#[^\n]*", Comment.Single),
            (r"\n", Whitespace),
            (r"[ \t\f\r]+", Whitespace),
        ],
        "expression": [
            include("space"),
            (r'"', String.Double, "double-quoted"),
            (r"'", String.Single, "single-quoted"),
            (r"\.\.\.", Name.Builtin.Pseudo),
            (rf"(?<![\w.]){FLOAT}(?![\w.])", Number.Float),
            (rf"(?<![\w.]){INTEGER}(?![\w.])", Number.Integer),
            (words(("True", "False", "None"), prefix=r"\b", suffix=r"\b"), Keyword.Constant),
            (words(("and", "or", "not"), prefix=r"\b", suffix=r"\b"), Operator.Word),
            (words(("import", "from"), prefix=r"\b", suffix=r"\b"), Keyword.Namespace),
            (words(("model", "block"), prefix=r"\b", suffix=r"\b"), Keyword.Declaration),
            (words(("output", "return", "for", "in", "if", "else"), prefix=r"\b", suffix=r"\b"), Keyword),
            (
                rf"\b(ops)(\s*)(\.)(\s*)({NAME})",
                bygroups(Name.Namespace, Whitespace, Punctuation, Whitespace, Name.Builtin),
            ),
            (rf"(\.)(\s*)({'|'.join(KNOWN_ATTRIBUTES)})\b", bygroups(Punctuation, Whitespace, Name.Builtin.Pseudo)),
            (rf"(\.)(\s*)({NAME})", bygroups(Punctuation, Whitespace, Name.Property)),
            (words(BUILTINS + MERGE_HELPERS + ("compile", "layout"), prefix=r"\b", suffix=r"(?=\()"), Name.Builtin),
            (r"\b[A-Z][A-Za-z0-9_]*(?=\()", Name.Class),
            (rf"\b{NAME}(?=\()", Name.Function),
            (NAME, Name),
            (r"(?<=[\w)\]])\(", Punctuation, "call"),
            (r"\(", Punctuation, "parenthesis"),
            (r"\[", Punctuation, "brackets"),
            (r"[{}()\[\]]", Punctuation),  # braces (bodies, dicts) and stray closers
            (words(OPERATORS), Operator),
            (r"[,;:.]", Punctuation),
        ],
        "double-quoted": _string_state('"', String.Double),
        "single-quoted": _string_state("'", String.Single),
        "call": [
            (rf"({NAME})(\s*)(=)(?!=)", bygroups(Name.Attribute, Whitespace, Operator)),
            (r"\)", Punctuation, "#pop"),
            include("expression"),
        ],
        "parenthesis": [
            (r"\)", Punctuation, "#pop"),
            include("expression"),
        ],
        "brackets": [
            (r"\]", Punctuation, "#pop"),
            include("expression"),
        ],
        "dict": [
            (r"\}", Punctuation, "#pop"),
            include("expression"),
        ],
        "parameters": [
            include("space"),
            (rf"({NAME})(\s*)(=)(?!=)", bygroups(Name.Variable, Whitespace, Operator), "parameter-default"),
            (NAME, Name.Variable),
            (r",", Punctuation),
            (r"\)", Punctuation, "#pop"),
        ],
        "parameter-default": [
            (r",", Punctuation, "#pop"),
            (r"\)", Punctuation, "#pop:2"),  # the end of the default and of the parameters
            (r"\{", Punctuation, "dict"),
            include("expression"),
        ],
        "from-module": [
            (r"import\b", Keyword.Namespace, ("#pop", "import-names")),
            (rf"{NAME}(?:\.{NAME})*", Name.Namespace),
            (r"[ \t]+", Whitespace),
            default("#pop"),
        ],
        "import-names": [
            (r"[ \t]+", Whitespace),
            (r"\(", Punctuation, "import-list"),
            (r"\bas\b", Keyword.Namespace),
            (NAME, Name.Class),
            (r",", Punctuation),
            default("#pop"),
        ],
        "import-list": [
            include("space"),
            (r"\bas\b", Keyword.Namespace),
            (NAME, Name.Class),
            (r",", Punctuation),
            (r"\)", Punctuation, "#pop"),
        ],
    }
