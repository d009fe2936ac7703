"""The pull request's title, body and commit message: what changed, where, and why.

The body lists, per Dockerfile, every change (transform id, name, safety, line, the edit's
explanation and the transform's reason), then the whole diff in a collapsible block. GitHub
refuses a body over 65,536 characters, so a long diff is cut at a line with a note saying
how to see all of it; the list of changes is kept whole whenever it fits on its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dockopt import __version__
from dockopt.bot.git import TRAILER
from dockopt.optimizer.diff import unified_diff
from dockopt.optimizer.pipeline import changed_lines, distinct_changes, where
from dockopt.optimizer.pipeline import Change, Result
from dockopt.optimizer.transform import REVIEW

MAX_BODY = 65536
_MARGIN = 200  # room for the closing lines around a cut


@dataclass
class FileChange:
    path: str  # relative to the repository root, with forward slashes
    result: Result
    measured: list[str] = field(default_factory=list)  # what `--measure` built and ran

    @property
    def changes(self) -> list[Change]:
        """One entry per transform and explanation (an edit may be applied in pieces)."""
        return distinct_changes(self.result)

    def lines(self, change: Change) -> str:
        """Where a listed change was made: `line 3`, or `lines 3, 9` for the same change in
        several instructions."""
        return where(changed_lines(self.result)[change.transform.id, change.explanation])

    @property
    def diff(self) -> str:
        return unified_diff(self.result.source, self.result.output, self.path)


def title(files: list[FileChange]) -> str:
    if len(files) == 1:
        return f"dockopt: optimize {files[0].path}"
    return f"dockopt: optimize {len(files)} Dockerfiles"


def commit_message(files: list[FileChange]) -> str:
    lines = [title(files), "", "Rewritten by `dockopt bot`; each change and its reason are in the pull request.", ""]
    for f in files:
        ids = sorted({c.transform.id for c in f.changes})
        lines.append(f"- {f.path}: {', '.join(ids)}")
    return "\n".join(lines) + f"\n\n{TRAILER}\n"


def body(files: list[FileChange], base: str, skipped: list[tuple[str, str]] = (), limit: int = MAX_BODY) -> str:
    changes = [c for f in files for c in f.changes]
    review = sum(c.safety == REVIEW for c in changes)
    head = [
        f"dockopt rewrote {_count(len(files), 'Dockerfile')} on `{base}`: "
        f"{_count(len(changes), 'change')} ({len(changes) - review} safe, {review} review).",
        "",
        "A `safe` change builds an equivalent image. A `review` change alters the image's contents "
        "or behaviour: read it before merging. `dockopt explain ID` documents each rule.",
    ]
    for f in files:
        head += ["", f"### `{f.path}`", ""]
        head += [f"**Measured:** {_text(line)}" + ("  " if i < len(f.measured) - 1 else "")
                 for i, line in enumerate(f.measured)]
        head += [""] if f.measured else []
        for c in f.changes:
            t = c.transform
            head.append(f"- {f.lines(c)}: **{t.id} {t.name}** ({c.safety}): {_text(c.explanation)}")
            head.append(f"  <br>Why: {_text(t.why)}")
    if skipped:
        head += ["", "### Not rewritten", ""]
        head += [f"- `{path}`: {_text(error)}" for path, error in skipped]
    foot = ["", "---", f"<sub>Opened by `dockopt bot` {__version__}. Running it again updates this pull request.</sub>", ""]
    head_text, foot_text = "\n".join(head) + "\n", "\n".join(foot)
    if len(head_text) + len(foot_text) + _MARGIN * 2 > limit:
        head_text = _cut(head_text, limit // 2, "the list of changes is cut here; `dockopt fix --diff` shows them all")
    room = limit - len(head_text) - len(foot_text) - _MARGIN
    return head_text + _details("".join(f.diff for f in files), room) + foot_text


def _details(diff: str, room: int) -> str:
    fence = "```"
    while fence in diff:
        fence += "`"
    lines = diff.splitlines(keepends=True)
    opening = f"\n<details>\n<summary>Diff ({_count(len(lines), 'line')})</summary>\n\n{fence}diff\n"
    closing = f"{fence}\n\n</details>\n"
    if len(opening) + len(diff) + len(closing) <= room:
        return opening + diff + closing
    kept, size = [], 0
    budget = room - len(opening) - len(closing) - _MARGIN
    for line in lines:
        if size + len(line) > budget:
            break
        kept.append(line)
        size += len(line)
    note = (
        f"\n_Diff cut after {len(kept)} of {len(lines)} lines to stay within GitHub's size limit; "
        "`dockopt fix --diff` on the branch shows it whole._\n"
    )
    return opening + "".join(kept) + closing + note


def _cut(text: str, size: int, why: str) -> str:
    cut = text.rfind("\n", 0, size)
    return text[: max(cut, 0)] + f"\n\n_… {why}._\n"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _text(s: str) -> str:
    """Text for Markdown: outside `code spans`, `<` and `>` would be read as HTML."""
    parts = s.split("`")
    for i in range(0, len(parts), 2):
        parts[i] = parts[i].replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return "`".join(parts)
