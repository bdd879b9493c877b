"""`kdsl summary`: each model's layer table, like Keras's model.summary(),
with compute and memory per layer, as text (table) or as the versioned JSON
document of docs/summary-json.md (document); computed from the checker's
graph without importing Keras."""

from __future__ import annotations

from .counts import Counts, graph_counts, instance_counts, readable_size, type_name
from .document import SCHEMA, VERSION, summary_document, to_json
from .table import render_graph, render_summaries

__all__ = [
    "SCHEMA", "VERSION", "Counts", "graph_counts", "instance_counts", "readable_size", "render_graph",
    "render_summaries", "summary_document", "to_json", "type_name",
]
