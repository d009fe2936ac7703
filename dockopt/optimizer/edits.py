"""Edits: the only way a rewrite changes a Dockerfile.

A transform never reprints the file. It returns edits, each replacing one character range
of the original text with new text and saying why. The engine applies them from the end
backwards, so everything outside the ranges stays byte-identical (the model of pyupgrade's
token edits and dockerfile-utils' text edits).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from dataclasses import dataclass


@dataclass(frozen=True)
class Edit:
    start: int  # character offsets into the text the transform was given; end exclusive
    end: int
    text: str
    explanation: str  # what changes (first line, under 100 characters), then why (dockopt.optimizer.messages)
    safety: str | None = None  # a finding may downgrade itself to "review"


def overlaps(a: Edit, b: Edit) -> bool:
    """Whether two edits cannot both apply: their ranges intersect, an insertion falls
    strictly inside the other's range, or two insertions compete for one place."""
    if a.start == a.end or b.start == b.end:
        insertion, other = (a, b) if a.start == a.end else (b, a)
        if other.start == other.end:
            return insertion.start == other.start
        return other.start < insertion.start < other.end
    return a.start < b.end and b.start < a.end


def compatible(groups: list[list[Edit]]) -> tuple[list[Edit], list[Edit]]:
    """Split groups of edits, in the order given, into a non-overlapping set and the
    deferred rest. A group is one change (a moved install is a deletion and an insertion):
    it is kept whole or deferred whole, never half-applied.

    Each edit is checked against the kept ones in an ordered index (`Occupied`), not
    against each of them: one transform may propose an edit for each of 20,000 RUNs, and
    pairwise checks would make that 400 million comparisons."""
    kept: list[Edit] = []
    deferred: list[Edit] = []
    taken = Occupied()
    for group in groups:
        own = Occupied()
        clash = False
        for edit in group:
            if taken.clashes(edit) or own.clashes(edit):
                clash = True
                break
            own.add(edit)
        if clash:
            deferred.extend(group)
        else:
            kept.extend(group)
            for edit in group:
                taken.add(edit)
    return kept, deferred


class Occupied:
    """Edits that do not overlap one another, indexed by position, so whether a new edit
    `overlaps` any of them takes two binary searches. Non-empty ranges that do not overlap
    are disjoint, so sorted by start they are also sorted by end: the one starting last
    before a range ends is the only one that can reach into it."""

    def __init__(self) -> None:
        self.starts: list[int] = []  # non-empty ranges, by start
        self.ends: list[int] = []  # their ends, in the same order
        self.points: list[int] = []  # insertions, sorted

    def clashes(self, edit: Edit) -> bool:
        """Whether `edit` overlaps one of the edits held (as `overlaps` decides)."""
        start, end = edit.start, edit.end
        if start == end:
            i = bisect_left(self.points, start)
            if i < len(self.points) and self.points[i] == start:
                return True
            return self._range_reaches(start, start)
        i = bisect_right(self.points, start)
        if i < len(self.points) and self.points[i] < end:
            return True
        return self._range_reaches(start, end)

    def _range_reaches(self, start: int, end: int) -> bool:
        """Whether a held range begins before `end` and ends after `start` (for an
        insertion, `start == end`: whether it falls strictly inside a held range)."""
        i = bisect_left(self.starts, end) - 1
        return i >= 0 and self.ends[i] > start

    def add(self, edit: Edit) -> None:
        """Hold `edit`, which must not clash with the edits held."""
        if edit.start == edit.end:
            insort(self.points, edit.start)
        else:
            i = bisect_left(self.starts, edit.start)
            self.starts.insert(i, edit.start)
            self.ends.insert(i, edit.end)


def apply(text: str, edits: list[Edit]) -> str:
    """Apply non-overlapping edits to `text`: the pieces between them and their new texts
    are joined once, in order, so applying an edit to each of 20,000 RUNs does not copy
    the file 20,000 times. Edits that do overlap are applied one by one from the end, as
    they always were."""
    ordered = sorted(edits, key=lambda e: (e.start, e.end))
    if any(a.end > b.start or a.start == a.end == b.start == b.end for a, b in zip(ordered, ordered[1:])):
        for edit in sorted(edits, key=lambda e: (e.start, e.end), reverse=True):
            text = text[: edit.start] + edit.text + text[edit.end :]
        return text
    pieces, at = [], 0
    for edit in ordered:
        pieces.append(text[at : edit.start])
        pieces.append(edit.text)
        at = edit.end
    pieces.append(text[at:])
    return "".join(pieces)


def shifted_ranges(edits: list[Edit]) -> list[tuple[int, int]]:
    """Where each edit's new text lies in the edited text, in order of position."""
    ranges, delta = [], 0
    for edit in sorted(edits, key=lambda e: (e.start, e.end)):
        start = edit.start + delta
        ranges.append((start, start + len(edit.text)))
        delta += len(edit.text) - (edit.end - edit.start)
    return ranges
