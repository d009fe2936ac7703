"""Project configuration: `[tool.dockopt]` in pyproject.toml, or a `.dockopt.toml`.

A team writes down once which rules it wants and whether `review` rewrites run, instead of
repeating flags in every script, editor and CI job:

    [tool.dockopt]                      # in .dockopt.toml the same keys, at the top level (or under this table)
    select = ["DO101", "secret-in-env"]  # only these rules (ids or names); default: all
    ignore = ["slim-base"]              # never these
    review = false                      # `review` transforms off unless `--review` is given
    base-flavour = "slim"               # slim | alpine | distroless: slim and distroless never pick alpine
    cache-mounts = true                 # whether rewrites may add RUN --mount=type=cache

    [tool.dockopt.images]               # your own base images, and the public image each is built from
    "registry.example.com/base/python" = "python:3.12-slim-bookworm"
    "registry.example.com/alpine-*" = "alpine:3.22"

`select` and `ignore` name transforms and checks alike; this module reads them as names,
and the registry (`dockopt.rules.choose_rules`) turns them into the rules to run, or says
which name is unknown. `dockopt fix` skips the checks' ids and `dockopt check` reports both.
`cache-mounts` switches on the opt-in DO320 cache-mounts (like `--cache-mounts`);
`base-flavour = "slim"` or `"distroless"` keeps slim-base and stage-split off Alpine (musl):
they choose glibc variants only (the build context reads it, `BuildContext.musl_ok`).
`images` tells what dockopt cannot know about images from a private registry: each name (a
glob: `*` matches within and across `/`; compared as docker reads names, so `myorg/base`
is `docker.io/myorg/base`) is built from the public image given, so the
rewrites that read the OS (its /bin/sh for DO109, its users for DO206, apt or apk) treat it
like that image; nothing proposes a tag or variant for it (`images.describe`).

Where it is found: walking up from the Dockerfile's folder (the current folder for
standard input), the first folder with a `.dockopt.toml`, or with a `pyproject.toml` that
has a `[tool.dockopt]` table, wins; `.dockopt.toml` first when a folder has both. The walk
stops at the repository root, the first folder holding `.git`. Command-line flags win over
the file: `--select` replaces its `select` and drops its `ignore` (the rules named are the
rules that run), `--ignore` replaces its `ignore`, `--safe` and `--review` its `review`.

Start-up: the TOML parser is imported only when a file is found. A pyproject.toml is first
searched as text for the table's header, so the many projects that have one without a
dockopt table cost a small read, not a parse.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace

FILES = (".dockopt.toml", "pyproject.toml")
FLAVOURS = ("slim", "alpine", "distroless")
KEYS = ("select", "ignore", "review", "base-flavour", "cache-mounts", "images")
_HEADER = re.compile(r"""^[ \t]*\[[ \t]*tool[ \t]*\.[ \t]*(?:dockopt|"dockopt"|'dockopt')[ \t]*[\].]""", re.M)
_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")


class ConfigError(ValueError):
    """An unreadable or invalid configuration file: `path[:line:col]: message`."""

    def __init__(self, path: str, message: str, line: int | None = None, col: int | None = None):
        super().__init__(message)
        self.path, self.message, self.line, self.col = path, message, line, col

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}:{self.col}" if self.line else self.path
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class Config:
    select: tuple[str, ...] | None = None  # None: every rule
    ignore: tuple[str, ...] = ()
    review: bool = True
    base_flavour: str | None = None  # "slim" and "distroless" keep rewrites off alpine (BuildContext.musl_ok)
    cache_mounts: bool | None = None  # switches on DO320 cache-mounts
    path: str | None = None  # the file it was read from; None: the defaults
    images: tuple[tuple[str, str], ...] = ()  # (name pattern, public image it is built from)

    def override(
        self,
        select: list[str] | None = None,
        ignore: list[str] | None = None,
        review: bool | None = None,
        cache_mounts: bool | None = None,
    ) -> Config:
        """The command line's flags over the file's values (None or empty: not given).
        `--select` starts afresh: the file's ignore list goes too, so the rules named
        are the rules that run; `--ignore` replaces the file's ignore list."""
        changes: dict = {}
        if select:
            changes["select"], changes["ignore"] = tuple(select), tuple(ignore or ())
        elif ignore:
            changes["ignore"] = tuple(ignore)
        if review is not None:
            changes["review"] = review
        if cache_mounts is not None:
            changes["cache_mounts"] = cache_mounts
        return replace(self, **changes) if changes else self


def locate(start: str) -> tuple[str, dict] | None:
    """The configuration file that governs `start` (a folder) and its dockopt table."""
    folder = os.path.abspath(start)
    while True:
        dotfile = os.path.join(folder, FILES[0])
        if os.path.isfile(dotfile):
            return dotfile, _dotfile_table(_read(dotfile))
        pyproject = os.path.join(folder, FILES[1])
        if os.path.isfile(pyproject):
            table = _pyproject_table(pyproject)
            if table is not None:
                return pyproject, table
        parent = os.path.dirname(folder)
        if parent == folder or os.path.exists(os.path.join(folder, ".git")):
            return None
        folder = parent


