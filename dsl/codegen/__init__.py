"""Stage 3', code generation (beside checking; neither imports the other):
a checked `Program` -> the text of a Keras 3 module.

`generate(program, header)` lays out and formats the module.
"""



def generate(program, header: str) -> str:
    """The formatted Python module for PROGRAM, starting with the line HEADER."""
    # Imported here, so that `kdsl check` (which needs only codegen.pynames) loads none of it.
    from .emit import module_data
    from .pyformat import black_format, render_module

    return black_format(render_module(module_data(program, header)))


def module_data(program, header: str):
    """The data the module template is rendered from (see codegen.emit)."""
    from .emit import module_data as data

    return data(program, header)


__all__ = ["generate", "module_data"]
