"""Parameter counts of instances and model graphs, as Keras gives them."""

from __future__ import annotations

from ..records import record

from .. import catalog as kcat


@record
class Counts:
    trainable: int = 0
    non_trainable: int = 0
    unknown: tuple = ()  # names of layers whose count is unknown

    @property
    def total(self) -> int:
        return self.trainable + self.non_trainable


def instance_counts(inst) -> Counts:
    """Trainable and non-trainable parameters of one instance."""
    if inst.weights is None:
        return Counts(unknown=(inst.name,))
    counts = Counts()
    for weight in inst.weights:
        if weight.trainable and inst.trainable:
            counts.trainable += weight.size
        else:
            counts.non_trainable += weight.size
    return counts


def graph_counts(graph) -> Counts:
    """Totals of a model graph, as Keras's count_params() and summary give
    them: over the layers between the inputs and the outputs only."""
    total = Counts()
    unknown = []
    for inst in graph.model_layers():
        counts = instance_counts(inst)
        total.trainable += counts.trainable
        total.non_trainable += counts.non_trainable
        unknown.extend(counts.unknown)
    total.unknown = tuple(unknown)
    return total


def type_name(inst) -> str:
    """The class Keras shows for an instance: `Functional` for models,
    the class's own name for layers, custom layers and operations."""
    if inst.kind in ("model", "application"):
        return "Functional"
    if inst.kind == "layer":
        return kcat.load().layer(inst.cls).keras_class
    return inst.cls


def readable_size(count: int, bytes_per_param: int = 4) -> str:
    """Bytes of COUNT float32 weights in Keras's units (1024-based)."""
    size = float(count * bytes_per_param)
    for unit in ["B", "KB", "MB", "GB", "TB"]:
        if size / 1024 < 1:
            return f"{size:.2f} {unit}"
        size /= 1024
    return f"{size:.2f} PB"
