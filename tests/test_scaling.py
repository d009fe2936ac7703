"""dockopt takes time in proportion to its input: no step reads the whole file again for
each RUN, each edit or each Dockerfile of a run (issue 13).

Nothing here is timed (performance is measured by bench/bench.py). Each fast structure is
checked against the plain definition it replaces, on generated inputs, and the scale tests
run inputs that took minutes when a step was quadratic: they prove the fix by finishing,
and by counting the work done for n and 4n inputs.
"""

from __future__ import annotations

import glob as globmodule
import os
from pathlib import Path

import pytest
from conftest import corpus_files
from hypothesis import given, settings
from hypothesis import strategies as st

from dockopt.optimizer import dockerignore, runs, shell
from dockopt.optimizer.context import BuildContext
from dockopt.optimizer.edits import Edit, apply, compatible, overlaps
from dockopt.optimizer.pipeline import Round, _back, optimize
from dockopt.optimizer.pragmas import Pragmas
from dockopt.optimizer.shell import Command, ShellSyntaxError, _Parser, commands
from dockopt.optimizer.shell_plain import plain_found
from dockopt.optimizer.syntax import Dockerfile, parse
from dockopt.optimizer.verify import _toucher
from dockopt.transforms import ALL

# --------------------------------------------------------------------------- edits


def _compatible_pairwise(groups):
    """compatible() as it was: every edit against every kept edit."""
    kept, deferred = [], []
    for group in groups:
        clash = any(overlaps(e, k) for e in group for k in kept) or any(
            overlaps(a, b) for i, a in enumerate(group) for b in group[i + 1 :]
        )
        (deferred if clash else kept).extend(group)
    return kept, deferred


_edit = st.builds(
    lambda start, size, text: Edit(start, start + size, text, "why"),
    st.integers(0, 30), st.integers(0, 4), st.sampled_from(["", "x", "yz"]),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(_edit, min_size=1, max_size=3), max_size=12))
def test_compatible_keeps_and_defers_what_the_pairwise_check_does(groups) -> None:
    assert compatible(groups) == _compatible_pairwise(groups)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab\n", max_size=30), st.lists(_edit, max_size=6))
def test_apply_gives_what_applying_from_the_end_gave(text, edits) -> None:
    edits = [e for e in edits if e.end <= len(text)]
    expected = text
    for edit in sorted(edits, key=lambda e: (e.start, e.end), reverse=True):
        expected = expected[: edit.start] + edit.text + expected[edit.end :]
    assert apply(text, edits) == expected


def test_compatible_takes_one_edit_per_run_of_20000_without_pairs(monkeypatch) -> None:
    calls = []
    monkeypatch.setattr("dockopt.optimizer.edits.overlaps", lambda a, b: calls.append(1) or overlaps(a, b))
    one_group = [Edit(10 * i, 10 * i + 5, "x", "merge") for i in range(20_000)]
    kept, deferred = compatible([one_group, [Edit(7, 7, "y", "insert")]])
    assert kept == one_group + [Edit(7, 7, "y", "insert")] and deferred == []
    kept, deferred = compatible([[Edit(2, 4, "z", "first")], one_group])
    assert kept == [Edit(2, 4, "z", "first")] and deferred == one_group
    assert calls == []  # no pair of edits is compared


def _back_walking(offset, rounds):
    """pipeline._back as it was: each round's edits walked in order."""
    for edits in reversed(rounds):
        shift, mapped = 0, None
        for edit in edits:
            start = edit.start + shift
            if offset < start:
                break
            if offset < start + len(edit.text):
                mapped = edit.start
                break
            shift += len(edit.text) - (edit.end - edit.start)
        offset = mapped if mapped is not None else offset - shift
    return offset


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(_edit, max_size=6), min_size=1, max_size=3), st.integers(0, 60))
def test_changes_map_back_to_the_original_as_walking_the_edits_did(rounds, offset) -> None:
    kept = [compatible([[e] for e in edits])[0] for edits in rounds]
    expected = _back_walking(offset, [sorted(k, key=lambda e: (e.start, e.end)) for k in kept])
    assert _back(offset, [Round(k) for k in kept]) == expected


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 40), st.integers(0, 5)), max_size=8), st.integers(0, 40), st.integers(1, 6))
def test_a_node_is_touched_as_the_pairwise_check_says(ranges, start, size) -> None:
    ranges = [(s, s + n) for s, n in ranges]
    end = start + size
    naive = any(s < end and start < e if s != e else start < s < end for s, e in ranges)
    assert _toucher(ranges)(start, end) == naive


