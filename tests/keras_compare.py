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


# ------------------------------------------------ the summary document and table


def _relevant_nodes(model) -> set:
    """The ids of the nodes of MODEL's own graph (a layer shared with another
    model has nodes there too, which Keras's summary leaves out)."""
    return {id(node) for nodes in model._nodes_by_depth.values() for node in nodes}


def keras_document_rows(model) -> list:
    """What the summary document says of each layer, from a built Keras
    model: name, class, the output shapes and dtype of its first call in
    this model, its counts, and each call's reads (layer, node, tensor)."""
    relevant = _relevant_nodes(model)
    rows = []
    for op in model.operations:
        nodes = [n for n in op._inbound_nodes if id(n) in relevant]
        first = nodes[0].output_tensors
        calls = []
        for node in nodes:
            reads = []
            for tensor in node.input_tensors:
                history = tensor._keras_history
                reads.append((history.operation.name, history.node_index, history.tensor_index))
            calls.append(reads)
        weights = getattr(op, "weights", [])
        rows.append({
            "name": op.name,
            "class": type(op).__name__,
            "output_shapes": [list(t.shape) for t in first],
            "dtype": str(first[0].dtype),
            "params": op.count_params() if weights else 0,
            "trainable": _size(getattr(op, "trainable_weights", [])),
            "non_trainable": _size(getattr(op, "non_trainable_weights", [])),
            "calls": calls,
        })
    return rows


def document_rows(model_entry: dict) -> list:
    """The same fields from a MODEL entry of a summary document."""
    keys = ("name", "class", "output_shapes", "dtype", "params", "trainable", "non_trainable")
    rows = []
    for entry in model_entry["layers"]:
        row = {key: entry[key] for key in keys}
        row["calls"] = [[(r["layer"], r["call"], r["tensor"]) for r in call["inbound"]] for call in entry["calls"]]
        rows.append(row)
    return rows


def assert_document_matches(model_entry: dict, model) -> None:
    """A MODEL entry of `kdsl summary --format json` against the built Keras
    MODEL: every layer row, the inputs, the outputs and the totals; nested
    models and applications against the Keras models inside."""
    ours, theirs = document_rows(model_entry), keras_document_rows(model)
    unknown = {row["name"] for row in ours if row["params"] is None}  # custom layers: kdsl knows no weights
    for a, b in itertools.zip_longest(ours, theirs):
        if b is not None and b["name"] in unknown:
            b = {**b, "params": None, "trainable": None, "non_trainable": None}
        assert a == b, f"\nkdsl:  {a}\nkeras: {b}"
    assert [(i["name"], i["shape"], i["dtype"]) for i in model_entry["inputs"]] == [
        (t._keras_history.operation.name, list(t.shape), str(t.dtype)) for t in model.inputs]
    assert [(o["name"], o["shape"], o["dtype"]) for o in model_entry["outputs"]] == [
        (name, list(t.shape), str(t.dtype)) for name, t in zip(model.output_names, model.outputs)]
    totals = model_entry["totals"]
    assert totals["exact"] == (not unknown) and set(totals["unknown"]) == unknown
    if not unknown:
        assert (totals["params"], totals["trainable"], totals["non_trainable"]) == keras_totals(model)
    for entry in model_entry["layers"]:
        if entry["kind"] in ("model", "application"):
            assert_document_matches(entry["model"], model.get_layer(entry["name"]))


def _cells(line: str) -> list:
    return [cell.strip() for cell in line.strip().strip("│┃").split("│" if "│" in line else "┃")]


def keras_summary_table(model) -> tuple:
    """(rows of cells, total lines) of Keras's printed model.summary(), its
    wrapped cells joined; the header row first."""
    import os

    saved = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "600"  # rich sizes its console from COLUMNS: no truncated columns
    printed = []
    try:
        model.summary(line_length=600, print_fn=lambda text, line_break=True: printed.append(text))
    finally:
        if saved is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = saved
    rows, current, totals = [], None, []
    for line in "".join(printed).splitlines():
        if line[:1] in "┏┡├└":  # a rule: the row above is complete
            if current is not None:
                rows.append([" ".join(part for part in cell if part) for cell in current])
            current = None
        elif line[:1] in "│┃":
            cells = _cells(line)
            current = [[c] for c in cells] if current is None else [a + [c] for a, c in zip(current, cells)]
        elif line.startswith(" ") and "params:" in line:
            totals.append(line.rstrip())
    return rows, totals


def kdsl_summary_table(text: str) -> tuple:
    """(rows of cells, the three params total lines) of one model's
    `kdsl summary` text; the header row first, the MACs column dropped."""
    lines = text.splitlines()
    rule = lines[2]
    spans, start = [], 0
    for part in rule.split("  "):
        spans.append((start, start + len(part)))
        start += len(part) + 2
    headers = [lines[1][a:b].strip() for a, b in spans]
    keep = [i for i, h in enumerate(headers) if h != "MACs"]
    rows = []
    for line in [lines[1], *lines[3:]]:
        if line == rule:
            break
        # The last column is not padded: its span is the rest of the line.
        cells = [line[a:b if i < len(spans) - 1 else None].strip() for i, (a, b) in enumerate(spans)]
        rows.append([cells[i] for i in keep])
    totals = [line for line in lines if line.startswith(" ") and "params:" in line]
    return rows, totals


def assert_summary_text_matches(text: str, model) -> None:
    """The Keras columns of `kdsl summary` (name and type, output shape,
    parameters, connections when Keras shows them) and its three params
    lines equal what Keras's model.summary() prints."""
    ours, our_totals = kdsl_summary_table(text)
    theirs, their_totals = keras_summary_table(model)
    if len(theirs[0]) == 3:  # a sequential-like model: Keras shows no connections
        ours = [row[:3] for row in ours]
    assert ours == theirs
    assert our_totals == their_totals
