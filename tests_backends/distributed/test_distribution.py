"""Generated models trained under keras.distribution on 8 simulated JAX
devices: DataParallel, and ModelParallel with the LayoutMap the module
generates from the source's `layout(...)` (examples/residual.kd's).  Each
distributed run must compute what the same model computes on one device,
from the same weights on the same batches, and its loss must fall."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from support import load_module

from dsl.api import compile_file
from dsl.compiler import check_text

EXAMPLES = Path(__file__).parent.parent.parent / "examples"
STEPS = 6
BATCH = 32  # divisible by the mesh's batch axis (8 for DataParallel, 2 below)


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """The example named STEM compiled by dsl.api.compile_file and imported."""
    out = tmp_path_factory.mktemp("generated")
    return lambda stem: load_module(compile_file(EXAMPLES / f"{stem}.kd", out))


def classification_problem(features=64, classes=10, samples=BATCH * STEPS, seed=0):
    """A fixed learnable problem: one-hot labels from a random linear map."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((samples, features)).astype("float32")
    labels = np.argmax(x @ rng.standard_normal((features, classes)), axis=-1)
    return x, np.eye(classes, dtype="float32")[labels]


def regression_images(size, channels, samples=BATCH * 2, seed=0):
    """A fixed learnable 0/1 target on images: the sign of the mean pixel
    (small pixel values keep Adam's first steps on the residual net stable)."""
    rng = np.random.default_rng(seed)
    x = 0.1 * rng.standard_normal((samples, size, size, channels)).astype("float32")
    return x, (x.mean(axis=(1, 2, 3)) > 0).astype("float32")[:, None]


def train(model, x, y, epochs=1):
    """Loss over (X, Y) before training, the loss of each step, and after."""
    before = model.evaluate(x, y, batch_size=BATCH, verbose=0, return_dict=True)["loss"]
    steps = [
        float(model.train_on_batch(x[i : i + BATCH], y[i : i + BATCH], return_dict=True)["loss"])
        for _ in range(epochs)
        for i in range(0, len(x), BATCH)
    ]
    after = model.evaluate(x, y, batch_size=BATCH, verbose=0, return_dict=True)["loss"]
    return before, steps, after


def single_device_run(keras, build, compile_fn, x, y, **kw):
    """(initial weights, losses) of the model on one device, no distribution."""
    keras.distribution.set_distribution(None)
    keras.utils.set_random_seed(0)
    model = compile_fn(build())
    weights = model.get_weights()
    return weights, train(model, x, y, **kw)


def test_data_parallel_trains_as_one_device(keras, devices, generated, no_distribution):
    mlp = generated("mlp")
    x, y = classification_problem()
    weights, expected = single_device_run(keras, mlp.build_mlp, mlp.compile_mlp, x, y, epochs=2)

    keras.distribution.set_distribution(keras.distribution.DataParallel(devices=devices))
    model = mlp.compile_mlp(mlp.build_mlp())
    model.set_weights(weights)
    for variable in model.trainable_variables:  # replicated on every device
        assert len(variable.value.sharding.device_set) == len(devices)
        assert variable.value.sharding.is_fully_replicated
    before, steps, after = train(model, x, y, epochs=2)

    assert after < before
    np.testing.assert_allclose([before, *steps, after], [expected[0], *expected[1], expected[2]], rtol=1e-4)