# --------------------------------------------------------------------------- the tree


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="ab\n\r", max_size=40), st.integers(0, 45))
def test_line_col_is_the_count_of_line_endings_before(text, offset) -> None:
    tree = Dockerfile("FROM x\n" + text, [], {}, "\\", "\n")  # line_col reads the source only
    offset = min(offset, len(tree.source))
    source = tree.source
    expected = (source.count("\n", 0, offset) + 1, offset - (source.rfind("\n", 0, offset) + 1) + 1)
    assert tree.line_col(offset) == expected


def test_source_offsets_of_a_run_of_many_lines_map_each_word() -> None:
    lines = "".join(f" \\\n    && echo w{i}" for i in range(2_000))
    tree = parse(f"FROM x\nRUN true{lines}\n")
    ins = tree.instructions[-1]
    assert ins.line.count("&& echo") == 2_000
    words = [c.words[1] for c in commands(ins)[1:]]
    assert words == [f"w{i}" for i in range(2_000)]
    for cmd in commands(ins)[1:]:
        start, end = cmd.word_span(1)
        assert tree.source[start:end] == cmd.words[1]
    to_source = ins.offset_map(0)
    for index in (0, 5, len(ins.line) // 2, len(ins.line) - 1):
        assert to_source(index) == ins.source_offset(index)


def test_a_run_of_20000_continuation_lines_parses_whole() -> None:
    body = "".join(f" \\\n  && echo {i}" for i in range(20_000))
    tree = parse(f"FROM x\nRUN true{body}\n")
    (ins,) = [i for i in tree.instructions if i.keyword == "RUN"]
    assert ins.end_line == 20_002 and ins.line.endswith("&& echo 19999")


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["a", "b", "c", "x", "debian"]), st.sampled_from(["", "a", "b", "c"]),
                          st.sampled_from(["", "a", "b", "0", "1", "c"])), min_size=1, max_size=7))
def test_lineage_descendants_and_copies_are_what_scanning_every_stage_finds(spec) -> None:
    lines = []
    for image, name, source in spec:
        lines.append(f"FROM {image}" + (f" AS {name}" if name else ""))
        if source:
            lines.append(f"COPY --from={source} /x /y")
        lines.append(f"RUN --mount=from={source or 'z'},target=/m true")
    tree = parse("\n".join(lines) + "\n")
    stages = tree.stages
    for stage in stages:
        chain = [stage]
        while True:  # the definition: the first earlier stage named like the image
            parent = next((s for s in stages[: chain[-1].index] if s.name and s.name.lower() == chain[-1].image.lower()), None)
            if parent is None or parent in chain:
                break
            chain.append(parent)
        assert tree.lineage(stage) == chain
        later = stages[stage.index + 1 :]
        assert tree.descendants(stage) == [s for s in later if stage in tree.lineage(s)[1:]]
        names = {str(stage.index)} | ({stage.name.lower()} if stage.name else set())
        expected = []
        for ins in (i for s in later for i in s.instructions):
            sources = [ins.flag("from")] + [f.partition("=")[2] for flag in ins.flags if flag.startswith("--mount=")
                                            for f in flag.split(",") if f.strip().lower().startswith("from=")]
            if any(src and src.lower() in names for src in sources):
                expected.append(ins)
        assert runs.copies_from(tree, stage) == expected


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(["# hadolint ignore=DL3008", "# dockopt: ignore=DO101", "RUN a", "RUN b \\\n  c", "",
                                 "# note"]), max_size=10), st.integers(0, 200), st.integers(0, 30))
