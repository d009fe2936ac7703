"""The pipeline: run the transforms, apply their edits, verify, repeat until nothing changes.

Every round parses the current text, asks each transform for edits, keeps the edits that do
not overlap (in transform order; the others come back next round, as in ruff), applies them
and verifies the result. A round that proposes nothing ends the run, so the output is a
fixed point: running dockopt on its own output changes nothing. A run that has not settled
after `MAX_ROUNDS` is a bug, reported like a failed verification.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from dockopt.optimizer import images
from dockopt.optimizer.context import BuildContext
from dockopt.optimizer.edits import Edit, apply, compatible
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
    VerificationError or TransformCrashed for a dockopt bug."""
    tree = source if isinstance(source, Dockerfile) else parse(source)
    context = context or BuildContext(None)
    result = Result(tree.source, tree.source)
    # Transforms write whole lines. A file whose last line has no line ending (as some
    # editors save it) is rewritten with that line ended, and the ending is taken off again.
    unended = not tree.source.endswith("\n")
    if unended:
        tree = parse(tree.source + tree.newline)
    for _ in range(MAX_ROUNDS):
        proposed = list(_propose(tree, transforms, context, safe_only))
        if not proposed:
            result.output = tree.source
            if unended and result.output.endswith(tree.newline):
                result.output = result.output[: -len(tree.newline)]
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
            result.changes.append(Change(transform, edit, tree.line_col(edit.start)[0], safety))
        tree = verify(tree, new_text, kept, names)
    raise VerificationError(f"the rewrite did not settle after {MAX_ROUNDS} rounds", [])


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
    for change in sorted(result.changes, key=lambda c: c.line):
        at = lines.setdefault((change.transform.id, change.explanation), [])
        if change.line not in at:
            at.append(change.line)
    return lines


def where(lines: list[int]) -> str:
    """`line 3`, or `lines 3, 9`."""
    return f"line {lines[0]}" if len(lines) == 1 else "lines " + ", ".join(map(str, lines))
