"""The working directory: where a stage starts, what depends on it, and a RUN's leading `cd`.

A `cd` at the head of a RUN changes the directory for that RUN only; WORKDIR changes it for
every later instruction and for the image. Turning one into the other (DO108) needs what this
module finds:

- `stage_start`: the directory a stage starts in, from its base image (the `workdir` facts of
  data/images.json, each with its source) and the WORKDIRs of the stages it is built on;
- `after_workdir`, `depends_on_cwd`, `mount_targets`: how an instruction moves the directory
  and whether its meaning depends on it;
- `leading_cd`: whether a RUN's script is `cd DIR` (after nothing but `set` options) followed
  by commands that run only when that cd succeeds, so that a build that succeeded proves DIR
  existed, and where the `cd DIR &&` text lies in the source.

The script's top level is read with the sh parser of `shell.py`, extended here to record the
top-level commands and the operators between them (`commands()` reports only simple
commands, so the `;` before an `if` at the top level would be invisible there).
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

from dockopt.optimizer.shell import ShellSyntaxError, _Parser
from dockopt.optimizer.syntax import Dockerfile, Instruction, Stage

# A directory as the shell and WORKDIR both read it: no quotes, variables, `~`, globs or blanks.
_PATH = re.compile(r"[A-Za-z0-9_./@+%-]+")
_SET_WORD = re.compile(r"[-+][A-Za-z]+")
_SH = re.compile(r"(?:/usr)?(?:/bin/)?(?:ba|da|a)?sh")
_WINDOWS = re.compile(r"windows|nanoserver|servercore", re.IGNORECASE)


def clean(path: str) -> str:
    """An absolute path as Docker cleans it (`//a/./b/` -> `/a/b`)."""
    return "/" + posixpath.normpath(path).lstrip("/")


def base_workdir(image: str) -> str | None:
    """The directory a container of `image` starts in, when images.json has a sourced fact
    for its family (an image that sets no WORKDIR starts in `/`); None when unknown."""
    from dockopt.optimizer.images import data, describe

    img = describe(image)
    if img.windows or img.registry != "docker.io" or img.family not in data()["official"]:
        return None
    fact = data()["official"][img.family].get("workdir")
    return fact["path"] if fact else None


def windows(dockerfile: Dockerfile, stage: Stage) -> bool:
    from dockopt.optimizer.images import describe

    chain = dockerfile.lineage(stage)
    return any(_WINDOWS.search(s.image) for s in chain) or describe(chain[-1].image).windows


def after_workdir(cwd: str | None, ins: Instruction) -> str | None:
    """The directory after a WORKDIR instruction run in `cwd` (None: unknown)."""
    return workdir_path(cwd, ins.args_text)


def workdir_path(cwd: str | None, target: str) -> str | None:
    """The directory `WORKDIR target` leads to from `cwd` (None: unknown)."""
    if not _PATH.fullmatch(target):
        return None
    if target.startswith("/"):
        return clean(target)
    return clean(posixpath.join(cwd, target)) if cwd else None


def stage_start(dockerfile: Dockerfile, stage: Stage) -> str | None:
    """The directory at the stage's FROM, or None when no source says."""
    chain = dockerfile.lineage(stage)
    cwd = base_workdir(chain[-1].image)
    for parent in reversed(chain[1:]):
        for ins in parent.instructions:
            if ins.keyword == "WORKDIR":
                cwd = after_workdir(cwd, ins)
    return cwd


def sh_shell(ins: Instruction) -> bool:
    """Whether a SHELL instruction keeps a POSIX shell (`["/bin/bash", "-o", "pipefail", "-c"]`)."""
    args = ins.arguments if ins.json else []
    return (
        len(args) >= 2
        and _SH.fullmatch(args[0]) is not None
        and args[-1] == "-c"
        and all(re.fullmatch(r"[-+][A-Za-z]+|[a-z]+", a) for a in args[1:-1])
    )


def mount_targets(ins: Instruction) -> list[str]:
    """The targets of a RUN's `--mount` flags ("" where none is given)."""
    targets = []
    for flag in ins.flags:
        if flag.startswith("--mount="):
            fields = dict(part.partition("=")[::2] for part in flag[len("--mount=") :].split(","))
            fields = {k.strip().lower(): v.strip() for k, v in fields.items()}
            targets.append(fields.get("target") or fields.get("dst") or fields.get("destination") or "")
    return targets


