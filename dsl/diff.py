"""`kdsl diff OLD.kd NEW.kd`: what changed between two architectures.

Both sides are summary documents (docs/summary-json.md); models are matched
by name, and their layers by name. A layer is added, removed, or changed:
its class, arguments, output shapes, dtype, parameter counts, frozen flag,
the tensors each call reads, or how many times it is called. A removed and
an added layer that are equal in everything but their name are reported as
one renamed layer. A model's compile settings are compared keyword by
keyword, and its layout by its mesh and rules. docs/diff.md describes the
report.
"""

from __future__ import annotations

from typing import Optional

SCHEMA = "kdsl-diff"
VERSION = 1

# The fields of a LAYER compared, in report order (`calls` stands for the
# tensors each call reads).
_FIELDS = ("class", "kind", "arguments", "output_shapes", "dtype", "params", "trainable", "non_trainable", "frozen",
           "inbound")
# Totals whose old and new values and delta are reported.
_TOTALS = ("params", "trainable", "non_trainable", "macs", "activation_bytes", "weight_bytes")


def compare(old: dict, new: dict, model: Optional[str] = None) -> dict:
    """The diff report of two summary documents (only model MODEL when
    given). `same` is true when every model is the same in both."""
    old_models = {m["name"]: m for m in old.get("models", [])}
    new_models = {m["name"]: m for m in new.get("models", [])}
    names = list(dict.fromkeys([*old_models, *new_models]))
    if model is not None:
        names = [n for n in names if n == model]
    models = [_compare_model(name, old_models.get(name), new_models.get(name)) for name in names]
    return {
        "schema": SCHEMA,
        "version": VERSION,
        "old": old.get("file"),
        "new": new.get("file"),
        "same": all(m["status"] == "same" for m in models),
        "models": models,
    }


def _compare_model(name: str, old: Optional[dict], new: Optional[dict]) -> dict:
    if old is None or new is None:
        present = new if old is None else old
        return {"name": name, "status": "added" if old is None else "removed",
                "layers": len(present["layers"]), "totals": _totals(old, new)}
    old_layers = {e["name"]: e for e in old["layers"]}
    new_layers = {e["name"]: e for e in new["layers"]}
    added = [_brief(e) for n, e in new_layers.items() if n not in old_layers]
    removed = [_brief(e) for n, e in old_layers.items() if n not in new_layers]
    renamed = _renames(removed, added, old_layers, new_layers)
    renames = {r["old"]: r["new"] for r in renamed}
    changed = []
    for layer_name, before in old_layers.items():
        after = new_layers.get(layer_name)
        if after is not None:
            changes = _layer_changes(before, after, renames)
            if changes:
                changed.append({"name": layer_name, "class": after["class"], "changes": changes,
                                "delta": _deltas(before, after)})
    io = {key: [old[key], new[key]] for key in ("inputs", "outputs") if _io(old[key]) != _io(new[key])}
    # A keyword not given is null on its side: Keras's default applies.
    settings = _argument_changes(old.get("compile") or {}, new.get("compile") or {})
    layout = _layout_changes(old.get("layout"), new.get("layout"))
    differs = bool(added or removed or renamed or changed or io or settings or layout)
    return {
        "name": name,
        "status": "changed" if differs else "same",
        "added": added,
        "removed": removed,
        "renamed": renamed,
        "changed": changed,
        "io": io,
        "compile": settings,
        "layout": layout,
        "totals": _totals(old, new),
    }


def _layout_changes(old: Optional[dict], new: Optional[dict]) -> dict:
    """{"mesh": [old, new]} when the meshes differ, {"rules": {pattern:
    [old axes, new axes]}} for each rule added, removed or changed (null
    on the side without it). The weights the rules place follow from the
    layers, which are compared on their own."""
    changes = {}
    old_mesh, new_mesh = (old or {}).get("mesh"), (new or {}).get("mesh")
    if old_mesh != new_mesh:
        changes["mesh"] = [old_mesh, new_mesh]
    rules = _argument_changes(_rules(old), _rules(new))
    if rules:
        changes["rules"] = rules
    return changes


def _rules(layout: Optional[dict]) -> dict:
    return {r.get("pattern"): r.get("axes") for r in (layout or {}).get("rules", [])}


def _io(entries: list) -> list:
    return [(e.get("name"), e.get("shape"), e.get("dtype")) for e in entries]


