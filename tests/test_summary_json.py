"""`kdsl summary --format json` (docs/summary-json.md), the compute columns
of the table, and `kdsl graph` on real programs, without Keras. (The
document's layers against built Keras models: tests/test_examples.py,
tests/test_fidelity.py and the program fuzzer.)"""

from __future__ import annotations

import importlib.util
import json
import re
from math import prod
from pathlib import Path

import pytest
from test_graphview import expected_keys, layer_elements, parse_svg

from dsl.cli import main
from dsl.compiler import check_text
from dsl.graphview import render
from dsl.graphview.document import build_graph, select_model
from dsl.graphview.geometry import build_scene, place
from dsl.graphview.svg import initial_page_state
from dsl.summary import render_summaries, summary_document

ROOT = Path(__file__).parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.kd"))
LAYER_FIELDS = {"name", "class", "kind", "output_shapes", "dtype", "params", "trainable", "non_trainable", "frozen",
                "arguments", "inbound", "calls", "shared", "block", "source", "macs", "activation_bytes", "weight_bytes"}
RESNET50_CONV_AND_DENSE_MACS = 3_857_973_248  # from Keras's built ResNet50: tests/test_costs.py


def document_of(source: str, filename: str = "net.kd", path=None) -> dict:
    result = check_text(source, filename, path)
    assert result.ok, [d.message for d in result.diagnostics if d.is_error]
    return summary_document(result, filename)


def example_document(path: Path) -> dict:
    return document_of(path.read_text(), str(path.relative_to(ROOT)), path)


@pytest.fixture(scope="module")
def documents() -> dict:
    return {path.stem: example_document(path) for path in EXAMPLES}


def walk_models(model: dict):
    """MODEL and every model nested in it."""
    yield model
    for entry in model["layers"]:
        if entry.get("model"):
            yield from walk_models(entry["model"])


# ------------------------------------------------------------------ schema


def test_every_example_gives_a_consistent_document(documents):
    """Every field of the schema is there, every read names a layer, call and
    output that exist, every block id is listed, and the totals add up."""
    for name, document in documents.items():
        assert (document["schema"], document["version"]) == ("kdsl-summary", 1)
        assert document["models"] and document["skipped"] == []
        for model in (m for top in document["models"] for m in walk_models(top)):
            layers = {e["name"]: e for e in model["layers"]}
            assert len(layers) == len(model["layers"]), name  # names are unique in a model
            blocks = {b["id"] for b in model["blocks"]}
            assert all(b["parent"] is None or b["parent"] in blocks for b in model["blocks"])
            for entry in model["layers"]:
                assert LAYER_FIELDS <= set(entry), (name, entry["name"])
                assert entry["block"] is None or entry["block"] in blocks
                assert entry["shared"] == (len(entry["calls"]) > 1)
                for call in entry["calls"]:
                    for read in call["inbound"]:
                        producer = layers[read["layer"]]
                        assert read["tensor"] < len(producer["calls"][read["call"]]["output_shapes"])
                assert entry["inbound"] == list(dict.fromkeys(r["layer"] for c in entry["calls"] for r in c["inbound"]))
                if entry["macs"] is not None:
                    assert entry["macs"] == sum(c["macs"] for c in entry["calls"])
            totals = model["totals"]
            assert totals["exact"]
            assert totals["params"] == sum(e["params"] for e in model["layers"])
            assert totals["trainable"] + totals["non_trainable"] == totals["params"]
            for key in ("macs", "activation_bytes", "weight_bytes"):
                known = [e[key] for e in model["layers"] if e[key] is not None]
                unknown = [e["name"] for e in model["layers"] if e[key] is None]
                assert (totals[key], totals["costs_unknown"][key]) == (sum(known), unknown), (name, key)
            for out in model["outputs"]:
                assert out["shape"] in layers[out["layer"]]["output_shapes"]


def test_the_cli_prints_the_document(capsys):
    path = ROOT / "examples" / "residual.kd"
    assert main(["summary", "--format", "json", str(path)]) == 0
    out = capsys.readouterr().out
    assert json.loads(out) == summary_document(check_text(path.read_text(), str(path), path), str(path))
    assert '"output_shapes": [[null, 32, 32, 128]],' in out  # shapes on one line


