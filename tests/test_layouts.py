"""`layout(...)`: weights split over a device mesh (docs/language.md, section 9).

Static checks with every error at its line and column (the entry's key,
value or axis); the weight paths kdsl computes against the paths Keras
gives (per layer class over the shape-rule table, and per built model);
the placement of each weight against what the generated `layout_map_NAME`
gives Keras's own LayoutMap lookup; the summary table; the limits.
Training under ModelParallel is tests_backends/distributed's.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from dsl.check.layout_checks import weight_paths
from dsl.compiler import check_text, compile_text
from dsl.limits import Limits
from dsl.summary import render_summaries

EXAMPLES = Path(__file__).parent.parent / "examples"
MESH = 'mesh={"batch": 2, "model": 4}'
HEAD = [
    "model m(devices=4) {",
    "    x = Input(shape=(32,))",
    '    h = Dense(64, name="hidden")(x)',
    '    output y = Dense(10, name="probabilities")(h)',
]


def layout_source(*entries: str, mesh: str = MESH, head=HEAD) -> str:
    """The model of HEAD with a layout of ENTRIES (one a line, from line 6)."""
    return "\n".join([*head, "    layout({", *(f"        {e}," for e in entries), f"    }}, {mesh})", "}", ""])


def found(src: str, **kw) -> list:
    return [(d.code, d.span.line, d.span.col) for d in check_text(src, "t.kd", None, **kw).diagnostics]


def at(line: str, text: str, nth: int = 1) -> int:
    """The column (from 1) of the NTH occurrence of TEXT in LINE, as written
    in a layout entry (8 spaces in)."""
    index = -1
    for _ in range(nth):
        index = line.index(text, index + 1)
    return 8 + index + 1


# ------------------------------------------------------------ static checks

ENTRY_ERRORS = [
    # (entry, code, the text the error starts at, its occurrence)
    ('"probabilities/kernel": (None, "model")', "KD804", '"model"', 1),
    ('"hidden/.*": (None, None, "model")', "KD803", "(None", 1),
    ('"hidden/kernel": (None, "modle")', "KD802", '"modle"', 1),
    ('"hidden/kernel": ("batch", "batch")', "KD802", '"batch"', 2),
    ('"hidden/(kernel": (None,)', "KD801", '"hidden', 1),
    ('"hidden/kernel\\\\1": (None,)', "KD801", '"hidden', 1),
    ('"(?i)hidden/kernel": (None,)', "KD801", '"(?i)', 1),
    ('"hidden/kernel": "model"', "KD800", '"model"', 1),
    ('"hidden/kernel": [None, "model"]', "KD800", "[None", 1),
    ('"hidden/kernel": (None, 4)', "KD800", "4", 1),
    ('3: (None,)', "KD800", "3", 1),
    ('"dense.*/kernel": (None, "model")', "KD908", '"dense', 1),
]


@pytest.mark.parametrize("entry, code, text, nth", ENTRY_ERRORS, ids=[e[1] + ":" + e[0] for e in ENTRY_ERRORS])
def test_each_error_stands_at_its_entry(entry, code, text, nth):
    src = layout_source('"hidden/kernel": (None, "model")' if "hidden/kernel" not in entry else '"hidden/bias": ("model",)', entry)
    assert (code, 7, at(entry, text, nth)) in found(src)


def test_every_error_of_a_layout_is_reported_at_once():
    """One failing entry does not hide the others, nor the checks of the
    entries that are valid, nor make the model's graph incomplete."""
    entries = [e for e, code, _, _ in ENTRY_ERRORS if code != "KD908" and "hidden/kernel" not in e]
    entries += ['"hidden/kernel": (None, "modle")']
    src = layout_source(*entries)
    codes = [(code, line) for code, line, _ in found(src)]
    assert codes == [("KD804", 6), ("KD803", 7), ("KD801", 8), ("KD800", 9), ("KD802", 10)]
    result = check_text(src, "t.kd")
    assert result.graphs["m"].complete


