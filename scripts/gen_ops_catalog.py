#!/usr/bin/env python
"""Generate kdsl's catalog of `keras.ops` from the installed Keras.

    python scripts/gen_ops_catalog.py           # (re)write the files
    python scripts/gen_ops_catalog.py --check   # exit 1 if they are out of date

Writes ``dsl/data/keras_ops.json`` (read by ``dsl/ops_catalog.py``) and the
page ``docs/ops.md``.  For every public function of ``keras.ops`` (which
holds the functions of ``keras.ops.nn``, ``keras.ops.numpy``, ``.math``,
``.core`` and ``.linalg`` under their own names) the catalog records:

* ``params``/``var_positional``/``var_keyword`` -- ``inspect.signature``,
  encoded as the layer catalog encodes signatures (gen_catalog's
  ``describe_signature``); ``module`` -- where the function is defined;
  ``alias_of`` -- the name whose function object it is (``swish`` ->
  ``silu``);
* ``doc`` -- the first paragraph of its docstring, on one line;
* ``graph`` -- the node a call adds to a functional graph, found by calling
  the op twice on ``keras.Input`` tensors (``PROBES`` gives the arguments;
  ops without an entry get arguments chosen by parameter name, and are
  recorded as not probed when Keras rejects them), building a
  ``keras.Model`` and reading ``model.operations``: ``class`` and ``name``
  of the first call's node, ``second_name`` of the second's (``mean``,
  ``mean_1``), ``ops_per_call``; ``eager_takes_name``, whether a call on
  constants (run at once, adding no node) takes an automatic name all the
  same (``pad`` does).  ``node`` is False when the call adds no node
  (constant makers run eagerly), None when the op was not probed;
* ``rule`` -- true when kdsl has a shape rule (``dsl.shapes.op_rules``),
  else the reason it refuses the op.

``operators`` records what Python's operators on a symbolic tensor build
(``x / y`` is ``TrueDivide``, ``x[:, 0]`` ``GetItem``; ``x == y`` builds
nothing).  Run time: a few seconds.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import argparse
import inspect
import operator
import sys
import warnings
from pathlib import Path

import keras

SCRIPTS = Path(__file__).resolve().parent
ROOT = SCRIPTS.parent
sys.path.insert(0, str(SCRIPTS))
sys.path.insert(0, str(ROOT))

import gen_catalog  # noqa: E402  (the layer catalog's signature encoding and JSON diffs)

from dsl.shapes import op_rules  # noqa: E402

SCHEMA_VERSION = 1
DATA_DIR = ROOT / "dsl" / "data"
CATALOG_FILE = "keras_ops.json"
DOCS_FILE = ROOT / "docs" / "ops.md"


# ---------------------------------------------------------------------------
# Functions, signatures, docs
# ---------------------------------------------------------------------------


def public_ops() -> dict:
    """``{name: function}`` for the public functions of ``keras.ops``
    (the submodules ``nn``, ``numpy``, ``image``, ``linalg`` are modules and
    fall out; their functions appear in ``keras.ops`` under their names,
    except ``image``'s)."""
    out = {}
    for name in sorted(dir(keras.ops)):
        obj = getattr(keras.ops, name)
        if not name.startswith("_") and inspect.isfunction(obj):
            out[name] = obj
    return out


def alias_of(name: str, fn, ops: dict):
    """The other exported name of the same function object, when NAME is
    not the function's own name (``swish`` -> ``silu``), else None."""
    own = fn.__name__
    return own if own != name and ops.get(own) is fn else None


def first_paragraph(fn) -> str:
    """The docstring's first paragraph, its lines joined."""
    doc = inspect.getdoc(fn) or ""
    paragraph = doc.strip().split("\n\n")[0]
    return " ".join(line.strip() for line in paragraph.splitlines()).strip()


# ---------------------------------------------------------------------------
# Probing the graph node of each op
# ---------------------------------------------------------------------------


class Inputs:
    """Fresh ``keras.Input`` tensors for one probe (after clear_session)."""

    def __init__(self):
        self.x = keras.Input((4, 3), name="x")  # (None, 4, 3) float32
        self.y = keras.Input((4, 3), name="y")
        self.m = keras.Input((3, 4), name="m")  # matmul's right operand
        self.v = keras.Input((3,), name="v")  # (None, 3)
        self.i = keras.Input((4, 3), dtype="int32", name="i")
        self.b = keras.Input((4, 3), dtype="bool", name="b")
        self.s = keras.Input((4, 4), name="s")  # square matrices


def _call(*args, **kwargs):
    """A probe: ARGS, where callables are applied to the Inputs."""
    return lambda t: ([a(t) if callable(a) else a for a in args], kwargs)


X, Y, M, V, I, B, S = (lambda t: t.x), (lambda t: t.y), (lambda t: t.m), (lambda t: t.v), (lambda t: t.i), (lambda t: t.b), (lambda t: t.s)

# Arguments for ops the by-name defaults below do not fit: name -> f(Inputs) -> (args, kwargs).
PROBES = {
    "arange": _call(5),
    "zeros": _call((2, 3)),
    "ones": _call((2, 3)),
    "eye": _call(3),
    "identity": _call(3),
    "full": _call((2, 3), 1.0),
    "linspace": _call(0.0, 1.0, 5),
    "cast": _call(X, "int32"),
    "clip": _call(X, 0.0, 1.0),
    "where": _call(B, X, Y),
    "matmul": _call(X, M),
    "dot": _call(X, M),
    "tensordot": _call(X, M, 1),
    "einsum": _call("bij,bjk->bik", X, M),
    "reshape": _call(X, (-1, 12)),
    "transpose": _call(X, (0, 2, 1)),
    "expand_dims": _call(X, 1),
    "squeeze": _call(lambda t: keras.ops.expand_dims(t.x, 1), 1),
    "concatenate": _call(lambda t: [t.x, t.y], -1),
    "stack": _call(lambda t: [t.x, t.y], 1),
    "split": _call(X, 2, 1),
    "tile": _call(X, (1, 2, 1)),
    "repeat": _call(X, 2, 1),
    "broadcast_to": _call(V, (2, 3)),
    "roll": _call(X, 1, 1),
    "pad": _call(X, ((0, 0), (1, 1), (0, 0))),
    "take": _call(X, I, 1),
    "take_along_axis": _call(X, I, 1),
    "one_hot": _call(I, 5),
    "swapaxes": _call(X, 1, 2),
    "moveaxis": _call(X, 1, 2),
    "get_item": _call(X, (slice(None), 0)),
    "threshold": _call(X, 0.5, 0.0),
    "logical_and": _call(B, B),
    "logical_or": _call(B, B),
    "logical_xor": _call(B, B),
    "logical_not": _call(B),
    "norm": _call(X, None, -1),
}

# By-name arguments for the other probes: parameter -> f(Inputs).
_BY_NAME = {
    "x": X, "x1": X, "x2": Y, "y": Y, "a": S, "b": V, "inputs": X, "tensor": X, "array": X, "variable": X,
    "condition": B, "indices": I, "axis": 1, "shape": (2, 3), "repeats": 2, "shift": 1, "num_classes": 5,
    "dtype": "float32", "fill_value": 1.0, "k": 1, "xs": lambda t: [t.x, t.y], "N": 3, "n": 3, "start": 0.0,
    "stop": 1.0, "target": X, "output": Y, "data": X, "segment_ids": I,
}


def probe_arguments(name: str, fn, inputs: Inputs):
    """(args, kwargs) for one call of op NAME, or None when there is no guess."""
    if name in PROBES:
        return PROBES[name](inputs)
    args = []
    for p in inspect.signature(fn).parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or p.default is not p.empty:
            continue
        value = _BY_NAME.get(p.name)
        if value is None:
            return None
        args.append(value(inputs) if callable(value) else value)
    return args, {}


def _keras_tensors(value) -> list:
    """The KerasTensors in an op's result (a tensor, or a list/tuple of them)."""
    if isinstance(value, keras.KerasTensor):
        return [value]
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in _keras_tensors(v)]
    return []


