"""Python identifiers for kd names in the generated module.

kd names are kept; a name is renamed only where it would clash in Python: a
Python keyword (`class` -> `class_`), or a name the generated code itself
needs in that place (`keras`, `layers`, a builtin, a generated function).
Renaming appends `_`, then `_2`, `_3`, ... until the name is free.
"""

from __future__ import annotations

import itertools
import keyword
import re

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")

# Names every generated module uses at its top level.
MODULE_RESERVED = frozenset({"keras", "layers", "CUSTOM_OBJECTS"})
# Parameters the generated functions take (`name=` of a builder, `model` of a
# compile function): a block of that name would be hidden by them inside
# those functions, so no top-level definition takes one.
FUNCTION_PARAMETERS = frozenset({"name", "model"})


def is_dunder(name: str) -> bool:
    """`__builtins__`, `__getattr__`, ...: at a module's top level such a
    name changes how the module behaves (its builtins, its attribute
    lookup), so kd names never take one there."""
    return len(name) > 4 and name.startswith("__") and name.endswith("__")


def is_identifier(name: str) -> bool:
    """Whether NAME is a usable Python identifier (ASCII, not a keyword)."""
    return bool(_IDENTIFIER.match(name)) and not keyword.iskeyword(name)


class Namespace:
    """A set of Python names in use, handing out free ones."""

    def __init__(self, reserved=(), module_level: bool = False):
        self.used: set = set(reserved)
        self.module_level = module_level

    def claim(self, wanted: str) -> str:
        """A free identifier as close to WANTED as possible (WANTED, WANTED_,
        WANTED_2, ...); marks it used."""
        if not _IDENTIFIER.match(wanted):
            raise ValueError(f"not an identifier: {wanted!r}")
        return self._first_free(wanted, f"{wanted}_", (f"{wanted}_{i}" for i in itertools.count(2)))

    def temporary(self, base: str) -> str:
        """A fresh name for a value the generated code introduces: BASE,
        else BASE2, BASE3, ..."""
        return self._first_free(base, (f"{base}{i}" for i in itertools.count(2)))

    def _first_free(self, *candidates) -> str:
        for group in candidates:
            for candidate in [group] if isinstance(group, str) else group:
                if keyword.iskeyword(candidate) or candidate in self.used:
                    continue
                if not (self.module_level and (is_dunder(candidate) or candidate in FUNCTION_PARAMETERS)):
                    self.used.add(candidate)
                    return candidate
        raise AssertionError("unreachable: the counters never end")

    def reserve(self, name: str) -> None:
        self.used.add(name)

    def child(self) -> "Namespace":
        """A namespace for a function: starts from this one's names."""
        return Namespace(self.used)
