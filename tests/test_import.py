"""`kdsl import`: Keras models back as kd (docs/import.md).

The imported kd is compiled and built with Keras, and the built model's
layer table (names, classes, output shapes, counts, trainable split, in
Keras's order) must equal the original's; each layer's Keras config too.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

keras = pytest.importorskip("keras")

import import_models  # noqa: E402  (tests/ is on sys.path, see conftest.py)
from keras_compare import compile_and_build, keras_table, keras_totals, load_module  # noqa: E402
from support import keras_layers  # noqa: E402

from dsl.compiler import check_text, compile_text  # noqa: E402
from dsl.fmt import format_text  # noqa: E402
from dsl.importer import ImportProblem, import_model, import_serialized, import_source  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def _table(model) -> list:
    """The layer table, with Keras's Sequential shown as Functional: kd has
    no Sequential, so a nested one comes back as a functional model."""
    return [replace(r, cls="Functional") if r.cls == "Sequential" else r for r in keras_table(model)]


def _configs(model, prefix: str = "") -> dict:
    """Each layer's config by its path; a nested model's layers one by one
    (a nested Sequential's own config is not a functional one's)."""
    out = {}
    for layer in model.layers:
        if prefix and isinstance(layer, keras.layers.InputLayer):
            continue  # a Sequential lists none
        if isinstance(layer, keras.Model):
            out.update(_configs(layer, f"{prefix}{layer.name}/"))
            out[prefix + layer.name] = (layer.name, layer.trainable)
        else:
            out[prefix + layer.name] = layer.get_config()
    return out


def round_trip(original, folder: Path, flat: bool = False, stem: str = "imported"):
    """Import ORIGINAL, compile and build the kd; the built model's table,
    totals, outputs and layer configs equal the original's.  Returns (kd
    text, built model)."""
    imported = import_model(original, flat=flat)
    _, _, built = compile_and_build(imported.text, folder, imported.model, filename=f"{stem}.kd")
    assert built is not None, imported.text
    assert _table(built) == _table(original)
    assert keras_totals(built) == keras_totals(original)
    assert list(built.output_names) == list(original.output_names)
    assert _configs(built) == _configs(original)
    assert format_text(imported.text, "imported.kd") == imported.text  # in kdsl fmt's layout
    return imported.text, built


# ------------------------------------------------------------ the seed's examples


def _build_example(name: str, model: str, folder: Path):
    compiled = compile_text((EXAMPLES / f"{name}.kd").read_text(), f"{name}.kd")
    assert compiled.ok
    path = folder / f"{name}.py"
    path.write_text(compiled.text)
    keras.backend.clear_session(free_memory=False)
    return getattr(load_module(path), f"build_{model}")()


SEEDS = [("question_answering", "qa"), ("social_posts", "social_posts"), ("siamese", "siamese"),
         ("dual_camera", "dual_camera")]


@pytest.mark.parametrize("example, model", SEEDS, ids=[s[0] for s in SEEDS])
def test_seed_examples_import_with_equal_tables(example, model, tmp_path):
    """Each example built from its generated Python, saved as .keras, and
    imported from the file: the kd builds the same model."""
    original = _build_example(example, model, tmp_path)
    saved = tmp_path / f"{example}.keras"
    original.save(saved)
    imported = import_source(str(saved))
    _, _, built = compile_and_build(imported.text, tmp_path, imported.model, filename=f"{example}_imported.kd")
    assert _table(built) == _table(original)
    assert keras_totals(built) == keras_totals(original)
    assert list(built.output_names) == list(original.output_names)
    if example == "siamese":  # the shared LSTM is one bound instance, applied twice
        assert imported.text.count("LSTM(") == 1
        assert "lstm = LSTM(32)" in imported.text
        assert imported.text.count("-> lstm") + imported.text.count("lstm(") == 2
    if example == "dual_camera":  # the Xception base stays an application, shared
        assert imported.text.count("Xception(weights=None, include_top=False") == 1
        assert "block1_conv1" not in imported.text


# ------------------------------------------------------------ weights


def test_weights_load_and_predict_the_same(tmp_path):
    """Shared layers, a nested model used twice and BatchNormalization: the
    model built from the imported kd loads the .keras file's weights and
    predicts what the original predicts."""
    original = import_models.shared_nested_bn()
    rng = np.random.default_rng(0)
    inputs = [rng.normal(size=(16, 6)).astype("float32") for _ in range(2)]
    original.compile(optimizer="adam", loss="categorical_crossentropy")
    original.fit(inputs, np.eye(3)[rng.integers(0, 3, 16)], epochs=1, verbose=0)  # BN statistics move
    saved = tmp_path / "towers.keras"
    original.save(saved)
    imported = import_source(str(saved))
    assert imported.text.count("Dense(6") == 1 and imported.text.count("encoder()") == 1
    _, _, built = compile_and_build(imported.text, tmp_path, imported.model, filename="towers.kd")
    assert _table(built) == _table(original)
    built.load_weights(saved)
    probe = [rng.normal(size=(4, 6)).astype("float32") for _ in range(2)]
    np.testing.assert_allclose(built.predict(probe, verbose=0), original.predict(probe, verbose=0), rtol=1e-5, atol=1e-6)
    again = compile_and_build(imported.text, tmp_path, imported.model, filename="towers_again.kd")[2]
    again.set_weights(keras.models.load_model(saved).get_weights())
    np.testing.assert_allclose(again.predict(probe, verbose=0), original.predict(probe, verbose=0), rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------ what kd cannot say


def test_lambda_is_an_error_naming_the_layer():
    with pytest.raises(ImportProblem, match=r"layer `doubler`: a Lambda layer"):
        import_model(import_models.with_lambda())


def test_custom_class_without_module_is_an_error():
    serialized = json.loads(import_models.with_custom_layer().to_json())
    for layer in serialized["config"]["layers"]:
        if layer["class_name"] == "Scale":
            layer["module"], layer["registered_name"] = "__main__", None
    with pytest.raises(ImportProblem, match=r"layer `tripled`: .*no importable module"):
        import_serialized(serialized)


def test_custom_class_with_module_is_a_from_line_and_an_annotation(tmp_path):
    original = import_models.with_custom_layer()
    text, _ = round_trip(original, tmp_path, stem="custom")
    assert "from import_models import Scale" in text
    assert ": (None, 8) = " in text and "Scale(factor=3.0" in text


def test_output_of_a_shared_layer_is_an_error_naming_it():
    x, y = keras.Input((4,), name="x"), keras.Input((4,), name="y")
    shared = keras.layers.Dense(2, name="shared")
    model = keras.Model([x, y], [shared(x), shared(y)])
    with pytest.raises(ImportProblem, match=r"layer `shared`: .* called 2 times"):
        import_model(model)


def test_sequential_model_imports_as_a_functional_one(tmp_path):
    keras.backend.clear_session(free_memory=False)
    layers = keras.layers
    original = keras.Sequential([keras.Input((8,)), layers.Dense(4, activation="relu"), layers.Dropout(0.5),
                                 layers.Dense(2)], name="seq")
    imported = import_model(original)
    _, _, built = compile_and_build(imported.text, tmp_path, imported.model, filename="seq.kd")
    assert keras_layers(built)[1:] == keras_layers(original)  # the functional model lists its input too
    assert _configs(built) == {**_configs(original), "input_layer": built.layers[0].get_config()}


@pytest.mark.parametrize("change, message", [
    (lambda s: s.update(class_name="MyModel"), "subclassed model has no graph"),
    (lambda s: s["config"].update(output_layers={"scores": ["scores", 0, 0]}), "outputs are a dict"),
    (lambda s: s["config"]["layers"][1]["inbound_nodes"][0]["args"][0]["config"].update(
        keras_history=["nowhere", 0, 0]), "reads `nowhere`"),
    (lambda s: s.pop("config"), "not a saved Keras model"),
])
def test_broken_configs_are_problems(change, message):
    serialized = json.loads(import_models.small().to_json())
    change(serialized)
    with pytest.raises(ImportProblem, match=message):
        import_serialized(serialized)


def test_unreadable_files_are_problems(tmp_path):
    import zipfile

    (tmp_path / "notjson.json").write_text("{not json")
    with zipfile.ZipFile(tmp_path / "empty.keras", "w") as archive:
        archive.writestr("metadata.json", "{}")
    for name, message in [("notjson.json", "is not JSON"), ("empty.keras", "without config.json"),
                          ("absent.keras", "no such file"), ("what?", "neither a .keras")]:
        with pytest.raises(ImportProblem, match=message):
            import_source(str(tmp_path / name) if name != "what?" else name)


def test_names_that_are_no_kd_identifiers_are_written_out(tmp_path):
    """Keras names that kd cannot bind (not ASCII, not identifiers, kd
    keywords, Keras names) come back as `name=`; the model is the same."""
    keras.backend.clear_session(free_memory=False)
    layers = keras.layers
    first = keras.Input((4,), name="données")
    second = keras.Input((4,), name="x")
    merged = layers.concatenate([layers.Dense(3, name="my-layer")(first), second], name="add")
    outputs = [layers.Dense(2, name="output")(merged), layers.Dense(1, name="Dense")(merged)]
    text, _ = round_trip(keras.Model([first, second], outputs, name="model"), tmp_path, stem="odd_names")
    assert 'name="données"' in text and 'name="my-layer"' in text and 'name="output"' in text


def test_application_names_are_sources():
    keras.backend.clear_session(free_memory=False)
    imported = import_source("keras.applications.MobileNetV3Small")
    assert imported.model == "MobileNetV3Small_model"  # the application's own name stays the application's
    assert check_text(imported.text, "m.kd").ok
    with pytest.raises(ImportProblem, match="has no model `Nothing`"):
        import_source("keras.applications.Nothing")


def test_config_files_are_read_without_keras(tmp_path):
    """A .keras file and a to_json() file are data: kdsl reads them without
    importing Keras."""
    model = import_models.small()
    model.save(tmp_path / "small.keras")
    (tmp_path / "small.json").write_text(model.to_json())
    script = (
        "import sys\n"
        "from dsl.importer import import_source\n"
        "for name in ('small.keras', 'small.json'):\n"
        "    assert 'output scores = features -> Dense(8, activation=\"relu\") -> Dense(2)' in import_source(name).text\n"
        "assert not any(m == 'keras' or m.startswith(('keras.', 'tensorflow')) for m in sys.modules), 'Keras imported'\n"
    )
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


# ------------------------------------------------------------ the command line


def _kdsl(*args, cwd):
    env = {"PYTHONPATH": f"{ROOT}:{ROOT / 'tests'}", "PATH": "/usr/bin:/bin", "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.run([sys.executable, "-m", "dsl", *args], cwd=cwd, env=env, capture_output=True, text=True)


def test_command_writes_checked_kd_and_keeps_existing_files(tmp_path):
    import_models.small().save(tmp_path / "small.keras")
    done = _kdsl("import", "small.keras", "-o", "small.kd", "--model-name", "tiny", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    text = (tmp_path / "small.kd").read_text()
    assert "model tiny {" in text and check_text(text, "small.kd").ok
    again = _kdsl("import", "small.keras", "-o", "small.kd", cwd=tmp_path)
    assert again.returncode == 1 and "exists" in again.stderr
    assert (tmp_path / "small.kd").read_text() == text


def test_command_prints_a_function_source_and_reports_problems(tmp_path):
    done = _kdsl("import", "import_models:small", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("# Imported by `kdsl import` from import_models:small.")
    missing = _kdsl("import", "missing.keras", cwd=tmp_path)
    assert missing.returncode == 1 and "no such file" in missing.stderr


# ------------------------------------------------------------ folding's rules, one by one


@pytest.mark.parametrize("names, expected", [
    (["conv2_block1_1_conv", "conv2_block1_2_conv", "conv2_block1_out"], "conv2_block1"),
    (["mixed9_0", "mixed9"], "mixed9"),
    (["mixed9_1", "mixed10"], ""),
    (["block2a_expand_conv", "block2a_dwconv"], "block2a"),
])
def test_stems_end_where_a_part_of_each_name_ends(names, expected):
    from dsl.importer.fold import stem

    assert stem(names) == expected


@pytest.mark.parametrize("a, b, merged", [
    ("block1", "block1_conv1", "block1"),
    ("block2a_expand", "block2a_dwconv", "block2a"),  # `block2a` names a layer nearby
    ("conv2_block1", "conv2_block2", None),  # `conv2` names none
    ("expanded_conv", "expanded_conv_1", None),  # siblings: only a number added
])
def test_neighbouring_parts_merge_on_a_real_stem(a, b, merged):
    from dsl.importer.fold import _merged_stem

    assert _merged_stem(a, b, {"block2a", "block1", "expanded_conv", "conv2_block1"}) == merged


@pytest.mark.parametrize("values, found", [
    (["conv4_block2", "conv4_block3", "conv4_block4"], ("conv4_block", 2, "")),
    ([5, 6, 7], (None, 5, None)),
    (["block2b", "block2c", "block2d"], None),
    ([64, 128, 256], None),
])
def test_loops_count_up_by_one(values, found):
    from dsl.importer.fold import _progression

    assert _progression(values) == found


def test_names_around_an_id():
    from dsl.importer.fold import _infix

    per_call = [["normal_conv_1_0", "normal_add_1_0"], ["normal_conv_1_1", "normal_add_1_1"],
                ["normal_conv_1_12", "normal_add_1_12"]]
    assert _infix(per_call) == ([("normal_conv_1_", ""), ("normal_add_1_", "")], ["0", "1", "12"])
    assert _infix([["a_x", "b_x"], ["a_y", "c_y"]]) is None


# ------------------------------------------------------------ compile settings


def _two_outputs():
    keras.backend.clear_session(free_memory=False)
    inputs = keras.Input((4,), name="x")
    return keras.Model(inputs, [keras.layers.Dense(2, name="y")(inputs), keras.layers.Dense(1, name="z")(inputs)])


_SETTINGS = {
    "strings": dict(optimizer="adam", loss="mse", metrics=[["mae"], ["mse", "mae"]]),
    "objects": lambda: dict(optimizer=keras.optimizers.Adam(learning_rate=0.01, beta_1=0.8),
                            loss={"y": "mse", "z": keras.losses.Huber()},
                            metrics={"y": ["mae"], "z": [keras.metrics.AUC(num_thresholds=50)]},
                            loss_weights={"y": 1.0, "z": 0.5}),
    "per output lists": lambda: dict(optimizer=keras.optimizers.SGD(momentum=0.9, nesterov=True),
                                     loss=["mse", keras.losses.MeanAbsoluteError()], loss_weights=[0.3, 0.7],
                                     steps_per_execution=4),
    "objects at every setting": lambda: dict(
        optimizer=keras.optimizers.AdamW(learning_rate=3e-4, weight_decay=0.01, clipnorm=1.0, use_ema=True),
        loss=keras.losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.1),
        metrics=[["accuracy", keras.metrics.AUC(curve="PR")], [keras.metrics.RootMeanSquaredError(name="rmse")]],
        weighted_metrics=[["mse"], ["mae"]], run_eagerly=True),
}


@pytest.mark.parametrize("settings", list(_SETTINGS), ids=list(_SETTINGS))
def test_compile_settings_come_back_as_keras_saves_them(settings, tmp_path):
    """kd's compile(...) compiles the built model to the compile config the
    saved one has."""
    original = _two_outputs()
    given = _SETTINGS[settings]
    original.compile(**(given() if callable(given) else given))
    expected = original.get_compile_config()
    original.save(tmp_path / "compiled.keras")
    imported = import_source(str(tmp_path / "compiled.keras"))
    assert "compile(" in imported.text and "Not imported" not in imported.text
    _, module, built = compile_and_build(imported.text, tmp_path, imported.model, filename="compiled.kd")
    getattr(module, f"compile_{imported.model}")(built)
    assert built.get_compile_config() == expected


def test_compile_settings_say_what_keras_was_given():
    keras.backend.clear_session(free_memory=False)
    inputs = keras.Input((4,), name="x")
    original = keras.Model(inputs, keras.layers.Dense(1, name="y")(inputs))
    original.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss="mse",
                     metrics=[keras.metrics.AUC()])
    text = import_model(original).text
    # The float32 learning rate as written, Keras's own names and dtypes left out.
    assert 'compile(optimizer=Adam(learning_rate=0.01), loss="mse", metrics=[AUC()])' in text


def test_an_uncompiled_model_has_no_compile_statement():
    assert "compile(" not in import_model(_two_outputs()).text


def test_compile_settings_kd_cannot_write_are_left_out_and_said_so():
    original = _two_outputs()
    schedule = keras.optimizers.schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.9)
    original.compile(optimizer=keras.optimizers.SGD(learning_rate=schedule), loss="mse")
    text = import_model(original).text
    assert "compile(" not in text
    assert "# Not imported: the compile settings (" in text and "ExponentialDecay" in text
    assert check_text(text, "imported.kd").ok  # the model itself is imported


def test_compile_settings_kdsl_refuses_are_left_out_with_its_reason():
    """Keras takes this compile, then fails at the first `fit` step (one
    metrics list for two outputs); kdsl refuses it, so it is not imported."""
    original = _two_outputs()
    original.compile(optimizer="adam", loss="mse", metrics=["mae"])
    text = import_model(original).text
    assert "compile(" not in text
    assert "# Not imported: the compile settings, which kdsl refuses (" in text and "KD701" in text
