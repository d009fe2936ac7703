"""DO101 exec-form: write CMD and ENTRYPOINT as JSON arrays.

What it does
    Rewrites a shell-form `CMD` or `ENTRYPOINT` whose words split unambiguously into the
    exec (JSON) form: `CMD python app.py` becomes `CMD ["python", "app.py"]`. A leading
    `exec` is dropped, since the exec form already replaces the shell. A single command
    that needs the shell for its variables keeps it, spelled out, with `exec` so the
    program replaces it: `CMD gunicorn -b :$PORT app:app` becomes
    `CMD ["/bin/sh", "-c", "exec gunicorn -b :$PORT app:app"]`, and `CMD PORT=8080 node
    app.js` becomes `CMD ["/bin/sh", "-c", "PORT=8080 exec node app.js"]`. A command that
    needs the shell itself (`a && b`, a loop, a pipe) is written as the JSON of exactly the
    command line the shell form stores: `CMD ["/bin/sh", "-c", "while true; do ...; done"]`.

Why
    The shell form runs the command under `/bin/sh -c`, so the shell is PID 1: `docker
    stop` sends SIGTERM to the shell, which does not pass it on, and the container is killed
    after the grace period instead of shutting down cleanly (hadolint DL3025, BuildKit
    JSONArgsRecommended). Where the shell must stay, the JSON form says so, as BuildKit's
    documentation advises, instead of leaving it implied.

Example
    CMD gunicorn --bind :8000 app:app  ->  CMD ["gunicorn", "--bind", ":8000", "app:app"]

When it is not safe
    Only commands made of plain words and simple quotes are split into words; a single
    command whose words use variables or that starts with `VAR=value` assignments is kept
    under the stage's shell (`/bin/sh -c`, or a POSIX SHELL's own command line), which is
    exactly what the shell form stored, plus `exec` (dash, bash and BusyBox's ash all pass
    the assignments on through `exec`). Anything else the shell would interpret (pipes,
    `&&`, `;`, redirections, substitutions, a shell builtin, `echo` with options or
    backslashes, which dash's builtin reads otherwise than /bin/echo) is written as the
    shell form's own command line, `[shell..., "-c", text]`: the image configuration is
    byte for byte the same, and the shell stays PID 1. Left alone: instructions with
    comment lines inside, stages under a non-POSIX SHELL (PowerShell, cmd) and Windows
    images.
    A CMD is `safe` when its stage has no ENTRYPOINT. With an ENTRYPOINT the entrypoint's
    arguments change from `/bin/sh -c "..."` to the words themselves, and an ENTRYPOINT in
    exec form starts receiving `docker run` arguments and CMD: both are marked `review`,
    and a shell-form ENTRYPOINT followed by a CMD keeps its shell (with `exec`, or as it
    is), which ignores them as before.
"""

from __future__ import annotations

import json
import re

from dockopt.optimizer.edits import Edit
from dockopt.optimizer.messages import joined
from dockopt.optimizer.runs import WINDOWS_IMAGE, posix_shell
from dockopt.optimizer.transform import REVIEW, SAFE, Transform

