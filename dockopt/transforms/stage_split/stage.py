"""The stage split's skeleton: the stage as the split reads it, and what a planner returns.

The split (DO202) reads the last stage once into a `Layout`: its base image, its build
steps (RUN, COPY, ADD up to the last of them), the instructions that promise something at
run time and so move to the runtime stage (CMD, ENTRYPOINT, EXPOSE, LABEL...), the ENV and
USER the runtime repeats, and the working folder and environment in effect at each
instruction. One planner per ecosystem (go.py, node.py, ...) reads the layout and returns
a `Plan`, the runtime stage in outline: its image, the files carried over from the builder
(path in the builder, destination in the runtime), the lines it adds and the notes that
explain it; render.py writes the two stages from both.

A planner that finds its ecosystem but cannot prove the split sound raises `Bail`, and the
file is left alone; it returns None when the stage is not its ecosystem's. The helpers at
the end read RUN commands, package installs and COPYs the way every planner must: a
command inside `if` or a loop, a redirection or a COPY outside the app folder gives up.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field

from dockopt.optimizer import images, runtimes
from dockopt.optimizer.syntax import Instruction

_BUILD = frozenset({"RUN", "COPY", "ADD"})
_RUNTIME_ONLY = frozenset({"LABEL", "EXPOSE", "HEALTHCHECK", "STOPSIGNAL", "CMD", "ENTRYPOINT", "MAINTAINER"})
_WINDOWS = re.compile(r"windows|nanoserver|servercore|ltsc", re.I)
_REDIRECT_OK = re.compile(r"\d?>&\d|[12]?>\s*/dev/null")


class Bail(Exception):
    """The stage cannot be split soundly; the message says why (for debugging)."""


@dataclass
class Layout:
    """The last stage, read as the split needs it."""

    dockerfile: object
    stage: object
    args: dict[str, str]  # the ARGs the stage declares, with their values
    base: images.Image
    builds: list[Instruction]
    moved: list[Instruction]  # runtime-only: leave the builder for the runtime stage
    copied: list[Instruction]  # ENV (and the last USER) the runtime repeats
    workdir: dict[int, str | None]  # id(ins) -> working directory in effect at ins
    env: dict[int, dict[str, str | None]]  # id(ins) -> ENV in effect at ins (None: unknown)
    final_workdir: str | None  # at the end of the stage (where CMD runs)
    build_workdir: str | None  # at the last build step
    entry: list[str] | None  # what the container runs, exec-style words
    entry_shell: bool  # CMD/ENTRYPOINT in shell form
    user: str | None  # the last USER value, None when the stage sets none

    def runs(self):
        return [i for i in self.builds if i.keyword == "RUN"]


@dataclass
class Plan:
    """The runtime stage in outline, as a planner returns it."""

    runtime: runtimes.Runtime
    copies: list[tuple[str, str]]  # (path in the builder, destination in the runtime)
    comment: str  # the runtime stage's comment line, without "# "
    what: str  # for the explanation: what the runtime holds
    builder_steps: list[str] = field(default_factory=list)  # instructions appended to the builder
    notes: list[str] = field(default_factory=list)
    builder_before: tuple[Instruction, list[str]] | None = None  # lines inserted above an instruction
    runtime_lines: list[str] = field(default_factory=list)  # instructions before the runtime's COPYs
    healthcheck_ok: bool = False  # the runtime has what the HEALTHCHECK runs
    drop: frozenset[str] = frozenset()  # runtime-only keywords the runtime does not repeat (comments kept)
    keep_workdir: bool = True  # the runtime works in the builder's app folder


def read_layout(dockerfile, stage) -> Layout:
    """The stage read once for every planner; Bail when nothing could split it (a platform
    flag, a Windows or unknown image, SHELL or ONBUILD, nothing to run or no build step)."""
    if stage.from_.flags or _WINDOWS.search(stage.image):
        raise Bail("platform flag or Windows image")
    if any(s.name and s.name.lower() == stage.image.lower() for s in dockerfile.stages[:-1]):
        raise Bail("built on an earlier stage")
    global_args: dict[str, str | None] = {}
    for ins in dockerfile.instructions:
        if ins.keyword == "FROM":
            break
        if ins.keyword == "ARG":
            global_args.update(arg_pairs(ins))
    base = images.describe(stage.image, {k: v for k, v in global_args.items() if v is not None})
    if base.family is None or base.windows or base.borrowed:
        raise Bail("unknown base image, or one known only by its OS")
    instructions = stage.instructions
    keywords = {i.keyword for i in instructions}
    if keywords & {"SHELL", "ONBUILD"} or not keywords & {"CMD", "ENTRYPOINT"}:
        raise Bail("SHELL, ONBUILD, or nothing to run")
    build_idx = [n for n, i in enumerate(instructions) if i.keyword in _BUILD]
    if not build_idx:
        raise Bail("no build step")
    last = build_idx[-1]
    args: dict[str, str] = {}  # the ARGs the stage declares, with their defaults
    moved, copied, workdir, env = [], [], {}, {}
    cwd: str | None = None
    current: dict[str, str | None] = {}
    user, last_user_before = None, None
    for n, ins in enumerate(instructions):
        workdir[id(ins)], env[id(ins)] = cwd, dict(current)
        kw = ins.keyword
        if kw == "ARG":
            for name, value in arg_pairs(ins):
                value = value if value is not None else global_args.get(name)
                if value is not None:
                    args[name] = value
        if kw == "ENV":
            for name, value in env_pairs(ins):
                current[name] = expand(value, current, args) if value is not None else None
        elif kw == "WORKDIR":
            target = expand(ins.arguments[0], current, args) if ins.arguments else None
            cwd = None if target is None or (cwd is None and not target.startswith("/")) else join(cwd or "/", target)
        elif kw == "USER":
            user = expand(ins.args_text, current, args) or "?"
        if n > last:
            if kw not in _BUILD:
                moved.append(ins)
        elif kw in _RUNTIME_ONLY:
            moved.append(ins)
        elif kw == "ENV":
            copied.append(ins)
        elif kw == "USER":
            last_user_before = ins
        elif kw == "VOLUME":
            raise Bail("VOLUME before a build step changes what the build keeps")
    if last_user_before is not None and not any(i.keyword == "USER" for i in moved):
        copied.append(last_user_before)
    entry, shell = _entry(instructions)
    return Layout(dockerfile, stage, args, base, [instructions[n] for n in build_idx], moved, copied,
                   workdir, env, cwd, workdir[id(instructions[last])], entry, shell, user)


def _entry(instructions) -> tuple[list[str] | None, bool]:
    """The command line the container runs (ENTRYPOINT + CMD), as words; None when a
    shell-form command is more than plain words."""
    from dockopt.transforms.exec_form import split_plain_words

    entrypoint = next((i for i in reversed(instructions) if i.keyword == "ENTRYPOINT"), None)
    cmd = next((i for i in reversed(instructions) if i.keyword == "CMD"), None)
    words, shell = [], False
    for ins in (entrypoint, cmd):
        if ins is None:
            continue
        if ins.json:
            part = ins.arguments
        else:
            shell = True
            part = split_plain_words(ins.args_text)
            if part is None:
                return None, True
        words += part
        if ins is entrypoint and not ins.json:
            break  # a shell-form ENTRYPOINT ignores CMD
    return (words or None), shell


def arg_pairs(ins):
    for word in ins.arguments:
        name, eq, value = word.partition("=")
        yield name, (unquote(value) if eq else None)


def env_pairs(ins):
    text = ins.args_text
    if not re.match(r"^\w+=", text):
        name, _, value = text.partition(" ")
        yield name, value.strip() or None
        return
    for m in re.finditer(r"(\w+)=(\"(?:[^\"\\]|\\.)*\"|'[^']*'|(?:[^\s\\]|\\.)*)", text):
        yield m.group(1), unquote(m.group(2))


def unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def expand(text: str | None, env: dict, args: dict) -> str | None:
    """Expand $VAR and ${VAR} from ENV, then ARG values; None when one is unknown."""
    if text is None:
        return None
    if "${" in text and re.search(r"\$\{\w+:?[-+?]", text):
        return None
    missing = []

    def value(m):
        name = m.group(1) or m.group(2)
        got = env.get(name, args.get(name))
        if got is None:
            missing.append(name)
        return got or ""

    out = re.sub(r"\$(?:\{(\w+)\}|(\w+))", value, text)
    return None if missing else unquote(out)


def join(base: str, path: str) -> str:
    return posixpath.normpath(posixpath.join(base, path))


def run_commands(ins: Instruction):
    """(words, assignments dict, raw) for each top-level simple command of a RUN."""
    from dockopt.optimizer.shell import commands

    if ins.json:
        return [(list(ins.arguments), {}, " ".join(ins.arguments))]
    found = commands(ins)
    if not found and ins.args_text.strip():
        raise Bail("RUN text that is not sh")
    out = []
    for cmd in found:
        if cmd.nested:
            raise Bail("a command inside a compound construct")
        assigns = dict(w.split("=", 1) for w in cmd.words[: cmd.assignments])
        out.append((cmd.words[cmd.assignments:], {k: unquote(v) for k, v in assigns.items()}, cmd.raw))
    return out


def build_commands(layout: Layout):
    """(RUN, words, assignments) of each command the stage's RUNs run, in order; Bail on a
    redirection or a bare assignment, whose effects no planner follows."""
    for ins in layout.runs():
        for words, assigns, raw in run_commands(ins):
            if not words or redirects(raw):
                raise Bail("redirection or bare assignment")
            yield ins, words, assigns


def redirects(raw: str) -> bool:
    return bool(re.search(r"[<>]", _REDIRECT_OK.sub("", raw)))


def packages(words: list[str]) -> list[str] | None:
    """Packages named by `apk add` / `apt-get install`, or [] for other apt/apk verbs."""
    verbs = [w for w in words[1:] if not w.startswith("-")]
    if not verbs:
        return []
    if verbs[0] in ("add", "install"):
        return [p.split("=", 1)[0] for p in verbs[1:]]
    if verbs[0] in ("update", "upgrade", "clean", "autoremove", "del", "purge", "remove", "cache"):
        return []
    return None


def installs_only(words: list[str], allowed: frozenset[str]) -> list[str]:
    """The packages an `apk add` / `apt-get install` names (none for its other verbs), which
    must all be `allowed`: a package the app may run or link at run time gives up."""
    pkgs = packages(words)
    if pkgs is None or set(pkgs) - allowed:
        raise Bail(f"installs {pkgs}")
    return pkgs


def check_copies(layout: Layout, roots: list[str]) -> list[Instruction]:
    """COPY/ADD must bring context files under the app folders; returns the copies."""
    copies = []
    for ins in layout.builds:
        if ins.keyword == "RUN":
            continue
        if ins.flag("from") is not None or ins.heredocs or len(ins.arguments) < 2:
            raise Bail("COPY --from, heredoc or odd COPY")
        if ins.keyword == "ADD" and any(re.match(r"\w+://|git@", a) for a in ins.arguments[:-1]):
            raise Bail("ADD of a URL")
        dest = expand(ins.arguments[-1], layout.env[id(ins)], layout.args)
        cwd = layout.workdir[id(ins)]
        if dest is None or (not dest.startswith("/") and cwd is None):
            raise Bail("COPY destination unknown")
        dest = join(cwd or "/", dest)
        if not any(dest == r or dest.startswith(r.rstrip("/") + "/") for r in roots if r):
            raise Bail(f"COPY into {dest}, outside the app")
        copies.append(ins)
    return copies


# Commands whose effects stay in the builder: the runtime takes only the named output.
SAFE_COMMANDS = frozenset({"set", "true", "echo", "ls", "pwd", "rm", "chmod", "chown", "git", "upx", "printenv", "env",
                           "uname", "id", "cat"})
