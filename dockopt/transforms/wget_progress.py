"""DO315 wget-progress: keep wget's progress bar out of the build log.

What it does
    Gives every `wget` that prints its default progress output a quieter one, right after
    `wget`:

        RUN wget https://example.com/x.tgz
    ->  RUN wget --progress=dot:giga https://example.com/x.tgz        (GNU wget)
    ->  RUN wget -q https://example.com/x.tgz                         (BusyBox wget)

    `--progress=dot:giga` is GNU wget's: one dot per megabyte, errors still shown. BusyBox
    wget, the one Alpine and BusyBox images have, rejects it, so where the stage's image
    may not be GNU wget, `-q`, which both understand, is used. The stage gets
    `--progress=dot:giga` when its base image is Debian, Ubuntu or another glibc
    distribution (by name, or by what dockopt's image data says of it), or when the stage
    installs packages with apt, yum, dnf or zypper; images named alpine or busybox, and
    images nothing is known of, get `-q`.

Why
    Without a terminal wget falls back from its bar to dots, a line of them for every
    50 KB: a 100 MB download writes some 2,000 lines, which bloat the build log and bury
    the lines that matter (hadolint DL3047). With `dot:giga` it is four lines.

Example
    `wget -O /tmp/go.tgz "$URL"`, `wget -P /opt https://...`, inside `if` bodies and
    loops too.

When it is not safe
    It always is: only what wget writes to stderr changes, not what it downloads or its
    exit status. (`-q` hides GNU wget's error messages too; that is why it is used only
    where GNU wget is not certain.) A wget already told how to report (`-q`, `--quiet`,
    `-nv`, `--no-verbose`, `--progress=...`, or a log file with `-o`/`-a`) is left alone,
    as are RUNs after a SHELL instruction, Windows images and files using the backtick
    escape.
"""

from __future__ import annotations

import re

from dockopt.optimizer.edits import Edit
from dockopt.optimizer.runs import sh_stages
from dockopt.optimizer.transform import SAFE, Transform

_REPORTING = frozenset({"--quiet", "--no-verbose", "--progress", "--output-file", "--append-output"})
_REPORTING_SHORT = frozenset("qoa")  # -q, and -o/-a: the report goes to a file
_VALUED_SHORT = frozenset("OePtTwQUlARDIXBiY")  # the rest of the word is the option's value
_BUSYBOX_IMAGE = re.compile(r"alpine|busybox", re.IGNORECASE)
_GNU_IMAGE = re.compile(
    r"debian|ubuntu|bookworm|bullseye|buster|stretch|trixie|jammy|focal|noble|bionic|xenial|fedora|centos|rocky"
    r"|alma|ubi\d|rhel|amazonlinux|oraclelinux|opensuse|sles|archlinux|buildpack-deps",
    re.IGNORECASE,
)
_GNU_MANAGERS = frozenset({"apt-get", "apt", "yum", "dnf", "microdnf", "zypper"})


def fix(dockerfile, context):
    from dockopt.optimizer.shell import commands

    for stage, runs in sh_stages(dockerfile):
        wgets = [c for i in runs for c in commands(i) if c.name.rsplit("/", 1)[-1] == "wget" and not _reports(c)]
        if not wgets:
            continue
        if _gnu_wget(dockerfile, stage):
            flag, why = " --progress=dot:giga", "wget --progress=dot:giga: a line of dots per 32 MB instead of per 50 KB"
        else:
            flag, why = " -q", "wget -q: no progress dots in the build log (BusyBox wget has no --progress)"
        for cmd in wgets:
            at = cmd.word_span(cmd.assignments)[1]
            yield Edit(at, at, flag, why)


def _reports(cmd) -> bool:
    """Whether the command already says how wget reports progress."""
    for word in cmd.words[cmd.assignments + 1 :]:
        if word.startswith("--"):
            if word.split("=", 1)[0] in _REPORTING:
                return True
        elif word == "-nv":
            return True
        elif word.startswith("-") and not word.startswith("-n"):
            for letter in word[1:]:
                if letter in _REPORTING_SHORT:
                    return True
                if letter in _VALUED_SHORT:
                    break
    return False


def _gnu_wget(dockerfile, stage) -> bool:
    """Whether the stage's wget is GNU wget, as far as the Dockerfile tells."""
    lineage = dockerfile.lineage(stage)
    image = lineage[-1].image
    if _BUSYBOX_IMAGE.search(image):
        return False
    if _GNU_IMAGE.search(image):
        return True
    from dockopt.optimizer import images

    info = images.describe(image)
    if info.distro in ("debian", "ubuntu") or info.libc == "glibc" or info.apt:
        return True
    from dockopt.optimizer.shell import commands

    runs = [i for s in lineage for i in s.instructions if i.keyword == "RUN" and not i.json]
    return any(c.name.rsplit("/", 1)[-1] in _GNU_MANAGERS for i in runs for c in commands(i))

TRANSFORM = Transform(
    id="DO315",
    name="wget-progress",
    title="Give wget a quiet progress report",
    why="Without a terminal wget prints a line of dots for every few hundred kilobytes, flooding the build log.",
    safety=SAFE,
    fix=fix,
    doc=__doc__,
)
