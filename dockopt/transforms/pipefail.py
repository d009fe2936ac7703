"""DO109 shell-pipefail: make a failing command before `|` fail the build.

What it does
    In each stage with a RUN that pipes one command into another, inserts a SHELL
    instruction right before the first such RUN, with the stage's own shell and
    `-o pipefail`:

        RUN curl -fsSL https://example.com/install.sh | sh

    becomes, on a Debian or Ubuntu based image (bash is installed in every one),

        SHELL ["/bin/bash", "-o", "pipefail", "-c"]
        RUN curl -fsSL https://example.com/install.sh | sh

    and on an Alpine based one `SHELL ["/bin/ash", "-o", "pipefail", "-c"]`: BusyBox ash is
    the very shell /bin/sh runs there, with its pipefail option. Before an instruction that
    pipefail or bash would change (below), `SHELL ["/bin/sh", "-c"]` sets the image's own
    shell back, and the next piped RUN after it gets the pipefail shell again:

        SHELL ["/bin/bash", "-o", "pipefail", "-c"]
        RUN curl -fsSL https://example.com/x.tar.gz | tar -xz
        SHELL ["/bin/sh", "-c"]
        RUN ls /usr/lib | head -n 3

Why
    A pipeline's status is its last command's: when `curl` fails above, `sh` runs an empty
    script, succeeds, and the build goes on with nothing installed. With pipefail the
    pipeline fails when any part does (hadolint DL4006). `set -o pipefail` inside the RUN
    would do as well for the build, but dash, Debian's /bin/sh, has no such option.

Example
    A stage built FROM a stage whose last SHELL has pipefail inherits it (the image
    configuration keeps it); it gets its own copy of that SHELL line before its first piped
    RUN, which changes nothing for the build and tells hadolint, which reads each stage on
    its own. What it would change there gets `/bin/sh` back like any other.

When it is not safe
    The new shell runs every RUN after it up to the next SHELL, the shell-form CMD,
    ENTRYPOINT and HEALTHCHECK written there, and, when the stage ends with it, the stages
    and images built FROM it, so a person should review it. Pipefail fails pipelines that
    pass today, and bash is not dash; these instructions run with `/bin/sh` as before:
    - a reader that stops early (`| head`, `| grep -q`, `| sed q`) or an endless writer
      (`yes |`): the writer dies of SIGPIPE, which pipefail reports as a failure;
    - a command whose failure is routine before a `|` not guarded by `||` (`grep` finding
      nothing, `diff`, `test`, `2>/dev/null`);
    - for bash: `echo` with backslashes or `-e` (dash's echo interprets escapes itself),
      brace expansion (`mkdir {a,b}`), bash-only syntax and builtins dash rejects today
      (`[[`, `source`, `==` in `[`, `&>`, here-strings), variables bash sets
      (`$RANDOM`);
    - RUNs with heredocs, which it cannot read;
    - stages with ONBUILD: a trigger runs, in the build FROM the stage, with the shell the
      stage ends with, whatever SHELL stood above the ONBUILD line.
    `["/bin/sh", "-c"]` is the shell Docker runs when no SHELL is set, so those
    instructions run exactly as before. The Dockerfile's own SHELL instructions are never
    switched: after one that has pipefail nothing changes, after any other nothing is
    inserted until the next SHELL. Left alone as well: images whose /bin/sh is not known to
    be dash with bash beside it or BusyBox ash (unknown registries, unless the project's
    `[tool.dockopt.images]` says which public image one is built from; an ARG base without
    a known default, scratch, distroless, Windows), stages where BASH_ENV or SHELLOPTS is
    set by ENV or ARG (a stage inheriting the pipefail shell gets `/bin/sh` back first),
    and files using the backtick escape. `dockopt check` reports each piped RUN left
    without pipefail and why (DO518).

    A stage that already sets one SHELL running bash, ash or zsh with `-c` gets
    `-o pipefail` added to it (`SHELL ["/bin/bash", "-c"]` -> `SHELL ["/bin/bash", "-o",
    "pipefail", "-c"]`) when a piped RUN follows it and nothing after it, in the stage or
    in the stages built FROM it, is a pipefail hazard; the shell itself does not change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dockopt.optimizer.edits import Edit
from dockopt.optimizer.messages import joined
from dockopt.optimizer.transform import REVIEW, Transform
from dockopt.transforms._base_image import BASE_IMAGE_REWRITES

SHELLS = {  # what /bin/sh is -> the shell to run with pipefail
    "dash": ("/bin/bash", "bash"),
    "busybox-ash": ("/bin/ash", "ash"),
}
_SHELL_VARIABLES = re.compile(r"^(BASH_ENV|ENV|SHELLOPTS|BASHOPTS|GLOBIGNORE|BASH_FUNC_\S*)$")
_AFFECTED = frozenset({"RUN", "CMD", "ENTRYPOINT", "HEALTHCHECK", "ONBUILD"})


@dataclass(frozen=True)
class Switch:
    """A SHELL instruction DO109 inserts before `before`."""

    before: object
    argv: tuple[str, ...]
    why: str


@dataclass(frozen=True)
class Left:
    """A piped RUN that runs without pipefail after DO109's changes, and why."""

    ins: object
    reason: str  # a key of REASONS
    detail: str = ""


