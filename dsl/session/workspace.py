"""A session: what an editor keeps per workspace between checks.

It owns the caches a long-running process needs and no global holds: the
texts of open (perhaps unsaved) buffers, which win over the files on disk,
and the parsed trees of recent texts, so re-checking after an edit parses
only the file that changed.  Sessions share nothing, so two workspaces (or
two threads, each with its own session) never see each other's state.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Optional

from ..check import check_program
from ..check.facts import Facts
from ..diagnostics import Diagnostic, KdError
from ..limits import DEFAULT_LIMITS, Limits
from ..runtime import compile_runtime
from ..semantics import load_program
from ..syntax import read_source
from ..syntax.incremental import ItemCache
from .analysis import Analysis

# Parsed texts kept: an editor's open files and their imports, with room.
PARSED_KEPT = 256


# Folders a workspace scan does not enter (besides hidden ones, `.git`,
# `.venv`): trees of tools and installed packages, not the project's sources.
SKIPPED_FOLDERS = frozenset({"node_modules", "__pycache__", "site-packages"})
# The most .kd files a scan of a workspace returns.
WORKSPACE_FILES_MOST = 5000


def workspace_sources(roots, most: int = WORKSPACE_FILES_MOST) -> list:
    """The regular .kd files under the folders ROOTS (resolved paths, in
    order, each once), at most MOST: hidden folders and SKIPPED_FOLDERS are
    not entered, nor are symbolic links to folders followed."""
    found, seen = [], set()
    for root in roots:
        for folder, subfolders, names in os.walk(root):
            subfolders[:] = sorted(d for d in subfolders if not d.startswith(".") and d not in SKIPPED_FOLDERS)
            for name in sorted(names):
                if not name.endswith(".kd"):
                    continue
                path = (Path(folder) / name).resolve()
                # Regular files only: reading a FIFO or a device named *.kd would never end.
                if path not in seen and path.is_file():
                    seen.add(path)
                    found.append(path)
                    if len(found) >= most:
                        return found
    return found


class Session:
    """Checks files of one workspace, reading open buffers first."""

    def __init__(self, limits: Limits = DEFAULT_LIMITS):
        self.limits = limits
        self._open: dict = {}  # resolved Path -> text of the editor's buffer
        self._parsed: OrderedDict = OrderedDict()  # (display, digest) -> (module, problems)
        self._items = ItemCache()  # what changed in a file is all that is parsed again
        self._lock = threading.Lock()  # guards the two dicts, not the checks

    # ------------------------------------------------------------ buffers

    def open(self, path, text: str) -> None:
        """The editor holds PATH with TEXT (its latest, perhaps unsaved, contents)."""
        with self._lock:
            self._open[Path(path).resolve()] = text

    def close(self, path) -> None:
        """The editor closed PATH: its file on disk counts again."""
        with self._lock:
            self._open.pop(Path(path).resolve(), None)

    def text_of(self, path) -> Optional[str]:
        """The open buffer's text for PATH, or None."""
        with self._lock:
            return self._open.get(Path(path).resolve())

    # ------------------------------------------------------------ loading

    def _read(self, path, display: str, limits: Limits) -> str:
        text = self.text_of(path)
        return text if text is not None else read_source(path, display, limits)

    def _parse(self, text: str, display: str, limits: Limits):
        key = (display, hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest())
        with self._lock:
            hit = self._parsed.get(key)
            if hit is not None:
                self._parsed.move_to_end(key)
                return hit
        parsed = self._items.parse(text, display, limits)  # no lock held: a check never waits on another's parse
        with self._lock:
            self._parsed[key] = parsed
            while len(self._parsed) > PARSED_KEPT:
                self._parsed.popitem(last=False)
        return parsed

    # ----------------------------------------------------------- checking

    def analyse(self, path, text: Optional[str] = None, display: Optional[str] = None,
                overrides: Optional[dict] = None) -> Analysis:
        """Check the file at PATH (with TEXT when given, else its open buffer
        or the file on disk) and every file it imports; the answer holds the
        diagnostics and the facts by position.  DISPLAY is the name the
        diagnostics use (the path as given, by default)."""
        path = Path(path)
        display = display or str(path)
        if text is None:
            text = self._read(path.resolve(), display, self.limits)
        with compile_runtime(self.limits):
            try:
                program = load_program(text, display, path, self.limits, read=self._read, parse=self._parse)
            except KdError as err:  # the main file is too large to parse
                return Analysis(None, None, None, sorted(err.diagnostics, key=Diagnostic.sort_key))
            facts = Facts()
            result = check_program(program, overrides, self.limits, facts=facts)
        return Analysis(program, result, facts, result.diagnostics)
