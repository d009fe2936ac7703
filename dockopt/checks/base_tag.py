"""DO515 base-tag: a base image with no tag or `:latest` that dockopt cannot pin, and why.

What it does
    Reports `FROM image` and `FROM image:latest` when DO204 (pin-base-tag) does not pin it
    in the same run, and says why no version tag can be chosen:
    - distroless images publish no version tags (`latest`, `nonroot`, `debug` only);
    - images from other registries (`ghcr.io/org/app`, `r.j3ss.co/curl`) and Docker Hub
      images outside the official library (`continuumio/miniconda3`): their tags are
      known only to the registry;
    - official images whose `latest` has no tag naming a release (`clojure`), or that
      dockopt's snapshot of the official images does not list (`centos`);
    - names built from variables (`gcr.io/$PROJECT_ID/app:latest`) and placeholders a
      script fills in (`FROM REPLACE-ME`, `%%IMAGE%%`: not valid image names);
    - DO204 switched off (`--safe`, `review = false`, `--ignore`): the tag it would pin is
      named.
    Stage names, `scratch` and digests are left alone.

Why
    `latest` moves: the same Dockerfile builds a different image next month, and a rebuild
    of an old release silently picks up a new major version (hadolint DL3006, DL3007).

Example
    FROM ghcr.io/acme/base           reported: no tag can be known offline for ghcr.io/...
    FROM ghcr.io/acme/base:latest    reported
    FROM ghcr.io/acme/base:2.4       not reported

Why there is no fix
    Which tags exist, and which one `latest` is today, is known only to the image's
    registry, which dockopt does not contact; a guessed tag may not exist, or name another
    image. A digest (`image@sha256:...`) pins any image: `docker buildx imagetools inspect
    image` prints it.
"""

from __future__ import annotations

import re

from dockopt.optimizer.findings import Check, Problem
from dockopt.optimizer.messages import clip, joined

# Characters no image reference may hold: a name with them is a template's placeholder.
_PLACEHOLDER = re.compile(r"[A-Z%{}<>@!]|^-|-$")


def find(dockerfile):
    names = {s.name.lower() for s in dockerfile.stages if s.name}
    for stage in dockerfile.stages:
        ref = stage.image
        if not ref or ref.lower() in names or "@" in ref or ref.lower() == "scratch":
            continue
        last = ref.rsplit("/", 1)[-1]
        name, tag = (ref[: len(ref) - len(last)] + last.rpartition(":")[0], last.rpartition(":")[2]) if ":" in last \
            else (ref, "")
        if tag not in ("", "latest") or "$" in tag or ("$" in name and not tag):
            continue  # pinned, or a variable may pin it (hadolint leaves `FROM $BASE` alone too)
        at = stage.from_.args_offset()
        found = dockerfile.source.find(ref, at, stage.from_.end)
        start, end = (found, found + len(ref)) if found >= 0 else stage.from_.content_span()
        first, detail = _why(name)
        moving = "`latest` moves, so rebuilds differ over time."
        if tag:
            yield Problem(start, end, joined(f"{clip(ref, 34)}: {first}", f"{moving}\n{detail}"), hadolint=("DL3007",))
        else:
            yield Problem(start, end, joined(f"untagged {clip(ref, 34)}: {first}", f"No tag means `latest`: {moving}\n{detail}"),
                          hadolint=("DL3006",))


def _why(name: str) -> tuple[str, str]:
    """Why no version tag can be chosen for the image `name`: (for the first line, detail)."""
    from dockopt.optimizer import images
    from dockopt.transforms.pin_base_tag import pin

    offline = "Which tags exist is known only to the registry, which dockopt does not contact; pin a digest."
    if "$" in name:
        return "named by a variable, no tag can be known", "The image is named at build time."
    if _PLACEHOLDER.search(name.split("/", 1)[-1] if "." in name.split("/", 1)[0] else name):
        return "a template's placeholder, not an image name", "Not a valid image name: a script fills it in."
    tag = pin(name)
    if tag is not None:
        return f"DO204 pins it to `{clip(tag, 16)}` (review, not run)", (
            "DO204 pin-base-tag is not among the rules that ran (--safe, review = false or --ignore).")
    img = images.describe(name)
    if img.variant == "distroless":
        return "distroless publishes no version tags, pin a digest", (
            "Its tags are latest, nonroot, debug and debug-nonroot (the distroless README).")
    first = name.split("/", 1)[0]
    registry = img.registry or (first if "/" in name and ("." in first or ":" in first) else None)
    if registry and registry != "docker.io":
        return f"no tag can be known offline for {clip(registry, 20)}", offline
    path = name.split("/", 1)[-1] if name.startswith(("docker.io/", "index.docker.io/")) else name
    if "/" in path.removeprefix("library/"):
        return "not an official image, its tags are unknown offline", offline
    if img.family in images.data()["official"]:
        return "no tag beside `latest` names a release", (
            "The official manifest lists `latest` only beside rolling or flavour tags; pin a digest.")
    return "not among the official images dockopt knows", offline


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
