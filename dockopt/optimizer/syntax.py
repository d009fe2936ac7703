"""The lossless Dockerfile syntax tree.

`parse(text)` splits a Dockerfile into nodes that cover every character exactly once:
`Trivia` (a byte-order mark, parser directives, comments, blank lines) and `Instruction`
(an instruction with its continuation lines, the comments and blank lines inside them, and
its heredoc bodies). `Dockerfile.render()` joins the nodes back, so parsing then printing
gives back the input byte for byte; rewrites are edits on that text (see `edits.py`).

Where an instruction starts and ends follows BuildKit's own scanner
(moby/buildkit `frontend/dockerfile/parser/parser.go`) rule for rule, so that our line
ranges are the ones BuildKit reports; the test suite checks this against BuildKit's parser
on every corpus file. We keep our own scanner because dockerfile-parse splits heredoc
bodies into bogus instructions and BuildKit's Go parser has no wheel for every platform.
"""

from __future__ import annotations

import json
import re
from bisect import bisect_right
from dataclasses import dataclass, field
from functools import cached_property
from typing import Callable, Iterator, TypeVar, Union

from dockopt.optimizer.words import extract_flags, heredoc_markers, parse_words

KEYWORDS = frozenset(
    "ADD ARG CMD COPY ENTRYPOINT ENV EXPOSE FROM HEALTHCHECK LABEL MAINTAINER ONBUILD "
    "RUN SHELL STOPSIGNAL USER VOLUME WORKDIR".split()
)
_HEREDOC_KEYWORDS = frozenset({"ADD", "COPY", "RUN"})
_JSON_KEYWORDS = frozenset({"ADD", "CMD", "COPY", "ENTRYPOINT", "RUN", "SHELL", "VOLUME"})
# BuildKit's directive pattern, whose `\s` is Go's: [\t\n\f\r ] (no \v, no unicode spaces).
_GO_SPACE = "[\t\n\f\r ]"
_DIRECTIVE = re.compile(rf"^#{_GO_SPACE}*([a-zA-Z][a-zA-Z0-9]*){_GO_SPACE}*={_GO_SPACE}*(.+?){_GO_SPACE}*$")
MAX_LINE = 65535  # bytes: BuildKit's scanner refuses a longer physical line
_DIRECTIVES = frozenset({"syntax", "escape", "check"})
_KEYWORD = re.compile(r"[^\t\v\f\r ]+")
T = TypeVar("T")


class ParseError(ValueError):
    """Input that is not a Dockerfile docker would build; `line` and `col` are 1-based.
    `template`: a line where an instruction should be starts with no word at all (`{{`,
    `...`): a template to be filled in or an excerpt, not a Dockerfile with a typo."""

    def __init__(self, message: str, line: int = 1, col: int = 1, template: bool = False):
        super().__init__(message)
        self.message, self.line, self.col, self.template = message, line, col, template

    def __str__(self) -> str:
        return f"{self.line}:{self.col}: {self.message}"

    @property
    def notice(self) -> str:
        """For a template: what `fix` and `check` say as they pass the file by. (A hook or CI
        job over every Dockerfile* meets Dockerfile.template files and docs excerpts; it must
        not fail on them. A typo, `RUNN`, stays an error.)"""
        return f"{self}; a template or an excerpt, not a Dockerfile docker builds: left as it is"


@dataclass
class Trivia:
    """Text that is no instruction: `bom`, `directive`, `comment` or `blank` (one line each)."""

    kind: str
    text: str
    start: int
    line: int

    @property
    def end(self) -> int:
        return self.start + len(self.text)


@dataclass
class Heredoc:
    name: str
    chomp: bool  # `<<-`: leading tabs are stripped
    expand: bool  # unquoted delimiter: variables in the body are expanded
    content: str  # the body as BuildKit gives it, one "\n" after each line
    start: int  # offset of the body's first line
    end: int  # offset just past the terminator line


