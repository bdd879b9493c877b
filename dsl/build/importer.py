"""An import hook: `import models.net` finds `models/net.kd` on sys.path,
compiles it in memory and runs the generated module.

    import dsl.autoload           # or: dsl.install_import_hook()
    import models.net
    model = models.net.build_net()

The finder comes last on `sys.meta_path`, so a real `net.py` (or a package
`net/`) wins over `net.kd`, as it would over any other kind of module.

The cache.  The generated text is kept in `__pycache__/NAME.kdsl.py` beside
the source (under `sys.pycache_prefix` when set; not written when
`sys.dont_write_bytecode`), written atomically.  It is plain Python source
followed by one comment line holding a JSON manifest: the cache format,
kdsl's version, a fingerprint of the installed compiler (its files' sizes and
times, so a changed checkout with the same version is not trusted), the
SHA-256 of the module text, and the relative path and SHA-256 of every kd
file the module was compiled from (the source and each file it imports,
transitively).  An entry is used only when every one of those still
matches, when it is a regular file of at most `MAX_CACHE_BYTES`, owned by
this user and writable by no one else, and when its text starts with kdsl's
generated header; anything else is ignored and compiled again.  Nothing in
it is unpickled or unmarshalled: the JSON is parsed, the text is compiled.

What that trusts: the cached text is code that runs on import, like the
`.pyc` files Python keeps beside `.py` files.  Whoever can write to the
folder of `net.kd` can already run code in the importing process (by writing
`net.py` beside it, which wins); the checks above make a corrupt, stale or
foreign entry harmless, not a forged one from someone who can write there.
"""

from __future__ import annotations

import hashlib
import importlib.abc
import importlib.util
import json
import os
import stat
import sys
import tempfile
import warnings
from functools import lru_cache
from pathlib import Path
from typing import Optional

CACHE_FORMAT = 1
CACHE_SUFFIX = ".kdsl.py"
MANIFEST_PREFIX = "# kdsl-import-cache: "
MAX_CACHE_BYTES = 64 * 1024 * 1024

# What the imports of this process did; the tests read it to see the cache work.
STATS = {"compiled": 0, "cached": 0}


class KdImportError(ImportError):
    """A .kd file could not be imported: its diagnostics, in `.diagnostics`;
    the message is the diagnostics as `kdsl check` prints them."""

    def __init__(self, message: str, diagnostics: list, *, name: Optional[str] = None, path: Optional[str] = None):
        super().__init__(message, name=name, path=path)
        self.diagnostics = list(diagnostics)


class KdWarning(UserWarning):
    """Warnings of kdsl about a .kd file that was imported."""


# ------------------------------------------------------------------ finding


class KdFinder(importlib.abc.MetaPathFinder):
    """Finds `NAME.kd` in the folders of sys.path (or of the parent package)."""

    def find_spec(self, fullname: str, path=None, target=None):
        tail = fullname.rpartition(".")[2]
        if not tail.isidentifier():
            return None
        for entry in sys.path if path is None else path:
            if not isinstance(entry, str):
                continue
            candidate = Path(entry or os.getcwd()) / f"{tail}.kd"
            if candidate.is_file():
                loader = KdLoader(fullname, candidate)
                return importlib.util.spec_from_file_location(fullname, candidate, loader=loader)
        return None


class KdLoader(importlib.abc.Loader):
    """Runs the module generated from one .kd file."""

    def __init__(self, fullname: str, path: Path):
        self.name = fullname
        self.path = path
        self._text: Optional[str] = None  # what the last exec_module ran

    def exec_module(self, module) -> None:
        text, code_filename, shown_warnings = load_module_text(self.path, self.name)
        for shown in shown_warnings:
            warnings.warn(shown, KdWarning, stacklevel=2)
        self._text = text
        code = compile(text, code_filename, "exec", dont_inherit=True)
        exec(code, module.__dict__)  # the module kdsl generated, never text from the kd source

    def get_source(self, fullname: str) -> str:
        """The generated module's text (for tracebacks and inspect): the
        text that ran, once the module was executed."""
        if self._text is not None:
            return self._text
        return load_module_text(self.path, fullname)[0]

    def is_package(self, fullname: str) -> bool:
        return False


# ------------------------------------------------------------------ loading


def load_module_text(source: Path, fullname: str) -> tuple:
    """(module text, the file name to compile it under, warnings to show):
    from the cache when it is valid, else compiled and cached."""
    cache = cache_path(source)
    cached = read_cache(cache, source)
    if cached is not None:
        STATS["cached"] += 1
        text, manifest = cached
        return text, str(cache), manifest["warnings"]
    STATS["compiled"] += 1
    text, files, shown_warnings = compile_for_import(source, fullname)
    written = not sys.dont_write_bytecode and write_cache(cache, source, text, files, shown_warnings)
    # A missing file makes linecache ask the loader's get_source instead.
    return text, str(cache) if written else f"{source}{CACHE_SUFFIX}", shown_warnings


def compile_for_import(source: Path, fullname: str) -> tuple:
    """(module text, [(path, text) of every kd file used], rendered warnings);
    raises KdImportError on errors."""
    from ..compiler import compile_text
    from ..diagnostics import KdError, render
    from ..syntax import read_source

    display = str(source)
    try:
        text = read_source(source, display)
    except KdError as err:
        raise KdImportError(render(err.diagnostics, "human", {}), err.diagnostics, name=fullname, path=display) from None
    result = compile_text(text, display, source, source.name)
    sources = result.check.program.sources if result.check is not None else {display: text}
    if not result.ok:
        message = render(result.diagnostics, "human", sources)
        raise KdImportError(message, result.diagnostics, name=fullname, path=display)
    files = [(f.path, f.module.source) for f in result.check.program.files if f.path is not None]
    shown = [render([d], "human", sources) for d in result.diagnostics]
    return result.text, files, shown


