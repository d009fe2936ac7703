"""DO513 healthcheck: a service image with no HEALTHCHECK.

What it does
    Reports a final stage that EXPOSEs a port (so runs a long-lived service) while neither
    it nor the stages it is built on have a HEALTHCHECK. `HEALTHCHECK NONE` counts as a
    decision and is not reported.

Why
    Without a health check, Docker and Swarm only know whether the process is running, not
    whether it answers: a hung server stays "up", restarts do not happen and rolling
    updates route traffic to it. Orchestrators with their own probes (Kubernetes) ignore
    HEALTHCHECK, so this is `info`.

Example
    FROM nginx:1.27-alpine
    EXPOSE 80                     reported
    HEALTHCHECK CMD wget -qO- http://localhost/ || exit 1     (what makes it go away)

Why there is no fix
    Only the author knows what "healthy" means for the service (a URL, a port, a command)
    and which tool the image has to probe it; the base image may also declare one already.
"""

from __future__ import annotations

from dockopt.optimizer.findings import Check, Problem
from dockopt.optimizer.messages import joined


def find(dockerfile):
    if not dockerfile.stages:
        return
    chain = list(reversed(dockerfile.lineage(dockerfile.stages[-1])))
    instructions = [ins for stage in chain for ins in stage.instructions]
    exposes = [ins for ins in instructions if ins.keyword == "EXPOSE"]
    if exposes and not any(ins.keyword == "HEALTHCHECK" for ins in instructions):
        ports = " ".join(w for ins in exposes for w in ins.arguments)
        start, end = exposes[0].content_span()
        yield Problem(start, end, joined(f"the image serves {ports} but has no HEALTHCHECK",
                                         "a hung server stays \"running\"; add one (or HEALTHCHECK NONE when the "
                                         "orchestrator probes it)"))


CHECK = Check(
    id="DO513",
    name="healthcheck",
    title="A service image (EXPOSE) with no HEALTHCHECK",
    why="Without a health check a hung server still counts as running.",
    severity="info",
    find=find,
    doc=__doc__,
)
