"""DO502 curl-pipe-shell: a script downloaded and run in one go, unverified.

What it does
    Reports a RUN that pipes a download into a shell or an interpreter
    (`curl -fsSL https://x/install.sh | sh`, `wget -qO- URL | sudo -E bash -`,
    `curl URL | python3 -`) or runs one through a substitution (`sh -c "$(curl -fsSL URL)"`,
    `bash <(curl -fsSL URL)`).

Why
    Whatever the server sends at build time runs as root in the image: a compromised or
    changed script, or one cut short by a dropped connection, is executed without anyone
    seeing it, and without `set -o pipefail` a failed download still passes the build.
    hadolint has no rule for it (DL4006 is only about pipefail); BuildKit has none either.

Example
    RUN curl -fsSL https://get.example.com | sh                       reported
    RUN curl -fsSLo install.sh https://get.example.com \\
     && echo "<sha256>  install.sh" | sha256sum -c - && sh install.sh   not reported

Why there is no fix
    The fix is a checksum or signature only the script's publisher can provide (or a
    package instead of the script): dockopt cannot know it.
"""

from __future__ import annotations

import re

from dockopt.checks._commands import program, runs
from dockopt.optimizer.findings import Check, Problem
from dockopt.optimizer.messages import joined

_SHELLS = frozenset({"sh", "bash", "dash", "ash", "zsh", "ksh"})
_ADVICE = "download it, check its checksum or signature, then run it"
_INTERPRETER = re.compile(r"^(?:python[0-9.]*|perl|ruby|node|php)$")


def _downloads_to_stdout(cmd) -> bool:
    name, at = program(cmd)
    words = cmd.words[at + 1 :]
    if name == "curl":  # writes to standard output unless told to write a file
        return not any(
            w in ("--output", "--remote-name", "--remote-name-all") or w.startswith("--output=")
            or re.fullmatch(r"-[a-zA-Z]*[oO].*", w) is not None
            for w in words
        )
    if name == "wget":  # writes a file unless told `-O -`
        following = words[1:] + [""]
        return any(
            w == "--output-document=-" or re.fullmatch(r"-[a-zA-Z]*O-", w) is not None
            or (w == "--output-document" or re.fullmatch(r"-[a-zA-Z]*O", w)) and after == "-"
            for w, after in zip(words, following)
        )
    return False


def _reads_stdin(cmd) -> bool:
    """A shell or interpreter that runs what comes in on standard input."""
    name, at = program(cmd)
    if name not in _SHELLS and not _INTERPRETER.match(name):
        return False
    rest = cmd.words[at + 1 :]
    if "-c" in rest or ("-e" in rest and name in ("perl", "ruby", "node")):
        return False
    if name in _SHELLS and "-s" in rest:
        return True
    operands = [w for w in rest if not w.startswith("-") or w == "-"]
    return not operands or operands[0] == "-"


def _runs_substitution(cmd, inner) -> bool:
    name = program(cmd)[0]
    return (name in _SHELLS or bool(_INTERPRETER.match(name))) and cmd.start <= inner.start < cmd.end


def find(dockerfile):
    for _, ins, cmds in runs(dockerfile):
        pipeline: dict[tuple, list] = {}
        for cmd in cmds:
            chain = pipeline.setdefault(cmd.context, [])
            if cmd.op not in ("|", "|&"):
                chain.clear()
            if _reads_stdin(cmd) and any(_downloads_to_stdout(c) for c in chain):
                source = next(c for c in chain if _downloads_to_stdout(c))
                yield Problem(source.start, cmd.end, joined(
                    f"{program(source)[0]} output piped into {program(cmd)[0]}: the script runs unverified", _ADVICE))
            chain.append(cmd)
        for inner in cmds:
            if "substitution" in inner.context and _downloads_to_stdout(inner):
                outer = next((c for c in cmds if c is not inner and _runs_substitution(c, inner)), None)
                if outer is not None:
                    yield Problem(outer.start, outer.end, joined(
                        f"{program(outer)[0]} runs what {program(inner)[0]} downloads: the script runs unverified", _ADVICE))


CHECK = Check(
    id="DO502",
    name="curl-pipe-shell",
    title="A downloaded script piped into a shell, unverified",
    why="Whatever the server sends at build time runs as root in the image, unchecked.",
    severity="warning",
    find=find,
    doc=__doc__,
)
