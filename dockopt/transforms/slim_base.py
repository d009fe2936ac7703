"""DO203 slim-base: use the smallest variant of the base image that still has what the stage uses.

What it does
    Swaps a full base image for its slim or alpine variant of the same version:
    `FROM python:3.13` becomes `FROM python:3.13-slim` when the stage only copies files and
    installs wheels; `FROM nginx:1.31` becomes `FROM nginx:1.31-alpine`. An ARG-built tag keeps
    its variable: `FROM node:${NODE_VERSION}` becomes `FROM node:${NODE_VERSION}-slim`.

Why
    The default images are built on buildpack-deps and carry compilers, VCS clients and
    hundreds of packages an application does not run with: more to download, store and scan.
    node:20-bookworm is about 380 MB, node:20-alpine about 45 MB (sizes with their sources in
    dockopt/data/images.json; where no source gives a size, none is claimed).

Example
    FROM python:3.13            ->  FROM python:3.13-slim
    COPY app.py /app/
    CMD ["python", "/app/app.py"]

When it is not safe
    The image's contents change, so this is always `review`. The variant must keep what the
    stage uses (see dockopt/optimizer/needs.py): apt-get keeps Debian (slim, never alpine) on
    the same release; bash keeps bash; compilers, git, curl and native package installs (npm,
    yarn, gem) keep the default image; pip installs and binaries copied from other stages keep
    glibc (no alpine). Only official images whose tag is in the current manifests are swapped;
    Windows images, digests, other registries, stage names and unresolvable ARGs are left alone.
"""

from __future__ import annotations

from dockopt.optimizer.edits import Edit
from dockopt.optimizer.messages import joined
from dockopt.optimizer.transform import REVIEW, Transform


def base_span(stage) -> tuple[int, int] | None:
    """Source range of the image reference in a FROM, when it sits on one line as written."""
    ins = stage.from_
    at = ins.args_offset()
    text = ins.text
    offset = at - ins.start
    if text[offset : offset + len(stage.image)] != stage.image:
        return None
    return at, at + len(stage.image)


def _referenced(dockerfile) -> set[int]:
    """Stages other stages build FROM or copy from: what they need is not visible here."""
    stages = dockerfile.stages
    by_name = {s.name.lower(): s.index for s in stages if s.name}
    used = set()
    for stage in stages:
        if stage.image.lower() in by_name:
            used.add(by_name[stage.image.lower()])
        for ins in stage.instructions:
            ref = (ins.flag("from") or "").lower() if ins.keyword in ("COPY", "RUN") else ""
            if ref in by_name:
                used.add(by_name[ref])
            elif ref.isdigit():
                used.add(int(ref))
            for mount in ins.flags if ins.keyword == "RUN" else ():
                for part in mount.split(","):
                    key, _, value = part.partition("=")
                    if key in ("from", "--mount=from") and value.lower() in by_name:
                        used.add(by_name[value.lower()])
    return used


def fix(dockerfile, context):
    from dockopt.optimizer import images
    from dockopt.optimizer.needs import stage_needs

    if dockerfile.escape == "`":
        return
    args = dockerfile.global_args()
    names = {s.name.lower() for s in dockerfile.stages if s.name}
    used = _referenced(dockerfile)
    for stage in dockerfile.stages:
        if stage.image.lower() in names or stage.platform or stage.index in used:
            continue
        span = base_span(stage)
        if span is None:
            continue
        needs = stage_needs(stage, context)
        suggestion = smallest = images.slimmer(stage.image, needs.keys() & images.NEEDS, args)
        if smallest is not None and smallest.variant == "alpine" and not context.musl_ok:
            suggestion = images.slimmer(stage.image, needs.keys() & images.NEEDS | {"glibc"}, args)
        if suggestion is None:
            continue
        size = f" ({suggestion.size.value:g} {suggestion.size.unit})" if suggestion.size else ""
        detail = [f"the {suggestion.variant} variant{size}"]
        kept = ", ".join(f"{n} (line {line})" for n, line in sorted(needs.items(), key=lambda kv: kv[1]) if n != "shell")
        if kept:
            detail.append(f"keeps {kept}")
        if suggestion is not smallest:
            detail.append(f"not alpine: the project prefers {context.base_flavour} images (base-flavour)")
        yield Edit(span[0], span[1], suggestion.ref, joined(f"{stage.image} -> {suggestion.ref}", "\n".join(detail)))


TRANSFORM = Transform(
    id="DO203",
    name="slim-base",
    title="Use the smallest variant of the base image that keeps what the stage uses",
    why="Full images carry compilers and packages the application never runs with.",
    safety=REVIEW,
    fix=fix,
    doc=__doc__,
)
