#!/usr/bin/env python
"""Generate the TextMate grammar of kd from the Lark grammar.

    python scripts/gen_textmate.py           # (re)write editors/textmate/kd.tmLanguage.json
    python scripts/gen_textmate.py --check   # exit 1 if the committed file is out of date

What comes from ``grammar/kd.lark`` (so that a new keyword or operator there
changes the editor grammar on the next run, and ``--check`` fails until it
is regenerated):

* the keywords: every string terminal spelled like an identifier (``MODEL:
  "model"`` ...); ``KEYWORD_SCOPES`` says which scope each gets, and one it
  does not know yet is still scoped, as ``keyword.other.kd``;
* the operators and punctuation: every other string terminal, named or
  anonymous (``"=="`` inside ``_comp_op``); the rule a literal appears in
  says its scope (``OPERATOR_RULES``), else its terminal name
  (``TERMINAL_SCOPES``); an unknown one is scoped ``keyword.operator.kd``;
* the regular expressions of ``NAME`` and ``NUMBER``.

What is written here by hand is the structure a TextMate grammar needs and
Lark does not have: regions for strings, comments, parameter lists, call
arguments, subscripts and dicts, so that ``padding=`` inside a call is a
keyword argument and ``:`` inside ``x[...]`` is a slice.  Names that are not
keywords but mean something to kd (the builtins of section 5 of the
language, ``compile``, ``.trainable``, the ``ops`` namespace and ``...`` of
kd 1.1) are listed below.

The script imports Lark only, not the kdsl package.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from lark import Lark

REPO = Path(__file__).resolve().parent.parent
LARK_GRAMMAR = REPO / "grammar" / "kd.lark"
OUTPUT = REPO / "editors" / "textmate" / "kd.tmLanguage.json"

# ----------------------------------------------------------------- scopes

KEYWORD_SCOPES = {
    "MODEL": "keyword.declaration.kd",
    "BLOCK": "keyword.declaration.kd",
    "OUTPUT": "keyword.other.output.kd",
    "RETURN": "keyword.control.return.kd",
    "FOR": "keyword.control.loop.kd",
    "IN": "keyword.control.loop.kd",
    "IF": "keyword.control.conditional.kd",
    "ELSE": "keyword.control.conditional.kd",
    "IMPORT": "keyword.control.import.kd",
    "FROM": "keyword.control.import.kd",
    "AND": "keyword.operator.logical.kd",
    "OR": "keyword.operator.logical.kd",
    "NOT": "keyword.operator.logical.kd",
    "TRUE": "constant.language.kd",
    "FALSE": "constant.language.kd",
    "NONE": "constant.language.kd",
}
UNKNOWN_KEYWORD_SCOPE = "keyword.other.kd"

# A literal used in one of these rules is an operator of that kind.
OPERATOR_RULES = {
    "_comp_op": "keyword.operator.comparison.kd",
    "_arith_op": "keyword.operator.arithmetic.kd",
    "_prefix": "keyword.operator.arithmetic.kd",
}
# Otherwise the terminal's name says (Lark names anonymous literals too: "=" is EQUAL).
TERMINAL_SCOPES = {
    "ARROW": "keyword.operator.chain.kd",
    "POW": "keyword.operator.arithmetic.kd",
    "EQUAL": "keyword.operator.assignment.kd",
    "COMMA": "punctuation.separator.comma.kd",
    "COLON": "punctuation.separator.colon.kd",
    "ELLIPSIS": "constant.other.ellipsis.kd",  # kd 1.1: `x[..., 0]`
    "DOT": "punctuation.accessor.kd",
    "SEMI": "punctuation.terminator.statement.kd",
    "LPAR": "punctuation.parenthesis.begin.kd",
    "RPAR": "punctuation.parenthesis.end.kd",
    "LSQB": "punctuation.definition.list.begin.kd",
    "RSQB": "punctuation.definition.list.end.kd",
    "LBRACE": "punctuation.section.block.begin.kd",
    "RBRACE": "punctuation.section.block.end.kd",
}
UNKNOWN_OPERATOR_SCOPE = "keyword.operator.kd"


# Python's builtins that kd has (LANGUAGE.md section 5) and Keras's merge helpers (section 5, Calls).
BUILTINS = ["abs", "float", "int", "len", "max", "min", "range", "str"]
MERGE_HELPERS = ["add", "average", "concatenate", "dot", "maximum", "minimum", "multiply", "subtract"]
KNOWN_ATTRIBUTES = ["shape", "trainable"]
OPS_NAMESPACE = "ops"  # kd 1.1: ops.NAME(...) is keras.ops.NAME
STRING_ESCAPE = r"\\(?:[\\'\"abfnrtv]|[0-7]{1,3}|x\h{2}|u\h{4}|U\h{8}|N\{[^}\n]+\})"


# ------------------------------------------------------- reading the grammar


class LarkFacts:
    """What the TextMate grammar needs from kd.lark: keywords, operators, two regexes."""

    def __init__(self, text: str) -> None:
        lark = Lark(text, parser="lalr", lexer="basic")
        # Compile with every terminal kept: the post-lexer's raw tokens ("{", ";")
        # are not used by any rule, and Lark would drop them otherwise.
        names = {name for name, _ in lark.grammar.term_defs}
        terminals, rules, _ = lark.grammar.compile(["start"], names)
        self.terminals = {t.name: t for t in terminals if not t.name.startswith("__IGNORE")}
        self.rules_using = {}
        for rule in rules:
            for symbol in rule.expansion:
                if symbol.is_term:
                    self.rules_using.setdefault(symbol.name, set()).add(rule.origin.name)

    def literals(self) -> dict:
        """Every string terminal written in source text: name -> spelling."""
        return {name: t.pattern.value for name, t in self.terminals.items() if t.pattern.type == "str"}

    def keywords(self) -> dict:
        """Terminal name -> keyword, for the literals spelled like identifiers."""
        return {name: value for name, value in self.literals().items() if re.fullmatch(self.regex("NAME"), value)}

    def operators(self) -> dict:
        """Terminal name -> spelling, for the other literals (operators, punctuation)."""
        keywords = self.keywords()
        return {name: value for name, value in self.literals().items() if name not in keywords}

    def regex(self, name: str) -> str:
        """The regular expression of a terminal; it must use no Lark flags."""
        pattern = self.terminals[name].pattern
        if pattern.type != "re" or pattern.flags:
            raise SystemExit(f"gen_textmate: terminal {name} is no longer a plain regular expression")
        return pattern.value

    def operator_scope(self, name: str) -> str:
        """The scope of an operator or punctuation terminal."""
        for rule in sorted(self.rules_using.get(name, ())):
            if rule in OPERATOR_RULES:
                return OPERATOR_RULES[rule]
        return TERMINAL_SCOPES.get(name, UNKNOWN_OPERATOR_SCOPE)


# ------------------------------------------------------ building the grammar


def onig_escape(text: str) -> str:
    """Quote a literal for an Oniguruma regular expression."""
    return re.sub(r"([\\^$.|?*+()\[\]{}])", r"\\\1", text)


def word_alternation(words) -> str:
    """`\\b(?:a|b)\\b` for whole words, longest first so that none hides another."""
    ordered = sorted(set(words), key=lambda w: (-len(w), w))
    return r"\b(?:" + "|".join(ordered) + r")\b"


def keyword_patterns(facts: LarkFacts) -> list:
    """One pattern per keyword scope, in a stable order."""
    by_scope = {}
    for name, word in facts.keywords().items():
        by_scope.setdefault(KEYWORD_SCOPES.get(name, UNKNOWN_KEYWORD_SCOPE), []).append(word)
    return [{"match": word_alternation(words), "name": scope} for scope, words in sorted(by_scope.items())]


def operator_patterns(facts: LarkFacts) -> list:
    """One pattern per operator or punctuation literal, longest first (`->` before `-`)."""
    operators = sorted(facts.operators().items(), key=lambda item: (-len(item[1]), item[1]))
    patterns = []
    for name, literal in operators:
        match = onig_escape(literal)
        if literal == "=":
            match += "(?!=)"  # never the first half of "=="
        patterns.append({"match": match, "name": facts.operator_scope(name)})
    return patterns


def declaration_words(facts: LarkFacts) -> str:
    """The alternation of the keywords that start a definition (`model`, `block`)."""
    words = [w for n, w in facts.keywords().items() if KEYWORD_SCOPES.get(n, "").startswith("keyword.declaration.")]
    return "(" + "|".join(sorted(words)) + ")"


def words_not_ending_an_expression(facts: LarkFacts) -> str:
    """The keywords after which `{` opens a dict rather than a body (all but the constants).

    `else {` opens a body only after `}`: that case has a pattern of its own."""
    words = [w for n, w in facts.keywords().items() if not KEYWORD_SCOPES.get(n, "").startswith("constant.")]
    return "|".join(sorted(words, key=lambda w: (-len(w), w)))


def build_grammar(lark_text: str) -> dict:
    """The TextMate grammar (a JSON-able dict) for the kd.lark text given."""
    facts = LarkFacts(lark_text)
    name = facts.regex("NAME")
    number = facts.regex("NUMBER")
    declaration = declaration_words(facts)
    repository = {
        "comments": {
            "patterns": [
                {
                    "comment": "## lines above a model or block are its doc comment (the docstring)",
                    "match": r"^[ \t]*(##).*$",
                    "name": "comment.line.double-number-sign.documentation.kd",
                    "captures": {"1": {"name": "punctuation.definition.comment.kd"}},
                },
                {
                    "match": r"(#).*$",
                    "name": "comment.line.number-sign.kd",
                    "captures": {"1": {"name": "punctuation.definition.comment.kd"}},
                },
            ]
        },
        "strings": {
            "patterns": [
                string_region('"', "double"),
                string_region("'", "single"),
            ]
        },
        "string-escape": {"match": STRING_ESCAPE, "name": "constant.character.escape.kd"},
        "numbers": {"match": rf"(?<![A-Za-z0-9_])(?:{number})(?![A-Za-z0-9_])", "name": "constant.numeric.kd"},
        "keywords": {"patterns": keyword_patterns(facts)},
        "operators": {"patterns": operator_patterns(facts)},
        "from-import": {
            "comment": "from MODULE import NAME, NAME as ALIAS (or a parenthesised list)",
            "begin": rf"\b(from)\s+({name}(?:\s*\.\s*{name})*)\s+(import)\b",
            "beginCaptures": {
                "1": {"name": "keyword.control.import.kd"},
                "2": {"name": "entity.name.namespace.kd"},
                "3": {"name": "keyword.control.import.kd"},
            },
            "end": r"(?=[;#}])|$",
            "patterns": [
                {
                    "begin": r"\(",
                    "beginCaptures": {"0": {"name": "punctuation.parenthesis.begin.kd"}},
                    "end": r"\)",
                    "endCaptures": {"0": {"name": "punctuation.parenthesis.end.kd"}},
                    "patterns": [{"include": "#comments"}, {"include": "#import-names"}],
                },
                {"include": "#import-names"},
            ],
        },
        "import-names": {
            "patterns": [
                {"match": r"\b(as)\b", "name": "keyword.control.import.kd"},
                {"match": rf"\b{name}\b", "name": "entity.name.type.kd"},
                {"match": ",", "name": "punctuation.separator.comma.kd"},
            ]
        },
        "definition": {
            "patterns": [
                {
                    "begin": rf"\b{declaration}\s+({name})\s*(\()",
                    "beginCaptures": {
                        "1": {"name": "keyword.declaration.kd"},
                        "2": {"name": "entity.name.function.kd"},
                        "3": {"name": "punctuation.definition.parameters.begin.kd"},
                    },
                    "end": r"\)",
                    "endCaptures": {"0": {"name": "punctuation.definition.parameters.end.kd"}},
                    "contentName": "meta.function.parameters.kd",
                    "patterns": [
                        {"include": "#comments"},
                        {
                            "comment": "a parameter with a default: the default runs to the next , or )",
                            "begin": rf"\b({name})\s*(=)(?!=)",
                            "beginCaptures": {
                                "1": {"name": "variable.parameter.kd"},
                                "2": {"name": "keyword.operator.assignment.kd"},
                            },
                            "end": r"(?=[,)])",
                            "patterns": [{"include": "#expression"}],
                        },
                        {"match": rf"\b{name}\b", "name": "variable.parameter.kd"},
                        {"match": ",", "name": "punctuation.separator.comma.kd"},
                    ],
                },
                {
                    "match": rf"\b{declaration}\s+({name})\b",
                    "captures": {
                        "1": {"name": "keyword.declaration.kd"},
                        "2": {"name": "entity.name.function.kd"},
                    },
                },
            ]
        },
        "ellipsis": {"match": r"\.\.\.", "name": "constant.other.ellipsis.kd"},
        "ops-call": {
            "comment": "kd 1.1: ops.NAME is a function of keras.ops",
            "match": rf"\b({OPS_NAMESPACE})\s*(\.)\s*({name})\b",
            "captures": {
                "1": {"name": "entity.name.namespace.kd"},
                "2": {"name": "punctuation.accessor.kd"},
                "3": {"name": "support.function.ops.kd"},
            },
        },
        "attribute": {
            "patterns": [
                {
                    "match": rf"(\.)\s*({'|'.join(KNOWN_ATTRIBUTES)})\b",
                    "captures": {
                        "1": {"name": "punctuation.accessor.kd"},
                        "2": {"name": "support.variable.property.kd"},
                    },
                },
                {
                    "match": rf"(\.)\s*({name})",
                    "captures": {
                        "1": {"name": "punctuation.accessor.kd"},
                        "2": {"name": "variable.other.property.kd"},
                    },
                },
            ]
        },
        "callee": {
            "comment": "the name right before a call's (: compile, a builtin, a layer class, a block or model",
            "patterns": [
                {"match": r"\bcompile(?=\()", "name": "support.function.compile.kd"},
                {"match": r"\blayout(?=\()", "name": "support.function.layout.kd"},
                {"match": word_alternation(BUILTINS) + r"(?=\()", "name": "support.function.builtin.kd"},
                {"match": word_alternation(MERGE_HELPERS) + r"(?=\()", "name": "support.function.merge.kd"},
                {"match": r"\b[A-Z][A-Za-z0-9_]*(?=\()", "name": "support.class.kd"},
                {"match": rf"\b{name}(?=\()", "name": "entity.name.function.call.kd"},
            ],
        },
        "call-arguments": {
            "comment": "( right after a name, ) or ] is a call; NAME= inside it is a keyword argument",
            "begin": r"(?<=[A-Za-z0-9_)\]])\(",
            "beginCaptures": {"0": {"name": "punctuation.definition.arguments.begin.kd"}},
            "end": r"\)",
            "endCaptures": {"0": {"name": "punctuation.definition.arguments.end.kd"}},
            "name": "meta.function-call.arguments.kd",
            "patterns": [
                {
                    "match": rf"\b({name})\s*(=)(?!=)",
                    "captures": {
                        "1": {"name": "variable.parameter.function-call.kd"},
                        "2": {"name": "keyword.operator.assignment.kd"},
                    },
                },
                {"include": "#expression"},
            ],
        },
        "subscript": {
            "comment": "[ right after a name, ) ] or a string indexes or slices; : separates slice bounds",
            "begin": r"(?<=[A-Za-z0-9_)\]\"'])\[",
            "beginCaptures": {"0": {"name": "punctuation.definition.subscript.begin.kd"}},
            "end": r"\]",
            "endCaptures": {"0": {"name": "punctuation.definition.subscript.end.kd"}},
            "name": "meta.item-access.kd",
            "patterns": [{"match": ":", "name": "punctuation.separator.slice.kd"}, {"include": "#expression"}],
        },
        "group": {
            "begin": r"\(",
            "beginCaptures": {"0": {"name": "punctuation.parenthesis.begin.kd"}},
            "end": r"\)",
            "endCaptures": {"0": {"name": "punctuation.parenthesis.end.kd"}},
            "patterns": [{"include": "#expression"}],
        },
        "list": {
            "begin": r"\[",
            "beginCaptures": {"0": {"name": "punctuation.definition.list.begin.kd"}},
            "end": r"\]",
            "endCaptures": {"0": {"name": "punctuation.definition.list.end.kd"}},
            "patterns": [{"include": "#expression"}],
        },
        "body-brace": {
            "comment": "as kd's layout rule: { after an expression's end, or after an `else` that follows }, opens a body",
            "patterns": [
                {
                    "match": r"(?:(?<=\})|^)\s*(else)\s*(\{)",
                    "captures": {
                        "1": {"name": KEYWORD_SCOPES["ELSE"]},
                        "2": {"name": "punctuation.section.block.begin.kd"},
                    },
                },
                {
                    "match": rf"(?<=[A-Za-z0-9_)\]\"'}}])(?<!\b(?:{words_not_ending_an_expression(facts)}))\s*(\{{)",
                    "captures": {"1": {"name": "punctuation.section.block.begin.kd"}},
                },
            ],
        },
        "dict": {
            "begin": r"\{",
            "beginCaptures": {"0": {"name": "punctuation.definition.dict.begin.kd"}},
            "end": r"\}",
            "endCaptures": {"0": {"name": "punctuation.definition.dict.end.kd"}},
            "name": "meta.dict.kd",
            "patterns": [{"match": ":", "name": "punctuation.separator.dict.kd"}, {"include": "#expression"}],
        },
        "illegal": {"match": r"[^\s\w]", "name": "invalid.illegal.character.kd"},
        "expression": {
            "patterns": [
                {"include": "#comments"},
                {"include": "#strings"},
                {"include": "#ellipsis"},
                {"include": "#numbers"},
                {"include": "#keywords"},
                {"include": "#ops-call"},
                {"include": "#attribute"},
                {"include": "#callee"},
                {"include": "#call-arguments"},
                {"include": "#subscript"},
                {"include": "#group"},
                {"include": "#list"},
                {"include": "#body-brace"},
                {"include": "#dict"},
                {"include": "#operators"},
                {"include": "#illegal"},
            ]
        },
    }
    return {
        "comment": "Generated by scripts/gen_textmate.py from grammar/kd.lark; do not edit by hand.",
        "name": "kd",
        "scopeName": "source.kd",
        "fileTypes": ["kd"],
        "patterns": [
            {"include": "#comments"},
            {"include": "#from-import"},
            {"include": "#definition"},
            {"include": "#expression"},
        ],
        "repository": repository,
    }


def string_region(quote: str, kind: str) -> dict:
    """A one-line string with Python escapes; a missing closing quote ends it at the end of the line."""
    return {
        "begin": quote,
        "beginCaptures": {"0": {"name": "punctuation.definition.string.begin.kd"}},
        "end": rf"({quote})|$",
        "endCaptures": {"1": {"name": "punctuation.definition.string.end.kd"}},
        "name": f"string.quoted.{kind}.kd",
        "patterns": [{"include": "#string-escape"}],
    }


def render(grammar: dict) -> str:
    """The file's text: indented JSON with a final newline, so diffs stay readable."""
    return json.dumps(grammar, indent=2, ensure_ascii=False) + "\n"


def main(argv=None) -> int:
    """Write the TextMate grammar, or with --check say whether the committed one is current."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the committed grammar is out of date")
    parser.add_argument("--output", type=Path, default=OUTPUT, help="where to write (default: %(default)s)")
    args = parser.parse_args(argv)
    text = render(build_grammar(LARK_GRAMMAR.read_text(encoding="utf-8")))
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else None
        if current != text:
            print(f"{args.output} is out of date: run python scripts/gen_textmate.py", file=sys.stderr)
            return 1
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
