"""Synthetic data for a built Keras model, for demos and smoke tests.

Inputs follow the model's input shapes and dtypes (integer inputs hold small
indices, valid for any Embedding); targets follow each output's shape and
the loss it is compiled with (one-hot for categorical crossentropy, class
indices for the sparse one, 0/1 for binary, floats otherwise).  Imports
NumPy only when called.
"""

from __future__ import annotations


def _concrete(shape, batch: int, unknown: int) -> tuple:
    return (batch,) + tuple(unknown if d is None else d for d in shape[1:])


def _loss_names(model) -> list:
    """The loss identifier of each output, in output order ("" if unknown)."""
    loss = getattr(model, "loss", None)
    names = list(model.output_names)
    if isinstance(loss, dict):
        return [str(loss.get(name, "")) for name in names]
    if isinstance(loss, (list, tuple)):
        return [str(item) for item in loss]
    return [str(loss or "")] * len(names)


def _target(rng, shape, loss: str):
    import numpy as np

    classes = shape[-1]
    if "sparse" in loss.lower():
        return rng.integers(0, classes, size=shape[:-1] + (1,))
    if "categorical" in loss.lower() or "crossentropy" == loss.lower():
        return np.eye(classes, dtype="float32")[rng.integers(0, classes, size=shape[:-1])]
    if "binary" in loss.lower() or "hinge" in loss.lower():
        return rng.integers(0, 2, size=shape).astype("float32")
    return rng.standard_normal(shape).astype("float32")


def batch_for(model, batch: int = 4, unknown: int = 16, seed: int = 0):
    """(x, y) for MODEL: lists (or single arrays) in input and output order."""
    import numpy as np

    rng = np.random.default_rng(seed)
    xs = []
    for tensor in model.inputs:
        shape = _concrete(tuple(tensor.shape), batch, unknown)
        if "int" in str(tensor.dtype):
            xs.append(rng.integers(0, 10, size=shape).astype(str(tensor.dtype)))
        else:
            xs.append(rng.standard_normal(shape).astype("float32"))
    outputs = model(xs if len(xs) > 1 else xs[0])
    outputs = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
    ys = [_target(rng, tuple(o.shape), loss) for o, loss in zip(outputs, _loss_names(model))]
    return (xs if len(xs) > 1 else xs[0]), (ys if len(ys) > 1 else ys[0])
