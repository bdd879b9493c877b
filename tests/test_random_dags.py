"""Differential testing on random graphs: hypothesis writes random kd models
(convolutions, pooling, merges, recurrent layers, shared layers, blocks),
kdsl checks them, Keras builds the generated code, and every layer's output
shapes and weights must agree.  A model kdsl rejects must fail in Keras too.
"""

from __future__ import annotations

import math
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

keras = pytest.importorskip("keras")

from dsl.check import check_program  # noqa: E402
from dsl.compiler import generate  # noqa: E402
from dsl.check.graph import InputSpec, keras_order  # noqa: E402
from dsl.semantics.program import load_program  # noqa: E402
from dsl.summary import instance_counts  # noqa: E402
from support import load_module  # noqa: E402

BLOCKS = """\
block unit(x, filters) {
    return x -> Conv2D(filters, 3, padding="same") -> BatchNormalization() -> ReLU()
}

block seq_unit(x, units) {
    return x -> Conv1D(units, 3, padding="same", activation="relu") -> LayerNormalization()
}
"""


class _Plan:
    """Builds one random model's source while tracking shapes (so most
    generated graphs are valid); the truth about shapes comes from Keras."""

    def __init__(self, draw, kind: str):
        self.draw, self.kind = draw, kind
        self.lines: list = []
        self.shapes: dict = {}  # name -> shape without batch
        self.counter = 0

    def new(self, shape) -> str:
        self.counter += 1
        name = f"t{self.counter}"
        self.shapes[name] = tuple(shape)
        return name

    def pick(self, rank=None) -> str:
        names = [n for n, s in self.shapes.items() if rank is None or len(s) == rank]
        return self.draw(st.sampled_from(names))

    def used(self) -> set:
        """Tensors some statement reads."""
        return {name for line in self.lines for name in re.findall(r"\bt\d+\b", line.split("=", 1)[1])}

    def emit(self, target: str, expr: str) -> None:
        self.lines.append(f"    {target} = {expr}")


def _conv_len(size, kernel, stride, padding, dilation=1):
    if padding == "same":
        return math.ceil(size / stride)
    return (size - dilation * (kernel - 1) - 1) // stride + 1


def _image_step(plan: _Plan, draw) -> None:
    op = draw(st.sampled_from(["conv", "conv", "pool", "unit", "bn", "merge", "shared", "depthwise", "upsample"]))
    src = plan.pick(3)
    h, w, c = plan.shapes[src]
    if op == "conv":
        filters = draw(st.sampled_from([4, 8, 16]))
        kernel = draw(st.integers(1, 3))
        stride = draw(st.sampled_from([1, 1, 2]))
        padding = draw(st.sampled_from(["same", "valid"]))
        dilation = draw(st.sampled_from([1, 2])) if stride == 1 else 1
        out = (_conv_len(h, kernel, stride, padding, dilation), _conv_len(w, kernel, stride, padding, dilation), filters)
        if min(out[:2]) < 1:
            return
        args = f"{filters}, {kernel}, strides={stride}, padding=\"{padding}\", dilation_rate={dilation}"
        plan.emit(plan.new(out), f"Conv2D({args}, activation=\"relu\")({src})")
    elif op == "depthwise":
        stride = draw(st.sampled_from([1, 2]))
        out = (_conv_len(h, 3, stride, "same"), _conv_len(w, 3, stride, "same"), c * 2)
        plan.emit(plan.new(out), f"{src} -> DepthwiseConv2D(3, strides={stride}, depth_multiplier=2, padding=\"same\")")
    elif op == "pool":
        layer = draw(st.sampled_from(["MaxPooling2D", "AveragePooling2D"]))
        pool = draw(st.integers(2, 3))
        padding = draw(st.sampled_from(["same", "valid"]))
        out = (_conv_len(h, pool, pool, padding), _conv_len(w, pool, pool, padding), c)
        if min(out[:2]) < 1:
            return
        plan.emit(plan.new(out), f"{layer}({pool}, padding=\"{padding}\")({src})")
    elif op == "upsample":
        plan.emit(plan.new((h * 2, w * 2, c)), f"UpSampling2D(2)({src})")
    elif op == "unit":
        filters = draw(st.sampled_from([4, 8]))
        plan.emit(plan.new((h, w, filters)), f"{src} -> unit({filters})")
    elif op == "bn":
        plan.emit(plan.new((h, w, c)), f"{src} -> BatchNormalization() -> Activation(\"relu\")")
    elif op == "merge":
        other = plan.pick(3)
        oh, ow, oc = plan.shapes[other]
        if (oh, ow) != (h, w):
            return
        if oc == c and draw(st.booleans()):
            plan.emit(plan.new((h, w, c)), f"{draw(st.sampled_from(['add', 'multiply', 'average', 'maximum']))}({src}, {other})")
        else:
            plan.emit(plan.new((h, w, c + oc)), f"concatenate({src}, {other}, axis=-1)")
    elif op == "shared":
        other = plan.pick(3)
        if plan.shapes[other][2] != c:
            return
        filters = draw(st.sampled_from([4, 8]))
        layer = f"s{plan.counter}"
        plan.lines.append(f"    {layer} = Conv2D({filters}, 1)")
        oh, ow, _ = plan.shapes[other]
        a = plan.new((h, w, filters))
        plan.emit(a, f"{layer}({src})")
        plan.emit(plan.new((oh, ow, filters)), f"{layer}({other})")


