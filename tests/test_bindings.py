"""A layer's arguments are bound and checked once per distinct set of
constant values (`Evaluator.bindings`, check/instances.construct): what is
reused must be exactly what binding again would give."""

from __future__ import annotations

from dsl import catalog as kcat
from dsl import codes
from dsl.check.arguments import _ATOMS, base_kwargs
from dsl.compiler import check_text


def _check(*lines: str):
    text = "\n".join(["model m {", "    x = Input(shape=(4,))", *("    " + x for x in lines), "}"])
    return check_text(text, "t.kd")


def _errors(result) -> list:
    return [(d.code, d.span.line) for d in result.diagnostics if d.is_error]


def test_equal_values_of_other_types_are_bound_again():
    # 1 == True == 1.0, but only the int is a number of units.
    for first, second in (("1", "True"), ("True", "1"), ("1", "1.0")):
        result = _check(f"y = Dense({first})(x)", f"z = Dense({second})(y)", "output z")
        wrong = 4 if first == "1" else 3
        assert _errors(result) == [(codes.INVALID_ARGUMENT, wrong)], (first, second, result.diagnostics)


def test_a_reused_binding_keeps_each_value_as_written():
    result = _check("a = Dropout(0.0)(x)", "b = Dropout(-0.0)(a)", "c = Dropout(0.0)(b)", "output c")
    assert not _errors(result)
    rates = [repr(inst.args["rate"]) for inst in result.graphs["m"].instances if inst.cls == "Dropout"]
    assert rates == ["0.0", "-0.0", "0.0"]


def test_instances_built_alike_have_their_own_arguments_and_names():
    result = _check("a = Dense(8)(x)", "b = Dense(8)(a)", 'c = Dense(8, name="last")(b)', "d = Dense(8)(c)", "output d")
    assert not _errors(result)
    dense = [inst for inst in result.graphs["m"].instances if inst.cls == "Dense"]
    assert [inst.name for inst in dense] == ["dense", "dense_1", "last", "d"]  # an output's layer takes its kd name
    assert len({id(inst.args) for inst in dense}) == 4
    assert dense[0].args == dense[1].args and dense[0].args["units"] == 8
    dense[0].args["units"] = 9  # one instance's arguments are not another's
    assert dense[1].args["units"] == 8


def test_a_refused_value_is_refused_every_time():
    result = _check("a = Dense(0)(x)", "b = Dense(0)(a)", "output b")
    assert [line for _, line in _errors(result)].count(3) == 1  # the second is not reached: `a` failed


def _immutable(value) -> bool:
    if type(value) in _ATOMS or isinstance(value, kcat.Opaque):
        return True
    return type(value) is tuple and all(_immutable(v) for v in value)


def test_every_default_a_binding_shares_is_immutable():
    # Instances built alike share the values of their bound arguments.
    cat = kcat.load()
    defaults = [(name, p.name, p.default) for name in cat.layer_names() for p in cat.layer(name).signature.params]
    defaults += [("**kwargs", key, value) for key, value in base_kwargs().items()]
    assert len(defaults) > 1000
    mutable = [(cls, key, value) for cls, key, value in defaults if not _immutable(value)]
    assert not mutable


# ------------------------------------------------ shape rules' results (Evaluator.shape_results)

def test_a_reused_rule_result_is_that_of_the_same_input_types():
    result = _check("a = Dense(8)(x)", "b = Dense(8)(a)", "c = Dense(8)(b)", "output c")
    assert not _errors(result)
    dense = [inst for inst in result.graphs["m"].instances if inst.cls == "Dense"]
    assert [[tuple(w.shape) for w in inst.weights] for inst in dense] == [[(4, 8), (8,)], [(8, 8), (8,)], [(8, 8), (8,)]]
    outputs = [inst.calls[0].outputs for inst in dense]
    assert [t.type.shape for t in outputs] == [(None, 8)] * 3
    assert len({id(t) for t in outputs}) == 3  # each call's own tensor


def test_a_shared_layer_is_still_checked_on_each_call():
    # `d(y)` meets the result kept for `e(y)`: the sharing check must still see it.
    result = _check("y = Input(shape=(6,))", "e = Dense(8)(y)", "d = Dense(8)", "a = d(x)", "c = d(y)", "output c")
    assert (codes.SHARED_WEIGHTS_MISFIT, 7) in _errors(result), result.diagnostics


def test_the_trainable_argument_reaches_the_rule_every_time():
    result = _check("a = Dense(8, trainable=False)(x)", "b = Dense(8)(a)", "c = Dense(8, trainable=False)(b)", "output c")
    dense = [inst for inst in result.graphs["m"].instances if inst.cls == "Dense"]
    assert [[w.trainable for w in inst.weights] for inst in dense] == [[False, False], [True, True], [False, False]]


def test_layers_told_apart_by_name_alone_share_a_binding_and_keep_their_names():
    result = _check('a = Dense(8, name="first")(x)', 'b = Dense(8, name="second")(a)', "c = Dense(8)(b)",
                    'd = Dense(8, use_bias=False, name="fourth")(c)', "output d")
    assert not _errors(result)
    dense = [inst for inst in result.graphs["m"].instances if inst.cls == "Dense"]
    assert [(inst.name, inst.args["name"], inst.explicit_name) for inst in dense] == [
        ("first", "first", True), ("second", "second", True), ("dense", None, False), ("fourth", "fourth", True)]
    assert [inst.args["use_bias"] for inst in dense] == [True, True, True, False]
    assert list(dense[1].args) == list(dense[0].args)  # the name in its place


def test_a_bad_name_is_refused_where_a_binding_is_reused():
    result = _check('a = Dense(8, name="first")(x)', "b = Dense(8, name=3)(a)", "output b")
    assert (codes.WRONG_KIND, 4) in _errors(result), result.diagnostics