def _brief(entry: dict) -> dict:
    """What the report says of an added or removed layer."""
    return {key: entry.get(key) for key in ("name", "class", "output_shapes", "params", "macs", "block")}


def _reads(entry: dict) -> list:
    """The tensors each call reads, as `layer[call][tensor]` strings."""
    return [[f"{r['layer']}[{r['call']}][{r['tensor']}]" for r in call.get("inbound", [])] for call in entry.get("calls", [])]


def _layer_changes(before: dict, after: dict, renames: Optional[dict] = None) -> dict:
    """{field: [old, new]} for every compared field that differs (`arguments`
    as {argument: [old, new]}). RENAMES maps old names of the layers read to
    new ones, for a renamed layer's comparison."""
    changes = {}
    for key in _FIELDS:
        old_value, new_value = before.get(key), after.get(key)
        if key == "inbound" and renames:
            old_value = [renames.get(n, n) for n in old_value or []]
        if key == "arguments":
            args = _argument_changes(old_value or {}, new_value or {})
            if args:
                changes[key] = args
        elif old_value != new_value:
            changes[key] = [old_value, new_value]
    reads_before, reads_after = _reads(before), _reads(after)
    if renames:
        reads_before = [[_rename_read(r, renames) for r in call] for call in reads_before]
    if reads_before != reads_after and "inbound" not in changes:
        changes["calls"] = [reads_before, reads_after]
    return changes


def _rename_read(read: str, renames: dict) -> str:
    name, _, rest = read.partition("[")
    return f"{renames.get(name, name)}[{rest}"


def _argument_changes(old: dict, new: dict) -> dict:
    """{argument: [old, new]}; an argument left at its default is absent
    from a side (null in the report)."""
    keys = list(dict.fromkeys([*old, *new]))
    return {k: [old.get(k), new.get(k)] for k in keys if old.get(k) != new.get(k)}


def _delta(old, new):
    return None if old is None or new is None else new - old


def _deltas(before: dict, after: dict) -> dict:
    return {key: _delta(before.get(key), after.get(key)) for key in ("params", "macs")}


def _totals(old: Optional[dict], new: Optional[dict]) -> dict:
    out = {}
    for key in _TOTALS:
        a = old["totals"].get(key) if old is not None else None
        b = new["totals"].get(key) if new is not None else None
        out[key] = {"old": a, "new": b, "delta": _delta(a if old is not None else 0, b if new is not None else 0)}
    return out


def _renames(removed: list, added: list, old_layers: dict, new_layers: dict) -> list:
    """Pairs of a removed and an added layer equal in everything but their
    name (and the renamed layers they read), taken out of REMOVED and ADDED."""
    renames: dict = {}
    progress = True
    while progress:  # a rename can make the layers reading it match in turn
        progress = False
        for gone in list(removed):
            matches = [n for n in added if not _layer_changes(old_layers[gone["name"]], new_layers[n["name"]], renames)]
            if len(matches) == 1:
                renames[gone["name"]] = matches[0]["name"]
                removed.remove(gone)
                added.remove(matches[0])
                progress = True
    return [{"old": a, "new": b, "class": new_layers[b]["class"]} for a, b in renames.items()]


# ------------------------------------------------------------------ text


def _shapes(shapes) -> str:
    if not isinstance(shapes, list):
        return "?"
    parts = []
    for shape in shapes:
        if shape is None:
            parts.append("?")
        else:
            dims = ["None" if d is None else str(d) for d in shape]
            parts.append(f"({dims[0]},)" if len(dims) == 1 else "(" + ", ".join(dims) + ")")
    return parts[0] if len(parts) == 1 else "[" + ", ".join(parts) + "]"


def _count(value) -> str:
    return "?" if value is None else f"{value:,}"


def _signed(value) -> str:
    return "?" if value is None else f"{value:+,}"


def _show(key: str, value) -> str:
    if key == "output_shapes":
        return _shapes(value)
    if key in ("params", "trainable", "non_trainable"):
        return _count(value)
    if key == "calls":
        return "; ".join(", ".join(call) or "-" for call in value) or "-"
    if key == "inbound":
        return ", ".join(value) if value else "-"
    return "(default)" if value is None else repr(value) if isinstance(value, str) else str(value)


