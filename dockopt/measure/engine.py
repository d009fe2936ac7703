"""The user's Docker engine, driven through the `docker` command as a person would.

`dockopt fix --measure` proves a rewrite by building and running it, so it needs the
engine the user builds with: the `docker` client, honouring `DOCKER_HOST` and
`DOCKER_CONTEXT` as it always does, with BuildKit (`docker buildx`). Everything this module
makes carries the label `dockopt.measure=<run>` and is removed by `cleanup()`; it never
pushes and never touches an image or container it did not make.

An engine without a bridge network (rootless set-ups, a build lab started with
`--bridge=none`) builds and runs with the host's network instead; a server then answers on
its own port of the host.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field

BUILD_TIMEOUT = 1800  # seconds for one build
START_TIMEOUT = 30.0  # seconds a server gets to answer, or a command to finish
LOG_TAIL = 12  # lines of a failed build's log kept for the report


class EngineError(Exception):
    """No engine to measure with: the message says what is missing and what to do."""


@dataclass
class Build:
    """One `docker buildx build`: did it build, how long it took, its steps."""

    ok: bool
    seconds: float
    log: str
    image: str | None = None
    size: int | None = None  # bytes, as `docker image inspect` gives them
    layers: int | None = None

    @property
    def tail(self) -> str:
        """The end of the log: what a person reads to see why a build failed."""
        lines = [ln for ln in self.log.splitlines() if ln.strip()]
        return "\n".join(lines[-LOG_TAIL:])

    @property
    def pull_error(self) -> str | None:
        """The log line saying a base image could not be pulled, if that is why it failed."""
        if self.ok:
            return None
        for line in self.log.splitlines():
            if re.search(r"failed to resolve source metadata|pull access denied|failed to authorize"
                         r"|no such host|manifest unknown|repository does not exist", line):
                return line.strip()
        return None


@dataclass
class Behaviour:
    """What a container did when started as the image says: for a server (a port), the
    HTTP status it answered on the path, or None when it never answered; otherwise whether
    it was still running after the wait, and its exit code and output."""

    port: int | None
    path: str
    status: int | None = None
    running: bool = False
    exit_code: int | None = None
    output: str = ""

    def same_as(self, other: "Behaviour") -> bool:
        if self.port is not None:
            return self.status == other.status
        return (self.running, self.exit_code, self.output) == (other.running, other.exit_code, other.output)

    def text(self) -> str:
        if self.port is not None:
            where = f":{self.port}{self.path}"
            return f"HTTP {self.status} on {where}" if self.status is not None else f"no HTTP answer on {where}"
        if self.running:
            return f"still running after {START_TIMEOUT:.0f} s"
        return f"exit {self.exit_code}" + (f", output {_short(self.output)!r}" if self.output else ", no output")


@dataclass
class Engine:
    """A session with the engine: what it made, so that it can all be removed."""

    docker: str
    host_network: bool
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:10])
    images: list[str] = field(default_factory=list)
    containers: list[str] = field(default_factory=list)

    @classmethod
    def connect(cls) -> "Engine":
        """The engine `docker` talks to; EngineError when there is none, or no BuildKit."""
        docker = shutil.which("docker")
        if docker is None:
            raise EngineError("--measure needs a Docker engine: the `docker` command was not found on PATH")
        where = os.environ.get("DOCKER_HOST") or os.environ.get("DOCKER_CONTEXT") or "the default engine"
        version = _run([docker, "version", "--format", "{{.Server.Version}}"], timeout=30)
        if version.returncode != 0 or not version.stdout.strip():
            detail = _last_line(version.stderr) or "no answer"
            raise EngineError(f"--measure needs a Docker engine: {where} does not answer ({detail})")
        buildx = _run([docker, "buildx", "version"], timeout=30)
        if buildx.returncode != 0:
            raise EngineError("--measure needs BuildKit: `docker buildx` is not installed "
                              f"({_last_line(buildx.stderr) or 'no buildx plugin'})")
        networks = _run([docker, "network", "ls", "--format", "{{.Name}}"], timeout=30)
        return cls(docker, "bridge" not in networks.stdout.split())

    def build(self, context: str, dockerfile: str, name: str, cache: bool = True) -> Build:
        tag = f"dockopt-measure:{self.run_id}-{name}"
        command = [self.docker, "buildx", "build", "--load", "--progress=plain", "-t", tag,
                   "--label", f"dockopt.measure={self.run_id}", "-f", dockerfile]
        if self.host_network:
            command += ["--network", "host"]
        if not cache:
            command.append("--no-cache")
        started = time.monotonic()
        done = _run([*command, context], timeout=BUILD_TIMEOUT)
        seconds = time.monotonic() - started
        log = done.stdout + done.stderr
        if done.returncode != 0:
            return Build(False, seconds, log)
        if tag not in self.images:
            self.images.append(tag)
        inspect = _run([self.docker, "image", "inspect", tag], timeout=60)
        size = layers = None
        if inspect.returncode == 0:
            info = json.loads(inspect.stdout)[0]
            size, layers = info.get("Size"), len(info.get("RootFS", {}).get("Layers", []))
        return Build(True, seconds, log, tag, size, layers)

    def behaviour(self, image: str, port: int | None, path: str) -> Behaviour:
        """Start the image as it says (its own CMD and ENTRYPOINT) and watch it."""
        name = f"dockopt-measure-{self.run_id}-{len(self.containers)}"
        command = [self.docker, "run", "-d", "--name", name, "--label", f"dockopt.measure={self.run_id}"]
        if self.host_network:
            command += ["--network", "host"]
        elif port is not None:
            command += ["-p", f"127.0.0.1::{port}"]
        started = _run([*command, image], timeout=120)
        self.containers.append(name)
        seen = Behaviour(port, path)
        if started.returncode != 0:
            seen.exit_code, seen.output = started.returncode, _last_line(started.stderr)
            return seen
        url = self._url(name, port, path) if port is not None else None
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if url is not None:
                seen.status = _http_status(url)
                if seen.status is not None:
                    break
            if not self._running(name):
                break
            time.sleep(0.5)
        seen.running = self._running(name)
        if not seen.running:
            state = _run([self.docker, "inspect", "-f", "{{.State.ExitCode}}", name], timeout=30)
            seen.exit_code = int(state.stdout.strip() or -1)
        logs = _run([self.docker, "logs", name], timeout=60)
        seen.output = logs.stdout.strip()
        _run([self.docker, "rm", "-f", name], timeout=60)
        return seen

    def _url(self, name: str, port: int, path: str) -> str:
        host_port = port
        if not self.host_network:
            mapped = _run([self.docker, "port", name, str(port)], timeout=30)
            found = re.search(r":(\d+)\s*$", mapped.stdout.strip().splitlines()[0]) if mapped.stdout.strip() else None
            host_port = int(found.group(1)) if found else port
        return f"http://127.0.0.1:{host_port}{path if path.startswith('/') else '/' + path}"

    def _running(self, name: str) -> bool:
        state = _run([self.docker, "inspect", "-f", "{{.State.Running}}", name], timeout=30)
        return state.stdout.strip() == "true"

    def cleanup(self) -> None:
        """Remove every container and image this session made."""
        if self.containers:
            _run([self.docker, "rm", "-f", *self.containers], timeout=120)
        if self.images:
            _run([self.docker, "image", "rm", "-f", *self.images], timeout=300)
        self.containers, self.images = [], []


def _http_status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=3) as response:  # noqa: S310 - a local container
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (OSError, ValueError):
        return None


def _run(command: list[str], timeout: float) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(command, capture_output=True, text=True, errors="replace", timeout=timeout,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode("utf-8", "replace") if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        return subprocess.CompletedProcess(command, 124, out, f"timed out after {timeout:.0f} s")
    except OSError as exc:
        return subprocess.CompletedProcess(command, 127, "", str(exc))


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return lines[-1] if lines else ""


def _short(text: str, width: int = 60) -> str:
    one = " ".join(text.split())
    return one if len(one) <= width else one[: width - 3] + "..."
