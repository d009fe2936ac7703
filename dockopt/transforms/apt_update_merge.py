"""DO303 apt-update-merge: run `apt-get update` in the RUN that installs, not in a RUN of its own.

What it does
    A RUN that only runs `apt-get update` (with options or a `VAR=value` prefix, or as
    `apt update`) directly followed by a RUN whose first command installs or upgrades
    packages is merged into it, and the lone RUN goes:

        RUN apt-get update                RUN apt-get update && apt-get install -y curl
        RUN apt-get install -y curl  ->

    Comments and blank lines around the lone RUN stay where they are. Between the two RUNs
    may stand LABEL, EXPOSE, MAINTAINER, STOPSIGNAL, and ENV or ARG that set no proxy and
    no APT variable: moving the update after them does not change what it downloads.

Why
    Docker caches each layer by its instruction text. `RUN apt-get update` never changes,
    so it is reused from the cache forever: when the install line changes months later, it
    runs against the old lists and fails to find package versions the mirrors no longer
    carry, or quietly installs old ones. In one RUN, any change to the install refreshes the
    lists too (Docker's best practices; hadolint DL3059 asks for the consolidation, and
    DL3009 counts the lone update). The lists can then be deleted in the same RUN (DO302).

Example
    RUN apt-get -q update
    ENV DEBIAN_FRONTEND=noninteractive
    RUN apt-get install -y curl && curl --version
    ->
    ENV DEBIAN_FRONTEND=noninteractive
    RUN apt-get -q update && apt-get install -y curl && curl --version

When it is not safe
    `apt-get update && REST` must fail whenever the update fails, as the lone RUN failed the
    build: so the install RUN must be one `&&` chain of simple commands (pipelines allowed,
    no `;`, `||`, `&`, `if` or loop at the top level). The lone RUN may carry no flags, or
    the same flags as the install RUN; an install RUN with a mount on apt's folders or a
    `--network` flag is left alone, as are heredocs, a lone RUN with comment lines inside,
    and RUNs no POSIX shell runs. Then the image has the same files (`safe`): only the layer
    boundary moves.
"""

from __future__ import annotations

import re

from dockopt.optimizer.edits import Edit
from dockopt.optimizer.messages import joined
from dockopt.optimizer.transform import SAFE, Transform
from dockopt.optimizer.runs import sh_runs
from dockopt.transforms.apt_get_flags import APT_PROGRAMS, READS_LISTS, verb
from dockopt.transforms.apt_lists_cleanup import mounts_apt

_PASSIVE = frozenset({"LABEL", "EXPOSE", "MAINTAINER", "STOPSIGNAL"})
_AFFECTS_UPDATE = re.compile(r"proxy|^apt", re.IGNORECASE)


def fix(dockerfile, context):
    from dockopt.optimizer.shell import parse_commands

    for stage, lone in sh_runs(dockerfile):
        update = _lone_update(lone, parse_commands)
        if update is None:
            continue
        install = _next_run(stage, lone)
        if install is None or install.heredocs or install.json:
            continue
        if lone.flags and lone.flags != install.flags:
            continue
        if not lone.flags and (mounts_apt(install) or install.flag("network") is not None):
            continue
        first = _first_command(install, parse_commands)
        if first is None:
            continue
        start = install.source_offset(len(install.line.rstrip()) - len(install.shell) + first)
        # One edit from the lone RUN to the install command: applied together or not at all.
        kept = dockerfile.source[lone.end : start]
        yield Edit(
            lone.start,
            start,
            kept + update + " && ",
            joined("apt-get update in the RUN that installs",
                   "a cached lone update serves stale lists to a changed install"),
        )


def _lone_update(ins, parse_commands) -> str | None:
    """The command text of a RUN that runs only `apt-get update`, or None."""
    from dockopt.optimizer.shell import commands

    if ins.heredocs or ins.inner_comments:
        return None
    # The parse every transform shares rules out almost every RUN; only a lone update is
    # parsed again, for offsets in its own script text.
    shared = commands(ins)
    if len(shared) != 1 or shared[0].context or shared[0].name not in APT_PROGRAMS or verb(shared[0]) != "update":
        return None
    try:
        cmds = parse_commands(ins.shell)
    except ValueError:
        return None
    if len(cmds) != 1 or cmds[0].context or cmds[0].name not in APT_PROGRAMS or verb(cmds[0]) != "update":
        return None
    if ins.shell[cmds[0].end :].strip() not in ("", ";"):
        return None  # a comment, `&`
    raw = cmds[0].raw
    return raw if any(q in raw for q in "'\"\\") else re.sub(r"[ \t]+", " ", raw)


def _next_run(stage, ins):
    """The RUN after `ins` when only instructions that cannot affect the update stand
    between them."""
    for other in stage.instructions[stage.position(ins) + 1 :]:
        if other.keyword == "RUN":
            return other
        if other.keyword in ("ENV", "ARG"):
            names = [a.split("=", 1)[0] for a in other.arguments] if "=" in other.args_text else other.arguments[:1]
            if not any(_AFFECTS_UPDATE.search(n) for n in names):
                continue
        elif other.keyword in _PASSIVE:
            continue
        return None
    return None


def _first_command(ins, parse_commands) -> int | None:
    """Index in the RUN's script of its first command when that command reads the apt
    lists and the script is one `&&` chain of simple commands; else None."""
    script = ins.shell
    try:
        cmds = parse_commands(script)
    except ValueError:
        return None
    top = [c for c in cmds if not c.context]
    if not top or any(c.context and c.context[0] != "substitution" for c in cmds):
        return None
    if any(c.op not in (None, "&&", "|", "|&") for c in top[1:]) or top[0].op is not None:
        return None
    if script[top[-1].end :].strip() not in ("", ";") and not script[top[-1].end :].lstrip().startswith("#"):
        return None
    first = top[0]
    if first.name not in APT_PROGRAMS or verb(first) not in READS_LISTS:
        return None
    return first.start


TRANSFORM = Transform(
    id="DO303",
    name="apt-update-merge",
    title="Run apt-get update in the RUN that installs, not in a RUN of its own",
    why="A lone `RUN apt-get update` layer is cached forever, so later installs read stale package lists.",
    safety=SAFE,
    fix=fix,
    doc=__doc__,
    hadolint=("DL3059",),
)