def probe_graph(name: str, fn) -> dict:
    """The node one call of op NAME adds to a functional graph (see the
    module docstring for the fields)."""
    keras.backend.clear_session(free_memory=False)  # fresh automatic names (no gc: fast)
    inputs = Inputs()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            first = probe_arguments(name, fn, inputs)
            if first is None:
                return _not_probed()
            out1 = fn(*first[0], **first[1])
            second = probe_arguments(name, fn, inputs)
            out2 = fn(*second[0], **second[1])
    except Exception:  # noqa: BLE001 - Keras rejected the guessed arguments
        return _not_probed()
    tensors1, tensors2 = _keras_tensors(out1), _keras_tensors(out2)
    if not tensors1:
        return {"node": False, "class": None, "name": None, "second_name": None, "ops_per_call": 0,
                "eager_takes_name": None}
    model = keras.Model(_source_inputs(tensors1 + tensors2), tensors1 + tensors2)
    own1, own2 = tensors1[0]._keras_history.operation, tensors2[0]._keras_history.operation
    if not any(op is own1 for op in model.operations):
        raise RuntimeError(f"ops.{name}: its node is not among the model's operations")
    return {
        "node": True,
        "class": type(own1).__name__,
        "name": own1.name,
        "second_name": own2.name,
        "ops_per_call": len(operations_between(tensors1, _keras_tensors(first))),
        "eager_takes_name": probe_eager_name(name, fn, own1.name),
    }


