"""DO511 cd-workdir: a `cd` in a RUN that no WORKDIR can stand for, and why.

What it does
    Reports every `cd DIR` a RUN runs that DO108 cd-to-workdir does not turn into a
    WORKDIR, as hadolint reports the RUN (DL3003), and says why no WORKDIR can say it:
    - the RUN creates the folder, works in it and deletes it (`cd /usr/src/python` in a
      source build that ends with `rm -rf /usr/src/python`, or `docker-php-source delete`);
    - the folder is named by a variable or `~`, known only when the RUN runs;
    - the cd sits in a subshell, `if`, loop or `$( )`: it moves only part of the RUN;
    - the cd comes after other commands, which a WORKDIR would move too;
    - for a leading cd: the folder to set back afterwards is unknown, the RUN goes on when
      the cd fails (a WORKDIR would create the folder), CDPATH is set, the folder is a
      `--mount` target, the script goes back with `cd -`, and the like.
    Where DO108 rewrites the RUN, the finding is DO108's.

Why
    WORKDIR states the folder once for every instruction after it, creates it if needed
    and shows in the image's configuration; a `cd` has to be repeated in each RUN and is
    easy to forget in the next one (hadolint DL3003, Docker's best practices).

Example
    RUN tar xf src.tgz -C /usr/src/x && cd /usr/src/x && make install && rm -rf /usr/src/x
    reported: `cd /usr/src/x` into a folder this RUN deletes

Why there is no fix
    For a `cd` in the middle of a script there is no equivalent WORKDIR: the commands
    before it run elsewhere, and a WORKDIR cannot stop partway through a RUN. Splitting
    the RUN in two adds a layer, keeps in it what the second half deletes, and changes the
    cache. DO108 fixes the leading ones it can prove equivalent; a person decides for the
    rest (a subshell `(cd x && make)` or `make -C x` often says it better).
"""

from __future__ import annotations

import posixpath

from dockopt.checks._commands import runs
from dockopt.optimizer.findings import Check, Problem
from dockopt.optimizer.messages import clip, joined

_CONSTRUCTS = {"subshell": "a subshell", "substitution": "a `$( )`", "if": "an `if`", "for": "a loop",
               "while": "a loop", "until": "a loop", "case": "a `case`", "group": "a `{ }` group",
               "function": "a function", "negation": "a `!` command"}
# DO108's reasons for leaving a leading cd alone, as a first line says them.
_LEADING = {
    "previous directory unknown": ("the folder to set back after it is unknown",
                                   "A WORKDIR must be followed by the folder the later instructions ran in; "
                                   "the base image's working folder is not in dockopt's data."),
    "relative cd, directory unknown": ("relative to a folder dockopt does not know",
                                       "The base image's working folder is not in dockopt's data."),
    "CDPATH is set": ("CDPATH is set, so the folder it reaches is unknown", ""),
    "cd into a --mount target": ("a --mount target, which a WORKDIR would create in the image", ""),
    "relative --mount target": ("relative --mount targets would move with a WORKDIR", ""),
    "cd with options, variables or ~": ("known only when the RUN runs, no WORKDIR can name it", ""),
    "cd's failure does not stop the RUN": ("the RUN goes on when it fails; a WORKDIR creates the folder",
                                           "Only a cd whose failure fails the RUN (joined by `&&`, or by `;` under "
                                           "`set -e`) proves the folder existed."),
    "mkdir under a non-root USER": ("made by a non-root USER; a WORKDIR may make it root's",
                                    "The classic builder creates a WORKDIR's folder owned by root, where the RUN's "
                                    "own mkdir made it the USER's (BuildKit gives it to the USER)."),
    "cd alone": ("a RUN of just `cd` changes nothing: delete it",
                 "A WORKDIR in its place would move every later instruction."),
    "uses the previous directory (cd -, $OLDPWD)": ("the script goes back with `cd -` or $OLDPWD", ""),
    "comment inside": ("a comment line sits inside `cd DIR &&`", ""),
    "another shell (SHELL)": ("another shell (SHELL) runs this RUN", ""),
    "not sh": ("the script does not read as sh", ""),
}
# Commands that delete a folder they are given, besides `rm`.
_DELETES = {"docker-php-source": ("/usr/src/php", "delete")}


