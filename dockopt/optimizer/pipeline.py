"""The pipeline: run the transforms, apply their edits, verify, repeat until nothing changes.

Every round parses the current text, asks each transform for edits, keeps the edits that do
not overlap (in transform order; the others come back next round, as in ruff), applies them
and verifies the result. A round that proposes nothing ends the run, so the output is a
fixed point: running dockopt on its own output changes nothing. A run that has not settled
after `MAX_ROUNDS` is a bug, reported like a failed verification.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Sequence

from dockopt.optimizer import images
from dockopt.optimizer.context import BuildContext
from dockopt.optimizer.edits import Edit, apply, compatible
from dockopt.optimizer.gc_pause import gc_paused
from dockopt.optimizer.pragmas import Pragmas
from dockopt.optimizer.syntax import Dockerfile, parse
from dockopt.optimizer.transform import SAFE, Transform
from dockopt.optimizer.verify import VerificationError, verify

MAX_ROUNDS = 8


@dataclass(frozen=True)
class Change:
    """One applied edit, with the transform that made it and where it was."""

    transform: Transform
    edit: Edit
    line: int  # 1-based line of the edit in the text of its round
    safety: str
    round: int = 0  # 0 for the first round, whose edits apply to the original text as they are
    origin: tuple[int, int] | None = None  # the edited range, mapped back to the original text

    @property
    def explanation(self) -> str:
        return self.edit.explanation


@dataclass
class Result:
    source: str
    output: str
    changes: list[Change] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.output != self.source


class TransformCrashed(Exception):
    """A transform raised: a dockopt bug, reported with the transform's id."""

    def __init__(self, transform: Transform, exc: BaseException):
        super().__init__(f"{transform.id} ({transform.name}) crashed: {type(exc).__name__}: {exc}")
        self.transform = transform


def optimize(
    source: str | Dockerfile,
    transforms: Sequence[Transform],
    context: BuildContext | None = None,
    safe_only: bool = False,
) -> Result:
    """Rewrite a Dockerfile with `transforms`; raises ParseError for invalid input and
    VerificationError or TransformCrashed for a dockopt bug. (With the cyclic garbage
    collector paused: see gc_pause.py.)"""
    with gc_paused():
        return _optimize(source, transforms, context, safe_only)


def _optimize(source, transforms, context, safe_only) -> Result:
    tree = source if isinstance(source, Dockerfile) else parse(source)
    context = context or BuildContext(None)
    result = Result(tree.source, tree.source)
    rounds: list[Round] = []  # each round's applied edits, to map later rounds back
    # Transforms write whole lines. A file whose last line has no line ending (as some
    # editors save it) is rewritten with that line ended, and the ending is taken off again.
    pad = "" if tree.source.endswith("\n") else tree.newline
    if pad:
        tree = parse(tree.source + pad)
    for _ in range(MAX_ROUNDS):
        proposed = list(_propose(tree, transforms, context, safe_only))
        if not proposed:
            result.output = tree.source
            if pad and result.output.endswith(pad):
                result.output = result.output[: -len(pad)]
            return result
        groups: dict[tuple[str, str], list[Edit]] = {}
        for transform, edit, _ in proposed:
            groups.setdefault((transform.id, edit.explanation), []).append(edit)
        kept, _ = compatible(list(groups.values()))
        kept_ids = {id(e) for e in kept}
        # A transform that reads what others rewrite (the base image) waits for a round
        # in which they propose nothing, and then sees their result.
        busy = {t.id for t, _, _ in proposed}
        waiting = {id(e) for t, e, _ in proposed if id(e) in kept_ids and busy.intersection(t.after)}
        kept = [e for e in kept if id(e) not in waiting]
        kept_ids -= waiting
        applied = [(t, e, s) for t, e, s in proposed if id(e) in kept_ids]
        names = sorted({t.id for t, _, _ in applied})
        new_text = apply(tree.source, kept)
        if new_text == tree.source:
            raise VerificationError("edits were proposed that change nothing", names)
        for transform, edit, safety in applied:
            origin = (_back(edit.start, rounds), _back(edit.end, rounds))
            result.changes.append(Change(transform, edit, tree.line_col(edit.start)[0], safety, len(rounds), origin))
        rounds.append(Round(kept))
        tree = verify(tree, new_text, kept, names)
    raise VerificationError(f"the rewrite did not settle after {MAX_ROUNDS} rounds", [])


