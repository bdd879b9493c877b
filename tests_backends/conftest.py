"""Set-up for the generated modules on a chosen Keras backend.

Unlike tests/conftest.py, nothing here picks a backend: the run names it in
KERAS_BACKEND (`make test-backends` runs one pytest process per backend,
since Keras picks its backend once, at import), and a run without it stops
at once rather than testing some default.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
# tests/support.py holds the helpers the TensorFlow suite compares Keras with kdsl by.
sys.path.insert(0, str(ROOT / "tests"))

BACKENDS = ("jax", "torch", "tensorflow")
# XLA_FLAGS (8 simulated devices) must be set before JAX starts, so the
# distribution tests run only when named: `pytest tests_backends/distributed`.
collect_ignore = ["distributed"]


def pytest_configure(config):
    backend = os.environ.get("KERAS_BACKEND", "")
    if backend not in BACKENDS:
        raise pytest.UsageError(
            f"tests_backends/ needs KERAS_BACKEND set to one of {', '.join(BACKENDS)} (got {backend!r}); "
            "`make test-backends` runs jax and torch"
        )


@pytest.fixture(scope="session")
def keras():
    """Keras, checked to run the backend this run asked for."""
    import keras

    assert keras.backend.backend() == os.environ["KERAS_BACKEND"]
    return keras
