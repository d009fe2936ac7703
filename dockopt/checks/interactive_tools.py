"""DO510 interactive-tools: the shipped image installs an SSH server, an editor or sudo.

What it does
    Reports installs (apt-get, apk, yum, dnf, microdnf, zypper) of `openssh-server`,
    `ssh`, `dropbear`, `vim`, `nano`, `emacs` and `sudo` in the final stage and the stages
    it is built on. Build stages that are only copied from are not reported.

Why
    These are tools for a person logged into a machine. In a container, `docker exec`
    replaces SSH, files come from the build or a volume rather than an editor, and the
    entrypoint runs as the right user without sudo. Each one adds megabytes, a
    vulnerability surface and, for sshd and sudo, a way in or up for an attacker.

Example
    FROM debian:12
    RUN apt-get install -y --no-install-recommends vim sudo     reported

Why there is no fix
    Whether a tool is used (a debug image may want vim) is the author's call, and removing
    a package can break a later step that runs it.
"""

from __future__ import annotations

from dockopt.checks._commands import install, package_name, runs
from dockopt.optimizer.findings import Check, Problem
from dockopt.optimizer.messages import joined, short_list

TOOLS = frozenset(
    "openssh-server ssh dropbear vim vim-tiny vim-nox vim-enhanced nano emacs emacs-nox sudo".split()
)


def find(dockerfile):
    shipped = {id(s) for s in dockerfile.lineage(dockerfile.stages[-1])} if dockerfile.stages else set()
    for stage, _, cmds in runs(dockerfile):
        if id(stage) not in shipped:
            continue
        for cmd in cmds:
            found = install(cmd)
            if found is None or found.manager not in ("apt", "apk", "rpm"):
                continue
            tools = [(i, w) for i, w in found.packages if package_name(w) in TOOLS]
            if tools:
                start, end = cmd.word_span(tools[0][0])[0], cmd.word_span(tools[-1][0])[1]
                names = short_list(package_name(w) for _, w in tools)
                yield Problem(start, end, joined(f"installs {names} in the shipped image",
                                                 "use `docker exec`, volumes and USER instead of a login server, an "
                                                 "editor or sudo"))


CHECK = Check(
    id="DO510",
    name="interactive-tools",
    title="The shipped image installs an SSH server, an editor or sudo",
    why="Login servers, editors and sudo add size and attack surface and have no use in a container.",
    severity="info",
    find=find,
    doc=__doc__,
)
