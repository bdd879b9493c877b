"""A block the importer found (folding, motifs), before it is written."""

from __future__ import annotations

from ..records import field, record

from ..syntax import tree as n
from .emit import Body, Namer, write_body


@record
class Block:
    """A block found: its parameters (after the tensors), the steps of its
    body (with parameters in their arguments), what they read and give."""

    name: str
    tensors: list  # parameter names of the tensors it reads
    params: list  # (name, default expression or None), in order
    steps: list
    heads: list
    out: tuple
    doc: list
    uses: list = field(default_factory=list)

    def definition(self, builder) -> n.BlockDef:
        taken = builder.taken | {p for p, _ in self.params} | set(self.tensors)
        body = Body(self.steps, dict(zip(self.heads, self.tensors)), [self.out], Namer(taken), is_block=True)
        params = [n.Param(t) for t in self.tensors] + [n.Param(p, d) for p, d in self.params]
        return n.BlockDef(self.name, params, n.Body(write_body(body)))
