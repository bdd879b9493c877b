"""The differential oracle: kdsl's whole layer table against the model Keras
builds from the generated code.

A *layer table* is what `model.summary()` lists: one row per operation of
the functional graph (input layers, layers, nested models, ops), in Keras's
order, each with its name, class, the output shapes of its first call, its
parameter count and its trainable split; plus the model's totals and
output names.  kdsl's table comes from the checker's graph, Keras's from the
built model; the two must be equal.
"""

from __future__ import annotations

import importlib.util
import itertools
import sys
from dataclasses import dataclass
from pathlib import Path

_MODULES = itertools.count()


@dataclass(frozen=True)
class Row:
    name: str
    cls: str
    output_shapes: tuple
    params: int
    trainable: int
    non_trainable: int


def kdsl_table(graph) -> list:
    """The layer table of a kdsl ModelGraph."""
    from dsl.check.graph import InputSpec, keras_order
    from dsl.summary import instance_counts, type_name

    rows = []
    for op in keras_order(graph):
        if isinstance(op, InputSpec):
            rows.append(Row(op.name, "InputLayer", (op.tensor.shape,), 0, 0, 0))
            continue
        counts = instance_counts(op)
        outputs = op.calls[0].outputs if op.calls else ()
        outputs = outputs if isinstance(outputs, (list, tuple)) else (outputs,)
        shapes = tuple(t.shape for t in outputs)
        if counts.unknown:  # a custom layer: kdsl knows its shapes, not its weights
            rows.append(Row(op.name, type_name(op), shapes, None, None, None))
        else:
            rows.append(Row(op.name, type_name(op), shapes, counts.total, counts.trainable, counts.non_trainable))
    return rows


def _size(weights) -> int:
    return sum(int(w.numpy().size) for w in weights)


def keras_table(model) -> list:
    """The layer table of a built Keras model (model.operations is what
    model.summary() lists)."""
    rows = []
    for op in model.operations:
        node = op._inbound_nodes[0]
        shapes = tuple(tuple(t.shape) for t in node.output_tensors)
        weights = getattr(op, "weights", [])
        trainable = _size(getattr(op, "trainable_weights", []))
        non_trainable = _size(getattr(op, "non_trainable_weights", []))
        params = op.count_params() if weights else 0
        rows.append(Row(op.name, type(op).__name__, shapes, params, trainable, non_trainable))
    return rows


def kdsl_totals(graph):
    from dsl.summary import graph_counts

    counts = graph_counts(graph)
    return (counts.total, counts.trainable, counts.non_trainable), counts.unknown


def keras_totals(model) -> tuple:
    trainable, non_trainable = _size(model.trainable_weights), _size(model.non_trainable_weights)
    return model.count_params(), trainable, non_trainable


def assert_same_model(graph, model) -> None:
    """Rows, totals, output names and shapes all equal (with a readable diff)."""
    ours, theirs = kdsl_table(graph), keras_table(model)
    unknown = {row.name for row in ours if row.params is None}
    theirs_known = [Row(r.name, r.cls, r.output_shapes, None, None, None) if r.name in unknown else r for r in theirs]
    if ours != theirs_known:
        lines = [f"{'kdsl':<60} | keras"]
        for a, b, c in itertools.zip_longest(ours, theirs, theirs_known):
            mark = "  " if a == c else "!!"
            lines.append(f"{mark}{_show(a):<58} | {_show(b)}")
        raise AssertionError("layer tables differ:\n" + "\n".join(lines))
    totals, unknown_names = kdsl_totals(graph)
    assert set(unknown_names) == unknown
    unknown_rows = [r for r in theirs if r.name in unknown]
    expected = keras_totals(model)
    known = tuple(e - sum(getattr(r, f) for r in unknown_rows)
                  for e, f in zip(expected, ("params", "trainable", "non_trainable")))
    assert totals == known, (totals, expected, sorted(unknown))  # lower bounds: exact but for the unknown layers
    assert [o.name for o in graph.outputs] == list(model.output_names)
    assert [o.tensor.shape for o in graph.outputs] == [tuple(o.shape) for o in model.outputs]
    assert [o.tensor.dtype for o in graph.outputs] == [str(o.dtype) for o in model.outputs]


def _show(row) -> str:
    if row is None:
        return "-"
    return f"{row.name} ({row.cls}) {row.output_shapes} {row.params} [{row.trainable}/{row.non_trainable}]"


def load_module(path: Path):
    """Import a generated module from its file, under a unique name."""
    name = f"kd_generated_{next(_MODULES)}_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def compile_and_build(source: str, folder: Path, model: str, filename: str = "prog.kd"):
    """Check SOURCE, write its module into FOLDER and build MODEL in a fresh
    Keras session.  Returns (check result, module, built model or None when
    kdsl reported errors)."""
    import keras

    from dsl.compiler import compile_text

    compiled = compile_text(source, filename)
    result = compiled.check
    if not compiled.ok:
        return result, None, None
    assert compile(compiled.text, filename, "exec")  # the module is valid Python
    path = folder / Path(filename).with_suffix(".py").name
    path.write_text(compiled.text)
    module = load_module(path)
    keras.backend.clear_session(free_memory=False)  # automatic names restart, as kdsl assumes
    return result, module, getattr(module, f"build_{model}")()


def run_forward(model) -> None:
    """Run MODEL on one batch of synthetic inputs (it must not fail)."""
    from dsl.synthetic import batch_for

    batch_for(model, batch=2, unknown=8)  # calls the model on its inputs


def train_one_step(module, model_name: str, model) -> None:
    """compile_NAME (when the source has compile settings) and one step."""
    from dsl.synthetic import batch_for

    compile_fn = getattr(module, f"compile_{model_name}", None)
    if compile_fn is None:
        return
    model = compile_fn(model)
    model.run_eagerly = True  # one step: tracing would cost more than it saves
    x, y = batch_for(model, batch=2, unknown=8)
    logs = model.train_on_batch(x, y, return_dict=True)
    assert logs["loss"] == logs["loss"], logs  # a number, not NaN