def test_blocks_are_the_calls_as_written(documents):
    model = documents["resnet50"]["models"][0]
    stages = [b for b in model["blocks"] if b["parent"] is None]
    assert [b["call"] for b in stages] == ['stack1(64, 3, stride1=1, name="conv2")', 'stack1(128, 4, name="conv3")',
                                           'stack1(256, 6, name="conv4")', 'stack1(512, 3, name="conv5")']
    inner = [b for b in model["blocks"] if b["parent"] == stages[0]["id"]]
    assert [b["call"] for b in inner] == ['block1(x, filters, stride=stride1, name=name + "_block1")'] + [
        'block1(x, filters, conv_shortcut=False, name=name + "_block" + str(i))'] * 2
    by_name = {e["name"]: e for e in model["layers"]}
    assert by_name["conv2_block2_1_conv"]["block"] == inner[1]["id"]
    assert by_name["conv1_conv"]["block"] is None


SHARED = """\
from layers import Gated

model twice {
    a = Input(shape=(8,))
    b = Input(shape=(8,))
    dense = Dense(4, kernel_initializer=HeNormal(seed=1), name="shared")
    scaled = dense(a) * 0.5
    g: (None, 4) = Gated(4)(dense(b))
    output y = concatenate(scaled, g) -> Bidirectional(LSTM(3), name="ignored")
}
"""


def test_shared_layers_ops_custom_layers_and_arguments():
    source = SHARED.replace("-> Bidirectional(LSTM(3), name=\"ignored\")", "-> Dense(2)")
    model = document_of(source)["models"][0]
    by_name = {e["name"]: e for e in model["layers"]}
    shared = by_name["shared"]
    assert shared["shared"] and len(shared["calls"]) == 2
    assert shared["arguments"] == {"units": 4, "kernel_initializer": "HeNormal(seed=1)"}
    assert [c["macs"] for c in shared["calls"]] == [32, 32] and shared["macs"] == 64
    assert shared["weight_bytes"] == (8 * 4 + 4) * 4  # once, however many calls
    assert shared["activation_bytes"] == 2 * 4 * 4
    assert [[(r["layer"], r["call"]) for r in c["inbound"]] for c in shared["calls"]] == [[("a", 0)], [("b", 0)]]
    multiply = by_name["multiply"]
    assert (multiply["kind"], multiply["class"], multiply["macs"], multiply["params"]) == ("op", "Multiply", 4, 0)
    assert multiply["calls"][0]["inbound"] == [{"layer": "shared", "call": 0, "tensor": 0}]
    gated = by_name["gated"]
    assert (gated["kind"], gated["params"], gated["macs"], gated["weight_bytes"]) == ("custom", None, None, None)
    assert gated["activation_bytes"] == 16  # its annotated shape
    totals = model["totals"]
    assert (totals["exact"], totals["unknown"]) == (False, ["gated"])
    assert totals["costs_unknown"]["macs"] == ["gated"]


def test_wrapped_layers_are_written_in_kd():
    model = document_of(SHARED.replace("from layers import Gated\n\n", "").replace(
        "g: (None, 4) = Gated(4)(dense(b))", "g = dense(b)").replace(
        "concatenate(scaled, g)", "(concatenate(scaled, g) -> Reshape((2, 4)))"))["models"][0]
    wrapper = next(e for e in model["layers"] if e["class"] == "Bidirectional")
    assert wrapper["arguments"] == {"layer": "LSTM(units=3)"}
    assert wrapper["name"] == "ignored" and "name" not in wrapper["arguments"]


def test_a_skipped_model_says_why():
    source = "model m(size) {\n    x = Input(shape=(size,))\n    output y = Dense(2)(x)\n}\n"
    result = check_text(source, "m.kd")
    document = summary_document(result, "m.kd")
    assert document["models"] == []
    assert document["skipped"] == [{"name": "m", "reason": "model `m` was not checked: parameter `size` has no default"}]


