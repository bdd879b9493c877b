"""The README shows what the code does: its kd example compiles to exactly
the Python it shows, and its error example prints exactly what it shows."""

from __future__ import annotations

import re
from pathlib import Path

from dsl.cli import main
from dsl.compiler import compile_text

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_example_compiles_to_the_python_shown():
    kd = re.search(r"```kd\n(.*?)```", README, re.S).group(1)
    python = re.search(r"```python\n(# Code generated.*?)```", README, re.S).group(1)
    result = compile_text(kd, "net.kd")
    assert result.ok and not result.diagnostics
    assert result.text == python


def test_readme_error_is_what_kdsl_prints(capsys, tmp_path, monkeypatch):
    shown = re.search(r"```text\n\$ kdsl check broken.kd\n(.*?)```", README, re.S).group(1)
    (tmp_path / "broken.kd").write_text((ROOT / "tests" / "readme" / "broken.kd").read_text())
    monkeypatch.chdir(tmp_path)
    assert main(["check", "broken.kd"]) == 1
    assert capsys.readouterr().err == shown
