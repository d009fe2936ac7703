"""DO504 apt-pin: apt-get install without package versions.

What it does
    Reports an `apt-get install` (or `apt install`) that names packages without a version:
    `apt-get install -y curl git`. A package with `=version`, a target release
    (`curl/bookworm-backports`) or a local `.deb` file counts as pinned.

Why
    The same Dockerfile installs whatever version the mirror has that day, so two builds of
    one commit can differ and a rebuild can break without a change to the file. Pinning
    (`curl=7.88.1-10+deb12u5`) makes builds repeatable (hadolint DL3008). Many teams pin
    the base image's digest instead and leave packages loose, so this is `info`.

Example
    RUN apt-get install -y curl                      reported
    RUN apt-get install -y curl=7.88.1-10+deb12u5    not reported

Why there is no fix
    The right version is the one the team has tested; dockopt cannot ask the mirror, and
    the versions it offers change with the base image.
"""

from __future__ import annotations

from dockopt.checks._pins import unpinned
from dockopt.optimizer.findings import Check


def _pinned(word: str, _install) -> bool:
    return "=" in word or "/" in word or word.endswith(".deb")


def find(dockerfile):
    yield from unpinned(dockerfile, "apt", _pinned, "pin package=version for repeatable builds")


CHECK = Check(
    id="DO504",
    name="apt-pin",
    title="apt-get install without package versions",
    why="Unpinned packages make two builds of the same Dockerfile install different versions.",
    severity="info",
    find=find,
    doc=__doc__,
    hadolint=("DL3008",),
)
