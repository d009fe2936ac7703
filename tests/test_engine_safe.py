"""Proof by building that `safe` means what it says: the rewritten image is the same image.

`dockopt fix --safe` applies only the changes marked `safe`, the ones that leave the built
image behaving the same. Each case in tests/safe-images/ is a naive Dockerfile (with its
build context) that many safe transforms rewrite. On a real engine (the build lab), the
original is built, then the rewrite, then the original again, all without the cache, and
the final images are compared:

- files: every path of the exported file system, with its type, mode, owner, size, content
  digest (a .pyc's without the source time it records), symlink target, extended
  attributes (file capabilities) and the other names of its hard links. What differs
  between the two builds of the original is the engine's (timestamps in logs): such a
  path's content is not compared, though it must still be there; inside the package managers' caches
  (`CACHES`), which the hygiene transforms delete (and whose clean commands log there),
  the rewrite may differ. Everything else must be equal.
- configuration: environment, working folder, user, ports, volumes, shell, health
  check, ONBUILD triggers, stop signal, entrypoint and command (a shell form of plain
  words written as the exec form it runs counts as the same), and the labels
  (MAINTAINER becomes the authors label).
- behaviour: the container's exit code and output, run as the image says.

The cases together must exercise every transform in `EXERCISED`, so a transform that stops
firing on them is noticed rather than silently untested. The tests skip with the reason
where no engine with BuildKit answers (`.ci/run` starts the build lab).
"""

from __future__ import annotations

import hashlib
import json
import shlex
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from dockopt.measure.engine import Engine
from helpers import dockopt, engine_missing

CASES = sorted(p.parent for p in (Path(__file__).parent / "safe-images").glob("*/Dockerfile"))
# What the package managers keep that the safe hygiene transforms delete (DO302, DO312...),
# and yarn's V8 compile cache, whose content differs from one run of yarn to the next.
CACHES = ("var/lib/apt/lists/", "var/cache/apt/", "root/.cache/pip/", "root/.npm/", "var/cache/apk/",
          "usr/local/share/.cache/yarn/", "tmp/v8-compile-cache-")
# Files docker writes into every container, whatever the image.
ENGINE_FILES = {".dockerenv", "etc/hostname", "etc/hosts", "etc/resolv.conf"}
# The safe transforms the cases must exercise between them.
EXERCISED = {"DO101", "DO102", "DO103", "DO105", "DO106", "DO107", "DO108", "DO110", "DO111", "DO112", "DO113",
             "DO114", "DO115", "DO116", "DO117", "DO118", "DO201", "DO302", "DO303", "DO312", "DO315", "DO316",
             "DO318"}


_NO_ENGINE = engine_missing()
pytestmark = pytest.mark.skipif(_NO_ENGINE is not None, reason=f"no engine: {_NO_ENGINE}")


@pytest.fixture
def engine():
    engine = Engine.connect()
    yield engine
    engine.cleanup()


def _files(engine: Engine, image: str) -> dict[str, tuple]:
    """Every path of the image's file system (no leading /) with what it is: type, mode,
    owner, size, content digest or link target, and the names it shares its file with."""
    container = subprocess.run([engine.docker, "create", image], capture_output=True, text=True, check=True).stdout.strip()
    try:
        export = subprocess.Popen([engine.docker, "export", container], stdout=subprocess.PIPE)
        entries, digests = {}, {}
        with tarfile.open(fileobj=export.stdout, mode="r|") as tar:
            for member in tar:
                name = member.name.rstrip("/")
                if member.islnk():
                    target = member.linkname.rstrip("/")
                    entries[name] = entries[target]
                    digests[name] = digests[target]
                    continue
                digest = ""
                if member.isfile():
                    digest = hashlib.sha256(_timeless(name, tar.extractfile(member).read())).hexdigest()
                elif member.issym():
                    digest = "-> " + member.linkname
                kind = "file" if member.isfile() else "dir" if member.isdir() else "link" if member.issym() else "other"
                xattrs = tuple(sorted((k, v) for k, v in member.pax_headers.items() if k.startswith("SCHILY.xattr.")))
                entries[name] = (kind, member.mode, member.uid, member.gid, member.size, digest, xattrs)
                digests[name] = name  # the file's first name stands for it
        export.wait(timeout=300)
    finally:
        subprocess.run([engine.docker, "rm", "-f", container], capture_output=True)
    names: dict[str, list[str]] = {}
    for name, first in digests.items():
        names.setdefault(first, []).append(name)
    return {n: (*entries[n], tuple(sorted(names[digests[n]]))) for n in entries if n not in ENGINE_FILES}


def _timeless(name: str, data: bytes) -> bytes:
    """The file's content without the time it was written, where it records one: a .pyc
    validated by timestamp (PEP 552: flags 0) holds its source's modification time in
    bytes 8-11, which differs between any two builds a second apart."""
    if name.endswith(".pyc") and len(data) >= 16 and data[4:8] == bytes(4):
        return data[:8] + data[12:]
    return data


