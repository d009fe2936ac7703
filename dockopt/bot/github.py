"""The four GitHub REST calls the bot makes, over the standard library's urllib.

Repository (default branch), open pull requests of a head branch, create, update. The
token travels in the Authorization header only; errors come back as one line with the
method, the path, the status and GitHub's own message.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request

from dockopt import __version__

TIMEOUT = 30  # seconds per request


class ApiError(Exception):
    """A request failed: `GitHub API: METHOD /path: 404 Not Found: message`."""


class GitHub:
    def __init__(self, api_url: str, token: str | None, owner: str, name: str):
        self.api_url = api_url.rstrip("/")
        self.token = token
        self.owner, self.name = owner, name
        self.repo_path = f"/repos/{urllib.parse.quote(owner)}/{urllib.parse.quote(name)}"

    def default_branch(self) -> str:
        branch = self._call("GET", self.repo_path).get("default_branch")
        if not isinstance(branch, str) or not branch:
            raise ApiError(f"GitHub API: GET {self.repo_path}: the answer names no default_branch")
        return branch

    def open_pull(self, branch: str) -> dict | None:
        """The open pull request whose head is OWNER:BRANCH, if any."""
        query = urllib.parse.urlencode({"head": f"{self.owner}:{branch}", "state": "open"})
        pulls = self._call("GET", f"{self.repo_path}/pulls?{query}")
        return pulls[0] if isinstance(pulls, list) and pulls else None

    def create_pull(self, branch: str, base: str, title: str, body: str) -> dict:
        return self._call("POST", f"{self.repo_path}/pulls", {"title": title, "head": branch, "base": base, "body": body})

    def update_pull(self, number: int, title: str, body: str) -> dict:
        return self._call("PATCH", f"{self.repo_path}/pulls/{int(number)}", {"title": title, "body": body})

    def _call(self, method: str, path: str, payload: dict | None = None):
        headers = {
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
            "User-Agent": f"dockopt-bot/{__version__}",
        }
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        data = None
        if payload is not None:
            data = json.dumps(payload).encode("utf-8")
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(self.api_url + path, data=data, headers=headers, method=method)
        where = f"GitHub API: {method} {path.partition('?')[0]}"
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            raise ApiError(f"{where}: {exc.code} {exc.reason}{_message(exc)}") from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", None) or exc
            raise ApiError(f"{where}: cannot reach {self.api_url}: {reason}") from None
        try:
            return json.loads(raw.decode("utf-8")) if raw.strip() else {}
        except ValueError:
            raise ApiError(f"{where}: the answer is not JSON") from None


def _message(exc: urllib.error.HTTPError) -> str:
    """GitHub's explanation from an error's JSON body (and the first detail), if any."""
    try:
        body = json.loads(exc.read().decode("utf-8"))
    except Exception:
        return ""
    if not isinstance(body, dict) or not body.get("message"):
        return ""
    text = str(body["message"])
    errors = body.get("errors")
    if isinstance(errors, list) and errors:
        first = errors[0]
        detail = first.get("message") if isinstance(first, dict) else str(first)
        if detail:
            text += f" ({detail})"
    return ": " + " ".join(text.split())
