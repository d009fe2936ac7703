"""The `dockopt` command, driven as users drive it: a separate process, real files.

Each test runs `python -m dockopt` in a temporary folder and checks what a user sees:
exit status, stdout, stderr and the bytes on disk. Expected rewrites are computed with
the engine in-process, so these tests are about the command line, not the transforms.
"""

from __future__ import annotations

import json

import gzip
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from dockopt import __version__
from dockopt.optimizer import images, impact
from dockopt.optimizer.context import BuildContext
from dockopt.optimizer.pipeline import optimize
from dockopt.transforms import ALL
from helpers import dockopt, write

NEEDS_WORK = "FROM python:3.12-slim\nMAINTAINER Jane <jane@example.com>\nCOPY . /app\nCMD python /app/main.py\n"
SETTLED = optimize(NEEDS_WORK, ALL).output
TRACEBACK = b"Traceback"


def expected(text: str, folder: Path, safe_only: bool = False, transforms=ALL) -> str:
    return optimize(text, transforms, BuildContext(folder), safe_only).output


def test_precondition_the_sample_needs_work() -> None:
    assert SETTLED != NEEDS_WORK
    assert optimize(SETTLED, ALL).output == SETTLED


# --------------------------------------------------------------------------- fix, --diff, --check


def test_fix_rewrites_in_place(tmp_path: Path) -> None:
    path = write(tmp_path / "Dockerfile", NEEDS_WORK)
    run = dockopt("fix", "Dockerfile", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert path.read_bytes().decode() == expected(NEEDS_WORK, tmp_path)
    assert run.stdout == b""
    assert b"Dockerfile: fixed" in run.stderr
    assert b"DO102" in run.stderr  # each change is listed with its transform


def test_fix_without_paths_searches_the_current_folder(tmp_path: Path) -> None:
    path = write(tmp_path / "Dockerfile", NEEDS_WORK)
    assert dockopt("fix", cwd=tmp_path).returncode == 0
    assert path.read_bytes().decode() == expected(NEEDS_WORK, tmp_path)


DIFF_INPUTS = {
    "lf": NEEDS_WORK,
    "crlf": NEEDS_WORK.replace("\n", "\r\n"),
    "no-final-newline": NEEDS_WORK.rstrip("\n"),
    "non-ascii": "# caf\u00e9 \u2603\n" + NEEDS_WORK + "LABEL note=\"na\u00efve\"\n",
}


def _patch_tool(cwd: Path, patch: bytes, check: bool) -> subprocess.CompletedProcess:
    if shutil.which("git"):
        args = ["git", "apply", "--check"] if check else ["git", "apply"]
    elif shutil.which("patch"):
        args = ["patch", "-p1", "--dry-run"] if check else ["patch", "-p1"]
    else:
        pytest.skip("neither git nor patch is installed")
    return subprocess.run(args, cwd=cwd, input=patch, capture_output=True, timeout=60)


@pytest.mark.parametrize("text", list(DIFF_INPUTS.values()), ids=list(DIFF_INPUTS))
def test_diff_is_a_patch_that_applies_and_writes_nothing(text: str, tmp_path: Path) -> None:
    work = tmp_path / "work"
    paths = [write(work / "Dockerfile", text), write(work / "svc" / "api.Dockerfile", text)]
    run = dockopt("fix", "--diff", ".", cwd=work)
    assert run.returncode == 0, run.stderr
    assert [p.read_bytes() for p in paths] == [text.encode()] * 2
    assert run.stdout.startswith(b"--- a/")

    applied = _patch_tool(work, run.stdout, check=True)
    assert applied.returncode == 0, applied.stderr
    _patch_tool(work, run.stdout, check=False)
    for path in paths:
        assert path.read_bytes().decode("utf-8") == expected(text, path.parent)


def test_check_exits_1_when_something_would_change_and_writes_nothing(tmp_path: Path) -> None:
    path = write(tmp_path / "Dockerfile", NEEDS_WORK)
    run = dockopt("fix", "--check", "Dockerfile", cwd=tmp_path)
    assert run.returncode == 1
    assert run.stdout == b""
    assert b"would fix" in run.stderr
    assert path.read_bytes() == NEEDS_WORK.encode()


def test_check_exits_0_when_nothing_would_change(tmp_path: Path) -> None:
    path = write(tmp_path / "Dockerfile", NEEDS_WORK)
    path.write_bytes(expected(NEEDS_WORK, tmp_path).encode())
    run = dockopt("fix", "--check", "Dockerfile", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout == b"" and run.stderr == b""
    before = path.stat()
    assert dockopt("fix", "Dockerfile", cwd=tmp_path).returncode == 0
    after = path.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns), "unchanged, so not rewritten"


# --------------------------------------------------------------------------- standard input


def test_dash_reads_stdin_and_writes_stdout(tmp_path: Path) -> None:
    text = NEEDS_WORK.replace("\n", "\r\n")
    run = dockopt("fix", "-", cwd=tmp_path, stdin=text.encode())
    assert run.returncode == 0, run.stderr
    assert run.stdout == optimize(text, ALL).output.encode()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "data, last",
    [
        (b"FROM ubuntu:22.04\nRUN apt-get update", b"RUN apt-get update && rm -rf /var/lib/apt/lists/*"),
        (b"FROM node:20\nCOPY . .\nRUN npm install", b"COPY . ."),
    ],
)
def test_dash_rewrites_a_file_without_a_final_newline(data: bytes, last: bytes, tmp_path: Path) -> None:
    # Regression: both were refused as an internal error (exit 2).
    run = dockopt("fix", "-", cwd=tmp_path, stdin=data)
    assert run.returncode == 0, run.stderr
    assert run.stdout.endswith(b"\n" + last), run.stdout


