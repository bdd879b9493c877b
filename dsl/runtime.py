"""The interpreter settings a compile runs under.

- The cyclic garbage collector is paused: kdsl builds large graphs of small
  objects that stay alive until the compile ends; the collector's passes over
  them cost about a third of the checker's time on big models and free
  nothing.  Reference counting still frees what can be freed.
- The recursion limit is raised: the evaluator and the code generator recurse
  once per level of nesting, and nesting is bounded by `Limits.max_depth`
  (expressions, statements and block calls), so the limit only has to leave
  room for that bound.  Since Python 3.11 a Python-to-Python call does not
  use the C stack, so this is safe.
"""

from __future__ import annotations

import gc
import sys
import threading
from contextlib import contextmanager

from .limits import Limits

FRAMES_PER_LEVEL = 12  # frames the evaluator spends on one block call or expression level

_LOCK = threading.Lock()
_state = {"active": 0, "gc": True, "limit": 0}


@contextmanager
def compile_runtime(limits: Limits):
    """Pause the collector and make room for `limits.max_depth` levels while
    any compile runs (compiles may overlap, in threads or nested); when the
    last one ends, both switches are back as they were."""
    with _LOCK:
        if _state["active"] == 0:
            _state["gc"], _state["limit"] = gc.isenabled(), sys.getrecursionlimit()
            gc.disable()
        _state["active"] += 1
        needed = 2 * limits.max_depth * FRAMES_PER_LEVEL + 1000
        if needed > sys.getrecursionlimit():
            sys.setrecursionlimit(needed)
    try:
        yield
    finally:
        with _LOCK:
            _state["active"] -= 1
            if _state["active"] == 0:
                sys.setrecursionlimit(_state["limit"])
                if _state["gc"]:
                    gc.enable()
