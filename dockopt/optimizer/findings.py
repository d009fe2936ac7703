"""Findings: what `dockopt check` reports, and the three ways it writes them out.

A finding comes from one of two places. A transform's finding is a change `dockopt fix`
makes: the pipeline runs to its fixed point exactly as `fix` does (same transforms, same
`--safe`, same ignore pragmas; `applied_changes`), and each change, the edits one transform
makes in one instruction or the two halves of a move, becomes a finding that is `fixable`,
at the place in the original file where it was made (a change of a later round, such as
cache-order once ADD became COPY, is mapped back through the rounds before it). So `check`
lists exactly what `fix` will do. A check's finding is a problem with no mechanical fix (a secret in ENV, `curl | sh`): each
module in `dockopt.checks` declares a `Check` whose function yields `Problem`s. A check
never repeats a transform: one that names transforms in `fixed_by` stays quiet on an
instruction those transforms already report.

Pragmas are honoured for checks as for transforms: `# hadolint ignore=DL3008` above an
instruction silences the findings that correspond to DL3008 there, `# dockopt: ignore=DO504`
(or the check's name) the check itself; the `global` forms silence a whole file.

Formats: `text` (`path:line:col: DO101 [warning] message (hadolint DL3025)`, the detail
indented below), `json` (a list of objects) and `sarif` (SARIF 2.1.0, one run, every rule
that ran described in `tool.driver.rules`; the detail in `message.markdown`). A message is
a short first line and its detail (dockopt.optimizer.messages). Severities, lowest first:
style, info, warning, error.
"""

from __future__ import annotations

import os
from bisect import bisect_right
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Iterable, Sequence

from dockopt.optimizer.context import BuildContext
from dockopt.optimizer.messages import split as split_message
from dockopt.optimizer.pragmas import Pragmas
from dockopt.optimizer.syntax import Dockerfile, ParseError, parse
from dockopt.optimizer.transform import rule_keys

if TYPE_CHECKING:
    from dockopt.optimizer.edits import Edit
    from dockopt.optimizer.transform import Transform

SEVERITIES = ("style", "info", "warning", "error")  # lowest first
TRANSFORM_SEVERITY = "warning"
_SARIF_LEVEL = {"error": "error", "warning": "warning", "info": "note", "style": "note"}


def at_least(severity: str, threshold: str) -> bool:
    return SEVERITIES.index(severity) >= SEVERITIES.index(threshold)


@dataclass(frozen=True)
class Problem:
    """What a check function yields: a source range and what is wrong there. `severity` and
    `hadolint` override the check's own for this one problem (None: the check's)."""

    start: int
    end: int
    message: str
    severity: str | None = None
    hadolint: tuple[str, ...] | None = None
    # The text the problem is about when wider than the range it marks (no USER: the whole
    # final stage, marked at its FROM); a `fixed_by` transform changing any of it answers for it.
    about: tuple[int, int] | None = None
    # The problem holds of the text only as written (two RUNs a transform would merge): a
    # change by any rule to what it is about answers for it, not only a `fixed_by` one.
    as_written: bool = False


@dataclass(frozen=True)
class Check:
    """A problem dockopt reports but cannot fix: data, and one function that finds it."""

    id: str  # DO5xx
    name: str
    title: str  # one line, for `dockopt rules`
    why: str  # one sentence
    severity: str  # one of SEVERITIES
    find: Callable[[Dockerfile], Iterable[Problem]]
    doc: str  # the module docstring: what, why, example, why there is no fix
    hadolint: tuple[str, ...] = ()
    buildkit: tuple[str, ...] = ()  # BuildKit's build-check names
    fixed_by: tuple[str, ...] = ()  # transforms whose findings make this check's redundant

    @property
    def keys(self) -> frozenset[str]:
        """Every name a pragma may use for this check."""
        return rule_keys(self.id, self.name, self.hadolint, self.buildkit)

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"{self.id}: severity must be one of {', '.join(SEVERITIES)}")


@dataclass(frozen=True)
class Finding:
    path: str
    line: int  # 1-based; `end_column` is exclusive, as in SARIF
    column: int
    end_line: int
    end_column: int
    id: str
    name: str
    severity: str
    message: str  # the first line, under messages.SHORT characters
    fixable: bool
    safety: str | None  # a transform's: "safe" or "review"; None for a check
    hadolint: tuple[str, ...]
    buildkit: tuple[str, ...]
    detail: str = ""  # the reasoning under the message: lines, or ""

    def as_dict(self) -> dict:
        return {
            "path": self.path, "line": self.line, "column": self.column, "end_line": self.end_line,
            "end_column": self.end_column, "id": self.id, "name": self.name, "severity": self.severity,
            "message": self.message, "detail": self.detail, "fixable": self.fixable, "safety": self.safety,
            "hadolint": list(self.hadolint), "buildkit": list(self.buildkit),
        }


