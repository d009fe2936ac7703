"""What the version-pin checks share: one finding per install command that names packages
without a version, placed from the first to the last such package."""

from __future__ import annotations

import re
from typing import Callable

from dockopt.checks._commands import install, runs
from dockopt.optimizer.findings import Problem
from dockopt.optimizer.messages import joined, short_list

_VARIABLE_OR_GLOB = re.compile(r"[$*?`%]")


def unpinned(dockerfile, manager: str, pinned: Callable[[str, object], bool], advice: str):
    """Problems for `manager`'s installs of packages for which `pinned(word, install)` is
    false; words with a variable may hold a version, and globs name no package: neither is
    reported."""
    for _, _, cmds in runs(dockerfile):
        for cmd in cmds:
            found = install(cmd)
            if found is None or found.manager != manager:
                continue
            loose = [(i, w) for i, w in found.packages if not _VARIABLE_OR_GLOB.search(w) and not pinned(w, found)]
            if loose:
                start, end = cmd.word_span(loose[0][0])[0], cmd.word_span(loose[-1][0])[1]
                names = [w for _, w in loose]
                head = f"{found.program} installs {short_list(names)} without a version"
                detail = [advice] + ([f"unpinned: {', '.join(names)}"] if short_list(names) != ", ".join(names) else [])
                yield Problem(start, end, joined(head, "\n".join(detail)))
