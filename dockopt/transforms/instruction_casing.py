"""DO114 instruction-casing: write every instruction keyword in the file's majority case.

What it does
    In a Dockerfile whose instructions are mostly upper case, `run make` becomes `RUN
    make` and `Copy . .` becomes `COPY . .`; in one written mostly in lower case, the
    upper-case ones are lowered. A tie goes to upper case, as BuildKit decides it.

Why
    Keywords in several cases make a file harder to scan and suggest it was pasted
    together; BuildKit warns about every keyword not in the majority case
    (ConsistentInstructionCasing).

Example
    FROM alpine:3.20            FROM alpine:3.20
    run apk add --no-cache git  ->  RUN apk add --no-cache git

When it is not safe
    Always safe: instruction keywords are read without regard to case. The keyword of an
    instruction after ONBUILD is left as it is (BuildKit does not count it).
"""

from __future__ import annotations

from dockopt.optimizer.edits import Edit
from dockopt.optimizer.transform import SAFE, Transform


def majority_lower(dockerfile) -> bool:
    """Whether most keywords written all in one case are lower case (BuildKit's count:
    mixed-case keywords count for neither; a tie is upper case)."""
    lower = upper = 0
    for ins in dockerfile.instructions:
        word = ins.keyword_text
        if word == word.lower():
            lower += 1
        elif word == word.upper():
            upper += 1
    return lower > upper


def fix(dockerfile, context):
    lower = majority_lower(dockerfile)
    for ins in dockerfile.instructions:
        word = ins.keyword_text
        want = word.lower() if lower else word.upper()
        if word == want:
            continue
        start, end = ins.keyword_span()
        if dockerfile.source[start:end] != word:
            continue
        yield Edit(start, end, want, f"{word} -> {want}: the case most instructions in this file are written in")


TRANSFORM = Transform(
    id="DO114",
    name="instruction-casing",
    title="Write instruction keywords in the case most of the file uses",
    why="Keywords in several cases make a Dockerfile harder to scan.",
    safety=SAFE,
    fix=fix,
    doc=__doc__,
    buildkit=("ConsistentInstructionCasing",),
)
