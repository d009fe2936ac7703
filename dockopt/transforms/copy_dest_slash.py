"""DO104 copy-dest-slash: end a multi-source COPY's destination with `/`.

What it does
    `COPY package.json package-lock.json /app` becomes
    `COPY package.json package-lock.json /app/`.

Why
    With more than one source (or a wildcard) the destination must be a folder, and
    Docker requires it to end with `/`; without the slash the build fails or, with a
    wildcard matching one file, silently writes a file named like the folder
    (hadolint DL3021).

Example
    ADD a.txt b.txt /data  ->  ADD a.txt b.txt /data/

When it is not safe
    It is always safe: docker rejects the original whenever it has several sources. A
    destination given by a variable alone is left alone. Windows paths ending in `\\` are
    folders already.
"""

from __future__ import annotations

from dockopt.optimizer.edits import Edit
from dockopt.optimizer.transform import SAFE, Transform


def fix(dockerfile, context):
    for ins in dockerfile.instructions:
        if ins.keyword not in ("COPY", "ADD") or ins.json or ins.heredocs or len(ins.arguments) < 3:
            continue
        dest = ins.arguments[-1]
        if dest.endswith(("/", "\\")) or dest.startswith("$") or any(q in dest for q in "'\""):
            continue
        at = ins.source_offset(len(ins.line.rstrip()))
        if dockerfile.source[at - len(dest) : at] != dest:
            continue  # the destination is split across lines; leave it
        yield Edit(at, at, "/", "several sources: the destination must be a folder ending in /")


TRANSFORM = Transform(
    id="DO104",
    name="copy-dest-slash",
    title="End the destination of a multi-source COPY or ADD with /",
    why="Docker requires a folder destination ending in / when several files are copied.",
    safety=SAFE,
    fix=fix,
    doc=__doc__,
    hadolint=("DL3021",),
)
