"""The SVG picture, written element by element (no Graphviz).

Every element the tests and the page look for has a stable class and data
attributes: `g.layer[data-layer]` (exactly one per layer: its box, or the
cluster of an opened nested model), `g.cluster[data-container]`,
`g.collapsed[data-container]` (page only), `g.terminal[data-output]`,
`path.edge[data-edge][data-from][data-to][data-call]`.
"""

from __future__ import annotations

import re

from . import labels
from .document import ROOT, Graph
from .geometry import edge_points, place
from .structure import block_lines

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

STYLE = """
.kdsl-graph { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12px; }
.kdsl-graph text { fill: #1b1b1b; }
.kdsl-graph .node rect { fill: #e8f1fb; stroke: #1f5fa8; stroke-width: 1.2; }
.kdsl-graph .kind-input rect { fill: #dff3df; stroke: #2e7d32; stroke-width: 1.8; }
.kdsl-graph .kind-op rect { fill: #f1f1f1; stroke: #6d6d6d; }
.kdsl-graph .kind-custom rect { fill: #fff8e1; stroke: #8d6e00; stroke-dasharray: 4 2; }
.kdsl-graph .kind-model rect, .kdsl-graph .kind-application rect { fill: #efe9f8; stroke: #5e35b1; }
.kdsl-graph .kind-model rect.inner, .kdsl-graph .kind-application rect.inner { fill: none; }
.kdsl-graph .shared rect { stroke: #8e24aa; stroke-width: 2.6; }
.kdsl-graph .terminal rect { fill: #ffe6cc; stroke: #d35400; stroke-width: 1.8; }
.kdsl-graph .collapsed rect { fill: #fff4d6; stroke: #a67c00; stroke-width: 1.4; }
.kdsl-graph .cluster > rect { fill: rgba(255, 196, 0, 0.07); stroke: #a67c00; stroke-dasharray: 5 3; }
.kdsl-graph .cluster.kind-model > rect { fill: rgba(94, 53, 177, 0.05); stroke: #5e35b1; }
.kdsl-graph .cluster-title { font-weight: bold; fill: #6b5000; }
.kdsl-graph .cluster.kind-model .cluster-title { fill: #4527a0; }
.kdsl-graph .line-name { font-weight: bold; }
.kdsl-graph .edge { fill: none; stroke: #5a5a5a; stroke-width: 1.3; }
.kdsl-graph .edge.shared-call { stroke: #8e24aa; stroke-dasharray: 6 3; stroke-width: 1.6; }
.kdsl-graph .edge.to-output { stroke: #d35400; }
.kdsl-graph .edge-label { font-size: 10px; fill: #444; }
.kdsl-graph .edge-label.call { fill: #8e24aa; font-weight: bold; }
.kdsl-graph .hidden { display: none; }
"""


def escape(text) -> str:
    """TEXT safe inside an XML element or a quoted attribute."""
    text = _NOT_XML.sub("\ufffd", str(text))
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&#39;")
    )


def num(value: float) -> str:
    """A coordinate as written: two decimals at most, no trailing zeros."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def path_data(points: list) -> str:
    """An edge line through POINTS: straight where vertical, an S-curve between ranks."""
    if not points:
        return ""
    parts = [f"M{num(points[0][0])},{num(points[0][1])}"]
    for (px, py), (qx, qy) in zip(points, points[1:]):
        if abs(px - qx) < 0.01:
            parts.append(f"L{num(qx)},{num(qy)}")
        else:
            mid = (py + qy) / 2
            parts.append(f"C{num(px)},{num(mid)} {num(qx)},{num(mid)} {num(qx)},{num(qy)}")
    return " ".join(parts)


def loop_data(box: list) -> str:
    """A shared layer reading its own output: a loop on the box's right side."""
    x = box[0] + box[2] / 2
    top, bottom = box[1] - 6, box[1] + 6
    return (
        f"M{num(x)},{num(top)} C{num(x + 34)},{num(top - 14)} {num(x + 34)},{num(bottom + 14)} {num(x)},{num(bottom)}"
    )


def all_openable(scene: dict) -> set:
    """Every container but the root: the static picture opens them all."""
    return {cid for cid in scene["containers"] if cid != ROOT}


def initial_page_state(scene: dict) -> set:
    """What the page opens first: nested models (asked for with expand), not blocks."""
    return {cid for cid, box in scene["containers"].items() if box["kind"] == "model"}


