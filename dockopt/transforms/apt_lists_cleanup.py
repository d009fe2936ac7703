"""DO302 apt-lists-cleanup: delete the apt package lists in the RUN that downloaded them.

What it does
    Appends `&& rm -rf /var/lib/apt/lists/*` to the end of a RUN that runs `apt-get update`
    (or `apt update`) and leaves the lists behind (hadolint DL3009):

        RUN apt-get update && apt-get install -y curl
        ->
        RUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*

    In a RUN written one `&&` command per line, the cleanup goes on a line of its own,
    joined the way the RUN joins its other commands.

Why
    `apt-get update` downloads the package index of every configured repository into
    /var/lib/apt/lists, tens of megabytes that nothing at run time reads. Deleted in a later
    RUN they would still ship in the earlier layer; deleted in the same RUN they never
    reach the image.

Example
    RUN apt-get update \\
        && apt-get install -y --no-install-recommends curl
    ->
    RUN apt-get update \\
        && apt-get install -y --no-install-recommends curl \\
        && rm -rf /var/lib/apt/lists/*

    The cleanup comes last: `S && rm ...` runs the `rm` exactly when the script `S`
    succeeds, and then exits as `S` did, whatever `S` is made of (`;`-joined commands,
    `set -e`, an `if` at the end). A trailing `;` stays after the cleanup.

When it is not safe
    A later RUN of the same stage, or of a stage built FROM it, that reads the lists
    without running `apt-get update` first (`apt-get install`, `upgrade`, `apt-cache
    policy`, or any apt command it cannot read, such as an exec-form RUN) would fail: then
    the RUN is left alone, as it is when an ONBUILD trigger uses apt. Also left alone: a RUN
    with a cache, tmpfs or bind mount on /var/lib/apt or /var/cache/apt (the author manages
    apt's files there), a RUN that already removes /var/lib/apt/lists or runs `apt-get
    dist-clean`, a RUN whose script does not end with a command the cleanup can follow
    (`&`, a trailing comment, `exit`, `exec`), and RUNs no POSIX shell runs. A later RUN
    that runs a script of its own (`./install.sh`, `/tmp/setup.sh`, `bash deps.sh`, a
    heredoc another program runs that mentions apt) counts as reading the lists, since
    the script cannot be read. In a heredoc RUN the cleanup ends the script the shell
    runs: the heredoc's last line (`RUN <<EOF`), or the RUN's own line when its heredocs
    are data (`RUN ... && cat <<EOF > f`). Otherwise `safe`: only apt's
    downloaded index goes. A Dockerfile elsewhere that builds FROM this image must run
    `apt-get update` before installing, as the Debian and Ubuntu official images already
    require.
"""

from __future__ import annotations

import re

from dockopt.optimizer.edits import Edit
from dockopt.optimizer.messages import joined
from dockopt.optimizer.transform import SAFE, Transform
from dockopt.optimizer.runs import covers, later_any, mount_targets, sh_runs
from dockopt.transforms.apt_get_flags import APT_PROGRAMS, verb

CLEANUP = "rm -rf /var/lib/apt/lists/*"
APT_DIRS = ("/var/lib/apt", "/var/cache/apt")
# apt subcommands that work without the lists (those installed are known from dpkg).
_KEEPS_AWAY = frozenset("remove purge autoremove autopurge clean autoclean dist-clean distclean".split())
_WHY = joined("rm -rf /var/lib/apt/lists/* where apt-get update ran: the index stays out of the image",
              "The package lists apt-get update downloads are tens of megabytes nothing at run time reads; "
              "deleted in the same RUN they never reach a layer.")
# Commands after which `&& rm` never runs: the shell ends or becomes another program.
_NO_RETURN = frozenset({"exit", "exec", "return"})
_MENTIONS_APT = re.compile(r"(?<![\w./-])(?:apt|apt-get|apt-cache|aptitude)(?![\w./-])")


def fix(dockerfile, context):
    for _, _, reason, point in verdicts(dockerfile):
        if reason is None and point is not None:
            at, text = point
            yield Edit(at, at, text, _WHY)


def verdicts(dockerfile):
    """(stage, RUN, reason, point) for each RUN a POSIX shell runs that runs `apt-get update`
    (or `apt update`): why DO302 adds no cleanup, as (kind, first line, detail), or None
    with where the cleanup goes. Kinds: "deleted" (the RUN deletes the lists already),
    "named" (it works on the lists folder otherwise), "mounted" (the lists are a mount),
    "mounted-cache" (only apt's cache is), "reader" (a later instruction reads them),
    "tail" (the script cannot take the cleanup)."""
    from dockopt.optimizer.shell import commands, script

    later = _LaterStages(dockerfile)
    for stage, ins in sh_runs(dockerfile):
        cmds = commands(ins)
        if not any(c.name in APT_PROGRAMS and verb(c) == "update" for c in cmds):
            continue
        found = script(ins)
        reason = _kept(later, stage, ins, found[0])
        point = None if reason else _append_point(dockerfile, ins, cmds, *found)
        if reason is None and point is None:
            reason = ("tail", "apt lists kept: the script ends where no `&& rm` can follow",
                      "A trailing `&`, comment or operator, or a last `exit` or `exec`: `&& rm -rf /var/lib/apt/lists/*` "
                      "cannot go after it, or would never run.")
        yield stage, ins, reason, point


