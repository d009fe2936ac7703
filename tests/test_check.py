"""`dockopt check`: the checks, the transforms' findings, pragmas, the three formats, the command.

Each check is tested with one-liners, as hadolint tests its rules (`ruleCatches` /
`ruleCatchesNot`): a Dockerfile the check must report, on a given line, and one it must
leave alone. A text without `FROM` gets `FROM debian:12` put in front, so its lines count
from 2. The SARIF output is validated against the SARIF 2.1.0 JSON schema, vendored in
dockopt/data/sarif-schema-2.1.0.json from the `sarif-om` 1.0.4 source distribution on PyPI
(Microsoft, MIT; the file is the schema's 2.1.0-rtm.4 text, which no wheel on PyPI ships).
"""

from __future__ import annotations

import copy
import importlib
import json
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

import dockopt.checks as checks_package
from dockopt.checks import ALL as CHECKS
from dockopt.checks import UnknownCheck, by_id
from dockopt.optimizer.context import BuildContext
from dockopt.optimizer.findings import (
    SEVERITIES,
    Check,
    at_least,
    check_text,
    find,
    to_json,
    to_sarif,
    to_text,
)
from dockopt.optimizer.messages import joined
from dockopt.optimizer.pipeline import optimize
from dockopt.optimizer.transform import Transform
from dockopt.rules import UnknownRule, choose_rules
from dockopt.transforms import ALL as TRANSFORMS
from dockopt.transforms import REGISTRY
from helpers import dockopt, write

SCHEMA = json.loads((Path(checks_package.__file__).parents[1] / "data" / "sarif-schema-2.1.0.json").read_text())
MODULES = sorted(m.name for m in pkgutil.iter_modules(checks_package.__path__) if not m.name.startswith("_"))
SECTIONS = ("What it does", "Why", "Example", "Why there is no fix")
TRACEBACK = b"Traceback"


def dockerfile(text: str) -> str:
    return (text if text.lstrip().upper().startswith("FROM") else "FROM debian:12\n" + text) + "\n"


def problems(check_id: str, text: str):
    return find(dockerfile(text), [], [by_id(check_id)])


# --------------------------------------------------------------------------- registry


def test_every_check_module_is_registered() -> None:
    assert MODULES and CHECKS
    for name in MODULES:
        module = importlib.import_module(f"dockopt.checks.{name}")
        check = getattr(module, "CHECK", None)
        assert isinstance(check, Check), f"dockopt/checks/{name}.py declares no CHECK"
        assert check in CHECKS, f"dockopt/checks/{name}.py is missing from dockopt.checks.ALL"
        assert check.doc == module.__doc__
    assert {c.find.__module__ for c in CHECKS} == {f"dockopt.checks.{name}" for name in MODULES}


def test_ids_and_names_are_unique_well_formed_and_apart_from_the_transforms() -> None:
    ids = [r.id for r in (*REGISTRY, *CHECKS)]
    names = [r.name for r in (*REGISTRY, *CHECKS)]
    assert len(set(ids)) == len(ids) and len(set(names)) == len(names)
    for c in CHECKS:
        assert re.fullmatch(r"DO5\d\d", c.id), c.id
        assert re.fullmatch(r"[a-z][a-z0-9]*(-[a-z0-9]+)*", c.name), c.name
        assert c.severity in SEVERITIES
        assert c.title.strip() and "\n" not in c.title and c.why.strip() and "\n" not in c.why
        assert all(re.fullmatch(r"DL\d{4}", h) for h in c.hadolint), c.hadolint
        assert all(re.fullmatch(r"[A-Z][A-Za-z]+", b) for b in c.buildkit), c.buildkit
        assert all(any(t.id == f for t in TRANSFORMS) for f in c.fixed_by), c.fixed_by


@pytest.mark.parametrize("check", CHECKS, ids=[c.id for c in CHECKS])
def test_documentation_has_every_section(check: Check) -> None:
    doc = check.doc or ""
    assert doc.splitlines()[0].startswith(f"{check.id} {check.name}:")
    positions = []
    for section in SECTIONS:
        match = re.search(rf"^{re.escape(section)}\s*$", doc, re.MULTILINE)
        assert match, f"{check.id}: no {section!r} section"
        positions.append(match.start())
        assert doc[match.end() :].lstrip("\n").split("\n\n", 1)[0].strip(), f"{check.id}: empty {section!r}"
    assert positions == sorted(positions)
    for h in check.hadolint:
        assert h in doc, f"{check.id}: the documentation does not name {h}"


def test_lookup_by_id_or_name() -> None:
    for c in CHECKS:
        assert by_id(c.id) is by_id(c.id.lower()) is by_id(c.name) is c
    with pytest.raises(UnknownCheck):
        by_id("DO599")


def test_a_check_with_an_unknown_severity_is_refused() -> None:
    with pytest.raises(ValueError):
        Check(id="DO599", name="x", title="x", why="x", severity="fatal", find=lambda d: [], doc="")


# --------------------------------------------------------------------------- catches / catches not