def _back(offset: int, rounds: list[Round]) -> int:
    """An offset in the text after `rounds`, mapped back to the original text: a place inside
    text an earlier round wrote maps to where that edit was made."""
    for edits in reversed(rounds):
        offset = edits.back(offset)
    return offset


class Round:
    """One round's applied edits, by their start in its own input, with where each one's
    text lies in the round's output: an offset in the output is mapped back by a binary
    search, not by walking the edits before it (a round may edit 20,000 RUNs, and every
    change of a later round is mapped back)."""

    def __init__(self, edits: list[Edit]) -> None:
        self.edits = sorted(edits, key=lambda e: (e.start, e.end))
        self.out_starts: list[int] = []  # where each edit's text begins in the output
        self.shifts = [0]  # shifts[k]: how far the edits before the k-th moved the text
        for edit in self.edits:
            self.out_starts.append(edit.start + self.shifts[-1])
            self.shifts.append(self.shifts[-1] + len(edit.text) - (edit.end - edit.start))

    def back(self, offset: int) -> int:
        """The offset in the round's input: the start of the edit whose text holds it, or
        the same place in the text no edit touched. (The edits' texts lie in order, one
        after the other; the last one starting at or before `offset` is the only one that
        can hold it.)"""
        k = bisect_right(self.out_starts, offset)
        if k and offset < self.out_starts[k - 1] + len(self.edits[k - 1].text):
            return self.edits[k - 1].start
        return offset - self.shifts[k]


def _propose(tree: Dockerfile, transforms: Sequence[Transform], context: BuildContext, safe_only: bool):
    pragmas = Pragmas(tree)
    proposed = []
    with images.declared(context.declared_images):  # the project's own base images
        for transform in transforms:
            try:
                proposed.append((transform, list(transform.fix(tree, context))))
            except Exception as exc:  # noqa: BLE001 - reported as a bug in that transform
                raise TransformCrashed(transform, exc) from exc
    for transform, edits in proposed:
        for edit in edits:
            safety = edit.safety or transform.safety
            if safe_only and safety != SAFE:
                continue
            if tree.source[edit.start : edit.end] == edit.text:
                continue
            if pragmas.ignores(transform.keys, edit.start, edit.end):
                continue
            yield transform, edit, safety


def distinct_changes(result: Result) -> list:
    """The changes as they are listed, one per transform and explanation, by line. (One
    change may edit several instructions: a stage split, a cd turned into WORKDIR and back.)"""
    found: dict = {}
    for change in sorted(result.changes, key=lambda c: c.line):
        found.setdefault((change.transform.id, change.explanation), change)
    return list(found.values())


def changed_lines(result: Result) -> dict[tuple[str, str], list[int]]:
    """For each transform and explanation, the lines its edits start on: the same change
    made to several RUNs is listed once, with all their lines."""
    lines: dict[tuple[str, str], list[int]] = {}
    seen: set[tuple[str, str, int]] = set()  # a set beside the lists: 20,000 RUNs, one change each
    for change in sorted(result.changes, key=lambda c: c.line):
        key = (change.transform.id, change.explanation)
        at = lines.setdefault(key, [])
        if (*key, change.line) not in seen:
            seen.add((*key, change.line))
            at.append(change.line)
    return lines


def where(lines: list[int], most: int = 10) -> str:
    """`line 3`, `lines 3, 9`, or for the same change made in many places (merging 20,000
    RUNs) the first `most` lines and how many more: a summary stays a line long."""
    if len(lines) == 1:
        return f"line {lines[0]}"
    shown = ", ".join(map(str, lines[:most]))
    return f"lines {shown}" + (f" and {len(lines) - most:,} more" if len(lines) > most else "")
