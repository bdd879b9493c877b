"""The paths Keras gives a layer's weights (`variable.path`), relative to the
layer's own name: what keras.distribution.LayoutMap keys are matched against.

Most layers own their weights, so a weight's path is `LAYER/WEIGHT`
(`dense/kernel`).  Layers that keep their weights on sublayers add the
sublayers' names: a recurrent layer's cell (`lstm/lstm_cell/kernel`), the
projections of the attention layers (`mha/query/kernel`), and the layers
wrappers hold (`bidirectional/forward_lstm/lstm_cell/kernel`,
`time_distributed/dense/kernel`).  The rules' weights come in Keras's order
(tests/test_shape_rules.py holds them to it), so the sublayers can be told
apart by position.  tests/test_layouts.py compares every path with Keras's.
"""

from __future__ import annotations

from typing import Callable, Optional

from .base import LayerSpec

# The cell each recurrent layer keeps its weights on (Keras names it so).
RNN_CELLS = {
    "LSTM": "lstm_cell", "GRU": "gru_cell", "SimpleRNN": "simple_rnn_cell",
    "ConvLSTM1D": "conv_lstm_cell", "ConvLSTM2D": "conv_lstm_cell", "ConvLSTM3D": "conv_lstm_cell",
}
_ATTENTION = frozenset({"MultiHeadAttention", "GroupQueryAttention"})

InnerName = Callable[[LayerSpec], Optional[str]]  # the Keras name of a wrapped layer, or None


def relative_paths(spec: LayerSpec, weights, inner_name: InnerName) -> Optional[list]:
    """The path of each of WEIGHTS (a layer's, as its shape rule gives them)
    below the layer's name, or None where kdsl cannot tell them.  INNER_NAME
    gives the Keras name of a layer that SPEC wraps."""
    names = [w.name for w in weights]
    if spec.cls in RNN_CELLS:
        return [f"{RNN_CELLS[spec.cls]}/{name}" for name in names]
    if spec.cls in _ATTENTION:
        return _attention_paths(spec, names)
    if spec.cls == "Bidirectional":
        return _bidirectional_paths(spec, weights, inner_name)
    if spec.cls == "TimeDistributed":
        return _below(spec.args.get("layer"), weights, inner_name)
    if spec.cls == "SpectralNormalization":
        return _spectral_paths(spec, names, inner_name)
    return names


def _below(inner, weights, inner_name: InnerName) -> Optional[list]:
    """WEIGHTS of the wrapped layer INNER, under its own name."""
    name = inner_name(inner) if isinstance(inner, LayerSpec) else None
    paths = relative_paths(inner, weights, inner_name) if name is not None else None
    return None if paths is None else [f"{name}/{p}" for p in paths]


def _attention_paths(spec: LayerSpec, names: list) -> Optional[list]:
    """Each projection (an EinsumDense) has a kernel and, with use_bias, a bias."""
    projections = ["query", "key", *(["gate"] if spec.args.get("use_gate") else []), "value", "attention_output"]
    out, index = [], -1
    for name in names:
        index += name == "kernel"
        if index < 0 or index >= len(projections):
            return None
        out.append(f"{projections[index]}/{name}")
    return out if index == len(projections) - 1 else None


def _removeprefix(text: str, prefix: str) -> str:
    return text[len(prefix):] if text.startswith(prefix) else text


def _bidirectional_paths(spec: LayerSpec, weights, inner_name: InnerName) -> Optional[list]:
    """The forward copy is named `forward_INNER`; the backward one is the
    `backward_layer` given, or a copy named `backward_INNER` (Keras strips
    a `forward_`/`backward_` prefix INNER already has)."""
    inner, backward = spec.args.get("layer"), spec.args.get("backward_layer")
    name = inner_name(inner) if isinstance(inner, LayerSpec) else None
    if name is None or not weights:
        return None if name is None else []
    split = next((i for i in range(1, len(weights)) if weights[i].name == weights[0].name), None)
    if split is None:
        return None
    forward_name = f"forward_{_removeprefix(name, 'forward_')}"
    backward_name = inner_name(backward) if isinstance(backward, LayerSpec) else f"backward_{_removeprefix(name, 'backward_')}"
    halves = [(forward_name, inner, weights[:split]), (backward_name, backward or inner, weights[split:])]
    out = []
    for prefix, layer, part in halves:
        paths = relative_paths(layer, part, inner_name) if prefix is not None else None
        if paths is None:
            return None
        out += [f"{prefix}/{p}" for p in paths]
    return out


def _spectral_paths(spec: LayerSpec, names: list, inner_name: InnerName) -> Optional[list]:
    """The wrapper owns vector_u; the kernel and the rest stay on the layer."""
    inner = spec.args.get("layer")
    name = inner_name(inner) if isinstance(inner, LayerSpec) else None
    if name is None or inner.cls in RNN_CELLS or inner.cls in _ATTENTION:
        return None
    return [w if w == "vector_u" else f"{name}/{w}" for w in names]