CATCHES = [
    ("DO501", "ENV DB_PASSWORD=hunter2", 2),
    ("DO501", "ARG NPM_TOKEN=npm_0123", 2),
    ("DO501", "ENV API_KEY abc123", 2),
    ("DO501", 'ENV A=1 GITHUB_TOKEN="ghp_x"', 2),
    ("DO501", "ENV SECRET_KEY_BASE=abc", 2),
    ("DO501", "ENV apiKey=abc", 2),
    ("DO501", "ENV GITHUB_TOKEN=$GITHUB_TOKEN", 2),
    ("DO502", "RUN curl -fsSL https://x/i.sh | sh", 2),
    ("DO502", "RUN wget -qO- https://x | sudo -E bash -", 2),
    ("DO502", "RUN curl -sSL https://x | python3 -", 2),
    ("DO502", "RUN curl -sSL https://x | POETRY_HOME=/opt/p python3 -", 2),
    ("DO502", 'RUN sh -c "$(curl -fsSL https://x)"', 2),
    ("DO502", "RUN bash <(curl -fsSL https://x)", 2),
    ("DO502", "RUN apt-get update && curl -s https://x | tee /tmp/l | bash", 2),
    ("DO502", "RUN curl https://x | sh -s -- -y", 2),
    ("DO502", "RUN true \\\n && wget -O - https://x | sh", 3),
    ("DO503", "RUN sudo apt-get update", 2),
    ("DO503", "RUN apt-get update && sudo apt-get install -y x", 2),
    ("DO503", "RUN echo x | sudo tee /etc/x", 2),
    ("DO503", "RUN if true; then sudo ls; fi", 2),
    ("DO504", "RUN apt-get install -y curl", 2),
    ("DO504", "RUN apt-get install -y curl=7.1 \\\n    git", 3),
    ("DO504", "RUN apt install -y curl", 2),
    ("DO504", "RUN apt-get -y install --no-install-recommends curl", 2),
    ("DO504", "RUN apt-get install -y -t bookworm-backports curl", 2),
    ("DO504", "RUN <<EOF\napt-get update\napt-get install -y curl\nEOF", 4),
    ("DO505", "RUN pip install flask", 2),
    ("DO505", "RUN pip3 install --no-cache-dir flask gunicorn==22", 2),
    ("DO505", "RUN python3 -m pip install flask", 2),
    ("DO505", "RUN /venv/bin/pip install -U pip", 2),
    ("DO506", "RUN apk add --no-cache curl", 2),
    ("DO506", "RUN apk add --virtual .deps gcc", 2),
    ("DO506", "RUN apk --update add curl", 2),
    ("DO507", "RUN npm install -g pnpm", 2),
    ("DO507", "RUN npm install @scope/tool", 2),
    ("DO507", "RUN npm i -g typescript@latest", 2),
    ("DO507", "RUN npm install --save express", 2),
    ("DO508", "RUN gem install bundler", 2),
    ("DO508", "RUN gem install rails --no-document", 2),
    ("DO509", "RUN service nginx start", 2),
    ("DO509", "RUN ps aux", 2),
    ("DO509", "RUN sudo kill 1", 2),
    ("DO509", "RUN vim /etc/x", 2),
    ("DO509", "RUN ssh host true", 2),
    ("DO510", "RUN apt-get install -y vim", 2),
    ("DO510", "RUN apk add --no-cache openssh-server sudo", 2),
    ("DO510", "RUN yum install -y vim-enhanced", 2),
    ("DO510", "RUN apt-get install -y nano=7.2-1", 2),
    ("DO510", "FROM debian:12 AS base\nRUN apt-get install -y vim\nFROM base\nRUN true", 2),
    ("DO511", "RUN cd /app && make", 2),
    ("DO511", "RUN cd src; make", 2),
    ("DO511", "RUN cd /usr/src/app \\\n && make", 2),
    ("DO511", "RUN make && cd / && ls", 2),
    ("DO511", "RUN (cd /x && make)", 2),
    ("DO511", "RUN cd $HOME && ls", 2),
    ("DO512", "COPY app.py app/", 2),
    ("DO512", "COPY . .", 2),
    ("DO512", 'COPY ["a", "b/"]', 2),
    ("DO512", "ADD --chown=app x.tar.gz vendor/", 2),
    ("DO512", "COPY --from=build /app/server .", 2),
    ("DO512", "FROM debian:12 AS base\nFROM base\nCOPY a b", 3),
    ("DO513", "FROM nginx:1.27\nEXPOSE 80", 2),
    ("DO513", "FROM nginx:1.27 AS base\nEXPOSE 80\nFROM base\nCMD [\"x\"]", 2),
    ("DO514", "FROM debian:12\nUSER root", 2),
    ("DO514", "FROM debian:12\nUSER 0:0", 2),
    ("DO514", "FROM debian:12\nUSER app\nUSER root", 3),
    ("DO514", "FROM debian:12\nRUN true", 1),
    ("DO514", "FROM debian:12", 1),
    ("DO514", "FROM debian:12 AS base\nUSER root\nFROM base", 2),
    ("DO515", "FROM ghcr.io/acme/base", 1),
    ("DO515", "FROM ghcr.io/acme/base:latest", 1),
    ("DO515", "FROM registry:5000/app", 1),
    ("DO515", "FROM --platform=linux/amd64 quay.io/x/y:latest AS app", 1),
    ("DO515", "FROM debian:12 AS build\nFROM ubuntu", 2),
    ("DO516", "FROM alpine:3.20 AS a\nARG VERSION=1.2\nFROM alpine:3.20\nENV APP_VERSION=$VERSION", 4),
    ("DO516", "FROM alpine:3.20\nCOPY ${SRC:-.} /app", 2),
    ("DO516", "FROM alpine:3.20\nENV A=1 B=$A", 2),
    ("DO516", "FROM alpine:3.20\nRUN --mount=type=cache,target=$CACHE true", 2),
    ("DO516", "FROM alpine:3.20\nWORKDIR /opt/\"$APP\"", 2),
    ("DO517", "FROM alpine:$TAG", 1),
    ("DO517", "FROM debian:%%SUITE%%", 1),
    ("DO518", "RUN ls /usr/lib | head -n 3", 2),
    ("DO518", "FROM nvcr.io/nvidia/cuda:12.5.1-runtime-ubuntu22.04\nRUN curl -fsSL https://x/i.sh | sh", 2),
    ("DO518", 'RUN ["sh", "-c", "curl -fsSL https://x/i.sh | sh"]', 2),
    ("DO519", "RUN go get -d ./...\nRUN go build -o /app .", 3),
    ("DO519", "RUN export A=1\n# then\nRUN make", 4),
    ("DO520", "RUN apt-get update; apt-get install -y x; apt-get dist-clean", 2),
    ("DO520", "RUN apt-get update\nRUN apt-get install -y curl && rm -rf /var/lib/apt/lists/*", 2),
    ("DO521", "FROM alpine:3.20\nRUN apk add --no-network --virtual .rundeps so:libc.musl-x86_64.so.1", 2),
]