def _sequence_step(plan: _Plan, draw) -> None:
    op = draw(st.sampled_from(["rnn", "conv1d", "seq_unit", "merge", "shared", "bidirectional", "pool1d", "attention"]))
    src = plan.pick(2)
    steps, feat = plan.shapes[src]
    if op == "rnn":
        layer = draw(st.sampled_from(["LSTM", "GRU", "SimpleRNN"]))
        units = draw(st.sampled_from([4, 8]))
        plan.emit(plan.new((steps, units)), f"{layer}({units}, return_sequences=True)({src})")
    elif op == "bidirectional":
        units = draw(st.sampled_from([4, 6]))
        mode = draw(st.sampled_from(["concat", "sum"]))
        out = units * 2 if mode == "concat" else units
        plan.emit(plan.new((steps, out)), f"Bidirectional(GRU({units}, return_sequences=True), merge_mode=\"{mode}\")({src})")
    elif op == "conv1d":
        filters = draw(st.sampled_from([4, 8]))
        kernel = draw(st.integers(1, 4))
        padding = draw(st.sampled_from(["same", "valid", "causal"]))
        out_steps = _conv_len(steps, kernel, 1, "same" if padding == "causal" else padding)
        if out_steps < 1:
            return
        plan.emit(plan.new((out_steps, filters)), f"Conv1D({filters}, {kernel}, padding=\"{padding}\")({src})")
    elif op == "pool1d":
        out = _conv_len(steps, 2, 2, "valid")
        if out < 1:
            return
        plan.emit(plan.new((out, feat)), f"MaxPooling1D(2)({src})")
    elif op == "seq_unit":
        units = draw(st.sampled_from([4, 8]))
        plan.emit(plan.new((steps, units)), f"{src} -> seq_unit({units})")
    elif op == "attention":
        other = plan.pick(2)
        heads = draw(st.integers(1, 2))
        plan.emit(plan.new((steps, feat)), f"MultiHeadAttention(num_heads={heads}, key_dim=4)({src}, {other})")
    elif op == "merge":
        other = plan.pick(2)
        if plan.shapes[other][0] != steps:
            return
        plan.emit(plan.new((steps, feat + plan.shapes[other][1])), f"concatenate({src}, {other})")
    elif op == "shared":
        other = plan.pick(2)
        if plan.shapes[other][1] != feat:
            return
        layer = f"s{plan.counter}"
        plan.lines.append(f"    {layer} = Dense(5)")
        a = plan.new((steps, 5))
        plan.emit(a, f"{layer}({src})")
        plan.emit(plan.new((plan.shapes[other][0], 5)), f"{layer}({other})")


@st.composite
def programs(draw):
    """The source of one random valid-looking kd model named `random_dag`."""
    kind = draw(st.sampled_from(["image", "sequence"]))
    plan = _Plan(draw, kind)
    inputs = []
    for i in range(draw(st.integers(1, 2))):
        if kind == "image":
            size = draw(st.integers(5, 12))
            shape = (size, size if i == 0 else draw(st.integers(5, 12)), draw(st.sampled_from([1, 3])))
        else:
            shape = (draw(st.integers(3, 8)), draw(st.sampled_from([2, 4])))
        name = plan.new(shape)
        plan.emit(name, f"Input(shape={shape})")
        inputs.append(name)
    step = _image_step if kind == "image" else _sequence_step
    for _ in range(draw(st.integers(2, 7))):
        step(plan, draw)
    pool = "GlobalAveragePooling2D()" if kind == "image" else "GlobalMaxPooling1D()"
    # Every tensor nothing reads becomes an output, so no input is left
    # unconnected (kdsl rejects that, KD602) and no binding is unused.
    unread = sorted(set(plan.shapes) - plan.used(), key=lambda n: int(n[1:]))
    for i, name in enumerate(unread):
        plan.lines.append(f"    output head{i} = {name} -> {pool} -> Dense(3)")
    return BLOCKS + "\nmodel random_dag {\n" + "\n".join(plan.lines) + "\n}\n"


def _compare(graph, model) -> None:
    """Every layer: name, class, weights, and each call's output shapes."""
    layers = {layer.name: layer for layer in model.layers}
    ops = [op for op in keras_order(graph) if isinstance(op, InputSpec) or op.kind != "op"]
    assert [op.name for op in ops] == [layer.name for layer in model.layers]
    for op in ops:
        layer = layers[op.name]
        if isinstance(op, InputSpec):
            assert tuple(layer.output.shape) == op.tensor.shape
            continue
        assert type(layer).__name__ == op.cls
        assert [tuple(w.shape) for w in layer.weights] == [tuple(w.shape) for w in op.weights], op.name
        assert instance_counts(op).total == layer.count_params()
        for call, node in zip(op.calls, layer._inbound_nodes):
            outs = call.outputs if isinstance(call.outputs, (list, tuple)) else [call.outputs]
            assert [t.shape for t in outs] == [tuple(t.shape) for t in node.output_tensors], op.name


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
          derandomize=True)
@given(source=programs())
def test_random_dags_agree_with_keras(source, tmp_path_factory):
    program = load_program(source, "random_dag.kd")
    result = check_program(program)
    errors = [d for d in result.diagnostics if d.is_error]
    path = tmp_path_factory.mktemp("dag") / "random_dag.py"
    path.write_text(generate(program, "random_dag.kd"))
    module = load_module(path)
    keras.backend.clear_session(free_memory=False)  # names restart; no slow gc pass
    if errors:
        # kdsl rejected it: Keras must not build it either.
        with pytest.raises(Exception):
            module.build_random_dag()
        return
    model = module.build_random_dag()
    _compare(result.graphs["random_dag"], model)
