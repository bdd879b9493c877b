"""The graph pictures (dsl/graphview): what the SVG, the page, DOT and
Mermaid hold for hand-written summary documents (tests/graph_fixtures/*.json)
and for generated ones (a ResNet50-like model, a 1,000-layer network,
random DAGs from hypothesis)."""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsl.graphview import render
from dsl.graphview.document import build_graph, select_model
from dsl.graphview.geometry import build_scene, fit_in_order, place
from dsl.graphview.svg import initial_page_state
from graph_fixtures.synthetic import resnet50_like, wide_network

FIXTURES = Path(__file__).parent / "graph_fixtures"
SVG_NS = "{http://www.w3.org/2000/svg}"
NAMES = ["residual", "shared", "nested", "multi_io"]


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def parse_svg(text: str) -> ET.Element:
    """The <svg> element of an SVG file or of the page (which must be XML)."""
    start = text.index("<svg ")
    end = text.index("</svg>") + len("</svg>")
    return ET.fromstring(text[start:end])


def classes(element) -> set:
    return set(element.get("class", "").split())


def elements(root, cls: str) -> list:
    return [e for e in root.iter() if cls in classes(e)]


def visible(root, cls: str) -> list:
    return [e for e in elements(root, cls) if "hidden" not in classes(e)]


def translate(element) -> tuple:
    match = re.fullmatch(r"translate\(([-\d.]+),([-\d.]+)\)", element.get("transform", ""))
    assert match, element.attrib
    return float(match.group(1)), float(match.group(2))


def node_rect(element) -> tuple:
    """x, y, width, height of a node group in picture coordinates."""
    x, y = translate(element)
    rect = element.find(SVG_NS + "rect")
    return x, y, float(rect.get("width")), float(rect.get("height"))


def cluster_rect(element) -> tuple:
    rect = element.find(SVG_NS + "rect")
    return tuple(float(rect.get(k)) for k in ("x", "y", "width", "height"))


def inside(inner: tuple, outer: tuple) -> bool:
    return (
        outer[0] <= inner[0]
        and outer[1] <= inner[1]
        and inner[0] + inner[2] <= outer[0] + outer[2]
        and inner[1] + inner[3] <= outer[1] + outer[3]
    )


def overlap(a: tuple, b: tuple) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def expected_keys(model: dict, expand: bool, scope: str = "") -> set:
    """The layer keys a picture must draw: every layer, nested ones when opened."""
    keys = set()
    for entry in model["layers"]:
        key = f"{scope}/{entry['name']}" if scope else entry["name"]
        keys.add(key)
        if expand and entry["kind"] in ("model", "application"):
            keys |= expected_keys(entry["model"], expand, key)
    return keys


def layer_elements(root) -> dict:
    found = {}
    for element in elements(root, "layer"):
        found.setdefault(element.get("data-layer"), []).append(element)
    return found


# ---- one element per layer, every edge -------------------------------------------


@pytest.mark.parametrize("expand", [False, True])
@pytest.mark.parametrize("fmt", ["svg", "html"])
@pytest.mark.parametrize("name", NAMES)
def test_one_layer_element_per_layer(name, fmt, expand):
    document = fixture(name)
    root = parse_svg(render(document, fmt=fmt, expand=expand))
    found = layer_elements(root)
    assert set(found) == expected_keys(document["models"][0], expand)
    assert all(len(group) == 1 for group in found.values())


@pytest.mark.parametrize("name", NAMES)
def test_every_inbound_read_is_an_edge(name):
    document = fixture(name)
    root = parse_svg(render(document))
    drawn = {
        (e.get("data-from"), e.get("data-to"), e.get("data-call"), e.get("d") != "") for e in elements(root, "edge")
    }
    wanted = set()
    for entry in document["models"][0]["layers"]:
        for call_index, call in enumerate(entry["calls"]):
            for read in call["inbound"]:
                wanted.add((read["layer"], entry["name"], str(call_index), True))
    assert wanted <= drawn
    assert len(visible(root, "edge")) == len(elements(root, "edge"))