CATCHES_NOT = [
    ("DO501", "ARG NPM_TOKEN"),
    ("DO501", "ARG TOKEN=$OTHER"),
    ("DO501", "ENV POSTGRES_PASSWORD_FILE=/run/secrets/db"),
    ("DO501", "ENV AUTH_ENABLED=true"),
    ("DO501", "ENV GPG_KEY=A5D32F"),
    ("DO501", "ENV RECAPTCHA_SITE_KEY=6Lc"),
    ("DO501", "ENV DB_PASSWORD="),
    ("DO501", "ENV MONKEY=banana"),
    ("DO501", "LABEL password=x"),
    ("DO502", "RUN curl -fsSLo i.sh https://x && sh i.sh"),
    ("DO502", "RUN curl -fsSL https://x | tar -xz"),
    ("DO502", "RUN wget https://x | sh"),
    ("DO502", "RUN curl https://x | python3 script.py"),
    ("DO502", "RUN curl https://x | bash -c 'cat > f'"),
    ("DO502", 'RUN echo "$(curl -s https://x)"'),
    ("DO502", "FROM mcr.microsoft.com/windows/servercore:ltsc2022\nRUN curl https://x | sh"),
    ("DO502", 'FROM debian:12\nSHELL ["pwsh", "-Command"]\nRUN curl https://x | sh'),
    ("DO503", "RUN apt-get install -y sudo"),
    ("DO503", "RUN echo sudo"),
    ("DO503", "RUN visudo -c"),
    ("DO504", "RUN apt-get install -y curl=7.88.1"),
    ("DO504", "RUN apt-get install -y ./pkg.deb"),
    ("DO504", "RUN apt-get install -y curl/bookworm-backports"),
    ("DO504", "RUN apt-get install -y $PACKAGES"),
    ("DO504", "RUN apt-get update"),
    ("DO504", "RUN apt-get install -y -o Dpkg::Options::=--force-confold curl=1"),
    ("DO504", "RUN apt-get install -y 'android-tools*'"),
    ("DO505", "RUN pip install flask==3.1"),
    ("DO505", "RUN pip install 'flask>=3'"),
    ("DO505", "RUN pip install -r requirements.txt"),
    ("DO505", "RUN pip install ."),
    ("DO505", "RUN pip install -e ."),
    ("DO505", "RUN pip install dist/app-1.0-py3-none-any.whl"),
    ("DO505", "RUN pip install -c constraints.txt flask"),
    ("DO505", "RUN pip install git+https://x/y@v1"),
    ("DO505", "RUN pip install --index-url https://x flask==1"),
    ("DO505", "RUN pipx install black"),
    ("DO506", "RUN apk add --no-cache curl=8.9.1-r0"),
    ("DO506", "RUN apk add curl~8.9"),
    ("DO506", "RUN apk add --virtual .deps gcc=13.2"),
    ("DO506", "RUN apk update"),
    ("DO506", "RUN apk add ./local.apk"),
    ("DO507", "RUN npm install"),
    ("DO507", "RUN npm ci"),
    ("DO507", "RUN npm install -g pnpm@9.15.0"),
    ("DO507", "RUN npm install @scope/tool@1.2.3"),
    ("DO507", "RUN npm install ./local"),
    ("DO507", "RUN npm install github:user/repo"),
    ("DO507", "RUN npm install user/repo"),
    ("DO507", "RUN npm install ./x.tgz"),
    ("DO508", "RUN gem install bundler -v 2.5.22"),
    ("DO508", "RUN gem install bundler:2.5.22"),
    ("DO508", "RUN gem install ./x.gem"),
    ("DO508", "RUN gem install bundler --version=2.5"),
    ("DO509", "RUN apt-get install -y procps"),
    ("DO509", "RUN echo ps"),
    ("DO509", "RUN command -v ps"),
    ("DO510", "RUN apt-get install -y openssh-client"),
    ("DO510", "RUN apt-get install -y curl"),
    ("DO510", "FROM debian:12 AS build\nRUN apt-get install -y vim\nFROM alpine:3.20\nCOPY --from=build /x /x"),
    ("DO511", "RUN make -C /app"),
    ("DO511", "RUN echo cd /app"),
    ("DO512", "COPY app.py /app/"),
    ("DO512", "WORKDIR /app\nCOPY . ."),
    ("DO512", "COPY a $DEST"),
    ("DO512", "FROM debian:12 AS base\nWORKDIR /src\nFROM base\nCOPY a b"),
    ("DO512", "COPY a C:\\app"),
    ("DO513", "FROM nginx:1.27\nEXPOSE 80\nHEALTHCHECK CMD curl -f http://localhost/"),
    ("DO513", "FROM nginx:1.27\nEXPOSE 80\nHEALTHCHECK NONE"),
    ("DO513", "FROM golang:1.23 AS build\nEXPOSE 80\nFROM alpine:3.20\nCMD [\"x\"]"),
    ("DO513", "FROM debian:12\nCMD [\"x\"]"),
    ("DO514", "FROM debian:12\nUSER app"),
    ("DO514", "FROM debian:12\nUSER root\nRUN x\nUSER app"),
    ("DO514", "FROM gcr.io/distroless/static-debian12:nonroot"),
    ("DO514", "FROM debian:12 AS b\nUSER app\nFROM b"),
    ("DO514", "FROM debian:12 AS build\nUSER root\nFROM alpine:3.20\nUSER app"),
    ("DO514", "FROM debian:12\nUSER $APP_USER"),
    ("DO515", "FROM ghcr.io/acme/base:2.4"),
    ("DO515", "FROM scratch"),
    ("DO516", "FROM alpine:3.20\nARG VERSION\nENV APP_VERSION=$VERSION PATH=/opt/bin:$PATH"),
    ("DO516", "FROM alpine:3.20 AS base\nENV HOME=/srv\nFROM base\nWORKDIR $HOME"),
    ("DO516", "FROM alpine:3.20\nENV A='$B' C=\\$D\nRUN echo $UNSET\nCMD echo $UNSET"),
    ("DO516", "FROM alpine:3.20\nENV NO_PROXY=$no_proxy"),
    ("DO517", "FROM --platform=$BUILDPLATFORM golang:1.22-${TARGETOS:-linux} AS build\nFROM build"),
    ("DO515", "FROM ghcr.io/acme/base@sha256:" + "a" * 64),
    ("DO515", "FROM ${BASE}"),
    ("DO515", "FROM debian:12 AS build\nFROM build"),
    ("DO515", "FROM registry:5000/app:1.0"),
    ("DO518", "RUN curl -fsSL https://x/i.sh | sh"),
    ("DO518", 'SHELL ["/bin/bash", "-o", "pipefail", "-c"]\nRUN ls /usr/lib | head -n 3'),
    ("DO518", 'FROM mcr.microsoft.com/windows/servercore:ltsc2022\nSHELL ["powershell", "-Command"]\nRUN dir | more'),
    ("DO519", "RUN mkdir /app\nRUN pip install flask && pip check"),  # a chain: DL3059 leaves it too
    ("DO519", "RUN mkdir /x && chmod 700 /x\nRUN chown nobody /x"),
    ("DO520", "RUN apt-get update && apt-get install -y curl"),
    ("DO520", "RUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*"),
    ("DO521", "FROM alpine:3.20\nRUN apk add curl"),
    ("DO521", "FROM alpine:3.20\nRUN apk add --no-cache curl"),
]


@pytest.mark.parametrize("check_id, text, line", CATCHES, ids=[f"{c}-{i}" for i, (c, _, _) in enumerate(CATCHES)])
def test_catches(check_id: str, text: str, line: int) -> None:
    found = problems(check_id, text)
    assert found, f"{check_id} missed:\n{dockerfile(text)}"
    assert found[0].line == line
    assert {f.id for f in found} == {check_id} and not any(f.fixable for f in found)


@pytest.mark.parametrize("check_id, text", CATCHES_NOT, ids=[f"{c}-{i}" for i, (c, _) in enumerate(CATCHES_NOT)])
def test_catches_not(check_id: str, text: str) -> None:
    assert problems(check_id, text) == []


def test_every_check_has_cases_both_ways() -> None:
    assert {c for c, _, _ in CATCHES} == {c.id for c in CHECKS} == {c for c, _ in CATCHES_NOT}


# --------------------------------------------------------------------------- what a finding says


def test_a_finding_covers_the_offending_words() -> None:
    text = "FROM debian:12\nRUN apt-get install -y curl=7.1 git vim\n"
    [finding] = find(text, [], [by_id("DO504")])
    assert "git, vim" in finding.message and "curl" not in finding.message
    assert (finding.line, finding.column, finding.end_line, finding.end_column) == (2, 33, 2, 40)
    assert text.splitlines()[1][finding.column - 1 : finding.end_column - 1] == "git vim"


@pytest.mark.parametrize(
    "check_id, text, severity, hadolint",
    [
        ("DO501", "ENV DB_PASSWORD=hunter2", "error", ("DL3064",)),
        ("DO501", "ENV DB_PASSWORD=$DB_PASSWORD", "warning", ("DL3064",)),
        ("DO514", "FROM debian:12\nUSER root", "warning", ("DL3002",)),
        ("DO514", "FROM debian:12\nRUN true", "info", ()),
        ("DO515", "FROM ghcr.io/a/b", "warning", ("DL3006",)),
        ("DO515", "FROM ghcr.io/a/b:latest", "warning", ("DL3007",)),
    ],
)
def test_a_problem_may_set_its_own_severity_and_hadolint_ids(check_id: str, text: str, severity: str, hadolint: tuple) -> None:
    [finding] = problems(check_id, text)
    assert (finding.severity, finding.hadolint) == (severity, hadolint)


