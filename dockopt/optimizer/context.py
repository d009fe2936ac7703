"""Read-only access to the build context a Dockerfile is built with.

Transforms may look at the files next to a Dockerfile (a lockfile decides `npm ci`, a
tarball's bytes decide whether ADD may become COPY) but never execute or change them.
With no context (`dockopt fix -` without `--context`), every lookup answers "unknown"
and transforms fall back to what the Dockerfile itself says. Paths that leave the
context (`../x`, or a symlink pointing out) are treated as absent, as docker does.
"""

from __future__ import annotations

import os
import time


class BuildContext:
    """`root`: the build context folder (None: unknown). `config_dir`: the folder whose
    configuration applies (the Dockerfile's, the current one for standard input), as for
    the rules that run; by default the context folder."""

    def __init__(self, root: str | os.PathLike | None, config_dir: str | os.PathLike | None = None):
        self.root = os.path.realpath(root) if root is not None else None
        self.config_dir = os.fspath(config_dir) if config_dir is not None else self.root
        self._heads: dict[tuple[str, int], bytes | None] = {}
        self._globs: dict[str, list[str]] = {}

    @classmethod
    def for_file(cls, path: str, context_dir: str | None = None) -> "BuildContext":
        """The context a Dockerfile at `path` is built with: `context_dir`, by default its
        own folder; its configuration is always its own folder's."""
        folder = os.path.dirname(os.path.abspath(path))
        return cls(context_dir if context_dir is not None else folder, folder)

    @property
    def config(self):
        """The project's configuration (`[tool.dockopt]`, .dockopt.toml), None when there is
        no folder to look from or it cannot be read (the CLI reports that before any run)."""
        if "_config" not in self.__dict__:
            from dockopt.optimizer.config import ConfigError, load

            try:
                self._config = load(self.config_dir) if self.config_dir is not None else None
            except ConfigError:
                self._config = None
        return self._config

    @property
    def known(self) -> bool:
        return self.root is not None

    @property
    def base_flavour(self) -> str | None:
        """The project's preferred base flavour (`base-flavour` in `[tool.dockopt]` or
        .dockopt.toml): "slim" and "distroless" keep images on glibc, never alpine; None
        when unset or unreadable."""
        return self.config.base_flavour if self.config is not None else None

    @property
    def declared_images(self) -> tuple[tuple[str, str], ...]:
        """The project's own base images and the public images they are built from
        (`[tool.dockopt.images]`); empty when unset or unreadable."""
        return self.config.images if self.config is not None else ()

    @property
    def musl_ok(self) -> bool:
        """Whether rewrites may choose an Alpine (musl) image: not when the project prefers
        slim or distroless images."""
        return self.base_flavour not in ("slim", "distroless")

    def _path(self, rel: str) -> str | None:
        if self.root is None:
            return None
        path = os.path.realpath(os.path.join(self.root, rel.lstrip("/")))
        if path != self.root and not path.startswith(self.root + os.sep):
            return None
        return path

    def exists(self, rel: str) -> bool | None:
        """True or False when the context is known, None when it is not."""
        if self.root is None:
            return None
        path = self._path(rel)
        return bool(path and os.path.exists(path))

    def is_dir(self, rel: str) -> bool:
        path = self._path(rel)
        return bool(path and os.path.isdir(path))

    def head(self, rel: str, size: int = 512) -> bytes | None:
        """The first bytes of a regular file, or None."""
        key = (rel, size)
        if key not in self._heads:
            path = self._path(rel)
            self._heads[key] = _read(path, size) if path and os.path.isfile(path) else None
        return self._heads[key]

    def read_text(self, rel: str) -> str | None:
        path = self._path(rel)
        data = _read(path, -1) if path and os.path.isfile(path) else None
        try:
            return data.decode("utf-8") if data is not None else None
        except UnicodeDecodeError:
            return None

    def glob(self, pattern: str) -> list[str]:
        if self.root is None:
            return []
        if pattern not in self._globs:
            self._globs[pattern] = _glob(self.root, pattern.lstrip("/"))
        return self._globs[pattern]


# The answers of single-folder globs (`*`, `*.csproj`), shared by every BuildContext of the
# process while the folder stays as it was: 10,000 Dockerfiles in one folder each have a
# context, and listing the folder for each made a run grow with the square of its size.
# A folder's entries change its modification time; an answer is kept only when that time
# is older than the coarsest timestamp granularity (2 s), so a later change always shows.
_SHARED: dict[tuple[str, str], tuple[tuple[int, int, int], list[str]]] = {}
_SHARED_MAX = 4096
_SETTLED_NS = 2_000_000_000


def _glob(root: str, pattern: str) -> list[str]:
    """The context paths matching `pattern`, sorted."""
    import glob

    stamp = None
    if "/" not in pattern and os.sep not in pattern and glob.has_magic(pattern):
        try:
            st = os.stat(root)
            stamp = (st.st_dev, st.st_ino, st.st_mtime_ns)
        except OSError:
            pass
        known = _SHARED.get((root, pattern))
        if stamp is not None and known is not None and known[0] == stamp:
            return list(known[1])
    found = glob.glob(os.path.join(glob.escape(root), pattern))
    result = sorted(os.path.relpath(p, root) for p in found)
    if stamp is not None and time.time_ns() - stamp[2] > _SETTLED_NS:
        if len(_SHARED) >= _SHARED_MAX:
            _SHARED.clear()
        _SHARED[(root, pattern)] = (stamp, list(result))
    return result


def _read(path: str, size: int) -> bytes | None:
    try:
        with open(path, "rb") as fh:
            return fh.read(size)
    except OSError:
        return None
