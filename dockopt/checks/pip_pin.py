"""DO505 pip-pin: pip install of packages without versions.

What it does
    Reports a `pip install` (`pip3`, `python -m pip`) that names packages without a version
    specifier: `pip install flask gunicorn`. Requirement files (`-r`), local paths, wheels,
    archives and URLs are not reported, nor is a command that gives a constraints file
    (`-c`) for the packages it names.

Why
    pip installs the newest release that day: a rebuild silently picks up a new major
    version of a dependency and of everything it depends on. Pin with `==` or install from
    a requirements or lock file (hadolint DL3013).

Example
    RUN pip install flask                     reported
    RUN pip install flask==3.1.0              not reported
    RUN pip install -r requirements.txt       not reported

Why there is no fix
    The version to pin is the one the project was tested with; it lives in the project's
    own requirements, not in the Dockerfile.
"""

from __future__ import annotations

import re

from dockopt.checks._pins import unpinned
from dockopt.optimizer.findings import Check

_SPECIFIER = re.compile(r"(===|==|>=|<=|~=|!=|<|>|@)")
_ARCHIVES = (".whl", ".tar.gz", ".tgz", ".zip", ".tar.bz2", ".tar.xz")


def _pinned(word: str, install) -> bool:
    if any(o in ("-c", "--constraint") or o.startswith("--constraint=") for o in install.options):
        return True
    return bool(_SPECIFIER.search(word)) or word.startswith((".", "/", "~")) or word.endswith(_ARCHIVES) or "://" in word


def find(dockerfile):
    yield from unpinned(dockerfile, "pip", _pinned, "pin package==version, or install from a requirements file")


CHECK = Check(
    id="DO505",
    name="pip-pin",
    title="pip install of packages without versions",
    why="Unpinned packages make two builds of the same Dockerfile install different versions.",
    severity="info",
    find=find,
    doc=__doc__,
    hadolint=("DL3013",),
)