def _change_text(changes: dict) -> list:
    parts = []
    for key, value in changes.items():
        if key == "trainable" and ("params" in changes or "frozen" in changes):
            continue  # params less non-trainable: the lines beside it say it
        if key == "arguments":
            parts.extend(f"{arg}: {_show(arg, a)} -> {_show(arg, b)}" for arg, (a, b) in value.items())
        else:
            label = {"output_shapes": "output", "inbound": "reads", "calls": "calls read"}.get(key, key)
            parts.append(f"{label}: {_show(key, value[0])} -> {_show(key, value[1])}")
    return parts


def render_text(report: dict) -> str:
    """The report as text, one paragraph per model."""
    out = [f"--- {report['old']}", f"+++ {report['new']}"]
    for model in report["models"]:
        out.extend(_model_text(model))
    if not report["models"]:
        out.append("no models")
    return "\n".join(out) + "\n"


def _model_text(model: dict) -> list:
    name, status = model["name"], model["status"]
    if status in ("added", "removed"):
        side = "new" if status == "added" else "old"
        totals = {key: {"old": item[side], "new": item[side]} for key, item in model["totals"].items()}
        return [f'Model "{name}": {status} ({model["layers"]} layers)'] + _totals_text(totals)
    if status == "same":
        return [f'Model "{name}": the same']
    counts = [f"{len(model[k])} {k}" for k in ("changed", "added", "removed", "renamed") if model[k]]
    if not counts and model["io"]:
        counts.append("inputs or outputs changed")
    settings, layout = model.get("compile") or {}, model.get("layout") or {}
    if settings:
        counts.append("compile settings changed")
    if layout:
        counts.append("layout changed")
    lines = [f'Model "{name}": ' + ", ".join(counts)]
    for key, (a, b) in model["io"].items():
        lines.append(f"  {key:<8} {_io_text(a)} -> {_io_text(b)}")
    for keyword, (a, b) in settings.items():
        lines.append(f"  compile  {keyword}: {_show(keyword, a)} -> {_show(keyword, b)}")
    if "mesh" in layout:
        lines.append(f"  layout   mesh: {_mesh_text(layout['mesh'][0])} -> {_mesh_text(layout['mesh'][1])}")
    for pattern, (a, b) in layout.get("rules", {}).items():
        lines.append(f"  layout   {pattern!r}: {_axes_text(a)} -> {_axes_text(b)}")
    for entry in model["changed"]:
        deltas = [f"{k} {_signed(v)}" for k, v in entry["delta"].items() if v]
        head = f"  changed  {entry['name']} ({entry['class']})" + (f"  [{', '.join(deltas)}]" if deltas else "")
        lines.append(head)
        lines.extend(f"             {part}" for part in _change_text(entry["changes"]))
    for key, sign in (("added", "+"), ("removed", "-")):
        for entry in model[key]:
            lines.append(f"  {key:<8} {entry['name']} ({entry['class']})  {_shapes(entry['output_shapes'])}"
                         f"  params {sign}{_count(entry['params'])}  MACs {sign}{_count(entry['macs'])}")
    for entry in model["renamed"]:
        lines.append(f"  renamed  {entry['old']} -> {entry['new']} ({entry['class']})")
    return lines + _totals_text(model["totals"])


def _mesh_text(mesh) -> str:
    if mesh is None:
        return "(no layout)"
    return "{" + ", ".join(f"{axis!r}: {size}" for axis, size in mesh.items()) + "}"


def _axes_text(axes) -> str:
    if axes is None:
        return "(none)"
    shown = ["None" if a is None else repr(a) for a in axes or []]
    return "(" + ", ".join(shown) + ("," if len(shown) == 1 else "") + ")"


def _io_text(entries: list) -> str:
    return ", ".join(f"{e.get('name')} {_shapes([e.get('shape')])}" for e in entries) or "-"


def _totals_text(totals: dict) -> list:
    labels = {"params": "Total params", "trainable": "Trainable params", "non_trainable": "Non-trainable params",
              "macs": "MACs per example", "activation_bytes": "Activation bytes per example",
              "weight_bytes": "Weight bytes"}
    lines = []
    for key, label in labels.items():
        item = totals[key]
        if item["old"] == item["new"]:
            lines.append(f"  {label}: {_count(item['new'])}")
        else:
            lines.append(f"  {label}: {_count(item['old'])} -> {_count(item['new'])} ({_signed(item['delta'])})")
    return lines


__all__ = ["SCHEMA", "VERSION", "compare", "render_text"]