def render_svg(graph: Graph, scene: dict, opened: set, interactive: bool = False) -> str:
    """The picture of GRAPH with the containers of OPENED drawn open.

    INTERACTIVE (the page) also writes what is hidden: the layers inside
    collapsed clusters and the collapsed boxes of opened ones."""
    placed = place(scene, opened)
    width, height = placed["width"], placed["height"]
    # The page sizes the picture to its window and zooms it itself.
    size = (
        "" if interactive else f' width="{num(width)}" height="{num(height)}" viewBox="0 0 {num(width)} {num(height)}"'
    )
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="kdsl-graph"{size} data-width="{num(width)}"'
        f' data-height="{num(height)}" data-model="{escape(graph.model.get("name", ""))}">',
        '<defs><marker id="kd-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7"'
        ' orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#5a5a5a"/></marker></defs>',
    ]
    if not interactive:
        out.append(f"<style>{STYLE}</style>")
    out.append('<g class="viewport">')
    out.append('<g class="clusters">')
    out.extend(_clusters(graph, scene, placed, interactive))
    out.append('</g><g class="edges">')
    edge_parts, label_parts = _edges(graph, scene, placed, interactive)
    out.extend(edge_parts)
    out.append('</g><g class="nodes">')
    out.extend(_nodes(graph, scene, placed, opened, interactive))
    out.append('</g><g class="edge-labels">')
    out.extend(label_parts)
    out.append("</g></g></svg>")
    return "\n".join(out) + "\n"


def _clusters(graph, scene, placed, interactive) -> list:
    parts = []
    for cid, box in scene["containers"].items():
        if cid == ROOT:
            continue
        frame = placed["frames"].get(cid)
        if frame is None and not interactive:
            continue
        container = graph.containers[cid]
        classes = f"cluster kind-{container.kind}"
        attrs = f' data-container="{escape(cid)}" data-parent="{escape(container.parent)}"'
        if container.kind == "model":
            classes += " layer"
            attrs += f' data-layer="{escape(container.layer)}"'
        if frame is None:
            classes += " hidden"
            frame = [0.0, 0.0, 0.0, 0.0]
        x, y, w, h = frame
        parts.append(
            f'<g class="{classes}"{attrs}><title>{escape(container.title)}</title>'
            f'<rect x="{num(x)}" y="{num(y)}" width="{num(w)}" height="{num(h)}" rx="6"/>'
            f'<text class="cluster-title" x="{num(x + 8)}" y="{num(y + 15)}">{escape(labels.clip(container.title))}</text>'
            "</g>"
        )
    return parts


def _edge_classes(graph: Graph, edge: dict) -> str:
    classes = "edge"
    if edge["link"] is None:
        return classes + " to-output"
    source, target = graph.layers.get(edge["source"]), graph.layers.get(edge["target"])
    if (source is not None and source.shared) or (target is not None and target.shared):
        classes += " shared-call"
    return classes


def _edges(graph, scene, placed, interactive) -> tuple:
    paths, texts = [], []
    for index, edge in enumerate(scene["edges"]):
        link = edge["link"]
        if edge["source"] == edge["target"]:
            box = placed["boxes"].get(_home_key(graph, edge["source"]))
            data = loop_data(box) if box is not None else ""
            points = [] if box is None else [[box[0] + box[2] / 2, box[1] - 6], [box[0] + box[2] / 2, box[1] + 6]]
        else:
            points = edge_points(edge, placed)
            data = path_data(points)
        if not data and not interactive:
            continue
        classes = _edge_classes(graph, edge) + ("" if data else " hidden")
        attrs = f' data-edge="{index}" data-from="{escape(edge["source"])}" data-to="{escape(edge["target"])}"'
        if link is not None:
            attrs += (
                f' data-call="{link["call"]}" data-source-call="{link["source_call"]}" data-tensor="{link["tensor"]}"'
            )
        paths.append(f'<path class="{classes}"{attrs} d="{data}" marker-end="url(#kd-arrow)"/>')
        texts.extend(_edge_labels(index, edge, points, interactive))
    return paths, texts


def _edge_labels(index: int, edge: dict, points: list, interactive: bool) -> list:
    texts = []
    for end, text in (("start", edge["label_start"]), ("end", edge["label_end"])):
        if not text:
            continue
        hidden = not points
        if hidden and not interactive:
            continue
        # An edge spread left of its box's middle is labelled on its left.
        left = edge["spread"][0 if end == "start" else 1] < 0
        side = -4 if left else 4
        if hidden:
            x = y = 0.0
        elif end == "start":
            x, y = points[0][0] + side, points[0][1] + 12
        else:
            x, y = points[-1][0] + side, points[-1][1] - 4
        classes = "edge-label" + (" call" if end == "end" else "") + (" hidden" if hidden else "")
        texts.append(
            f'<text class="{classes}" data-edge="{index}" data-end="{end}" x="{num(x)}" y="{num(y)}"'
            f' text-anchor="{"end" if left else "start"}">{escape(text)}</text>'
        )
    return texts


