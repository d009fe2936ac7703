"""`dockopt bot`: open (or update) a pull request that optimizes a repository's Dockerfiles.

    dockopt bot [PATH] --repo OWNER/NAME [--base BRANCH] [--branch dockopt/optimize]
                [--api-url URL] [--dry-run] [--safe] [--token-env NAME] [--author 'N <e>']

1. The base branch is `--base`, else the repository's default branch as the GitHub API
   reports it, else `origin/HEAD`. Its commit on `origin` is checked out in a temporary
   `git worktree`, so the user's checkout and uncommitted work are never touched.
2. The Dockerfiles below PATH are rewritten there by the engine, with each file's project
   configuration exactly as `dockopt fix` would (`--safe`: safe transforms only).
3. One commit goes to `origin` as BRANCH. An existing BRANCH is replaced only when it holds
   nothing but the bot's own earlier commit on top of the base (`--force-with-lease`);
   commits of anyone else stop the run. The same rewrite on the same base pushes nothing.
4. The pull request lists every change with its reason and the diff. An open pull request
   for BRANCH gets its body updated instead of a second one being opened; when nothing
   changes, nothing is opened.

`--dry-run` prints the body and the diff and writes nothing: no fetch, branch, push or API
write (the base is read from the API if it answers, else from the local clone).

Why urllib and not a GitHub client library: the bot needs four REST calls (repository,
list, create and update pull requests), which the standard library makes in a few lines.
A client such as PyGithub or ghapi would be a new runtime dependency, and start-up cost,
for every user of `dockopt fix`, most of whom never run the bot.

The token is read from the environment (`GITHUB_TOKEN` or `--token-env`) and never printed,
logged or written anywhere: the API gets it in the Authorization header, git through
environment-scoped configuration (see dockopt/bot/git.py). Errors are one line on stderr
and exit status 2.
"""

from __future__ import annotations

import os
import re
import sys

from dockopt.bot.github import ApiError, GitHub
from dockopt.bot.git import GitError, Repo, toplevel


class BotError(Exception):
    """A reason to stop, for the user: one line."""


def run(
    path: str = ".",
    repo: str = "",
    base: str | None = None,
    branch: str = "dockopt/optimize",
    api_url: str = "https://api.github.com",
    dry_run: bool = False,
    safe: bool = False,
    token_env: str = "GITHUB_TOKEN",
    author: str | None = None,
    measure: bool = False,
) -> int:
    """Run the bot; returns the exit status (0 done or nothing to do, 2 an error)."""
    from dockopt.settings import SettingsError

    token = os.environ.get(token_env) or None
    try:
        _Bot(path, repo, base, branch, api_url, dry_run, safe, token, token_env, author, measure).run()
    except (BotError, GitError, ApiError, SettingsError) as exc:  # SettingsError: a bad configuration
        print(f"dockopt: error: {_redact(str(exc), token)}", file=sys.stderr)
        return 2
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"dockopt: error: {_redact(where + str(exc.strerror or exc), token)}", file=sys.stderr)
        return 2
    except Exception as exc:  # a dockopt bug: still one line, and never the token
        message = f"internal error ({type(exc).__name__}: {exc}); this is a dockopt bug, please report it"
        print(f"dockopt: error: {_redact(message, token)}", file=sys.stderr)
        return 2
    return 0


def _redact(text: str, token: str | None) -> str:
    """Belt and braces: no message should hold the token, and none will show it."""
    return text.replace(token, "***") if token and len(token) >= 8 else text


def _say(message: str) -> None:
    print(f"dockopt bot: {message}", file=sys.stderr)


