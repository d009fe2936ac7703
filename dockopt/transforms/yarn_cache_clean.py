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

import json
import re

from dockopt.optimizer.edits import Edit
from dockopt.optimizer.transform import REVIEW, SAFE, Transform

_YARN = frozenset({"yarn", "yarnpkg"})
_VALUED = frozenset(
    "--cache-folder --preferred-cache-folder --modules-folder --mutex --network-timeout --global-folder "
    "--link-folder --registry --cwd --use-yarnrc --otp --network-concurrency --child-concurrency".split()
)
_BERRY_SIGNS = re.compile(
    r"\byarn(?:pkg)?\s+set\s+version\b|\.yarnrc\.yml|\.yarn/|yarnPath|yarn@(?:berry|stable|canary|[2-9]|\d\d)"
    r"|YARN_(?:ENABLE_|NODE_LINKER|GLOBAL_FOLDER|NPM_|PNP_|CACHE_MIGRATION|YARN_PATH)"
)
_CACHES = ("/usr/local/share/.cache/yarn", "/root/.cache/yarn")
_INFO = frozenset({"--version", "-v", "--help", "-h"})
_FETCHERS = frozenset({"git", "go", "curl", "wget", "svn", "hg"})
_READS_CACHE = frozenset({"--offline", "--prefer-offline"})
_WINDOWS_IMAGE = re.compile(r"windows|nanoserver|servercore", re.IGNORECASE)


def fix(dockerfile, context):
    from dockopt.optimizer.shell import commands

    if _BERRY_SIGNS.search(dockerfile.source) or _berry_in_context(context):
        return
    cache_folder_set = "YARN_CACHE_FOLDER" in dockerfile.source
    for stage, runs in _sh_stages(dockerfile):
        if not runs or _cache_copied(dockerfile, stage):
            continue
        every = [i for i in stage.instructions if i.keyword == "RUN" and not i.json]
        found = [commands(i) for i in every]
        later = [commands(i) for i in _descendant_runs(dockerfile, stage)]
        for n, (ins, cmds) in enumerate(zip(every[: len(runs)], found)):
            if _cache_managed(ins, cmds, cache_folder_set):
                continue
            install = clean = None
            for cmd in cmds:
                kind = _kind(cmd)
                if kind == "install" and "substitution" not in cmd.context:
                    install = cmd
                elif kind == "clean":
                    clean = cmd
            if install is None or (clean is not None and clean.start > install.start):
                continue
            if any(_reads_cache(c) for cs in found[n + 1 :] + later for c in cs):
                continue
            point = _append_point(dockerfile, ins, cmds)
            if point is None:
                continue
            at, separator = point
            command = install.name.rsplit("/", 1)[-1] + " cache clean"
            why = f"{command} in the same RUN: the packages are not kept twice"
            checked = context.known and _sources_from_context(dockerfile, stage, ins, commands)
            yield Edit(at, at, separator + command, why, SAFE if checked else REVIEW)


def _kind(cmd) -> str | None:
    """"install", "clean" (`yarn cache clean`), "other" for other yarn commands, else None."""
    if not cmd.name or cmd.name.rsplit("/", 1)[-1] not in _YARN:
        return None
    words = cmd.words
    verb = _verb(words, cmd.assignments, _VALUED)
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
    for target in _cache_mounts(ins):
        target = target.rstrip("/")
        if "yarn" in target or target.endswith("/.cache") or cache_folder_set:
            return True
        if any(path.startswith(target + "/") for path in _CACHES):
            return True
    return False


def _reads_cache(cmd) -> bool:
    """A yarn command that uses what the cache holds: `--offline`, `yarn cache list`..."""
    kind = _kind(cmd)
    return kind is not None and ((kind == "other" and "cache" in cmd.words) or bool(_READS_CACHE & set(cmd.words)))


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


def _berry_in_context(context) -> bool:
    """A .yarnrc.yml, or a package.json asking corepack for Yarn 2+, near the context root."""
    if not context.known:
        return False
    for folder in ("", "*/", "*/*/"):
        if any("node_modules" not in p for p in context.glob(folder + ".yarnrc.yml")):
            return True
        for path in context.glob(folder + "package.json"):
            if "node_modules" in path:
                continue
            try:
                manager = json.loads(context.read_text(path) or "{}").get("packageManager", "")
            except (ValueError, AttributeError):
                continue
            if isinstance(manager, str) and re.match(r"yarn@(?:[2-9]|\d\d)", manager):
                return True
    return False


