"""Stage 3', code generation (beside checking; neither imports the other):
a checked `Program` -> the text of a Keras 3 module.

`generate(program, header)` lays out and formats the module.
"""

from .emit import module_data
from .pyformat import black_format, render_module


def generate(program, header: str) -> str:
    """The formatted Python module for PROGRAM, starting with the line HEADER."""
    return black_format(render_module(module_data(program, header)))


__all__ = ["generate", "module_data"]
