"""`dockopt lsp`: a Language Server Protocol server over stdio, for editors.

It shows each change dockopt would make as a diagnostic with a quick fix, offers
`source.fixAll.dockopt`, and formats (on save, where the editor does) with the `safe`
rewrites. pygls is an optional dependency (`pip install 'dockopt[lsp]'`), imported only
here, by `serve`, so no other command pays for it. The modules: positions.py (offsets
to LSP positions), analysis.py (the engine's answers as plain data), server.py (pygls).
"""

from __future__ import annotations

import sys


def serve() -> None:
    """Run the server on stdin/stdout until the client says exit."""
    try:
        from dockopt.lsp.server import build
    except ImportError as exc:
        if (exc.name or "").split(".")[0] not in ("pygls", "lsprotocol", "cattrs", "attrs"):
            raise
        print(
            "dockopt: error: the language server needs pygls 2 (missing: "
            f"{exc.name}); install dockopt[lsp]: pip install 'dockopt[lsp]'",
            file=sys.stderr,
        )
        raise SystemExit(2) from None
    build().start_io()
