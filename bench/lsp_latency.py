"""Latency of the language server as an editor sees it: one request, one answer, over stdio.

Editors format on save and wait for the answer before writing the file, so the time that
matters is the round trip of `textDocument/formatting` once the server runs (its start-up
is paid once per editor session, not per save). This script starts `dockopt lsp`, opens a
typical Dockerfile (the one bench.py times cold by default), and times:

- `formatting`: the round trip of textDocument/formatting (every round of the pipeline
  with the `safe` transforms, and the line diff), the document unchanged between runs
  (nothing is cached for formatting, so each run does the whole work);
- `codeAction`: the round trip for the quick fixes on line 1 after an edit, so the
  analysis (one round of proposals) is redone each time;
- `engine`: `dockopt.lsp.analysis.format_edits` in this process, no JSON-RPC, as the floor.

Medians and 90th percentiles in milliseconds, after 5 warm-up runs. It measures, it does
not judge: exit status 0 either way.

    python bench/lsp_latency.py [--runs 200] [--file PATH] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FILES = REPO.parent / "shared" / "corpus" / "files"
DEFAULT = FILES / "GoogleCloudPlatform__python-docs-samples__kubernetes_engine__django_tutorial__Dockerfile"
FALLBACK = REPO / "examples" / "node-app" / "Dockerfile"
WARMUP = 5


class Server:
    """`dockopt lsp` in a subprocess, and a blocking JSON-RPC call."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "dockopt", "lsp"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=REPO
        )
        self.next_id = 0

    def send(self, message: dict) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()

    def receive(self) -> dict:
        length = 0
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise SystemExit("dockopt lsp exited")
            if not line.strip():
                break
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        return json.loads(self.proc.stdout.read(length))

    def call(self, method: str, params) -> object:
        self.next_id += 1
        self.send({"id": self.next_id, "method": method, "params": params})
        while True:
            message = self.receive()
            if message.get("id") == self.next_id and "method" not in message:
                return message.get("result")

    def notify(self, method: str, params) -> None:
        self.send({"method": method, "params": params})

    def stop(self) -> None:
        self.call("shutdown", None)
        self.notify("exit", None)
        self.proc.wait(timeout=30)


def timed(fn, runs: int) -> list[float]:
    for _ in range(WARMUP):
        fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return times


def summary(times: list[float]) -> dict:
    ordered = sorted(times)
    return {
        "runs": len(times),
        "median_ms": round(statistics.median(ordered), 3),
        "p90_ms": round(ordered[int(0.9 * (len(ordered) - 1))], 3),
        "min_ms": round(ordered[0], 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--file", type=Path, default=DEFAULT if DEFAULT.exists() else FALLBACK)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(REPO))
    from dockopt.lsp.analysis import format_edits

    path = args.file.resolve()
    text = path.read_text(encoding="utf-8")
    uri = path.as_uri()
    server = Server()
    server.call("initialize", {"processId": os.getpid(), "rootUri": None, "capabilities": {}})
    server.notify("initialized", {})
    server.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "dockerfile", "version": 1, "text": text}})
    fmt = {"textDocument": {"uri": uri}, "options": {"tabSize": 4, "insertSpaces": True}}
    edits = server.call("textDocument/formatting", fmt)

    version = [1]

    def code_action() -> None:
        version[0] += 1  # a new text each time (a trailing comment that alternates), no cached analysis
        changed = text + ("# edit\n" if version[0] % 2 else "")
        server.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": version[0]}, "contentChanges": [{"text": changed}]})
        rng = {"start": {"line": 0, "character": 0}, "end": {"line": 1, "character": 0}}
        server.call("textDocument/codeAction", {"textDocument": {"uri": uri}, "range": rng, "context": {"diagnostics": []}})

    result = {
        "file": str(path),
        "lines": text.count("\n"),
        "format_edits": len(edits or []),
        "formatting": summary(timed(lambda: server.call("textDocument/formatting", fmt), args.runs)),
        "codeAction": summary(timed(code_action, args.runs)),
        "engine": summary(timed(lambda: format_edits(text, str(path)), args.runs)),
    }
    server.stop()
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"{result['file']} ({result['lines']} lines, {result['format_edits']} formatting edit(s))")
    for name in ("formatting", "codeAction", "engine"):
        s = result[name]
        print(f"  {name:<11} median {s['median_ms']:7.3f} ms   p90 {s['p90_ms']:7.3f} ms   min {s['min_ms']:7.3f} ms   ({s['runs']} runs)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
