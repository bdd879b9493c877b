"""Helpers shared by the differential tests."""

from __future__ import annotations

import importlib.util
from pathlib import Path


def load_module(path: Path):
    """Import a generated module from its file."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def kdsl_layers(graph) -> list:
    """[(layer name, class, params)] as kdsl's checker sees a model, in the
    order of Keras's model.layers."""
    from dsl.check.graph import InputSpec, keras_order
    from dsl.summary import instance_counts

    table = []
    for op in keras_order(graph):
        if isinstance(op, InputSpec):
            table.append((op.name, "InputLayer", 0))
        elif op.kind != "op":
            cls = "Functional" if op.kind in ("model", "application") else op.cls
            table.append((op.name, cls, instance_counts(op).total))
    return table


def keras_layers(model) -> list:
    """The same table from a built Keras model."""
    return [(layer.name, type(layer).__name__, layer.count_params()) for layer in model.layers]