def _home_key(graph: Graph, key: str) -> str:
    return graph.layers[key].container + "\nL:" + key


def _box_text(lines: list, width: float, classes: tuple) -> str:
    parts = []
    for row, line in enumerate(lines):
        y = labels.BOX_PAD_Y + labels.LINE_HEIGHT * row + 11
        parts.append(
            f'<text class="line-{classes[min(row, len(classes) - 1)]}" x="{num(width / 2)}" y="{num(y)}"'
            f' text-anchor="middle">{escape(line)}</text>'
        )
    return "".join(parts)


_LAYER_LINES = ("name", "class", "shape", "params")


def _group(classes: str, attrs: str, box, size: tuple, title: str, body: str, rx: float, double: bool = False) -> str:
    """A box of SIZE at BOX (centre x, centre y, ...), or hidden (no position) when BOX is None."""
    w, h = size
    if box is None:
        classes += " hidden"
        transform = ""
    else:
        transform = f' transform="translate({num(box[0] - w / 2)},{num(box[1] - h / 2)})"'
    inner = ""
    if double:
        inner = (
            f'<rect class="inner" x="3" y="3" width="{num(w - 6)}" height="{num(h - 6)}" rx="{num(max(rx - 2, 0))}"/>'
        )
    return (
        f'<g class="{classes}"{attrs}{transform}><title>{escape(title)}</title>'
        f'<rect width="{num(w)}" height="{num(h)}" rx="{num(rx)}"/>{inner}{body}</g>'
    )


def _nodes(graph, scene, placed, opened, interactive) -> list:
    parts = []
    boxes = placed["boxes"]
    for key, layer in graph.layers.items():
        if "model:" + key in graph.containers:
            continue  # an opened nested model: its cluster (and collapsed box) draw it
        box = boxes.get(layer.container + "\nL:" + key)
        if box is None and not interactive:
            continue
        entry = layer.entry
        lines = labels.layer_lines(entry)
        width, height = labels.box_size(lines)
        classes = f"node layer kind-{_css_word(layer.kind)}" + (" shared" if layer.shared else "")
        attrs = (
            f' data-layer="{escape(key)}" data-container="{escape(layer.container)}"'
            f' data-class="{escape(entry.get("class", ""))}" data-calls="{len(layer.calls)}"'
        )
        title = f'{entry.get("name", "")} ({entry.get("class", "")})'
        body = _box_text(lines, width, _LAYER_LINES)
        rx = height / 2 if layer.kind in ("input", "op") else 4.0
        double = layer.kind in ("model", "application")
        parts.append(_group(classes, attrs, box, (width, height), title, body, rx, double))
    for cid, container in graph.containers.items():
        if cid == ROOT or not interactive:
            continue
        box = boxes.get(container.parent + "\nC:" + cid)
        if cid in opened:
            box = None
        if container.kind == "model":
            entry = graph.layers[container.layer].entry
            lines = labels.layer_lines(entry)
            classes = f"collapsed kind-{_css_word(entry.get('kind', 'model'))}"
            order = _LAYER_LINES
        else:
            lines = block_lines(graph, cid)
            classes = "collapsed kind-block"
            order = ("name", "class")
        size = labels.box_size(lines)
        attrs = f' data-container="{escape(cid)}" data-parent="{escape(container.parent)}"'
        parts.append(_group(classes, attrs, box, size, container.title, _box_text(lines, size[0], order), 6.0))
    for out in graph.outputs:
        box = boxes.get(ROOT + "\nT:" + out.key)
        lines = labels.output_lines(out.name, out.shape)
        width, height = labels.box_size(lines)
        attrs = (
            f' data-output="{escape(out.name)}" data-item="T:{escape(out.key)}" data-layer-from="{escape(out.layer)}"'
        )
        body = _box_text(lines, width, ("name", "shape"))
        parts.append(_group("terminal", attrs, box, (width, height), f"output {out.name}", body, height / 2))
    return parts


def _css_word(text: str) -> str:
    return re.sub(r"[^a-z0-9-]", "-", str(text).lower())
