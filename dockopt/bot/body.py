"""The pull request's title, body and commit message: what changed, where, and why.

The body leads with what a maintainer judges in ten seconds (as Renovate's pull requests
do): one table row per Dockerfile with its final base image before and after and its size,
stages, the layers a source-only change keeps, and the number of safe and review changes.
Figures `--measure` measured on an engine say so; the others are estimates and say that.
Below, collapsed: every change (transform id, name, safety, line, the edit's short message
and the transform's reason, with the message's detail collapsed once more), then the whole
diff. GitHub refuses a body over 65,536
characters, so a long diff is cut at a line with a note saying how to see all of it; the
list of changes is kept whole whenever it fits on its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from dockopt import __version__
from dockopt.bot.git import TRAILER
from dockopt.optimizer.diff import unified_diff
from dockopt.optimizer.messages import split as split_message
from dockopt.optimizer.pipeline import changed_lines, distinct_changes, where
from dockopt.optimizer.pipeline import Change, Result
from dockopt.optimizer.transform import REVIEW

MAX_BODY = 65536
_MARGIN = 200  # room for the closing lines around a cut


@dataclass
class FileChange:
    path: str  # relative to the repository root, with forward slashes
    result: Result
    proof: object = None  # what `--measure` built and ran (dockopt.measure.prove.Proof), if it ran
    context: str | None = None  # the build context folder, for the impact estimate

    @property
    def dockerfile(self) -> bool:
        return not self.path.rsplit("/", 1)[-1].endswith(".dockerignore")

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
    dockerfiles = [f for f in files if f.dockerfile] or files
    if len(dockerfiles) == 1:
        return f"dockopt: optimize {dockerfiles[0].path}"
    return f"dockopt: optimize {len(dockerfiles)} Dockerfiles"


def commit_message(files: list[FileChange]) -> str:
    lines = [title(files), "", "Rewritten by `dockopt bot`; each change and its reason are in the pull request.", ""]
    for f in files:
        ids = sorted({c.transform.id for c in f.changes})
        lines.append(f"- {f.path}: {', '.join(ids)}")
    return "\n".join(lines) + f"\n\n{TRAILER}\n"


def body(files: list[FileChange], base: str, skipped: list[tuple[str, str]] = (), limit: int = MAX_BODY) -> str:
    changes = [c for f in files for c in f.changes]
    review = sum(c.safety == REVIEW for c in changes)
    dockerfiles = [f for f in files if f.dockerfile]
    kinds = [_count(len(dockerfiles), "Dockerfile")] + (
        [_count(len(files) - len(dockerfiles), ".dockerignore")] if len(files) > len(dockerfiles) else [])
    head = [
        f"dockopt rewrote {' and '.join(kinds)} on `{base}`: "
        f"{_count(len(changes), 'change')} ({len(changes) - review} safe, {review} review).",
        "",
        *_table(dockerfiles),
        "",
        "A `safe` change builds an equivalent image. A `review` change alters the image's contents "
        "or behaviour: read it before merging. `dockopt explain ID` documents each rule.",
        "",
        f"<details>\n<summary>Every change and why ({_count(len(changes), 'change')})</summary>",
    ]
    for f in files:
        head += ["", f"### `{f.path}`", ""]
        for c in f.changes:
            t = c.transform
            message, detail = split_message(c.explanation)
            head.append(f"- {f.lines(c)}: **{t.id} {t.name}** ({c.safety}): {_text(message)}")
            head.append(f"  <br>Why: {_text(t.why)}")
            if detail:
                detail = _text(detail).replace("\n", "<br>")
                head.append(f"  <details><summary>How dockopt decided</summary>{detail}</details>")
        for d in getattr(f.proof, "dropped", None) or []:
            head.append(f"- dropped **{d.transform}**: {_text(d.reason.splitlines()[0])}")
    head += ["", "</details>"]
    if skipped:
        head += ["", "### Not rewritten", ""]
        head += [f"- `{path}`: {_text(error)}" for path, error in skipped]
    foot = ["", "---", f"<sub>Opened by `dockopt bot` {__version__}. Running it again updates this pull request.</sub>", ""]
    head_text, foot_text = "\n".join(head) + "\n", "\n".join(foot)
    if len(head_text) + len(foot_text) + _MARGIN * 2 > limit:
        head_text = _cut(head_text, limit // 2, "the list of changes is cut here; `dockopt fix --diff` shows them all")
        head_text += "\n</details>\n"
    room = limit - len(head_text) - len(foot_text) - _MARGIN
    return head_text + _details("".join(f.diff for f in files), room) + foot_text


def _table(files: list[FileChange]) -> list[str]:
    """One row per Dockerfile: base image, size, stages, cached layers, changes."""
    from dockopt.optimizer.context import BuildContext
    from dockopt.optimizer.impact import assess, size_text

    rows = ["| Dockerfile | final base image | size | stages | kept after a source-only change | changes |",
            "|---|---|---|---|---|---|"]
    notes: list[str] = []
    for f in files:
        estimate = assess(f.result, BuildContext(f.context))
        old, new = estimate.before, estimate.after
        base = f"`{old.base.ref}`" if old.base.ref == new.base.ref else f"`{old.base.ref}` → `{new.base.ref}`"
        o, r = getattr(f.proof, "original", None), getattr(f.proof, "rewrite", None)
        if o is not None and r is not None and o.build.ok and r.build.ok:
            from dockopt.measure.report import headline, mb

            size = f"{mb(o.build.size)} → {mb(r.build.size)} (measured: the built images)"
            runs = [(sum(s.cached for s in side.run_steps), len(side.run_steps)) for side in (o, r)]
            kept = (f"{runs[0][0]} of {runs[0][1]} → {runs[1][0]} of {runs[1][1]} RUN steps (measured)"
                    if o.rebuild is not None and r.rebuild is not None else "not measured")
            notes.append(f"`{f.path}`: {headline(f.proof)}")
        else:
            size = (f"{size_text(old.base)} → {size_text(new.base)} (estimate: the base image alone)"
                    if old.base.ref != new.base.ref else f"{size_text(old.base)} (estimate: the base image alone)")
            kept = f"{len(old.cached)} → {len(new.cached)} layers (estimate)"
        safe = sum(c.safety != REVIEW for c in f.changes)
        rows.append(f"| `{f.path}` | {base} | {size} | {old.stages} → {new.stages} | {kept} | "
                    f"{safe} safe, {len(f.changes) - safe} review |")
    return rows + ([""] + [f"**Built and run:** {_text(n)}  " for n in notes] if notes else [])


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
