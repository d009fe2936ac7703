"""What changes in a script when its shell changes: from dash to bash, and with pipefail.

DO109 puts `SHELL ["/bin/bash", "-o", "pipefail", "-c"]` (or BusyBox ash with the same
option) before RUNs that /bin/sh ran so far. That is only sound when every script it now
covers means the same to the new shell. This module answers two questions about one script:

- `pipelines(text)`: the pipelines, each as its parts (simple or compound commands) with
  their text. `shell.commands` lists simple commands only, so a pipe into a compound
  command (`find | while read f; do ...; done`) is invisible there; the parser here records
  every command the grammar reads, with the operator before it, by extending the one in
  `shell.py` rather than copying it.
- `pipefail_hazard(text)`: why `-o pipefail` could fail or change a pipeline that passes
  today: a reader that stops early (`head`, `grep -q`, `sed q`, `awk exit`, `read`) so the
  writer dies of SIGPIPE; a writer that never ends (`yes`, `/dev/urandom`); a command
  whose failure is ordinary (`grep` finding nothing, `diff`, `test`, errors sent to
  /dev/null) before the last part of a pipeline that no `||` guards.
- `bash_difference(text)`: why bash could run a script differently from dash: `echo` with
  backslashes or options other than `-n` (dash's echo interprets escapes and knows no
  `-e`), brace expansion (`mkdir {a,b}`), bash-only syntax and builtins that dash rejects
  today, perhaps inside a condition (`[[`, `source`, `==` in `[`, `&>`, `<<<`, `$'...'`),
  printf escapes dash lacks, variables bash sets (`$RANDOM`, `$BASH_VERSION`), `alias`.
  Everything else the two shells read the same, as POSIX asks.

Each returns a short reason or None. None means "no difference found"; the lists err on
the side of finding one, since the cost of a false alarm is only a rewrite not made.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass

from dockopt.optimizer.shell import Command, ShellSyntaxError, _Parser, commands_found, parse_commands


@dataclass(frozen=True)
class Part:
    """One command of a pipeline: simple or compound, with the simple commands inside it."""

    text: str
    start: int
    end: int
    commands: tuple[Command, ...]


class _UnitParser(_Parser):
    """The shell parser, also recording each command it reads (compound ones included)
    with the operator before it and the constructs around it."""

    def __init__(self, text: str):
        super().__init__(text)
        self.units: list[tuple[int, int, str | None, tuple[str, ...]]] = []

    def command(self, op):
        self.blanks()
        start, context = self.pos, self.context
        super().command(op)
        self.units.append((start, self.pos, op, context))


def pipelines(text: str) -> list[tuple[list[Part], str | None]] | None:
    """The pipelines of a script (two parts or more), each with the operator that follows
    it (`||`, `&&`, ...; None at the end of a list); None when the text is not sh.

    One parse gives both the units and the simple commands, which are built only when
    there is a pipe. A unit's writer and the operator after a pipeline are looked up among
    the units of its own construct, so a script of thousands of piped commands (a long
    heredoc) is not read once per pipe."""
    parser = _UnitParser(text)
    try:
        parser.script()
    except ShellSyntaxError:
        return None
    units = sorted((s, s + len(text[s:e].rstrip()), op, ctx) for s, e, op, ctx in parser.units)
    if not any(op in ("|", "|&") for _, _, op, _ in units):
        return []
    by_context: dict[tuple[str, ...], list[tuple]] = {}  # the units of each construct, in order
    for unit in units:
        by_context.setdefault(unit[3], []).append(unit)
    seen: dict[tuple[str, ...], int] = {}  # how many units of each construct come before
    found = []
    for start, end, op, context in units:
        same, k = by_context[context], seen.get(context, 0)
        seen[context] = k + 1
        if op not in ("|", "|&"):
            continue
        writer = next((same[j] for j in range(k - 1, -1, -1) if same[j][1] <= start), None)
        if writer is None:
            continue
        if found and found[-1][0][-1][:2] == writer[:2]:
            found[-1][0].append((start, end, op, context))
        else:
            found.append([[writer, (start, end, op, context)], context])
    cmds = commands_found(parser, text)
    starts = [c.start for c in cmds]
    unit_starts = {context: [u[0] for u in same] for context, same in by_context.items()}
    result = []
    for chain, context in found:
        same = by_context[context]
        k = bisect_left(unit_starts[context], chain[-1][1])
        after = same[k][2] if k < len(same) else None
        parts = []
        for s, e, _, _ in chain:
            inside, j = [], bisect_left(starts, s)
            while j < len(cmds) and cmds[j].start <= e:
                if cmds[j].end <= e:
                    inside.append(cmds[j])
                j += 1
            parts.append(Part(text[s:e], s, e, tuple(inside)))
        result.append((parts, after))
    return result


def has_pipe(text: str) -> bool:
    """Whether the script has a pipeline (no `|` in the text: none, without parsing it)."""
    return "|" in text and bool(pipelines(text))


# Readers that may exit before their input ends, leaving the writer to die of SIGPIPE.
_GREP = frozenset("grep egrep fgrep zgrep rg ag ack".split())
_GREP_EARLY = re.compile(r"-[A-Za-z]*[qlLm]|--(quiet|silent|max-count|files-with)")
_SED_QUIT = re.compile(r"(^|[;{}\s\d/$])[qQ](\s|;|}|\d|$)")
_AWK = frozenset("awk gawk mawk nawk busybox-awk".split())
_EARLY = frozenset("head read true false : exit return".split())
# Commands whose non-zero status is routine, so a pipeline may pass today only because
# their status is masked.
_ROUTINE = frozenset("grep egrep fgrep zgrep rg ag ack diff cmp test [ [[ which command type hash "
                     "pgrep pidof dpkg-query rpm false".split())
# dpkg fails routinely only when it asks about packages (one that is not installed);
# `dpkg --print-architecture` and the like always succeed.
_DPKG_QUERIES = re.compile(r"^(?:-[a-zA-Z]*[slLSp][a-zA-Z]*|--(?:status|list|listfiles|search|print-avail)(?:=.*)?)$")
_NULLED_ERRORS = re.compile(r"2>\s*/dev/null|&>\s*/dev/null|2>&-")
_ENDLESS = re.compile(r"/dev/(u?random|zero)\b")


def _base(name: str) -> str:
    return name.rsplit("/", 1)[-1]


def _stops_early(cmd: Command) -> str | None:
    name, args = _base(cmd.name), cmd.words[cmd.assignments + 1 :]
    if name in _EARLY:
        return f"`{name}` may stop reading before its input ends"
    if name in _GREP and any(_GREP_EARLY.match(a) for a in args):
        return f"`{name}` with {next(a for a in args if _GREP_EARLY.match(a))} stops at the first match"
    if name == "sed" and any(_SED_QUIT.search(a) for a in args if not a.startswith("-")):
        return "`sed` with `q` stops reading early"
    if name in _AWK and any("exit" in a for a in args):
        return f"`{name}` with `exit` may stop reading early"
    return None


def pipefail_hazard(text: str) -> str | None:
    """Why turning on pipefail could fail or change a pipeline of `text`, or None."""
    found = pipelines(text)
    if found is None:
        return "the script does not parse as sh"
    for parts, after in found:
        for part in parts[1:]:
            first = part.commands[0] if part.commands else None
            if first is not None and first.start == part.start and first.end == part.end:
                why = _stops_early(first)
                if why:
                    return f"{why}: the writer would now fail with SIGPIPE"
            elif first is None or any(_base(c.name) in ("break", "exit", "return", "head") for c in part.commands):
                return "a compound reader may stop reading early"
        for i, part in enumerate(parts[:-1]):
            if part.commands and _base(part.commands[0].name) == "yes" or _ENDLESS.search(part.text):
                return "an endless writer (`yes`, urandom) ends by SIGPIPE"
            if after == "||":
                continue
            if _NULLED_ERRORS.search(part.text):
                return "a command before `|` hides errors with 2>/dev/null: its failure would now count"
            routine = next((c for c in part.commands if _fails_routinely(c)), None)
            if routine is not None and not _failure_shows(part, parts[i + 1 :]):
                return f"`{_base(routine.name)}` before `|` fails routinely: its status (grep finding nothing, say) would now count"
    return None


def _fails_routinely(cmd: Command) -> bool:
    name = _base(cmd.name)
    if name == "dpkg":
        return any(_DPKG_QUERIES.match(w) for w in cmd.words[cmd.assignments + 1 :])
    return name in _ROUTINE


_CHECKSUMS = frozenset("md5sum sha1sum sha224sum sha256sum sha384sum sha512sum b2sum".split())


def _failure_shows(part: Part, rest: list[Part]) -> bool:
    """Whether a grep that finds nothing already fails the pipeline without pipefail: it
    prints nothing when it fails, and each command after it fails on empty input and then
    prints nothing itself (another grep reading its input; `sha256sum -c` finds no checksum
    line), so the last one fails too. `grep ... | sha256sum -c -` and `gpg ... | grep a |
    grep b` fail exactly when they did."""
    files = _grep_files(_alone(part))
    return files is not None and len(files) <= 1 and bool(rest) and all(_empty_fails(_alone(p)) for p in rest)


def _alone(part: Part) -> Command | None:
    """The part's command when the part is one simple command."""
    first = part.commands[0] if len(part.commands) == 1 else None
    return first if first is not None and (first.start, first.end) == (part.start, part.end) else None


