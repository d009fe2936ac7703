"""DO110 merge-runs: merge consecutive one-command RUNs into one RUN.

What it does
    Consecutive RUN instructions that each run one simple command are joined with `&&`
    into one RUN, in the continuation style the file already uses (its indentation, `&&`
    at the start or at the end of the line):

        RUN chmod +x kubectl                    RUN chmod +x kubectl \\
        RUN mv kubectl /usr/local/bin/  ->          && mv kubectl /usr/local/bin/

    These are the RUNs hadolint DL3059 reports: a RUN right after a RUN with the same
    flags (comments between them aside), each running at most one command. A RUN that
    already chains commands is left as its author split it, as DL3059 leaves it. Comment
    lines between the RUNs move into the merged RUN as comment lines of its continuation
    (BuildKit skips them there); blank lines between them go.

Why
    Each RUN commits a layer: one more layer to store, push and pull, and a file that one
    RUN creates and a later RUN deletes stays in the earlier layer. One RUN makes one
    layer (Docker's best practices; hadolint DL3059).

Example
    RUN useradd -m app
    # let app use sudo
    RUN echo "app ALL=(ALL) NOPASSWD:ALL" >> /etc/sudoers
    ->
    RUN useradd -m app \\
    # let app use sudo
        && echo "app ALL=(ALL) NOPASSWD:ALL" >> /etc/sudoers

When it is not safe
    The shell. `RUN a` then `RUN b` builds what `RUN a && b` builds when `a` fails the
    chain exactly when it failed the build, and leaves nothing in the shell that `b` could
    see. So each RUN merged is one simple command and nothing else: no `;`, `&`, `||`,
    `!`, `if`, loop, subshell, `$( )`, trailing comment or heredoc. Every command but the
    last changes no shell state: no `cd`, `export`, bare assignment, `set`, `umask`,
    `ulimit`, `exec`, `exit`, `trap`, `source`, `eval` or other builtin that alters the
    shell; no command named by a variable; no daemon started (`service x start`, `nohup`,
    `--daemon`), which the end of its RUN would have stopped; no hard link (`ln` without
    `-s`: a later RUN's in-place change copies one name of the link up into its own layer
    and splits it from the others, in one RUN they stay one file); no change to
    /etc/hosts, /etc/resolv.conf or /etc/hostname, which BuildKit gives each RUN afresh.

    The build. Both RUNs carry the same flags, and no mount whose writes one RUN would
    not pass on to the next (`type=tmpfs`, a `rw` bind mount). RUNs with another
    instruction between them, or a `# hadolint` or `# dockopt` comment (it belongs to the
    instruction below it), are left alone, as are RUNs no POSIX shell runs: Windows
    images, stages after a SHELL for another shell, files with the backtick escape.

    The cache. After a merge, editing the second command reruns the first. So a RUN is
    merged with the next only when its command is cheap (`mkdir`, `chmod`, `chown`, `ln`,
    `echo`, `useradd`, `rm`, `sed`, `cp`, `mv`, ...) or the next RUN runs the same kind of
    step (the same program and subcommand: two `apt-get install`, two `pip install`, two
    `gem install`): a package install, a download or a build is never merged with a
    different step after it. A cheap step before an expensive one is merged, since the
    expensive one reruns whenever the cheap one changes anyway.

    Then the image is the same (`safe`): the same commands run in the same environment,
    in one layer instead of several. A file that one RUN created and a later one deleted
    is no longer stored at all, nor a whiteout for it; that is the point.
"""

from __future__ import annotations

import re

from dockopt.optimizer.edits import Edit
from dockopt.optimizer.transform import SAFE, Transform
from dockopt.optimizer.runs import sh_runs

# Commands quick enough that rerunning them whenever the step after them changes costs nothing.
CHEAP = frozenset(
    "mkdir chmod chown chgrp ln echo printf useradd groupadd adduser addgroup usermod groupmod "
    "userdel groupdel deluser delgroup chpasswd rm rmdir sed cp mv touch cat tee ls true [ test "
    "install truncate".split()
)
# Builtins whose effect outlives the command: the shell's working folder, variables,
# options, limits, traps, file descriptors, or the shell itself. (Cheap too, being builtins.)
STATEFUL = frozenset(
    "cd pushd popd export unset set shopt alias unalias umask ulimit trap exec exit return "
    "source . eval readonly declare typeset local hash shift getopts read mapfile readarray "
    "enable builtin command wait break continue let : times disown bg fg jobs newgrp".split()
)
# Programs that start something that outlives them, which the end of a RUN stops.
DAEMONS = frozenset(
    "service systemctl rc-service start-stop-daemon nohup setsid daemonize pg_ctl pg_ctlcluster "
    "supervisord dockerd".split()
)
_STARTS = frozenset({"start", "restart", "--daemon", "--daemonize", "-daemon", "--fork", "--background"})
_PER_RUN_FILES = re.compile(r"/etc/(hosts|resolv\.conf|hostname)\b")
_PRAGMA = re.compile(r"^[ \t]*#\s*(hadolint|dockopt)\b", re.IGNORECASE)
_VERSION = re.compile(r"[0-9.]+$")


