"""Git, as the bot drives it: a throw-away worktree, one commit, a careful push.

The bot never touches the user's checkout: it reads the base branch from `origin`, checks
it out detached in a temporary `git worktree` (removed afterwards, even on failure), commits
there and pushes the commit straight to `refs/heads/BRANCH` on `origin`, so no local branch
is created either. Repository hooks are off for these commands (`core.hooksPath` pointed at
a path that holds none): the bot's commit is not the user's.

The token reaches git only through the environment of the git processes, never through
argv (visible in `ps`), the git configuration files or the remote URL: git (2.31 and later)
reads extra configuration from `GIT_CONFIG_COUNT` / `GIT_CONFIG_KEY_n` / `GIT_CONFIG_VALUE_n`,
and `http.<remote URL>.extraHeader` sends `Authorization: Basic ...` with every request to
that remote. The key names the remote's full URL so it outranks a host-wide header that
`actions/checkout` may have configured, and an empty value first clears such headers.
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import tempfile
from contextlib import contextmanager
from typing import Iterator, Sequence

TRAILER = "Generated-by: dockopt bot"  # how the bot recognises its own commit on the branch


class GitError(Exception):
    """A git command failed; the message is git's own last line."""


def toplevel(path: str) -> tuple[str, str]:
    """(repository root, PATH relative to it) for a folder or file inside a git work tree."""
    if not os.path.exists(path):
        raise GitError(f"{path}: no such file or folder")
    folder = path if os.path.isdir(path) else os.path.dirname(os.path.abspath(path))
    try:
        out = _git(["rev-parse", "--show-toplevel", "--show-prefix"], cwd=folder, env=_base_env()).split("\n")
    except GitError:
        raise GitError(f"{path}: not inside a git repository") from None
    root, prefix = out[0], out[1] if len(out) > 1 else ""
    if not os.path.isdir(path):
        prefix = prefix + os.path.basename(path)
    return root, prefix.rstrip("/")


def auth_env(token: str | None, url: str, environ: dict | None = None) -> dict[str, str]:
    """Environment variables that make git send the token to `url` (http and https only)."""
    if not token or not url.startswith(("https://", "http://")):
        return {}
    environ = os.environ if environ is None else environ
    try:
        n = int(environ.get("GIT_CONFIG_COUNT", "0"))
    except ValueError:
        n = 0
    basic = base64.b64encode(f"x-access-token:{token}".encode()).decode("ascii")
    key = f"http.{url}.extraHeader"
    return {
        f"GIT_CONFIG_KEY_{n}": key,
        f"GIT_CONFIG_VALUE_{n}": "",  # clears headers configured before (e.g. actions/checkout's)
        f"GIT_CONFIG_KEY_{n + 1}": key,
        f"GIT_CONFIG_VALUE_{n + 1}": f"Authorization: Basic {basic}",
        "GIT_CONFIG_COUNT": str(n + 2),
    }


