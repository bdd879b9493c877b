"""The stable diagnostic codes of kdsl, each with a one-line summary.

Codes never change meaning once released; docs/diagnostics.md lists every one
with an example, and a test keeps the two in step.
"""

from __future__ import annotations

ERRORS: dict[str, str] = {
    # Source text and syntax.
    "KD100": "syntax error",
    "KD101": "the file is not valid UTF-8 text",
    "KD102": "nesting too deep",
    "KD103": "file too large",
    "KD104": "invalid literal",
    # Names, files and structure.
    "KD200": "undefined name",
    "KD201": "name used before it is bound",
    "KD202": "duplicate definition",
    "KD203": "recursion between blocks or models",
    "KD204": "import not found",
    "KD205": "import cycle",
    "KD206": "statement not allowed here",
    "KD207": "model without inputs or outputs",
    "KD208": "more than one compile statement",
    "KD209": "invalid module name",
    "KD210": "invalid parameter list",
    "KD211": "wrong arguments to a block or model",
    "KD212": "block without a return value",
    # Layers and their arguments.
    "KD300": "unknown layer class",
    "KD301": "unknown keyword argument",
    "KD302": "missing required argument",
    "KD303": "invalid argument value",
    "KD304": "too many positional arguments",
    "KD305": "unknown initializer, regularizer or constraint",
    "KD306": "argument given twice",
    # Values and expressions.
    "KD400": "wrong kind of value",
    "KD401": "unknown dimension used in arithmetic, a comparison or a condition",
    "KD402": "invalid operation on constants",
    "KD403": "index out of range or wrong number of values to unpack",
    "KD404": "constant too large",
    "KD405": "loop too long",
    "KD406": "graph too large",
    "KD407": "unknown attribute",
    # Shapes and dtypes.
    "KD500": "incompatible input shapes",
    "KD501": "wrong input rank",
    "KD502": "empty output",
    "KD503": "shape annotation mismatch",
    "KD504": "wrong input dtype",
    "KD505": "invalid shape for this layer",
    "KD506": "shared weights do not fit",
    # The graph of a model.
    "KD600": "duplicate layer name",
    "KD601": "duplicate output name",
    "KD602": "disconnected graph",
    "KD603": "instances not named apart",
    # Compile settings.
    "KD700": "unknown loss, metric or optimizer",
    "KD701": "wrong number of entries for the outputs",
    "KD702": "unknown output name",
    "KD703": "invalid compile argument",
}

WARNINGS: dict[str, str] = {
    "KD900": "binding never used",
    "KD901": "shared instance applied only once",
    "KD902": "layer without a shape rule",
    "KD903": "weights are downloaded",
    "KD904": "model skipped",
    "KD905": "value computed and dropped",
}

ALL: dict[str, str] = {**ERRORS, **WARNINGS}


def is_warning(code: str) -> bool:
    """Tell whether CODE is a warning (printed, not failing) rather than an error."""
    return code in WARNINGS
