"""DO320 cache-mounts: keep package-manager caches in BuildKit cache mounts (opt-in).

What it does
    With `--cache-mounts` (or `cache-mounts = true` in the configuration), a RUN that
    installs with apt-get, pip, npm or Yarn 1 gets a `--mount=type=cache` on that tool's
    cache instead of deleting the cache, and the deletion goes:

        RUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*
    ->
        RUN --mount=type=cache,target=/var/cache/apt,sharing=locked \\
            --mount=type=cache,target=/var/lib/apt/lists,sharing=locked \\
            apt-get update && apt-get install -y curl

    `pip install --no-cache-dir` loses the flag under a mount on /root/.cache/pip; `npm
    cache clean --force` and `yarn cache clean` go under mounts on /root/.npm and
    /usr/local/share/.cache/yarn. A file without a `# syntax=` directive gets
    `# syntax=docker/dockerfile:1`, the frontend that documents these mounts. It replaces
    the rewrites that delete the same caches (DO302, DO312, DO314, DO318), which do not run
    with it.

Why
    A cache mount lives on the build machine, outside every layer: the image stays as
    small as with the deletion, and the next build downloads only what changed instead of
    every package again (Docker docs, "Optimize cache usage in builds").

Example
    `RUN pip install --no-cache-dir -r requirements.txt` ->
    `RUN --mount=type=cache,target=/root/.cache/pip pip install -r requirements.txt`.

When it is not safe
    It is a `review` change and off by default: the build needs BuildKit (the legacy
    builder rejects `--mount`), and the `# syntax=` line makes BuildKit fetch the
    dockerfile frontend image, which an offline build machine may not reach. Debian
    images delete downloaded .deb files after each install (their docker-clean apt
    configuration), so the apt mounts keep the package lists, not the packages. Left
    alone: RUNs that already mount a cache, RUNs after a USER (the caches are root's),
    RUNs that delete the cache in another way than the plain commands above, Windows
    images and backtick-escape files.
"""

from __future__ import annotations

import re

from dockopt.optimizer.edits import Edit
from dockopt.optimizer.runs import cache_mounts, removal_ranges, sh_stages
from dockopt.optimizer.transform import REVIEW, Transform

SYNTAX = "docker/dockerfile:1"
# The caches, by tool: the mount flags a RUN gets and the cleanup commands they make moot.
_APT_LISTS = "/var/lib/apt/lists"
_MOUNTS = {
    "apt": "--mount=type=cache,target=/var/cache/apt,sharing=locked --mount=type=cache,target=/var/lib/apt/lists,sharing=locked",
    "pip": "--mount=type=cache,target=/root/.cache/pip",
    "npm": "--mount=type=cache,target=/root/.npm",
    "yarn": "--mount=type=cache,target=/usr/local/share/.cache/yarn",
}


def fix(dockerfile, context):
    from dockopt.optimizer.shell import commands

    found = False
    for stage, runs in sh_stages(dockerfile):
        user_set = any(i.keyword == "USER" for s in dockerfile.lineage(stage)[1:] for i in s.instructions)
        first_user = next((i.start for i in stage.instructions if i.keyword == "USER"), None)
        settings = _Settings(dockerfile, stage, context)
        for ins in runs:
            if ins.heredocs or cache_mounts(ins):
                continue
            if user_set or (first_user is not None and first_user < ins.start):
                break
            cmds = commands(ins)
            tools = [t for t in _MOUNTS if any(_installs(t, c) for c in cmds) and not _moved(t, settings, ins, cmds)]
            if not tools or any(_removes_mount(c, tools) for c in cmds):
                continue  # `rm -rf /root/.npm` on a mount point fails (EBUSY) and empties the cache
            removals = _removals(tools, cmds, dockerfile.source)
            if removals is None:
                continue  # a cleanup we cannot take out cleanly: leave the RUN as it is
            at = ins.keyword_span()[1]
            mounts = " ".join(_MOUNTS[t] for t in tools)
            why = f"{', '.join(tools)} cache in a BuildKit cache mount, kept between builds and out of the image"
            yield Edit(at, at, " " + mounts, why)
            for start, end in removals:
                yield Edit(start, end, "", why)
            found = True
    if found and "syntax" not in dockerfile.directives:
        at = 1 if dockerfile.source.startswith("\ufeff") else 0
        yield Edit(at, at, f"# syntax={SYNTAX}{dockerfile.newline}", "the dockerfile frontend that supports RUN --mount")


# Settings that move a tool's cache away from the mount, so the cache would stay in the image.
_MOVERS = {
    "pip": re.compile(r"\bPIP_CACHE_DIR\b|\bPIP_NO_CACHE_DIR\b|\bHOME="),
    "npm": re.compile(r"\bnpm_config_cache\b|--cache\b|\bHOME=", re.IGNORECASE),
    "yarn": re.compile(r"\bYARN_CACHE_FOLDER\b|--cache-folder\b"),
    "apt": re.compile(r"Dir::Cache|Dir::State"),
}


