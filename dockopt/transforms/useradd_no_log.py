"""DO316 useradd-no-log-init: `useradd --no-log-init` when the UID may be high.

What it does
    Adds `--no-log-init` right after `useradd` when the command sets a UID (`-u`, `--uid`)
    that is above 65535, longer than five characters, or not a plain number (a variable
    such as `${UID}`, whose value the build decides), and has neither `-l` nor
    `--no-log-init`:

        RUN useradd -u ${HOST_UID} -m dev
    ->  RUN useradd --no-log-init -u ${HOST_UID} -m dev

Why
    useradd records the new user in /var/log/lastlog and /var/log/faillog, files indexed
    by UID: for UID 1,000,000 lastlog becomes a 292 MB sparse file. Image layers do not
    keep holes, so the image grows by that much, and builds have been seen to exhaust the
    disk (hadolint DL3046). Nobody logs in to a container, so the records are useless.

Example
    `useradd -r -u 100001 app`, `useradd --uid "$UID" -g "$GID" builder`,
    `useradd -mu ${USER_ID} me`.

When it is not safe
    It always is: only the lastlog and faillog records of the new user are skipped. A
    small literal UID is left alone (the file stays small), as are RUNs after a SHELL
    instruction, Windows images and files using the backtick escape.

    hadolint reports a `-u` value longer than five characters, so each of its findings is
    fixed here, and so are the ones it misses: `--uid`, `-u$UID`, `-u 70000`.
"""

from __future__ import annotations


from dockopt.optimizer.edits import Edit
from dockopt.optimizer.runs import sh_stages
from dockopt.optimizer.transform import SAFE, Transform

_VALUED_SHORT = frozenset("bcdefgGkKpsuRPZ")
_VALUED_LONG = frozenset(
    "--base-dir --comment --home-dir --expiredate --inactive --gid --groups --skel --key --password --shell "
    "--uid --root --prefix --selinux-user --selinux-range".split()
)
_LOW_UID = 65535


def fix(dockerfile, context):
    from dockopt.optimizer.shell import commands

    for _, runs in sh_stages(dockerfile):
        for cmd in (c for ins in runs for c in commands(ins)):
            if cmd.name.rsplit("/", 1)[-1] != "useradd":
                continue
            uid, no_log = _options(cmd.words, cmd.assignments)
            if uid is None or no_log or (uid.isdigit() and int(uid) <= _LOW_UID and len(uid) <= 5):
                continue
            at = cmd.word_span(cmd.assignments)[1]
            yield Edit(at, at, " --no-log-init", "useradd --no-log-init: no lastlog file sized by a large UID in the layer")


def _options(words: list[str], name: int) -> tuple[str | None, bool]:
    """The UID a useradd command sets (as written), and whether it has -l/--no-log-init."""
    uid, no_log, i = None, False, name + 1
    while i < len(words):
        word = words[i]
        if word == "--":
            break
        if not word.startswith("-") or word == "-":
            pass  # the user name (getopt lets options follow it)
        elif word.startswith("--"):
            key, eq, value = word.partition("=")
            no_log = no_log or key == "--no-log-init"
            if key in _VALUED_LONG and not eq:
                value = words[i + 1] if i + 1 < len(words) else ""
                i += 1
            if key == "--uid":
                uid = value
        else:
            for k, letter in enumerate(word[1:], 2):
                if letter == "l":
                    no_log = True
                elif letter in _VALUED_SHORT:
                    value = word[k:]
                    if not value:
                        value = words[i + 1] if i + 1 < len(words) else ""
                        i += 1
                    if letter == "u":
                        uid = value
                    break
        i += 1
    return uid, no_log

TRANSFORM = Transform(
    id="DO316",
    name="useradd-no-log-init",
    title="Create users with `useradd --no-log-init` when the UID may be high",
    why="useradd writes lastlog and faillog records indexed by UID, which a high UID turns into huge files.",
    safety=SAFE,
    fix=fix,
    doc=__doc__,
)
