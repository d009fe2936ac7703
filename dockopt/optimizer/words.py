"""Word splitting the way BuildKit does it before any shell runs.

BuildKit reads two things out of an instruction's text with small lexers of its own, not
with a shell: the leading `--flag=value` words (`extractBuilderFlags`) and the heredoc
markers (`heredocsFromLine`, a shell-word lexer that keeps quotes and escapes raw). The
scanner needs both to find where an instruction ends, so they live here, each a faithful
port small enough to read against the Go original.
"""

from __future__ import annotations

import re

_HEREDOC_WORD = re.compile(r"^(\d*)<<(-?)([^<]*)$")


def extract_flags(rest: str) -> tuple[list[str], int]:
    """Split leading `--flag` words off `rest`.

    Returns the flags (quotes and escapes resolved, as BuildKit stores them) and the index
    in `rest` where the arguments start (`len(rest)` when there are none).
    """
    flags: list[str] = []
    pos, n = 0, len(rest)
    while True:
        while pos < n and rest[pos].isspace():
            pos += 1
        if pos >= n:
            return flags, n
        if not rest.startswith("--", pos):
            return flags, pos
        word, blank_ok, quote = "", False, ""
        while pos < n:
            ch = rest[pos]
            if quote:
                if ch == quote:
                    quote = ""
                    pos += 1
                    continue
            elif ch.isspace():
                break
            elif ch in "'\"":
                quote, blank_ok = ch, True
                pos += 1
                continue
            if ch == "\\":
                pos += 1
                if pos == n:
                    break
                ch = rest[pos]
            word += ch
            pos += 1
        if word == "--":
            return flags, pos if pos < n else n
        if blank_ok or word:
            flags.append(word)


# A `${...}` BuildKit's shell lexer refuses (checked on Docker 26's BuildKit): it takes a
# name alone or followed by `-` `+` `?` (with or without a colon), `:=`, `:N` (a substring),
# `%` or `#` (patterns); `${#name}`, `${name/a/b}`, `${name^}`, `${name=x}` and a bare `:`
# make it fail, and the line is then read as plain text (no heredoc is opened).
_BAD_SUBSTITUTION = re.compile(r"\$\{(?![A-Za-z_][A-Za-z0-9_]*(?:(?::[-+?=]|:\d|[-+?%#])[^}]*)?\})")


def raw_words(line: str) -> list[str] | None:
    """Whitespace-separated words with quotes and escapes kept as written; None where
    BuildKit's lexer fails (an unclosed quote, a bad `${}` substitution)."""
    if _BAD_SUBSTITUTION.search(line):
        return None
    words: list[str] = []
    word, quote, in_word = [], "", False
    i, n = 0, len(line)
    while i < n:
        ch = line[i]
        if quote:
            word.append(ch)
            if ch == "\\" and quote == '"' and i + 1 < n:
                word.append(line[i + 1])
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in " \t\r\n\f\v":
            if in_word:
                words.append("".join(word))
                word, in_word = [], False
        else:
            in_word = True
            word.append(ch)
            if ch in "'\"":
                quote = ch
            elif ch == "\\" and i + 1 < n:
                word.append(line[i + 1])
                i += 1
        i += 1
    if quote:
        return None
    if in_word:
        words.append("".join(word))
    return words


# What Go's unicode.IsSpace accepts (str.isspace() also takes \x1c-\x1f, which Go does not).
GO_SPACE = frozenset("\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
                     "\u200a\u2028\u2029\u202f\u205f\u3000")


def parse_words(rest: str, escape: str = "\\") -> list[str]:
    """BuildKit's parseWords (frontend/dockerfile/parser/line_parsers.go), for ENV and LABEL:
    words split at whitespace outside quotes, quotes and escapes kept in the word."""
    words: list[str] = []
    word, quote, phase, blank_ok = "", "", "spaces", False
    i, n = 0, len(rest)
    while i <= n:
        ch = rest[i] if i < n else ""
        if phase == "spaces":
            if i == n:
                break
            if ch in GO_SPACE:
                i += 1
                continue
            phase = "word"
        if i == n:
            if blank_ok or word:
                words.append(word)
            break
        if phase == "word":
            if ch in GO_SPACE:
                phase = "spaces"
                if blank_ok or word:
                    words.append(word)
                word, blank_ok = "", False
                i += 1
                continue
            if ch in "'\"":
                quote, blank_ok, phase = ch, True, "quote"
            if ch == escape:
                if i + 1 == n:
                    i += 1
                    continue  # an escape token at the end is dropped
                word += ch
                i += 1
                ch = rest[i]
            word += ch
            i += 1
            continue
        if ch == quote:
            phase = "word"
        if ch == escape and quote != "'":
            if i + 1 == n:
                phase = "word"
                i += 1
                continue
            word += ch
            i += 1
            ch = rest[i]
        word += ch
        i += 1
    return words


def unquote(word: str) -> str:
    """Remove shell quoting from one word (no variable expansion)."""
    out, quote, i = [], "", 0
    while i < len(word):
        ch = word[i]
        if quote == "'":
            if ch == "'":
                quote = ""
            else:
                out.append(ch)
        elif ch == "\\" and i + 1 < len(word):
            i += 1
            out.append(word[i])
        elif ch in "'\"" and (not quote or quote == ch):
            quote = "" if quote else ch
        else:
            out.append(ch)
        i += 1
    return "".join(out)


def heredoc_markers(line: str) -> list[tuple[str, bool, bool]]:
    """The heredocs an instruction line opens, in order: (name, chomp, expand)."""
    found: list[tuple[str, bool, bool]] = []
    for word in raw_words(line) or []:
        m = _HEREDOC_WORD.match(word)
        if not m or not m.group(3):
            continue
        rest = m.group(3)
        if len(raw_words(rest) or []) != 1:
            continue
        name = unquote(rest)
        if not name:
            continue  # `<<""` opens no heredoc
        expand = not any(q in rest for q in "'\"")
        found.append((name, m.group(2) == "-", expand))
    return found
