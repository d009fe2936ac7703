"""Variables as BuildKit expands them in Dockerfile instructions (not in RUN's shell).

A port of the part of BuildKit's word lexer (`frontend/dockerfile/shell/lex.go`,
ProcessWord) that the checks need: quotes (nothing expands inside single quotes), the
escape character, `$NAME`, `${NAME}` and `${NAME:-word}`-style modifiers. It records every
variable looked up, as BuildKit does for its UndefinedVar check, and expands with a given
environment, as BuildKit does for base image names (InvalidDefaultArgInFrom).
"""

from __future__ import annotations


class Unknown(Exception):
    """What BuildKit would refuse (an unclosed quote, a bad `${}`), or a pattern modifier
    (`${A%.*}`, `${A/x/y}`) the checks do not evaluate."""


class Expander:
    def __init__(self, env: dict[str, str], escape: str = "\\"):
        self.env, self.escape = env, escape
        self.looked_up: list[str] = []  # every name read, in order
        self.unset: list[str] = []  # those not in `env`

    def expand(self, word: str) -> str:
        self.text, self.pos = word, 0
        return self._until(None)

    def _peek(self) -> str | None:
        return self.text[self.pos] if self.pos < len(self.text) else None

    def _next(self) -> str | None:
        ch = self._peek()
        self.pos += ch is not None
        return ch

    def _until(self, stop: str | None) -> str:
        out = []
        while self._peek() is not None:
            ch = self._peek()
            if stop is not None and ch == stop:
                self._next()
                return "".join(out)
            if ch == "$":
                out.append(self._dollar())
            elif ch == "'":
                out.append(self._single())
            elif ch == '"':
                out.append(self._double())
            else:
                self._next()
                if ch == self.escape:
                    ch = self._next()
                    if ch is None:
                        break
                out.append(ch)
        if stop is not None:
            raise Unknown(f"no closing {stop}")
        return "".join(out)

    def _single(self) -> str:
        self._next()
        end = self.text.find("'", self.pos)
        if end < 0:
            raise Unknown("no closing single quote")
        value, self.pos = self.text[self.pos : end], end + 1
        return value

    def _double(self) -> str:
        self._next()
        out = []
        while True:
            ch = self._peek()
            if ch is None:
                raise Unknown("no closing double quote")
            if ch == '"':
                self._next()
                return "".join(out)
            if ch == "$":
                out.append(self._dollar())
                continue
            self._next()
            if ch == self.escape:
                if self._peek() is None:
                    continue
                if self._peek() in ('"', "$", self.escape):
                    ch = self._next()
            out.append(ch)

    def _name(self) -> str:
        ch = self._peek()
        if ch is not None and ch.isdigit():
            start = self.pos
            while self._peek() is not None and self._peek().isdigit():
                self._next()
            return self.text[start : self.pos]
        if ch is not None and ch in "@*#?-$!0":
            return self._next()
        start = self.pos
        while self._peek() is not None and (self._peek().isalnum() or self._peek() == "_"):
            self._next()
        return self.text[start : self.pos]

    def _get(self, name: str) -> tuple[str, bool]:
        self.looked_up.append(name)
        if name in self.env:
            return self.env[name], True
        self.unset.append(name)
        return "", False

    def _dollar(self) -> str:
        self._next()
        if self._peek() != "{":
            name = self._name()
            return self._get(name)[0] if name else "$"
        self._next()
        if self._peek() is None or self._peek() in "{}:":
            raise Unknown("bad substitution")
        name = self._name()
        ch = self._next()
        if ch == "}":
            return self._get(name)[0]
        null_is_unset = ch == ":"
        if null_is_unset:
            ch = self._next()
        if ch is None or ch not in "+-?#%" and ch != "/":
            raise Unknown("unsupported modifier")
        if ch == "/":
            self._until("/")
            self._until("}")
            self._get(name)
            raise Unknown("pattern substitution")
        word = self._until("}")
        value, found = self._get(name)
        empty = not found or (null_is_unset and value == "")
        if ch == "-":
            return word if empty else value
        if ch == "+":
            return "" if empty else word
        if ch == "?":
            if empty:
                raise Unknown(f"{name} is unset")
            return value
        raise Unknown("pattern modifier")


def looked_up(word: str, escape: str = "\\") -> list[str]:
    """The variables BuildKit reads to expand `word`, in order (duplicates kept); [] when
    it would refuse the word."""
    expander = Expander({}, escape)
    try:
        expander.expand(word)
    except Unknown:
        pass
    return expander.looked_up


def expand(word: str, env: dict[str, str], escape: str = "\\") -> str | None:
    """`word` expanded with `env`; None when BuildKit would refuse it or it uses a pattern
    modifier."""
    try:
        return Expander(env, escape).expand(word)
    except Unknown:
        return None
