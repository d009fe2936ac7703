"""DO107 workdir-absolute: make a relative WORKDIR absolute.

What it does
    `WORKDIR app` after `WORKDIR /srv` becomes `WORKDIR /srv/app`.

Why
    A relative WORKDIR depends on every WORKDIR before it, including the base image's; the
    absolute path says where the files go at a glance (hadolint DL3000).

Example
    WORKDIR /usr/src
    WORKDIR app         ->   WORKDIR /usr/src/app

When it is not safe
    Rewritten only when an absolute WORKDIR earlier in the same stage (or the stage it is
    built from) fixes the current folder; after a base image's unknown WORKDIR, or with
    variables, it is left alone. Windows paths are left alone.
"""

from __future__ import annotations

import posixpath
import re

from dockopt.optimizer.edits import Edit
from dockopt.optimizer.transform import SAFE, Transform

_PLAIN = re.compile(r"^[A-Za-z0-9_.@+-][A-Za-z0-9_./@+-]*$")


def fix(dockerfile, context):
    for stage in dockerfile.stages:
        current = None
        for s in reversed(dockerfile.lineage(stage)[1:]):
            current = _walk(s.instructions, current, None)
        _walk(stage.instructions, current, edits := [])
        yield from edits


def _walk(instructions, current, edits):
    for ins in instructions:
        if ins.keyword != "WORKDIR":
            continue
        target = ins.args_text
        if target.startswith("/") and "$" not in target:
            current = posixpath.normpath(target)
        elif current and _PLAIN.match(target) and not ins.inner_comments:
            current = posixpath.normpath(posixpath.join(current, target))
            if edits is not None:
                start = ins.args_offset()
                edits.append(Edit(start, start + len(target), current, f"relative WORKDIR resolved against {posixpath.dirname(current) or '/'}"))
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
)
