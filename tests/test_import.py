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
from keras_compare import compile_and_build, kdsl_table, keras_table, keras_totals, load_module  # noqa: E402

from dsl.compiler import check_text, compile_text  # noqa: E402
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


# ------------------------------------------------------------ folding


def test_resnet50_folds_like_the_example(tmp_path):
    """The folded ResNet50 is at most twice as long as examples/resnet50.kd,
    builds the same model as keras.applications.ResNet50, and its layer table
    (kdsl's, and Keras's) equals the flat import's."""
    keras.backend.clear_session(free_memory=False)
    original = keras.applications.ResNet50(weights=None)
    folded, built = round_trip(original, tmp_path, stem="resnet_folded")
    flat = import_model(original, flat=True).text
    example_lines = len((EXAMPLES / "resnet50.kd").read_text().splitlines())
    assert len(folded.splitlines()) <= 2 * example_lines
    assert folded.count("block ") >= 2 and "for i in range(" in folded
    assert "block " not in flat and "for " not in flat
    tables = [kdsl_table(check_text(text, "r.kd").graphs["resnet50"]) for text in (folded, flat)]
    assert tables[0] == tables[1]
    assert [(r.name, r.cls, r.output_shapes, r.params) for r in tables[0]] == \
        [(r.name, r.cls, r.output_shapes, r.params) for r in keras_table(built)]


def test_densenet121_dense_blocks_are_loops(tmp_path):
    keras.backend.clear_session(free_memory=False)
    original = keras.applications.DenseNet121(weights=None)
    text, _ = round_trip(original, tmp_path, stem="densenet_folded")
    loops = [line.strip() for line in text.splitlines() if line.strip().startswith("for ")]
    assert len(loops) == 4, loops  # one per dense block: 6, 12, 24 and 16 conv blocks
    assert "range(1, 7)" in loops[0] and "range(1, 17)" in loops[3]


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
    assert again.returncode == 2 and "exists" in again.stderr
    assert (tmp_path / "small.kd").read_text() == text


def test_command_prints_a_function_source_and_reports_problems(tmp_path):
    done = _kdsl("import", "import_models:small", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("# Imported by `kdsl import` from import_models:small.")
    bad = _kdsl("import", "import_models:with_lambda", cwd=tmp_path)
    assert bad.returncode == 1 and "layer `doubler`" in bad.stderr
    missing = _kdsl("import", "missing.keras", cwd=tmp_path)
    assert missing.returncode == 1 and "no such file" in missing.stderr
