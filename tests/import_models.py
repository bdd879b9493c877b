"""Models for the tests of `kdsl import` (tests/test_import.py): built with
Keras here, so that `package.module:function` sources can name them, and
a custom layer class with an importable module."""

from __future__ import annotations

import keras
from keras import layers


@keras.saving.register_keras_serializable(package="kd_import_tests")
class Scale(layers.Layer):
    """Multiplies by a constant; its output shape is its input's."""

    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def call(self, inputs):
        return inputs * self.factor

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


def shared_nested_bn():
    """Shared layers, a nested model used twice, BatchNormalization."""
    keras.backend.clear_session(free_memory=False)
    inner_in = keras.Input((6,), name="inner_in")
    inner = keras.Model(inner_in, layers.Dense(5, activation="relu", name="inner_dense")(inner_in), name="encoder")
    a = keras.Input((6,), name="a")
    b = keras.Input((6,), name="b")
    shared = layers.Dense(6, name="shared")
    norm = layers.BatchNormalization(name="norm")
    left = inner(norm(shared(a)))
    right = inner(norm(shared(b)))
    merged = layers.concatenate([left, right], name="merged")
    out = layers.Dense(3, activation="softmax", name="out")(merged)
    return keras.Model([a, b], out, name="twin_towers")


def with_custom_layer():
    """A custom layer class from this (importable) module."""
    keras.backend.clear_session(free_memory=False)
    x = keras.Input((4,), name="features")
    y = Scale(3.0, name="tripled")(layers.Dense(8, name="hidden")(x))
    return keras.Model(x, layers.Dense(2, name="logits")(y), name="scaled")


def with_lambda():
    """A Lambda layer: Python code kd cannot say."""
    keras.backend.clear_session(free_memory=False)
    x = keras.Input((4,), name="features")
    y = layers.Lambda(lambda t: t * 2, name="doubler")(x)
    return keras.Model(x, layers.Dense(2)(y))


def small():
    """A two-layer model for the command line tests."""
    keras.backend.clear_session(free_memory=False)
    x = keras.Input((4,), name="features")
    return keras.Model(x, layers.Dense(2, name="scores")(layers.Dense(8, activation="relu")(x)), name="small")
