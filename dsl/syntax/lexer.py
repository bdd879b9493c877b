"""Lark's basic lexer, with a tighter loop.

`KdLexer` is given to Lark as its basic lexer (the `_plugins` option) and
lexes exactly as Lark's own: the same terminals in Lark's order of priority,
the same tokens with the same positions, Lark's errors.  Only the loop is
its own: one regular expression over the text, line numbers counted where a
token can hold a newline, a keyword's type looked up once per spelling
instead of matching the keyword scanner per name.  On a 20,000-line file
that is a quarter of the lexing time.

Whatever it does not know how to take the fast way (a grammar needing more
than one regular expression, a callback other than Lark's keyword check),
it leaves to Lark's loop; tests/test_parse.py compares both on every example
and on generated text.
"""

from __future__ import annotations

from contextlib import suppress

from ..vendor.lark_runtime import BasicLexer, Token, UnlessCallback

# Python's re takes at most this many named groups in one expression.
_MAX_GROUPS = 100


class KdLexer(BasicLexer):
    """Lark's BasicLexer; `lex` takes the fast loop when it can."""

    _fast = None

    def _fast_parts(self):
        """(pattern, keyword callback) for the fast loop, or False."""
        if self._fast is None:
            scanner = self.scanner  # builds Lark's terminals and callbacks
            callbacks = dict(self.callback)
            keyword = callbacks.pop("NAME", None)
            terminals = scanner.terminals
            if callbacks or not isinstance(keyword, (UnlessCallback, type(None))) or len(terminals) >= _MAX_GROUPS:
                self._fast = False
            else:
                # Lark's own scanner expression: the terminals in its order of priority.
                pattern = "|".join(f"(?P<{t.name}>{t.pattern.to_regexp()})" for t in terminals)
                self._fast = (self.re.compile(pattern, self.g_regex_flags), keyword)
        return self._fast

    def lex(self, state, parser_state):
        fast = self._fast_parts() if not self.use_bytes else False
        if not fast:
            yield from super().lex(state, parser_state)
            return
        pattern, keyword = fast
        match = pattern.match
        ignore, newline_types = self.ignore_types, self.newline_types
        keyword_types: dict = {}
        new_str = str.__new__
        counter = state.line_ctr
        text, end = state.text.text, state.text.end
        pos, line, line_start = counter.char_pos, counter.line, counter.line_start_pos
        while pos < end:
            found = match(text, pos, end)
            if found is None:
                break  # Lark's loop reports the error, from here
            kind, value, start, pos = found.lastgroup, found.group(), pos, found.end()
            start_line, column = line, start - line_start + 1
            if kind in newline_types and "\n" in value:
                line += value.count("\n")
                line_start = start + value.rindex("\n") + 1
            if kind in ignore:
                continue
            if kind == "NAME" and keyword is not None:
                known = keyword_types.get(value)
                if known is None:
                    known = keyword_types[value] = keyword(Token("NAME", value)).type
                kind = known
            # Token(...) goes through Lark's check for a deprecated keyword;
            # the same fields, set directly, cost half as much.
            token = new_str(Token, value)
            token.type, token.value, token.start_pos, token.end_pos = kind, value, start, pos
            token.line, token.column, token.end_line, token.end_column = start_line, column, line, pos - line_start + 1
            state.last_token = token
            yield token
        counter.char_pos, counter.line, counter.line_start_pos = pos, line, line_start
        counter.column = pos - line_start + 1
        with suppress(EOFError):
            while True:
                yield self.next_token(state, parser_state)
