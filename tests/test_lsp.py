"""`dockopt lsp`, driven as an editor drives it: a subprocess speaking JSON-RPC over stdio.

`Client` is a small LSP client (Content-Length framing, a reader thread, a timeout on
every wait, so a server that hangs fails the test instead of blocking the run). Expected
diagnostics, fixes and formatting come from the engine in-process (findings.find,
pipeline.optimize); expected positions are recomputed here from those code-point columns
in the encoding under test, independently of dockopt/lsp/positions.py.
"""

from __future__ import annotations

import gzip
import json
import os
import queue
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from dockopt.checks import ALL as CHECKS
from dockopt.optimizer.context import BuildContext
from dockopt.optimizer.findings import find
from dockopt.optimizer.pipeline import optimize
from dockopt.transforms import ALL, by_id

TIMEOUT = 30.0  # seconds any one answer may take before the test fails
NEEDS_WORK = "FROM python:3.12-slim\nMAINTAINER Jane <jane@example.com>\nCOPY . /app\nCMD python /app/main.py\n"
# Safe and review changes on one line, after characters that are 2 UTF-16 units (🐳) and
# 2 UTF-8 bytes (é), so every encoding puts the columns somewhere else.
NON_ASCII = 'FROM ubuntu:22.04\nRUN echo "🐳 é" && apt-get update && apt-get install -y curl\nMAINTAINER Zoë <z@example.com>\n'


class Client:
    """Just enough of an LSP client: requests, notifications, answers to the server's
    requests, and waiting (with a timeout) for what the server sends."""

    def __init__(self, cwd: Path, env: dict | None = None):
        environment = {**os.environ, **(env or {})}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "dockopt", "lsp"],
            cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=environment,
        )
        self.inbox: queue.Queue = queue.Queue()
        self.notifications: list[dict] = []
        self.answers: dict = {}  # method -> result for requests from the server
        self.stderr = b""
        self.next_id = 0
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._drain_stderr, daemon=True).start()

    # -- wire

    def _read(self) -> None:
        out = self.proc.stdout
        while True:
            length = None
            while True:
                line = out.readline()
                if not line:
                    self.inbox.put(None)
                    return
                line = line.strip()
                if not line:
                    break
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            body = out.read(length)
            self.inbox.put(json.loads(body.decode("utf-8")))

    def _drain_stderr(self) -> None:
        for chunk in iter(lambda: self.proc.stderr.read(4096), b""):
            self.stderr += chunk

    def send(self, message: dict) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}, ensure_ascii=False).encode("utf-8")
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()

    def _next(self) -> dict:
        try:
            message = self.inbox.get(timeout=TIMEOUT)
        except queue.Empty:
            raise AssertionError(f"no message from the server in {TIMEOUT}s; stderr: {self.stderr.decode(errors='replace')}")
        if message is None:
            raise AssertionError(f"the server closed its output; stderr: {self.stderr.decode(errors='replace')}")
        if "method" in message and "id" in message:  # a request from the server
            self.send({"id": message["id"], "result": self.answers.get(message["method"])})
            self.notifications.append(message)
        elif "method" in message:
            self.notifications.append(message)
        return message

    # -- protocol

    def request(self, method: str, params) -> object:
        self.next_id += 1
        msg_id = self.next_id
        self.send({"id": msg_id, "method": method, "params": params})
        while True:
            message = self._next()
            if message.get("id") == msg_id and "method" not in message:
                assert "error" not in message, message["error"]
                return message.get("result")

    def notify(self, method: str, params) -> None:
        self.send({"method": method, "params": params})

    def wait_for(self, method: str, where=lambda params: True) -> dict:
        """The first notification (or server request) `method` whose params satisfy `where`,
        including ones already received; each is returned once."""
        seen = 0
        while True:
            for i, message in enumerate(self.notifications[seen:], seen):
                if message["method"] == method and where(message.get("params")):
                    del self.notifications[i]
                    return message["params"]
            seen = len(self.notifications)
            self._next()

    def diagnostics(self, uri: str, version: int | None = None) -> list[dict]:
        params = self.wait_for(
            "textDocument/publishDiagnostics",
            lambda p: p["uri"] == uri and (version is None or p.get("version") == version),
        )
        return params["diagnostics"]

    def initialize(self, capabilities: dict | None = None, options=None) -> dict:
        result = self.request("initialize", {
            "processId": os.getpid(), "rootUri": None, "capabilities": capabilities or {},
            **({"initializationOptions": options} if options is not None else {}),
        })
        self.notify("initialized", {})
        return result

    def open(self, uri: str, text: str, version: int = 1) -> None:
        self.notify("textDocument/didOpen", {
            "textDocument": {"uri": uri, "languageId": "dockerfile", "version": version, "text": text},
        })

    def change(self, uri: str, text: str, version: int) -> None:
        self.notify("textDocument/didChange", {
            "textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}],
        })

    def format(self, uri: str) -> list[dict] | None:
        return self.request("textDocument/formatting", {
            "textDocument": {"uri": uri}, "options": {"tabSize": 4, "insertSpaces": True},
        })

    def code_actions(self, uri: str, rng: dict, only: list[str] | None = None, diagnostics=()) -> list[dict]:
        context = {"diagnostics": list(diagnostics), **({"only": only} if only else {})}
        return self.request("textDocument/codeAction", {"textDocument": {"uri": uri}, "range": rng, "context": context})

    def close(self) -> int:
        """shutdown, exit, and the exit status."""
        assert self.request("shutdown", None) is None
        self.notify("exit", None)
        try:
            return self.proc.wait(timeout=TIMEOUT)
        finally:
            self.kill()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=TIMEOUT)
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                stream.close()
            except OSError:
                pass


