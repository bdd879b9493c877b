"""Set-up for the distribution tests: JAX with 8 simulated CPU devices.

XLA reads XLA_FLAGS once, when JAX starts its CPU backend, so these tests
need a pytest process of their own: `pytest tests_backends/distributed`
(`make test-backends` runs one; a run of tests_backends/ leaves this folder
out).  This file sets XLA_FLAGS, and KERAS_BACKEND unless the run names one,
before anything imports Keras.
"""

from __future__ import annotations

import os

import pytest

DEVICES = 8
DEVICE_FLAG = f"--xla_force_host_platform_device_count={DEVICES}"

os.environ.setdefault("KERAS_BACKEND", "jax")
if "xla_force_host_platform_device_count" not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {DEVICE_FLAG}".strip()


@pytest.fixture(scope="session")
def devices(keras):
    """The 8 simulated devices, as keras.distribution names them ('cpu:0', ...)."""
    if keras.backend.backend() != "jax":
        pytest.fail(
            "keras.distribution runs on JAX (Keras 3.15 has none for torch, a partial one for TensorFlow): KERAS_BACKEND=jax"
        )
    found = keras.distribution.list_devices()
    if len(found) != DEVICES:
        pytest.fail(
            f"{len(found)} JAX devices, not {DEVICES}: JAX started before this conftest set XLA_FLAGS; "
            "run tests_backends/distributed in a pytest process of its own"
        )
    return found


@pytest.fixture
def no_distribution(keras):
    """Leaves no global distribution behind a test."""
    yield
    keras.distribution.set_distribution(None)
