"""DO511 cd-workdir: a RUN that starts with `cd` where a WORKDIR would say it.

What it does
    Reports a RUN whose first command is `cd DIR`, followed by more commands:
    `RUN cd /app && npm run build`. A `cd` later in a RUN, in a subshell or to a path held
    in a shell variable is not reported.

Why
    WORKDIR states the folder once for every instruction after it, creates it if needed
    and shows in the image's configuration; a leading `cd` has to be repeated in each RUN
    and is easy to forget in the next one (hadolint DL3003, Docker's best practices).

Example
    RUN cd /app && make           reported: WORKDIR /app, then RUN make

Why there is no fix
    WORKDIR also changes the folder of every later instruction and of the running
    container (CMD, relative COPY destinations), so the rewrite is not equivalent unless a
    person checks everything that follows.
"""

from __future__ import annotations

from dockopt.checks._commands import runs
from dockopt.optimizer.findings import Check, Problem


def find(dockerfile):
    for _, _, cmds in runs(dockerfile):
        first = cmds[0]
        args = first.words[first.assignments + 1 :]
        if first.nested or first.name != "cd" or len(args) != 1 or args[0] == "-" or "$" in args[0]:
            continue
        following = next((c for c in cmds[1:] if not c.nested), None)
        if following is not None and following.op in ("&&", ";", "\n"):
            yield Problem(first.start, first.end, f"`cd {args[0]}` at the start of a RUN: WORKDIR {args[0]} says it once for every later instruction")


CHECK = Check(
    id="DO511",
    name="cd-workdir",
    title="A RUN that starts with cd where WORKDIR would say it",
    why="WORKDIR states the folder once for every later instruction; a leading cd must be repeated.",
    severity="info",
    find=find,
    doc=__doc__,
    hadolint=("DL3003",),
)
