"""DO518 pipe-without-pipefail: a piped RUN left without pipefail, and why.

What it does
    Reports a RUN with a pipe (`curl ... | sh`) that runs without `pipefail` and that
    DO109 shell-pipefail does not put under a pipefail SHELL, as hadolint does (DL4006),
    and says why:
    - pipefail would fail or change this very RUN: a reader that stops early (`| head`,
      `| grep -q`) kills its writer with SIGPIPE, a command before `|` fails routinely
      (`grep` finding nothing), an endless writer (`yes |`);
    - bash, the shell with pipefail on a Debian or Ubuntu image, would run it differently
      from dash (`echo` with a backslash, `$"..."`), or a variable that changes how bash
      starts is set (BASH_ENV);
    - what /bin/sh is in the base image is not known (another registry, an ARG base
      without a default, an image dockopt's data lacks): no shell can be chosen;
    - the stage's own SHELL has no pipefail, and a RUN after it would fail with it;
    - an exec-form RUN starts its own shell, which no SHELL instruction reaches.
    A piped RUN that DO109 covers is left to DO109, whose change is reported on the first
    RUN the new SHELL covers (with DO109 switched off, such RUNs are not reported here).

Why
    A pipeline's status is its last command's: when `curl` fails in `curl ... | sh`, `sh`
    runs an empty script and the build goes on with nothing installed (hadolint DL4006).

Example
    FROM nvcr.io/nvidia/cuda:12.5.1-runtime-ubuntu22.04
    RUN curl -fsSL https://x/install.sh | sh     reported: /bin/sh of nvcr.io/... is unknown

Why there is no fix
    Pipefail changes the result of the pipelines it names above, and a SHELL naming a
    shell the image may lack breaks every RUN after it. Declaring the image
    (`[tool.dockopt.images]`) lets DO109 choose; a script can also guard its own pipeline
    (`set -o pipefail` under bash, or checking the download first).
"""

from __future__ import annotations

import re

from dockopt.optimizer.findings import Check, Problem
from dockopt.optimizer.messages import clip, joined

def find(dockerfile):
    from dockopt.transforms.pipefail import survey

    _, left = survey(dockerfile)
    for item in left:
        start, end = item.ins.keyword_span()
        yield Problem(start, end, _message(item.reason, item.detail))
    for stage in dockerfile.stages:
        for ins in stage.instructions:
            if ins.keyword == "RUN" and ins.json and _exec_pipe(ins.arguments):
                start, end = ins.keyword_span()
                yield Problem(start, end, joined(
                    "pipe without pipefail in an exec-form RUN: no SHELL reaches its own shell",
                    "Add `-o pipefail` to the shell it starts, or write the RUN in shell form."))


def _message(reason: str, detail: str) -> str:
    head, _, rest = detail.partition(": ")
    if reason == "hazard":
        return joined(f"no pipefail: it would change this RUN ({clip(head, 52)})", _more(head, rest, 52, detail))
    if reason == "bash":
        return joined(f"no pipefail: bash would run this RUN differently ({clip(head, 40)})",
                      _more(head, rest, 40, detail))
    if reason == "variable":
        return joined(f"no pipefail: bash would start differently here, {clip(detail, 40)}", detail)
    if reason == "image":
        return joined(f"no pipefail: what /bin/sh is in {clip(detail, 40)} is unknown",
                      "No shell with pipefail can be chosen for an image dockopt does not know; "
                      "[tool.dockopt.images] can say which public image it is built from.")
    if reason == "shell":
        return joined(f"no pipefail: the stage's own {clip(detail, 36)} has none",
                      "DO109 adds `-o pipefail` to a stage's one bash, ash or zsh SHELL only when no RUN after "
                      "it would fail or change with it.")
    from dockopt.transforms.pipefail import REASONS

    return joined(f"no pipefail: {REASONS.get(reason, reason)}", detail)


def _more(head: str, rest: str, room: int, detail: str) -> str:
    """The detail under a first line that quotes `head` in `room` characters: what follows
    the head (the whole reason when the head did not fit), not the head again."""
    if len(head) > room:
        return detail
    return rest[:1].upper() + rest[1:] + "." if rest else ""


def _exec_pipe(argv) -> bool:
    """An exec-form RUN that runs a POSIX shell on a script with a pipe and no pipefail."""
    from dockopt.optimizer.shell_switch import has_pipe

    if len(argv) < 3 or argv[0].rsplit("/", 1)[-1] not in ("sh", "bash", "ash", "dash", "zsh"):
        return False
    if not re.fullmatch(r"-[a-zA-Z]*c", argv[-2]) or any("pipefail" in a for a in argv):
        return False
    return has_pipe(argv[-1])


CHECK = Check(
    id="DO518",
    name="pipe-without-pipefail",
    title="A piped RUN that no pipefail SHELL can cover",
    why="Without pipefail a pipeline succeeds when any command but the last fails.",
    severity="info",
    find=find,
    doc=__doc__,
    hadolint=("DL4006",),
)