def test_a_clean_layout_checks_and_places_each_weight():
    src = layout_source('"hidden/kernel": (None, "model")', '"hidden/bias": ("model",)', '"probabilities/kernel": ("model", None)')
    result = check_text(src, "t.kd")
    assert result.ok and not result.diagnostics
    layout = result.graphs["m"].layout
    placed = {w.path: e.axes for e in layout.entries for w in e.matches}
    assert placed == {"hidden/kernel": (None, "model"), "hidden/bias": ("model",), "probabilities/kernel": ("model", None)}
    assert [w.path for w in layout.replicated] == ["probabilities/bias"]


def test_the_mesh_sizes_are_parameters_checked_with_param():
    src = layout_source('"hidden/kernel": (None, "model")', mesh='mesh={"batch": 2, "model": devices}')
    assert found(src) == []
    assert found(src, overrides={"devices": 8}) == []
    assert ("KD804", 6, at('"hidden/kernel": (None, "model")', '"model"')) in found(src, overrides={"devices": 3})


def test_an_exact_key_wins_over_patterns_and_two_patterns_clash():
    exact = layout_source('"hidden/kernel": ("model",)', '"hidden/.*": ("model",)', '".*kernel": (None,)')
    # hidden/kernel is exact; hidden/bias only matches hidden/.*; probabilities/kernel only .*kernel
    assert found(exact) == []
    clash = layout_source('"hidden/.*": ("model",)', '".*kernel": (None,)')
    (d,) = check_text(clash, "t.kd").diagnostics
    assert (d.code, d.span.line) == ("KD805", 7)
    assert "`hidden/kernel` (32, 64) matches both 'hidden/.*' and '.*kernel'" in d.message
    assert d.related[0].span.line == 6


MISPLACED = {
    "in a block": ["block b(x) {", "    layout({}, mesh={a: 1})", "    return x", "}",
                   "model m {", "    x = Input(shape=(4,))", "    output y = b(x)", "}"],
    "in an if": ["model m {", "    x = Input(shape=(4,))", "    if True {", "        layout({}, mesh={a: 1})", "    }",
                 "    output x", "}"],
}


@pytest.mark.parametrize("case", sorted(MISPLACED))
def test_a_layout_stands_at_the_top_of_a_model(case):
    lines = MISPLACED[case]
    line = next(i for i, text in enumerate(lines, 1) if "layout(" in text)
    assert ("KD206", line, 5 if case == "in a block" else 9) in found("\n".join(lines))


def test_one_layout_per_model():
    src = layout_source('"hidden/kernel": (None, "model")').replace("}\n", 'layout({}, mesh={a: 1})\n}\n')
    (d,) = check_text(src, "t.kd").diagnostics
    assert (d.code, d.span.line, d.related[0].span.line) == ("KD800", 8, 5)


@pytest.mark.parametrize("call, code, col, words", [
    ('layout({"hidden/kernel": (None,)})', "KD800", 5, "needs the mesh"),
    ("layout(" + MESH + ")", "KD800", 5, "one dict literal"),
    ('layout({}, {}, ' + MESH + ')', "KD800", 16, "one dict literal"),
    ('layout({}, mesh={"model": 4}, axis="x")', "KD800", 35, "no argument `axis`"),
    ('layout({}, mesh=("model", 4))', "KD800", 21, "dict literal of mesh axis names"),
    ('layout({}, mesh={"model": 0})', "KD800", 31, "positive integer"),
    ('layout({}, mesh={"model": True})', "KD800", 31, "positive integer"),
    ('layout({}, mesh={"model": 2, "model": 2})', "KD802", 34, "twice"),
    ('layout({"hidden/kernel": (None,), "hidden/kernel": ("model",)}, ' + MESH + ")", "KD800", 39, "given twice"),
    ('layout({"hidden/kernel": (None, Dense(3))}, ' + MESH + ")", "KD800", 37, "builtins only"),
    ('layout({"hidden/kernel": (None, axis)}, ' + MESH + ")", "KD800", 37, "binding of the body"),
])
def test_the_form_of_the_statement(call, code, col, words):
    src = "\n".join([*HEAD, '    axis = "model"', f"    {call}", "}"])
    diagnostics = [d for d in check_text(src, "t.kd").diagnostics if d.code != "KD900"]
    assert [(d.code, d.span.line, d.span.col) for d in diagnostics] == [(code, 6, col)]
    assert words in diagnostics[0].message