def test_nested_kd_models_and_applications_are_nested_documents(documents):
    paraphrase = next(m for m in documents["shared_encoder"]["models"] if m["name"] == "paraphrase")
    encoder = next(e for e in paraphrase["layers"] if e["kind"] == "model")
    assert encoder["model"]["name"] == "encoder"
    assert encoder["frozen"] and all(e["trainable"] in (0, None) for e in encoder["model"]["layers"])
    assert encoder["params"] == encoder["model"]["totals"]["params"]
    camera = documents["dual_camera"]["models"][0]
    xception = next(e for e in camera["layers"] if e["kind"] == "application")
    nested = xception["model"]
    assert xception["class"] == "Functional" and len(nested["layers"]) == 132
    assert nested["totals"]["params"] == xception["params"] == 20_861_480
    # The nested graph is the one Keras builds for the declared input, (None, None, None, 3);
    # the calls on 250x250 images are costed on their own shapes.
    assert nested["inputs"][0]["shape"] == [None, None, None, 3]
    assert len(xception["calls"]) == 2 and all(c["macs"] for c in xception["calls"])


# ------------------------------------------------- compute and memory


def _elements(shape) -> int:
    return prod(shape[1:])


def reference_macs(entry: dict, layers: dict) -> int:
    """docs/costs.md's formula for each class ResNet50 uses, from the
    document's shapes and arguments alone."""
    out = entry["output_shapes"][0]
    inputs = [layers[r["layer"]]["calls"][r["call"]]["output_shapes"][r["tensor"]] for r in entry["calls"][0]["inbound"]]
    cls, args = entry["class"], entry["arguments"]
    if cls == "Conv2D":
        k = args["kernel_size"]
        return _elements(out[:-1] + [1]) * k * k * inputs[0][-1] * args["filters"]
    if cls == "Dense":
        return inputs[0][-1] * args["units"]
    if cls == "BatchNormalization":
        return _elements(out)
    if cls == "MaxPooling2D":
        return _elements(out) * args["pool_size"] ** 2
    if cls == "Add":
        return (len(inputs) - 1) * _elements(out)
    if cls == "GlobalAveragePooling2D":
        return _elements(inputs[0]) + inputs[0][-1]
    assert cls in ("InputLayer", "Activation", "ZeroPadding2D"), cls
    return 0


def test_resnet50_compute_and_memory(documents):
    model = documents["resnet50"]["models"][0]
    layers = {e["name"]: e for e in model["layers"]}
    conv_and_dense = sum(e["macs"] for e in model["layers"] if e["class"] in ("Conv2D", "Dense"))
    assert conv_and_dense == RESNET50_CONV_AND_DENSE_MACS
    for entry in model["layers"]:
        assert entry["macs"] == reference_macs(entry, layers), entry["name"]
        assert entry["activation_bytes"] == 4 * _elements(entry["output_shapes"][0])
        assert entry["weight_bytes"] == 4 * entry["params"]
    assert model["totals"]["macs"] == sum(e["macs"] for e in model["layers"])


def test_the_table_has_a_macs_column_and_total_lines_unless_no_compute(capsys):
    path = str(ROOT / "examples" / "resnet50.kd")
    assert main(["summary", path]) == 0
    text = capsys.readouterr().out
    header = text.splitlines()[1].split()
    assert header[:7] == ["Layer", "(type)", "Output", "Shape", "Param", "#", "MACs"]
    assert "conv1_conv (Conv2D)" in text and " 118,013,952 " in text  # 112*112 * 7*7*3 * 64
    assert " MACs per example: 3,875,988,480 (3.88 G)" in text
    assert " Activation memory per example: 148,480,848 bytes (141.60 MB)" in text
    assert " Weight memory: 102,546,848 bytes (97.80 MB)" in text
    assert main(["summary", "--no-compute", path]) == 0
    bare = capsys.readouterr().out
    assert "MACs" not in bare and "memory" not in bare
    assert " Total params: 25,636,712 (97.80 MB)" in bare


def test_unknown_figures_are_lower_bounds_naming_the_layers():
    text = render_summaries(check_text(SHARED.replace("-> Bidirectional(LSTM(3), name=\"ignored\")", "-> Dense(2)"), "s.kd"))
    # shared: 2 calls of 8 * 4; multiply: 4; concatenate: 0; the last Dense: 8 * 2.
    assert " MACs per example: at least 84 (unknown for gated)" in text
    assert " Weight memory: at least 216 bytes (unknown for gated)" in text  # (36 + 18) * 4
    assert " Activation memory per example: 168 bytes (168.00 B)" in text  # gated's is annotated


