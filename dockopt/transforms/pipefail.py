"""DO109 shell-pipefail: make a failing command before `|` fail the build.

What it does
    In each stage with a RUN that pipes one command into another, inserts one SHELL
    instruction right before the first such RUN, with the stage's own shell and
    `-o pipefail`:

        RUN curl -fsSL https://example.com/install.sh | sh

    becomes, on a Debian or Ubuntu based image (bash is installed in every one),

        SHELL ["/bin/bash", "-o", "pipefail", "-c"]
        RUN curl -fsSL https://example.com/install.sh | sh

    and on an Alpine based one `SHELL ["/bin/ash", "-o", "pipefail", "-c"]`: BusyBox ash is
    the very shell /bin/sh runs there, with its pipefail option.

Why
    A pipeline's status is its last command's: when `curl` fails above, `sh` runs an empty
    script, succeeds, and the build goes on with nothing installed. With pipefail the
    pipeline fails when any part does (hadolint DL4006). `set -o pipefail` inside the RUN
    would do as well for the build, but dash, Debian's /bin/sh, has no such option.

Example
    A stage built FROM a stage that gets the SHELL inherits it (the image configuration
    keeps it); it gets its own SHELL line too, which changes nothing for the build and tells
    hadolint, which reads each stage on its own.

When it is not safe
    The new shell runs every RUN after it, the shell-form CMD, ENTRYPOINT and HEALTHCHECK
    of the image, and the stages and images built FROM it, so a person should review it.
    Pipefail fails pipelines that pass today, and bash is not dash. The SHELL goes after
    the last instruction where either could matter, and a stage is left alone when no piped
    RUN follows it:
    - a reader that stops early (`| head`, `| grep -q`, `| sed q`) or an endless writer
      (`yes |`): the writer dies of SIGPIPE, which pipefail reports as a failure;
    - a command whose failure is routine before a `|` not guarded by `||` (`grep` finding
      nothing, `diff`, `test`, `2>/dev/null`);
    - for bash: `echo` with backslashes or `-e` (dash's echo interprets escapes itself),
      brace expansion (`mkdir {a,b}`), bash-only syntax and builtins dash rejects today
      (`[[`, `source`, `==` in `[`, `&>`, here-strings), variables bash sets
      (`$RANDOM`), and BASH_ENV or SHELLOPTS set by ENV or ARG;
    - a stage built FROM it that does any of this.
    Left alone as well: images whose /bin/sh is not known to be dash with bash beside it
    or BusyBox ash (unknown registries, unless the project's `[tool.dockopt.images]` says
    which public image one is built from; an ARG base without a known default, scratch,
    distroless, Windows), stages that inherit a SHELL, RUNs with heredocs, ONBUILD, and
    files using the backtick escape.

    A stage that already sets one SHELL running bash, ash or zsh with `-c` gets
    `-o pipefail` added to it (`SHELL ["/bin/bash", "-c"]` -> `SHELL ["/bin/bash", "-o",
    "pipefail", "-c"]`) when a piped RUN follows it and nothing after it, in the stage or
    in the stages built FROM it, is a pipefail hazard; the shell itself does not change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dockopt.optimizer.edits import Edit
from dockopt.optimizer.transform import BASE_IMAGE_REWRITES, REVIEW, Transform

SHELLS = {  # what /bin/sh is -> the shell to run with pipefail
    "dash": ("/bin/bash", "bash"),
    "busybox-ash": ("/bin/ash", "ash"),
}
_SHELL_VARIABLES = re.compile(r"^(BASH_ENV|ENV|SHELLOPTS|BASHOPTS|GLOBIGNORE|BASH_FUNC_\S*)$")
_AFFECTED = frozenset({"RUN", "CMD", "ENTRYPOINT", "HEALTHCHECK", "ONBUILD"})


@dataclass(frozen=True)
class Plan:
    """For one stage: where the SHELL goes and which shell, or why the stage is left alone."""

    stage: object
    before: object | None = None  # the piped RUN to insert the SHELL before
    shell: str | None = None  # "/bin/bash" or "/bin/ash"
    reason: str | None = None  # a key of REASONS when left alone
    detail: str | None = None


REASONS = {
    "escape": "the file uses the backtick escape",
    "shell": "the stage has or inherits a SHELL instruction",
    "image": "what /bin/sh is in the base image is not known",
    "hazard": "a pipeline would fail or change with pipefail",
    "bash": "bash would run a script differently from dash",
    "unreadable": "an instruction the new shell would run cannot be read",
    "child": "a stage built FROM it would change",
}


def fix(dockerfile, context):
    for plan in plans(dockerfile):
        if plan.before is None:
            continue
        at = dockerfile.described_start(plan.before)
        keyword = plan.before.recased("SHELL")
        line = f'{keyword} ["{plan.shell}", "-o", "pipefail", "-c"]{dockerfile.newline}'
        name = plan.shell.rsplit("/", 1)[-1]
        why = f"{name} -o pipefail: a failing command before `|` now fails the build"
        yield Edit(at, at, line, why + _inferred_note(dockerfile, plan.stage))


    yield from _amend_shells(dockerfile)


_AMENDABLE = frozenset({"bash", "ash", "zsh"})


def _amend_shells(dockerfile):
    """`-o pipefail` added to a stage's own SHELL that runs bash, ash or zsh without it."""
    import re

    from dockopt.optimizer.shell_switch import has_pipe

    if dockerfile.escape == "`":
        return
    for stage in dockerfile.stages:
        shells = [i for i in stage.instructions if i.keyword == "SHELL"]
        if len(shells) != 1 or not shells[0].json or shells[0].inner_comments:
            continue
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
        yield Edit(at, at, '"-o", "pipefail", ', f"{argv[0].rsplit('/', 1)[-1]} -o pipefail in the stage's own SHELL: "
                   "a failing command before `|` now fails the build")