def test_pragmas_silence_the_edits_the_scan_of_every_pragma_did(lines, start, size) -> None:
    tree = parse("FROM x\n" + "\n".join(lines) + "\n")
    pragmas = Pragmas(tree)
    keys = {"DO101", "DL3008"}
    start = min(start, len(tree.source))
    end = min(start + size, len(tree.source))
    naive = bool(keys & pragmas.everywhere) or any(
        keys & ids and (ins.start <= start < ins.end or ins.start < end <= ins.end) for ins, ids in pragmas.local
    )
    assert pragmas.ignores(keys, start, end) == naive


# --------------------------------------------------------------------------- shell


def test_failures_tolerated_compares_no_two_commands() -> None:
    class Cmd:
        compared = 0

        def __init__(self, op, context=()):
            self.op, self.context = op, context

        def __eq__(self, other):
            Cmd.compared += 1
            return self is other

    cmds = [Cmd(None)] + [Cmd("&&") for _ in range(20_000)] + [Cmd("||")]
    assert all(runs.failures_tolerated(cmds)[:-1])
    assert Cmd.compared == 0


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([None, "&&", "||", ";", "\n", "&", "|"]),
                          st.sampled_from([(), ("if",), ("substitution",)])), max_size=10))
def test_failures_tolerated_as_the_scan_of_later_commands_said(spec) -> None:
    class Cmd:
        def __init__(self, op, context):
            self.op, self.context = op, context

    cmds = [Cmd(op, context) for op, context in spec]

    def scanned(i):
        for other in cmds[i + 1 :]:
            if other.context != cmds[i].context:
                continue
            if other.op in (";", "\n", "&"):
                return False
            if other.op == "||":
                return True
        return False

    assert runs.failures_tolerated(cmds) == [scanned(i) for i in range(len(cmds))]


def _parser_found(text: str):
    parser = _Parser(text)
    try:
        parser.script()
    except ShellSyntaxError:
        return None
    return sorted(parser.found)


_SHELL_PIECES = ["a", "echo", "x=1", "-y", "2", " ", "\t", "\n", "\r", "&&", "||", "|", ";", "&", ";;", "|&", ">",
                 ">>", "2>&1", "<", "&>", ">|", "{a}>", "<<<", "if", "then", "fi", "for", "in", "do", "done", "{",
                 "}", "!", "[[", "case", "esac", "$x", "'q'", "#c", "(", ")"]


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.sampled_from(_SHELL_PIECES), max_size=14))
def test_plain_scripts_give_the_parsers_commands(pieces) -> None:
    text = "".join(pieces)
    fast = plain_found(text)
    if fast is not None:
        assert _parser_found(text) == sorted(fast)


def test_plain_scripts_of_the_corpus_give_the_parsers_commands() -> None:
    files = corpus_files()
    if not files:
        pytest.skip("no corpus")
    checked = 0
    for ins in _corpus_shell_instructions(files):
        fast = plain_found(ins.shell)
        if fast is not None:
            assert _parser_found(ins.shell) == sorted(fast), ins.shell
            checked += 1
    assert checked > 100


def _corpus_shell_instructions(files):
    """Every instruction with shell text in the corpus files dockopt reads."""
    for path in files:
        try:
            tree = parse(Path(path).read_text(encoding="utf-8"))
        except (UnicodeDecodeError, ValueError):
            continue
        yield from (ins for ins in tree.instructions if ins.shell)


def _made_by_the_dataclass(found, text, to_source):
    """The commands of the records, each made by Command's own constructor (as `_built`
    once made them)."""
    where = to_source or (lambda i: i)
    made = []
    for start, end, spans, op, context in sorted(found):
        words = [shell._literal(text[s:e]) for s, e in spans]
        assignments = 0
        while assignments < len(words) and shell._ASSIGNMENT.match(text, *spans[assignments]):
            assignments += 1
        made.append(Command(words=words, raw=text[start:end], start=where(start), end=where(end - 1) + 1, op=op,
                            context=context, spans=tuple((where(s), where(e - 1) + 1) for s, e in spans),
                            assignments=assignments))
    return made


