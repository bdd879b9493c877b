"""The browser tests need Chromium, Node and playwright-core, which
`make test-browser` installs; it sets KDSL_BROWSER_TESTS=1. `make test`
leaves them out (rather than skipping them) so that a run without the
tools never looks as if it had checked the page."""

from __future__ import annotations

import os

if os.environ.get("KDSL_BROWSER_TESTS") != "1":
    collect_ignore_glob = ["test_*.py"]