def _dotfile_table(table: dict) -> dict:
    """.dockopt.toml's keys: at the top level, or (copied from a pyproject.toml) under a
    `[tool.dockopt]` table that is then all the file holds."""
    tool = table.get("tool")
    if set(table) == {"tool"} and isinstance(tool, dict) and set(tool) == {"dockopt"} and isinstance(tool["dockopt"], dict):
        return tool["dockopt"]
    return table


def load(start: str) -> Config:
    """The configuration for Dockerfiles in folder `start`: the file's, or the defaults."""
    found = locate(start)
    return Config() if found is None else parse_table(*found)


def parse_table(path: str, table: dict) -> Config:
    where = "[tool.dockopt] " if os.path.basename(path) == FILES[1] else ""
    unknown = [k for k in table if k not in KEYS]
    if unknown:
        raise ConfigError(path, f"{where}unknown key {unknown[0]!r} (known: {', '.join(KEYS)})")

    def ids(key: str) -> tuple[str, ...] | None:
        value = table.get(key)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise ConfigError(path, f"{where}{key} must be a list of rule ids or names")
        return tuple(v.strip() for v in value)

    def flag(key: str) -> bool | None:
        value = table.get(key)
        if value is not None and not isinstance(value, bool):
            raise ConfigError(path, f"{where}{key} must be true or false")
        return value

    flavour = table.get("base-flavour")
    if flavour is not None and flavour not in FLAVOURS:
        raise ConfigError(path, f"{where}base-flavour must be one of {', '.join(FLAVOURS)}, not {flavour!r}")
    review = flag("review")
    images = _images(path, where, table.get("images"))
    return Config(
        select=ids("select"),
        ignore=ids("ignore") or (),
        review=True if review is None else review,
        base_flavour=flavour,
        cache_mounts=flag("cache-mounts"),
        images=images,
        path=path,
    )


def _images(path: str, where: str, value) -> tuple[tuple[str, str], ...]:
    """The `images` table: each private image name (or glob) and the public image it is
    built from, which must be one dockopt knows."""
    if value is None:
        return ()
    if not isinstance(value, dict):
        raise ConfigError(path, f'{where}images must be a table of "name" = "public image"')
    from dockopt.optimizer.images import describe

    pairs = []
    for name, base in value.items():
        if not isinstance(base, str) or not name.strip() or ":" in name.rpartition("/")[2] or "@" in name:
            raise ConfigError(path, f'{where}images: "{name}" must name an image without a tag, '
                                    'and map to a public image such as "debian:bookworm-slim"')
        known = describe(base)
        if known.family is None or known.declared or known.distro is None and known.variant != "distroless":
            raise ConfigError(path, f"{where}images: {name} = {base!r}: not an image whose OS dockopt knows "
                                    "(an official image such as debian:bookworm-slim, alpine:3.22 or node:24-slim)")
        pairs.append((name.strip(), base))
    return tuple(pairs)


class Configs:
    """The configuration of each Dockerfile, looked up once per folder."""

    def __init__(self) -> None:
        self._by_folder: dict[str, Config] = {}

    def for_target(self, path: str) -> Config:
        """`path` is a Dockerfile, or "-" for standard input (the current folder's)."""
        folder = os.getcwd() if path == "-" else os.path.dirname(os.path.abspath(path))
        if folder not in self._by_folder:
            self._by_folder[folder] = load(folder)
        return self._by_folder[folder]


def _pyproject_table(path: str) -> dict | None:
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(path, f"cannot read: {getattr(exc, 'strerror', None) or exc}") from None
    if not _HEADER.search(text):
        return None
    table = _parse(path, text).get("tool", {})
    table = table.get("dockopt") if isinstance(table, dict) else None
    if table is not None and not isinstance(table, dict):
        raise ConfigError(path, "tool.dockopt must be a table")
    return table


def _read(path: str) -> dict:
    try:
        with open(path, encoding="utf-8") as fh:
            return _parse(path, fh.read())
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(path, f"cannot read: {getattr(exc, 'strerror', None) or exc}") from None


def _parse(path: str, text: str) -> dict:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        m = _POSITION.search(message)
        if m:
            raise ConfigError(path, f"invalid TOML: {message[: m.start()]}", int(m.group(1)), int(m.group(2))) from None
        if message.endswith("(at end of document)"):
            lines = text.split("\n")
            message = message[: -len("(at end of document)")].rstrip() + " at the end of the file"
            raise ConfigError(path, f"invalid TOML: {message}", len(lines), len(lines[-1]) + 1) from None
        raise ConfigError(path, f"invalid TOML: {message}") from None
