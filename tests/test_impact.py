"""The impact summary (dockopt/optimizer/impact.py): what `dockopt fix --diff` says a rewrite
buys. Base-image sizes come from the knowledge base; the cached layers follow Docker's rule
that a stage rebuilds from its first step that reads a changed file.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dockopt.optimizer import images, impact
from dockopt.optimizer.context import BuildContext
from dockopt.optimizer.pipeline import changed_lines, distinct_changes, optimize
from dockopt.transforms import ALL, by_id

FIXTURES = Path(__file__).parent / "fixtures"
SEED = FIXTURES / "stage-split" / "node-pnpm-seed"


def cached(text: str, context: BuildContext | None = None) -> list[str]:
    return [step.text for step in impact.shape(text, context).cached]


def size_of(ref: str) -> images.Size:
    size = images.describe(ref).size
    assert size is not None, f"the knowledge base has a size for {ref}"
    return size


# --------------------------------------------------------------------------- the seed


def test_seed_stage_split_reads_as_the_seed_describes() -> None:
    result = optimize((SEED / "Dockerfile").read_text(), ALL, BuildContext(SEED))
    got = impact.assess(result, BuildContext(SEED))

    assert [(c.id, c.name, c.safety, c.count) for c in got.changes] == [
        ("DO202", "stage-split", "review", 1), ("DO317", "frozen-install", "review", 1),
        ("DO319", "pin-package-manager", "review", 1)]
    assert got.changes[0].why == by_id("DO202").why
    assert (got.before.base.ref, got.after.base.ref) == ("node:20-bookworm", "node:20-alpine")
    assert (got.before.base.size, got.after.base.size) == (size_of("node:20-bookworm"), size_of("node:20-alpine"))
    assert got.size_saved == pytest.approx(size_of("node:20-bookworm").value - size_of("node:20-alpine").value)
    assert (got.before.stages, got.after.stages) == (1, 2)
    install = ["COPY package.json pnpm-lock.yaml ./", "RUN npm install -g pnpm && pnpm install"]
    assert [s.text for s in got.before.cached] == install
    frozen = [install[0], "RUN npm install -g pnpm@8 && pnpm install --frozen-lockfile"]  # DO319, DO317
    assert [(s.stage, s.text) for s in got.after.cached] == [("build", t) for t in frozen]
    assert got.after.split and not got.before.split

    lines = impact.to_lines(got)
    text = "\n".join(lines)
    before, after = size_of("node:20-bookworm"), size_of("node:20-alpine")
    assert f"node:20-bookworm, about {before.value:g} MB compressed -> node:20-alpine, {after.value:g} MB compressed" in text
    assert f"(about {impact.mb_text(before.value - after.value)} smaller)" in text
    assert f"size source: {images.cited(size_of('node:20-alpine').source)}" in text
    assert "stages:      1 -> 2" in text
    assert "[build] COPY package.json pnpm-lock.yaml ./" in text


def test_cache_order_gains_the_install_layer() -> None:
    text = "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci\nCMD [\"node\", \"server.js\"]\n"
    got = impact.assess(optimize(text, [by_id("DO201")], BuildContext(None)))
    assert [c.id for c in got.changes] == ["DO201"]
    assert cached(text) == []
    assert [s.text for s in got.after.cached][-1] == "RUN npm ci"
    assert got.before.base == got.after.base and got.size_saved == 0
    lines = "\n".join(impact.to_lines(got))
    assert "base image:" not in lines and "stages:" not in lines, "an unchanged, unknown base and stage count: nothing to say"
    assert "cached:      0 -> 2 layer(s)" in lines


def test_counts_are_the_listed_changes_one_per_explanation() -> None:
    text = "FROM alpine\nRUN apk add curl\nRUN apk add git\nRUN apk add curl\n"
    result = optimize(text, [by_id("DO311")], BuildContext(None))
    listed = distinct_changes(result)
    got = impact.assess(result)
    assert [c.count for c in got.changes] == [len(listed)]
    assert len(listed) >= 1
    # the same change to three RUNs is listed once, with its three lines
    assert sorted(line for lines in changed_lines(result).values() for line in lines) == [2, 3, 4]


# --------------------------------------------------------------------------- what the cache keeps


@pytest.mark.parametrize(
    "text, kept",
    [
        ("FROM alpine\nCOPY . /src\nRUN make\n", []),
        ("FROM alpine\nCOPY go.mod go.sum ./\nRUN go mod download\nCOPY . .\n", ["COPY go.mod go.sum ./", "RUN go mod download"]),
        ("FROM alpine\nCOPY ./package*.json ./\nRUN npm ci\nCOPY src src\n", ["COPY ./package*.json ./", "RUN npm ci"]),
        ("FROM alpine\nCOPY *.json ./\nRUN true\n", []),  # any JSON file may be source
        ("FROM alpine\nCOPY $APP_FILES ./\nRUN true\n", []),  # unknown: assume the worst
        ("FROM alpine\nADD https://example.com/a.tgz /a.tgz\nCOPY . .\n", ["ADD https://example.com/a.tgz /a.tgz"]),
        ("FROM alpine\nCOPY <<EOF /etc/motd\nhi\nEOF\nCOPY . .\n", ["COPY <<EOF /etc/motd"]),
        ("FROM alpine\nCOPY --from=nginx:1.27 /etc/nginx /etc/nginx\nCOPY . .\n", ["COPY --from=nginx:1.27 /etc/nginx /etc/nginx"]),
        ("FROM alpine\nRUN --mount=type=cache,target=/root/.cache make deps\nRUN --mount=type=bind,target=/src make\n",
         ["RUN --mount=type=cache,target=/root/.cache make deps"]),
        ("FROM alpine\nRUN --mount=target=/src make\n", []),  # a bind mount of the context is the default
        ("FROM python:3.12\nCOPY requirements/prod.txt ./r/\nRUN pip install -r requirements/prod.txt\nCOPY . .\n",
         ["COPY requirements/prod.txt ./r/", "RUN pip install -r requirements/prod.txt"]),
        ("FROM alpine\nENV A=1\nWORKDIR /app\nCOPY . .\n", []),  # only RUN, COPY and ADD make layers
    ],
)
def test_steps_before_the_first_source_read_stay_cached(text: str, kept: list[str]) -> None:
    assert cached(text) == kept


def test_copy_from_a_stage_that_read_the_source_is_rebuilt() -> None:
    text = (
        "FROM golang:1.22 AS build\nCOPY go.mod ./\nRUN go mod download\nCOPY . .\nRUN go build -o /app\n"
        "FROM alpine AS certs\nRUN apk add --no-cache ca-certificates\n"
        "FROM scratch\nCOPY --from=certs /etc/ssl /etc/ssl\nCOPY --from=build /app /app\nCOPY --from=0 /etc/passwd /etc/passwd\n"
    )
    shape = impact.shape(text)
    assert [(s.stage, s.text) for s in shape.cached] == [
        ("build", "COPY go.mod ./"), ("build", "RUN go mod download"),
        ("certs", "RUN apk add --no-cache ca-certificates"),
        (None, "COPY --from=certs /etc/ssl /etc/ssl"),
    ]
    assert shape.layers == 8 and shape.stages == 3 and shape.split
    assert "[stage 2] COPY --from=certs" in impact._steps_text(shape)


def test_a_stage_built_from_one_that_read_the_source_keeps_nothing() -> None:
    text = "FROM node:20 AS deps\nCOPY . .\nRUN npm ci\nFROM deps\nRUN npm prune --prod\n"
    assert cached(text) == []
    text = "FROM node:20 AS deps\nCOPY package.json ./\nRUN npm ci\nFROM deps\nRUN npm prune --prod\n"
    assert cached(text) == ["COPY package.json ./", "RUN npm ci", "RUN npm prune --prod"]


def test_stages_the_final_image_does_not_use_are_not_counted() -> None:
    text = "FROM alpine AS test\nCOPY . .\nRUN make test\nFROM alpine\nRUN apk add --no-cache curl\n"
    shape = impact.shape(text)
    assert [s.text for s in shape.cached] == ["RUN apk add --no-cache curl"]
    assert shape.layers == 1 and not shape.split


def test_run_mounting_a_stage_that_read_the_source_is_rebuilt() -> None:
    text = "FROM alpine AS src\nCOPY . /src\nFROM alpine\nRUN --mount=from=src,target=/s cp -r /s /app\n"
    shape = impact.shape(text)
    assert shape.cached == () and shape.split


# --------------------------------------------------------------------------- base-image sizes


def test_the_base_is_the_root_of_the_final_stage_with_args_expanded() -> None:
    shape = impact.shape("ARG BASE=node:20-alpine\nFROM ${BASE} AS base\nFROM base\nRUN true\n")
    assert shape.base.ref == "${BASE}"
    assert shape.base.size == size_of("node:20-alpine")


def test_unknown_sizes_are_unknown_not_guessed() -> None:
    shape = impact.shape("FROM example.com/team/app:1\n")
    assert shape.base.size is None and shape.base.mb is None
    assert impact.size_text(shape.base) == "size unknown"


def test_scratch_is_empty_and_distroless_tags_share_a_size() -> None:
    assert impact.shape("FROM scratch\n").base.mb == 0
    nonroot = impact.shape("FROM gcr.io/distroless/static-debian13:nonroot\n").base
    assert nonroot.size == size_of("gcr.io/distroless/static-debian13")


def test_sizes_in_mib_are_converted_and_different_measures_not_compared() -> None:
    distroless = size_of("gcr.io/distroless/static-debian13")  # the distroless README: "around 2 MiB"
    debian = size_of("debian:trixie")  # image-sizes.tsv: compressed, in MB
    assert (distroless.unit, distroless.measure) == ("MiB", "unspecified")
    assert (debian.unit, debian.measure) == ("MB", "compressed")
    assert impact.BaseImage("x", distroless).mb == pytest.approx(distroless.value * 1.048576)
    got = impact.assess(optimize("FROM debian:trixie\n", [], BuildContext(None)))
    assert got.size_saved == 0
    mixed = impact.Impact((), impact.shape("FROM debian:trixie\n"), impact.shape("FROM gcr.io/distroless/static-debian13\n"))
    assert mixed.size_saved is None
    assert "smaller" not in "\n".join(impact.to_lines(mixed))
    slim = impact.Impact((), impact.shape("FROM debian:trixie\n"), impact.shape("FROM debian:trixie-slim\n"))
    assert slim.size_saved == pytest.approx(debian.value - size_of("debian:trixie-slim").value)


# --------------------------------------------------------------------------- JSON and totals


def test_to_dict_is_plain_json() -> None:
    result = optimize((SEED / "Dockerfile").read_text(), ALL, BuildContext(SEED))
    data = json.loads(json.dumps(impact.to_dict(impact.assess(result, BuildContext(SEED)))))
    assert data["base_image"]["before"]["size"]["value"] == size_of("node:20-bookworm").value
    assert data["base_image"]["after"]["size"]["source"] == size_of("node:20-alpine").source
    assert data["stages"] == {"before": 1, "after": 2}
    assert data["cached_layers"]["after"]["cached"][0] == {
        "stage": "build", "line": 3, "instruction": "COPY package.json pnpm-lock.yaml ./"
    }
    assert data["cached_layers"]["before"]["cached"][0]["stage"] == 0  # unnamed: its index


def test_totals_sum_changes_and_known_savings() -> None:
    seed = impact.assess(optimize((SEED / "Dockerfile").read_text(), ALL, BuildContext(SEED)), BuildContext(SEED))
    unknown = impact.assess(optimize("FROM node:20\nCOPY . .\nRUN npm ci\n", ALL, BuildContext(None)))
    totals = impact.Totals()
    for one in (seed, seed, unknown, None):
        totals.add(one)
    totals.add(None, error=True)
    assert (totals.files, totals.changed, totals.failed) == (5, 3, 1)
    assert totals.sized == 2 and totals.saved_mb == pytest.approx(2 * seed.size_saved)
    assert totals.sources == [size_of("node:20-bookworm").source, size_of("node:20-alpine").source]
    by = {c.id: c.count for c in totals.by_transform()}
    expected: dict = {}
    for one in (seed, seed, unknown):
        for c in one.changes:
            expected[c.id] = expected.get(c.id, 0) + c.count
    assert by == expected and by["DO202"] == 2 and by["DO201"] == 1

    text = impact.totals_text(totals)
    rows = text.splitlines()[1:]
    counts = [r for r in rows if r.rstrip()[-1:].isdigit() and "size" not in r]
    assert len({len(r) for r in counts}) == 1, "numbers are right-aligned in one column"
    assert f"about {impact.mb_text(2 * seed.size_saved)} in 2 file(s)" in text
    data = impact.totals_dict(totals)
    assert data["size_saved"]["mb"] == pytest.approx(2 * seed.size_saved)
    assert {c["transform"] for c in data["changes"]} == set(by)