_WORD = re.compile(r"""(?:[A-Za-z0-9_./:=@%+,-]+|'[^']*'|"[^"$`\\!]*")+""")
_BUILTINS = frozenset(
    ". : [[ ]] { } ! alias bg break case cd command continue do done elif else esac eval exec exit "
    "export fc fg fi for function getopts hash if in jobs read readonly return select set "
    "shift source then time times trap type ulimit umask unalias unset until wait while "
    "local let declare typeset shopt".split()
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
    if not words or "=" in words[0] or words[0] in _BUILTINS or _builtin_differs(words[0], words[1:]):
        return None
    return words


def _builtin_differs(name: str, args: list[str]) -> bool:
    """Whether the shell's builtin `name` would print other than the program exec runs:
    dash's `echo` reads backslash escapes and no option but -n, coreutils' echo the
    reverse; `pwd` prints the path as cd went, /bin/pwd with links resolved."""
    if name == "pwd":
        return True
    return name == "echo" and any("\\" in a or a.startswith("-") for a in args)


_DUPLICATION = re.compile(r"\d*[<>]&(\d+|-)")


def _single_command(text: str) -> str | None:
    """`exec` + the command, when the text is one simple command whose words need the shell
    only to expand variables; None otherwise."""
    from dockopt.optimizer.shell import ShellSyntaxError, parse_commands

    text = text.strip()
    # Redirections stay (`exec cmd 2>&1` redirects, then replaces the shell); `&>` is bash's.
    if not text or "&>" in text or "<<" in text or re.search(r"[;&|`\n]|\$\(|<\(|>\(", _DUPLICATION.sub(" ", text)):
        return None
    try:
        found = parse_commands(text)
    except ShellSyntaxError:
        return None
    if len(found) != 1 or found[0].context:
        return None
    name = found[0].name
    if name == "echo" or _builtin_differs(name, found[0].words[1:]):
        return None  # what a variable holds could make dash's echo and /bin/echo differ
    if name == "exec":
        return text if len(found[0].words) > 1 and not found[0].words[1].startswith("-") else None
    if not name or name in _BUILTINS or "=" in name:
        return None
    at = found[0].spans[found[0].assignments][0]  # `VAR=value exec cmd`: exec passes VAR on to cmd
    return text[:at] + "exec " + text[at:]


def fix(dockerfile, context):
    if dockerfile.escape == "`":
        return
    for stage in dockerfile.stages:
        lineage = dockerfile.lineage(stage)
        inherited = [i for s in reversed(lineage) for i in s.instructions]
        shells = [i for i in inherited if i.keyword == "SHELL"]
        if not all(posix_shell(i) for i in shells) or any(WINDOWS_IMAGE.search(s.image) for s in lineage):
            continue
        has_entrypoint = any(i.keyword == "ENTRYPOINT" for i in inherited)
        has_cmd = any(i.keyword == "CMD" for i in stage.instructions)
        shell = next((i.arguments for i in reversed(inherited[: -len(stage.instructions) or None]) if i.keyword == "SHELL"),
                     ["/bin/sh", "-c"])
        for ins in stage.instructions:
            if ins.keyword == "SHELL":
                shell = ins.arguments
            if ins.keyword not in ("CMD", "ENTRYPOINT") or ins.json or ins.inner_comments:
                continue
            if ins.flags or not ins.args_text:  # BuildKit refuses both
                continue
            words = split_plain_words(ins.args_text)
            if ins.keyword == "ENTRYPOINT" and has_cmd:
                words = None  # CMD would become its arguments: keep the shell, which ignores them
            if words is None:
                script = _single_command(ins.args_text)
                if script is not None:
                    start, end = ins.content_span()
                    text = f"{ins.keyword_text} {json.dumps([*shell, script], ensure_ascii=False)}"
                    if script == ins.args_text.strip():  # it already starts with exec
                        why = joined("the command line the shell form stored, written as JSON",
                                     "the image configuration is the same, and `exec` already makes the program PID 1")
                    else:
                        why = joined("exec form of what the shell form ran, with `exec`",
                                     "the program, not the shell, is PID 1 and receives SIGTERM; its variables still expand")
                    # a CMD is the ENTRYPOINT's arguments: they now start with `exec`
                    yield Edit(start, end, text, why, REVIEW if ins.keyword == "CMD" and has_entrypoint else None)
                else:
                    start, end = ins.content_span()
                    text = f"{ins.keyword_text} {json.dumps([*shell, ins.args_text], ensure_ascii=False)}"
                    yield Edit(start, end, text, joined(
                        "the command line the shell form stored, written as JSON",
                        "the image configuration is the same, and the shell the command needs stays PID 1"))
                continue
            if ins.keyword == "ENTRYPOINT":
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
    buildkit=("JSONArgsRecommended",),
)
