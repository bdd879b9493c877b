"""The ops catalog: dsl/data/keras_ops.json (and docs/ops.md) match what
scripts/gen_ops_catalog.py gives with the installed Keras, every op of
keras.ops has a rule or a refusal with a reason, and the loader
(dsl/ops_catalog.py) reads the file without importing Keras.
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dsl import ops_catalog as OC
from dsl.catalog import Param
from dsl.shapes.op_rules import REFUSALS, lookup_op, refusal, ruled_ops

ROOT = Path(__file__).resolve().parent.parent
GENERATOR = ROOT / "scripts" / "gen_ops_catalog.py"


@pytest.fixture(scope="module")
def gen():
    """scripts/gen_ops_catalog.py as a module (imports Keras)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    spec = importlib.util.spec_from_file_location("gen_ops_catalog", GENERATOR)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def fresh(gen):
    """The catalog as the script builds it now (~10 s)."""
    return gen.build_catalog()


@pytest.fixture(scope="module")
def cat():
    return OC.load()


# ------------------------------------------------- the files match Keras


def test_catalog_matches_installed_keras(gen, fresh):
    path = OC.OPS_CATALOG_PATH
    committed = path.read_text(encoding="utf-8") if path.exists() else None
    expected = gen.gen_catalog.dump_catalog(fresh)
    if committed != expected:
        pytest.fail(
            "dsl/data/keras_ops.json is out of date with the installed Keras; run "
            "`python scripts/gen_ops_catalog.py`.\n" + gen.gen_catalog.diff_summary(path.name, committed, expected)
        )


def test_docs_page_matches_catalog(gen, fresh):
    committed = gen.DOCS_FILE.read_text(encoding="utf-8")
    assert committed == gen.render_docs(fresh), "docs/ops.md is stale; run `python scripts/gen_ops_catalog.py`"


# ------------------------------------------------- every op ruled or refused


def _keras_op_names() -> set:
    import keras

    return {n for n in dir(keras.ops) if not n.startswith("_") and inspect.isfunction(getattr(keras.ops, n))}


def test_every_keras_op_has_a_rule_or_a_refusal():
    names = _keras_op_names()
    ruled, refused = ruled_ops(), set(REFUSALS)
    assert not ruled & refused, f"both ruled and refused: {sorted(ruled & refused)}"
    missing = sorted(names - ruled - refused)
    assert not missing, f"keras.ops functions with neither a rule nor a refusal: {missing}"
    stale = sorted((ruled | refused) - names)
    assert not stale, f"rules or refusals for functions keras.ops no longer has: {stale}"
    assert all(isinstance(REFUSALS[n], str) and len(REFUSALS[n]) > 10 for n in refused)


def test_the_required_families_are_ruled():
    required = (
        "abs exp log sqrt square power tanh sigmoid relu relu6 leaky_relu elu selu gelu silu hard_sigmoid hard_silu "
        "softplus softmax log_softmax clip maximum minimum where equal not_equal less less_equal greater "
        "greater_equal logical_and logical_or logical_not logical_xor cast add subtract multiply divide negative "
        "sum mean max min prod std var argmax argmin logsumexp "
        "reshape transpose expand_dims squeeze concatenate stack split tile repeat broadcast_to flip roll pad take "
        "take_along_axis one_hot zeros_like ones_like matmul dot einsum tensordot norm "
        "arange zeros ones full eye linspace"
    ).split()
    assert [n for n in required if lookup_op(n) is None] == []


def test_every_rule_belongs_to_a_documented_family():
    from dsl.shapes.op_rules import FAMILIES, family

    assert {family(n) for n in ruled_ops()} == set(FAMILIES)


def test_the_catalog_records_rules_and_refusals(cat):
    assert set(cat.op_names()) == _keras_op_names()
    for name in cat.op_names():
        info = cat.op(name)
        assert info.has_rule == (lookup_op(name) is not None), name
        assert info.refusal == refusal(name), name
    assert set(cat.ruled_names()) == set(ruled_ops())
    assert cat.refusals() == REFUSALS


def test_every_ruled_op_was_probed(cat):
    """The summary needs each ruled op's node: probed with a node, or known
    to make none (the constant makers, eager on constants)."""
    for name in cat.ruled_names():
        info = cat.op(name)
        assert info.makes_node is not None, f"ops.{name} was not probed: add it to gen_ops_catalog.PROBES"
        if info.makes_node:
            assert info.op_class and info.auto_name, name
        else:
            assert name in ("arange", "zeros", "ones", "full", "eye", "identity", "linspace"), name


# ------------------------------------------------- the loader


def test_versions_recorded(cat):
    import keras

    assert cat.keras_version == keras.__version__
    assert cat.backend == "tensorflow"


def test_op_records(cat):
    mean = cat.op("mean")
    assert (mean.op_class, mean.auto_name, mean.makes_node, mean.has_rule) == ("Mean", "mean", True, True)
    assert mean.module == "keras.src.ops.numpy"
    assert mean.params == (
        Param("x", required=True),
        Param("axis", required=False, default=None),
        Param("keepdims", required=False, default=False),
    )
    assert mean.doc == "Compute the arithmetic mean along the specified axes."
    assert cat.op("abs").auto_name == "absolute"  # ops.abs builds an Absolute node
    assert cat.op("swish").alias_of == "silu" and cat.op("silu").alias_of is None
    assert cat.op("arange").makes_node is False
    einsum = cat.op("einsum").signature
    assert einsum.var_positional and einsum.var_keyword and einsum.names == ("subscripts",)
    assert cat.op("rot90").signature.param("axes").default == (0, 1)
    assert cat.op("fft").refusal and not cat.op("fft").has_rule
    assert cat.op("no_such_op") is None


def test_second_call_gets_the_next_name(cat):
    raw = cat.raw["ops"]["mean"]["graph"]
    assert raw["second_name"] == "mean_1" and raw["ops_per_call"] == 1


def test_operators(cat):
    assert cat.operator("/").op_class == "TrueDivide" and cat.operator("/").op == "true_divide"
    assert cat.operator("+").auto_name == "add"
    assert cat.operator("[]").op_class == "GetItem" and cat.operator("[]").op == "get_item"
    eq = cat.operator("==")
    assert eq.op_class is None and eq.raises is None  # Python compares the objects
    assert cat.operator("+x").raises == "TypeError"
    assert cat.operator("<=>") is None


def test_module_functions_use_the_packaged_catalog():
    assert OC.op("sum").op_class == "Sum"
    assert OC.op_names() == OC.load().op_names()


def test_catalog_file_is_stable_json():
    text = OC.OPS_CATALOG_PATH.read_text(encoding="utf-8")
    assert json.dumps(json.loads(text), indent=1, sort_keys=True) + "\n" == text


def test_loader_and_rules_import_neither_keras_nor_tensorflow():
    code = (
        "import sys\n"
        "import dsl.ops_catalog as oc\n"
        "from dsl.shapes.base import TensorType\n"
        "from dsl.shapes.op_rules import bind_op, infer_op, subscript_type\n"
        "oc.load().op('mean'); oc.load().operator('/')\n"
        "infer_op(bind_op('mean', (TensorType((None, 4)),), {'axis': 1}))\n"
        "subscript_type(TensorType((None, 4)), (slice(None), 0))\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('keras', 'tensorflow', 'numpy', 'jax', 'torch'))\n"
        "print(bad)\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