def test_layout_is_a_name_elsewhere():
    """Only the statement form is special: a block may be called `layout`."""
    src = "\n".join(["block layout(x) {", "    return Dense(3)(x)", "}", "model m {", "    x = Input(shape=(4,))",
                     "    output y = layout(x)", '    layout({"dense/kernel": (None, "model")}, mesh={"model": 3})', "}"])
    result = check_text(src, "t.kd")
    assert result.ok and not result.diagnostics
    assert [w.path for e in result.graphs["m"].layout.entries for w in e.matches] == ["dense/kernel"]


def test_a_layout_inside_a_model_used_as_a_layer_is_checked_on_its_own():
    """Inside another model the inner layers are named on from the outer
    ones (`dense_1`), so the inner model's layout is checked when it is
    checked by itself, not where it is used."""
    src = "\n".join([
        "model inner {", "    x = Input(shape=(4,))", "    h = Dense(8)(x)", "    output y = Dense(2)(h)",
        '    layout({"dense/kernel": (None, "model")}, mesh={"model": 8})', "}",
        "model outer {", "    x = Input(shape=(4,))", "    h = Dense(4)(x)", "    output y = inner()(h)", "}",
    ])
    assert found(src) == []


# ------------------------------------------------------------------ limits


def test_a_pattern_longer_than_the_limit():
    entry = '"' + "a" * 20 + '": (None,)'
    (d,) = [d for d in check_text(layout_source(entry), "t.kd", None, None, Limits(max_pattern_length=10)).diagnostics]
    assert (d.code, d.span.line, d.hint) == ("KD801", 6, "raise the limit with --max-pattern-length")
    assert "20 characters long; the limit is 10" in d.message


def test_catastrophic_patterns_match_in_linear_time():
    """`(a*)*b` backtracks exponentially in Python's re; kdsl's matcher
    answers at once on a 5,000-character layer name."""
    head = [*HEAD[:2], f'    h = Dense(64, name="{"a" * 5000}")(x)', HEAD[3]]
    src = layout_source('"(a*)*b": (None,)', '"(a|aa)+/kernel": (None, "model")', '"(.*a){20}/bias": ("model",)', head=head)
    start = time.perf_counter()
    result = check_text(src, "t.kd")
    assert time.perf_counter() - start < 5
    assert [d.code for d in result.diagnostics] == ["KD908"]
    placed = {w.path for e in result.graphs["m"].layout.entries for w in e.matches}
    assert placed == {"a" * 5000 + "/kernel", "a" * 5000 + "/bias"}


def test_matching_counts_against_the_step_limit():
    head = [*HEAD[:2], f'    h = Dense(64, name="{"a" * 5000}")(x)', HEAD[3]]
    src = layout_source('"(a|aa)+/kernel": (None, "model")', head=head)
    diagnostics = check_text(src, "t.kd", None, None, Limits(max_steps=2000)).diagnostics
    assert [(d.code, d.span.line) for d in diagnostics] == [("KD405", 6)]


# ------------------------------------------------------- summary and module


def test_summary_lists_what_each_pattern_places():
    result = check_text((EXAMPLES / "residual.kd").read_text(encoding="utf-8"), "residual.kd")
    text = render_summaries(result)
    assert ' Layout on the mesh batch=2, model=4:' in text
    assert "  conv2d_5/kernel  (1, 1, 128, 128)  (None, None, None, model)  (1, 1, 128, 32)  conv2d(_[0-9]+)?/kernel" in text
    assert "  score/kernel     (128, 1)          (model, None)              (32, 1)          score/kernel" in text
    assert text.rstrip().endswith("Replicated (matched by no pattern): 1 weight")


def _generated(tmp_path, src: str, stem: str = "sharded"):
    from support import load_module

    result = compile_text(src, f"{stem}.kd", None, f"{stem}.kd")
    assert result.ok, result.diagnostics
    target = tmp_path / f"{stem}.py"
    target.write_text(result.text, encoding="utf-8")
    return load_module(target)


def _mesh(keras, shape, names):
    count = 1
    for size in shape:
        count *= size
    return keras.distribution.DeviceMesh(shape, names, devices=[f"cpu:{i}" for i in range(count)])


