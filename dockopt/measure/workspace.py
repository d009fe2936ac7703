"""Temporary copies of a build context, one per version of the Dockerfile built.

A measurement never builds in the user's tree: each version (the original, the rewrite,
a rewrite with a change dropped) gets its own copy of the context, files hard-linked where
the file system allows (so a large context costs little) and replaced, never written
through, where a version differs: its Dockerfile, its .dockerignore, the source-only change.

The source-only change appends a comment line to one source file, in that language's own
comment syntax: a change BuildKit sees and no compiler or interpreter reads differently.
The comment carries the run's id, because BuildKit's cache is keyed by content: the same
edit made by an earlier run would find that run's layers and look cached. The file is
chosen by its extension among those the .dockerignore lets into the build, so it is code
the image copies, never a dependency manifest or lockfile.
"""

from __future__ import annotations

import os
import shutil
import tempfile

from dockopt.optimizer.dockerignore import BadPattern, ignored, read_rules

# A source file's extension -> how a comment line is written in it.
COMMENTS = {
    ".py": "# {}", ".rb": "# {}", ".js": "// {}", ".mjs": "// {}", ".cjs": "// {}", ".ts": "// {}",
    ".tsx": "// {}", ".jsx": "// {}", ".go": "// {}", ".java": "// {}", ".kt": "// {}", ".rs": "// {}",
    ".cs": "// {}", ".html": "<!-- {} -->", ".vue": "<!-- {} -->", ".svelte": "<!-- {} -->", ".css": "/* {} */",
}
SOURCE_EXTENSIONS = tuple(COMMENTS)
_NOT_SOURCE = frozenset({"setup.py"})  # read by `pip install .`: a manifest
_SKIP = frozenset({".git", "node_modules", ".venv", "__pycache__"})


class Workspace:
    """`context`: the build context folder; `dockerfile`: the Dockerfile's path."""

    def __init__(self, context: str, dockerfile: str):
        self.context = os.path.realpath(context)
        self.dockerfile = os.path.realpath(dockerfile)
        self.root = tempfile.mkdtemp(prefix="dockopt-measure-")
        inside = os.path.commonpath([self.context, self.dockerfile]) == self.context
        self.relative = os.path.relpath(self.dockerfile, self.context) if inside else None

    def version(self, name: str, dockerfile_text: str, extra: dict[str, str] | None = None) -> tuple[str, str]:
        """A copy of the context for one version: (context folder, Dockerfile path).
        `extra`: files of this version, by path relative to the context (a .dockerignore)."""
        folder = os.path.join(self.root, name)
        shutil.copytree(self.context, folder, symlinks=True, copy_function=_link_or_copy)
        if self.relative is not None:
            dockerfile = os.path.join(folder, self.relative)
        else:
            os.makedirs(os.path.join(self.root, name + ".dockerfile"))
            dockerfile = os.path.join(self.root, name + ".dockerfile", os.path.basename(self.dockerfile))
        replace(dockerfile, dockerfile_text)
        for relative, text in (extra or {}).items():
            replace(os.path.join(folder, relative), text)
        return folder, dockerfile

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def replace(path: str, text: str) -> None:
    """Write `text` at `path` as a new file, so a hard link to the user's file is left as it was."""
    if os.path.lexists(path):
        os.unlink(path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(text.encode("utf-8"))


def source_file(context: str) -> str | None:
    """A source file of the context (relative path) for the source-only change, or None."""
    from dockopt.optimizer.context import BuildContext

    try:
        rules = read_rules(BuildContext(context).read_text(".dockerignore") or "")
    except BadPattern:
        rules = []
    found = []
    for folder, dirs, files in os.walk(context):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP)
        for name in files:
            full = os.path.join(folder, name)
            relative = os.path.relpath(full, context).replace(os.sep, "/")
            if (name.endswith(SOURCE_EXTENSIONS) and name not in _NOT_SOURCE and not os.path.islink(full)
                    and not ignored(rules, relative)):
                found.append((relative.count("/"), relative))
    return min(found)[1] if found else None


def touch_source(folder: str, relative: str, token: str) -> None:
    """The source-only change: a comment line naming `token` appended to the file."""
    path = os.path.join(folder, relative)
    with open(path, "rb") as fh:
        data = fh.read()
    newline = b"\r\n" if b"\r\n" in data else b"\n"
    comment = COMMENTS[os.path.splitext(relative)[1]].format(f"source-only change by dockopt --measure {token}")
    os.unlink(path)  # break a hard link to the user's file
    with open(path, "wb") as fh:
        fh.write(data + (b"" if data.endswith(b"\n") or not data else newline) + comment.encode() + newline)


def _link_or_copy(src: str, dst: str) -> str:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)
    return dst
