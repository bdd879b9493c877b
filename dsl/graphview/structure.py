"""What each container lays out: its items (layers, child containers, ports,
output terminals) and the edges between them.

A picture is laid out container by container, inside out: a block call is
one item of its parent, so a cluster never overlaps the layers around it.
An edge between layers of different containers is cut into hops, one per
container it passes through: out of a cluster through an *out-port* on its
bottom border, into one through an *in-port* on its top border. A port is
keyed by the layer whose tensor crosses, so every tensor keeps its own line.
"""

from __future__ import annotations

from ..records import field, record

from . import labels
from .document import ROOT, Graph


@record
class Edge:
    """One drawn edge: a Link, or a model output's line to its terminal."""

    index: int
    source: str  # layer key
    target: str  # layer key, or an output terminal's key
    link: object  # the Link, or None for an output's line
    hops: list = field(default_factory=list)  # (container id, from item, to item)


@record
class ContainerPlan:
    """The items a container lays out and the edges between them."""

    id: str
    items: list = field(default_factory=list)  # item ids, in document order
    sizes: dict = field(default_factory=dict)  # item id -> (width, height) when collapsed
    edges: dict = field(default_factory=dict)  # unique (from item, to item) -> None, first-use order
    pinned_bottom: set = field(default_factory=set)  # items drawn in the last rank


def layer_item(key: str) -> str:
    """The item id of a layer's box."""
    return "L:" + key


def box_item(container_id: str) -> str:
    """The item id of a child container in its parent."""
    return "C:" + container_id


def in_port(container_id: str, source: str) -> str:
    """The item id of the port where the tensor of SOURCE enters a container."""
    return f"I:{container_id}|{source}"


def out_port(container_id: str, source: str) -> str:
    """The item id of the port where the tensor of SOURCE leaves a container."""
    return f"O:{container_id}|{source}"


def terminal_item(key: str) -> str:
    """The item id of a model output's terminal."""
    return "T:" + key


PORT_WIDTH = 12.0


def ancestors(graph: Graph, container_id: str) -> list:
    """CONTAINER_ID and its ancestors, innermost first."""
    chain = []
    while container_id is not None:
        chain.append(container_id)
        container_id = graph.containers[container_id].parent
    return chain


def collapsed_size(graph: Graph, container_id: str) -> tuple:
    """The size of a container drawn as one box."""
    box = graph.containers[container_id]
    if box.kind == "model":
        return labels.box_size(labels.layer_lines(graph.layers[box.layer].entry))
    return labels.box_size(block_lines(graph, container_id))


def block_lines(graph: Graph, container_id: str) -> list:
    """The lines of a collapsed block's box."""
    box = graph.containers[container_id]
    return labels.block_lines(box.title, graph.layer_count(container_id), container_total(graph, container_id),
                              container_total(graph, container_id, "macs"))


def container_total(graph: Graph, container_id: str, key: str = "params"):
    """The sum of KEY (`params`, `macs`) over the layers in a container;
    None when one is unknown."""
    box = graph.containers[container_id]
    total = 0
    for member in box.members:
        value = graph.layers[member].entry.get(key)
        if value is None:
            return None
        total += int(value)
    for child in box.children:
        if graph.containers[child].kind == "model":
            value = graph.layers[graph.containers[child].layer].entry.get(key)
        else:
            value = container_total(graph, child, key)
        if value is None:
            return None
        total += int(value)
    return total


def plan(graph: Graph) -> tuple:
    """The edges of GRAPH cut into hops, and what each container lays out."""
    plans = {cid: ContainerPlan(cid) for cid in graph.containers}
    for cid, box in graph.containers.items():
        for key in box.members:
            item = layer_item(key)
            plans[cid].items.append(item)
            plans[cid].sizes[item] = labels.box_size(labels.layer_lines(graph.layers[key].entry))
        for child in box.children:
            item = box_item(child)
            plans[cid].items.append(item)
            plans[cid].sizes[item] = collapsed_size(graph, child)
    for out in graph.outputs:
        item = terminal_item(out.key)
        plans[ROOT].items.append(item)
        plans[ROOT].sizes[item] = labels.box_size(labels.output_lines(out.name, out.shape))
        plans[ROOT].pinned_bottom.add(item)
    edges = [Edge(i, link.source, link.target, link) for i, link in enumerate(graph.links)]
    for out in graph.outputs:
        edges.append(Edge(len(edges), out.layer, out.key, None))
    homes = {key: layer.container for key, layer in graph.layers.items()}
    homes.update({out.key: ROOT for out in graph.outputs})
    items = {key: layer_item(key) for key in graph.layers}
    items.update({out.key: terminal_item(out.key) for out in graph.outputs})
    for edge in edges:
        edge.hops = _hops(graph, plans, homes, items, edge.source, edge.target)
    return edges, plans


def _hops(graph, plans, homes, items, source, target) -> list:
    """The hops of an edge from SOURCE to TARGET, in drawing order."""
    up = ancestors(graph, homes[source])
    down = ancestors(graph, homes[target])
    common = next(c for c in up if c in down)
    up = up[: up.index(common)]
    down = down[: down.index(common)]
    hops = []
    current = items[source]
    for cid in up:
        port = out_port(cid, source)
        hops.append(_add_hop(plans[cid], current, port))
        plans[cid].pinned_bottom.add(port)
        current = box_item(cid)
    entry = items[target] if not down else box_item(down[-1])
    hops.append(_add_hop(plans[common], current, entry))
    for position, cid in enumerate(reversed(down)):
        port = in_port(cid, source)
        inner = items[target] if position == len(down) - 1 else box_item(list(reversed(down))[position + 1])
        hops.append(_add_hop(plans[cid], port, inner))
    return hops


def _add_hop(container: ContainerPlan, start: str, end: str) -> tuple:
    for item in (start, end):
        if item not in container.sizes:
            container.items.append(item)
            container.sizes[item] = (PORT_WIDTH, 0.0)
    if start != end:
        container.edges.setdefault((start, end), None)
    return (container.id, start, end)