class CheckCrashed(Exception):
    """A check raised: a dockopt bug, reported with the check's id."""

    def __init__(self, check: Check, exc: BaseException):
        super().__init__(f"{check.id} ({check.name}) crashed: {type(exc).__name__}: {exc}")
        self.check = check


# --------------------------------------------------------------------------- finding


def applied_changes(tree: Dockerfile, transforms: Sequence["Transform"], context: BuildContext, safe_only: bool = False):
    """What `dockopt fix` changes, round after round to its fixed point, each change as
    (transform, edit, safety, exact): the edit's range mapped back to the original text, and
    `exact` when the edit applies to the original as it is (a first-round change; a later one
    was computed on the text earlier rounds made, so only its place is the original's).
    Raises TransformCrashed, or VerificationError for a rewrite that failed its checks."""
    from dockopt.optimizer.edits import Edit
    from dockopt.optimizer.pipeline import optimize

    result = optimize(tree, transforms, context, safe_only)
    out = []
    for change in result.changes:
        edit, (start, end) = change.edit, change.origin
        if change.round:
            edit = Edit(start, max(start, end), edit.text, edit.explanation, edit.safety)
        out.append((change.transform, edit, change.safety, change.round == 0))
    return out


def proposed_edits(tree: Dockerfile, transforms: Sequence["Transform"], context: BuildContext, safe_only: bool = False):
    """What each transform would change in one round of the pipeline, as
    (transform, edit, safety), pragmas and `safe_only` applied. Raises TransformCrashed."""
    from dockopt.optimizer.pipeline import _propose

    return list(_propose(tree, transforms, context, safe_only))


def find(
    source: str | Dockerfile,
    transforms: Sequence["Transform"],
    checks: Sequence[Check],
    context: BuildContext | None = None,
    safe_only: bool = False,
    path: str = "-",
) -> list[Finding]:
    """The findings for one Dockerfile, in source order. Raises ParseError for invalid
    input, TransformCrashed or CheckCrashed for a dockopt bug."""
    tree = source if isinstance(source, Dockerfile) else parse(source)
    context = context or BuildContext(None)
    where = Locator(tree)
    findings: list[Finding] = []
    located, reported = located_changes(applied_changes(tree, transforms, context, safe_only), where)
    for transform, edits, safety, start, end in located:
        findings.append(where.finding(
            path, start, end, transform.id, transform.name, getattr(transform, "severity", TRANSFORM_SEVERITY),
            edits[0].explanation, True, safety, transform.hadolint, getattr(transform, "buildkit", ()),
        ))
    for check, p, hadolint in unfixed(tree, checks, context, where, reported):
        findings.append(where.finding(
            path, p.start, p.end, check.id, check.name, p.severity or check.severity, p.message, False,
            None, hadolint, check.buildkit,
        ))
    findings.sort(key=lambda f: (f.line, f.column, f.id))
    return findings


def located_changes(changes, where: "Locator"):
    """The changes `applied_changes` gives, grouped as a person names them
    (`grouped_changes`), each as (transform, edits, safety, start, end) with the range a
    finding marks; and the (transform id, instruction index) of every instruction they
    rewrite, which `unfixed` takes as `reported`."""
    located, reported = [], set()
    for transform, edits, safety in grouped_changes([(t, e, s) for t, e, s, _ in changes], where):
        end = max(e.end for e in edits)
        start = where.snap(edits[0].start, end)
        reported.update((transform.id, i) for e in edits for i in where.covered(e, edits))
        located.append((transform, edits, safety, start, end))
    return located, reported


def unfixed(tree: Dockerfile, checks: Sequence[Check], context: BuildContext, where: "Locator",
            reported: set[tuple[str, int]]):
    """The checks' problems, as (check, problem, hadolint rules), that pragmas leave and no
    change already answers: `reported` holds (transform id, instruction index) for each
    instruction a change rewrites, and a check is quiet where a transform it names in
    `fixed_by` rewrites what its problem is about. Raises CheckCrashed."""
    from dockopt.optimizer import images

    pragmas = Pragmas(tree)
    changed = {i for _, i in reported}
    for check in checks:
        try:
            with images.declared(context.declared_images):  # as for the transforms (pipeline._propose)
                problems = list(check.find(tree))
        except Exception as exc:  # noqa: BLE001 - reported as a bug in that check
            raise CheckCrashed(check, exc) from exc
        for p in problems:
            hadolint = check.hadolint if p.hadolint is None else p.hadolint
            keys = check.keys if p.hadolint is None else rule_keys(check.id, check.name, hadolint, check.buildkit)
            if pragmas.ignores(keys, p.start, max(p.end, p.start + 1)):
                continue
            first, last = p.about or (p.start, p.start + 1)
            about = range(where.instruction(first), where.instruction(max(first, last - 1)) + 1)
            if any((t, i) in reported for t in check.fixed_by for i in about):
                continue
            if p.as_written and any(i in changed for i in about):
                continue
            yield check, p, hadolint


