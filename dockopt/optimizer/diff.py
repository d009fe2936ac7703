"""Unified diffs that `git apply` and `patch` accept, line endings and all."""

from __future__ import annotations

import difflib

_NO_NEWLINE = "\\ No newline at end of file\n"


def unified_diff(old: str | None, new: str, path: str) -> str:
    """The diff from `old` to `new`; `old` None is a new file (`--- /dev/null`)."""
    a = _lines(old or "")
    b = _lines(new)
    out = []
    before = "/dev/null" if old is None else f"a/{path}"
    for line in difflib.unified_diff(a, b, before, f"b/{path}", lineterm="\n"):
        out.append(line if line.endswith("\n") else line + "\n" + _NO_NEWLINE)
    return "".join(out)


def _lines(text: str) -> list[str]:
    """Lines with their endings, split on "\\n" only (str.splitlines also splits on \\f)."""
    parts = text.split("\n")
    lines = [p + "\n" for p in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines
