"""The shell layer: the commands of a RUN and their exact places in the source.

Handwritten cases give, for each construct the parser must get through, the commands it
must find (name, joining operator, enclosing constructs, text); every case also checks that
each command's and each word's source range holds its text once continuation lines are
removed. A property test builds random `&&`/`|`/`;` chains broken over continuation lines
and recovers every command from the source. On the corpus (skipped when absent), every
shell-form RUN parses without raising and its spans are well formed.
"""

from __future__ import annotations

import re
import subprocess
import sys
from itertools import combinations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dockopt.optimizer.shell import Command, ShellSyntaxError, commands, parse_commands
from dockopt.optimizer.syntax import ParseError, parse

PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def joined(text: str, escape: str = "\\") -> str:
    """Source text as its logical line: continuations, and the comment and blank lines
    between them, removed (as BuildKit joins an instruction's lines)."""
    e = re.escape(escape)
    return re.sub(rf"(?<!{e}){e}[ \t]*\r?\n(?:[^\S\n]*(?:#[^\n]*)?\n)*", "", text)


def run(dockerfile: str, index: int = -1):
    tree = parse(dockerfile)
    ins = [i for i in tree.instructions if i.keyword in ("RUN", "CMD", "ENTRYPOINT")][index]
    return tree, ins, commands(ins)


def check_spans(source: str, ins, found: list[Command], escape: str = "\\") -> None:
    """What holds for any instruction: spans inside it, ordered, disjoint unless one is a
    substitution inside the other, and holding the command's text."""
    starts = [c.start for c in found]
    assert starts == sorted(starts)
    for c in found:
        assert ins.start <= c.start < c.end <= ins.end
        text = source[c.start : c.end]
        assert (text[0], text[-1]) == (c.raw[0], c.raw[-1])  # no continuation at either end
        if ins.heredocs:
            assert text == c.raw or re.sub(r"(?m)^\t+", "", text) == c.raw  # `<<-` drops tabs
        else:
            assert joined(text, escape) == c.raw
        assert len(c.spans) == len(c.words)
        previous = c.start
        for (ws, we), word in zip(c.spans, c.words):
            assert previous <= ws < we <= c.end
            previous = we
            raw = joined(source[ws:we], escape)
            assert (source[ws], source[we - 1]) == (raw[0], raw[-1])
            if not re.search(r"[\\'\"$`]", raw):
                assert raw == word
    outer = [c for c in found if "substitution" not in c.context]
    for a, b in zip(outer, outer[1:]):
        assert a.end <= b.start
    for a, b in combinations(found, 2):
        assert a.end <= b.start or b.end <= a.start or a.start <= b.start < b.end <= a.end or b.start <= a.start < a.end <= b.end


def summary(found: list[Command]) -> list[tuple]:
    return [(c.name, c.op, c.context, c.raw) for c in found]


# --------------------------------------------------------------------------- constructs

