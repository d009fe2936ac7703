"""Before/after fixtures for every transform, run by one generic runner.

Layout: `fixtures/<transform name>/<case>/Dockerfile` is the input and
`expected.Dockerfile` the output of that transform alone; a case without an expected file
must come out unchanged. A transform that changes a file beside the Dockerfile has its own
`expected.<file>` (DO205's `expected.dockerignore`, checked by tests/test_dockerignore.py). Every other file in the case folder is the build context. A case
whose folder name ends in `-safe` runs with `safe_only=True`. Files are compared as bytes
decoded from UTF-8, so CRLF line endings and a missing final newline are part of the
expected output.

Each case also feeds the whole pipeline (every transform) its expected output, which must
reach a fixed point that a second run leaves alone.
"""

from __future__ import annotations

import io
import tarfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from dockopt.optimizer.context import BuildContext
from dockopt.optimizer.messages import SHORT, split
from dockopt.optimizer.pipeline import optimize
from dockopt.transforms import ALL, UnknownTransform, by_id

FIXTURES = Path(__file__).parent / "fixtures"


@dataclass(frozen=True)
class Case:
    folder: Path

    @property
    def transform_name(self) -> str:
        return self.folder.parent.name

    @property
    def id(self) -> str:
        return f"{self.transform_name}/{self.folder.name}"

    @property
    def safe_only(self) -> bool:
        return self.folder.name.endswith("-safe")

    @property
    def before(self) -> str:
        return (self.folder / "Dockerfile").read_bytes().decode("utf-8")

    @property
    def expected(self) -> str | None:
        path = self.folder / "expected.Dockerfile"
        return path.read_bytes().decode("utf-8") if path.exists() else None

    @property
    def changes_something(self) -> bool:
        return any(p.name.startswith("expected.") for p in self.folder.iterdir())

    def run(self, transforms, text: str | None = None):
        text = self.before if text is None else text
        return optimize(text, transforms, BuildContext(self.folder), self.safe_only)


def _cases() -> list[Case]:
    if not FIXTURES.is_dir():
        return []
    return [
        Case(folder)
        for transform_dir in sorted(FIXTURES.iterdir())
        if transform_dir.is_dir()
        for folder in sorted(transform_dir.iterdir())
        if folder.is_dir()
    ]


CASES = _cases()
POSITIVE = [c for c in CASES if (c.folder / "expected.Dockerfile").exists()]


def _params(cases: list[Case]):
    return [pytest.param(c, id=c.id) for c in cases]


@pytest.mark.parametrize("case", _params(CASES))
def test_case(case: Case) -> None:
    transform = by_id(case.transform_name)
    result = case.run([transform])
    expected = case.expected
    if expected is None:
        assert result.output == case.before
        assert result.changes == []
    else:
        assert result.output == expected
        assert result.changes, "the output changed, so the changes must say how"
        assert {c.transform.id for c in result.changes} == {transform.id}


@pytest.mark.parametrize("case", _params(POSITIVE))
def test_every_change_says_why(case: Case) -> None:
    result = case.run([by_id(case.transform_name)])
    for change in result.changes:
        first, _ = split(change.explanation)
        assert first.strip(), f"line {change.line}: a change without an explanation"
        assert len(first) <= SHORT, f"line {change.line}: a first line over {SHORT} characters: {first}"


@pytest.mark.parametrize("case", _params(CASES))
def test_expected_output_is_a_fixed_point(case: Case) -> None:
    settled = case.expected if case.expected is not None else case.before
    again = case.run([by_id(case.transform_name)], settled)
    assert again.output == settled, "the transform changes its own output"

    first = case.run(ALL, settled)
    second = case.run(ALL, first.output)
    assert second.output == first.output
    assert second.changes == []


def _unended(text: str) -> str:
    """`text` with its last line ending taken off, as some editors save a file."""
    return text[:-2] if text.endswith("\r\n") else text[:-1] if text.endswith("\n") else text


