"""Project configuration: where it is found, what it may say, and how the flags override it.

Every test builds its own folder tree with a `.git` folder at the top, so a configuration
above the temporary folder (none is expected) cannot leak in.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from dockopt.optimizer.config import Config, ConfigError, Configs, load, locate, parse_table
from dockopt.optimizer.pipeline import optimize
from dockopt.transforms import ALL
from helpers import dockopt, write

TABLE = '[tool.dockopt]\nignore = ["DO102"]\n'


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()
    return tmp_path


# --------------------------------------------------------------------------- finding the file


def test_no_file_gives_the_defaults(repo: Path) -> None:
    assert load(str(repo)) == Config()
    assert Config().select is None and Config().review is True


def test_the_nearest_file_up_the_tree_wins(repo: Path) -> None:
    write(repo / "pyproject.toml", TABLE)
    deep = repo / "services" / "api" / "docker"
    deep.mkdir(parents=True)
    assert load(str(deep)) == Config(ignore=("DO102",), path=str(repo / "pyproject.toml"))
    write(repo / "services" / ".dockopt.toml", 'select = ["DO101"]\n')
    assert load(str(deep)).select == ("DO101",)


def test_dotfile_first_in_a_folder_with_both(repo: Path) -> None:
    write(repo / "pyproject.toml", TABLE)
    write(repo / ".dockopt.toml", "review = false\n")
    config = load(str(repo))
    assert config.path == str(repo / ".dockopt.toml") and config.review is False and config.ignore == ()


@pytest.mark.parametrize(
    "text",
    [
        '[project]\nname = "x"\n',
        '[project]\ndescription = """\n[tool.dockopt]\n"""\n',  # the header inside a string
        "[tool.ruff]\nline-length = 100\n",
    ],
)
def test_a_pyproject_without_the_table_is_passed_over(text: str, repo: Path) -> None:
    write(repo / "pyproject.toml", TABLE)
    write(repo / "app" / "pyproject.toml", text)
    assert load(str(repo / "app")).path == str(repo / "pyproject.toml")


def test_subtables_and_quoted_keys_count(repo: Path) -> None:
    write(repo / "pyproject.toml", '[tool."dockopt"]\nreview = false\n')
    assert load(str(repo)).review is False


def test_the_search_stops_at_the_repository_root(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", TABLE)
    (tmp_path / "checkout" / ".git").mkdir(parents=True)
    (tmp_path / "checkout" / "src").mkdir()
    assert locate(str(tmp_path / "checkout" / "src")) is None
    assert locate(str(tmp_path / "checkout")) is None
    write(tmp_path / "checkout" / ".dockopt.toml", "")
    assert locate(str(tmp_path / "checkout" / "src"))[0] == str(tmp_path / "checkout" / ".dockopt.toml")


def test_each_dockerfile_gets_its_folders_configuration(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(repo / "a" / ".dockopt.toml", 'ignore = ["DO101"]\n')
    configs = Configs()
    assert configs.for_target(str(repo / "a" / "Dockerfile")).ignore == ("DO101",)
    assert configs.for_target(str(repo / "b" / "Dockerfile")) == Config()
    monkeypatch.chdir(repo / "a")
    assert configs.for_target("-").ignore == ("DO101",), "standard input: the current folder's"


# --------------------------------------------------------------------------- what it may say


def test_every_key(repo: Path) -> None:
    write(repo / ".dockopt.toml", 'select = ["DO101", "secret-in-env"]\nignore = [" DO102 "]\nreview = false\n'
                                  'base-flavour = "distroless"\ncache-mounts = true\n')
    assert load(str(repo)) == Config(("DO101", "secret-in-env"), ("DO102",), False, "distroless", True,
                                     str(repo / ".dockopt.toml"))


@pytest.mark.parametrize(
    "table, message",
    [
        ({"selct": ["DO101"]}, "unknown key 'selct'"),
        ({"select": "DO101"}, "select must be a list"),
        ({"ignore": [1]}, "ignore must be a list"),
        ({"review": "no"}, "review must be true or false"),
        ({"cache-mounts": 1}, "cache-mounts must be true or false"),
        ({"base-flavour": "tiny"}, "base-flavour must be one of slim, alpine, distroless"),
        ({"images": "debian"}, "images must be a table"),
        ({"images": {"corp/base:1": "debian:bookworm"}}, 'images: "corp/base:1" must name an image without a tag'),
        ({"images": {"corp/base": 12}}, 'images: "corp/base" must name an image without a tag'),
        ({"images": {"corp/base": "corp/other:1"}}, "images: corp/base = 'corp/other:1': not an image whose OS"),
    ],
)
def test_invalid_values_name_the_file(table: dict, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_table("/p/pyproject.toml", table)
    assert str(caught.value).startswith("/p/pyproject.toml: [tool.dockopt] ") and message in str(caught.value)
    with pytest.raises(ConfigError, match=rf"^/p/\.dockopt\.toml: {message}"):
        parse_table("/p/.dockopt.toml", table)


def test_invalid_toml_gives_a_position(repo: Path) -> None:
    write(repo / ".dockopt.toml", 'review = false\nselect = ["DO101" "DO102"]\n')
    with pytest.raises(ConfigError) as caught:
        load(str(repo))
    assert re.match(rf"{re.escape(str(repo / '.dockopt.toml'))}:2:\d+: invalid TOML: ", str(caught.value))
    write(repo / ".dockopt.toml", 'review = false\nselect = ["DO101"\n')
    with pytest.raises(ConfigError) as caught:
        load(str(repo))
    assert str(caught.value).startswith(f"{repo / '.dockopt.toml'}:3:1: invalid TOML: ")


def test_the_flags_override_the_file() -> None:
    config = Config(select=("DO101",), ignore=("DO102",), review=False, base_flavour="slim", path="x")
    assert config.override() is config
    assert config.override(["DO103"], None, None).select == ("DO103",)
    assert config.override(["DO103"], None, None).ignore == (), "the rules named are the rules that run"
    assert config.override(None, ["DO104"], True) == Config(("DO101",), ("DO104",), True, "slim", None, "x")


def test_toml_is_parsed_only_when_a_file_is_found(repo: Path) -> None:
    write(repo / "plain" / "pyproject.toml", '[project]\nname = "x"\n')
    write(repo / "configured" / "pyproject.toml", TABLE)
    code = "import sys; from dockopt.optimizer.config import load; load(sys.argv[1]); print('tomllib' in sys.modules)"
    for folder, parsed in (("plain", "False"), ("configured", "True")):
        run = subprocess.run([sys.executable, "-c", code, str(repo / folder)], capture_output=True, text=True)
        assert run.stdout.strip() == parsed, run.stderr


# --------------------------------------------------------------------------- the command

SAMPLE = "FROM ubuntu\nMAINTAINER ops@example.com\nCMD python app.py\n"


def expected(**kwargs) -> str:
    transforms = [t for t in ALL if t.id not in kwargs.get("without", ())]
    return optimize(SAMPLE, transforms, safe_only=kwargs.get("safe_only", False)).output


def test_fix_follows_the_configuration(repo: Path) -> None:
    write(repo / "pyproject.toml", '[tool.dockopt]\nignore = ["maintainer-label"]\nreview = false\n')
    path = write(repo / "svc" / "Dockerfile", SAMPLE)
    run = dockopt("fix", "svc/Dockerfile", cwd=repo)
    assert run.returncode == 0, run.stderr
    assert path.read_text() == expected(without=("DO102",), safe_only=True)
    assert "MAINTAINER" in path.read_text() and "FROM ubuntu\n" in path.read_text()


def test_flags_override_the_configuration(repo: Path) -> None:
    write(repo / ".dockopt.toml", 'ignore = ["maintainer-label"]\nreview = false\n')
    path = write(repo / "Dockerfile", SAMPLE)
    assert dockopt("fix", "--review", "--ignore", "DO101", "Dockerfile", cwd=repo).returncode == 0
    assert path.read_text() == expected(without=("DO101",))
    path.write_text(SAMPLE)
    assert dockopt("fix", "--select", "DO102", "Dockerfile", cwd=repo).returncode == 0
    assert path.read_text() == optimize(SAMPLE, [t for t in ALL if t.id == "DO102"]).output


def test_stdin_uses_the_current_folders_configuration(repo: Path) -> None:
    write(repo / ".dockopt.toml", 'select = ["DO102"]\n')
    run = dockopt("fix", "-", cwd=repo, stdin=SAMPLE.encode())
    assert run.stdout.decode() == optimize(SAMPLE, [t for t in ALL if t.id == "DO102"]).output


def test_check_follows_the_configuration(repo: Path) -> None:
    write(repo / ".dockopt.toml", 'ignore = ["DO514", "DO102"]\nreview = false\n')
    write(repo / "Dockerfile", SAMPLE)
    ids = {d["id"] for d in json.loads(dockopt("check", "--format", "json", "Dockerfile", cwd=repo).stdout)}
    assert "DO514" not in ids and "DO102" not in ids and "DO204" not in ids
    assert "DO515" in ids, "with review off, the check reports the tag DO204 would have pinned"
    ids = {d["id"] for d in json.loads(dockopt("check", "--format", "json", "--review", "Dockerfile", cwd=repo).stdout)}
    assert "DO204" in ids and "DO515" not in ids


@pytest.mark.parametrize(
    "text, message",
    [
        ('ignore = ["DO999"]\n', b".dockopt.toml: unknown transform 'DO999'"),
        ("review = 'no'\n", b".dockopt.toml: review must be true or false"),
        ("select = [\n", b".dockopt.toml:2:1: invalid TOML: "),
    ],
)
def test_a_bad_configuration_is_an_error(text: str, message: bytes, repo: Path) -> None:
    write(repo / ".dockopt.toml", text)
    path = write(repo / "Dockerfile", SAMPLE)
    run = dockopt("fix", "Dockerfile", cwd=repo)
    assert run.returncode == 2
    assert run.stderr.startswith(b"dockopt: error: ") and message in run.stderr and b"Traceback" not in run.stderr
    assert path.read_text() == SAMPLE


def test_a_bad_configuration_anywhere_stops_the_run_before_any_change(repo: Path) -> None:
    first = write(repo / "a" / "Dockerfile", SAMPLE)
    write(repo / "b" / ".dockopt.toml", "review = 'no'\n")
    write(repo / "b" / "Dockerfile", SAMPLE)
    run = dockopt("fix", ".", cwd=repo)
    assert run.returncode == 2 and b"b/.dockopt.toml: review must be true or false" in run.stderr
    assert first.read_text() == SAMPLE


CACHED = "FROM python:3.12-slim\nRUN pip install --no-cache-dir flask\n"


def test_cache_mounts_from_the_configuration_or_the_flag(repo: Path) -> None:
    from dockopt.transforms import choose

    path = write(repo / "Dockerfile", CACHED)
    with_mounts = optimize(CACHED, choose(switched_on=("cache-mounts",))).output
    assert "--mount=type=cache,target=/root/.cache/pip" in with_mounts and "--no-cache-dir" not in with_mounts
    assert dockopt("fix", "Dockerfile", cwd=repo).returncode == 0
    assert path.read_text() == CACHED, "off by default"
    assert dockopt("fix", "--cache-mounts", "Dockerfile", cwd=repo).returncode == 0
    assert path.read_text() == with_mounts
    path.write_text(CACHED)
    write(repo / ".dockopt.toml", "cache-mounts = true\n")
    assert dockopt("fix", "Dockerfile", cwd=repo).returncode == 0
    assert path.read_text() == with_mounts


def test_base_flavour_slim_keeps_the_rewrites_off_alpine(repo: Path) -> None:
    from dockopt.optimizer.context import BuildContext
    from dockopt.transforms import by_id

    text = "FROM python:3.12-slim\nCOPY app.py /app/\nCMD [\"python\", \"/app/app.py\"]\n"
    path = write(repo / "svc" / "Dockerfile", text)
    free = optimize(text, [by_id("slim-base")], BuildContext(str(path.parent))).output
    assert free.startswith("FROM python:3.12-alpine\n"), "nothing in the stage needs glibc"
    write(repo / ".dockopt.toml", 'base-flavour = "slim"\n')
    kept = optimize(text, [by_id("slim-base")], BuildContext(str(path.parent)))
    assert kept.output == text, "already the slim variant: nothing smaller on glibc"
    assert BuildContext(str(path.parent)).musl_ok is False
    full = text.replace("3.12-slim", "3.12")
    swapped = optimize(full, [by_id("slim-base")], BuildContext(str(path.parent)))
    assert swapped.output.startswith("FROM python:3.12-slim\n")
    assert "base-flavour" in swapped.changes[0].explanation


def test_declared_images_get_the_os_of_the_image_they_are_built_from(repo: Path) -> None:
    write(repo / "pyproject.toml", '[tool.dockopt.images]\n"registry.example.com/base/*" = "debian:bookworm-slim"\n')
    assert load(str(repo)).images == (("registry.example.com/base/*", "debian:bookworm-slim"),)
    text = "FROM registry.example.com/base/python:3.12\nRUN curl -fsSL https://example.com/x.sh | sh\n"
    write(repo / "Dockerfile", text)
    shown = dockopt("fix", "--diff", "Dockerfile", cwd=repo)
    assert shown.returncode == 0, shown.stderr
    assert b'+SHELL ["/bin/bash", "-o", "pipefail", "-c"]' in shown.stdout, "its /bin/sh is dash, bash beside it"
    # standard input takes the current folder's configuration, as for the rules that run
    piped = dockopt("fix", "-", cwd=repo, stdin=text.encode())
    assert b'SHELL ["/bin/bash", "-o", "pipefail", "-c"]' in piped.stdout, piped.stderr
    # and a file built with another context folder, its own folder's
    write(repo / "app" / "main.py", "")
    moved = dockopt("fix", "--diff", "--context", "app", "Dockerfile", cwd=repo)
    assert b"+SHELL" in moved.stdout, moved.stderr
    # without the declaration the image is unknown, and nothing reads its OS
    (repo / "pyproject.toml").unlink()
    assert b"SHELL" not in dockopt("fix", "--diff", "--select", "DO109", "Dockerfile", cwd=repo).stdout


def test_a_dotfile_may_hold_the_pyproject_table_as_is(repo: Path) -> None:
    # The README shows `[tool.dockopt]`; people copy it into .dockopt.toml.
    write(repo / ".dockopt.toml", TABLE)
    assert load(str(repo)) == Config(ignore=("DO102",), path=str(repo / ".dockopt.toml"))
    write(repo / ".dockopt.toml", '[tool.dockopt]\nignore = ["DO102"]\n[tool.other]\nx = 1\n')
    with pytest.raises(ConfigError, match="unknown key 'tool'"):
        load(str(repo))
