"""`kdsl fmt` settings from `[tool.kdsl]` in the nearest pyproject.toml.

As ruff does, the nearest pyproject.toml above a file that has a
`[tool.kdsl]` table is used (one without that table is passed over).  The
one setting is `line-length`.  Python 3.11+ reads the file with `tomllib`;
on 3.10 a small reader takes just that key from that table (kdsl adds no
dependency for it).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Optional

from .widths import MAX_LINE_LENGTH, MIN_LINE_LENGTH

try:  # Python 3.11+
    import tomllib
except ImportError:  # pragma: no cover - Python 3.10
    tomllib = None


class ConfigError(Exception):
    """A pyproject.toml that cannot be read, or a bad `[tool.kdsl]` value."""


def _tool_table(path: Path) -> Optional[dict]:
    """The `[tool.kdsl]` table of pyproject.toml PATH, or None."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    if tomllib is None:
        return _minimal_table(text, path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    table = data.get("tool", {}).get("kdsl") if isinstance(data.get("tool"), dict) else None
    return table if isinstance(table, dict) else None


_HEADER = re.compile(r"^\s*\[\s*([^\]]+?)\s*\]\s*(#.*)?$")
_LINE_LENGTH = re.compile(r"""^\s*(line-length|"line-length"|'line-length')\s*=\s*([^#\s]+)\s*(#.*)?$""")


def _minimal_table(text: str, path: Path) -> Optional[dict]:
    """`line-length` of `[tool.kdsl]`, read without a TOML library."""
    table = None
    current = None
    for line in text.splitlines():
        header = _HEADER.match(line)
        if header:
            current = re.sub(r"\s+", "", header.group(1).replace('"', "").replace("'", ""))
            if current == "tool.kdsl":
                table = {} if table is None else table
            continue
        if current == "tool.kdsl":
            found = _LINE_LENGTH.match(line)
            if found:
                value = found.group(2).replace("_", "")
                if not value.lstrip("+-").isdigit():
                    raise ConfigError(f"{path}: [tool.kdsl] line-length must be an integer, not {found.group(2)}")
                table["line-length"] = int(value)
    return table


def _check(value, path: Path) -> int:
    if type(value) is not int or not MIN_LINE_LENGTH <= value <= MAX_LINE_LENGTH:
        raise ConfigError(
            f"{path}: [tool.kdsl] line-length must be an integer from {MIN_LINE_LENGTH} to "
            f"{MAX_LINE_LENGTH}, not {value!r}"
        )
    return value


class Settings:
    """Finds the settings of each source, reading each pyproject.toml once."""

    def __init__(self) -> None:
        self._tables: dict = {}  # pyproject path -> its [tool.kdsl] table or None

    def pyproject_for(self, start: Path) -> Optional[Path]:
        """The nearest pyproject.toml with a [tool.kdsl] table, at START or above."""
        for folder in [start, *start.parents]:
            candidate = folder / "pyproject.toml"
            if candidate.is_file():
                if candidate not in self._tables:
                    self._tables[candidate] = _tool_table(candidate)
                if self._tables[candidate] is not None:
                    return candidate
        return None

    def line_length(self, start: Path) -> Optional[int]:
        """`line-length` from the pyproject.toml that applies at START, or None."""
        found = self.pyproject_for(start.resolve())
        if found is None:
            return None
        value = self._tables[found].get("line-length")
        return None if value is None else _check(value, found)