@dataclass
class Instruction:
    """One instruction, from its first line to its last (heredoc bodies included)."""

    keyword: str  # upper-case
    text: str  # exactly the source text of the node
    start: int  # character offsets into the source; `end` is exclusive
    start_line: int  # 1-based, inclusive, as BuildKit reports them
    end_line: int
    line: str  # the logical line: continuations joined, inner comments dropped
    flags: list[str]  # `--name=value` words, quotes resolved
    args_text: str  # what follows the keyword and flags, stripped
    json: bool  # JSON (exec) form
    arguments: list[str]  # JSON form decoded, else the whitespace-separated words
    heredocs: list[Heredoc] = field(default_factory=list)
    _pieces: list[tuple[int, int]] = field(default_factory=list, repr=False)
    _args_index: int = field(default=0, repr=False)

    @property
    def end(self) -> int:
        return self.start + len(self.text)

    @property
    def keyword_text(self) -> str:
        """The keyword as written (its case kept)."""
        return self.line.lstrip().split(None, 1)[0]

    @property
    def shell(self) -> str | None:
        """For a shell-form RUN, CMD or ENTRYPOINT: the command text the shell is given."""
        if self.json or self.keyword not in ("RUN", "CMD", "ENTRYPOINT"):
            return None
        return self.args_text

    @property
    def inner_comments(self) -> bool:
        """Comment lines inside the instruction's continuation lines."""
        lines = self.text.split("\n")[: self.end_line - self.start_line + 1]
        return any(ln.lstrip().startswith("#") for ln in lines[1:])

    def keyword_span(self) -> tuple[int, int]:
        """Source range of the keyword."""
        start = self.source_offset(len(self.line) - len(self.line.lstrip()))
        return start, start + len(self.keyword_text)

    def content_span(self) -> tuple[int, int]:
        """Source range from the keyword to the end of the last line, its line ending
        excluded; for an instruction without heredocs, replacing it rewrites the instruction
        and keeps the line structure around it."""
        body = self.text if not self.heredocs else self.text[: self.heredocs[0].start - self.start]
        body = body[:-1] if body.endswith("\n") else body
        body = body[:-1] if body.endswith("\r") else body
        return self.keyword_span()[0], self.start + len(body)

    def recased(self, keyword: str) -> str:
        """`keyword` in the case this instruction's keyword is written in."""
        return keyword.lower() if self.keyword_text.islower() else keyword.upper()

    def flag(self, name: str) -> str | None:
        """The value of `--name=value` (`""` for a bare `--name`), or None."""
        for f in self.flags:
            key, _, value = f.partition("=")
            if key == "--" + name:
                return value
        return None

    def source_offset(self, index: int) -> int:
        """Map an index into `line` to an offset in the source text: the last piece (source
        line) starting at or before it, found by binary search, since a RUN merged from
        20,000 others has 20,000 pieces and each of its words is mapped."""
        starts = self.__dict__.get("_piece_starts")
        if starts is None or len(starts) != len(self._pieces):
            starts = self.__dict__["_piece_starts"] = [line_start for line_start, _ in self._pieces]
        k = bisect_right(starts, index) - 1
        if k < 0:
            return self.start
        line_start, source_start = self._pieces[k]
        return source_start + index - line_start

    def offset_map(self, base: int) -> Callable[[int], int]:
        """`lambda i: self.source_offset(base + i)` for indexes `i >= 0`, made for mapping
        every word of a script: a plain shift when the instruction is one line, else the
        binary search of `source_offset` without its calls around it."""
        pieces = self._pieces
        if len(pieces) == 1 and pieces[0][0] <= base:
            shift = pieces[0][1] - pieces[0][0] + base
            return lambda i: shift + i
        starts = [line_start for line_start, _ in pieces]
        start = self.start

        def to_source(i: int) -> int:
            k = bisect_right(starts, base + i) - 1
            return start if k < 0 else pieces[k][1] + base + i - pieces[k][0]

        return to_source

    @property
    def flags_line(self) -> str:
        """The logical line up to where `args_text` starts: the keyword and the flags."""
        return self.line[: self._args_index] if self.args_text else self.line

    def args_offset(self) -> int:
        """Offset in the source where `args_text` starts."""
        return self.source_offset(self._args_index) if self.args_text else self.end


