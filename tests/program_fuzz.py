"""A hypothesis strategy over whole kd programs, for the differential fuzzer.

Not just DAGs of single layers: blocks with parameters (nested, returning
lists), `for` loops building lists of branches merged by helpers, chains
inside `return` and inside arguments, conditional expressions, dead
branches, shared layers and a shared kd model instance, attention at mixed
ranks, arithmetic on tensors, preprocessing layers, a custom layer with an
annotation, a keras.applications base, several outputs compiled with loss
and metric lists or dicts; and kd 1.1's `ops.NAME(...)` (attention written
out, pooling, reductions, positions tied to an input), constant tensors
broadcast with the model's, and subscripts (`x[:, 0]`, `x[..., :1]`,
`x[:, None]`, negative steps).

The writer tracks every tensor's shape so that most programs are valid; the
truth about shapes comes from Keras, not from this file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from hypothesis import strategies as st

PRELUDE = """\
from fuzz_layers import Scale

## A convolution, normalised.
block conv_bn(x, filters, stride=1) {
    return x -> Conv2D(filters, 3, strides=stride, padding="same") -> BatchNormalization() -> ReLU()
}

block dense_stack(x, widths) {
    for w in widths {
        x = x -> Dense(w, activation="relu")
    }
    return x
}

block fork(x, n, width) {
    outs = []
    for i in range(n) {
        outs = outs + [x -> Dense(width)]
    }
    return outs
}

block residual(x, width) {
    y = x -> Dense(width, activation="relu") -> Dense(x.shape[-1])
    return add(x, y)
}

block seq_branches(x, kernels, filters) {
    parts = []
    for k in kernels {
        parts = parts + [x -> Conv1D(filters, k, padding="same", activation="relu")]
    }
    return concatenate(parts)
}

block pick(x, deep, width) {
    return (x -> Dense(width)) if deep else (x -> Dense(width * 2) -> Dense(width))
}

block twice(x, width) {
    return Dense(width)(x) -> Dense(width)
}