def test_outputs_are_terminals_at_the_bottom_and_inputs_at_the_top():
    document = fixture("multi_io")
    root = parse_svg(render(document))
    terminals = visible(root, "terminal")
    assert sorted(t.get("data-output") for t in terminals) == ["aux", "class", "embedding"]
    nodes = {e.get("data-layer"): node_rect(e) for e in visible(root, "node")}
    inputs = [nodes["image"], nodes["meta"]]
    lowest_layer = max(r[1] + r[3] for r in nodes.values())
    top_of_others = min(r[1] for k, r in nodes.items() if k not in ("image", "meta"))
    assert all(node_rect(t)[1] >= lowest_layer for t in terminals)
    assert len({node_rect(t)[1] for t in terminals}) == 1  # one bottom row
    assert all(r[1] + r[3] <= top_of_others for r in inputs)
    assert all("kind-input" in classes(e) for e in elements(root, "node") if e.get("data-layer") in ("image", "meta"))


# ---- clusters -----------------------------------------------------------------------


@pytest.mark.parametrize("document", [fixture("residual"), resnet50_like()], ids=["residual", "resnet50"])
def test_block_clusters_contain_their_layers(document):
    model = document["models"][0]
    root = parse_svg(render(document))
    clusters = {e.get("data-container"): e for e in elements(root, "cluster")}
    assert len(clusters) == len(model["blocks"])
    for block in model["blocks"]:
        cluster = clusters[f"block::{block['id']}"]
        assert cluster.find(SVG_NS + "title").text == block["call"]
        if block["parent"] is not None:
            assert inside(cluster_rect(cluster), cluster_rect(clusters[f"block::{block['parent']}"]))
    nodes = {e.get("data-layer"): e for e in elements(root, "node")}
    for entry in model["layers"]:
        rect = node_rect(nodes[entry["name"]])
        for block in model["blocks"]:
            contains = inside(rect, cluster_rect(clusters[f"block::{block['id']}"]))
            assert contains == _in_block(model, entry["block"], block["id"]), (entry["name"], block["id"])


def _in_block(model: dict, block, wanted) -> bool:
    parents = {b["id"]: b["parent"] for b in model["blocks"]}
    while block is not None:
        if block == wanted:
            return True
        block = parents[block]
    return False


@pytest.mark.parametrize("document", [fixture(n) for n in NAMES] + [resnet50_like()], ids=NAMES + ["resnet50"])
def test_no_two_boxes_overlap(document):
    for expand in (False, True):
        root = parse_svg(render(document, expand=expand))
        boxes = [node_rect(e) for e in visible(root, "node") + visible(root, "terminal")]
        assert not [(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1 :] if overlap(a, b)]


# ---- shared layers, nested models ------------------------------------------------------------


def test_shared_layer_is_one_box_linked_to_every_call():
    root = parse_svg(render(fixture("shared")))
    encoder = [e for e in elements(root, "node") if e.get("data-layer") == "encoder"]
    assert len(encoder) == 1 and "shared" in classes(encoder[0]) and encoder[0].get("data-calls") == "2"
    into = [e for e in elements(root, "edge") if e.get("data-to") == "encoder"]
    out = [e for e in elements(root, "edge") if e.get("data-from") == "encoder"]
    assert sorted((e.get("data-from"), e.get("data-call")) for e in into) == [("left", "0"), ("right", "1")]
    assert sorted(e.get("data-source-call") for e in out) == ["0", "1"]
    assert all("shared-call" in classes(e) for e in into + out)
    call_labels = {e.text for e in elements(root, "edge-label") if e.get("data-end") == "end"}
    assert call_labels == {"#1", "#2"}
    # each call's edge reaches (and leaves) the one box at its own point
    ends = {tuple(re.findall(r"[-\d.]+", e.get("d"))[-2:]) for e in into}
    starts = {tuple(re.findall(r"[-\d.]+", e.get("d"))[:2]) for e in out}
    assert len(ends) == 2 and len(starts) == 2


def test_a_tensor_read_twice_is_labelled_once():
    root = parse_svg(render(fixture("multi_io")))
    edges = {e.get("data-edge"): e.get("data-from") for e in elements(root, "edge")}
    starts = [edges[t.get("data-edge")] for t in elements(root, "edge-label") if t.get("data-end") == "start"]
    assert sorted(starts) == ["<script>alert(1)</script>", "concatenate"]  # each read by two layers


