"""DO508 gem-pin: gem install without a version.

What it does
    Reports a `gem install` that names gems without a version: `gem install bundler`.
    `gem install bundler:2.5.22`, `gem install bundler -v 2.5.22` and local `.gem` files
    count as pinned.

Why
    The newest release is installed on the day of the build, so a rebuild can bring a new
    major version (of bundler, typically, which may then refuse the project's lockfile)
    (hadolint DL3028).

Example
    RUN gem install bundler               reported
    RUN gem install bundler -v 2.5.22     not reported

Why there is no fix
    The version that fits is the one in the project's Gemfile.lock (`BUNDLED WITH`), which
    dockopt does not read.
"""

from __future__ import annotations

from dockopt.checks._pins import unpinned
from dockopt.optimizer.findings import Check


def _pinned(word: str, install) -> bool:
    if any(o in ("-v", "--version") or o.startswith("--version=") for o in install.options):
        return True
    return ":" in word or word.endswith(".gem") or word.startswith((".", "/"))


def find(dockerfile):
    yield from unpinned(dockerfile, "gem", _pinned, "pin gem:version (or -v version) for repeatable builds")


CHECK = Check(
    id="DO508",
    name="gem-pin",
    title="gem install without a version",
    why="A gem named without a version installs whatever is newest on the day of the build.",
    severity="info",
    find=find,
    doc=__doc__,
    hadolint=("DL3028",),
)
