"""A two-file kd program the editor tests (test_session, test_lsp) query by position."""

LAYERS = """\
## A stack of dense layers.
block dense_stack(x, widths) {
    for w in widths {
        x = x -> Dense(w, activation="relu")
    }
    return x
}
"""

MAIN = """\
import "layers.kd"

block scaled(x, units) {
    h = x -> Dense(units)
    return h
}

model net {
    inp = Input(shape=(8,))
    parts = []
    for units in [4, 6, 10] {
        parts = parts + [scaled(inp, units)]
    }
    joined = concatenate(parts)
    deep = joined -> dense_stack([32, 16])
    output out = deep -> Dense(1, activation="sigmoid")
}
"""
