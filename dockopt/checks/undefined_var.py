"""DO516 undefined-var: a variable no ARG or ENV before it sets.

What it does
    Reports `$NAME` (or `${NAME}`, `${NAME:-default}`...) in an instruction BuildKit
    expands itself (ENV, ARG defaults, LABEL, COPY, ADD, WORKDIR, USER, VOLUME, STOPSIGNAL,
    a RUN's `--mount` options) when no ARG or ENV earlier in the stage, or in the stage it
    is built FROM, declares NAME. RUN commands, CMD and ENTRYPOINT are left to their shell.

Why
    An unset variable expands to nothing, silently: `COPY $SRC /app` copies the whole
    context, `WORKDIR /opt/$APP` is `/opt/`. The usual cause is an ARG declared before the
    first FROM, which a stage only sees after its own `ARG NAME` (BuildKit UndefinedVar).

Example
    ARG VERSION=1.2
    FROM alpine:3.20
    ENV APP_VERSION=$VERSION        reported: the global ARG needs `ARG VERSION` in the stage
    ENV PATH=/opt/bin:$PATH         not reported: PATH is always set

Why there is no fix
    Whether the variable should be declared (`ARG NAME`), given a value, or is set by the
    base image's own ENV (`$JAVA_HOME` in a JDK image), only the author knows: dockopt does
    not read base images' configurations. That is also why this is `info`: the base image
    may set it, which BuildKit, reading the image, would see.
"""

from __future__ import annotations

import re

from dockopt.checks._variables import looked_up
from dockopt.optimizer.findings import Check, Problem
from dockopt.optimizer.messages import joined
from dockopt.transforms.key_value_format import words as split

# Set in every build: PATH (BuildKit's default environment) and the proxy variables
# Docker passes through without an ARG.
_ALWAYS = frozenset(["PATH"] + [f"{p}_PROXY" for p in ("HTTP", "HTTPS", "FTP", "NO", "ALL")]
                    + [f"{p}_proxy" for p in ("http", "https", "ftp", "no", "all")])
_PLAIN = ("WORKDIR", "USER", "STOPSIGNAL")


def find(dockerfile):
    esc = dockerfile.escape
    defined_after: dict[int, set[str]] = {}
    stages = dockerfile.stages
    for stage in stages:
        parent = dockerfile.lineage(stage)[1:2]
        defined = set(defined_after.get(parent[0].index, ())) if parent else set()
        for ins in stage.instructions:
            words, declares = _expanded(ins, esc)
            missing = []
            for word in words:
                for name in looked_up(word, esc):
                    if name not in defined and name not in _ALWAYS and name not in missing:
                        missing.append(name)
            for name in missing:
                start, end = _where(dockerfile, ins, name)
                yield Problem(start, end, joined(f"${name} is set by no ARG or ENV before this {ins.keyword_text}",
                                                 "unless the base image sets it, it expands to nothing"))
            defined.update(declares)
        defined_after[stage.index] = defined


def _expanded(ins, esc: str) -> tuple[list[str], list[str]]:
    """The words of `ins` BuildKit expands, and the names it declares."""
    kw, args = ins.keyword, ins.args_text
    if kw in ("ENV", "LABEL", "ARG"):
        spans = split(args, esc) or []
        raw = [args[a:b] for a, b in spans]
        if kw != "ARG" and raw and "=" not in raw[0]:
            key = re.split(r"[\t\v\f\r ]+", args, 1)
            return key, key[:1] if kw == "ENV" else []
        pairs = [w.partition("=") for w in raw]
        words = [v for _, eq, v in pairs if eq] if kw == "ARG" else [p for k, _, v in pairs for p in (k, v)]
        return words, [k for k, _, _ in pairs] if kw != "LABEL" else []
    if kw in ("COPY", "ADD"):
        flags = [f.partition("=")[2] for f in ins.flags if f.startswith("--chmod=")]
        return flags + (ins.arguments if ins.json else [args]), []
    if kw == "VOLUME":
        return (ins.arguments if ins.json else [args]), []
    if kw in _PLAIN:
        return [args], []
    if kw == "RUN":
        return [f[len("--mount=") :] for f in ins.flags if f.startswith("--mount=")], []
    return [], []


def _where(dockerfile, ins, name: str) -> tuple[int, int]:
    source = dockerfile.source
    for text in ("${" + name, "$" + name):
        at = source.find(text, ins.start, ins.end)
        if at >= 0:
            return at, at + len(text)
    return ins.content_span()


CHECK = Check(
    id="DO516",
    name="undefined-var",
    title="A variable that no ARG or ENV before it sets",
    why="An unset variable expands to nothing, silently changing paths, users and values.",
    severity="info",
    find=find,
    doc=__doc__,
    buildkit=("UndefinedVar",),
)
