"""Layout patterns: Python regular expressions, checked, and matched in
linear time.

Keras's LayoutMap matches its keys against variable paths with
`re.fullmatch`.  kdsl must give the same answers at check time, on
patterns and layer names from sources it does not trust, and Python's `re`
backtracks: `(a*)*b` takes exponential time, and even `.*a.*a.*b` takes
the cube of the path's length.  So kdsl parses a pattern with Python's own
parser (the same tree `re` compiles, the same syntax errors) and matches
it with a Thompson automaton, whose work per character is bounded by the
pattern's size, whatever the pattern.

The regular part of Python's syntax is supported: literals, `.`, classes
(`[a-z_]`, `\\d`, `\\w`, `\\s` and their negations, Unicode-aware as `re`
is for str patterns), groups, `|`, every quantifier, greedy or lazy, and the
anchors `^ $ \\A \\Z \\b \\B`.  What is not regular or changes the meaning
of the rest is refused with a `PatternError`: backreferences, lookarounds,
conditionals, atomic groups, possessive quantifiers and flags (`(?i)`).
"""

from __future__ import annotations

try:  # Python 3.11+
    from re import _constants as C
    from re import _parser as _sre_parse
except ImportError:  # Python 3.10
    import sre_constants as C  # type: ignore[no-redef]
    import sre_parse as _sre_parse  # type: ignore[no-redef]

import re
from .records import field, record
from typing import Callable

MAX_STATES = 10_000  # automaton states a pattern may expand to (`a{1000}` is 1,000)
MAX_NESTING = 100  # groups and quantifiers inside each other

_CHAR, _SPLIT, _ASSERT, _MATCH = range(4)
# Flags a pattern may carry: str patterns are Unicode; (?x) changes only how it is read.
_ALLOWED_FLAGS = C.SRE_FLAG_UNICODE | C.SRE_FLAG_VERBOSE
_REFUSED = {
    C.GROUPREF: "a backreference",
    C.GROUPREF_EXISTS: "a conditional group",
    C.ASSERT: "a lookahead or lookbehind",
    C.ASSERT_NOT: "a lookahead or lookbehind",
}
_ANCHORS = frozenset({C.AT_BEGINNING, C.AT_BEGINNING_STRING, C.AT_END, C.AT_END_STRING, C.AT_BOUNDARY, C.AT_NON_BOUNDARY})
for _name, _what in (("ATOMIC_GROUP", "an atomic group"), ("POSSESSIVE_REPEAT", "a possessive quantifier")):
    if hasattr(C, _name):  # Python 3.11+
        _REFUSED[getattr(C, _name)] = _what


class PatternError(Exception):
    """A pattern that is not a valid regular expression, or that uses what
    kdsl's matcher refuses.  POSITION is the offset in the pattern, or None."""

    def __init__(self, message: str, position=None):
        super().__init__(message)
        self.message, self.position = message, position


def _is_word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


_CATEGORIES = {
    C.CATEGORY_DIGIT: str.isdecimal,
    C.CATEGORY_NOT_DIGIT: lambda ch: not ch.isdecimal(),
    C.CATEGORY_SPACE: str.isspace,
    C.CATEGORY_NOT_SPACE: lambda ch: not ch.isspace(),
    C.CATEGORY_WORD: _is_word,
    C.CATEGORY_NOT_WORD: lambda ch: not _is_word(ch),
}


def _class_test(items) -> Callable[[str], bool]:
    """The test of one `[...]` class (or `\\d`, ...), as `re` reads it."""
    negate = bool(items) and items[0][0] is C.NEGATE
    tests = []
    for op, arg in items[1:] if negate else items:
        if op is C.LITERAL:
            tests.append(lambda ch, c=arg: ord(ch) == c)
        elif op is C.RANGE:
            tests.append(lambda ch, lo=arg[0], hi=arg[1]: lo <= ord(ch) <= hi)
        elif op is C.CATEGORY and arg in _CATEGORIES:
            tests.append(_CATEGORIES[arg])
        else:
            raise PatternError(f"kdsl cannot match the class item {op} {arg}")
    if negate:
        return lambda ch: not any(t(ch) for t in tests)
    return lambda ch: any(t(ch) for t in tests)


def _char_test(op, arg):
    if op is C.LITERAL:
        return lambda ch: ord(ch) == arg
    if op is C.NOT_LITERAL:
        return lambda ch: ord(ch) != arg
    if op is C.ANY:
        return lambda ch: ch != "\n"
    return _class_test(arg)


# ------------------------------------------------------------- the automaton


def _size(items, depth: int = 0) -> int:
    """How many states ITEMS compile to, computed before building any."""
    if depth > MAX_NESTING:
        raise PatternError(f"the pattern nests groups and quantifiers more than {MAX_NESTING} deep")
    total = 0
    for op, arg in items:
        if op in (C.MAX_REPEAT, C.MIN_REPEAT):
            low, high, body = arg
            copies = max(low, 1) + (1 if high == C.MAXREPEAT else high - low)
            total += copies * (_size(body, depth + 1) + 1)
        elif op is C.SUBPATTERN:
            total += _size(arg[-1], depth + 1)
        elif op is C.BRANCH:
            total += 1 + sum(_size(alt, depth + 1) for alt in arg[1])
        else:
            total += 1
        if total > MAX_STATES:
            raise PatternError(f"the pattern is too large to match: it expands to more than {MAX_STATES:,} states")
    return total


