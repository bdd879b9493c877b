"""The editor's core: sessions that check a workspace's files again and
again, and answers by position (values, definitions, references, comments).

`Session().analyse(path, text)` is the front of the stage; the language
server (dsl.lsp) and other tools query the `Analysis` it returns.
"""

from .analysis import Analysis, Location, ValueAt
from .positions import LineIndex, Position, Range
from .symbols import Symbol
from .workspace import Session, workspace_sources

__all__ = ["Analysis", "LineIndex", "Location", "Position", "Range", "Session", "Symbol", "ValueAt", "workspace_sources"]
