"""The golden modules (tests/golden/*.py, committed generated code) on the
backend of this run: every model builds as kdsl's checker says, compiles
(with its compile settings where it has them) and trains one step."""

from __future__ import annotations

from pathlib import Path

import pytest
from backend_checks import assert_builds_as_checked, assert_trains_one_step, check_file, fresh_build
from support import load_module

GOLDEN = Path(__file__).parent.parent / "tests" / "golden"
# A source with `from` lines imports user classes that exist only in its
# author's project (my_project.layers), as in tests/test_golden.py.
BUILDABLE = [p for p in sorted(GOLDEN.glob("*.kd")) if "from " not in p.read_text(encoding="utf-8")]


def test_there_are_golden_modules_to_run():
    assert len(BUILDABLE) >= 6


@pytest.mark.parametrize("path", BUILDABLE, ids=[p.stem for p in BUILDABLE])
def test_golden_module_builds_and_trains(keras, path):
    result = check_file(path)
    module = load_module(path.with_suffix(".py"))
    for name, graph in result.graphs.items():
        model = fresh_build(keras, module, name)
        assert model.name == name
        assert_builds_as_checked(model, graph)
        compile_fn = getattr(module, f"compile_{name}", None)
        if compile_fn is None:
            model.compile(optimizer="sgd", loss="mse")  # the backward pass runs all the same
        else:
            assert compile_fn(model) is model
        assert_trains_one_step(model, batch=4, unknown=8)
