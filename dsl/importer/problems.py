"""Why a model cannot be imported."""

from __future__ import annotations


class ImportProblem(Exception):
    """A model (or a source naming one) that kd cannot import: the message
    names the layer and says why.  `kdsl import` prints it and exits 1."""

    def __init__(self, message: str, layer: str = None):
        super().__init__(f"layer `{layer}`: {message}" if layer else message)
        self.layer = layer
