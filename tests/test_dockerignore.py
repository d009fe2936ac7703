"""DO205: the .dockerignore matcher, the rules it proposes, and how `dockopt fix` shows them.

The matcher is checked against docker's documented examples and moby/patternmatcher's
behaviour (we cannot run docker here). Fixture cases live in
tests/fixtures/dockerignore/<case>/: the folder is the build context, `expected.dockerignore`
the ignore file after the change (the one DO205 writes: `.dockerignore`, or the
Dockerfile-specific `Dockerfile.dockerignore` when the case has one); no expected file =
nothing to change. A `-safe` case runs with `--safe`.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from dockopt.optimizer import runner
from dockopt.optimizer.dockerignore import BadPattern, compile_pattern, ignored, read_rules
from dockopt.transforms import ALL, by_id
from helpers import dockopt

DO205 = by_id("DO205")
FIXTURES = Path(__file__).parent / "fixtures" / "dockerignore"
CASES = sorted(p for p in FIXTURES.iterdir() if p.is_dir())


def rules(*lines: str):
    return read_rules("\n".join(lines))


# --------------------------------------------------------------------------- the matcher


@pytest.mark.parametrize(
    "patterns, path, expected",
    [
        # docs.docker.com, "Dockerignore files": the example file
        (["*/temp*"], "somedir/temporary.txt", True),
        (["*/temp*"], "somedir/temp", True),
        (["*/temp*"], "temp", False),
        (["*/*/temp*"], "somedir/subdir/temporary.txt", True),
        (["temp?"], "tempa", True),
        (["temp?"], "temp", False),
        (["**/*.go"], "a/b/c.go", True),
        (["**/*.go"], "c.go", True),
        (["*.md", "!README.md"], "README.md", False),
        (["*.md", "!README.md"], "CHANGES.md", True),
        (["*.md", "!README*.md", "README-secret.md"], "README-secret.md", True),
        (["*.md", "!README*.md", "README-secret.md"], "README-public.md", False),
        (["*.md", "README-secret.md", "!README*.md"], "README-secret.md", False),
        # a leading slash, a trailing slash, `./`: all the same path
        (["/node_modules"], "node_modules", True),
        (["node_modules/"], "node_modules/a/index.js", True),
        (["./dist"], "dist/app.js", True),
        # patterns are anchored at the context root; `**` reaches any depth
        (["node_modules"], "app/node_modules", False),
        (["**/node_modules"], "app/node_modules/x.js", True),
        (["**/node_modules"], "node_modules", True),
        (["dir/**"], "dir", False),
        (["dir/**"], "dir/a/b", True),
        (["**file"], "a/b/file", True),
        # * and ? never cross a slash; . is literal; classes work
        (["a*/b"], "a/c/b", False),
        (["a?b"], "a/b", False),
        (["abc.def"], "abcZdef", False),
        (["a[b-d]e"], "ace", True),
        (["a[^b-d]e"], "ace", False),
        (["a\\*b"], "a*b", True),
        (["a(b)c"], "a(b)c", True),
        (["*.env"], ".env", True),
        (["*"], ".git", True),
        # a folder's exclusion covers what is below it; an exception can reach inside
        (["docs", "!docs/README.md"], "docs/README.md", False),
        (["docs", "!docs/README.md"], "docs/other.md", True),
        (["**", "!util/docker/web"], "util/docker/web/foo", False),
        (["**", "!util/docker/web", "util/docker/web/foo"], "util/docker/web/foo", True),
        # the context root itself is never excluded
        (["*"], ".", False),
    ],
)
def test_matcher(patterns: list[str], path: str, expected: bool) -> None:
    assert ignored(rules(*patterns), path) is expected


def test_reading_skips_comments_and_blank_lines_and_trims() -> None:
    found = read_rules("\ufeff# comment\n\n  dist  \r\n! /keep/me\r\n#not-a-rule\n/abs/path\n")
    assert [(p.text, p.exclusion) for p in found] == [("dist", False), ("keep/me", True), ("abs/path", False)]


@pytest.mark.parametrize("line", ["!", "! ", "[", "a[", "[]a]", "[-]", "[x-]", "a\\"])
def test_lines_docker_refuses(line: str) -> None:
    with pytest.raises(BadPattern):
        read_rules(line)


@pytest.mark.parametrize("line", ["[\\]a]", "[\\-]", "[x\\-]", "[^bc]", "a.|)$(}+{bc"])
def test_unusual_but_valid_lines(line: str) -> None:
    compile_pattern(line)


# --------------------------------------------------------------------------- fixture cases


def _run(case: Path):
    dockerfile = str(case / "Dockerfile")
    return runner.run_file(dockerfile, [DO205], None, case.name.endswith("-safe"), False, [dockerfile])


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case(case: Path) -> None:
    outcome = _run(case)
    assert outcome.error is None
    assert not outcome.changed, "DO205 never changes the Dockerfile"
    expected = case / "expected.dockerignore"
    if not expected.exists():
        assert outcome.companions == []
        return
    (companion,) = outcome.companions
    specific = case / "Dockerfile.dockerignore"
    target = specific if specific.exists() else case / ".dockerignore"
    assert Path(companion.path) == target
    assert companion.result.source == (target.read_bytes().decode() if target.exists() else None)
    assert companion.result.output == expected.read_bytes().decode()
    assert companion.result.changes and all(c.transform is DO205 for c in companion.result.changes)
    for change in companion.result.changes:
        assert change.explanation.startswith("ignore ") and "\n" not in change.explanation


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case_keeps_every_existing_line_and_reaches_a_fixed_point(case: Path, tmp_path: Path) -> None:
    expected = case / "expected.dockerignore"
    if not expected.exists():
        pytest.skip("nothing to change")
    work = tmp_path / case.name
    shutil.copytree(case, work)
    specific = work / "Dockerfile.dockerignore"
    target = specific if specific.exists() else work / ".dockerignore"
    before = target.read_bytes().decode() if target.exists() else ""
    after = expected.read_bytes().decode()
    assert after.startswith(before), "existing lines are kept, in order"
    target.write_bytes(expected.read_bytes())
    assert _run(work).companions == [], "a second run adds nothing"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case_never_ignores_a_copied_source(case: Path) -> None:
    expected = case / "expected.dockerignore"
    if not expected.exists():
        pytest.skip("nothing to change")
    final = read_rules(expected.read_bytes().decode())
    for name in ("Dockerfile", "static.Dockerfile", "Dockerfile.dockerignore", ".dockerignore"):
        assert not ignored(final, name)
    for dockerfile in case.glob("*Dockerfile"):
        for line in dockerfile.read_text().splitlines():
            words = line.split()
            if words and words[0] == "COPY" and not any(w.startswith("--from") for w in words):
                for src in words[1:-1]:
                    assert not ignored(final, src.rstrip("/")), f"{dockerfile.name}: {src} is copied"


def test_fixture_expectations() -> None:
    """What the cases show, spelled out (the expected files are the proof)."""
    text = {c.name: (c / "expected.dockerignore").read_text() for c in CASES if (c / "expected.dockerignore").exists()}
    assert "dist" in text["node-new"].split("\n") and "node_modules" in text["node-new"].split("\n")
    assert "dist" not in text["node-copies-dist"].split("\n")  # COPY dist/ needs it
    assert "node_modules" not in text["node-prebuilt-modules"].split("\n")  # nothing installs them
    assert "build" not in text["shared-context"].split("\n")  # static.Dockerfile copies build/
    assert ".git" not in text["python-version-from-git"].split("\n")  # setuptools-scm reads it


# --------------------------------------------------------------------------- the rules, case by case


def _plan(tmp_path: Path, dockerfile: str, files: dict[str, str], transforms=(DO205,)):
    for name, content in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    path = tmp_path / "Dockerfile"
    path.write_text(dockerfile)
    outcome = runner.run_file(str(path), list(transforms), None, False, False, [str(path)])
    assert outcome.error is None
    return outcome.companions[0].result.output.split("\n") if outcome.companions else None


NODE = "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci && npm run build\nCMD [\"node\", \"dist/main.js\"]\n"


def test_a_run_that_uses_output_before_building_it_keeps_it(tmp_path: Path) -> None:
    dockerfile = "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN cp -r dist /srv && npm ci && npm run build\n"
    lines = _plan(tmp_path, dockerfile, {"package.json": "{}", "dist/a.js": ""})
    assert "dist" not in lines and "node_modules" in lines


def test_output_built_inside_is_ignored(tmp_path: Path) -> None:
    lines = _plan(tmp_path, NODE, {"package.json": "{}", "dist/a.js": ""})
    assert "dist" in lines


def test_a_git_command_keeps_git(tmp_path: Path) -> None:
    dockerfile = NODE.replace("npm ci", "npm ci && git rev-parse HEAD > version.txt")
    assert ".git" not in _plan(tmp_path, dockerfile, {"package.json": "{}"})


def test_an_explicit_copy_of_a_secret_keeps_it(tmp_path: Path) -> None:
    dockerfile = NODE.replace("COPY . .", "COPY .env ./\nCOPY . .")
    assert ".env" not in _plan(tmp_path, dockerfile, {"package.json": "{}"})


def test_a_wildcard_source_keeps_what_it_names(tmp_path: Path) -> None:
    dockerfile = "FROM python:3.12\nCOPY *.pem /certs/\nCOPY . /app\nRUN pip install -r /app/requirements.txt\n"
    lines = _plan(tmp_path, dockerfile, {"requirements.txt": "", "ca.pem": "x"})
    assert "*.pem" not in lines and ".venv" in lines


def test_a_mentioned_path_is_kept(tmp_path: Path) -> None:
    dockerfile = "FROM python:3.12\nCOPY . /app\nRUN pip install -r /app/requirements.txt\nCMD [\"/app/.venv/bin/python\"]\n"
    lines = _plan(tmp_path, dockerfile, {"requirements.txt": ""})
    assert ".venv" not in lines


def test_a_bind_mount_of_the_context_counts_as_a_copy(tmp_path: Path) -> None:
    dockerfile = "FROM node:20\nRUN --mount=type=bind,target=/src cp -r /src/node_modules /app/\n"
    lines = _plan(tmp_path, dockerfile, {"package.json": "{}"})
    assert "node_modules" not in lines


def test_an_existing_exception_is_not_undone(tmp_path: Path) -> None:
    # The user re-includes .env.example; our .env rule does not match it, so it stays.
    files = {"package.json": "{}", ".dockerignore": ".env*\n!.env.example\n"}
    lines = _plan(tmp_path, NODE, files)
    assert lines[:2] == [".env*", "!.env.example"]
    assert ".env" not in lines[2:]
    assert not ignored(read_rules("\n".join(lines)), ".env.example")


def test_a_file_without_final_newline_is_extended_on_a_new_line(tmp_path: Path) -> None:
    lines = _plan(tmp_path, NODE, {"package.json": "{}", ".dockerignore": "*.md"})
    assert lines[:3] == ["*.md", "", "# added by dockopt"]


def test_go_vendor_is_never_ignored(tmp_path: Path) -> None:
    dockerfile = "FROM golang:1.22\nWORKDIR /src\nCOPY . .\nRUN go build -o /app .\n"
    lines = _plan(tmp_path, dockerfile, {"go.mod": "module x\n", "vendor/modules.txt": ""})
    assert lines is not None and not any("vendor" in ln for ln in lines)


def test_a_sibling_dockerfile_that_cannot_be_read_stops_it(tmp_path: Path) -> None:
    assert _plan(tmp_path, NODE, {"package.json": "{}", "Dockerfile.j2": "{% if x %}\n"}) is None


def test_a_sibling_with_its_own_ignore_file_does_not_share(tmp_path: Path) -> None:
    files = {"package.json": "{}", "static.Dockerfile": "FROM nginx\nCOPY dist/ /srv/\n", "static.Dockerfile.dockerignore": "*.md\n"}
    lines = _plan(tmp_path, NODE, {**files, "dist/a.js": ""})
    assert "dist" in lines


def test_not_selected_nothing(tmp_path: Path) -> None:
    assert _plan(tmp_path, NODE, {"package.json": "{}"}, transforms=[t for t in ALL if t is not DO205]) is None


# --------------------------------------------------------------------------- the command line


def project(tmp_path: Path) -> Path:
    (tmp_path / "package.json").write_text('{"name": "app"}\n')
    (tmp_path / "Dockerfile").write_text(NODE)
    return tmp_path


def test_diff_shows_a_new_file_and_writes_nothing(tmp_path: Path) -> None:
    run = dockopt("fix", "--diff", "--select", "DO205", "Dockerfile", cwd=project(tmp_path))
    assert run.returncode == 0, run.stderr
    out = run.stdout.decode()
    assert out.startswith("--- /dev/null\n+++ b/.dockerignore\n@@ -0,0 +1,")
    assert "+node_modules\n" in out
    assert not (tmp_path / ".dockerignore").exists()
    assert b".dockerignore: would fix" in run.stderr and b"DO205 dockerignore (review)" in run.stderr


def test_diff_of_an_extended_file_is_a_normal_diff(tmp_path: Path) -> None:
    (project(tmp_path) / ".dockerignore").write_text("*.md\n")
    out = dockopt("fix", "--diff", "--select", "DO205", cwd=tmp_path).stdout.decode()
    assert out.startswith("--- a/.dockerignore\n+++ b/.dockerignore\n")
    assert "+# added by dockopt\n" in out and "-*.md" not in out


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_the_diff_applies_with_git(tmp_path: Path) -> None:
    project(tmp_path)
    out = dockopt("fix", "--diff", cwd=tmp_path).stdout
    applied = subprocess.run(["git", "apply", "-"], cwd=tmp_path, input=out, capture_output=True)
    assert applied.returncode == 0, applied.stderr
    written = tmp_path / ".dockerignore"
    assert written.exists()
    fixed = tmp_path / "again"
    shutil.copytree(tmp_path, fixed, ignore=shutil.ignore_patterns(".dockerignore"))
    assert dockopt("fix", cwd=fixed).returncode == 0
    assert (fixed / ".dockerignore").read_bytes() == written.read_bytes()
    assert (fixed / "Dockerfile").read_bytes() == (tmp_path / "Dockerfile").read_bytes()


def test_fix_writes_it_and_a_second_run_changes_nothing(tmp_path: Path) -> None:
    run = dockopt("fix", "--select", "DO205", cwd=project(tmp_path))
    assert run.returncode == 0, run.stderr
    text = (tmp_path / ".dockerignore").read_text()
    assert text.startswith("# Generated by dockopt") and "\nnode_modules\n" in text
    assert not list(tmp_path.glob(".dockopt-*"))
    again = dockopt("fix", "--check", "--select", "DO205", cwd=tmp_path)
    assert again.returncode == 0 and again.stdout == b"", again.stderr


def test_check_counts_it(tmp_path: Path) -> None:
    run = dockopt("fix", "--check", "--select", "DO205", cwd=project(tmp_path))
    assert run.returncode == 1
    assert not (tmp_path / ".dockerignore").exists()


@pytest.mark.parametrize("args", [["--safe"], ["--ignore", "DO205"], ["--ignore", "dockerignore"]])
def test_safe_or_ignored_nothing(tmp_path: Path, args: list[str]) -> None:
    run = dockopt("fix", *args, cwd=project(tmp_path))
    assert run.returncode == 0, run.stderr
    assert not (tmp_path / ".dockerignore").exists()


def test_stdin_has_no_companion(tmp_path: Path) -> None:
    project(tmp_path)
    run = dockopt("fix", "--diff", "--select", "DO205", "--context", ".", "-", cwd=tmp_path, stdin=NODE.encode())
    assert run.returncode == 0 and run.stdout == b"", run.stderr
    assert not (tmp_path / ".dockerignore").exists()


def test_dockerfiles_sharing_a_context_get_one_diff(tmp_path: Path) -> None:
    project(tmp_path)
    (tmp_path / "dev.Dockerfile").write_text(NODE.replace("npm run build", "npm run dev"))
    run = dockopt("fix", "--diff", "--select", "DO205", ".", cwd=tmp_path)
    assert run.stdout.decode().count("+++ b/.dockerignore") == 1


def test_explicit_context_for_dockerfiles_elsewhere(tmp_path: Path) -> None:
    (tmp_path / "package.json").write_text("{}\n")
    (tmp_path / "dist").mkdir()
    (tmp_path / "dist" / "a.js").write_text("")
    (tmp_path / "docker").mkdir()
    (tmp_path / "docker" / "app.Dockerfile").write_text(NODE)
    (tmp_path / "docker" / "static.Dockerfile").write_text("FROM nginx\nCOPY dist/ /srv/\n")
    run = dockopt("fix", "--select", "DO205", "--context", ".", "docker", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    lines = (tmp_path / ".dockerignore").read_text().split("\n")
    assert "node_modules" in lines and "dist" not in lines  # static.Dockerfile copies dist/
    assert not (tmp_path / "docker" / ".dockerignore").exists()


def test_an_env_path_to_installed_dependencies_is_no_use_of_local_ones(tmp_path: Path) -> None:
    dockerfile = "FROM node:20\nWORKDIR /app\nENV PATH=/app/node_modules/.bin:$PATH\nCOPY . .\nRUN npm ci\n"
    assert "node_modules" in _plan(tmp_path, dockerfile, {"package.json": "{}"})


def test_a_virtualenv_made_inside_may_be_named_after(tmp_path: Path) -> None:
    dockerfile = (
        "FROM python:3.12\nWORKDIR /app\nCOPY . .\nRUN python -m venv /app/.venv && /app/.venv/bin/pip install -r requirements.txt\n"
        "CMD [\"/app/.venv/bin/python\", \"app.py\"]\n"
    )
    assert ".venv" in _plan(tmp_path, dockerfile, {"requirements.txt": ""})


@pytest.mark.parametrize(
    "command, uses_git",
    [
        ("apt-get install -y git curl", False),
        ("git clone https://example.com/x.git", False),
        ("git rev-parse HEAD > /version", True),
        ("cd /src && git describe --tags", True),
        ("echo $(git rev-parse HEAD)", True),
    ],
)
def test_which_runs_read_git(tmp_path: Path, command: str, uses_git: bool) -> None:
    dockerfile = f"FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci && {command}\n"
    assert (".git" not in _plan(tmp_path, dockerfile, {"package.json": "{}"})) is uses_git
