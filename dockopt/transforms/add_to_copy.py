"""DO103 copy-not-add: use COPY for local files and folders.

What it does
    Rewrites `ADD` to `COPY` when every source is a plain local path that is not an
    archive: `ADD requirements.txt /app/` becomes `COPY requirements.txt /app/`.

Why
    ADD also downloads URLs and unpacks local tar archives. Using it for plain files hides
    that magic from the reader and from the cache: COPY says exactly what happens
    (hadolint DL3020, Docker's best practices).

Example
    ADD . /app  ->  COPY . /app

When it is not safe
    ADD extracts a local tar archive (plain or gzip, bzip2, xz, zstd compressed), found by
    its content, not its name. With the build context at hand, each source file's first
    bytes are checked; without it, or for a path the context lacks, any name that looks
    compressed or archived is left alone. URLs, git sources, sources with variables or
    wildcards that cannot be checked, heredocs and ADD-only flags (`--checksum`,
    `--keep-git-dir`, `--unpack`) are never rewritten.
"""

from __future__ import annotations

import re

from dockopt.optimizer.edits import Edit
from dockopt.optimizer.transform import SAFE, Transform

_ARCHIVE_NAME = re.compile(r"\.(tar|tgz|tbz2?|txz|tzst|gz|bz2|xz|zst|zstd|lz4|lzma|z)$", re.IGNORECASE)
_ADD_ONLY_FLAGS = ("--checksum", "--keep-git-dir", "--unpack")
_MAGIC = (b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00", b"\x28\xb5\x2f\xfd")


def is_archive(head: bytes) -> bool:
    """Whether ADD would unpack a file that starts with these bytes: a compressed stream
    (gzip, bzip2, xz, zstd, or zstd behind a skippable frame), or a tar header, ustar or
    V7 (which has no magic, only a valid header checksum)."""
    if head.startswith(_MAGIC) or head[257:262] == b"ustar":
        return True
    if len(head) >= 4 and head[1:4] == b"\x2a\x4d\x18" and 0x50 <= head[0] <= 0x5F:
        return True
    return _tar_checksum_ok(head)


def _tar_checksum_ok(head: bytes) -> bool:
    if len(head) < 512 or not head[:100].strip(b"\0"):
        return False
    field = head[148:156].replace(b"\0", b" ").strip()
    try:
        expected = int(field, 8)
    except ValueError:
        return False
    block = head[:148] + b" " * 8 + head[156:512]
    return expected in (sum(block), sum(b - 256 if b > 127 else b for b in block))


def _might_be_archive(source: str, context) -> bool:
    if any(ch in source for ch in "*?["):
        matches = context.glob(source)
        return not matches or any(_might_be_archive(m, context) for m in matches)
    if context.is_dir(source):
        return False
    head = context.head(source, 512)
    if head is not None:
        return is_archive(head)
    return bool(_ARCHIVE_NAME.search(source.rstrip("/")))


def _plain_local(source: str) -> bool:
    return not (
        "://" in source or source.startswith("git@") or "$" in source or any(q in source for q in "'\"\\")
    )


def fix(dockerfile, context):
    for ins in dockerfile.instructions:
        if ins.keyword != "ADD" or ins.heredocs or len(ins.arguments) < 2:
            continue
        if any(f.split("=", 1)[0] in _ADD_ONLY_FLAGS for f in ins.flags):
            continue
        sources = ins.arguments[:-1]
        if not all(_plain_local(s) for s in sources) or any(_might_be_archive(s, context) for s in sources):
            continue
        start, end = ins.keyword_span()
        yield Edit(start, end, ins.recased("COPY"), "ADD of local files -> COPY: nothing here is a URL or an archive to unpack")


TRANSFORM = Transform(
    id="DO103",
    name="copy-not-add",
    title="Use COPY instead of ADD for local files and folders",
    why="ADD also fetches URLs and unpacks archives; COPY says exactly what happens.",
    safety=SAFE,
    fix=fix,
    doc=__doc__,
    hadolint=("DL3020",),
)
