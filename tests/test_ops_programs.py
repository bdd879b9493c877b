"""kd 1.1 in whole programs: `ops.NAME(...)`, constant tensors and tensor
indexing, checked by kdsl, compiled, built by Keras and compared with
kdsl's layer table row for row (op rows and their automatic names
included, tests/keras_compare.py), then run on a batch.  And what kdsl
refuses, with Keras refusing it too or the reason kd refuses it.
"""

from __future__ import annotations

import pytest

keras = pytest.importorskip("keras")

from keras_compare import assert_same_model, compile_and_build, run_forward  # noqa: E402

from dsl.compiler import check_text  # noqa: E402


def model(*lines: str, params: str = "") -> str:
    return "\n".join([f"model m{params} {{", *("    " + x for x in lines), "}"]) + "\n"


def agree(source: str, tmp_path, name: str = "m"):
    """SOURCE compiles; Keras builds the module; the tables are equal; a batch runs."""
    result, module, built = compile_and_build(source, tmp_path, name)
    errors = [f"{d.span.line}:{d.span.col} {d.code} {d.message}" for d in result.diagnostics if d.is_error]
    assert built is not None, "\n".join(errors)
    assert_same_model(result.graphs[name], built)
    run_forward(built)
    return result.graphs[name], module


def errors(source: str) -> list:
    return [(d.code, d.span.line, d.message) for d in check_text(source, "t.kd").diagnostics if d.is_error]


PROGRAMS = {
    "positions and class token": model(
        'tokens = Input(shape=(16,), dtype="int32")',
        "positions = ops.zeros_like(tokens) + ops.arange(16)",
        "e = Embedding(100, 8)(tokens) + Embedding(16, 8)(positions)",
        "output y = concatenate(e[:, 0], ops.mean(e, axis=1), ops.abs(ops.max(e, axis=1)))",
    ),
    "attention written out": model(
        "x = Input(shape=(10, 8))",
        "q = Dense(8)(x)",
        "k = Dense(8)(x)",
        "v = Dense(8)(x)",
        "scores = ops.matmul(q, ops.transpose(k, (0, 2, 1))) / 8.0 ** 0.5",
        "weights = ops.softmax(scores, axis=-1)",
        "output y = ops.matmul(weights, v) + x",
    ),
    "subscripts": model(
        "x = Input(shape=(6, 5, 4))",
        "a = x[:, 0]",
        "b = x[..., :3]",
        "c = x[:, ::2]",
        "d = x[:, None]",
        "e = x[:, -1, 1:4, -2]",
        "f = x[..., None, 0][:, 1:3, ...]",
        "g = x[:, 1:-1, ::3]",
        "output a, b, c, d, e, f, g",
    ),
    "constants broadcast with model tensors": model(
        "x = Input(shape=(4, 8))",
        'i = Input(shape=(8,), dtype="int32")',
        "a = x + ops.arange(8)",
        "b = ops.ones((1, 8)) - x * ops.full((4, 1), 0.5)",
        "c = i * ops.arange(8) + ops.eye(8)[2]",
        "d = ops.linspace(0.0, 1.0, 8) / x",
        "e = ops.zeros((4, 8))[1:] + x[:, 1:, :]",
        "f = ops.arange(3) * 2 + 1",
        "g = ops.take(x, f, axis=2)",
        "output a, b, c, d, e, g",
    ),
    "reductions, casts and logic": model(
        "x = Input(shape=(5, 6))",
        "s = ops.sum(x, axis=1, keepdims=True) + ops.mean(x, axis=(1, 2))[:, None, None]",
        "i = ops.argmax(x, axis=-1)",
        "h = ops.one_hot(i, 6) * ops.std(x, axis=-1, keepdims=True)",
        'm = ops.cast(ops.greater(x, 0.5), "float32")',
        "w = ops.where(ops.logical_and(ops.greater(x, 0.0), ops.less(x, 1.0)), x, ops.zeros_like(x))",
        "c = ops.clip(x, 0, 6) + ops.relu6(x) + ops.hard_silu(x) + ops.leaky_relu(x, 0.1)",
        "l = ops.logsumexp(x, axis=-1) + ops.var(x, axis=-1) + ops.prod(x, axis=-1) + ops.min(x, axis=-1)",
        "output s, h, m, w, c, l",
    ),
    "shape ops": model(
        "x = Input(shape=(4, 6))",
        "a, b = ops.split(x, 2, axis=-1)",
        "r = ops.reshape(x, (-1, 2, 12))",
        "t = ops.tile(ops.expand_dims(a, 1), (1, 2, 1, 1))",
        "q = ops.squeeze(ops.expand_dims(b, -1), -1)",
        "p = ops.pad(x, ((0, 0), (1, 1), (0, 2)))",
        "z = ops.concatenate([a, b, ops.flip(a, axis=1), ops.roll(b, 1, axis=1)], axis=-1)",
        "k = ops.stack([a, b], axis=1) + ops.broadcast_to(ops.arange(3.0), (2, 4, 3))",
        "w = ops.repeat(x, 2, axis=1)",
        "output r, t, q, p, z, k, w",
    ),
    "linear algebra": model(
        "x = Input(shape=(3, 4))",
        "y = Input(shape=(4, 5))",
        'e = ops.einsum("bij,bjk->bik", x, y)',
        "t = ops.tensordot(x, ops.ones((4, 2)), axes=1)",
        "d = ops.dot(x, ops.eye(4))",
        "n = ops.norm(x, axis=-1)",
        "output e, t, d, n",
    ),
    "names counted as keras counts them": model(
        "x = Input(shape=(4,))",
        "y = Input(shape=(4,))",
        "c = ops.pad(ops.ones((2, 2)), ((1, 1), (1, 1)))",  # eager, and it takes the name `pad`
        "p = ops.pad(x, ((0, 0), (0, 4)))",
        "s = add(x, y) + ops.add(x, y) + x",
        "m = ops.mean(ops.abs(x) + abs(1), axis=-1, keepdims=True)",
        "output p, s",
        "output n = m + c[0, 0] + ops.mean(y, axis=1, keepdims=True)",
    ),
}


