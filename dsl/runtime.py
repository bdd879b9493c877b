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
from contextlib import contextmanager

from .limits import Limits

FRAMES_PER_LEVEL = 12  # frames the evaluator spends on one block call or expression level


@contextmanager
def compile_runtime(limits: Limits):
    """Pause the collector and make room for `limits.max_depth` levels."""
    was_enabled = gc.isenabled()
    old_limit = sys.getrecursionlimit()
    gc.disable()
    sys.setrecursionlimit(max(old_limit, 2 * limits.max_depth * FRAMES_PER_LEVEL + 1000))
    try:
        yield
    finally:
        sys.setrecursionlimit(old_limit)
        if was_enabled:
            gc.enable()
