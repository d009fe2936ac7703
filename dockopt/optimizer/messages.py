"""Messages read at a glance: a short first line, the reasoning below it.

Every change and finding dockopt reports carries one message string (an edit's
`explanation`, a check's `Problem.message`). Its first line says what changes or what is
wrong in under `SHORT` characters, so a terminal line, an editor's squiggle or a SARIF
result reads at a glance; the lines after it, if any, are the detail: why, what was
inferred and from where. Each way out shows the two as it can: indented lines under the
finding in text, `detail` in JSON, `message.markdown` in SARIF, related information in the
language server, a collapsed section in the bot's pull request. `dockopt explain` stays the
long form of the rule itself.

One string with a line break, rather than two fields, keeps a change's identity whole:
changes are grouped and counted by their full message.
"""

from __future__ import annotations

SHORT = 100  # the longest first line, in characters


def split(message: str) -> tuple[str, str]:
    """(first line, detail); the detail is "" when there is none."""
    first, _, detail = message.partition("\n")
    return first, detail.strip("\n")


def joined(first: str, detail: str = "") -> str:
    """A message from its first line and its detail."""
    return f"{first}\n{detail}" if detail else first


def short_list(words, room: int = 40) -> str:
    """Names for a first line: as many as fit in `room` characters, then "and N more"."""
    words = list(words)
    shown: list[str] = []
    for word in words:
        candidate = ", ".join([*shown, word])
        if len(candidate) > room and shown:
            return f"{', '.join(shown)} and {len(words) - len(shown)} more"
        shown.append(word)
    return ", ".join(shown)


def clip(text: str, room: int = 40) -> str:
    """`text` for a first line: cut to `room` characters with "..." when longer."""
    return text if len(text) <= room else text[: room - 3] + "..."
