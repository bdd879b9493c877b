"""How fast does kdsl draw a model's graph (dsl/graphview)?

    python benchmarks/bench_graph.py [--runs 5] [--compare]

Prints, for generated summary documents (tests/graph_fixtures/synthetic.py):
a flat network of 1,000 and 2,000 layers, and the ResNet50-like model
(177 layers in 20 block calls), the median time of

- layout: reading the document, grandalf's layered layout of every
  container and the placement of every box (what the 5 s target is about);
- each format: `render(document, fmt=...)` whole (svg, html, dot, mermaid).

Then, for kd sources as `kdsl graph` takes them (examples/resnet50.kd,
examples/inception_v3.kd, and a generated model of 1,001 layers in 333 block
calls), the median time of checking the source, of making its summary
document (`kdsl summary --format json`), of the layout, and of the SVG.

With --compare, also times the layered layouts of the other pure-Python
candidates that are importable here (graph-layout's SugiyamaLayout, pyelk's
layered algorithm) on the 1,000-layer network's graph, for docs/graph.md.
Results are recorded in docs/benchmarks.md. Run it on an idle machine.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from dsl.compiler import check_text  # noqa: E402
from dsl.graphview import render  # noqa: E402
from dsl.graphview.document import build_graph, select_model  # noqa: E402
from dsl.graphview.geometry import build_scene, place  # noqa: E402
from dsl.graphview.svg import all_openable  # noqa: E402
from dsl.summary import summary_document  # noqa: E402
from graph_fixtures.synthetic import resnet50_like, wide_network  # noqa: E402


def median_seconds(action, runs: int) -> float:
    action()  # warm up: imports, caches
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def layout(document: dict) -> dict:
    graph = build_graph(select_model(document, None), expand=False)
    scene = build_scene(graph)
    return place(scene, all_openable(scene))


def kdsl_table(runs: int) -> None:
    documents = {
        "flat 1,000": wide_network(1000),
        "flat 2,000": wide_network(2000),
        "ResNet50-like": resnet50_like(),
    }
    print(f"{'document':<14} {'layers':>6} {'layout':>8} {'svg':>8} {'html':>8} {'dot':>8} {'mermaid':>8}")
    for name, document in documents.items():
        row = [median_seconds(lambda: layout(document), runs)]
        for fmt in ("svg", "html", "dot", "mermaid"):
            row.append(median_seconds(lambda: render(document, fmt=fmt), runs))
        count = len(document["models"][0]["layers"])
        print(f"{name:<14} {count:>6} " + " ".join(f"{t:>7.3f}s" for t in row))


# 333 residual units of two Dense layers and an add: 1,001 layers, each unit a block call.
DEEP_KD = """\
block unit(x, width) {
    y = x -> Dense(width, activation="relu") -> Dense(width)
    return add(x, y)
}

model deep(depth=333) {
    x = Input(shape=(64,))
    h = x
    for i in range(depth) {
        h = unit(h, 64)
    }
    output y = h -> Dense(10)
}
"""


def kd_table(runs: int) -> None:
    """From kd source to picture: check, document, layout, SVG."""
    sources = {name: (ROOT / "examples" / f"{name}.kd").read_text() for name in ("resnet50", "inception_v3")}
    sources["deep (generated)"] = DEEP_KD
    print(f"\n{'kd source':<18} {'layers':>6} {'blocks':>6} {'check':>8} {'document':>9} {'layout':>8} {'svg':>8}")
    for name, text in sources.items():
        result = check_text(text, "bench.kd")
        document = summary_document(result, "bench.kd")
        model = document["models"][0]
        row = [
            median_seconds(lambda: check_text(text, "bench.kd"), runs),
            median_seconds(lambda: summary_document(result, "bench.kd"), runs),
            median_seconds(lambda: layout(document), runs),
            median_seconds(lambda: render(document, fmt="svg"), runs),
        ]
        print(f"{name:<18} {len(model['layers']):>6} {len(model['blocks']):>6} " + " ".join(f"{t:>7.3f}s" for t in row))


def network_edges(document: dict) -> tuple:
    layers = document["models"][0]["layers"]
    index = {entry["name"]: i for i, entry in enumerate(layers)}
    edges = sorted({(index[r["layer"]], i) for i, e in enumerate(layers) for c in e["calls"] for r in c["inbound"]})
    return len(layers), edges


def compare(runs: int) -> None:
    """The candidates' own layered layouts, boxes of 160x62, on one graph."""
    count, edges = network_edges(wide_network(1000))
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10 * count))  # the others recurse once per node

    def grandalf_layout():
        from grandalf.graphs import Edge, Graph, Vertex
        from grandalf.layouts import SugiyamaLayout

        class View:
            w, h = 160, 62

        vertices = [Vertex(i) for i in range(count)]
        for v in vertices:
            v.view = View()
        graph = Graph(vertices, [Edge(vertices[a], vertices[b]) for a, b in edges])
        for component in graph.C:
            sug = SugiyamaLayout(component)
            sug.init_all()
            sug.draw(3)

    def graph_layout_layout():
        from graph_layout import SugiyamaLayout

        SugiyamaLayout(
            nodes=[{} for _ in range(count)], links=[{"source": a, "target": b} for a, b in edges], size=(1e6, 1e6)
        ).run()

    def pyelk_layout():
        from pyelk import ELK

        ELK().layout(
            {
                "id": "root",
                "layoutOptions": {"elk.algorithm": "layered", "elk.direction": "DOWN"},
                "children": [{"id": f"n{i}", "width": 160, "height": 62} for i in range(count)],
                "edges": [
                    {"id": f"e{k}", "sources": [f"n{a}"], "targets": [f"n{b}"]} for k, (a, b) in enumerate(edges)
                ],
            }
        )

    print(f"\nCandidates on the flat 1,000-layer graph ({len(edges)} edges), median of {runs}:")
    for name, action in (("grandalf", grandalf_layout), ("graph-layout", graph_layout_layout), ("pyelk", pyelk_layout)):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                print(f"{name:<14} {median_seconds(action, runs):.3f}s")
        except ImportError:
            print(f"{name:<14} not installed")
        except RecursionError:
            print(f"{name:<14} RecursionError")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--compare", action="store_true", help="also time the other layout libraries")
    args = parser.parse_args()
    kdsl_table(args.runs)
    kd_table(args.runs)
    if args.compare:
        compare(args.runs)


if __name__ == "__main__":
    main()
