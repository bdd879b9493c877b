"""docs/images/editor-hover.png is taken by scripts/editor_screenshot.py from
the language server's real answers; this runs the script in Chromium and
checks the page holds those answers and the picture is a real screenshot."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_editor_screenshot_shows_the_servers_hints_and_hover(tmp_path):
    png, page = tmp_path / "editor.png", tmp_path / "editor.html"
    subprocess.run([sys.executable, str(ROOT / "scripts" / "editor_screenshot.py"), str(png), "--html", str(page)],
                   check=True, timeout=300)
    text = page.read_text()
    hints = re.findall(r'class="hint">([^<]*)<', text)
    assert hints.count("(None, 32, 32, 128)") >= 6 and "(None, 16, 16, 128)" in hints and "(None, 1)" in hints
    assert "tensor <code>(None, 32, 32, 128)</code> float32" in text  # the hover of `y`
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    lines = len((ROOT / "examples" / "residual.kd").read_text().splitlines())
    assert (width, height) == (1280, 40 + 22 * lines) and len(data) > 50_000  # drawn text, not a blank page
