"""Stage 2, semantics: a parsed file and its imports -> a `Program` whose
names are resolved, with the checks that need no evaluation.

`load_program(text, filename, path, limits)` loads a program; `check_file`
runs the static checks of one of its files.
"""

from .program import Program, SourceFile, load_program
from .static import check_file

__all__ = ["Program", "SourceFile", "check_file", "load_program"]
