"""Edits: the only way a rewrite changes a Dockerfile.

A transform never reprints the file. It returns edits, each replacing one character range
of the original text with new text and saying why. The engine applies them from the end
backwards, so everything outside the ranges stays byte-identical (the model of pyupgrade's
token edits and dockerfile-utils' text edits).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Edit:
    start: int  # character offsets into the text the transform was given; end exclusive
    end: int
    text: str
    explanation: str  # one line: what changes and why, shown beside the diff
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
    it is kept whole or deferred whole, never half-applied."""
    kept: list[Edit] = []
    deferred: list[Edit] = []
    for group in groups:
        clash = any(overlaps(e, k) for e in group for k in kept) or any(
            overlaps(a, b) for i, a in enumerate(group) for b in group[i + 1 :]
        )
        (deferred if clash else kept).extend(group)
    return kept, deferred


def apply(text: str, edits: list[Edit]) -> str:
    """Apply non-overlapping edits to `text`."""
    for edit in sorted(edits, key=lambda e: (e.start, e.end), reverse=True):
        text = text[: edit.start] + edit.text + text[edit.end :]
    return text


def shifted_ranges(edits: list[Edit]) -> list[tuple[int, int]]:
    """Where each edit's new text lies in the edited text, in order of position."""
    ranges, delta = [], 0
    for edit in sorted(edits, key=lambda e: (e.start, e.end)):
        start = edit.start + delta
        ranges.append((start, start + len(edit.text)))
        delta += len(edit.text) - (edit.end - edit.start)
    return ranges
