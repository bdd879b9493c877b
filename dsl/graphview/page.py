"""The HTML page: one self-contained file (inline CSS and JavaScript, no
network, no external fonts) holding the SVG drawn with the blocks
collapsed, the scene page.js needs to re-place the boxes when a cluster is
opened or closed, and every layer's LAYER entry for the details panel."""

from __future__ import annotations

import json
from importlib import resources

from . import geometry, layered
from .document import Graph
from .svg import STYLE, escape, initial_page_state, render_svg

TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>{title}</title>
<style>{style}{page_style}</style>
</head>
<body>
<header>
<h1>{title}</h1>
<input id="kdsl-search" type="search" placeholder="Search layers (name or class), Enter to jump" aria-label="Search layers">
<span id="kdsl-found"></span>
<button id="kdsl-zoom-in" title="Zoom in">+</button>
<button id="kdsl-zoom-out" title="Zoom out">&#8722;</button>
<button id="kdsl-fit" title="Fit to the window">Fit</button>
<button id="kdsl-open-all" title="Open every block">Open all</button>
<button id="kdsl-close-all" title="Collapse every block">Collapse all</button>
</header>
<main>
{svg}</main>
<aside id="kdsl-details"><p>Click a layer for its details; click a block to open or collapse it.</p></aside>
<script type="application/json" id="kdsl-data">{data}</script>
<script>{script}</script>
</body>
</html>
"""


def _asset(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def script_json(value) -> str:
    """VALUE as JSON that cannot end the <script> element holding it."""
    text = json.dumps(value, sort_keys=False, separators=(",", ":"), ensure_ascii=True)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def page_entry(entry: dict) -> dict:
    """A LAYER entry for the details panel: all of it, a nested model summed
    up (its layers are drawn, or are one box)."""
    shown = {k: v for k, v in entry.items() if k != "model"}
    nested = entry.get("model")
    if isinstance(nested, dict):
        shown["model"] = {
            "name": nested.get("name"),
            "inputs": nested.get("inputs"),
            "outputs": nested.get("outputs"),
            "layers": len(nested.get("layers") or []),
            "totals": nested.get("totals"),
        }
    return shown


def render_page(graph: Graph, scene: dict) -> str:
    """The page of GRAPH: blocks collapsed, nested models (when asked for) open."""
    opened = initial_page_state(scene)
    data = {
        "model": graph.model.get("name"),
        "constants": {
            "RANK_GAP": geometry.RANK_GAP,
            "CLUSTER_PAD_X": geometry.CLUSTER_PAD_X,
            "CLUSTER_TITLE_HEIGHT": geometry.CLUSTER_TITLE_HEIGHT,
            "CLUSTER_PAD_BOTTOM": geometry.CLUSTER_PAD_BOTTOM,
            "MARGIN": geometry.MARGIN,
            "NODE_GAP": layered.NODE_GAP,
        },
        "scene": scene,
        "initial": sorted(opened),
        "layers": [[key, page_entry(layer.entry), layer.container] for key, layer in graph.layers.items()],
    }
    title = f"{graph.model.get('name', '')} \u2014 kdsl graph"
    return TEMPLATE.format(
        title=escape(title),
        style=STYLE,
        page_style=_asset("page.css"),
        svg=render_svg(graph, scene, opened, interactive=True),
        data=script_json(data),
        script=_asset("page.js").replace("</", "<\\/"),
    )
