"""Stage 3, checking: a `Program` -> a `ModelGraph` per model, with every
tensor's static type, and the diagnostics.

`check_program(program, overrides, limits)` is the front of the stage.
"""

from .run import CheckResult, check_program

__all__ = ["CheckResult", "check_program"]