# ------------------------------------------------------------------ the cache


def cache_path(source: Path) -> Path:
    """Where the cache entry of SOURCE lives, as Python places `.pyc` files."""
    stem = source.name[: -len(".kd")]
    folder = source.parent
    if sys.pycache_prefix:
        absolute = Path(os.path.abspath(folder))
        return Path(sys.pycache_prefix, *absolute.parts[1:], f"{stem}{CACHE_SUFFIX}")
    return folder / "__pycache__" / f"{stem}{CACHE_SUFFIX}"


@lru_cache(maxsize=None)
def compiler_fingerprint() -> str:
    """kdsl's version and the sizes and times of the compiler's files: a
    development checkout keeps its version while its code changes."""
    from .. import __version__

    package = Path(__file__).resolve().parent.parent
    folders = [package] + [package.parent / name for name in ("grammar", "templates") if not (package / name).is_dir()]
    digest = hashlib.sha256(__version__.encode())
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.suffix in (".py", ".json", ".lark", ".j2") and "__pycache__" not in path.parts:
                info = path.stat()
                digest.update(f"{path.relative_to(folder)}\0{info.st_size}\0{info.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _manifest(source: Path, body: str, files: list, shown_warnings: list) -> Optional[dict]:
    """The manifest of an entry, or None when a kd file changed while it was
    compiled (its bytes now differ from the text that was compiled).  The
    source comes first, by its own name; imported files follow, relative to
    the source's (resolved) folder, so a moved project keeps its cache."""
    from .. import __version__

    folder, main = source.parent.resolve(), source.resolve()
    entries = []
    for path, compiled_text in sorted(files, key=lambda item: Path(item[0]) != main):
        try:
            data = Path(path).read_bytes()
        except OSError:
            return None
        if data.decode("utf-8-sig", "replace") != compiled_text:
            return None
        name = source.name if Path(path) == main else os.path.relpath(path, folder).replace(os.sep, "/")
        entries.append([name, _sha256(data)])
    if not entries or entries[0][0] != source.name:
        return None
    return {"format": CACHE_FORMAT, "kdsl": __version__, "compiler": compiler_fingerprint(),
            "module_sha256": _sha256(body.encode("utf-8")), "sources": entries, "warnings": shown_warnings}


def write_cache(cache: Path, source: Path, text: str, files: list, shown_warnings: list) -> bool:
    """Store TEXT for SOURCE; False when it was not stored (never an error)."""
    body = text if text.endswith("\n") else text + "\n"
    manifest = _manifest(source, body, files, shown_warnings)
    if manifest is None:
        return False
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        # Python gives a .pyc its source's mode; writable by the owner only
        # here, whatever the umask, or the entry would never be trusted.
        mode = (source.stat().st_mode & 0o644) | 0o600
        _write_atomically(cache, body + MANIFEST_PREFIX + json.dumps(manifest, ensure_ascii=True) + "\n", mode)
    except OSError:
        return False  # a read-only tree imports all the same, compiling each time
    return True


def _write_atomically(path: Path, text: str, mode: int) -> None:
    """PATH is always the old entry, or the whole new one (a rename)."""
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        try:
            os.unlink(temp)
        except OSError:
            pass
        raise


def _trusted_file(cache: Path) -> bool:
    try:
        info = os.lstat(cache)
    except OSError:
        return False
    if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_CACHE_BYTES:
        return False
    if hasattr(os, "getuid") and (info.st_uid != os.getuid() or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)):
        return False
    return True


def _valid_manifest(manifest, text: str, source: Path) -> bool:
    from .. import __version__
    from ..files import HEADER_PREFIX

    if not isinstance(manifest, dict):
        return False
    expected = {"format": CACHE_FORMAT, "kdsl": __version__, "compiler": compiler_fingerprint(),
                "module_sha256": _sha256(text.encode("utf-8"))}
    if any(manifest.get(key) != value for key, value in expected.items()) or not text.startswith(HEADER_PREFIX):
        return False
    sources, shown = manifest.get("sources"), manifest.get("warnings")
    if not isinstance(shown, list) or not all(isinstance(w, str) for w in shown):
        return False
    if not isinstance(sources, list) or not sources or not isinstance(sources[0], list) or sources[0][:1] != [source.name]:
        return False
    folder = source.parent.resolve()
    return all(_source_matches(entry, folder) for entry in sources)


def _source_matches(entry, folder: Path) -> bool:
    if not (isinstance(entry, list) and len(entry) == 2 and all(isinstance(x, str) for x in entry)):
        return False
    try:
        return _sha256((folder / entry[0]).read_bytes()) == entry[1]
    except OSError:
        return False


def read_cache(cache: Path, source: Path) -> Optional[tuple]:
    """(module text, manifest) when the entry of SOURCE is valid, else None."""
    if not _trusted_file(cache):
        return None
    try:
        content = cache.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    text, sep, last = content.rstrip("\n").rpartition("\n")
    if not sep or not last.startswith(MANIFEST_PREFIX):
        return None
    try:
        manifest = json.loads(last[len(MANIFEST_PREFIX):])
    except ValueError:
        return None
    text += "\n"
    return (text, manifest) if _valid_manifest(manifest, text, source) else None


# ------------------------------------------------------------------ installing


_FINDER = KdFinder()


def install_import_hook() -> KdFinder:
    """Let `import` find .kd files (idempotent); returns the finder."""
    if _FINDER not in sys.meta_path:
        sys.meta_path.append(_FINDER)
    return _FINDER


def uninstall_import_hook() -> None:
    """Undo `install_import_hook` (modules imported already stay imported)."""
    while _FINDER in sys.meta_path:
        sys.meta_path.remove(_FINDER)
