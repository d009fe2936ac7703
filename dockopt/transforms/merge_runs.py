"""DO110 merge-runs: merge consecutive one-command RUNs into one RUN.

What it does
    Consecutive RUN instructions that each run one simple command are joined with `&&`
    into one RUN, in the continuation style the file already uses (its indentation, `&&`
    at the start or at the end of the line):

        RUN chmod +x kubectl                    RUN chmod +x kubectl \\
        RUN mv kubectl /usr/local/bin/  ->          && mv kubectl /usr/local/bin/

    These are the RUNs hadolint DL3059 reports: a RUN right after a RUN with the same
    flags (comments between them aside), each running at most one command, perhaps behind
    tests joined to it with `&&` (`[ ! -e f ] && echo x > f`, one command to hadolint). A RUN
    that already chains commands is left as its author split it, as DL3059 leaves it. Comment
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
    see. So each RUN merged is one simple command and nothing else (tests before it joined
    by `&&` aside: `A && [ t ] && b` fails exactly when `A` or `[ t ] && b` did): no `;`,
    `&`, `||`, `!`, `if`, loop, subshell, `$( )`, trailing comment or heredoc. Every command
    but those of the last RUN changes no shell state: no `cd`, `export`, bare assignment, `set`, `umask`,
    `ulimit`, `exec`, `exit`, `trap`, `source`, `eval` or other builtin that alters the
    shell; no command named by a variable; no daemon started (`service x start`, `nohup`,
    `--daemon`), which the end of its RUN would have stopped; no hard link (`ln` without
    `-s`, `cp -a`, `-d`, `-l` or `--preserve=links`, which keep the copies' links: a later
    RUN's in-place change copies one name of the link up into its own layer and splits it
    from the others, in one RUN they stay one file); no change to
    /etc/hosts, /etc/resolv.conf or /etc/hostname, which BuildKit gives each RUN afresh.

    The build. Both RUNs carry the same flags, and no mount whose writes one RUN would
    not pass on to the next (`type=tmpfs`, a `rw` bind mount). RUNs with another
    instruction between them, or a `# hadolint` or `# dockopt` comment (it belongs to the
    instruction below it), are left alone, as are RUNs no POSIX shell runs: Windows
    images, stages after a SHELL for another shell, files with the backtick escape.

    The cache. After a merge, editing the second command reruns the first. So two RUNs are
    merged only when one of them is cheap (`mkdir`, `chmod`, `chown`, `ln`, `echo`,
    `useradd`, `rm`, `sed`, `cp`, `mv`, ...) or both run the same kind of step (the same
    program and subcommand: two `apt-get install`, two `pip install`, two `gem install`): a
    package install, a download or a build is never merged with a different expensive step
    after it (`go get` then `go build`, `apk add git` then `git clone`). A cheap step before
    an expensive one is merged, since the expensive one reruns whenever the cheap one
    changes anyway. A cheap step after an expensive one is merged too: it is a line of
    set-up that is rarely edited, and one that changes what the step before wrote
    (`chmod +x kubectl` after its download) no longer copies those files into a layer of
    its own, so they are stored once instead of twice.

    Hard links. A file a tarball or a package left may have several names. Changed in
    place by a later RUN (`chmod`, `chown`, `touch`, `truncate`, `tee`, `cp` onto it, a
    `>` or `>>` onto it, a `sed` script's `w FILE`, a new hard link `ln` to it), only the
    name changed is copied into the new layer, and the other names keep the old file; in
    one RUN all names change. So such a step is not merged into a RUN that holds an
    expensive step, even through cheap steps between them, unless it changes exactly the
    file that step downloaded (`curl -o f` then `chmod +x f`) or a file its own test found
    absent (`[ ! -e f ] && echo x > f`): a new file has one name. `sed -i` and `install`
    write a new file and rename it over the name, which parts it from its links either
    way.

    Then the image is the same (`safe`): the same commands run in the same environment,
    in one layer instead of several. A file that one RUN created and a later one deleted
    is no longer stored at all, nor a whiteout for it; that is the point.
"""

from __future__ import annotations

import re

from dockopt.optimizer.edits import Edit
from dockopt.optimizer.messages import clip, joined
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
    for first, second, a, b, reason in verdicts(dockerfile):
        if reason is not None:
            continue
        between = _comment_lines(dockerfile, first, second)
        style = style or continuation_style(dockerfile)
        start, end = edit_span(dockerfile, first, second)
        source = dockerfile.source
        glue = style.join(dockerfile.escape, dockerfile.newline, between)
        yield Edit(
            start,
            end,
            source[start] + glue + source[end - 1],
            _why(a, b),
        )