def _cache_copied(dockerfile, stage) -> bool:
    """Another stage copies a yarn cache folder out of this one."""
    names = {str(stage.index)} | ({stage.name.lower()} if stage.name else set())
    for ins in dockerfile.instructions:
        source = ins.flag("from")
        if ins.keyword == "COPY" and source is not None and source.lower() in names:
            if any("yarn" in a and "cache" in a for a in ins.arguments[:-1]):
                return True
    return False


def _append_point(dockerfile, ins, cmds) -> tuple[int, str] | None:
    """Where a command appended to the RUN goes, and the text joining it: the separator
    before the last command when the RUN puts one `&&` command per line, else ` && `.
    A RUN ending with a compound command (`if ...; fi`, a loop, a group) gets it after
    that; None when the RUN ends otherwise (`&`, a redirection after `done`, heredocs)."""
    if ins.heredocs or not cmds:
        return None
    last = max(cmds, key=lambda c: c.end)
    source, escape = dockerfile.source, re.escape(dockerfile.escape)
    end = _tail_end(source, last.end, ins.content_span()[1], escape, closers=bool(last.context))
    if end is None:
        return None
    separator = " && "
    previous = [c for c in cmds if c.end <= last.start]
    if end == last.end and last.op == "&&" and previous:
        before = max(previous, key=lambda c: c.end)
        between = source[before.end : last.start]
        if not before.context and re.fullmatch(
            rf"[ \t]*(?:&&[ \t]*{escape}[ \t]*\r?\n[ \t]*|{escape}[ \t]*\r?\n[ \t]*&&[ \t]*)", between
        ):
            separator = between
    return end, separator


def _tail_end(source: str, start: int, stop: int, escape: str, closers: bool) -> int | None:
    """The end of the RUN's command list, scanning `source[start:stop]` after its last
    simple command: blanks, `;`, continuations and comments, and (`closers`) the keywords
    closing the constructs around it. None when anything else follows."""
    blank = re.compile(rf"(?:[ \t\r\n;]|{escape}[ \t]*\r?\n|(?<![^\s;])#[^\n]*)+")
    closer = re.compile(r"(?:fi|done|esac|\}|\))(?=[\s;)}]|$)")
    end, pos = start, start
    while pos < stop:
        m = blank.match(source, pos, stop)
        if m:
            pos = m.end()
            continue
        m = closer.match(source, pos, stop) if closers else None
        if not m:
            return None
        end = pos = m.end()
    return end


def _descendant_runs(dockerfile, stage):
    """The RUNs of the stages built FROM this one."""
    for other in dockerfile.stages[stage.index + 1 :]:
        if stage in dockerfile.lineage(other)[1:]:
            yield from (i for i in other.instructions if i.keyword == "RUN" and not i.json)


def _sh_stages(dockerfile):
    """Each stage with its shell-form RUNs that /bin/sh runs: all of them up to a SHELL
    instruction; none in Windows images, in stages built on a stage with a SHELL, or in
    files using the backtick escape."""
    if dockerfile.escape == "`":
        return
    for stage in dockerfile.stages:
        lineage = dockerfile.lineage(stage)
        if any(_WINDOWS_IMAGE.search(s.image) for s in lineage):
            continue
        if any(i.keyword == "SHELL" for s in lineage[1:] for i in s.instructions):
            continue
        runs = []
        for ins in stage.instructions:
            if ins.keyword == "SHELL":
                break
            if ins.keyword == "RUN" and not ins.json:
                runs.append(ins)
        yield stage, runs


def _cache_mounts(ins) -> list[str]:
    """The targets of the RUN's `--mount=type=cache` flags."""
    targets = []
    for flag in ins.flags:
        if flag.startswith("--mount="):
            fields = dict(part.partition("=")[::2] for part in flag[len("--mount=") :].split(","))
            fields = {k.strip().lower(): v.strip().strip("'\"") for k, v in fields.items()}
            if fields.get("type") == "cache":
                targets.append(fields.get("target") or fields.get("dst") or fields.get("destination") or "")
    return targets


def _verb(words: list[str], name: int, valued: frozenset[str]) -> int | None:
    """Index of the subcommand: the first word after `words[name]` that is neither an option
    nor the value of one of the `valued` options."""
    i = name + 1
    while i < len(words):
        if not words[i].startswith("-"):
            return i
        i += 2 if words[i] in valued else 1
    return None


TRANSFORM = Transform(
    id="DO314",
    name="yarn-cache-clean",
    title="Clean the Yarn 1 cache in the RUN that installs the dependencies",
    why="Yarn 1 keeps a second copy of every installed package in its cache, which stays in the image.",
    safety=SAFE,
    fix=fix,
    doc=__doc__,
)
