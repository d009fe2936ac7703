"""DO515 base-tag: a base image with no tag or `:latest` that dockopt cannot pin.

What it does
    Reports `FROM image` and `FROM image:latest` when DO204 (pin-base-tag) does not pin it
    in the same run: images from other registries (`ghcr.io/org/app`, `registry:5000/x`),
    official images missing from dockopt's knowledge base, or DO204 switched off
    (`--safe`, `review = false`, `--ignore`). Stage names, `scratch`, digests and
    ARG-built references are left alone.

Why
    `latest` moves: the same Dockerfile builds a different image next month, and a rebuild
    of an old release silently picks up a new major version (hadolint DL3006, DL3007).

Example
    FROM ghcr.io/acme/base           reported: no tag
    FROM ghcr.io/acme/base:latest    reported
    FROM ghcr.io/acme/base:2.4       not reported

Why there is no fix
    Which tags exist, and which one `latest` is today, is known only to the image's
    registry, which dockopt does not contact.
"""

from __future__ import annotations

from dockopt.optimizer.findings import Check, Problem


def find(dockerfile):
    names = {s.name.lower() for s in dockerfile.stages if s.name}
    for stage in dockerfile.stages:
        ref = stage.image
        if not ref or ref.lower() in names or "$" in ref or "@" in ref or ref.lower() == "scratch":
            continue
        last = ref.rsplit("/", 1)[-1]
        tag = last.rpartition(":")[2] if ":" in last else ""
        if tag not in ("", "latest"):
            continue
        at = stage.from_.args_offset()
        found = dockerfile.source.find(ref, at, stage.from_.end)
        start, end = (found, found + len(ref)) if found >= 0 else stage.from_.content_span()
        if tag:
            yield Problem(start, end, f"{ref}: `latest` moves, so rebuilds differ; pin a version tag or a digest",
                          hadolint=("DL3007",))
        else:
            yield Problem(start, end, f"{ref} has no tag, so `latest` is used and rebuilds differ; pin a version tag or a digest",
                          hadolint=("DL3006",))


CHECK = Check(
    id="DO515",
    name="base-tag",
    title="A base image with no tag or :latest that cannot be pinned automatically",
    why="`latest` moves, so the same Dockerfile builds a different image over time.",
    severity="warning",
    find=find,
    doc=__doc__,
    hadolint=("DL3006", "DL3007"),
    fixed_by=("DO204",),
)