def test_buildkit_ids_are_named() -> None:
    [finding] = problems("DO501", "ENV DB_PASSWORD=hunter2")
    assert finding.buildkit == ("SecretsUsedInArgOrEnv",)


def test_a_check_names_every_buildkit_rule_it_answers_for() -> None:
    [undefined] = problems("DO516", "FROM alpine:3.20\nUSER $APP_UID")
    assert (undefined.buildkit, undefined.severity) == (("UndefinedVar",), "info")
    [empty] = find("ARG BASE\nFROM $BASE\n", [], [by_id("DO517")])
    assert empty.buildkit == ("InvalidDefaultArgInFrom", "UndefinedArgInFrom") and "empty" in empty.message
    [undeclared] = problems("DO517", "FROM alpine:$TAG")
    assert "$TAG declared by no ARG" in undeclared.detail


@pytest.mark.parametrize("text, lines", [
    ("ARG BASE\nFROM $BASE\n", [2]),
    ("ARG DIST=Debian\nFROM $DIST:12\n", [2]),
    ("ARG TAG=3.20\nFROM alpine:$TAG\n", []),
    ("ARG REGISTRY=ghcr.io\nARG IMAGE=${REGISTRY}/acme/app\nFROM $IMAGE@sha256:" + "0" * 64 + "\n", []),
    ("ARG TAG\nFROM alpine:${TAG:-3.20}\n", []),
])
def test_from_arg_default_expands_the_global_args(text: str, lines: list) -> None:
    assert [f.line for f in find(text, [], [by_id("DO517")])] == lines


def test_severity_order() -> None:
    assert at_least("error", "warning") and at_least("warning", "warning") and at_least("info", "style")
    assert not at_least("info", "warning") and not at_least("style", "info")


# --------------------------------------------------------------------------- transforms' findings

SAMPLE = "FROM python:3.12-slim\nMAINTAINER Jane <jane@example.com>\nCOPY . /app\nCMD python /app/main.py\n"


def test_transform_findings_are_what_fix_changes() -> None:
    found = find(SAMPLE, TRANSFORMS, [])
    assert {f.id for f in found} == {c.transform.id for c in optimize(SAMPLE, TRANSFORMS).changes}
    maintainer = next(f for f in found if f.id == "DO102")
    assert (maintainer.line, maintainer.column, maintainer.fixable, maintainer.safety) == (2, 1, True, "safe")
    assert maintainer.hadolint == ("DL4000",) and maintainer.severity == "warning"
    assert maintainer.message == next(c.explanation for c in optimize(SAMPLE, TRANSFORMS).changes if c.transform.id == "DO102")


def test_each_instruction_a_transform_changes_is_one_finding() -> None:
    text = "FROM alpine:3.20\nMAINTAINER a\nFROM alpine:3.20\nMAINTAINER b\n"
    assert [f.line for f in find(text, TRANSFORMS, []) if f.id == "DO102"] == [2, 4]


def test_a_move_is_one_finding_on_the_instruction_it_starts_at() -> None:
    folder = Path(__file__).parent / "fixtures" / "cache-order" / "npm-build-chain"
    text = (folder / "Dockerfile").read_text()
    found = [f for f in find(text, TRANSFORMS, [], BuildContext(folder)) if f.id == "DO201"]
    assert len(found) == 1
    copy_line = text.splitlines().index("COPY . .") + 1
    assert (found[0].line, found[0].end_line) == (copy_line, copy_line + 1)


def test_safe_only_leaves_out_review_transforms_and_the_check_steps_in() -> None:
    text = "FROM ubuntu\n"
    everything = [c for c in CHECKS if c.id == "DO515"]
    assert [f.id for f in find(text, TRANSFORMS, everything)] == ["DO204"]
    assert [f.id for f in find(text, TRANSFORMS, everything, safe_only=True)] == ["DO515"]
    assert [f.id for f in find(text, [t for t in TRANSFORMS if t.id != "DO204"], everything)] == ["DO515"]


def test_transform_pragmas_are_honoured() -> None:
    assert [f for f in find("FROM alpine:3.20\n# hadolint ignore=DL4000\nMAINTAINER a\n", TRANSFORMS, []) if f.id == "DO102"] == []


def test_crashes_are_reported_as_dockopt_bugs() -> None:
    def boom(tree, context=None):
        raise RuntimeError("boom")

    transform = Transform(id="DO999", name="boom", title="t", why="w", safety="safe", fix=boom, doc="")
    check = Check(id="DO599", name="boom", title="t", why="w", severity="info", find=boom, doc="")
    for transforms, checks, name in (([transform], [], "DO999"), ([], [check], "DO599")):
        report = check_text(SAMPLE, transforms, checks)
        assert report.findings == [] and report.error.startswith("1:1: internal error")
        assert name in report.error and "dockopt bug" in report.error
    assert check_text("FROM alpine\nRUNN x\n", [], CHECKS).error == "2:1: unknown instruction: RUNN"


def test_no_check_crashes_on_the_corpus(corpus_file: Path) -> None:
    try:
        text = corpus_file.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        pytest.skip("not UTF-8")
    report = check_text(text, TRANSFORMS, CHECKS, path=corpus_file.name)
    assert report.error is None or "internal error" not in report.error, report.error
    lines = text.count("\n") + 1
    for f in report.findings:
        assert 1 <= f.line <= f.end_line <= lines and f.column >= 1, f
        assert f.line < f.end_line or f.column <= f.end_column, f


# --------------------------------------------------------------------------- pragmas


@pytest.mark.parametrize(
    "pragma, silenced",
    [
        ("# hadolint ignore=DL3008", {"DO504"}),
        ("# hadolint ignore=DL3008,DL3004 -- pinned by the base digest", {"DO504", "DO503"}),
        ("# dockopt: ignore=apt-pin", {"DO504"}),
        ("# dockopt: ignore=DO510", {"DO510"}),
        ("# hadolint ignore=DL3013", set()),
    ],
)
def test_check_pragmas(pragma: str, silenced: set) -> None:
    chosen = [by_id(i) for i in ("DO503", "DO504", "DO510")]
    text = f"FROM debian:12\n{pragma}\nRUN sudo apt-get install -y vim\nRUN apt-get install -y vim\n"
    found = find(text, [], chosen)
    assert {f.id for f in found if f.line == 3} == {"DO503", "DO504", "DO510"} - silenced
    assert {f.id for f in found if f.line == 4} == {"DO504", "DO510"}, "the pragma covers the next instruction only"


def test_global_pragmas() -> None:
    chosen = [by_id("DO504")]
    for pragma in ("# hadolint global ignore=DL3008", "# dockopt: global ignore=DO504"):
        text = f"{pragma}\nFROM debian:12\nRUN apt-get install -y curl\nRUN apt-get install -y git\n"
        assert find(text, [], chosen) == []


