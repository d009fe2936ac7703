"""DO108 cd-to-workdir: turn a RUN's leading `cd DIR &&` into `WORKDIR DIR`.

What it does
    A RUN whose script starts by changing directory gets a WORKDIR instead, and the
    directory the rest of the stage expects is set back after it when anything later
    depends on it:

        WORKDIR /srv                         WORKDIR /srv
        RUN cd /tmp && wget x && tar xf x    WORKDIR /tmp
        COPY app.conf .               ->     RUN wget x && tar xf x
                                             WORKDIR /srv
                                             COPY app.conf .

    A relative `cd` is resolved against the known directory (`cd client` after
    `WORKDIR /usr/src/app` gives `WORKDIR /usr/src/app/client`), and a leading `cd` to the
    directory the RUN already runs in is simply dropped, so that `RUN cd /app && npm ci`
    followed by `RUN cd /app && npm test` becomes one `WORKDIR /app` and two plain RUNs.
    Leading `set` options stay where they are (`set -ex && cd /x && make` -> `WORKDIR /x`,
    `set -ex && make`); RUN flags such as `--mount` stay on the RUN.

    A cd after set-up commands that do the same in any folder counts as leading too:
    `mkdir -p build && cd build && cmake ..` becomes `WORKDIR <dir>/build` and
    `RUN cmake ..` (the mkdir goes with the cd: WORKDIR creates the folder as it did), and
    in `mkdir -p /usr/src /opt; apk add --virtual .deps wget; cd /usr/src; wget ...` under
    `set -e` the `mkdir -p` of absolute paths and the `apk add` stay and run in /usr/src.

Why
    `cd` hides the working directory inside a shell string; WORKDIR states it where Docker,
    readers and linters see it (hadolint DL3003).

Example
    RUN cd /usr/local/bin && ln -s python3 python  ->  WORKDIR /usr/local/bin
                                                       RUN ln -s python3 python
                                                       WORKDIR /

When it is not safe
    The built image is the same, config included:
    - The rest of the RUN runs in the same directory. WORKDIR creates a missing directory
      where `cd` fails; the rewrite is made only where a failed cd fails the RUN (the commands
      after it are joined by `&&` up to the end of the script, or by `;` under `set -e`), so
      in every build that succeeded the directory existed and WORKDIR creates nothing. (A
      directory that is a symbolic link shows its resolved path in `$PWD`; `cd` showed the
      link.)
    - Everything after it sees the directory it saw before: the previous one is set back
      (`WORKDIR <previous>`) before the next instruction that depends on the directory (a
      RUN, a relative COPY/ADD destination, WORKDIR or VOLUME) and at the end of a stage
      whose config is used (the last stage, or one a later FROM builds on; CMD, ENTRYPOINT,
      HEALTHCHECK and ONBUILD run there). It is left out when an absolute WORKDIR or a RUN
      starting with its own absolute `cd` comes first, or when the stage is only copied from
      (`COPY --from`, `--mount=from=`: building such a stage alone with `--target` would
      then start in the new directory).
      An image that sets no WORKDIR runs in `/`, so `WORKDIR /` keeps its behaviour.
    - Set-up commands before the cd now run in its folder, which exists before them: only
      `mkdir -p` of absolute paths and `apk add`/`apk del` of package names are taken
      (with no redirection, variable or glob), which read and write no file of the
      working folder and do the same whether it exists or not. A `mkdir` of the very
      folder right before the cd is deleted with it: WORKDIR makes the folder and its
      parents with mode 0755 as `mkdir -p` does under the default umask (and `mkdir`
      without -p in every build it did not fail), but owned by the USER only in BuildKit:
      the classic builder, Podman and Buildah make it root's, so under a USER other than
      root the mkdir and the cd stay. (A USER set by the base image is not known: a base
      that runs as another user, built with the classic builder, would find the folder
      root's.) An `apk` before the cd is taken only after a
      `mkdir -p` that already made the folder: a package may ship the folder, or a link by
      its name (`/usr/lib/jvm/default-jvm`), which a folder WORKDIR made first would block.
    Left alone: when the previous directory is needed but unknown (a base image with no
    sourced `workdir` fact in data/images.json, a WORKDIR with variables); a `cd` with
    options, variables or `~`; a `cd` after other commands (`mkdir -m`, `cp`, `git clone`),
    in a pipeline, a subshell or before `||` or `&`; a cd followed by `;` without `set -e`;
    scripts using `cd -` or `$OLDPWD`; a cd into (or above) a `--mount` target, or RUNs with
    relative mount targets (they move with WORKDIR); relative `cd` when CDPATH is set
    anywhere; heredoc and exec-form RUNs, RUNs after a non-sh SHELL, Windows images, and RUNs
    under an ignore pragma. `dockopt check` reports each cd left and why (DO511).
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dockopt.optimizer.edits import Edit
from dockopt.optimizer.messages import clip, joined, short_list
from dockopt.optimizer.runs import covers
from dockopt.optimizer.transform import SAFE, Transform

if TYPE_CHECKING:
    from dockopt.optimizer.cwd import LeadingCd


def fix(dockerfile, context):
    from dockopt.optimizer.cwd import windows
    from dockopt.optimizer.pragmas import Pragmas

    pragmas = Pragmas(dockerfile)
    for stage in dockerfile.stages:
        if not windows(dockerfile, stage):
            yield from _stage(dockerfile, stage, pragmas)


def left_alone(dockerfile) -> dict[int, str]:
    """Why each RUN whose leading `cd` DO108 leaves alone is left alone, by `id(RUN)`:
    "previous directory unknown", "cd's failure does not stop the RUN", "cd inside the
    script" (no leading cd: a cd comes later)... (RUNs of Windows stages are not read)."""
    from dockopt.optimizer.cwd import windows
    from dockopt.optimizer.pragmas import Pragmas

    why: list = []
    pragmas = Pragmas(dockerfile)
    for stage in dockerfile.stages:
        if not windows(dockerfile, stage):
            for _ in _stage(dockerfile, stage, pragmas, why):
                pass
    return {id(ins): reason for ins, reason in why}