def _config(engine: Engine, image: str) -> dict:
    inspected = json.loads(subprocess.run([engine.docker, "image", "inspect", image], capture_output=True, text=True,
                                          check=True).stdout)[0]
    info = inspected["Config"]
    labels = dict(info.get("Labels") or {})
    author = inspected.get("Author") or ""  # what MAINTAINER sets; the rewrite says it with the authors label
    if author and "org.opencontainers.image.authors" not in labels:
        labels["org.opencontainers.image.authors"] = author
    return {
        "env": sorted(info.get("Env") or []),
        "workdir": info.get("WorkingDir") or "/",
        "user": info.get("User") or "",
        "ports": sorted(info.get("ExposedPorts") or {}),
        "volumes": sorted(info.get("Volumes") or {}),
        "labels": labels,
        "entrypoint": _argv(info.get("Entrypoint")),
        "cmd": _argv(info.get("Cmd")),
        "shell": info.get("Shell"),
        "healthcheck": info.get("Healthcheck"),
        "onbuild": info.get("OnBuild"),
        "stopsignal": info.get("StopSignal"),
    }


# Commands the shell runs itself: no program of that name runs from the exec form.
_BUILTINS = frozenset("exec cd set ulimit umask export unset trap eval source . alias read wait shift exit return".split())


def _argv(words: list[str] | None) -> list[str]:
    """A command as the words it runs: the shell form `sh -c "tree --version"` runs what the
    exec form ["tree", "--version"] runs when the string is plain words."""
    words = list(words or [])
    plain = not any(c in words[2] for c in "$`\\\"'|&;<>()*?[~{#=") if len(words) == 3 else False
    if words[:2] == ["/bin/sh", "-c"] and plain and shlex.split(words[2])[:1] and shlex.split(words[2])[0] not in _BUILTINS:
        return shlex.split(words[2])
    return words


def _cache(name: str, kind: str) -> bool:
    """Whether a path the rewrite may lack or hold otherwise: in a package manager's cache,
    or a folder made only to hold one (`root/.cache` for `root/.cache/pip/`)."""
    inside = (name + "/").startswith(CACHES)
    holder = kind == "dir" and name.count("/") >= 1 and any(c.startswith(name + "/") for c in CACHES)
    return inside or holder


def _run(engine: Engine, image: str) -> tuple[int, str]:
    done = subprocess.run([engine.docker, "run", "--rm", image], capture_output=True, text=True, timeout=300)
    return done.returncode, done.stdout + done.stderr


def _build(engine: Engine, folder: Path, name: str):
    built = engine.build(str(folder), str(folder / "Dockerfile"), name, cache=False)
    assert built.ok, f"{folder.name} ({name}) does not build on this engine:\n{built.tail}"
    return built.image


def _applied(work: Path) -> set[str]:
    run = dockopt("fix", "--safe", "--format", "json", str(work / "Dockerfile"), cwd=work, timeout=300)
    assert run.returncode == 0, run.stderr.decode()
    [report] = json.loads(run.stdout)["files"]
    assert {c["safety"] for c in report["changes"]} == {"safe"}
    return {c["transform"] for c in report["changes"]}


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_a_safe_rewrite_builds_the_same_image(case: Path, tmp_path: Path, engine: Engine) -> None:
    original = tmp_path / "original"
    shutil.copytree(case, original)
    rewrite = tmp_path / "rewrite"
    shutil.copytree(case, rewrite)
    applied = _applied(rewrite)
    assert applied, f"{case.name}: dockopt fix --safe changed nothing"

    # the rewrite between the original's two builds: what drifts over the minutes they take
    # (a mirror's index, a date) shows between the originals, not only against the rewrite
    first = _build(engine, original, "original")
    fixed = _build(engine, rewrite, "rewrite")
    second = _build(engine, original, "original-again")
    before, again, after = _files(engine, first), _files(engine, second), _files(engine, fixed)
    # what two builds of the same file differ in is the engine's doing (times in logs): a
    # file whose content differs must still be there, one that comes and goes need not
    engine_made = {n for n in before.keys() | again.keys() if before.get(n) != again.get(n)}
    lost = sorted(n for n in (before.keys() & again.keys()) - after.keys() if not _cache(n, before[n][0]))
    gained = sorted(n for n in after.keys() - before.keys() - again.keys() if not _cache(n, after[n][0]))
    changed = sorted(n for n in before.keys() & after.keys() - engine_made if before[n] != after[n] and not _cache(n, "file"))
    assert (lost, gained, changed) == ([], [], []), "\n".join(
        [f"{case.name}: files differ after {sorted(applied)}"]
        + [f"  {n}: {before.get(n)} -> {after.get(n)}" for n in (lost + gained + changed)[:20]])
    assert _config(engine, fixed) == _config(engine, first)
    assert _run(engine, fixed) == _run(engine, first)


def test_the_cases_exercise_the_safe_transforms(tmp_path: Path) -> None:
    applied = set()
    for case in CASES:
        work = tmp_path / case.name
        shutil.copytree(case, work)
        applied |= _applied(work)
    assert EXERCISED - applied == set()
