"""Read-only access to the build context a Dockerfile is built with.

Transforms may look at the files next to a Dockerfile (a lockfile decides `npm ci`, a
tarball's bytes decide whether ADD may become COPY) but never execute or change them.
With no context (`dockopt fix -` without `--context`), every lookup answers "unknown"
and transforms fall back to what the Dockerfile itself says.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path


class BuildContext:
    def __init__(self, root: str | os.PathLike | None):
        self.root = Path(root).resolve() if root is not None else None

    @property
    def known(self) -> bool:
        return self.root is not None

    def _path(self, rel: str) -> Path | None:
        if self.root is None:
            return None
        path = (self.root / rel.lstrip("/")).resolve()
        if path != self.root and self.root not in path.parents:
            return None
        return path

    def exists(self, rel: str) -> bool | None:
        """True or False when the context is known, None when it is not."""
        path = self._path(rel)
        return None if path is None and self.root is None else bool(path and path.exists())

    def is_dir(self, rel: str) -> bool:
        path = self._path(rel)
        return bool(path and path.is_dir())

    def head(self, rel: str, size: int = 512) -> bytes | None:
        """The first bytes of a regular file, or None."""
        return _head(self._path(rel), size)

    def read_text(self, rel: str) -> str | None:
        path = self._path(rel)
        if path is None or not path.is_file():
            return None
        try:
            return path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None

    def glob(self, pattern: str) -> list[str]:
        if self.root is None:
            return []
        return sorted(str(p.relative_to(self.root)) for p in self.root.glob(pattern.lstrip("/")))


@lru_cache(maxsize=256)
def _head(path: Path | None, size: int) -> bytes | None:
    if path is None or not path.is_file():
        return None
    try:
        with open(path, "rb") as fh:
            return fh.read(size)
    except OSError:
        return None