def _same_commands(text: str, to_source=None) -> None:
    try:
        fast = shell.parse_commands(text, to_source)
    except ShellSyntaxError:
        return
    found = plain_found(text) or _parser_found(text)
    made = _made_by_the_dataclass(found, text, to_source)
    assert fast == made
    assert [vars(c) for c in fast] == [{**vars(c), "name": c.name} for c in made]  # `name` too, once found


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(_SHELL_PIECES + ["'a b'", '"$x y"', "a\\ b", "X=1", "a[1]=2"]), max_size=14))
def test_commands_are_made_as_their_dataclass_makes_them(pieces) -> None:
    text = "".join(pieces)
    _same_commands(text)
    _same_commands(text, lambda i: 3 * i + 7)


def test_commands_of_the_corpus_are_made_as_their_dataclass_makes_them() -> None:
    files = corpus_files()
    if not files:
        pytest.skip("no corpus")
    for ins in _corpus_shell_instructions(files):
        _same_commands(ins.shell, ins.offset_map(0))


# --------------------------------------------------------------------------- whole files


def test_a_file_of_20000_runs_is_rewritten() -> None:
    text = "FROM ubuntu:22.04\n" + "".join(f"RUN echo line{i} > /tmp/f{i}\n" for i in range(20_000))
    result = optimize(text, ALL)
    assert result.output.count("\nRUN ") == 1  # merged into one RUN (DO110)
    assert result.output.count("&& echo line") == 19_999


def test_a_heredoc_of_100000_lines_is_read_command_by_command() -> None:
    body = "".join(f"echo line{i}\n" for i in range(100_000))
    text = f"# syntax=docker/dockerfile:1\nFROM ubuntu:22.04\nRUN <<EOF\n{body}EOF\n"
    tree = parse(text)
    cmds = commands(tree.instructions[-1])
    assert len(cmds) == 100_000 and cmds[-1].words == ["echo", "line99999"]
    assert text[cmds[-1].start : cmds[-1].end] == "echo line99999"
    assert optimize(tree, ALL).output == text


def _realpaths_for_a_run(tmp_path: Path, folders: int, per_folder: int, monkeypatch) -> int:
    paths = []
    for f in range(folders):
        for i in range(per_folder):
            path = tmp_path / f"d{folders}-{f}" / f"f{i}.Dockerfile"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("FROM alpine\n")
            paths.append(str(path))
    calls = []
    real = os.path.realpath
    monkeypatch.setattr(os.path, "realpath", lambda p, *a, **k: calls.append(p) or real(p, *a, **k))
    proposers = 0
    for path in paths:
        here = os.path.abspath(path)
        proposers += dockerignore._sharers(here, real(os.path.dirname(here)), False, paths) is not None
    monkeypatch.setattr(os.path, "realpath", real)
    assert proposers == folders  # the first Dockerfile of each folder proposes its ignore file
    return len(calls)


def test_the_dockerfiles_sharing_an_ignore_file_are_found_once_per_run(tmp_path, monkeypatch) -> None:
    """Paths are resolved a bounded number of times per Dockerfile, in one folder or in many:
    4 times the Dockerfiles, not 16 times the work (it was every target for every file)."""
    for folders, per_folder in ((1, 50), (10, 5)):
        small = _realpaths_for_a_run(tmp_path, folders, per_folder, monkeypatch)
        large = _realpaths_for_a_run(tmp_path, 4 * folders, per_folder, monkeypatch) if folders > 1 else \
            _realpaths_for_a_run(tmp_path / "big", folders, 4 * per_folder, monkeypatch)
        assert large <= 5 * small, (folders, small, large)


def test_contexts_in_one_folder_list_it_once(tmp_path, monkeypatch) -> None:
    for i in range(30):
        (tmp_path / f"f{i}.Dockerfile").write_text("FROM alpine\n")
    past = os.stat(tmp_path).st_mtime - 60
    os.utime(tmp_path, (past, past))  # settled: older than any timestamp granularity
    listed = []
    real = globmodule.glob
    monkeypatch.setattr(globmodule, "glob", lambda *a, **k: listed.append(a) or real(*a, **k))
    found = [BuildContext(tmp_path).glob("*.Dockerfile") for _ in range(30)]
    assert len(listed) == 1 and all(f == found[0] for f in found) and len(found[0]) == 30
    (tmp_path / "new.Dockerfile").write_text("FROM alpine\n")  # the folder changes: read again
    assert "new.Dockerfile" in BuildContext(tmp_path).glob("*.Dockerfile")
