"""The state of one model or block body being evaluated, and the notes that
say which block calls led to a place."""

from __future__ import annotations

from ..records import field, record
from typing import Any, Optional

from ..diagnostics import Related
from ..semantics.naming import ModelNaming
from ..syntax import tree as n
from .graph import ModelGraph


@record(eq=False)
class Frame:
    """The state of one model or block body being run."""

    file: Any  # program.SourceFile
    definition: Any
    scope: Any
    graph: ModelGraph
    env: dict = field(default_factory=dict)
    naming: Optional[ModelNaming] = None  # models only
    input_shapes: Optional[list] = None  # overrides when a model is re-run on new inputs
    caller: Optional["Frame"] = None  # blocks: the frame that called this one
    call_span: Optional[n.Span] = None  # blocks: where they were called
    block_call: Any = None  # blocks: this call's graph.BlockCall

    @property
    def is_model(self) -> bool:
        return isinstance(self.definition, n.ModelDef)


class _EmptyScope:
    names: frozenset = frozenset()
    broken: frozenset = frozenset()

    def is_local(self, name: str) -> bool:
        return False


EMPTY_SCOPE = _EmptyScope()  # for expressions outside any body (parameter defaults)


def call_sites(frame: Frame, most: int = 4) -> tuple:
    """Notes naming the block calls that led to FRAME, innermost first."""
    notes = []
    while frame.caller is not None and len(notes) < most:
        notes.append(Related(f"in block `{frame.definition.name}`, called here", frame.call_span, frame.caller.file.display))
        frame = frame.caller
    return tuple(notes)


