"""A kd program: the main file and the files it imports, with their names.

`load_program` parses the main source, follows `import "PATH"` lines (paths
relative to the importing file), detects cycles, and builds each file's
table of visible names: its own blocks and models, those of the files it
imports directly, and the names of its `from` lines.  Nothing named in a
`from` line is ever imported.
"""

from __future__ import annotations

from ..records import field, record
from pathlib import Path
from typing import Optional, Union

from .. import codes
from ..syntax import tree as n
from ..diagnostics import Diagnostic, KdError, Related
from ..limits import DEFAULT_LIMITS, Limits
from ..syntax.parser import parse_partial, read_source

Definition = Union[n.ModelDef, n.BlockDef]


@record(eq=False)
class SourceFile:
    """One parsed .kd file and the names it can see."""

    module: n.Module
    path: Optional[Path]  # None for text given without a file
    display: str  # the name diagnostics use
    defs: dict = field(default_factory=dict)  # own definitions by name
    visible: dict = field(default_factory=dict)  # name -> (SourceFile, Definition)
    from_names: dict = field(default_factory=dict)  # bound name -> (FromImport, ImportedName)
    imports: list = field(default_factory=list)  # SourceFiles imported directly
    import_spans: dict = field(default_factory=dict)  # id(imported SourceFile) -> the span of its import line
    # Caches of what is derived from this file's tree, owned by the file so
    # they live exactly as long as it: name -> what it refers to, and
    # id(definition) -> its Scope and BodyIndex (see semantics.scope), and
    # id(model) -> its input statements (semantics.naming.input_statements).
    resolved: dict = field(default_factory=dict)
    # An import failed, or lost statements to syntax errors: a name this file
    # cannot resolve may come from what did not load, so it is no error.
    lenient: bool = False
    scopes: dict = field(default_factory=dict)
    indexes: dict = field(default_factory=dict)
    inputs: dict = field(default_factory=dict)

    def definition(self, name: str):
        """The (file, definition) a file-level NAME refers to, or None."""
        return self.visible.get(name)


@record(eq=False)
class Program:
    main: SourceFile
    files: list  # every file, imported ones before their importers
    limits: Limits = DEFAULT_LIMITS
    problems: list = field(default_factory=list)  # syntax and import diagnostics found while loading

    @property
    def sources(self) -> dict:
        """Display name -> text, for printing diagnostics."""
        return {f.display: f.module.source for f in self.files}


def _duplicate(name: str, file: SourceFile, span: n.Span, first_file: SourceFile, first_span: n.Span) -> Diagnostic:
    related = (Related(f"`{name}` is first defined here", first_span, first_file.display),)
    return Diagnostic(codes.DUPLICATE_DEFINITION, f"`{name}` is defined twice", file.display, span, None, related)


def _own_definitions(file: SourceFile, problems: list) -> None:
    for item in file.module.definitions:
        if item.name in file.defs:
            first = file.defs[item.name]
            problems.append(_duplicate(item.name, file, item.name_span, file, first.name_span))
            continue
        file.defs[item.name] = item
        file.visible[item.name] = (file, item)


def _from_names(file: SourceFile, problems: list) -> None:
    for item in file.module.items:
        if not isinstance(item, n.FromImport):
            continue
        for imported in item.names:
            bound = imported.bound
            if bound in file.visible:
                other_file, other = file.visible[bound]
                problems.append(_duplicate(bound, file, imported.span, other_file, other.name_span))
            elif bound in file.from_names:
                problems.append(_duplicate(bound, file, imported.span, file, file.from_names[bound][1].span))
            else:
                file.from_names[bound] = (item, imported)


def _imported_definitions(file: SourceFile, problems: list) -> None:
    """Make the blocks and models of directly imported files visible."""
    for imported in file.imports:
        for name, item in imported.defs.items():
            if name in file.visible:
                other_file, other = file.visible[name]
                if other is item:
                    continue  # the same file imported twice
                # Reported in FILE, at the import that brings the second one in.
                related = (Related(f"`{name}` is defined here", item.name_span, imported.display),
                           Related(f"`{name}` is also defined here", other.name_span, other_file.display))
                problems.append(Diagnostic(codes.DUPLICATE_DEFINITION, f"`{name}` is defined twice: in "
                                           f"{imported.display} and in {other_file.display}", file.display,
                                           file.import_spans.get(id(imported), n.NO_SPAN), None, related))
                continue
            file.visible[name] = (imported, item)


