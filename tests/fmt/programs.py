"""Random kd programs for the formatter's property tests: every construct of
the grammar, with random spacing, line breaks, semicolons, trailing commas,
redundant parentheses, and comments in every place a comment may stand.

`programs(imports_first=True)` is a hypothesis strategy of source texts.  A
program is written as a list of tokens and gaps; each gap is then filled
with what may stand there: only spaces inside a statement, anything
(newlines, comments) inside brackets and around `->`, newlines or `;`
between statements.
"""

from __future__ import annotations

from hypothesis import strategies as st

NAMES = ["x", "y", "z", "a", "b", "conv", "Dense", "Conv2D", "units", "as", "x_1", "_t"]
NUMBERS = ["0", "1", "64", "1_000", "0.5", ".5", "1.", "1e-3", "2.5E+4", "007", "3_2.1_0"]
STRINGS = [
    '"relu"', "'same'", '"it\'s"', "'say \"hi\"'", "'a\\'b'", '"a\\"b"', '""', "''",
    '"tab\\tnew\\nline"', "'\\x41\\u00e9\\\\'", '"#not a comment"', "'{braces}'",
]
COMMENT_TEXT = st.text(alphabet="abc XYZ#{}()[]->:;,'\"\\=é", max_size=12)
BINARY = ["+", "-", "*", "/", "//", "%", "**"]
COMPARE = ["==", "!=", "<", "<=", ">", ">="]

# Binding strengths, as the grammar nests its rules (weakest first).
CHAIN, IFEXP, OR, AND, NOT, COMPARISON, ARITH, TERM, UNARY, POWER, POSTFIX, ATOM = range(1, 13)
_LEVEL = {"+": ARITH, "-": ARITH, "*": TERM, "/": TERM, "//": TERM, "%": TERM, "**": POWER}


