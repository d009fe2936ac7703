"""DO107 workdir-absolute: make a relative WORKDIR absolute.

What it does
    `WORKDIR app` after `WORKDIR /srv` becomes `WORKDIR /srv/app`; on a base image whose
    working directory is known (data/images.json: `golang` starts in `/go`, `alpine` in
    `/`), the first WORKDIR of a stage is resolved against it too. A path in quotes that
    needs none loses them: `WORKDIR "/app"` becomes `WORKDIR /app`.

Why
    A relative WORKDIR depends on every WORKDIR before it, including the base image's; the
    absolute path says where the files go at a glance (hadolint DL3000, BuildKit
    WorkdirRelativePath). BuildKit checks the path as written, so `"/app"` in quotes reads
    to it (and to tools reading the text) as relative, though WORKDIR removes the quotes.

Example
    WORKDIR /usr/src
    WORKDIR app         ->   WORKDIR /usr/src/app

When it is not safe
    Rewritten only when an absolute WORKDIR earlier in the same stage (or the stage it is
    built from), or a sourced fact about the base image, fixes the current folder; after
    a base image's unknown WORKDIR, or with variables, it is left alone. The result is the
    folder BuildKit computes (`WORKDIR .` on an image that sets none is `WORKDIR /`).
    Quotes are removed only around plain paths (no blanks, variables or escapes), which
    read the same without them. Windows paths are left alone.
"""

from __future__ import annotations

import posixpath
import re

from dockopt.optimizer.cwd import base_workdir
from dockopt.optimizer.edits import Edit
from dockopt.optimizer.transform import SAFE, Transform

_PLAIN = re.compile(r"^[A-Za-z0-9_.@+-][A-Za-z0-9_./@+-]*$")
_QUOTED = re.compile(r"""^(["'])(/?[A-Za-z0-9_.@+-][A-Za-z0-9_./@+-]*|/)\1$""")


def fix(dockerfile, context):
    for stage in dockerfile.stages:
        lineage = dockerfile.lineage(stage)
        current = base_workdir(lineage[-1].image)
        for s in reversed(lineage[1:]):
            current = _walk(s.instructions, current, None)
        _walk(stage.instructions, current, edits := [])
        yield from edits


def _walk(instructions, current, edits):
    for ins in instructions:
        if ins.keyword != "WORKDIR":
            continue
        target, written = ins.args_text, ins.args_text
        quoted = _QUOTED.match(target)
        if quoted and not ins.inner_comments:
            target = quoted.group(2)
        if target.startswith("/") and "$" not in target:
            current = posixpath.normpath(target)
            if quoted and edits is not None and not ins.inner_comments:
                start = ins.args_offset()
                edits.append(Edit(start, start + len(written), target, "quotes removed: WORKDIR reads the same path without them"))
        elif current and _PLAIN.match(target) and not ins.inner_comments:
            current = posixpath.normpath(posixpath.join(current, target))
            if edits is not None:
                start = ins.args_offset()
                edits.append(Edit(start, start + len(written), current, f"relative WORKDIR resolved against {posixpath.dirname(current) or '/'}"))
        else:
            current = None
    return current


TRANSFORM = Transform(
    id="DO107",
    name="workdir-absolute",
    title="Make relative WORKDIR paths absolute",
    why="A relative WORKDIR depends on every earlier WORKDIR, the base image's included.",
    safety=SAFE,
    fix=fix,
    doc=__doc__,
    hadolint=("DL3000",),
    buildkit=("WorkdirRelativePath",),
)
