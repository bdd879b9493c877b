"""The graph page in a real browser: Debian's Chromium, driven by
playwright-core from graph_page.cjs (headless, offline, a fresh profile).

One run of the script opens the page `kdsl graph --format html` draws for
examples/resnet50.kd and does what a person would: opens a stage and a residual block by clicking them, collapses the
block again, clicks a layer for its details, searches, zooms and pans, and
opens everything. This test judges what the script saw, and that the page's
placement (page.js) equals kdsl's own (geometry.py) in every state it met.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from dsl.graphview import render
from dsl.graphview.document import build_graph, select_model
from dsl.graphview.geometry import build_scene, place
from dsl.graphview.svg import all_openable, initial_page_state
from dsl.compiler import check_text
from dsl.summary import summary_document

HERE = Path(__file__).parent
EXAMPLES = HERE.parent.parent / "examples"

SCREENSHOT = HERE.parent.parent / "docs" / "images" / "graph-resnet.png"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """Render the page, drive it once, and return what the browser saw."""
    node = shutil.which("node")
    assert node, "node is missing: make test-browser installs it"
    assert (HERE / "node_modules" / "playwright-core").is_dir(), "run `npm ci` in tests/browser (make test-browser)"
    tmp = tmp_path_factory.mktemp("page")
    document = example_document("resnet50")
    (tmp / "resnet.html").write_text(render(document, fmt="html"), encoding="utf-8")
    plan = {
        "open": ["block::0", "block::1"],
        "details": "conv1_conv",
        "search": "conv4_block3_2_conv",
        "searchClass": "MaxPooling2D",
        "screenshot": str(tmp / "graph.png"),
    }
    (tmp / "plan.json").write_text(json.dumps(plan))
    subprocess.run(
        [node, str(HERE / "graph_page.cjs"), str(tmp / "resnet.html"), str(tmp / "plan.json"), str(tmp / "out.json")],
        check=True,
        timeout=150,
        cwd=HERE,
    )
    if os.environ.get("KDSL_UPDATE_SCREENSHOT") == "1":
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(tmp / "graph.png", SCREENSHOT)
    graph = build_graph(select_model(document, None), expand=False)
    return {
        "seen": json.loads((tmp / "out.json").read_text()),
        "document": document,
        "scene": build_scene(graph),
        "plan": plan,
        "svg_all_open": render(document, fmt="svg"),
    }


def example_document(name: str) -> dict:
    """The summary document of examples/NAME.kd, as `kdsl graph` draws it."""
    path, label = EXAMPLES / f"{name}.kd", f"examples/{name}.kd"
    return summary_document(check_text(path.read_text(), label, path), label)


def layers_in(document: dict, *blocks: int) -> set:
    return {e["name"] for e in document["models"][0]["layers"] if e["block"] in blocks}


def assert_same_placement(page: dict, kdsl: dict) -> None:
    """page.js and geometry.py put every frame and box at the same place."""
    assert set(page["frames"]) == set(kdsl["frames"])
    assert set(page["boxes"]) == set(kdsl["boxes"])
    for group in ("frames", "boxes"):
        for key, value in kdsl[group].items():
            assert page[group][key] == pytest.approx(value, abs=0.01), (group, key)
    assert page["width"] == pytest.approx(kdsl["width"], abs=0.01)


def test_the_page_loads_cleanly_offline(run):
    seen = run["seen"]
    assert seen["console"] == []
    assert seen["requests"] == []


def test_one_layer_element_per_layer_and_collapsed_default(run):
    seen, document = run["seen"], run["document"]
    names = [e["name"] for e in document["models"][0]["layers"]]
    assert sorted(seen["layerElements"]) == sorted(names)
    assert seen["initialVisible"] == sorted(layers_in(document, None))
    assert seen["initial"]["opened"] == []
    assert seen["initial"]["collapsedShown"] == ["block::0", "block::16", "block::4", "block::9"]
    assert_same_placement(seen["initial"]["placement"], place(run["scene"], initial_page_state(run["scene"])))


def test_clicking_opens_and_collapses_blocks(run):
    seen, document = run["seen"], run["document"]
    top = layers_in(document, None)
    after_open = seen["afterOpen"]
    assert after_open["opened"] == ["block::0", "block::1"]
    assert after_open["clustersShown"] == ["block::0", "block::1"]
    assert set(seen["afterOpenVisible"]) == top | layers_in(document, 1)
    assert "block::1" not in after_open["collapsedShown"] and {"block::2", "block::3"} <= set(
        after_open["collapsedShown"]
    )
    assert_same_placement(after_open["placement"], place(run["scene"], {"block::0", "block::1"}))
    after_close = seen["afterClose"]
    assert after_close["opened"] == ["block::0"]
    assert set(seen["afterCloseVisible"]) == top
    assert {"block::1", "block::2", "block::3"} <= set(after_close["collapsedShown"])
    assert after_close["clustersShown"] == ["block::0"]


def test_details_panel_shows_the_clicked_layer(run):
    details = run["seen"]["details"]
    assert details["layer"] == details["title"] == "conv1_conv"
    fields = dict(details["fields"])
    entry = next(e for e in run["document"]["models"][0]["layers"] if e["name"] == "conv1_conv")
    assert set(fields) == set(entry)
    assert fields["class"] == "Conv2D" and fields["params"] == "9472"


def test_search_finds_and_reveals_a_layer(run):
    seen = run["seen"]
    assert seen["searchMatches"] == ["conv4_block3_2_conv"]
    assert "conv4_block3_2_conv" in seen["afterSearchVisible"]
    assert seen["searchDetails"] == "conv4_block3_2_conv"
    assert seen["searchStatus"] == "1 of 1"
    assert {"block::9", "block::12"} <= set(seen["afterSearch"]["opened"])
    assert seen["classMatches"] == ["pool1_pool"]


def test_zoom_and_pan(run):
    seen = run["seen"]
    before, after = seen["wheelScale"]
    assert after > before
    assert seen["buttonScale"] < after
    assert seen["pan"][0] != seen["pan"][1]


def test_everything_open_matches_the_static_svg(run):
    seen, document = run["seen"], run["document"]
    assert_same_placement(seen["allOpen"]["placement"], place(run["scene"], all_openable(run["scene"])))
    assert sorted(seen["allOpenVisible"]) == sorted(e["name"] for e in document["models"][0]["layers"])
    static = re.findall(r'<path class="edge[^"]*" data-edge="(\d+)"[^>]* d="([^"]*)"', run["svg_all_open"])
    number = re.compile(r"-?\d+(?:\.\d+)?")
    for index, data in static:
        page = seen["allOpenEdgePaths"][int(index)]
        assert re.sub(number, "#", page) == re.sub(number, "#", data)
        assert [float(v) for v in number.findall(page)] == pytest.approx(
            [float(v) for v in number.findall(data)], abs=0.011
        )


def test_screenshot_is_a_full_hd_png(run):
    with open(run["plan"]["screenshot"], "rb") as png:
        header = png.read(24)
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", header[16:24]) == (1920, 1080)


FIXTURES = HERE.parent / "graph_fixtures"


@pytest.mark.parametrize("name", ["residual", "shared", "nested", "multi_io", "dual_camera.kd", "shared_encoder.kd"])
def test_page_and_kdsl_agree_on_the_fixtures(name, tmp_path):
    """Each hand-written document (nested models opened, hostile names, a
    shared layer), and two examples' (a shared Xception, a frozen kd model
    called twice) loads without an error, and page.js places every box where
    geometry.py does, first and with everything open."""
    if name.endswith(".kd"):
        document = example_document(name[: -len(".kd")])
    else:
        document = json.loads((FIXTURES / f"{name}.json").read_text())
    (tmp_path / "page.html").write_text(render(document, fmt="html", expand=True), encoding="utf-8")
    (tmp_path / "plan.json").write_text(json.dumps({"mode": "placement"}))
    subprocess.run(
        [
            shutil.which("node"),
            str(HERE / "graph_page.cjs"),
            str(tmp_path / "page.html"),
            str(tmp_path / "plan.json"),
            str(tmp_path / "out.json"),
        ],
        check=True,
        timeout=120,
        cwd=HERE,
    )
    seen = json.loads((tmp_path / "out.json").read_text())
    assert seen["console"] == [] and seen["requests"] == []
    scene = build_scene(build_graph(select_model(document, None), expand=True))
    assert_same_placement(seen["initial"]["placement"], place(scene, initial_page_state(scene)))
    assert_same_placement(seen["allOpen"]["placement"], place(scene, all_openable(scene)))
    keys = seen["layerElements"]
    assert len(keys) == len(set(keys))
    opened_models = {cid[len("model:"):] for cid in scene["containers"] if cid.startswith("model:")}
    assert set(seen["allOpenVisible"]) == set(keys) - opened_models  # those are clusters, not boxes