@pytest.mark.parametrize("name", PROGRAMS)
def test_programs_agree_with_keras(name, tmp_path):
    agree(PROGRAMS[name], tmp_path)


def test_op_names_follow_keras(tmp_path):
    graph, _ = agree(PROGRAMS["names counted as keras counts them"], tmp_path)
    names = [i.name for i in graph.instances]
    assert "pad_1" in names and "pad" not in names  # the eager ops.pad took `pad`
    assert {"add", "add_1", "add_2"} <= set(names)  # the layer and the ops share a counter
    assert "absolute" in names  # ops.abs builds an Absolute


def test_blocks_and_loops_with_ops(tmp_path):
    source = """\
## Scaled dot-product self-attention written with ops.
block attend(x, d) {
    q = Dense(d)(x)
    k = Dense(d)(x)
    scores = ops.softmax(ops.matmul(q, ops.transpose(k, (0, 2, 1))) / float(d) ** 0.5, axis=-1)
    return ops.matmul(scores, Dense(d)(x))
}

model m(depth=2, d=8) {
    x = Input(shape=(12, d))
    for i in range(depth) {
        x = LayerNormalization()(x + attend(x, d))
    }
    output cls = x[:, 0] -> Dense(3, activation="softmax")
    compile(optimizer="adam", loss="categorical_crossentropy")
}
"""
    graph, module = agree(source, tmp_path)
    assert sum(i.cls == "Softmax" for i in graph.instances) == 2