def test_model_parallel_shards_by_the_layout_map(keras, devices, generated, no_distribution):
    residual = generated("residual")
    build = lambda: residual.build_residual_net(size=8)  # noqa: E731  (128 channels are fixed by the kd source)
    x, y = regression_images(size=8, channels=128)
    weights, expected = single_device_run(keras, build, residual.compile_residual_net, x, y, epochs=4)

    mesh = keras.distribution.DeviceMesh((2, 4), ["batch", "model"], devices=devices)
    layout_map = residual.layout_map_residual_net(mesh)  # from the source's layout(...)
    distribution = keras.distribution.ModelParallel(layout_map=layout_map, batch_dim_name="batch")
    # A fresh session, so that automatic names are the ones kdsl checked the
    # layout against (conv2d ... conv2d_5); it clears the distribution too.
    keras.backend.clear_session(free_memory=False)
    keras.distribution.set_distribution(distribution)
    model = residual.compile_residual_net(build())
    model.set_weights(weights)
    before, steps, after = train(model, x, y, epochs=4)

    specs = {v.path: tuple(v.value.sharding.spec) for v in model.variables}
    shards = {v.path: {s.data.shape for s in v.value.addressable_shards} for v in model.variables}
    convs = [layer.name for layer in model.layers if type(layer).__name__ == "Conv2D"]
    assert len(convs) == 6
    for name in convs:
        kernel = model.get_layer(name).kernel
        assert specs[kernel.path] == (None, None, None, "model")
        assert shards[kernel.path] == {kernel.shape[:3] + (128 // 4,)}
        assert shards[f"{name}/bias"] == {(128 // 4,)}
    assert specs["score/kernel"] == ("model", None) and shards["score/kernel"] == {(128 // 4, 1)}
    assert model.get_layer("score").bias.value.sharding.is_fully_replicated  # matched by no key
    # Every weight is placed as kdsl check said: its layout, or replicated.
    check = check_text((EXAMPLES / "residual.kd").read_text(encoding="utf-8"), "residual.kd", overrides={"size": 8})
    placed = {w.path: e.axes for e in check.graphs["residual_net"].layout.entries for w in e.matches}
    for weight in model.weights:
        axes = placed.get(weight.path, ())
        assert specs[weight.path] + (None,) * (len(weight.shape) - len(specs[weight.path])) == \
            axes + (None,) * (len(weight.shape) - len(axes)), weight.path
    for variable in model.optimizer.variables:  # Adam's moments follow their weight's layout
        if variable.path.endswith("conv2d_kernel_momentum"):
            assert tuple(variable.value.sharding.spec) == (None, None, None, "model")
    assert after < before
    np.testing.assert_allclose([before, *steps, after], [expected[0], *expected[1], expected[2]], rtol=1e-4)


def test_variable_paths_are_layer_then_weight_name(keras, generated):
    """The keys a LayoutMap (and kd's layout(...)) matches: a layer's own
    weights are "LAYER_NAME/WEIGHT_NAME", with no model prefix."""
    keras.backend.clear_session(free_memory=False)
    model = generated("residual").build_residual_net(size=8)
    paths = [w.path for layer in model.layers for w in layer.weights]
    assert paths == [f"{layer.name}/{w.name}" for layer in model.layers for w in layer.weights]
    assert {"conv2d/kernel", "conv2d_5/bias", "score/kernel", "score/bias"} <= set(paths)


def test_a_layout_that_does_not_divide_fails_when_the_model_is_built(keras, devices, generated, no_distribution):
    """Keras does not pad or fall back to replication: JAX refuses to place
    a variable whose sharded dimension does not divide by the mesh axis, as
    the variable is created (in build_NAME).  kdsl check refuses the same
    layout in kd, at the axis of its entry (so no module is generated)."""
    source = (EXAMPLES / "mlp.kd").read_text(encoding="utf-8").rstrip().removesuffix("}")
    source += '    layout({"probabilities/kernel": (None, "model")}, mesh={"batch": 2, "model": 4})\n}\n'
    (d,) = check_text(source, "mlp.kd").diagnostics
    line = source.splitlines().index('    layout({"probabilities/kernel": (None, "model")}, mesh={"batch": 2, "model": 4})') + 1
    assert (d.code, d.span.line, d.span.col) == ("KD804", line, len('    layout({"probabilities/kernel": (None, ') + 1)
    assert "`probabilities/kernel` (32, 10) (dimension 1 is 10)" in d.message

    mesh = keras.distribution.DeviceMesh((2, 4), ["batch", "model"], devices=devices)
    layout_map = keras.distribution.LayoutMap(mesh)
    layout_map["probabilities/kernel"] = (None, "model")  # Dense(10): 10 output units over 4 devices
    keras.backend.clear_session(free_memory=False)  # before set_distribution: it clears the distribution too
    keras.distribution.set_distribution(keras.distribution.ModelParallel(layout_map=layout_map))
    with pytest.raises(ValueError, match="evenly divide"):
        generated("mlp").build_mlp()
