r"""DO112 key-value-format: write ENV and LABEL as `key=value`, not the legacy `key value`.

What it does
    `ENV PORT 8080` becomes `ENV PORT=8080`, and `LABEL maintainer "Jane <j@example.com>"`
    becomes `LABEL maintainer="Jane <j@example.com>"`. In the legacy form everything after
    the key is one value, spaces included, so a value of several words is quoted:
    `ENV JAVA_OPTS -Xms1g -Xmx2g` becomes `ENV JAVA_OPTS="-Xms1g -Xmx2g"`. A value spread
    over continuation lines keeps its lines, and comments between them stay where they are;
    with comments between the key and the value, the key moves down to the value:
    `ENV \`, the comments, then `KEY="value ...`.

Why
    Docker has deprecated the whitespace form (BuildKit LegacyKeyValueFormat): it takes one
    variable per instruction, and `ENV A B C` silently means `A="B C"`, where the reader
    may expect two variables.

Example
    ENV PHPIZE_DEPS \                         ENV PHPIZE_DEPS="autoconf \
        autoconf \                     ->         dpkg-dev \
        dpkg-dev \                                file"
        file

When it is not safe
    Always safe: the value is written so that BuildKit reads back exactly the text it read
    before (the same quotes, escapes and `$` expansions; whitespace in it kept, inside
    double quotes, or inside quotes around each run of blanks when the value has quotes or
    escapes of its own). Comment lines stay where they are. Left alone: keys that are
    quoted or escaped, ENV and LABEL with flags, unclosed quotes, values with quotes or
    escapes of their own whose words are split by comment lines, and ONBUILD ENV.
"""

from __future__ import annotations

import re

from dockopt.optimizer.edits import Edit
from dockopt.optimizer.transform import SAFE, Transform

# BuildKit splits the legacy `KEY value` at the first run of these (reWhitespace).
_BLANKS = re.compile(r"[\t\v\f\r ]+")
# What Go's unicode.IsSpace accepts: BuildKit's word splitter (parseWords) splits on these.
_SPACE = frozenset("\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")


def words(text: str, escape: str) -> list[tuple[int, int]] | None:
    """The words BuildKit's parseWords finds in `text`, as (start, end) spans: split at
    blanks outside quotes, an escaped character kept with its escape. None for an
    unclosed quote (the value would not expand)."""
    spans: list[tuple[int, int]] = []
    start, quote, i, n = None, "", 0, len(text)
    while i < n:
        ch = text[i]
        if start is None:
            if ch in _SPACE:
                i += 1
                continue
            start = i
        if quote:
            if ch == quote:
                quote = ""
            elif ch == escape and quote != "'":
                i += 1
        elif ch in _SPACE:
            spans.append((start, i))
            start = None
        elif ch in "'\"":
            quote = ch
        elif ch == escape:
            i += 1
        i += 1
    if quote:
        return None
    if start is not None:
        spans.append((start, n))
    return spans


def fix(dockerfile, context):
    esc = dockerfile.escape
    for ins in dockerfile.instructions:
        if ins.keyword not in ("ENV", "LABEL") or ins.flags or not ins.args_text:
            continue
        found = _legacy(ins, esc)
        if found is None:
            continue
        key_end, value_start, value = found
        spans = words(value, esc)
        if spans is None:
            continue
        source = dockerfile.source
        line_at = ins.source_offset
        sep_start, sep_end = line_at(key_end), line_at(value_start)
        value_end = line_at(value_start + len(value) - 1) + 1
        if source[sep_start:sep_end].strip(" \t\r\n" + esc) and "#" not in source[sep_start:sep_end]:
            continue  # the key or value is not where the logical line says: leave it
        if len(spans) == 1 and spans[0] == (0, len(value)):
            opening, closing = "", ""  # one word: BuildKit reads it the same after `=`
            runs = []
        elif not any(c in value for c in "\"'" + esc):
            opening, closing = '"', '"'
            runs = []
        elif ins.inner_comments:
            continue  # a quoted run of blanks would open a line after a comment with a quote
        else:
            opening, closing = "", ""
            runs = [(spans[k][1], spans[k + 1][0]) for k in range(len(spans) - 1)]
        key = _BLANKS.split(ins.args_text, 1)[0]
        edits = _separator(source, line_at(key_end - len(key)), sep_start, sep_end, esc, opening)
        if edits is None:
            continue
        for a, b in runs:  # each run of blanks between the words, quoted: `a" "b`
            edits += [(line_at(value_start + a), line_at(value_start + a), '"'),
                      (line_at(value_start + b - 1) + 1, line_at(value_start + b - 1) + 1, '"')]
        if closing:
            edits.append((value_end, value_end, closing))
        why = f"{ins.keyword_text} {key}=...: the legacy `{ins.keyword_text} key value` form is deprecated"
        for start, end, text in edits:
            if start != end or text:
                yield Edit(start, end, text, why)


def _legacy(ins, esc: str) -> tuple[int, int, str] | None:
    """For a legacy `KEY value` instruction: where the key ends and the value starts in the
    logical line, and the value; None for the `key=value` form or anything unclear."""
    line, args = ins.line, ins.args_text
    at = line.index(ins.keyword_text) + len(ins.keyword_text)
    while at < len(line) and line[at] in _SPACE:
        at += 1
    if not line.startswith(args, at):
        return None
    first = words(args, esc)
    if not first or "=" in args[first[0][0] : first[0][1]]:
        return None  # the key=value form (or no words at all)
    m = _BLANKS.search(args)
    if m is None:
        return None  # a key with no value: BuildKit refuses it
    key = args[: m.start()]
    if not key or any(c in key for c in "\"'=" + esc) or (first[0] != (0, m.start())):
        return None
    return at + m.start(), at + m.end(), args[m.end() :]


def _separator(source: str, key_start: int, start: int, end: int, esc: str, opening: str):
    r"""Edits turning the key and the blanks after it, source[key_start:end], into `key=`
    and the opening quote. On one line, or over continuation lines without comments, the
    blanks are replaced (the value's first line joins the key's). With comment lines
    between, those stay where they are and the key moves down to the value: `ENV \`,
    the comments, then `KEY=value` at the value's indentation (hadolint cannot read a
    line after a comment that starts with the value's quote)."""
    key = source[key_start:start]
    gap = source[start:end]
    lines = gap.split("\n")
    if "\n" not in gap or not any(ln.lstrip(" \t").startswith("#") for ln in lines[1:-1]):
        return [(start, end, "=" + opening)]
    head = re.fullmatch(rf"([ \t]*){re.escape(esc)}[ \t]*\r?", lines[0])
    middle_ok = all(not ln.strip(" \t\r") or ln.lstrip(" \t").startswith("#") for ln in lines[1:-1])
    if head is None or not middle_ok or lines[-1].strip(" \t"):
        return None
    return [(key_start, start + len(head.group(1)), ""), (end, end, f"{key}={opening}")]


TRANSFORM = Transform(
    id="DO112",
    name="key-value-format",
    title="Write ENV and LABEL as key=value instead of the legacy `key value`",
    why="The whitespace form is deprecated and sets one variable per instruction, spaces and all.",
    safety=SAFE,
    fix=fix,
    doc=__doc__,
    buildkit=("LegacyKeyValueFormat",),
)