MASKED_TAGGER = """\
model tagger {
    tokens = Input(shape=(20,), dtype="int32")
    words = tokens -> Embedding(1000, 32, mask_zero=True)
    chars = tokens -> Embedding(1000, 8, mask_zero=True)
    x = concatenate(words, chars) -> Bidirectional(LSTM(16, return_sequences=True))
    output tags = x -> TimeDistributed(Dense(5, activation="softmax"))
}
"""


def test_a_mask_s_ops_cost_no_macs_and_their_bytes():
    """The ops of a consumed mask are rows (dsl/check/masks.py) that do no
    multiply-accumulate: the model's MACs are those of the same model
    without masks, and their bool tensors add a byte an element."""
    masked = summary_document(check_text(MASKED_TAGGER, "t.kd"), "t.kd")["models"][0]
    plain = summary_document(check_text(MASKED_TAGGER.replace(", mask_zero=True", ""), "t.kd"), "t.kd")["models"][0]
    rows = {e["name"]: e for e in masked["layers"]}
    assert {"not_equal", "any", "concatenate_1"} <= set(rows) and "not_equal" not in {e["name"] for e in plain["layers"]}
    assert masked["totals"]["macs"] == plain["totals"]["macs"] is not None
    assert rows["not_equal"]["macs"] == 0 and rows["not_equal"]["activation_bytes"] == 20  # (20,) bools
    assert rows["concatenate_1"]["activation_bytes"] == 20 * 40


# ------------------------------------------------------------ kdsl graph


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_pictures_hold_one_node_per_layer_of_the_document(documents, path):
    document = documents[path.stem]
    for model in document["models"]:
        nested = any(e["kind"] in ("model", "application") for e in model["layers"])
        for expand in (False, True) if nested else (False,):
            for fmt in ("svg", "html"):
                found = layer_elements(parse_svg(render(document, model["name"], fmt, expand)))
                assert set(found) == expected_keys(model, expand), (model["name"], fmt, expand)
                assert all(len(group) == 1 for group in found.values())


def test_blocks_are_clusters_titled_with_the_call(documents):
    root = parse_svg(render(documents["resnet50"], fmt="svg"))
    titles = [e.findtext("{http://www.w3.org/2000/svg}title") for e in root.iter() if "cluster" in e.get("class", "").split()]
    model = documents["resnet50"]["models"][0]
    assert titles == [b["call"] for b in model["blocks"]]
    assert 'stack1(128, 4, name="conv3")' in titles


def test_collapsed_resnet50_fits_one_screen(documents):
    graph = build_graph(select_model(documents["resnet50"], None), expand=False)
    scene = build_scene(graph)
    placed = place(scene, initial_page_state(scene))
    assert min((1920 - 340) / placed["width"], (1080 - 44) / placed["height"]) >= 0.8
    assert len([k for k in placed["boxes"] if "\nC:" in k]) == 4  # the stages, collapsed
    assert len(placed["boxes"]) == 14  # with the stem, the classifier, the input and the output


def test_graph_command(tmp_path, capsys):
    source = str(ROOT / "examples" / "shared_encoder.kd")
    out = tmp_path / "picture.html"
    assert main(["graph", source, "--model", "paraphrase", "--format", "html", "-o", str(out)]) == 0
    assert out.read_text().startswith("<!DOCTYPE html>")
    assert main(["graph", source, "--format", "dot"]) == 0
    dot = capsys.readouterr().out
    assert dot.startswith('digraph "encoder" {')  # the file's first model
    assert main(["graph", source, "--model", "paraphrase", "--format", "mermaid", "--expand"]) == 0
    assert 'subgraph c0["sentence_encoder (Functional)"]' in capsys.readouterr().out
    assert main(["graph", source, "--model", "nope"]) == 2
    assert "no model named 'nope'" in capsys.readouterr().err
    unset = tmp_path / "unset.kd"
    unset.write_text("model m(size) {\n    x = Input(shape=(size,))\n    output y = Dense(2)(x)\n}\n")
    assert main(["graph", str(unset)]) == 1
    assert "no model of" in capsys.readouterr().err
    assert main(["graph", str(unset), "--param", "size=3", "--format", "mermaid"]) == 0
    assert "(None, 3)" in capsys.readouterr().out
    broken = tmp_path / "broken.kd"
    broken.write_text("model m {\n    x = Input(shape=(4,))\n    output y = Dense(-1)(x)\n}\n")
    assert main(["graph", str(broken)]) == 1
    assert "broken.kd:3" in capsys.readouterr().err


