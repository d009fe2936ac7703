"""What many test modules share: run the `dockopt` command as a user would, write a file.

Imported by name (`from helpers import dockopt, write`): pytest puts this folder on the
import path, as it has no __init__.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def dockopt(*args: str, cwd: Path, stdin: bytes | None = None, env: dict | None = None,
            importtime: bool = False, timeout: float = 120) -> subprocess.CompletedProcess:
    """`python -m dockopt ARGS` in `cwd`, with no colour or encoding forced by the caller's
    environment; `importtime` adds `-X importtime` (its report goes to stderr)."""
    environment = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "PYTHONIOENCODING")}
    environment.update(env or {})
    flags = ["-X", "importtime"] if importtime else []
    return subprocess.run(
        [sys.executable, *flags, "-m", "dockopt", *args],
        cwd=cwd, input=stdin if stdin is not None else b"", capture_output=True, env=environment, timeout=timeout,
    )


def write(path: Path, text: str) -> Path:
    """`text` as UTF-8 at `path`, folders made as needed; line endings kept as given."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8"))
    return path


def engine_missing() -> str | None:
    """Why no Docker engine with BuildKit answers (`dockopt.measure.engine.Engine`), or None
    when one does: the engine tests skip with this reason."""
    from dockopt.measure.engine import Engine, EngineError

    try:
        Engine.connect()
    except EngineError as exc:
        return str(exc)
    return None
