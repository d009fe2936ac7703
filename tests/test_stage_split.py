"""DO202 stage-split beyond its fixtures: without a build context, the knowledge helpers in
runtimes.py, comments, and every corpus file.

The fixtures (tests/fixtures/stage-split) run with their folder as the build context; the
cases here run with none (`dockopt fix -`), where only what the Dockerfile proves counts.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from dockopt.optimizer import runtimes
from dockopt.optimizer.context import BuildContext
from dockopt.optimizer.pipeline import optimize
from dockopt.optimizer.syntax import ParseError, parse
from dockopt.transforms import stage_split

SPLIT = [stage_split.TRANSFORM]


def _run(text: str, context: BuildContext | None = None):
    return optimize(text, SPLIT, context or BuildContext(None))


def _stages(text: str) -> list[str]:
    return [s.image for s in parse(text).stages]


def test_go_binary_named_by_o_splits_without_context() -> None:
    text = "FROM golang:1.22\nWORKDIR /src\nCOPY . .\nRUN CGO_ENABLED=0 go build -o /out/app ./cmd/app\nCMD [\"/out/app\"]\n"
    result = _run(text)
    assert _stages(result.output) == ["golang:1.22", "gcr.io/distroless/static-debian13:nonroot"]
    assert "COPY --from=build /out/app /out/app\n" in result.output
    assert "without the build context" in result.changes[0].explanation


@pytest.mark.parametrize(
    "text",
    [
        # the binary's name comes from go.mod, which only the context has
        "FROM golang:1.22\nWORKDIR /src\nCOPY . .\nRUN CGO_ENABLED=0 go build\nCMD [\"./app\"]\n",
        # pnpm prune re-runs `prepare`: package.json must show there is none
        "FROM node:22\nWORKDIR /app\nCOPY . .\nRUN corepack enable && pnpm install && pnpm build\n"
        "CMD [\"node\", \"dist/index.js\"]\n",
        # `npm start` runs whatever package.json says
        "FROM node:22\nWORKDIR /app\nCOPY . .\nRUN npm ci && npm run build\nCMD [\"npm\", \"start\"]\n",
        # Rust: only Cargo.lock tells which system libraries the binary links
        "FROM rust:1-bookworm\nWORKDIR /app\nCOPY . .\nRUN cargo build --release\nCMD [\"/app/target/release/api\"]\n",
        # $GOPATH comes from the golang image, and distroless does not set it
        "FROM golang:1.22\nENV PATH=$GOPATH/bin:$PATH\nWORKDIR /src\nCOPY . .\nRUN CGO_ENABLED=0 go build -o /out/app\n"
        "CMD [\"/out/app\"]\n",
        # distroless has neither curl nor a shell for the check
        "FROM golang:1.22\nWORKDIR /src\nCOPY . .\nRUN CGO_ENABLED=0 go build -o /out/app\n"
        "HEALTHCHECK CMD curl -f http://localhost:8080/ || exit 1\nCMD [\"/out/app\"]\n",
        # the user exists only in the builder
        "FROM golang:1.22\nRUN useradd app\nWORKDIR /src\nCOPY . .\nRUN CGO_ENABLED=0 go build -o /out/app\nUSER app\n"
        "CMD [\"/out/app\"]\n",
        # a file the runtime would lack
        "FROM golang:1.22\nWORKDIR /src\nCOPY . .\nCOPY config.yaml /etc/app/config.yaml\n"
        "RUN CGO_ENABLED=0 go build -o /out/app\nCMD [\"/out/app\"]\n",
        # a preloaded module: more than one file runs
        "FROM node:22\nWORKDIR /app\nCOPY . .\nRUN npm ci && npm run build\nCMD [\"node\", \"-r\", \"dotenv/config\", \"dist/a.js\"]\n",
        # the last stage only copies: already split
        "FROM golang:1.22 AS build\nWORKDIR /src\nCOPY . .\nRUN go build -o /out/app\n\n"
        "FROM golang:1.22\nCOPY --from=build /out/app /app\nCMD [\"/app\"]\n",
    ],
    ids=["go-name-from-go-mod", "pnpm-without-package-json", "npm-start", "rust-without-lockfile",
         "env-from-base-image", "healthcheck", "builder-only-user", "copy-outside-app", "node-require", "already-split"],
)
def test_left_alone_without_proof(text: str) -> None:
    result = _run(text)
    assert result.output == text and result.changes == []


def test_java_thin_jar_keeps_its_folder_without_context() -> None:
    text = ("FROM maven:3.9-eclipse-temurin-21\nWORKDIR /app\nCOPY . .\nRUN mvn -B package\n"
            "CMD [\"java\", \"-jar\", \"target/app.jar\"]\n")
    out = _run(text).output
    assert "FROM eclipse-temurin:21-jre\n" in out
    assert "COPY --from=build /app/target /app/target\n" in out


def test_comments_survive_and_move_with_their_instruction() -> None:
    text = (
        "# build the service\n"
        "FROM golang:1.22\n"
        "WORKDIR /src\n"
        "COPY . .\n"
        "RUN CGO_ENABLED=0 \\\n"
        "# inner comment\n"
        "    go build -o /out/app\n"
        "\n"
        "# what it serves\n"
        "EXPOSE 8080\n"
        "# how it starts\n"
        "CMD [\"/out/app\"]\n"
        "# trailing note\n"
    )
    out = _run(text).output
    comments = lambda t: Counter(ln for ln in t.splitlines() if ln.lstrip().startswith("#"))
    assert not comments(text) - comments(out)
    runtime = out[out.index("FROM gcr.io"):]
    assert "# what it serves\nEXPOSE 8080\n# how it starts\nCMD" in runtime


def test_a_split_is_not_split_again() -> None:
    text = "FROM node:22\nWORKDIR /app\nCOPY . .\nRUN npm ci && npm run build\nCMD [\"node\", \"dist/a.js\"]\n"
    first = _run(text)
    assert first.changed
    assert _run(first.output).output == first.output


@pytest.mark.parametrize(
    ("words", "name"),
    [
        (["go", "build", "-o", "x", "main.go", "util.go"], "main"),
        (["go", "build", "-ldflags", "-s -w", "./cmd/server"], "server"),
        (["go", "install", "github.com/acme/tool/v3"], "tool"),
        (["go", "build", "-tags", "netgo", "./..."], None),
    ],
)
def test_go_binary_name(words: list[str], name: str | None) -> None:
    build = runtimes.parse_go(words, "/src")
    assert build is not None
    assert runtimes.go_binary_name(build, lambda cwd: None) == name


def test_go_flags_it_does_not_know_make_it_give_up() -> None:
    assert runtimes.parse_go(["go", "build", "-frobnicate", "."], "/src") is None


def test_go_output_folder_is_not_a_binary() -> None:
    build = runtimes.parse_go(["go", "build", "-o", "/out", "."], "/src")
    assert runtimes.go_output(build, {}, lambda cwd: "m", {"/out"}) is None
    assert runtimes.go_output(build, {}, lambda cwd: "m", set()) == "/out"


def test_node_tags_of_releases_that_left_the_manifest_follow_a_listed_pattern() -> None:
    bookworm = runtimes.node_runtime("node:20-bookworm", {}, musl_ok=False)
    assert bookworm is not None and bookworm.ref == "node:20-bookworm-slim"
    assert runtimes.node_runtime("node:20-bookworm", {}, musl_ok=True).ref == "node:20-alpine"
    assert runtimes.node_runtime("node:4-wheezy", {}, musl_ok=False) is None  # no listed `-wheezy-slim`


class _Context:
    known = True

    def __init__(self, files: dict[str, str]):
        self.files = files

    def read_text(self, rel: str):
        return self.files.get(rel)


@pytest.mark.parametrize(
    ("files", "native"),
    [
        ({"package-lock.json": '{"lockfileVersion": 3, "packages": {"": {}, "node_modules/esbuild": '
                               '{"hasInstallScript": true, "dev": true}}}'}, False),
        ({"package-lock.json": '{"lockfileVersion": 3, "packages": {"": {}, "node_modules/bcrypt": '
                               '{"hasInstallScript": true}}}'}, True),
        ({"package-lock.json": '{"lockfileVersion": 1, "dependencies": {}}'}, None),
        ({"pnpm-lock.yaml": "lockfileVersion: '9.0'\n"}, None),
        ({"pnpm-lock.yaml": "lockfileVersion: '6.0'\n\npackages:\n\n  /sharp@0.33.0:\n    requiresBuild: true\n"
                            "    dev: false\n"}, True),
        ({}, None),
    ],
    ids=["dev-only-native", "prod-native", "npm-v1", "pnpm-v9", "pnpm-v6-native", "no-lockfile"],
)
def test_node_lockfile_native(files: dict[str, str], native: bool | None) -> None:
    files = {"package.json": '{"name": "a"}', **files}
    assert runtimes.node_lockfile_native(_Context(files)) is native


def test_stage_split_on_corpus_file(corpus_file: Path, buildkit) -> None:
    text = corpus_file.read_bytes().decode("utf-8")
    try:
        result = _run(text)
    except ParseError:
        return
    if not result.changed:
        return
    assert buildkit.buildable(buildkit.parse(result.output))
    assert len(parse(result.output).stages) == len(parse(text).stages) + 1
    assert _run(result.output).output == result.output


def test_python_slim_with_compiler_splits_into_a_venv_without_context() -> None:
    text = ("FROM python:3.12-slim\nWORKDIR /app\nRUN apt-get update && apt-get install -y --no-install-recommends gcc"
            " && rm -rf /var/lib/apt/lists/*\nCOPY . .\nRUN pip install --no-cache-dir -r requirements.txt\n"
            "CMD [\"python\", \"app.py\"]\n")
    out = _run(text).output
    assert _stages(out) == ["python:3.12-slim", "python:3.12-slim"]
    builder, runtime = out.split("# Runtime:")
    assert "RUN python -m venv /opt/venv\n" in builder
    assert builder.index("python -m venv") < builder.index("pip install")
    assert "COPY --from=build /opt/venv /opt/venv\n" in runtime and "gcc" not in runtime
    assert "USER 10001:10001\n" in runtime


@pytest.mark.parametrize(
    "text",
    [
        # the full image's libraries may be linked by what pip compiles: only the context tells
        "FROM python:3.12\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\nCMD [\"python\", \"app.py\"]\n",
        # alpine: musl wheels, never a slim Debian runtime
        "FROM python:3.12-alpine\nWORKDIR /app\nRUN apk add --no-cache gcc musl-dev\nCOPY . .\n"
        "RUN pip install -r requirements.txt\nCMD [\"python\", \"app.py\"]\n",
        # a runtime library the app loads: which one cannot be told
        "FROM python:3.12-slim\nWORKDIR /app\nRUN apt-get update && apt-get install -y gcc ffmpeg\nCOPY . .\n"
        "RUN pip install -r requirements.txt\nCMD [\"python\", \"app.py\"]\n",
        # the command runs a build tool
        "FROM python:3.12-slim\nWORKDIR /app\nRUN apt-get update && apt-get install -y gcc\nCOPY . .\n"
        "RUN pip install poetry && poetry install --no-root\nCMD [\"poetry\", \"run\", \"python\", \"app.py\"]\n",
        # serve's default port differs between versions
        "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci && npm run build && npm i -g serve\n"
        "CMD [\"serve\", \"-s\", \"build\"]\n",
    ],
    ids=["python-full-no-context", "python-alpine", "python-runtime-package", "python-poetry-run", "serve-default-port"],
)
def test_python_and_static_left_alone_without_proof(text: str) -> None:
    result = _run(text)
    assert result.output == text and result.changes == []


def test_static_split_keeps_port_and_single_page_fallback() -> None:
    text = ("FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci && npm run build && npm i -g serve\nEXPOSE 3000\n"
            "CMD [\"serve\", \"-s\", \"dist\", \"-l\", \"3000\"]\n")
    out = _run(text).output
    runtime = out.split("# Runtime:")[1]
    assert "listen 3000;" in runtime and "/index.html;" in runtime
    assert "COPY --from=build /app/dist /usr/share/nginx/html\n" in runtime
    assert "CMD" not in runtime and _run(out).output == out


@pytest.mark.parametrize(("ref", "slim"), [("python:3.12", "python:3.12-slim"),
                                           ("python:3.12-bookworm", "python:3.12-slim-bookworm"),
                                           ("python:3.12-alpine", None)])
def test_python_runtime_is_slim_debian(ref: str, slim: str | None) -> None:
    runtime = runtimes.python_runtime(ref, {})
    assert (runtime.ref if runtime else None) == slim
