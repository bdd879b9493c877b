"""`kdsl import`: an existing Keras model as readable kd (docs/import.md).

Public API:

- `import_source(source, model_name=None, flat=False) -> Imported`: SOURCE
  is a `.keras` file, a `to_json()` file, `keras.applications.NAME` or
  `package.module:function` (see `sources`).
- `import_serialized(serialized, ...)`: the same from the dict
  `model.to_json()` writes; `import_model(model, ...)` from a built model.
- `ImportProblem`: what kd cannot say (the message names the layer and
  why); `ImportBug`: kdsl wrote kd that does not make the model (a bug).

The result is canonical kd, printed by the `kdsl fmt` printer, checked by
kdsl's checker against the saved graph before it is returned.
"""

from __future__ import annotations

from ..records import record
from typing import Optional

from ..syntax import tree as n
from .graph import read_model
from .problems import ImportProblem
from .program import Options, build_program
from .settings import compile_statement
from .sources import load_source, serialized_model
from .verify import ImportBug, check_import
from .writer import render

_ATTEMPTS = 8  # each attempt writes the names the last one got wrong: a few suffice


@record
class Imported:
    """The kd text and the name of the model it defines."""

    text: str
    model: str


def import_source(source: str, model_name: Optional[str] = None, flat: bool = False) -> Imported:
    """Import the model SOURCE names."""
    loaded = load_source(source)
    return import_serialized(loaded.serialized, model_name, flat, label=loaded.label)


def import_model(model, model_name: Optional[str] = None, flat: bool = False) -> Imported:
    """Import a built Keras model (its `to_json()`)."""
    return import_serialized(serialized_model(model), model_name, flat, label=f"the Keras model `{model.name}`")


def import_serialized(serialized: dict, model_name: Optional[str] = None, flat: bool = False,
                      label: str = "a Keras model") -> Imported:
    """Import the model SERIALIZED (the dict `to_json()` writes)."""
    from .fold import fold_steps

    graph = read_model(serialized)
    options = Options(flat=flat)
    header = [f"Imported by `kdsl import` from {label}."]
    settings = _compile_settings(serialized, header)
    filename = "imported.kd"
    for _ in range(_ATTEMPTS):
        program = build_program(graph, model_name, options, None if flat else fold_steps)
        if settings is not None:
            _top_model(program).body.append(settings)
        text = render(program.module, header, program.docs, filename)
        try:
            findings = check_import(text, program.models, filename)
        except ImportBug as bug:
            if settings is None:
                raise
            # The model is kd's either way; settings kdsl refuses are left to the user.
            first = str(bug).splitlines()[1].strip() if len(str(bug).splitlines()) > 1 else str(bug)
            header.append(f"Not imported: the compile settings, which kdsl refuses ({first}).")
            settings = None
            continue
        if findings.problems:
            raise ImportBug("the imported kd differs from the saved model:\n  " + "\n  ".join(findings.problems))
        if not findings.rename:
            return Imported(text, program.models[-1].kd_name)
        for model, names in findings.rename.items():
            options.explicit.setdefault(model, set()).update(names)
    raise ImportBug("the layer names kd left to Keras kept coming out different")


def _compile_settings(serialized: dict, header: list):
    """The saved model's `compile(...)` statement, or None; settings kd
    cannot write are noted in HEADER and left out, not the model."""
    try:
        return compile_statement(serialized.get("compile_config") if isinstance(serialized, dict) else None)
    except ImportProblem as problem:
        header.append(f"Not imported: the compile settings ({problem}).")
        return None


def _top_model(program):
    """The ModelDef of the imported model (the program's last model)."""
    name = program.models[-1].kd_name
    return next(item for item in program.module.items if isinstance(item, n.ModelDef) and item.name == name)


__all__ = ["ImportBug", "ImportProblem", "Imported", "import_model", "import_serialized", "import_source"]
