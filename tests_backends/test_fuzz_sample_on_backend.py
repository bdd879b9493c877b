"""A fixed sample of the program fuzzer's models (tests/program_fuzz.py,
the corpus of tests/test_program_fuzz.py) on the backend of this run: each
builds with the layer table kdsl's checker reports (names, classes, order,
output shapes and dtypes, counts) and trains one step.

The sample is hypothesis's derandomized draw: the same programs on every
run and on every backend.  A program kdsl refuses is left out of it (the
TensorFlow suite judges kdsl's refusals against Keras); applications are
left out too, for time.
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, Phase, given, reject, settings
from keras_compare import assert_same_model, compile_and_build
from program_fuzz import programs

from dsl.synthetic import batch_for

SAMPLE = 20


def _train_one_step(keras, module, model) -> None:
    """compile_fuzz's settings, or SGD on MSE where the program has none; one
    step on synthetic data gives a finite loss and moves the trainable weights."""
    compile_fn = getattr(module, "compile_fuzz", None)
    if compile_fn is None:
        model.compile(optimizer="sgd", loss="mse")
    else:
        assert compile_fn(model) is model
    x, y = batch_for(model, batch=2, unknown=8)
    before = [np.array(w.numpy()) for w in model.trainable_weights]
    logs = model.train_on_batch(x, y, return_dict=True)
    assert np.isfinite(float(logs["loss"])), logs
    after = [np.array(w.numpy()) for w in model.trainable_weights]
    assert not before or any(not np.array_equal(b, a) for b, a in zip(before, after)), "no trainable weight changed"


@settings(max_examples=SAMPLE, derandomize=True, database=None, deadline=None, phases=[Phase.generate],
          suppress_health_check=list(HealthCheck))
@given(program=programs(applications=False))
def test_fuzzed_programs_build_and_train(keras, program, tmp_path_factory):
    result, module, model = compile_and_build(program.source, tmp_path_factory.mktemp("fuzz"), program.model)
    if model is None:
        reject()
    assert_same_model(result.graphs[program.model], model)
    _train_one_step(keras, module, model)
