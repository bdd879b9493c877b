"""Render the module template and format the result with black."""

from __future__ import annotations

from functools import lru_cache

from ..resources import resource_dir


@lru_cache(maxsize=1)
def _environment():
    import jinja2

    # Templates hold layout only; every value they print is prepared Python
    # text, so no HTML escaping, and undefined values are errors.
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(resource_dir("templates"))),
        autoescape=False,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_module(data) -> str:
    """Lay out a `emit.ModuleData` with templates/module.py.j2."""
    return _environment().get_template("module.py.j2").render(data=data, **vars(data))


def black_format(text: str) -> str:
    """Format Python TEXT with black's default style."""
    import black

    return black.format_str(text, mode=black.Mode())
