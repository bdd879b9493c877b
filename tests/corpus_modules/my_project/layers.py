"""Custom layers of tests/golden/imports.kd."""

import keras


class GatedUnit(keras.layers.Layer):
    """A gated linear unit of UNITS features."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        # Named sublayers: unnamed ones would take automatic names (`dense`, ...)
        # that kdsl cannot know of (docs/language.md, custom layers).
        self.value = keras.layers.Dense(units, name=f"{self.name}_value")
        self.gate = keras.layers.Dense(units, activation="sigmoid", name=f"{self.name}_gate")

    def call(self, x):
        return self.value(x) * self.gate(x)


class Scale(keras.layers.Layer):
    """Multiplies by a constant FACTOR."""

    def __init__(self, factor, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def call(self, x):
        return x * self.factor
