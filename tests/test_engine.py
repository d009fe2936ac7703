"""Proof by building: every fixture that is a real project is built and run, before and
after `dockopt fix`, on a real Docker engine.

A fixture folder with an `engine.toml` is a complete, small app (real manifests and
lockfiles, code that compiles, a server or a command). For each, `dockopt fix --measure
--format json` runs as a user would run it, on a copy, with `base-flavour = "slim"` (the
build lab has no Alpine images), and the test asserts what the measurement says:

- the original builds, and so does the rewrite, with no change dropped;
- the container behaves the same (the same HTTP status on the port; or the same exit code
  and output);
- the final image is not larger (give or take `SLACK` bytes: moving the install before the
  source copies the dependency manifests twice, in a layer of their own and with the rest);
- after a source-only change, every RUN step dockopt says the cache keeps is CACHED in the
  rewrite's rebuild, and no fewer RUN steps are cached than in the original's.

`engine.toml` keys: `port` (a server; else the command runs to its end), `path` (default
"/"). The tests run when a Docker engine with BuildKit answers (`.ci/run` starts the build
lab, ../shared/tools/build-lab) and skip with the reason otherwise.
"""

from __future__ import annotations

import json
import shutil
import tomllib
from pathlib import Path

import pytest

from helpers import dockopt, engine_missing

FIXTURES = Path(__file__).parent / "fixtures"
SLACK = 64 * 1024
PROJECTS = sorted(p.parent for p in FIXTURES.glob("*/*/engine.toml"))


_NO_ENGINE = engine_missing()
pytestmark = pytest.mark.skipif(_NO_ENGINE is not None, reason=f"no engine: {_NO_ENGINE}")


def _copy(project: Path, tmp_path: Path, flavour: str | None = "slim") -> Path:
    work = tmp_path / project.name
    shutil.copytree(project, work, ignore=shutil.ignore_patterns("expected.*", "engine.toml"))
    if flavour:
        (work / ".dockopt.toml").write_text(f'base-flavour = "{flavour}"\n')
    return work


def _measure(work: Path, *args: str) -> dict:
    run = dockopt("fix", "--measure", "--format", "json", *args, str(work / "Dockerfile"), cwd=work, timeout=1800)
    assert run.returncode == 0, run.stderr.decode()
    return json.loads(run.stdout)["files"][0]


@pytest.mark.parametrize("project", PROJECTS, ids=[f"{p.parent.name}/{p.name}" for p in PROJECTS])
def test_the_rewrite_builds_behaves_the_same_and_keeps_its_cache(project: Path, tmp_path: Path) -> None:
    settings = tomllib.loads((project / "engine.toml").read_text())
    work = _copy(project, tmp_path)
    args = ["--smoke-path", settings.get("path", "/")]
    if "port" in settings:
        args += ["--smoke-port", str(settings["port"])]
    entry = _measure(work, *args)
    assert entry["changed"], "dockopt changes nothing here: not a useful engine test"
    measured = entry["measure"]
    before, after = measured["original"], measured["rewrite"]
    assert before["builds"], f"the fixture itself does not build:\n{before.get('log_tail')}"
    assert measured["dropped"] == [], measured["dropped"]
    assert after["builds"], after.get("log_tail")
    assert measured["same_behaviour"], (before["smoke"], after["smoke"])
    if "port" in settings:
        assert after["smoke"]["status"] is not None, "the server never answered"
    assert after["size_bytes"] <= before["size_bytes"] + SLACK, (before["size_bytes"], after["size_bytes"])

    promised = {s["line"] for s in entry["impact"]["cached_layers"]["after"]["cached"]
                if s["instruction"].upper().startswith("RUN")}
    rebuilt = after["source_only_rebuild"]
    assert rebuilt["builds"]
    cached = {s["line"] for s in rebuilt["steps"] if s["instruction"] == "RUN" and s["cached"]}
    assert promised <= cached, f"RUN steps said to stay cached were rebuilt: lines {sorted(promised - cached)}"
    assert rebuilt["run_steps_cached"] >= before["source_only_rebuild"]["run_steps_cached"]


def test_a_change_that_does_not_build_here_is_dropped_and_the_rest_written(tmp_path: Path) -> None:
    # Without base-flavour = "slim" the stage split chooses node:20-alpine, which the build
    # lab cannot pull: that change must be dropped, named with its reason, and the rest of
    # the rewrite written and proven.
    project = FIXTURES / "stage-split" / "node-pnpm-seed"  # its split chooses alpine by default
    if project not in PROJECTS:
        pytest.skip("needs the buildable seed project")
    work = _copy(project, tmp_path, flavour=None)
    entry = _measure(work)
    if entry["measure"]["dropped"] == []:
        pytest.skip("this engine pulls node:20-alpine: nothing to drop here")
    dropped = {d["transform"].split()[0]: d["reason"] for d in entry["measure"]["dropped"]}
    assert "DO202" in dropped and "does not build" in dropped["DO202"]
    written = (work / "Dockerfile").read_text()
    assert "alpine" not in written
    assert entry["measure"]["rewrite"] is None or entry["measure"]["rewrite"]["builds"]


def test_the_bot_puts_what_was_measured_in_its_pull_request(tmp_path: Path) -> None:
    import subprocess

    project = next((p for p in PROJECTS if p.parent.name == "cache-order"), PROJECTS[0] if PROJECTS else None)
    if project is None:
        pytest.skip("no buildable project")
    work = _copy(project, tmp_path)
    for args in (["init", "-q", "-b", "main"], ["add", "-A"],
                 ["-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "init"],
                 ["remote", "add", "origin", str(work)]):
        subprocess.run(["git", *args], cwd=work, check=True, capture_output=True)
    run = dockopt("bot", "--repo", "o/n", "--dry-run", "--measure", "--base", "main", ".", cwd=work, timeout=1800)
    assert run.returncode == 0, run.stderr.decode()
    body = run.stdout.decode()
    assert "(measured: the built images)" in body and "**Built and run:**" in body, body[:2000]
