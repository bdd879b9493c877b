"""`kdsl diff OLD.kd NEW.kd` (dsl/diff.py, docs/diff.md): identical files, a
changed filter count, an added block, a renamed layer, errors, and the
calling form of a git diff driver, through git itself."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dsl.cli import main

ROOT = Path(__file__).parent.parent

NET = """\
block conv_block(x, filters) {
    return x -> Conv2D(filters, 3, padding="same", activation="relu") -> BatchNormalization()
}

model net {
    image = Input(shape=(32, 32, 3))
    x = image -> conv_block(32) -> MaxPooling2D(2)
    output label = x -> GlobalAveragePooling2D() -> Dense(10, activation="softmax")
}
"""


def run_diff(capsys, tmp_path, old: str, new: str, *options) -> tuple:
    (tmp_path / "old.kd").write_text(old)
    (tmp_path / "new.kd").write_text(new)
    code = main(["diff", str(tmp_path / "old.kd"), str(tmp_path / "new.kd"), *options])
    out, err = capsys.readouterr()
    return code, out, err


def report(capsys, tmp_path, old: str, new: str) -> tuple:
    code, out, _ = run_diff(capsys, tmp_path, old, new, "--format", "json")
    document = json.loads(out)
    assert (document["schema"], document["version"]) == ("kdsl-diff", 1)
    return code, document["models"][0], document


def test_identical_files_are_the_same_model(capsys, tmp_path):
    code, out, err = run_diff(capsys, tmp_path, NET, NET)
    assert code == 0 and err == ""
    assert 'Model "net": the same' in out
    code, model, document = report(capsys, tmp_path, NET, NET)
    assert code == 0 and document["same"] and model["status"] == "same"


def test_a_layout_change_alone_is_the_same_model(capsys, tmp_path):
    """Blocks are how the source is written; the model is the same."""
    inlined = NET.replace("x = image -> conv_block(32) -> MaxPooling2D(2)",
                          'x = image -> Conv2D(32, 3, padding="same", activation="relu") -> BatchNormalization()'
                          " -> MaxPooling2D(2)")
    code, model, _ = report(capsys, tmp_path, NET, inlined)
    assert code == 0 and model["status"] == "same"


def test_a_changed_filter_count(capsys, tmp_path):
    wider = NET.replace("conv_block(32)", "conv_block(64)")
    code, model, _ = report(capsys, tmp_path, NET, wider)
    assert code == 1 and model["status"] == "changed"
    assert not model["added"] and not model["removed"] and not model["renamed"]
    changed = {c["name"]: c for c in model["changed"]}
    assert list(changed) == ["conv2d", "batch_normalization", "max_pooling2d", "global_average_pooling2d", "label"]
    conv = changed["conv2d"]
    assert conv["changes"]["arguments"] == {"filters": [32, 64]}
    assert conv["changes"]["output_shapes"] == [[[None, 32, 32, 32]], [[None, 32, 32, 64]]]
    assert conv["changes"]["params"] == [896, 1792]  # (3*3*3 + 1) * 32 -> * 64
    assert conv["delta"] == {"params": 896, "macs": 32 * 32 * 27 * 32}
    assert changed["label"]["changes"] == {"params": [330, 650], "trainable": [330, 650]}  # 32*10+10 -> 64*10+10
    assert model["totals"]["params"] == {"old": 1354, "new": 2698, "delta": 1344}
    code, out, _ = run_diff(capsys, tmp_path, NET, wider)
    assert code == 1
    assert "  changed  conv2d (Conv2D)  [params +896, macs +884,736]" in out
    assert "             filters: 32 -> 64" in out
    assert "  Total params: 1,354 -> 2,698 (+1,344)" in out


def test_an_added_block(capsys, tmp_path):
    deeper = NET.replace("-> MaxPooling2D(2)", "-> MaxPooling2D(2) -> conv_block(64)")
    code, model, _ = report(capsys, tmp_path, NET, deeper)
    assert code == 1
    assert [(a["name"], a["class"], a["params"]) for a in model["added"]] == [
        ("conv2d_1", "Conv2D", 18496), ("batch_normalization_1", "BatchNormalization", 256)]
    assert not model["removed"]
    pool = next(c for c in model["changed"] if c["name"] == "global_average_pooling2d")
    assert pool["changes"]["inbound"] == [["max_pooling2d"], ["batch_normalization_1"]]
    # The new convolution and normalization, then the pooling and the Dense on 64 channels instead of 32.
    assert model["totals"]["macs"]["delta"] == 16 * 16 * 9 * 32 * 64 + 16 * 16 * 64 + (16 * 16 * 32 + 32) + 32 * 10
    code, out, _ = run_diff(capsys, tmp_path, NET, deeper)
    assert "  added    conv2d_1 (Conv2D)  (None, 16, 16, 64)  params +18,496  MACs +4,718,592" in out


def test_a_renamed_layer(capsys, tmp_path):
    renamed = NET.replace("GlobalAveragePooling2D()", 'GlobalAveragePooling2D(name="pool")')
    code, model, _ = report(capsys, tmp_path, NET, renamed)
    assert code == 1  # Keras sees another name: weights load by name, a different model
    assert model["renamed"] == [{"old": "global_average_pooling2d", "new": "pool", "class": "GlobalAveragePooling2D"}]
    assert not model["added"] and not model["removed"]
    assert not model["changed"]  # `label` reads the renamed layer: not a change of its own
    code, out, _ = run_diff(capsys, tmp_path, NET, renamed)
    assert "  renamed  global_average_pooling2d -> pool (GlobalAveragePooling2D)" in out


def test_a_renamed_layer_that_also_changed_is_removed_and_added(capsys, tmp_path):
    changed = NET.replace("GlobalAveragePooling2D()", 'GlobalMaxPooling2D(name="pool")')
    code, model, _ = report(capsys, tmp_path, NET, changed)
    assert code == 1 and not model["renamed"]
    assert [a["name"] for a in model["added"]] == ["pool"]
    assert [r["name"] for r in model["removed"]] == ["global_average_pooling2d"]


def test_models_added_and_removed_and_model_selection(capsys, tmp_path):
    other = NET.replace("model net", "model other")
    code, document_models, document = report(capsys, tmp_path, NET, other)
    assert code == 1
    assert [(m["name"], m["status"]) for m in document["models"]] == [("net", "removed"), ("other", "added")]
    second = other[other.index("model other"):]
    code, out, err = run_diff(capsys, tmp_path, NET + "\n" + second, NET + "\n" + second.replace("10,", "5,"),
                              "--model", "net")
    assert code == 0 and 'Model "net": the same' in out and "other" not in out
    code, _, err = run_diff(capsys, tmp_path, NET, NET, "--model", "missing")
    assert code == 2 and "no model named 'missing'" in err


def test_errors_in_a_source_exit_2_with_diagnostics(capsys, tmp_path):
    code, out, err = run_diff(capsys, tmp_path, NET, NET.replace("conv_block(32)", "conv_block(-1)"))
    assert code == 2 and out == ""
    assert "new.kd:2:" in err and "error[" in err


def test_git_calls_it_with_seven_arguments(capsys, tmp_path):
    """path old-file old-hex old-mode new-file new-hex new-mode, as git passes a
    diff driver: exit 0 even when the models differ (git stops otherwise);
    /dev/null for an added file."""
    (tmp_path / "old.kd").write_text(NET)
    (tmp_path / "new.kd").write_text(NET.replace("conv_block(32)", "conv_block(64)"))
    hexes = ["1" * 40, "2" * 40]
    code = main(["diff", "net.kd", str(tmp_path / "old.kd"), hexes[0], "100644", str(tmp_path / "new.kd"), hexes[1], "100644"])
    out = capsys.readouterr().out
    assert code == 0
    assert out.startswith("--- a/net.kd\n+++ b/net.kd\n") and "filters: 32 -> 64" in out
    code = main(["diff", "net.kd", os.devnull, ".", ".", str(tmp_path / "new.kd"), hexes[1], "100644"])
    assert code == 0 and 'Model "net": added (6 layers)' in capsys.readouterr().out
    (tmp_path / "broken.kd").write_text("model m {\n    x = Input(shape=(4,)\n}\n")
    code = main(["diff", "m.kd", str(tmp_path / "old.kd"), hexes[0], "100644", str(tmp_path / "broken.kd"), hexes[1], "100644"])
    out, err = capsys.readouterr()
    assert code == 0 and "error[" in err and "showing the text diff" in err
    assert out.startswith("--- a/m.kd\n+++ b/m.kd\n") and "-block conv_block" in out
    assert main(["diff", "m.kd"]) == 2  # one path: not git's call
    assert "diff takes OLD.kd NEW.kd" in capsys.readouterr().err


def test_git_calls_it_with_the_path_alone_when_unmerged(capsys, monkeypatch):
    monkeypatch.setenv("GIT_DIFF_PATH_COUNTER", "1")
    monkeypatch.setenv("GIT_DIFF_PATH_TOTAL", "1")
    assert main(["diff", "m.kd"]) == 0 and capsys.readouterr().out == "* Unmerged path m.kd\n"


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_as_the_diff_driver_of_a_git_repository(tmp_path):
    """The .gitattributes line and `git config diff.kdsl.command` of
    docs/diff.md: `git diff` shows the model's changes, imports resolved in
    the work tree."""
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(tmp_path), "PYTHONPATH": os.pathsep.join(sys.path)}

    def git(*args):
        return subprocess.run(["git", *args], cwd=tmp_path, env=env, capture_output=True, text=True, check=True).stdout

    (tmp_path / "models").mkdir()
    block, model = NET.split("model net")
    (tmp_path / "models" / "lib.kd").write_text(block)
    (tmp_path / "models" / "net.kd").write_text('import "lib.kd"\n\nmodel net' + model)
    (tmp_path / ".gitattributes").write_text("*.kd diff=kdsl\n")
    git("init", "-q")
    git("config", "diff.kdsl.command", f"{sys.executable} -m dsl diff")
    git("add", "-A")
    git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "net")
    net = tmp_path / "models" / "net.kd"
    net.write_text(net.read_text().replace("Dense(10,", "Dense(5,"))
    out = git("diff")
    assert out.startswith("--- a/models/net.kd\n+++ b/models/net.kd\n")
    assert "  changed  label (Dense)  [params -165, macs -160]" in out and "units: 10 -> 5" in out
    assert "-    output label" in git("diff", "--no-ext-diff")  # the text diff is still there


COMPILED = NET.rstrip().removesuffix("}") + '    compile(optimizer="adam", loss="mse")\n}\n'


def test_changed_compile_settings_are_a_change(capsys, tmp_path):
    tuned = COMPILED.replace('optimizer="adam", loss="mse"', 'optimizer=SGD(momentum=0.9), loss="mse", metrics=["mae"]')
    code, model, document = report(capsys, tmp_path, COMPILED, tuned)
    assert code == 1 and not document["same"] and model["status"] == "changed"
    assert model["compile"] == {"optimizer": ["adam", "SGD(momentum=0.9)"], "metrics": [None, ["mae"]]}
    assert model["changed"] == [] and model["added"] == []
    code, out, _ = run_diff(capsys, tmp_path, COMPILED, tuned)
    assert code == 1
    assert 'Model "net": compile settings changed' in out
    assert "  compile  optimizer: 'adam' -> 'SGD(momentum=0.9)'" in out
    assert "  compile  metrics: (default) -> ['mae']" in out


def test_compile_settings_removed_and_unchanged(capsys, tmp_path):
    code, model, _ = report(capsys, tmp_path, COMPILED, NET)
    assert code == 1 and model["compile"] == {"optimizer": ["adam", None], "loss": ["mse", None]}
    code, model, _ = report(capsys, tmp_path, COMPILED, COMPILED.replace('loss="mse")', 'loss="mse",\n    )'))
    assert code == 0 and model["status"] == "same" and model["compile"] == {}


RESIDUAL = (ROOT / "examples" / "residual.kd").read_text()


def test_a_changed_layout_is_a_change_rule_by_rule(capsys, tmp_path):
    resharded = RESIDUAL.replace('mesh={"batch": 2, "model": 4}', 'mesh={"batch": 4, "model": 2}').replace(
        '"conv2d(_[0-9]+)?/bias": ("model",),', '"conv2d(_[0-9]+)?/bias": (None,),')
    assert resharded != RESIDUAL
    code, model, _ = report(capsys, tmp_path, RESIDUAL, resharded)
    assert code == 1 and model["status"] == "changed" and model["changed"] == []
    assert model["layout"] == {"mesh": [{"batch": 2, "model": 4}, {"batch": 4, "model": 2}],
                               "rules": {"conv2d(_[0-9]+)?/bias": [["model"], [None]]}}
    code, out, _ = run_diff(capsys, tmp_path, RESIDUAL, resharded)
    assert 'Model "residual_net": layout changed' in out
    assert "  layout   mesh: {'batch': 2, 'model': 4} -> {'batch': 4, 'model': 2}" in out
    assert "  layout   'conv2d(_[0-9]+)?/bias': ('model',) -> (None,)" in out
    code, model, _ = report(capsys, tmp_path, RESIDUAL, RESIDUAL)
    assert code == 0 and model["layout"] == {}
