"""The commands of a plain script, found without the full sh parser.

Most scripts dockopt reads are plain: words of letters, digits, `-`, `/`, `.`, `=`...
joined by `&&`, `||`, `|`, `;` and newlines, perhaps with redirections (`> /dev/null`,
`2>&1`), but no quotes, expansions, heredocs, comments or compound commands (`RUN apt-get
update && apt-get install -y curl`, a heredoc of `echo` lines). For those, a regular expression finds the same commands the recursive
descent in `shell.py` does, at a fraction of its cost per word: it matters when a file has
20,000 RUNs or a heredoc of 100,000 lines, each parsed once per round.

`plain_found(text)` gives the parser's records, `(start, end, word spans, operator,
context)`, exactly as `shell._Parser` would (the tests compare both on generated and real
scripts), or None when the text is anything but plain, or would not parse: the caller then
runs the full parser, which also raises the error.
"""

from __future__ import annotations

import re

from dockopt.optimizer.sh_tokens import REDIRECT, RESERVED

# Anything the full parser treats specially inside or between words, but for the
# redirections it reads as `REDIRECT` (heredocs excepted): quotes, escapes, expansions,
# subshells and groups, comments, heredocs.
_NOT_PLAIN = re.compile(r"""[()\\'"`$#]|<<""")
_BLANKS = re.compile(r"[ \t]*")
_WORD = re.compile(r"[^ \t\n;&|<>]+")
_OPERATOR = re.compile(r";;&|&&|\|\||;;|;&|\|&|&|\||;|\n")
_SEPARATORS = frozenset({"&&", "||", "|", ";", "&"})
# Blanks, then a redirection and its target, an operator or a word, tried in that order.
_TOKEN = re.compile(
    rf"[ \t]*(?:(?P<redirect>{REDIRECT.pattern})[ \t]*(?P<target>{_WORD.pattern})?"
    rf"|(?P<operator>{_OPERATOR.pattern})|(?P<word>{_WORD.pattern}))"
)

Found = tuple[int, int, list[tuple[int, int]], "str | None", tuple[str, ...]]


def plain_found(text: str) -> list[Found] | None:
    """The parser's records of the simple commands of a plain script, or None.

    The scan follows `_Parser.list` and `_Parser.simple`: at each place, blanks; then a
    redirection (`>`, `2>&1`, `&>`: it ends the command's text but is not a word), an
    operator (it ends the command), or a word (the first one of a command must not be a
    reserved word: `if`, `{`, `!` start compound commands, left to the full parser). One
    match of `_TOKEN` reads each (blanks, then the first of the three that matches, as
    separate matches did in that order): a script's cost is one match per token."""
    if _NOT_PLAIN.search(text):
        return None
    found: list[Found] = []
    op, seen = None, False
    start = end = -1  # the command being read: where it starts and ends (-1: none)
    spans: list[tuple[int, int]] = []
    pos, token = 0, _TOKEN.match
    while True:
        m = token(text, pos)
        if m is None:
            if text[pos:].strip(" \t"):
                return None  # not reached: every character but a blank starts a token
            break
        kind = m.lastgroup
        if kind == "word":
            if start < 0:
                if RESERVED.match(text, m.start(kind)):
                    return None  # a compound command
                start = m.start(kind)
            spans.append(m.span(kind))
            pos = end = m.end()
        elif kind == "operator":
            if start >= 0:
                found.append((start, end, spans, op, ()))
                start, spans, seen, op = -1, [], True, None
            token_text = m.group(kind)
            if token_text == "\n":
                if seen and op is None:
                    op = "\n"
            elif token_text in _SEPARATORS and seen and op is None:
                op = token_text
            else:
                return None  # `;;`, `|&`, an operator with no command before it
            pos = m.end()
        elif kind == "target":
            if start < 0:
                start = m.start("redirect")
            pos = end = m.end()
        else:
            return None  # a redirection without a target
    if start >= 0:
        found.append((start, end, spans, op, ()))
    elif op in ("&&", "||", "|"):
        return None  # nothing after the operator: a syntax error
    return found