class Writer:
    """Writes one random program as tokens and gaps."""

    def __init__(self, draw, max_depth: int = 3):
        self.draw = draw
        self.pieces: list = []  # ("tok", text) or ("gap", kind)
        self.brackets: list = []  # open brackets: "(", "[", "{" (dict) or "body"
        self.max_depth = max_depth

    # -- pieces

    def choice(self, options):
        return self.draw(st.sampled_from(options))

    def flip(self, p: float = 0.5) -> bool:
        return self.draw(st.floats(0, 1)) < p

    def gap(self, kind: str) -> None:
        self.pieces.append(("gap", kind))

    def tok(self, text: str, free_before: bool = False) -> None:
        if self.pieces and self.pieces[-1][0] == "tok":
            free = free_before or (self.brackets and self.brackets[-1] != "body")
            self.gap("free" if free else "space")
        self.pieces.append(("tok", text))

    def open(self, text: str, kind: str) -> None:
        self.tok(text)
        self.brackets.append(kind)

    def close(self, text: str) -> None:
        self.tok(text)
        self.brackets.pop()

    # -- expressions

    def expr(self, weakest: int = CHAIN, depth: int = 0) -> None:
        """An expression that may stand where WEAKEST is accepted, wrapped in
        parentheses when it is weaker (and sometimes when it is not)."""
        if depth >= self.max_depth:
            form = self.choice(["name", "number", "string", "const"])
        else:
            form = self.choice([
                "name", "name", "number", "string", "const", "tuple", "list", "dict", "unary", "not",
                "binary", "compare", "boolop", "ifexp", "call", "call", "subscript", "attribute", "chain",
            ])
        strength = {
            "chain": CHAIN, "ifexp": IFEXP, "boolop": OR, "not": NOT, "compare": COMPARISON,
            "unary": UNARY, "binary": ARITH, "call": POSTFIX, "subscript": POSTFIX, "attribute": POSTFIX,
        }.get(form, ATOM)
        extra = self.flip(0.08) and form not in ("tuple",)
        wrap = strength < weakest or extra
        if wrap:
            self.open("(", "(")
            getattr(self, "_" + form)(depth + 1, CHAIN)
            self.close(")")
        else:
            getattr(self, "_" + form)(depth + 1, weakest)

    def _name(self, depth, weakest):
        self.tok(self.choice(NAMES))

    def _number(self, depth, weakest):
        self.tok(self.choice(NUMBERS))

    def _string(self, depth, weakest):
        self.tok(self.choice(STRINGS))

    def _const(self, depth, weakest):
        self.tok(self.choice(["True", "False", "None"]))

    def _items(self, depth: int, count: int, item, trailing: bool) -> None:
        for i in range(count):
            if i:
                self.tok(",")
            item()
        if count and trailing:
            self.tok(",")

    def _tuple(self, depth, weakest):
        count = self.draw(st.integers(0, 3))
        self.open("(", "(")
        self._items(depth, count, lambda: self.expr(CHAIN, depth), trailing=count == 1 or self.flip(0.3))
        self.close(")")

    def _list(self, depth, weakest):
        count = self.draw(st.integers(0, 3))
        self.open("[", "[")
        self._items(depth, count, lambda: self.expr(CHAIN, depth), trailing=self.flip(0.3))
        self.close("]")

    def _dict(self, depth, weakest):
        count = self.draw(st.integers(0, 3))
        self.open("{", "{")

        def entry():
            if self.flip():
                self.tok(self.choice(NAMES))
            else:
                self.expr(CHAIN, depth)
            self.tok(":")
            self.expr(CHAIN, depth)

        self._items(depth, count, entry, trailing=self.flip(0.3))
        self.close("}")

    def _unary(self, depth, weakest):
        self.tok(self.choice(["-", "+"]))
        self.expr(UNARY, depth)

    def _not(self, depth, weakest):
        self.tok("not")
        self.expr(NOT, depth)

    def _binary(self, depth, weakest):
        op = self.choice(BINARY)
        level = _LEVEL[op]
        if op == "**":
            self.expr(POSTFIX, depth)
            self.tok(op)
            self.expr(UNARY, depth)
        else:
            self.expr(level, depth)
            self.tok(op)
            self.expr(level + 1, depth)

    def _compare(self, depth, weakest):
        self.expr(ARITH, depth)
        for _ in range(self.draw(st.integers(1, 2))):
            self.tok(self.choice(COMPARE))
            self.expr(ARITH, depth)

    def _boolop(self, depth, weakest):
        op = self.choice(["and", "or"])
        for i in range(self.draw(st.integers(2, 3))):
            if i:
                self.tok(op)
            self.expr(AND if op == "or" else NOT, depth)

    def _ifexp(self, depth, weakest):
        self.expr(OR, depth)
        self.tok("if")
        self.expr(OR, depth)
        self.tok("else")
        self.expr(IFEXP, depth)

    def _call(self, depth, weakest, func: str = None):
        if func is None:
            if self.flip(0.8):
                self.tok(self.choice(NAMES))
            else:
                self.expr(POSTFIX, depth)
        else:
            self.tok(func)
        self.open("(", "(")
        positional = self.draw(st.integers(0, 2))
        keywords = self.draw(st.lists(st.sampled_from(NAMES), max_size=2, unique=True))
        total = positional + len(keywords)
        for i in range(total):
            if i:
                self.tok(",")
            if i < positional:
                self.expr(CHAIN, depth)
            else:
                self.tok(keywords[i - positional])
                self.tok("=")
                self.expr(CHAIN, depth)
        if total and self.flip(0.3):
            self.tok(",")
        self.close(")")

    def _subscript(self, depth, weakest):
        self.expr(POSTFIX, depth)
        self.open("[", "[")
        # kd 1.1: several indexes separated by commas (`x[:, 0]`), `...` and None among them.
        count = self.choice([1, 1, 1, 2, 3])
        self._items(depth, count, lambda: self._index(depth), trailing=self.flip(0.15))
        self.close("]")

    def _index(self, depth):
        form = self.choice(["expr", "slice", "slice", "ellipsis", "none"])
        if form == "expr":
            self.expr(CHAIN, depth)
        elif form == "ellipsis":
            self.tok("...")
        elif form == "none":
            self.tok("None")
        else:
            parts = [self.flip() for _ in range(3)]
            if parts[0]:
                self.expr(CHAIN, depth)
            self.tok(":")
            if parts[1]:
                self.expr(CHAIN, depth)
            if self.flip():
                self.tok(":")
                if parts[2]:
                    self.expr(CHAIN, depth)

    def _attribute(self, depth, weakest):
        if self.flip(0.15):  # kd 1.1: a function of keras.ops, called or not
            self.tok("ops")
            self.tok(".")
            self.tok(self.choice(["mean", "softmax", "arange"]))
            return
        if self.flip(0.7):
            self.tok(self.choice(NAMES))
        else:
            self.expr(POSTFIX, depth)
            if self.pieces[-1][1][0].isdigit() or self.pieces[-1][1][0] == ".":
                self.pieces.pop()  # `1 .x` would need a space: use a name
                self.pieces.pop()
                self.tok(self.choice(NAMES))
        self.tok(".")
        self.tok(self.choice(["shape", "trainable", "x"]))

    def _chain(self, depth, weakest):
        for i in range(self.draw(st.integers(2, 4))):
            if i:
                self.tok("->", free_before=True)
                self.pieces.append(("gap", "free"))
                self.pieces.append(("tok", ""))  # an empty token: the gap after the arrow is free too
            self.expr(IFEXP, depth)

    def testlist(self, depth: int = 0) -> None:
        count = self.draw(st.integers(1, 3)) if self.flip(0.2) else 1
        for i in range(count):
            if i:
                self.tok(",")
            self.expr(CHAIN, depth)
        if count == 1 and self.flip(0.05) or count > 1 and self.flip(0.2):
            self.tok(",")

    # -- statements

    def names(self, allow_one_unpack: bool = True) -> None:
        count = self.draw(st.integers(1, 3))
        for i in range(count):
            if i:
                self.tok(",")
            self.tok(self.choice(NAMES))
        if count == 1 and allow_one_unpack and self.flip(0.1) or count > 1 and self.flip(0.1):
            self.tok(",")

    def statement(self, depth: int) -> None:
        kinds = ["assign", "assign", "annotated", "trainable", "output", "output_value", "return",
                 "expr", "compile"]
        if depth < 2:
            kinds += ["for", "if"]
        kind = self.choice(kinds)
        if kind == "assign":
            self.names()
            self.tok("=")
            self.testlist()
        elif kind == "annotated":
            self.tok(self.choice(NAMES))
            self.tok(":")
            self.expr()
            self.tok("=")
            self.testlist()
        elif kind == "trainable":
            self.tok(self.choice(NAMES))
            self.tok(".")
            self.tok("trainable")
            self.tok("=")
            self.testlist()
        elif kind == "output":
            self.tok("output")
            self.names(allow_one_unpack=False)
        elif kind == "output_value":
            self.tok("output")
            self.tok(self.choice(NAMES))
            if self.flip(0.3):
                self.tok(":")
                self.expr()
            self.tok("=")
            self.testlist()
        elif kind == "return":
            self.tok("return")
            self.testlist()
        elif kind == "expr":
            self.expr_statement()
        elif kind == "compile":
            self._call(0, CHAIN, func="compile")
        elif kind == "for":
            self.tok("for")
            self.names()
            self.tok("in")
            self.expr()
            self.body(depth + 1)
        else:
            self.tok("if")
            self.expr()
            self.body(depth + 1)
            for _ in range(self.draw(st.integers(0, 2))):
                self.else_gap()
                self.tok("else")
                self.tok("if")
                self.expr()
                self.body(depth + 1)
            if self.flip():
                self.else_gap()
                self.tok("else")
                self.body(depth + 1)

    def expr_statement(self) -> None:
        # A statement may not start with `{` (it would open a body).
        start = len(self.pieces)
        self.testlist()
        first = next(p for p in self.pieces[start:] if p[0] == "tok")
        if first[1] == "{":
            del self.pieces[start:]
            self.tok(self.choice(NAMES))

    def else_gap(self) -> None:
        self.pieces.append(("gap", "else"))
        self.pieces.append(("tok", ""))

    def body(self, depth: int) -> None:
        self.tok("{")
        self.brackets.append("body")
        count = self.draw(st.integers(0, 3))
        self.pieces.append(("gap", "open"))
        for i in range(count):
            if i:
                self.pieces.append(("gap", "sep"))
            self.pieces.append(("tok", ""))
            self.statement(depth)
        if count:
            self.pieces.append(("gap", "close"))
        self.pieces.append(("tok", "}"))
        self.brackets.pop()

    # -- the file

    def params(self) -> None:
        self.open("(", "(")
        count = self.draw(st.integers(0, 3))
        names = self.draw(st.lists(st.sampled_from(NAMES), min_size=count, max_size=count, unique=True))
        for i, name in enumerate(names):
            if i:
                self.tok(",")
            self.tok(name)
            if self.flip(0.4):
                self.tok("=")
                self.expr()
        if count and self.flip(0.2):
            self.tok(",")
        self.close(")")

    def item(self, kind: str) -> None:
        if kind == "import":
            self.tok("import")
            self.tok(self.choice(['"common/blocks.kd"', "'lib.kd'"]))
        elif kind == "from":
            self.tok("from")
            self.tok(self.choice(["my", "my.layers", "a.b.c"]))
            self.tok("import")
            parens = self.flip()
            if parens:
                self.open("(", "(")
            count = self.draw(st.integers(1, 3))
            for i in range(count):
                if i:
                    self.tok(",")
                self.tok(self.choice(["Gated", "Scale", "x"]))
                if self.flip(0.3):
                    self.tok("as")
                    self.tok(self.choice(["G", "S"]))
            if parens:
                if self.flip(0.3):
                    self.tok(",")
                self.close(")")
        else:
            self.tok(kind)
            self.tok(self.choice(["m", "b", "net", "block1"]))
            if kind == "block" or self.flip(0.7):
                self.params()
            self.body(0)

    def program(self, imports_first: bool) -> None:
        count = self.draw(st.integers(0, 4))
        kinds = [self.choice(["import", "from", "model", "block", "model"]) for _ in range(count)]
        if imports_first:
            kinds.sort(key=lambda k: k not in ("import", "from"))
        self.pieces.append(("gap", "start"))
        for i, kind in enumerate(kinds):
            if i:
                # `; model m` below `##` lines that belong to something else
                # would make them its doc comment: kdsl fmt refuses that file.
                self.pieces.append(("gap", "top" if kind in ("import", "from") else "top_line"))
            self.pieces.append(("tok", ""))
            self.item(kind)
        self.pieces.append(("gap", "end"))