def test_layout_map_refuses_another_mesh(tmp_path):
    keras = pytest.importorskip("keras")
    module = _generated(tmp_path, layout_source('"hidden/kernel": (None, "model")', mesh='mesh={"batch": 2, "model": devices}'))
    layout_map = module.layout_map_m(_mesh(keras, (2, 4), ["batch", "model"]))
    assert layout_map["hidden/kernel"].axes == (None, "model") and layout_map["hidden/bias"] is None
    assert module.layout_map_m(_mesh(keras, (2, 2), ["batch", "model"]), devices=2)["hidden/kernel"].axes == (None, "model")
    with pytest.raises(ValueError, match=r"checked the layout of m for the mesh \{'batch': 2, 'model': 4\}; received \{'batch': 8\}"):
        module.layout_map_m(_mesh(keras, (8,), ["batch"]))


# --------------------------------------------------- paths against Keras's

# Layers that keep weights on sublayers, wrapped layers, and a kd model used
# as a layer; every weight gets a layout of its own rank from one of these
# patterns (a mesh axis of size 1 divides everything), so Keras's lookup of
# each path shows which pattern kdsl and Keras each chose.
STRUCTURES = """
model encoder {
    t = Input(shape=(6, 8))
    output encoded = t -> Bidirectional(LSTM(4), backward_layer=LSTM(4, go_backwards=True))
}

model structures {
    text = Input(shape=(6,), dtype="int32")
    clips = Input(shape=(3, 8, 8, 2))
    e = text -> Embedding(50, 8) -> SimpleRNN(8, return_sequences=True)
    b = Bidirectional(GRU(4, return_sequences=True, name="forward_gru"), name="code")(e)
    a = MultiHeadAttention(num_heads=2, key_dim=4, use_gate=True)(b, b)
    g = GroupQueryAttention(head_dim=2, num_query_heads=2, num_key_value_heads=1, use_bias=False)(a, a)
    c = clips -> TimeDistributed(Conv2D(2, 3)) -> ConvLSTM2D(2, 3) -> Flatten()
    s = SpectralNormalization(Dense(4))(c)
    n = g -> LayerNormalization() -> encoder() -> BatchNormalization()
    output y = concatenate(n, s) -> Dense(2)
    layout(
        {
            "embedding/embeddings": ("one",),
            "simple_rnn/.*": ("one",),
            "code/.*gru/gru_cell/.*kernel": (None, "one"),
            "code/.*gru/gru_cell/bias": ("one", None),
            "multi_head_attention/(query|key|gate|value|attention_output)/kernel": (None, "one", None),
            "multi_head_attention/attention_output/kernel": ("one", None, None),
            "multi_head_attention/[a-z_]+/bias": ("one",),
            "grouped_query_attention/.*": (None, None, "one"),
            "time_distributed/conv2d/kernel": (None, None, None, "one"),
            "time_distributed/.*bias": ("one",),
            "conv_lstm2d/conv_lstm_cell/(recurrent_)?kernel": (None, None, "one", None),
            "spectral_normalization/vector_u": (None, "one"),
            "spectral_normalization/dense/.*": ("one",),
            "(layer|batch)_normalization/.*": ("one",),
            "encoded/(forward_lstm|lstm_1)/lstm_cell/.*kernel": ("one", None),
        },
        mesh={one: 1},
    )
}
"""


@pytest.fixture(scope="module")
def structures(tmp_path_factory):
    keras = pytest.importorskip("keras")
    module = _generated(tmp_path_factory.mktemp("structures"), STRUCTURES, "structures")
    result = check_text(STRUCTURES, "structures.kd")
    assert result.ok, result.diagnostics
    keras.backend.clear_session(free_memory=False)
    return keras, module, result.graphs["structures"]


def test_weight_paths_are_those_keras_gives(structures):
    keras, module, graph = structures
    keras.backend.clear_session(free_memory=False)
    model = module.build_structures()
    paths, unknown = weight_paths(graph)
    assert not unknown
    assert sorted(w.path for w in paths) == sorted(w.path for w in model.weights)
    shapes = {w.path: tuple(w.shape) for w in model.weights}
    assert all(shapes[w.path] == w.shape for w in paths)


