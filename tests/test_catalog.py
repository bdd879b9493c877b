"""The Keras catalog: the committed data files match the installed Keras, and
the loader (dsl/catalog.py) reads them correctly without importing Keras.

The comparison with Keras regenerates in memory with scripts/gen_catalog.py.
Regenerating every application graph takes minutes, so the normal run checks
a representative few and the full set is marked slow (`make test-slow`).
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dsl import catalog as C

ROOT = Path(__file__).resolve().parent.parent
GENERATOR = ROOT / "scripts" / "gen_catalog.py"

# One per family of building blocks: separable convs, bottlenecks, inception
# modules, inverted residuals with correct_pad, squeeze-excite, ConvNeXt's
# Sequential sub-models, custom LayerScale and keras.ops arithmetic.
REPRESENTATIVE_APPS = [
    "Xception",
    "ResNet50",
    "InceptionV3",
    "MobileNetV2",
    "EfficientNetB0",
    "ConvNeXtTiny",
]


@pytest.fixture(scope="module")
def gen():
    """scripts/gen_catalog.py as a module (imports Keras: only for (a))."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    spec = importlib.util.spec_from_file_location("gen_catalog", GENERATOR)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def cat():
    return C.load()


def _assert_file_current(gen, rel: str, expected: str) -> None:
    """Compare a committed data file with freshly generated text."""
    path = C.DATA_DIR / rel
    committed = path.read_text(encoding="utf-8") if path.exists() else None
    if committed != expected:
        pytest.fail(
            "dsl/data is out of date with the installed Keras; run "
            "`python scripts/gen_catalog.py`.\n" + gen.diff_summary(rel, committed, expected)
        )


# ------------------------------------------------- (a) the files match Keras


def test_catalog_matches_installed_keras(gen):
    _assert_file_current(gen, gen.CATALOG_FILE, gen.dump_catalog(gen.build_catalog()))


@pytest.mark.parametrize("name", REPRESENTATIVE_APPS)
def test_representative_application_graphs_match_installed_keras(gen, name):
    rel = f"{gen.APPS_SUBDIR}/{name}.json"
    _assert_file_current(gen, rel, gen.dump_application(gen.build_application(name)))


@pytest.mark.slow
def test_all_application_graphs_match_installed_keras(gen):
    for name in gen.application_names():
        if name not in REPRESENTATIVE_APPS:
            rel = f"{gen.APPS_SUBDIR}/{name}.json"
            _assert_file_current(gen, rel, gen.dump_application(gen.build_application(name)))


def test_one_graph_file_per_application(cat):
    files = {p.stem for p in (C.DATA_DIR / "applications").glob("*.json")}
    assert files == set(cat.application_names())
    assert len(files) >= 40


# ------------------------------------------------------------ (b) the loader


def test_versions_recorded(cat):
    assert cat.keras_version.startswith("3.")
    assert cat.backend == "tensorflow"


def test_layer_alias_resolves_to_canonical_class(cat):
    info = cat.layer("Convolution2D")
    assert (info.name, info.canonical, info.is_alias) == ("Convolution2D", "Conv2D", True)
    assert info.params == cat.layer("Conv2D").params
    assert cat.layer("MaxPool2D").canonical == "MaxPooling2D"
    assert cat.layer("GlobalAvgPool2D").canonical == "GlobalAveragePooling2D"
    assert cat.layer("AvgPool1D").canonical == "AveragePooling1D"
    assert cat.layer("Conv2D").is_alias is False
    assert cat.canonical_layer("SeparableConvolution2D") == "SeparableConv2D"


def test_layer_names_exclude_input_function_and_input_spec(cat):
    names = cat.layer_names()
    assert "Dense" in names and "MaxPool2D" in names and "InputLayer" in names
    assert "Input" not in names and "InputSpec" not in names
    assert cat.layer("Input") is None and cat.layer("NoSuchLayer") is None
    assert "MaxPool2D" not in cat.layer_names(aliases=False)