def grouped_changes(proposed, where: "Locator") -> list[tuple["Transform", list["Edit"], str]]:
    """Edits grouped into the changes a person would name: one transform's edits with the
    same explanation in one instruction, and the two halves of a move (an insertion, then
    deletions that the same transform explains the same way)."""
    changes: list[tuple["Transform", list["Edit"], str]] = []
    for transform, edit, safety in proposed:
        if changes:
            t, edits, s = changes[-1]
            same = t is transform and s == safety and edits[0].explanation == edit.explanation
            moved = edit.text == "" and any(e.start == e.end and e.text for e in edits)
            if same and (moved or where.placed(edit, edits) == where.instruction(edits[0].start)):
                edits.append(edit)
                continue
        changes.append((transform, [edit], safety))
    return changes


class Locator:
    """Offsets to lines, columns and the index of the instruction they fall in."""

    def __init__(self, tree: Dockerfile):
        self.tree = tree
        self.starts = [i.start for i in tree.instructions]

    def instruction(self, offset: int) -> int:
        """The instruction holding `offset`, the next one when it falls between two, the
        last one past the end."""
        i = bisect_right(self.starts, offset) - 1
        if i < 0:
            return 0
        if offset >= self.tree.instructions[i].end and i + 1 < len(self.starts):
            return i + 1
        return i  # inside it, or past the last instruction: the last one

    def placed(self, edit: "Edit", group: Sequence["Edit"]) -> int:
        """The instruction an edit of a change belongs to: the one holding it, except that
        an insertion right after an instruction the change also edits belongs to that one
        (a WORKDIR restored below the RUN whose `cd` it replaces), not to the next."""
        i = self.instruction(edit.start)
        if edit.start == edit.end and 0 < i <= len(self.starts) and self.tree.instructions[i - 1].end == edit.start:
            if any(e is not edit and self.instruction(e.start) == i - 1 for e in group):
                return i - 1
        return i

    def covered(self, edit: "Edit", group: Sequence["Edit"]) -> range:
        """The instructions an edit of a change rewrites: those its range spans (a stage
        split rewrites a whole stage), or for an insertion the one it belongs to."""
        first = self.placed(edit, group)
        return range(first, max(first, self.instruction(edit.end - 1)) + 1) if edit.end > edit.start else range(first, first + 1)

    def snap(self, start: int, end: int) -> int:
        """`start`, or the start of the next instruction when `start` lies between
        instructions (in a comment above it) and the range reaches that instruction."""
        i = self.instruction(start)
        if i < len(self.starts) and start < self.starts[i] < end:
            return self.starts[i]
        return start

    def finding(self, path, start, end, *rest) -> Finding:
        # An insertion at the very end (a USER added after the last line) is reported on the
        # last line: past the final newline there is no line to point at.
        text = self.tree.source
        past = len(text) - 1 if text.endswith("\n") else len(text)
        if start > past:
            start = text.rfind("\n", 0, past) + 1
        line, col = self.tree.line_col(start)
        end_line, end_col = self.tree.line_col(min(max(start, end), past))
        id_, name, severity, message, *more = rest
        message, detail = split_message(message)
        return Finding(path, line, col, end_line, end_col, id_, name, severity, message, *more, detail=detail)


# --------------------------------------------------------------------------- files


@dataclass
class FileReport:
    path: str  # as the user named it, or "-"
    findings: list[Finding]
    error: str | None = None  # "line:col: message"
    skipped: str | None = None  # "line:col: message": a template or excerpt, not checked


def check_text(
    text: str, transforms, checks, context: BuildContext | None = None, safe_only: bool = False, path: str = "-"
) -> FileReport:
    from dockopt.optimizer.pipeline import TransformCrashed
    from dockopt.optimizer.verify import VerificationError

    try:
        return FileReport(path, find(text, transforms, checks, context, safe_only, path))
    except ParseError as exc:
        if exc.template:
            return FileReport(path, [], skipped=exc.notice)
        return FileReport(path, [], str(exc))
    except (TransformCrashed, CheckCrashed, VerificationError) as exc:
        return FileReport(path, [], f"1:1: internal error ({exc}); this is a dockopt bug, please report it")


def check_file(path: str, transforms, checks, context_dir: str | None = None, safe_only: bool = False) -> FileReport:
    """Never raises on a file: unreadable or invalid input ends as the report's error."""
    from dockopt.optimizer.runner import decode

    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        return FileReport(path, [], f"1:1: cannot read: {exc.strerror or exc}")
    try:
        text = decode(data)
    except ParseError as exc:
        return FileReport(path, [], str(exc))
    return check_text(text, transforms, checks, BuildContext.for_file(path, context_dir), safe_only, path)


