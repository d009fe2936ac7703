"""DO512 copy-relative-dest: COPY or ADD to a relative destination with no WORKDIR set.

What it does
    Reports a COPY or ADD whose destination is a relative path (`COPY app.py app/`,
    `COPY . .`) when no WORKDIR has been set earlier in the stage or in the stages it is
    built on.

Why
    A relative destination is resolved against the working directory the base image
    happens to set, usually `/`, sometimes not: the files land somewhere the Dockerfile
    does not say, and move when the base image changes (hadolint DL3045).

Example
    FROM python:3.13-slim
    COPY . .                      reported

    FROM python:3.13-slim
    WORKDIR /app
    COPY . .                      not reported

Why there is no fix
    The folder the files should go to is the author's choice; a WORKDIR added above
    would also move every later RUN, CMD and relative path of the stage.
"""

from __future__ import annotations

import re

from dockopt.optimizer.findings import Check, Problem
from dockopt.optimizer.messages import joined
from dockopt.optimizer.words import unquote

_ABSOLUTE = re.compile(r"^(/|\$|[A-Za-z]:[\\/])")


def find(dockerfile):
    if dockerfile.escape == "`":
        return
    has_workdir: dict[int, bool] = {}
    for stage in dockerfile.stages:
        chain = dockerfile.lineage(stage)
        workdir = any(has_workdir.get(id(s), False) for s in chain[1:])
        for ins in stage.instructions:
            if ins.keyword == "WORKDIR":
                workdir = True
            elif ins.keyword in ("COPY", "ADD") and not workdir and len(ins.arguments) >= 2:
                raw = ins.arguments[-1]
                dest = raw if ins.json else unquote(raw)
                if not (_ABSOLUTE.match(raw) or _ABSOLUTE.match(dest)):
                    start, end = ins.content_span()
                    yield Problem(start, end, joined(
                        f"{ins.keyword} to {dest!r} with no WORKDIR set",
                        "the files land wherever the base image's working directory is; set WORKDIR or use an absolute path"))
        has_workdir[id(stage)] = workdir


CHECK = Check(
    id="DO512",
    name="copy-relative-dest",
    title="COPY or ADD to a relative destination with no WORKDIR set",
    why="A relative destination lands wherever the base image's working directory happens to be.",
    severity="warning",
    find=find,
    doc=__doc__,
    hadolint=("DL3045",),
)
