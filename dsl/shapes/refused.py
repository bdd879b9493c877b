"""Keras layer classes kd does not offer, each with the reason and what to
use instead.  A leaf table: the checker refuses these with KD300."""

from __future__ import annotations

# Keras classes kd does not offer, and what to use instead.
REFUSED = {
    "Lambda": "Lambda layers run Python code and are not in kd version 1; write a custom layer and import it with `from`",
    "Layer": "the base class cannot be used as a layer; import a custom layer with `from`",
    "InputLayer": "declare inputs with `x = Input(shape=...)`",
    "RNN": "use LSTM, GRU or SimpleRNN (cells are not in kd version 1)",
    "StackedRNNCells": "use LSTM, GRU or SimpleRNN (cells are not in kd version 1)",
    "LSTMCell": "use LSTM (cells are not in kd version 1)",
    "GRUCell": "use GRU (cells are not in kd version 1)",
    "SimpleRNNCell": "use SimpleRNN (cells are not in kd version 1)",
    "Wrapper": "use Bidirectional or TimeDistributed",
    "TFSMLayer": "saved-model layers load files at build time; import a custom layer with `from`",
    "JaxLayer": "framework wrappers are not in kd version 1",
    "FlaxLayer": "framework wrappers are not in kd version 1",
    "TorchModuleWrapper": "framework wrappers are not in kd version 1",
    "Pipeline": "write the layers as a chain: x -> A() -> B()",
}
