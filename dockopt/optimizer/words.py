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


def raw_words(line: str) -> list[str] | None:
    """Whitespace-separated words with quotes and escapes kept as written; None where
    BuildKit's lexer fails (an unclosed quote, a bad `${}` substitution)."""
    if re.search(r"\$\{(?![A-Za-z_][A-Za-z0-9_]*(?:[:#%/?+=-][^}]*)?\})", line):
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
        expand = not any(q in rest for q in "'\"")
        found.append((name, m.group(2) == "-", expand))
    return found
