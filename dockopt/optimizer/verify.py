"""Checks every rewritten text must pass before anyone sees it.

Like black's safe mode: a rewrite is shown or written only when the result parses, every
node outside the edited ranges reads exactly as before (an edit that swallows the next line
through a stray continuation, or opens a heredoc, is caught here), no comment is lost and
the line endings are the file's own. A failure is a dockopt bug, reported with the
transforms involved; the file is left as it was.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter

from dockopt.optimizer.edits import Edit, shifted_ranges
from dockopt.optimizer.syntax import Dockerfile, Instruction, ParseError, parse


class VerificationError(Exception):
    """A rewrite failed a check: a bug in the transforms named."""

    def __init__(self, message: str, transforms: list[str]):
        super().__init__(message)
        self.transforms = transforms


def verify(before: Dockerfile, after_text: str, edits: list[Edit], transforms: list[str]) -> Dockerfile:
    """Return the parsed rewrite, or raise VerificationError."""
    try:
        after = parse(after_text)
    except ParseError as exc:
        raise VerificationError(f"the rewrite no longer parses: {exc}", transforms) from None
    old_ranges = [(e.start, e.end) for e in edits]
    if _untouched(before, old_ranges) != _untouched(after, shifted_ranges(edits)):
        raise VerificationError("text outside the edited instructions changed meaning", transforms)
    lost = _comments(before) - _comments(after)
    if lost:
        raise VerificationError(f"a comment was lost: {next(iter(lost))!r}", transforms)
    old_endings = _line_endings(before.source)
    if old_endings != {"none"} and _line_endings(after_text) - old_endings - {"none"}:
        raise VerificationError("the rewrite changed the file's line endings", transforms)
    return after


def _untouched(tree: Dockerfile, ranges: list[tuple[int, int]]) -> list[tuple[str, str]]:
    touched = _toucher(ranges)
    return [
        (type(n).__name__, n.text)
        for n in tree.nodes
        if not touched(n.start, n.end)
    ]


def _toucher(ranges: list[tuple[int, int]]):
    """A test of whether a node's range [start, end) meets one of `ranges`: intersects a
    non-empty one, or has an empty one (an insertion or deletion point) strictly inside.
    Binary searches over the sorted ranges, so a round that edits every one of 20,000 RUNs
    does not compare each node with every edit."""
    spans = sorted((s, e) for s, e in ranges if s != e)
    starts = [s for s, _ in spans]
    reach, furthest = [], -1  # reach[i]: the furthest end among spans[: i + 1]
    for _, e in spans:
        furthest = max(furthest, e)
        reach.append(furthest)
    points = sorted(s for s, e in ranges if s == e)

    def touched(start: int, end: int) -> bool:
        i = bisect_left(starts, end)
        if i and reach[i - 1] > start:
            return True
        j = bisect_right(points, start)
        return j < len(points) and points[j] < end

    return touched


def _comments(tree: Dockerfile) -> Counter:
    found: Counter = Counter()
    for node in tree.nodes:
        if isinstance(node, Instruction):
            body = node.text.split("\n")[: node.end_line - node.start_line + 1]
            found.update(ln.strip() for ln in body[1:] if ln.lstrip().startswith("#"))
        elif node.kind in ("comment", "directive"):
            found[node.text.strip()] += 1
    return found


def _line_endings(text: str) -> set[str]:
    crlf = text.count("\r\n")
    lf = text.count("\n") - crlf
    return {kind for kind, n in (("crlf", crlf), ("lf", lf)) if n} or {"none"}
