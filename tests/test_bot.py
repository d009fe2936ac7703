"""`dockopt bot` against a real git repository and a stand-in for the GitHub API.

Each test has a bare repository as `origin` (a file path), a clone of it as the user's
checkout, and a local HTTP server in a thread that answers the four REST calls the bot
makes and records every request. What is checked is what a user would check: the branch
pushed to the remote, the pull requests opened or updated, the user's checkout left as it
was, and the token found nowhere but in the API's Authorization header.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from dockopt.bot import body as bodymod
from dockopt.bot import run
from dockopt.bot.git import TRAILER, auth_env
from dockopt.optimizer.context import BuildContext
from dockopt.optimizer.pipeline import optimize
from dockopt.transforms import ALL
from helpers import write

TOKEN = "ghs_SECRETtoken1234567890abcdef"
BRANCH = "dockopt/optimize"
NAIVE = (
    "FROM python:3.12-slim\n"
    "MAINTAINER Jane <jane@example.com>\n"
    "RUN apt-get update\n"
    "RUN apt-get install -y curl\n"
    "COPY . /app\n"
    "CMD python /app/main.py\n"
)
TRACEBACK = "Traceback"


# --------------------------------------------------------------------------- the stand-in API


class FakeGitHub:
    """Answers GET /repos/o/r, GET/POST /repos/o/r/pulls and PATCH /repos/o/r/pulls/N."""

    def __init__(self, owner: str = "acme", name: str = "shop", default_branch: str = "main"):
        self.owner, self.name, self.default_branch = owner, name, default_branch
        self.requests: list[dict] = []
        self.pulls: list[dict] = []
        self.fail: dict[str, int] = {}  # method -> status to answer with
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                api.requests.append(
                    {"method": self.command, "path": self.path, "headers": dict(self.headers.items()), "body": raw.decode()}
                )
                status, answer = api.answer(self.command, self.path, self.headers, raw)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def answer(self, method: str, path: str, headers, raw: bytes) -> tuple[int, object]:
        if headers.get("Authorization") != f"Bearer {TOKEN}":
            return 401, {"message": "Bad credentials"}
        if method in self.fail:
            return self.fail[method], {"message": "Validation Failed", "errors": [{"message": "something is wrong"}]}
        url = urlsplit(path)
        repo = f"/repos/{self.owner}/{self.name}"
        if method == "GET" and url.path == repo:
            return 200, {"full_name": f"{self.owner}/{self.name}", "default_branch": self.default_branch}
        if method == "GET" and url.path == f"{repo}/pulls":
            query = parse_qs(url.query)
            head, state = query.get("head", [""])[0], query.get("state", ["open"])[0]
            found = [p for p in self.pulls if f"{self.owner}:{p['head']}" == head and p["state"] == state]
            return 200, found
        if method == "POST" and url.path == f"{repo}/pulls":
            payload = json.loads(raw)
            number = len(self.pulls) + 1
            pull = {**payload, "number": number, "state": "open", "html_url": f"https://github.test/{self.owner}/{self.name}/pull/{number}"}
            self.pulls.append(pull)
            return 201, pull
        if method == "PATCH" and url.path.startswith(f"{repo}/pulls/"):
            number = int(url.path.rsplit("/", 1)[1])
            pull = self.pulls[number - 1]
            pull.update(json.loads(raw))
            return 200, pull
        return 404, {"message": "Not Found"}

    def writes(self) -> list[dict]:
        return [r for r in self.requests if r["method"] != "GET"]

    def __enter__(self) -> FakeGitHub:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def api():
    with FakeGitHub() as server:
        yield server


# --------------------------------------------------------------------------- git set-up


@pytest.fixture
def git_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    """An identity and no machine-wide git configuration, as on a fresh CI machine."""
    empty = tmp_path / "gitconfig"
    empty.write_text("")
    values = {
        "GIT_CONFIG_GLOBAL": str(empty),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "Test Author",
        "GIT_AUTHOR_EMAIL": "author@example.com",
        "GIT_COMMITTER_NAME": "Test Author",
        "GIT_COMMITTER_EMAIL": "author@example.com",
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    for key in ("GIT_CONFIG_COUNT", "GIT_DIR", "GIT_WORK_TREE", "GITHUB_TOKEN", "NO_COLOR"):
        monkeypatch.delenv(key, raising=False)
    return dict(os.environ)


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def project(tmp_path: Path, git_env: dict) -> tuple[Path, Path]:
    """(the user's clone, the bare `origin`) holding a naive Dockerfile on main."""
    seed, remote, work = tmp_path / "seed", tmp_path / "origin.git", tmp_path / "work"
    seed.mkdir()
    git("init", "-q", "-b", "main", cwd=seed)
    write(seed / "Dockerfile", NAIVE)
    write(seed / "main.py", "print('hi')\n")
    write(seed / "docs" / "README.md", "docs\n")
    git("add", "-A", cwd=seed)
    git("commit", "-q", "-m", "initial", cwd=seed)
    git("init", "-q", "--bare", "-b", "main", str(remote), cwd=tmp_path)
    git("push", "-q", str(remote), "main", cwd=seed)
    git("clone", "-q", str(remote), str(work), cwd=tmp_path)
    return work, remote


def bot(*args: str, cwd: Path, api: FakeGitHub | None, token: str | None = TOKEN) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    if token:
        env["GITHUB_TOKEN"] = token
    options = ["--repo", "acme/shop", "--api-url", api.url if api else "http://127.0.0.1:9"]
    return subprocess.run(
        [sys.executable, "-m", "dockopt", "bot", *args, *options],
        cwd=cwd, capture_output=True, text=True, env=env, timeout=120,
    )


def expected(text: str, folder: Path, safe_only: bool = False) -> str:
    return optimize(text, ALL, BuildContext(str(folder)), safe_only).output


def snapshot(work: Path) -> dict:
    """Everything of the user's checkout the bot must leave alone."""
    files = {
        str(p.relative_to(work)): p.read_bytes()
        for p in sorted(work.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(work).parts
    }
    return {
        "files": files,
        "status": git("status", "--porcelain", "--untracked-files=all", cwd=work),
        # local branches and tags; a push updates origin/BRANCH as git always does
        "refs": git("for-each-ref", "--format=%(refname) %(objectname)", "refs/heads", "refs/tags", cwd=work),
        "head": git("symbolic-ref", "HEAD", cwd=work),
        "worktrees": git("worktree", "list", "--porcelain", cwd=work),
        "config": (work / ".git" / "config").read_bytes(),
        "stash": git("stash", "list", cwd=work),
    }


def remote_file(remote: Path, ref: str, path: str) -> str:
    return git("show", f"{ref}:{path}", cwd=remote) + "\n"


def assert_token_nowhere(api: FakeGitHub, *texts: str, repos: tuple[Path, ...] = ()) -> None:
    encoded = base64.b64encode(f"x-access-token:{TOKEN}".encode()).decode()
    for text in texts:
        assert TOKEN not in text and encoded not in text
    for repo in repos:
        config = git("config", "--list", "--show-origin", cwd=repo)
        assert TOKEN not in config and encoded not in config
        for url in git("remote", "-v", cwd=repo).splitlines() if (repo / ".git").exists() else []:
            assert TOKEN not in url
    for request in api.requests:
        assert request["headers"]["Authorization"] == f"Bearer {TOKEN}"
        others = {k: v for k, v in request["headers"].items() if k != "Authorization"}
        assert TOKEN not in json.dumps(others) + request["path"] + request["body"]


# --------------------------------------------------------------------------- the main scenario


def test_opens_one_pull_request_then_updates_it(project, api) -> None:
    work, remote = project
    # the user's own uncommitted work: a modified Dockerfile, an untracked file
    write(work / "Dockerfile", NAIVE + "# local edit, not committed\n")
    write(work / "scratch.txt", "untracked\n")
    before = snapshot(work)
    base_sha = git("rev-parse", "main", cwd=remote)

    first = bot(cwd=work, api=api)
    assert first.returncode == 0, first.stderr
    assert TRACEBACK not in first.stderr
    assert first.stdout.strip() == "https://github.test/acme/shop/pull/1"

    # the branch on origin: one commit on top of main, holding the engine's rewrite
    want = expected(NAIVE, work)
    assert want != NAIVE
    assert remote_file(remote, BRANCH, "Dockerfile") == want
    assert git("rev-list", "--count", f"main..{BRANCH}", cwd=remote) == "1"
    assert git("rev-parse", f"{BRANCH}^", cwd=remote) == base_sha
    assert git("diff", "--name-only", "main", BRANCH, cwd=remote) == "Dockerfile"
    message = git("log", "-1", "--format=%B", BRANCH, cwd=remote)
    assert message.startswith("dockopt: optimize Dockerfile") and TRAILER in message
    assert git("log", "-1", "--format=%an <%ae>", BRANCH, cwd=remote) == "Test Author <author@example.com>"

    # the pull request: base, head, and a body with every change and its reason
    (created,) = [r for r in api.writes()]
    assert created["method"] == "POST" and created["path"] == "/repos/acme/shop/pulls"
    payload = json.loads(created["body"])
    assert payload["head"] == BRANCH and payload["base"] == "main"
    assert payload["title"] == "dockopt: optimize Dockerfile"
    text = payload["body"]
    result = optimize(NAIVE, ALL, BuildContext(str(work)))
    for change in result.changes:
        t = change.transform
        assert f"**{t.id} {t.name}** ({change.safety})" in text
        assert t.why.split("`")[0][:40] in text
    assert "<details>" in text and "```diff\n--- a/Dockerfile\n+++ b/Dockerfile\n" in text
    assert "### `Dockerfile`" in text

    # the user's checkout, uncommitted work and configuration are as they were
    assert snapshot(work) == before

    # second run: the same rewrite; no second pull request, the body is updated
    pushed = git("rev-parse", BRANCH, cwd=remote)
    second = bot(cwd=work, api=api)
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip() == "https://github.test/acme/shop/pull/1"
    assert [r["method"] for r in api.writes()] == ["POST", "PATCH"]
    assert api.writes()[1]["path"] == "/repos/acme/shop/pulls/1"
    assert len(api.pulls) == 1 and api.pulls[0]["body"] == text
    assert git("rev-parse", BRANCH, cwd=remote) == pushed  # the same rewrite pushes nothing
    assert snapshot(work) == before

    assert_token_nowhere(api, first.stdout, first.stderr, second.stdout, second.stderr, repos=(work, remote))


def test_updates_its_own_branch_when_the_base_moves(project, api, monkeypatch) -> None:
    work, remote = project
    assert run(path=str(work), repo="acme/shop", api_url=api.url, token_env="BOT_TOKEN") == 2  # no token yet
    monkeypatch.setenv("BOT_TOKEN", TOKEN)
    assert run(path=str(work), repo="acme/shop", api_url=api.url, token_env="BOT_TOKEN") == 0
    first = git("rev-parse", BRANCH, cwd=remote)
    # someone adds a second Dockerfile to main
    other = work.parent / "other"
    git("clone", "-q", str(remote), str(other), cwd=work.parent)
    write(other / "api" / "Dockerfile", "FROM alpine:3.20\nRUN apk add curl\nCMD curl -s localhost\n")
    git("add", "-A", cwd=other)
    git("commit", "-q", "-m", "api", cwd=other)
    git("push", "-q", "origin", "main", cwd=other)
    assert run(path=str(work), repo="acme/shop", api_url=api.url, token_env="BOT_TOKEN") == 0
    new = git("rev-parse", BRANCH, cwd=remote)
    assert new != first
    assert git("rev-parse", f"{BRANCH}^", cwd=remote) == git("rev-parse", "main", cwd=remote)
    assert git("rev-list", "--count", f"main..{BRANCH}", cwd=remote) == "1"
    api_text = remote_file(remote, BRANCH, "api/Dockerfile")
    assert api_text == expected("FROM alpine:3.20\nRUN apk add curl\nCMD curl -s localhost\n", other / "api")
    assert [r["method"] for r in api.writes()] == ["POST", "PATCH"]
    assert len(api.pulls) == 1
    assert api.pulls[0]["title"] == "dockopt: optimize 2 Dockerfiles"
    assert "### `api/Dockerfile`" in api.pulls[0]["body"]


def test_never_overwrites_commits_that_are_not_its_own(project, api, capsys, monkeypatch) -> None:
    work, remote = project
    other = work.parent / "other"
    git("clone", "-q", str(remote), str(other), cwd=work.parent)
    git("checkout", "-q", "-b", BRANCH, cwd=other)
    write(other / "notes.txt", "a person's work\n")
    git("add", "-A", cwd=other)
    git("commit", "-q", "-m", "mine", cwd=other)
    git("push", "-q", "origin", BRANCH, cwd=other)
    theirs = git("rev-parse", BRANCH, cwd=remote)
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    status = run(path=str(work), repo="acme/shop", api_url=api.url)
    err = capsys.readouterr().err
    assert status == 2
    assert f"origin's {BRANCH} holds commits that are not dockopt's own" in err
    assert git("rev-parse", BRANCH, cwd=remote) == theirs
    assert api.writes() == []
    assert git("worktree", "list", cwd=work).count("\n") == 0


def test_nothing_to_change_opens_nothing(tmp_path, git_env, api) -> None:
    remote, work = tmp_path / "origin.git", tmp_path / "work"
    git("init", "-q", "--bare", "-b", "main", str(remote), cwd=tmp_path)
    git("clone", "-q", str(remote), str(work), cwd=tmp_path)
    write(work / "Dockerfile", expected(NAIVE, work))
    write(work / "main.py", "print('hi')\n")
    git("add", "-A", cwd=work)
    git("commit", "-q", "-m", "already optimized", cwd=work)
    git("push", "-q", "origin", "main", cwd=work)

    done = bot(cwd=work, api=api)
    assert done.returncode == 0, done.stderr
    assert "nothing to change in 1 Dockerfile(s) on main; no pull request opened" in done.stderr
    assert done.stdout == ""
    assert api.writes() == []
    assert git("for-each-ref", "refs/heads", cwd=remote) == git("for-each-ref", "refs/heads/main", cwd=remote)


def test_a_dockerignore_the_rewrite_writes_is_committed_and_listed(tmp_path, git_env, api) -> None:
    remote, work = tmp_path / "origin.git", tmp_path / "work"
    git("init", "-q", "--bare", "-b", "main", str(remote), cwd=tmp_path)
    git("clone", "-q", str(remote), str(work), cwd=tmp_path)
    write(work / "Dockerfile", "FROM node:20-slim\nWORKDIR /app\nCOPY . .\nRUN npm ci\nCMD [\"node\", \"server.js\"]\n")
    write(work / "package.json", '{"name": "shop", "version": "1.0.0"}\n')
    write(work / "package-lock.json", '{"name": "shop", "lockfileVersion": 3, "packages": {}}\n')
    write(work / "server.js", "console.log('hi')\n")
    git("add", "-A", cwd=work)
    git("commit", "-q", "-m", "node app", cwd=work)
    git("push", "-q", "origin", "main", cwd=work)

    done = bot(cwd=work, api=api)
    assert done.returncode == 0, done.stderr
    assert sorted(git("diff", "--name-only", "main", BRANCH, cwd=remote).split()) == [".dockerignore", "Dockerfile"]
    assert "node_modules" in remote_file(remote, BRANCH, ".dockerignore")
    body = json.loads(api.writes()[0]["body"])["body"]
    assert "### `.dockerignore`" in body and "DO205" in body
    assert not (work / ".dockerignore").exists(), "the user's checkout is left alone"


def test_dry_run_prints_and_writes_nothing(project, api) -> None:
    work, remote = project
    before, remote_refs = snapshot(work), git("for-each-ref", cwd=remote)
    objects = git("count-objects", "-v", cwd=work)

    done = bot("--dry-run", cwd=work, api=api)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("dockopt: optimize Dockerfile\n\n")
    assert "**DO102 maintainer-label** (safe)" in done.stdout
    assert done.stdout.endswith(
        "".join(f.diff for f in [bodymod.FileChange("Dockerfile", optimize(NAIVE, ALL, BuildContext(str(work))))])
    )
    assert "would push dockopt/optimize" in done.stderr
    assert [r["method"] for r in api.requests] == ["GET"]  # the default branch, nothing else
    assert snapshot(work) == before
    assert git("for-each-ref", cwd=remote) == remote_refs
    assert git("count-objects", "-v", cwd=work) == objects
    assert not (work / ".git" / "FETCH_HEAD").exists()
    assert_token_nowhere(api, done.stdout, done.stderr, repos=(work, remote))


def test_dry_run_without_token_or_api_falls_back_to_origin_head(project) -> None:
    work, remote = project
    done = bot("--dry-run", "--safe", cwd=work, api=None, token=None)
    assert done.returncode == 0, done.stderr
    assert "using origin/HEAD: main" in done.stderr
    assert "(review)" not in done.stdout and "0 review" in done.stdout
    assert done.stdout.endswith(
        "".join(f.diff for f in [bodymod.FileChange("Dockerfile", optimize(NAIVE, ALL, BuildContext(str(work)), True))])
    )


def test_path_limits_the_rewrite_and_author_is_used(project, api) -> None:
    work, remote = project
    write(work / "svc" / "Dockerfile", "FROM alpine:3.20\nRUN apk add curl\n")
    git("add", "-A", cwd=work)
    git("commit", "-q", "-m", "svc", cwd=work)
    git("push", "-q", "origin", "main", cwd=work)
    done = bot("svc", "--author", "Dock Bot <bot@example.com>", "--branch", "bot/svc", cwd=work, api=api)
    assert done.returncode == 0, done.stderr
    assert git("diff", "--name-only", "main", "bot/svc", cwd=remote) == "svc/Dockerfile"
    assert git("log", "-1", "--format=%an <%ae>|%cn <%ce>", "bot/svc", cwd=remote) == (
        "Dock Bot <bot@example.com>|Dock Bot <bot@example.com>"
    )
    assert json.loads(api.writes()[0]["body"])["head"] == "bot/svc"


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "args, token, message",
    [
        ((), None, "dockopt: error: no token: set GITHUB_TOKEN"),
        (("--author", "nobody"), TOKEN, "dockopt: error: --author must be 'Name <email>'"),
        (("--branch", "-x"), TOKEN, "dockopt: error: --branch '-x' is not a usable branch name"),
    ],
)
def test_bad_invocation_is_one_line(project, api, args, token, message) -> None:
    work, _ = project
    done = bot(*args, cwd=work, api=api, token=token)
    assert done.returncode == 2
    assert done.stderr.startswith(message) and done.stderr.count("\n") == 1
    assert api.requests == []


def test_bad_repo_and_not_a_git_repository(tmp_path, git_env, api) -> None:
    env = {**os.environ, "GITHUB_TOKEN": TOKEN}
    bad = subprocess.run(
        [sys.executable, "-m", "dockopt", "bot", "--repo", "nope", "--api-url", api.url],
        cwd=tmp_path, capture_output=True, text=True, env=env,
    )
    assert bad.returncode == 2 and bad.stderr == "dockopt: error: --repo must be OWNER/NAME, not 'nope'\n"
    done = bot(cwd=tmp_path, api=api)
    assert done.returncode == 2
    assert done.stderr.endswith(": not inside a git repository\n") and done.stderr.count("\n") == 1


def test_api_errors_are_one_line_without_the_token(project, api) -> None:
    work, remote = project
    api.fail["POST"] = 422
    done = bot(cwd=work, api=api)
    assert done.returncode == 2
    last = done.stderr.strip().splitlines()[-1]
    assert last == (
        "dockopt: error: GitHub API: POST /repos/acme/shop/pulls: 422 Unprocessable Entity: "
        "Validation Failed (something is wrong)"
    )
    assert TRACEBACK not in done.stderr
    assert_token_nowhere(api, done.stdout, done.stderr, repos=(work, remote))

    wrong = bot(cwd=work, api=api, token="ghs_wrong_token_value")
    assert wrong.returncode == 2 and "401 Unauthorized: Bad credentials" in wrong.stderr
    assert "ghs_wrong_token_value" not in wrong.stderr


def test_unreachable_api_with_explicit_base(project) -> None:
    work, _ = project
    done = bot("--base", "main", cwd=work, api=None)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1].startswith(
        "dockopt: error: GitHub API: GET /repos/acme/shop/pulls: cannot reach http://127.0.0.1:9"
    )
    assert TRACEBACK not in done.stderr


