"""Large summary documents (docs/summary-json.md) made by code, for the
graph tests and benchmarks/bench_graph.py: a ResNet50-like model (177
layers in 16 residual block calls nested in 4 stage calls) and a flat
N-layer network with skip connections and branches."""

from __future__ import annotations

SOURCE = "synthetic.kd"


def _where(line: int) -> dict:
    return {"file": SOURCE, "line": line, "column": 5}


class DocumentBuilder:
    """Appends LAYER entries in Keras order, with their one call each."""

    def __init__(self, name: str):
        self.name = name
        self.layers = []
        self.blocks = []
        self.shapes = {}

    def block(self, block: str, call: str, parent) -> int:
        block_id = len(self.blocks)
        self.blocks.append(
            {"id": block_id, "block": block, "call": call, "parent": parent, "source": _where(block_id + 1)}
        )
        return block_id

    def layer(
        self, name, klass, shape, inbound=(), params=0, non_trainable=0, kind="layer", block=None, arguments=None
    ):
        reads = [{"layer": source, "call": 0, "tensor": 0} for source in inbound]
        self.shapes[name] = shape
        self.layers.append(
            {
                "name": name,
                "class": klass,
                "kind": kind,
                "output_shapes": [shape],
                "dtype": "float32",
                "params": params,
                "trainable": params - non_trainable,
                "non_trainable": non_trainable,
                "frozen": False,
                "arguments": arguments or {},
                "inbound": list(dict.fromkeys(inbound)),
                "calls": [
                    {"inbound": reads, "output_shapes": [shape], "block": block, "source": _where(len(self.layers) + 1)}
                ],
                "shared": False,
                "block": block,
                "source": _where(len(self.layers) + 1),
                "macs": None,
                "activation_bytes": None,
                "weight_bytes": None,
            }
        )
        return name

    def document(self, inputs: list, outputs: list) -> dict:
        total = sum(layer["params"] for layer in self.layers)
        model = {
            "name": self.name,
            "parameters": {},
            "inputs": [{"name": n, "shape": self.shapes[n], "dtype": "float32"} for n in inputs],
            "outputs": [{"name": n, "layer": n, "shape": self.shapes[n], "dtype": "float32"} for n in outputs],
            "layers": self.layers,
            "blocks": self.blocks,
            "totals": {
                "params": total,
                "trainable": total,
                "non_trainable": 0,
                "exact": True,
                "unknown": [],
                "macs": None,
                "activation_bytes": None,
                "weight_bytes": None,
            },
        }
        return {
            "schema": "kdsl-summary",
            "version": 1,
            "kdsl": "0.1.0",
            "file": SOURCE,
            "models": [model],
            "skipped": [],
        }


def _conv(b, name, source, filters, kernel, stride, block, padding="same"):
    h, w, c = b.shapes[source][1:]
    if padding == "valid":
        shape = [None, (h - kernel) // stride + 1, (w - kernel) // stride + 1, filters]
    else:
        shape = [None, -(-h // stride), -(-w // stride), filters]
    return b.layer(
        name,
        "Conv2D",
        shape,
        [source],
        kernel * kernel * c * filters + filters,
        block=block,
        arguments={"filters": filters, "kernel_size": kernel, "strides": stride},
    )


def _bn(b, name, source, block):
    channels = b.shapes[source][-1]
    return b.layer(name, "BatchNormalization", b.shapes[source], [source], 4 * channels, 2 * channels, block=block)


def _relu(b, name, source, block):
    return b.layer(name, "Activation", b.shapes[source], [source], block=block, arguments={"activation": "relu"})


def _residual(b, x, filters, stride, conv_shortcut, name, block):
    if conv_shortcut:
        shortcut = _bn(b, name + "_0_bn", _conv(b, name + "_0_conv", x, 4 * filters, 1, stride, block), block)
    else:
        shortcut = x
    y = _relu(
        b,
        name + "_1_relu",
        _bn(b, name + "_1_bn", _conv(b, name + "_1_conv", x, filters, 1, stride, block), block),
        block,
    )
    y = _relu(
        b, name + "_2_relu", _bn(b, name + "_2_bn", _conv(b, name + "_2_conv", y, filters, 3, 1, block), block), block
    )
    y = _bn(b, name + "_3_bn", _conv(b, name + "_3_conv", y, 4 * filters, 1, 1, block), block)
    added = b.layer(name + "_add", "Add", b.shapes[y], [shortcut, y], block=block)
    return _relu(b, name + "_out", added, block)


def resnet50_like() -> dict:
    """ResNet50's graph as examples/resnet50.kd builds it: a stem, four
    `stack1` calls each calling `block1` in a loop, and a classifier."""
    b = DocumentBuilder("resnet50")
    x = b.layer("input_layer", "InputLayer", [None, 224, 224, 3], kind="input")
    x = b.layer("conv1_pad", "ZeroPadding2D", [None, 230, 230, 3], [x])
    x = _conv(b, "conv1_conv", x, 64, 7, 2, None, padding="valid")
    x = _relu(b, "conv1_relu", _bn(b, "conv1_bn", x, None), None)
    x = b.layer("pool1_pad", "ZeroPadding2D", [None, 114, 114, 64], [x])
    x = b.layer("pool1_pool", "MaxPooling2D", [None, 56, 56, 64], [x])
    for stage, (filters, count, stride) in enumerate([(64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)], start=2):
        name = f"conv{stage}"
        stack = b.block("stack1", f'stack1({filters}, {count}, stride1={stride}, name="{name}")', None)
        for index in range(1, count + 1):
            first = index == 1
            call = (
                'block1(x, filters, stride=stride1, name=name + "_block1")'
                if first
                else 'block1(x, filters, conv_shortcut=False, name=name + "_block" + str(i))'
            )
            residual = b.block("block1", call, stack)
            x = _residual(b, x, filters, stride if first else 1, first, f"{name}_block{index}", residual)
    x = b.layer("avg_pool", "GlobalAveragePooling2D", [None, 2048], [x])
    b.layer("predictions", "Dense", [None, 1000], [x], 2048 * 1000 + 1000, arguments={"units": 1000})
    return b.document(["input_layer"], ["predictions"])


def wide_network(layers: int) -> dict:
    """A flat network of LAYERS layers: a spine of Dense layers with a skip
    connection every 4 and a two-branch fork every 10, no blocks."""
    b = DocumentBuilder(f"net{layers}")
    x = b.layer("input", "InputLayer", [None, 64], kind="input")
    count = 1
    while count < layers - 1:
        start = x
        for step in range(3):
            if count >= layers - 1:
                break
            x = b.layer(f"dense_{count}", "Dense", [None, 64], [x], 4160)
            count += 1
        if count < layers - 1 and count % 10 < 4:
            branch = b.layer(f"branch_{count}", "Dense", [None, 64], [start], 4160)
            count += 1
            x = b.layer(f"add_{count}", "Add", [None, 64], [x, branch])
            count += 1
        elif count < layers - 1:
            x = b.layer(f"add_{count}", "Add", [None, 64], [x, start])
            count += 1
    b.layer("output", "Dense", [None, 10], [x], 650)
    return b.document(["input"], ["output"])
