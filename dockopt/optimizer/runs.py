"""Which RUN instructions a POSIX shell runs, and the facts about them every hygiene rewrite needs.

The package-manager transforms (apt, apk, pip, rpm, yarn, wget, useradd) and the checks all
edit or read shell scripts, so each must first know that a POSIX shell runs the RUN: the
default `/bin/sh -c`, or a SHELL instruction naming sh, bash, dash, ash, zsh or ksh with
`-c` (`SHELL ["/bin/bash", "-o", "pipefail", "-c"]` keeps the rewrites applying). Windows
images, a non-POSIX SHELL (`pwsh`, `cmd`) and files using the backtick escape are left out.
Beside that: the targets of a RUN's cache mounts, the subcommand of a command past its
options, and where a command can be appended to a script.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from typing import Iterator

WINDOWS_IMAGE = re.compile(r"windows|nanoserver|servercore", re.IGNORECASE)
_POSIX_SHELLS = frozenset({"sh", "bash", "dash", "ash", "zsh", "ksh", "mksh"})


def posix_shell(shell) -> bool:
    """Whether a SHELL instruction runs its scripts with a POSIX shell: `["/bin/bash", "-o",
    "pipefail", "-c"]`, `["/bin/ash", "-eo", "pipefail", "-c"]`, `["sh", "-exc"]`."""
    argv = shell.arguments if shell.json else []
    return (
        len(argv) >= 2
        and argv[0].rsplit("/", 1)[-1] in _POSIX_SHELLS
        and re.fullmatch(r"-[a-zA-Z]*c", argv[-1]) is not None
    )


def sh_stages(dockerfile) -> Iterator[tuple[object, list]]:
    """Each stage with its shell-form RUNs that a POSIX shell runs: the default shell, or
    a SHELL instruction before the RUN (in its stage or a stage it is built from) that
    `posix_shell` accepts. No stage of a Windows image, none in backtick-escape files.
    Found once per tree and shared by the transforms that ask (treat it as read-only)."""
    return iter(dockerfile.derived(_sh_stages))


def _sh_stages(dockerfile) -> list[tuple[object, list]]:
    found: list[tuple[object, list]] = []
    if dockerfile.escape == "`":
        return found
    for stage in dockerfile.stages:
        lineage = dockerfile.lineage(stage)
        if any(WINDOWS_IMAGE.search(s.image) for s in lineage):
            continue
        posix = True
        for ancestor in reversed(lineage[1:]):
            for ins in ancestor.instructions:
                if ins.keyword == "SHELL":
                    posix = posix_shell(ins)
        runs = []
        for ins in stage.instructions:
            if ins.keyword == "SHELL":
                posix = posix_shell(ins)
            elif ins.keyword == "RUN" and not ins.json and posix:
                runs.append(ins)
        found.append((stage, runs))
    return found


def sh_runs(dockerfile) -> Iterator[tuple[object, object]]:
    """(stage, RUN) for each shell-form RUN that a POSIX shell runs (see `sh_stages`)."""
    for stage, runs in sh_stages(dockerfile):
        for ins in runs:
            yield stage, ins


def descendant_runs(dockerfile, stage):
    """The shell-form RUNs of the stages built FROM this one."""
    for other in dockerfile.descendants(stage):
        yield from (i for i in other.instructions if i.keyword == "RUN" and not i.json)


def image_used(dockerfile, stage) -> bool:
    """Whether the stage's image is used as a whole, its config (WorkingDir) and its files:
    the last stage, a stage a later FROM builds on, or one nothing copies from (built on its
    own with `--target`). A stage other stages only copy from is a builder."""
    if stage.index == len(dockerfile.stages) - 1 or dockerfile.descendants(stage):
        return True
    return not copies_from(dockerfile, stage)


def copies_from(dockerfile, stage) -> list:
    """The instructions of later stages that take files from this one: `COPY --from` and
    `RUN --mount=from=`, by the stage's name or index."""
    names = {str(stage.index)} | ({stage.name.lower()} if stage.name else set())
    by_source = dockerfile.derived(_copy_sources)
    found = {}
    for name in names:
        stage_indexes, entries = by_source.get(name, ([], []))
        for order, ins in entries[bisect_right(stage_indexes, stage.index) :]:
            found[order] = ins
    return [found[order] for order in sorted(found)]