# ------------------------------------------------------------------ docs


def _load_script(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_readme_picture_is_what_kdsl_graph_draws():
    script = _load_script("gen_graph_images")
    assert '<img src="docs/images/graph-net.svg"' in (ROOT / "README.md").read_text()
    assert script.README_PICTURE.read_text(encoding="utf-8") == script.readme_picture(), (
        "run python scripts/gen_graph_images.py")


def _doc_example(heading: str) -> dict:
    text = (ROOT / "docs" / "summary-json.md").read_text(encoding="utf-8")
    section = text[text.index(f"## {heading}\n"):]
    block = re.search(r"```json\n(.*?)```", section, re.S).group(1)
    block = re.sub(r"\[ [A-Z]+, \.\.\. \]", "[]", block)  # `[ LAYER, ... ]`: shown in its own section
    return json.loads(re.sub(r": [A-Z]+\b", ": null", block))  # `"totals": TOTALS`


def test_the_schema_page_shows_what_kdsl_prints_for_the_readme_example():
    """docs/summary-json.md's examples are the README's `net`, as printed."""
    script = _load_script("gen_graph_images")
    model = document_of(script.readme_program(), "net.kd")["models"][0]
    layer = next(e for e in model["layers"] if e["name"] == "conv2d_3")
    assert _doc_example("LAYER") == {**layer, "calls": []}
    assert _doc_example("CALL") == layer["calls"][0]
    assert _doc_example("BLOCK") == model["blocks"][1]
    assert _doc_example("TOTALS") == model["totals"]
    shown = _doc_example("MODEL")
    compared = ("name", "parameters", "inputs", "outputs", "compile", "layout")
    assert {k: shown[k] for k in compared} == {k: model[k] for k in compared}


def test_a_model_s_compile_settings_are_in_its_entry_as_written():
    source = (
        "model plain {\n    x = Input(shape=(4,))\n    output y = Dense(2)(x)\n}\n"
        "model tuned(rate=0.01) {\n    x = Input(shape=(4,))\n    output y = Dense(2)(x)\n"
        '    compile(optimizer=Adam(learning_rate=rate), loss={"y": "mse"}, metrics=["mae"])\n}\n'
    )
    plain, tuned = document_of(source, "m.kd")["models"]
    assert plain["compile"] is None
    assert tuned["compile"] == {"optimizer": "Adam(learning_rate=0.01)", "loss": {"y": "mse"}, "metrics": ["mae"]}


def test_a_model_s_layout_is_in_its_entry_with_the_weights_each_rule_places():
    residual = (ROOT / "examples" / "residual.kd").read_text()
    (model,) = document_of(residual, "residual.kd")["models"]
    layout = model["layout"]
    assert layout["mesh"] == {"batch": 2, "model": 4}
    assert [(r["pattern"], r["axes"]) for r in layout["rules"]] == [
        ("conv2d(_[0-9]+)?/kernel", [None, None, None, "model"]), ("conv2d(_[0-9]+)?/bias", ["model"]),
        ("score/kernel", ["model", None])]
    convolutions = [e["name"] for e in model["layers"] if e["class"] == "Conv2D"]
    assert layout["rules"][0]["weights"] == [f"{name}/kernel" for name in convolutions]
    assert layout["rules"][2]["weights"] == ["score/kernel"]
    assert layout["replicated"] == ["score/bias"] and layout["unknown"] == []
    plain = document_of("model p {\n    x = Input(shape=(4,))\n    output y = Dense(2)(x)\n}\n", "p.kd")
    assert plain["models"][0]["layout"] is None
