"""keras.applications models used as layers: kdsl replays the recorded graph
with its own rules; output shapes and weights must equal Keras's for input
sizes other than the recorded one."""

from __future__ import annotations

import pytest

keras = pytest.importorskip("keras")

from dsl.compiler import check_text  # noqa: E402
from dsl.summary import graph_counts  # noqa: E402

CASES = [
    # (application, input shape, extra kd arguments)
    ("Xception", (250, 250, 3), 'include_top=False'),
    ("ResNet50", (197, 163, 3), 'include_top=False, pooling="avg"'),
    ("MobileNetV2", (97, 97, 3), "include_top=False"),  # odd size: ZeroPadding by correct_pad at build time
    ("EfficientNetB0", (225, 226, 3), 'include_top=False, pooling="max"'),
    ("DenseNet121", (64, 64, 3), "include_top=True, classes=7, input_shape=(64, 64, 3)"),
    ("ConvNeXtTiny", (64, 96, 3), "include_top=False"),
]


@pytest.mark.parametrize("app, shape, args", CASES, ids=[c[0] for c in CASES])
def test_application_as_layer_matches_keras(app, shape, args):
    source = f"""model m {{
    image = Input(shape={shape})
    base = {app}(weights=None, {args})
    output features = base(image)
}}"""
    result = check_text(source, "m.kd")
    assert result.ok, result.diagnostics
    graph = result.graphs["m"]
    keras.backend.clear_session(free_memory=False)  # names restart; no slow gc pass
    kwargs = eval(f"dict({args})", {})  # the test's own literal arguments
    model = getattr(keras.applications, app)(weights=None, **kwargs)
    image = keras.Input(shape=shape)
    out = model(image)
    assert graph.outputs[0].tensor.shape == tuple(out.shape)
    counts = graph_counts(graph)
    trainable = sum(int(w.numpy().size) for w in model.trainable_weights)
    assert (counts.trainable, counts.non_trainable) == (trainable, model.count_params() - trainable)


def test_application_too_small_is_an_error():
    source = "model m {\n    image = Input(shape=(4, 4, 3))\n    output f = Xception(weights=None, include_top=False)(image)\n}"
    result = check_text(source, "m.kd")
    assert [d.code for d in result.diagnostics if d.is_error] == ["KD502"]


def test_architecture_arguments_leave_the_output_unknown():
    """The recorded graph is MobileNetV2's default architecture; another alpha
    is not guessed: a warning where it is applied, unless an annotation gives
    the shape (then the annotation is the answer and there is no warning)."""
    source = """model m {
    image = Input(shape=(96, 96, 3))
    features = MobileNetV2(weights=None, include_top=False, alpha=0.5)(image)
    output f = features -> GlobalAveragePooling2D() -> Dense(2)
}"""
    result = check_text(source, "m.kd")
    assert result.ok
    (warning,) = [d for d in result.diagnostics if d.code == "KD902"]
    assert "alpha=0.5" in warning.message
    annotated = source.replace("features = ", "features: (None, 3, 3, 1280) = ")
    result = check_text(annotated, "m.kd")
    assert result.ok and not result.diagnostics
    assert result.graphs["m"].outputs[0].tensor.shape == (None, 2)
