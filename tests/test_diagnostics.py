"""One broken program per diagnostic code: the code, the line and the wording.

`rejects(src, code, line, words)` checks a program's diagnostics the way a
user reads them.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dsl import codes
from dsl.compiler import check_text
from dsl.compiler import compile_text
from dsl.limits import Limits

INPUT = "x = Input(shape=(4,))"


def diagnostics(src: str, limits: Limits = Limits(), filename: str = "t.kd") -> list:
    return check_text(src, filename, None, None, limits).diagnostics


def rejects(src: str, code: str, line: int, words: str = "", limits: Limits = Limits()):
    """Assert SRC gives diagnostic CODE at LINE whose message (or hint) says WORDS."""
    found = diagnostics(src, limits)
    hits = [d for d in found if d.code == code and d.span.line == line]
    assert hits, f"no {code} at line {line}; got {[(d.code, d.span.line, d.message) for d in found]}"
    if words:
        assert any(words in d.message or words in (d.hint or "") for d in hits), [d.message for d in hits]
    return hits[0]


def model(*lines: str, params: str = "") -> str:
    """A model whose body is LINES (line 2 onward)."""
    head = f"model m{params} {{"
    return "\n".join([head, *("    " + x for x in lines), "}"])


def ok(src: str):
    errors = [d for d in diagnostics(src) if d.is_error]
    assert not errors, errors


# ----------------------------------------------------------------- KD1xx


def test_kd100_syntax():
    rejects("model m { x = = 1 }", "KD100", 1, "unexpected `=`")


def test_kd101_invalid_utf8(tmp_path):
    from dsl.cli import main

    bad = tmp_path / "bad.kd"
    bad.write_bytes(b"model m {\n x = \xff\n}")
    assert main(["check", str(bad)]) == 1


def test_kd101_message():
    from dsl.diagnostics import KdError
    from dsl.syntax.parser import decode_source

    with pytest.raises(KdError) as info:
        decode_source(b"model m {\n x = \xff\n}", "bad.kd")
    (d,) = info.value.diagnostics
    assert (d.code, d.span.line, d.span.col) == ("KD101", 2, 6)


def test_kd102_nesting():
    rejects("model m { x = " + "[" * 300 + "]" * 300 + " }", "KD102", 1, "nesting too deep")


def test_kd103_file_size():
    rejects(model(INPUT, "output x"), "KD103", 1, "file too large", Limits(max_file_bytes=10))


def test_kd104_literal():
    rejects('model m { x = "\\q" }', "KD104", 1, "invalid string literal")


# ----------------------------------------------------------------- KD2xx


def test_kd200_undefined_with_suggestion():
    d = rejects(model(INPUT, "y = Dense(3)(xx)", "output y"), "KD200", 3, "`xx` is not defined")
    assert d.hint == "did you mean `x`?"


def test_kd201_used_before_bound():
    rejects(model(INPUT, "y = Dense(2)(z)", "z = x", "output y"), "KD201", 3, "used before it is bound")


def test_kd202_duplicate_definition():
    rejects("block b(x) { return x }\nblock b(y) { return y }", "KD202", 2, "defined twice")


def test_kd203_recursion():
    rejects("block a(x) { return b(x) }\nblock b(x) { return a(x) }", "KD203", 1, "recursion")


def test_kd204_import_not_found():
    rejects('import "missing.kd"', "KD204", 1, "cannot import")


def test_kd205_import_cycle(tmp_path):
    (tmp_path / "a.kd").write_text('import "b.kd"\n')
    (tmp_path / "b.kd").write_text('import "a.kd"\n')
    path = tmp_path / "a.kd"
    found = check_text(path.read_text(), str(path), path).diagnostics
    assert [d.code for d in found] == ["KD205"] and "a.kd -> b.kd -> a.kd" in found[0].message


def test_kd206_output_in_block():
    rejects("block b(x) {\n    output x\n    return x\n}", "KD206", 2, "`output` cannot stand in a block")


def test_kd206_input_in_a_loop():
    rejects(model(INPUT, "for i in range(2) { y = Input(shape=(2,)) }", "output x"), "KD206", 3, "Input(...)")


def test_kd207_model_without_inputs():
    rejects("model m {\n    output y = Dense(3)(Dense(3))\n}", "KD207", 1, "has no inputs")


def test_kd208_two_compiles():
    rejects(model(INPUT, "output x", 'compile(loss="mse")', 'compile(loss="mae")'), "KD208", 5, "at most one")


def test_kd209_module_name():
    result = compile_text(model(INPUT, "output x"), "my-model.kd")
    (d,) = [d for d in result.diagnostics if d.code == "KD209"]
    assert "my-model" in d.message and not result.ok


def test_kd209_module_that_importing_keras_loads():
    for stem in ("numpy", "typing", "os"):
        result = compile_text(model(INPUT, "output x"), f"{stem}.kd")
        (d,) = [d for d in result.diagnostics if d.code == "KD209"]
        assert f"`{stem}.py` would shadow" in d.message and not result.ok


def test_kd907_module_name_shadowing_the_standard_library():
    result = compile_text(model(INPUT, "output y = x -> Dense(2)"), "turtle.kd")
    (d,) = [d for d in result.diagnostics if d.code == "KD907"]
    assert "turtle" in d.message and result.ok  # a warning: the module is written


def test_kd213_from_line_naming_the_standard_library():
    for module in ("os", "builtins", "__future__", "subprocess", "importlib.util"):
        src = f"from {module} import thing\n" + model(INPUT, "output x")
        rejects(src, "KD213", 1, "standard library")


def test_kd210_parameters():
    rejects("block b(x, x) { return x }", "KD210", 1, "listed twice")
    rejects("block b(x=1, y) { return x }", "KD210", 1, "without a default follows")
    rejects("model m(name=1) { }", "KD210", 1, "cannot be called `name`")


def test_kd211_block_arguments():
    src = "block b(x, k) { return x }\n" + model(INPUT, "y = b(x)", "output y")
    rejects(src, "KD211", 4, "needs a value for `k`")
    src = "block b(x, k=1) { return x }\n" + model(INPUT, "y = b(x, kk=2)", "output y")
    d = rejects(src, "KD211", 4, "has no parameter `kk`")
    assert d.hint == "did you mean `k`?"


def test_kd212_block_without_return():
    rejects("block b(x) { y = x }\n" + model(INPUT, "y = b(x)", "output y"), "KD212", 4, "without returning")


# ----------------------------------------------------------------- KD3xx


def test_kd300_unknown_layer_class():
    d = rejects(model(INPUT, "y = Dnse(3)(x)", "output y"), "KD300", 3, "not a Keras layer class")
    assert d.hint == "did you mean `Dense`?"


def test_kd300_lambda_is_not_in_kd():
    rejects(model(INPUT, "y = Lambda(3)(x)", "output y"), "KD300", 3, "not available in kd")


def test_kd301_unknown_keyword():
    d = rejects(model(INPUT, 'y = Dense(3, activaton="relu")(x)', "output y"), "KD301", 3, "no argument `activaton`")
    assert d.hint == "did you mean `activation`?"


def test_kd302_missing_argument():
    rejects(model(INPUT, "y = Dense()(x)", "output y"), "KD302", 3, "needs the argument `units`")


def test_kd303_bad_enumerated_value():
    src = model("x = Input(shape=(8, 8, 3))", 'y = Conv2D(4, 3, padding="vaild")(x)', "output y")
    d = rejects(src, "KD303", 3, 'cannot be "vaild"')
    assert "valid" in d.hint
    rejects(model(INPUT, 'y = Dense(3, activation="rleu")(x)', "output y"), "KD303", 3, "unknown activation")


def test_kd304_too_many_positional():
    rejects(model(INPUT, "y = Dropout(0.1, None, None, 4)(x)", "output y"), "KD304", 3, "positional arguments")


def test_kd305_unknown_initializer():
    rejects(model(INPUT, 'y = Dense(3, kernel_initializer="he_nrmal")(x)', "output y"), "KD305", 3, "he_nrmal")
    rejects(model(INPUT, "y = Dense(3, kernel_regularizer=L3(0.1))(x)", "output y"), "KD305", 3, "keras.regularizers")


def test_kd306_argument_twice():
    rejects(model(INPUT, "y = Dense(3, units=3)(x)", "output y"), "KD306", 3, "both by position and by keyword")


# ----------------------------------------------------------------- KD4xx


def test_kd400_applying_a_tensor():
    rejects(model(INPUT, "y = x(x)", "output y"), "KD400", 3, "cannot be called")


def test_kd400_a_layer_where_a_tensor_is_needed():
    rejects(model(INPUT, "y = add(x, Dense(3))", "output y"), "KD400", 3, "merges tensors")


def test_kd401_unknown_dimension_in_arithmetic():
    src = model("x = Input(shape=(None, 4))", "y = Dense(x.shape[1] * 2)(x)", "output y")
    d = rejects(src, "KD401", 3, "dimension 1 of `x` is unknown")
    assert "annotate `x`" in d.hint


def test_kd402_invalid_constant_operation():
    rejects(model(INPUT, 'k = "a" - 1', "y = Dense(k)(x)", "output y"), "KD402", 3, "cannot compute")


def test_kd403_unpacking():
    rejects(model(INPUT, "a, b = (1, 2, 3)", "y = Dense(a + b)(x)", "output y"), "KD403", 3, "expected 2 values")


def test_kd404_constant_too_large():
    rejects(model(INPUT, "k = 10 ** 10 ** 10", "y = Dense(k)(x)", "output y"), "KD404", 3, "too large")
    rejects(model(INPUT, 'k = "a" * 10 ** 9', "y = Dense(len(k))(x)", "output y"), "KD404", 3, "too large")


def test_kd405_loop_too_long():
    rejects(model(INPUT, "for i in range(10 ** 9) { x = x }", "output x"), "KD405", 3, "1,000,000,000 times")


def test_kd406_graph_too_large():
    src = model(INPUT, "for i in range(20) { x = Dense(4)(x) }", "output x")
    rejects(src, "KD406", 3, "more than 10 layer", Limits(max_layers=10))


def test_kd407_unknown_attribute():
    rejects(model(INPUT, "k = x.dtype", "output x"), "KD407", 3, "no attribute `dtype`")


# ----------------------------------------------------------------- KD5xx


def test_kd500_add_of_different_shapes():
    src = model(
        "a = Input(shape=(28, 28, 128))",
        "b = Input(shape=(56, 56, 64))",
        "y = add(a, b)",
        "output y",
    )
    d = rejects(src, "KD500", 4, "(None, 28, 28, 128)")
    assert "(None, 56, 56, 64)" in d.message and "1x1 convolution" in d.hint


def test_kd500_inception_with_valid_padding_fails_at_the_concatenate():
    src = "\n".join([
        "model inception {",
        "    x = Input(shape=(32, 32, 3))",
        '    a = Conv2D(128, 1, strides=2, activation="relu")(x)',
        '    b = x -> Conv2D(128, 1, activation="relu") -> Conv2D(128, 3, strides=2, activation="relu")',
        '    c = x -> AveragePooling2D(3, strides=2) -> Conv2D(128, 3, activation="relu")',
        '    d = x -> Conv2D(128, 1, activation="relu") -> Conv2D(128, 3, activation="relu")',
        '        -> Conv2D(128, 3, strides=2, activation="relu")',
        "    y = concatenate(a, b, c, d, axis=-1)",
        "    output y",
        "}",
    ])
    d = rejects(src, "KD500", 8)
    assert "16, 16" in d.message and "15, 15" in d.message, d.message
    assert 'padding="same"' in d.hint


def test_kd501_wrong_rank():
    rejects(model("x = Input(shape=(28, 28))", "y = Conv2D(8, 3)(x)", "output y"), "KD501", 3, "rank 4")


def test_kd502_empty_output():
    rejects(model("x = Input(shape=(3, 3, 1))", "y = Conv2D(8, 5)(x)", "output y"), "KD502", 3)


def test_kd503_annotation_mismatch():
    rejects(model(INPUT, "y: (None, 5) = Dense(3)(x)", "output y"), "KD503", 3, "not (None, 5)")


def test_kd504_embedding_fed_floats():
    rejects(model(INPUT, "y = Embedding(100, 8)(x)", "output y"), "KD504", 3, "float32")


def test_kd505_invalid_reshape():
    rejects(model(INPUT, "y = Reshape((5,))(x)", "output y"), "KD505", 3)


def test_kd506_shared_lstm_on_other_features():
    src = model(
        "a = Input(shape=(10, 128))",
        "b = Input(shape=(10, 64))",
        "lstm = LSTM(32)",
        "ya = lstm(a)",
        "yb = lstm(b)",
        "y = concatenate(ya, yb)",
        "output y",
    )
    d = rejects(src, "KD506", 6, "first call on (None, 10, 128)")
    assert d.related and d.related[0].span.line == 5


# ----------------------------------------------------------------- KD6xx


def test_kd507_too_large_to_build():
    rejects(model("x = Input(shape=(2**62, 2**62))", "output y = x -> Flatten() -> Dense(2)"), "KD507", 2,
            "more than any machine can hold")
    rejects(model(INPUT, "output y = x -> Dense(2**62) -> Dense(2**62)"), "KD507", 3, "weight `kernel`")


def test_kd600_duplicate_layer_names():
    src = model(INPUT, 'a = Dense(3, name="d")(x)', 'b = Dense(3, name="d")(a)', "output b")
    rejects(src, "KD600", 4, 'two layers are named "d"')


def test_kd601_duplicate_output_names():
    src = model(INPUT, "output a = Dense(1)(x)", 'b = Dense(1, name="a")(x)', "output b")
    rejects(src, "KD601", 5, 'two outputs are named "a"')


def test_kd602_unused_input():
    src = model(INPUT, "z = Input(shape=(2,))", "y = Dense(3)(x)", "output y")
    rejects(src, "KD602", 3, "does not reach any output")


def test_kd603_model_instances_not_named_apart():
    src = "model enc { x = Input(shape=(4,)); output y = Dense(2)(x) }\n" + model(
        INPUT, "a = enc()(x)", "b = enc()(x)", "y = concatenate(a, b)", "output y")
    rejects(src, "KD603", 5, 'two instances of `enc` are both named "enc"')


# ----------------------------------------------------------------- KD7xx


def test_kd700_unknown_loss():
    d = rejects(model(INPUT, "output x", 'compile(optimizer="adam", loss="mse_error")'), "KD700", 4, "unknown loss")
    rejects(model(INPUT, "output x", 'compile(optimizer="adamm")'), "KD700", 4, "unknown optimizer")
    rejects(model(INPUT, "output x", 'compile(loss="mse", metrics=["acuracy"])'), "KD700", 4, "unknown metric")
    rejects(model(INPUT, "output x", "compile(optimizer=Adamm())"), "KD700", 4, "keras.optimizers")


def test_kd701_loss_list_length():
    src = model(INPUT, "output a = Dense(1)(x)", "output b = Dense(1)(x)", 'compile(loss=["mse"])')
    rejects(src, "KD701", 5, "1 entries for 2 outputs")


def test_kd702_unknown_output_in_loss_dict():
    src = model(INPUT, "output age = Dense(1)(x)", "output income = Dense(1)(x)", 'compile(loss={agee: "mse"})')
    d = rejects(src, "KD702", 5, '"agee"')
    assert d.hint == "did you mean `age`?"


def test_kd703_compile_keyword_and_bindings():
    rejects(model(INPUT, "output x", 'compile(optimiser="adam")'), "KD703", 4, "no argument `optimiser`")
    rejects(model(INPUT, "k = 2", "output x", "compile(loss_weights=[k])"), "KD703", 5, "binding of the body")


# ----------------------------------------------------------------- KD8xx
# Layouts (tests/test_layouts.py holds the columns and the other cases).

MLP = [INPUT, 'h = Dense(8, name="hidden")(x)', 'output y = Dense(6, name="probabilities")(h)']
MESH = 'mesh={"batch": 2, "model": 4}'


def test_kd800_invalid_layout():
    rejects(model(*MLP, 'layout({"hidden/kernel": "model"}, ' + MESH + ")"), "KD800", 5, "received a string")
    rejects(model(*MLP, "layout(" + MESH + ")"), "KD800", 5, "one dict literal")


def test_kd801_invalid_layout_pattern():
    rejects(model(*MLP, 'layout({"hidden/(kernel": (None,)}, ' + MESH + ")"), "KD801", 5, "missing ), unterminated subpattern")
    rejects(model(*MLP, 'layout({"(a)\\\\1": (None,)}, ' + MESH + ")"), "KD801", 5, "backreference")


def test_kd802_unknown_mesh_axis():
    d = rejects(model(*MLP, 'layout({"hidden/kernel": (None, "modle")}, ' + MESH + ")"), "KD802", 5, "no axis `modle`")
    assert d.hint == "did you mean `model`?"


def test_kd803_layout_longer_than_the_weight():
    rejects(model(*MLP, 'layout({"hidden/.*": (None, "model")}, ' + MESH + ")"), "KD803", 5, "`hidden/bias` (8,)")


def test_kd804_indivisible_dimension():
    d = rejects(model(*MLP, 'layout({"probabilities/kernel": (None, "model")}, ' + MESH + ")"), "KD804", 5,
                "does not divide `probabilities/kernel` (8, 6) (dimension 1 is 6)")
    assert d.span.col == len('    layout({"probabilities/kernel": (None, ') + 1


def test_kd805_weight_matched_by_two_patterns():
    rejects(model(*MLP, 'layout({"hidden/.*": ("model",), ".*kernel": ("model",)}, ' + MESH + ")"), "KD805", 5,
            "`hidden/kernel` (4, 8) matches both")


# ---------------------------------------------------------------- warnings


def test_kd900_unused_binding():
    rejects(model(INPUT, "unused = Dense(3)(x)", "output x"), "KD900", 3, "never used")


def test_kd901_shared_instance_applied_once():
    rejects(model(INPUT, "d = Dense(3)", "y = d(x)", "output y"), "KD901", 3, "applied only once")


def test_kd902_layer_without_shape_rule():
    # Every class of keras.layers has a rule; an application with another
    # architecture than the recorded one has none.
    src = model("x = Input(shape=(96, 96, 3))", "y = MobileNetV2(alpha=0.5, include_top=False, weights=None)(x)", "output y")
    rejects(src, "KD902", 3, "default architecture only")


def test_kd903_imagenet_weights():
    src = model("x = Input(shape=(96, 96, 3))", "y = MobileNetV2(include_top=False)(x)", "output y")
    rejects(src, "KD903", 3, "downloads its weights")


def test_kd904_model_skipped():
    rejects("model m(n) {\n    x = Input(shape=(n,))\n    output x\n}", "KD904", 1, "was not checked")


def test_kd906_huge_model():
    d = rejects(model("x = Input(shape=(100000,))", "output y = x -> Dense(200000)"), "KD906", 1, "75 GiB")
    assert d.severity == "warning"


def test_kd906_counts_only_the_layers_keras_keeps():
    # The 75 GiB layer feeds nothing the output needs: Keras's Model drops it.
    found = diagnostics(model("x = Input(shape=(100000,))", "unused = x -> Dense(200000)", "output y = x -> Dense(2)"))
    assert "KD906" not in [d.code for d in found]
    result = check_text(model(INPUT, "a = Dense(8)(x)", "b = Dense(3)(a)", "c = add(a, Dense(8)(x))", "output c"), "t.kd")
    graph = result.graphs["m"]
    assert sorted(i.name for i in graph.reached_layers()) == sorted(i.name for i in graph.model_layers())
    assert len(graph.reached_layers()) == 3


def test_kd905_value_dropped():
    rejects(model(INPUT, "Dense(3)(x)", "output x"), "KD905", 3, "not used")


def test_kd908_layout_pattern_matches_nothing():
    d = rejects(model(*MLP, 'layout({"dense.*/kernel": (None, "model")}, ' + MESH + ")"), "KD908", 5, '"hidden/kernel"')
    assert d.severity == "warning"


# ------------------------------------------------ kd 1.1: ops, constants, indexing


def test_kd214_ops_is_reserved():
    rejects(model("ops = Input(shape=(4,))", "output ops"), "KD214", 2, "reserved for the functions of keras.ops")
    rejects("block ops(x) {\n    return x\n}", "KD214", 1, "cannot be named so")
    rejects("from my.layers import Ops as ops\n" + model(INPUT, "output x"), "KD214", 1, "cannot bind it")
    rejects(model(INPUT, "for ops in range(2) { x = Dense(3)(x) }", "output x"), "KD214", 3, "cannot be bound")


def test_kd307_unknown_op():
    d = rejects(model(INPUT, "y = ops.meen(x)", "output y"), "KD307", 3, "keras.ops has no function `meen`")
    assert d.hint == "did you mean `mean`?" and d.span.col == 13


def test_kd307_in_a_block_no_model_calls():
    rejects("block b(x) {\n    return ops.nothing(x)\n}\n" + model(INPUT, "output x"), "KD307", 2, "`nothing`")


def test_kd308_op_without_a_rule():
    d = rejects(model(INPUT, "y = ops.fft(x)", "output y"), "KD308", 3, "no rule for ops.fft")
    assert "complex numbers" in d.message


def test_kd408_layer_on_a_constant_tensor():
    src = model('t = Input(shape=(16,), dtype="int32")', "p = Embedding(16, 8)(ops.arange(16))",
                "output y = Embedding(100, 8)(t) + p")
    d = rejects(src, "KD408", 3, "its weights would not belong to the model")
    assert "positions = ops.zeros_like(tokens) + ops.arange(maxlen)" in d.hint


def test_kd408_constant_output():
    rejects(model(INPUT, "output c = ops.ones((4,)) + x[:, 0:1] * 0", "output d = ops.eye(4)"), "KD408", 4,
            "an output must be a tensor of the model")


def test_kd410_backward_slice_of_a_tensor():
    d = rejects(model(INPUT, "y = x[:, ::-1]", "output y"), "KD410", 3, "runs backwards")
    assert "ops.flip" in d.hint and (d.span.col, d.span.end_col) == (14, 18)  # the slice `::-1`
    constants = diagnostics(model("c = [1, 2, 3][::-1]", INPUT, "output y = x -> Dense(c[0])"))
    assert [x.code for x in constants] == []  # constants may run backwards: kd computes them


def test_kd409_batch_index():
    d = rejects(model(INPUT, "y = x[0]", "output y"), "KD409", 3, "picks one example of the batch")
    assert (d.span.col, d.span.end_col) == (9, 13)
    rejects(model(INPUT, "y = x[1:, ...]", "output y"), "KD409", 3, "may be sliced only with `:`")
    rejects(model(INPUT, "y = x[None, :]", "output y"), "KD409", 3, "new axis before the batch")


def test_kd403_index_out_of_range_on_a_tensor():
    d = rejects(model(INPUT, "y = x[:, 4]", "output y"), "KD403", 3, "index 4 is out of range for a dimension of size 4")
    assert (d.span.col, d.span.end_col) == (9, 16)


# ------------------------------------------------------------ completeness


def test_every_code_has_a_test_here():
    text = Path(__file__).read_text()
    tested = set(re.findall(r"KD\d{3}", text))
    assert set(codes.ALL) <= tested, sorted(set(codes.ALL) - tested)


def test_every_code_is_documented():
    doc = (Path(__file__).parent.parent / "docs" / "diagnostics.md").read_text()
    documented = set(re.findall(r"^## (KD\d{3})", doc, re.M))
    assert documented == set(codes.ALL), sorted(set(codes.ALL) ^ documented)


def test_clean_example_has_no_diagnostics():
    ok(model(INPUT, "y = Dense(3)(x)", "output y"))
