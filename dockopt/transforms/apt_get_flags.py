"""DO301 apt-get-flags: run `apt-get` (not `apt`), with `-y` and `--no-install-recommends`.

What it does
    In RUN instructions, for each `apt` or `apt-get` command (also behind `VAR=value`
    assignments, inside `if` bodies or loops: every change is a word of that one command):

    - `apt` becomes `apt-get` (hadolint DL3027); `apt upgrade` becomes
      `apt-get upgrade --with-new-pkgs`, `apt full-upgrade` becomes `apt-get dist-upgrade`
      and `apt reinstall` becomes `apt-get install --reinstall`, which is what they mean.
      `apt list`, `search` and `show` have no exact apt-get equivalent and are left alone.
    - `-y` is added after `apt-get` when an `install` (DL3014), `upgrade`, `dist-upgrade`,
      `remove`, `purge`, `autoremove` or `build-dep` would otherwise ask for confirmation.
      `-y`, `--yes`, `--assume-yes`, a combined `-qy`, quiet level two (`-qq`, `-q -q`,
      `-q=2`, which implies `-y`) and `-o APT::Get::Assume-Yes=true` already answer.
    - `--no-install-recommends` is added after `install` (DL3015) unless the command already
      says `--no-install-recommends`, `--install-recommends` or sets
      `APT::Install-Recommends` itself.

Why
    `apt` is the interactive front end: its output and options are not a stable interface
    for scripts, and it warns so on every run. Without `-y`, `apt-get install` stops at "Do
    you want to continue?" whenever it pulls in a dependency, reads end of input and aborts
    the build; the other subcommands that change packages ask the same way. Recommended
    packages are not needed to run the requested ones: skipping them commonly makes the
    layer tens of megabytes smaller.

Example
    RUN apt update && apt install curl
    ->
    RUN apt-get update && apt-get -y install --no-install-recommends curl

When it is not safe
    `-y` only lets a build go on that would otherwise have stopped; it is `safe`.
    `--no-install-recommends` changes which packages the image contains, and something may
    rely on a recommended package (a TLS root store, a locale): it is marked `review`.
    `apt` deletes the `.deb` files it downloaded and `apt-get` keeps them in
    /var/cache/apt/archives unless the image removes them (the Debian and Ubuntu official
    images do, with /etc/apt/apt.conf.d/docker-clean): renaming a command that downloads
    packages is `safe` on an official Debian or Ubuntu based image whose docker-clean no
    RUN touches, `review` elsewhere. Commands run through `sudo`, `env` or `xargs`, commands
    whose subcommand hides behind a variable, `--assume-no` and `--trivial-only` are left
    alone; `-y` is not added where a later `||` catches the failure (`apt-get install x ||
    true`), since there the prompt made the build go on without the packages; and so are RUNs that no POSIX shell runs: after a `SHELL` instruction other than
    sh, bash or dash with `-c`, in Windows images, in files with the backtick escape.
"""

from __future__ import annotations

import re
from typing import Iterator

from dockopt.optimizer.edits import Edit
from dockopt.optimizer.messages import joined
from dockopt.optimizer.runs import failures_tolerated, sh_runs
from dockopt.optimizer.transform import REVIEW, SAFE, Transform

APT_PROGRAMS = frozenset({"apt", "apt-get"})
# Subcommands that read the package lists: they fail or act on nothing without them.
READS_LISTS = frozenset(
    "install reinstall upgrade dist-upgrade full-upgrade build-dep source download satisfy "
    "changelog check".split()
)
# Options that take the next word as their value, long and short.
_VALUE_OPTIONS = frozenset(
    "--option --config-file --target-release --default-release --host-architecture "
    "--build-profiles --solver --planner".split()
)
_VALUE_LETTERS = "octaP"
# Subcommands that ask "Do you want to continue?" before changing the system.
_PROMPTS = frozenset("install upgrade dist-upgrade full-upgrade remove purge autoremove build-dep satisfy".split())
_ASSUME_YES = re.compile(r"APT::Get::Assume-Yes=(1|true|yes|on)$", re.IGNORECASE)
# `apt X` -> (`apt-get X'`, extra words, downloads packages)
_RENAMES = {
    "install": ("install", "", True),
    "reinstall": ("install --reinstall", "", True),
    "upgrade": ("upgrade", " --with-new-pkgs", True),
    "full-upgrade": ("dist-upgrade", "", True),
    "dist-upgrade": ("dist-upgrade", "", True),
    "build-dep": ("build-dep", "", True),
    "source": ("source", "", False),
    "download": ("download", "", False),
    "update": ("update", "", False),
    "remove": ("remove", "", False),
    "purge": ("purge", "", False),
    "autoremove": ("autoremove", "", False),
    "autopurge": ("autoremove --purge", "", False),
    "clean": ("clean", "", False),
    "autoclean": ("autoclean", "", False),
}
def subcommand(cmd) -> int | None:
    """Index in `cmd.words` of the subcommand of an `apt`/`apt-get` command (`install` in
    `apt-get -o X=y -q install z`); None for other commands, or when a word whose value
    is only known at build time comes before it."""
    words = cmd.words
    if cmd.name not in APT_PROGRAMS:
        return None
    i = cmd.assignments + 1
    while i < len(words):
        word = words[i]
        if "$" in word or "`" in word:
            return None
        if not word.startswith("-"):
            return i
        if word in _VALUE_OPTIONS:
            i += 1
        elif not word.startswith("--") and "=" not in word:
            letters = word[1:]
            cut = next((k for k, ch in enumerate(letters) if ch in _VALUE_LETTERS), None)
            if cut is not None and cut == len(letters) - 1:
                i += 1  # `-o Key=value`, `-qt bookworm-backports`
        i += 1
    return None


