"""Take docs/images/editor-hover.png: what an editor shows with `kdsl lsp`.

    python scripts/editor_screenshot.py [OUT.png] [--html OUT.html]

The language server's real answers for examples/residual.kd (its inlay
hints, and its hover on a binding inside a block) are drawn into a page in
an editor's style, highlighted by kdsl's Pygments lexer, and Debian's
Chromium takes the screenshot (headless, no network).  Nothing in the
picture is drawn by hand: change the server and the picture changes.
"""

from __future__ import annotations

import argparse
import html
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SOURCE = ROOT / "examples" / "residual.kd"
HOVER_LINE, HOVER_WORD = 11, "y"  # `return add(y, x)` in identity_residual (line from 1)
CHROMIUM = "/usr/bin/chromium"

STYLE = """
body { margin: 0; background: #1e1e1e; font: 15px/1.5 'DejaVu Sans Mono', monospace; color: #d4d4d4; }
.editor { padding: 14px 0; position: relative; }
.line { white-space: pre; height: 22px; }
.no { display: inline-block; width: 44px; color: #6e7681; text-align: right; margin-right: 18px; }
.k { color: #569cd6; } .s { color: #ce9178; } .c { color: #6a9955; } .m { color: #b5cea8; }
.nc { color: #4ec9b0; } .nf { color: #dcdcaa; } .o { color: #d4d4d4; }
.hint { color: #8b949e; background: #2d2d30; border-radius: 3px; padding: 0 4px; margin-left: 6px; font-size: 13px; }
.hovered { background: #264f78; }
.hover { position: absolute; background: #252526; border: 1px solid #454545; padding: 8px 12px; max-width: 640px;
         font: 13px/1.45 'DejaVu Sans', sans-serif; white-space: normal; box-shadow: 0 4px 12px #000a; }
.hover code { font-family: 'DejaVu Sans Mono', monospace; background: #333; padding: 0 3px; }
.hover pre { margin: 4px 0; font-family: 'DejaVu Sans Mono', monospace; }
"""


def _css_class(token) -> str:
    from pygments.token import Comment, Keyword, Name, Number, String

    for kind, css in ((Comment, "c"), (Keyword, "k"), (String, "s"), (Number, "m"), (Name.Class, "nc"), (Name.Function, "nf")):
        if token in kind:
            return css
    return "o"


def _line_tokens(text: str) -> list:
    """[(text, css class)] per line, from kdsl's Pygments lexer."""
    from dsl.highlight import KdLexer

    lines = [[]]
    for token, value in KdLexer().get_tokens(text):
        parts = value.split("\n")
        for i, part in enumerate(parts):
            if i:
                lines.append([])
            if part:
                lines[-1].append((part, _css_class(token)))
    return lines


def _markdown(text: str) -> str:
    """The little Markdown a hover uses: code blocks, `code`, **bold**, lists."""
    out, code = [], None
    for line in text.split("\n"):
        if line.startswith("```"):
            if code is None:
                code = []
            else:
                out.append("<pre>" + html.escape("\n".join(code)) + "</pre>")
                code = None
            continue
        if code is not None:
            code.append(line)
            continue
        escaped = html.escape(line)
        escaped = re.sub(r"`([^`]+)`", r"<code>\1</code>", escaped)
        escaped = re.sub(r"\*\*([^*]+)\*\*", r"<b>\1</b>", escaped)
        out.append(("&bull; " + escaped[2:]) if line.startswith("- ") else escaped)
    return "<br>".join(out)


def page(source: Path) -> str:
    """The page: the source with the server's inlay hints and one hover."""
    from lsprotocol import types as lsp

    from dsl.lsp.convert import uri_of
    from dsl.lsp.features import Features

    text = source.read_text(encoding="utf-8")
    features = Features()
    uri = uri_of(source)
    features.open(uri, text, 1)
    features.check(uri)
    hints = {}
    for hint in features.inlay_hints(uri):
        hints.setdefault(hint.position.line, []).append((hint.position.character, hint.label))
    line_text = text.splitlines()[HOVER_LINE - 1]
    column = re.search(rf"\b{HOVER_WORD}\b", line_text).start()
    hover = features.hover(uri, lsp.Position(line=HOVER_LINE - 1, character=column))
    rows = []
    for number, tokens in enumerate(_line_tokens(text)[: len(text.splitlines())], start=1):
        cells, at = [], 0
        for value, css in tokens:
            start = at
            at += len(value)
            if number == HOVER_LINE and start <= column < at:
                head, word, tail = value[: column - start], value[column - start: column - start + len(HOVER_WORD)], value[column - start + len(HOVER_WORD):]
                cells.append(f'<span class="{css}">{html.escape(head)}</span><span class="{css} hovered">{html.escape(word)}</span>'
                             f'<span class="{css}">{html.escape(tail)}</span>')
            else:
                cells.append(f'<span class="{css}">{html.escape(value)}</span>')
        for _, label in sorted(hints.get(number - 1, [])):
            cells.append(f'<span class="hint">{html.escape(label.lstrip(": "))}</span>')
        rows.append(f'<div class="line"><span class="no">{number}</span>{"".join(cells)}</div>')
    top = 14 + 22 * HOVER_LINE + 4
    left = 62 + 9 * column
    popup = f'<div class="hover" style="top:{top}px; left:{left}px">{_markdown(hover.contents.value)}</div>'
    return f"<!doctype html><meta charset=utf-8><style>{STYLE}</style><div class=editor>{''.join(rows)}{popup}</div>"


def window_height(source: Path) -> int:
    """Pixels for every line of SOURCE (22 each) and the margins."""
    return 40 + 22 * len(source.read_text(encoding="utf-8").splitlines())


def screenshot(html_path: Path, png_path: Path, chromium: str = CHROMIUM, height: int = 860) -> None:
    """Chromium's headless screenshot of HTML_PATH."""
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                        "--no-first-run", f"--user-data-dir={profile}", "--hide-scrollbars", f"--window-size=1280,{height}",
                        f"--screenshot={png_path}", html_path.resolve().as_uri()],
                       check=True, capture_output=True, timeout=120)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", nargs="?", default=str(ROOT / "docs" / "images" / "editor-hover.png"))
    parser.add_argument("--html", help="also keep the page here")
    parser.add_argument("--chromium", default=CHROMIUM)
    args = parser.parse_args()
    if shutil.which(args.chromium) is None:
        print(f"{args.chromium} not found: install Debian's chromium (make test-browser does)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        html_path = Path(args.html) if args.html else Path(tmp) / "editor.html"
        html_path.write_text(page(SOURCE), encoding="utf-8")
        screenshot(html_path, Path(args.out), args.chromium, window_height(SOURCE))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