def _eager(value):
    """A probe argument with each KerasTensor replaced by a constant of its
    shape (the batch of 2) and dtype."""
    if isinstance(value, keras.KerasTensor):
        return keras.ops.ones((2, *value.shape[1:]), dtype=value.dtype)
    if isinstance(value, (list, tuple)):
        return type(value)(_eager(v) for v in value)
    return value


def probe_eager_name(name: str, fn, first_name: str):
    """Whether a call of op NAME on constants (run at once, no node) still
    constructs its Operation and so takes an automatic name (``pad`` does:
    a symbolic call after it is named ``pad_1``); None when the eager call
    fails with the probe's arguments."""
    keras.backend.clear_session(free_memory=False)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            args, kwargs = probe_arguments(name, fn, Inputs())
            keras.backend.clear_session(free_memory=False)
            fn(*_eager(args), **_eager(kwargs))
            args, kwargs = probe_arguments(name, fn, Inputs())
            out = fn(*args, **kwargs)
    except Exception:  # noqa: BLE001 - the probe's arguments do not run eagerly
        return None
    return _keras_tensors(out)[0]._keras_history.operation.name != first_name


def _source_inputs(tensors: list) -> list:
    """The keras.Input tensors the TENSORS depend on, each once."""
    found = []
    for t in tensors:
        for source in keras.utils.get_source_inputs(t):
            if all(source is not f for f in found):
                found.append(source)
    return found


def operations_between(outputs: list, arguments: list) -> list:
    """The operations on the paths from the call's ARGUMENTS to its OUTPUTS
    (those building the probe's own arguments, such as squeeze's
    expand_dims, are not counted)."""
    stop = {id(t) for t in arguments}
    found, seen = [], set()
    todo = list(outputs)
    while todo:
        t = todo.pop()
        if id(t) in stop or id(t) in seen:
            continue
        seen.add(id(t))
        op, node_index, _ = t._keras_history
        if isinstance(op, keras.layers.InputLayer):
            continue
        if all(op is not f for f in found):
            found.append(op)
        todo.extend(op._inbound_nodes[node_index].input_tensors)
    return found


def _not_probed() -> dict:
    return {"node": None, "class": None, "name": None, "second_name": None, "ops_per_call": None,
            "eager_takes_name": None}


# Python operators on symbolic tensors: symbol -> f(a, b) or f(a).
OPERATORS = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv, "//": operator.floordiv,
    "%": operator.mod, "**": operator.pow, "@": operator.matmul, "==": operator.eq, "!=": operator.ne,
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
    "-x": operator.neg, "+x": operator.pos, "abs(x)": abs, "[]": lambda a: a[:, 0],
}


def probe_operator(symbol: str, fn, class_to_op: dict) -> dict:
    """What SYMBOL builds on symbolic tensors: its op, class and name."""
    keras.backend.clear_session(free_memory=False)
    a, b = keras.Input((3, 3), name="a"), keras.Input((3, 3), name="b")
    unary = symbol in ("-x", "+x", "abs(x)", "[]")
    try:
        out = fn(a) if unary else fn(a, b)
    except Exception as e:  # noqa: BLE001 - record that Python refuses it
        return {"op": None, "class": None, "name": None, "raises": type(e).__name__}
    if not isinstance(out, keras.KerasTensor):
        return {"op": None, "class": None, "name": None, "raises": None}
    node = out._keras_history.operation
    cls = type(node).__name__
    return {"op": class_to_op.get(cls), "class": cls, "name": node.name, "raises": None}