REASONS = {
    "escape": "the file uses the backtick escape",
    "image": "what /bin/sh is in the base image is not known",
    "hazard": "pipefail would fail or change this RUN",
    "bash": "bash would run this RUN differently from /bin/sh",
    "unreadable": "an instruction the new shell would run cannot be read",
    "variable": "a variable that changes how bash starts is set",
    "shell": "the stage's own SHELL has no pipefail, and DO109 leaves it",
    "onbuild": "the stage has ONBUILD triggers, which run with its last shell",
}
_OFF = ("/bin/sh", "-c")
_POSIX = frozenset({"sh", "bash", "ash", "dash", "zsh", "ksh", "mksh", "busybox"})


def fix(dockerfile, context):
    switches, _ = survey(dockerfile)
    for switch in switches:
        at = dockerfile.described_start(switch.before)
        line = f"{switch.before.recased('SHELL')} {_json(switch.argv)}{dockerfile.newline}"
        yield Edit(at, at, line, switch.why)
    yield from (edit for _, edit in _amendments(dockerfile))


def survey(dockerfile) -> tuple[list[Switch], list[Left]]:
    """The SHELL instructions DO109 inserts, and the piped RUNs it leaves without pipefail.

    Each stage is read in order with the shell in force: "off" (/bin/sh, as the base image
    has it), "on" (a pipefail shell DO109 inserted, here or in the stage it is built on),
    "user" (the Dockerfile's own SHELL with pipefail) or "other" (any other SHELL). A piped
    RUN under "off" gets the pipefail shell before it; an instruction pipefail or bash would
    change gets `/bin/sh` back before it when DO109's shell is on; the user's own SHELLs
    are never switched. A stage that inherits a pipefail shell states it again before its
    first piped RUN: that changes nothing, and hadolint reads each stage on its own."""
    from dockopt.optimizer.shell_switch import has_pipe

    switches: list[Switch] = []
    left: list[Left] = []
    final: dict[int, tuple[str, tuple[str, ...] | None]] = {}
    amended = {id(shell): argv for shell, argv in _amended_argv(dockerfile)}
    for stage in dockerfile.stages:
        lineage = dockerfile.lineage(stage)
        parent = lineage[1] if len(lineage) > 1 else None
        state, argv = final.get(parent.index, ("other", None)) if parent else ("off", None)
        refusal, name, ours = _refusal(dockerfile, lineage)
        explicit = False
        for ins in stage.instructions:
            if ins.keyword == "SHELL":
                explicit = True
                state, argv = _shell_state(ins, amended)
                continue
            piped = ins.keyword == "RUN" and not ins.json and _piped(ins, has_pipe)
            if refusal is not None and state == "on":  # DO109's shell, inherited, cannot go on here
                switches.append(Switch(ins, _OFF, _back_why(refusal[1])))
                state, argv, explicit = "off", None, True
            if state == "other":
                if piped and argv is not None and _is_posix(argv):
                    hazard = _unsafe(ins, "ash")  # the shell stays: only pipefail's hazards count
                    left.append(Left(ins, *hazard) if hazard else Left(ins, "shell", "SHELL " + _json(argv)))
                continue
            # Read only where it counts (it parses the script): a switch back under DO109's
            # shell, or a piped RUN; 150,000 RUNs without a pipe under /bin/sh need neither.
            why = _unsafe(ins, name) if refusal is None and (piped or state == "on") else None
            if why and state == "on":
                switches.append(Switch(ins, _OFF, _back_why(f"{why[1]} (line {ins.start_line})")))
                state, argv, explicit = "off", None, True
            if not piped:
                continue
            if state in ("on", "user"):
                if not explicit:  # inherited: stated again, which changes nothing
                    switches.append(Switch(ins, argv, joined(
                        "the pipefail SHELL of the stage this one is built on, stated here too",
                        "It changes nothing for the build (the image carries its SHELL); hadolint reads each "
                        "stage on its own.")))
                    explicit = True
                continue
            if why or refusal is not None:
                left.append(Left(ins, *(why or refusal)))
                continue
            argv, state, explicit = ours, "on", True
            switches.append(Switch(ins, ours, joined(
                f"{ours[0].rsplit('/', 1)[-1]} -o pipefail: a failing command before `|` now fails the build",
                _inferred_note(dockerfile, stage))))
        final[stage.index] = (state, argv)
    return switches, left