def _kept(later, stage, ins, script: str) -> tuple[str, str, str] | None:
    """Why DO302 leaves the lists of this RUN alone, or None; `script` is what its shell runs."""
    if "dist-clean" in script or "distclean" in script:
        return ("deleted", "`apt-get dist-clean` deletes the apt lists already",
                "dist-clean removes the lists and keeps apt's Release files; hadolint DL3009 looks for "
                "`rm -rf /var/lib/apt/lists/*` only.")
    if "/var/lib/apt/lists" in script:
        if re.search(r"\brm\b[^;&|\n]*/var/lib/apt/lists", script):
            return ("deleted", "this RUN deletes the apt lists already, its own way",
                    "hadolint DL3009 looks for `rm -rf /var/lib/apt/lists/*` only.")
        return ("named", "this RUN works on /var/lib/apt/lists itself: DO302 leaves its lists to it",
                "A cleanup appended after what the RUN does there might undo or break it; delete the lists "
                "at its end if nothing later needs them.")
    if mounts_apt(ins):
        if any(covers(t, "/var/lib/apt/lists") for t in mount_targets(ins)):
            return "mounted", "the apt lists are a --mount here: they stay out of the image", ""
        return ("mounted-cache", "apt's cache is a --mount here, its lists are not: DO302 leaves the RUN alone",
                "A RUN that mounts apt's folders is set up by hand; delete /var/lib/apt/lists/* at its end, or "
                "mount it too.")
    reader = _reader(later, stage, ins)
    if reader is not None:
        return ("reader", f"apt lists kept: a later instruction (line {reader.start_line}) reads them",
                "It runs apt without `apt-get update` first (or a script that may): deleting the lists would "
                "break it.")
    return None


def mounts_apt(ins) -> bool:
    """Whether a `--mount` of the RUN holds, or sits inside, apt's lists or cache folder."""
    for target in mount_targets(ins):
        target = target.rstrip("/")
        if target and any(d == target or d.startswith(target + "/") or target.startswith(d + "/") for d in APT_DIRS):
            return True
    return False


def _append_point(dockerfile, ins, cmds, script: str, to_source, end: int) -> tuple[int, str] | None:
    """Where the cleanup goes and its text, or None when the script cannot take it.

    The cleanup goes where the script ends (before one trailing `;`): the end of the RUN's
    line (heredocs after it are data), or of the last line of the heredoc its shell runs.
    The script with it appended is parsed again and must read as the old commands plus the
    cleanup, joined to them by `&&` at the top level.
    """
    from dockopt.optimizer.shell import ShellSyntaxError, parse_commands

    if script[:end].endswith(";") and not script[:end].endswith(";;"):
        end = len(script[: end - 1].rstrip())
    try:
        before = parse_commands(script)
        after = parse_commands(script[:end] + " && " + CLEANUP + script[end:])
    except ShellSyntaxError:
        return None
    new = max(after, key=lambda c: c.start) if after else None
    after = [c for c in after if c is not new]
    if (
        new is None
        or any(_ends_script(c) for c in before)
        or [(c.words, c.context) for c in after] != [(c.words, c.context) for c in before]
        or new.words != CLEANUP.split()
        or new.context
        or new.op != "&&"
    ):
        return None
    at = to_source(end - 1) + 1
    return at, (" && " if ins.heredocs else _separator(dockerfile, cmds, at)) + CLEANUP


def _ends_script(cmd) -> bool:
    """An `exit`, `exec` or `return` that may end the script before an appended cleanup
    runs: anywhere but in a subshell or `$( )`, unless it only runs when the command before
    it failed (`apt-get install x || exit 1`: the cleanup runs exactly when the install
    succeeded)."""
    if cmd.name not in _NO_RETURN or any(c in ("subshell", "substitution", "function") for c in cmd.context):
        return False
    return not (cmd.op == "||" and not cmd.context)