# ---------------------------------------------------------------------------
# The catalog
# ---------------------------------------------------------------------------


def rule_record(name: str):
    """True when kdsl has a rule for op NAME, else the reason it has none."""
    if op_rules.lookup_op(name) is not None:
        return True
    reason = op_rules.refusal(name)
    if reason is None:
        raise RuntimeError(
            f"keras.ops.{name} has neither a rule nor a refusal: add one to dsl/shapes/op_rules "
            "(or its reason to dsl/shapes/op_rules/refusals.py)"
        )
    return reason


def describe_op(name: str, fn, ops: dict) -> dict:
    """The catalog record of one op."""
    record = dict(gen_catalog.describe_signature(fn))
    record["module"] = fn.__module__
    record["doc"] = first_paragraph(fn)
    record["graph"] = probe_graph(name, fn)
    record["rule"] = rule_record(name)
    alias = alias_of(name, fn, ops)
    if alias:
        record["alias_of"] = alias
    return record


def build_catalog() -> dict:
    """The whole ops catalog (see the module docstring)."""
    ops = public_ops()
    records = {name: describe_op(name, fn, ops) for name, fn in ops.items()}
    # The op function whose node class is CLS, preferring the op's own name.
    class_to_op: dict = {}
    for name, r in records.items():
        cls = r["graph"]["class"]
        if cls and (cls not in class_to_op or r["graph"]["name"] == name):
            class_to_op[cls] = name
    keras.backend.clear_session(free_memory=False)
    return {
        "schema_version": SCHEMA_VERSION,
        "keras_version": keras.__version__,
        "backend": keras.backend.backend(),
        "ops": records,
        "operators": {s: probe_operator(s, f, class_to_op) for s, f in OPERATORS.items()},
    }


# ---------------------------------------------------------------------------
# docs/ops.md
# ---------------------------------------------------------------------------


def _signature_text(record: dict) -> str:
    parts = []
    for p in record["params"]:
        parts.append(p["name"] if p["required"] else f"{p['name']}={_default_text(p['default'])}")
    if record["var_positional"]:
        parts.insert(len([p for p in record["params"] if p["kind"] != "keyword_only"]), "*args")
    if record["var_keyword"]:
        parts.append("**kwargs")
    return ", ".join(parts)


def _default_text(value) -> str:
    from dsl.catalog import decode_value

    return repr(decode_value(value))


def _node_text(graph: dict) -> str:
    if graph["node"] is False:
        return "no node (eager)"
    if graph["node"] is None:
        return "not probed"
    return f"`{graph['name']}` ({graph['class']})"


