"""`kdsl import SOURCE [-o FILE.kd] [--model-name NAME] [--flat] [--force]`.

Prints the kd source of the model SOURCE names, or writes it to FILE.kd
(atomically; an existing file is replaced only with `--force`, since it may
hold edits).  Exit status: 0 success; 1 a model kd cannot say, a source
that cannot be read (the message names the layer and why), or FILE.kd
exists; 2 wrong usage or an internal error.
"""

from __future__ import annotations

import sys
import traceback
from pathlib import Path

EXIT_OK, EXIT_INPUT, EXIT_USAGE = 0, 1, 2


def add_arguments(parser) -> None:
    """The options of `kdsl import`, on its argparse subparser PARSER."""
    parser.add_argument("source", metavar="SOURCE",
                        help="a .keras file, a to_json() file, keras.applications.NAME or package.module:function")
    parser.add_argument("-o", "--output", metavar="FILE.kd", help="write the kd source to FILE.kd")
    parser.add_argument("--model-name", metavar="NAME", help="the kd model's name (default: the Keras model's)")
    parser.add_argument("--flat", action="store_true", help="one statement per layer: no blocks, no loops")
    parser.add_argument("--force", action="store_true", help="replace FILE.kd when it exists")
    parser.add_argument("--debug", action="store_true", help="show the traceback of an internal error")


def _note(message: str) -> None:
    print(f"kdsl: {message}", file=sys.stderr)


def run(args) -> int:
    """Run `kdsl import` with parsed ARGS; returns the exit status."""
    from ..files import atomic_write
    from . import ImportBug, ImportProblem, import_source

    target = Path(args.output) if args.output else None
    if target is not None and target.suffix != ".kd":
        _note(f"error: -o takes a .kd file; received {args.output}")
        return EXIT_USAGE
    if target is not None and target.exists() and not args.force:
        _note(f"error: {target} exists; not replacing it (use --force)")
        return EXIT_INPUT  # as `kdsl compile` does for a file it did not write
    try:
        imported = import_source(args.source, args.model_name, args.flat)
    except ImportProblem as err:
        _note(f"error: cannot import {args.source}: {err}")
        return EXIT_INPUT
    except ImportBug as err:
        _note(f"internal error in kdsl, please report: {err}")
        if args.debug:
            traceback.print_exc()
        return EXIT_USAGE
    if target is None:
        sys.stdout.write(imported.text)
        return EXIT_OK
    try:
        atomic_write(target, imported.text)
    except OSError as exc:
        _note(f"error: cannot write {target}: {exc.strerror}")
        return EXIT_INPUT
    _note(f"wrote {target} (model `{imported.model}`)")
    return EXIT_OK