def test_stdin_filename_gives_what_fix_path_writes(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    shutil.copytree(Path(__file__).parents[1] / "examples" / "node-app", project)
    write(project / ".dockopt.toml", 'base-flavour = "slim"\n')
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    data = (project / "Dockerfile").read_bytes()
    piped = dockopt("fix", "-", "--stdin-filename", str(project / "Dockerfile"), cwd=elsewhere, stdin=data)
    assert piped.returncode == 0, piped.stderr
    assert dockopt("fix", str(project / "Dockerfile"), cwd=elsewhere).returncode == 0
    assert piped.stdout == (project / "Dockerfile").read_bytes()
    assert b"node:20-slim" in piped.stdout  # the file's folder's configuration, and its context
    assert list(elsewhere.iterdir()) == []


def test_stdin_filename_needs_dash(tmp_path: Path) -> None:
    run = dockopt("fix", "--stdin-filename", "Dockerfile", ".", cwd=tmp_path)
    assert run.returncode == 2 and b"give - as the path" in run.stderr


def test_dash_with_check_and_diff(tmp_path: Path) -> None:
    check = dockopt("fix", "--check", "-", cwd=tmp_path, stdin=NEEDS_WORK.encode())
    assert (check.returncode, check.stdout) == (1, b"")
    diff = dockopt("fix", "--diff", "-", cwd=tmp_path, stdin=NEEDS_WORK.encode())
    assert diff.returncode == 0
    assert diff.stdout.startswith(b"--- a/Dockerfile\n+++ b/Dockerfile\n")


def test_dash_with_invalid_input_echoes_it_and_fails(tmp_path: Path) -> None:
    data = b"FROM alpine\nRUNN true\n"
    run = dockopt("fix", "-", cwd=tmp_path, stdin=data)
    assert run.returncode == 2
    assert run.stdout == data
    assert b"-:2:1: unknown instruction: RUNN" in run.stderr
    assert TRACEBACK not in run.stderr


def test_context_option_is_the_build_context_for_stdin(tmp_path: Path) -> None:
    (tmp_path / "ctx").mkdir()
    (tmp_path / "ctx" / "data.bin").write_bytes(gzip.compress(b"payload", mtime=0))
    text = "FROM alpine\nADD data.bin /srv/\n"
    without = dockopt("fix", "--select", "DO103", "-", cwd=tmp_path, stdin=text.encode())
    assert without.stdout != text.encode(), "with no context, nothing says data.bin is an archive"
    with_context = dockopt("fix", "--select", "DO103", "--context", "ctx", "-", cwd=tmp_path, stdin=text.encode())
    assert with_context.stdout == text.encode(), "the context shows data.bin is gzip: ADD unpacks it"


def test_a_files_build_context_defaults_to_its_folder(tmp_path: Path) -> None:
    (tmp_path / "data.bin").write_bytes(gzip.compress(b"payload", mtime=0))
    path = write(tmp_path / "Dockerfile", "FROM alpine\nADD data.bin /srv/\n")
    run = dockopt("fix", "--check", "--select", "DO103", str(path), cwd=tmp_path.parent)
    assert run.returncode == 0, run.stderr
    write(tmp_path / "Dockerfile", "FROM alpine\nADD plain.bin /srv/\n")
    (tmp_path / "plain.bin").write_bytes(b"not an archive")
    run = dockopt("fix", "--check", "--select", "DO103", str(path), cwd=tmp_path.parent)
    assert run.returncode == 1, run.stderr


# --------------------------------------------------------------------------- choosing transforms


def test_safe_applies_only_safe_changes(tmp_path: Path) -> None:
    text = "FROM alpine\nMAINTAINER ops@example.com\nENTRYPOINT /entry.sh --serve\n"
    path = write(tmp_path / "Dockerfile", text)
    run = dockopt("fix", "--safe", "Dockerfile", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    out = path.read_bytes().decode()
    assert out == expected(text, tmp_path, safe_only=True)
    assert "MAINTAINER" not in out and "ENTRYPOINT /entry.sh --serve" in out
    assert expected(text, tmp_path) != out, "without --safe the ENTRYPOINT changes too"


def test_select_and_ignore(tmp_path: Path) -> None:
    by_id = {t.id: t for t in ALL}
    path = write(tmp_path / "Dockerfile", NEEDS_WORK)
    assert dockopt("fix", "--select", "DO102", "Dockerfile", cwd=tmp_path).returncode == 0
    assert path.read_bytes().decode() == expected(NEEDS_WORK, tmp_path, transforms=[by_id["DO102"]])

    path.write_bytes(NEEDS_WORK.encode())
    assert dockopt("fix", "--ignore", "DO102,exec-form", "Dockerfile", cwd=tmp_path).returncode == 0
    rest = [t for t in ALL if t.id not in ("DO101", "DO102")]
    out = path.read_bytes().decode()
    assert out == expected(NEEDS_WORK, tmp_path, transforms=rest)
    assert "MAINTAINER" in out and "CMD python /app/main.py" in out


@pytest.mark.parametrize("option", ["--select", "--ignore"])
def test_unknown_transform_id_is_an_error(option: str, tmp_path: Path) -> None:
    path = write(tmp_path / "Dockerfile", NEEDS_WORK)
    run = dockopt("fix", option, "DO101,DO999", "Dockerfile", cwd=tmp_path)
    assert run.returncode == 2
    assert b"unknown transform 'DO999'" in run.stderr
    assert TRACEBACK not in run.stderr
    assert path.read_bytes() == NEEDS_WORK.encode()


@pytest.mark.parametrize("args", [["--color", "sometimes"], ["--context", "missing-folder"]])
def test_bad_option_values_are_errors(args: list[str], tmp_path: Path) -> None:
    write(tmp_path / "Dockerfile", NEEDS_WORK)
    run = dockopt("fix", *args, "Dockerfile", cwd=tmp_path)
    assert run.returncode == 2
    assert run.stderr.startswith(b"dockopt: error: ")


# --------------------------------------------------------------------------- discovery


def test_folder_discovery(tmp_path: Path) -> None:
    found = ["Dockerfile", "api.Dockerfile", "Dockerfile.prod", "svc/Containerfile", "svc/deep/dockerfile"]
    skipped = [".git/Dockerfile", "node_modules/pkg/Dockerfile", "svc/node_modules/Dockerfile", "README.md",
               "Dockerfile.bak.txt.dockerignore"]
    for name in found + skipped:
        write(tmp_path / name, NEEDS_WORK)
    write(tmp_path / "Dockerfile.dockerignore", "node_modules\n*.log\n")  # would fail to parse if read

    run = dockopt("fix", ".", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    for name in found:
        assert (tmp_path / name).read_bytes().decode() == expected(NEEDS_WORK, (tmp_path / name).parent), name
    for name in skipped:
        assert (tmp_path / name).read_bytes() == NEEDS_WORK.encode(), name
    assert f"{len(found)} file(s)".encode() in run.stderr


def test_symlinks_out_of_the_folder_are_not_followed(tmp_path: Path) -> None:
    outside = write(tmp_path / "elsewhere" / "Dockerfile", NEEDS_WORK)
    project = tmp_path / "project"
    write(project / "Dockerfile", NEEDS_WORK)
    (project / "linked.Dockerfile").symlink_to(outside)
    (project / "linked-folder").symlink_to(outside.parent, target_is_directory=True)
    run = dockopt("fix", ".", cwd=project)
    assert run.returncode == 0, run.stderr
    assert outside.read_bytes() == NEEDS_WORK.encode()
    assert (project / "Dockerfile").read_bytes() != NEEDS_WORK.encode()


def test_a_file_named_explicitly_is_processed_whatever_its_name(tmp_path: Path) -> None:
    path = write(tmp_path / "build.txt", NEEDS_WORK)
    assert dockopt("fix", "build.txt", cwd=tmp_path).returncode == 0
    assert path.read_bytes().decode() == expected(NEEDS_WORK, tmp_path)


def test_a_folder_without_dockerfiles_is_an_error(tmp_path: Path) -> None:
    write(tmp_path / "README.md", "# hi\n")
    run = dockopt("fix", ".", cwd=tmp_path)
    assert run.returncode == 2
    assert b"no Dockerfiles found" in run.stderr


# --------------------------------------------------------------------------- errors


ERRORS = {
    "missing-file": (None, 1, 1, "cannot read"),
    "non-utf8": (b"FROM alpine\nLABEL a=\xe9t\xe9\n", 2, 9, "not UTF-8"),
    "binary": (b"FROM alpine\n\x7fELF\x02\x01\x01\x00\x00", 2, 8, "binary file"),
    "unknown-instruction": (b"FROM alpine\n  RUNN true\n", 2, 3, "unknown instruction: RUNN"),
    "no-from": (b"# base comes from elsewhere\nRUN true\n", 2, 1, "no FROM"),
    "unterminated-heredoc": (b"FROM alpine\nRUN <<EOT\necho hi\n", 2, 1, "unterminated heredoc"),
    "empty": (b"", 1, 1, "no instructions"),
}


@pytest.mark.parametrize("data, line, col, message", list(ERRORS.values()), ids=list(ERRORS))
def test_bad_input_is_reported_with_its_position(data, line: int, col: int, message: str, tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    if data is not None:
        path.write_bytes(data)
    run = dockopt("fix", "Dockerfile", cwd=tmp_path)
    assert run.returncode == 2
    assert TRACEBACK not in run.stderr
    first_line = run.stderr.decode().splitlines()[0]
    assert re.fullmatch(rf"Dockerfile:{line}:{col}: .*{re.escape(message)}.*", first_line), first_line
    if data is not None:
        assert path.read_bytes() == data
    else:
        assert not path.exists()


def test_one_bad_file_does_not_stop_the_others(tmp_path: Path) -> None:
    good = write(tmp_path / "a" / "Dockerfile", NEEDS_WORK)
    bad = write(tmp_path / "b" / "Dockerfile", "FROM alpine\nRUNN x\n")
    run = dockopt("fix", ".", cwd=tmp_path)
    assert run.returncode == 2
    assert good.read_bytes().decode() == expected(NEEDS_WORK, good.parent)
    assert bad.read_bytes() == b"FROM alpine\nRUNN x\n"
    assert b"2 file(s), 1 changed, 1 failed" in run.stderr


# --------------------------------------------------------------------------- writing files


def test_file_mode_is_kept(tmp_path: Path) -> None:
    path = write(tmp_path / "Dockerfile", NEEDS_WORK)
    path.chmod(0o640)
    assert dockopt("fix", "Dockerfile", cwd=tmp_path).returncode == 0
    assert path.read_bytes().decode() == expected(NEEDS_WORK, tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["Dockerfile"], "no temporary file left behind"


def test_a_symlinked_dockerfile_stays_a_symlink(tmp_path: Path) -> None:
    target = write(tmp_path / "docker" / "app.Dockerfile", NEEDS_WORK)
    link = tmp_path / "Dockerfile"
    link.symlink_to(Path("docker") / "app.Dockerfile")
    assert dockopt("fix", "Dockerfile", cwd=tmp_path).returncode == 0
    assert link.is_symlink()
    assert os.readlink(link) == str(Path("docker") / "app.Dockerfile")
    assert target.read_bytes().decode() == expected(NEEDS_WORK, tmp_path)


# --------------------------------------------------------------------------- other commands


def test_rules_lists_every_transform_then_every_check(tmp_path: Path) -> None:
    from dockopt.checks import ALL as CHECKS
    from dockopt.transforms import REGISTRY

    run = dockopt("rules", cwd=tmp_path)
    assert run.returncode == 0
    lines = run.stdout.decode().splitlines()
    assert [line.split()[0] for line in lines] == [t.id for t in REGISTRY] + [c.id for c in CHECKS]
    for line, t in zip(lines, REGISTRY):
        assert t.safety in line.split() and t.name in line.split()


@pytest.mark.parametrize("key", ["DO101", "do101", "exec-form"])
def test_explain(key: str, tmp_path: Path) -> None:
    run = dockopt("explain", key, cwd=tmp_path)
    assert run.returncode == 0
    out = run.stdout.decode()
    assert out.startswith("DO101 exec-form (")
    assert "When it is not safe" in out


def test_explain_unknown_rule(tmp_path: Path) -> None:
    run = dockopt("explain", "DO999", cwd=tmp_path)
    assert run.returncode == 2
    assert b"unknown transform" in run.stderr and TRACEBACK not in run.stderr


def test_version(tmp_path: Path) -> None:
    run = dockopt("--version", cwd=tmp_path)
    assert run.returncode == 0
    assert run.stdout.decode().strip() == f"dockopt {__version__}"


# --------------------------------------------------------------------------- impact summary, --format json

SEED = Path(__file__).parent / "fixtures" / "stage-split" / "node-pnpm-seed"


def seed_project(root: Path) -> Path:
    """A copy of the seed's project (the fixture's folder less its expected output)."""
    shutil.copytree(SEED, root, ignore=shutil.ignore_patterns("expected.Dockerfile"))
    return root / "Dockerfile"


def test_diff_summary_goes_to_stderr_and_the_diff_still_applies(tmp_path: Path) -> None:
    path = seed_project(tmp_path / "api")
    original = path.read_bytes()
    run = dockopt("fix", "--diff", "api", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert path.read_bytes() == original
    assert run.stdout.startswith(b"--- a/api/Dockerfile\n") and b"impact" not in run.stdout
    assert _patch_tool(tmp_path, run.stdout, check=True).returncode == 0

    err = run.stderr.decode()
    assert "api/Dockerfile: would fix 3 change(s)\n  line 1: DO202 stage-split (review): " in err
    assert "DO202 stage-split (review) x1: A toolchain image ships" in err
    before, after = images.describe("node:20-bookworm").size, images.describe("node:20-alpine").size
    assert before.measure == after.measure == "compressed"  # comparable: a saving is stated
    assert (f"node:20-bookworm, about {before.value:g} MB compressed -> node:20-alpine, {after.value:g} MB compressed "
            f"(about {impact.mb_text(before.value - after.value)} smaller)") in err
    assert "size source: a case study" in err and "seeds/" not in err
    assert "size source: maxmood96/repo-info:repos/node/remote/20-alpine.md@" in err and "image-sizes.tsv" not in err
    assert "stages:      1 -> 2" in err
    assert re.search(r"\[build\] COPY package.json pnpm-lock.yaml ./; RUN npm install -g pnpm@\d+ && pnpm install --frozen-lockfile", err)
    assert "totals" not in err, "one file: no totals table"


def test_many_files_end_with_a_plain_totals_table_when_piped(tmp_path: Path) -> None:
    seed_project(tmp_path / "api")
    write(tmp_path / "web" / "Dockerfile", NEEDS_WORK)
    write(tmp_path / "done" / "Dockerfile", SETTLED)
    run = dockopt("fix", "--diff", ".", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert _patch_tool(tmp_path, run.stdout, check=True).returncode == 0
    err = run.stderr.decode()
    table = err[err.index("totals:\n"):].splitlines()
    assert "\x1b[" not in err and "\u2502" not in err, "plain text, no colour or box drawing"
    rows = dict(re.match(r"  (.+?)  +(\S.*)$", line).groups() for line in table[1:] if line.startswith("  ") and not line.startswith("  size source"))
    assert rows["files"] == "3" and rows["files changed"] == "2"
    assert rows["DO202 stage-split (review)"] == "1"
    saved = [impact.assess(optimize(text, ALL, BuildContext(folder))).size_saved
             for text, folder in ((SEED.joinpath("Dockerfile").read_text(), SEED), (NEEDS_WORK, None))]
    assert rows["base-image size saved (estimate)"] == f"about {impact.mb_text(sum(saved))} in 2 file(s)"
    numbers = [line for line in table[1:] if line.rstrip()[-1].isdigit() and "size" not in line]
    assert len({len(line) for line in numbers}) == 1, "counts are right-aligned"
    assert err.rstrip().endswith("dockopt: 3 file(s), 2 to change, 1 .dockerignore to write")


def test_totals_are_drawn_with_rich_when_colour_is_on(tmp_path: Path) -> None:
    seed_project(tmp_path / "api")
    write(tmp_path / "web" / "Dockerfile", NEEDS_WORK)
    run = dockopt("fix", "--diff", "--color", "always", ".", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    err = run.stderr.decode()
    assert "dockopt totals" in err and "\u2502" in err and "totals:\n" not in err


@pytest.mark.parametrize("args", [["--check"], []], ids=["check", "fix"])
def test_check_and_fix_print_no_summary(args: list[str], tmp_path: Path) -> None:
    seed_project(tmp_path / "api")
    run = dockopt("fix", *args, "api", cwd=tmp_path)
    assert run.returncode == (1 if args else 0), run.stderr
    assert run.stdout == b""
    assert b"line 1: DO202 stage-split (review)" in run.stderr and b"impact" not in run.stderr


def test_format_json_is_one_document_with_each_file(tmp_path: Path) -> None:
    import json

    path = seed_project(tmp_path / "api")
    write(tmp_path / "done" / "Dockerfile", SETTLED)
    original = path.read_bytes()
    run = dockopt("fix", "--diff", "--format", "json", ".", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stderr == b"" and path.read_bytes() == original
    doc = json.loads(run.stdout)
    files = {f["path"]: f for f in doc["files"]}
    api, done = files[os.path.join(".", "api", "Dockerfile")], files[os.path.join(".", "done", "Dockerfile")]
    assert (done["changed"], done["changes"], done["impact"]) == (False, [], None)
    assert api["changed"] is True
    assert [(c["transform"], c["name"], c["safety"]) for c in api["changes"]] == [
        ("DO202", "stage-split", "review"), ("DO319", "pin-package-manager", "review"),
        ("DO317", "frozen-install", "review")]
    assert api["changes"][0]["explanation"].startswith("split into a build stage")
    base = api["impact"]["base_image"]
    assert (base["before"]["ref"], base["after"]["ref"]) == ("node:20-bookworm", "node:20-alpine")
    before, after = images.describe("node:20-bookworm").size, images.describe("node:20-alpine").size
    assert (base["before"]["size"]["value"], base["after"]["size"]["value"]) == (before.value, after.value)
    assert base["saved_mb"] == round(before.value - after.value, 1)
    assert base["before"]["size"]["source"].startswith("seeds/003_d5932590af2a0d6c.txt")
    assert base["after"]["size"]["source"].startswith("image-sizes.tsv: ")
    assert api["impact"]["stages"] == {"before": 1, "after": 2}
    assert [c["instruction"] for c in api["impact"]["cached_layers"]["after"]["cached"]] == [
        "COPY package.json pnpm-lock.yaml ./", "RUN npm install -g pnpm@8 && pnpm install --frozen-lockfile"
    ]
    assert _patch_tool(tmp_path, api["diff"].encode(), check=True).returncode == 0
    totals = doc["totals"]
    assert (totals["files"], totals["changed"], totals["failed"]) == (2, 1, 0)
    assert totals["changes"] == [{"transform": "DO202", "name": "stage-split", "safety": "review", "count": 1},
                                 {"transform": "DO317", "name": "frozen-install", "safety": "review", "count": 1},
                                 {"transform": "DO319", "name": "pin-package-manager", "safety": "review", "count": 1}]
    assert totals["size_saved"]["mb"] == round(before.value - after.value, 1)


def test_format_json_keeps_exit_codes_and_writes_as_fix_does(tmp_path: Path) -> None:
    import json

    path = write(tmp_path / "Dockerfile", NEEDS_WORK)
    check = dockopt("fix", "--check", "--format", "json", "Dockerfile", cwd=tmp_path)
    assert check.returncode == 1 and json.loads(check.stdout)["totals"]["changed"] == 1
    assert path.read_bytes() == NEEDS_WORK.encode()
    applied = dockopt("fix", "--format", "json", "Dockerfile", cwd=tmp_path)
    assert applied.returncode == 0 and "diff" not in json.loads(applied.stdout)["files"][0]
    assert path.read_bytes().decode() == expected(NEEDS_WORK, tmp_path)

    bad = write(tmp_path / "bad" / "Dockerfile", "FROM alpine\nRUNN x\n")
    failed = dockopt("fix", "--format", "json", str(bad), cwd=tmp_path)
    assert failed.returncode == 2 and TRACEBACK not in failed.stderr
    entry = json.loads(failed.stdout)["files"][0]
    assert entry["error"] == "2:1: unknown instruction: RUNN" and entry["changed"] is False


def test_format_json_with_stdin_puts_the_rewrite_in_the_document(tmp_path: Path) -> None:
    import json

    run = dockopt("fix", "--format", "json", "-", cwd=tmp_path, stdin=NEEDS_WORK.encode())
    assert run.returncode == 0, run.stderr
    (entry,) = json.loads(run.stdout)["files"]
    assert entry["path"] == "-" and entry["output"] == optimize(NEEDS_WORK, ALL).output


def test_text_stdin_diff_has_nothing_but_the_diff_on_stdout(tmp_path: Path) -> None:
    run = dockopt("fix", "--diff", "-", cwd=tmp_path, stdin=NEEDS_WORK.encode())
    assert run.returncode == 0
    write(tmp_path / "Dockerfile", NEEDS_WORK)
    assert _patch_tool(tmp_path, run.stdout, check=True).returncode == 0
    assert b"impact" in run.stderr and b"impact" not in run.stdout


def test_unknown_format_is_an_error(tmp_path: Path) -> None:
    write(tmp_path / "Dockerfile", NEEDS_WORK)
    run = dockopt("fix", "--format", "sarif", "Dockerfile", cwd=tmp_path)
    assert run.returncode == 2 and run.stderr.startswith(b"dockopt: error: --format")


# --------------------------------------------------------------------------- start-up cost


@pytest.mark.parametrize("args", [["fix", "--check", "Dockerfile"], ["fix", "-"]], ids=["check", "stdin"])
def test_quick_paths_do_not_import_rich(args: list[str], tmp_path: Path) -> None:
    write(tmp_path / "Dockerfile", NEEDS_WORK)
    run = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "dockopt", *args],
        cwd=tmp_path, input=NEEDS_WORK.encode(), capture_output=True, timeout=120,
    )
    assert run.returncode in (0, 1), run.stderr
    imports = [line for line in run.stderr.decode().splitlines() if line.startswith("import time:")]
    assert any("dockopt.optimizer.pipeline" in line for line in imports), "the engine ran"
    assert [line for line in imports if "rich" in line] == []
    assert [line for line in imports if "dockopt.optimizer.impact" in line] == [], "no summary without --diff"


# --------------------------------------------------------------------------- regressions


@pytest.mark.parametrize("args", [["fix", "-"], ["fix", "--diff", "-"]], ids=["stdin", "diff"])
def test_stdout_is_utf8_whatever_the_locale(args: list[str], tmp_path: Path) -> None:
    text = "FROM alpine\n# caf\u00e9\nMAINTAINER ops@example.com\n"
    run = dockopt(*args, cwd=tmp_path, stdin=text.encode(), env={"PYTHONIOENCODING": "latin-1"})
    assert TRACEBACK not in run.stderr
    assert "# caf\u00e9\n".encode("utf-8") in run.stdout
    if "--diff" not in args:
        assert run.stdout == optimize(text, ALL).output.encode("utf-8")


def test_the_same_change_to_several_instructions_is_listed_once_with_their_lines(tmp_path: Path) -> None:
    text = "FROM alpine:3.22\nRUN apk add curl\nRUN echo x\nRUN apk add git\n"
    write(tmp_path / "Dockerfile", text)
    run = dockopt("fix", "--check", "--select", "DO311", "Dockerfile", cwd=tmp_path)
    assert run.returncode == 1
    assert "  lines 2, 4: DO311 apk-no-cache (safe):" in run.stderr.decode()
    shown = dockopt("fix", "--check", "--format", "json", "--select", "DO311", "Dockerfile", cwd=tmp_path)
    [change] = json.loads(shown.stdout)["files"][0]["changes"]
    assert (change["line"], change["lines"]) == (2, [2, 4])


def test_a_template_is_passed_by_with_a_notice_and_a_typo_is_still_an_error(tmp_path: Path) -> None:
    template = "FROM debian:bookworm\n{{ .Steps }}\nRUN apt-get update\n"
    write(tmp_path / "Dockerfile.template", template)
    for args in (["fix"], ["fix", "--check"], ["fix", "--diff"], ["check"]):
        run = dockopt(*args, "Dockerfile.template", cwd=tmp_path)
        assert run.returncode == 0 and run.stdout == b"", (args, run.stderr)
        assert b"Dockerfile.template:2:1: unknown instruction: {{; a template or an excerpt" in run.stderr
    assert (tmp_path / "Dockerfile.template").read_text() == template
    piped = dockopt("fix", "-", cwd=tmp_path, stdin=b"FROM a\n...\n")
    assert (piped.returncode, piped.stdout) == (0, b"FROM a\n...\n")
    shown = json.loads(dockopt("fix", "--format", "json", "Dockerfile.template", cwd=tmp_path).stdout)
    assert shown["files"][0]["skipped"].startswith("2:1: unknown instruction: {{")
    typo = dockopt("fix", "-", cwd=tmp_path, stdin=b"FROM a\nRUNN x\n")
    assert typo.returncode == 2 and b"-:2:1: unknown instruction: RUNN" in typo.stderr


# --------------------------------------------------------------------------- messages (issue: reliability)


def test_utf16_is_named_as_such(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_bytes("FROM node:20\n".encode("utf-16"))
    run = dockopt("check", "Dockerfile", cwd=tmp_path)
    assert run.returncode == 2
    assert b"Dockerfile:1:1: UTF-16 text: dockopt (like docker) reads UTF-8; save the file as UTF-8" in run.stderr


def test_skipped_paths_are_named_with_the_reason(tmp_path: Path) -> None:
    (tmp_path / "a" / "Dockerfile").mkdir(parents=True)
    write(tmp_path / "outside.Dockerfile", "FROM node:20\n")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "Dockerfile").symlink_to(tmp_path / "outside.Dockerfile")
    run = dockopt("fix", "--check", "a", "b", cwd=tmp_path)
    assert run.returncode == 2
    err = run.stderr.decode()
    assert "a/Dockerfile: skipped: a folder, not a file" in err
    assert "b/Dockerfile: skipped: a symlink to " in err and "outside b" in err
    assert "no Dockerfiles found" in err


def test_a_newline_in_a_path_is_escaped(tmp_path: Path) -> None:
    write(tmp_path / "new\nline.Dockerfile", "FROM node:20\nRUNN x\n")
    run = dockopt("check", ".", cwd=tmp_path)
    assert run.returncode == 2
    assert b"new\\nline.Dockerfile:2:1: unknown instruction: RUNN\n" in run.stderr


def test_a_read_only_file_is_not_replaced_without_force(tmp_path: Path) -> None:
    path = write(tmp_path / "Dockerfile", NEEDS_WORK)
    path.chmod(0o444)
    run = dockopt("fix", "Dockerfile", cwd=tmp_path)
    assert run.returncode == 2 and b"Dockerfile:1:1: cannot write: read-only file" in run.stderr
    assert path.read_text() == NEEDS_WORK
    forced = dockopt("fix", "--force", "Dockerfile", cwd=tmp_path)
    assert forced.returncode == 0 and path.read_text() != NEEDS_WORK
    assert oct(path.stat().st_mode & 0o777) == "0o444", "the mode is kept"