@pytest.mark.parametrize("directive, silenced", [
    ("# check=skip=UndefinedVar", {"DO516"}),
    ("# check=skip=SecretsUsedInArgOrEnv,UndefinedVar;error=true", {"DO501", "DO516"}),
    ("# check=skip=all", {"DO501", "DO516"}),
    ("# check=error=true", set()),
])
def test_buildkit_check_directive_silences_the_checks_naming_those_rules(directive: str, silenced: set) -> None:
    chosen = [by_id("DO501"), by_id("DO516"), by_id("DO514")]
    text = f"{directive}\nFROM debian:12\nENV DB_PASSWORD=hunter2 HOME=$NOWHERE\n"
    assert {f.id for f in find(text, [], chosen)} == {"DO501", "DO516", "DO514"} - silenced


def test_a_pragma_silences_only_the_hadolint_id_of_that_problem() -> None:
    chosen = [by_id("DO515"), by_id("DO514")]
    assert [f.id for f in find("# hadolint ignore=DL3006\nFROM ghcr.io/a/b\nUSER app\n", [], chosen)] == []
    assert [f.id for f in find("# hadolint ignore=DL3007\nFROM ghcr.io/a/b\nUSER app\n", [], chosen)] == ["DO515"]
    assert [f.id for f in find("# hadolint ignore=DL3002\nFROM debian:12\n", [], chosen)] == ["DO514"]
    assert find("# dockopt: ignore=DO514\nFROM debian:12\n", [], chosen) == []


# --------------------------------------------------------------------------- choosing rules


def test_choose_rules() -> None:
    transforms, checks = choose_rules(["DO102", "secret-in-env"], None)
    assert [t.id for t in transforms] == ["DO102"] and [c.id for c in checks] == ["DO501"]
    transforms, checks = choose_rules(None, ["DO501", "exec-form"])
    assert "DO101" not in [t.id for t in transforms] and "DO501" not in [c.id for c in checks]
    assert len(transforms) == len(TRANSFORMS) - 1 and len(checks) == len(CHECKS) - 1
    assert choose_rules(["DO501"], None, with_checks=False) == ([], [])
    with pytest.raises(UnknownRule, match="unknown transform or check 'DO999'"):
        choose_rules(None, ["DO999"])


def test_fix_does_not_load_the_checks() -> None:
    code = "import sys; from dockopt.rules import choose_rules; " \
           "choose_rules(['DO101'], ['DO102'], with_checks=False); print('dockopt.checks' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"


# --------------------------------------------------------------------------- formats

MIXED = "FROM debian:12\nMAINTAINER ops@example.com\nENV DB_PASSWORD=hunter2\nRUN apt-get install -y curl\n"


def test_text_format() -> None:
    lines = to_text(find(MIXED, TRANSFORMS, CHECKS, path="Dockerfile")).splitlines()
    assert ("Dockerfile:2:1: DO102 [warning] MAINTAINER is deprecated: the author becomes an OCI label "
            "(hadolint DL4000; BuildKit MaintainerDeprecated)") in lines
    secret = next(line for line in lines if " DO501 " in line)
    assert re.fullmatch(r"Dockerfile:3:5: DO501 \[error\] .+ \(hadolint DL3064; BuildKit SecretsUsedInArgOrEnv\)", secret)
    # each finding is one line, its detail indented lines below it
    assert all(re.fullmatch(r"Dockerfile:\d+:\d+: DO\d{3} \[(error|warning|info|style)\] .+", line)
               or re.fullmatch(r"    \S.*", line) for line in lines)
    assert lines[lines.index(secret) + 1] == "    pass it as a build secret (RUN --mount=type=secret) or at run time"


def test_json_format() -> None:
    found = find(MIXED, TRANSFORMS, CHECKS, path="Dockerfile")
    data = json.loads(to_json(found))
    assert len(data) == len(found)
    keys = {"path", "line", "column", "end_line", "end_column", "id", "name", "severity", "message", "detail", "fixable",
            "safety", "hadolint", "buildkit"}
    assert all(set(item) == keys for item in data)
    secret = next(item for item in data if item["id"] == "DO501")
    assert secret["fixable"] is False and secret["safety"] is None and secret["hadolint"] == ["DL3064"]
    assert next(item for item in data if item["id"] == "DO102")["safety"] == "safe"


def _sarif(found, rules, errors=(), cwd=None) -> dict:
    log = json.loads(to_sarif(found, rules, errors, cwd))
    jsonschema.Draft4Validator(SCHEMA).validate(log)
    return log


def test_sarif_is_valid_and_complete(tmp_path: Path) -> None:
    path = tmp_path / "svc dir" / "Dockerfile"
    path.parent.mkdir()
    path.write_text(MIXED)
    found = find(MIXED, TRANSFORMS, CHECKS, path=str(path))
    rules = [*TRANSFORMS, *CHECKS]
    log = _sarif(found, rules, cwd=str(tmp_path))
    assert log["version"] == "2.1.0"
    [run] = log["runs"]
    described = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in described] == [r.id for r in rules]
    for r, rule in zip(described, rules):
        assert r["shortDescription"]["text"] == rule.title and r["fullDescription"]["text"] == rule.doc.strip()
        assert r["properties"]["hadolint"] == list(rule.hadolint)
    assert len(run["results"]) == len(found)
    levels = {"error": "error", "warning": "warning", "info": "note", "style": "note"}
    for result, f in zip(run["results"], found):
        assert described[result["ruleIndex"]]["id"] == result["ruleId"] == f.id
        assert result["level"] == levels[f.severity]
        location = result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"] == {"uri": "svc%20dir/Dockerfile", "uriBaseId": "%SRCROOT%"}
        assert location["region"]["startLine"] == f.line and location["region"]["startColumn"] == f.column
        assert result["message"]["text"] == f.message
        if f.detail:  # the short message, then its detail, for viewers that render Markdown
            assert result["message"]["markdown"].split("\n\n") == [f.message, *f.detail.splitlines()]
            assert result["properties"]["detail"] == f.detail
        else:
            assert "markdown" not in result["message"] and "detail" not in result["properties"]
    assert any(f.detail for f in found) and not all(f.detail for f in found)
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"].startswith("file:///")
    assert run["invocations"][0]["executionSuccessful"] is True


def test_the_schema_validation_is_live() -> None:
    log = json.loads(to_sarif(find(MIXED, TRANSFORMS, CHECKS), [*TRANSFORMS, *CHECKS]))
    broken = copy.deepcopy(log)
    broken["runs"][0]["results"][0]["level"] = "info"  # not a SARIF level
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft4Validator(SCHEMA).validate(broken)


def test_sarif_for_stdin_files_outside_the_folder_and_errors(tmp_path: Path) -> None:
    found = find(MIXED, [], CHECKS, path="-")
    log = _sarif(found, CHECKS, [("bad/Dockerfile", "2:1: unknown instruction: RUNN")], cwd=str(tmp_path / "sub"))
    run = log["runs"][0]
    assert run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "Dockerfile"
    invocation = run["invocations"][0]
    assert invocation["executionSuccessful"] is False
    [note] = invocation["toolExecutionNotifications"]
    assert note["message"]["text"] == "unknown instruction: RUNN"
    assert note["locations"][0]["physicalLocation"]["region"] == {"startLine": 2, "startColumn": 1}
    outside = find(MIXED, [], CHECKS, path=str(tmp_path / "Dockerfile"))
    uri = _sarif(outside, CHECKS, cwd=str(tmp_path / "sub"))["runs"][0]["results"][0]["locations"][0]
    assert uri["physicalLocation"]["artifactLocation"]["uri"].startswith("file:///")


