"""DO313 rpm-hygiene: run yum, dnf, microdnf and zypper with -y and clean up their cache.

What it does
    Two edits, each where it is missing:

    - the "assume yes" switch: `-y` after the subcommand of yum, dnf and microdnf
      (`install`, `update`, `remove`, ...) and of `zypper install` / `zypper remove`;
      zypper's other prompting commands (`update`, `dist-upgrade`, `patch`,
      `source-install`) get the global `--non-interactive` after `zypper`;
    - the cleanup: `yum clean all`, `dnf clean all`, `microdnf clean all` or
      `zypper clean --all`, appended to the end of a RUN that installs or updates packages
      and does not clean up after the last of them:

        RUN dnf install httpd  ->  RUN dnf install -y httpd && dnf clean all

    In a RUN written one command per line, the cleanup goes on a line of its own, joined the
    way the RUN joins its other commands; a RUN ending with `if ... fi` or a loop gets it
    after that.

Why
    A build has no terminal: without the switch the package manager asks "Is this ok
    [y/N]", reads end-of-file and aborts, so the build fails (hadolint DL3030, DL3038,
    DL3034). The repository metadata and downloaded packages stay in /var/cache/yum,
    /var/cache/dnf or /var/cache/zypp, often 100 MB or more, in the layer of the RUN that
    wrote them; a cleanup in the same RUN keeps them out of the image (DL3032, DL3040,
    DL3036).

Example
    `yum install -y`, `yum -y groupinstall`, `dnf -q upgrade -y`, `zypper install -y`,
    `zypper --non-interactive dup`.

When it is not safe
    The switch changes an aborted build into a finished one, and is `safe`, except for
    microdnf: the versions in early RHEL 8 / UBI 8 images did not prompt and reject `-y`
    (it came with microdnf's confirmation prompt, late 2020), so it is marked `review`
    unless the image is version 9 or later, or Fedora, or the file already passes `-y` to
    microdnf. A command already set to non-interactive (`zypper -n`, `--assumeyes`,
    `--setopt=assumeyes=1`) is left as it is, and so is one whose failure a later `||`
    catches (`yum install x || true`): the prompt made that build go on without the package.

    The cleanup is left out when a `--mount=type=cache` covers the manager's cache (it is
    meant to be kept), when the RUN uses heredocs or ends in a way a command cannot follow
    (`&`, a redirection after `done`), and when a later RUN of the stage, or of a stage
    built on it, relies on that cache: yum/dnf with `-C`/`--cacheonly`, or zypper without a
    `zypper refresh` first. yum, dnf and microdnf fetch metadata again when it is missing,
    so a later install still works. RUNs after a SHELL instruction, Windows images and
    files using the backtick escape are left alone.
"""

from __future__ import annotations

import re

from dockopt.optimizer.edits import Edit
from dockopt.optimizer.messages import joined
from dockopt.optimizer.runs import (
    append_point,
    cache_mounts,
    covers,
    descendant_runs,
    failures_tolerated,
    later_any,
    sh_stages,
    subcommand,
)
from dockopt.optimizer.transform import REVIEW, SAFE, Transform

_RPM = frozenset({"yum", "dnf", "dnf5", "microdnf"})
# Subcommands that may ask for confirmation.
_PROMPTS = frozenset(
    "install groupinstall localinstall reinstall update upgrade remove erase autoremove downgrade distro-sync "
    "distrosync swap update-minimal upgrade-minimal group groups groupupdate groupremove groupupgrade module "
    "builddep".split()
)
# Subcommands that download metadata and packages into the cache.
_FETCHES = frozenset(
    "install groupinstall localinstall reinstall update upgrade downgrade distro-sync distrosync swap "
    "update-minimal upgrade-minimal groupupdate groupupgrade builddep".split()
)
_GROUPS = frozenset({"group", "groups", "module"})  # their subcommand is the next word
_HADOLINT_INSTALLS = frozenset({"install", "groupinstall", "localinstall"})
_ZYPPER_YES = frozenset({"install", "in", "remove", "rm"})
_ZYPPER_GLOBAL = frozenset({"update", "up", "dist-upgrade", "dup", "patch", "source-install", "si"})
_ZYPPER_FETCHES = frozenset({"install", "in", "update", "up", "dist-upgrade", "dup", "patch", "source-install", "si"})
# Options that take the next word as their value, before the subcommand.
_VALUED = {
    "rpm": frozenset(
        "-c --config -d --debuglevel -e --errorlevel -x --exclude --installroot --releasever --enablerepo "
        "--disablerepo --repo --repoid --setopt --forcearch --downloaddir --destdir --color -R --randomwait "
        "--rpmverbosity --comment --disableplugin --enableplugin --excludepkgs --includepkgs --repofrompath".split()
    ),
    "zypper": frozenset(
        "-c --config -R --root -D --reposd-dir -C --cache-dir --raw-cache-dir --solv-cache-dir --pkg-cache-dir "
        "--userdata -p --plus-repo --plus-content --installroot".split()
    ),
}
_CACHES = ("/var/cache/yum", "/var/cache/dnf", "/var/cache/libdnf5", "/var/cache/zypp")
_NEW_MICRODNF = re.compile(
    r"fedora|(?:ubi|rhel|el|ol|stream)(?:9|[1-9]\d)\b|(?:oraclelinux|rockylinux|almalinux|centos)[^:]*:(?:9|[1-9]\d)\b"
)


