"""The package's shape: stages as packages, each importing only from the
stages before it, and no import cycle anywhere (function-local imports
count too).  The table below is the pipeline; docs/design.md draws it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "dsl"

# Each module's stage, by its dotted name under `dsl` (a package entry covers
# all its modules).  A module may import from earlier stages and, within its
# own package, from its siblings; never from a later stage nor from another
# package of the same stage (checking and code generation stay apart).
STAGES = {
    # leaves: facts and plumbing that know nothing of kd's syntax
    "records": -2, "vendor": -1, "span": 0, "codes": 0, "limits": 0, "resources": 0, "files": 0,
    "namespaces": 0, "synthetic": 0, "highlight": 0, "patterns": 0,
    "diagnostics": 1, "runtime": 1,
    "catalog": 2, "data": 2, "ops_catalog": 2.5, "shapes": 2.7,
    # the pipeline
    "syntax": 3,
    "semantics": 4, "fmt": 4,
    "check": 5, "codegen": 5,
    "compiler": 6, "summary": 6, "session": 6.5,
    "api": 7, "graphview": 7, "diff": 7, "importer": 7,
    "lsp": 7.5, "cli": 8, "build": 8,
    "autoload": 9,
    "__init__": 9, "__main__": 9,
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts.pop()
    return ".".join(parts)


def _is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> list:
    """The dsl modules an import statement names (relative or absolute)."""
    if node.level == 0:
        if not (node.module or "").startswith("dsl"):
            return []
        base = node.module.split(".")[1:]
    else:
        here = module.split(".") if module != "__init__" else []
        package = here if is_package else here[:-1]
        base = package[: len(package) - (node.level - 1)] + (node.module.split(".") if node.module else [])
    found = []
    for alias in node.names:
        candidate = base + [alias.name]
        found.append(".".join(candidate) if _exists(candidate) else ".".join(base))
    return [f for f in found if f]


def _exists(parts: list) -> bool:
    target = PACKAGE.joinpath(*parts)
    return target.with_suffix(".py").is_file() or (target / "__init__.py").is_file()


def _imports() -> dict:
    graph = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module_name(path)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        targets = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                targets.update(_resolve(module, _is_package(path), node))
            elif isinstance(node, ast.Import):
                targets.update(".".join(a.name.split(".")[1:]) for a in node.names if a.name.startswith("dsl."))
        targets.discard(module)
        graph[module] = {t for t in targets if t}
    return graph


def _stage(module: str) -> int:
    top = module.split(".")[0]
    if top not in STAGES:
        raise AssertionError(f"dsl.{module} has no stage in tests/test_architecture.py: add it to STAGES and docs/design.md")
    return STAGES[top]


def _package(module: str) -> str:
    return module.split(".")[0]


def test_every_module_has_a_stage():
    for module in _imports():
        _stage(module)


def test_no_upward_or_sideways_import():
    bad = []
    for module, targets in _imports().items():
        for target in targets:
            if _package(target) == _package(module):
                continue
            if _stage(target) >= _stage(module):
                bad.append(f"dsl.{module} (stage {_stage(module)}) imports dsl.{target} (stage {_stage(target)})")
    assert not bad, "\n".join(sorted(bad))


def test_no_import_cycle():
    graph = _imports()
    state: dict = {}

    def visit(module, path):
        state[module] = "active"
        for target in sorted(graph.get(module, ())):
            if state.get(target) == "active":
                cycle = path[path.index(target):] + [target] if target in path else [module, target]
                pytest.fail("import cycle: " + " -> ".join(f"dsl.{m}" for m in cycle))
            if target not in state:
                visit(target, path + [target])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])


def test_the_checker_needs_neither_codegen_nor_black():
    """`kdsl check` loads nothing of code generation (nor black, nor Jinja)."""
    graph = _imports()
    reached, stack = set(), ["check", "semantics", "syntax"]
    while stack:
        module = stack.pop()
        if module in reached:
            continue
        reached.add(module)
        stack.extend(t for t in graph.get(module, ()) if t not in reached)
        stack.extend(m for m in graph if m.startswith(module + "."))
    assert not {m for m in reached if m.startswith("codegen")}