def _stage(dockerfile, stage, pragmas, why=None):
    """The edits for one stage; `why`, when given, collects (RUN, reason) for each RUN with a
    `cd` that is left alone."""
    from dockopt.optimizer.cwd import after_workdir, clean, depends_on_cwd, mount_targets, sh_shell, stage_start
    from dockopt.optimizer.runs import image_used

    sh, root = True, True
    for parent in reversed(dockerfile.lineage(stage)[1:]):
        for ins in parent.instructions:
            sh = sh_shell(ins) if ins.keyword == "SHELL" else sh
            root = _root(ins) if ins.keyword == "USER" else root
    plans = []
    for ins in stage.instructions:
        if ins.keyword == "SHELL":
            sh = sh_shell(ins)
        if ins.keyword == "USER":
            root = _root(ins)
        plans.append(_plan(ins, sh, why is not None, root) if ins.keyword == "RUN" else _Plan(
            "abs" if ins.keyword == "WORKDIR" and not depends_on_cwd(ins) else "dep" if depends_on_cwd(ins) else ""))
    config_used = image_used(dockerfile, stage)
    restores: list[bool] = []

    def needs_restore(after: int) -> bool:
        """Whether the directory must be set back after instruction `after`: an instruction
        depending on it comes before any absolute WORKDIR, or the stage's config is used.
        (Answered for every instruction in one pass from the end, the first time it is
        asked: a stage of thousands of RUNs with a cd each would be read again for each.)"""
        if not restores:
            verdict = config_used
            for plan in reversed(plans):
                restores.append(verdict)
                verdict = False if plan.kind == "abs" else True if plan.kind == "dep" else verdict
            restores.reverse()
        return restores[after]

    orig = new = stage_start(dockerfile, stage)
    segment, targets, last = [], [], None

    def close(restore: bool):
        """The segment's edits, one change: the WORKDIRs, the deleted cds, the restore."""
        nonlocal segment, targets, last
        if restore:
            if orig is None:
                raise AssertionError("a restore was planned without a known directory")
            text = f"{_indent(last)}{last.recased('WORKDIR')} {orig}{dockerfile.newline}"
            if not last.text.endswith("\n"):
                text = dockerfile.newline + text.rstrip("\r\n")
            segment.append(Edit(last.end, last.end, text, ""))
        if len(targets) == 1 and not any(e.text for e in segment):
            note = joined(f"leading `cd {clip(targets[0], 60)}` dropped: the RUN already runs there")
        else:
            folders = list(dict.fromkeys(targets))
            first = "leading cd becomes WORKDIR " + clip(short_list(folders, 50), 60)
            details = [f"WORKDIR {', '.join(folders)}"] if len(folders) > 1 or "..." in first else []
            if restore:
                back = f", then back to WORKDIR {orig}"
                if len(first + back) <= 100:
                    first += back
                    details.append("Set back, the instructions after it see the folder they saw.")
                else:
                    first += ", then back"
                    details.append(f"Then back to WORKDIR {orig}: the instructions after it see the folder they saw.")
            detail = "\n".join(details)
            note = joined(first, detail)
        edits = [Edit(e.start, e.end, e.text, note) for e in segment]
        segment, targets, last = [], [], None
        return edits

    for index, (ins, plan) in enumerate(zip(stage.instructions, plans)):
        lc, reason, target = plan.cd, plan.reason, None
        if lc is not None and reason is None:
            if lc.target.startswith("/"):
                target = clean(lc.target)
            elif orig is None:
                reason = "relative cd, directory unknown"
            elif dockerfile.derived(_mentions_cdpath):
                reason = "CDPATH is set"
            else:
                target = clean(posixpath.join(orig, lc.target))
            if target is not None and any(_nested(m, target) for m in mount_targets(ins)):
                target, reason = None, "cd into a --mount target"
            if target is not None and pragmas.ignores(TRANSFORM.keys, ins.start, ins.start + 1):
                target, reason = None, "ignore pragma"
        if target is not None and target == new:
            segment.append(Edit(lc.start, lc.end, "", ""))
            targets.append(target)
            last = ins
            if new == orig:
                yield from close(False)
            continue
        if target is not None and (new != orig or orig is not None or not needs_restore(index)):
            at = ins.keyword_span()[0]
            segment.append(Edit(at, at, f"{ins.recased('WORKDIR')} {target}{dockerfile.newline}{_indent(ins)}", ""))
            segment.append(Edit(lc.start, lc.end, "", ""))
            targets.append(target)
            new, last = target, ins
            continue
        if target is not None:
            reason = "previous directory unknown"
        if why is not None and reason:
            why.append((ins, reason))
        if plan.kind in ("abs", "dep"):
            if segment:
                yield from close(plan.kind == "dep" and new != orig)
            new = orig
        if ins.keyword == "WORKDIR":
            orig = new = after_workdir(orig, ins)
    if segment:
        yield from close(new != orig and config_used)