def test_constructor_signature_and_defaults_decoded(cat):
    conv = cat.layer("Conv2D")
    assert conv.signature.required == ("filters", "kernel_size")
    strides = conv.param("strides")
    assert strides.default == (1, 1) and isinstance(strides.default, tuple)
    assert conv.param("padding").default == "valid"
    assert conv.var_keyword
    cropping = cat.layer("Cropping2D").param("cropping").default
    assert cropping == ((0, 0), (0, 0)) and all(isinstance(c, tuple) for c in cropping)
    assert cat.layer("Dense").param("units").required


def test_layers_without_kwargs_and_extra_kwargs(cat):
    assert not cat.layer("SpatialDropout2D").var_keyword  # only name/dtype
    assert "implementation" in cat.layer("LSTM").extra_kwargs
    assert "alpha" in cat.layer("LeakyReLU").extra_kwargs


def test_base_layer_kwargs(cat):
    params = {p.name: p for p in cat.base_layer_kwargs()}
    assert {"activity_regularizer", "trainable", "dtype", "autocast", "name"} <= set(params)
    assert params["input_shape"].legacy and params["input_dim"].legacy
    assert params["trainable"].default is True and params["name"].keyword_only


def test_call_signatures(cat):
    assert cat.layer("Bidirectional").call.param("initial_state") is not None
    mha = cat.layer("MultiHeadAttention").call
    assert mha.param("return_attention_scores").default is False
    assert mha.required == ("query", "value")
    assert cat.layer("Dropout").call.param("training") is not None
    assert cat.layer("Dense").call.param("mask") is None
    assert "training" in cat.call_context_args()


def test_allowed_padding_conv1d_vs_conv2d(cat):
    assert cat.allowed_values("Conv1D", "padding") == {"valid", "same", "causal"}
    assert cat.allowed_values("Conv2D", "padding") == {"valid", "same"}
    assert cat.allowed_values("Convolution1D", "padding") == {"valid", "same", "causal"}
    assert cat.allowed_values("MaxPooling1D", "padding") == {"valid", "same"}
    assert cat.is_allowed_value("Conv2D", "padding", "SAME")  # Keras lower-cases
    assert not cat.is_allowed_value("Conv2D", "padding", "causal")


def test_allowed_values_other_enums(cat):
    assert cat.allowed_values("Conv2D", "data_format") == {None, "channels_last", "channels_first"}
    assert cat.allowed_values("Bidirectional", "merge_mode") == {"sum", "mul", "concat", "ave", None}
    assert {"nearest", "bilinear"} <= cat.allowed_values("UpSampling2D", "interpolation")
    assert "reflect" in cat.allowed_values("RandomRotation", "fill_mode")
    assert cat.allowed_values("Resizing", "fill_mode") == {"constant"}
    assert cat.allowed_values("RandomFlip", "mode") is None  # Keras does not validate it
    assert cat.allowed_values("Dense", "units") is None
    assert cat.allowed_values("Dense", "no_such_initializer") is None
    assert cat.allowed_values("NoSuchLayer", "padding") is None


def test_allowed_values_families(cat):
    assert {"relu", "softmax", "swish"} <= cat.allowed_values("Dense", "activation")
    assert "hard_sigmoid" in cat.allowed_values("LSTM", "recurrent_activation")
    assert "he_normal" in cat.allowed_values("Conv2D", "kernel_initializer")
    assert "l2" in cat.allowed_values("Dense", "kernel_regularizer")
    assert "non_neg" in cat.allowed_values("Dense", "bias_constraint")


