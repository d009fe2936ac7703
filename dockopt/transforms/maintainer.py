"""DO102 maintainer-label: replace the deprecated MAINTAINER with an OCI label.

What it does
    `MAINTAINER Jane <jane@example.com>` becomes
    `LABEL org.opencontainers.image.authors="Jane <jane@example.com>"`.

Why
    MAINTAINER has been deprecated since Docker 1.13; the OCI annotation is what registries
    and scanners read (hadolint DL4000, BuildKit MaintainerDeprecated).

Example
    MAINTAINER ops@example.com  ->  LABEL org.opencontainers.image.authors="ops@example.com"

When it is not safe
    The image's legacy `Author` field is no longer set; the files and the way the image
    runs do not change. MAINTAINER takes its text literally, so quotes, `$` and the escape
    character are escaped in the label value to keep it literal.
"""

from __future__ import annotations

from dockopt.optimizer.edits import Edit
from dockopt.optimizer.transform import SAFE, Transform

LABEL = "org.opencontainers.image.authors"


def fix(dockerfile, context):
    esc = dockerfile.escape
    for ins in dockerfile.instructions:
        if ins.keyword != "MAINTAINER" or ins.inner_comments or not ins.args_text:
            continue
        value = "".join(esc + ch if ch in (esc, '"', "$") else ch for ch in ins.args_text)
        start, end = ins.content_span()
        yield Edit(start, end, f'{ins.recased("LABEL")} {LABEL}="{value}"', "MAINTAINER is deprecated: the author becomes an OCI label")


TRANSFORM = Transform(
    id="DO102",
    name="maintainer-label",
    title="Replace MAINTAINER with the org.opencontainers.image.authors label",
    why="MAINTAINER is deprecated; registries and scanners read the OCI authors label.",
    safety=SAFE,
    fix=fix,
    doc=__doc__,
    hadolint=("DL4000",),
    buildkit=("MaintainerDeprecated",),
)