@record
class _Builder:
    kinds: list = field(default_factory=list)
    args: list = field(default_factory=list)
    outs: list = field(default_factory=list)

    def state(self, kind, arg=None, outs=()) -> int:
        self.kinds.append(kind)
        self.args.append(arg)
        self.outs.append(list(outs))
        return len(self.kinds) - 1

    def sequence(self, items, then: int) -> int:
        """The start of ITEMS followed by the state THEN (built backwards)."""
        start = then
        for op, arg in reversed(list(items)):
            start = self.item(op, arg, start)
        return start

    def item(self, op, arg, then: int) -> int:
        if op in _REFUSED:
            raise PatternError(f"layout patterns cannot use {_REFUSED[op]}")
        if op is C.SUBPATTERN:
            if arg[1] or arg[2]:
                raise PatternError("layout patterns cannot set flags such as (?i:...)")
            return self.sequence(arg[-1], then)
        if op is C.BRANCH:
            return self.state(_SPLIT, outs=[self.sequence(alt, then) for alt in arg[1]])
        if op in (C.MAX_REPEAT, C.MIN_REPEAT):
            return self.repeat(*arg, then)
        if op is C.AT:
            if arg not in _ANCHORS:
                raise PatternError(f"layout patterns cannot use the anchor {str(arg).lower()}")
            return self.state(_ASSERT, arg, [then])
        if op in (C.LITERAL, C.NOT_LITERAL, C.ANY, C.IN):
            return self.state(_CHAR, _char_test(op, arg), [then])
        raise PatternError(f"layout patterns cannot use {str(op).lower()}")

    def repeat(self, low: int, high: int, body, then: int) -> int:
        """BODY LOW times, then up to HIGH (or without end). Greedy and lazy
        quantifiers accept the same strings, which is all fullmatch asks."""
        if high == C.MAXREPEAT:
            loop = self.state(_SPLIT)
            self.outs[loop] = [self.sequence(body, loop), then]
            start = loop
        else:
            start = then
            for _ in range(high - low):
                start = self.state(_SPLIT, outs=[self.sequence(body, start), then])
        for _ in range(low):
            start = self.sequence(body, start)
        return start


def _context(text: str, i: int) -> tuple:
    """What the anchors ask about position I of TEXT."""
    n = len(text)
    return (i == 0, i == n, i == n - 1 and text[i] == "\n",
            i > 0 and _is_word(text[i - 1]), i < n and _is_word(text[i]))


def _holds(at, ctx) -> bool:
    start, end, before_last_newline, word_before, word_after = ctx
    if at in (C.AT_BEGINNING, C.AT_BEGINNING_STRING):
        return start
    if at is C.AT_END:
        return end or before_last_newline
    if at is C.AT_END_STRING:
        return end
    if at is C.AT_BOUNDARY:
        return not (start and end) and word_before != word_after
    return not (start and end) and word_before == word_after  # AT_NON_BOUNDARY


class Pattern:
    """A compiled layout pattern: `fullmatch(path)` answers as
    `re.fullmatch(pattern, path)` does, in time linear in the path."""

    def __init__(self, text: str, builder: _Builder, start: int, anchored: bool):
        self.text = text
        self.kinds, self.args, self.outs = builder.kinds, builder.args, builder.outs
        self.start = start
        self.anchored = anchored  # the pattern has anchors: closures depend on the position
        self._closures: dict = {}
        self._steps: dict = {}

    @property
    def size(self) -> int:
        """The automaton's number of states."""
        return len(self.kinds)

    def _closure(self, states, ctx, spend) -> frozenset:
        key = (states, ctx)
        found = self._closures.get(key)
        if found is None:
            spend(self.size)
            seen, stack = set(), list(states)
            while stack:
                s = stack.pop()
                if s in seen:
                    continue
                seen.add(s)
                kind = self.kinds[s]
                if kind == _SPLIT or (kind == _ASSERT and _holds(self.args[s], ctx)):
                    stack.extend(self.outs[s])
            found = frozenset(s for s in seen if self.kinds[s] in (_CHAR, _MATCH))
            self._closures[key] = found
        return found

    def _step(self, states, ch, spend) -> frozenset:
        key = (states, ch)
        found = self._steps.get(key)
        if found is None:
            spend(len(states) + 1)
            found = frozenset(self.outs[s][0] for s in states if self.kinds[s] == _CHAR and self.args[s](ch))
            self._steps[key] = found
        return found

    def fullmatch(self, text: str, spend: Callable[[int], None] = lambda work: None) -> bool:
        """Whether the whole of TEXT matches.  SPEND is called with the work
        done (states visited) before it is done, so a caller can stop it."""
        context = (lambda i: _context(text, i)) if self.anchored else (lambda i: None)
        states = self._closure(frozenset((self.start,)), context(0), spend)
        for i, ch in enumerate(text):
            spend(1)
            states = self._step(states, ch, spend)
            if not states:
                return False
            states = self._closure(states, context(i + 1), spend)
        return any(self.kinds[s] == _MATCH for s in states)


def compile_pattern(text: str, max_length: int) -> Pattern:
    """Check TEXT as a layout pattern and compile it.  Raises PatternError
    with `re`'s own message for a syntax error, or saying what is refused."""
    if len(text) > max_length:
        raise PatternError(f"the pattern is {len(text):,} characters long; the limit is {max_length:,}")
    try:
        parsed = _sre_parse.parse(text)
    except re.error as err:
        raise PatternError(f"not a regular expression: {err.msg}", err.pos) from None
    except (RecursionError, OverflowError, ValueError) as err:
        raise PatternError(f"not a regular expression kdsl can read: {err}") from None
    if parsed.state.flags & ~_ALLOWED_FLAGS:
        raise PatternError("layout patterns cannot set flags such as (?i)")
    _size(list(parsed))
    builder = _Builder()
    start = builder.sequence(list(parsed), builder.state(_MATCH))
    anchored = any(kind == _ASSERT for kind in builder.kinds)
    return Pattern(text, builder, start, anchored)
