"""Latency of the language server as an editor sees it: one request, one answer, over stdio.

Editors format on save and wait for the answer before writing the file, so the time that
matters is the round trip of `textDocument/formatting` once the server runs (its start-up
is paid once per editor session, not per save). This script starts `dockopt lsp`, opens a
typical Dockerfile (the one bench.py times cold by default), and times:

- `formatting`: the round trip of textDocument/formatting (every round of the pipeline
  with the `safe` transforms, and the line diff), after an edit each time, since the
  server keeps the last answer for an unchanged text;
- `codeAction`: the round trip for the quick fixes on line 1 after an edit, so the
  analysis (one round of proposals) is redone each time;
- `engine`: `dockopt.lsp.analysis.format_edits` in this process, no JSON-RPC, as the floor;
- `huge`: formatting a 5 MB document of 5,000 long RUN lines (over the server's size limit)
  and a 0.9 MB one (under it), each just after the edit that made it: the server must answer
  within its budget (0.15 s) whatever the document, with nothing to offer when not ready.

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

    def formatting() -> None:
        version[0] += 1
        changed = text + ("# edit\n" if version[0] % 2 else "")
        server.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": version[0]}, "contentChanges": [{"text": changed}]})
        server.call("textDocument/formatting", fmt)

    huge_uri = (path.parent / "huge.Dockerfile").as_uri()
    server.notify("textDocument/didOpen", {"textDocument": {"uri": huge_uri, "languageId": "dockerfile", "version": 1, "text": text}})
    sizes = {"5 MB": 5000, "0.9 MB": 880}

    def huge(lines: int) -> None:
        version[0] += 1
        big = "FROM debian:bookworm\n" + "".join(f"RUN echo {'x' * 1000} {i} {version[0]}\n" for i in range(lines))
        server.notify("textDocument/didChange", {"textDocument": {"uri": huge_uri, "version": version[0]}, "contentChanges": [{"text": big}]})
        server.call("textDocument/formatting", {"textDocument": {"uri": huge_uri}, "options": fmt["options"]})

    result = {
        "file": str(path),
        "lines": text.count("\n"),
        "format_edits": len(edits or []),
        "formatting": summary(timed(formatting, args.runs)),
        "codeAction": summary(timed(code_action, args.runs)),
        "engine": summary(timed(lambda: format_edits(text, str(path)), args.runs)),
        "huge": {name: summary(timed(lambda n=n: huge(n), 5)) for name, n in sizes.items()},
    }
    server.stop()
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"{result['file']} ({result['lines']} lines, {result['format_edits']} formatting edit(s))")
    rows = [(name, result[name]) for name in ("formatting", "codeAction", "engine")]
    rows += [(f"huge {size}", s) for size, s in result["huge"].items()]
    for name, s in rows:
        print(f"  {name:<13} median {s['median_ms']:7.3f} ms   p90 {s['p90_ms']:7.3f} ms   min {s['min_ms']:7.3f} ms   ({s['runs']} runs)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