def test_subscripts_inside_hoisted_expressions_keep_keras_names(tmp_path):
    # The chain is computed before the statement; the subscripts before it in
    # kd's order must be computed before it too, or `get_item` and
    # `get_item_1` would change places.
    source = model(
        "x = Input(shape=(6, 4))",
        "y = x[:, 0] + (x[:, 1:3, ...] -> Dense(4) -> Dense(4))[:, 0] + x[:, -1]",
        "output y",
    )
    graph, _ = agree(source, tmp_path)
    rows = {i.name: i for i in graph.instances}
    assert rows["get_item"].calls[0].outputs.shape == (None, 4)
    assert rows["get_item_1"].calls[0].outputs.shape == (None, 2, 4)


def test_generated_code_is_keras_ops_and_python_subscripts(tmp_path):
    from dsl.compiler import compile_text

    text = compile_text(PROGRAMS["subscripts"], "m.kd").text
    assert "f = x[..., None, 0][:, 1:3, ...]" in text
    assert "e = x[:, -1, 1:4, -2]" in text
    text = compile_text(PROGRAMS["attention written out"], "m.kd").text
    assert "keras.ops.softmax(scores, axis=-1)" in text and "import keras\n" in text
    assert "from keras import ops" not in text


# ------------------------------------------------------------ refusals


def _keras_fails(build) -> bool:
    try:
        build()
    except Exception:  # noqa: BLE001 - any failure counts
        return True
    return False


def test_layer_on_a_constant_loses_its_weights_in_keras():
    """Why KD408 exists: the weights of an Embedding applied to ops.arange
    are not the model's."""
    keras.backend.clear_session(free_memory=False)
    tokens = keras.Input(shape=(16,), dtype="int32")
    e = keras.layers.Embedding(100, 8)(tokens) + keras.layers.Embedding(16, 8)(keras.ops.arange(16))
    assert keras.Model(tokens, e).count_params() == 800  # 128 weights left out
    found = errors(model('tokens = Input(shape=(16,), dtype="int32")',
                         "output e = Embedding(100, 8)(tokens) + Embedding(16, 8)(ops.arange(16))"))
    assert [c for c, _, _ in found] == ["KD408"]


def test_a_layer_on_a_constant_and_a_model_tensor_is_refused():
    """Keras takes the constant's first dimension for the batch: (16, 16, 8), not (None, 16, 8)."""
    keras.backend.clear_session(free_memory=False)
    x = keras.Input(shape=(16, 8))
    assert tuple(keras.layers.add([x, keras.ops.ones((16, 8))]).shape) == (16, 16, 8)
    found = errors(model("x = Input(shape=(16, 8))", "output y = add(x, ops.ones((16, 8)))"))
    assert [(c, "no batch dimension" in m) for c, _, m in found] == [("KD408", True)]
    assert errors(model("x = Input(shape=(16, 8))", "output y = x + ops.ones((16, 8))")) == []


@pytest.mark.parametrize("index, code", [
    ("0", "KD409"), ("1:", "KD409"), ("::2, 0", "KD409"), ("None, ...", "KD409"), ("-1, :", "KD409"),
    (":, 4", "KD403"), (":, -5", "KD403"), (":, 0, 0, 0", "KD403"), (":", "KD403"), ("..., ..., 0", "KD403"),
    ("[0, 1]", "KD400"), (":, True", "KD400"), (":, 1.5", "KD400"),
])
def test_bad_indexes_are_refused_at_the_expression(index, code):
    found = errors(model("x = Input(shape=(4, 3))", f"y = x[{index}]", "output y"))
    assert [(c, line) for c, line, _ in found] == [(code, 3)], found


@pytest.mark.parametrize("index", [":, 4", ":, -5", ":, 0, 0, 0", ":", "..., ..., 0"])
def test_keras_refuses_what_kd403_refuses(index):
    keras.backend.clear_session(free_memory=False)
    x = keras.Input(shape=(4, 3))
    assert _keras_fails(lambda: eval(f"x[{index}]"))


