"""Runs the pipeline over files: find them, read them, rewrite them, write them safely.

Like LibCST's codemod runner, it never raises on a file: every file ends as unchanged,
changed or failed, and the caller reports the outcomes. Input that is not a Dockerfile
docker would build fails with `path:line:col: message`; a rewrite that fails verification
fails the file as a dockopt bug. Writes go to a temporary file in the same folder that
then replaces the original, keeping its mode, so no reader ever sees half a file.

A rewrite may also change a file beside the Dockerfile: a transform with a `companion`
(DO205) proposes it once the Dockerfile is rewritten (for the build context's
.dockerignore, its COPY sources are final then). That change comes back as a companion
Outcome of its own, whose `result.source` is None when the file is new, so callers show,
count and report it like any other file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Iterator, Sequence

from dockopt.optimizer.context import BuildContext
from dockopt.optimizer.pipeline import Result, TransformCrashed, optimize
from dockopt.optimizer.syntax import ParseError
from dockopt.optimizer.transform import Transform
from dockopt.optimizer.verify import VerificationError

SKIP_DIRS = frozenset({".git", ".hg", ".svn", "node_modules"})


@dataclass
class Outcome:
    path: str  # as the user named it, or "-" for standard input
    result: Result | None = None
    error: str | None = None  # "line:col: message"
    skipped: str | None = None  # "line:col: message": a template or excerpt, left as it is
    bug: bool = False
    companions: list[Outcome] = field(default_factory=list)  # other files changed with it

    @property
    def changed(self) -> bool:
        return self.result is not None and self.result.changed


def shown(path: str) -> str:
    """A path as one line of text: control characters (a newline in a file name) escaped, so
    `path:line:col: message` stays one line that tools can split."""
    if path.isprintable():
        return path
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in path)


def is_dockerfile_name(name: str) -> bool:
    if name.endswith(".dockerignore"):
        return False
    lower = name.lower()
    return (
        lower in ("dockerfile", "containerfile")
        or name.startswith(("Dockerfile.", "Containerfile."))
        or name.endswith((".Dockerfile", ".dockerfile", ".Containerfile"))
    )


def discover(paths: Sequence[str], skipped: list[tuple[str, str]] | None = None) -> Iterator[str]:
    """Files named on the command line, and Dockerfiles found below named folders.

    Symlinked folders are not entered and symlinked files pointing out of the folder
    are skipped, so a rewrite never reaches outside the tree it was pointed at; each
    Dockerfile-named entry passed by is added to `skipped` with the reason."""
    seen: set[str] = set()
    skipped = skipped if skipped is not None else []
    for path in paths:
        if path != "-" and os.path.isdir(path):
            root = os.path.realpath(path)
            for folder, dirs, files in os.walk(path):
                for name in dirs:
                    if is_dockerfile_name(name) and name not in SKIP_DIRS:
                        skipped.append((os.path.join(folder, name), "a folder, not a file: its contents are searched"))
                dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
                for name in sorted(files):
                    full = os.path.join(folder, name)
                    if not is_dockerfile_name(name):
                        continue
                    real = os.path.realpath(full)
                    if os.path.islink(full) and not real.startswith(root + os.sep):
                        skipped.append((full, f"a symlink to {real}, outside {path}: not rewritten from here"))
                        continue
                    if real not in seen:
                        seen.add(real)
                        yield full
        elif path not in seen:
            seen.add(path)
            yield path


def decode(data: bytes) -> str:
    """UTF-8 text, or ParseError pointing at the first byte that is not."""
    if _utf16(data):
        raise ParseError("UTF-16 text: dockopt (like docker) reads UTF-8; save the file as UTF-8")
    if b"\0" in data:
        line, col = _position(data, data.index(b"\0"))
        raise ParseError("binary file (NUL byte): not a Dockerfile", line, col)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, col = _position(data, exc.start)
        raise ParseError(f"not UTF-8 text (byte 0x{data[exc.start]:02x}); dockopt reads UTF-8 only", line, col) from None


def _utf16(data: bytes) -> bool:
    """A UTF-16 byte-order mark, or ASCII text with a NUL after (or before) every character."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return True
    head = data[:200]
    return len(head) >= 8 and (head[1::2].count(0) == len(head[1::2]) or head[0::2].count(0) == len(head[0::2]))


