"""A small layout algebra (Wadler's "prettier printer", as prettier uses it)
and its renderer.

A document is a str (text without newlines), a list (the concatenation of
its items), or one of the classes below.  A `Group` is laid out flat (its
lines become their flat text) when it fits in the rest of the line, and
broken (its lines become newlines) otherwise; a group that holds a hard line
or a comment is always broken, and so are the groups around it.
"""

from __future__ import annotations

INDENT = 4


class Group:
    __slots__ = ("parts", "broken")

    def __init__(self, parts, broken: bool = False):
        self.parts = parts
        self.broken = broken


class Indent:
    """PARTS with every line break inside one level deeper."""

    __slots__ = ("parts",)

    def __init__(self, parts):
        self.parts = parts


class Line:
    __slots__ = ("flat", "hard")

    def __init__(self, flat: str, hard: bool = False):
        self.flat = flat
        self.hard = hard


class IfBreak:
    """BROKEN in a broken group, FLAT in a flat one."""

    __slots__ = ("broken", "flat")

    def __init__(self, broken, flat=""):
        self.broken = broken
        self.flat = flat


class Trailing:
    """A comment at the end of a line: printed, but not counted against the
    line length, and a line break must follow it."""

    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text


class _BreakParent:
    __slots__ = ()


LINE = Line(" ")  # a space, or a newline
SOFTLINE = Line("")  # nothing, or a newline
HARDLINE = Line("", hard=True)  # always a newline
BREAK_PARENT = _BreakParent()  # breaks the groups around it

_FLAT, _BREAK = 0, 1


def _fits(next_cmd, rest: list, width: int) -> bool:
    """Whether NEXT_CMD, a group laid out flat, and what follows it up to
    the next line break, fit in WIDTH columns.  A group that holds a hard
    line, a trailing comment or a group that must break cannot be flat: it
    does not fit (this is how breaks spread to the groups around them)."""
    stack = [next_cmd[1:]]
    rest_index = len(rest)
    while width >= 0:
        if not stack:
            if rest_index == 0:
                return True
            rest_index -= 1
            stack.append(rest[rest_index][1:])
            continue
        mode, item = stack.pop()
        kind = type(item)
        if kind is str:
            width -= len(item)
        elif kind is list:
            stack.extend([(mode, x) for x in reversed(item)])
        elif kind is Line:
            if mode == _BREAK:
                return True
            if item.hard:
                return False
            width -= len(item.flat)
        elif kind is Group:
            if item.broken:
                if mode == _FLAT:
                    return False
                stack.append((_BREAK, item.parts))
            else:
                stack.append((mode, item.parts))
        elif kind is Indent:
            stack.append((mode, item.parts))
        elif kind is IfBreak:
            stack.append((mode, item.broken if mode == _BREAK else item.flat))
        elif mode == _FLAT:  # a trailing comment, or a break-parent mark
            return False
    return False


def render(doc, width: int) -> str:
    """DOC laid out in lines of at most WIDTH columns where it can be, with
    no trailing whitespace."""
    out: list = []
    column = 0
    cmds = [(0, _BREAK, doc)]
    while cmds:
        indent, mode, item = cmds.pop()
        kind = type(item)
        if kind is str:
            out.append(item)
            column += len(item)
        elif kind is list:
            cmds.extend((indent, mode, x) for x in reversed(item))
        elif kind is Group:
            if mode == _FLAT:
                cmds.append((indent, _FLAT, item.parts))
            elif not item.broken and _fits((indent, _FLAT, item.parts), cmds, width - column):
                cmds.append((indent, _FLAT, item.parts))
            else:
                cmds.append((indent, _BREAK, item.parts))
        elif kind is Indent:
            cmds.append((indent + INDENT, mode, item.parts))
        elif kind is Line:
            if mode == _FLAT and not item.hard:
                out.append(item.flat)
                column += len(item.flat)
            else:
                out.append("\n" + " " * indent)
                column = indent
        elif kind is IfBreak:
            cmds.append((indent, mode, item.broken if mode == _BREAK else item.flat))
        elif kind is Trailing:
            out.append(item.text)
            column += len(item.text)
    text = "".join(out)
    return "\n".join(line.rstrip() for line in text.split("\n"))