# --------------------------------------------------------------------------- the command


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A folder that is its own repository root, so no configuration above it applies."""
    (tmp_path / ".git").mkdir()
    return tmp_path


@pytest.mark.parametrize(
    "text, args, code",
    [
        ("FROM alpine:3.20\nMAINTAINER x\nUSER app\n", [], 1),  # a warning
        ("FROM alpine:3.20\nRUN apk add --no-cache curl\nUSER app\n", [], 0),  # info only
        ("FROM alpine:3.20\nRUN apk add --no-cache curl\nUSER app\n", ["--severity", "info"], 1),
        ("FROM alpine:3.20\nRUN apk add --no-cache curl\nUSER app\n", ["--severity", "style"], 1),
        ("FROM alpine:3.20\nMAINTAINER x\nUSER app\n", ["--severity", "error"], 0),
        ("FROM alpine:3.20\nENV DB_PASSWORD=x\nUSER app\n", ["--severity", "error"], 1),
        ("FROM alpine:3.20\nUSER app\n", ["--severity", "style"], 0),  # nothing at all
    ],
)
def test_exit_status_follows_the_severity_threshold(text: str, args: list, code: int, project: Path) -> None:
    write(project / "Dockerfile", text)
    run = dockopt("check", *args, "Dockerfile", cwd=project)
    assert run.returncode == code, run.stderr
    assert (project / "Dockerfile").read_text() == text, "check never writes"


def test_text_output_and_summary(project: Path) -> None:
    write(project / "Dockerfile", MIXED)
    run = dockopt("check", cwd=project)
    assert run.returncode == 1
    found = find(MIXED, TRANSFORMS, CHECKS, BuildContext(project), path="./Dockerfile")
    assert run.stdout.decode().splitlines() == to_text(found).splitlines()
    fixable = sum(f.fixable for f in found)
    assert 0 < fixable < len(found)
    fixed = dockopt("fix", "--check", cwd=project).stderr.decode()
    made = int(re.search(r"would fix (\d+) change", fixed).group(1))
    assert f"dockopt: {len(found)} finding(s); `dockopt fix` makes {made} change(s)\n".encode() == run.stderr


def _fixable(text: str, folder) -> set[tuple[str, str]]:
    return {(f.id, joined(f.message, f.detail)) for f in find(text, TRANSFORMS, [], BuildContext(folder)) if f.fixable}


def _fixed(text: str, folder) -> set[tuple[str, str]]:
    return {(c.transform.id, c.explanation) for c in optimize(text, TRANSFORMS, BuildContext(folder)).changes}


FIXTURE_INPUTS = sorted((Path(__file__).parent / "fixtures").glob("*/*/Dockerfile"))


@pytest.mark.parametrize("dockerfile", FIXTURE_INPUTS, ids=[f"{p.parent.parent.name}/{p.parent.name}" for p in FIXTURE_INPUTS])
def test_check_reports_exactly_what_fix_changes_in_every_fixture(dockerfile: Path) -> None:
    text = dockerfile.read_bytes().decode("utf-8")
    assert _fixable(text, dockerfile.parent) == _fixed(text, dockerfile.parent)


def test_check_reports_exactly_what_fix_changes_in_every_corpus_file(corpus_file) -> None:
    from dockopt.optimizer.syntax import ParseError

    try:
        text = corpus_file.read_bytes().decode("utf-8")
        fixed = _fixed(text, None)
    except (UnicodeDecodeError, ParseError):
        pytest.skip("not a Dockerfile docker builds")
    assert _fixable(text, None) == fixed


def test_json_and_sarif_output(project: Path) -> None:
    write(project / "a" / "Dockerfile", MIXED)
    write(project / "b" / "Dockerfile", "FROM alpine:3.20\nRUNN x\n")
    run = dockopt("check", "--format", "json", ".", cwd=project)
    assert run.returncode == 2, "a file that cannot be read is an error"
    assert b"b/Dockerfile:2:1: unknown instruction: RUNN" in run.stderr and TRACEBACK not in run.stderr
    data = json.loads(run.stdout)
    assert {d["path"] for d in data} == {"./a/Dockerfile"} and any(d["id"] == "DO501" for d in data)
    run = dockopt("check", "--format", "sarif", ".", cwd=project)
    log = json.loads(run.stdout)
    jsonschema.Draft4Validator(SCHEMA).validate(log)
    assert {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in log["runs"][0]["results"]} == {"a/Dockerfile"}
    assert log["runs"][0]["invocations"][0]["executionSuccessful"] is False


def test_stdin(project: Path) -> None:
    run = dockopt("check", "--format", "json", "-", cwd=project, stdin=MIXED.encode())
    assert run.returncode == 1
    assert {d["path"] for d in json.loads(run.stdout)} == {"-"}
    bad = dockopt("check", "-", cwd=project, stdin=b"FROM alpine\n\xff\n")
    assert bad.returncode == 2 and bad.stderr.startswith(b"-:2:1: not UTF-8")


@pytest.mark.parametrize(
    "args, message",
    [
        (["--format", "xml"], b"--format must be"),
        (["--severity", "fatal"], b"--severity must be"),
        (["--ignore", "DO999"], b"unknown transform or check 'DO999'"),
        (["--safe", "--review"], b"cannot be used together"),
    ],
)
def test_bad_options(args: list, message: bytes, project: Path) -> None:
    write(project / "Dockerfile", MIXED)
    run = dockopt("check", *args, "Dockerfile", cwd=project)
    assert run.returncode == 2
    assert message in run.stderr and TRACEBACK not in run.stderr


def test_select_ignore_and_safe(project: Path) -> None:
    write(project / "Dockerfile", "FROM ubuntu\nMAINTAINER x\nENV DB_PASSWORD=x\n")
    ids = lambda *args: [d["id"] for d in json.loads(dockopt("check", "--format", "json", *args, "Dockerfile", cwd=project).stdout)]  # noqa: E731
    assert ids("--select", "DO501,maintainer-label") == ["DO102", "DO501"]
    assert "DO501" not in ids("--ignore", "secret-in-env") and "DO102" in ids("--ignore", "secret-in-env")
    assert "DO204" in ids() and "DO515" not in ids()
    assert "DO204" not in ids("--safe") and "DO515" in ids("--safe")


def _imports(run: subprocess.CompletedProcess) -> str:
    return "\n".join(line for line in run.stderr.decode().splitlines() if line.startswith("import time:"))


def test_check_does_not_import_rich(project: Path) -> None:
    write(project / "Dockerfile", MIXED)
    imports = _imports(dockopt("check", "Dockerfile", cwd=project, importtime=True))
    assert "dockopt.checks" in imports, "the checks ran"
    assert "rich" not in imports and "tomllib" not in imports


def test_fix_check_loads_neither_the_checks_nor_a_toml_parser(project: Path) -> None:
    write(project / "Dockerfile", MIXED)
    imports = _imports(dockopt("fix", "--check", "Dockerfile", cwd=project, importtime=True))
    assert "dockopt.optimizer.config" in imports and "dockopt.optimizer.pipeline" in imports
    for heavy in ("rich", "tomllib", "dockopt.checks", "dockopt.optimizer.findings"):
        assert heavy not in imports, heavy


def test_rules_lists_transforms_then_checks(project: Path) -> None:
    lines = dockopt("rules", cwd=project).stdout.decode().splitlines()
    assert [line.split()[0] for line in lines] == [r.id for r in (*REGISTRY, *CHECKS)]
    for line, check in zip(lines[len(REGISTRY) :], CHECKS):
        assert line.split()[1:3] == [check.severity, check.name] and line.endswith(check.title)


@pytest.mark.parametrize("key", ["DO501", "do501", "secret-in-env"])
def test_explain_a_check(key: str, project: Path) -> None:
    run = dockopt("explain", key, cwd=project)
    assert run.returncode == 0
    assert run.stdout.decode().startswith("DO501 secret-in-env (error)\n")
    assert by_id("DO501").doc.strip() in run.stdout.decode()


@pytest.mark.parametrize("text", [
    "FROM node:20\nWORKDIR /app\nCOPY . .\nCMD [\"node\", \"a.js\"]\n",
    "FROM node:20\nWORKDIR /app\nCOPY . .\nCMD [\"node\", \"a.js\"]",
    "FROM node:20\nCMD node a.js\n\n\n",
])
def test_no_finding_points_past_the_last_line(text: str) -> None:
    # Regression: DO206's USER, inserted after the last line, was reported one line past the end.
    lines = len(text.splitlines())
    found = find(text, TRANSFORMS, CHECKS, BuildContext(None))
    assert found, "the example has findings"
    assert all(1 <= f.line <= f.end_line <= lines for f in found), [(f.id, f.line, f.end_line) for f in found]


# --------------------------------------------------------------------------- why no fix
# The checks that answer for a hadolint rule a transform fixes (DL3003, DL3006/DL3007,
# DL4006, DL3059, DL3009, DL3019) say in their first line why that transform leaves it.


@pytest.mark.parametrize("text, says", [
    ("RUN tar xf x.tgz -C /usr/src/x && cd /usr/src/x && make && cd / && rm -rf /usr/src/x",
     "`cd /usr/src/x`: a folder this RUN deletes"),
    ("RUN make && cd /srv && ls", "`cd /srv`: after other commands"),
    ('RUN cd "$tempDir" && ls', "known only when the RUN runs"),
    ("RUN (cd /x && make)", "`cd /x`: inside a subshell"),
    ("RUN cd /tmp; make", "the RUN goes on when it fails"),
    ("FROM ghcr.io/x/y:1\nRUN cd /app && make", "the folder to set back after it is unknown"),
])
def test_cd_says_why_no_workdir(text: str, says: str) -> None:
    finding = problems("DO511", text)[0]
    assert says in finding.message, finding.message


@pytest.mark.parametrize("text, says, rule", [
    ("FROM gcr.io/distroless/static-debian12", "distroless publishes no version tags", "DL3006"),
    ("FROM r.j3ss.co/curl", "no tag can be known offline for r.j3ss.co", "DL3006"),
    ("FROM continuumio/miniconda3", "not an official image", "DL3006"),
    ("FROM REPLACE-ME", "a template's placeholder", "DL3006"),
    ("FROM gcr.io/$PROJECT_ID/builder:latest", "named by a variable", "DL3007"),
    ("FROM clojure", "no tag beside `latest` names a release", "DL3006"),
    ("FROM python:latest", "DO204 pins it to `3.14`", "DL3007"),
])
def test_base_tag_says_why_no_pin(text: str, says: str, rule: str) -> None:
    [finding] = problems("DO515", text)
    assert says in finding.message and finding.hadolint == (rule,), finding.message


def test_pipefail_says_why_left() -> None:
    [hazard] = problems("DO518", "RUN curl -fsSL https://x/i.sh | sh\nRUN ls /usr/lib | head -n 3")
    assert hazard.line == 3 and "(`head` may stop reading before its input ends)" in hazard.message
    [bash] = problems("DO518", 'RUN echo "a\\nb" | tee /etc/motd')
    assert "bash would run this RUN differently" in bash.message
    [image] = problems("DO518", "FROM ghcr.io/acme/base:1\nRUN curl -fsSL https://x/i.sh | sh")
    assert "what /bin/sh is in ghcr.io/acme/base:1 is unknown" in image.message
    early, own = problems("DO518", 'SHELL ["/bin/bash", "-c"]\nRUN ls | head -n 1\nRUN curl -fsSL https://x/i.sh | sh')
    assert early.line == 3 and "`head` may stop reading" in early.message
    assert own.line == 4 and "the stage's own SHELL" in own.message


def test_runs_apart_say_why() -> None:
    [merged] = problems("DO519", "RUN mkdir /app\nRUN pip install flask")  # without DO110: it would merge them
    assert merged.message == "DO110 merge-runs merges it with the RUN above"
    assert [f.id for f in find(dockerfile("FROM python:3.12\nRUN mkdir /app\nRUN pip install flask\n"),
                                TRANSFORMS, CHECKS) if f.id in ("DO110", "DO519")] == ["DO110"]
    [cache] = problems("DO519", "RUN go get -d ./...\nRUN go build -o /app .")
    assert "editing it would rerun `go get` above" in cache.message
    [windows] = problems("DO519", "FROM mcr.microsoft.com/windows/servercore:ltsc2022\nRUN dir\nRUN echo hi")
    assert "another shell" in windows.message


def test_lists_deleted_already_is_only_style() -> None:
    [gone] = problems("DO520", "RUN apt-get update; apt-get install -y x; apt-get dist-clean")
    assert gone.severity == "style" and gone.message.startswith("`apt-get dist-clean` deletes the apt lists")
    [read] = problems("DO520", "RUN apt-get update\nRUN apt-get install -y curl && rm -rf /var/lib/apt/lists/*")
    assert read.severity == "info" and "(line 3) reads them" in read.message
    [offline] = problems("DO521", "FROM alpine:3.20\nRUN apk add --no-network --virtual .deps so:libc.musl-x86_64.so.1")
    assert offline.severity == "style" and "--no-network" in offline.message
    [mounted] = problems("DO521", "FROM alpine:3.20\nRUN --mount=type=cache,target=/var/cache/apk apk add curl")
    assert mounted.severity == "style" and "cache --mount" in mounted.message
    [kept] = problems("DO521", "FROM alpine:3.20\nRUN apk add --cache-dir /var/cache/apk curl")
    assert kept.severity == "info" and "on purpose" in kept.message


@pytest.mark.parametrize("run", ["cd /src && make", "mkdir -p /src && cd /src && make"])
def test_without_do108_do511_names_the_cd_do108_would_rewrite(run: str) -> None:
    # a cd after set-up commands that do the same in any folder is DO108's too: DO511 must
    # not call it a cd "after other commands" when DO108 is not among the rules that ran
    [cd] = problems("DO511", f"FROM debian:12\nWORKDIR /\nRUN {run}\n")
    assert cd.message == "`cd /src`: DO108 cd-to-workdir makes it a WORKDIR"
    fixed = find(dockerfile(f"FROM debian:12\nWORKDIR /\nRUN {run}\n"), TRANSFORMS, CHECKS)
    assert [f.id for f in fixed if f.line == 3] == ["DO108"]


def test_do511_says_a_mkdir_under_a_non_root_user_is_why_the_cd_stays() -> None:
    [cd] = problems("DO511", "FROM debian:12\nUSER app\nRUN mkdir -p /tmp/build && cd /tmp/build && touch x\n")
    assert cd.message == "`cd /tmp/build`: made by a non-root USER; a WORKDIR may make it root's"


def test_checks_keep_quiet_where_a_change_answers_them() -> None:
    # DO303 moves the update into the RUN that installs and DO302 deletes the lists there:
    # "lists kept" and "not merged" would contradict the changes
    found = find(dockerfile("FROM debian:12\nRUN apt-get update\nRUN apt-get install -y curl\n"), TRANSFORMS, CHECKS)
    assert {"DO302", "DO303"} <= {f.id for f in found} and not {"DO519", "DO520"} & {f.id for f in found}
    # a pragma that turns DO110 off is why two RUNs stay apart
    [off] = [f for f in find(dockerfile("FROM debian:12\n# dockopt ignore=DO110\nRUN mkdir /a\nRUN mkdir /b\n"),
                             TRANSFORMS, CHECKS) if f.id == "DO519"]
    assert off.message == "not merged with the RUN above: a pragma turns DO110 off here"


@pytest.mark.parametrize("run", [
    "yes | head -n 1", "cat /dev/urandom | head -c 8", "ls /x 2>/dev/null | wc -l", "grep x /etc/hosts | wc -l",
    "curl -s https://x | grep -q y", "cat /etc/hosts | sed q", "cat /etc/hosts | awk '{exit}'",
    "cat /etc/hosts | head -n 1", "yes | apt-get install -y curl",
])
def test_a_pipefail_hazard_fits_its_first_line(run: str) -> None:
    # the first line quotes the hazard; clipped ("..."), it would send the reader to the detail
    [hazard] = problems("DO518", f"FROM debian:12\nRUN {run}\n")
    assert hazard.message.startswith("no pipefail: it would change this RUN (") and "..." not in hazard.message


def test_do511_has_words_for_every_reason_do108_gives() -> None:
    # DO511 says why a leading cd stays in the words of DO108's reason (a string key): a
    # reason DO108 or cwd.leading_cd gives without an entry there would fall back to
    # "after other commands", which is false for a leading cd
    import ast

    from dockopt.checks.cd_workdir import _LEADING

    reasons = set()
    for module in ("dockopt/optimizer/cwd.py", "dockopt/transforms/cd_workdir.py"):
        tree = ast.parse((Path(__file__).parents[1] / module).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            value = getattr(node, "value", None)
            if isinstance(node, (ast.Return, ast.Assign)) and isinstance(value, ast.Constant):
                reasons.add(value.value)
            if isinstance(node, ast.Assign) and isinstance(value, ast.Tuple):  # `target, reason = None, "..."`
                reasons.update(e.value for e in value.elts if isinstance(e, ast.Constant))
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "_Plan":
                reasons.update(a.value for a in node.args if isinstance(a, ast.Constant))
            if isinstance(node, ast.IfExp):  # `leading_cd(ins) if sh else "another shell (SHELL)"`
                reasons.update(e.value for e in (node.body, node.orelse) if isinstance(e, ast.Constant))
    reasons = {r for r in reasons if isinstance(r, str) and " " in r}  # the reasons, not kinds ("dep", "run")
    # not about a leading cd: DO511 reads these RUNs' cds one by one, or another rule speaks for them
    elsewhere = {"cd inside the script", "no cd", "exec form", "ignore pragma"}
    assert reasons - elsewhere - set(_LEADING) == set()
    assert "previous directory unknown" in reasons and "mkdir under a non-root USER" in reasons  # the scan reads them


def test_a_workdir_restored_below_a_run_belongs_to_that_run() -> None:
    # DO108's three edits (WORKDIR above, the cd out, WORKDIR back below) are one change of
    # line 3, and they do not silence DO511 on the RUN below, whose cd has no sound fix.
    text = "FROM debian:12\nWORKDIR /src\nRUN cd /tmp && ./configure\nRUN make && cd /x && make install\nCOPY a b\n"
    found = [(f.line, f.id) for f in find(text, TRANSFORMS, CHECKS) if f.id in ("DO108", "DO511")]
    assert found == [(3, "DO108"), (4, "DO511")]


@pytest.mark.parametrize("text, fixer", [
    ("FROM debian:12\nRUN apt-get update\nCMD [\"app\"]\n", "DO206"),  # adds a user before the CMD
    ("FROM debian:12\nENTRYPOINT [\"app\"]\nEXPOSE 8080\n", "DO206"),  # before the ENTRYPOINT, not the last line
])
def test_no_user_is_not_reported_where_fix_adds_one(text: str, fixer: str) -> None:
    ids = {f.id for f in find(text, TRANSFORMS, CHECKS)}
    assert fixer in ids and "DO514" not in ids
    # with the transforms that add a user ignored, the check speaks
    assert "DO514" in {f.id for f in find(text, [t for t in TRANSFORMS if t.id not in ("DO202", "DO206")], CHECKS)}


def test_a_stage_split_answers_for_the_whole_stage() -> None:
    # DO202 rewrites the stage in one edit; checks fixed by it are quiet on every line of it
    example = Path(__file__).parents[1] / "examples" / "node-app"
    found = find((example / "Dockerfile").read_text(), TRANSFORMS, CHECKS, BuildContext(str(example)))
    assert "DO202" in {f.id for f in found} and "DO514" not in {f.id for f in found}


def test_apt_lists_kept_says_what_the_run_really_does() -> None:
    text = (
        "FROM debian:12\n"
        "RUN --mount=type=cache,target=/var/cache/apt apt-get update && apt-get install -y curl\n"
        "RUN apt-get update && apt-get install -y git && ls -l /var/lib/apt/lists\n"
        "RUN --mount=type=cache,target=/var/lib/apt apt-get update && apt-get install -y vim\n"
        "RUN apt-get update && apt-get install -y make && rm -f /var/lib/apt/lists/*_*\n"
        "CMD [\"x\"]\n")
    found = {f.line: (f.severity, f.message) for f in problems("DO520", text)}
    assert found[2] == ("info", "apt's cache is a --mount here, its lists are not: DO302 leaves the RUN alone")
    assert found[3][0] == "info" and "works on /var/lib/apt/lists itself" in found[3][1]  # `ls` deletes nothing
    assert found[4] == ("style", "the apt lists are a --mount here: they stay out of the image")
    assert found[5][0] == "style" and "deletes the apt lists already" in found[5][1]