CASES = {
    "and-chain": (
        "apt-get update && apt-get install -y curl",
        [("apt-get", None, (), "apt-get update"), ("apt-get", "&&", (), "apt-get install -y curl")],
    ),
    "or-semicolon-pipe-background": (
        "a || b; c | d & e",
        [("a", None, (), "a"), ("b", "||", (), "b"), ("c", ";", (), "c"), ("d", "|", (), "d"), ("e", "&", (), "e")],
    ),
    "no-spaces-around-operators": (
        "a&&b||c;d|e",
        [("a", None, (), "a"), ("b", "&&", (), "b"), ("c", "||", (), "c"), ("d", ";", (), "d"), ("e", "|", (), "e")],
    ),
    "pipe-stderr": ("make 2>&1 |& tee log", [("make", None, (), "make 2>&1"), ("tee", "|&", (), "tee log")]),
    "comment-at-end": (
        "pip install x # && rm -rf /root/.cache",
        [("pip", None, (), "pip install x")],
    ),
    "hash-inside-word-is-no-comment": ("echo a#b $# && true", [("echo", None, (), "echo a#b $#"), ("true", "&&", (), "true")]),
    "quoted-operators": (
        """echo 'a && b' "c; d" $'e | f' && echo \\&\\& x""",
        [("echo", None, (), """echo 'a && b' "c; d" $'e | f'"""), ("echo", "&&", (), "echo \\&\\& x")],
    ),
    "escaped-quote-in-double-quotes": ('echo "a \\" && b" && c', [("echo", None, (), 'echo "a \\" && b"'), ("c", "&&", (), "c")]),
    "set-prefix": ("set -eux; apk add --no-cache git", [("set", None, (), "set -eux"), ("apk", ";", (), "apk add --no-cache git")]),
    "assignments-before-command": (
        "DEBIAN_FRONTEND=noninteractive LANG=C apt-get install -y tzdata",
        [("apt-get", None, (), "DEBIAN_FRONTEND=noninteractive LANG=C apt-get install -y tzdata")],
    ),
    "bare-assignment-and-export": (
        'X=1; export PATH="/opt/bin:$PATH" Y',
        [("", None, (), "X=1"), ("export", ";", (), 'export PATH="/opt/bin:$PATH" Y')],
    ),
    "redirections": (
        "apt-get update > /dev/null 2>&1 && cat < in >> out 2> err && apt-get install -y x >/dev/null",
        [
            ("apt-get", None, (), "apt-get update > /dev/null 2>&1"),
            ("cat", "&&", (), "cat < in >> out 2> err"),
            ("apt-get", "&&", (), "apt-get install -y x >/dev/null"),
        ],
    ),
    "redirection-before-command-and-between-words": (
        "2>/dev/null rm -f a >x b && &>log make",
        [("rm", None, (), "2>/dev/null rm -f a >x b"), ("make", "&&", (), "&>log make")],
    ),
    "herestring": ('grep -q x <<< "$LIST" && y', [("grep", None, (), 'grep -q x <<< "$LIST"'), ("y", "&&", (), "y")]),
    "command-substitution": (
        'VERSION="$(cat /v | tr -d .)" && curl -o x "https://h/$(uname -m)/x"',
        [
            ("", None, (), 'VERSION="$(cat /v | tr -d .)"'),
            ("cat", None, ("substitution",), "cat /v"),
            ("tr", "|", ("substitution",), "tr -d ."),
            ("curl", "&&", (), 'curl -o x "https://h/$(uname -m)/x"'),
            ("uname", None, ("substitution",), "uname -m"),
        ],
    ),
    "backticks": (
        "cd `dirname $0` && ls",
        [("cd", None, (), "cd `dirname $0`"), ("dirname", None, ("substitution",), "dirname $0"), ("ls", "&&", (), "ls")],
    ),
    "arithmetic": (
        "echo $(( (1 + 2) * 3 )) && make -j$((N+1))",
        [("echo", None, (), "echo $(( (1 + 2) * 3 ))"), ("make", "&&", (), "make -j$((N+1))")],
    ),
    "parameter-expansion-with-braces-and-quotes": (
        'echo "${V%%[a-z]*}" ${X:-"a}b"} && y',
        [("echo", None, (), 'echo "${V%%[a-z]*}" ${X:-"a}b"}'), ("y", "&&", (), "y")],
    ),
    "double-brackets": (
        '[[ "$A" == x* && -n $B || $C =~ ^(a|b)$ ]] && rm -f y',
        [("[[", None, (), '[[ "$A" == x* && -n $B || $C =~ ^(a|b)$ ]]'), ("rm", "&&", (), "rm -f y")],
    ),
    "single-bracket-test": ('[ -f x ] || touch x', [("[", None, (), "[ -f x ]"), ("touch", "||", (), "touch x")]),
    "if-elif-else": (
        "if [ -n \"$X\" ]; then apt-get install -y a; elif true; then :; else pip install b; fi && echo done",
        [
            ("[", None, ("if",), '[ -n "$X" ]'),
            ("apt-get", None, ("if",), "apt-get install -y a"),
            ("true", None, ("if",), "true"),
            (":", None, ("if",), ":"),
            ("pip", None, ("if",), "pip install b"),
            ("echo", "&&", (), "echo done"),
        ],
    ),
    "for-while-until": (
        "for f in a b; do rm $f; done; while read l; do echo $l; done < list; until false; do break; done",
        [
            ("rm", None, ("for",), "rm $f"),
            ("read", None, ("while",), "read l"),
            ("echo", None, ("while",), "echo $l"),
            ("false", None, ("until",), "false"),
            ("break", None, ("until",), "break"),
        ],
    ),
    "for-over-substitution": (
        "for p in $(ls /x); do pip install $p; done",
        [("ls", None, ("for", "substitution"), "ls /x"), ("pip", None, ("for",), "pip install $p")],
    ),
    "case": (
        'case "$(uname -m)" in x86_64|amd64) A=x;; aarch64) A=arm ;; *) exit 1;; esac; echo $A',
        [
            ("uname", None, ("case", "substitution"), "uname -m"),
            ("", None, ("case",), "A=x"),
            ("", None, ("case",), "A=arm"),
            ("exit", None, ("case",), "exit 1"),
            ("echo", ";", (), "echo $A"),
        ],
    ),
    "case-in-substitution": (
        "ARCH=$(case $(uname -m) in x86_64) echo amd64;; *) echo arm64;; esac) && curl x",
        [
            ("", None, (), "ARCH=$(case $(uname -m) in x86_64) echo amd64;; *) echo arm64;; esac)"),
            ("uname", None, ("substitution", "case", "substitution"), "uname -m"),
            ("echo", None, ("substitution", "case"), "echo amd64"),
            ("echo", None, ("substitution", "case"), "echo arm64"),
            ("curl", "&&", (), "curl x"),
        ],
    ),
    "group-and-subshell": (
        "{ a; b; } > log 2>&1 && (cd /src && make) | tee out",
        [
            ("a", None, ("group",), "a"),
            ("b", ";", ("group",), "b"),
            ("cd", None, ("subshell",), "cd /src"),
            ("make", "&&", ("subshell",), "make"),
            ("tee", "|", (), "tee out"),
        ],
    ),
    "function": (
        "f() { echo hi; }; function g { h; }; f",
        [("echo", None, ("function", "group"), "echo hi"), ("h", None, ("function", "group"), "h"), ("f", ";", (), "f")],
    ),
    "negation": ("! grep -q x f && y", [("grep", None, ("negation",), "grep -q x f"), ("y", "&&", (), "y")]),
    "process-substitution-and-array": (
        "a=(1 2) && diff <(sort x) y",
        [("", None, (), "a=(1 2)"), ("diff", "&&", (), "diff <(sort x) y"), ("sort", None, ("substitution",), "sort x")],
    ),
    "non-ascii-text": (
        'echo "héllo wörld ✓" && apt-get install -y fonts-日本',
        [("echo", None, (), 'echo "héllo wörld ✓"'), ("apt-get", "&&", (), "apt-get install -y fonts-日本")],
    ),
    "reserved-words-as-arguments": ("echo if then done } && x", [("echo", None, (), "echo if then done }"), ("x", "&&", (), "x")]),
}


