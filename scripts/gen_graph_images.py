"""Draw the graph pictures the docs show, with `kdsl graph`:

    python scripts/gen_graph_images.py [--check]

- docs/images/graph-net.svg: the README's kd program (its first ```kd
  block), as `kdsl graph net.kd` draws it.

With --check, write nothing and exit 1 when a picture is out of date
(tests/test_summary_json.py runs this check). The page screenshot
docs/images/graph-resnet.png is taken by the browser test
(KDSL_UPDATE_SCREENSHOT=1 make test-browser).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dsl.cli import main as kdsl  # noqa: E402

README_PICTURE = ROOT / "docs" / "images" / "graph-net.svg"


def readme_program() -> str:
    """The README's kd example."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.search(r"```kd\n(.*?)```", text, re.S).group(1)


def readme_picture() -> str:
    """The SVG `kdsl graph net.kd` draws for the README's example."""
    with tempfile.TemporaryDirectory() as folder:
        source, printed = Path(folder) / "net.kd", io.StringIO()
        source.write_text(readme_program(), encoding="utf-8")
        with contextlib.redirect_stdout(printed):
            status = kdsl(["graph", str(source)])
        if status != 0:
            raise SystemExit("kdsl graph failed on the README's example")
        return printed.getvalue()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 when a picture is out of date")
    args = parser.parse_args(argv)
    picture = readme_picture()
    current = README_PICTURE.read_text(encoding="utf-8") if README_PICTURE.exists() else None
    if args.check:
        if current != picture:
            print(f"{README_PICTURE.relative_to(ROOT)} is out of date: run python scripts/gen_graph_images.py")
            return 1
        return 0
    if current != picture:
        README_PICTURE.write_text(picture, encoding="utf-8")
        print(f"wrote {README_PICTURE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
