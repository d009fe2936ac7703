"""DO514 root-user: the container runs as root.

What it does
    Looks at the final stage and the stages it is built on: a last `USER` that is root
    (`root`, `0`, `root:group`, `0:0`) is a warning; no `USER` at all is `info`, since the
    container then runs as the base image's user, root for most images. Base images whose
    tag says `nonroot` (distroless) are not reported.

Why
    A process running as root in the container is root on the host's kernel: any escape or
    mounted folder becomes a host root compromise. A dedicated user limits what a bug in
    the service can do (hadolint DL3002, for an explicit root USER).

Example
    FROM python:3.13-slim
    COPY app.py /app/
    USER root                     reported (warning)
    CMD ["python", "/app/app.py"]

    RUN useradd --system app
    USER app                      not reported

Why there is no fix
    For an explicit `USER root`, the author chose root: a user needs creating (with the base
    image's own tool), owning the files it writes and binding no privileged port, and only
    the author can check that the service still works. Where there is no USER at all,
    non-root-user (DO206) adds one when it can tell how, and a stage split (DO202) runs its
    runtime stage as the image's non-root user; this check then stays quiet and speaks only
    where neither can.
"""

from __future__ import annotations

from dockopt.optimizer.findings import Check, Problem
from dockopt.optimizer.messages import joined


def is_root(user: str) -> bool:
    return user in ("root", "0") or user.startswith(("root:", "0:"))


def find(dockerfile):
    if not dockerfile.stages:
        return
    final = dockerfile.stages[-1]
    chain = list(reversed(dockerfile.lineage(final)))
    users = [ins for stage in chain for ins in stage.instructions if ins.keyword == "USER" and ins.arguments]
    if users:
        user = users[-1].arguments[0]
        if is_root(user):
            start, end = users[-1].content_span()
            yield Problem(start, end, f"the last USER is {user}: the container runs as root; switch to an unprivileged user")
    elif "nonroot" not in chain[0].image.lower() and "$" not in chain[0].image:
        start, end = final.from_.content_span()
        yield Problem(start, end, joined("no USER: the container runs as the base image's user",
                                         "root for most images; add an unprivileged USER"), severity="info", hadolint=(),
                      about=(final.from_.start, (final.instructions or [final.from_])[-1].end))


CHECK = Check(
    id="DO514",
    name="root-user",
    title="The container runs as root (a last USER root, or no USER)",
    why="Root in the container is root on the host's kernel when anything goes wrong.",
    severity="warning",
    find=find,
    doc=__doc__,
    hadolint=("DL3002",),
    fixed_by=("DO202", "DO206"),
)
