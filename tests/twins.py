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


# ------------------------------------------------------------ kd 1.1 (keras.ops)


def _encoder_layer(x, heads, d_model, d_ff, rate):
    attended = layers.MultiHeadAttention(num_heads=heads, key_dim=d_model // heads, dropout=rate)(x, x)
    x = layers.LayerNormalization(epsilon=1e-6)(x + layers.Dropout(rate)(attended))
    y = layers.Dense(d_ff, activation="gelu")(x)
    y = layers.Dropout(rate)(layers.Dense(d_model)(y))
    return layers.LayerNormalization(epsilon=1e-6)(x + y)


def transformer_classifier(vocab=20000, maxlen=64, d_model=64, heads=4, depth=2, classes=2):
    tokens = keras.Input(shape=(maxlen,), dtype="int32", name="tokens")
    positions = keras.ops.zeros_like(tokens) + keras.ops.arange(maxlen)
    x = layers.Embedding(vocab, d_model)(tokens) + layers.Embedding(maxlen, d_model)(positions)
    for _ in range(depth):
        x = _encoder_layer(x, heads, d_model, 2 * d_model, 0.1)
    cls = layers.Dropout(0.1)(x[:, 0])
    return keras.Model(tokens, layers.Dense(classes, activation="softmax", name="label")(cls))


def _split_heads(y, heads, key_dim):
    return keras.ops.transpose(keras.ops.reshape(y, (-1, y.shape[1], heads, key_dim)), (0, 2, 1, 3))


def _causal_self_attention(x, heads, key_dim):
    t = x.shape[1]
    q = _split_heads(layers.Dense(heads * key_dim)(x), heads, key_dim)
    k = _split_heads(layers.Dense(heads * key_dim)(x), heads, key_dim)
    v = _split_heads(layers.Dense(heads * key_dim)(x), heads, key_dim)
    scores = keras.ops.matmul(q, keras.ops.transpose(k, (0, 1, 3, 2))) / key_dim**0.5
    causal = keras.ops.greater_equal(keras.ops.arange(t)[:, None], keras.ops.arange(t)[None, :])
    weights = keras.ops.softmax(keras.ops.where(causal, scores, -1e9), axis=-1)
    mixed = keras.ops.transpose(keras.ops.matmul(weights, v), (0, 2, 1, 3))
    return layers.Dense(x.shape[-1])(keras.ops.reshape(mixed, (-1, t, heads * key_dim)))


def causal_lm(vocab=1000, maxlen=32, d_model=64, heads=4):
    tokens = keras.Input(shape=(maxlen,), dtype="int32", name="tokens")
    positions = keras.ops.zeros_like(tokens) + keras.ops.arange(maxlen)
    x = layers.Embedding(vocab, d_model)(tokens) + layers.Embedding(maxlen, d_model)(positions)
    x = layers.LayerNormalization()(x + _causal_self_attention(x, heads, d_model // heads))
    y = layers.Dense(4 * d_model, activation="relu")(x)
    y = layers.Dense(d_model)(y)
    x = layers.LayerNormalization()(x + y)
    return keras.Model(tokens, layers.Dense(vocab, activation="softmax", name="next_token")(x))


def MobileNetV3Small():  # noqa: N802  (the kd model's name)
    return keras.applications.MobileNetV3Small(input_shape=(224, 224, 3), weights=None)