def _inferred_note(dockerfile, stage) -> str:
    from dockopt.optimizer.images import describe

    root = dockerfile.lineage(stage)[-1]
    if describe(root.image, dockerfile.global_args()).inferred:
        return f" ({root.image}: its OS inferred from the family's tag convention)"
    return ""


def plans(dockerfile) -> list[Plan]:
    """What to do with each stage that has a piped RUN (stages without one are omitted)."""
    from dockopt.optimizer.shell_switch import has_pipe

    out = []
    for stage in dockerfile.stages:
        piped = [i for i in stage.instructions if i.keyword == "RUN" and not i.json and _piped(i, has_pipe)]
        if not piped:
            continue
        out.append(_plan(dockerfile, stage, piped))
    return out


def _piped(ins, has_pipe) -> bool:
    script = _script(ins)
    return "|" in ins.text if script is None else has_pipe(script)  # unreadable: may pipe


def _plan(dockerfile, stage, piped) -> Plan:
    if dockerfile.escape == "`":
        return Plan(stage, reason="escape")
    lineage = dockerfile.lineage(stage)
    if any(i.keyword == "SHELL" for s in lineage for i in s.instructions):
        return Plan(stage, reason="shell")
    sh = _base_sh(dockerfile, lineage[-1])
    if sh not in SHELLS:
        return Plan(stage, reason="image", detail=lineage[-1].image)
    path, name = SHELLS[sh]
    if name == "bash":
        variable = next((v for s in lineage for i in s.instructions for v in _set_variables(i)
                         if _SHELL_VARIABLES.match(v)), None)
        if variable:
            return Plan(stage, reason="bash", detail=f"{variable} is set")
    for child in dockerfile.stages[stage.index + 1 :]:
        if stage in dockerfile.lineage(child)[1:]:
            for ins in child.instructions:
                if ins.keyword == "SHELL":
                    break
                why = _unsafe(ins, name)
                if why:
                    return Plan(stage, reason="child", detail=f"{why[0]}: {why[1]} (line {ins.start_line})")
    last = None
    for ins in stage.instructions:
        why = _unsafe(ins, name)
        if why:
            last = ins, why
    if last is not None:
        later = [p for p in piped if p.start > last[0].start]
        if not later:
            ins, (reason, detail) = last
            return Plan(stage, reason=reason, detail=f"{detail} (line {ins.start_line})")
        piped = later
    return Plan(stage, before=piped[0], shell=path)


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
