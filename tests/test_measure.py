"""`dockopt fix --measure` without an engine: reading BuildKit's log, choosing the port and
the source file, finding the change to drop (with a stand-in engine), and the errors a user
without an engine gets. The real builds are in test_engine.py."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from dockopt.measure.engine import Behaviour, Build
from dockopt.measure.prove import Options, prove, smoke_port
from dockopt.measure.steps import read_steps
from dockopt.measure.workspace import source_file, touch_source
from dockopt.optimizer.syntax import parse
from dockopt.transforms import ALL
from helpers import dockopt, write

LOG = """#0 building with "default" instance using docker driver

#1 [internal] load build definition from Dockerfile
#1 DONE 0.0s

#5 [build 1/5] FROM docker.io/library/node:20
#5 DONE 0.0s

#6 [build 2/5] WORKDIR /app
#6 CACHED

#7 [build 3/5] COPY package.json package-lock.json ./
#7 CACHED

#8 [build 4/5] RUN npm ci
#8 CACHED

#9 [build 5/5] COPY . .
#9 DONE 0.1s

#10 [stage-1 3/3] COPY --from=build /app ./
#10 DONE 0.2s
"""

TWO_STAGES = """FROM node:20 AS build
WORKDIR /app
COPY package.json package-lock.json ./
ENV CI=1
RUN npm ci
COPY . .
FROM node:20-slim
WORKDIR /app
COPY --from=build /app ./
CMD ["node", "server.js"]
"""


def test_steps_are_read_back_to_their_instructions() -> None:
    steps = read_steps(LOG, parse(TWO_STAGES))
    assert [(s.stage, s.keyword, s.line, s.cached) for s in steps] == [
        (0, "WORKDIR", 2, True), (0, "COPY", 3, True), (0, "RUN", 5, True), (0, "COPY", 6, False),
        (1, "COPY", 9, False),
    ]


def test_a_single_stage_has_no_stage_name_in_its_steps() -> None:
    log = "#4 [2/3] RUN pip install flask\n#4 CACHED\n#5 [3/3] COPY . .\n#5 DONE 0.1s\n"
    steps = read_steps(log, parse("FROM python:3.12\nRUN pip install flask\nCOPY . .\n"))
    assert [(s.keyword, s.line, s.cached) for s in steps] == [("RUN", 2, True), ("COPY", 3, False)]


@pytest.mark.parametrize("text, port", [
    ("FROM nginx\nEXPOSE 8080/tcp 9090\n", 8080),
    ("FROM node:20 AS b\nEXPOSE 1\nFROM node:20\nENV PORT=3333\n", 3333),
    ("FROM node:20\nENV NODE_ENV=production PORT=5000\n", 5000),
    ("FROM golang:1.22\nCMD [\"go\", \"version\"]\n", None),
])
def test_the_smoke_port_is_the_final_stages(text: str, port: int | None) -> None:
    assert smoke_port(parse(text)) == port


def test_the_source_change_edits_a_source_file_the_context_sends(tmp_path: Path) -> None:
    write(tmp_path / "package.json", "{}\n")
    write(tmp_path / "setup.py", "\n")
    write(tmp_path / "index.php", "<?php echo 1; ?>\n")
    write(tmp_path / "build" / "a.js", "1\n")
    write(tmp_path / "src" / "server.js", "1\n")
    write(tmp_path / ".dockerignore", "build\n")
    assert source_file(str(tmp_path)) == "src/server.js"
    copy = tmp_path.parent / "copy"
    os.link(tmp_path / "src" / "server.js", copy)
    touch_source(str(tmp_path), "src/server.js", "run1")
    assert (tmp_path / "src" / "server.js").read_text() == "1\n// source-only change by dockopt --measure run1\n"
    assert copy.read_text() == "1\n", "a hard link to the user's file was written through"


class FakeEngine:
    """Builds anything but an Alpine image; every image answers HTTP 200."""

    host_network = True
    run_id = "fake"

    def __init__(self) -> None:
        self.built: list[str] = []

    def build(self, context: str, dockerfile: str, name: str, cache: bool = True) -> Build:
        text = Path(dockerfile).read_text()
        self.built.append(text)
        if "alpine" in text:
            return Build(False, 1.0, "ERROR: failed to solve: node:20-alpine: not found here")
        return Build(True, 1.0, "", f"img-{name}", 1000 - 10 * len(text.splitlines()), 5)

    def behaviour(self, image: str, port, path: str) -> Behaviour:
        return Behaviour(port, path, status=200)


NODE_APP = Path(__file__).parents[1] / "examples" / "node-app"


def test_a_change_that_breaks_the_build_is_found_and_dropped(tmp_path: Path) -> None:
    work = tmp_path / "app"
    shutil.copytree(NODE_APP, work)
    before = (work / "Dockerfile").read_text()
    engine = FakeEngine()
    proof = prove(str(work / "Dockerfile"), None, ALL, False, [], engine, Options())
    assert (work / "Dockerfile").read_text() == before, "prove() never writes"
    assert [d.transform.split()[0] for d in proof.dropped] == ["DO202"]
    assert "does not build" in proof.dropped[0].reason and "alpine" in proof.dropped[0].reason
    assert "alpine" not in proof.outcome.result.output
    assert proof.outcome.changed and proof.rewrite.build.ok
    assert all(t.id != "DO202" for t in proof.kept)


def test_nothing_is_dropped_when_the_rewrite_passes(tmp_path: Path) -> None:
    work = tmp_path / "app"
    shutil.copytree(NODE_APP, work)
    write(work / ".dockopt.toml", 'base-flavour = "slim"\n')
    proof = prove(str(work / "Dockerfile"), None, ALL, False, [], FakeEngine(), Options())
    assert proof.dropped == [] and proof.rewrite.build.ok
    assert "node:20-slim" in proof.outcome.result.output
    assert proof.source_change == "server.js"


def test_without_docker_on_path_measure_is_a_clear_error(tmp_path: Path) -> None:
    shutil.copytree(NODE_APP, tmp_path / "app")
    run = dockopt("fix", "--measure", "app", cwd=tmp_path, env={"PATH": "/nonexistent"})
    assert run.returncode == 2
    assert b"--measure needs a Docker engine: the `docker` command was not found" in run.stderr
    assert b"Traceback" not in run.stderr


@pytest.mark.skipif(shutil.which("docker") is None, reason="no docker client here")
def test_an_engine_that_does_not_answer_is_a_clear_error(tmp_path: Path) -> None:
    shutil.copytree(NODE_APP, tmp_path / "app")
    run = dockopt("fix", "--measure", "app", cwd=tmp_path, env={"DOCKER_HOST": f"unix://{tmp_path}/none.sock"})
    assert run.returncode == 2
    assert b"does not answer" in run.stderr
    assert (tmp_path / "app" / "Dockerfile").read_bytes() == (NODE_APP / "Dockerfile").read_bytes()


def test_measure_needs_a_file_not_stdin(tmp_path: Path) -> None:
    run = dockopt("fix", "--measure", "-", cwd=tmp_path, stdin=b"FROM node:20\nCMD node a.js\n")
    assert run.returncode == 2 and b"name the file, not -" in run.stderr