_PLAIN_GREP = frozenset("grep egrep fgrep".split())
_GREP_ARGUMENT = frozenset("efmABCdD")  # short options that take the next word


def _grep_files(cmd: Command | None) -> list[str] | None:
    """The files a grep reads (empty: its standard input), when it prints nothing exactly
    when it fails (no `-c`, `-L`, `-r`, no redirection); None for anything else."""
    if cmd is None or _base(cmd.name) not in _PLAIN_GREP or _NULLED_ERRORS.search(cmd.raw) or re.search(r"[<>]", cmd.raw):
        return None
    operands, explicit, skip = [], False, False
    for a in cmd.words[cmd.assignments + 1 :]:
        if skip:
            skip = False
        elif a == "--":
            return None  # operands that look like options: not worth reading
        elif a.startswith("--"):
            if not a.startswith(("--fixed", "--extended", "--basic", "--ignore-case", "--word", "--line-regexp",
                                 "--only-matching", "--quiet", "--silent", "--no-messages", "--regexp=")):
                return None
            explicit = explicit or a.startswith("--regexp=")
        elif a.startswith("-") and a != "-":
            if set(a[1:]) & set("cLlrR"):
                return None  # a count, file names, folders: output even when nothing matched
            explicit = explicit or "e" in a or "f" in a  # `-e PATTERN`, `-ie PATTERN`, `-ePATTERN`
            skip = a[-1] in _GREP_ARGUMENT
        else:
            operands.append(a)
    return operands if explicit else operands[1:] if operands else None


