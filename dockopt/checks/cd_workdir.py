"""DO511 cd-workdir: a `cd` in a RUN, where a WORKDIR would say it.

What it does
    Reports every `cd DIR` a RUN runs, as hadolint does: at the start
    (`RUN cd /app && npm run build`), in the middle of a build script
    (`tar xf x.tgz && cd x && make`), in a subshell. Where DO108 cd-to-workdir can
    rewrite the RUN (a leading `cd` whose folder is known), the finding is DO108's.

Why
    WORKDIR states the folder once for every instruction after it, creates it if needed
    and shows in the image's configuration; a leading `cd` has to be repeated in each RUN
    and is easy to forget in the next one (hadolint DL3003, Docker's best practices).

Example
    RUN cd /app && make           reported: WORKDIR /app, then RUN make

Why there is no fix
    For a `cd` in the middle of a script there is no equivalent WORKDIR: the commands
    before it run elsewhere, and a WORKDIR cannot stop partway through a RUN. Splitting
    the RUN in two changes the layers and the cache. DO108 fixes the leading ones it can
    prove equivalent; a person decides for the rest (a subshell `(cd x && make)` or
    `make -C x` often says it better).
"""

from __future__ import annotations

from dockopt.checks._commands import runs
from dockopt.optimizer.findings import Check, Problem


def find(dockerfile):
    for _, _, cmds in runs(dockerfile):
        for n, cmd in enumerate(cmds):
            if cmd.name != "cd":
                continue
            target = " ".join(cmd.words[cmd.assignments + 1 :]) or "~"
            where = "at the start of a RUN" if n == 0 and not cmd.nested else "inside a RUN"
            yield Problem(cmd.start, cmd.end, f"`cd {target}` {where}: WORKDIR {target} says it once for every later instruction")


CHECK = Check(
    id="DO511",
    name="cd-workdir",
    title="A RUN that starts with cd where WORKDIR would say it",
    why="WORKDIR states the folder once for every later instruction; a leading cd must be repeated.",
    severity="info",
    find=find,
    doc=__doc__,
    hadolint=("DL3003",),
    fixed_by=("DO108",),
)