def _refusal(dockerfile, lineage) -> tuple[tuple[str, str] | None, str | None, tuple[str, ...] | None]:
    """(reason, detail) when DO109 inserts no shell in the stage, else None; the shell's
    name ("bash" or "ash") and the pipefail SHELL's arguments."""
    if dockerfile.escape == "`":
        return ("escape", ""), None, None
    if any(i.keyword == "ONBUILD" for i in lineage[0].instructions):
        return ("onbuild", "A trigger runs in the build FROM this stage, with the shell the stage ends with: "
                           "no SHELL can be set back for it alone."), None, None
    sh = _base_sh(dockerfile, lineage[-1])
    if sh not in SHELLS:
        return ("image", lineage[-1].image), None, None
    path, name = SHELLS[sh]
    if name == "bash":
        variable = next((v for s in lineage for i in s.instructions for v in _set_variables(i)
                         if _SHELL_VARIABLES.match(v)), None)
        if variable:
            return ("variable", f"{variable} is set"), name, None
    return None, name, (path, "-o", "pipefail", "-c")


def _shell_state(ins, amended) -> tuple[str, tuple[str, ...] | None]:
    """The state a SHELL instruction sets: "user" (a POSIX shell with pipefail, or one DO109
    amends), "off" (`["/bin/sh", "-c"]`, as the image has it) or "other"."""
    argv = tuple(ins.arguments) if ins.json and not ins.inner_comments else None
    if id(ins) in amended:
        return "user", amended[id(ins)]
    if argv == _OFF:
        return "off", None
    if argv is not None and _is_posix(argv) and "pipefail" in argv:
        return "user", argv
    return "other", argv


def _is_posix(argv) -> bool:
    return bool(argv) and argv[0].rsplit("/", 1)[-1] in _POSIX


def _json(argv) -> str:
    """The exec-form array, written as DO101 writes one."""
    import json

    return json.dumps(list(argv), ensure_ascii=False)


def _back_why(detail: str) -> str:
    return joined("back to /bin/sh for this instruction: pipefail or bash would change it", detail)


_AMENDABLE = frozenset({"bash", "ash", "zsh"})