@pytest.mark.parametrize("shell, expected", CASES.values(), ids=CASES.keys())
def test_construct(shell, expected):
    source = f"FROM alpine\nRUN {shell}\n"
    tree, ins, found = run(source)
    assert summary(found) == expected
    check_spans(source, ins, found)
    for c in found:
        assert source[c.start : c.end] == c.raw


def test_words_are_unquoted_only_when_literal():
    (c,) = run("""FROM a\nRUN A="x y" echo 'a b' "c\\"d" e\\ f $HOME "$X" *.deb '*' ~/x {a,b} $'\\n'\n""")[2]
    assert c.name == "echo"
    assert c.assignments == 1
    assert c.words == ["A=x y", "echo", "a b", 'c"d', "e f", "$HOME", '"$X"', "*.deb", "*", "~/x", "{a,b}", "$'\\n'"]


def test_a_dollar_before_a_closing_quote_is_literal():
    from dockopt.optimizer.shell import parse_commands

    found = parse_commands('grep " x.tar.gz$" SHASUMS | sha256sum -c - && echo "it$\'s"')
    assert [c.name for c in found] == ["grep", "sha256sum", "echo"]


def test_word_spans_and_find_locate_an_insertion_point():
    source = "FROM debian\nRUN apt-get update && apt-get -q install -y curl\n"
    tree, ins, found = run(source)
    install = found[1]
    i = install.find("install")
    assert i == 2
    assert install.args_after("install") == ["-y", "curl"]
    assert found[0].find("install") is None
    assert found[0].args_after() == ["update"]
    start, end = install.word_span(i)
    assert source[start:end] == "install"
    edited = source[:end] + " --no-install-recommends" + source[end:]
    assert commands(parse(edited).instructions[-1])[1].words[:4] == ["apt-get", "-q", "install", "--no-install-recommends"]


# --------------------------------------------------------------------------- continuation lines