def test_expand_draws_the_nested_models_inside_their_cluster():
    document = fixture("nested")
    closed = parse_svg(render(document, expand=False))
    boxes = {e.get("data-layer"): e for e in elements(closed, "node")}
    assert "kind-model" in classes(boxes["text_encoder"]) and "kind-application" in classes(boxes["backbone"])
    assert not [k for k in boxes if "/" in k]
    opened = parse_svg(render(document, expand=True))
    clusters = {e.get("data-layer"): e for e in elements(opened, "cluster")}
    assert set(clusters) == {"text_encoder", "backbone"}
    nodes = {e.get("data-layer"): node_rect(e) for e in elements(opened, "node")}
    for outer, nested in (("text_encoder", "encoder"), ("backbone", "mobilenet_mini")):
        model = next(e["model"] for e in document["models"][0]["layers"] if e["name"] == outer)
        assert model["name"] == nested
        for entry in model["layers"]:
            assert inside(nodes[f"{outer}/{entry['name']}"], cluster_rect(clusters[outer]))
    edges = {(e.get("data-from"), e.get("data-to")) for e in elements(opened, "edge")}
    assert {
        ("text", "text_encoder/tokens"),
        ("photo", "backbone/input_layer"),
        ("text_encoder/code", "concatenate"),
        ("backbone/global_average_pooling2d", "concatenate"),
    } <= edges


def test_a_second_model_of_the_document_is_drawn_by_name():
    root = parse_svg(render(fixture("nested"), model="encoder"))
    assert root.get("data-model") == "encoder"
    assert set(layer_elements(root)) == {"tokens", "embed", "flat", "code"}


def test_an_unknown_model_names_the_models_there_are():
    with pytest.raises(ValueError, match=r"no model named 'nope'.*multimodal, encoder"):
        render(fixture("nested"), model="nope")
    with pytest.raises(ValueError, match="formats are: svg, html, dot, mermaid"):
        render(fixture("nested"), fmt="png")
    with pytest.raises(ValueError, match="no `models` list"):
        render({"schema": "something else"})


# ---- escaping, determinism ----------------------------------------------------------


@pytest.mark.parametrize("fmt", ["svg", "html"])
def test_names_are_escaped(fmt):
    text = render(fixture("multi_io"), fmt=fmt)
    assert "<script>alert" not in text
    assert '"hi"' not in text.split("<script", 1)[0]
    root = parse_svg(text)  # parses: every text and attribute is well-formed
    names = {e.get("data-layer") for e in elements(root, "node")}
    assert {"<script>alert(1)</script>", "say \"hi\" & 'bye'"} <= names
    titles = {e.find(SVG_NS + "title").text for e in elements(root, "node")}
    assert "<script>alert(1)</script> (Dense)" in titles
    if fmt == "html":
        assert text.count("<script") == 2  # the data and the code, nothing from the document
        data = re.search(r'<script type="application/json" id="kdsl-data">(.*?)</script>', text, re.S).group(1)
        assert "<" not in data and json.loads(data)["layers"][4][0] == "<script>alert(1)</script>"


def test_the_page_needs_no_network():
    text = render(resnet50_like(), fmt="html")
    assert not re.search(r"(src|href)\s*=|@import|url\((?!#)|https?://(?!www\.w3\.org/2000/svg)", text)


@pytest.mark.parametrize("fmt", ["svg", "html", "dot", "mermaid"])
def test_same_document_same_bytes(fmt):
    document = fixture("residual")
    first = render(document, fmt=fmt, expand=True)
    assert render(copy.deepcopy(document), fmt=fmt, expand=True) == first


