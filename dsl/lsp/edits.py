"""Edits the server offers: rename across files, formatting through
`kdsl fmt`, and quick fixes from diagnostic hints."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Optional

from lsprotocol import types as lsp

from ..codegen.pynames import is_identifier
from ..diagnostics import KdError
from ..fmt.config import ConfigError, Settings
from ..fmt.printer import format_text
from ..fmt.safety import FormatterBug
from ..fmt.widths import DEFAULT_LINE_LENGTH
from .convert import uri_of

_SUGGESTION = re.compile(r"did you mean `([^`]+)`\?")
# kd's keywords cannot be names (the grammar reserves them).
RESERVED = frozenset({"and", "as", "block", "else", "for", "from", "if", "import", "in", "model", "not", "or",
                      "output", "return", "True", "False", "None"})


def rename_edit(locations: list, new_name: str) -> Optional[lsp.WorkspaceEdit]:
    """The edit that renames every occurrence in LOCATIONS (session
    Locations) to NEW_NAME; None when NEW_NAME is no valid kd name."""
    if not is_identifier(new_name) or new_name in RESERVED:
        return None
    changes: dict = {}
    for loc in locations:
        uri = uri_of(Path(loc.path)) if loc.path is not None else loc.filename
        changes.setdefault(uri, []).append(lsp.TextEdit(range=_range(loc), new_text=new_name))
    return lsp.WorkspaceEdit(changes=changes)


def _range(loc) -> lsp.Range:
    start, end = loc.range.start, loc.range.end
    return lsp.Range(start=lsp.Position(line=start.line, character=start.character),
                     end=lsp.Position(line=end.line, character=end.character))


def line_length_for(path: Optional[Path], settings: Settings) -> int:
    """The line length `kdsl fmt` would use for PATH ([tool.kdsl] in the nearest pyproject.toml)."""
    if path is None:
        return DEFAULT_LINE_LENGTH
    try:
        found = settings.line_length(path.parent)
    except ConfigError:
        return DEFAULT_LINE_LENGTH
    return DEFAULT_LINE_LENGTH if found is None else found


def format_edits(text: str, filename: str, line_length: int) -> Optional[list]:
    """One edit replacing TEXT with its canonical layout ([] when it is
    already canonical; None when it does not parse, so nothing is touched)."""
    try:
        formatted = format_text(text, filename, line_length)
    except (KdError, FormatterBug):
        return None
    if formatted == text:
        return []
    lines = text.split("\n")
    end = lsp.Position(line=len(lines) - 1, character=len(lines[-1].encode("utf-16-le")) // 2)
    return [lsp.TextEdit(range=lsp.Range(start=lsp.Position(line=0, character=0), end=end), new_text=formatted)]


def quick_fixes(uri: str, text_of_range, diagnostics: list) -> list:
    """A code action for each diagnostic whose hint names a replacement
    ("did you mean `Conv2D`?"): the text of its range becomes the name (a
    string keeps its quotes)."""
    actions = []
    for diag in diagnostics:
        hint = (diag.data or {}).get("hint") if isinstance(diag.data, dict) else None
        match = _SUGGESTION.search(hint or "")
        if match is None:
            continue
        old = text_of_range(diag.range)
        new = match.group(1)
        if len(old) >= 2 and old[0] in "\"'" and old[-1] == old[0]:
            new = old[0] + new.strip("\"'") + old[0]
        edit = lsp.WorkspaceEdit(changes={uri: [lsp.TextEdit(range=diag.range, new_text=new)]})
        actions.append(lsp.CodeAction(title=f"Replace with {new}", kind=lsp.CodeActionKind.QuickFix,
                                      diagnostics=[diag], edit=edit, is_preferred=True))
    return actions