def _placements(graph, model, layout_map) -> tuple:
    """({path: axes or None} as kdsl places each weight, the same as Keras's
    LAYOUT_MAP looks up each of MODEL's variables)."""
    kdsl = {w.path: e.axes for e in graph.layout.entries for w in e.matches}
    kdsl.update({w.path: None for w in graph.layout.replicated})
    looked_up = {}
    for variable in model.weights:
        found = layout_map[variable.path]
        looked_up[variable.path] = None if found is None else tuple(found.axes)
    return kdsl, looked_up


def test_each_weight_gets_the_layout_keras_looks_up(structures):
    keras, module, graph = structures
    keras.backend.clear_session(free_memory=False)
    model = module.build_structures()
    layout_map = module.layout_map_structures(_mesh(keras, (1,), ["one"]))
    kdsl, looked_up = _placements(graph, model, layout_map)
    assert kdsl == looked_up
    assert len({axes for axes in kdsl.values()}) >= 6  # the patterns did tell the weights apart


def test_two_patterns_clash_where_keras_refuses_the_weight():
    keras = pytest.importorskip("keras")
    patterns = {"hidden/.*": ("model",), ".*kernel": (None,)}
    src = layout_source(*(f'"{k}": {v!r}'.replace("'", '"') for k, v in patterns.items()))
    (d,) = check_text(src, "t.kd").diagnostics
    assert d.code == "KD805" and "`hidden/kernel`" in d.message
    layout_map = keras.distribution.LayoutMap(_mesh(keras, (2, 4), ["batch", "model"]))
    for key, value in patterns.items():
        layout_map[key] = value
    with pytest.raises(ValueError, match="matches multiple layout specification keys"):
        layout_map["hidden/kernel"]
    assert layout_map["hidden/bias"].axes == ("model",) and layout_map["probabilities/kernel"].axes == (None,)


# The shape-rule table: each layer's weight paths, relative to its name.


def _keras_layer(layer, names: dict):
    """LAYER (a test_shape_rules.L) built in Keras; NAMES gets the Keras
    name of each wrapped layer, by the id of its L."""
    import keras
    from test_shape_rules import L

    def convert(value):
        if isinstance(value, L):
            built = _keras_layer(value, names)
            names[id(value)] = built.name
            return built
        return value

    return getattr(keras.layers, layer.cls)(*map(convert, layer.args), **{k: convert(v) for k, v in layer.kwargs.items()})


def _spec(layer, ids: dict):
    """The LayerSpec the evaluator would build; IDS maps the id of each
    (inner) spec's arguments to the id of its L."""
    from test_shape_rules import L, bind

    def convert(value):
        return _spec(value, ids) if isinstance(value, L) else value

    spec = bind(layer.cls, tuple(map(convert, layer.args)), {k: convert(v) for k, v in layer.kwargs.items()})
    ids[id(spec.args)] = id(layer)
    return spec


def _path_cases():
    from test_shape_rules import CASES, C, In, L

    extra = [
        C(L("Bidirectional", L("LSTM", 4, name="forward_enc")), In(5, 8)),
        C(L("Bidirectional", L("LSTM", 4, name="backward_enc")), In(5, 8)),
        C(L("TimeDistributed", L("Bidirectional", L("LSTM", 4))), In(3, 5, 8)),
        C(L("SpectralNormalization", L("Dense", 4)), In(8)),
        C(L("SpectralNormalization", L("Conv2D", 4, 3)), In(8, 8, 3)),
        C(L("SpectralNormalization", L("Embedding", 10, 4)), In(5, dtype="int32")),
        C(L("GroupQueryAttention", head_dim=4, num_query_heads=2, num_key_value_heads=1), In(5, 8), In(5, 8)),
        C(L("GroupQueryAttention", head_dim=4, num_query_heads=2, num_key_value_heads=2, use_bias=False, use_gate=True),
          In(5, 8), In(5, 8)),
        C(L("MultiHeadAttention", 2, 4, use_bias=False), In(5, 8), In(5, 8)),
        C(L("MultiHeadAttention", 2, 4, use_gate=True), In(5, 8), In(5, 8)),
        C(L("ReversibleEmbedding", 10, 4), In(5, dtype="int32")),
    ]
    return CASES + extra