def test_loss_metric_optimizer_aliases(cat):
    assert cat.is_metric_alias("acc") and cat.is_metric_alias("accuracy")
    assert cat.is_metric_alias("ACC")  # compile() lower-cases the shortcut
    assert cat.is_loss_alias("mse") and cat.is_loss_alias("categorical_crossentropy")
    assert cat.is_loss_alias("ce") and not cat.is_metric_alias("ce")
    assert cat.is_optimizer_alias("rmsprop") and cat.is_optimizer_alias("Adam")
    assert not cat.is_optimizer_alias("adamm") and not cat.is_loss_alias("msee")
    assert cat.resolve_identifier("losses", "mse") == "mean_squared_error"
    assert cat.resolve_identifier("metrics", "mse") == "MeanSquaredError"
    assert cat.resolve_identifier("optimizers", "RMSPROP") == "RMSprop"


def test_initializer_regularizer_constraint_lookups(cat):
    assert cat.is_initializer_alias("he_normal") and cat.is_initializer_alias("zeros")
    assert cat.is_regularizer_alias("l2") and cat.is_constraint_alias("max_norm")
    assert cat.initializer("he_normal").canonical == "HeNormal"
    assert cat.initializer("RandomNormal").param("stddev").default == 0.05
    assert cat.regularizer("l2").param("l2").default == 0.01
    assert cat.constraint("MaxNorm").param("max_value").default == 2
    assert cat.optimizer("Adam").param("learning_rate").default == 0.001
    assert cat.loss("CategoricalCrossentropy").param("from_logits").default is False
    assert cat.metric("MeanIoU").signature.required == ("num_classes",)
    assert cat.registry_function("losses", "mean_squared_error").names[:2] == ("y_true", "y_pred")


def test_activations(cat):
    acts = cat.activations()
    assert {"relu", "gelu", "linear", "softmax", "swish", "hard_swish"} <= acts
    assert cat.is_activation("relu") and not cat.is_activation("relux")


def test_merge_helpers_input_and_compile(cat):
    concat = cat.merge_helper("concatenate")
    assert concat.layer == "Concatenate" and concat.signature.param("axis").default == -1
    assert concat.signature.var_keyword
    assert cat.merge_helper("dot").layer == "Dot"
    assert set(cat.merge_helper_names()) == {
        "add",
        "subtract",
        "multiply",
        "average",
        "maximum",
        "minimum",
        "concatenate",
        "dot",
    }
    assert {"shape", "batch_size", "dtype", "name", "batch_shape"} <= {p.name for p in cat.input_params()}
    compile_params = {p.name: p for p in cat.compile_params()}
    assert compile_params["optimizer"].default == "rmsprop"
    assert {"loss", "metrics", "loss_weights", "jit_compile"} <= set(compile_params)


def test_application_params_and_input_sizes(cat):
    resnet = cat.application("ResNet50")
    assert resnet.param("classes").default == 1000
    assert resnet.param("weights").default == "imagenet"
    assert resnet.param("classifier_activation").default == "softmax"
    assert (resnet.default_size, resnet.min_size, resnet.has_name) == (224, 32, True)
    assert resnet.default_input_shape == (224, 224, 3)
    assert (cat.application("Xception").default_size, cat.application("Xception").min_size) == (299, 71)
    assert cat.application("InceptionV3").min_size == 75
    assert cat.application("EfficientNetB7").default_size == 600
    assert cat.application("MobileNet").square_sizes == (128, 160, 192, 224)
    v3 = cat.application("MobileNetV3Small")
    assert (v3.input_check, v3.default_size, v3.min_size) == ("own", None, 32)
    assert v3.param("minimalistic").default is False
    assert cat.application("resnet50") is None


def test_application_graph_lazy_and_consistent(cat):
    graph = cat.application_graph("ResNet50")
    assert cat.application_graph("ResNet50") is graph  # cached
    ops = graph.ops("top")
    assert ops[0]["class"] == "InputLayer"
    assert graph.input_shape == (224, 224, 3)
    summary = graph.summary("top")
    assert summary["output_shape"] == [[None, 1000]]
    assert summary["params"]["total"] == 25636712
    dense = ops[-1]
    assert dense["config"]["units"] == {"param": "classes"}
    bound = C.bind_params(dense["config"], {"classes": 10, "classifier_activation": "relu"})
    assert (bound["units"], bound["activation"]) == (10, "relu")