# --------------------------------------------------------------------------- the pieces


def test_git_gets_the_token_from_the_environment_only() -> None:
    url = "https://github.com/acme/shop.git"
    env = auth_env(TOKEN, url, {"GIT_CONFIG_COUNT": "1"})
    assert env["GIT_CONFIG_COUNT"] == "3"
    assert env["GIT_CONFIG_KEY_1"] == env["GIT_CONFIG_KEY_2"] == f"http.{url}.extraHeader"
    assert env["GIT_CONFIG_VALUE_1"] == ""
    header = env["GIT_CONFIG_VALUE_2"]
    assert header.startswith("Authorization: Basic ")
    assert base64.b64decode(header.split()[-1]).decode() == f"x-access-token:{TOKEN}"
    assert auth_env(TOKEN, "/srv/git/shop.git") == {}
    assert auth_env(TOKEN, "git@github.com:acme/shop.git") == {}
    assert auth_env(None, url) == {}


def test_body_stays_under_githubs_limit() -> None:
    big = "FROM python:3.12\n" + "".join(f"MAINTAINER person{i} <p{i}@example.com>\n" for i in range(2000))
    result = optimize(big, ALL)
    files = [bodymod.FileChange("Dockerfile", result)]
    assert len(files[0].diff) > bodymod.MAX_BODY
    text = bodymod.body(files, "main")
    assert len(text) <= bodymod.MAX_BODY
    assert "Diff cut after" in text and "`dockopt fix --diff` on the branch shows it whole" in text
    # the changes and the diff (a change's own detail is collapsed inside the first)
    assert sum(line.startswith("<details>") for line in text.splitlines()) == 2 and text.rstrip().endswith("</sub>")


