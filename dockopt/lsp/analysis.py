"""What the language server says about one Dockerfile: the engine's answers in LSP terms.

Plain data in, plain data out, no pygls: the server (dockopt/lsp/server.py) only moves
these answers over the wire, and runs them off its event loop.

- `diagnose`: what `dockopt check` reports, found the way it finds them: one problem per
  change of the pipeline's run to its fixed point (`findings.located_changes`: the edits
  one transform makes in one instruction, or the two halves of a move),
  with its range and, for a first-round change, its own edits as its quick fix; then one
  per check finding no change answers (`findings.unfixed`). Invalid input is one problem
  at the parse error; a bad project configuration one at the top.
- `format_edits`: the whole pipeline (every round) with `safe` transforms only, or with
  `review` ones too when the editor asks, turned into line edits by `line_edits`.
- `line_edits`: the smallest set of whole-line replacements that turns one text into
  another (difflib over LSP lines), so untouched lines keep their cursor, marks and undo.

The rules and the `review` default come from the project's configuration, found from the
Dockerfile's folder exactly as the CLI finds it ([tool.dockopt], .dockopt.toml); an
untitled document uses the server's working folder, as `dockopt fix -` does, and has no
build context.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any, Sequence

from dockopt.lsp.positions import LineIndex
from dockopt.optimizer.edits import Edit, apply
from dockopt.optimizer.messages import split as split_message

Position = tuple[int, int]  # (line, character), 0-based, in the negotiated encoding

FIX_ALL = "source.fixAll.dockopt"
_BUG = "this is a dockopt bug, please report it"


@dataclass(frozen=True)
class Settings:
    """The editor's settings: `review` also formats (and fixes all) with `review` rewrites,
    and shows their diagnostics even when the project's configuration turns them off."""

    review: bool = False

    @classmethod
    def parse(cls, options: Any, base: Settings | None = None) -> Settings:
        """Settings from initializationOptions or a configuration answer: either
        `{"dockopt": {"review": true}}` or the inner table; anything else keeps `base`."""
        base = base or cls()
        if isinstance(options, dict) and isinstance(options.get("dockopt"), dict):
            options = options["dockopt"]
        if not isinstance(options, dict):
            return base
        review = options.get("review")
        return cls(review=review) if isinstance(review, bool) else base


@dataclass(frozen=True)
class TextEdit:
    start: Position
    end: Position
    text: str


@dataclass(frozen=True)
class Problem:
    """One diagnostic; `edits` (engine edits, character offsets) is its quick fix."""

    start: Position
    end: Position
    severity: str  # error, warning, info or style (dockopt.optimizer.findings.SEVERITIES)
    message: str
    code: str | None = None
    title: str = ""  # the quick fix's title
    safety: str | None = None
    edits: tuple[Edit, ...] = ()
    detail: str = ""  # the reasoning under the message (dockopt.optimizer.messages)


@dataclass
class Analysis:
    text: str
    index: LineIndex
    problems: list[Problem] = field(default_factory=list)

    def quick_fix(self, problem: Problem) -> list[TextEdit]:
        """The line edits that make this one change."""
        return line_edits(self.text, apply(self.text, list(problem.edits)), self.index)


@dataclass
class Formatting:
    edits: list[TextEdit]
    error: str | None = None  # why the text could not be formatted (edits is then empty)


# --------------------------------------------------------------------------- rules


@dataclass(frozen=True)
class _Rules:
    transforms: tuple
    checks: tuple
    review: bool  # the project's: whether `review` transforms are reported


def _rules(path: str | None) -> _Rules:
    """The project's rules for a document, chosen as `dockopt check` chooses them with no
    flags (dockopt/settings.py; an untitled document: the working folder's configuration);
    raises SettingsError. Read anew for each request, so an edited configuration counts."""
    from dockopt.settings import Settings

    transforms, checks, safe_only = Settings(None, None, False, False, True, "transform or check").for_target(path or "-")
    return _Rules(tuple(transforms), tuple(checks), not safe_only)


def _context(path: str | None):
    from dockopt.optimizer.context import BuildContext

    return BuildContext.for_file(path) if path else BuildContext(None)


# --------------------------------------------------------------------------- diagnostics