model projector(width=4, out=3) {
    v = Input(shape=(width,))
    output p = v -> Dense(out, activation="tanh")
}
"""


@dataclass
class Program:
    source: str
    model: str = "fuzz"
    compiled: bool = False
    custom: bool = False


@dataclass
class _Writer:
    draw: object
    lines: list = field(default_factory=list)
    shapes: dict = field(default_factory=dict)  # tensor name -> shape without batch
    kinds: dict = field(default_factory=dict)  # tensor name -> vec | seq | img | tok
    count: int = 0
    custom: bool = False

    def new(self, kind: str, shape) -> str:
        self.count += 1
        name = f"t{self.count}"
        self.shapes[name], self.kinds[name] = tuple(shape), kind
        return name

    def pick(self, *kinds):
        names = [n for n, k in self.kinds.items() if k in kinds]
        if not names:
            return None
        return self.draw(st.sampled_from(names))

    def unread(self) -> list:
        """Tensors no statement reads, in order."""
        # A dead branch reads its source, but no output depends on it.
        read = {name for line in self.lines if "=" in line and not line.lstrip().startswith("_dead")
                for name in re.findall(r"\bt\d+\b", line.split("=", 1)[1])}
        return [n for n in self.shapes if n not in read]

    def bind(self, kind: str, shape, expr: str) -> str:
        name = self.new(kind, shape)
        self.lines.append(f"    {name} = {expr}")
        return name

    def choice(self, options):
        return self.draw(st.sampled_from(options))


# ------------------------------------------------------------------ steps


def _vec_step(w: _Writer) -> None:
    x = w.pick("vec")
    (f,) = w.shapes[x]
    u = w.choice([2, 3, 4, 6])
    op = w.choice(["dense", "stack", "fork", "residual", "pick", "twice", "arith", "shared", "projector",
                   "nested", "concat_chains", "dead", "custom", "dropout", "add_same", "ops", "ops", "ops", "index", "index"])
    if op == "dense":
        w.bind("vec", (u,), f"{x} -> Dense({u}, activation=\"{w.choice(['relu', 'tanh', 'linear'])}\")")
    elif op == "stack":
        widths = w.draw(st.lists(st.sampled_from([2, 3, 5]), min_size=1, max_size=3))
        w.bind("vec", (widths[-1],), f"dense_stack({x}, {widths})")
    elif op == "fork":
        n = w.choice([2, 3])
        merge = w.choice(["add", "concatenate", "average", "maximum"])
        width = u * n if merge == "concatenate" else u
        w.bind("vec", (width,), f"{merge}(fork({x}, {n}, {u}))")
    elif op == "residual":
        w.bind("vec", (f,), f"{x} -> residual({u})")
    elif op == "pick":
        w.bind("vec", (u,), f"pick({x}, {w.choice(['True', 'False'])}, {u})")
    elif op == "twice":
        w.bind("vec", (u,), f"twice({x}, {u})")
    elif op == "arith":
        form = w.choice(["{x} * 0.5", "-{x}", "{x} / 2.0", "1.0 - {x}", "{x} + {x}"])
        w.bind("vec", (f,), form.format(x=x))
    elif op == "add_same":
        other = w.pick("vec")
        if w.shapes[other] == (f,):
            w.bind("vec", (f,), w.choice([f"{x} + {other}", f"add({x}, {other})", f"subtract({x}, {other})",
                                          f"multiply({x}, {other})"]))
    elif op == "shared":
        other = w.pick("vec")
        if w.shapes[other] == (f,):
            w.count += 1
            layer = f"shared{w.count}"
            w.lines.append(f"    {layer} = Dense({u})")
            w.bind("vec", (u,), f"{layer}({x})")
            w.bind("vec", (u,), f"{other} -> {layer}")
    elif op == "projector":
        w.count += 1
        enc = f"proj{w.count}"
        w.lines.append(f"    {enc} = projector(width={f}, out={u}, name=\"{enc}\")")
        w.bind("vec", (u,), f"{enc}({x})")
        other = w.pick("vec")
        if w.shapes[other] == (f,):
            w.bind("vec", (u,), f"{enc}({other})")
    elif op == "nested":
        w.bind("vec", (u,), f"Dense({u})({x} -> Dense({u + 1}))")
    elif op == "concat_chains":
        other = w.pick("vec")
        (g,) = w.shapes[other]
        w.bind("vec", (u + g,), f"concatenate({x} -> Dense({u}), {other})")
    elif op == "dead":
        w.count += 1
        w.lines.append(f"    _dead{w.count} = {x} -> Dense({u + 7})")
    elif op == "custom":
        w.custom = True
        name = w.new("vec", (f,))
        w.lines.append(f"    {name}: (None, {f}) = Scale()({x})")
    elif op == "dropout":
        w.bind("vec", (f,), f"{x} -> Dropout(0.1)")
    elif op == "ops":
        _vec_ops(w, x, f)
    elif op == "index":
        k = w.choice([1, 2, 3])
        if k <= f:
            form, shape = w.choice([(f"{x}[:, :{k}]", (k,)), (f"{x}[:, ::2]", (-(-f // 2),)),
                                    (f"{x}[..., -{k}:]", (k,)), (f"ops.flip({x}, axis=1)", (f,))])
            w.bind("vec", shape, form)


def _vec_ops(w: _Writer, x: str, f: int) -> None:
    """kd 1.1: keras.ops on a vector, constants broadcast with it."""
    form = w.choice(["unary", "softmax", "constant", "where", "reduce", "concat", "clip"])
    if form == "unary":
        op = w.choice(["relu", "tanh", "sigmoid", "hard_silu", "gelu", "abs", "square", "exp", "relu6"])
        w.bind("vec", (f,), f"ops.{op}({x})")
    elif form == "softmax":
        w.bind("vec", (f,), f"ops.{w.choice(['softmax', 'log_softmax'])}({x}, axis=-1)")
    elif form == "constant":
        w.bind("vec", (f,), w.choice([f"{x} * ops.arange({f})", f"ops.ones(({f},)) - {x}",
                                      f"{x} + ops.linspace(0.0, 1.0, {f})", f"ops.full((1, {f}), 0.5) * {x}",
                                      f"{x} / (ops.arange({f}) * 2 + 1)", f"{x} + ops.eye({f})[0]"]))
    elif form == "where":
        w.bind("vec", (f,), f"ops.where(ops.greater({x}, 0.0), {x}, {x} * 0.1)")
    elif form == "reduce":
        op = w.choice(["sum", "mean", "max", "min", "std", "logsumexp"])
        w.bind("vec", (1,), f"ops.{op}({x}, axis=-1, keepdims=True)")
    elif form == "concat":
        other = w.pick("vec")
        (g,) = w.shapes[other]
        w.bind("vec", (f + g,), f"ops.concatenate([{x}, {other}], axis=-1)")
    else:
        w.bind("vec", (f,), f"ops.clip({x}, -1.0, 1.0)")


def _seq_step(w: _Writer) -> None:
    x = w.pick("seq")
    t, f = w.shapes[x]
    u = w.choice([2, 4, 6])
    op = w.choice(["conv", "rnn", "bi", "branches", "mha", "attention", "norm", "pool", "dense", "timedist",
                   "flatten", "broadcast", "ops", "ops", "ops", "index", "index"])
    if op == "conv":
        k = w.choice([1, 2, 3])
        padding = w.choice(["same", "valid", "causal"])
        steps = t - k + 1 if padding == "valid" else t
        if steps >= 1:
            w.bind("seq", (steps, u), f"{x} -> Conv1D({u}, {k}, padding=\"{padding}\")")
    elif op == "rnn":
        layer = w.choice(["LSTM", "GRU", "SimpleRNN"])
        if w.choice([True, False]):
            w.bind("seq", (t, u), f"{layer}({u}, return_sequences=True)({x})")
        else:
            w.bind("vec", (u,), f"{x} -> {layer}({u})")
    elif op == "bi":
        mode = w.choice(["concat", "sum"])
        w.bind("seq", (t, 2 * u if mode == "concat" else u),
               f"Bidirectional(GRU({u}, return_sequences=True), merge_mode=\"{mode}\")({x})")
    elif op == "branches":
        kernels = w.draw(st.lists(st.sampled_from([1, 2, 3]), min_size=2, max_size=3))
        w.bind("seq", (t, u * len(kernels)), f"seq_branches({x}, {kernels}, {u})")
    elif op == "mha":
        # Values of another rank build symbolically but fail on the first
        # batch (tests/test_fidelity.py): kdsl refuses them.
        value = w.pick("seq")
        heads = w.choice([1, 2])
        w.bind("seq", (t, f), f"MultiHeadAttention(num_heads={heads}, key_dim={u})({x}, {value})")
    elif op == "attention":
        value = w.pick("seq")
        if w.shapes[value][1] == f:
            w.bind("seq", (t, f), f"Attention()([{x}, {value}])")
    elif op == "norm":
        w.bind("seq", (t, f), f"{x} -> {w.choice(['LayerNormalization()', 'BatchNormalization()', 'Dropout(0.2)'])}")
    elif op == "pool":
        w.bind("vec", (f,), f"{x} -> {w.choice(['GlobalAveragePooling1D()', 'GlobalMaxPooling1D()'])}")
    elif op == "dense":
        w.bind("seq", (t, u), f"Dense({u})({x})")
    elif op == "timedist":
        w.bind("seq", (t, u), f"{x} -> TimeDistributed(Dense({u}))")
    elif op == "flatten":
        w.bind("vec", (t * f,), f"{x} -> Flatten()")
    elif op == "broadcast":
        # A merge (or arithmetic) of a sequence and a vector of another rank.
        other = w.pick("vec")
        if other is not None and w.shapes[other] == (f,):
            # Merge layers expand the vector themselves; arithmetic needs its axis written (kd 1.1).
            w.bind("seq", (t, f), w.choice([f"add({x}, {other})", f"multiply({other}, {x})", f"{x} * {other}[:, None]",
                                            f"{other}[:, None, :] - {x}", f"maximum({x}, {other})"]))
    elif op == "ops":
        _seq_ops(w, x, t, f)
    elif op == "index":
        form, kind, shape = w.choice([
            (f"{x}[:, 0]", "vec", (f,)), (f"{x}[:, -1]", "vec", (f,)), (f"ops.flip({x}, axis=1)", "seq", (t, f)),
            (f"{x}[..., :1]", "seq", (t, 1)), (f"{x}[:, None][:, 0, :, ::2]", "seq", (t, -(-f // 2))),
        ])
        w.bind(kind, shape, form)
        if t > 1:
            w.bind("seq", (t - 1, f), f"{x}[:, 1:, ...]")


def _seq_ops(w: _Writer, x: str, t: int, f: int) -> None:
    """kd 1.1: attention written out, pooling and positions with keras.ops."""
    form = w.choice(["attention", "pool", "positions", "reshape", "mask"])
    if form == "attention":
        scores = f"ops.matmul({x}, ops.transpose({x}, (0, 2, 1)))"
        w.bind("seq", (t, f), f"ops.matmul(ops.softmax({scores} / {f} ** 0.5, axis=-1), {x})")
    elif form == "pool":
        op = w.choice(["mean", "max", "sum"])
        w.bind("vec", (f,), f"ops.{op}({x}, axis=1)")
    elif form == "positions":
        positions = f'ops.zeros_like(ops.cast({x}[:, :, 0], "int32")) + ops.arange({t})'
        w.bind("seq", (t, f), f"{x} + Embedding({t}, {f})({positions})")
    elif form == "reshape":
        w.bind("vec", (t * f,), f"ops.reshape({x}, (-1, {t * f}))")
    else:
        causal = f"ops.greater_equal(ops.arange({t})[:, None], ops.arange({t})[None, :])"
        w.bind("seq", (t, t), f"ops.where({causal}, ops.matmul({x}, ops.transpose({x}, (0, 2, 1))), -1e9)")


def _img_step(w: _Writer) -> None:
    x = w.pick("img")
    h, wd, c = w.shapes[x]
    u = w.choice([2, 4])
    op = w.choice(["conv_bn", "pool", "conv", "depthwise", "augment", "rescale", "gap", "to_seq", "ops"])
    if op == "conv_bn":
        s = w.choice([1, 2])
        w.bind("img", (-(-h // s), -(-wd // s), u), f"conv_bn({x}, {u}, stride={s})")
    elif op == "pool" and min(h, wd) >= 2:
        w.bind("img", (h // 2, wd // 2, c), f"{x} -> MaxPooling2D(2)")
    elif op == "conv" and min(h, wd) >= 3:
        w.bind("img", (h - 2, wd - 2, u), f"Conv2D({u}, 3, activation=\"relu\")({x})")
    elif op == "depthwise":
        w.bind("img", (h, wd, c * 2), f"{x} -> DepthwiseConv2D(3, depth_multiplier=2, padding=\"same\")")
    elif op == "augment":
        w.bind("img", (h, wd, c), f"{x} -> {w.choice(['RandomFlip()', 'RandomContrast(0.2)', 'GaussianNoise(0.1)'])}")
    elif op == "rescale":
        w.bind("img", (h, wd, c), f"{x} -> Rescaling(1.0 / 255)")
    elif op == "gap":
        w.bind("vec", (c,), f"{x} -> GlobalAveragePooling2D()")
    elif op == "to_seq":
        w.bind("seq", (h * wd, c), f"{x} -> Reshape(({h * wd}, {c}))")
    elif op == "ops":
        form, kind, shape = w.choice([
            (f"ops.mean({x}, axis=(1, 2))", "vec", (c,)),
            (f"{x}[:, ::2, ::2]", "img", (-(-h // 2), -(-wd // 2), c)),
            (f"ReLU(6.0)({x} + 3.0) * (1.0 / 6.0) * {x}", "img", (h, wd, c)),  # hard-swish, as MobileNetV3
            (f"{x} * ops.hard_sigmoid({x})", "img", (h, wd, c)),
        ])
        w.bind(kind, shape, form)


_STEPS = {"vec": _vec_step, "seq": _seq_step, "img": _img_step}


# ----------------------------------------------------------------- inputs


def _inputs(w: _Writer) -> list:
    names = []
    for _ in range(w.draw(st.integers(1, 3))):
        kind = w.choice(["vec", "seq", "img", "tok"])
        if kind == "vec":
            shape, extra = (w.choice([3, 4, 8]),), ""
        elif kind == "seq":
            shape, extra = (w.choice([3, 5]), w.choice([2, 4])), ""
        elif kind == "img":
            size = w.choice([6, 8, 9])
            shape, extra = (size, size, w.choice([1, 3])), ""
        else:
            shape, extra = (w.choice([4, 6]),), ', dtype="int32"'
        name = w.new(kind, shape)
        w.lines.append(f"    {name} = Input(shape={shape}{extra})")
        names.append(name)
        if kind == "tok":
            w.bind("seq", (shape[0], 4), f"{name} -> Embedding(10, 4)")
    return names


def _application(w: _Writer) -> None:
    """Now and then a keras.applications base on a 32x32 image input."""
    image = w.new("img", (32, 32, 3))
    w.lines.append(f"    {image} = Input(shape=(32, 32, 3))")
    frozen = w.choice([True, False])
    w.lines.append("    base = MobileNet(input_shape=(32, 32, 3), include_top=False, weights=None)")
    if frozen:
        w.lines.append("    base.trainable = False")
        w.bind("img", (1, 1, 1024), f"base({image})")
    else:
        w.bind("img", (1, 1, 1024), f"{image} -> base")


_HEADS = {"vec": "", "seq": " -> GlobalAveragePooling1D()", "img": " -> GlobalMaxPooling2D()"}


def _outputs(w: _Writer) -> list:
    """Every tensor nothing reads becomes (part of) an output, so no input is
    left unconnected and no binding unused; at most three heads."""
    unread = [n for n in w.unread() if w.kinds[n] != "tok"]
    groups = [unread[i::3] for i in range(min(3, len(unread)))]
    heads = []
    for i, group in enumerate(groups):
        pooled = [f"{n}{_HEADS[w.kinds[n]]}" for n in group]
        source = pooled[0] if len(pooled) == 1 else f"concatenate({', '.join(pooled)})"
        activation = w.choice(["linear", "sigmoid", "softmax"])
        w.lines.append(f"    output head{i} = {source} -> Dense(2, activation=\"{activation}\")")
        heads.append((f"head{i}", activation))
    return heads


def _compile(w: _Writer, heads: list) -> bool:
    if not w.choice([True, True, False]):
        return False
    def loss(activation):
        return {"sigmoid": "binary_crossentropy", "softmax": "categorical_crossentropy"}.get(activation, "mse")
    form = w.choice(["one", "list", "dict"])
    if form == "one" or len(heads) == 1 and form == "list":
        losses = '"mse"'
    elif form == "list":
        losses = "[" + ", ".join(f'"{loss(a)}"' for _, a in heads) + "]"
    else:
        losses = "{" + ", ".join(f'{name}: "{loss(a)}"' for name, a in heads) + "}"
    metrics = w.choice(["", 'metrics=["mae"]', "dict"])
    if metrics == "dict":
        metrics = f'metrics={{{heads[0][0]}: ["mae"]}}'
    elif metrics and len(heads) > 1:
        metrics = "metrics=[" + ", ".join('["mae"]' for _ in heads) + "]"
    args = ", ".join(a for a in (f'optimizer="{w.choice(["adam", "sgd"])}"', f"loss={losses}", metrics) if a)
    w.lines.append(f"    compile({args})")
    return True


@st.composite
def programs(draw, applications: bool = True) -> Program:
    """One random kd program whose model `fuzz` Keras should build."""
    w = _Writer(draw)
    _inputs(w)
    if applications and draw(st.integers(0, 19)) == 0:
        _application(w)
    for _ in range(draw(st.integers(2, 9))):
        kinds = sorted({w.kinds[n] for n in w.kinds if w.kinds[n] != "tok"})
        _STEPS[draw(st.sampled_from(kinds))](w)
    heads = _outputs(w)
    compiled = _compile(w, heads)
    body = "\n".join(w.lines)
    return Program(f"{PRELUDE}\nmodel fuzz {{\n{body}\n}}\n", "fuzz", compiled, w.custom)
