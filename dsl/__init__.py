"""kdsl: compile kd, a compact language for neural-network graphs, to Keras 3.

The public API (used by the `kdsl` command and by build steps):

- `compile_source(text, filename)` -> the generated module's text;
- `compile_file(path, out_dir=None)` -> the path written;
- `check_source(text, filename)` -> the list of diagnostics;
- `install_import_hook()` -> `import NAME` finds `NAME.kd` (also `import dsl.autoload`);
  errors raise `KdImportError`.

Importing `dsl` imports neither Keras nor TensorFlow.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__", "compile_source", "compile_file", "check_source", "KdError", "install_import_hook",
           "KdImportError"]


def __getattr__(name):
    # Keep `import dsl` cheap: the stages load on first use.
    if name in ("compile_source", "compile_file", "check_source"):
        from . import api

        return getattr(api, name)
    if name == "KdError":
        from .diagnostics import KdError

        return KdError
    if name in ("install_import_hook", "KdImportError"):
        from .build import importer

        return getattr(importer, name)
    raise AttributeError(name)
