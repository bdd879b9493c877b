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

from .graph import read_model
from .problems import ImportProblem
from .program import Options, build_program
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
    filename = "imported.kd"
    for _ in range(_ATTEMPTS):
        program = build_program(graph, model_name, options, None if flat else fold_steps)
        text = render(program.module, header, program.docs, filename)
        findings = check_import(text, program.models, filename)
        if findings.problems:
            raise ImportBug("the imported kd differs from the saved model:\n  " + "\n  ".join(findings.problems))
        if not findings.rename:
            return Imported(text, program.models[-1].kd_name)
        for model, names in findings.rename.items():
            options.explicit.setdefault(model, set()).update(names)
    raise ImportBug("the layer names kd left to Keras kept coming out different")


__all__ = ["ImportBug", "ImportProblem", "Imported", "import_model", "import_serialized", "import_source"]