def _amendments(dockerfile):
    """(SHELL, edit): `-o pipefail` added to a stage's own SHELL that runs bash, ash or zsh
    without it, when nothing after it, in the stage or the stages built FROM it, is a
    pipefail hazard."""
    import re

    from dockopt.optimizer.shell_switch import has_pipe

    if dockerfile.escape == "`":
        return
    for stage in dockerfile.stages:
        shells = [i for i in stage.instructions if i.keyword == "SHELL"]
        if len(shells) != 1 or not shells[0].json or shells[0].inner_comments:
            continue
        if any(i.keyword == "ONBUILD" for i in stage.instructions):
            continue  # its triggers run, wherever they are written, with the shell it ends with
        shell, argv = shells[0], shells[0].arguments
        if len(argv) < 2 or argv[0].rsplit("/", 1)[-1] not in _AMENDABLE or argv[-1] != "-c" or "pipefail" in argv:
            continue
        after = [i for i in stage.instructions if i.start > shell.start]
        for child in dockerfile.stages[stage.index + 1 :]:
            if stage in dockerfile.lineage(child)[1:]:
                after += [i for i in child.instructions if i.keyword != "SHELL"]
        if not any(i.keyword == "RUN" and not i.json and _piped(i, has_pipe) for i in after):
            continue
        if any(_unsafe(i, "ash") for i in after):  # the shell stays: only pipefail's hazards count
            continue
        m = None
        for m in re.finditer(r'"-c"\s*\]', shell.text):
            pass
        if m is None:
            continue
        at = shell.start + m.start()
        yield shell, Edit(at, at, '"-o", "pipefail", ', f"{argv[0].rsplit('/', 1)[-1]} -o pipefail in the stage's own "
                          "SHELL: a failing command before `|` now fails the build")


def _amended_argv(dockerfile):
    """(SHELL, its arguments once DO109 adds `-o pipefail`) for each SHELL it amends."""
    for shell, _ in _amendments(dockerfile):
        argv = tuple(shell.arguments)
        yield shell, argv[:-1] + ("-o", "pipefail", "-c")


def _inferred_note(dockerfile, stage) -> str:
    from dockopt.optimizer.images import describe

    root = dockerfile.lineage(stage)[-1]
    if describe(root.image, dockerfile.global_args()).inferred:
        return f"{root.image}: its OS inferred from the family's tag convention."
    return ""


def _piped(ins, has_pipe) -> bool:
    script = _script(ins)
    return "|" in ins.text if script is None else has_pipe(script)  # unreadable: may pipe


def _base_sh(dockerfile, root) -> str | None:
    """What /bin/sh is in the image a stage lineage starts from, where a source says."""
    from dockopt.optimizer.images import describe

    image = describe(root.image, dockerfile.global_args())
    if image.sh == "dash" and not image.bash:
        return None
    return image.sh


def _set_variables(ins) -> list[str]:
    """Names an ENV or ARG instruction sets."""
    if ins.keyword not in ("ENV", "ARG"):
        return []
    words = ins.arguments
    if ins.keyword == "ENV" and words and "=" not in words[0]:
        return words[:1]  # legacy `ENV NAME value`
    return [w.partition("=")[0] for w in words if w.partition("=")[0]]


def _script(ins) -> str | None:
    """The shell text of a shell-form RUN, CMD, ENTRYPOINT or HEALTHCHECK CMD; None when
    it cannot be read (heredocs, ONBUILD)."""
    if ins.keyword == "ONBUILD" or ins.heredocs:
        return None
    if ins.keyword == "HEALTHCHECK":
        words = ins.args_text.split(None, 1)
        shell_form = len(words) == 2 and words[0].upper() == "CMD" and not words[1].startswith("[")
        return words[1] if shell_form else ""
    return ins.shell


def _unsafe(ins, shell: str) -> tuple[str, str] | None:
    """(reason, detail) when running `ins` under `shell` with pipefail could differ."""
    from dockopt.optimizer.shell_switch import bash_difference, pipefail_hazard

    if ins.keyword not in _AFFECTED or ins.json:
        return None
    script = _script(ins)
    if script is None:
        return "unreadable", f"{ins.keyword} with a heredoc or ONBUILD"
    if not script:
        return None
    why = pipefail_hazard(script)
    if why:
        return "hazard", why
    if shell == "bash":
        why = bash_difference(script)
        if why:
            return "bash", why
    return None


TRANSFORM = Transform(
    id="DO109",
    name="shell-pipefail",
    title="Set `-o pipefail` in a SHELL before RUNs with a pipe",
    why="Without pipefail a pipeline succeeds when any command but the last fails.",
    safety=REVIEW,
    fix=fix,
    doc=__doc__,
    hadolint=("DL4006",),
    after=BASE_IMAGE_REWRITES,
)
