"""One process of a multi-process DataParallel run (see test_multi_process.py).

Usage: python multi_process_worker.py MODULE.py WEIGHTS.npz DATA.npz.  The
process joins the cluster named by the KERAS_DISTRIBUTION_* variables
through keras.distribution.initialize, builds mlp from the generated
MODULE on the global device mesh, loads the initial WEIGHTS, trains on its
own slice of each global batch of DATA and prints the losses as JSON.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import keras
import numpy as np

sys.path.insert(0, str(Path(__file__).parents[2] / "tests"))
from support import load_module  # noqa: E402


def main(module_path: str, weights_path: str, data_path: str) -> None:
    keras.distribution.initialize()  # before any JAX computation
    distribution = keras.distribution.DataParallel(devices=keras.distribution.list_devices())  # every process's
    keras.distribution.set_distribution(distribution)
    process, processes = distribution.data_shard_id, distribution.num_processes
    module = load_module(Path(module_path))
    model = module.compile_mlp(module.build_mlp())
    weights = np.load(weights_path)
    model.set_weights([weights[f"w{i}"] for i in range(len(weights.files))])
    data = np.load(data_path)
    x, y, batch = data["x"], data["y"], int(data["batch"])
    share = batch // processes  # each process feeds its own rows of the global batch
    losses = []
    for start in range(0, len(x), batch):
        mine = slice(start + process * share, start + (process + 1) * share)
        losses.append(float(model.train_on_batch(x[mine], y[mine], return_dict=True)["loss"]))
    print(json.dumps({"process": process, "devices": len(keras.distribution.list_devices()), "losses": losses}))


if __name__ == "__main__":
    main(*sys.argv[1:])