MULTILINE = (
    "FROM debian\n"
    "RUN --mount=type=cache,target=/var/cache/apt set -eux; \\\n"
    "    apt-get update \\\n"
    "# a comment line inside the instruction\n"
    "    && apt-get install -y --no-install-recommends \\\n"
    "\n"
    "        curl \\\n"
    "        ca-certificates \\\n"
    "    && rm -rf /var/lib/apt/lists/*  # trailing comment\n"
    "CMD [\"bash\"]\n"
)


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["lf", "crlf"])
def test_commands_across_continuation_lines(newline):
    source = MULTILINE.replace("\n", newline)
    tree, ins, found = run(source, index=0)
    assert [(c.name, c.op) for c in found] == [("set", None), ("apt-get", ";"), ("apt-get", "&&"), ("rm", "&&")]
    check_spans(source, ins, found)
    install = found[2]
    assert install.raw == "apt-get install -y --no-install-recommends         curl         ca-certificates"
    for i, word in enumerate(install.words):
        start, end = install.word_span(i)
        assert source[start:end] == word  # no word here crosses a line
    assert source[install.start : install.start + 7] == "apt-get"
    assert source[install.end - len("ca-certificates") : install.end] == "ca-certificates"
    assert source[found[1].start : found[1].end] == "apt-get update"
    assert found[3].raw == "rm -rf /var/lib/apt/lists/*"


def test_word_broken_by_a_continuation():
    source = "FROM a\nRUN echo ab\\\ncd && x\n"
    tree, ins, found = run(source)
    assert found[0].words == ["echo", "abcd"]
    start, end = found[0].word_span(1)
    assert source[start:end] == "ab\\\ncd"
    assert joined(source[start:end]) == "abcd"


def test_backtick_escape_directive():
    source = "# escape=`\nFROM a\nRUN apt-get update && `\n    apt-get install -y x\n"
    tree, ins, found = run(source)
    assert [c.raw for c in found] == ["apt-get update", "apt-get install -y x"]
    check_spans(source, ins, found, escape="`")


# --------------------------------------------------------------------------- heredocs and refusals


def test_heredoc_script_is_located_in_the_body():
    source = "FROM a\nRUN <<EOF\nset -e\napt-get update\napt-get install -y \\\n  curl\nEOF\nCMD x\n"
    tree, ins, found = run(source, index=0)
    assert [(c.name, c.op) for c in found] == [("set", None), ("apt-get", "\n"), ("apt-get", "\n")]
    assert source[found[2].start : found[2].end] == "apt-get install -y \\\n  curl"
    assert found[2].words == ["apt-get", "install", "-y", "curl"]
    check_spans(source, ins, found)


def test_heredoc_inside_a_heredoc_script():
    source = "FROM a\nRUN <<EOF\ncat <<-X > /etc/f && chmod 600 /etc/f\n\trm -rf /\n\tX\necho done\nEOF\n"
    tree, ins, found = run(source)
    assert [(c.name, c.op) for c in found] == [("cat", None), ("chmod", "&&"), ("echo", "\n")]
    check_spans(source, ins, found)


def test_heredoc_chomped_tabs_and_crlf():
    """BuildKit keeps the "\\r" of a CRLF heredoc line: the shell reads it as part of the
    last word, and so do we."""
    source = "FROM a\r\nRUN <<-EOF\r\n\tpip install x\r\n\t\tpip install y\r\n\tEOF\r\n"
    tree, ins, found = run(source)
    assert [c.words for c in found] == [["pip", "install", "x\r"], ["pip", "install", "y\r"]]
    assert [source[c.start : c.end] for c in found] == ["pip install x\r", "pip install y\r"]
    check_spans(source, ins, found)


def test_heredoc_fed_to_a_shell():
    source = "FROM a\nRUN <<EOT bash -ex\n  apk add git\nEOT\n"
    tree, ins, found = run(source)
    assert [(c.name, source[c.start : c.end]) for c in found] == [("apk", "apk add git")]


def test_heredoc_as_data_gives_the_line_commands():
    source = "FROM a\nRUN cat <<EOF > /etc/x && chmod 600 /etc/x\nrm -rf /\nEOF\n"
    tree, ins, found = run(source)
    assert [(c.name, c.raw) for c in found] == [("cat", "cat <<EOF > /etc/x"), ("chmod", "chmod 600 /etc/x")]
    check_spans(source, ins, found)


def test_heredoc_with_a_foreign_shebang_is_not_shell():
    assert run("FROM a\nRUN <<EOF\n#!/usr/bin/env python3\nprint(1)\nEOF\n")[2] == []
    assert [c.name for c in run("FROM a\nRUN <<EOF\n#!/bin/bash\necho 1\nEOF\n")[2]] == ["echo"]


