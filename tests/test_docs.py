"""The documentation stays true: a short README, a current rule reference, no broken link.

README.md is the five-minute guide and docs/ the rest. What can drift is checked here: the
rule pages in docs/rules/ against what tools/rule_docs.py makes of the rules now (and that
nothing of a docstring is lost on the way), the README's length, its example output against
a real run, its test command against CI's, and every relative link (file and heading) in
README.md and docs/.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from dockopt.checks import ALL as CHECKS
from dockopt.transforms import REGISTRY
from helpers import dockopt

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
RULES = [*REGISTRY, *CHECKS]
README_LIMIT = 8000

_spec = importlib.util.spec_from_file_location("rule_docs", ROOT / "tools" / "rule_docs.py")
rule_docs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(rule_docs)


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


# --------------------------------------------------------------------------- rule reference


def test_the_rule_reference_is_current() -> None:
    stale = rule_docs.stale()
    assert not stale, f"docs/rules/ is out of date ({', '.join(stale)}): run `{rule_docs.COMMAND}`"


def test_the_generator_is_one_command_and_deterministic() -> None:
    # Another hash seed, another process: the pages must not depend on set or dict order.
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    run = subprocess.run([sys.executable, "tools/rule_docs.py", "--check"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_every_rule_has_a_page(rule) -> None:
    page = DOCS / "rules" / f"{rule.id}.md"
    assert page.is_file(), f"no {page.relative_to(ROOT)}: run `{rule_docs.COMMAND}`"
    text = read(page)
    assert f"# {rule.id} {rule.name}\n" in text
    assert f"[{rule.id}]({rule.id}.md)" in read(DOCS / "rules" / "index.md")


def _words(text: str) -> list[str]:
    return text.split()


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_a_page_keeps_every_word_of_the_docstring(rule) -> None:
    doc = rule.doc.strip().split("\n", 1)[1]
    page = rule_docs.page(rule)
    body = page[page.index("\n## ") :].rsplit("[All rules]", 1)[0]
    body = re.sub(r"^```(text)?$", "", body, flags=re.MULTILINE)
    body = re.sub(r"^(?:## |\\(?=[#>=+]))", "", body, flags=re.MULTILINE)
    unescaped = re.sub(r"\\([\\*\[\]<|_])", r"\1", body)
    # escapes live outside code spans only, so undoing them everywhere is exact for the words
    assert _words(unescaped) == _words(doc)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("plain words", "plain words"),
        ("a *glob* and <tag>", r"a \*glob\* and \<tag>"),
        ("`rm -rf /var/lib/apt/lists/*` stays", "`rm -rf /var/lib/apt/lists/*` stays"),
        ("CGO_ENABLED=0 but _emphasis_", r"CGO_ENABLED=0 but \_emphasis\_"),
        ("a [link](x) | pipe", r"a \[link\](x) \| pipe"),
        ("``a ` b`` kept", "``a ` b`` kept"),
    ],
)
def test_prose_is_escaped_outside_code_spans(text: str, expected: str) -> None:
    assert rule_docs.inline(text) == expected


def test_a_section_body_becomes_paragraphs_items_and_code() -> None:
    body = [
        "One paragraph",
        "over two lines:",
        "",
        "    RUN a",
        "->",
        "    RUN b",
        "",
        "- first item",
        "  continued",
        "- second item",
        "# not a heading",
    ]
    assert rule_docs.blocks(body) == [
        ("para", ["One paragraph", "over two lines:"]),
        ("code", ["RUN a", "->", "RUN b"]),
        ("item", ["first item", "continued"]),
        ("item", ["second item"]),
        ("para", ["# not a heading"]),
    ]
    assert rule_docs.markdown(rule_docs.blocks(body)).splitlines()[-1] == r"\# not a heading"


def test_an_example_shows_dockerfile_text_as_code_and_prose_as_prose() -> None:
    body = ["A stage built FROM another gets its own line.", "", "FROM a  ->  FROM b", "", "USER app   reported"]
    assert rule_docs.example_blocks(body) == [
        ("para", ["A stage built FROM another gets its own line."]),
        ("code", ["FROM a  ->  FROM b", "", "USER app   reported"]),
    ]


# --------------------------------------------------------------------------- README


def test_the_readme_is_short() -> None:
    size = len(read(README))
    assert size < README_LIMIT, f"README.md is {size} characters: keep it under {README_LIMIT}, the rest in docs/"


def _blocks(heading: str) -> list[str]:
    """The fenced blocks of the README's section `## heading`, in order."""
    section = read(README).split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^```\w*\n(.*?)^```$", section, re.MULTILINE | re.DOTALL)


def _contiguous(part: list[str], lines: list[str]) -> bool:
    return any(lines[i : i + len(part)] == part for i in range(len(lines) - len(part) + 1))


def test_the_readme_example_is_real_output() -> None:
    command_block, shown = _blocks("Try it")[:2]
    command = shlex.split(command_block.strip())
    assert Path(command[0]).name == "dockopt", command
    run = dockopt(*command[1:], cwd=ROOT)
    diff, _, summary = shown.partition("...\n")
    assert diff.strip() and summary.strip(), "the example shows the diff, `...`, then the impact summary"
    out, err = run.stdout.decode().splitlines(), run.stderr.decode().splitlines()
    hint = f"README.md's example output is stale: run `{' '.join(command)}` and paste it"
    assert _contiguous(diff.splitlines(), out), hint
    assert _contiguous(summary.splitlines(), err), hint


def test_the_readme_test_command_is_what_ci_runs() -> None:
    readme = _blocks("Test")[0].strip()
    ci = [line for line in read(ROOT / ".ci" / "run").splitlines() if "pytest" in line and not line.startswith("#")]
    assert [line.replace(" -q", "") for line in ci] == [readme]


# --------------------------------------------------------------------------- links


def _pages() -> list[Path]:
    return [README, *sorted(DOCS.rglob("*.md"))]


def _without_code(text: str) -> str:
    text = re.sub(r"^```.*?^```$", "", text, flags=re.MULTILINE | re.DOTALL)
    return re.sub(r"(`+).+?\1", "", text)


def _anchors(path: Path) -> set[str]:
    """The anchors GitHub gives a page's headings: lower case, punctuation dropped, spaces
    as hyphens, a repeated one numbered."""
    seen: Counter[str] = Counter()
    anchors = set()
    for heading in re.findall(r"^#{1,6} (.+)$", re.sub(r"^```.*?^```$", "", read(path), flags=re.M | re.S), re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        anchors.add(slug if not seen[slug] else f"{slug}-{seen[slug]}")
        seen[slug] += 1
    return anchors


def _links() -> list[tuple[Path, str]]:
    found = []
    for page in _pages():
        for target in re.findall(r"(?<!\\)\]\(([^)\s]+)\)", _without_code(read(page))):
            if not re.match(r"[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
                found.append((page, target))
    return found


def test_there_are_links_to_check() -> None:
    assert len({page for page, _ in _links()}) >= 3


@pytest.mark.parametrize("page, target", _links(), ids=[f"{p.relative_to(ROOT)}->{t}" for p, t in _links()])
def test_every_relative_link_points_at_a_file(page: Path, target: str) -> None:
    path, _, anchor = target.partition("#")
    dest = (page.parent / path).resolve() if path else page
    assert dest.exists(), f"{page.relative_to(ROOT)} links to {target}, which does not exist"
    if anchor and dest.suffix == ".md":
        assert anchor in _anchors(dest), f"{page.relative_to(ROOT)} links to {target}: no such heading"