def edit_span(dockerfile, first, second) -> tuple[int, int]:
    """The source range the merge of two RUNs rewrites: from the last character of the
    first RUN to the first of the second's command. An edit another transform makes at
    either end (a cleanup appended to the first command) overlaps, and waits for the next
    round, which sees the new commands."""
    return _end_of_text(dockerfile, first) - 1, second.args_offset() + 1


def verdicts(dockerfile):
    """(first RUN, second RUN, their commands, reason) for each two RUNs a POSIX shell runs
    one after the other: the reason they stay apart as (first line, detail), or None when
    DO110 merges them. (Commands are None for a RUN that is not one command.)"""
    runs = [ins for _, ins in sh_runs(dockerfile)]
    position = {id(ins): i for i, ins in enumerate(dockerfile.instructions)}
    # The expensive kind of step in the RUNs merged so far: through cheap steps between
    # them, two expensive steps of different kinds must not end up in one RUN.
    singles = [_single(ins) for ins in runs]  # each RUN read once, not as first and as second
    group = _expensive(singles[0]) if runs else None
    # ... and its command: a file it left may have other names (hard links), which a
    # change in place later in the same RUN would change too.
    step = _main(singles[0]) if group else None
    for k, (first, second) in enumerate(zip(runs, runs[1:])):
        a, b = singles[k], singles[k + 1]
        kind = _expensive(b)
        if position[id(second)] != position[id(first)] + 1:
            reason = ("another instruction stands between them", "")
        else:
            reason = _apart(first, a, second, b, _comment_lines(dockerfile, first, second))
        if reason is None and group is not None and kind is not None and kind != group:
            reason = (f"it would join `{clip(' '.join(filter(None, group)), 16)}` and "
                      f"`{clip(' '.join(filter(None, kind)), 16)}` in one RUN",
                      "Through the cheap steps merged between them, editing either would rerun both.")
        if reason is None and step is not None and kind != group and _in_place(b, step):
            reason = (f"`{_program(_main(b))}` changes in place files a step above may hard-link",
                      f"`{clip(_program(step), 24)}` above may leave files with several names (a tarball's or a "
                      "package's hard links). Apart, a change in place copies one name into a layer of its own and "
                      "leaves the others as they were; in one RUN it changes all of them.")
        if reason is not None:
            group, step = kind, (_main(b) if kind else None)
        elif kind:
            group, step = kind, _main(b)
        yield first, second, a, b, reason


def _apart(first, a, second, b, between: str):
    """Why two adjacent RUNs stay apart, as (first line, detail), or None."""
    if a is None or b is None:
        which = "the RUN above" if a is None else "this RUN"
        return (f"{which} is not one plain command, `&&` could change what runs",
                "Only RUNs of one simple command (tests joined by `&&` aside) are merged, so the chain fails "
                "exactly when one of the RUNs did.")
    if first.flags != second.flags:
        return "the two RUNs have different flags", ""
    if any(_isolating_mount(f) for f in first.flags):
        return "their tmpfs or writable bind mount keeps each RUN's writes apart", ""
    if any(_PRAGMA.match(line) for line in between.splitlines()):
        return "a # hadolint or # dockopt comment between them belongs to this RUN", ""
    changer = next((c for c in a if _state_change(c)), None)
    if changer is not None:
        detail = ("Apart, a later change in place copies one name of the file into a layer of its own; in one "
                  "RUN it changes every name." if _makes_links(changer) else
                  "Joined by `&&`, what the first command leaves in the shell would reach the second.")
        return f"`{clip(_program(changer), 24)}` above {_state_change(changer)}", detail
    if not (_cheap(a) or _cheap(b) or _kind(_main(a)) == _kind(_main(b))):
        return (f"editing it would rerun `{clip(' '.join(filter(None, _kind(_main(a)))), 24)}` above",
                "Both are expensive steps of different kinds (an install, a download, a build): "
                "apart, each keeps its own cache.")
    return None


