"""Character offsets to LSP positions and back.

The engine speaks in character offsets into the text; LSP speaks in (line, character)
where lines end at "\\r\\n", "\\n" or a lone "\\r" and `character` counts code units of
the encoding the client and server agreed on: UTF-16 unless the client offers another
(an emoji is two UTF-16 units, "é" one, and in UTF-8 they are four and two). pygls's own
document model splits lines with `str.splitlines`, which also breaks at form feeds,
U+2028 and other characters LSP does not count as line ends, so the server maps
positions here instead, over the exact text it analysed.
"""

from __future__ import annotations

import re
from bisect import bisect_right

_BREAK = re.compile(r"\r\n|\r|\n")
ENCODINGS = ("utf-8", "utf-16", "utf-32")


class LineIndex:
    """Lines of one text as LSP counts them, and conversions in one position encoding."""

    def __init__(self, text: str, encoding: str = "utf-16"):
        if encoding not in ENCODINGS:
            raise ValueError(f"unknown position encoding {encoding!r}")
        self.text = text
        self.encoding = encoding
        self._simple = encoding == "utf-32" or text.isascii()  # one code unit per character
        self.starts = [0]
        self.ends = []  # where each line's content ends: the start of its line break
        for m in _BREAK.finditer(text):
            self.ends.append(m.start())
            self.starts.append(m.end())
        self.ends.append(len(text))

    def units(self, s: str) -> int:
        """Length of `s` in code units of the encoding."""
        if self.encoding == "utf-32" or s.isascii():
            return len(s)
        if self.encoding == "utf-16":
            return len(s) + sum(1 for c in s if ord(c) > 0xFFFF)
        return len(s.encode("utf-8", "surrogatepass"))

    def position(self, offset: int) -> tuple[int, int]:
        """(line, character) of a character offset; an offset inside a line break (between
        "\\r" and "\\n") counts as the end of that line's content."""
        offset = max(0, min(offset, len(self.text)))
        line = bisect_right(self.starts, offset) - 1
        end = min(offset, self.ends[line])
        return line, self.units(self.text[self.starts[line] : end])

    def offset(self, line: int, character: int) -> int:
        """The character offset of an LSP position; past the end of a line means its end,
        past the last line the end of the text, as the protocol asks."""
        if line < 0:
            return 0
        if line >= len(self.starts):
            return len(self.text)
        start, end = self.starts[line], self.ends[line]
        if self._simple:
            return min(start + max(character, 0), end)
        count = 0
        for i in range(start, end):
            if count >= character:
                return i
            count += self.units(self.text[i])
        return end

    def line_start(self, line: int) -> int:
        """Offset where LSP line `line` starts (the end of the text past the last line)."""
        return self.starts[line] if line < len(self.starts) else len(self.text)