def _position(data: bytes, offset: int) -> tuple[int, int]:
    return data.count(b"\n", 0, offset) + 1, offset - (data.rfind(b"\n", 0, offset) + 1) + 1


def run_text(
    text: str, transforms: Sequence[Transform], context: BuildContext, safe_only: bool, path: str = "-"
) -> Outcome:
    try:
        return Outcome(path, optimize(text, transforms, context, safe_only))
    except ParseError as exc:
        if exc.template:
            return Outcome(path, Result(text, text), skipped=exc.notice)
        return Outcome(path, error=str(exc))
    except (VerificationError, TransformCrashed) as exc:
        names = ", ".join(getattr(exc, "transforms", [])) or getattr(getattr(exc, "transform", None), "id", "")
        detail = f"{names}: {exc}" if names and names not in str(exc) else str(exc)
        message = f"1:1: internal error, file left unchanged ({detail}); this is a dockopt bug, please report it"
        return Outcome(path, error=message, bug=True)


def run_file(
    path: str,
    transforms: Sequence[Transform],
    context_dir: str | None,
    safe_only: bool,
    write: bool,
    others: Sequence[str] = (),
    force: bool = False,
) -> Outcome:
    """`others`: every Dockerfile of this run, in order (Dockerfiles sharing a build context
    share one .dockerignore, proposed once). A read-only file is not replaced unless
    `force`, as editors refuse to save over one."""
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        return Outcome(path, error=f"1:1: cannot read: {exc.strerror or exc}")
    try:
        text = decode(data)
    except ParseError as exc:
        return Outcome(path, error=str(exc))
    outcome = run_text(text, transforms, BuildContext.for_file(path, context_dir), safe_only, path)
    if write and outcome.changed:
        if not force and read_only(path):
            return Outcome(path, error="1:1: cannot write: read-only file (--force writes it anyway)")
        try:
            write_atomic(path, outcome.result.output.encode("utf-8"))
        except OSError as exc:
            return Outcome(path, error=f"1:1: cannot write: {exc.strerror or exc}")
    if outcome.result is not None and not outcome.skipped and not safe_only:
        outcome.companions = _companions(path, outcome.result, transforms, context_dir, write, others)
    return outcome


def _companions(path, result, transforms, context_dir, write, others) -> list[Outcome]:
    """The changes to files beside this Dockerfile that its transforms propose (DO205's
    .dockerignore), verified by the transform before they are shown or written."""
    from dockopt.optimizer.edits import Edit
    from dockopt.optimizer.pipeline import Change

    outcomes = []
    for transform in transforms:
        if transform.companion is None:
            continue
        found = transform.companion(path, result.source, result.output, context_dir, others)
        if found is None:
            continue
        plan, problem = found
        changes = [
            Change(transform, Edit(start, start, text, why), line, transform.safety)
            for start, line, text, why in plan.blocks()
        ]
        if problem:
            outcomes.append(Outcome(plan.path, error=f"1:1: dockopt bug: {problem}", bug=True))
            continue
        if write:
            try:
                write_atomic(plan.target, plan.after.encode("utf-8"))
            except OSError as exc:
                outcomes.append(Outcome(plan.path, error=f"1:1: cannot write: {exc.strerror or exc}"))
                continue
        outcomes.append(Outcome(plan.path, Result(plan.before, plan.after, changes)))
    return outcomes


def read_only(path: str) -> bool:
    """No write permission bit at all (0444): the owner marked the file not to be changed.
    (os.access would say yes to root.)"""
    import stat

    try:
        return not stat.S_IMODE(os.stat(path).st_mode) & 0o222
    except OSError:
        return False


def write_atomic(path: str, data: bytes) -> None:
    """Replace the file's content in one step, keeping its mode; a symlink stays a link.
    A new file gets the mode the umask gives."""
    import stat
    import tempfile

    target = os.path.realpath(path)
    if os.path.exists(target):
        mode = stat.S_IMODE(os.stat(target).st_mode)
    else:
        umask = os.umask(0o022)
        os.umask(umask)
        mode = 0o666 & ~umask
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(target), prefix=".dockopt-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
