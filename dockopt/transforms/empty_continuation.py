r"""DO117 empty-continuation: remove blank lines inside a continued instruction.

What it does
    A blank line between the continuation lines of one instruction is deleted:

        RUN apt-get update \           RUN apt-get update \
                                 ->        && apt-get install -y curl
            && apt-get install -y curl

Why
    The parser skips such a line, so the instruction goes on below it, which the blank line
    hides from a reader; BuildKit warns that empty continuation lines will become an error
    (NoEmptyContinuation).

Example
    ENV A=1 \
                  ->    ENV A=1 \
        B=2                 B=2

When it is not safe
    Always safe: the instruction reads the same without the line. Comment lines inside
    the instruction stay; heredoc bodies are not continuation lines and are left alone.
"""

from __future__ import annotations

from dockopt.optimizer.edits import Edit
from dockopt.optimizer.transform import SAFE, Transform

# What Go's unicode.IsSpace accepts (BuildKit's isEmptyContinuationLine).
_SPACE = "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"


def fix(dockerfile, context):
    for ins in dockerfile.instructions:
        if ins.start_line == ins.end_line:
            continue
        head = ins.text if not ins.heredocs else dockerfile.source[ins.start : ins.heredocs[0].start]
        lines = head.split("\n")
        if ins.heredocs:
            lines = lines[:-1]  # the text before the body ends with its line ending
        else:
            lines = lines[: ins.end_line - ins.start_line + 1]
        # only blank lines the instruction goes on after: a continuation that runs into the
        # end of the file ends in its blank lines, and removing those would change nothing
        last = max((k for k, line in enumerate(lines)
                    if line.strip(_SPACE) and not line.lstrip(_SPACE).startswith("#")), default=0)
        at = ins.start
        for k, line in enumerate(lines):
            end = at + len(line) + 1
            if 0 < k < last and not line.strip(_SPACE):
                yield Edit(at, min(end, ins.end), "", f"blank line inside the {ins.keyword_text} removed: "
                           "the instruction goes on below it")
            at = end


TRANSFORM = Transform(
    id="DO117",
    name="empty-continuation",
    title="Remove blank lines inside continued instructions",
    why="A blank line inside an instruction hides that it goes on; BuildKit will refuse it.",
    safety=SAFE,
    fix=fix,
    doc=__doc__,
    buildkit=("NoEmptyContinuation",),
)
