"""The layered (Sugiyama) layout of one container, computed by grandalf.

grandalf ranks the items (longest path from the roots, cycles broken by
reversing feedback edges: a shared layer can feed itself), orders each rank
to reduce crossings and proposes x-coordinates (Brandes & Koepf). We keep its
ranks, orders and x-coordinates as *desired* positions; `geometry` turns them
into boxes for the actual sizes (a cluster opened on the page is wider than
its collapsed box). Out-ports and output terminals are moved to the last
rank so that outputs are drawn at the bottom.
"""

from __future__ import annotations

from ..records import field, record

try:
    from grandalf.graphs import Edge as GEdge
    from grandalf.graphs import Vertex, graph_core
    from grandalf.layouts import Layer, SugiyamaLayout
    from grandalf.utils.poset import Poset
except ImportError as error:  # pragma: no cover - grandalf is a dependency of keras-kdsl
    raise ImportError("kdsl's graph pictures need the grandalf package: pip install 'grandalf>=0.8'") from error

from .structure import ContainerPlan

NODE_GAP = 24.0  # horizontal room between neighbours of a rank
DUMMY_WIDTH = 14.0  # the room a long edge takes where it passes a rank
COMPONENT_GAP = 40.0
ORDERING_ROUNDS = 3


@record
class Layered:
    """Ranks, orders and desired x-coordinates of a container's items."""

    id: str
    ranks: list = field(default_factory=list)  # rank -> vertex ids, left to right
    x: dict = field(default_factory=dict)  # vertex id -> desired centre
    widths: dict = field(default_factory=dict)  # dummy id -> width (items take theirs from the plan)
    chains: dict = field(default_factory=dict)  # (from item, to item) -> dummy ids, in edge order
    rank_of: dict = field(default_factory=dict)  # vertex id -> rank


class _Component(graph_core):
    """grandalf's connected graph, made from a component computed here, with
    its vertices and edges in our order. grandalf's own Graph keeps each
    component's edges in a set (an order that can change between runs) and
    re-checks connectivity in time quadratic in the vertices."""

    def __init__(self, vertices: list, edges: list):  # noqa: D107 - no super(): that is the part replaced
        self.directed = True
        self.sV = Poset(vertices)
        self.sE = Poset([])
        self.degenerated_edges = set()  # self-loops: never made here
        for edge in edges:
            self.sE.add(edge).attach()
        for vertex in vertices:
            vertex.c = self


class _Rank(Layer):
    """grandalf's Layer, told its rank: Layer.setup finds it by searching the
    list of layers with element-wise comparisons, quadratic in the ranks."""

    rank = 0

    def setup(self, layout):
        self.layout = layout
        self._Layer__r = self.rank
        if len(self) > 1:
            self._Layer__x = 1.0 / (len(self) - 1)
        for i, vertex in enumerate(self):
            layout.grx[vertex].pos = i
            layout.grx[vertex].bar = i * self._Layer__x
        if self.rank > 0:
            self.upper = layout.layers[self.rank - 1]
        if self.rank < len(layout.layers) - 1:
            self.lower = layout.layers[self.rank + 1]


class _View:
    """The size grandalf reads from a vertex (its `view`)."""

    def __init__(self, width: float, height: float):
        self.w, self.h = width, height
        self.xy = (0.0, 0.0)


def layout_container(container: ContainerPlan) -> Layered:
    """The layered layout of CONTAINER's items and edges."""
    result = Layered(container.id)
    if not container.items:
        return result
    vertices = {}
    for item in container.items:
        vertex = Vertex(item)
        vertex.view = _View(*container.sizes[item])
        vertices[item] = vertex
    gedges = {}
    for start, end in container.edges:
        gedges[(start, end)] = GEdge(vertices[start], vertices[end])
    layouts = [_rank_component(_Component(*part)) for part in _components(container, vertices, gedges)]
    bottom = max((len(sug.layers) for sug in layouts), default=1) - 1
    for sug in layouts:
        _pin_to_rank(sug, [vertices[i] for i in container.items if i in container.pinned_bottom], bottom)
        _finish(sug)
    _collect(result, layouts, gedges, container)
    return result


def _components(container: ContainerPlan, vertices: dict, gedges: dict) -> list:
    """(vertices, edges) of each connected component, in the order of their
    first item, each in the container's order (union-find over the edges)."""
    parent = {item: item for item in container.items}

    def find(item):
        while parent[item] != item:
            parent[item] = parent[parent[item]]
            item = parent[item]
        return item

    for start, end in gedges:
        parent[find(start)] = find(end)
    parts = {}
    for item in container.items:
        parts.setdefault(find(item), ([], []))[0].append(vertices[item])
    for (start, _), gedge in gedges.items():
        parts[find(start)][1].append(gedge)
    return list(parts.values())


