"""kdsl's DOT text is read by Graphviz itself: `dot` lays it out without a
warning, with one node per layer and output and one cluster per block call.
(`make test-browser` installs Graphviz; tests/test_graphview.py checks the
text's structure without it.)"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from dsl.graphview import render

FIXTURES = Path(__file__).parent.parent / "graph_fixtures"


@pytest.mark.parametrize("name", ["residual", "shared", "nested", "multi_io"])
@pytest.mark.parametrize("expand", [False, True])
def test_dot_renders_with_graphviz(name, expand):
    dot = shutil.which("dot")
    assert dot, "Graphviz's dot is missing: make test-browser installs it"
    document = json.loads((FIXTURES / f"{name}.json").read_text())
    text = render(document, fmt="dot", expand=expand)
    result = subprocess.run([dot, "-Tsvg"], input=text, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    model = document["models"][0]
    layers = len(model["layers"]) + len(model["outputs"])
    blocks = len(model["blocks"])
    if expand:
        nested = [e["model"] for e in model["layers"] if e["kind"] in ("model", "application")]
        layers += sum(len(m["layers"]) for m in nested) - len(nested)
        blocks += len(nested)
    assert len(re.findall(r'<g id="node\d+" class="node">', result.stdout)) == layers
    assert len(re.findall(r'<g id="clust\d+" class="cluster">', result.stdout)) == blocks