class _Bot:
    def __init__(self, path, repo, base, branch, api_url, dry_run, safe, token, token_env, author, measure=False):
        m = re.fullmatch(r"([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+)", repo or "")
        if not m:
            raise BotError(f"--repo must be OWNER/NAME, not {repo!r}")
        self.owner, self.name = m.groups()
        if not token and not dry_run:
            raise BotError(f"no token: set {token_env} to a token that may push branches and open pull requests")
        if not re.fullmatch(r"[A-Za-z0-9._/-]+", branch) or branch.startswith(("-", "/")) or ".." in branch:
            raise BotError(f"--branch {branch!r} is not a usable branch name")
        self.author = _parse_author(author) if author else None
        self.path, self.base, self.branch = path, base, branch
        self.dry_run, self.safe, self.token = dry_run, safe, token
        self.engine = None
        if measure:  # before anything is fetched: no engine, no run
            from dockopt.measure.engine import Engine, EngineError

            try:
                self.engine = Engine.connect()
            except EngineError as exc:
                raise BotError(str(exc)) from None
        self.api = GitHub(api_url, token, self.owner, self.name)

    def run(self) -> None:
        from dockopt.bot import body

        root, prefix = toplevel(self.path)
        repo = Repo(root, self.token)
        base = self.base or self._default_branch(repo)
        if self.dry_run:
            base_sha = repo.local_commit(base)
        else:
            heads = repo.remote_heads(base)
            if base not in heads:
                raise BotError(f"origin has no branch {base!r}")
            base_sha = heads[base]
            repo.fetch(base)

        with repo.worktree(base_sha) as tree:
            try:
                files, skipped, total = self._rewrite(tree, prefix)
            finally:
                if self.engine is not None:
                    self.engine.cleanup()
            if not files:
                where = f" below {prefix}" if prefix else ""
                _say(f"nothing to change in {total} Dockerfile(s){where} on {base}; no pull request opened")
                return
            title, text = body.title(files), body.body(files, base, skipped)
            if self.dry_run:
                sys.stdout.write(f"{title}\n\n{text}\n")
                sys.stdout.write("".join(f.diff for f in files))
                _say(f"dry run: would push {self.branch} and open a pull request against {base}")
                return
            commit = repo.commit(tree, [f.path for f in files], body.commit_message(files), self.author)
            self._push(repo, commit, base_sha)

        pull = self.api.open_pull(self.branch)
        if pull:
            pull = self.api.update_pull(pull["number"], title, text)
            _say(f"updated pull request #{pull.get('number')}")
        else:
            pull = self.api.create_pull(self.branch, base, title, text)
            _say(f"opened pull request #{pull.get('number')}")
        print(pull.get("html_url") or f"#{pull.get('number')}")

    def _default_branch(self, repo: Repo) -> str:
        try:
            return self.api.default_branch()
        except ApiError as exc:
            branch = repo.origin_head()
            if not branch:
                raise BotError(f"{exc}; and origin/HEAD is not set: pass --base") from None
            _say(f"{exc}; using origin/HEAD: {branch}")
            return branch

    def _rewrite(self, tree: str, prefix: str):
        """Rewrite the Dockerfiles below PATH in the worktree: (changed, skipped, total)."""
        from dockopt.bot.body import FileChange
        from dockopt.optimizer import runner
        from dockopt.settings import Settings

        top = os.path.join(tree, prefix) if prefix else tree
        if not os.path.exists(top):
            raise BotError(f"{prefix} does not exist on the base branch")
        settings = Settings(None, None, self.safe, False, with_checks=False, noun="transform")
        targets = list(runner.discover([top]))
        files, skipped = [], []
        for target in targets:
            transforms, _, safe_only = settings.for_target(target)
            rel = os.path.relpath(target, tree).replace(os.sep, "/")
            proof = None
            if self.engine is not None:  # built and run first; what breaks is left out
                from dockopt.measure.prove import Options, prove

                _say(f"{rel}: building and running the original and the rewrite")
                proof = prove(target, None, transforms, safe_only, targets, self.engine, Options())
                if proof.error:
                    skipped.append((rel, proof.error))
                    continue
                transforms = proof.kept
            outcome = runner.run_file(target, transforms, None, safe_only, True, targets)
            if outcome.error:
                skipped.append((rel, outcome.error))
                _say(f"{rel}:{outcome.error}")
                continue
            for done in (outcome, *outcome.companions):  # a .dockerignore written beside it, too
                if done.changed and not done.error:
                    files.append(FileChange(os.path.relpath(done.path, tree).replace(os.sep, "/"), done.result,
                                            proof if done is outcome else None, os.path.dirname(target)))
        return files, skipped, len(targets)

    def _push(self, repo: Repo, commit: str, base_sha: str) -> None:
        remote = repo.remote_heads(self.branch).get(self.branch)
        if remote is None:
            repo.push(commit, self.branch, lease=None)
            _say(f"pushed {self.branch}")
            return
        repo.fetch(self.branch)
        if not repo.is_own_commit(remote, base_sha):
            raise BotError(
                f"origin's {self.branch} holds commits that are not dockopt's own; not overwriting it "
                "(merge or delete it, or pass another --branch)"
            )
        if repo.same_change(remote, commit):
            _say(f"{self.branch} already holds this rewrite")
            return
        repo.push(commit, self.branch, lease=remote)
        _say(f"updated {self.branch}")


def _parse_author(author: str) -> tuple[str, str]:
    m = re.fullmatch(r"\s*([^<>]*?)\s*<([^<>\s]+)>\s*", author)
    if not m or not m.group(1):
        raise BotError(f"--author must be 'Name <email>', not {author!r}")
    return m.group(1), m.group(2)
