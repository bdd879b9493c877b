"""Where the grammar and the templates are, installed or in a checkout.

In the source tree they live at the top level (grammar/, templates/); the
wheel ships them inside the package (dsl/grammar/, dsl/templates/), as
pyproject.toml maps them.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def resource_path(folder: str, name: str) -> Path:
    """The path of NAME in FOLDER ("grammar" or "templates")."""
    installed = _PACKAGE / folder / name
    if installed.exists():
        return installed
    return _PACKAGE.parent / folder / name


def resource_dir(folder: str) -> Path:
    """The directory FOLDER ("grammar" or "templates")."""
    installed = _PACKAGE / folder
    return installed if installed.is_dir() else _PACKAGE.parent / folder
