"""DO115 stage-name-casing: write stage names in lower case, and every reference to them.

What it does
    `FROM golang:1.22 AS Builder` becomes `FROM golang:1.22 AS builder`, and so do the
    places that name the stage: `COPY --from=Builder`, `FROM Builder`, `RUN
    --mount=type=bind,from=Builder`.

Why
    BuildKit lowers stage names when it reads them, so `Builder` and `builder` are one
    stage; a name in capitals suggests otherwise, and BuildKit warns about it
    (StageNameCasing).

Example
    FROM node:20 AS Deps                FROM node:20 AS deps
    ...                           ->    ...
    COPY --from=Deps /app /app          COPY --from=deps /app /app

When it is not safe
    Always safe: BuildKit finds stages by their lower-case name for `--from`, `--mount
    from=` and `--target`, so nothing refers to another stage afterwards. `FROM Builder` is
    the exception: BuildKit does not lower the name a FROM gives before it looks for a
    stage, so a file naming a stage that way fails with "invalid reference format:
    repository name must be lowercase" (measured on Docker 26; docker/compose-cli#1414).
    Lowered, it finds the stage its author meant: no file that built changes. A file where two
    names differ only in case (which BuildKit refuses) is left alone, as are references
    in quotes or variables (they find the stage either way).
"""

from __future__ import annotations

import re

from dockopt.optimizer.edits import Edit
from dockopt.optimizer.transform import SAFE, Transform


def fix(dockerfile, context):
    stages = dockerfile.stages
    names = [s.name for s in stages if s.name]
    if len({n.lower() for n in names}) != len(names):
        return
    # Every stage's name: a reference in capitals is rewritten even where the stage's own
    # name is lower case already (`--from=Base` that DO106 wrote for `--from=0`).
    wrong = {n.lower(): n for n in names}
    if not names or not re.search(r"[A-Z]", dockerfile.source):
        return
    source = dockerfile.source
    for stage in stages:
        if stage.name and stage.name != stage.name.lower():
            tokens = list(re.finditer(r"\S+", stage.from_.line))
            if tokens and tokens[-1].group() == stage.name:
                yield from _edit(stage.from_, tokens[-1].start(), stage.name, source)
        target = stage.image.lower()
        if target in wrong and stage.image != target and stage.index > _index(stages, target):
            tokens = [t for t in list(re.finditer(r"\S+", stage.from_.line))[1:] if not t.group().startswith("--")]
            if tokens and tokens[0].group() == stage.image:
                yield from _edit(stage.from_, tokens[0].start(), stage.image, source)
        for ins in stage.instructions:
            # in the flags only: `RUN echo --from=Base` is the command's text
            for m in re.finditer(r"(?:--from=|--mount=(?:[^\s]*?,)?from=)([^\s,\"'=]+)(?=[,\s]|$)", ins.flags_line):
                if m.group(1).lower() in wrong and m.group(1) != m.group(1).lower():
                    yield from _edit(ins, m.start(1), m.group(1), source)


def _index(stages, name: str) -> int:
    return next(s.index for s in stages if s.name and s.name.lower() == name)


def _edit(ins, at: int, name: str, source: str):
    start = ins.source_offset(at)
    if source[start : start + len(name)] == name:  # else split by a line break: left alone
        why = f"stage name {name} -> {name.lower()}: BuildKit reads stage names in lower case"
        yield Edit(start, start + len(name), name.lower(), why)


TRANSFORM = Transform(
    id="DO115",
    name="stage-name-casing",
    title="Write stage names, and the references to them, in lower case",
    why="BuildKit reads stage names in lower case; capitals suggest a distinction that does not exist.",
    safety=SAFE,
    fix=fix,
    doc=__doc__,
    buildkit=("StageNameCasing",),
)