def _moved(tool: str, settings: _Settings, ins, cmds) -> bool:
    """The tool's cache is elsewhere or not the one mounted: a setting moves it (ENV, ARG
    or the RUN), Yarn 2+ keeps its own, or apt would find lists an earlier RUN fetched
    outside the mount (the RUN must run `apt-get update` itself)."""
    if settings.moves(tool, ins):
        return True
    if tool == "yarn" and settings.yarn_berry():
        return True
    if tool == "apt":
        return not any(c.name.rsplit("/", 1)[-1] in ("apt-get", "apt") and "update" in c.words for c in cmds)
    return False


class _Settings:
    """What the ENV, ARG and RUN lines of a stage and the stages it is built on set, read
    once per stage: for each tool, the first instruction whose line moves its cache. (No
    mover matches across two lines, so a match in their joined text is a match in one.)
    Reading every earlier line again for each RUN made a stage of thousands of RUNs slow."""

    def __init__(self, dockerfile, stage, context) -> None:
        self.dockerfile, self.context = dockerfile, context
        self.lines = [i for s in reversed(dockerfile.lineage(stage)) for i in s.instructions
                      if i.keyword in ("ENV", "ARG", "RUN")]
        self._first: dict[str, int | None] = {}  # tool -> start of the first line moving its cache
        self._berry: bool | None = None

    def moves(self, tool: str, ins) -> bool:
        """Whether a line of an instruction starting before the end of `ins` (`ins` too)
        moves the tool's cache."""
        if tool not in self._first:
            self._first[tool] = next((i.start for i in self.lines if _MOVERS[tool].search(i.line)), None)
        first = self._first[tool]
        return first is not None and first < ins.end

    def yarn_berry(self) -> bool:
        if self._berry is None:
            from dockopt.optimizer.installs import yarn_berry

            self._berry = yarn_berry(self.dockerfile.source, self.context)
        return self._berry


_CACHE_DIRS = {
    "apt": ("/var/cache/apt", "/var/lib/apt/lists"),
    "pip": ("/root/.cache/pip",),
    "npm": ("/root/.npm",),
    "yarn": ("/usr/local/share/.cache/yarn",),
}


def _removes_mount(cmd, tools) -> bool:
    """An `rm` of a mounted cache folder itself or a folder above it (`rm -rf /root/.cache`);
    removing what is inside (`/var/lib/apt/lists/*`) is fine."""
    if cmd.name.rsplit("/", 1)[-1] != "rm":
        return False
    for word in cmd.words[cmd.assignments + 1 :]:
        path = re.sub(r"^(?:~|\$HOME|\$\{HOME\})(?=/|$)", "/root", word).rstrip("/")
        if word.startswith("-") or not path.startswith("/"):
            continue
        for tool in tools:
            if any(d == path or d.startswith(path + "/") for d in _CACHE_DIRS[tool]):
                return True
    return False


def _installs(tool: str, cmd) -> bool:
    name = cmd.name.rsplit("/", 1)[-1]
    words = cmd.words[cmd.assignments :]
    if tool == "apt":
        return name == "apt-get" and "install" in words
    if tool == "pip":
        return (name.startswith("pip") or (name.startswith("python") and "pip" in words)) and "install" in words
    if tool == "npm":
        return name == "npm" and any(w in ("ci", "install", "i") for w in words[1:2])
    return name in ("yarn", "yarnpkg") and (len(words) == 1 or words[1] == "install" or words[1].startswith("-"))


def _removals(tools, cmds, source) -> list[tuple[int, int]] | None:
    """Source ranges to delete: the `--no-cache-dir` words of pip installs, and the cleanup
    commands with the `&&` joining them to the rest. None when a cleanup cannot come out
    cleanly."""
    ranges = []
    for cmd in cmds:
        if "pip" in tools and _installs("pip", cmd):
            ranges += [(cmd.word_span(i - 1)[1], cmd.word_span(i)[1]) for i, w in enumerate(cmd.words) if w == "--no-cache-dir"]
    doomed = [_cleanup(tools, c) for c in cmds]
    if None in doomed or any("#" in source[a:b] for a, b in ranges):
        return None
    removed = removal_ranges(cmds, doomed, source)
    return None if removed is None else ranges + removed


def _cleanup(tools, cmd) -> bool | None:
    """Whether the command deletes a cache the mounts now hold; None for one that deletes
    it along with other things (not ours to split)."""
    name = cmd.name.rsplit("/", 1)[-1]
    words = cmd.words[cmd.assignments :]
    if "apt" in tools and name == "rm" and any(_APT_LISTS in w for w in words):
        if words[1:2] in (["-rf"], ["-fr"], ["-r"], ["-Rf"], ["-fR"]) and all(w.startswith(_APT_LISTS) for w in words[2:]):
            return True
        return None
    return bool(
        ("apt" in tools and name == "apt-get" and words[1:] == ["clean"])
        or ("npm" in tools and name == "npm" and words[1:3] == ["cache", "clean"])
        or ("yarn" in tools and name in ("yarn", "yarnpkg") and words[1:3] == ["cache", "clean"])
    )


TRANSFORM = Transform(
    id="DO320",
    name="cache-mounts",
    title="Keep apt, pip, npm and Yarn caches in BuildKit cache mounts instead of deleting them",
    why="A cache mount keeps downloads between builds without putting them in a layer.",
    safety=REVIEW,
    fix=fix,
    doc=__doc__,
    opt_in=True,
    replaces=("DO302", "DO312", "DO314", "DO318"),
)