class _Loader:
    """Reads, parses and links the files of a program, depth first."""

    def __init__(self, limits: Limits, read=None, parse=None):
        self.limits = limits
        self.read = read or read_source  # (path, display, limits) -> text; an editor reads its open buffers
        self.parse = parse or parse_partial  # (text, display, limits) -> (module, problems); a session caches
        self.by_path: dict = {}
        self.order: list = []
        self.active: list = []  # paths being loaded, for cycle detection
        self.problems: list = []

    def load(self, module: n.Module, path: Optional[Path], display: str) -> SourceFile:
        file = SourceFile(module, path, display)
        if path is not None:
            self.by_path[path] = file
            self.active.append(path)
        _own_definitions(file, self.problems)
        spans = [d.span for d in module.definitions]
        if any(not any(s.start <= b.span.start and b.span.end <= s.end for s in spans) for b in module.broken):
            file.lenient = True  # a definition itself was lost to a syntax error
        for item in module.items:
            if isinstance(item, n.Import):
                imported = self._import(file, item)
                if imported is None or imported.module.broken:
                    file.lenient = True  # its names may come from what did not load
                if imported is not None and imported not in file.imports:
                    file.imports.append(imported)
                    file.import_spans[id(imported)] = item.span
        if path is not None:
            self.active.pop()
        _imported_definitions(file, self.problems)
        _from_names(file, self.problems)
        self.order.append(file)
        return file

    def _import(self, file: SourceFile, item: n.Import) -> Optional[SourceFile]:
        problem = _import_path_problem(item.path)
        if problem is not None:
            self.problems.append(Diagnostic(codes.IMPORT_NOT_FOUND, f"cannot import \"{item.path}\": {problem}", file.display, item.span))
            return None
        base = file.path.parent if file.path is not None else Path.cwd()
        target = (base / item.path).resolve()
        if target in self.active:
            chain = " -> ".join(p.name for p in self.active[self.active.index(target):] + [target])
            self.problems.append(Diagnostic(codes.IMPORT_CYCLE, f"import cycle: {chain}", file.display, item.span))
            return None
        if target in self.by_path:
            return self.by_path[target]
        if not target.is_file():
            what = "not a regular file" if target.exists() else "no such file"  # a FIFO is never read
            self.problems.append(
                Diagnostic(codes.IMPORT_NOT_FOUND, f"cannot import \"{item.path}\": {what} ({target})", file.display, item.span)
            )
            return None
        if target.suffix != ".kd":
            # A link to a file that is not kd (`x.kd -> /proc/self/environ`):
            # never read it, so no diagnostic can quote its bytes.
            self.problems.append(Diagnostic(codes.IMPORT_NOT_FOUND, f"cannot import \"{item.path}\": it leads to "
                                            f"{target.name}, which is not a .kd file", file.display, item.span,
                                            "an import must reach a regular file whose real name ends in .kd"))
            return None
        display = _display_name(file, item.path)
        try:
            module, problems = self.parse(self.read(target, display, self.limits), display, self.limits)
        except KdError as err:
            self.problems.extend(err.diagnostics)
            return None
        except OSError as exc:
            self.problems.append(Diagnostic(codes.IMPORT_NOT_FOUND, f"cannot read \"{item.path}\": {exc.strerror}", file.display, item.span))
            return None
        self.problems.extend(problems)
        return self.load(module, target, display)


def _import_path_problem(path: str) -> Optional[str]:
    """Why PATH cannot name an imported kd file, or None."""
    if not path.endswith(".kd"):
        return "an import names a .kd file"
    if "\0" in path or any(not ch.isprintable() for ch in path):
        return "the path holds control characters"
    if path.startswith(("/", "\\")) or (len(path) > 1 and path[1] == ":"):
        return "the path must be relative to the importing file"
    return None


def _display_name(importer: SourceFile, relative: str) -> str:
    """How diagnostics name an imported file: relative to the importer's folder."""
    parent = str(Path(importer.display).parent)
    return relative if parent in ("", ".") else f"{parent}/{relative}"


def load_program(text: str, filename: str, path: Optional[Path] = None, limits: Limits = DEFAULT_LIMITS,
                 read=None, parse=None) -> Program:
    """Parse TEXT (the source of FILENAME, read from PATH if it is a file) and
    every file it imports.  Syntax errors and broken or missing imports do
    not stop it: they are the program's `problems`, and what did load is
    still checked.  Raises KdError only for a main file too large to parse.

    READ and PARSE replace how imported files are read and how every file is
    parsed (a session reads an editor's unsaved buffers and caches trees)."""
    loader = _Loader(limits, read, parse)
    module, problems = loader.parse(text, filename, limits)
    loader.problems.extend(problems)
    main = loader.load(module, path.resolve() if path is not None else None, filename)
    return Program(main, loader.order, limits, loader.problems)
