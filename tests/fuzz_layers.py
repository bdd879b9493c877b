"""A custom Keras layer for the program fuzzer: kd programs bring it in with
`from fuzz_layers import Scale` (tests/ is on sys.path while testing)."""

from __future__ import annotations

import keras


@keras.saving.register_keras_serializable(package="kd_fuzz")
class Scale(keras.layers.Layer):
    """Multiplies its input by one learned scalar per feature."""

    def build(self, input_shape):
        self.scale = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="scale")

    def call(self, x):
        return x * self.scale

    def compute_output_shape(self, input_shape):
        return input_shape
