"""Lark's LALR parser, with a tighter loop.

`KdLalrParser` is given to Lark as its LALR parser (the `_plugins` option)
and parses exactly as Lark's own: Lark's tables, Lark's tree-builder
callbacks, Lark's errors.  Only the driving loop is its own.  Lark feeds
each token through a method call that looks its tables up again and finds
a reduction's callback by hashing the grammar rule (a Python-level
`__hash__` and `__eq__`); here every action is decoded once per parser into
plain tuples (shift: the next state; reduce: the number of values it takes,
the rule's name and its callback) and the loop keeps its stacks in local
variables.  On the 20,000-line chain that is about a fifth of parsing.

An interactive parse (`parse_interactive`), or a parse resumed from given
stacks, is Lark's own; tests/test_parse.py compares trees and errors of
both loops.
"""

from __future__ import annotations

from itertools import chain

from ..vendor.lark_runtime import (
    ExpandSingleChild, InteractiveParser, LALR_Parser, ParseConf, ParserState, Shift, Token, UnexpectedInput,
    UnexpectedToken, _Parser,
)


def _decoded_actions(states: dict, callbacks: dict) -> dict:
    """Each state's actions as tuples: (True, next state) for a shift (and a
    goto), (False, values taken, rule name, callback) for a reduction.  The
    callback is None where the reduction passes its one value through
    unchanged (see `_passes_its_value`)."""
    decoded = {}
    for state, actions in states.items():
        row = {}
        for symbol, (action, arg) in actions.items():
            if action is Shift:
                row[symbol] = (True, arg)
            else:
                size, callback = len(arg.expansion), callbacks[arg]
                row[symbol] = (False, size, arg.origin.name, None if _passes_its_value(size, callback) else callback)
        decoded[state] = row
    return decoded


def _passes_its_value(size: int, callback) -> bool:
    """Whether reducing one value with CALLBACK gives that value back: Lark's
    wrapper for a `?rule` with one child, or a tree-builder method marked
    `passes_one_child`.  A line like `x = Dense(8)(x)` has six such
    reductions of seventeen."""
    if size != 1:
        return False
    return isinstance(callback, ExpandSingleChild) or getattr(callback, "passes_one_child", False) is True


class _FastLoop(_Parser):
    """Lark's `_Parser`, whose non-interactive parse runs `_run`."""

    _actions = None  # decoded on the first parse (`_decoded_actions`)
    _on_token: dict = {}  # terminal callbacks (a transformer method named after a terminal)

    def parse(self, lexer, start, value_stack=None, state_stack=None, start_interactive=False):
        if start_interactive or value_stack is not None or state_stack is not None:
            return super().parse(lexer, start, value_stack, state_stack, start_interactive)
        return self._run(ParserState(ParseConf(self.parse_table, self.callbacks, start), lexer))

    def _run(self, state: ParserState):
        """Lark's `parse_from_state` and `ParserState.feed_token` in one loop."""
        if self._actions is None:
            self._actions = _decoded_actions(self.parse_table.states, self.callbacks)
            self._on_token = {key: value for key, value in self.callbacks.items() if isinstance(key, str)}
        actions, on_token = self._actions, self._on_token
        end_state = state.parse_conf.end_state
        states, values = state.state_stack, state.value_stack
        push_state, push_value = states.append, values.append
        token = None

        def end_of_input():
            # Lark's end token, placed at the last token the parser took
            # (`token`, until this one replaces it).
            yield Token.new_borrow_pos("$END", "", token) if token is not None else Token("$END", "", 0, 1, 1)

        try:
            for token in chain(state.lexer.lex(state), end_of_input()):
                kind = token.type
                while True:
                    action = actions[states[-1]].get(kind)
                    if action is None:
                        _unexpected(state, token)
                    if action[0]:
                        push_state(action[1])
                        push_value(on_token[kind](token) if kind in on_token else token)
                        break
                    _, size, name, callback = action
                    if callback is None:  # the one value stays where it is
                        del states[-1]
                    else:
                        if size:
                            taken = values[-size:]
                            del states[-size:]
                            del values[-size:]
                        else:
                            taken = []
                        push_value(callback(taken))
                    push_state(actions[states[-1]][name][1])
                    if states[-1] == end_state and kind == "$END":
                        return values[-1]
        except UnexpectedInput as exc:
            exc.interactive_parser = InteractiveParser(self, state, state.lexer)
            raise
        raise AssertionError("the end of input was shifted")  # Lark's tables never do


def _unexpected(state: ParserState, token: Token):
    """Raise Lark's error for TOKEN where the parser stands."""
    row = state.parse_conf.states[state.position]
    expected = {symbol for symbol in row if symbol.isupper()}
    raise UnexpectedToken(token, expected, state=state, interactive_parser=None)


class KdLalrParser(LALR_Parser):
    """Lark's LALR_Parser, driven by `_FastLoop`."""

    def __init__(self, parser_conf, debug: bool = False, strict: bool = False):
        super().__init__(parser_conf, debug, strict)
        self.parser = _FastLoop(self._parse_table, parser_conf.callbacks, debug)

    @classmethod
    def deserialize(cls, data, memo, callbacks, debug=False):
        inst = super().deserialize(data, memo, callbacks, debug)
        inst.parser = _FastLoop(inst._parse_table, callbacks, debug)
        return inst
