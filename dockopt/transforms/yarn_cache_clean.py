"""DO314 yarn-cache-clean: clean Yarn's cache in the RUN that filled it.

What it does
    Appends `&& yarn cache clean` to a RUN that runs `yarn install` (or a bare `yarn`) with
    Yarn 1 and does not clean the cache after it:

        RUN yarn install --frozen-lockfile
    ->  RUN yarn install --frozen-lockfile && yarn cache clean

    In a RUN written one command per line, the cleanup goes on a line of its own, joined the
    way the RUN joins its other commands; a RUN ending with `if ... fi` or a loop gets it
    after that.

Why
    Yarn 1 keeps a copy of every package it installs in its global cache
    (/usr/local/share/.cache/yarn as root): the image holds the dependencies twice, the
    copy in the cache is never used again (hadolint DL3060).

Example
    `cd web && yarn install && yarn build`, `yarn --cwd ui install --production`.

When it is not safe
    Yarn 2 and later ("Berry") keep the project's packages in .yarn/cache, and for
    Plug'n'Play projects that folder *is* the installation: cleaning it breaks the image.
    So the RUN is left alone when the project may use Berry: a .yarnrc.yml or a
    `packageManager: yarn@2+` in package.json (at the context root or two folders down),
    or the Dockerfile mentions `yarn set version`, `.yarnrc.yml`, `.yarn/`, `yarnPath`,
    Berry-only YARN_ settings or `yarn@` a version 2 and up, `stable` or `berry`. The
    change is `safe` when the build context was checked and the project can only come from
    it; it is marked `review` without the context (`dockopt fix -`) and when the stage
    brings in code from elsewhere before the install (`COPY --from`, ADD of a URL, git, go,
    curl or wget), since such a project may use Berry.

    Also left alone: a `--mount=type=cache` on the yarn cache, an install with its own
    `--cache-folder`, a RUN that uses heredocs or ends in a way a command cannot follow
    (`&`, a redirection after `done`), and stages whose later RUNs (or stages built on
    them) read the cache (`--offline`, `--prefer-offline`, `yarn cache ...`) or that another
    stage copies the cache from. RUNs after a SHELL instruction, Windows images and files
    using the backtick escape are left alone too.
"""

from __future__ import annotations


from dockopt.optimizer.edits import Edit
from dockopt.optimizer.installs import yarn_berry
from dockopt.optimizer.runs import cache_cleanup_points, cache_mounts, copies_from, subcommand
from dockopt.optimizer.transform import REVIEW, SAFE, Transform

_YARN = frozenset({"yarn", "yarnpkg"})
_VALUED = frozenset(
    "--cache-folder --preferred-cache-folder --modules-folder --mutex --network-timeout --global-folder "
    "--link-folder --registry --cwd --use-yarnrc --otp --network-concurrency --child-concurrency".split()
)
_CACHES = ("/usr/local/share/.cache/yarn", "/root/.cache/yarn")
_INFO = frozenset({"--version", "-v", "--help", "-h"})
_FETCHERS = frozenset({"git", "go", "curl", "wget", "svn", "hg"})


def fix(dockerfile, context):
    from dockopt.optimizer.shell import commands

    if "yarn" not in dockerfile.source or yarn_berry(dockerfile.source, context):
        return  # the context is searched only for files that run yarn
    cache_folder_set = "YARN_CACHE_FOLDER" in dockerfile.source

    def skip(stage, ins, cmds) -> bool:
        return _cache_copied(dockerfile, stage) or _cache_managed(ins, cmds, cache_folder_set)

    for stage, ins, install, (at, separator) in cache_cleanup_points(dockerfile, _kind, skip):
        command = install.name.rsplit("/", 1)[-1] + " cache clean"
        why = f"{command} in the same RUN: the packages are not kept twice"
        checked = context.known and _sources_from_context(dockerfile, stage, ins, commands)
        yield Edit(at, at, separator + command, why, SAFE if checked else REVIEW)


def _kind(cmd) -> str | None:
    """"install", "clean" (`yarn cache clean`), "other" for other yarn commands, else None."""
    if not cmd.name or cmd.name.rsplit("/", 1)[-1] not in _YARN:
        return None
    words = cmd.words
    verb = subcommand(words, cmd.assignments, _VALUED)
    if verb is None and _INFO & set(words):
        return "other"
    if verb is None or words[verb] == "install":
        return "install"
    if words[verb] == "cache" and words[verb + 1 : verb + 2] == ["clean"]:
        return "clean"
    return "other"


def _cache_managed(ins, cmds, cache_folder_set: bool) -> bool:
    """A cache mount for yarn's cache (or any, when YARN_CACHE_FOLDER may point into it), or
    an install with a cache folder of its own."""
    if any(_kind(c) == "install" and any(w.split("=", 1)[0] in _VALUED and "cache" in w for w in c.words) for c in cmds):
        return True
    for target in cache_mounts(ins):
        target = target.rstrip("/")
        if "yarn" in target or target.endswith("/.cache") or cache_folder_set:
            return True
        if any(path.startswith(target + "/") for path in _CACHES):
            return True
    return False


def _sources_from_context(dockerfile, stage, run, commands) -> bool:
    """Whether the project yarn installs can only come from the build context, where Berry's
    signs were looked for: no COPY --from or ADD of a URL in the stage's lineage, no git,
    go, curl or wget before the install."""
    for s in reversed(dockerfile.lineage(stage)):
        for ins in s.instructions:
            if ins.keyword in ("COPY", "ADD") and (ins.flag("from") is not None or "://" in ins.args_text):
                return False
            if ins.keyword == "RUN" and any(c.name.rsplit("/", 1)[-1] in _FETCHERS for c in commands(ins)):
                return False
            if ins is run:
                return True
    return True


def _cache_copied(dockerfile, stage) -> bool:
    """Another stage copies a yarn cache folder out of this one."""
    return any(ins.keyword == "COPY" and any("yarn" in a and "cache" in a for a in ins.arguments[:-1])
               for ins in copies_from(dockerfile, stage))


TRANSFORM = Transform(
    id="DO314",
    name="yarn-cache-clean",
    title="Clean the Yarn 1 cache in the RUN that installs the dependencies",
    why="Yarn 1 keeps a second copy of every installed package in its cache, which stays in the image.",
    safety=SAFE,
    fix=fix,
    doc=__doc__,
)