Node = Union[Trivia, Instruction]


@dataclass
class Stage:
    """A build stage: its FROM and the instructions up to the next FROM."""

    index: int
    from_: Instruction
    image: str
    name: str | None
    platform: str | None
    instructions: list[Instruction]

    def position(self, ins: Instruction) -> int:
        """The index of `ins` in `instructions`, found by identity in a table made once
        (`list.index` compares instructions field by field, once for each before it)."""
        table = self.__dict__.get("_positions")
        if table is None:
            table = self.__dict__["_positions"] = {id(i): n for n, i in enumerate(self.instructions)}
        return table[id(ins)]


@dataclass
class Dockerfile:
    source: str
    nodes: list[Node]
    directives: dict[str, str]
    escape: str
    newline: str  # the file's line ending, for text a rewrite inserts

    def render(self) -> str:
        return "".join(node.text for node in self.nodes)

    def derived(self, make: Callable[[Dockerfile], T]) -> T:
        """`make(self)`, computed once per tree: a tree is never changed in place, so a fact
        every transform (or every stage) asks for, such as which instructions copy from
        which stage, is found in one pass and shared, not searched for again each time."""
        memo = self.__dict__.setdefault("_derived", {})
        if make not in memo:
            memo[make] = make(self)
        return memo[make]

    @cached_property
    def instructions(self) -> list[Instruction]:
        return [n for n in self.nodes if isinstance(n, Instruction)]

    @cached_property
    def stages(self) -> list[Stage]:
        stages: list[Stage] = []
        for ins in self.instructions:
            if ins.keyword == "FROM":
                words = ins.arguments
                name = words[2] if len(words) >= 3 and words[1].lower() == "as" else None
                image = words[0] if words else ""
                stages.append(Stage(len(stages), ins, image, name, ins.flag("platform"), []))
            elif stages:
                stages[-1].instructions.append(ins)
        return stages

    def stage_of(self, ins: Instruction) -> Stage | None:
        for stage in self.stages:
            if stage.from_ is ins or ins in stage.instructions:
                return stage
        return None

    def lineage(self, stage: Stage) -> list[Stage]:
        """The stage and the earlier stages it is built FROM, nearest first."""
        chain, parents = [stage], self._parents
        while parents[chain[-1].index] is not None:
            chain.append(parents[chain[-1].index])
        return chain

    def descendants(self, stage: Stage) -> list[Stage]:
        """The later stages built FROM this one, directly or through others, in file order
        (those whose `lineage` holds it): found down the tree of stages, not by reading the
        lineage of every later stage for every stage."""
        found, todo = [], list(self._children[stage.index])
        while todo:
            child = todo.pop()
            found.append(child)
            todo.extend(self._children[child.index])
        return sorted(found, key=lambda s: s.index)

    @cached_property
    def _children(self) -> list[list[Stage]]:
        children: list[list[Stage]] = [[] for _ in self.stages]
        for s, parent in zip(self.stages, self._parents):
            if parent is not None:
                children[parent.index].append(s)
        return children

    @cached_property
    def _parents(self) -> list[Stage | None]:
        """For each stage, the stage it is built FROM: the first earlier stage whose name
        is its image. (The first stage of each name is found once, not by a scan of the
        earlier stages for every stage. A parent always comes earlier, so there are no
        cycles.)"""
        first: dict[str, Stage] = {}
        for s in self.stages:
            if s.name:
                first.setdefault(s.name.lower(), s)
        parents = []
        for s in self.stages:
            parent = first.get(s.image.lower())
            parents.append(parent if parent is not None and parent.index < s.index else None)
        return parents

    def global_args(self) -> dict[str, str]:
        """Default values of the ARGs declared before the first FROM (what `FROM
        node:${VERSION}` expands with)."""
        values: dict[str, str] = {}
        for ins in self.instructions:
            if ins.keyword == "FROM":
                break
            if ins.keyword == "ARG":
                for arg in ins.arguments:
                    name, eq, value = arg.partition("=")
                    if eq:
                        values[name] = value.strip("\"'")
        return values

    def position(self, node: Node) -> int:
        """The index of `node` in `nodes`, by identity, from a table made once per tree
        (`nodes.index` compares nodes field by field with every node before it)."""
        return self._node_positions[id(node)]

    def ends_open(self, ins: Instruction) -> bool:
        """Whether the instruction's last line still ends with a line continuation (it ran
        into the end of the file): a line inserted after it would join it."""
        if ins.heredocs:
            return False
        last = ins.text.rstrip("\r\n").rsplit("\n", 1)[-1]
        return bool(_continuation(self.escape).search(last.rstrip("\r")))

    def described_start(self, ins: Instruction) -> int:
        """Where `ins` starts together with the comment lines right above it, which
        describe it: the place for an instruction inserted before it."""
        i = self.position(ins)
        while i > 0 and isinstance(self.nodes[i - 1], Trivia) and self.nodes[i - 1].kind == "comment":
            i -= 1
        return self.nodes[i].start

    @cached_property
    def _node_positions(self) -> dict[int, int]:
        return {id(n): k for k, n in enumerate(self.nodes)}

    def line_col(self, offset: int) -> tuple[int, int]:
        """1-based line and column of a character offset (a binary search over the line
        starts: the pipeline asks for the line of every change, and there may be one in
        each of 20,000 RUNs)."""
        line = bisect_right(self._line_starts, offset)
        return line, offset - self._line_starts[line - 1] + 1

    @cached_property
    def _line_starts(self) -> list[int]:
        """The offset of each line's first character: 0 and every offset after a "\n"."""
        return [0, *(m.end() for m in re.finditer("\n", self.source))]