def find(dockerfile):
    from dockopt.transforms.cd_workdir import NON_ROOT, left_alone

    leading = None
    for _, ins, cmds in runs(dockerfile):
        cds = [(n, c) for n, c in enumerate(cmds) if c.name == "cd"]
        if not cds:
            continue
        if leading is None:
            leading = left_alone(dockerfile)
        reason = leading.get(id(ins))
        # With no reason on record DO108 rewrites this RUN's first top-level cd: the leading
        # one, or one after set-up commands that do the same in any folder.
        first_cd = next((n for n, c in cds if not c.context), None)
        for n, cmd in cds:
            target = " ".join(cmd.words[cmd.assignments + 1 :]) or "~"
            if n == first_cd and reason is None:
                first, detail = "DO108 cd-to-workdir makes it a WORKDIR", "DO108 is not among the rules that ran."
            else:
                leads = n == _first_command(cmds) or (n == first_cd and reason == NON_ROOT)
                first, detail = _why(cmds, n, cmd, target, reason if leads else None)
            yield Problem(cmd.start, cmd.end, joined(f"`cd {clip(target, 30)}`: {first}", detail))


def _why(cmds, n, cmd, target, leading) -> tuple[str, str]:
    """(first line, detail) for one cd of a RUN that DO108 left alone."""
    if leading in _LEADING and leading != "cd with options, variables or ~":
        return _LEADING[leading]
    words = cmd.words[cmd.assignments + 1 :]
    if not words or any(c in target for c in "$`~*?[") or words[0].startswith("-") or len(words) > 1:
        return "known only when the RUN runs, no WORKDIR can name it", "A variable, `~` or an option names the folder."
    deleted = _deleted(cmds, n, target)
    if deleted:
        return "a folder this RUN deletes, no WORKDIR can stand for it", (
            f"`{deleted}` removes it later in the same RUN: the RUN works in the folder for a while only, "
            "which a WORKDIR cannot say.")
    inside = [_CONSTRUCTS.get(c, c) for c in cmd.context if c != "negation"]
    if inside:
        return f"inside {inside[-1]}, it moves only part of the RUN", ""
    return "after other commands, which a WORKDIR would move too", (
        "A WORKDIR applies to the whole RUN; splitting the RUN at the cd would add a layer.")


def _first_command(cmds) -> int:
    """The index of the first top-level command after leading `set` options."""
    for i, c in enumerate(cmds):
        if not c.context and c.name != "set":
            return i
    return -1


def _deleted(cmds, n, target) -> str | None:
    """The command after the cd that deletes its folder (or a folder holding it), if any."""
    cwd = posixpath.normpath(target) if target.startswith("/") else None
    if cwd is None:
        return None
    for cmd in cmds[n + 1 :]:
        words = cmd.words[cmd.assignments :]
        name = words[0].rsplit("/", 1)[-1] if words else ""
        if name == "rm":
            for w in words[1:]:
                if w.startswith("/") and not w.startswith("-"):
                    gone = posixpath.normpath(w)
                    if gone != "/" and (cwd == gone or cwd.startswith(gone + "/")):
                        return clip(cmd.raw, 60)
        elif name in _DELETES and _DELETES[name][1] in words[1:]:
            if cwd == _DELETES[name][0] or cwd.startswith(_DELETES[name][0] + "/"):
                return clip(cmd.raw, 60)
    return None


CHECK = Check(
    id="DO511",
    name="cd-workdir",
    title="A cd in a RUN that no WORKDIR can stand for",
    why="WORKDIR states the folder once for every later instruction; a cd inside RUN hides it.",
    severity="info",
    find=find,
    doc=__doc__,
    hadolint=("DL3003",),
    fixed_by=("DO108",),
)
