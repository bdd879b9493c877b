"""What every generated model must do on the backend of the run: build as
kdsl's checker says, and train."""

from __future__ import annotations

import math

import numpy as np
from support import keras_layers, kdsl_layers

from dsl.summary import graph_counts
from dsl.synthetic import batch_for

try:  # main, after the stages became packages
    from dsl.compiler import check_text
except ImportError:  # before: the same function, under its old name
    from dsl.check import check_source as check_text


def check_file(path):
    """kdsl's check of the kd file PATH: every model evaluated, no error."""
    result = check_text(path.read_text(encoding="utf-8"), str(path), path)
    assert result.ok and not result.skipped and result.graphs, (result.diagnostics, result.skipped)
    return result


def fresh_build(keras, module, name):
    """build_NAME() of MODULE in a fresh Keras session, so that automatic
    layer names start again from where kdsl's checker starts them."""
    keras.backend.clear_session(free_memory=False)  # names restart; no slow gc pass
    return getattr(module, f"build_{name}")()


def _size(weights) -> int:
    return sum(math.prod(w.shape) for w in weights)


def assert_builds_as_checked(model, graph):
    """MODEL (built by Keras on this backend) has the layers, names, classes,
    parameter counts, outputs and output shapes of kdsl's GRAPH: the
    expectations the TensorFlow suite checks Keras against."""
    counts = graph_counts(graph)
    assert not counts.unknown
    assert kdsl_layers(graph) == keras_layers(model)
    assert (counts.trainable, counts.non_trainable) == (
        _size(model.trainable_weights),
        _size(model.non_trainable_weights),
    )
    assert [o.tensor.shape for o in graph.outputs] == [tuple(o.shape) for o in model.outputs]
    assert [o.name for o in graph.outputs] == list(model.output_names)


def assert_trains_one_step(model, batch=2, unknown=300):
    """One train_on_batch on synthetic data gives a finite loss and moves the
    trainable weights (MODEL is compiled)."""
    x, y = batch_for(model, batch=batch, unknown=unknown)
    before = [np.array(w.numpy()) for w in model.trainable_weights]
    logs = model.train_on_batch(x, y, return_dict=True)
    assert np.isfinite(float(logs["loss"])), logs
    after = [np.array(w.numpy()) for w in model.trainable_weights]
    assert any(not np.array_equal(b, a) for b, a in zip(before, after)), "no trainable weight changed"
