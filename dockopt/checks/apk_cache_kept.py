"""DO521 apk-cache-kept: an `apk add` without `--no-cache` that DO311 leaves, and why.

What it does
    Reports an `apk add` with no `--no-cache`, as hadolint does (DL3019), where DO311
    apk-no-cache does not add the flag, and says why: `--no-network` (apk downloads no
    index, so there is none to keep), `--cache-dir` (a cache kept on purpose), or a
    `--mount=type=cache` over apk's cache (it never reaches the image).

Why
    Without the flag apk keeps the package index it downloads in /var/cache/apk, in the
    layer, where nothing uses it again (hadolint DL3019).

Example
    RUN apk add --no-network --virtual .rundeps $runDeps
    reported: `apk add --no-network` downloads no index, so it keeps none

Why there is no fix
    In each case the layer keeps no index already, or keeps it because the Dockerfile asks
    for a cache; `--no-cache` would change nothing the image holds, or undo that choice.
"""

from __future__ import annotations

from dockopt.optimizer.findings import Check, Problem
from dockopt.optimizer.messages import joined


def find(dockerfile):
    from dockopt.transforms.apk_no_cache import left_alone

    for _, cmd, why, (first, detail) in left_alone(dockerfile):
        start, end = cmd.word_span(cmd.assignments)
        # a cache kept on purpose is worth a word (info); no index in the layer at all
        # (--no-network, a cache mount) leaves only hadolint's view of it (style)
        severity = None if why == "--cache-dir" else "style"
        yield Problem(start, cmd.end, joined(f"no --no-cache: {first}", detail), severity=severity)


CHECK = Check(
    id="DO521",
    name="apk-cache-kept",
    title="An apk add without --no-cache that keeps no index, or keeps a cache on purpose",
    why="apk add without --no-cache leaves the package index in the image.",
    severity="info",
    find=find,
    doc=__doc__,
    hadolint=("DL3019",),
)