@pytest.fixture
def start(tmp_path: Path):
    clients: list[Client] = []

    def start(cwd: Path | None = None, **initialize) -> Client:
        client = Client(cwd or tmp_path)
        clients.append(client)
        client.initialize(**initialize)
        return client

    yield start
    for client in clients:
        client.kill()


def write(path: Path, text: str) -> str:
    """Write a Dockerfile; its file:// URI."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8"))
    return path.as_uri()


def units(text: str, encoding: str) -> int:
    if encoding == "utf-16":
        return len(text.encode("utf-16-le")) // 2
    return len(text.encode("utf-8")) if encoding == "utf-8" else len(text)


def lsp_position(text: str, line: int, column: int, encoding: str = "utf-16") -> dict:
    """A 1-based (line, code-point column) of a text with only "\\n" line ends, in LSP terms."""
    lines = text.split("\n")
    return {"line": line - 1, "character": units(lines[line - 1][: column - 1], encoding)}


def apply_edits(text: str, edits: list[dict], encoding: str = "utf-16") -> str:
    """Apply LSP TextEdits as an editor does: LSP lines (\\r\\n, \\n, \\r), positions in
    code units, all ranges against the original text."""
    import re

    starts = [0] + [m.end() for m in re.finditer(r"\r\n|\r|\n", text)]

    def offset(pos: dict) -> int:
        if pos["line"] >= len(starts):
            return len(text)
        start = starts[pos["line"]]
        i, count = start, 0
        while count < pos["character"]:
            count += units(text[i], encoding)
            i += 1
        return i

    spans = sorted(((offset(e["range"]["start"]), offset(e["range"]["end"]), e["newText"]) for e in edits), reverse=True)
    for a, b, new in spans:
        text = text[:a] + new + text[b:]
    return text


def expected_diagnostics(text: str, folder: Path | None, encoding: str = "utf-16", safe_only: bool = False) -> list:
    """(code, start, end, message) of each finding `dockopt check` reports: the changes, whose
    message says their safety, and the checks' findings with no fix."""
    found = find(text, ALL, CHECKS, BuildContext(folder), safe_only)
    return sorted(
        (f.id, lsp_position(text, f.line, f.column, encoding), lsp_position(text, f.end_line, f.end_column, encoding),
         f"{f.message} ({f.safety})" if f.fixable else f.message)
        for f in found
    )