def test_same_bytes_in_other_processes():
    """Hash seeds and memory addresses change between processes; the picture must not."""
    script = (
        "import json, sys; sys.path.insert(0, 'tests');"
        "from graph_fixtures.synthetic import resnet50_like; from dsl.graphview import render;"
        "sys.stdout.write(render(resnet50_like(), fmt='html'))"
    )
    here = render(resnet50_like(), fmt="html")
    root = Path(__file__).parent.parent
    for seed in ("1", "4242"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        out = subprocess.run(
            [sys.executable, "-c", script], cwd=root, env=env, capture_output=True, text=True, check=True
        )
        assert out.stdout == here


# ---- sizes ---------------------------------------------------------------------------


def test_collapsed_resnet50_fits_one_screen_at_a_legible_scale():
    """The page's default (blocks collapsed) fits the drawing area of a
    1920x1080 screen (less the page's 44px bar and 340px panel) at 80% or
    more, so 12px text stays at 9.6px or more."""
    graph = build_graph(select_model(resnet50_like(), None), expand=False)
    scene = build_scene(graph)
    placed = place(scene, initial_page_state(scene))
    scale = min((1920 - 340) / placed["width"], (1080 - 44) / placed["height"])
    assert scale >= 0.8, (placed["width"], placed["height"])
    assert set(placed["frames"]) == {"root"}  # every block collapsed
    assert len([k for k in placed["boxes"] if "\nC:" in k]) == 4


def test_a_thousand_layer_network_is_drawn_whole():
    """Finishes and draws every layer and edge (its speed: benchmarks/bench_graph.py)."""
    document = wide_network(1000)
    root = parse_svg(render(document))
    assert len(elements(root, "node")) == 1000
    reads = sum(len(call["inbound"]) for e in document["models"][0]["layers"] for call in e["calls"])
    assert len([e for e in elements(root, "edge") if e.get("d")]) == reads + 1  # and the output's line


def test_fit_in_order_keeps_order_and_gaps_and_moves_least():
    assert fit_in_order([0.0, 10.0, 100.0], [10.0, 10.0, 10.0], 5.0) == [-2.5, 12.5, 100.0]
    assert fit_in_order([50.0, 50.0], [20.0, 40.0], 0.0) == [35.0, 65.0]


# ---- DOT and Mermaid -------------------------------------------------------------------


def test_dot_has_a_node_per_layer_clusters_per_block_and_every_edge():
    document = fixture("residual")
    text = render(document, fmt="dot")
    assert text.startswith('digraph "resnet_tiny" {') and text.count("{") == text.count("}")
    labels = dict(re.findall(r'^\s*(n\d+) \[label="([^"\\]*(?:\\.[^"\\]*)*)"', text, re.M))
    assert sorted(label.split("\\n")[0] for label in labels.values()) == sorted(
        e["name"] for e in document["models"][0]["layers"]
    )
    assert len(re.findall(r"subgraph cluster_c\d+ \{", text)) == 3
    assert len(re.findall(r"^\s*n\d+ -> n\d+", text, re.M)) == sum(
        len(c["inbound"]) for e in document["models"][0]["layers"] for c in e["calls"]
    )


def test_dot_labels_are_escaped():
    text = render(fixture("multi_io"), fmt="dot")
    assert 'label="say \\"hi\\" & \'bye\'\\nDense' in text
    assert not re.search(r'[^\\]"hi', text)


def parse_mermaid(text: str) -> dict:
    """A structural reading of our Mermaid output: nodes, subgraphs, edges."""
    lines = text.splitlines()
    assert lines[0] == "flowchart TD"
    nodes, edges, stack, members = {}, [], [], {}
    node_line = re.compile(r'(n\d+|out\d+)(\(\[|\(\(|\[\[|\[|\{\{)"([^"]*)"(\]\)|\)\)|\]\]|\]|\}\})$')
    edge_line = re.compile(r'(\w+) (-->|-\.->)(\|"([^"]*)"\|)? (\w+)$')
    for line in lines[1:]:
        line = line.strip()
        if line.startswith("subgraph "):
            match = re.fullmatch(r'subgraph (c\d+)\["([^"]*)"\]', line)
            assert match, line
            stack.append(match.group(1))
            members[match.group(1)] = []
        elif line == "end":
            stack.pop()
        elif node_line.fullmatch(line):
            match = node_line.fullmatch(line)
            nodes[match.group(1)] = match.group(3)
            for group in stack:
                members[group].append(match.group(1))
        elif edge_line.fullmatch(line):
            match = edge_line.fullmatch(line)
            edges.append((match.group(1), match.group(5), match.group(4)))
        else:
            assert line.startswith(("classDef ", "class ")), line
    assert not stack
    return {"nodes": nodes, "edges": edges, "members": members}


def test_mermaid_structure():
    document = fixture("residual")
    parsed = parse_mermaid(render(document, fmt="mermaid"))
    names = {label.split("<br/>")[0]: node for node, label in parsed["nodes"].items()}
    layers = document["models"][0]["layers"]
    assert set(names) >= {e["name"] for e in layers}
    assert len(parsed["members"]) == 3
    stage = parsed["members"]["c0"]
    assert {names[e["name"]] for e in layers if e["block"] is not None} == set(stage)
    edges = {(a, b) for a, b, _ in parsed["edges"]}
    for entry in layers:
        for read in entry["inbound"]:
            assert (names[read], names[entry["name"]]) in edges


def test_mermaid_labels_are_escaped():
    parsed = parse_mermaid(render(fixture("multi_io"), fmt="mermaid"))
    labels = [label.split("<br/>")[0] for label in parsed["nodes"].values()]
    assert "#60;script#62;alert(1)#60;/script#62;" in labels
    assert "say #34;hi#34; #38; #39;bye#39;" in labels


# ---- generated DAGs ----------------------------------------------------------------------


@st.composite
def dag_documents(draw):
    """A model of random layers reading earlier ones, in random nested block
    calls, some layers shared (called twice)."""
    count = draw(st.integers(2, 18))
    blocks = []
    for block_id in range(draw(st.integers(0, 5))):
        parent = draw(st.sampled_from([None] + list(range(block_id))))
        blocks.append({"id": block_id, "block": "b", "call": f"b({block_id}) <&>", "parent": parent, "source": None})
    layers = []
    for index in range(count):
        kind = "input" if index == 0 or (index < 3 and draw(st.booleans())) else draw(st.sampled_from(["layer", "op"]))
        block = None if kind == "input" or not blocks else draw(st.sampled_from([None] + [b["id"] for b in blocks]))
        calls = []
        earlier = [layers[i]["name"] for i in range(index)]
        # A shared layer's later call may read any layer, itself included:
        # the layer graph then has cycles and self-loops.
        anything = [f"l{i}" for i in range(count)]
        for call_index in range(1 if kind == "input" else draw(st.sampled_from([1, 1, 1, 2]))):
            sources = earlier if call_index == 0 else anything
            reads = [] if kind == "input" else draw(st.lists(st.sampled_from(sources), min_size=1, max_size=3))
            calls.append(
                {
                    "inbound": [{"layer": r, "call": 0, "tensor": 0} for r in reads],
                    "output_shapes": [[None, index + 1]],
                    "block": block,
                    "source": None,
                }
            )
        layers.append(
            {
                "name": f"l{index}",
                "class": "InputLayer" if kind == "input" else "Dense",
                "kind": kind,
                "output_shapes": [[None, index + 1]],
                "params": index,
                "inbound": [],
                "calls": calls,
                "block": block,
            }
        )
    model = {
        "name": "random",
        "inputs": [],
        "outputs": [{"name": "out", "layer": layers[-1]["name"], "shape": None}],
        "layers": layers,
        "blocks": blocks,
    }
    return {"schema": "kdsl-summary", "version": 1, "models": [model]}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dag_documents())
def test_random_dags_draw_every_layer_and_edge_without_overlap(document):
    model = document["models"][0]
    root = parse_svg(render(document))
    found = layer_elements(root)
    assert set(found) == {e["name"] for e in model["layers"]} and all(len(v) == 1 for v in found.values())
    drawn = {(e.get("data-from"), e.get("data-to"), e.get("data-call")) for e in elements(root, "edge") if e.get("d")}
    for entry in model["layers"]:
        for call_index, call in enumerate(entry["calls"]):
            for read in call["inbound"]:
                assert (read["layer"], entry["name"], str(call_index)) in drawn
    boxes = [node_rect(e) for e in elements(root, "node")]
    assert not [(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1 :] if overlap(a, b)]
    clusters = {e.get("data-container"): cluster_rect(e) for e in elements(root, "cluster")}
    for entry in model["layers"]:
        if entry["block"] is not None:
            assert inside(node_rect(found[entry["name"]][0]), clusters[f"block::{entry['block']}"])
    page = parse_svg(render(document, fmt="html"))
    assert set(layer_elements(page)) == set(found)