def fix(dockerfile, context):
    from dockopt.optimizer.layout import continuation_style

    style = None
    runs = [ins for _, ins in sh_runs(dockerfile)]
    position = {id(ins): i for i, ins in enumerate(dockerfile.instructions)}
    for first, second in zip(runs, runs[1:]):
        if position[id(second)] != position[id(first)] + 1:
            continue  # another instruction (or a FROM) stands between them
        a, b = _single(first), _single(second)
        if a is None or b is None:
            continue
        between = _comment_lines(dockerfile, first, second)
        if not _mergeable(first, a, second, b, between):
            continue
        style = style or continuation_style(dockerfile)
        # From the last character of the first RUN to the first of the second's command:
        # an edit another transform makes at either end (a cleanup appended to the first
        # command) overlaps, and waits for the next round, which sees the new commands.
        start = _end_of_text(dockerfile, first) - 1
        end = second.args_offset() + 1
        source = dockerfile.source
        joined = style.join(dockerfile.escape, dockerfile.newline, between)
        yield Edit(
            start,
            end,
            source[start] + joined + source[end - 1],
            "RUN merged into the RUN above: one layer instead of two, and no cache step is lost",
        )


def _single(ins):
    """The one simple command a RUN runs, when the RUN is that command and nothing else."""
    from dockopt.optimizer.shell import commands

    if ins.heredocs:
        return None
    cmds = commands(ins)
    if len(cmds) != 1:
        return None
    cmd = cmds[0]
    if cmd.context or not cmd.name or cmd.raw != ins.shell.strip():
        return None
    return cmd


def _mergeable(first, a, second, b, between: str) -> bool:
    """`between`: the comment lines between the two RUNs (a pragma there keeps them apart)."""
    return (
        first.flags == second.flags
        and not any(_isolating_mount(f) for f in first.flags)
        and _inert(a)
        and (_program(a) in CHEAP or _program(a) in STATEFUL or _kind(a) == _kind(b))
        and not any(_PRAGMA.match(line) for line in between.splitlines())
    )


def _inert(cmd) -> bool:
    """Whether the command leaves nothing in the shell that a command after it could see."""
    name = cmd.words[cmd.assignments]
    if "$" in name or "`" in name or "\\" in name:
        return False
    program = _program(cmd)
    if program in STATEFUL or program in DAEMONS or name.startswith("/etc/init.d/"):
        return False
    args = cmd.words[cmd.assignments + 1 :]
    if any(w in _STARTS for w in args) or _PER_RUN_FILES.search(cmd.raw):
        return False
    if program == "ln" and not any(w == "--symbolic" or re.fullmatch(r"-[a-zA-Z]*s[a-zA-Z]*", w) for w in args):
        return False
    return True


def _program(cmd) -> str:
    return cmd.words[cmd.assignments].rsplit("/", 1)[-1]


def _kind(cmd) -> tuple[str, str | None]:
    """The program (version suffix dropped: pip3 is pip, python3.12 is python; `python -m
    pip` is pip) and its first word that is not an option (`install`)."""
    words = cmd.words[cmd.assignments :]
    if len(words) >= 3 and _VERSION.sub("", _program(cmd)) == "python" and words[1] == "-m":
        words = words[2:]
    program = _VERSION.sub("", words[0].rsplit("/", 1)[-1]) or words[0]
    sub = next((w for w in words[1:] if not w.startswith("-")), None)
    return program, sub


def _isolating_mount(flag: str) -> bool:
    """A `--mount` whose writes stay with one RUN: tmpfs, or a bind mount made writable."""
    if not flag.startswith("--mount="):
        return False
    fields = [part.strip() for part in flag[len("--mount=") :].split(",")]
    kind = next((f.split("=", 1)[1].strip().lower() for f in fields if f.lower().startswith("type=")), "bind")
    if kind == "tmpfs":
        return True
    if kind == "bind":
        return any(f.lower() in ("rw", "readwrite", "rw=true", "readwrite=true") for f in fields)
    return False


def _end_of_text(dockerfile, ins) -> int:
    """Offset just past the last character of the instruction's text before its line
    ending, trailing blanks excluded."""
    start, end = ins.content_span()
    return start + len(dockerfile.source[start:end].rstrip(" \t"))


def _comment_lines(dockerfile, first, second) -> str:
    """The comment lines between the first RUN and the second's command (those above the
    second RUN and those inside its continuation before the command), each with its line
    ending."""
    gap = dockerfile.source[first.end : second.args_offset()]
    return "".join(line for line in re.findall(r"[^\n]*\n", gap) if line.lstrip().startswith("#"))


TRANSFORM = Transform(
    id="DO110",
    name="merge-runs",
    title="Merge consecutive one-command RUNs into one RUN",
    why="Each RUN commits a layer; consecutive single commands belong in one.",
    safety=SAFE,
    fix=fix,
    doc=__doc__,
    hadolint=("DL3059",),
)
