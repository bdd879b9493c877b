"""The graph as Graphviz DOT text and as a Mermaid flowchart, for people who
have those tools. Block calls (and opened nested models) are clusters /
subgraphs. Ids are made by kdsl (n0, n1, ...; c0, c1, ...), never taken
from names, and every label is quoted and escaped.
"""

from __future__ import annotations

from . import labels
from .document import ROOT, Graph

_DOT_SHAPES = {
    "input": 'shape=box, style="rounded,filled,bold", fillcolor="#dff3df", color="#2e7d32"',
    "op": 'shape=ellipse, style=filled, fillcolor="#f1f1f1", color="#6d6d6d"',
    "custom": 'shape=box, style="filled,dashed", fillcolor="#fff8e1", color="#8d6e00"',
    "model": 'shape=box, style="filled", peripheries=2, fillcolor="#efe9f8", color="#5e35b1"',
    "application": 'shape=box, style="filled", peripheries=2, fillcolor="#efe9f8", color="#5e35b1"',
    "layer": 'shape=box, style="filled", fillcolor="#e8f1fb", color="#1f5fa8"',
}
_DOT_OUTPUT = 'shape=box, style="rounded,filled,bold", fillcolor="#ffe6cc", color="#d35400"'


def dot_string(text: str) -> str:
    """TEXT as a DOT double-quoted string (no escape sequence of TEXT survives)."""
    text = str(text).replace("\\", "\\\\").replace('"', '\\"')
    return '"' + text.replace("\r", "").replace("\n", "\\n") + '"'


def _dot_label(lines: list) -> str:
    # Each line is escaped alone, then joined with DOT's centred line break.
    return '"' + "\\n".join(dot_string(line)[1:-1] for line in lines) + '"'


def _ids(graph: Graph) -> tuple:
    node_ids = {key: f"n{i}" for i, key in enumerate(graph.layers)}
    node_ids.update({out.key: f"out{i}" for i, out in enumerate(graph.outputs)})
    cluster_ids = {cid: f"c{i}" for i, cid in enumerate(c for c in graph.containers if c != ROOT)}
    return node_ids, cluster_ids


def _edge_label(graph: Graph, link) -> str:
    parts = []
    if graph.layers[link.source].shared:
        parts.append(f"#{link.source_call + 1}")
    if link.changes:
        parts.append(labels.format_shape(link.shape))
    if graph.layers[link.target].shared:
        parts.append(f"to call #{link.call + 1}")
    return " ".join(parts)


def render_dot(graph: Graph) -> str:
    """The graph as a Graphviz digraph, top to bottom, blocks as clusters."""
    node_ids, cluster_ids = _ids(graph)
    out = [
        f"digraph {dot_string(graph.model.get('name', 'model'))} {{",
        '  graph [rankdir=TB, fontname="monospace", fontsize=11, newrank=true];',
        '  node [fontname="monospace", fontsize=10];',
        '  edge [fontname="monospace", fontsize=9, color="#5a5a5a"];',
    ]

    def emit(cid: str, indent: str) -> None:
        box = graph.containers[cid]
        for key in box.members:
            layer = graph.layers[key]
            style = _DOT_SHAPES.get(layer.kind, _DOT_SHAPES["layer"])
            extra = ', penwidth=2.5, color="#8e24aa"' if layer.shared else ""
            out.append(
                f"{indent}{node_ids[key]} [label={_dot_label(labels.layer_lines(layer.entry))}, {style}{extra}];"
            )
        for child in box.children:
            container = graph.containers[child]
            out.append(f"{indent}subgraph cluster_{cluster_ids[child]} {{")
            out.append(f'{indent}  label={dot_string(container.title)}; style=dashed; color="#a67c00";')
            emit(child, indent + "  ")
            out.append(f"{indent}}}")

    emit(ROOT, "  ")
    for output in graph.outputs:
        lines = labels.output_lines(output.name, output.shape)
        out.append(f"  {node_ids[output.key]} [label={_dot_label(lines)}, {_DOT_OUTPUT}];")
    inputs = [node_ids[k] for k, layer in graph.layers.items() if layer.kind == "input" and not layer.scope]
    if inputs:
        out.append("  { rank=source; " + "; ".join(inputs) + "; }")
    if graph.outputs:
        out.append("  { rank=sink; " + "; ".join(node_ids[o.key] for o in graph.outputs) + "; }")
    for link in graph.links:
        label = _edge_label(graph, link)
        attrs = f" [label={dot_string(label)}]" if label else ""
        if graph.layers[link.source].shared or graph.layers[link.target].shared:
            attrs = attrs[:-1] + ', style=dashed, color="#8e24aa"]' if attrs else ' [style=dashed, color="#8e24aa"]'
        out.append(f"  {node_ids[link.source]} -> {node_ids[link.target]}{attrs};")
    for output in graph.outputs:
        out.append(f'  {node_ids[output.layer]} -> {node_ids[output.key]} [color="#d35400"];')
    out.append("}")
    return "\n".join(out) + "\n"