@pytest.mark.parametrize("layer, inputs, kwargs", _path_cases())
def test_weight_paths_of_each_layer_class(layer, inputs, kwargs):
    pytest.importorskip("keras")
    from test_shape_rules import In, run_kdsl, tree_map

    from dsl.shapes.paths import relative_paths

    names, ids = {}, {}
    built = _keras_layer(layer, names)
    built(*tree_map(In.keras, inputs), **tree_map(In.keras, kwargs))
    spec = _spec(layer, ids)
    result = run_kdsl(layer, inputs, kwargs)
    paths = relative_paths(spec, result.weights, lambda inner: names.get(ids.get(id(inner.args))))
    assert paths == [w.path[len(built.name) + 1:] for w in built.weights]
    assert all(w.path.startswith(built.name + "/") for w in built.weights)


def test_an_imported_model_s_layout_form_is_checked_and_emitted(tmp_path):
    """Imported models are emitted, not evaluated: their layout's form is
    checked statically, so the generator can rely on it."""
    lib = tmp_path / "lib.kd"
    lib.write_text('model net {\n    x = Input(shape=(4,))\n    output y = Dense(4)(x)\n    layout(mesh={"model": 2})\n}\n')
    main = tmp_path / "main.kd"
    main.write_text('import "lib.kd"\n\nmodel top {\n    x = Input(shape=(4,))\n    output z = net()(x)\n}\n')
    result = compile_text(main.read_text(), str(main), main, "main.kd")
    assert [(d.code, Path(d.filename).name, d.span.line) for d in result.diagnostics] == [("KD800", "lib.kd", 4)]
    lib.write_text('model net {\n    x = Input(shape=(4,))\n    output y = Dense(4)(x)\n    layout({"y/kernel": (None, "model")}, mesh={"model": 2})\n}\n')
    result = compile_text(main.read_text(), str(main), main, "main.kd")
    assert result.ok and "def layout_map_net(mesh) -> keras.distribution.LayoutMap:" in result.text


# An application inside a model: its layers keep their own names as paths.
APPLICATION = """
model tuned {
    image = Input(shape=(64, 64, 3))
    base = MobileNetV2(input_shape=(64, 64, 3), include_top=False, weights=None)
    features = base(image)
    output scores = features -> GlobalAveragePooling2D() -> Dense(3, name="head")
    layout(
        {
            "Conv1/kernel": (None, None, None, "model"),
            "block_[0-9]+_expand/kernel": (None, None, None, "model"),
            "head/kernel": ("model", None),
        },
        mesh={"batch": 1, "model": 2},
    )
}
"""


def test_an_application_s_weight_paths_and_layouts_are_those_keras_gives(tmp_path):
    keras = pytest.importorskip("keras")
    result = check_text(APPLICATION, "tuned.kd")
    assert not [d for d in result.diagnostics if d.is_error], result.diagnostics
    graph = result.graphs["tuned"]
    paths, unknown = weight_paths(graph)
    assert not unknown
    module = _generated(tmp_path, APPLICATION, "tuned")
    keras.backend.clear_session(free_memory=False)
    model = module.build_tuned()
    assert [(w.path, w.shape) for w in paths] == [(v.path, tuple(v.shape)) for v in model.weights]
    layout_map = module.layout_map_tuned(_mesh(keras, (1, 2), ["batch", "model"]))
    kdsl, looked_up = _placements(graph, model, layout_map)
    assert kdsl == looked_up
    assert sum(axes is not None for axes in kdsl.values()) == 1 + 16 + 1  # Conv1, the 16 expansions, the head


def test_an_application_s_weight_that_does_not_divide_is_refused_at_its_entry():
    split = APPLICATION.replace('mesh={"batch": 1, "model": 2}', 'mesh={"batch": 1, "model": 3}')
    result = check_text(split, "tuned.kd")
    errors = [d for d in result.diagnostics if d.is_error]
    assert errors and all(d.code == "KD804" for d in errors)
    assert any("Conv1/kernel" in d.message for d in errors)
