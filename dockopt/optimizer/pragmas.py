"""Ignore pragmas: a user's word that a rewrite is not wanted here.

`# hadolint ignore=DL3025,DL4000` on the line(s) right above an instruction, and
`# hadolint global ignore=...` anywhere, are honoured for the transforms that fix those
hadolint rules; `# dockopt: ignore=DO101` and `# dockopt: global ignore=DO101` name our own
ids (or names). Text after the list (`# hadolint ignore=DL3008 -- pinned upstream`) is a
reason and is ignored, as hadolint does.
"""

from __future__ import annotations

import re

from dockopt.optimizer.syntax import Dockerfile, Instruction, Trivia

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

    def ignores(self, keys: set[str], start: int, end: int) -> bool:
        """Whether an edit of [start, end) by a transform known by `keys` is silenced."""
        if keys & self.everywhere:
            return True
        for ins, ids in self.local:
            if keys & ids and (ins.start <= start < ins.end or ins.start < end <= ins.end):
                return True
        return False
