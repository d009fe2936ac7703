"""DO106 stage-names: refer to build stages by name, not by number.

What it does
    `COPY --from=0 /app/dist ./dist` becomes `COPY --from=build /app/dist ./dist`, naming the
    stage (`FROM node:20 AS build`) when it has no name yet; `RUN --mount=...,from=0` too.

Why
    A stage number silently points at another stage as soon as a stage is added or moved
    above it; a name keeps pointing at the right one (hadolint DL3022's advice, Docker's
    multi-stage guide).

Example
    FROM golang:1.22              FROM golang:1.22 AS build
    ...                      ->   ...
    COPY --from=0 /out /          COPY --from=build /out /

When it is not safe
    Always safe: the build is the same. The new name is `build` (or `build-N` when that is
    taken), never one an existing stage or `--from` image already uses. A comment right
    above the FROM (a licence header, even with blank lines between) would read as the
    named stage's description to BuildKit (InvalidDefinitionDescription), so the stage gets
    a line of its own between them: `# build is the stage that --from=build copies files
    from`.
"""

from __future__ import annotations

import re

from dockopt.optimizer.edits import Edit
from dockopt.optimizer.transform import SAFE, Transform
from dockopt.transforms._descriptions import describe


def _fresh_name(taken: set[str], index: int, count: int) -> str:
    base = "build" if count == 1 else f"build-{index}"
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}-{n}"
    return name


_MOUNT_FROM = re.compile(r"--mount=(?:[^\s]*?,)?from=(\d+)(?=[,\s\"']|$)")


def _references(dockerfile):
    """(instruction, offset in its logical line, the text `from=N` or `--from=N`, N) for
    each reference to a stage by number: `COPY --from=0` and `RUN --mount=...,from=0`."""
    for ins in dockerfile.instructions:
        if ins.keyword == "COPY" and re.fullmatch(r"\d+", ins.flag("from") or ""):
            n = ins.flag("from")
            yield ins, ins.line.index(f"--from={n}"), f"--from={n}", int(n)
        if ins.keyword == "RUN":
            for m in _MOUNT_FROM.finditer(ins.line):
                yield ins, m.start(1) - len("from="), f"from={m.group(1)}", int(m.group(1))


def fix(dockerfile, context):
    stages = dockerfile.stages
    taken = {s.name.lower() for s in stages if s.name} | {s.image.lower() for s in stages}
    refs = list(_references(dockerfile))
    unnamed = sorted({n for *_, n in refs if n < len(stages) and not stages[n].name})
    names = {}
    for n in sorted({n for *_, n in refs if n < len(stages)}):
        stage = stages[n]
        if stage.name:
            names[n] = stage.name
            continue
        names[n] = _fresh_name(taken, n, len(unnamed))
        taken.add(names[n])
        end = stage.from_.source_offset(len(stage.from_.line.rstrip()))
        why = f"name stage {n} so COPY --from can refer to it by name"
        line = describe(dockerfile, stage.from_, names[n], f"is the stage that --from={names[n]} copies files from")
        if line:
            yield Edit(stage.from_.start, stage.from_.start, line, why)
        yield Edit(end, end, f" {stage.from_.recased('AS')} {names[n]}", why)
    for ins, at, text, n in refs:
        if n not in names:
            continue
        start = ins.source_offset(at)
        new = text.rsplit("=", 1)[0] + "=" + names[n]  # `from=00` is stage 0 too
        yield Edit(start, start + len(text), new, f"{text} -> {new}: a stage number breaks when stages move")


TRANSFORM = Transform(
    id="DO106",
    name="stage-names",
    title="Refer to build stages by name instead of by number",
    why="A stage number points at another stage as soon as stages are added or moved.",
    safety=SAFE,
    fix=fix,
    doc=__doc__,
)