def verb(cmd) -> str | None:
    """The subcommand of an `apt`/`apt-get` command, or None."""
    i = subcommand(cmd)
    return cmd.words[i] if i is not None else None


def _options(words: list[str]) -> Iterator[tuple[str, str | None]]:
    """(option, value) for the options among `words`; short groups come letter by letter."""
    i = 0
    while i < len(words):
        word = words[i]
        if word.startswith("--"):
            name, eq, value = word.partition("=")
            if not eq and name in _VALUE_OPTIONS and i + 1 < len(words):
                i += 1
                value = words[i]
            yield name, value if (eq or name in _VALUE_OPTIONS) else None
        elif word.startswith("-") and len(word) > 1:
            letters = word[1:]
            for k, ch in enumerate(letters):
                if ch == "=":
                    break
                if ch in _VALUE_LETTERS:
                    value = letters[k + 1 :]
                    if not value and i + 1 < len(words):
                        i += 1
                        value = words[i]
                    yield "-" + ch, value
                    break
                yield "-" + ch, (letters[k + 2 :] if letters[k + 1 : k + 2] == "=" else None)
        i += 1


def assumes_yes(words: list[str]) -> bool | None:
    """Whether these apt-get arguments answer its prompts: True, False, or None when they
    ask it to answer no (`--assume-no`, `--trivial-only`)."""
    yes, quiet = False, 0
    for name, value in _options(words):
        if name in ("--assume-no", "--trivial-only"):
            return None
        if name in ("-y", "--yes", "--assume-yes"):
            yes = True
        elif name in ("-q", "--quiet"):
            quiet += int(value) if value and value.isdigit() else 1
        elif name in ("-o", "--option") and value and _ASSUME_YES.match(value):
            yes = True
    return yes or quiet >= 2


def _sets_recommends(words: list[str]) -> bool:
    return any("install-recommends" in w.lower() for w in words)


def _keeps_debs(dockerfile, stage) -> bool:
    """Whether `apt-get` may leave downloaded .deb files where `apt` would delete them:
    unless the base is an official Debian or Ubuntu based image whose docker-clean
    configuration no RUN touches."""
    from dockopt.optimizer.images import describe

    lineage = dockerfile.lineage(stage)
    if any("docker-clean" in i.text for s in lineage for i in s.instructions):
        return True
    image = describe(lineage[-1].image)
    official = image.in_manifest or image.arch is not None  # one architecture's copy is the same image
    return not (official and image.distro in ("debian", "ubuntu"))


def fix(dockerfile, context):
    from dockopt.optimizer.shell import commands

    for stage, ins in sh_runs(dockerfile):
        cmds = commands(ins)
        tolerated = None
        for n, cmd in enumerate(cmds):
            at = subcommand(cmd)
            if at is None:
                continue
            sub, args = cmd.words[at], cmd.words[cmd.assignments + 1 :]
            name_end = cmd.word_span(cmd.assignments)[1]
            if cmd.name == "apt" and sub in _RENAMES:
                yield from _rename(dockerfile, stage, cmd, at)
            if sub not in _PROMPTS:
                continue
            yes = assumes_yes(args)
            if yes is False and tolerated is None:
                tolerated = failures_tolerated(cmds)
            if yes is False and not tolerated[n]:
                yield Edit(
                    name_end, name_end, " -y",
                    "-y: without it apt-get stops at its confirmation prompt and the build aborts",
                )
            if sub == "install" and yes is not None and not _sets_recommends(args):
                end = cmd.word_span(at)[1]
                yield Edit(
                    end, end, " --no-install-recommends",
                    joined("--no-install-recommends: install what the packages need, not what they suggest",
                           "a smaller image; check that nothing relied on a recommended package"),
                    REVIEW,
                )


def _rename(dockerfile, stage, cmd, at: int) -> Iterator[Edit]:
    sub = cmd.words[at]
    new_sub, extra, downloads = _RENAMES[sub]
    why = "apt-get: apt is the interactive front end, without a stable interface for scripts"
    safety = REVIEW if downloads and _keeps_debs(dockerfile, stage) else None
    keeps = "\napt-get keeps the downloaded .deb files that apt deletes" if safety else ""
    start, end = cmd.word_span(cmd.assignments)
    if new_sub == sub and not extra:
        yield Edit(start, end, "apt-get", why + keeps, safety)
        return
    # One edit up to the subcommand: applied together or not at all.
    sub_start, sub_end = cmd.word_span(at)
    text = "apt-get" + dockerfile.source[end:sub_start] + new_sub + extra
    yield Edit(start, sub_end, text, joined(f"apt {sub} -> apt-get {new_sub}{extra}", why + keeps), safety)


TRANSFORM = Transform(
    id="DO301",
    name="apt-get-flags",
    title="Use apt-get, with -y and --no-install-recommends, in RUN",
    why="apt is not for scripts, an install without -y aborts at its prompt, and recommended packages bloat the image.",
    safety=SAFE,
    fix=fix,
    doc=__doc__,
    hadolint=("DL3014", "DL3015", "DL3027"),
)
