"""DO319 pin-package-manager: install the pnpm or Yarn the project was locked with.

What it does
    A global install of pnpm or Yarn with no version gets the version the project declares:
    the `packageManager` field of package.json (`"packageManager": "pnpm@9.15.0"`), else the
    major version that wrote its lockfile:

        RUN npm install -g pnpm && pnpm install   ->   RUN npm install -g pnpm@9 && pnpm install

Why
    `npm install -g pnpm` installs whatever is newest on the day of the build, so a Dockerfile
    that built yesterday can fail today with nothing changed in the project. It happened to
    this project's own seed: pnpm 10 stopped running dependencies' build scripts unless the
    project allows them (`ERR_PNPM_IGNORED_BUILDS`), and the unchanged Dockerfile no longer
    builds. The lockfile says which pnpm wrote it; installing that major keeps the build as
    it was (npm's and pnpm's guidance: pin the package manager, as `packageManager` does).

Example
    pnpm-lock.yaml starts with `lockfileVersion: '9.0'`:
    RUN npm i -g pnpm  ->  RUN npm i -g pnpm@9

    Lockfile formats and the versions that write them (pnpm's lockfile documentation and
    release notes): `9.0` pnpm 9 (pnpm 10 reads and writes it too, with the stricter build
    script policy; 9 is the release the format came with), `6.0`/`6.1` pnpm 8, `5.4` pnpm 7,
    `5.3` pnpm 6; `# yarn lockfile v1` Yarn 1.

When it is not safe
    It is a `review` change: the pinned major may be older than the one a developer runs
    locally. Left alone: no build context, a version already given (`pnpm@8`, `pnpm@latest`
    is given too: someone chose it), `packageManager` naming another tool, a lockfile this
    table does not know, and installs that name several packages.
"""

from __future__ import annotations

import json
import re

from dockopt.optimizer.edits import Edit
from dockopt.optimizer.messages import joined
from dockopt.optimizer.runs import sh_stages
from dockopt.optimizer.transform import REVIEW, Transform

_PNPM_LOCKS = {"9.0": "9", "6.0": "8", "6.1": "8", "5.4": "7", "5.3": "6"}
_GLOBAL = frozenset({"-g", "--global", "--location=global"})


def fix(dockerfile, context):
    from dockopt.optimizer.shell import commands

    if not context.known:
        return
    for _, runs in sh_stages(dockerfile):
        for ins in runs:
            for cmd in commands(ins):
                words = cmd.words[cmd.assignments:]
                if cmd.name.rsplit("/", 1)[-1] != "npm" or len(words) < 3 or words[1] not in ("install", "i", "add"):
                    continue
                if not _GLOBAL.intersection(words[2:]):
                    continue
                packages = [(i, w) for i, w in enumerate(words[2:], start=2) if not w.startswith("-")]
                if len(packages) != 1 or packages[0][1] not in ("pnpm", "yarn"):
                    continue
                index, tool = packages[0]
                version, source = _declared(tool, context)
                if version is None:
                    continue
                start, end = cmd.word_span(cmd.assignments + index)
                yield Edit(start, end, f"{tool}@{version}", joined(
                    f"{tool}@{version}, as {source} says",
                    f"a global install with no version takes whatever {tool} is newest on the day of the build"))


def _declared(tool: str, context) -> tuple[str | None, str]:
    """The version to pin and where it comes from, or (None, "")."""
    manifest = context.read_text("package.json")
    if manifest:
        try:
            field = json.loads(manifest).get("packageManager")
        except (ValueError, AttributeError):
            field = None
        if isinstance(field, str):
            name, _, version = field.partition("@")
            version = version.split("+", 1)[0]
            if name != tool:
                return None, ""  # the project names another manager: not ours to choose
            if re.fullmatch(r"\d+(\.\d+){0,2}", version):
                return version, "package.json's packageManager"
    if tool == "pnpm":
        lock = context.read_text("pnpm-lock.yaml") or ""
        m = re.search(r"^lockfileVersion:\s*['\"]?([\d.]+)", lock, re.M)
        if m and m.group(1) in _PNPM_LOCKS:
            return _PNPM_LOCKS[m.group(1)], f"pnpm-lock.yaml (lockfileVersion {m.group(1)})"
    if tool == "yarn":
        lock = context.read_text("yarn.lock") or ""
        if "# yarn lockfile v1" in lock[:500]:
            return "1", "yarn.lock (a Yarn 1 lockfile)"
    return None, ""


TRANSFORM = Transform(
    id="DO319",
    name="pin-package-manager",
    title="Install the pnpm or Yarn version the project's lockfile was written with",
    why="An unversioned global install takes the newest release, which can refuse a project that built yesterday.",
    safety=REVIEW,
    fix=fix,
    doc=__doc__,
    hadolint=("DL3016",),
)