@pytest.mark.parametrize(
    "dockerfile",
    [
        'FROM a\nRUN ["apt-get", "update"]\n',
        "FROM a\nENV A=1\n",
        "FROM a\nRUN echo 'unterminated\n",
        "FROM a\nRUN if true; then echo x\n",
        "FROM a\nRUN a && && b\n",
        "FROM a\nRUN $newPath = ('{0}\\bin;{1}' -f $env:JAVA_HOME, $env:PATH); setx /M PATH $newPath\n",
    ],
    ids=["exec-form", "not-a-shell-instruction", "unterminated-quote", "if-without-fi", "empty-command", "powershell"],
)
def test_no_commands_for_what_is_not_sh(dockerfile):
    tree = parse(dockerfile)
    assert commands(tree.instructions[-1]) == []


@pytest.mark.parametrize("script", ["case x in a) b;;", "a\n&& b", "a | ", "(a", "echo $(a", "f() ", "a )"])
def test_syntax_errors_raise_from_parse_commands(script):
    with pytest.raises(ShellSyntaxError):
        parse_commands(script)


def test_script_lines():
    found = parse_commands("! a\nb &&\n  c\n\nd; e")
    assert [(c.name, c.op, c.context, (c.start, c.end)) for c in found] == [
        ("a", None, ("negation",), (2, 3)),
        ("b", "\n", (), (4, 5)),
        ("c", "&&", (), (11, 12)),
        ("d", "\n", (), (14, 15)),
        ("e", ";", (), (17, 18)),
    ]


def test_cmd_shell_form():
    tree, ins, found = run("FROM a\nCMD exec gunicorn app:app\n")
    assert [c.words for c in found] == [["exec", "gunicorn", "app:app"]]


def test_import_uses_only_the_standard_library():
    code = (
        "import sys, dockopt.optimizer.syntax; before = set(sys.modules); import dockopt.optimizer.shell; "
        "new = set(sys.modules) - before; "
        "print(sorted(m for m in new if m.split('.')[0] not in sys.stdlib_module_names and m.split('.')[0] != 'dockopt'))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# --------------------------------------------------------------------------- property

WORDS = st.sampled_from(
    ["apt-get", "install", "-y", "--no-cache", "x=1", "'a b'", '"c d"', "$HOME", "/tmp/*", "-j$((N+1))", "$(id -u)"]
)
NAMES = st.sampled_from(["apt-get", "pip", "npm", "echo", "rm", "curl"])
OPERATORS = st.sampled_from(["&&", "||", ";", "|", "&"])
BREAK = st.sampled_from([" ", " ", "  ", " \\\n    ", "\\\n  ", "\t\\\n\t", " \\\n# note\n  ", "\\ \n\n  "])


@st.composite
def chains(draw):
    """A RUN line: (source after `RUN `, expected [(name, op, logical text, words)])."""
    source, expected = [], []
    for n in range(draw(st.integers(1, 6))):
        op = draw(OPERATORS) if n else None
        if op:
            source += [draw(BREAK), op]
        tokens = [draw(NAMES)] + draw(st.lists(WORDS, max_size=4))
        parts = []
        for i, token in enumerate(tokens):
            if i or op:
                parts.append(draw(BREAK))
            parts.append(token)
        text = "".join(parts)
        source.append(text)
        logical = joined(text).strip()
        expected.append((tokens[0], op, logical))
    return "".join(source), expected


@PROPERTY
@given(chains(), st.sampled_from(["\n", "\r\n"]))
def test_random_chains_are_found_in_the_source(chain, newline):
    body, expected = chain
    source = ("FROM alpine\nRUN " + body + "\nCMD x\n").replace("\n", newline)
    tree, ins, found = run(source, index=0)
    outer = [c for c in found if "substitution" not in c.context]
    assert [(c.name, c.op, c.raw) for c in outer] == expected
    check_spans(source, ins, found)


# --------------------------------------------------------------------------- corpus


def test_corpus_runs(corpus_file):
    text = corpus_file.read_bytes().decode("utf-8")
    try:
        tree = parse(text)
    except ParseError:
        pytest.skip("not a Dockerfile docker builds")
    for ins in tree.instructions:
        if ins.shell is not None:
            check_spans(text, ins, commands(ins), tree.escape)


@pytest.mark.parametrize("script", [
    "echo " + "$(echo " * 500 + "x" + ")" * 500,
    '"$(echo ' * 2000 + "x" + ')"' * 2000,
])
def test_nesting_too_deep_to_read_is_a_syntax_error_not_a_crash(script: str) -> None:
    # Regression: RecursionError, reported as "internal error ... this is a dockopt bug".
    with pytest.raises(ShellSyntaxError):
        parse_commands(script)
