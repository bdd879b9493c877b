"""Resource limits that keep kdsl fast and safe on hostile or runaway input.

Each limit stops the work with a clear diagnostic rather than a hang, a
MemoryError or a RecursionError.  The defaults are generous for real models;
the command line can raise each one (docs/limits.md).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Limits:
    max_file_bytes: int = 10_000_000  # a .kd file larger than this is refused
    max_depth: int = 200  # nesting of expressions and statements
    max_layers: int = 1_000_000  # layer applications in one evaluated model
    max_iterations: int = 1_000_000  # iterations of one `for` loop
    max_steps: int = 20_000_000  # statements and expressions evaluated in all
    max_sequence: int = 1_000_000  # items of a constant list, tuple or string
    max_int_bits: int = 4096  # size of a constant integer


DEFAULT_LIMITS = Limits()
