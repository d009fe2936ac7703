"""DO118 redundant-platform: drop `--platform=$TARGETPLATFORM` from FROM.

What it does
    `FROM --platform=$TARGETPLATFORM node:20` becomes `FROM node:20`.

Why
    A stage is built for the target platform unless told otherwise, so the flag says what
    the default already does, and readers look for a reason that is not there (BuildKit
    RedundantTargetPlatform). `--platform=$BUILDPLATFORM`, which does change the stage, is
    easier to spot among FROM lines without it.

Example
    FROM --platform=${TARGETPLATFORM} alpine:3.20  ->  FROM alpine:3.20

When it is not safe
    Always safe with BuildKit, which sets TARGETPLATFORM to the platform it builds for.
    Left alone when the file gives TARGETPLATFORM a default of its own (`ARG
    TARGETPLATFORM=linux/amd64`) or the flag's value is anything else.
"""

from __future__ import annotations

import re

from dockopt.optimizer.edits import Edit
from dockopt.optimizer.transform import SAFE, Transform

_FLAG = re.compile(r"--platform=(\$TARGETPLATFORM|\$\{TARGETPLATFORM\})(?=\s)")


def fix(dockerfile, context):
    for ins in dockerfile.instructions:
        if ins.keyword == "ARG" and any(a.startswith("TARGETPLATFORM=") for a in ins.arguments):
            return
    for stage in dockerfile.stages:
        ins = stage.from_
        if ins.flag("platform") not in ("$TARGETPLATFORM", "${TARGETPLATFORM}"):
            continue
        m = _FLAG.search(ins.line)
        if m is None:
            continue
        start, end = ins.source_offset(m.start()), ins.source_offset(m.end() - 1) + 1
        if dockerfile.source[start:end] != m.group():
            continue
        while dockerfile.source[end : end + 1] in (" ", "\t"):  # and the blanks after it on its line
            end += 1
        yield Edit(start, end, "", f"--platform={m.group(1)} removed: a stage is built for the target platform anyway")


TRANSFORM = Transform(
    id="DO118",
    name="redundant-platform",
    title="Drop --platform=$TARGETPLATFORM from FROM",
    why="A stage is built for the target platform by default; the flag only repeats it.",
    safety=SAFE,
    fix=fix,
    doc=__doc__,
    buildkit=("RedundantTargetPlatform",),
)
