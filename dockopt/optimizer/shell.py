"""The commands inside a shell-form RUN, located exactly in the source.

Rewrites such as "add `--no-install-recommends` after `apt-get install`" must find one simple
command inside a RUN and edit one word of it without disturbing anything else. `commands(ins)`
splits the shell text into its simple commands, each with its words, the operator that joins
it to the command before, the constructs it sits in (so a transform can leave an `if` body or
a `$( )` alone) and source offsets for the command and for every word, mapped through the
instruction's continuation lines.

Why a hand-written parser. Measured on the 1897 shell-form RUNs of the corpus against
tree-sitter-bash, which the issue suggested (bashlex was ruled out before: it raises on
`[[ ]]`, `$(( ))` and `case`, and takes about 150 ms to import):
- Correctness. Both reject the same 71 RUNs (all PowerShell) and find exactly the same
  commands, by start and name, in the other 1826. But tree-sitter-bash fails on the two
  `RUN <<EOT bash` RUNs given as BuildKit hands them to sh (`<<EOT bash`, then the body),
  and in 99 RUNs it attaches a trailing redirection to the whole `&&` chain or pipeline
  instead of its last command (`apt-get update && apt-get install -y x > /dev/null`: the
  install command's span loses `> /dev/null`), the very commands rewrites edit. Its tree has
  further quirks a walker would have to repair: the rest of a heredoc line (`cat <<EOF > f
  && chmod +x f`) nests inside the redirection node, and `echo a >f b` makes `b` a second
  redirection target.
- Cost. tree-sitter-bash adds two compiled packages to the runtime dependencies and about
  3 ms to load inside the CLI (8 ms from a bare interpreter), and its offsets are UTF-8 bytes
  to convert. This module uses the standard library only and imports in about 2 ms. Per RUN,
  tree-sitter parses and is walked in about 70 us, this parser takes about 100 us (130 us
  with the source mapping, a quarter of a second for the whole corpus).
What is needed is small: the boundaries of simple commands and of their words. That takes a
lexer for quoting (`'...'`, `"..."`, `$'...'`, backslashes), substitutions (`$( )`,
backquotes, `$(( ))`, `${ }`, `<( )`), comments, redirections and heredocs, and a recursive
descent over the compound commands (`if`, `for`, `while`/`until`, `case`, `{ }`, `( )`,
functions, `[[ ]]`, `!`). That is this module.

Offsets. The shell text of a RUN is its logical line (continuations joined, comment lines
inside it dropped) after the flags; an index into it is mapped to the source through
`Instruction.source_offset`. An end offset is the mapped position of the last character plus
one, so a word or command never reaches into the continuation that follows it.

Heredocs. `RUN <<EOF` alone runs the heredoc body as the script (BuildKit's "simple heredoc",
with leading tabs removed for `<<-`), and so does `RUN <<EOF bash -e`, which feeds it to a
shell: their commands are located in the body. A body with a shebang for anything but sh or
bash is not shell, and gives no commands. Other heredocs are data the command reads
(`RUN cat <<EOF > /etc/x`, `RUN python3 <<EOF`); BuildKit appends them to the command line,
and so does this module, so the commands are those of the instruction line.

Text that is not valid sh (a PowerShell RUN under `SHELL ["powershell", ...]`, unbalanced
quotes) gives no commands: a transform must not edit what it cannot read. Callers still have
to check that the stage's shell is /bin/sh; the parser cannot tell every other language apart.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Callable

from dockopt.optimizer.sh_tokens import REDIRECT, RESERVED
from dockopt.optimizer.words import heredoc_markers, raw_words

if TYPE_CHECKING:
    from dockopt.optimizer.syntax import Instruction

_OPERATORS = (";;&", "&&", "||", ";;", ";&", "|&", "&", "|", ";", "(", ")", "\n")
_SEPARATORS = frozenset({"&&", "||", "|", "|&", ";", "&"})
# The operators by their first character, each list in the order of _OPERATORS (the
# parser reads an operator at most places it stands: one lookup, not twelve tries).
_OPERATORS_AT = {ch: tuple(op for op in _OPERATORS if op[0] == ch) for ch in ";&|()\n"}
_ASSIGNMENT = re.compile(r"[A-Za-z_]\w*(?:\[[^\]]*\])?\+?=")
_UNEXPECTED = frozenset({"then", "elif", "else", "fi", "do", "done", "esac", "}"})
_PLAIN = re.compile(r"[^ \t\n;&|()<>\\'\"`$]+")
_SH_SHEBANG = re.compile(r"#![ \t]*/\S*/(?:env[ \t]+)?(?:ba|da|a)?sh(?=\s|$)")
_SHELL_PROGRAM = re.compile(r"(?:/usr)?(?:/bin/)?(?:ba|da|a)?sh")
_GLOB_OR_BRACE = re.compile(r"[*?\[]|\{[^}]*(?:,|\.\.)[^}]*\}")


class ShellSyntaxError(ValueError):
    """Shell text that does not parse as sh; `offset` indexes into the text."""

    def __init__(self, message: str, offset: int):
        super().__init__(f"{message} at offset {offset}")
        self.offset = offset


@dataclass(frozen=True)
class Command:
    """One simple command: its words, where it is, how it is joined to the command before."""

    words: list[str]  # plain literal words unquoted, any other word as written
    raw: str  # the command's text as the shell reads it, its redirections included
    start: int  # source offsets; `end` is exclusive
    end: int
    op: str | None  # "&&", "||", ";", "|", "|&", "&", "\n", or None for the first of a list
    context: tuple[str, ...]  # enclosing constructs, outermost first: "if", "for", "while",
    # "until", "case", "group", "subshell", "function", "substitution", "negation"
    spans: tuple[tuple[int, int], ...]  # the source range of each word
    assignments: int = 0  # how many leading words are `VAR=value`

    @cached_property
    def name(self) -> str:
        """The command run: the first word after the `VAR=value` assignments ("" if none).
        (Kept once found: every transform asks every command for it.)"""
        return self.words[self.assignments] if len(self.words) > self.assignments else ""

    @property
    def nested(self) -> bool:
        """Inside a compound command or a substitution."""
        return bool(self.context)

    def word_span(self, i: int) -> tuple[int, int]:
        """Source range of word `i` (negative indexes count from the end)."""
        return self.spans[i]

    def find(self, *path: str) -> int | None:
        """Index of the last word of `name path...` (options between are skipped), or None.

        For `apt-get -q install -y x`, `find("install")` is 2.
        """
        i = self.assignments
        for want in path:
            i += 1
            while i < len(self.words) and self.words[i].startswith("-") and self.words[i] != want:
                i += 1
            if i >= len(self.words) or self.words[i] != want:
                return None
        return i if path else None

    def args_after(self, *path: str) -> list[str] | None:
        """The words after `name path...`, or None when the command is not that."""
        i = self.find(*path) if path else self.assignments
        return None if i is None or i >= len(self.words) else self.words[i + 1 :]


# Wrappers that run the command after them, with their options that take an argument.
_WRAPPERS = {
    "sudo": frozenset({"-u", "-g", "-h", "-p", "-C", "-D", "-r", "-t", "-U", "-T", "--user", "--group"}),
    "doas": frozenset({"-u", "-C"}),
    "env": frozenset({"-u", "-C", "--unset", "--chdir", "-S"}),
    "exec": frozenset({"-a"}),
    "nohup": frozenset(),
    "time": frozenset({"-f", "-o"}),
    "nice": frozenset({"-n"}),
    "setsid": frozenset(),
    "tini": frozenset({"-s", "-p", "-l"}),
    "dumb-init": frozenset(),
}
_ASSIGNMENT_WORD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


def run_program(words: list[str], start: int = 0) -> tuple[str, int]:
    """The program a command line runs (its file name, no folder) and the index of its word,
    looking from `words[start]` through `sudo`, `env VAR=x`, `exec`, `nohup`, `tini --`...
    ("", -1 when there is none)."""
    i = start
    while i < len(words):
        name = words[i].rsplit("/", 1)[-1]
        takes_argument = _WRAPPERS.get(name)
        if takes_argument is None:
            return name, i
        i += 1
        while i < len(words) and (words[i].startswith("-") or (name == "env" and _ASSIGNMENT_WORD.match(words[i]))):
            if words[i] == "--":
                i += 1
                break
            i += 2 if words[i] in takes_argument else 1
    return "", -1


def commands(ins: Instruction) -> list[Command]:
    """The simple commands of a shell-form RUN, CMD or ENTRYPOINT, in source order.

    A command inside `$( )` or backquotes lies within the text of the command or construct
    that contains it; all others are disjoint. Empty for the exec form, for other
    instructions and for text that is not sh. Parsed once per instruction: a tree is never
    changed in place, so every transform of a round shares the result (treat it as read-only).
    """
    cached = ins.__dict__.get("_commands")
    if cached is None:
        cached = ins.__dict__["_commands"] = _commands(ins)
    return cached


def _commands(ins: Instruction) -> list[Command]:
    script = _script(ins)
    if script is None:
        return []
    try:
        return parse_commands(*script)
    except ShellSyntaxError:
        return []


def parse_commands(text: str, to_source: Callable[[int], int] | None = None) -> list[Command]:
    """The simple commands of a shell script; `to_source` maps indexes into `text` to the
    offsets the commands report (identity by default). Raises `ShellSyntaxError`.
    A plain script (no quotes, expansions, redirections or compound commands) is read by
    `shell_plain`, which finds the same commands faster."""
    from dockopt.optimizer.shell_plain import plain_found

    found = plain_found(text)
    if found is None:
        parser = _Parser(text)
        try:
            parser.script()
        except RecursionError:
            # `$(echo $(echo ...))` hundreds deep: read like a script with a syntax error,
            # so the RUN is left as it is and the rest of the file is still rewritten
            raise ShellSyntaxError("nested too deeply to read", parser.pos) from None
        return _built(parser.found, text, to_source)
    return _built(found, text, to_source, plain=True)


def commands_found(parser: _Parser, text: str, to_source: Callable[[int], int] | None = None) -> list[Command]:
    """The simple commands a parser (or a subclass recording more) found in `text`, as
    `parse_commands` gives them: a caller that needs more than the commands parses once."""
    return _built(parser.found, text, to_source)


def _built(
    found: list[_Found], text: str, to_source: Callable[[int], int] | None, plain: bool = False
) -> list[Command]:
    """The commands of the parser's records. `plain`: the records are `shell_plain`'s,
    whose words hold no quote, escape or expansion, so each word is its own literal.

    Each command is made as its dataclass would make it, without the frozen `__init__`'s
    call of `object.__setattr__` per field: a file of 150,000 RUNs builds one command per
    RUN twice (its RUNs, then the RUN they are merged into), `tests/test_scaling.py` checks
    the two ways agree."""
    new, is_assignment = object.__new__, _ASSIGNMENT.match
    result = []
    for start, end, spans, op, context in sorted(found):
        words = [text[s:e] for s, e in spans] if plain else [_literal(text[s:e]) for s, e in spans]
        assignments = 0
        while assignments < len(words) and is_assignment(text, spans[assignments][0], spans[assignments][1]):
            assignments += 1
        if to_source is None:
            where_start, where_end, where_spans = start, end, tuple((s, e) for s, e in spans)
        else:
            where_start, where_end = to_source(start), to_source(end - 1) + 1
            where_spans = tuple((to_source(s), to_source(e - 1) + 1) for s, e in spans)
        command = new(Command)
        # `name` among them, rather than found on first use (where the cached property's
        # lock costs more than finding it): every transform asks every command for it.
        command.__dict__.update(
            words=words,
            raw=text[start:end],
            start=where_start,
            end=where_end,
            op=op,
            context=context,
            spans=where_spans,
            assignments=assignments,
            name=words[assignments] if len(words) > assignments else "",
        )
        result.append(command)
    return result


def script(ins: Instruction) -> tuple[str, Callable[[int], int], int] | None:
    """The text the shell runs for a shell-form instruction, a map from its indexes to
    source offsets, and where its top-level script ends in that text (its last command can
    be followed there): the end of the text, or of the RUN's own line when heredocs after
    it are data (`RUN cat <<EOF > f`); the end of the body when the one heredoc is the
    script a shell runs (`RUN <<EOF`, `RUN <<EOF bash -e`). None for text that is not sh."""
    found = _script(ins)
    if found is None:
        return None
    text, to_source = found
    if not ins.heredocs or heredoc_is_script(ins):
        return text, to_source, len(text.rstrip())
    return text, to_source, len(ins.shell.rstrip())


def heredoc_is_script(ins: Instruction) -> bool:
    """Whether the instruction's one heredoc is the script a shell runs (`RUN <<EOF`, `RUN
    <<EOF bash -e`); otherwise its heredocs are data to the commands on its line."""
    if len(ins.heredocs) != 1 or not heredoc_markers(ins.shell or ""):
        return False
    words = raw_words(ins.shell)
    return len(words) == 1 or _feeds_shell(words)


def _script(ins: Instruction) -> tuple[str, Callable[[int], int]] | None:
    """The text the shell runs for `ins` and a map from its indexes to source offsets."""
    shell = ins.shell
    if not shell:
        return None
    base = len(ins.line.rstrip()) - len(shell)
    on_line = ins.offset_map(base)

    if not ins.heredocs:
        return shell, on_line
    anchors: list[tuple[int, int]] = []
    doc = ins.heredocs[0]
    if heredoc_is_script(ins):
        if len(raw_words(shell)) == 1 and doc.content.startswith("#!") and not _SH_SHEBANG.match(doc.content):
            return None
        text = _body(ins, doc.start, doc.content, doc.chomp, 0, anchors)
        return text, _anchored(anchors)
    text, previous = shell, on_line(len(shell) - 1) + 1
    for doc in ins.heredocs:
        anchors.append((len(text), previous))
        text += "\n"
        text += _body(ins, doc.start, doc.content, False, len(text), anchors)
        last = ins.text[: doc.end - ins.start].rstrip("\r\n")
        line = last[last.rfind("\n") + 1 :]
        previous = ins.start + len(last) - len(line.lstrip("\t"))
        anchors.append((len(text), previous))
        text += doc.name
        previous += len(doc.name)
    in_heredocs = _anchored(anchors)
    return text, lambda i: on_line(i) if i < len(shell) else in_heredocs(i)


def _feeds_shell(words: list[str]) -> bool:
    """`sh <<EOF`, `<<EOF bash -ex`: the one heredoc is the script a shell reads on stdin."""
    markers = [w for w in words if w.startswith("<<") and not w.startswith("<<<")]
    rest = [w for w in words if w not in markers]
    return (
        len(markers) == 1
        and bool(rest)
        and _SHELL_PROGRAM.fullmatch(rest[0]) is not None
        and all(re.fullmatch(r"-[abd-zA-Z]+", w) for w in rest[1:])
    )


def _body(ins: Instruction, start: int, content: str, chomp: bool, at: int, anchors: list[tuple[int, int]]) -> str:
    """Heredoc content, with an anchor for each of its lines (leading tabs dropped when
    `chomp`); `start` is the source offset of its first line, `at` its index in the script."""
    out, pos = [], start
    for line in re.findall(r"[^\n]*\n|[^\n]+$", content):
        text = line.lstrip("\t") if chomp else line
        anchors.append((at, pos + len(line) - len(text)))
        out.append(text)
        at += len(text)
        nl = ins.text.find("\n", pos - ins.start)
        pos = ins.start + nl + 1 if nl >= 0 else ins.end
    return "".join(out)


def _anchored(anchors: list[tuple[int, int]]) -> Callable[[int], int]:
    keys = [a for a, _ in anchors]

    def to_source(i: int) -> int:
        k = bisect_right(keys, i) - 1
        if k < 0:
            k = 0
        return anchors[k][1] + i - anchors[k][0]

    return to_source


def _literal(raw: str) -> str:
    """A word with its quotes removed when it expands to itself, else `raw`."""
    if _PLAIN.fullmatch(raw):
        return raw  # no quotes or expansions: the word is itself (a glob or `~` stays as written too)
    out, i, n, quoted = [], 0, len(raw), False
    while i < n:
        ch = raw[i]
        if ch == "\\":
            if i + 1 < n and raw[i + 1] != "\n":
                out.append(raw[i + 1])
            i += 2
        elif ch == "'":
            close = raw.index("'", i + 1)
            out.append(raw[i + 1 : close])
            i, quoted = close + 1, True
        elif ch == '"':
            i += 1
            while raw[i] != '"':
                if raw[i] in "$`":
                    return raw
                if raw[i] == "\\" and raw[i + 1] in '$`"\\\n':
                    if raw[i + 1] != "\n":
                        out.append(raw[i + 1])
                    i += 2
                    continue
                out.append(raw[i])
                i += 1
            i, quoted = i + 1, True
        elif ch in "$`":
            return raw
        else:
            m = _PLAIN.match(raw, i)
            chunk = m.group(0) if m else ch
            if _GLOB_OR_BRACE.search(chunk) or (chunk.startswith("~") and not out and not quoted):
                return raw
            out.append(chunk)
            i += len(chunk)
    return "".join(out)