def _copy_sources(dockerfile) -> dict[str, tuple[list[int], list[tuple[int, object]]]]:
    """For each source a stage is named by (lower case) in `COPY --from` or
    `RUN --mount=from=`: the stage index of each instruction naming it and (its position
    in the file, the instruction), in file order. Made once per tree, so `copies_from`
    does not read every later stage for each stage."""
    by_source: dict[str, tuple[list[int], list[tuple[int, object]]]] = {}
    order = 0
    for s in dockerfile.stages:
        for ins in s.instructions:
            sources = [ins.flag("from")] + [
                field.partition("=")[2] for flag in ins.flags if flag.startswith("--mount=")
                for field in flag.split(",") if field.strip().lower().startswith("from=")]
            for src in {src.lower() for src in sources if src}:
                stage_indexes, entries = by_source.setdefault(src, ([], []))
                stage_indexes.append(s.index)
                entries.append((order, ins))
            order += 1
    return by_source


def cache_cleanup_points(dockerfile, kind, skip):
    """Where a package manager's cache cleanup goes (DO314 yarn, DO318 npm): each shell-form
    RUN in which `kind(cmd)` finds an "install" with no "clean" after it, and no later RUN of
    the stage or of a stage built on it reads the cache (an `--offline` or
    `--prefer-offline` install, a `cache` subcommand other than clean), unless
    `skip(stage, ins, cmds)`. Yields (stage, RUN, the last install, (offset, separator))."""
    from dockopt.optimizer.shell import commands

    def reads_cache(cmd) -> bool:
        k = kind(cmd)
        return k is not None and ((k == "other" and "cache" in cmd.words) or bool(_OFFLINE & set(cmd.words)))

    for stage, runs in sh_stages(dockerfile):
        every = [i for i in stage.instructions if i.keyword == "RUN" and not i.json]
        found = [commands(i) for i in every]
        later = [commands(i) for i in descendant_runs(dockerfile, stage)] if runs else []
        read_after = None  # read_after[n]: a RUN after the n-th reads the cache (found once)
        for n, (ins, cmds) in enumerate(zip(every[: len(runs)], found)):
            installs = [c for c in cmds if kind(c) == "install" and "substitution" not in c.context]
            if not installs or any(kind(c) == "clean" and c.start > installs[-1].start for c in cmds):
                continue
            if skip(stage, ins, cmds):
                continue
            if read_after is None:
                read_after = later_any([any(reads_cache(c) for c in cs) for cs in found],
                                       any(reads_cache(c) for cs in later for c in cs))
            if read_after[n]:
                continue
            point = append_point(dockerfile, ins, cmds)
            if point is not None:
                yield stage, ins, installs[-1], point


_OFFLINE = frozenset({"--offline", "--prefer-offline"})


def later_any(flags: list[bool], beyond: bool = False) -> list[bool]:
    """For each position, whether a flag after it is set (or `beyond`, what follows the
    list): one pass from the end, where asking "does a later RUN ...?" RUN by RUN would
    read the rest of the stage again for each of thousands of RUNs."""
    out = [False] * len(flags)
    for n in range(len(flags) - 1, -1, -1):
        out[n] = beyond
        beyond = beyond or flags[n]
    return out


def mount_targets(ins, kind: str | None = None) -> list[str]:
    """The targets of the RUN's `--mount` flags, only those of type `kind` when given."""
    targets = []
    for flag in ins.flags:
        if flag.startswith("--mount="):
            fields = dict(part.partition("=")[::2] for part in flag[len("--mount=") :].split(","))
            fields = {k.strip().lower(): v.strip().strip("'\"") for k, v in fields.items()}
            if kind is None or fields.get("type") == kind:
                targets.append(fields.get("target") or fields.get("dst") or fields.get("destination") or "")
    return targets


def cache_mounts(ins) -> list[str]:
    """The targets of the RUN's `--mount=type=cache` flags."""
    return mount_targets(ins, "cache")


def covers(target: str, path: str) -> bool:
    """Whether a mount at `target` holds `path` (a mount on `/var/cache` holds its apk folder)."""
    target = target.rstrip("/")
    return path == target or path.startswith(target + "/")


def subcommand(words: list[str], name: int, valued: frozenset[str]) -> int | None:
    """Index of the subcommand: the first word after `words[name]` that is neither an option
    nor the value of one of the `valued` options."""
    i = name + 1
    while i < len(words):
        if not words[i].startswith("-"):
            return i
        i += 2 if words[i] in valued else 1
    return None


