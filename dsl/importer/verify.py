"""The imported kd checked against the saved model it came from.

kdsl's checker evaluates the kd text (no Keras) and the layer of every
call is compared with the call of the saved graph it should make: its
name, its class, its output shapes where the config recorded them.  The
inputs' and outputs' names are compared too.  A name kd left to Keras that
came out different is reported, so that the next attempt writes it.
"""

from __future__ import annotations

from ..records import field, record

from .. import catalog as kcat
from ..compiler import check_text
from ..diagnostics import render


@record
class Findings:
    """What differs: names to write explicitly (kd model -> names), and
    problems no retry can fix."""

    rename: dict = field(default_factory=dict)
    problems: list = field(default_factory=list)


def check_import(text: str, models: list, filename: str) -> Findings:
    """Check TEXT (the imported kd) and compare each model in MODELS
    (program.ModelPlan) with the graph it came from."""
    result = check_text(text, filename)
    errors = [d for d in result.diagnostics if d.is_error]
    if errors:
        raise ImportBug("the imported kd does not check:\n" + render(errors, "human", {filename: text}))
    findings = Findings()
    for plan in models:
        graph = result.graphs.get(plan.kd_name)
        if graph is None:
            raise ImportBug(f"model `{plan.kd_name}` was not checked")
        _compare(plan, graph, findings)
    return findings


def _compare(plan, checked, findings: Findings) -> None:
    nodes = checked.nodes
    if len(nodes) != len(plan.calls):
        findings.problems.append(f"model `{plan.kd_name}`: kd makes {len(nodes)} calls, the saved model has {len(plan.calls)}")
        return
    for node, call in zip(nodes, plan.calls):
        layer = call.layer
        inst = node.instance
        if inst.name != layer.name:
            if call.index == 0:
                findings.rename.setdefault(plan.kd_name, set()).add(layer.name)
            else:
                findings.problems.append(f"`{layer.name}` is called `{inst.name}` in kd")
            continue
        expected = _class_of(plan, layer)
        if expected is not None and _class_shown(inst) != expected:
            findings.problems.append(f"`{layer.name}` is a {_class_shown(inst)} in kd, a {expected} in the saved model")
        outputs = node.outputs if isinstance(node.outputs, (list, tuple)) else [node.outputs]
        for index, shape in call.shapes.items():
            if index < len(outputs) and not _fits(outputs[index].type.shape, shape):
                findings.problems.append(f"`{layer.name}` gives {outputs[index].type.shape} in kd, {shape} in the saved model")
    names = [spec.name for spec in checked.inputs]
    if names != [ref[0] for ref in plan.graph.inputs]:
        findings.problems.append(f"model `{plan.kd_name}`: inputs {names}, saved {[r[0] for r in plan.graph.inputs]}")
    names = [spec.name for spec in checked.outputs]
    if names != [ref[0] for ref in plan.graph.outputs]:
        findings.problems.append(f"model `{plan.kd_name}`: outputs {names}, saved {[r[0] for r in plan.graph.outputs]}")


def _class_of(plan, layer):
    made = plan.constructs[layer.name]
    if made.kind in ("model", "application"):
        return "Functional"
    if made.kind == "layer" or made.kind == "merge":
        return kcat.load().layer(made.callee).keras_class
    return layer.cls


def _class_shown(inst) -> str:
    if inst.kind in ("model", "application"):
        return "Functional"
    if inst.kind == "layer":
        return kcat.load().layer(inst.cls).keras_class
    return inst.cls


def _fits(ours, theirs) -> bool:
    if ours is None:
        return False
    ours, theirs = tuple(ours), tuple(theirs)
    return len(ours) == len(theirs) and all(a == b or b is None for a, b in zip(ours, theirs))


class ImportBug(Exception):
    """The importer wrote kd that does not make the saved model: a bug in
    kdsl, never the user's."""
