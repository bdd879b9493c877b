"""The multi-host set-up of docs/training.md, on one machine: two processes
of 4 simulated JAX devices each join through keras.distribution.initialize
(coordinator on the loopback address), train a generated model with
DataParallel over all 8 devices, each feeding half of every global batch,
and compute what one device computes on the whole batches."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
from support import load_module

from dsl.api import compile_file

EXAMPLES = Path(__file__).parent.parent.parent / "examples"
WORKER = Path(__file__).with_name("multi_process_worker.py")
PROCESSES = 2
BATCH = 32  # global batch: 16 rows from each process, 4 per device
TIMEOUT = 300  # seconds for the whole cluster; a hung coordinator must not hang the suite


def free_loopback_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run_cluster(module_path, weights_path, data_path) -> list:
    """Start the worker processes, wait for all, return their JSON reports."""
    env = dict(
        os.environ,
        KERAS_BACKEND="jax",
        XLA_FLAGS="--xla_force_host_platform_device_count=4",
        KERAS_DISTRIBUTION_JOB_ADDRESSES=f"127.0.0.1:{free_loopback_port()}",
        KERAS_DISTRIBUTION_NUM_PROCESSES=str(PROCESSES),
    )
    args = [sys.executable, str(WORKER), str(module_path), str(weights_path), str(data_path)]
    workers = [
        subprocess.Popen(args, env=dict(env, KERAS_DISTRIBUTION_PROCESS_ID=str(i)), stdout=subprocess.PIPE, text=True)
        for i in range(PROCESSES)
    ]
    try:
        outputs = [worker.communicate(timeout=TIMEOUT)[0] for worker in workers]
    finally:
        for worker in workers:
            worker.kill()
    assert [worker.returncode for worker in workers] == [0] * PROCESSES, outputs
    return [json.loads(output.strip().splitlines()[-1]) for output in outputs]


def test_two_processes_train_as_one_device(keras, devices, tmp_path, no_distribution):
    module_path = compile_file(EXAMPLES / "mlp.kd", tmp_path)
    mlp = load_module(module_path)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((BATCH * 4, 64)).astype("float32")
    y = np.eye(10, dtype="float32")[np.argmax(x @ rng.standard_normal((64, 10)), axis=-1)]
    np.savez(tmp_path / "data.npz", x=x, y=y, batch=BATCH)

    keras.utils.set_random_seed(0)
    model = mlp.compile_mlp(mlp.build_mlp())  # one device, no distribution: the reference
    weights = model.get_weights()
    np.savez(tmp_path / "weights.npz", **{f"w{i}": w for i, w in enumerate(weights)})
    expected = [
        float(model.train_on_batch(x[i : i + BATCH], y[i : i + BATCH], return_dict=True)["loss"])
        for i in range(0, len(x), BATCH)
    ]

    reports = run_cluster(module_path, tmp_path / "weights.npz", tmp_path / "data.npz")

    assert sorted(r["process"] for r in reports) == list(range(PROCESSES))
    assert {r["devices"] for r in reports} == {8}
    for report in reports:
        np.testing.assert_allclose(report["losses"], expected, rtol=1e-4)
    assert expected[-1] < expected[0]