def got(diagnostics: list[dict]) -> list:
    return sorted((d["code"], d["range"]["start"], d["range"]["end"], d["message"]) for d in diagnostics)


# --------------------------------------------------------------------------- lifecycle


def test_initialize_advertises_what_the_server_does() -> None:
    client = Client(Path.cwd())
    try:
        result = client.initialize()
        caps = result["capabilities"]
        assert result["serverInfo"]["name"] == "dockopt"
        assert caps["documentFormattingProvider"]
        assert set(caps["codeActionProvider"]["codeActionKinds"]) == {"quickfix", "source.fixAll.dockopt"}
        assert caps["textDocumentSync"]["change"] == 1  # full text on every change
        assert caps.get("positionEncoding", "utf-16") == "utf-16"
        assert client.close() == 0
    finally:
        client.kill()


def test_without_pygls_the_command_explains_and_exits_2(tmp_path: Path) -> None:
    blocker = tmp_path / "block"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text(
        "import sys\nfor name in ('pygls', 'lsprotocol'):\n    sys.modules[name] = None\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(blocker), *sys.path])}
    run = subprocess.run([sys.executable, "-m", "dockopt", "lsp"], input=b"", capture_output=True, env=env, timeout=60)
    assert run.returncode == 2
    assert b"install dockopt[lsp]" in run.stderr
    assert b"Traceback" not in run.stderr


def test_other_commands_do_not_import_pygls(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text(NEEDS_WORK)
    code = (
        "import sys\nfrom dockopt.cli import app\n"
        f"for args in (['fix', '--check', {str(path)!r}], ['check', {str(path)!r}], ['rules']):\n"
        "    try:\n        app(args)\n    except SystemExit:\n        pass\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pygls', 'lsprotocol', 'dockopt.lsp')))\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60)
    assert run.stdout.decode().strip().splitlines()[-1] == "[]", run.stderr


# --------------------------------------------------------------------------- diagnostics


def test_diagnostics_on_open_are_the_findings_of_dockopt_check(start, tmp_path: Path) -> None:
    uri = write(tmp_path / "Dockerfile", NEEDS_WORK)
    client = start()
    client.open(uri, NEEDS_WORK)
    diagnostics = client.diagnostics(uri, version=1)
    assert got(diagnostics) == expected_diagnostics(NEEDS_WORK, tmp_path)
    assert diagnostics, "the sample needs work"
    assert all(d["source"] == "dockopt" and d["severity"] == 2 for d in diagnostics)  # warnings
    # the short message is the diagnostic's; its detail rides along as data and related information
    details = {f.id: f.detail for f in find(NEEDS_WORK, ALL, CHECKS, BuildContext(tmp_path)) if f.detail}
    assert details, "the sample has a change with a detail"
    for d in diagnostics:
        if d["code"] in details:
            assert d["data"] == {"detail": details[d["code"]]}
            assert [r["message"] for r in d["relatedInformation"]] == [details[d["code"]]]
            assert d["relatedInformation"][0]["location"] == {"uri": uri, "range": d["range"]}
        else:
            assert "data" not in d and "relatedInformation" not in d
    assert client.close() == 0


def test_diagnostics_include_the_findings_with_no_fix(start, tmp_path: Path) -> None:
    text = "FROM python:3.12-slim\nARG PASSWORD=hunter2\nCOPY . /app\nCMD [\"python\", \"/app/main.py\"]\n"
    uri = write(tmp_path / "Dockerfile", text)
    client = start()
    client.open(uri, text)
    diagnostics = client.diagnostics(uri)
    assert got(diagnostics) == expected_diagnostics(text, tmp_path)
    [secret] = [d for d in diagnostics if d["code"] == "DO501"]  # a check: no fix
    assert secret["severity"] == 1 and secret["range"]["start"]["line"] == 1
    assert secret["data"]["detail"]  # what to do instead, as `dockopt check` prints it under the finding
    actions = client.request("textDocument/codeAction", {
        "textDocument": {"uri": uri}, "range": secret["range"], "context": {"diagnostics": [secret]},
    })
    assert not [a for a in actions or [] if a.get("kind") == "quickfix"]  # nothing to apply
    assert client.close() == 0


@pytest.mark.parametrize("encoding", ["utf-16", "utf-8", "utf-32"])
def test_positions_count_code_units_of_the_negotiated_encoding(start, tmp_path: Path, encoding: str) -> None:
    uri = write(tmp_path / "Dockerfile", NON_ASCII)
    client = start(capabilities={"general": {"positionEncodings": [encoding]}})
    client.open(uri, NON_ASCII)
    diagnostics = client.diagnostics(uri)
    assert got(diagnostics) == expected_diagnostics(NON_ASCII, tmp_path, encoding)
    line_2 = [d for d in diagnostics if d["range"]["start"]["line"] == 1]
    assert line_2, "the sample has changes after the non-ASCII characters of line 2"
    code_points = [f.column - 1 for f in find(NON_ASCII, ALL, [], BuildContext(tmp_path)) if f.line == 2]
    if encoding != "utf-32":
        assert sorted(d["range"]["start"]["character"] for d in line_2) != sorted(code_points)


def test_crlf_lines_and_lone_carriage_returns(start, tmp_path: Path) -> None:
    crlf = NEEDS_WORK.replace("\n", "\r\n")
    uri = write(tmp_path / "Dockerfile", crlf)
    client = start()
    client.open(uri, crlf)
    diagnostics = client.diagnostics(uri)
    assert got(diagnostics) == expected_diagnostics(NEEDS_WORK, tmp_path)  # same lines and columns as LF
    # A comment with a lone CR and a U+2028: LSP ends a line at the first, not the second.
    odd = "# one\rtwo \u2028 three\n" + NEEDS_WORK
    uri = write(tmp_path / "odd" / "Dockerfile", odd)
    client.open(uri, odd)
    lines = sorted(d["range"]["start"]["line"] for d in client.diagnostics(uri))
    assert lines == sorted(start["line"] + 2 for _, start, _, _ in expected_diagnostics(NEEDS_WORK, tmp_path))


def test_a_parse_error_is_one_diagnostic_at_its_position(start, tmp_path: Path) -> None:
    text = "FROM alpine\n  RUNN echo hi\n"
    uri = write(tmp_path / "Dockerfile", text)
    client = start()
    client.open(uri, text)
    [diagnostic] = client.diagnostics(uri)
    assert diagnostic["severity"] == 1
    assert "RUNN" in diagnostic["message"]
    assert diagnostic["range"] == {"start": {"line": 1, "character": 2}, "end": {"line": 1, "character": 14}}
    assert client.format(uri) in (None, [])
    client.change(uri, NEEDS_WORK, 2)
    assert got(client.diagnostics(uri, version=2)) == expected_diagnostics(NEEDS_WORK, tmp_path)
    assert client.close() == 0


def test_changes_are_analysed_again_and_the_last_version_wins(start, tmp_path: Path) -> None:
    uri = write(tmp_path / "Dockerfile", NEEDS_WORK)
    client = start()
    client.open(uri, NEEDS_WORK)
    client.diagnostics(uri, version=1)
    settled = optimize(NEEDS_WORK, ALL, BuildContext(tmp_path)).output
    for version in range(2, 7):  # typing: each change replaces the one before
        client.change(uri, NEEDS_WORK if version % 2 else settled, version)
    assert client.diagnostics(uri, version=6) == []
    client.change(uri, NEEDS_WORK, 7)
    assert got(client.diagnostics(uri, version=7)) == expected_diagnostics(NEEDS_WORK, tmp_path)


def test_the_build_context_is_the_documents_folder_and_untitled_has_none(start, tmp_path: Path) -> None:
    (tmp_path / "data.bin").write_bytes(gzip.compress(b"payload", mtime=0))
    text = "FROM alpine\nADD data.bin /srv/\n"
    uri = write(tmp_path / "Dockerfile", text)
    client = start()
    client.open(uri, text)
    assert "DO103" not in {d["code"] for d in client.diagnostics(uri)}, "the context shows data.bin is gzip"
    client.open("untitled:Untitled-1", text)
    diagnostics = client.diagnostics("untitled:Untitled-1")
    assert "DO103" in {d["code"] for d in diagnostics}, "with no context, nothing says data.bin is an archive"
    assert got(diagnostics) == expected_diagnostics(text, None)


def test_the_projects_configuration_is_honoured(start, tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".dockopt.toml").write_text('ignore = ["maintainer-label"]\nreview = false\n')
    uri = write(tmp_path / "svc" / "Dockerfile", NON_ASCII)
    client = start()
    client.open(uri, NON_ASCII)
    codes = {d["code"] for d in client.diagnostics(uri)}
    assert "DO102" not in codes
    changes = {c for c in codes if c in {t.id for t in ALL}}
    assert changes and all(by_id(c).safety == "safe" for c in changes)
    (tmp_path / ".dockopt.toml").write_text('select = ["no-such-rule"]\n')
    client.notify("textDocument/didSave", {"textDocument": {"uri": uri}})
    [diagnostic] = client.diagnostics(uri)
    assert diagnostic["severity"] == 1 and "no-such-rule" in diagnostic["message"]
    # `cache-mounts = true` switches on DO320, as `--cache-mounts` does on the command line
    apt = "FROM debian:12\nRUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*\n"
    (tmp_path / ".dockopt.toml").write_text("cache-mounts = true\n")
    client.change(uri, apt, version=2)
    assert "DO320" in {d["code"] for d in client.diagnostics(uri, version=2)}


# --------------------------------------------------------------------------- code actions


def test_a_quick_fix_applies_that_one_change(start, tmp_path: Path) -> None:
    uri = write(tmp_path / "Dockerfile", NEEDS_WORK)
    client = start()
    client.open(uri, NEEDS_WORK)
    diagnostics = client.diagnostics(uri)
    [maintainer] = [d for d in diagnostics if d["code"] == "DO102"]
    actions = client.code_actions(uri, maintainer["range"], diagnostics=[maintainer])
    quickfixes = [a for a in actions if a["kind"] == "quickfix"]
    [fix] = [a for a in quickfixes if a["diagnostics"][0]["code"] == "DO102"]
    assert fix["isPreferred"] is True  # a safe change
    result = apply_edits(NEEDS_WORK, fix["edit"]["changes"][uri])
    assert result == optimize(NEEDS_WORK, [by_id("DO102")], BuildContext(tmp_path)).output
    assert all(a["diagnostics"][0]["range"]["start"]["line"] == 1 for a in quickfixes), "only the cursor's line"
    only = client.code_actions(uri, maintainer["range"], only=["source.fixAll"])
    assert [a["kind"] for a in only] == ["source.fixAll.dockopt"]


def test_fix_all_applies_every_safe_change(start, tmp_path: Path) -> None:
    uri = write(tmp_path / "Dockerfile", NON_ASCII)
    client = start()
    client.open(uri, NON_ASCII)
    client.diagnostics(uri)
    whole = {"start": {"line": 0, "character": 0}, "end": {"line": 3, "character": 0}}
    [action] = client.code_actions(uri, whole, only=["source.fixAll.dockopt"])
    result = apply_edits(NON_ASCII, action["edit"]["changes"][uri])
    assert result == optimize(NON_ASCII, ALL, BuildContext(tmp_path), safe_only=True).output != NON_ASCII


# --------------------------------------------------------------------------- formatting


def test_formatting_applies_safe_changes_as_minimal_edits(start, tmp_path: Path) -> None:
    text = "# keep this comment\n" + NON_ASCII + "# and this one\nCOPY --chown=1000 . /app\n"
    uri = write(tmp_path / "Dockerfile", text)
    client = start()
    client.open(uri, text)
    edits = client.format(uri)
    safe = optimize(text, ALL, BuildContext(tmp_path), safe_only=True).output
    assert safe != text and safe != optimize(text, ALL, BuildContext(tmp_path)).output
    assert apply_edits(text, edits) == safe
    same = [i for i, (a, b) in enumerate(zip(text.split("\n"), safe.split("\n"))) if a == b]
    for edit in edits:  # no edit spans a line that stays the same before the first change
        assert edit["range"]["start"]["line"] not in same[:1]
    touched = sum(e["range"]["end"]["line"] - e["range"]["start"]["line"] for e in edits)
    assert touched < len(text.split("\n")) - 1, "only the changed lines are rewritten"
    assert client.close() == 0


def test_formatting_keeps_crlf_and_nothing_to_do_is_no_edit(start, tmp_path: Path) -> None:
    crlf = NEEDS_WORK.replace("\n", "\r\n")
    uri = write(tmp_path / "Dockerfile", crlf)
    client = start()
    client.open(uri, crlf)
    safe = optimize(crlf, ALL, BuildContext(tmp_path), safe_only=True).output
    assert "\r\n" in safe and "\n" not in safe.replace("\r\n", "")
    assert apply_edits(crlf, client.format(uri)) == safe
    client.change(uri, safe, 2)
    assert client.format(uri) in ([], None)


def test_review_setting_from_initialization_options(start, tmp_path: Path) -> None:
    uri = write(tmp_path / "Dockerfile", NON_ASCII)
    client = start(options={"dockopt": {"review": True}})
    client.open(uri, NON_ASCII)
    full = optimize(NON_ASCII, ALL, BuildContext(tmp_path)).output
    assert full != optimize(NON_ASCII, ALL, BuildContext(tmp_path), safe_only=True).output
    assert apply_edits(NON_ASCII, client.format(uri)) == full


def test_review_setting_from_workspace_configuration(start, tmp_path: Path) -> None:
    uri = write(tmp_path / "Dockerfile", NON_ASCII)
    client = Client(tmp_path)
    try:
        client.answers["workspace/configuration"] = [{"review": True}]
        client.initialize(capabilities={"workspace": {"configuration": True}})
        request = client.wait_for("workspace/configuration")
        assert request["items"] == [{"section": "dockopt"}]
        client.open(uri, NON_ASCII)
        assert apply_edits(NON_ASCII, client.format(uri)) == optimize(NON_ASCII, ALL, BuildContext(tmp_path)).output
        client.notify("workspace/didChangeConfiguration", {"settings": {"dockopt": {"review": False}}})
        safe = optimize(NON_ASCII, ALL, BuildContext(tmp_path), safe_only=True).output
        assert apply_edits(NON_ASCII, client.format(uri)) == safe
        assert client.close() == 0
    finally:
        client.kill()


def test_a_huge_document_never_stalls_the_server(start, tmp_path: Path) -> None:
    # Regression: after a 5 MB didChange of long RUN lines, no formatting request was
    # answered within 400 s. Now: nothing to offer for it, at once, and the server goes on.
    small = NEEDS_WORK
    uri = write(tmp_path / "Dockerfile", small)
    other = write(tmp_path / "Other.Dockerfile", small)
    client = start()
    client.open(uri, small)
    client.open(other, small)
    huge = "FROM debian:bookworm\n" + "".join(f"RUN echo {'x' * 1000} {i}\n" for i in range(5000))
    client.change(uri, huge, 2)
    assert client.format(uri) in ([], None)
    assert client.code_actions(uri, {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}) in ([], None)
    # the other document is still served
    safe = optimize(small, ALL, BuildContext(tmp_path), safe_only=True).output
    assert apply_edits(small, client.format(other)) == safe
    assert client.close() == 0
