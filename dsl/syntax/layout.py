"""The layout post-lexer: where newlines and `;` end statements, and which
braces open a body and which a dict.

Newlines are significant only where a statement ends, which the grammar
would otherwise have to say everywhere; this post-lexer tracks brackets and
emits a `_SEP` token only where a newline or `;` ends a statement.
"""

from __future__ import annotations

from typing import Optional

from ..vendor.lark_runtime import Token

from .. import codes
from ..diagnostics import SourceError
from ..span import token_span

# The deepest nesting of bodies kd accepts, below the 100 indentation levels
# of Python's parser, with room for the function around a body.
MAX_BODIES = 90

# A "{" after one of these opens a body (`model m {`, `if x > 1 {`); after
# anything else it opens a dict (`loss={...}`, `f({...})`).
_ENDS_EXPRESSION = {"RPAR", "RSQB", "NAME", "NUMBER", "STRING", "TRUE", "FALSE", "NONE", "RDICT"}


_OPENERS = {"LPAR": ")", "LSQB": "]"}


_CLOSERS = {"RPAR": "LPAR", "RSQB": "LSQB"}

# The tokens the post-lexer looks at; every other one passes straight through.
_SPECIAL = frozenset({"COMMENT", "NL", "SEMI", "LBRACE", "RBRACE", *_OPENERS, *_CLOSERS})


class LayoutState:
    """What the post-lexer knows at a point of the token stream."""

    def __init__(self) -> None:
        self.stack: list = []  # open brackets: (kind, token), kind in LPAR LSQB body dict
        self.bodies = 0  # how many of them are bodies
        self.comments: list = []


class Layout:
    """A Lark post-lexer: turns newlines and ";" into statement separators
    where they end a statement, and tells body braces from dict braces.

    Newlines are dropped inside (), [] and dict braces, just before or after
    "->", at the start of a body and of the file, before "}" and before an
    `else` that follows "}"; runs of separators become one.
    """

    always_accept = ("NL", "SEMI", "LBRACE", "RBRACE", "COMMENT")

    def __init__(self) -> None:
        self.state = LayoutState()

    def process(self, stream):
        self.state = state = LayoutState()
        prev = prev2 = None
        pending = None
        special = _SPECIAL
        for tok in stream:
            kind = tok.type
            if kind not in special:  # most tokens: passed on as they are
                if pending is not None:
                    if kind != "ARROW" and not (kind == "ELSE" and prev.type == "RBODY"):
                        yield pending
                    pending = None
                yield tok
                prev2, prev = prev, tok
                continue
            if kind == "COMMENT":
                state.comments.append(tok)
                continue
            if kind in ("NL", "SEMI"):
                if state.stack and state.stack[-1][0] != "body" and kind == "NL":
                    continue
                if prev is None or prev.type in ("LBODY", "ARROW", "_SEP"):
                    continue
                pending = pending or Token.new_borrow_pos("_SEP", tok.value, tok)
                continue
            if pending is not None:
                if kind != "RBRACE":
                    yield pending
                pending = None
            tok = self._rewrite_brace(tok, prev, prev2)
            self._track(tok)
            yield tok
            prev2, prev = prev, tok

    def _rewrite_brace(self, tok, prev, prev2):
        if tok.type == "LBRACE":
            body = prev is not None and (
                prev.type in _ENDS_EXPRESSION or (prev.type == "ELSE" and prev2 is not None and prev2.type == "RBODY")
            )
            return Token.new_borrow_pos("LBODY" if body else "LDICT", tok.value, tok)
        if tok.type == "RBRACE" and self.state.stack and self.state.stack[-1][0] in ("body", "dict"):
            kind = self.state.stack[-1][0]
            return Token.new_borrow_pos("RBODY" if kind == "body" else "RDICT", tok.value, tok)
        return tok

    def _track(self, tok) -> None:
        stack = self.state.stack
        kind = tok.type
        if kind in _OPENERS:
            stack.append((kind, tok))
        elif kind == "LBODY":
            stack.append(("body", tok))
            self.state.bodies += 1
            self._check_nesting(tok)
        elif kind == "LDICT":
            stack.append(("dict", tok))
        elif kind in _CLOSERS or kind in ("RBODY", "RDICT"):
            if stack and stack.pop()[0] == "body":
                self.state.bodies -= 1

    def _check_nesting(self, tok) -> None:
        """Python's own parser takes at most 100 levels of indentation; kd's
        bodies stay well inside, whatever --max-depth says, so every accepted
        source gives a valid module (brackets: see TreeBuilder)."""
        if self.state.bodies > MAX_BODIES:
            raise SourceError(codes.TOO_DEEP, f"nesting too deep: more than {MAX_BODIES} bodies inside each other",
                              token_span(tok),
                              "split the expression or the nested statements (Python's parser allows no more)")

    def unclosed(self) -> Optional[Token]:
        """The innermost bracket still open where the stream stopped."""
        for kind, tok in reversed(self.state.stack):
            if kind != "body":
                return tok
        return None
