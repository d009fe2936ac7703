"""DO204 pin-base-tag: give an untagged or `:latest` base image an explicit version tag.

What it does
    `FROM ubuntu` and `FROM node:latest` get the version tag `latest` stood for in the
    official images (`ubuntu:26.04`, `node:26`) on the date of dockopt's snapshot of their
    manifests, which the message names.

Why
    `latest` moves: the same Dockerfile builds a different image next month, and a rebuild of
    an old release silently picks up a new major version (hadolint DL3006, DL3007).

Example
    FROM python  ->  FROM python:3.14

    Where the knowledge base names no version tag for `latest` (images whose tags do not
    follow the docker-library version convention), the tag comes from the manifest entry
    that lists `latest`: its shortest tag that starts with a version number
    (`fluentd` -> `fluentd:v1.19-1`), else the Debian or Ubuntu release it names
    (`buildpack-deps` -> `buildpack-deps:trixie`); never a rolling name such as `stable`.
    Every tag of that entry named the same image as `latest` on the snapshot's date.

When it is not safe
    Always `review`: the tag is the current one in dockopt's snapshot of the official
    manifests; if `latest` has moved since, the pin picks that snapshot's version. Images from
    other registries, stage names, `scratch`, ARG-built references and digests are left alone;
    `dockopt check` reports those it cannot pin (DO515).
"""

from __future__ import annotations

import re

from dockopt.optimizer.edits import Edit
from dockopt.optimizer.messages import joined
from dockopt.optimizer.transform import REVIEW, Transform
from dockopt.transforms.slim_base import base_span

# Tags that move from release to release, as Debian's suites and docker-library name them.
ROLLING = frozenset("latest stable oldstable oldoldstable testing unstable experimental rolling devel edge".split())
_VERSION = re.compile(r"v?\d")
_PRERELEASE = re.compile(r"rc|ea|alpha|beta|preview|tip", re.IGNORECASE)


def fix(dockerfile, context):
    from dockopt.optimizer import images

    names = {s.name.lower() for s in dockerfile.stages if s.name}
    for stage in dockerfile.stages:
        ref = stage.image
        if ref.lower() in names or "$" in ref or "@" in ref or ref == "scratch":
            continue
        name, _, tag = ref.rpartition(":") if ":" in ref.rsplit("/", 1)[-1] else (ref, "", "")
        if tag not in ("", "latest"):
            continue
        current = pin(name)
        span = base_span(stage)
        if current is None or span is None:
            continue
        date = images.snapshot_date(name)
        yield Edit(span[0], span[1], f"{name}:{current}", joined(
            f"{ref} -> {name}:{current}: what `latest` named {'on ' + date if date else 'in the snapshot'}",
            "A moving tag rebuilds differently over time; the pin comes from dockopt's snapshot of the "
            f"official images' manifests{' (' + date + ')' if date else ''}: check it is still current."))


def pin(name: str) -> str | None:
    """The version tag `latest` of the official image `name` stands for in the snapshot, or
    None (another registry, an image the snapshot lacks, or no tag naming a release)."""
    from dockopt.optimizer import images

    current = images.current_tag(name)
    if current is not None:
        return current
    img = images.describe(name)
    if img.registry != "docker.io" or img.borrowed or img.family not in images.data()["official"]:
        return None
    if not images.describe(f"{name}:latest").in_manifest:
        return None
    return latest_alias(img.family)


def latest_alias(family: str) -> str | None:
    """Another tag of the manifest entry that lists `latest`: the shortest that starts with a
    version number, else a Debian or Ubuntu release name; None when there is neither."""
    from dockopt.optimizer import images

    data = images.data()
    entries = [e for e in data["official"][family]["images"]
               if "latest" in e["tags"] + e.get("shared", []) and not e.get("windows")]
    if not entries:
        return None
    tags = [t for t in entries[0]["tags"] + entries[0].get("shared", [])
            if t not in ROLLING and not _PRERELEASE.search(t)]
    versions = [t for t in tags if _VERSION.match(t)]
    if versions:
        return min(versions, key=lambda t: (len(t), t))
    suites = [t for t in tags if t in data["suites"]]
    return min(suites, key=lambda t: (len(t), t)) if suites else None


TRANSFORM = Transform(
    id="DO204",
    name="pin-base-tag",
    title="Give untagged and :latest base images an explicit version tag",
    why="`latest` moves, so the same Dockerfile builds a different image over time.",
    safety=REVIEW,
    fix=fix,
    doc=__doc__,
    hadolint=("DL3006", "DL3007"),
)
