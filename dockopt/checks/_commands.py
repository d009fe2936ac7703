"""What several checks share: the commands of the RUNs a POSIX shell runs, the program a
command really runs, and the packages a package manager is asked to install.

A check must not read PowerShell or cmd as sh: RUNs are skipped in Windows images, in
files using the backtick escape, and after a SHELL that is not a POSIX shell (in the stage
or a stage it is built on). `sudo`, `env` and similar wrappers are looked through, so
`sudo -E bash -` runs bash and `sudo apt-get install vim` installs vim.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator

from dockopt.optimizer.runs import sh_runs
from dockopt.optimizer.shell import Command, commands, run_program
from dockopt.optimizer.syntax import Dockerfile, Instruction, Stage



def runs(dockerfile: Dockerfile) -> Iterator[tuple[Stage, Instruction, list[Command]]]:
    """Each shell-form RUN that a POSIX shell runs, with its commands."""
    for stage, ins in sh_runs(dockerfile):
        found = commands(ins)
        if found:
            yield stage, ins, found


def program(cmd: Command) -> tuple[str, int]:
    """The program a command runs (its file name, no folder) and the index of its word,
    looking through `sudo`, `env`, `exec`, `nohup`... ("", -1 when there is none)."""
    return run_program(cmd.words, cmd.assignments)


@dataclass(frozen=True)
class Install:
    """A package manager asked to install packages by name."""

    manager: str  # apt, apk, rpm, pip, npm, gem
    program: str  # as run: apt-get, pip3, ...
    packages: tuple[tuple[int, str], ...]  # (word index, word) of each package named
    options: tuple[str, ...]  # every option word of the command


# manager: (programs, install verbs, options that take an argument)
_MANAGERS = {
    "apt": (("apt-get", "apt", "aptitude"), ("install",),
            {"-o", "-t", "-c", "--option", "--target-release", "--default-release", "--config-file"}),
    "apk": (("apk",), ("add",),
            {"-t", "--virtual", "-X", "--repository", "-p", "--root", "--repositories-file", "--keys-dir",
             "--arch", "--cache-dir", "--cache-max-age"}),
    "rpm": (("yum", "dnf", "microdnf", "tdnf", "zypper"), ("install", "in"),
            {"-c", "--config", "--installroot", "--releasever", "--setopt", "--enablerepo", "--disablerepo",
             "--repo", "--repofrompath", "-x", "--exclude"}),
    "pip": ((), ("install",),
            {"-r", "-c", "-e", "-i", "-f", "-t", "--requirement", "--constraint", "--editable", "--index-url",
             "--extra-index-url", "--find-links", "--target", "--prefix", "--root", "--platform",
             "--python-version", "--implementation", "--abi", "--trusted-host", "--src", "--upgrade-strategy",
             "--progress-bar", "--log", "--cache-dir", "--no-binary", "--only-binary", "--config-settings", "-C",
             "--global-option", "--report", "--python", "--proxy", "--cert", "--client-cert", "--timeout",
             "--retries", "--exists-action", "--keyring-provider", "--root-user-action", "--group"}),
    "npm": (("npm",), ("install", "i", "add", "isntall"),
            {"--prefix", "--registry", "-w", "--workspace", "--omit", "--include", "--cache", "--userconfig",
             "--tag", "--loglevel"}),
    "gem": (("gem",), ("install", "i"),
            {"-v", "--version", "-i", "--install-dir", "-n", "--bindir", "-s", "--source", "-P", "--trust-policy",
             "--platform", "-g", "--file", "--build-root", "--document"}),
}
_PIP = re.compile(r"^pip(\d+(\.\d+)*)?$")
_PYTHON = re.compile(r"^python(\d+(\.\d+)*)?$")


def install(cmd: Command) -> Install | None:
    """What `cmd` installs by name, if it is a package manager's install command."""
    name, at = program(cmd)
    words = cmd.words
    if not name:
        return None
    manager = None
    if _PIP.match(name):
        manager = "pip"
    elif _PYTHON.match(name) and words[at + 1 : at + 3] == ["-m", "pip"]:
        manager, at = "pip", at + 2
    else:
        manager = next((m for m, (programs, _, _) in _MANAGERS.items() if name in programs), None)
    if manager is None:
        return None
    _, verbs, takes_argument = _MANAGERS[manager]
    i = at + 1
    options: list[str] = []
    while i < len(words) and words[i].startswith("-"):  # options before the verb
        options.append(words[i])
        i += 2 if words[i] in takes_argument else 1
    if i >= len(words) or words[i] not in verbs:
        return None
    packages = []
    i += 1
    while i < len(words):
        word = words[i]
        if word == "--":
            packages.extend((j, w) for j, w in enumerate(words[i + 1 :], i + 1))
            break
        if word.startswith("-") and word != "-":
            options.append(word)
            i += 2 if word in takes_argument else 1
            continue
        packages.append((i, word))
        i += 1
    return Install(manager, name, tuple(packages), tuple(options))


def package_name(word: str) -> str:
    """`vim=2:9.0` -> `vim`, `curl~8` -> `curl`, `flask[async]>=2` -> `flask`."""
    return re.split(r"[=<>~!\[;@: ]", word, maxsplit=1)[0] if not word.startswith("@") else word
