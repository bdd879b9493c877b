"""Pictures of a model's graph, drawn from a kdsl summary document
(docs/summary-json.md) without Keras or Graphviz: SVG, a self-contained HTML
page, Graphviz DOT text and Mermaid text. docs/graph.md describes them.

This package reads only the document: it imports nothing of the compiler.
"""

from __future__ import annotations

from typing import Optional

FORMATS = ("svg", "html", "dot", "mermaid")


def render(document: dict, model: Optional[str] = None, fmt: str = "svg", expand: bool = False) -> str:
    """The picture of one model of a summary DOCUMENT, as text.

    - MODEL: the name of the model to draw; None draws the document's first.
    - FMT: "svg" (every block drawn as an open cluster), "html" (one page,
      no network: the SVG with pan, zoom, collapsible blocks, a details panel
      and a search box), "dot" (Graphviz) or "mermaid" (flowchart TD).
    - EXPAND: draw `model` and `application` layers opened, with the nested
      model inside a cluster, instead of as one box.

    Raises ValueError for an unknown FMT, for a document that is not a
    summary document, and for an unknown MODEL (the message names the
    models the document has). The same document gives the same text."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown picture format {fmt!r}; the formats are: {', '.join(FORMATS)}")
    from .document import build_graph, select_model

    graph = build_graph(select_model(document, model), expand=expand)
    if fmt in ("dot", "mermaid"):
        from .textformats import render_dot, render_mermaid

        return render_dot(graph) if fmt == "dot" else render_mermaid(graph)
    from .geometry import build_scene
    from .svg import all_openable, render_svg

    scene = build_scene(graph)
    if fmt == "svg":
        return render_svg(graph, scene, all_openable(scene))
    from .page import render_page

    return render_page(graph, scene)


__all__ = ["render", "FORMATS"]
