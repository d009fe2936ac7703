"""DO506 apk-pin: apk add without package versions.

What it does
    Reports an `apk add` that names packages without a version constraint:
    `apk add --no-cache curl git`. `curl=8.9.1-r0`, `curl~8.9` and `curl>8` count as
    pinned, and so does a local `.apk` file.

Why
    apk installs the newest package in the branch that day, so a rebuild of the same file
    can install different versions (hadolint DL3018). Alpine removes old package versions
    from its mirrors, so exact pins break over time: `~` (same minor version) is the usual
    compromise, and this is `info`.

Example
    RUN apk add --no-cache curl          reported
    RUN apk add --no-cache curl~8.9      not reported

Why there is no fix
    Which versions to allow is the team's choice, and the versions available depend on
    the Alpine branch of the base image.
"""

from __future__ import annotations

import re

from dockopt.checks._pins import unpinned
from dockopt.optimizer.findings import Check


def _pinned(word: str, _install) -> bool:
    return bool(re.search(r"[=~<>]", word)) or word.endswith(".apk")


def find(dockerfile):
    yield from unpinned(dockerfile, "apk", _pinned, "pin package=version (or package~version) for repeatable builds")


CHECK = Check(
    id="DO506",
    name="apk-pin",
    title="apk add without package versions",
    why="Unpinned packages make two builds of the same Dockerfile install different versions.",
    severity="info",
    find=find,
    doc=__doc__,
    hadolint=("DL3018",),
)