# Cheap commands that change an existing file's contents, mode or owner where it is, so
# every hard link to it sees the change (`>` onto a file truncates it in place too). Not
# `sed -i` or `install`: they write a new file and rename it over the old name (GNU and
# BusyBox alike), which parts that name from its links whether the RUNs are apart or one.
IN_PLACE = frozenset("chmod chown chgrp touch truncate tee cp".split())
# A redirection that writes a file: `>`, `>>`, `>|`, `&>`, with an optional descriptor.
_WRITE = re.compile(r"(?:\d*|&)>[>|]?[ \t]*(?!&)([^ \t;&|<>]+)")


def _in_place(cmds, before) -> bool:
    """Whether the chain `cmds` may change in place a file the command `before` left: a
    program in IN_PLACE, a hard link (`ln` copies its target up into the new layer), a `sed`
    script that writes a file (`w FILE`), or a redirection onto a file; except a change to
    exactly the file `before` downloaded (`curl -o kubectl` then `chmod +x kubectl`) and a
    write to a file the chain has just tested does not exist (`[ ! -e f ] && echo x > f`):
    a new file has one link."""
    cmd = _main(cmds)
    if (_program(cmd) == "ln" and not _symbolic(cmd)) or (_program(cmd) == "sed" and _sed_writes(cmd)):
        return True
    targets = [t for t in _WRITE.findall(cmd.raw) if not t.startswith("/dev/")]
    if _program(cmd) not in IN_PLACE and not targets:
        return False
    if _program(cmd) not in IN_PLACE and all(t in _absent(cmds) for t in targets):
        return False
    operands = [w for w in cmd.words[cmd.assignments + 1 :] if not w.startswith("-")]  # the mode or owner, the files
    downloaded = _download_target(before)
    return not (_program(cmd) in ("chmod", "chown", "chgrp") and downloaded and operands[1:] == [downloaded])


def _makes_links(cmd) -> bool:
    """Whether the command makes hard links: `ln` without -s, a `cp` that keeps them."""
    return (_program(cmd) == "ln" and not _symbolic(cmd)) or (_program(cmd) == "cp" and _links(cmd))


def _symbolic(cmd) -> bool:
    """Whether an `ln` makes symbolic links."""
    return any(w == "--symbolic" or re.fullmatch(r"-[a-zA-Z]*s[a-zA-Z]*", w) for w in cmd.words[cmd.assignments + 1 :])


# A sed `w`/`W` command or flag, whatever follows it (`w FILE`, `1w F`, `s/a/b/w F`,
# `w/F`): any w standing alone among the script's letters counts, which may keep apart a
# RUN that only replaces text by "w"; missing one would change a hard-linked file.
_SED_WRITE = re.compile(r"(?<![A-Za-z_])[wW](?![A-Za-z0-9_])")


def _sed_writes(cmd) -> bool:
    """Whether a sed command may write a file besides its output: a script with a `w`
    command, or a script sed reads from a file (`-f`), which cannot be seen."""
    words = cmd.words[cmd.assignments + 1 :]
    scripts, expressions, i = [], False, 0
    while i < len(words):
        w = words[i]
        if w in ("-f", "--file") or w.startswith("--file=") or re.fullmatch(r"-[a-zA-Z]*f[a-zA-Z]*", w):
            return True
        if w in ("-e", "--expression") or re.fullmatch(r"-[a-zA-Z]*e", w):
            scripts.append(words[i + 1] if i + 1 < len(words) else "")
            expressions, i = True, i + 2
            continue
        if w.startswith("--expression="):
            scripts.append(w.split("=", 1)[1])
            expressions = True
        elif not w.startswith("-") and not expressions and not scripts:
            scripts.append(w)  # the first operand is the script when no -e gives one
        i += 1
    return any(_SED_WRITE.search(script) for script in scripts)


def _links(cmd) -> bool:
    """Whether a `cp` keeps the hard links among what it copies (`-a`, `-d`, `-l`,
    `--preserve=links`, `--link`...): its copies share files as the originals did."""
    words = cmd.words[cmd.assignments + 1 :]
    if any(w.startswith("--no-preserve=") and ("links" in w or "all" in w) for w in words):
        return False
    for w in words:
        if w in ("--archive", "--link") or (w.startswith("--preserve=") and ("links" in w or "all" in w)):
            return True
        if re.fullmatch(r"-[a-zA-Z]*[adl][a-zA-Z]*", w):
            return True
    return False


