"""Every example compiles, imports, builds and trains a step, and matches a
hand-written Keras twin and kdsl's own summary (differential tests)."""

from __future__ import annotations

from pathlib import Path

import pytest

keras = pytest.importorskip("keras")

import twins  # noqa: E402  (tests/ is on sys.path, see conftest.py)
from keras_compare import assert_document_matches, assert_same_model, assert_summary_text_matches, keras_table  # noqa: E402
from support import keras_layers, kdsl_layers, load_module  # noqa: E402

from dsl.api import compile_file  # noqa: E402
from dsl.compiler import check_text  # noqa: E402
from dsl.summary import graph_counts, render_graph, summary_document  # noqa: E402
from dsl.synthetic import batch_for  # noqa: E402

EXAMPLES = sorted((Path(__file__).parent.parent / "examples").glob("*.kd"))
# The parameter counts of keras.applications with their defaults (issue #2).
APPLICATION_COUNTS = {"resnet50": 25_636_712, "inception_v3": 23_851_784, "xception": 22_910_480,
                      "densenet121": 8_062_504}


def _models():
    """(example path, kd model name) for every model of every example."""
    from dsl.syntax.parser import parse
    from dsl.syntax.tree import ModelDef

    out = []
    for path in EXAMPLES:
        for item in parse(path.read_text(), str(path)).items:
            if isinstance(item, ModelDef):
                out.append(pytest.param(path, item.name, id=f"{path.stem}:{item.name}"))
    return out


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """Each example compiled (once, on first use) and imported as a module."""
    out = tmp_path_factory.mktemp("generated")
    cache = {}

    def module(path):
        if path not in cache:
            cache[path] = load_module(compile_file(path, out))
        return cache[path]

    return module


def _fresh_build(module, name):
    keras.backend.clear_session(free_memory=False)  # names restart; no slow gc pass
    return getattr(module, f"build_{name}")()


def test_every_example_has_a_twin():
    names = {p.values[1] for p in _models()}
    assert names <= set(dir(twins)), names - set(dir(twins))


@pytest.mark.parametrize("path, name", _models())
def test_builds_like_its_twin(generated, path, name):
    model = _fresh_build(generated(path), name)
    keras.backend.clear_session(free_memory=False)  # names restart; no slow gc pass
    twin = getattr(twins, name)()
    assert model.count_params() == twin.count_params()
    assert [tuple(o.shape) for o in model.outputs] == [tuple(o.shape) for o in twin.outputs]
    if name in APPLICATION_COUNTS:
        assert model.count_params() == APPLICATION_COUNTS[name]


@pytest.mark.parametrize("path, name", _models())
def test_checker_agrees_with_keras(generated, path, name):
    """kdsl's summary (names, classes, per-layer and total counts, output
    shapes) equals what Keras builds from the generated code; so do the
    summary document's layers (shapes, dtypes, counts, every call's reads,
    nested models and applications layer by layer) and the Keras columns of
    the printed table, with and without the compute column."""
    result = check_text(path.read_text(), str(path), path)
    assert result.ok, result.diagnostics
    graph = result.graphs[name]
    model = _fresh_build(generated(path), name)
    document = summary_document(result, str(path), name)
    assert_document_matches(document["models"][0], model)
    assert_summary_text_matches(render_graph(graph), model)
    assert_summary_text_matches(render_graph(graph, compute=False), model)
    counts = graph_counts(graph)
    assert not counts.unknown
    trainable = sum(int(w.numpy().size) for w in model.trainable_weights)
    non_trainable = sum(int(w.numpy().size) for w in model.non_trainable_weights)
    assert (counts.trainable, counts.non_trainable) == (trainable, non_trainable)
    assert kdsl_layers(graph) == keras_layers(model)
    assert [o.tensor.shape for o in graph.outputs] == [tuple(o.shape) for o in model.outputs]
    assert [o.name for o in graph.outputs] == list(model.output_names)


@pytest.mark.parametrize("path, name", _models())
def test_layer_table_with_op_rows_equals_keras(generated, path, name):
    """kdsl's whole table (op rows and automatic names included) equals the
    built model's `model.operations` (tests/keras_compare.py)."""
    result = check_text(path.read_text(), str(path), path)
    assert_same_model(result.graphs[name], _fresh_build(generated(path), name))


# The twins that name their inputs as kd does: their whole tables equal the compiled models'.
FULL_TWINS = ("transformer_classifier", "causal_lm", "MobileNetV3Small")


@pytest.mark.parametrize("path, name", [p for p in _models() if p.values[1] in FULL_TWINS])
def test_twin_equals_the_compiled_model_layer_for_layer(generated, path, name):
    model = _fresh_build(generated(path), name)
    keras.backend.clear_session(free_memory=False)
    assert keras_table(model) == keras_table(getattr(twins, name)())


def test_the_kd_1_1_examples_have_full_twins():
    assert set(FULL_TWINS) <= {p.values[1] for p in _models()}


@pytest.mark.parametrize("path, name", _models())
def test_trains_one_step(generated, path, name):
    module = generated(path)
    compile_fn = getattr(module, f"compile_{name}", None)
    if compile_fn is None:
        pytest.skip(f"{name} has no compile settings")  # built and checked above
    model = compile_fn(_fresh_build(module, name))
    model.run_eagerly = True  # one step: tracing a graph would cost more than it saves
    x, y = batch_for(model, batch=2, unknown=300)
    logs = model.train_on_batch(x, y, return_dict=True)
    assert logs["loss"] == logs["loss"]  # a number, not NaN