def _lines(text: str) -> Iterator[tuple[int, str]]:
    """(offset, line including its newline) for each line, split on "\\n" only as Go does."""
    pos = 0
    while pos < len(text):
        nl = text.find("\n", pos)
        end = len(text) if nl < 0 else nl + 1
        yield pos, text[pos:end]
        pos = end


def _continuation(escape: str) -> re.Pattern:
    """BuildKit's line-continuation pattern: the escape character at the end of a line
    (trailing blanks allowed), unless it is itself escaped."""
    e = re.escape(escape)
    return re.compile(rf"(^|[^{e}]){e}[ \t]*$")


def _joined(continuation: re.Pattern, line: str) -> tuple[str, bool]:
    """The line with its continuation escape removed, and whether it ends the instruction
    (it has none). The pattern is anchored at the line's end, so it matches at most once:
    one search does what a search and a substitution did."""
    if not line.rstrip(" \t").endswith(("\\", "`")):
        return line, True  # no escape at the end: no match, without scanning the line
    m = continuation.search(line)
    if m is None:
        return line, True
    return line[: m.start()] + m.group(1) + line[m.end() :], False


# What Go's unicode.IsSpace accepts; str.strip() would also remove \x1c-\x1f.
_SPACE = "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"


def _content(line: str) -> str:
    return line.rstrip("\r\n")


def _is_comment(line: str) -> bool:
    return _content(line).lstrip(_SPACE).startswith("#")