# ------------------------------------------------------------------ text


def _word(ch: str) -> bool:
    return ch.isalnum() or ch in "_'\".)"


class Layout:
    """Fills the gaps of a written program."""

    def __init__(self, draw):
        self.draw = draw

    def comment(self) -> str:
        text = self.draw(COMMENT_TEXT)
        return "#" + self.draw(st.sampled_from(["", "#", " "])) + text

    def indent(self) -> str:
        return self.draw(st.sampled_from(["", "  ", "    ", "\t", "        "]))

    def spaces(self, need: bool) -> str:
        return self.draw(st.sampled_from([" ", "  "] if need else ["", " ", "  "]))

    def broken(self, allow_trailing: bool = True) -> str:
        """A line break with maybe comments: trailing, own-line, blank lines."""
        out = ""
        if allow_trailing and self.draw(st.booleans()):
            out += self.spaces(True) + self.comment()
        out += "\n"
        for _ in range(self.draw(st.integers(0, 2))):
            if self.draw(st.booleans()):
                out += "\n"
            out += self.indent() + self.comment() + "\n"
        if self.draw(st.integers(0, 4)) == 0:
            out += "\n"
        return out + self.indent()

    def fill(self, kind: str, before: str, after: str) -> str:
        need = bool(before) and bool(after) and _word(before[-1]) and _word(after[0]) or (
            before.endswith("-") and after.startswith(">")
        )
        if kind == "space":
            return self.spaces(need)
        if kind in ("free", "else", "open", "close"):
            if self.draw(st.integers(0, 2)) == 0:
                return self.spaces(need)
            return self.broken()
        if kind == "sep":
            if self.draw(st.integers(0, 3)) == 0:
                return self.spaces(False) + ";" + self.spaces(False)
            return self.broken()
        if kind == "top":
            if self.draw(st.integers(0, 5)) == 0:
                return ";" + self.spaces(False)
            return self.broken()
        if kind == "top_line":
            return self.broken()
        if kind == "start":
            return self.broken(allow_trailing=False).lstrip(" \t") if self.draw(st.booleans()) else ""
        if kind == "end":
            return self.broken() if self.draw(st.booleans()) else self.draw(st.sampled_from(["", "\n"]))
        raise ValueError(kind)

    def text(self, pieces: list) -> str:
        out: list = []
        tail = ""  # the last characters written
        for i, (kind, value) in enumerate(pieces):
            if kind == "gap":
                after = next((v for k, v in pieces[i + 1:] if k == "tok" and v), "")
                value = self.fill(value, tail, after)
            out.append(value)
            tail = (tail + value)[-2:]
        return "".join(out)


@st.composite
def programs(draw, imports_first: bool = True):
    """A random kd program (syntactically valid) as text."""
    writer = Writer(draw)
    writer.program(imports_first)
    return Layout(draw).text(writer.pieces)
