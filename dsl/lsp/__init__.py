"""`kdsl lsp`: the language server (docs/editors.md).

It needs the extra `keras-kdsl[lsp]` (pygls and lsprotocol); `main()` says
how to install it when they are missing.  `features.Features` holds the
answers without the transport, for tests and benchmarks in process.
"""

from __future__ import annotations

import sys

INSTALL_HINT = "kdsl lsp needs the language-server extra: pip install 'keras-kdsl[lsp]'"


def main() -> int:
    """Serve on standard input and output; 2 when pygls is not installed."""
    try:
        from .server import serve
    except ImportError as err:  # pygls or lsprotocol missing
        print(f"{INSTALL_HINT}\n({err})", file=sys.stderr)
        return 2
    serve()
    return 0
