"""DO507 npm-pin: npm install of named packages without versions.

What it does
    Reports an `npm install` (`npm i`, `npm add`) that names packages without a version:
    `npm install -g pnpm`, `npm install @scope/tool`. A bare `npm install` or `npm ci`
    installs from the project's lockfile and is not reported; nor are tarballs, paths, git
    and other protocol specs.

Why
    A package named without a version installs whatever is `latest` that day: a rebuild
    picks up a new major version of a global tool without any change to the file
    (hadolint DL3016).

Example
    RUN npm install -g pnpm          reported
    RUN npm install -g pnpm@9.15.0   not reported

Why there is no fix
    The version to use is the one the project was tested with, which dockopt does not
    know in general. For pnpm and Yarn it often does: DO319 pin-package-manager installs
    the version package.json's `packageManager` or the lockfile names, and this check is
    quiet where it does.
"""

from __future__ import annotations

from dockopt.checks._pins import unpinned
from dockopt.optimizer.findings import Check


def _pinned(word: str, _install) -> bool:
    if word.startswith((".", "/", "~")) or ":" in word or word.endswith((".tgz", ".tar.gz")):
        return True  # a path, a tarball, or a protocol (git:, file:, github:, npm:)
    scoped = word.startswith("@")
    name, at, version = word[1:].partition("@") if scoped else word.partition("@")
    if not scoped and "/" in name:
        return True  # user/repo: a GitHub shorthand
    return bool(at) and version not in ("", "latest", "next")


def find(dockerfile):
    yield from unpinned(dockerfile, "npm", _pinned, "pin package@version for repeatable builds")


CHECK = Check(
    id="DO507",
    name="npm-pin",
    title="npm install of named packages without versions",
    why="A package named without a version installs whatever is latest on the day of the build.",
    severity="info",
    find=find,
    doc=__doc__,
    hadolint=("DL3016",),
    fixed_by=("DO319",),
)
