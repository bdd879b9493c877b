"""From ranks and desired x-coordinates to boxes and edge lines, for a given
set of opened containers.

The work is split so the HTML page can redo the cheap part: the *scene*
(built once, here, with grandalf) holds each container's ranks, orders and
desired x-coordinates; `place` turns a scene and the set of opened
containers into coordinates. page.js implements `place` and `edge_points`
line for line (same constants, same order of operations), so the page can
collapse and open clusters without a layout library; the browser test checks
that both agree.

Placement of one container: each rank is a horizontal band as tall as its
tallest item; in each rank the items keep grandalf's order and are put as
close as possible to their desired centres without overlapping (a
least-squares fit under order constraints, solved exactly by pool adjacent
violators). A cluster opened wider than its collapsed box pushes its
neighbours aside in its own rank only, so a chain of opened blocks is as
wide as the widest, not as the sum.
"""

from __future__ import annotations

from . import labels
from .document import ROOT, Graph
from .layered import NODE_GAP, layout_container
from .structure import plan

RANK_GAP = 28.0
CLUSTER_PAD_X = 12.0
CLUSTER_TITLE_HEIGHT = 22.0
CLUSTER_PAD_BOTTOM = 10.0
MARGIN = 16.0


def build_scene(graph: Graph) -> dict:
    """The scene of GRAPH: every container's layered layout and every edge's hops."""
    edges, plans = plan(graph)
    containers = {}
    chains = {}
    for cid, container_plan in plans.items():
        layered = layout_container(container_plan)
        chains[cid] = layered.chains
        box = graph.containers[cid]
        sizes = {item: list(size) for item, size in container_plan.sizes.items()}
        sizes.update({dummy: [width, 0.0] for dummy, width in layered.widths.items()})
        containers[cid] = {
            "kind": box.kind,
            "parent": box.parent,
            "title": box.title,
            "title_width": round(len(box.title) * labels.CHAR_WIDTH + 2 * labels.BOX_PAD_X, 2),
            "ranks": layered.ranks,
            "x": layered.x,
            "sizes": sizes,
        }
    spreads = _spreads(graph, edges, plans)
    scene_edges = []
    labelled = set()
    for edge in edges:
        scene_edge = {
            "source": edge.source,
            "target": edge.target,
            "hops": [[cid, a, b, chains[cid].get((a, b), [])] for cid, a, b in edge.hops],
            "spread": spreads[edge.index],
            "link": None,
            "label_start": "",
            "label_end": "",
        }
        if edge.link is not None:
            scene_edge.update(_link_fields(graph, edge.link))
            tensor = (edge.source, edge.link.source_call, edge.link.tensor)
            if tensor in labelled:  # one label per tensor, however many read it
                scene_edge["label_start"] = ""
            labelled.add(tensor)
        scene_edges.append(scene_edge)
    return {"containers": containers, "edges": scene_edges}


ATTACH_SPACING = 14.0


def _spreads(graph: Graph, edges: list, plans: dict) -> list:
    """For each edge, how far from the middle of its layer's bottom it
    leaves and of its target's top it arrives: the edges at one box are
    spread across it in document order, so each call's edge stays visible."""
    leaving, arriving = {}, {}
    for edge in edges:
        if edge.source != edge.target:
            leaving.setdefault(edge.source, []).append(edge.index)
            arriving.setdefault(edge.target, []).append(edge.index)
    spreads = [[0.0, 0.0] for _ in edges]
    for end, groups in ((0, leaving), (1, arriving)):
        for key, indices in groups.items():
            if len(indices) < 2 or key not in graph.layers:
                continue
            width = plans[graph.layers[key].container].sizes["L:" + key][0]
            spacing = min(ATTACH_SPACING, (width - 16) / (len(indices) - 1))
            for position, index in enumerate(indices):
                spreads[index][end] = (position - (len(indices) - 1) / 2) * spacing
    return spreads


def _link_fields(graph: Graph, link) -> dict:
    """Which calls an edge joins, and its labels: the tensor's shape where the
    producer changed it, and the call numbers at a shared layer's ends."""
    start = ""
    if graph.layers[link.source].shared:
        start = f"#{link.source_call + 1} "
    if link.changes:
        start += labels.format_shape(link.shape)
    end = f"#{link.call + 1}" if graph.layers[link.target].shared else ""
    return {
        "link": {"call": link.call, "source_call": link.source_call, "tensor": link.tensor},
        "label_start": start.strip(),
        "label_end": end,
    }


def fit_in_order(desired: list, widths: list, gap: float) -> list:
    """Centres as close as possible (least squares) to DESIRED, keeping the
    order and at least GAP between neighbouring boxes of WIDTHS."""
    offsets = [0.0]
    for i in range(1, len(desired)):
        offsets.append(offsets[i - 1] + (widths[i - 1] + widths[i]) / 2 + gap)
    blocks = []  # [sum of targets, count], pooled while they violate the order
    for i in range(len(desired)):
        blocks.append([desired[i] - offsets[i], 1])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] > blocks[-1][0] / blocks[-1][1]:
            total, count = blocks.pop()
            blocks[-1][0] += total
            blocks[-1][1] += count
    centres = []
    for total, count in blocks:
        for _ in range(count):
            centres.append(total / count + offsets[len(centres)])
    return centres


def place(scene: dict, opened: set) -> dict:
    """Every visible container's frame and items' boxes, in picture
    coordinates, with the containers in OPENED drawn open."""
    local = {}
    for cid in _post_order(scene, opened):
        local[cid] = _place_container(scene, cid, opened, local)
    root = local[ROOT]
    result = {"width": root["width"] + 2 * MARGIN, "height": root["height"] + 2 * MARGIN, "frames": {}, "boxes": {}}
    result["bands"] = {}
    _absolute(scene, ROOT, MARGIN, MARGIN, root["width"], root["height"], local, result, opened)
    return result


