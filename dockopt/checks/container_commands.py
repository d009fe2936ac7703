"""DO509 container-commands: a RUN that runs a command meant for a live machine.

What it does
    Reports the commands hadolint's DL3001 lists when a RUN runs them: `ssh`, `vim`,
    `shutdown`, `service`, `ps`, `free`, `top`, `kill` and `mount` (through `sudo` too).

Why
    A build step runs once, without a terminal, in a container that is thrown away:
    `service nginx start` starts nothing the image keeps, an editor waits for a keyboard
    that never comes, `ps` and `top` describe the build's own container, and `mount` needs
    privileges a build does not have (hadolint DL3001).

Example
    RUN service postgresql start && psql -f schema.sql     reported
    RUN apt-get install -y procps                          not reported

Why there is no fix
    What the command was meant to do has to be done another way (a CMD or an entrypoint
    script for services, a file COPY instead of an editor), which only the author knows.
    Starting a database to load a schema in one RUN can be deliberate: this is `info`.
"""

from __future__ import annotations

from dockopt.checks._commands import program, runs
from dockopt.optimizer.findings import Check, Problem

COMMANDS = frozenset({"free", "kill", "mount", "ps", "service", "shutdown", "ssh", "top", "vim"})


def find(dockerfile):
    for _, _, cmds in runs(dockerfile):
        for cmd in cmds:
            name, at = program(cmd)
            if name in COMMANDS:
                start, end = cmd.word_span(at)
                yield Problem(start, end, f"`{name}` in a build: it acts on the build's own throw-away container, not on the image")


CHECK = Check(
    id="DO509",
    name="container-commands",
    title="A RUN runs ssh, vim, service, ps, kill or another command meant for a live machine",
    why="A build step runs once, with no terminal, in a container that is thrown away.",
    severity="info",
    find=find,
    doc=__doc__,
    hadolint=("DL3001",),
)