def _separator(dockerfile, cmds, at: int) -> str:
    """` && `, or the line break the RUN puts between its last two `&&` commands when the
    script ends with such a command."""
    top = [c for c in cmds if not c.context]
    if not top or max(c.end for c in cmds) != top[-1].end or top[-1].end != at:
        return " && "
    last = top[-1]
    previous = [c for c in cmds if c.end <= last.start]
    if last.op != "&&" or not previous:
        return " && "
    before = max(previous, key=lambda c: c.end)
    # the text between the two commands, without the comment lines inside the RUN
    between = re.sub(r"(?m)^[ \t]*#[^\n]*\n", "", dockerfile.source[before.end : last.start])
    escape = re.escape(dockerfile.escape)
    if not before.context and re.fullmatch(
        rf"[ \t]*(?:&&[ \t]*{escape}[ \t]*\r?\n[ \t]*|{escape}[ \t]*\r?\n[ \t]*&&[ \t]*)", between
    ):
        return between
    return " && "


def _reader(later: _LaterStages, stage, ins):
    """The instruction after `ins` that reads the lists before fetching them again: in the
    rest of the stage, then in each stage built FROM it (or from an image named by a
    variable, `FROM ${BASE}`, which may name it); None when none does."""
    rest = stage.instructions[stage.position(ins) + 1 :]
    verdict, at = _first_use_at(rest)
    if verdict is not None:
        return at if verdict == "read" else None
    for other in later.dockerfile.descendants(stage):
        if later.reads(other):
            return _first_use_at(other.instructions)[1]
    if later.variable_reads_after(stage):
        return next(s.from_ for s in later.dockerfile.stages[stage.index + 1 :] if "$" in s.image and later.reads(s))
    return None


class _LaterStages:
    """What the stages after a RUN do with the lists, each stage read once for the file:
    a file of thousands of stages would otherwise have every later stage read again for
    the last apt-get update of each stage."""

    def __init__(self, dockerfile) -> None:
        self.dockerfile = dockerfile
        self._reads: dict[int, bool] = {}
        self._variable_after: list[bool] | None = None

    def reads(self, stage) -> bool:
        """Whether the stage's first apt use reads the lists."""
        if stage.index not in self._reads:
            self._reads[stage.index] = _first_use(stage.instructions) == "read"
        return self._reads[stage.index]

    def variable_reads_after(self, stage) -> bool:
        """Whether a later stage `FROM ${...}` reads the lists."""
        if self._variable_after is None:
            stages = self.dockerfile.stages
            self._variable_after = later_any(["$" in s.image and self.reads(s) for s in stages])
        return self._variable_after[stage.index]


def _first_use(instructions) -> str | None:
    """"read" when the first apt use in these instructions reads the lists, "update" when
    it fetches them again, None when none uses apt."""
    return _first_use_at(instructions)[0]


def _first_use_at(instructions):
    """`_first_use`, with the instruction of that use."""
    from dockopt.optimizer.shell import commands, heredoc_is_script

    for ins in instructions:
        if ins.keyword == "ONBUILD" and _MENTIONS_APT.search(ins.text):
            return "read", ins
        if ins.keyword != "RUN":
            continue
        if ins.heredocs and not heredoc_is_script(ins) and any(_MENTIONS_APT.search(d.content) for d in ins.heredocs):
            return "read", ins  # a heredoc another program runs (`perl <<EOF`): assume the worst
        cmds = commands(ins)
        if not cmds:
            if _MENTIONS_APT.search(ins.text):
                return "read", ins  # exec form or unreadable text: assume the worst
            continue
        for cmd in cmds:
            use = _use(cmd)
            if use == "update" and cmd.nested:
                continue
            if use is not None:
                return use, ins
    return None, None


def _use(cmd) -> str | None:
    """How one command uses the lists: "update", "read" (a script it cannot see into
    counts), or None."""
    words = cmd.words
    if _runs_script(words[cmd.assignments :]):
        return "read"
    for i, word in enumerate(words[cmd.assignments :], cmd.assignments):
        name = word.rsplit("/", 1)[-1]
        if name in ("apt-cache", "aptitude"):
            return "read"
        if name in APT_PROGRAMS:
            sub = next((w for w in words[i + 1 :] if not w.startswith("-")), None)
            if i == cmd.assignments:
                sub = verb(cmd)
            if sub == "update":
                return "update"
            return None if sub in _KEEPS_AWAY else "read"
    return None


def _runs_script(words: list[str]) -> bool:
    """`./install.sh`, `/tmp/setup.sh`, `bash scripts/deps`: a script brought into the image,
    which may install packages with the lists it finds."""
    if not words:
        return False
    name = words[0]
    if name in ("sh", "bash", "dash", "source", "."):
        operand = next((w for w in words[1:] if not w.startswith("-")), None)
        return operand is not None and "-c" not in words[1:] and not operand.startswith("/dev/")
    return name.endswith(".sh") or name.startswith(("./", "../", "/tmp/"))


TRANSFORM = Transform(
    id="DO302",
    name="apt-lists-cleanup",
    title="Delete the apt package lists in the RUN that downloaded them",
    why="The lists apt-get update downloads are tens of megabytes nothing at run time reads.",
    safety=SAFE,
    fix=fix,
    doc=__doc__,
    hadolint=("DL3009",),
)