def test_an_index_on_an_unknown_dimension_is_accepted():
    assert errors(model("x = Input(shape=(None, 3))", "output y = x[:, 7]")) == []


@pytest.mark.parametrize("expr, code", [
    ("ops.arange(4) * 0.5", "KD504"),  # TensorFlow cannot convert 0.5 to int32
    ("ops.arange(4) / 2", "KD504"),  # float64 on TensorFlow, float32 elsewhere
    ("ops.ones((4,)) + ops.arange(4)", "KD504"),
    ('ops.arange(4, dtype="int8") + 300', "KD504"),
    ('-ops.arange(4, dtype="uint16")', "KD504"),
    ("ops.ones((4,)) + ops.ones((3,))", "KD500"),
])
def test_constant_arithmetic_the_backends_disagree_on_is_refused(expr, code):
    found = errors(model("x = Input(shape=(4,))", f"c = {expr}", "output y = x + c"))
    assert [c for c, _, _ in found] == [code], found


@pytest.mark.parametrize("expr", ["ops.arange(4) * 0.5", "ops.ones((4,)) + ops.arange(4)", "ops.ones((4,)) + ops.ones((3,))"])
def test_tensorflow_refuses_that_constant_arithmetic(expr):
    from keras import ops  # noqa: F401  (the expression uses it)

    assert _keras_fails(lambda: eval(expr))


def test_constant_arithmetic_types():
    from dsl.check.tensor_ops import constant_arithmetic
    from dsl.check.values import Tensor
    from dsl.shapes.base import TensorType
    from dsl.syntax.tree import NO_SPAN

    ints = Tensor(TensorType((4,), "int32"), constant=True)
    halves = Tensor(TensorType((3, 1), "float16"), constant=True)
    assert constant_arithmetic("*", ints, 2, NO_SPAN).type == TensorType((4,), "int32")
    assert constant_arithmetic("+", halves, 2.5, NO_SPAN).type == TensorType((3, 1), "float16")
    assert constant_arithmetic("neg", halves, None, NO_SPAN).type == TensorType((3, 1), "float16")
    out = constant_arithmetic("-", Tensor(TensorType((2, 1, 4), "float32"), constant=True),
                              Tensor(TensorType((3, 1), "float32"), constant=True), NO_SPAN)
    assert out.type == TensorType((2, 3, 4), "float32") and out.constant


def test_ops_errors_name_the_op():
    found = errors(model("x = Input(shape=(4, 3))", "y = ops.transpose(x, (0, 1))", "output y"))
    assert [c for c, _, _ in found] == ["KD505"] and "ops.transpose" in found[0][2]
    found = errors(model("x = Input(shape=(4, 3))", "y = ops.mean(x, axis=3)", "output y"))
    assert [c for c, _, _ in found] == ["KD505"] and "ops.mean: axis 3 is out of bounds" in found[0][2]
    found = errors(model("x = Input(shape=(4, 3))", "y = ops.sqrt(8.0) + x", "output y"))
    assert [c for c, _, _ in found] == ["KD400"] and "must be a tensor" in found[0][2]
    found = errors(model("x = Input(shape=(4, 3))", "y = ops.matmul(x, x)", "output y"))
    assert found and found[0][0] == "KD500"
    found = errors(model("x = Input(shape=(4, 3))", "y = ops.mean(x, axis=1, keepdim=True)", "output y"))
    assert [c for c, _, _ in found] == ["KD301"]
    found = errors(model("x = Input(shape=(4, 3))", "y = ops.mean(Dense(3), axis=1)", "output y"))
    assert [c for c, _, _ in found] == ["KD400"]
    found = errors(model("x = Input(shape=(None, 3))", "y = ops.reshape(x, (-1, x.shape[1] * 3))", "output y"))
    assert [c for c, _, _ in found] == ["KD401"]


