"""The stable diagnostic codes of kdsl: one named constant each, with its
one-line summary.

Code refers to them by name (`codes.UNDEFINED_NAME`), never by the bare
string.  Codes never change meaning once released; docs/diagnostics.md has
an entry with an example for every one, and a test keeps the two in step.
"""

from __future__ import annotations

ERRORS: dict[str, str] = {}
WARNINGS: dict[str, str] = {}


def _error(code: str, summary: str) -> str:
    ERRORS[code] = summary
    return code


def _warning(code: str, summary: str) -> str:
    WARNINGS[code] = summary
    return code


# Source text and syntax.
SYNTAX = _error("KD100", "syntax error")
NOT_UTF8 = _error("KD101", "the file is not valid UTF-8 text")
TOO_DEEP = _error("KD102", "nesting too deep")
FILE_TOO_LARGE = _error("KD103", "file too large")
INVALID_LITERAL = _error("KD104", "invalid literal")
# Names, files and structure.
UNDEFINED_NAME = _error("KD200", "undefined name")
USED_BEFORE_BOUND = _error("KD201", "name used before it is bound")
DUPLICATE_DEFINITION = _error("KD202", "duplicate definition")
RECURSION = _error("KD203", "recursion between blocks or models")
IMPORT_NOT_FOUND = _error("KD204", "import not found")
IMPORT_CYCLE = _error("KD205", "import cycle")
MISPLACED_STATEMENT = _error("KD206", "statement not allowed here")
NO_INPUTS_OR_OUTPUTS = _error("KD207", "model without inputs or outputs")
SEVERAL_COMPILES = _error("KD208", "more than one compile statement")
INVALID_MODULE_NAME = _error("KD209", "invalid module name")
INVALID_PARAMETERS = _error("KD210", "invalid parameter list")
WRONG_CALL_ARGUMENTS = _error("KD211", "wrong arguments to a block or model")
NO_RETURN_VALUE = _error("KD212", "block without a return value")
STDLIB_MODULE = _error("KD213", "`from` line names a module of Python's standard library")
RESERVED_NAME = _error("KD214", "a reserved name is bound")
# Layers and their arguments.
UNKNOWN_LAYER = _error("KD300", "unknown layer class")
UNKNOWN_KEYWORD = _error("KD301", "unknown keyword argument")
MISSING_ARGUMENT = _error("KD302", "missing required argument")
INVALID_ARGUMENT = _error("KD303", "invalid argument value")
TOO_MANY_POSITIONAL = _error("KD304", "too many positional arguments")
UNKNOWN_KERAS_OBJECT = _error("KD305", "unknown initializer, regularizer or constraint")
ARGUMENT_TWICE = _error("KD306", "argument given twice")
UNKNOWN_OP = _error("KD307", "not a function of keras.ops")
NO_OP_RULE = _error("KD308", "a keras.ops function kdsl has no rule for")
# Values and expressions.
WRONG_KIND = _error("KD400", "wrong kind of value")
UNKNOWN_DIMENSION = _error("KD401", "unknown dimension used in arithmetic, a comparison or a condition")
INVALID_CONSTANT_OPERATION = _error("KD402", "invalid operation on constants")
OUT_OF_RANGE = _error("KD403", "index out of range or wrong number of values to unpack")
CONSTANT_TOO_LARGE = _error("KD404", "constant too large")
LOOP_TOO_LONG = _error("KD405", "loop too long")
GRAPH_TOO_LARGE = _error("KD406", "graph too large")
UNKNOWN_ATTRIBUTE = _error("KD407", "unknown attribute")
CONSTANT_TENSOR = _error("KD408", "a constant tensor where a tensor of the model is needed")
BATCH_INDEX = _error("KD409", "the batch dimension indexed")
BACKWARD_SLICE = _error("KD410", "a tensor slice with a negative step")
# Shapes and dtypes.
INCOMPATIBLE_SHAPES = _error("KD500", "incompatible input shapes")
WRONG_RANK = _error("KD501", "wrong input rank")
EMPTY_OUTPUT = _error("KD502", "empty output")
ANNOTATION_MISMATCH = _error("KD503", "shape annotation mismatch")
WRONG_DTYPE = _error("KD504", "wrong input dtype")
INVALID_SHAPE = _error("KD505", "invalid shape for this layer")
SHARED_WEIGHTS_MISFIT = _error("KD506", "shared weights do not fit")
TOO_LARGE_TO_BUILD = _error("KD507", "a tensor or weight larger than any machine can hold")
# The graph of a model.
DUPLICATE_LAYER_NAME = _error("KD600", "duplicate layer name")
DUPLICATE_OUTPUT_NAME = _error("KD601", "duplicate output name")
DISCONNECTED = _error("KD602", "disconnected graph")
NOT_NAMED_APART = _error("KD603", "instances not named apart")
# Compile settings.
UNKNOWN_COMPILE_NAME = _error("KD700", "unknown loss, metric or optimizer")
WRONG_ENTRY_COUNT = _error("KD701", "wrong number of entries for the outputs")
UNKNOWN_OUTPUT = _error("KD702", "unknown output name")
INVALID_COMPILE_ARGUMENT = _error("KD703", "invalid compile argument")
# Layouts: weights split over a device mesh (`layout(...)`).
INVALID_LAYOUT = _error("KD800", "invalid layout statement")
INVALID_LAYOUT_PATTERN = _error("KD801", "invalid layout pattern")
INVALID_MESH_AXIS = _error("KD802", "unknown or repeated mesh axis in a layout")
LAYOUT_RANK = _error("KD803", "a layout splits a dimension the weight does not have")
INDIVISIBLE_DIMENSION = _error("KD804", "a split dimension does not divide by its mesh axis size")
AMBIGUOUS_LAYOUT = _error("KD805", "a weight matched by two layout patterns")
# Warnings.
UNUSED_BINDING = _warning("KD900", "binding never used")
SHARED_ONCE = _warning("KD901", "shared instance applied only once")
NO_SHAPE_RULE = _warning("KD902", "layer without a shape rule")
WEIGHTS_DOWNLOADED = _warning("KD903", "weights are downloaded")
MODEL_SKIPPED = _warning("KD904", "model skipped")
VALUE_DROPPED = _warning("KD905", "value computed and dropped")
HUGE_MODEL = _warning("KD906", "weights need more memory than the threshold")
SHADOWING_MODULE_NAME = _warning("KD907", "module name shadows a standard-library module")
LAYOUT_MATCHES_NOTHING = _warning("KD908", "layout pattern matches no weight")

ALL: dict[str, str] = {**ERRORS, **WARNINGS}
# The constant's name of each code, for the docs and for messages about codes.
NAMES: dict[str, str] = {value: key for key, value in dict(globals()).items()
                         if isinstance(value, str) and value in ALL and key.isupper()}


def is_warning(code: str) -> bool:
    """Tell whether CODE is a warning (printed, not failing) rather than an error."""
    return code in WARNINGS
