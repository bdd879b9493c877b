"""Resource limits that keep kdsl fast and safe on hostile or runaway input.

Each limit stops the work with a clear diagnostic rather than a hang, a
MemoryError or a RecursionError.  The defaults are generous for real models;
the command line can raise each one (docs/limits.md).
"""

from __future__ import annotations

from .records import record


@record(frozen=True, slots=True)
class Limits:
    max_file_bytes: int = 10_000_000  # a .kd file larger than this is refused
    max_depth: int = 200  # nesting of expressions and statements
    max_layers: int = 1_000_000  # layer applications in one evaluated model
    max_iterations: int = 1_000_000  # iterations of one `for` loop
    max_steps: int = 20_000_000  # statements and expressions evaluated in all
    max_sequence: int = 1_000_000  # items of a constant list, tuple or string
    max_int_bits: int = 4096  # size of a constant integer
    max_pattern_length: int = 1000  # characters of one layout pattern

    def __post_init__(self) -> None:
        for name, most in MAXIMA.items():
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or not 0 < value <= most:
                raise ValueError(f"{name} must be an integer from 1 to {most:,}; received {value!r}")


# The largest value each limit may be raised to: beyond them kdsl could not
# keep its promise (nesting past 1,000 levels would overflow the
# interpreter's stack; the others would need more memory than a check may
# take).  docs/limits.md lists them.
MAXIMA = {
    "max_file_bytes": 1_000_000_000,
    "max_depth": 1_000,
    "max_layers": 100_000_000,
    "max_iterations": 100_000_000,
    "max_steps": 1_000_000_000,
    "max_sequence": 100_000_000,
    "max_int_bits": 1_000_000,
    "max_pattern_length": 100_000,
}

DEFAULT_LIMITS = Limits()