class Repo:
    """The user's repository, seen through `origin`."""

    def __init__(self, root: str, token: str | None):
        self.root = root
        env = _base_env()
        self.url = self._remote_url(env)
        env.update(auth_env(token, self.url, env))
        self.env = env

    def _remote_url(self, env: dict) -> str:
        try:
            return _git(["remote", "get-url", "--push", "origin"], cwd=self.root, env=env)
        except GitError:
            raise GitError("the repository has no remote named origin") from None

    def git(self, *args: str, cwd: str | None = None, env: dict | None = None, input: str | None = None) -> str:
        return _git(list(args), cwd=cwd or self.root, env={**self.env, **(env or {})}, input=input)

    # ------------------------------------------------------------------ reading

    def remote_heads(self, *branches: str) -> dict[str, str]:
        """{branch: sha} of those branches that exist on origin."""
        refs = [f"refs/heads/{b}" for b in branches]
        found = {}
        for line in self.git("ls-remote", "origin", *refs).splitlines():
            sha, _, ref = line.partition("\t")
            if ref in refs:
                found[ref[len("refs/heads/"):]] = sha
        return found

    def fetch(self, *branches: str) -> None:
        """The branches' commits into the object store; no ref, not even FETCH_HEAD, moves."""
        self.git("fetch", "--quiet", "--no-tags", "--no-write-fetch-head", "origin", *(f"refs/heads/{b}" for b in branches))

    def origin_head(self) -> str | None:
        """The default branch as the local clone remembers it (origin/HEAD), or None."""
        try:
            ref = self.git("symbolic-ref", "--quiet", "refs/remotes/origin/HEAD")
        except GitError:
            return None
        return ref[len("refs/remotes/origin/"):] if ref.startswith("refs/remotes/origin/") else None

    def local_commit(self, branch: str) -> str:
        """The base's commit without fetching (dry runs): origin/BRANCH, else BRANCH."""
        for ref in (f"refs/remotes/origin/{branch}", f"refs/heads/{branch}"):
            try:
                return self.git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
            except GitError:
                continue
        raise GitError(f"no branch {branch!r} in the local clone (neither origin/{branch} nor {branch})")

    def is_own_commit(self, sha: str, base: str) -> bool:
        """True when `sha` is one bot commit on top of `base` or of an older base commit."""
        parents = self.git("rev-list", "--parents", "-n", "1", sha).split()[1:]
        if len(parents) != 1 or TRAILER not in self.git("log", "-1", "--format=%B", sha):
            return False
        try:
            self.git("merge-base", "--is-ancestor", parents[0], base)
        except GitError:
            return False
        return True

    def same_change(self, a: str, b: str) -> bool:
        """Same parent and same tree: the same rewrite, whatever the commit dates."""
        info = [self.git("log", "-1", "--format=%T %P", sha) for sha in (a, b)]
        return info[0] == info[1]

    # ------------------------------------------------------------------ writing

    @contextmanager
    def worktree(self, commit: str) -> Iterator[str]:
        """A detached checkout of `commit` in a temporary folder, removed on the way out."""
        holder = tempfile.mkdtemp(prefix="dockopt-bot-")
        tree = os.path.join(holder, "tree")
        try:
            self.git("worktree", "add", "--quiet", "--detach", tree, commit)
            yield tree
        finally:
            try:
                self.git("worktree", "remove", "--force", tree)
            except GitError:
                pass
            shutil.rmtree(holder, ignore_errors=True)
            try:
                self.git("worktree", "prune")
            except GitError:
                pass

    def commit(self, tree: str, files: Sequence[str], message: str, author: tuple[str, str] | None) -> str:
        env = {}
        if author:
            name, email = author
            env = {"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email, "GIT_COMMITTER_NAME": name, "GIT_COMMITTER_EMAIL": email}
        try:
            self.git("var", "GIT_AUTHOR_IDENT", env=env)
            self.git("var", "GIT_COMMITTER_IDENT", env=env)
        except GitError:
            raise GitError("no git identity for the commit: set user.name and user.email, or pass --author 'Name <email>'") from None
        self.git("add", "--", *files, cwd=tree)
        self.git("commit", "--quiet", "--no-verify", "--no-gpg-sign", "-F", "-", cwd=tree, env=env, input=message)
        return self.git("rev-parse", "HEAD", cwd=tree)

    def push(self, commit: str, branch: str, lease: str | None) -> None:
        """Push `commit` as BRANCH: a new branch, or (`lease`) replacing that exact commit."""
        args = ["push", "--quiet", "--no-verify", "origin", f"{commit}:refs/heads/{branch}"]
        if lease:
            args.insert(2, f"--force-with-lease=refs/heads/{branch}:{lease}")
        self.git(*args)


def _base_env() -> dict[str, str]:
    env = dict(os.environ)
    env["GIT_TERMINAL_PROMPT"] = "0"  # a missing credential fails instead of waiting for a person
    env.setdefault("LC_ALL", "C")
    try:
        n = int(env.get("GIT_CONFIG_COUNT", "0"))
    except ValueError:
        n = 0
    # no repository hooks: a folder that cannot hold any
    env.update({f"GIT_CONFIG_KEY_{n}": "core.hooksPath", f"GIT_CONFIG_VALUE_{n}": os.devnull, "GIT_CONFIG_COUNT": str(n + 1)})
    return env


def _git(args: list[str], cwd: str, env: dict, input: str | None = None) -> str:
    try:
        proc = subprocess.run(["git", *args], cwd=cwd, env=env, input=input, capture_output=True, encoding="utf-8", errors="replace")
    except OSError as exc:
        raise GitError(f"cannot run git: {exc.strerror or exc}") from None
    if proc.returncode != 0:
        lines = [line for line in (proc.stderr or proc.stdout).strip().splitlines() if line.strip()]
        detail = lines[-1].strip() if lines else f"exit status {proc.returncode}"
        raise GitError(f"git {args[0]}: {detail}")
    return proc.stdout.strip()