def test_a_list_of_changes_too_long_is_cut_too() -> None:
    from dockopt.optimizer.edits import Edit
    from dockopt.optimizer.pipeline import Change, Result
    from dockopt.transforms import by_id

    t = by_id("DO102")
    changes = [Change(t, Edit(0, 0, "", f"explanation number {i}"), i, t.safety) for i in range(300)]
    files = [bodymod.FileChange("Dockerfile", Result("FROM a\n", "FROM b\n", changes))]
    assert len(bodymod.body(files, "main", limit=10**6)) > 8000
    text = bodymod.body(files, "main", limit=8000)
    assert len(text) <= 8000 and "the list of changes is cut here" in text
    assert "-FROM a\n+FROM b\n" in text  # the diff still fits after the cut list


def test_body_fence_outlasts_backticks_in_the_diff() -> None:
    source = "FROM alpine:3.20\nRUN echo '```' && apk add curl\n"
    text = bodymod.body([bodymod.FileChange("Dockerfile", optimize(source, ALL))], "main")
    assert "````diff\n" in text and "\n````\n" in text


def test_markup_in_explanations_is_escaped_outside_code() -> None:
    assert bodymod._text("use <stage> not `--from=<n>`") == "use &lt;stage&gt; not `--from=<n>`"


def test_git_over_http_sends_the_token_as_a_header_only(tmp_path, git_env, monkeypatch) -> None:
    """A stand-in git server records what `git ls-remote` sends: the bot's header replaces
    one configured before (as actions/checkout does), and no git argv holds the token."""
    from dockopt.bot import git as gitmod

    seen: list[list[str]] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:
            seen.append(self.headers.get_all("Authorization") or [])
            self.send_response(404)
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/acme/shop.git"
    work = tmp_path / "work"
    work.mkdir()
    git("init", "-q", "-b", "main", cwd=work)
    git("remote", "add", "origin", url, cwd=work)
    git("config", f"http.http://127.0.0.1:{server.server_address[1]}/.extraheader", "AUTHORIZATION: basic OLD", cwd=work)
    argv: list[list[str]] = []
    real_run = subprocess.run
    monkeypatch.setattr(gitmod.subprocess, "run", lambda args, **kw: argv.append(args) or real_run(args, **kw))
    try:
        with pytest.raises(gitmod.GitError):
            gitmod.Repo(str(work), TOKEN).remote_heads("main")
    finally:
        server.shutdown()
        server.server_close()
    basic = base64.b64encode(f"x-access-token:{TOKEN}".encode()).decode()
    assert seen and all(headers == [f"Basic {basic}"] for headers in seen)
    assert argv and not any(TOKEN in " ".join(a) or basic in " ".join(a) for a in argv)
    assert TOKEN not in (work / ".git" / "config").read_text()