@dataclass(frozen=True)
class _Plan:
    """How an instruction relates to the working directory: "abs" (an absolute WORKDIR),
    "dep" (depends on it), "run" (a RUN that depends on it only through its leading cd,
    `cd`), "" (neither). `reason`: why a RUN's cd is left alone."""

    kind: str
    cd: "LeadingCd | None" = None
    reason: str | None = None


def _root(user) -> bool:
    """Whether a USER instruction sets root (a variable may not)."""
    name = (user.arguments or [""])[0].split(":", 1)[0]
    return name in ("root", "0")


def _plan(ins, sh, reasons: bool = True, root: bool = True) -> _Plan:
    """The RUN's plan; without `reasons` (only the edits are wanted, not why a RUN is left
    alone) a RUN whose text has no `cd` is known to depend on the directory without
    parsing its script, which most RUNs would otherwise be once more."""
    from dockopt.optimizer.cwd import leading_cd, mount_targets

    if not reasons and sh and "cd" not in (ins.shell or ""):
        return _Plan("dep")  # leading_cd finds no `cd` word: whatever it says, a "dep" plan
    lc = leading_cd(ins) if sh else "another shell (SHELL)"
    if lc == "cd inside the script":
        lc = _after_setup(ins, root) or lc
    if isinstance(lc, str):
        return _Plan("dep", None, None if lc == "no cd" else lc)
    if any(not m.startswith("/") for m in mount_targets(ins) if m):
        return _Plan("dep", None, "relative --mount target")
    return _Plan("run" if lc.target.startswith("/") else "dep", lc)


# `apk` options a set-up command before the cd may use: none reads or writes a file of the
# working directory; the two that take a value take a name.
_APK_FLAGS = frozenset({"--no-cache", "--update", "-U", "--no-network", "--quiet", "-q", "--no-progress"})
_APK_NAMED = frozenset({"--virtual", "-t"})
_PACKAGE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+~=<>-]*")


NON_ROOT = "mkdir under a non-root USER"


