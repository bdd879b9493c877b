"""Pausing Python's cyclic garbage collector during a compile.

kdsl builds large graphs of small objects that stay alive until the compile
ends; the collector's passes over them cost about a third of the checker's
time on big models and free nothing.  Reference counting still frees what
can be freed; the collector runs again afterwards.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager


@contextmanager
def paused_gc():
    """Disable the cyclic collector inside the block (re-entrant)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