def test_bad_configuration_on_the_base_is_one_line_and_cleans_up(project, api) -> None:
    work, remote = project
    write(work / ".dockopt.toml", "colour = 'blue'\n")
    git("add", "-A", cwd=work)
    git("commit", "-q", "-m", "config", cwd=work)
    git("push", "-q", "origin", "main", cwd=work)
    done = bot(cwd=work, api=api)
    assert done.returncode == 2
    assert done.stderr.startswith("dockopt: error: ") and "unknown key 'colour'" in done.stderr
    assert done.stderr.count("\n") == 1 and TRACEBACK not in done.stderr
    assert git("worktree", "list", cwd=work).count("\n") == 0
    assert api.writes() == []


def test_body_leads_with_a_table_and_counts_files_by_kind(tmp_path) -> None:
    from dockopt.optimizer.pipeline import Result

    work = tmp_path / "svc"
    write(work / "package.json", '{"name": "svc", "dependencies": {"express": "^4"}}\n')
    write(work / "package-lock.json", '{"lockfileVersion": 3, "packages": {"": {}}}\n')
    result = optimize(NAIVE, ALL, BuildContext(str(work)))
    files = [bodymod.FileChange("Dockerfile", result, None, str(work)),
             bodymod.FileChange(".dockerignore", Result(None, "node_modules\n", []))]
    text = bodymod.body(files, "main")
    assert text.startswith("dockopt rewrote 1 Dockerfile and 1 .dockerignore on `main`")
    table = text.split("\n\n", 2)[1]
    assert table.startswith("| Dockerfile | final base image | size | stages |")
    row = table.splitlines()[2]
    assert row.startswith("| `Dockerfile` |") and "(estimate" in row and " safe, " in row and "review |" in row
    assert text.index("| Dockerfile |") < text.index("<details>") < text.index("### `Dockerfile`")
    # each change is listed by its short message; its reasoning is collapsed below it
    listed = [line for line in text.splitlines() if line.startswith("- line")]
    assert listed and all(len(line.split("): ", 1)[1]) <= 120 for line in listed)
    assert "  <details><summary>How dockopt decided</summary>" in text
    assert bodymod.title(files) == "dockopt: optimize Dockerfile"
