"""DO116 expose-proto-casing: write EXPOSE protocols in lower case.

What it does
    `EXPOSE 53/UDP 80/TCP` becomes `EXPOSE 53/udp 80/tcp`.

Why
    Docker lowers the protocol when it reads EXPOSE, so the upper-case spelling only
    differs on the page; BuildKit warns about it (ExposeProtoCasing).

Example
    EXPOSE 8080/TCP  ->  EXPOSE 8080/tcp

When it is not safe
    Always safe: the image records `8080/tcp` either way. A protocol that comes from a
    variable (`80/$PROTO`) is left alone.
"""

from __future__ import annotations

import re

from dockopt.optimizer.edits import Edit
from dockopt.optimizer.transform import SAFE, Transform

_PORT = re.compile(r"\S+/([A-Za-z]+)(?=\s|$)")


def fix(dockerfile, context):
    for ins in dockerfile.instructions:
        if ins.keyword != "EXPOSE":
            continue
        start_word = ins.line.index(ins.keyword_text) + len(ins.keyword_text)
        for m in _PORT.finditer(ins.line, start_word):
            proto = m.group(1)
            if proto == proto.lower():
                continue
            start = ins.source_offset(m.start(1))
            if dockerfile.source[start : start + len(proto)] != proto:
                continue
            yield Edit(start, start + len(proto), proto.lower(), f"{m.group()} -> {m.group()[: -len(proto)]}{proto.lower()}: "
                       "Docker reads the protocol in lower case")


TRANSFORM = Transform(
    id="DO116",
    name="expose-proto-casing",
    title="Write EXPOSE protocols in lower case",
    why="Docker reads the protocol in lower case; the upper-case spelling only differs on the page.",
    safety=SAFE,
    fix=fix,
    doc=__doc__,
    buildkit=("ExposeProtoCasing",),
)
