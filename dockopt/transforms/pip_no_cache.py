"""DO312 pip-no-cache: install Python packages with `pip install --no-cache-dir`.

What it does
    Adds `--no-cache-dir` right after `install` in `pip install`, `pip3 install`,
    `python -m pip install` (any `pipX.Y`, `pythonX.Y`, or a path to one):

        RUN pip install -r requirements.txt
    ->  RUN pip install --no-cache-dir -r requirements.txt

Why
    pip keeps every wheel it downloads or builds in ~/.cache/pip. In an image that cache is
    never read again, yet it stays in the layer, often as large as the packages themselves
    (hadolint DL3042).

Example
    `pip install --upgrade pip`, `python3 -m pip install --user .`,
    `PIP_INDEX_URL=... /venv/bin/pip install -e .`, in `if` bodies and loops too.
    `uv pip install`, `pipx` and `pipenv` are other programs and are left alone.

When it is not safe
    It always is: the same packages are installed, only nothing is written to the cache.
    Left alone, because the cache is managed on purpose: a RUN with a `--mount=type=cache`
    on the pip cache (~/.cache/pip, ~/.cache, a folder named after pip, or any cache mount
    when `PIP_CACHE_DIR` is set), a command with `--cache-dir`, and RUNs where
    `PIP_NO_CACHE_DIR` is set (by ENV or ARG before them, or in the RUN itself). Also left
    alone: RUNs after a SHELL instruction, Windows images and files using the backtick
    escape.
"""

from __future__ import annotations

import re

from dockopt.optimizer.edits import Edit
from dockopt.optimizer.runs import cache_mounts, sh_stages, subcommand
from dockopt.optimizer.transform import SAFE, Transform

_PIP = re.compile(r"pip\d*(?:\.\d+)*")
_PYTHON = re.compile(r"python\d*(?:\.\d+)*")
# Global options that take the next word as their value.
_VALUED = frozenset(
    "--proxy --log --log-file --cache-dir --timeout --retries --exists-action --trusted-host --cert "
    "--client-cert --python --keyring-provider --use-feature --use-deprecated --resume-retries".split()
)


def fix(dockerfile, context):
    from dockopt.optimizer.shell import commands

    for stage, runs in sh_stages(dockerfile):
        # What the instructions so far set, kept up to date as they are passed instead of
        # re-read for every RUN (thousands of RUNs would make that quadratic).
        seen = _Settings()
        for s in reversed(dockerfile.lineage(stage)[1:]):
            for i in s.instructions:
                seen.add(i)
        sh = {id(i) for i in runs}
        for ins in stage.instructions:
            seen.add(ins)
            if id(ins) not in sh or _cache_managed(ins, seen):
                continue
            for cmd in commands(ins):
                install = _pip_install(cmd)
                if install is None or any(w.split("=", 1)[0] in ("--no-cache-dir", "--cache-dir") for w in cmd.words):
                    continue
                at = cmd.word_span(install)[1]
                yield Edit(at, at, " --no-cache-dir", "pip install --no-cache-dir: do not keep downloaded wheels in the layer")


class _Settings:
    """Whether any instruction passed so far sets PIP_NO_CACHE_DIR (by ENV or ARG) or
    mentions PIP_CACHE_DIR."""

    def __init__(self) -> None:
        self.no_cache = self.cache_dir = False

    def add(self, ins) -> None:
        self.no_cache = self.no_cache or (ins.keyword in ("ENV", "ARG") and "PIP_NO_CACHE_DIR" in ins.line)
        self.cache_dir = self.cache_dir or "PIP_CACHE_DIR" in ins.line


def _pip_install(cmd) -> int | None:
    """Index of `install` in a `pip install` or `python -m pip install` command."""
    words = cmd.words
    if not cmd.name:
        return None
    name = cmd.name.rsplit("/", 1)[-1]
    if _PIP.fullmatch(name):
        pip = cmd.assignments
    elif _PYTHON.fullmatch(name):
        pip = cmd.assignments + 1
        while pip < len(words) and words[pip].startswith("-") and words[pip] != "-m":
            pip += 1  # interpreter options such as -u or -I
        if words[pip : pip + 2] != ["-m", "pip"]:
            return None
        pip += 1
    else:
        return None
    verb = subcommand(words, pip, _VALUED)
    return verb if verb is not None and words[verb] == "install" else None


def _cache_managed(ins, seen: _Settings) -> bool:
    """`PIP_NO_CACHE_DIR` set in the RUN or before it, or a cache mount for pip's cache."""
    if "PIP_NO_CACHE_DIR" in ins.line or seen.no_cache:
        return True
    for target in cache_mounts(ins):
        target = target.rstrip("/")
        if seen.cache_dir or "pip" in target or target.endswith("/.cache") or "/root/.cache/pip".startswith(target + "/"):
            return True
    return False


TRANSFORM = Transform(
    id="DO312",
    name="pip-no-cache",
    title="Install Python packages with `pip install --no-cache-dir`",
    why="pip keeps a copy of every downloaded wheel in ~/.cache/pip, which stays in the image.",
    safety=SAFE,
    fix=fix,
    doc=__doc__,
)