_MERMAID_SAFE = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 _.,:=+*/-()?\u00b7\u00d7")


def mermaid_text(text: str) -> str:
    """TEXT for a quoted Mermaid label: every character that could end the
    label or be read as markup written as a #code; entity."""
    return "".join(ch if ch in _MERMAID_SAFE else f"#{ord(ch)};" for ch in str(text))


def _mermaid_label(lines: list) -> str:
    return '"' + "<br/>".join(mermaid_text(line) for line in lines) + '"'


def render_mermaid(graph: Graph) -> str:
    """The graph as a Mermaid flowchart, top down, blocks as subgraphs."""
    node_ids, cluster_ids = _ids(graph)
    out = ["flowchart TD"]

    def node_line(key: str) -> str:
        layer = graph.layers[key]
        label = _mermaid_label(labels.layer_lines(layer.entry))
        if layer.kind == "input":
            return f"{node_ids[key]}([{label}])"
        if layer.kind == "op":
            return f"{node_ids[key]}(({label}))"
        if layer.kind in ("model", "application"):
            return f"{node_ids[key]}[[{label}]]"
        return f"{node_ids[key]}[{label}]"

    def emit(cid: str, indent: str) -> None:
        box = graph.containers[cid]
        for key in box.members:
            out.append(indent + node_line(key))
        for child in box.children:
            out.append(f"{indent}subgraph {cluster_ids[child]}[{_mermaid_label([graph.containers[child].title])}]")
            emit(child, indent + "  ")
            out.append(f"{indent}end")

    emit(ROOT, "  ")
    for output in graph.outputs:
        out.append(f"  {node_ids[output.key]}{{{{{_mermaid_label(labels.output_lines(output.name, output.shape))}}}}}")
    for link in graph.links:
        label = _edge_label(graph, link)
        arrow = "-.->" if graph.layers[link.source].shared or graph.layers[link.target].shared else "-->"
        middle = f'|"{mermaid_text(label)}"|' if label else ""
        out.append(f"  {node_ids[link.source]} {arrow}{middle} {node_ids[link.target]}")
    for output in graph.outputs:
        out.append(f"  {node_ids[output.layer]} --> {node_ids[output.key]}")
    out.append("  classDef input fill:#dff3df,stroke:#2e7d32")
    out.append("  classDef output fill:#ffe6cc,stroke:#d35400")
    out.append("  classDef shared stroke:#8e24aa,stroke-width:3px")
    for cls, keys in (
        ("input", [node_ids[k] for k, layer in graph.layers.items() if layer.kind == "input"]),
        ("output", [node_ids[o.key] for o in graph.outputs]),
        ("shared", [node_ids[k] for k, layer in graph.layers.items() if layer.shared]),
    ):
        if keys:
            out.append(f"  class {','.join(keys)} {cls}")
    return "\n".join(out) + "\n"
