"""DO113 from-as-casing: write a stage's `AS` in the case of its `FROM`.

What it does
    `FROM golang:1.22 as build` becomes `FROM golang:1.22 AS build`, and `from node as
    deps` keeps its lower case: `as` follows the case its FROM is written in.

Why
    BuildKit warns when the two keywords of one line disagree (FromAsCasing): a Dockerfile
    reads as written by one hand when its keywords share a case.

Example
    FROM python:3.12-slim as base  ->  FROM python:3.12-slim AS base

When it is not safe
    Always safe: keywords are read without regard to case. A FROM written in mixed case
    (`From`) is left to DO114 (instruction-casing) first, as BuildKit only compares `AS`
    with a FROM written all in one case.
"""

from __future__ import annotations

import re

from dockopt.optimizer.edits import Edit
from dockopt.optimizer.transform import SAFE, Transform


def as_word(ins) -> re.Match | None:
    """The `AS` word of a FROM's logical line, when the stage is named."""
    tokens = list(re.finditer(r"\S+", ins.line))[1:]
    tokens = [t for t in tokens if not t.group().startswith("--")]
    words = ins.arguments
    if len(words) >= 3 and len(tokens) >= 3 and tokens[1].group().lower() == "as" and tokens[2].group() == words[2]:
        return tokens[1]
    return None


def fix(dockerfile, context):
    for stage in dockerfile.stages:
        ins = stage.from_
        keyword = ins.keyword_text
        if keyword not in (keyword.lower(), keyword.upper()):
            continue
        word = as_word(ins)
        want = "as" if keyword == keyword.lower() else "AS"
        if word is None or word.group() == want:
            continue
        start = ins.source_offset(word.start())
        if dockerfile.source[start : start + 2] != word.group():
            continue
        yield Edit(start, start + 2, want, f"`{word.group()}` -> `{want}`, the case of `{keyword}` on the same line")


TRANSFORM = Transform(
    id="DO113",
    name="from-as-casing",
    title="Write AS in the case of its FROM",
    why="FROM and AS in different cases on one line read as two hands at work.",
    safety=SAFE,
    fix=fix,
    doc=__doc__,
    buildkit=("FromAsCasing",),
)
