"""DO204 pin-base-tag: give an untagged or `:latest` base image an explicit version tag.

What it does
    `FROM ubuntu` and `FROM node:latest` get the version tag `latest` stands for today in
    the official images (`ubuntu:26.04`, `node:26`), from dockopt's knowledge base.

Why
    `latest` moves: the same Dockerfile builds a different image next month, and a rebuild of
    an old release silently picks up a new major version (hadolint DL3006, DL3007).

Example
    FROM python  ->  FROM python:3.14

When it is not safe
    Always `review`: the tag is the current one in dockopt's snapshot of the official
    manifests; if `latest` has moved since, the pin picks that snapshot's version. Images from
    other registries, stage names, `scratch`, ARG-built references and digests are left alone;
    `dockopt check` reports those it cannot pin.
"""

from __future__ import annotations

from dockopt.optimizer.edits import Edit
from dockopt.optimizer.transform import REVIEW, Transform
from dockopt.transforms.slim_base import base_span


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
        current = images.current_tag(name)
        span = base_span(stage)
        if current is None or span is None:
            continue
        yield Edit(span[0], span[1], f"{name}:{current}", f"{ref} -> {name}:{current}: `latest` today; a moving tag rebuilds differently over time")


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