def _after_setup(ins, root: bool = True) -> "LeadingCd | str | None":
    """A cd that comes after set-up commands the working directory cannot change, as a
    leading cd: `mkdir -p DIR && cd DIR && make` (the mkdir goes with the cd: WORKDIR
    creates DIR as mkdir did) or `apk add x; mkdir -p /usr/src; cd /usr/src; wget ...`
    under `set -e` (the set-up stays and runs in DIR). The script from the cd on must be
    one `leading_cd` accepts; its range is what is deleted. NON_ROOT for a `mkdir -p DIR &&
    cd DIR` under a USER that is not root; None for anything else."""
    from dockopt.optimizer.cwd import LeadingCd, leading_cd
    from dockopt.optimizer.shell import ShellSyntaxError, parse_commands
    from dockopt.optimizer.syntax import ParseError, parse

    script = ins.shell
    if script is None or ins.heredocs:
        return None
    try:
        cmds = parse_commands(script)
    except ShellSyntaxError:
        return None
    at = next((i for i, c in enumerate(cmds) if c.name == "cd"), None)
    if not at or any(c.context or c.assignments or c.op not in (None, "&&", ";") for c in cmds[: at + 1]):
        return None
    cd, setup = cmds[at], cmds[:at]
    target = cd.words[1] if len(cd.words) == 2 else None
    made = setup[-1].words in (["mkdir", "-p", target], ["mkdir", target]) if target else False
    if not all(c.name == "set" or _setup(c) for c in (setup[:-1] if made else setup)):
        return None
    # A package may install the cd's folder (or a link by its name): the WORKDIR must not
    # make it first, so `apk` comes after a `mkdir -p` that made it already.
    first_apk = next((i for i, c in enumerate(setup) if c.name == "apk"), None)
    if first_apk is not None and not (target and any(
        c.name == "mkdir" and any(covers(target, p) for p in c.words[1:]) for c in setup[:first_apk]
    )):
        return None
    sets = [c.raw for c in setup if c.name == "set"]
    try:  # the script from the cd on, after the same `set` options
        tail = parse(f"FROM scratch\nRUN {'; '.join([*sets, script[cd.start:]])}\n").instructions[-1]
    except ParseError:
        return None
    lc = leading_cd(tail)
    if isinstance(lc, str) or lc.target != target:
        return None
    end = cd.end + len(script[cd.end :]) - len(script[cd.end :].lstrip(" \t"))
    end += 2 if script.startswith("&&", end) else 1 if script.startswith(";", end) else 0
    end = len(script) - len(script[end:].lstrip(" \t"))
    base = len(ins.line.rstrip()) - len(script)
    start = ins.source_offset(base + (setup[-1] if made else cd).start)
    stop = ins.source_offset(base + end)
    if "#" in ins.text[start - ins.start : stop - ins.start] or stop <= start:
        return None
    if made and not root:
        return NON_ROOT  # only BuildKit makes a WORKDIR's folder the USER's; the classic builder makes it root's
    return LeadingCd(target, start, stop)


def _setup(cmd) -> bool:
    """A command that does the same in any working directory and whatever folder the
    WORKDIR creates: `mkdir -p` of absolute paths, `apk add`/`apk del` of package names."""
    words = cmd.words
    if any(c in cmd.raw for c in "<>$`*?"):
        return False
    if words[0] == "mkdir":
        options, paths = [w for w in words[1:] if w.startswith("-")], [w for w in words[1:] if not w.startswith("-")]
        return options in (["-p"], ["--parents"]) and bool(paths) and all(p.startswith("/") for p in paths)
    if words[:2] in (["apk", "add"], ["apk", "del"]):
        i = 2
        while i < len(words):
            if words[i] in _APK_NAMED and i + 1 < len(words) and _PACKAGE.fullmatch(words[i + 1].lstrip(".")):
                i += 2
            elif words[i] in _APK_FLAGS or (_PACKAGE.fullmatch(words[i]) and not words[i].endswith(".apk")):
                i += 1
            else:
                return False
        return True
    return False


def _mentions_cdpath(dockerfile) -> bool:
    """Whether CDPATH appears anywhere in the file (looked for once per file, not per cd)."""
    return "CDPATH" in dockerfile.source


def _indent(ins) -> str:
    return ins.text[: ins.keyword_span()[0] - ins.start]


def _nested(a: str, b: str) -> bool:
    """Whether one of two absolute paths is the other or inside it."""
    a, b = a.rstrip("/") + "/", b.rstrip("/") + "/"
    return a.startswith(b) or b.startswith(a)


TRANSFORM = Transform(
    id="DO108",
    name="cd-to-workdir",
    title="Turn a RUN's leading `cd DIR &&` into WORKDIR",
    why="A `cd` inside RUN hides the working directory in a shell string; WORKDIR states it.",
    safety=SAFE,
    fix=fix,
    doc=__doc__,
    hadolint=("DL3003",),
)
