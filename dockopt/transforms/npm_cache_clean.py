"""DO318 npm-cache-clean: clean npm's cache in the RUN that filled it.

What it does
    Appends `&& npm cache clean --force` to a RUN that installs packages with npm
    (`npm ci`, `npm install`, `npm i`, `npm update`, global installs too) and does not clean
    the cache after it:

        RUN npm ci --omit=dev
    ->  RUN npm ci --omit=dev && npm cache clean --force

    In a RUN written one command per line, the cleanup goes on a line of its own, joined the
    way the RUN joins its other commands.

Why
    npm keeps a compressed copy of every package it downloads in its cache (~/.npm/_cacache,
    /root/.npm as root). node_modules already holds what the application runs; the copy in
    the cache is only read by a later install, so in an image it is dead weight, often tens
    of megabytes. `--force` is how npm 5 and later agree to empty it.

Example
    `RUN cd web && npm install && npm run build`,
    `RUN npm install -g pnpm@9` (the global install fills the same cache).

When it is not safe
    The cache is only a cache: no installed package reads it, so emptying it changes
    nothing the image runs (`safe`). It is left alone where it is meant to stay:
    - under a `--mount=type=cache` on npm's cache (or on any folder when `npm_config_cache`
      may point into it), where the mount keeps it out of the image anyway and cleaning
      would throw away what the mount is for (DO320 cache-mounts);
    - an install with its own `--cache` folder, which `npm cache clean` would not reach;
    - a later RUN of the stage, or of a stage built on it, that installs offline
      (`--offline`, `--prefer-offline`) or looks at the cache (`npm cache ...`);
    - a build stage that other stages copy from: its cache never reaches an image, so the
      cleanup would only slow the build, or it is the very thing they copy
      (`COPY --from=deps /root/.npm ...`). It waits for stage-split, which makes such stages. RUNs after a SHELL for another shell, heredoc RUNs, Windows images and
    files using the backtick escape are left alone too.
"""

from __future__ import annotations

from dockopt.optimizer.edits import Edit
from dockopt.optimizer.runs import cache_cleanup_points, cache_mounts, image_used, subcommand
from dockopt.optimizer.transform import SAFE, Transform

_INSTALLS = frozenset("ci install i in add isntall update up upgrade".split())
_VALUED = frozenset("--prefix --cache --registry --userconfig --globalconfig --loglevel -w --workspace".split())


def fix(dockerfile, context):
    if "npm" not in dockerfile.source:
        return
    config_moves_cache = "npm_config_cache" in dockerfile.source.lower()

    def skip(stage, ins, cmds) -> bool:
        if not image_used(dockerfile, stage):
            return True  # a build stage others copy from: its cache does not ship, or is what they take
        if any(w.split("=", 1)[0] == "--cache" for c in cmds if _kind(c) == "install" for w in c.words):
            return True
        return any(".npm" in t or config_moves_cache for t in cache_mounts(ins))

    for _, _, _, (at, separator) in cache_cleanup_points(dockerfile, _kind, skip):
        yield Edit(at, at, separator + "npm cache clean --force",
                   "npm cache clean --force in the same RUN: the downloaded packages are not kept beside node_modules")


def _kind(cmd) -> str | None:
    """"install" (a command that fills the cache), "clean" (`npm cache clean`), "other"
    for other npm commands, None for anything but npm."""
    if cmd.name.rsplit("/", 1)[-1] != "npm":
        return None
    words = cmd.words
    verb = subcommand(words, cmd.assignments, _VALUED)
    if verb is None:
        return "other"
    if words[verb] in _INSTALLS:
        return "install"
    if words[verb] == "cache" and words[verb + 1 : verb + 2] in (["clean"], ["clear"], ["rm"]):
        return "clean"
    return "other"


TRANSFORM = Transform(
    id="DO318",
    name="npm-cache-clean",
    title="Clean npm's cache in the RUN that installs the packages",
    why="npm keeps a second, compressed copy of every downloaded package in its cache, which stays in the image.",
    safety=SAFE,
    fix=fix,
    doc=__doc__,
    after=("DO202",),
)