def _absent(cmds) -> set[str]:
    """The files the chain's tests find absent before it goes on: `[ ! -e f ]`, `test ! -f f`."""
    absent = set()
    for c in cmds:
        if not _test(c):
            continue
        words = c.words[c.assignments + 1 :]
        if _program(c) == "[":
            words = words[:-1] if words[-1:] == ["]"] else []
        if len(words) == 3 and words[0] == "!" and words[1] in ("-e", "-f"):
            absent.add(words[2])
    return absent


def _download_target(cmd) -> str | None:
    """The file `curl -o FILE` or `wget -O FILE` writes, or None."""
    words = cmd.words[cmd.assignments :]
    flags = {"curl": ("-o", "--output"), "wget": ("-O", "--output-document")}.get(_program(cmd))
    if flags is None:
        return None
    for i, w in enumerate(words[1:-1], 1):
        if w in flags:
            return words[i + 1]
    return None


def _single(ins):
    """The commands of a RUN that runs one simple command and nothing else, or one command
    guarded by tests joined with `&&` (`[ ! -e f ] && echo x > f`, one command to hadolint
    too); None for anything else."""
    from dockopt.optimizer.shell import commands

    if ins.heredocs:
        return None
    cmds = commands(ins)
    if not cmds or any(c.context or not c.name for c in cmds) or any(c.op != "&&" for c in cmds[1:]):
        return None
    if sum(1 for c in cmds if not _test(c)) > 1:
        return None
    # One command covers the whole text when it is the text (a pattern made of it would be
    # compiled anew for every RUN: one per RUN overflows the cache of compiled patterns).
    shell = ins.shell.strip()
    if len(cmds) == 1:
        covered = shell == cmds[0].raw
    else:
        covered = re.fullmatch(r"\s*&&\s*".join(re.escape(c.raw) for c in cmds), shell) is not None
    if not covered:
        return None  # a trailing comment or operator, or text the commands do not cover
    return cmds


def _test(cmd) -> bool:
    return _program(cmd) in ("[", "test")


def _main(cmds):
    """The command a chain runs, its tests aside."""
    return next((c for c in cmds if not _test(c)), cmds[-1])


def _why(a, b) -> str:
    first = "RUN merged into the RUN above: one layer instead of two"
    if _cheap(a):
        return joined(first, f"`{_program(_main(a))}` above is cheap: the step after it reran whenever it changed anyway.")
    if _kind(_main(a)) == _kind(_main(b)):
        return joined(first, "Both run the same kind of step: " + " ".join(filter(None, _kind(_main(a)))) + ".")
    return joined(first, f"`{_program(_main(b))}` is cheap set-up: editing it reruns the step above, which "
                         "it rarely needs; files it changes are no longer copied into a layer of their own.")


def _expensive(cmds):
    """The kind of step a RUN's commands run when it is not cheap, else None."""
    return None if cmds is None or _cheap(cmds) else _kind(_main(cmds))


def _cheap(cmds) -> bool:
    return all(_program(c) in CHEAP for c in cmds)


def _state_change(cmd) -> str | None:
    """What the command leaves in the shell, or does, that a command after it in the same
    RUN could see (None: nothing)."""
    name = cmd.words[cmd.assignments]
    if "$" in name or "`" in name or "\\" in name:
        return "runs a command named by a variable"
    program = _program(cmd)
    if program in STATEFUL:
        return "changes the shell's state"
    if program in DAEMONS or name.startswith("/etc/init.d/"):
        return "starts a service, which the end of its RUN stops"
    args = cmd.words[cmd.assignments + 1 :]
    if any(w in _STARTS for w in args):
        return "starts a service, which the end of its RUN stops"
    if _PER_RUN_FILES.search(cmd.raw):
        return "writes a file BuildKit gives each RUN afresh"
    if _makes_links(cmd):
        return "makes a hard link, which one RUN keeps whole"
    return None


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
        # BuildKit reads these values with Go's strconv.ParseBool; a variable may hold any
        # (a bare `rw` is true, a bare `ro` leaves the mount read-only)
        for f in fields:
            key, eq, value = f.partition("=")
            key, value = key.strip().lower(), value.strip()
            if key in ("rw", "readwrite") and (not eq or "$" in value or value in _TRUE):
                return True
            if key in ("ro", "readonly") and eq and ("$" in value or value in _FALSE):
                return True
    return False


_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})
_FALSE = frozenset({"0", "f", "F", "FALSE", "false", "False"})


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
