"""Ignore pragmas silence exactly the rewrites they name, where they name them."""

from __future__ import annotations

import pytest

from dockopt import optimize

BASE = "FROM alpine:3.20\n"


@pytest.mark.parametrize(
    "pragma",
    ["# hadolint ignore=DL3025", "# hadolint ignore=DL3020,DL3025 -- reason", "# dockopt: ignore=DO101",
     "# dockopt: ignore=exec-form", "#hadolint ignore=dl3025"],
)
def test_pragma_above_an_instruction_silences_it(pragma: str) -> None:
    text = BASE + pragma + "\nCMD echo hi\n" + BASE + "CMD echo again\n"
    out = optimize(text, safe_only=True).output
    assert "\nCMD echo hi\n" in out
    assert 'CMD ["echo", "again"]' in out  # the next instruction is not covered


def test_pragma_covers_only_the_next_instruction_and_survives_comments_between() -> None:
    text = BASE + "# hadolint ignore=DL3020\n# why: archives\nADD a /a\nADD b /b\n"
    out = optimize(text).output
    assert "ADD a /a" in out and "COPY b /b" in out


def test_blank_line_ends_a_pragma() -> None:
    text = BASE + "# hadolint ignore=DL3020\n\nADD a /a\n"
    assert "COPY a /a" in optimize(text).output


@pytest.mark.parametrize("pragma", ["# hadolint global ignore=DL3020", "# dockopt: global ignore=DO103"])
def test_global_pragma_silences_the_whole_file(pragma: str) -> None:
    text = pragma + "\n" + BASE + "ADD a /a\nRUN true\nADD b /b\n"
    out = optimize(text).output
    assert "ADD a /a" in out and "ADD b /b" in out


def test_other_rules_are_not_silenced() -> None:
    text = BASE + "# hadolint ignore=DL3008\nADD a /a\n"
    assert "COPY a /a" in optimize(text).output


@pytest.mark.parametrize(
    "directive, kept",
    [
        ("# check=skip=FromAsCasing", "as build"),
        ("# check=skip=JSONArgsRecommended,FromAsCasing", "as build"),
        ("# check = skip = all ; error = true", "as build"),
        ("# check=error=true", "AS build"),
        ("# check=skip=ConsistentInstructionCasing", "AS build"),
    ],
)
def test_buildkit_check_directive_silences_the_transforms_for_those_checks(directive: str, kept: str) -> None:
    # BuildKit's own way to skip its build checks, `# check=skip=...`, is honoured like
    # `# hadolint global ignore=...`, for the transforms that name those checks.
    out = optimize(f"{directive}\nFROM golang:1.22 as build\nRUN go build -o /app .\n").output
    assert f"FROM golang:1.22 {kept}\n" in out


def test_a_check_directive_after_the_first_instruction_is_a_comment() -> None:
    out = optimize("FROM golang:1.22 as build\n# check=skip=FromAsCasing\nRUN true\n").output
    assert "FROM golang:1.22 AS build" in out