def render_docs(catalog: dict) -> str:
    """docs/ops.md: the ops by family, how types follow Keras, the refusals."""
    ops = catalog["ops"]
    lines = [
        "# `ops.NAME(...)`: the supported `keras.ops` functions",
        "",
        "<!-- Generated by scripts/gen_ops_catalog.py from dsl/data/keras_ops.json; do not edit. -->",
        "",
        f"Generated from Keras {catalog['keras_version']} ({catalog['backend']} backend). kd 1.1 calls",
        "`keras.ops` functions as `ops.NAME(...)` (LANGUAGE.md section 12). kdsl checks each call",
        "statically with a rule in `dsl/shapes/op_rules/` that copies the op's own",
        "`compute_output_spec` in Keras: shapes broadcast with NumPy's rules, where an unknown",
        "dimension (None, such as the batch) matches anything; dtypes promote with Keras's",
        "`result_type` (JAX-like: a Python number is a weak type that defers to the tensor's,",
        "int64 and float64 survive on TensorFlow). Constant makers called on constants run",
        "eagerly on the backend, so their rules follow TensorFlow's kernels. Differential tests",
        "(tests/test_op_rules.py) compare every rule with Keras on generated shapes, dtypes and",
        "arguments, errors included.",
        "",
        "The node column is what a call adds to a functional graph, as `model.summary()` shows",
        "it: its automatic name (the second call gets `_1`, and so on) and Operation class.",
        "",
    ]
    by_family: dict = {}
    for name, record in ops.items():
        if record["rule"] is True:
            by_family.setdefault(op_rules.family(name), []).append(name)
    for key, title in op_rules.FAMILIES.items():
        names = sorted(by_family.get(key, []))
        lines += [f"## {title} ({len(names)})", "", "| op | node | |", "|---|---|---|"]
        for name in names:
            r = ops[name]
            doc = r["doc"].replace("|", "\\|")
            alias = f" Same function as `{r['alias_of']}`." if r.get("alias_of") else ""
            lines.append(f"| `ops.{name}({_signature_text(r)})` | {_node_text(r['graph'])} | {doc}{alias} |")
        lines.append("")
    lines += [
        "`x[...]` follows NumPy's basic indexing as Keras's `GetItem` does: ints (negative from",
        "the end) remove an axis, slices keep it, `None` adds one, one `...` stands for the",
        "axes not named. An int outside a known dimension is KD403. Keras takes only a tuple",
        "(or an int) as the key: `x[1:]` alone fails on a symbolic tensor, `x[1:, ...]` works.",
        "",
        "## Constant tensors",
        "",
        "An op whose arguments are all constants (`ops.sin(ops.arange(16))`) runs eagerly on",
        "TensorFlow while the module is built, and TensorFlow's kernels differ from",
        "`compute_output_spec` for some non-float dtypes: most activations take floats only,",
        "bool tensors have no arithmetic, `reciprocal` and `logsumexp` keep a float input's",
        "dtype (dsl/shapes/op_rules/eager.py lists them all; tests compare each with",
        "TensorFlow). Other ops on plain numbers alone are not tensor ops: kd refuses them (KD400).",
        "kd also refuses what builds differently on Keras's backends: `eye(N, M, k)` with",
        "an offset TensorFlow gets wrong, `arange` with negative bounds in an unsigned",
        "dtype; and `linspace(..., retstep=True)`.",
        "",
        "## Python operators on tensors",
        "",
        "| operator | node |",
        "|---|---|",
    ]
    for symbol, r in catalog["operators"].items():
        if r["class"]:
            what = f"`{r['name']}` ({r['class']})"
        elif r["raises"]:
            what = f"Python raises {r['raises']}"
        else:
            what = "no node (Python compares the objects)"
        lines.append(f"| `{symbol}` | {what} |")
    lines += ["", "## Refused ops", "", "kdsl reports `no rule for ops.NAME` with the reason.", ""]
    by_reason: dict = {}
    for name, record in ops.items():
        if record["rule"] is not True:
            by_reason.setdefault(record["rule"], []).append(name)
    for reason in sorted(by_reason, key=lambda r: (r == op_rules.refusals.NOT_YET, r)):
        names = ", ".join(f"`{n}`" for n in sorted(by_reason[reason]))
        lines += [f"- *{reason}* ({len(by_reason[reason])}): {names}", ""]
    return "\n".join(lines).rstrip() + "\n"


# ---------------------------------------------------------------------------
# Writing and checking
# ---------------------------------------------------------------------------


def expected_files() -> dict:
    """``{path: text}`` of the files this script produces."""
    catalog = build_catalog()
    return {DATA_DIR / CATALOG_FILE: gen_catalog.dump_catalog(catalog), DOCS_FILE: render_docs(catalog)}


def main(argv=None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing; exit 1 on differences")
    args = parser.parse_args(argv)
    stale = []
    for path, text in expected_files().items():
        old = path.read_text(encoding="utf-8") if path.exists() else None
        if old == text:
            continue
        rel = str(path.relative_to(ROOT))
        if args.check:
            stale.append(gen_catalog.diff_summary(rel, old, text) if rel.endswith(".json") else f"{rel}: differs")
        else:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {rel} ({len(text)} bytes)")
    if stale:
        print(f"{len(stale)} file(s) differ from Keras {keras.__version__}:\n")
        print("\n\n".join(stale))
        print("\nRun: python scripts/gen_ops_catalog.py")
        return 1
    if args.check:
        print(f"up to date with Keras {keras.__version__}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
