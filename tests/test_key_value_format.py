"""DO112 key-value-format keeps every value: BuildKit reads back what it read before.

BuildKit's own parser (the `dockerfile` package) gives the raw value of the legacy and of
the rewritten instruction; both are expanded as BuildKit expands ENV and LABEL values
(quotes, escapes, `$VAR`: dockopt.checks._variables, a port of BuildKit's lexer), with an
environment, and must come out the same.
"""

from __future__ import annotations

import dockerfile
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dockopt.checks._variables import Expander, Unknown
from dockopt.optimizer.pipeline import optimize
from dockopt.transforms import by_id

ENV = {"SET": "x y", "EMPTY": ""}
VALUE = st.text(alphabet="ab $SETEMPTY{}:-+=\"'\\\t", min_size=1, max_size=24).filter(
    lambda v: v[0] not in " \t" and not v.endswith("\\"))


def _read(text: str, keyword: str) -> list[tuple[str, str]]:
    """(key, value) pairs BuildKit reads from the one ENV or LABEL of `text`, expanded."""
    [cmd] = [c for c in dockerfile.parse_string(text) if c.cmd.upper() == keyword]
    values = cmd.value
    pairs = []
    for i in range(0, len(values), 2):
        pairs.append((Expander(ENV).expand(values[i]), Expander(ENV).expand(values[i + 1])))
    return pairs


@settings(max_examples=400, deadline=None)
@given(value=VALUE, keyword=st.sampled_from(["ENV", "LABEL"]))
def test_the_value_reads_the_same(value: str, keyword: str) -> None:
    text = f"FROM alpine:3.20\n{keyword} KEY {value}\n"
    try:
        before = _read(text, keyword)
    except (Unknown, dockerfile.GoParseError):
        return  # BuildKit refuses it: nothing to keep
    out = optimize(text, [by_id("DO112")]).output
    if out == text:
        return
    assert f"{keyword} KEY=" in out
    assert _read(out, keyword) == before


@pytest.mark.parametrize("text", [
    "FROM alpine:3.20\nENV A \\\n  one \\\n# two\n  three\n",
    "FROM alpine:3.20\nENV A \\\n# why\n  one \\\n  two\n",
    "FROM alpine:3.20\nLABEL description \"a \\\"quoted\\\" word\" and more\n",
])
def test_continuations_and_comments_read_the_same(text: str) -> None:
    keyword = text.split("\n")[1].split()[0]
    out = optimize(text, [by_id("DO112")]).output
    assert out != text and "#" in out if "#" in text else True
    assert _read(out, keyword) == _read(text, keyword)