def _empty_fails(cmd: Command | None) -> bool:
    """Whether `cmd` reads its standard input, fails when it is empty, and then prints nothing."""
    files = _grep_files(cmd)
    if files is not None:
        return files in ([], ["-"])
    if cmd is None or _NULLED_ERRORS.search(cmd.raw) or re.search(r"[<>]", cmd.raw):
        return False
    name, args = _base(cmd.name), cmd.words[cmd.assignments + 1 :]
    if name in _CHECKSUMS:
        operands = [a for a in args if not a.startswith("-") or a == "-"]
        return any(a in ("-c", "--check") for a in args) and operands in ([], ["-"])
    return False


_ECHO_OPTION = re.compile(r"-[neE]+$")
_BASH_SYNTAX = [
    (re.compile(r"\[\["), "`[[ ]]`"),
    (re.compile(r"(^|[\s;&|(])\(\("), "`(( ))`"),
    (re.compile(r"&>|\|&"), "`&>` or `|&`"),
    (re.compile(r"<<<"), "a here-string"),
    (re.compile(r"\$'"), "`$'...'`"),
    (re.compile(r'\$"'), '`$"..."`'),
    (re.compile(r"[<>]\("), "process substitution"),
    (re.compile(r"\$\{[!#]?\w+(\[[^]]*\])?(//?|:\d|:\s+-?\d|\^|,|:\$)"), "bash parameter expansion"),
    (re.compile(r"\$\{!"), "indirect expansion"),
    (re.compile(r"(^|[\s;&|])\w+=\("), "an array"),
    (re.compile(r"\$\{?(RANDOM|BASH\w*|UID|EUID|HOSTNAME|SECONDS|PIPESTATUS|FUNCNAME|OSTYPE|HOSTTYPE|MACHTYPE|SHELLOPTS|BASHOPTS|GROUPS|DIRSTACK|EPOCH\w*|SRANDOM|LINENO)\b"),
     "a variable bash sets"),
]
_BASH_BUILTINS = frozenset(
    "source declare typeset let shopt pushd popd dirs select mapfile readarray enable builtin caller "
    "complete compgen disown bind help history function time alias unalias".split()
)
_BASH_SET = frozenset("-E -T -H -B -P +B errtrace functrace history histexpand braceexpand physical posix".split())
_BRACE = re.compile(r"(?<!\$)\{[^{}\s]*(,|\.\.)[^{}\s]*\}")
_PRINTF_BASH = re.compile(r"\\[xuUeE]|%q|%\(")


