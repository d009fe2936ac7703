"""DO503 sudo: `sudo` in a RUN.

What it does
    Reports every `sudo` a RUN runs, in `&&` chains, pipelines and `if` bodies alike:
    `RUN sudo apt-get install -y curl`.

Why
    A build has no one to type a password, and sudo behaves differently with and without a
    TTY, with `requiretty`, and across images; what runs as whom becomes hard to tell. Run
    the steps that need root before switching `USER`, and use `gosu` or `su-exec` where a
    running container must drop privileges (hadolint DL3004).

Example
    USER app
    RUN sudo apt-get install -y curl     reported

    RUN apt-get install -y curl          not reported
    USER app

Why there is no fix
    Removing `sudo` is right only when the RUN already runs as root; otherwise the
    instruction has to move above the `USER` switch, or the image needs another way to gain
    privileges, which changes what the image does.
"""

from __future__ import annotations

from dockopt.checks._commands import runs
from dockopt.optimizer.findings import Check, Problem


def find(dockerfile):
    for _, _, cmds in runs(dockerfile):
        for cmd in cmds:
            if cmd.name.rsplit("/", 1)[-1] == "sudo":
                start, end = cmd.word_span(cmd.assignments)
                yield Problem(start, end, "sudo in a build: run this before switching USER, or use gosu/su-exec in the entrypoint")


CHECK = Check(
    id="DO503",
    name="sudo",
    title="sudo in a RUN",
    why="sudo needs a TTY or a password policy a build does not have, and hides who runs what.",
    severity="warning",
    find=find,
    doc=__doc__,
    hadolint=("DL3004",),
)
