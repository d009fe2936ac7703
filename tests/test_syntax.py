"""The lossless syntax tree: round trip, node values, errors, and BuildKit's line ranges.

Three kinds of test: handwritten edge cases (each must print back byte for byte and, where
BuildKit accepts it, end every instruction on the line BuildKit does), exact values on small
inputs, and property tests that generate Dockerfiles from a grammar of lines and compare
our instruction layout with BuildKit's parser. Disagreements with BuildKit found this way
stay at the end of the module as regression tests, each with its reproducer.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from dockopt.optimizer.syntax import Instruction, ParseError, Trivia, parse

PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def layout(tree) -> list[tuple[str, int, int]]:
    return [(i.keyword, i.start_line, i.end_line) for i in tree.instructions]


def check_structure(text: str, tree) -> None:
    """Invariants of any parse: nodes tile the text, offsets and lines are consistent."""
    assert tree.render() == text
    pos = 0
    for node in tree.nodes:
        assert node.start == pos, f"gap or overlap before {node!r}"
        assert text[node.start : node.end] == node.text
        pos = node.end
    assert pos == len(text)
    for ins in tree.instructions:
        assert 1 <= ins.start_line <= ins.end_line
        assert ins.start_line == text.count("\n", 0, ins.start) + 1
        assert ins.end_line - ins.start_line + 1 == ins.text.count("\n") + (not ins.text.endswith("\n"))
        start, end = ins.keyword_span()
        assert text[start:end] == ins.keyword_text
        assert ins.keyword_text.upper() == ins.keyword
        if ins.args_text:
            assert text[ins.args_offset()] == ins.args_text[0]


# --------------------------------------------------------------------------- edge cases

EDGE_CASES = {
    "syntax-directive": "# syntax=docker/dockerfile:1.7\nFROM alpine\nRUN true\n",
    "escape-backtick": "# escape=`\nFROM mcr.microsoft.com/windows/nanoserver\nRUN dir `\n  C:\\ `\n  /s\n",
    "escape-backslash-explicit": "#escape=\\\nFROM alpine\nRUN a \\\n  b\n",
    "both-directives": "# syntax=docker/dockerfile:1\n# escape=`\n\nFROM alpine\nRUN echo `\n  hi\n",
    "directive-after-comment-is-comment": "# hello\n# escape=`\nFROM alpine\nRUN a \\\n  b\n",
    "crlf": "FROM alpine\r\nRUN apk add \\\r\n    curl\r\n# done\r\nCMD [\"sh\"]\r\n",
    "mixed-line-endings": "FROM alpine\r\nRUN a \\\n  b\r\nCMD c\n",
    "bom": "\ufeffFROM alpine\nRUN true\n",
    "bom-and-directive": "\ufeff# escape=`\nFROM alpine\nRUN a `\n  b\n",
    "comments-in-continuation": (
        "FROM alpine\nRUN apk add \\\n# the client\n    curl \\\n    # the server\n    nginx\nCMD nginx\n"
    ),
    "blank-lines-in-continuation": "FROM alpine\nRUN apk add \\\n\n    curl \\\n   \t\n    nginx\n",
    "continuation-only-line": "FROM alpine\nRUN apk add \\\n\\\n    curl\n",
    "heredoc": "FROM alpine\nRUN <<EOT\nset -e\napk add curl\nEOT\n",
    "heredoc-chomp-tabs": "FROM alpine\nRUN <<-EOT\n\tset -e\n\t\techo hi\n\t\tEOT\n",
    "heredoc-single-quoted": "FROM alpine\nRUN <<'EOT'\necho $HOME\nEOT\n",
    "heredoc-double-quoted": 'FROM alpine\nRUN <<"EOT"\necho $HOME\nEOT\n',
    "heredoc-several": "FROM alpine\nRUN <<A cat > /a && cat <<-B > /b\none\nA\n\ttwo\n\tB\n",
    "heredoc-then-instruction": "FROM alpine\nCOPY <<EOF /etc/motd\nhi\nEOF\nRUN cat /etc/motd\n",
    "heredoc-body-looks-like-dockerfile": (
        "FROM alpine\nRUN <<EOT\nFROM evil\n# not a comment\nRUN \\\nEOT\nUSER nobody\n"
    ),
    "heredoc-crlf": "FROM alpine\r\nRUN <<EOT\r\necho hi\r\nEOT\r\n",
    "heredoc-at-eof-without-newline": "FROM alpine\nRUN <<EOT\necho hi\nEOT",
    "heredoc-after-continuation": "FROM alpine\nRUN \\\n  <<EOT\necho hi\nEOT\n",
    "heredoc-onbuild": "FROM alpine\nONBUILD RUN <<EOT\necho hi\nEOT\n",
    "heredoc-name-takes-the-whole-word": "FROM alpine\nRUN cat <<EOT>/out\nx\nEOT>/out\n",
    "heredoc-marker-quoted-is-text": "FROM alpine\nRUN echo '<<EOT'\nCMD x\n",
    "heredoc-in-json-is-text": 'FROM alpine\nRUN ["echo", "<<EOT"]\nCMD x\n',
    "json-and-shell": (
        'FROM alpine\nCMD ["nginx", "-g", "daemon off;"]\nENTRYPOINT /entry.sh\nSHELL ["/bin/sh", "-c"]\n'
    ),
    "json-invalid-is-shell": 'FROM alpine\nCMD ["nginx", \nCMD [oops]\n',
    "flags": (
        "FROM --platform=$BUILDPLATFORM golang:1.22 AS build\n"
        "RUN --mount=type=cache,target=/root/.cache --network=none go build ./...\n"
        "COPY --from=build --chown=app:app --chmod=755 --link /out /app\n"
        'ADD --chown="a b" --checksum=sha256:00 https://example.com/x /x\n'
    ),
    "onbuild": "FROM alpine\nONBUILD COPY . /app\nONBUILD RUN make\n",
    "lowercase-keywords": "from alpine as base\nrun apk add curl\ncopy --from=base a b\nCmd sh\n",
    "indented": "  FROM alpine\n\tRUN true\n   # indented comment\n",
    "trailing-backslash-at-eof": "FROM alpine\nRUN echo \\",
    "trailing-backslash-newline-at-eof": "FROM alpine\nRUN echo \\\n",
    "trailing-backslash-then-blank-lines": "FROM alpine\nRUN echo \\\n\n\n",
    "no-final-newline": "FROM alpine\nCMD sh",
    "whitespace-lines": "FROM alpine\n   \n\t\nRUN true\n \t \n",
    "trailing-whitespace-after-backslash": "FROM alpine\nRUN echo \\  \t\n  hi\n",
    "arg-before-from": "ARG BASE=alpine\nFROM $BASE\n",
    "unicode": "FROM alpine\nLABEL description=\"caf\u00e9 \u2603\"\n# \u65e5\u672c\nCMD echo \u00e9\n",
    "keyword-on-continuation": "\\\nFROM alpine\n",
}


@pytest.mark.parametrize("text", list(EDGE_CASES.values()), ids=list(EDGE_CASES))
def test_round_trip_and_buildkit_layout(text: str, buildkit) -> None:
    tree = parse(text)
    check_structure(text, tree)
    assert layout(tree) == buildkit.layout(buildkit.parse(text))


def test_very_long_file_round_trips() -> None:
    body = "".join(
        f"RUN echo {i} \\\n    && true\n# step {i}\n\n" if i % 2 else f"ENV K{i}=v{i}\r\n" for i in range(10_000)
    )
    text = "FROM alpine\n" + body
    tree = parse(text)
    assert tree.render() == text
    assert len(tree.instructions) == 10_001
    last = tree.instructions[-1]
    assert last.start_line == text.count("\n") - 3
    assert last.end_line == last.start_line + 1


# --------------------------------------------------------------------------- values


def only(text: str, keyword: str) -> Instruction:
    found = [i for i in parse(text).instructions if i.keyword == keyword]
    assert len(found) == 1
    return found[0]


def test_instruction_values_shell_form_with_continuation() -> None:
    text = "FROM alpine\nrun --mount=type=cache,target=/var/cache/apk \\\n  # why\n    apk add curl\nUSER app\n"
    ins = only(text, "RUN")
    assert ins.keyword_text == "run"
    assert (ins.start_line, ins.end_line) == (2, 4)
    assert ins.start == text.index("run")
    assert ins.text == "run --mount=type=cache,target=/var/cache/apk \\\n  # why\n    apk add curl\n"
    assert ins.flags == ["--mount=type=cache,target=/var/cache/apk"]
    assert ins.flag("mount") == "type=cache,target=/var/cache/apk"
    assert ins.flag("network") is None
    assert ins.args_text == "apk add curl"
    assert ins.arguments == ["apk", "add", "curl"]
    assert ins.shell == "apk add curl"
    assert not ins.json
    assert ins.inner_comments
    assert text[ins.args_offset() :].startswith("apk add curl")
    assert ins.recased("COPY") == "copy"
    start, end = ins.content_span()
    assert text[start:end] == ins.text.rstrip("\n")


def test_instruction_values_json_form() -> None:
    ins = only('FROM alpine\nENTRYPOINT ["/bin/tini", "--", "caf\\u00e9"]\n', "ENTRYPOINT")
    assert ins.json
    assert ins.arguments == ["/bin/tini", "--", "caf\u00e9"]
    assert ins.shell is None
    assert not ins.inner_comments


def test_instruction_values_flags_quotes_resolved() -> None:
    ins = only('FROM a\nCOPY --chown="app user" --link --from=build a b/\n', "COPY")
    assert ins.flags == ["--chown=app user", "--link", "--from=build"]
    assert ins.flag("link") == ""
    assert ins.arguments == ["a", "b/"]


def test_heredoc_values() -> None:
    text = "FROM a\nRUN <<-A cat && cat <<'B' \\\n  > /dev/null\n\tone\n\t\tA\n$two\nB\nCMD x\n"
    ins = only(text, "RUN")
    assert (ins.start_line, ins.end_line) == (2, 7)
    assert [(h.name, h.chomp, h.expand) for h in ins.heredocs] == [("A", True, True), ("B", False, False)]
    assert [h.content for h in ins.heredocs] == ["\tone\n", "$two\n"]
    first, second = ins.heredocs
    assert text[first.start : first.end] == "\tone\n\t\tA\n"
    assert text[second.start : second.end] == "$two\nB\n"
    assert ins.end == second.end
    start, end = ins.content_span()
    assert text[start:end] == "RUN <<-A cat && cat <<'B' \\\n  > /dev/null"
    assert only(text, "CMD").start_line == 8


def test_trivia_kinds() -> None:
    text = "\ufeff# syntax=docker/dockerfile:1\n# escape=\\\n# a comment\n\n  \nFROM a\n"
    tree = parse(text)
    kinds = [(n.kind, n.line) for n in tree.nodes if isinstance(n, Trivia)]
    assert kinds == [("bom", 1), ("directive", 1), ("directive", 2), ("comment", 3), ("blank", 4), ("blank", 5)]
    assert tree.directives == {"syntax": "docker/dockerfile:1", "escape": "\\"}


def test_escape_and_newline() -> None:
    tree = parse("# escape=`\r\nFROM a\r\nRUN a \\\r\nRUN b `\r\n  c\r\n")
    assert tree.escape == "`"
    assert tree.newline == "\r\n"
    assert layout(tree) == [("FROM", 2, 2), ("RUN", 3, 3), ("RUN", 4, 5)]
    assert parse("FROM a\n").escape == "\\"
    assert parse("FROM a\n").newline == "\n"


def test_stages_and_lineage() -> None:
    text = (
        "ARG V=1\n"
        "FROM --platform=linux/amd64 golang:1.22 AS build\nRUN go build\n"
        "FROM build as test\nRUN go test\n"
        "FROM alpine\nCOPY --from=build /out /out\n"
    )
    tree = parse(text)
    stages = tree.stages
    assert [(s.index, s.image, s.name, s.platform) for s in stages] == [
        (0, "golang:1.22", "build", "linux/amd64"),
        (1, "build", "test", None),
        (2, "alpine", None, None),
    ]
    assert [i.keyword for i in stages[0].instructions] == ["RUN"]
    assert [s.index for s in tree.lineage(stages[1])] == [1, 0]
    assert [s.index for s in tree.lineage(stages[2])] == [2]
    assert tree.stage_of(stages[1].instructions[0]) is stages[1]
    assert tree.stage_of(tree.instructions[0]) is None  # the ARG before any FROM


def test_line_col() -> None:
    tree = parse("FROM a\nRUN x\n")
    assert tree.line_col(0) == (1, 1)
    assert tree.line_col(tree.instructions[1].args_offset()) == (2, 5)


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "text, line, col, message",
    [
        ("FROM a\nFOO bar\n", 2, 1, "unknown instruction: FOO"),
        ("FROM a\n\n   frm b\n", 3, 4, "unknown instruction: frm"),
        ("FROM a\nRUN x\n\\\nCOPYY a b\n", 4, 1, "unknown instruction: COPYY"),
        ("FROM a\r\n  {{ .Template }}\r\n", 2, 3, "unknown instruction: {{"),
        ("RUN echo hi\n", 1, 1, "no FROM"),
        ("# comment\nARG X=1\nLABEL a=b\n", 2, 1, "no FROM"),
        ("", 1, 1, "no instructions"),
        ("# only a comment\n\n   \n", 1, 1, "no instructions"),
        ("\ufeff", 1, 1, "no instructions"),
        ("FROM a\nRUN <<EOT\necho hi\n", 2, 1, "unterminated heredoc"),
        ("FROM a\nRUN <<-EOT\n\techo hi\n  EOT\n", 2, 1, "unterminated heredoc"),
        ("FROM a\nCOPY <<A <<B /x\na\nA\n", 2, 1, "unterminated heredoc"),
        ("# escape=x\nFROM a\n", 1, 1, "invalid escape token"),
        ("# syntax=a\n# escape=`\n# escape=\\\nFROM a\n", 3, 1, "only one escape"),
    ],
)
def test_parse_errors(text: str, line: int, col: int, message: str) -> None:
    with pytest.raises(ParseError) as info:
        parse(text)
    error = info.value
    assert message in error.message
    assert (error.line, error.col) == (line, col)
    assert str(error) == f"{line}:{col}: {error.message}"


# --------------------------------------------------------------------------- properties

_PLAIN = st.from_regex(r"[a-z0-9_./:=@%+,-]{1,10}", fullmatch=True)
_WORDS = st.one_of(
    _PLAIN,
    st.sampled_from(
        [
            "&&", "||", "|", ";", "$HOME", "${VAR:-x}", '"two words"', "'single $quoted'", "a#b", "#notacomment",
            "<<", ">/dev/null", "2>&1", "[", "]", '["x"]', "--", "--flag=x", "=", "C:/path", "{{", "}}",
            "C:\\\\", "a``", "x\\\\\\\\",  # escaped escapes: a line ending in one does not continue
        ]
    ),
)
_PAIRS = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,5}=[a-z0-9./:-]{0,6}", fullmatch=True)
_FLAGS = st.sampled_from(
    [
        "--platform=linux/amd64", "--mount=type=cache,target=/root/.cache", "--from=build", "--chown=1:1",
        "--chmod=755", "--link", "--network=none", '--mount="type=secret,id=x"',
    ]
)
_SIMPLE_KEYWORDS = ["RUN", "CMD", "ENTRYPOINT", "ENV", "LABEL", "WORKDIR", "USER", "EXPOSE", "ARG", "VOLUME",
                    "STOPSIGNAL", "MAINTAINER", "SHELL", "HEALTHCHECK CMD", "ONBUILD RUN", "COPY", "ADD"]
_HEREDOC_KEYWORDS = ["RUN", "COPY", "ADD", "ONBUILD RUN", "ONBUILD COPY"]
_HEREDOC_NAMES = ["EOT", "EOF", "END", "script", "x1"]
_BODY_LINES = st.one_of(
    st.from_regex(r"[ \ta-zA-Z0-9#$\\`'\"=<>|&;{}\[\]-]{0,16}", fullmatch=True),
    st.sampled_from(["FROM x", "RUN \\", "# comment", "", "\t", "EOTX", "\tEO", "<<EOT"]),
)


@st.composite
def _case(draw, keyword: str) -> str:
    words = keyword.split()
    choice = draw(st.integers(0, 2))
    return " ".join(w.lower() if choice == 0 else w.title() if choice == 1 else w for w in words)


@st.composite
def dockerfiles(draw):
    """A Dockerfile as text, from random lines: instructions (random flags, JSON or shell
    arguments, continuations with comments and blank lines between them, heredocs),
    comments, blank lines, directives, a BOM, LF or CRLF (sometimes mixed)."""
    eol_mode = draw(st.sampled_from(["\n", "\r\n", "mixed"]))

    def eol() -> str:
        return draw(st.sampled_from(["\n", "\r\n"])) if eol_mode == "mixed" else eol_mode

    escape = draw(st.sampled_from(["\\", "\\", "`"]))
    out: list[str] = []
    if draw(st.booleans()):
        out.append("\ufeff")
    directives = draw(st.permutations(["syntax", "escape"]))[: draw(st.integers(0, 2))]
    if escape == "`" and "escape" not in directives:
        directives = ["escape", *directives]
    for name in directives:
        value = "docker/dockerfile:1" if name == "syntax" else escape
        out.append(draw(st.sampled_from([f"# {name}={value}", f"#{name}={value}", f"# {name} = {value}"])) + eol())

    def filler() -> str:
        lines = draw(st.lists(st.sampled_from(["", "  ", "\t", "# note", "   # indented note", "#"]), max_size=2))
        return "".join(line + eol() for line in lines)

    def continuation() -> str:
        return draw(st.sampled_from([" ", " \t"])) + escape + draw(st.sampled_from(["", " ", "\t "])) + eol()

    def instruction(keyword: str, args: list[str], heredocs: list[tuple[str, bool, str]]) -> str:
        tokens = [draw(_case(keyword))] + args
        text = draw(st.sampled_from(["", "  ", "\t"])) + tokens[0]
        for token in tokens[1:]:
            if not token.startswith("#") and draw(st.integers(0, 4)) == 0:  # else it is a comment line
                text += continuation() + filler() + draw(st.sampled_from(["", "  ", "\t"])) + token
            else:
                text += " " + token
        text += eol()
        for name, chomp, _ in heredocs:
            body = draw(st.lists(_BODY_LINES, max_size=4))
            for line in body:
                stripped = line.lstrip("\t") if chomp else line
                assume(stripped != name)
                text += line + eol()
            text += ("\t" * draw(st.integers(0, 2)) if chomp else "") + name + eol()
        return text

    def arguments(keyword: str) -> list[str]:
        flags = draw(st.lists(_FLAGS, max_size=2, unique=True))
        if keyword in ("ENV", "LABEL", "ARG"):  # BuildKit's parser checks these have NAME=value
            return flags + draw(st.lists(_PAIRS, min_size=1, max_size=1 if keyword == "ARG" else 3))
        if keyword in ("RUN", "CMD", "ENTRYPOINT", "SHELL", "COPY", "ADD", "VOLUME") and draw(st.integers(0, 3)) == 0:
            items = draw(st.lists(_PLAIN, min_size=1, max_size=3))
            return flags + ["[" + ", ".join(f'"{w}"' for w in items) + "]"]
        return flags + draw(st.lists(_WORDS, min_size=1, max_size=6))

    out.append(filler())
    last_plain = len(out)
    out.append(instruction("FROM", [draw(st.sampled_from(["alpine", "golang:1.22 AS build", "scratch"]))], []))
    for _ in range(draw(st.integers(0, 8))):
        kind = draw(st.integers(0, 9))
        if kind == 0:
            out.append(filler())
        elif kind <= 2:
            keyword = draw(st.sampled_from(_HEREDOC_KEYWORDS))
            count = draw(st.integers(1, 2))
            docs = []
            for name in draw(st.lists(st.sampled_from(_HEREDOC_NAMES), min_size=count, max_size=count, unique=True)):
                chomp = draw(st.booleans())
                quote = draw(st.sampled_from(["", "'", '"']))
                docs.append((name, chomp, f"<<{'-' if chomp else ''}{quote}{name}{quote}"))
            args = draw(st.lists(_PLAIN, max_size=2)) + [marker for _, _, marker in docs]
            if keyword.endswith("COPY"):
                args.append("/dest")
            out.append(instruction(keyword, args, docs))
            last_plain = None
        else:
            keyword = draw(st.sampled_from(_SIMPLE_KEYWORDS))
            last_plain = len(out)
            out.append(instruction(keyword, arguments(keyword.split()[-1]), []))
    if last_plain is not None and draw(st.integers(0, 4)) == 0:
        # A trailing continuation into blank lines and comments: only after the last
        # instruction, as anywhere else it would join the next one.
        out[last_plain] = out[last_plain].rstrip("\r\n") + continuation() + eol() * draw(st.integers(0, 2))
    text = "".join(out)
    if draw(st.booleans()):
        text = text.rstrip("\r\n") if not text.endswith(escape + eol_mode) else text
    return text


@PROPERTY
@given(text=dockerfiles())
def test_generated_dockerfiles_round_trip_and_agree_with_buildkit(text: str, buildkit) -> None:
    try:
        commands = buildkit.parse(text)
    except buildkit.Error:  # the generator can write what BuildKit refuses (`RUN [ ["x"] ]`): so must we
        with pytest.raises(ParseError):
            parse(text)
        return
    tree = parse(text)
    check_structure(text, tree)
    assert layout(tree) == buildkit.layout(commands)
    for ins, command in zip(tree.instructions, commands):
        assert ins.flags == list(command.flags)
        if ins.keyword in ("RUN", "CMD", "ENTRYPOINT", "SHELL", "COPY", "ADD", "VOLUME"):
            assert ins.json == command.json
            assert [(h.name, h.content) for h in ins.heredocs] == [(h.name, h.content) for h in command.heredocs]


_NOISE = st.lists(
    st.sampled_from(
        ["FROM a", "RUN ", "run ", "COPY ", "CMD ", "x", " ", "\t", "\\", "`", "\n", "\n", "\r\n", "\r", "#",
         "# escape=`", "#escape=\\", "\ufeff", "<<EOT", "<<-EOT", "<<'EOT'", "EOT", "\tEOT", "'", '"', "[", "]",
         '"x"', ","]
    ),
    max_size=40,
).map("".join)


def _heredoc_line_buildkit_cannot_lex(commands) -> bool:
    """A line with `<<` that BuildKit's shell lexer fails on (an unclosed quote, a broken
    `${`): BuildKit then finds no heredoc at all. See the regression tests at the end."""
    for command in commands:
        line = command.original or ""
        if "<<" not in line:
            continue
        quote, i = "", 0
        while i < len(line):
            ch = line[i]
            if quote == "'":
                quote = "" if ch == "'" else quote
            elif ch == "\\":
                i += 1
            elif quote:
                quote = "" if ch == quote else quote
            elif ch in "'\"":
                quote = ch
            i += 1
        if quote or "${" in line:
            return True
    return False


@PROPERTY
@given(text=_NOISE)
def test_any_text_parses_or_raises_parse_error(text: str, buildkit) -> None:
    try:
        tree = parse(text)
    except ParseError:
        tree = None
    else:
        check_structure(text, tree)
    try:
        commands = buildkit.parse(text)
    except buildkit.Error:
        return
    assume(not _heredoc_line_buildkit_cannot_lex(commands))
    if buildkit.buildable(commands):
        assert tree is not None, "BuildKit builds this, so we must parse it"
        assert layout(tree) == buildkit.layout(commands)


@PROPERTY
@given(text=dockerfiles())
def test_replacing_an_instruction_keeps_its_neighbours(text: str) -> None:
    """What exec-form and maintainer-label rely on: content_span() covers the instruction
    so that a one-line replacement leaves every other node as it was."""
    tree = parse(text)
    for target in tree.instructions:
        if target.heredocs or target.inner_comments or target.keyword == "FROM":
            continue
        start, end = target.content_span()
        replacement = "x=1" if target.keyword in ("ENV", "LABEL") else "x"  # `ENV x` has no value: refused
        rewritten = parse(text[:start] + f"{target.keyword_text} {replacement}" + text[end:])
        others = [n.text for n in tree.nodes if n is not target]
        assert [n.text for n in rewritten.nodes if n.start != target.start] == others


# --------------------------------------------------------------------------- BuildKit's finer rules
# Each of these once disagreed with BuildKit; the reproducers stay as regression tests.


@pytest.mark.parametrize(
    "text",
    [
        "FROM a\nRUN echo a\\\\\nCMD x\n",
        "FROM a\nWORKDIR C:\\\\ \t\nCOPY . .\n",
        "# escape=`\nFROM a\nRUN echo a``\nCMD x\n",
    ],
)
def test_escaped_escape_at_end_of_line_ends_the_instruction(text: str, buildkit) -> None:
    tree = parse(text)
    assert layout(tree) == buildkit.layout(buildkit.parse(text))
    assert len(tree.instructions) == 3


def test_heredoc_content_keeps_crlf(buildkit) -> None:
    text = "FROM a\r\nRUN <<EOT\r\necho hi\r\nEOT\r\n"
    assert [h.content for h in parse(text).instructions[1].heredocs] == ["echo hi\r\n"]
    assert [h.content for h in buildkit.parse(text)[1].heredocs] == ["echo hi\r\n"]


def test_control_character_before_keyword_is_not_whitespace(buildkit) -> None:
    text = "FROM a\n\x1cRUN true\n"
    assert not buildkit.buildable(buildkit.parse(text))
    with pytest.raises(ParseError, match="unknown instruction"):
        parse(text)


def test_unicode_spaces_go_counts_as_whitespace_are_skipped(buildkit) -> None:
    text = "FROM a\n\xa0\u2003RUN true\n"
    assert layout(parse(text)) == buildkit.layout(buildkit.parse(text)) == [("FROM", 1, 1), ("RUN", 2, 2)]


def test_json_array_of_non_strings_is_refused(buildkit) -> None:
    text = 'FROM a\nCMD ["sleep", 1]\n'
    with pytest.raises(buildkit.Error):
        buildkit.parse(text)
    with pytest.raises(ParseError) as info:
        parse(text)
    assert (info.value.line, info.value.col) == (2, 1)


def test_content_span_covers_trailing_continuation_at_eof() -> None:
    text = "FROM a\nCMD a \\\n\n"
    tree = parse(text)
    start, end = tree.instructions[1].content_span()
    rewritten = parse(text[:start] + 'CMD ["a"]' + text[end:])
    assert [type(n).__name__ for n in rewritten.nodes] == [type(n).__name__ for n in tree.nodes]


# --------------------------------------------------------------------------- regressions


@pytest.mark.parametrize(
    "text",
    ["FROM a\nRUN cat <<EOT \"\nCMD x\n", "FROM a\nRUN cat <<EOT '\nEOT\n", "FROM a\nRUN echo ${} <<EOT\nhi\nEOT\n"],
)
def test_no_heredoc_on_a_line_buildkit_cannot_lex(text: str, buildkit) -> None:
    commands = buildkit.parse(text)
    assert not any(c.heredocs for c in commands)
    if buildkit.buildable(commands):
        assert layout(parse(text)) == buildkit.layout(commands)
    else:
        with pytest.raises(ParseError):
            parse(text)


# --------------------------------------------------------------------------- parity with BuildKit
# Each found by fuzzing (issue: reliability): dockopt refused what docker builds, or took
# what docker refuses. BuildKit's parser (the `dockerfile` package) is the oracle.

PARITY = {
    "line of 65535 bytes": ("FROM a\nRUN echo " + "x" * 65526 + "\n", None),
    "line of 65536 bytes": ("FROM a\nRUN " + "x" * 65532 + "\n", "dockerfile line greater than max allowed size of 65535"),
    "line over the limit in bytes, not characters": ("FROM a\nRUN " + "é" * 32767 + "\n", "max allowed size"),
    "ENV without a value": ("FROM a\nENV A\n", "ENV must have two arguments"),
    "LABEL without a value": ("FROM a\nLABEL maintainer\n", "LABEL must have two arguments"),
    "ENV = c": ("FROM a\nENV = c\n", "can't find = in \"c\""),
    "ENV with a quoted value": ('FROM a\nENV A="x y" B=2\n', None),
    "empty ENV (refused at build, not by the parser)": ("FROM a\nENV\n", None),
    "NaN is no JSON to Go": ("FROM a\nCMD [NaN]\n", None),
    "-Infinity is no JSON to Go": ('FROM a\nCMD ["sh", -Infinity]\n', None),
    "1e999 overflows Go's float64": ("FROM a\nRUN [1e999]\n", None),
    "a JSON array of non-strings": ('FROM a\nCMD ["a", true]\n', "arrays must be comprised of strings only"),
    "\\v is no space to Go's regexp": ("#\x0bescape=`\nFROM a\nRUN a \\\n  b\n", None),
    "a trailing no-break space after the escape token": ("# escape=` \u00a0\nFROM a\n", "invalid escape token"),
    "<<\"\" opens no heredoc": ('FROM a\nRUN cat "" <<""\n', None),
    "${h:} is a bad substitution: no heredoc": ('FROM a\nRUN echo "${h:}" <<EOF\n', None),
}


@pytest.mark.parametrize("text, error", PARITY.values(), ids=list(PARITY))
def test_parser_refuses_exactly_what_buildkit_refuses(text: str, error: str | None, buildkit) -> None:
    try:
        buildkit.parse(text)
        buildkit_error = None
    except buildkit.Error as exc:
        buildkit_error = str(exc)
    if error is None:
        assert buildkit_error is None
        tree = parse(text)
        assert tree.render() == text
    else:
        assert buildkit_error is not None and error in buildkit_error
        with pytest.raises(ParseError, match=re.escape(error)):
            parse(text)


def test_json_go_does_not_read_is_shell_form() -> None:
    cmd = parse("FROM a\nCMD [NaN]\n").instructions[-1]
    assert not cmd.json and cmd.shell == "[NaN]"
