"""dockopt: rewrite Dockerfiles into smaller, faster-building, safer ones.

`dockopt.parse(text)` gives the lossless syntax tree; `dockopt.optimize(text)` runs every
transform and returns the rewritten text with an explanation of each change.
"""

from __future__ import annotations

__version__ = "0.1.0"

from dockopt.optimizer.syntax import Dockerfile, Instruction, ParseError, parse  # noqa: E402


def optimize(text: str, *, safe_only: bool = False, context: str | None = None):
    """Rewrite `text` with all transforms; `context` is the build context folder, if any."""
    from dockopt.optimizer.context import BuildContext
    from dockopt.optimizer.pipeline import optimize as run
    from dockopt.transforms import ALL

    return run(text, ALL, BuildContext(context), safe_only)


__all__ = ["Dockerfile", "Instruction", "ParseError", "optimize", "parse", "__version__"]
