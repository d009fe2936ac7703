"""Every message reads at a glance: its first line is under 100 characters.

Run over what users check: every fixture's Dockerfile with its build context, the
examples, and (where ../shared is present) every corpus file, with every transform
(the opt-in ones too, each as it runs alone where it replaces another) and every check. A
longer reasoning belongs in the message's detail, the lines under its first
(dockopt.optimizer.messages).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dockopt.checks import ALL as CHECKS
from dockopt.optimizer.findings import check_file, to_text
from dockopt.optimizer.messages import SHORT, short_list, split
from dockopt.transforms import ALL, OPT_IN, choose

from conftest import corpus_files

ROOT = Path(__file__).parents[1]
INPUTS = sorted(
    [*(ROOT / "tests" / "fixtures").glob("*/*/Dockerfile"), *(ROOT / "examples").rglob("Dockerfile"),
     *corpus_files()]
)
RULE_SETS = {"default": list(ALL), **{t.name: choose(switched_on=(t.id,)) for t in OPT_IN}}


def _long(path: Path) -> list[str]:
    context = str(path.parent) if "fixtures" in path.parts or "examples" in path.parts else None
    found: list[str] = []
    for rules in RULE_SETS.values():
        report = check_file(str(path), rules, CHECKS, context_dir=context)
        assert report.error is None or "internal error" not in report.error, report.error
        found += [f"{f.line}: {f.id} ({len(f.message)}) {f.message}" for f in report.findings if len(f.message) > SHORT]
    return list(dict.fromkeys(found))


def test_first_lines_are_short() -> None:
    assert INPUTS
    long = {str(p.relative_to(ROOT) if ROOT in p.parents else p.name): m for p in INPUTS if (m := _long(p))}
    shown = [f"{path}:{line}" for path, lines in sorted(long.items()) for line in lines[:2]][:40]
    assert not long, f"{sum(map(len, long.values()))} first lines over {SHORT} characters:\n" + "\n".join(shown)


def test_split_and_short_list() -> None:
    assert split("what\nwhy\nand more\n") == ("what", "why\nand more")
    assert split("what only") == ("what only", "")
    assert short_list(["a", "b"]) == "a, b"
    assert short_list([f"package{i}" for i in range(9)], 30) == "package0, package1, package2 and 6 more"


def test_text_output_indents_the_detail(tmp_path: Path) -> None:
    # A stage split's first line says what changes; how the runtime base was chosen is below.
    src = ROOT / "examples" / "node-app"
    if not (src / "Dockerfile").exists():
        pytest.skip("examples/node-app is absent")
    report = check_file(str(src / "Dockerfile"), list(ALL), CHECKS)
    split_finding = next(f for f in report.findings if f.id == "DO202")
    assert split_finding.detail and len(split_finding.message) <= SHORT
    text = to_text([split_finding])
    first, *rest = text.splitlines()
    assert first.endswith(split_finding.message) or split_finding.message in first
    assert rest and all(line.startswith("    ") for line in rest)
    assert [line[4:] for line in rest] == split_finding.detail.splitlines()