def test_correct_pad_and_unknown_size_markers(cat):
    pads = [
        c["dynamic"] for op in cat.application_graph("MobileNetV2").ops("none") for c in op["calls"] if "dynamic" in c
    ]
    assert pads and all(p == {"padding": {"correct_pad": [3, 3]}} for p in pads)
    nasnet = cat.application_graph("NASNetMobile")
    assert nasnet.has_unknown_size_graph()
    assert not cat.application_graph("ResNet50").has_unknown_size_graph()
    known = nasnet.summary("none")["params"]["total"]
    unknown = nasnet.summary("none", unknown_size=True)["params"]["total"]
    assert known != unknown


def _weights_total(op) -> tuple:
    """(trainable, non-trainable) parameter counts of one recorded op."""
    records = op["config"]["layers"] if op["class"] == "Sequential" else [op]
    counts = [0, 0]
    for record in records:
        for _, shape, trainable in record["weights"]:
            counts[0 if trainable else 1] += math.prod(shape)
    return tuple(counts)


def _refs(value):
    if isinstance(value, dict):
        if set(value) == {"@"}:
            yield value["@"]
        else:
            for v in value.values():
                yield from _refs(v)
    elif isinstance(value, list):
        for v in value:
            yield from _refs(v)


@pytest.mark.parametrize("name", C.load().application_names())
def test_every_graph_is_topological_and_counts_add_up(cat, name):
    graph = cat.application_graph(name)
    sections = [(graph, False)] + ([(graph, True)] if graph.has_unknown_size_graph() else [])
    for g, unknown in sections:
        variants = graph.raw["unknown_size"]["variants"] if unknown else graph.variants
        for variant in variants:
            ops = g.ops(variant, unknown_size=unknown)
            for i, op in enumerate(ops):
                for call in op["calls"]:
                    assert all(ref[0] < i for ref in _refs(call.get("args", []))), op["name"]
                    assert all(ref[0] < i for ref in _refs(call.get("kwargs", {}))), op["name"]
            trainable = sum(_weights_total(op)[0] for op in ops)
            frozen = sum(_weights_total(op)[1] for op in ops)
            params = g.summary(variant, unknown_size=unknown)["params"]
            assert (trainable, frozen) == (params["trainable"], params["non_trainable"])
            assert all(r["@"][0] < len(ops) for r in g.outputs(variant, unknown_size=unknown))


def test_decode_value_tags():
    assert C.decode_value({"tuple": [1, {"tuple": [2, 3]}]}) == (1, (2, 3))
    assert C.decode_value([1, {"tuple": []}]) == [1, ()]
    assert C.decode_value({"dict": {"a": {"tuple": [1]}}}) == {"a": (1,)}
    assert C.decode_value({"float": "inf"}) == math.inf
    opaque = C.decode_value({"repr": "<function keras.src.activations.relu>"})
    assert isinstance(opaque, C.Opaque) and str(opaque).startswith("<function")
    with pytest.raises(ValueError):
        C.decode_value({"what": 1})


def test_catalog_file_is_stable_json():
    text = C.CATALOG_PATH.read_text(encoding="utf-8")
    assert text.endswith("}\n")
    assert json.dumps(json.loads(text), indent=1, sort_keys=True) + "\n" == text


# ------------------------------------------- (c) no Keras behind the loader


def test_loader_imports_neither_keras_nor_tensorflow():
    code = (
        "import sys, time\n"
        "t = time.perf_counter()\n"
        "import dsl.catalog as c\n"
        "cat = c.load()\n"
        "cat.layer('Conv2D'); cat.allowed_values('Conv1D', 'padding')\n"
        "cat.application_graph('ResNet50').ops('top')\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('keras', 'tensorflow', 'numpy', 'jax', 'torch'))\n"
        "print(bad)\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