def bash_difference(text: str) -> str | None:
    """Why bash could run `text` differently from dash, or None."""
    try:
        cmds = parse_commands(text)
    except ShellSyntaxError:
        return "the script does not parse as sh"
    rerun = any(_base(c.name) in ("eval", "trap") or c.words[c.assignments:][:2] in (["command", "eval"], ["builtin", "eval"])
                for c in cmds)  # their quoted strings are run again by the same shell
    code = text if rerun else _without_literals(text)
    for pattern, what in _BASH_SYNTAX:
        if pattern.search(code):
            return f"{what} means something else to dash"
    for cmd in cmds:
        name, args = _base(cmd.name), cmd.words[cmd.assignments + 1 :]
        raw_args = cmd.raw
        if cmd.name == "echo":  # the builtin: /bin/echo is the same program for both
            if args and args[0].startswith("-") and args[0] != "-n" and _ECHO_OPTION.match(args[0]):
                return f"`echo {args[0]}`: dash's echo has no option but -n"
            if any("\\" in _unquoted(cmd.raw[s - cmd.start : e - cmd.start]) for s, e in cmd.spans[1:]):
                return "`echo` with a backslash: dash's echo interprets escapes, bash's does not"
        if cmd.name == "printf" and _PRINTF_BASH.search(raw_args):
            return "`printf` escape that dash's printf lacks"
        if name in ("[", "test") and any(a in ("==", "=~", "-v") or a.startswith("\\") for a in args):
            return f"`{name}` with a bash-only operator"
        if cmd.name in _BASH_BUILTINS:
            return f"`{cmd.name}` is a bash builtin dash lacks"
        if cmd.name in ("read", "wait", "trap", "kill", "set", "type", "exec") and _bash_option(cmd):
            return f"`{cmd.name}` with an option dash lacks"
        for raw in (cmd.raw[s - cmd.start : e - cmd.start] for s, e in cmd.spans):
            if "'" not in raw and '"' not in raw and (_BRACE.search(raw) or "[^" in raw):
                return f"`{raw}`: bash expands braces (and `[^...]`), dash does not"
    return None


class _LiteralParser(_Parser):
    """The shell parser, also recording where each single-quoted string's text lies: only
    those outside double quotes, where every shell reads `'` the same way (within
    `"${x:-'}"` dash takes it as a character, the parser as a quote)."""

    def __init__(self, text: str):
        super().__init__(text)
        self.literals: list[tuple[int, int]] = []
        self.depth = 0  # double quotes open around the parser's position

    def double_quote(self) -> None:
        self.depth += 1
        try:
            super().double_quote()
        finally:
            self.depth -= 1

    def single_quote(self) -> None:
        opening = self.pos
        super().single_quote()
        if self.depth == 0:
            self.literals.append((opening + 1, self.pos - 1))


def _without_literals(text: str) -> str:
    """`text` with the inside of every single-quoted string blanked: the same characters
    for both shells (`awk 'sub(":$", "")'` holds no `$"`), so no bash syntax to look for."""
    parser = _LiteralParser(text)
    parser.script()  # the caller has parsed the text already: it does not raise here
    chars = list(text)
    for start, end in parser.literals:
        chars[start:end] = " " * (end - start)
    return "".join(chars)


def _unquoted(raw: str) -> str:
    """A word as the command receives it, expansions left as written: the backslashes the
    shell removes (`\\$` in double quotes, `\\x` outside quotes) are gone."""
    out, i, quote = [], 0, None
    while i < len(raw):
        ch = raw[i]
        if quote == "'":
            quote = None if ch == "'" else quote
            out.append(ch if quote else "")
        elif ch == "\\" and i + 1 < len(raw):
            nxt = raw[i + 1]
            keep = quote == '"' and nxt not in '$`"\\\n'
            out.append(("\\" if keep else "") + nxt)
            i += 1
        elif ch in "'\"" and quote is None:
            quote = ch
        elif ch == '"' and quote == '"':
            quote = None
        else:
            out.append(ch)
        i += 1
    return "".join(out)


def _bash_option(cmd: Command) -> bool:
    args = cmd.words[cmd.assignments + 1 :]
    if cmd.name == "read":
        return any(a.startswith("-") and set(a[1:]) - set("rp") for a in args)
    if cmd.name == "wait":
        return any(a.startswith("-") for a in args)
    if cmd.name in ("trap", "kill"):
        return any(a.upper().startswith("SIG") or a.upper() in ("ERR", "DEBUG", "RETURN") for a in args)
    if cmd.name == "set":
        return any(a in _BASH_SET for a in args)
    if cmd.name == "type":
        return any(a.startswith("-") for a in args)
    if cmd.name == "exec":
        return any(a in ("-a", "-c", "-l") for a in args[:1])
    return False