def diagnose(text: str, path: str | None, settings: Settings = Settings(), encoding: str = "utf-16") -> Analysis:
    """The problems in one Dockerfile, never raising on its content. `path` is the
    document's file path, None for an untitled one."""
    from dockopt.settings import SettingsError
    from dockopt.optimizer.findings import (
        TRANSFORM_SEVERITY, CheckCrashed, Locator, applied_changes, located_changes, unfixed,
    )
    from dockopt.optimizer.pipeline import TransformCrashed
    from dockopt.optimizer.syntax import ParseError, parse
    from dockopt.optimizer.verify import VerificationError

    analysis = Analysis(text, LineIndex(text, encoding))
    try:
        rules = _rules(path)
    except SettingsError as exc:
        analysis.problems.append(_at_top(analysis.index, "error", f"configuration: {exc}"))
        return analysis
    try:
        tree = parse(text)
    except ParseError as exc:
        analysis.problems.append(_parse_error(analysis.index, exc))
        return analysis
    where = Locator(tree)
    context = _context(path)
    try:
        changes = applied_changes(tree, rules.transforms, context, not (rules.review or settings.review))
    except (TransformCrashed, VerificationError) as exc:
        analysis.problems.append(_at_top(analysis.index, "error", f"internal error ({exc}); {_BUG}"))
        return analysis
    index = analysis.index
    exact = {id(e) for _, e, _, first in changes if first}
    located, reported = located_changes(changes, where)  # as `dockopt check` locates them
    for transform, edits, safety, start, end in located:
        message, detail = split_message(edits[0].explanation)
        analysis.problems.append(Problem(
            index.position(start), index.position(end),
            getattr(transform, "severity", TRANSFORM_SEVERITY),
            f"{message} ({safety})",
            transform.id,
            f"{transform.id} {transform.name}: {message}",
            safety,
            # a quick fix for what applies to this text as it is; a change a later round
            # made (on the text earlier ones wrote) comes with fix-all and formatting
            tuple(edits) if all(id(e) in exact for e in edits) else (),
            detail,
        ))
    # and what `dockopt check` reports with no fix (no quick fix either)
    try:
        for check, p, _ in unfixed(tree, rules.checks, context, where, reported):
            message, detail = split_message(p.message)
            end = max(p.start, min(p.end, len(text)))
            analysis.problems.append(Problem(
                index.position(p.start), index.position(end), p.severity or check.severity, message, check.id,
                detail=detail,
            ))
    except CheckCrashed as exc:
        analysis.problems.append(_at_top(analysis.index, "error", f"internal error ({exc}); {_BUG}"))
    return analysis


def _at_top(index: LineIndex, severity: str, message: str) -> Problem:
    return Problem((0, 0), index.position(index.ends[0]), severity, message)


def _parse_error(index: LineIndex, exc) -> Problem:
    """A parse error's problem: from its line and column (1-based, counted in characters
    and in "\\n" lines, as the parser counts) to the end of that line."""
    text = index.text
    start = 0
    for _ in range(exc.line - 1):
        nl = text.find("\n", start)
        if nl < 0:
            break
        start = nl + 1
    nl = text.find("\n", start)
    line_end = len(text) if nl < 0 else nl
    offset = min(start + exc.col - 1, line_end)
    begin = index.position(offset)
    return Problem(begin, index.position(index.ends[begin[0]]), "error", exc.message)


# --------------------------------------------------------------------------- formatting


def format_edits(text: str, path: str | None, review: bool = False, encoding: str = "utf-16") -> Formatting:
    """The edits that apply every `safe` change (and `review` ones when asked), round
    after round as `dockopt fix` does; no edits, and the reason, when that cannot be done."""
    from dockopt.settings import SettingsError
    from dockopt.optimizer.pipeline import TransformCrashed, optimize
    from dockopt.optimizer.syntax import ParseError
    from dockopt.optimizer.verify import VerificationError

    try:
        rules = _rules(path)
        result = optimize(text, rules.transforms, _context(path), safe_only=not review)
    except SettingsError as exc:
        return Formatting([], f"configuration: {exc}")
    except ParseError as exc:
        return Formatting([], str(exc))
    except (VerificationError, TransformCrashed) as exc:
        return Formatting([], f"internal error, nothing changed ({exc}); {_BUG}")
    if not result.changed:
        return Formatting([])
    return Formatting(line_edits(text, result.output, LineIndex(text, encoding)))


def line_edits(source: str, output: str, index: LineIndex) -> list[TextEdit]:
    """Whole-line replacements turning `source` (indexed by `index`) into `output`,
    one per run of changed lines; lines that stay the same are not touched."""
    if source == output:
        return []
    before = _lines(source, index.starts)
    after = _lines(output, LineIndex(output, "utf-32").starts)
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    edits = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        start, end = index.line_start(i1), index.line_start(i2)
        edits.append(TextEdit(index.position(start), index.position(end), "".join(after[j1:j2])))
    return edits


def _lines(text: str, starts: Sequence[int]) -> list[str]:
    """The lines of `text`, each with its line break; no empty last line."""
    bounds = [*starts, len(text)]
    lines = [text[a:b] for a, b in zip(bounds, bounds[1:])]
    return lines if lines and lines[-1] else lines[:-1]