# --------------------------------------------------------------------------- formats


def to_text(findings: Iterable[Finding]) -> str:
    from dockopt.optimizer.runner import shown

    lines = []
    for f in findings:
        ids = []
        if f.hadolint:
            ids.append("hadolint " + ", ".join(f.hadolint))
        if f.buildkit:
            ids.append("BuildKit " + ", ".join(f.buildkit))
        tail = f" ({'; '.join(ids)})" if ids else ""
        lines.append(f"{shown(f.path)}:{f.line}:{f.column}: {f.id} [{f.severity}] {f.message}{tail}\n")
        lines.extend(f"    {line}\n" for line in f.detail.splitlines())
    return "".join(lines)


def to_json(findings: Iterable[Finding]) -> str:
    import json

    return json.dumps([f.as_dict() for f in findings], indent=2, ensure_ascii=False) + "\n"


def to_sarif(findings: Sequence[Finding], rules: Sequence, errors: Sequence[tuple[str, str]] = (), cwd: str | None = None) -> str:
    """A SARIF 2.1.0 log: `rules` are the transforms and checks that ran, `errors` the
    (path, "line:col: message") of files that could not be checked."""
    import json

    from dockopt import __version__

    cwd = os.path.abspath(cwd or os.getcwd())
    index = {r.id: i for i, r in enumerate(rules)}
    results = []
    for f in findings:
        result = {
            "ruleId": f.id,
            "level": _SARIF_LEVEL[f.severity],
            "message": {"text": f.message, **({"markdown": _markdown(f)} if f.detail else {})},
            "locations": [_location(f.path, cwd, {
                "startLine": f.line, "startColumn": f.column, "endLine": f.end_line, "endColumn": f.end_column,
            })],
            "properties": {
                "severity": f.severity, "fixable": f.fixable, "hadolint": list(f.hadolint),
                "buildkit": list(f.buildkit), **({"safety": f.safety} if f.safety else {}),
                **({"detail": f.detail} if f.detail else {}),
            },
        }
        if f.id in index:
            result["ruleIndex"] = index[f.id]
        results.append(result)
    notifications = []
    for path, error in errors:
        line, col, message = _split_error(error)
        notifications.append({
            "level": "error",
            "message": {"text": message},
            "locations": [_location(path, cwd, {"startLine": line, "startColumn": col})],
        })
    run = {
        "tool": {"driver": {"name": "dockopt", "version": __version__, "rules": [_rule(r) for r in rules]}},
        "originalUriBaseIds": {"%SRCROOT%": {"uri": _file_uri(cwd) + "/"}},
        "columnKind": "unicodeCodePoints",
        "invocations": [{"executionSuccessful": not errors, "toolExecutionNotifications": notifications}],
        "results": results,
    }
    log = {"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0", "runs": [run]}
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


def _markdown(f: Finding) -> str:
    """The message, then each line of its detail as a paragraph (Markdown joins lines)."""
    return "\n\n".join([f.message, *f.detail.splitlines()])


def _rule(rule) -> dict:
    severity = getattr(rule, "severity", TRANSFORM_SEVERITY)
    properties = {"hadolint": list(rule.hadolint), "buildkit": list(getattr(rule, "buildkit", ())), "severity": severity}
    if hasattr(rule, "safety"):
        properties["safety"] = rule.safety
    properties["tags"] = ["fix" if hasattr(rule, "safety") else "check"]
    return {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": (rule.doc or rule.why).strip()},
        "defaultConfiguration": {"level": _SARIF_LEVEL[severity]},
        "properties": properties,
    }


def _location(path: str, cwd: str, region: dict) -> dict:
    from urllib.parse import quote

    if path == "-":
        artifact = {"uri": "Dockerfile", "uriBaseId": "%SRCROOT%"}
    else:
        full = os.path.abspath(path)
        rel = os.path.relpath(full, cwd)
        if rel.startswith(".."):
            artifact = {"uri": _file_uri(full)}
        else:
            artifact = {"uri": quote(rel.replace(os.sep, "/")), "uriBaseId": "%SRCROOT%"}
    return {"physicalLocation": {"artifactLocation": artifact, "region": region}}


def _file_uri(path: str) -> str:
    from urllib.parse import quote

    path = path.replace(os.sep, "/")
    return "file://" + quote(path if path.startswith("/") else "/" + path)


def _split_error(error: str) -> tuple[int, int, str]:
    head, _, message = error.partition(": ")
    line, _, col = head.partition(":")
    if line.isdigit() and col.isdigit():
        return int(line), int(col), message
    return 1, 1, error