def depends_on_cwd(ins: Instruction) -> bool:
    """Whether an instruction other than RUN means something else in another directory: a
    relative COPY/ADD destination, WORKDIR or VOLUME. (CMD, ENTRYPOINT, HEALTHCHECK and
    ONBUILD use the image's final WorkingDir, not the one where they are written.)"""
    if ins.keyword in ("COPY", "ADD"):
        return not ins.arguments or not ins.arguments[-1].startswith("/")
    if ins.keyword == "WORKDIR":
        return not ins.args_text.startswith("/")
    if ins.keyword == "VOLUME":
        return any(not p.startswith("/") for p in ins.arguments)
    return False


@dataclass(frozen=True)
class LeadingCd:
    """A RUN's leading `cd DIR`: the directory as written and the source range of `cd DIR`
    with the operator after it (what is deleted when a WORKDIR takes its place)."""

    target: str
    start: int
    end: int


@dataclass(frozen=True)
class _Item:
    op: str | None  # the operator before it
    start: int
    end: int
    negated: bool


class _TopLevel(_Parser):
    """The sh parser, also recording each top-level command (simple or compound)."""

    def __init__(self, text: str):
        super().__init__(text)
        self.items: list[_Item] = []

    def command(self, op: str | None) -> None:
        top = self.context in ((), ("negation",))
        negated, start = self.context == ("negation",), self.pos
        super().command(op)
        if top:
            self.items.append(_Item(op, start, self.pos, negated))


def leading_cd(ins: Instruction) -> LeadingCd | str:
    """The RUN's leading `cd`, or why there is none that a WORKDIR could take over."""
    shell = ins.shell
    if ins.keyword != "RUN" or shell is None:
        return "exec form"
    if ins.heredocs:
        return "heredoc"
    parser = _TopLevel(shell)
    try:
        parser.script()
    except ShellSyntaxError:
        return "not sh"
    words = {start: [shell[s:e] for s, e in spans] for start, end, spans, _, context in parser.found
             if context in ((), ("negation",)) and spans and spans[0][0] == start and spans[-1][1] == end}
    items = parser.items
    i, errexit = 0, False
    while i < len(items) and (words.get(items[i].start) or [""])[0] == "set":
        errexit = _errexit(words[items[i].start][1:], errexit)
        if errexit is None or items[i].negated or items[i].op not in (None, "&&", ";"):
            return "cd inside the script"
        i += 1
    cd = items[i] if i < len(items) else None
    argv = words.get(cd.start) if cd else None
    if not argv or argv[0] != "cd":
        return "cd inside the script" if any(f[2] and shell[f[2][0][0]:f[2][0][1]] == "cd" for f in parser.found) else "no cd"
    if len(argv) != 2 or not _PATH.fullmatch(argv[1]) or argv[1].startswith("-"):
        return "cd with options, variables or ~"
    if cd.negated or cd.op not in (None, "&&", ";"):
        return "cd's failure does not stop the RUN"
    if i + 1 == len(items):
        return "cd alone"
    after = [item.op for item in items[i + 1 :]]
    tail = shell[items[-1].end :].strip()
    if "&" in after or tail not in ("", ";"):
        return "cd's failure does not stop the RUN"
    if after[0] == "&&" and not set(after) <= {"&&", "|", "|&"}:
        return "cd's failure does not stop the RUN"
    if after[0] == ";" and not errexit or after[0] not in ("&&", ";"):
        return "cd's failure does not stop the RUN"
    if "OLDPWD" in shell or any(shell[s:e] == "-" for *_, spans, _, _ in parser.found for s, e in spans[1:2]):
        return "uses the previous directory (cd -, $OLDPWD)"
    # `cd DIR`, blanks, the operator, blanks: the text a WORKDIR replaces.
    end = cd.start + len("cd")
    end = len(shell) - len(shell[end:].lstrip(" \t"))
    end += len(argv[1])
    end = len(shell) - len(shell[end:].lstrip(" \t"))
    end += len(after[0])
    end = len(shell) - len(shell[end:].lstrip(" \t"))
    base = len(ins.line.rstrip()) - len(shell)
    start, stop = ins.source_offset(base + cd.start), ins.source_offset(base + end)
    if "#" in ins.text[start - ins.start : stop - ins.start]:
        return "comment inside"
    return LeadingCd(argv[1], start, stop)


def _errexit(args: list[str], on: bool) -> bool | None:
    """`set` options applied to errexit `on`; None for anything but options."""
    i = 0
    while i < len(args):
        word = args[i]
        if not _SET_WORD.fullmatch(word):
            return None
        letters = word[1:]
        if "e" in letters:
            on = word[0] == "-"
        if letters.endswith("o"):
            if i + 1 == len(args) or not re.fullmatch(r"[a-z]+", args[i + 1]):
                return None
            if args[i + 1] == "errexit":
                on = word[0] == "-"
            i += 1
        elif "o" in letters:
            return None
        i += 1
    return on