def append_point(dockerfile, ins, cmds) -> tuple[int, str] | None:
    """Where a command appended to the RUN goes, and the text joining it: the separator
    before the last command when the RUN puts one `&&` command per line, else ` && `.
    A RUN ending with a compound command (`if ...; fi`, a loop, a group) gets it after
    that; None when the RUN ends otherwise (`&`, a redirection after `done`, heredocs)."""
    if ins.heredocs or not cmds:
        return None
    last = max(cmds, key=lambda c: c.end)
    source, escape = dockerfile.source, re.escape(dockerfile.escape)
    end = _tail_end(source, last.end, ins.content_span()[1], escape, closers=bool(last.context))
    if end is None:
        return None
    separator = " && "
    previous = [c for c in cmds if c.end <= last.start]
    if end == last.end and last.op == "&&" and previous:
        before = max(previous, key=lambda c: c.end)
        between = source[before.end : last.start]
        if not before.context and re.fullmatch(
            rf"[ \t]*(?:&&[ \t]*{escape}[ \t]*\r?\n[ \t]*|{escape}[ \t]*\r?\n[ \t]*&&[ \t]*)", between
        ):
            separator = between
    return end, separator


def _tail_end(source: str, start: int, stop: int, escape: str, closers: bool) -> int | None:
    """The end of the RUN's command list, scanning `source[start:stop]` after its last
    simple command: blanks, `;`, continuations and comments, and (`closers`) the keywords
    closing the constructs around it. None when anything else follows."""
    blank = re.compile(rf"(?:[ \t\r\n;]|{escape}[ \t]*\r?\n|(?<![^\s;])#[^\n]*)+")
    closer = re.compile(r"(?:fi|done|esac|\}|\))(?=[\s;)}]|$)")
    end, pos = start, start
    while pos < stop:
        m = blank.match(source, pos, stop)
        if m:
            pos = m.end()
            continue
        m = closer.match(source, pos, stop) if closers else None
        if not m:
            return None
        end = pos = m.end()
    return end


def failures_tolerated(cmds) -> list[bool]:
    """For each command, whether a later `||` in its and-or list catches its failure (`yum
    install x || true`): a rewrite that lets it succeed where it failed changes what the
    build makes, so it is no longer a fix of a build that would have stopped.

    The answer for a command is decided by the next command in the same construct joined
    by `;`, a newline, `&` (no) or `||` (yes), so one pass from the end answers for all:
    asking command by command would rescan the rest of a 20,000-command script each time."""
    decided: dict = {}  # context -> the answer of the nearest deciding command seen
    tolerated = [False] * len(cmds)
    for i in range(len(cmds) - 1, -1, -1):
        cmd = cmds[i]
        tolerated[i] = decided.get(cmd.context, False)
        if cmd.op in (";", "\n", "&", "||"):
            decided[cmd.context] = cmd.op == "||"
    return tolerated


def removal_ranges(cmds, doomed: list[bool], source: str) -> list[tuple[int, int]] | None:
    """Source ranges that delete the commands marked in `doomed` (parallel to `cmds`) and
    the `&&` joining each run of them to the rest, so the script still reads as a list:
    `a && rm x` loses ` && rm x`, `a && rm x && b` loses `rm x && `. None when one cannot
    come out cleanly: nested, joined by anything but `&&`, alone, or with a comment."""
    if any(gone and c.context for c, gone in zip(cmds, doomed)):
        return None
    top = [(c, gone) for c, gone in zip(cmds, doomed) if not c.context]
    ranges, i = [], 0
    while i < len(top):
        if not top[i][1]:
            i += 1
            continue
        j = i
        while j + 1 < len(top) and top[j + 1][1]:
            j += 1
        run = [c for c, _ in top[i : j + 1]]
        after = top[j + 1][0] if j + 1 < len(top) else None
        before = top[i - 1][0] if i > 0 else None
        if any(c.op != "&&" for c in run[1:]):
            return None
        if after is not None and after.op == "&&" and run[0].op in (None, "&&"):
            ranges.append((run[0].start, after.start))
        elif before is not None and after is None and run[0].op == "&&":
            ranges.append((before.end, run[-1].end))
        else:
            return None
        i = j + 1
    return None if any("#" in source[a:b] for a, b in ranges) else ranges
