"""DO519 runs-apart: consecutive one-command RUNs that DO110 leaves apart, and why.

What it does
    Reports a RUN right after another RUN with the same flags, each running one command,
    as hadolint does (DL3059), where DO110 merge-runs does not merge them, and says why:
    - merging would join two expensive steps of different kinds (`go get` then `go
      build`, `apk add git` then `git clone`), so editing either would rerun both;
    - the command above changes the shell (`export`, `cd`, `set`), starts a service or
      makes a hard link, which one RUN would carry over to the next command;
    - a RUN is not one plain command (`a || true`, a subshell, a trailing comment);
    - a `# hadolint` or `# dockopt` comment between them belongs to the second RUN, or a
      tmpfs or writable bind mount keeps each RUN's writes apart;
    - another shell runs them (a Windows image, a SHELL for PowerShell).

Why
    Each RUN commits a layer: one more to store, push and pull, and a file one RUN creates
    and a later RUN deletes stays in the earlier layer (hadolint DL3059).

Example
    RUN go get -d ./...
    RUN go build -o /app .        reported: a merge would rerun `go get` whenever this changes

Why there is no fix
    Merging changes what the build cache keeps, or what the shell sees: two expensive
    steps kept apart each keep their own cache entry, and a command that changes the shell
    would change the command after it. Where neither holds, DO110 merges the RUNs.
"""

from __future__ import annotations

from dockopt.optimizer.findings import Check, Problem
from dockopt.optimizer.messages import joined


def find(dockerfile):
    from dockopt.optimizer.pragmas import Pragmas
    from dockopt.transforms.merge_runs import TRANSFORM, edit_span, verdicts

    reasons = {(id(first), id(second)): reason for first, second, _, _, reason in verdicts(dockerfile)}
    pragmas = Pragmas(dockerfile)
    for stage in dockerfile.stages:
        for first, second in zip(stage.instructions, stage.instructions[1:]):
            if first.keyword != "RUN" or second.keyword != "RUN" or first.flags != second.flags:
                continue
            if _commands(first) > 1 or _commands(second) > 1:
                continue  # a RUN chaining commands is left as its author split it (DL3059 too)
            key = (id(first), id(second))
            start, end = second.keyword_span()
            about = (first.start, second.end)  # a change merging them (DO110, DO303) answers for it
            if key in reasons and reasons[key] is None and pragmas.ignores(TRANSFORM.keys, *edit_span(dockerfile, first, second)):
                yield Problem(start, end, joined("not merged with the RUN above: a pragma turns DO110 off here",
                                                 "A `# dockopt ignore` comment names DO110 for these lines."),
                              about=about)
                continue
            if key in reasons and reasons[key] is None:
                # DO110 merges them as written: where a change rewrites either RUN (DO110's
                # merge, or a cleanup appended to the first), that change stands for this
                yield Problem(start, end, joined("DO110 merge-runs merges it with the RUN above",
                                                 "DO110 is not among the rules that ran."),
                              about=about, as_written=True)
                continue
            first_line, detail = reasons.get(key) or _other_shell(first, second)
            yield Problem(start, end, joined(f"not merged with the RUN above: {first_line}", detail), about=about)


def _commands(ins) -> int:
    """How many commands hadolint counts in a RUN: tests (`[`, `test`) aside; one for the
    exec form; none for text it cannot read as sh (PowerShell)."""
    from dockopt.optimizer.shell import commands

    if ins.json:
        return 1
    return sum(1 for c in commands(ins) if c.name.rsplit("/", 1)[-1] not in ("[", "test"))


def _other_shell(first, second) -> tuple[str, str]:
    if first.json or second.json:
        return "an exec-form RUN cannot be joined with `&&`", ""
    if first.heredocs or second.heredocs:
        return "a heredoc RUN is not one command line", ""
    return "another shell (Windows, SHELL) runs them", "DO110 merges only RUNs that a POSIX shell runs."


CHECK = Check(
    id="DO519",
    name="runs-apart",
    title="Consecutive one-command RUNs that cannot be merged",
    why="Each RUN commits a layer; merging is left out where it costs cache or changes the shell.",
    severity="info",
    find=find,
    doc=__doc__,
    hadolint=("DL3059",),
    fixed_by=("DO110", "DO303"),
)