# a command as the parser finds it: start, end, word spans (indexes into the script), op, context
_Found = tuple[int, int, list[tuple[int, int]], "str | None", tuple[str, ...]]


class _Parser:
    """Recursive descent over sh, recording the simple commands it passes."""

    def __init__(self, text: str):
        self.text, self.pos, self.end = text, 0, len(text)
        self.context: tuple[str, ...] = ()
        self.found: list[_Found] = []
        self.heredocs: list[tuple[str, bool]] = []  # pending: delimiter, tabs stripped

    def fail(self, message: str) -> None:
        raise ShellSyntaxError(message, self.pos)

    # -- lexing ---------------------------------------------------------------------------

    def blanks(self) -> None:
        """Skip blanks, backslash-newlines and a comment (up to, not over, its newline)."""
        t = self.text
        while self.pos < self.end:
            ch = t[self.pos]
            if ch == " " or ch == "\t":
                self.pos += 1
            elif ch == "\\" and self.pos + 1 < self.end and t[self.pos + 1] == "\n":
                self.pos += 2
            elif ch == "#":
                nl = t.find("\n", self.pos, self.end)
                self.pos = self.end if nl < 0 else nl
            else:
                return

    def operator(self) -> str | None:
        t, p = self.text, self.pos
        if p >= self.end:
            return None
        candidates = _OPERATORS_AT.get(t[p])
        if candidates is None or t.startswith("&>", p):
            return None
        for op in candidates:
            if t.startswith(op, p) and p + len(op) <= self.end:
                return op
        return None

    def reserved(self) -> tuple[str, int] | None:
        m = RESERVED.match(self.text, self.pos, self.end)
        return (m.group(m.lastindex), m.end()) if m else None

    def word(self, test: bool = False) -> tuple[int, int] | None:
        """Read one word (quotes and substitutions included); None at an operator.

        In `[[ ]]` (`test`) only blanks end a word.
        """
        t, start = self.text, self.pos
        while self.pos < self.end:
            ch = t[self.pos]
            if ch in " \t\n" or (not test and ch in ";&|()<>"):
                if ch in "<>" and not test and self.pos + 1 < self.end and t[self.pos + 1] == "(":
                    self.pos += 2  # process substitution
                    self.substitution(")")
                    continue
                if ch == "(" and not test and _ASSIGNMENT.fullmatch(t, start, self.pos):
                    self.pos += 1  # array assignment: a=(1 2 3)
                    self.parens(1)
                    continue
                break
            if ch == "\\":
                self.pos += 2
            elif ch == "'":
                self.single_quote()
            elif ch == '"':
                self.double_quote()
            elif ch == "`":
                self.backtick()
            elif ch == "$":
                self.dollar()
            else:
                m = _PLAIN.match(t, self.pos, self.end)
                self.pos = m.end() if m else self.pos + 1
        self.pos = min(self.pos, self.end)
        return (start, self.pos) if self.pos > start else None

    def single_quote(self) -> None:
        close = self.text.find("'", self.pos + 1, self.end)
        if close < 0:
            self.fail("unterminated single quote")
        self.pos = close + 1

    def double_quote(self) -> None:
        t = self.text
        self.pos += 1
        while self.pos < self.end:
            ch = t[self.pos]
            if ch == '"':
                self.pos += 1
                return
            if ch == "\\":
                self.pos += 2
            elif ch == "$" and t.startswith(("$'", '$"'), self.pos):
                self.pos += 1  # a literal `$` inside double quotes: `"...$"`, `"$'"`
            elif ch == "$":
                self.dollar()
            elif ch == "`":
                self.backtick()
            else:
                self.pos += 1
        self.fail("unterminated double quote")

    def dollar(self) -> None:
        t, p = self.text, self.pos
        if t.startswith("$((", p):
            self.pos = p + 3
            self.parens(2)
        elif t.startswith("$(", p):
            self.pos = p + 2
            self.substitution(")")
        elif t.startswith("${", p):
            self.pos = p + 2
            self.braces()
        elif t.startswith("$'", p):
            self.pos = p + 2
            while self.pos < self.end and t[self.pos] != "'":
                self.pos += 2 if t[self.pos] == "\\" else 1
            if self.pos >= self.end:
                self.fail("unterminated $'...'")
            self.pos += 1
        elif t.startswith('$"', p):
            self.pos = p + 1
            self.double_quote()
        else:
            self.pos = p + 1

    def substitution(self, close: str) -> None:
        """The commands of `$( )` or `<( )`, up to and over the closing parenthesis."""
        saved = self.context
        self.context = saved + ("substitution",)
        if self.list(frozenset({close})) != close:
            self.fail("unterminated command substitution")
        self.pos += 1
        self.context = saved

    def backtick(self) -> None:
        t = self.text
        close = self.pos + 1
        while close < self.end and t[close] != "`":
            close += 2 if t[close] == "\\" else 1
        if close >= self.end:
            self.fail("unterminated backquote")
        inner = self.pos + 1
        if "\\" not in t[inner:close]:  # escapes inside backquotes shift offsets: not parsed
            saved = self.end, self.context
            self.pos, self.end, self.context = inner, close, self.context + ("substitution",)
            self.list(frozenset())
            if self.pos != close:
                self.fail("unexpected text in backquotes")
            self.end, self.context = saved
        self.pos = close + 1

    def parens(self, depth: int) -> None:
        """Skip to the parenthesis closing `depth` open ones (arithmetic, arrays)."""
        t = self.text
        while self.pos < self.end:
            ch = t[self.pos]
            if ch == "(":
                depth += 1
            elif ch == ")":
                depth -= 1
                if depth == 0:
                    self.pos += 1
                    return
            elif ch == "\\":
                self.pos += 1
            elif ch == "'":
                self.single_quote()
                continue
            elif ch == '"':
                self.double_quote()
                continue
            elif ch == "`":
                self.backtick()
                continue
            elif ch == "$" and t.startswith("$(", self.pos) and not t.startswith("$((", self.pos):
                self.pos += 2
                self.substitution(")")
                continue
            self.pos += 1
        self.fail("unbalanced parenthesis")

    def braces(self) -> None:
        """Skip a `${...}` parameter expansion, nested quotes and substitutions included."""
        t, depth = self.text, 1
        while self.pos < self.end:
            ch = t[self.pos]
            if ch == "}":
                depth -= 1
                if depth == 0:
                    self.pos += 1
                    return
            elif ch == "{":
                depth += 1
            elif ch == "\\":
                self.pos += 1
            elif ch == "'":
                self.single_quote()
                continue
            elif ch == '"':
                self.double_quote()
                continue
            elif ch == "`":
                self.backtick()
                continue
            elif ch == "$":
                self.dollar()
                continue
            self.pos += 1
        self.fail("unterminated ${")

    def newline(self) -> None:
        """Step over a newline and the bodies of the heredocs opened on its line."""
        self.pos += 1
        t = self.text
        for delimiter, tabs in self.heredocs:
            while self.pos < self.end:
                nl = t.find("\n", self.pos, self.end)
                line_end = self.end if nl < 0 else nl
                line = t[self.pos : line_end]
                self.pos = min(line_end + 1, self.end)
                if (line.lstrip("\t") if tabs else line) == delimiter:
                    break
        self.heredocs = []

    def linebreaks(self) -> None:
        while True:
            self.blanks()
            if self.pos < self.end and self.text[self.pos] == "\n":
                self.newline()
            else:
                return

    # -- grammar --------------------------------------------------------------------------

    def script(self) -> None:
        if self.list(frozenset()) is not None or self.pos < self.end:
            self.fail("unexpected " + repr(self.text[self.pos : self.pos + 10]))

    def list(self, terms: frozenset[str]) -> str | None:
        """Commands up to one of `terms` (operators or reserved words), returned unconsumed;
        None at the end of the text."""
        op, seen, base = None, False, self.context
        while True:
            self.blanks()
            if self.pos >= self.end:
                if op in ("&&", "||", "|", "|&"):
                    self.fail(f"nothing after {op}")
                self.context = base
                return None
            token = self.operator()
            if token is not None:
                if token in terms:
                    self.context = base
                    return token
                if token == "\n":
                    self.newline()
                    if seen and op is None:
                        op = "\n"
                        self.context = base
                    continue
                if token in _SEPARATORS:
                    if not seen or op is not None:
                        self.fail(f"unexpected {token}")
                    self.pos += len(token)
                    op = token
                    if token not in ("|", "|&"):
                        self.context = base
                    continue
                if token != "(":
                    self.fail(f"unexpected {token}")
            if seen and op is None:
                self.fail("missing operator")
            word = self.reserved()
            if word is not None:
                if word[0] in terms:
                    self.context = base
                    return word[0]
                if word[0] == "!":
                    self.pos = word[1]
                    self.context = base + ("negation",)
                    continue
            self.command(op)
            seen, op = True, None

    def body(self, terms: set[str]) -> str:
        """A list ended by one of the reserved words `terms`; consumes and returns it."""
        found = self.list(frozenset(terms))
        word = self.reserved()
        if found is None or word is None or word[0] != found:
            self.fail("expected " + " or ".join(sorted(terms)))
        self.pos = word[1]
        return found

    def command(self, op: str | None) -> None:
        word = self.reserved()
        keyword = word[0] if word else None
        saved = self.context
        if keyword in _UNEXPECTED:
            self.fail(f"unexpected {keyword}")
        if keyword == "if":
            self.enter("if", word)
            self.body({"then"})
            found = self.body({"elif", "else", "fi"})
            while found == "elif":
                self.body({"then"})
                found = self.body({"elif", "else", "fi"})
            if found == "else":
                self.body({"fi"})
        elif keyword in ("while", "until"):
            self.enter(keyword, word)
            self.body({"do"})
            self.body({"done"})
        elif keyword in ("for", "select"):
            self.enter("for", word)
            self.for_head()
        elif keyword == "case":
            self.enter("case", word)
            self.case()
        elif keyword == "{":
            self.enter("group", word)
            self.body({"}"})
        elif keyword == "function":
            self.enter("function", word)
            self.blanks()
            if self.word() is None:
                self.fail("function without a name")
            self.function_body()
        elif keyword == "[[":
            self.test(op)
            return
        elif self.text.startswith("((", self.pos):
            self.pos += 2
            self.parens(2)
        elif self.operator() == "(":
            self.pos += 1
            self.context = saved + ("subshell",)
            if self.list(frozenset({")"})) != ")":
                self.fail("unterminated subshell")
            self.pos += 1
        else:
            self.simple(op)
            return
        self.context = saved
        self.redirections()

    def enter(self, construct: str, word: tuple[str, int]) -> None:
        self.pos = word[1]
        self.context = self.context + (construct,)

    def for_head(self) -> None:
        self.blanks()
        if self.text.startswith("((", self.pos):
            self.pos += 2
            self.parens(2)
        elif self.word() is None:
            self.fail("for without a variable")
        self.linebreaks()
        word = self.reserved()
        if word and word[0] == "in":
            self.pos = word[1]
            while True:
                self.blanks()
                token = self.operator()
                if token in (";", "\n"):
                    if token == ";":
                        self.pos += 1
                    else:
                        self.newline()
                    break
                if token is not None or self.word() is None:
                    if self.pos >= self.end:
                        self.fail("for without do")
                    self.fail("unexpected token in for")
        elif self.operator() == ";":
            self.pos += 1
        self.linebreaks()
        word = self.reserved()
        if word and word[0] == "do":
            self.pos = word[1]
            self.body({"done"})
        elif word and word[0] == "{":
            self.pos = word[1]
            self.body({"}"})
        else:
            self.fail("for without do")

    def case(self) -> None:
        self.blanks()
        if self.word() is None:
            self.fail("case without a word")
        self.linebreaks()
        word = self.reserved()
        if not word or word[0] != "in":
            self.fail("case without in")
        self.pos = word[1]
        while True:
            self.linebreaks()
            word = self.reserved()
            if word and word[0] == "esac":
                self.pos = word[1]
                return
            if self.operator() == "(":
                self.pos += 1
            while True:
                self.blanks()
                if self.word() is None:
                    self.fail("case pattern expected")
                self.blanks()
                token = self.operator()
                if token == "|":
                    self.pos += 1
                elif token == ")":
                    self.pos += 1
                    break
                else:
                    self.fail("case pattern without )")
            found = self.list(frozenset({";;", ";&", ";;&", "esac"}))
            if found is None:
                self.fail("case without esac")
            if found != "esac":
                self.pos += len(found)

    def function_body(self) -> None:
        self.blanks()
        if self.operator() == "(":
            self.pos += 1
            self.blanks()
            if self.operator() != ")":
                self.fail("function () expected")
            self.pos += 1
        self.linebreaks()
        if self.pos >= self.end:
            self.fail("function without a body")
        self.command(None)

    def test(self, op: str | None) -> None:
        """`[[ ... ]]`, recorded as a command named `[[`: `&&`, `<`, `(` are words inside."""
        t, start = self.text, self.pos
        spans = [(start, start + 2)]
        self.pos += 2
        while True:
            self.blanks()
            if self.pos >= self.end:
                self.fail("unterminated [[")
            p = self.pos
            if t.startswith("]]", p) and (p + 2 == self.end or t[p + 2] in " \t\n;&|)<>"):
                self.pos += 2
                spans.append((p, p + 2))
                break
            if t[p] == "\n":
                self.newline()
                continue
            size = 2 if t.startswith(("&&", "||"), p) else 1 if t[p] in "()<>!" else 0
            if size:
                self.pos += size
                spans.append((p, p + size))
                continue
            spans.append(self.word(test=True))
        close = self.pos
        self.found.append((start, self.redirections() or close, spans, op, self.context))

    def redirections(self) -> int | None:
        """Redirections after a compound command or `[[ ]]`; the end of the last one."""
        end = None
        while True:
            self.blanks()
            m = REDIRECT.match(self.text, self.pos, self.end)
            if not m or self.text.startswith(("<(", ">("), self.pos):
                return end
            self.redirection(m)
            end = self.pos

    def redirection(self, m: re.Match[str]) -> None:
        self.pos = m.end()
        self.blanks()
        span = self.word()
        if span is None:
            self.fail("redirection without a target")
        if m.group(1) in ("<<", "<<-"):
            delimiter = _literal(self.text[span[0] : span[1]].replace("$", "\\$"))
            self.heredocs.append((delimiter, m.group(1) == "<<-"))

    def simple(self, op: str | None) -> None:
        t = self.text
        spans: list[tuple[int, int]] = []
        start = end = self.pos
        while True:
            self.blanks()
            if self.pos >= self.end:
                break
            m = REDIRECT.match(t, self.pos, self.end)
            if m and not t.startswith(("<(", ">("), self.pos):
                if not spans and end == start:
                    start = self.pos
                self.redirection(m)
                end = self.pos
                continue
            if self.operator() is not None:
                break
            span = self.word()
            if span is None:
                self.fail("unexpected " + repr(t[self.pos]))
            if not spans and end == start:
                start = span[0]
            spans.append(span)
            end = span[1]
        if len(spans) == 1 and self.operator() == "(" and end == spans[0][1]:
            saved = self.context
            self.context = saved + ("function",)
            self.function_body()
            self.context = saved
            return
        if end > start:
            self.found.append((start, end, spans, op, self.context))