def test_tensors_are_compared_with_ops():
    found = check_text(model("x = Input(shape=(4,))", "output y = x > 0.5"), "t.kd").diagnostics
    assert [(d.code, "ops.greater" in d.hint) for d in found if d.is_error] == [("KD400", True)]


def test_ops_is_a_namespace_not_a_value():
    found = errors(model("x = Input(shape=(4,))", "f = ops.mean", "output y = x"))
    assert [c for c, _, _ in found] == ["KD400"] and "the op `ops.mean`" in found[0][2]
    found = errors(model("x = Input(shape=(4,))", "output y = x -> ops.relu"))
    assert [c for c, _, _ in found] == ["KD400"]
    found = errors(model("x = Input(shape=(4,))", "output y = ops(x)"))
    assert [c for c, _, _ in found] == ["KD400"]


def test_layer_on_a_constant_in_a_chain_and_a_model():
    found = errors("model inner {\n    a = Input(shape=(4,))\n    output b = Dense(2)(a)\n}\n" + model(
        "x = Input(shape=(4,))", "enc = inner()", "c = ops.ones((2, 4)) -> Dense(3)", "d = enc(ops.ones((2, 4)))",
        "output y = x"))
    assert [c for c, _, _ in found] == ["KD408", "KD408"]


def test_the_ops_golden_builds_as_checked(tmp_path):
    """tests/golden/ops.kd (its module is pinned by test_golden.py) equals the model Keras builds from it."""
    from pathlib import Path

    source = (Path(__file__).parent / "golden" / "ops.kd").read_text()
    graph, _ = agree(source, tmp_path, "ops_and_indexing")
    assert [o.name for o in graph.outputs] == ["joined", "head", "wide", "single", "mixed", "scaled"]


def test_every_op_of_the_catalog_is_ruled_or_refused_by_name():
    """An op without a rule is an error naming it and why (KD308); an op
    with one is never refused by name."""
    from dsl import ops_catalog
    from dsl.shapes.op_rules import REFUSALS, ruled_ops

    cat = ops_catalog.load()
    for name in cat.op_names():
        found = errors(model("x = Input(shape=(4,))", f"y = ops.{name}(x)", "output y"))
        by_name = [(c, m) for c, _, m in found if c in ("KD307", "KD308")]
        if name in REFUSALS:
            assert by_name == [("KD308", f"no rule for ops.{name}: {REFUSALS[name]}")], name
        else:
            assert name in ruled_ops() and by_name == [], (name, found)


def test_arithmetic_of_model_tensors_of_different_ranks_builds_but_cannot_run(tmp_path):
    """Keras broadcasts (None, 3, 2) * (None, 2) symbolically, aligning the
    second's batch with the first's dimension 1; the first batch of 2 then
    fails.  kdsl refuses it, and `y[:, None]` is what was meant."""
    keras.backend.clear_session(free_memory=False)
    x, y = keras.Input(shape=(3, 2)), keras.Input(shape=(2,))
    built = keras.Model([x, y], x * y)
    with pytest.raises(Exception):
        run_forward(built)
    lines = ("x = Input(shape=(3, 2))", "y = Input(shape=(2,))")
    for expr in ("x * y", "y - x", "ops.maximum(x, y)", "ops.where(ops.greater(x, 0.0), x, y)"):
        found = check_text(model(*lines, f"output z = {expr}"), "t.kd").diagnostics
        assert [(d.code, d.hint) for d in found if d.is_error] == [("KD500", "give the second the missing axes: "
                                                                     "`y[:, None]` is (None, 1, 2)")], expr
    agree(model(*lines, "output z = x * y[:, None]", "output w = add(x, y)"), tmp_path)


def test_a_default_cannot_be_a_tensor():
    source = "block b(x, p=ops.arange(4)) {\n    return x + p\n}\n" + model("x = Input(shape=(4,))", "output y = b(x)")
    found = errors(source)
    assert [(c, line) for c, line, _ in found] == [("KD400", 1)] and "a default is a constant" in found[0][2]
