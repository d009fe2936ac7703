"""Which build steps BuildKit took from its cache, read from its plain progress output.

BuildKit names each step of a stage `[<stage> <i>/<n>] <instruction>` (the stage's name,
or `stage-<index>`; no name at all when the Dockerfile has one stage), counting the FROM and
the instructions that make a filesystem step (RUN, COPY, ADD, WORKDIR), and prints
`#<vertex> CACHED` for a step it reused:

    #8 [build 4/6] RUN npm ci
    #8 CACHED

`read_steps` maps each step back to the Dockerfile instruction it ran, so a measurement can
say "RUN at line 4: cached" and be compared with what dockopt predicted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dockopt.optimizer.syntax import Dockerfile, Instruction

_HEADER = re.compile(r"^#(\d+) \[(?:(\S+) )?(\d+)/(\d+)\] (.*)$")
_CACHED = re.compile(r"^#(\d+) CACHED\s*$")
_STEP_KEYWORDS = frozenset({"RUN", "COPY", "ADD", "WORKDIR"})


@dataclass(frozen=True)
class Step:
    stage: int  # the stage's index
    keyword: str
    line: int  # the instruction's first line in the Dockerfile
    cached: bool


def read_steps(log: str, tree: Dockerfile) -> list[Step]:
    """The filesystem steps the build ran (FROM excluded), in build order."""
    headers: dict[str, tuple[str | None, int, str]] = {}
    cached: set[str] = set()
    for line in log.splitlines():
        m = _HEADER.match(line)
        if m and m.group(1) not in headers:
            headers[m.group(1)] = (m.group(2), int(m.group(3)), m.group(5))
            continue
        m = _CACHED.match(line)
        if m:
            cached.add(m.group(1))
    steps = []
    for vertex, (stage_key, position, text) in headers.items():
        ins, stage = _instruction(tree, stage_key, position)
        if ins is None or not text.upper().startswith(ins.keyword):
            continue
        steps.append(Step(stage, ins.keyword, ins.start_line, vertex in cached))
    return steps


def _instruction(tree: Dockerfile, stage_key: str | None, position: int) -> tuple[Instruction | None, int]:
    stages = tree.stages
    if stage_key is None:
        stage = stages[0] if len(stages) == 1 else None
    else:
        m = re.fullmatch(r"stage-(\d+)", stage_key)
        stage = next((s for s in stages if s.name and s.name.lower() == stage_key.lower()), None)
        if stage is None and m and int(m.group(1)) < len(stages):
            stage = stages[int(m.group(1))]
    if stage is None or position < 2:
        return None, -1
    made = [ins for ins in stage.instructions if ins.keyword in _STEP_KEYWORDS]
    return (made[position - 2], stage.index) if position - 2 < len(made) else (None, -1)
