"""Hand-written Keras versions of the examples, to compare kdsl's output with.

Each function builds, with plain Keras, the same graph as the kd model of
the same name in examples/; the tests compare parameter counts (and output
shapes) of the two.
"""

from __future__ import annotations

import keras
from keras import layers


def mlp():
    x = keras.Input(shape=(64,))
    h = layers.Dense(32, activation="relu")(x)
    h = layers.Dense(32, activation="relu")(h)
    return keras.Model(x, layers.Dense(10, activation="softmax")(h))


def qa():
    text = keras.Input(shape=(None,), dtype="int32")
    question = keras.Input(shape=(None,), dtype="int32")
    encoded_text = layers.LSTM(32)(layers.Embedding(10000, 64)(text))
    encoded_question = layers.LSTM(16)(layers.Embedding(10000, 32)(question))
    merged = layers.concatenate([encoded_text, encoded_question], axis=-1)
    return keras.Model([text, question], layers.Dense(500, activation="softmax")(merged))


def social_posts():
    posts = keras.Input(shape=(None,), dtype="int32")
    x = layers.Embedding(50000, 256)(posts)
    x = layers.Conv1D(128, 5, activation="relu")(x)
    x = layers.MaxPooling1D(5)(x)
    x = layers.Conv1D(256, 5, activation="relu")(x)
    x = layers.Conv1D(256, 5, activation="relu")(x)
    x = layers.MaxPooling1D(5)(x)
    x = layers.Conv1D(256, 5, activation="relu")(x)
    x = layers.Conv1D(256, 5, activation="relu")(x)
    x = layers.GlobalMaxPooling1D()(x)
    x = layers.Dense(128, activation="relu")(x)
    age = layers.Dense(1, name="age")(x)
    income = layers.Dense(10, activation="softmax", name="income")(x)
    gender = layers.Dense(1, activation="sigmoid", name="gender")(x)
    return keras.Model(posts, [age, income, gender])


def inception_net():
    x = keras.Input(shape=(32, 32, 3))
    a = layers.Conv2D(128, 1, strides=2, padding="same", activation="relu")(x)
    b = layers.Conv2D(128, 1, padding="same", activation="relu")(x)
    b = layers.Conv2D(128, 3, strides=2, padding="same", activation="relu")(b)
    c = layers.AveragePooling2D(3, strides=2, padding="same")(x)
    c = layers.Conv2D(128, 3, padding="same", activation="relu")(c)
    d = layers.Conv2D(128, 1, padding="same", activation="relu")(x)
    d = layers.Conv2D(128, 3, padding="same", activation="relu")(d)
    d = layers.Conv2D(128, 3, strides=2, padding="same", activation="relu")(d)
    h = layers.concatenate([a, b, c, d], axis=-1)
    h = layers.GlobalAveragePooling2D()(h)
    return keras.Model(x, layers.Dense(10, activation="softmax")(h))


def residual_net():
    inp = keras.Input(shape=(32, 32, 128))
    y = layers.Conv2D(128, 3, activation="relu", padding="same")(inp)
    y = layers.Conv2D(128, 3, activation="relu", padding="same")(y)
    y = layers.Conv2D(128, 3, activation="relu", padding="same")(y)
    x = layers.add([y, inp])
    y = layers.Conv2D(128, 3, activation="relu", padding="same")(x)
    y = layers.Conv2D(128, 3, activation="relu", padding="same")(y)
    y = layers.MaxPooling2D(2, strides=2)(y)
    shortcut = layers.Conv2D(128, 1, strides=2, padding="same")(x)
    x = layers.add([y, shortcut])
    x = layers.GlobalAveragePooling2D()(x)
    return keras.Model(inp, layers.Dense(1, activation="sigmoid")(x))


def siamese():
    a = keras.Input(shape=(280, 256))
    b = keras.Input(shape=(280, 256))
    lstm = layers.LSTM(32)
    merged = layers.concatenate([lstm(a), lstm(b)], axis=-1)
    return keras.Model([a, b], layers.Dense(1, activation="sigmoid")(merged))


def dual_camera():
    base = keras.applications.Xception(weights=None, include_top=False)
    left = keras.Input(shape=(250, 250, 3))
    right = keras.Input(shape=(250, 250, 3))
    merged = layers.concatenate([base(left), base(right)], axis=-1)
    return keras.Model([left, right], merged)


def resnet50():
    return keras.applications.ResNet50(weights=None)


def inception_v3():
    return keras.applications.InceptionV3(weights=None)


def xception():
    return keras.applications.Xception(weights=None)


def densenet121():
    return keras.applications.DenseNet121(weights=None)


def encoder():
    words = keras.Input(shape=(None,), dtype="int32")
    code = layers.Bidirectional(layers.LSTM(32))(layers.Embedding(2000, 64)(words))
    return keras.Model(words, code)


def paraphrase():
    shared = encoder()
    shared.trainable = False
    first = keras.Input(shape=(None,), dtype="int32")
    second = keras.Input(shape=(None,), dtype="int32")
    a, b = shared(first), shared(second)
    features = layers.concatenate([a, b, layers.subtract([a, b]), layers.multiply([a, b])])
    hidden = layers.Dense(32, activation="relu")(features)
    return keras.Model([first, second], layers.Dense(1, activation="sigmoid")(hidden))