def _post_order(scene: dict, opened: set) -> list:
    """ROOT and the opened containers under open parents, children first."""
    children = {}
    for cid, box in scene["containers"].items():
        children.setdefault(box["parent"], []).append(cid)
    order = []

    def visit(cid):
        for child in children.get(cid, []):
            if child in opened:
                visit(child)
        order.append(cid)

    visit(ROOT)
    return order


def _outer_size(scene: dict, cid: str, inner: dict) -> tuple:
    width = max(inner["width"], scene["containers"][cid]["title_width"]) + 2 * CLUSTER_PAD_X
    return width, inner["height"] + CLUSTER_TITLE_HEIGHT + CLUSTER_PAD_BOTTOM


def _place_container(scene: dict, cid: str, opened: set, local: dict) -> dict:
    """Boxes of CID's items relative to its inner top-left corner."""
    box = scene["containers"][cid]
    sizes = {}
    for vid, size in box["sizes"].items():
        child = vid[2:] if vid.startswith("C:") else None
        if child is not None and child in opened:
            sizes[vid] = _outer_size(scene, child, local[child])
        else:
            sizes[vid] = (size[0], size[1])
    items = {}
    bands = []
    top = 0.0
    for rank, vids in enumerate(box["ranks"]):
        height = max((sizes[v][1] for v in vids), default=0.0)
        centres = fit_in_order([box["x"][v] for v in vids], [sizes[v][0] for v in vids], NODE_GAP)
        for vid, centre in zip(vids, centres):
            items[vid] = [centre, top + height / 2, sizes[vid][0], sizes[vid][1], rank]
        bands.append([top, top + height])
        top += height + RANK_GAP
    if not items:
        return {"width": 0.0, "height": 0.0, "items": items, "bands": bands}
    left = min(b[0] - b[2] / 2 for b in items.values())
    right = max(b[0] + b[2] / 2 for b in items.values())
    for item in items.values():
        item[0] -= left
    return {"width": right - left, "height": top - RANK_GAP, "items": items, "bands": bands}


def _absolute(scene, cid, x, y, width, height, local, result, opened) -> None:
    """Write CID's frame, bands and item boxes at (X, Y) into RESULT, then its
    opened children's."""
    inner = local[cid]
    result["frames"][cid] = [x, y, width, height]
    if cid == ROOT:
        ox, oy = x, y
    else:
        ox = x + CLUSTER_PAD_X + (width - 2 * CLUSTER_PAD_X - inner["width"]) / 2
        oy = y + CLUSTER_TITLE_HEIGHT
    result["bands"][cid] = [[oy + top, oy + bottom] for top, bottom in inner["bands"]]
    for vid, (cx, cy, w, h, rank) in inner["items"].items():
        result["boxes"][cid + "\n" + vid] = [ox + cx, oy + cy, w, h, rank]
        child = vid[2:] if vid.startswith("C:") else None
        if child is not None and child in opened:
            _absolute(scene, child, ox + cx - w / 2, oy + cy - h / 2, w, h, local, result, opened)


def edge_points(edge: dict, placed: dict) -> list:
    """The points of EDGE's visible line, top to bottom of each hop; [] when hidden."""
    points = []
    for cid, start, end, chain in edge["hops"]:
        if cid not in placed["frames"]:
            continue
        for point in _hop_points(edge, cid, start, end, chain, placed):
            if not points or abs(points[-1][0] - point[0]) > 0.001 or abs(points[-1][1] - point[1]) > 0.001:
                points.append(point)
    return points


def _hop_points(edge, cid, start, end, chain, placed) -> list:
    boxes = placed["boxes"]
    source = edge["source"]
    a = boxes[cid + "\n" + start]
    b = boxes[cid + "\n" + end]
    down = a[4] <= b[4]
    # Spread only where the edge meets its own layer's box, not a cluster's.
    start_dx = edge["spread"][0] if start == "L:" + source else 0.0
    end_dx = edge["spread"][1] if end == "L:" + edge["target"] else 0.0
    points = [_attach(source, cid, start, a, placed, True, down, start_dx)]
    for dummy in chain:
        d = boxes[cid + "\n" + dummy]
        top, bottom = placed["bands"][cid][d[4]]
        points.extend([[d[0], top], [d[0], bottom]] if down else [[d[0], bottom], [d[0], top]])
    points.append(_attach(source, cid, end, b, placed, False, down, end_dx))
    return points


def _attach(source, cid, vid, box, placed, leaving, down, dx) -> list:
    """Where an edge leaves or reaches item VID of container CID."""
    frame = placed["frames"][cid]
    if vid.startswith("I:"):
        return [box[0], frame[1]]
    if vid.startswith("O:"):
        return [box[0], frame[1] + frame[3]]
    child = vid[2:] if vid.startswith("C:") else None
    if child is not None and child in placed["frames"]:
        port = ("O:" if leaving else "I:") + child + "|" + source
        key = child + "\n" + port
        if key in placed["boxes"]:
            inner = placed["frames"][child]
            return [placed["boxes"][key][0], inner[1] + inner[3] if leaving else inner[1]]
    bottom = box[1] + box[3] / 2
    top = box[1] - box[3] / 2
    return [box[0] + dx, bottom if leaving == down else top]


__all__ = ["build_scene", "place", "edge_points", "fit_in_order"]
