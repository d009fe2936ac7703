"""Ignore pragmas: a user's word that a rewrite is not wanted here.

`# hadolint ignore=DL3025,DL4000` on the line(s) right above an instruction, and
`# hadolint global ignore=...` anywhere, are honoured for the transforms that fix those
hadolint rules; `# dockopt: ignore=DO101` and `# dockopt: global ignore=DO101` name our own
ids (or names). Text after the list (`# hadolint ignore=DL3008 -- pinned upstream`) is a
reason and is ignored, as hadolint does.

BuildKit's own parser directive `# check=skip=JSONArgsRecommended,FromAsCasing` (first lines
of the file) is honoured the same way for the whole file, for the transforms and checks that
name those BuildKit checks; `# check=skip=all` silences every one of them.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right

from dockopt.optimizer.syntax import Dockerfile, Instruction, Trivia
from dockopt.optimizer.transform import BUILDKIT_ALL

_PRAGMA = re.compile(r"^#\s*(hadolint|dockopt:?)\s+(global\s+)?ignore\s*=\s*([\w\-]+(?:\s*,\s*[\w\-]+)*)", re.I)


class Pragmas:
    def __init__(self, tree: Dockerfile):
        self.everywhere: set[str] = set()
        self.local: list[tuple[Instruction, set[str]]] = []
        pending: set[str] = set()
        for node in tree.nodes:
            if isinstance(node, Trivia):
                m = _PRAGMA.match(node.text.strip()) if node.kind == "comment" else None
                if m:
                    ids = {i.strip().upper() for i in m.group(3).split(",")}
                    (self.everywhere if m.group(2) else pending).update(ids)
                elif node.kind != "comment":
                    pending = set()
            else:
                if pending:
                    self.local.append((node, pending))
                pending = set()
        self.starts = [ins.start for ins, _ in self.local]  # in source order
        self.everywhere |= buildkit_skipped(tree.directives.get("check", ""))

    def ignores(self, keys: set[str], start: int, end: int) -> bool:
        """Whether an edit of [start, end) by a transform known by `keys` is silenced: it
        starts or ends in an instruction with a pragma naming one of `keys`. Instructions do
        not overlap, so at most two can hold it, found by binary search (a file may carry a
        pragma above each of thousands of instructions, and each edit is asked about)."""
        if keys & self.everywhere:
            return True
        starts = self.starts
        for k in {bisect_right(starts, start) - 1, bisect_left(starts, end) - 1}:
            if k >= 0:
                ins, ids = self.local[k]
                if keys & ids and (ins.start <= start < ins.end or ins.start < end <= ins.end):
                    return True
        return False


def buildkit_skipped(check: str) -> set[str]:
    """The BuildKit checks a `# check=` directive skips, upper-cased (BUILDKIT_ALL for
    `skip=all`), read as BuildKit's ParseLintOptions reads it: `skip=A,B;error=true`."""
    skipped: set[str] = set()
    for part in check.split(";", 1):
        key, eq, value = part.partition("=")
        if not eq or key.strip().lower() != "skip":
            continue
        if value.strip() == "all":
            skipped.add(BUILDKIT_ALL)
        else:
            skipped.update(v.strip().upper() for v in value.split(",") if v.strip())
    return skipped