@pytest.mark.parametrize("case", _params(POSITIVE))
def test_a_file_without_a_final_newline_gets_the_same_rewrite(case: Case) -> None:
    # Regression: a rewrite of the last instruction was refused as an internal error
    # ("text outside the edited instructions changed meaning", "unknown instruction: &&").
    if _unended(case.before) == case.before:
        pytest.skip("this input already has no final newline")
    result = case.run([by_id(case.transform_name)], _unended(case.before))
    assert result.output == _unended(case.expected)
    everything = case.run(ALL, case.before).output
    assert case.run(ALL, _unended(case.before)).output == _unended(everything)


@pytest.mark.parametrize("case", _params(CASES))
def test_case_folder_is_well_formed(case: Case) -> None:
    try:
        by_id(case.transform_name)
    except UnknownTransform:
        pytest.fail(f"fixtures/{case.transform_name} names no transform in dockopt.transforms.ALL")
    assert (case.folder / "Dockerfile").is_file(), "each case folder needs a Dockerfile"
    if case.expected is not None:
        assert case.expected != case.before, "an unchanged case has no expected.Dockerfile"
    if "crlf" in case.folder.name:
        # Guards against a checkout that converted line endings (see .gitattributes).
        for name in ("Dockerfile", "expected.Dockerfile"):
            path = case.folder / name
            if path.exists():
                data = path.read_bytes()
                assert data.count(b"\r\n") == data.count(b"\n") > 0, f"{name} must use CRLF throughout"


@pytest.mark.parametrize("transform", [pytest.param(t, id=t.name) for t in ALL])
def test_every_transform_has_positive_and_unchanged_cases(transform) -> None:
    mine = [c for c in CASES if c.transform_name == transform.name]
    positive = [c for c in mine if c.changes_something]
    assert positive, f"no fixture in fixtures/{transform.name}/ shows {transform.id} changing a file"
    assert len(positive) < len(mine), f"no fixture in fixtures/{transform.name}/ shows a file left unchanged"


# --------------------------------------------------------------------------- regressions
# Behaviour the fixtures above cannot pin down: bugs found and fixed, kept as tests.


@pytest.mark.parametrize("command", ["exec -- node app.js", "exec -a server node app.js", "exec"])
def test_exec_form_never_runs_the_exec_builtin_as_a_program(command: str) -> None:
    result = optimize(f"FROM node:20\nCMD {command}\n", [by_id("exec-form")])
    for change in result.changes:
        assert not change.edit.text.split(None, 1)[1].startswith('["exec"'), change.edit.text


def _v7_tar() -> bytes:
    """A tar archive in the old V7 format: no `ustar` magic, which ADD still unpacks (Go's
    archive/tar reads it; so does Python's)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        info = tarfile.TarInfo("hello.txt")
        info.size, info.mtime = 3, 0
        tar.addfile(info, io.BytesIO(b"hi\n"))
    block = bytearray(raw.getvalue())
    block[257:265] = bytes(8)  # no magic, no version: V7
    block[148:156] = b" " * 8
    block[148:156] = b"%06o\0 " % sum(block[:512])
    assert tarfile.open(fileobj=io.BytesIO(bytes(block))).getnames() == ["hello.txt"]
    return bytes(block)


@pytest.mark.parametrize(
    "data",
    [_v7_tar(), b"\x5e\x2a\x4d\x18\x04\x00\x00\x00seek\x28\xb5\x2f\xfd"],
    ids=["v7-tar", "zstd-skippable-frame"],
)
def test_copy_not_add_leaves_every_archive_alone(data: bytes, tmp_path: Path) -> None:
    (tmp_path / "payload.bin").write_bytes(data)
    text = "FROM alpine\nADD payload.bin /opt/\n"
    assert optimize(text, [by_id("copy-not-add")], BuildContext(tmp_path)).output == text
