"""How a Dockerfile lays out its continuation lines, so that inserted lines look native.

A rewrite that splits an instruction over several lines (two RUNs merged into one) should
write the continuation the way the file's author does: which indentation the continuation
lines get (a tab, two spaces, four spaces) and whether `&&` opens the next line
(`\\` / `    && b`, the style of Docker's official images) or closes the current one
(`a && \\` / `    b`). `continuation_style(dockerfile)` reads both from the file's own
continuation lines; a file with none gets `    && `.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from dockopt.optimizer.syntax import Dockerfile

_LEADING_AND = re.compile(r"[ \t]*&&")
_INDENT = re.compile(r"[ \t]*")


@dataclass(frozen=True)
class ContinuationStyle:
    indent: str  # the leading blanks of a continuation line
    operator_first: bool  # `&&` starts the continuation line rather than ending the one before

    def join(self, escape: str, newline: str, between: str = "") -> str:
        """What joins `a` and `b` into `a && b` over two lines: the text after `a` and before
        `b`. `between` (whole lines, their line endings included) goes after the break."""
        if self.operator_first:
            return f" {escape}{newline}{between}{self.indent}&& "
        return f" && {escape}{newline}{between}{self.indent}"


def continuation_style(dockerfile: Dockerfile) -> ContinuationStyle:
    """The most common indentation of continuation lines in the file (four spaces when it
    has none) and whether `&&` more often starts a line than ends one."""
    indents: Counter = Counter()
    leading = trailing = 0
    continued = re.compile(rf"{re.escape(dockerfile.escape)}[ \t]*$")
    for ins in dockerfile.instructions:
        body = ins.text if not ins.heredocs else ins.text[: ins.heredocs[0].start - ins.start]
        lines = [ln.rstrip("\r") for ln in body.split("\n")]
        for before, line in zip(lines, lines[1:]):
            if not continued.search(before) or not line.strip() or line.lstrip().startswith("#"):
                continue
            indent = _INDENT.match(line).group(0)
            if indent:
                indents[indent] += 1
            if _LEADING_AND.match(line):
                leading += 1
            if re.search(rf"&&[ \t]*{re.escape(dockerfile.escape)}[ \t]*$", before):
                trailing += 1
    indent = indents.most_common(1)[0][0] if indents else "    "
    return ContinuationStyle(indent, leading >= trailing)
