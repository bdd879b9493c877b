"""The order in which an imported model's calls are written.

Any topological order gives the same graph, but Keras names an unnamed
layer by counting the layers of its kind made before it (`conv2d`,
`conv2d_1`, ...), so kd must make the unnamed ones in the order their
numbers say.  The order also keeps each branch together (a depth-first
preference), as a person writes a model, so that the repeated parts of a
network come out alike and can be folded.
"""

from __future__ import annotations

import heapq

from .constructs import auto_prefix
from .graph import Graph


def emission_order(graph: Graph, automatic: set) -> list:
    """The calls of GRAPH (its inputs left out) in the order kd writes them.
    AUTOMATIC: the names of the layers whose names kd leaves to Keras."""
    calls = [c for c in graph.calls() if not c.layer.is_input]
    position = {id(c): i for i, c in enumerate(calls)}
    before: dict = {id(c): set() for c in calls}  # call id -> ids of calls that must come first
    after: dict = {id(c): set() for c in calls}
    for call in calls:
        for ref in call.input_refs():
            producer = graph.call(ref)
            if id(producer) in before and producer is not call:
                before[id(call)].add(id(producer))
                after[id(producer)].add(id(call))
    readers = {key: set(value) for key, value in after.items()}
    for a, b in _numbering_pairs(calls, automatic):
        if not _reaches(after, id(b), id(a)):
            before[id(b)].add(id(a))
            after[id(a)].add(id(b))
    return _sorted(calls, position, before, after, readers)


def _numbering_pairs(calls: list, automatic: set) -> list:
    """(earlier, later) pairs of unnamed layers that share a name prefix, by
    their numbers: `dense` before `dense_1` before `dense_2`."""
    by_prefix: dict = {}
    for call in calls:
        if call.index == 0 and call.layer.name in automatic:
            prefix, number = auto_prefix(call.layer.name)
            by_prefix.setdefault(prefix, []).append((number, call))
    pairs = []
    for items in by_prefix.values():
        items.sort(key=lambda item: item[0])
        pairs += [(items[i][1], items[i + 1][1]) for i in range(len(items) - 1)]
    return pairs


def _reaches(after: dict, start: int, goal: int) -> bool:
    seen, stack = {start}, [start]
    while stack:
        node = stack.pop()
        if node == goal:
            return True
        for nxt in after[node]:
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return False


def _sorted(calls: list, position: dict, before: dict, after: dict, readers: dict) -> list:
    """Kahn's algorithm: of the calls ready, a reader of the call just
    written first (depth first), else the earliest in the config."""
    waiting = {key: len(value) for key, value in before.items()}
    heap = [position[key] for key, count in waiting.items() if count == 0]
    heapq.heapify(heap)
    ready = set(heap)
    order: list = []
    last = None
    while ready:
        followers = [position[k] for k in readers[last] if position[k] in ready] if last is not None else []
        if followers:
            choice = min(followers)
        else:
            while heap[0] not in ready:  # written already, as a follower
                heapq.heappop(heap)
            choice = heapq.heappop(heap)
        ready.discard(choice)
        call = calls[choice]
        order.append(call)
        last = id(call)
        for nxt in after[last]:
            waiting[nxt] -= 1
            if waiting[nxt] == 0:
                ready.add(position[nxt])
                heapq.heappush(heap, position[nxt])
    if len(order) != len(calls):
        raise ValueError("the model's graph has a cycle")
    return order
