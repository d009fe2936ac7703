"""DO517 from-arg-default: a FROM that names no valid image unless build arguments are given.

What it does
    Expands each FROM's image with the defaults of the ARGs declared before the first FROM
    (and the platform arguments BuildKit always sets), as BuildKit does, and reports the
    FROMs whose result is not an image reference: empty (`ARG BASE` with no default, `FROM
    $BASE`), cut short (`FROM alpine:$TAG` with TAG unset is `alpine:`), or invalid
    (`FROM DIST:SUITE`, `FROM debian:%%SUITE%%`, a template's placeholder).

Why
    `docker build` without `--build-arg` fails on such a file, and BuildKit warns about it
    (InvalidDefaultArgInFrom; a variable no ARG declares at all is also its
    UndefinedArgInFrom). A default makes the Dockerfile build as it is and documents the
    expected value.

Example
    ARG BASE                        reported: FROM $BASE is empty without --build-arg
    FROM $BASE
    ARG TAG=3.20
    FROM alpine:$TAG                not reported: alpine:3.20

Why there is no fix
    The value to default to (which image, which version) is the author's choice; a
    template's placeholder is filled by a script dockopt does not see.
"""

from __future__ import annotations

import re

from dockopt.checks._variables import Expander, Unknown
from dockopt.optimizer.findings import Check, Problem
from dockopt.optimizer.messages import clip, joined
from dockopt.transforms.key_value_format import words as split

# The platform arguments BuildKit sets for every build (their values do not matter here,
# only that they are set and well formed).
_PLATFORM = {"BUILDPLATFORM": "linux/amd64", "BUILDOS": "linux", "BUILDARCH": "amd64", "BUILDVARIANT": "",
             "TARGETPLATFORM": "linux/amd64", "TARGETOS": "linux", "TARGETARCH": "amd64", "TARGETVARIANT": "",
             "TARGETSTAGE": "", "BUILDKIT_SBOM_SCAN_STAGE": ""}

# distribution/reference's grammar, as ParseNormalizedNamed applies it.
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_DOMAIN = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*(?::[0-9]+)?"
_REFERENCE = re.compile(
    rf"(?:(?:{_DOMAIN}|\[[0-9a-fA-F:.]+\](?::[0-9]+)?)/)?{_COMPONENT}(?:/{_COMPONENT})*"
    r"(?::[\w][\w.-]{0,127})?(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?"
)


def valid_reference(ref: str) -> bool:
    """Whether `ref` is an image reference Docker accepts (`alpine`, `ghcr.io/a/b:1@sha256:...`):
    the grammar's repository path is lower case, a registry host may not be."""
    return bool(ref) and not re.fullmatch(r"[a-f0-9]{64}", ref) and _REFERENCE.fullmatch(ref) is not None


def find(dockerfile):
    esc = dockerfile.escape
    env, declared = dict(_PLATFORM), set(_PLATFORM)
    for ins in dockerfile.instructions:
        if ins.keyword == "FROM":
            break
        if ins.keyword != "ARG":
            continue
        for a, b in split(ins.args_text, esc) or []:
            name, eq, value = ins.args_text[a:b].partition("=")
            declared.add(name)
            if eq:
                try:
                    env[name] = Expander(env, esc).expand(value)
                except Unknown:
                    return  # BuildKit gives up on the check too
    names = [s.name.lower() for s in dockerfile.stages if s.name]
    for stage in dockerfile.stages:
        image = stage.image
        if image.lower() in names[: stage.index]:
            continue  # a stage, not an image
        expander = Expander(env, esc)
        try:
            result = expander.expand(image)
        except Unknown:
            continue
        if valid_reference(result):
            continue
        undeclared = [n for n in dict.fromkeys(expander.unset) if n not in declared]
        hint = (f" ({', '.join('$' + n for n in undeclared)} declared by no ARG before the first FROM)" if undeclared
                else " (give the ARG a default)" if expander.unset else "")
        at = dockerfile.source.find(image, stage.from_.start, stage.from_.end)
        start, end = (at, at + len(image)) if at >= 0 else stage.from_.content_span()
        what = "no valid image reference" if result else "an empty image"
        yield Problem(start, end, joined(f"FROM {clip(image)}: the ARGs' defaults leave {what}",
                                         f"it reads `{result}`; `docker build` fails without --build-arg{hint}"))


CHECK = Check(
    id="DO517",
    name="from-arg-default",
    title="A FROM that names no valid image unless build arguments are given",
    why="Without a --build-arg the build fails: the image reference is empty or invalid.",
    severity="warning",
    find=find,
    doc=__doc__,
    buildkit=("InvalidDefaultArgInFrom", "UndefinedArgInFrom"),
)
