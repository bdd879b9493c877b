"""The custom layer of tests/hostile/names.kd."""

import keras


class Custom(keras.layers.Layer):
    """A dense layer of UNITS features."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.dense = keras.layers.Dense(units, name=f"{self.name}_dense")

    def call(self, x):
        return self.dense(x)