def parse(text: str) -> Dockerfile:
    """Parse a Dockerfile; raise `ParseError` for anything docker would not build."""
    lines = list(_lines(text))
    for n, (_, raw) in enumerate(lines):
        if len(raw) > MAX_LINE // 4 and len(raw.rstrip("\n").encode("utf-8", "surrogatepass")) > MAX_LINE:
            raise ParseError(f"dockerfile line greater than max allowed size of {MAX_LINE}", n + 1)
    nodes: list[Node] = []
    directives: dict[str, str] = {}
    escape, directives_done = "\\", False
    continuation = _continuation(escape)
    i = 0
    while i < len(lines):
        offset, raw = lines[i]
        if i == 0 and raw.startswith("\ufeff"):
            nodes.append(Trivia("bom", "\ufeff", 0, 1))
            offset, raw = 1, raw[1:]
        stripped = _content(raw).lstrip(_SPACE)
        if not directives_done:
            m = _DIRECTIVE.match(stripped)
            key = m.group(1).lower() if m else ""
            if key in _DIRECTIVES:
                if key in directives:
                    raise ParseError(f"only one {key} parser directive can be used", i + 1)
                directives[key] = m.group(2)
                if key == "escape":
                    if m.group(2) not in ("\\", "`"):
                        raise ParseError(f"invalid escape token {m.group(2)!r} does not match ` or \\", i + 1)
                    escape = m.group(2)
                    continuation = _continuation(escape)
                nodes.append(Trivia("directive", raw, offset, i + 1))
                i += 1
                continue
            directives_done = True
        if stripped.startswith("#"):
            nodes.append(Trivia("comment", raw, offset, i + 1))
            i += 1
            continue
        first, ended = _joined(continuation, stripped)
        if ended and not first:
            nodes.append(Trivia("blank", raw, offset, i + 1))
            i += 1
            continue
        lead = len(raw) - len(raw.lstrip(_SPACE))
        pieces = [(0, offset + lead)]
        parts, length = [first], len(first)  # joined once: `+=` copies a long RUN per line
        j = i + 1
        while not ended and j < len(lines):
            off_j, raw_j = lines[j]
            j += 1
            if _is_comment(raw_j) or not _content(raw_j).strip(_SPACE):
                continue
            part, ended = _joined(continuation, _content(raw_j))
            pieces.append((length, off_j))
            parts.append(part)
            length += len(part)
        logical = "".join(parts)
        ins = _instruction(logical, pieces, offset, i + 1, text)
        if ins.keyword in ("ENV", "LABEL"):
            _name_values(ins, escape, text)
        end_line = j
        end_offset = lines[j - 1][0] + len(lines[j - 1][1])
        if ins.keyword in _HEREDOC_KEYWORDS or _onbuild_heredoc(ins):
            if not ins.json and "<<" in logical:
                for name, chomp, expand in heredoc_markers(logical):
                    body_start, body = end_offset, []
                    while True:
                        if j >= len(lines):
                            raise ParseError(f"unterminated heredoc {name!r}", i + 1)
                        off_j, raw_j = lines[j]
                        j += 1
                        candidate = _content(raw_j)
                        if chomp:
                            candidate = candidate.lstrip("\t")
                        if candidate == name:
                            break
                        body.append(_content_without_lf(raw_j) + "\n")
                    end_line, end_offset = j, off_j + len(raw_j)
                    ins.heredocs.append(Heredoc(name, chomp, expand, "".join(body), body_start, end_offset))
        ins.text = text[ins.start:end_offset]
        ins.end_line = end_line
        nodes.append(ins)
        i = j
    result = Dockerfile(text, nodes, directives, escape, "\r\n" if "\r\n" in text else "\n")
    _check(result)
    return result


def _content_without_lf(line: str) -> str:
    """A heredoc body line as BuildKit keeps it: its "\\n" dropped, a "\\r" kept."""
    return line[:-1] if line.endswith("\n") else line


def _onbuild_heredoc(ins: Instruction) -> bool:
    if ins.keyword != "ONBUILD":
        return False
    inner = ins.args_text.split(None, 1)
    return bool(inner) and inner[0].upper() in _HEREDOC_KEYWORDS


