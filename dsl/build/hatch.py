"""A hatchling build hook: compile the project's .kd files when a wheel or an
sdist is built, and ship the generated modules in it (none is committed).

    [build-system]
    requires = ["hatchling", "keras-kdsl"]
    build-backend = "hatchling.build"

    [tool.hatch.build.hooks.kdsl]
    paths = ["src/mypkg/models"]  # optional; default: the .kd files the target ships
    out-dir = "src/mypkg/nets"    # optional; default: each module beside its source
    strict = true                 # optional; warnings fail the build too

Paths are relative to the project's root.  A module goes where it would lie
in the source tree (`src/mypkg/models/net.py` for `src/mypkg/models/net.kd`),
and hatch maps that place into the wheel as it maps the tree's files
(`mypkg/models/net.py` when the wheel's `packages` is `["src/mypkg"]`).  A
file already at that place in the tree (an sdist's copy) is replaced by the
one generated now.  Editable builds generate nothing: see the import hook.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface
from hatchling.plugin import hookimpl

from .generate import Job, compile_jobs, jobs_for, module_path, require_success

PLUGIN_NAME = "kdsl"


class KdslBuildHook(BuildHookInterface):
    """Generates the module of each configured .kd file into the build."""

    PLUGIN_NAME = PLUGIN_NAME

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if version == "editable":
            return
        strict = self._option("strict", bool, False)
        jobs = self._jobs()
        outcomes = compile_jobs(jobs, strict)
        require_success(outcomes, f"the {self.target_name} build")
        self._staging = Path(tempfile.mkdtemp(prefix="kdsl-hatch-"))
        atexit.register(shutil.rmtree, self._staging, ignore_errors=True)  # also after a failed build
        root = Path(self.root)
        for outcome in outcomes:
            relative = _inside(outcome.job.target, root)
            staged = self._staging / relative
            staged.parent.mkdir(parents=True, exist_ok=True)
            staged.write_text(outcome.text, encoding="utf-8", newline="\n")
            build_data["force_include"][str(staged)] = relative
        self.app.display_info(f"kdsl: generated {len(outcomes)} module(s) for the {self.target_name}")

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        staging = getattr(self, "_staging", None)
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)

    def _option(self, name: str, kind: type, default):
        value = self.config.get(name, default)
        if not isinstance(value, kind):
            raise TypeError(f"option `{name}` of build hook `{PLUGIN_NAME}` must be a {kind.__name__}")
        return value

    def _jobs(self) -> list:
        root = Path(self.root).resolve()
        out = self._option("out-dir", str, "")
        out_dir = root / out if out else None
        if out_dir is not None and root not in (out_dir.resolve(), *out_dir.resolve().parents):
            raise ValueError(f"option `out-dir` of build hook `{PLUGIN_NAME}` must lie inside the project")
        paths = self._option("paths", list, [])
        if not all(isinstance(p, str) for p in paths):
            raise TypeError(f"option `paths` of build hook `{PLUGIN_NAME}` must be a list of strings")
        if paths:
            return jobs_for(paths, out_dir, root)
        return [Job(Path(f), module_path(Path(f), out_dir, root), Path(f).relative_to(root).as_posix())
                for f in self._shipped_kd_files(root)]

    def _shipped_kd_files(self, root: Path) -> list:
        """The .kd files the target includes, under its own file selection."""
        found = {Path(f.path).resolve() for f in self.build_config.builder.recurse_included_files()
                 if f.path.endswith(".kd")}
        return sorted(p for p in found if root in p.parents)


def _inside(target: Path, root: Path) -> str:
    """TARGET relative to ROOT, `/`-separated; an error when it lies outside."""
    try:
        return target.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        raise ValueError(f"build hook `{PLUGIN_NAME}`: {target} lies outside the project; "
                         "list only paths inside it") from None


@hookimpl
def hatch_register_build_hook():
    """Hatch's entry point: the `kdsl` build hook."""
    return KdslBuildHook