def fix(dockerfile, context):
    from dockopt.optimizer.shell import commands

    file_says_yes: list[bool] = []  # the file's own `microdnf -y`, searched for once
    for stage, runs in sh_stages(dockerfile):
        if not runs:
            continue
        every = [i for i in stage.instructions if i.keyword == "RUN" and not i.json]
        found = [commands(i) for i in every]
        later = [commands(i) for i in descendant_runs(dockerfile, stage)]
        microdnf_safe = _microdnf_takes_yes(dockerfile, stage, file_says_yes)
        relied: dict[str, list[bool]] = {}  # manager -> for each RUN, whether a later RUN relies on its cache

        def relied_on(name: str, n: int) -> bool:
            if name not in relied:
                relied[name] = later_any([_relies(name, cs) for cs in found], any(_relies(name, cs) for cs in later))
            return relied[name][n]

        for n, (ins, cmds) in enumerate(zip(every[: len(runs)], found)):
            for cmd, tolerated in zip(cmds, failures_tolerated(cmds)):
                if not tolerated:
                    yield from _assume_yes(cmd, microdnf_safe)
            yield from _cleanup(dockerfile, ins, cmds, lambda name, n=n: relied_on(name, n))


def _manager(cmd) -> tuple[str, int] | None:
    """The package manager a command runs and the index of its subcommand (-1: none)."""
    if not cmd.name:
        return None
    name = cmd.name.rsplit("/", 1)[-1]
    if name not in _RPM and name != "zypper":
        return None
    verb = subcommand(cmd.words, cmd.assignments, _VALUED["zypper" if name == "zypper" else "rpm"])
    return name, -1 if verb is None else verb


def _assume_yes(cmd, microdnf_safe: bool):
    """The switch that keeps one yum, dnf, microdnf or zypper command from prompting."""
    found = _manager(cmd)
    if found is None:
        return
    name, verb = found
    words = cmd.words
    options = words[cmd.assignments + 1 :]
    if name == "zypper":
        if verb < 0 or _zypper_non_interactive(words, cmd.assignments, verb):
            return
        if words[verb] in _ZYPPER_YES:
            at = cmd.word_span(verb)[1]
            yield Edit(at, at, " -y", f"zypper {words[verb]} -y: a build cannot answer the confirmation prompt")
        elif words[verb] in _ZYPPER_GLOBAL:
            at = cmd.word_span(cmd.assignments)[1]
            yield Edit(at, at, " --non-interactive", "zypper --non-interactive: a build cannot answer prompts")
        return
    if any(_is_yes(w) for w in options):
        return
    if verb >= 0 and words[verb] in _PROMPTS:
        where = verb  # after `group install`, `module enable`: the second word
        if words[verb] in _GROUPS and verb + 1 < len(words) and not words[verb + 1].startswith("-"):
            where = verb + 1
    else:
        where = next((i for i, w in enumerate(words) if i > cmd.assignments and w in _HADOLINT_INSTALLS), -1)
        if where < 0:
            return
    at = cmd.word_span(where)[1]
    subcommand = " ".join(words[verb : where + 1]) if verb >= 0 and words[verb] in _GROUPS else words[where]
    why = f"{name} {subcommand} -y: a build cannot answer the confirmation prompt"
    if name == "microdnf" and not microdnf_safe:
        yield Edit(at, at, " -y", joined(why, "older microdnf, as in early RHEL 8 images, rejects -y"), REVIEW)
    else:
        yield Edit(at, at, " -y", why)


