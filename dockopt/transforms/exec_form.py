"""DO101 exec-form: write CMD and ENTRYPOINT as JSON arrays.

What it does
    Rewrites a shell-form `CMD` or `ENTRYPOINT` whose words split unambiguously into the
    exec (JSON) form: `CMD python app.py` becomes `CMD ["python", "app.py"]`. A leading
    `exec` is dropped, since the exec form already replaces the shell.

Why
    The shell form runs the command under `/bin/sh -c`, so the shell is PID 1: `docker
    stop` sends SIGTERM to the shell, which does not pass it on, and the container is killed
    after the grace period instead of shutting down cleanly (hadolint DL3025, BuildKit
    JSONArgsRecommended).

Example
    CMD gunicorn --bind :8000 app:app  ->  CMD ["gunicorn", "--bind", ":8000", "app:app"]

When it is not safe
    Only commands made of plain words and simple quotes are rewritten; anything the shell
    would interpret (variables, globs, pipes, `&&`, redirections, `~`, a leading `VAR=`
    assignment, a shell builtin) is left alone. Stages with a `SHELL` instruction and
    Windows images are left alone, since their shell form is not `/bin/sh -c`.
    A CMD is `safe` when its stage has no ENTRYPOINT. With an ENTRYPOINT the entrypoint's
    arguments change from `/bin/sh -c "..."` to the words themselves, and an ENTRYPOINT in
    exec form starts receiving `docker run` arguments and CMD: both are marked `review`,
    and a shell-form ENTRYPOINT followed by a CMD is left alone.
"""

from __future__ import annotations

import json
import re

from dockopt.optimizer.edits import Edit
from dockopt.optimizer.runs import WINDOWS_IMAGE
from dockopt.optimizer.transform import REVIEW, SAFE, Transform

_WORD = re.compile(r"""(?:[A-Za-z0-9_./:=@%+,-]+|'[^']*'|"[^"$`\\!]*")+""")
_BUILTINS = frozenset(
    ". : [[ ]] { } ! alias bg break case cd command continue do done elif else esac eval exec exit "
    "export fc fg fi for function getopts hash if in jobs read readonly return select set "
    "shift source then time times trap type ulimit umask unalias unset until wait while".split()
)


def split_plain_words(command: str) -> list[str] | None:
    """The words of a command when the shell would do nothing but split and unquote it."""
    words, pos = [], 0
    command = command.strip()
    while pos < len(command):
        m = _WORD.match(command, pos)
        if not m:
            return None
        words.append(re.sub(r"""'([^']*)'|"([^"]*)\"""", lambda q: q.group(1) or q.group(2) or "", m.group(0)))
        pos = m.end()
        if pos < len(command) and command[pos] not in " \t":
            return None
        while pos < len(command) and command[pos] in " \t":
            pos += 1
    if words[:2] == ["exec", "--"]:
        words = words[2:]
    elif words[:1] == ["exec"] and len(words) > 1 and not words[1].startswith("-"):
        words = words[1:]
    if not words or "=" in words[0] or words[0] in _BUILTINS:
        return None
    return words


def fix(dockerfile, context):
    if dockerfile.escape == "`":
        return
    for stage in dockerfile.stages:
        lineage = dockerfile.lineage(stage)
        inherited = [i for s in lineage for i in s.instructions]
        if any(i.keyword == "SHELL" for i in inherited) or any(WINDOWS_IMAGE.search(s.image) for s in lineage):
            continue
        has_entrypoint = any(i.keyword == "ENTRYPOINT" for i in inherited)
        has_cmd = any(i.keyword == "CMD" for i in stage.instructions)
        for ins in stage.instructions:
            if ins.keyword not in ("CMD", "ENTRYPOINT") or ins.json or ins.inner_comments:
                continue
            words = split_plain_words(ins.args_text)
            if words is None:
                continue
            if ins.keyword == "ENTRYPOINT":
                if has_cmd:
                    continue
                safety = REVIEW
                why = "exec form: the program gets signals as PID 1; `docker run` arguments now reach it"
            else:
                safety = REVIEW if has_entrypoint else SAFE
                why = "exec form: the program runs as PID 1 and receives SIGTERM on `docker stop`"
            start, end = ins.content_span()
            text = f"{ins.keyword_text} {json.dumps(words, ensure_ascii=False)}"
            yield Edit(start, end, text, why, safety)


TRANSFORM = Transform(
    id="DO101",
    name="exec-form",
    title="Write CMD and ENTRYPOINT in exec (JSON) form",
    why="In shell form /bin/sh is PID 1 and swallows SIGTERM, so containers stop only when killed.",
    safety=SAFE,
    fix=fix,
    doc=__doc__,
    hadolint=("DL3025",),
)
