"""The pre-commit hooks (.pre-commit-hooks.yaml), run by pre-commit itself.

The file pattern is checked against dockopt's own idea of a Dockerfile name, each hook's
entry is run as a command on a real file, and one `pre-commit try-repo` run installs this
repository as pre-commit would (a virtualenv built by pip, so it needs PyPI) and runs both
hooks in a throw-away git repository. That run is skipped when pre-commit is not installed.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from dockopt.optimizer.context import BuildContext
from dockopt.optimizer.pipeline import optimize
from dockopt.optimizer.runner import is_dockerfile_name
from dockopt.transforms import ALL

ROOT = Path(__file__).resolve().parents[1]
HOOKS = {hook["id"]: hook for hook in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
NAIVE = "FROM python:3.12-slim\nMAINTAINER Jane <jane@example.com>\nRUN apt-get update\nRUN apt-get install -y curl\nCMD python app.py\n"
NAMES = [
    "Dockerfile", "dockerfile", "DOCKERFILE", "Containerfile", "containerfile",
    "Dockerfile.dev", "Dockerfile.prod.arm64", "Dockerfile.", "Containerfile.build",
    "api.Dockerfile", "api.dockerfile", "api.Containerfile", ".Dockerfile",
    "Dockerfile.dockerignore", "api.dockerignore", ".dockerignore",
    "Dockerfilex", "myDockerfile", "dockerfile.dev", "api.DOCKERFILE", "README.md", "docker-compose.yml",
]


def test_the_hooks_are_declared() -> None:
    assert set(HOOKS) == {"dockopt-fix", "dockopt-check"}
    for hook in HOOKS.values():
        assert hook["language"] == "python"
        assert hook["name"] and hook["description"]
    assert shlex.split(HOOKS["dockopt-fix"]["entry"]) == ["dockopt", "fix", "--safe"]
    assert shlex.split(HOOKS["dockopt-check"]["entry"]) == ["dockopt", "check"]


@pytest.mark.parametrize("hook", sorted(HOOKS))
@pytest.mark.parametrize("folder", ["", "deploy/images/"])
def test_files_pattern_matches_what_dockopt_finds(hook: str, folder: str) -> None:
    files = re.compile(HOOKS[hook]["files"])
    exclude = re.compile(HOOKS[hook].get("exclude", "^$"))
    for name in NAMES:
        path = folder + name
        matched = bool(files.search(path)) and not exclude.search(path)
        assert matched == is_dockerfile_name(name), path


def entry(hook: str, *files: str, cwd: Path) -> subprocess.CompletedProcess:
    """A hook's entry as pre-commit runs it: the command, then the staged file names."""
    words = shlex.split(HOOKS[hook]["entry"])
    assert words[0] == "dockopt"
    return subprocess.run([sys.executable, "-m", "dockopt", *words[1:], *files], cwd=cwd, capture_output=True, text=True)


def test_fix_entry_rewrites_safely_and_leaves_the_verdict_to_pre_commit(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(NAIVE)
    first = entry("dockopt-fix", "Dockerfile", cwd=tmp_path)
    # exit 0 after writing: pre-commit fails the hook because the file changed
    assert first.returncode == 0, first.stderr
    want = optimize(NAIVE, ALL, BuildContext(str(tmp_path)), safe_only=True).output
    assert want != NAIVE and want != optimize(NAIVE, ALL, BuildContext(str(tmp_path))).output
    assert (tmp_path / "Dockerfile").read_text() == want
    again = entry("dockopt-fix", "Dockerfile", cwd=tmp_path)
    assert again.returncode == 0 and (tmp_path / "Dockerfile").read_text() == want
    (tmp_path / "broken.Dockerfile").write_text("FROM alpine\nRUNN true\n")
    broken = entry("dockopt-fix", "broken.Dockerfile", cwd=tmp_path)
    assert broken.returncode == 2  # a file dockopt cannot read fails the hook, changed or not


def test_check_entry_fails_on_findings(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(NAIVE)
    assert entry("dockopt-check", "Dockerfile", cwd=tmp_path).returncode == 1
    clean = "FROM python:3.12.7-slim\nUSER nobody\nHEALTHCHECK NONE\nCMD [\"python\", \"-V\"]\n"
    (tmp_path / "Dockerfile").write_text(clean)
    done = entry("dockopt-check", "Dockerfile", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.skipif(importlib.util.find_spec("pre_commit") is None, reason="pre-commit is not installed (dev extra)")
def test_pre_commit_try_repo_runs_both_hooks(tmp_path: Path) -> None:
    """One try-repo run: pre-commit pip-installs this repository (needs PyPI) and runs
    every hook it declares, in id order: dockopt-check, then dockopt-fix."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "PRE_COMMIT"))}
    gitconfig = tmp_path / "gitconfig"
    gitconfig.write_text("")
    env.update(
        GIT_CONFIG_GLOBAL=str(gitconfig), GIT_CONFIG_NOSYSTEM="1",
        GIT_AUTHOR_NAME="Test", GIT_AUTHOR_EMAIL="test@example.com",
        GIT_COMMITTER_NAME="Test", GIT_COMMITTER_EMAIL="test@example.com",
        PRE_COMMIT_HOME=str(tmp_path / "cache"), NO_COLOR="1",
    )
    work = tmp_path / "work"
    work.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=work, env=env, check=True)
    (work / "Dockerfile").write_text(NAIVE)
    (work / "notes.txt").write_text("not a Dockerfile: dockopt would refuse it\n")
    subprocess.run(["git", "add", "-A"], cwd=work, env=env, check=True)

    done = subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), "--files", "Dockerfile", "notes.txt", "--color", "never"],
        cwd=work, env=env, capture_output=True, text=True, timeout=900,
    )
    out = done.stdout + done.stderr
    assert done.returncode == 1, out
    check, fix = out.split("- hook id: dockopt-check")[1].split("- hook id: dockopt-fix")
    assert "- exit code: 1" in check and "Dockerfile:" in check
    assert "- files were modified by this hook" in fix and "exit code" not in fix
    assert "notes.txt" not in check + fix  # the pattern kept it away from dockopt
    assert (work / "Dockerfile").read_text() == optimize(NAIVE, ALL, BuildContext(str(work)), safe_only=True).output
