"""DO111 copy-from-image: declare an image that `COPY --from` copies from as a named stage.

What it does
    `COPY --from=composer:2 /usr/bin/composer /usr/bin/composer` copies straight out of an
    image. The image becomes a stage of its own, declared before the stage that uses it,
    and the COPY names that stage:

        FROM php:8.3-fpm                         FROM composer:2 AS composer
        COPY --from=composer:2 /usr/bin/...  ->
                                                 FROM php:8.3-fpm
                                                 COPY --from=composer /usr/bin/...

    Several COPYs of one image share one stage.

Why
    Every image a build pulls is then declared by a FROM line, where readers, scanners and
    update bots (Renovate, Dependabot) look for base images and where the tag is pinned once
    (hadolint DL3022).

Example
    `COPY --from=gloursdocker/docker / /` -> `FROM gloursdocker/docker AS docker` before
    the stage, and `COPY --from=docker / /`.

When it is not safe
    It is `safe`: BuildKit pulls the same image for the target platform either way, and a
    stage that nothing builds FROM is only read by the COPY. The stage goes before the
    using stage (above the comments describing it), so the last stage, the one `docker
    build` produces, stays last; where comments stand above those (BuildKit would read the
    nearest as the new stage's description, InvalidDefinitionDescription), right after the
    instruction before them, or, below a file header only, under a description line of its
    own (`# composer is composer:2, which COPY --from copies files from`). Left alone: `--from` values holding variables, files with
    stage numbers in `--from` (DO106 names those stages first; inserting a stage would
    shift the numbers), and references a stage name already answers.
"""

from __future__ import annotations

import re

from dockopt.optimizer.edits import Edit
from dockopt.optimizer.messages import clip, joined
from dockopt.optimizer.transform import SAFE, Transform
from dockopt.transforms._descriptions import declare_at


def fix(dockerfile, context):
    stages = dockerfile.stages
    stage_names = {s.name.lower() for s in stages if s.name}
    copies = [(s, i) for s in stages for i in s.instructions if i.keyword == "COPY" and i.flag("from") is not None]
    refs = [i.flag("from") for _, i in copies]
    if any(r.isdigit() for r in refs) or _numbered_mounts(dockerfile):
        return
    taken = stage_names | {s.image.lower() for s in stages} | {r.lower() for r in refs}
    declared: dict[str, str] = {}
    for stage, ins in copies:
        image = ins.flag("from")
        if image.lower() in stage_names or "$" in image or not _IMAGE.fullmatch(image):
            continue
        name = declared.get(image)
        why = joined(f"COPY --from={clip(image)} -> a stage that declares the image with FROM",
                     f"the image: {image}" if len(image) > 40 else "")
        if name is None:
            name = declared[image] = _fresh(image, taken)
            taken.add(name)
            declaration = f"{stage.from_.recased('FROM')} {image} {stage.from_.recased('AS')} {name}"
            at, text = declare_at(dockerfile, stage.from_, name, declaration, f"is {image}, which COPY --from copies files from")
            yield Edit(at, at, text, why)
        start = ins.source_offset(ins.line.index(f"--from={image}"))
        yield Edit(start, start + len(f"--from={image}"), f"--from={name}", why)


_IMAGE = re.compile(r"[a-z0-9][a-z0-9._/-]*(?::[\w][\w.-]*)?(?:@sha256:[0-9a-f]{64})?", re.IGNORECASE)


def _fresh(image: str, taken: set[str]) -> str:
    base = re.sub(r"[^a-z0-9_.-]", "-", image.split("@")[0].rsplit("/", 1)[-1].split(":")[0].lower()) or "image"
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}-{n}"
    return name


def _numbered_mounts(dockerfile) -> bool:
    return any(re.search(r"--mount=(?:\S*?,)?from=\d+\b", i.line) for i in dockerfile.instructions if i.keyword == "RUN")


TRANSFORM = Transform(
    id="DO111",
    name="copy-from-image",
    title="Declare images that COPY --from copies from as named stages",
    why="An image declared by FROM is where readers, scanners and update bots look for it, and pinned once.",
    safety=SAFE,
    fix=fix,
    doc=__doc__,
    hadolint=("DL3022",),
    after=("DO106",),
)
