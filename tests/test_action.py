"""The GitHub Action (action.yml): its scripts, run for real against the CLI.

action.yml is read with pyyaml and each `run:` step (except the pip install) is executed
the way a runner executes it (`bash --noprofile --norc -eo pipefail`), with the step's
`env:` filled in from the inputs, on Dockerfiles in a temporary folder. So an option
renamed in the CLI, or an exit status handled wrongly, fails here and not in a user's CI.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from dockopt.optimizer.context import BuildContext
from dockopt.optimizer.diff import unified_diff
from dockopt.optimizer.pipeline import optimize
from dockopt.transforms import ALL
from helpers import write

ROOT = Path(__file__).resolve().parents[1]
ACTION = yaml.safe_load((ROOT / "action.yml").read_text())
STEPS = ACTION["runs"]["steps"]
NAIVE = "FROM python:3.12-slim\nMAINTAINER Jane <jane@example.com>\nRUN apt-get update\nRUN apt-get install -y curl\nCMD python app.py\n"
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def step(name: str) -> dict:
    (found,) = [s for s in STEPS if s.get("name") == name]
    return found


def inputs(**given: str) -> dict[str, str]:
    values = {name: str(spec.get("default", "")) for name, spec in ACTION["inputs"].items()}
    values.update({k.replace("_", "-"): v for k, v in given.items()})
    return values


def run_step(name: str, cwd: Path, **given: str) -> subprocess.CompletedProcess:
    """One `run:` step as a runner runs it, with `dockopt` being this checkout's."""
    spec, values = step(name), inputs(**given)
    assert spec["shell"] == "bash"
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    for key, value in (spec.get("env") or {}).items():
        def fill(m: re.Match) -> str:
            expr = m.group(1)
            if expr == "github.action_path":
                return str(ROOT)
            assert expr.startswith("inputs."), f"{name}: {key} uses {expr}; keep step env to inputs"
            return values[expr[len("inputs."):]]

        env[key] = EXPRESSION.sub(fill, str(value))
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    output = cwd / "github_output"
    output.touch()
    env["GITHUB_OUTPUT"] = str(output)
    script = cwd / "step.sh"
    script.write_text(spec["run"])
    done = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)], cwd=cwd, env=env, capture_output=True, text=True
    )
    script.unlink()
    return done


def test_inputs_are_declared_and_used() -> None:
    assert set(ACTION["inputs"]) == {"paths", "safe-only", "upload-sarif", "python-version", "version"}
    text = (ROOT / "action.yml").read_text()
    used = set(re.findall(r"inputs\.([A-Za-z0-9_-]+)", text))
    assert used == set(ACTION["inputs"])
    assert ACTION["runs"]["using"] == "composite"


def test_scripts_take_inputs_from_the_environment_only() -> None:
    """`${{ }}` pasted into a script would let an input inject shell code."""
    for spec in STEPS:
        if "run" in spec:
            assert "${{" not in spec["run"], spec["name"]


def test_install_step_installs_this_package() -> None:
    script = step("Install dockopt")["run"]
    assert '"$ACTION_PATH"' in script and '"dockopt==$DOCKOPT_VERSION"' in script
    assert step("Install dockopt")["env"]["ACTION_PATH"] == "${{ github.action_path }}"
    assert (ROOT / "action.yml").parent == ROOT and (ROOT / "pyproject.toml").is_file()
    assert 'name = "dockopt"' in (ROOT / "pyproject.toml").read_text()
    setup = STEPS[0]
    assert setup["uses"].startswith("actions/setup-python@")
    assert setup["with"]["python-version"] == "${{ inputs.python-version }}"


def test_check_step_writes_sarif_for_findings(tmp_path: Path) -> None:
    import jsonschema

    write(tmp_path / "Dockerfile", NAIVE)
    done = run_step("dockopt check (SARIF)", tmp_path)
    assert done.returncode == 0, done.stderr  # findings are for code scanning, not a failed step
    sarif = json.loads((tmp_path / "dockopt.sarif").read_text())
    schema = json.loads((ROOT / "dockopt" / "data" / "sarif-schema-2.1.0.json").read_text())
    jsonschema.validate(sarif, schema)
    assert sarif["runs"][0]["results"]
    assert "sarif-file=dockopt.sarif" in (tmp_path / "github_output").read_text()
    upload = step("Upload SARIF")
    assert upload["uses"].startswith("github/codeql-action/upload-sarif@")
    assert upload["with"]["sarif_file"] == "dockopt.sarif"
    assert "steps.check.outcome == 'success'" in upload["if"] and "inputs.upload-sarif == 'true'" in upload["if"]
    assert step("dockopt check (SARIF)")["id"] == "check"


def test_check_step_fails_on_an_error(tmp_path: Path) -> None:
    write(tmp_path / "Dockerfile", "FROM alpine\nRUNN true\n")
    assert run_step("dockopt check (SARIF)", tmp_path).returncode == 2


@pytest.mark.parametrize("safe_only", ["false", "true"])
def test_fix_step_fails_with_the_diff(tmp_path: Path, safe_only: str) -> None:
    write(tmp_path / "a" / "Dockerfile", NAIVE)
    write(tmp_path / "b" / "api.Dockerfile", NAIVE)
    write(tmp_path / "c" / "Dockerfile", NAIVE)  # not in paths: left out
    done = run_step("dockopt fix --check --diff", tmp_path, paths="a b", safe_only=safe_only)
    assert done.returncode == 1
    safe = safe_only == "true"
    want = "".join(
        unified_diff(NAIVE, optimize(NAIVE, ALL, BuildContext(str(tmp_path / folder)), safe).output, path)
        for folder, path in (("a", "a/Dockerfile"), ("b", "b/api.Dockerfile"))
    )
    assert done.stdout == want
    assert (tmp_path / "a" / "Dockerfile").read_text() == NAIVE  # --check writes nothing

    # once fixed (with the same safety), the step passes
    fixed = subprocess.run(
        [sys.executable, "-m", "dockopt", "fix", *(["--safe"] if safe else []), "a", "b"], cwd=tmp_path, capture_output=True
    )
    assert fixed.returncode == 0
    again = run_step("dockopt fix --check --diff", tmp_path, paths="a b", safe_only=safe_only)
    assert again.returncode == 0, again.stdout + again.stderr
    assert again.stdout == ""


def test_default_paths_search_the_workspace(tmp_path: Path) -> None:
    write(tmp_path / "deploy" / "Dockerfile", NAIVE)
    done = run_step("dockopt fix --check --diff", tmp_path)
    assert done.returncode == 1 and "+++ b/deploy/Dockerfile" in done.stdout
