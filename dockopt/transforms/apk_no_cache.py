"""DO311 apk-no-cache: install Alpine packages with `apk add --no-cache`.

What it does
    Adds `--no-cache` right after `add` in every `apk add` that has neither it nor a cache
    of its own:

        RUN apk add curl git  ->  RUN apk add --no-cache curl git

    An `apk update` or `rm -rf /var/cache/apk/*` beside it is left as it is: with the flag
    they are merely redundant.

Why
    Without the flag apk downloads the package index (about 2 MB per repository) into
    /var/cache/apk and leaves it in the layer, where nothing ever uses it again. With it,
    apk fetches the index into memory and writes nothing (hadolint DL3019).

Example
    `apk add`, `apk --update add`, `/sbin/apk -U add --virtual .deps gcc`; inside `if`
    bodies and loops too, since the flag changes nothing but where the index is kept.

When it is not safe
    It always is: apk fetches the index when it has none, so the same packages are
    installed. Left alone: an `apk add` under a `--mount=type=cache` covering /var/cache/apk
    or /etc/apk/cache (the cache is wanted there), one with `--cache-dir` (a cache set up on
    purpose) or `--no-network` (it downloads nothing and must see the index already there),
    RUNs after a SHELL instruction (another shell runs them), Windows images and files
    using the backtick escape.
"""

from __future__ import annotations

import re

from dockopt.optimizer.edits import Edit
from dockopt.optimizer.transform import SAFE, Transform

_CACHES = ("/var/cache/apk", "/etc/apk/cache")
_KEEP = ("--no-cache", "--no-network", "--cache-dir")
# Global options that take the next word as their value.
_VALUED = frozenset(
    "-X --repository -p --root --arch --cache-dir --keys-dir --repositories-file --progress-fd --timeout "
    "--cache-max-age --wait".split()
)
_WINDOWS_IMAGE = re.compile(r"windows|nanoserver|servercore", re.IGNORECASE)


def fix(dockerfile, context):
    from dockopt.optimizer.shell import commands

    for _, runs in _sh_stages(dockerfile):
        for ins in runs:
            if any(_covers(t, p) for t in _cache_mounts(ins) for p in _CACHES):
                continue
            for cmd in commands(ins):
                if cmd.name.rsplit("/", 1)[-1] != "apk":
                    continue
                add = _verb(cmd.words, cmd.assignments, _VALUED)
                if add is None or cmd.words[add] != "add" or any(w.split("=", 1)[0] in _KEEP for w in cmd.words):
                    continue
                at = cmd.word_span(add)[1]
                yield Edit(at, at, " --no-cache", "apk add --no-cache: do not keep the package index in the layer")


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


def _covers(target: str, path: str) -> bool:
    """Whether a mount at `target` holds `path` (a mount on `/var/cache` holds its apk folder)."""
    target = target.rstrip("/")
    return path == target or path.startswith(target + "/")


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
    id="DO311",
    name="apk-no-cache",
    title="Install Alpine packages with `apk add --no-cache`",
    why="apk add without --no-cache leaves the package index in the image.",
    safety=SAFE,
    fix=fix,
    doc=__doc__,
)