def _is_yes(word: str) -> bool:
    """`-y`, in a group of short options too, `--assumeyes`, `--setopt=assumeyes=1`."""
    if word.startswith("--"):
        return word in ("--assumeyes", "--yes") or "assumeyes" in word
    return word.startswith("-") and "y" in word[1:]


def _zypper_non_interactive(words: list[str], name: int, verb: int) -> bool:
    """The global `-n`/`--non-interactive` before the subcommand, or `-y`/`--no-confirm` after it."""
    for i, w in enumerate(words[name + 1 :], name + 1):
        if i < verb and (w == "--non-interactive" or (w.startswith("-") and not w.startswith("--") and "n" in w)):
            return True
        if i > verb and w in ("-y", "--no-confirm"):
            return True
    return False


def _cleanup(dockerfile, ins, cmds, relied_on):
    """`&& <manager> clean all` at the end of a RUN that fetched packages and kept them,
    unless `relied_on(manager)`: a later RUN uses that cache."""
    if any(covers(t, p) for t in cache_mounts(ins) for p in _CACHES):
        return
    needed: dict[str, int] = {}  # manager -> start of its last fetching command
    cleaned: dict[str, int] = {}
    for cmd in cmds:
        found = _manager(cmd)
        if found is None or "substitution" in cmd.context:
            continue
        name, verb = found
        word = cmd.words[verb] if verb >= 0 else ""
        if word in ("clean", "cc") and (name == "zypper" or "all" in cmd.words[verb + 1 :]):
            cleaned[name] = cmd.start
        elif _fetches(name, cmd.words, verb):
            needed[name] = cmd.start
    missing = [m for m, at in needed.items() if cleaned.get(m, -1) < at and not relied_on(m)]
    if not missing:
        return
    point = append_point(dockerfile, ins, cmds)
    if point is None:
        return
    at, separator = point
    cleanups = ["zypper clean --all" if m == "zypper" else f"{m} clean all" for m in missing]
    text = "".join(separator + c for c in cleanups)
    yield Edit(at, at, text, joined(f"{' and '.join(cleanups)} in the same RUN",
                                    "the package cache does not stay in the layer"))


def _fetches(name: str, words: list[str], verb: int) -> bool:
    """Whether the subcommand downloads metadata or packages into the cache."""
    if verb < 0:
        return False
    if name == "zypper":
        return words[verb] in _ZYPPER_FETCHES
    return words[verb] in _FETCHES or (words[verb] in _GROUPS and "install" in words[verb:])


def _relies(name: str, cmds: list) -> bool:
    """Whether a RUN uses the cache an earlier RUN would clean: yum/dnf in cache-only mode,
    zypper without refreshing its repositories first."""
    refreshed = False
    for cmd in cmds:
        found = _manager(cmd)
        if found is None or found[0] != name:
            continue
        verb = found[1]
        words = cmd.words
        if name == "zypper":
            if verb >= 0 and words[verb] in ("refresh", "ref"):
                refreshed = True
            elif not refreshed and _fetches(name, words, verb):
                return True
        elif any(w == "--cacheonly" or (w.startswith("-") and not w.startswith("--") and "C" in w) for w in words):
            return True
    return False


def _microdnf_takes_yes(dockerfile, stage, file_says_yes: list[bool]) -> bool:
    """The stage's image has a microdnf that accepts `-y` (3.6 and later), or the file
    itself runs microdnf with -y; that search of the whole text is made once, its answer
    kept in `file_says_yes` (it would otherwise read a file of thousands of stages once
    for each)."""
    image = dockerfile.lineage(stage)[-1].image.lower()
    if _NEW_MICRODNF.search(image):
        return True
    if not file_says_yes:
        file_says_yes.append(bool(re.search(r"microdnf\b[^\n&|;]*\s(?:-y|--assumeyes)\b", dockerfile.source)))
    return file_says_yes[0]


TRANSFORM = Transform(
    id="DO313",
    name="rpm-hygiene",
    title="Run yum, dnf, microdnf and zypper with -y and clean their cache in the same RUN",
    why="Without -y the build aborts at the confirmation prompt; without a cleanup the package cache stays in the image.",
    safety=SAFE,
    fix=fix,
    doc=__doc__,
)
