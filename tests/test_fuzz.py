"""Fuzzing: real Dockerfiles, mutated as a hostile user (or a careless editor) would, must
keep every invariant dockopt promises.

Each example takes a corpus file (or a fixture, where the corpus is absent) and applies a
few mutations: lines deleted, duplicated or swapped; continuations inserted; CR, LF and CRLF
mixed; a byte-order mark; unicode (control and zero-width characters, never NUL); a cut
anywhere, heredocs included; parser-directive variants; JSON arrays Go would not read
(`NaN`, `-Infinity`, `1e999`). Then:

- dockopt refuses the text (ParseError, exit 2) exactly when BuildKit's parser refuses it
  or it names an unknown instruction or has no FROM;
- otherwise no exception escapes, and the rewrite parses with BuildKit's parser, keeps
  every comment and the file's line endings (the pipeline's own verification), and a second
  run changes nothing.

The default run is bounded (`DOCKOPT_FUZZ_EXAMPLES`, 40 examples: seconds); a nightly job
sets it higher (`DOCKOPT_FUZZ_EXAMPLES=5000 pytest tests/test_fuzz.py`).
"""

from __future__ import annotations

import os
from pathlib import Path

import dockerfile
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import BuildKit, corpus_files
from dockopt.optimizer.context import BuildContext
from dockopt.optimizer.pipeline import optimize
from dockopt.optimizer.syntax import ParseError, parse
from dockopt.transforms import ALL

EXAMPLES = int(os.environ.get("DOCKOPT_FUZZ_EXAMPLES", "40"))
FIXTURES = Path(__file__).parent / "fixtures"


def _seeds() -> list[str]:
    files = corpus_files() or sorted(FIXTURES.glob("*/*/Dockerfile"))
    texts = []
    for path in files:
        try:
            texts.append(path.read_bytes().decode("utf-8"))
        except UnicodeDecodeError:
            continue
    return texts


SEEDS = _seeds()
ODD = ["\u200b", "\u200d", "\ufeff", "\u00a0", "\u2028", "\x0b", "\x0c", "\x1f", "\x7f", "é", "🐳", "\t", " "]
JSON_ODDITIES = ['CMD [NaN]', 'CMD ["sh", -Infinity]', 'RUN [1e999]', 'ENTRYPOINT ["a", true]', 'CMD []', 'CMD ["a"] b']
# (`# check=` is left out: BuildKit's parser in the `dockerfile` package predates that
# directive and reads it as a comment, which ends the directives; newer BuildKit knows it.)
DIRECTIVES = ["# escape=`", "#escape=\\", "# syntax=docker/dockerfile:1", "#\x0bescape=`", "# escape\u00a0=`",
              "# escape=` \u00a0"]


@st.composite
def mutated(draw) -> str:
    text = draw(st.sampled_from(SEEDS))
    lines = text.split("\n")
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["delete", "duplicate", "swap", "continuation", "endings", "bom", "unicode",
                                     "truncate", "directive", "json", "blank"]))
        i = draw(st.integers(0, max(len(lines) - 1, 0)))
        if kind == "delete" and len(lines) > 1:
            del lines[i]
        elif kind == "duplicate":
            lines.insert(i, lines[i])
        elif kind == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif kind == "continuation":
            lines[i] = lines[i] + draw(st.sampled_from(["\\", " \\", "\\ ", "`"]))
        elif kind == "endings":
            lines[i] = lines[i] + draw(st.sampled_from(["\r", "\r\r", ""]))
        elif kind == "bom":
            lines[0] = "\ufeff" + lines[0].lstrip("\ufeff")
        elif kind == "unicode":
            at = draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:at] + draw(st.sampled_from(ODD)) + lines[i][at:]
        elif kind == "truncate":
            joined = "\n".join(lines)
            lines = joined[: draw(st.integers(0, len(joined)))].split("\n")
        elif kind == "directive":
            lines.insert(0, draw(st.sampled_from(DIRECTIVES)))
        elif kind == "json":
            lines.insert(i, draw(st.sampled_from(JSON_ODDITIES)))
        elif kind == "blank":
            lines.insert(i, draw(st.sampled_from(["", "  ", "#", "# comment \\"])))
    return "\n".join(lines)


def _buildkit_refuses(text: str) -> bool:
    try:
        return not BuildKit.buildable(BuildKit.parse(text))
    except dockerfile.GoParseError:
        return True


@pytest.mark.skipif(not SEEDS, reason="no corpus and no fixtures to mutate")
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=EXAMPLES <= 100)
@given(text=mutated())
def test_mutated_dockerfiles_keep_every_invariant(text: str) -> None:
    refused = _buildkit_refuses(text)
    try:
        parse(text)
    except ParseError:
        assert refused, "dockopt refuses a file BuildKit builds"
        return
    assert not refused, "dockopt accepts a file BuildKit refuses"
    result = optimize(text, ALL, BuildContext(None))
    if result.changed:
        assert not _buildkit_refuses(result.output), "the rewrite is not a Dockerfile BuildKit builds"
    again = optimize(result.output, ALL, BuildContext(None))
    assert again.output == result.output, "a second run changes the rewrite"
