"""Every example's generated module on the backend of this run: each model
builds with the layers, names, classes, counts and output shapes that kdsl's
checker reports, and trains one step (tests/test_examples.py checks the
same on TensorFlow)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pytest
from backend_checks import assert_builds_as_checked, assert_trains_one_step, check_file, fresh_build
from support import load_module

from dsl.api import compile_file

EXAMPLES = sorted((Path(__file__).parent.parent / "examples").glob("*.kd"))


@lru_cache(maxsize=None)
def checked(path: Path):
    """kdsl's check of the example at PATH, once."""
    return check_file(path)


def _models():
    return [pytest.param(path, name, id=f"{path.stem}:{name}") for path in EXAMPLES for name in checked(path).graphs]


def test_there_are_examples_to_run():
    assert len(EXAMPLES) >= 10 and len(_models()) >= len(EXAMPLES)


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """Each example compiled by dsl.api.compile_file (once) and imported."""
    out = tmp_path_factory.mktemp("generated")
    cache = {}

    def module(path):
        if path not in cache:
            cache[path] = load_module(compile_file(path, out))
        return cache[path]

    return module


@pytest.mark.parametrize("path, name", _models())
def test_builds_as_checked(keras, generated, path, name):
    model = fresh_build(keras, generated(path), name)
    assert model.name == name
    assert_builds_as_checked(model, checked(path).graphs[name])


@pytest.mark.parametrize("path, name", _models())
def test_trains_one_step(keras, generated, path, name):
    """compile_NAME's settings, or plain SGD on MSE for a model without them
    (dual_camera, shared_encoder's encoder), so every model's backward pass
    runs on the backend."""
    module = generated(path)
    model = fresh_build(keras, module, name)
    compile_fn = getattr(module, f"compile_{name}", None)
    if compile_fn is None:
        model.compile(optimizer="sgd", loss="mse")
    else:
        assert compile_fn(model) is model
    assert_trains_one_step(model)
