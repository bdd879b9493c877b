"""The text of the boxes, and the sizes the boxes need for it.

Sizes are estimated from character counts in a monospaced font (the pictures
ask for one), so the layout needs no font metrics and stays deterministic.
"""

from __future__ import annotations

FONT_SIZE = 12
CHAR_WIDTH = 7.3  # a 12px monospaced glyph is 0.6em wide; a little room on top
LINE_HEIGHT = 15
BOX_PAD_X = 8
BOX_PAD_Y = 5
MIN_BOX_WIDTH = 96
MAX_LINE_CHARS = 44


def format_dim(dim) -> str:
    """One dimension as Keras prints it (None for unknown)."""
    return "None" if dim is None else str(dim)


def format_shape(shape) -> str:
    """A shape as Keras prints it: (None, 32, 32, 3); `?` when unknown."""
    if shape is None:
        return "?"
    if not isinstance(shape, list):
        return str(shape)
    if len(shape) == 1:
        return f"({format_dim(shape[0])},)"
    return "(" + ", ".join(format_dim(d) for d in shape) + ")"


def format_shapes(shapes) -> str:
    """The output shapes of a layer's first call."""
    if not isinstance(shapes, list) or not shapes:
        return "?"
    return " | ".join(format_shape(s) for s in shapes)


def format_count(count) -> str:
    """A parameter count with thousands separators; `?` when unknown."""
    if count is None:
        return "?"
    try:
        return f"{int(count):,}"
    except (TypeError, ValueError):
        return "?"


def format_macs(count) -> str:
    """A MAC count in three significant figures: 640, 151M, 3.86G."""
    value = float(count)
    for unit in ("", "K", "M", "G", "T"):
        if abs(value) < 999.5:
            return f"{int(value)}{unit}" if not unit else f"{value:.3g}{unit}"
        value /= 1000
    return f"{value:.3g}P"


def _macs(entry: dict) -> str:
    """` · 151M MACs` for a layer or block whose MACs are known and not 0."""
    macs = entry.get("macs") if isinstance(entry, dict) else entry
    if isinstance(macs, int) and not isinstance(macs, bool) and macs > 0:
        return f" \u00b7 {format_macs(macs)} MACs"
    return ""


def clip(text: str) -> str:
    """TEXT cut to what one box line holds (the full text is in the title)."""
    return text if len(text) <= MAX_LINE_CHARS else text[: MAX_LINE_CHARS - 1] + "\u2026"


def layer_lines(entry: dict) -> list:
    """The lines of a layer's box: name, class, output shape, parameters
    and MACs."""
    kind = entry.get("kind", "layer")
    klass = str(entry.get("class", ""))
    calls = entry.get("calls") or []
    if len(calls) > 1:
        klass += f" \u00d7{len(calls)} calls"
    if entry.get("frozen"):
        klass += " (frozen)"
    lines = [str(entry.get("name", "")), klass, format_shapes(entry.get("output_shapes"))]
    params = entry.get("params")
    if kind != "input" and not (kind == "op" and params == 0):
        lines.append(f"params {format_count(params)}{_macs(entry)}")
    return [clip(line) for line in lines]


def block_lines(title: str, layer_count: int, params, macs=None) -> list:
    """The lines of a collapsed block's box."""
    return [clip(title), clip(f"{layer_count} layers \u00b7 params {format_count(params)}{_macs(macs)}")]


def output_lines(name: str, shape) -> list:
    """The lines of an output terminal."""
    return [clip(f"output {name}"), clip(format_shape(shape))]


def box_size(lines: list) -> tuple:
    """Width and height of a box holding LINES."""
    longest = max((len(line) for line in lines), default=0)
    width = max(MIN_BOX_WIDTH, round(longest * CHAR_WIDTH + 2 * BOX_PAD_X))
    height = len(lines) * LINE_HEIGHT + 2 * BOX_PAD_Y
    return float(width), float(height)
