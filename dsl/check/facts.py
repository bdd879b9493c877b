"""What each expression evaluated to, recorded while a program is checked.

The editor asks "what is here?" for a position; the answer is the values the
expression at that position took.  An expression inside a block called
three times, or inside a loop, takes several values: the first few are kept
(with how many there were in all), which is what a hover shows.

Recording is off unless a `Facts` is given to the evaluator, so the command
line pays nothing for it.
"""

from __future__ import annotations

from ..records import field, record
from typing import Any

# Values kept per expression: every call of a block in a real model (ResNet50 calls one 16 times),
# bounded so that a loop of a million iterations cannot make the facts grow without end.
KEPT_VALUES = 1024


@record(eq=False, slots=True)
class Fact:
    """The values one node (an expression, or a name being bound) took."""

    node: Any
    filename: str  # the display name of its file
    values: list = field(default_factory=list)
    count: int = 0  # evaluations in all (values keeps the first KEPT_VALUES)
    outputs: list = field(default_factory=list)  # chain steps: the tensors they gave

    def add(self, value) -> None:
        self.count += 1
        if len(self.values) < KEPT_VALUES:
            self.values.append(value)


class Facts:
    """Facts by node, for one check of a program."""

    def __init__(self):
        self.by_node: dict = {}  # id(node) -> Fact

    def record(self, filename: str, node, value) -> None:
        """NODE (of the file named FILENAME) evaluated to VALUE."""
        fact = self.by_node.get(id(node))
        if fact is None:
            fact = self.by_node[id(node)] = Fact(node, filename)
        fact.add(value)

    def record_output(self, filename: str, step, value) -> None:
        """The chain STEP gave the tensor VALUE."""
        fact = self.by_node.get(id(step))
        if fact is None:
            fact = self.by_node[id(step)] = Fact(step, filename)
        if len(fact.outputs) < KEPT_VALUES:
            fact.outputs.append(value)

    def get(self, node):
        """The Fact of NODE, or None when it was never evaluated."""
        return self.by_node.get(id(node))