def _instruction(
    logical: str, pieces: list[tuple[int, int]], line_start: int, line_no: int, text: str
) -> Instruction:
    m = _KEYWORD.search(logical)
    keyword = m.group(0) if m else ""
    rest_start = m.end() if m else len(logical)
    rest = logical[rest_start:]
    flags, args_at = extract_flags(rest)
    args = rest[args_at:].strip()
    args_index = rest_start + args_at + (len(rest[args_at:]) - len(rest[args_at:].lstrip()))
    upper = keyword.upper()
    try:
        decoded = _json_array(args) if upper in _JSON_KEYWORDS else None
    except ValueError as exc:
        line, col = _line_col(text, pieces[0][1])
        raise ParseError(f"{upper}: {exc}", line, col) from None
    ins = Instruction(
        keyword=upper,
        text="",
        start=line_start,
        start_line=line_no,
        end_line=line_no,
        line=logical,
        flags=flags,
        args_text=args,
        json=decoded is not None,
        arguments=decoded if decoded is not None else args.split(),
        _pieces=pieces,
        _args_index=args_index,
    )
    if upper not in KEYWORDS:
        line, col = _line_col(text, ins.source_offset(m.start() if m else 0))
        template = bool(keyword) and not re.match(r"[A-Za-z]", keyword)
        raise ParseError(f"unknown instruction: {keyword or '(empty)'}", line, col, template)
    return ins


def _go_number(text: str) -> float:
    """A JSON number as Go decodes it into a float64: one that overflows is an error."""
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"number {text} out of range")
    return value


def _not_json(name: str) -> None:
    raise ValueError(f"{name} is not JSON")  # NaN, Infinity: Python reads them, Go does not


_GO_JSON = json.JSONDecoder(parse_constant=_not_json, parse_float=_go_number, parse_int=_go_number)


def _json_array(args: str) -> list[str] | None:
    """BuildKit's parseJSON: the first JSON value, when it is an array of strings. What Go's
    decoder refuses (NaN, Infinity, a number out of float64's range) is no JSON, and the
    instruction is then in shell form, as BuildKit reads it."""
    if not args.startswith("["):
        return None
    try:
        value, _ = _GO_JSON.raw_decode(args)
    except ValueError:
        return None
    if not isinstance(value, list):
        return None
    if not all(isinstance(v, str) for v in value):
        raise ValueError("JSON arrays must be comprised of strings only")
    return value


def _name_values(ins: Instruction, escape: str, text: str) -> None:
    """BuildKit's parseNameVal for ENV and LABEL: `KEY value` needs a value, and once the
    first word has an `=`, every word must."""
    words = parse_words(ins.args_text, escape)
    if not words:
        return  # the parser takes an empty ENV or LABEL; the build refuses it later
    # Where the error is, found only for an error: counting the lines before every ENV
    # would read the file again for each one.
    if "=" not in words[0]:
        if len(re.split(r"[\t\v\f\r ]+", ins.args_text, maxsplit=1)) < 2:
            raise ParseError(f"{ins.keyword} must have two arguments", *_line_col(text, ins.keyword_span()[0]))
        return
    for word in words:
        if "=" not in word:
            raise ParseError(f'Syntax error - can\'t find = in "{word}". Must be of the form: name=value',
                             *_line_col(text, ins.keyword_span()[0]))


def _line_col(text: str, offset: int) -> tuple[int, int]:
    return text.count("\n", 0, offset) + 1, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _check(dockerfile: Dockerfile) -> None:
    instructions = dockerfile.instructions
    if not instructions:
        raise ParseError("no instructions: the file is empty or only comments")
    if not any(ins.keyword == "FROM" for ins in instructions):
        first = instructions[0]
        raise ParseError("no FROM instruction: not a Dockerfile docker can build", first.start_line)