def _rank_component(component) -> SugiyamaLayout:
    """Rank one connected component (grandalf's init_all, without the dummies yet)."""
    sug = SugiyamaLayout(component)
    sug.xspace = NODE_GAP
    roots = [v for v in component.sV if len(v.e_in()) == 0]
    if not roots:  # a cycle with no way in: start anywhere, deterministically
        roots = [component.sV[0]]
    sug.alt_e = _feedback_edges(roots + list(component.sV))
    sug.rank_all(roots)
    sug.layers = [_Rank(layer) for layer in sug.layers]
    return sug


def _feedback_edges(starts: list) -> list:
    """The edges that close a cycle (back edges of a depth-first search from
    STARTS, in order), which grandalf reverses to rank a DAG. Done here,
    without recursion: grandalf's own search recurses once per vertex and
    raises the interpreter's recursion limit to do so."""
    state = {}  # vertex -> True while on the search path, False when done
    feedback = []
    for start in starts:
        if start in state:
            continue
        state[start] = True
        path = [(start, iter(start.e_out()))]
        while path:
            vertex, edges = path[-1]
            for edge in edges:
                target = edge.v[1]
                if state.get(target) is True:
                    feedback.append(edge)
                elif target not in state:
                    state[target] = True
                    path.append((target, iter(target.e_out())))
                    break
            else:
                state[vertex] = False
                path.pop()
    return feedback


def _pin_to_rank(sug: SugiyamaLayout, pinned: list, bottom: int) -> None:
    """Move PINNED vertices of this component to rank BOTTOM."""
    for vertex in pinned:
        if vertex not in sug.grx or not vertex.e_in():
            continue
        attr = sug.grx[vertex]
        if attr.rank == bottom:
            continue
        sug.layers[attr.rank].remove(vertex)
        while len(sug.layers) <= bottom:
            sug.layers.append(_Rank([]))
        attr.rank = bottom
        sug.layers[bottom].append(vertex)
    # No rank is left empty: a vertex is only moved down past ranks its
    # in-edge crosses, and those get the edge's dummy vertices.


def _finish(sug: SugiyamaLayout) -> None:
    """Dummies for long edges, crossing reduction and x-coordinates."""
    sug.dw, sug.dh = DUMMY_WIDTH, 0.0
    for edge in sug.g.E():
        sug.setdummies(edge)
    for rank, layer in enumerate(sug.layers):
        layer.rank = rank
        layer.setup(sug)
    sug.initdone = True
    rounds = ORDERING_ROUNDS
    while rounds > 0:
        for _ in sug.ordering_step():
            pass
        rounds -= 1
    sug.setxy()


def _collect(result: Layered, layouts: list, gedges: dict, container: ContainerPlan) -> None:
    """Merge the components side by side into RESULT."""
    offset = 0.0
    dummy_ids = {}
    for sug in layouts:
        left = min(v.view.xy[0] - v.view.w / 2 for layer in sug.layers for v in layer)
        right = max(v.view.xy[0] + v.view.w / 2 for layer in sug.layers for v in layer)
        shift = offset - left
        for rank, layer in enumerate(sug.layers):
            while len(result.ranks) <= rank:
                result.ranks.append([])
            for vertex in layer:
                vid = _vertex_id(vertex, container.id, dummy_ids)
                if vid.startswith("D:"):
                    result.widths[vid] = DUMMY_WIDTH
                result.ranks[rank].append(vid)
                result.x[vid] = round(vertex.view.xy[0] + shift, 2)
                result.rank_of[vid] = rank
        for pair, gedge in gedges.items():
            if gedge in sug.ctrls:
                ctrl = sug.ctrls[gedge]
                r0, r1 = sug.grx[gedge.v[0]].rank, sug.grx[gedge.v[1]].rank
                step = 1 if r0 < r1 else -1
                result.chains[pair] = [dummy_ids[id(ctrl[r])] for r in range(r0 + step, r1, step)]
        offset += right - left + COMPONENT_GAP


def _vertex_id(vertex, container_id: str, dummy_ids: dict) -> str:
    if hasattr(vertex, "data"):
        return vertex.data
    if id(vertex) not in dummy_ids:
        dummy_ids[id(vertex)] = f"D:{container_id}|{len(dummy_ids)}"
    return dummy_ids[id(vertex)]
