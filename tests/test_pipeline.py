"""The pipeline: edits, rounds until a fixed point, and the checks that catch broken transforms.

The transforms here are deliberately broken fakes: each one makes a mistake a real
transform could make (losing a comment, a stray continuation, new line endings, a rewrite
that never settles, an exception). The pipeline must refuse every one of them, and the
runner must turn the refusal into an error marked as a dockopt bug with the file untouched.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dockopt.optimizer import runner
from dockopt.optimizer.context import BuildContext
from dockopt.optimizer.edits import Edit, apply, compatible, overlaps, shifted_ranges
from dockopt.optimizer.pipeline import MAX_ROUNDS, TransformCrashed, changed_lines, distinct_changes, optimize, where
from dockopt.optimizer.syntax import ParseError, Trivia, parse
from dockopt.optimizer.transform import REVIEW, SAFE, Transform
from dockopt.optimizer.verify import VerificationError
from dockopt.transforms import ALL, by_id


def fake(id: str, fix, safety: str = SAFE) -> Transform:
    return Transform(id=id, name=f"fake-{id.lower()}", title="a test double", why="testing", safety=safety,
                     fix=fix, doc="")


def first(tree, keyword: str):
    return next(i for i in tree.instructions if i.keyword == keyword)


def replace_instruction(keyword: str, new: str, only_if: str | None = None):
    """A fix that replaces the first `keyword` instruction (its content span) with `new`."""

    def fix(tree, context):
        ins = first(tree, keyword)
        if only_if is None or ins.args_text == only_if:
            start, end = ins.content_span()
            yield Edit(start, end, new, f"{keyword} -> {new}")

    return fix


# --------------------------------------------------------------------------- edits


@pytest.mark.parametrize(
    "a, b, expected",
    [
        ((0, 5), (5, 9), False),  # adjacent ranges
        ((0, 5), (4, 9), True),
        ((2, 3), (0, 9), True),  # nested
        ((3, 3), (0, 9), True),  # insertion strictly inside a range
        ((0, 0), (0, 9), False),  # insertion at a range's start
        ((9, 9), (0, 9), False),  # insertion at a range's end
        ((4, 4), (4, 4), True),  # two insertions at one place
        ((4, 4), (5, 5), False),
    ],
)
def test_overlaps(a, b, expected) -> None:
    ea, eb = Edit(*a, "x", "why"), Edit(*b, "y", "why")
    assert overlaps(ea, eb) is expected
    assert overlaps(eb, ea) is expected


def test_compatible_keeps_the_first_of_overlapping_edits() -> None:
    edits = [Edit(0, 4, "a", "1"), Edit(2, 6, "b", "2"), Edit(6, 8, "c", "3"), Edit(6, 6, "d", "4")]
    kept, deferred = compatible([[e] for e in edits])
    assert kept == [edits[0], edits[2], edits[3]]
    assert deferred == [edits[1]]


def test_compatible_keeps_or_defers_a_group_whole() -> None:
    first = [Edit(10, 14, "a", "other transform")]
    move = [Edit(0, 0, "b", "insert"), Edit(12, 16, "", "delete")]  # one change, two edits
    kept, deferred = compatible([first, move])
    assert kept == first and deferred == move


def test_a_change_of_several_edits_is_never_half_applied() -> None:
    """A transform that moves a command (insert here, delete there) must not be split by
    another transform's edit overlapping only one half."""
    from dockopt.optimizer.transform import SAFE, Transform

    def prefix(tree, context):
        ins = tree.instructions[-1]
        if "set -e" not in ins.text:
            yield Edit(ins.args_offset(), ins.args_offset(), "set -e && ", "prefix b")

    def move(tree, context):
        runs = [i for i in tree.instructions if i.keyword == "RUN"]
        if len(runs) == 2 and runs[0].args_text == "a":
            a, b = runs
            yield Edit(a.start, a.end, "", "move a into b")
            yield Edit(b.args_offset(), b.args_offset(), "a && ", "move a into b")

    t1 = Transform("DO901", "prefix", "t", "w", SAFE, prefix, "doc")
    t2 = Transform("DO902", "move", "t", "w", SAFE, move, "doc")
    out = optimize("FROM x\nRUN a\nRUN b\n", [t1, t2]).output
    assert "a && " in out, out


@st.composite
def text_and_edits(draw):
    text = draw(st.text(alphabet="abc\n", min_size=0, max_size=30))
    edits = []
    for _ in range(draw(st.integers(0, 5))):
        start = draw(st.integers(0, len(text)))
        end = draw(st.integers(start, len(text)))
        edits.append(Edit(start, end, draw(st.text(alphabet="XYZ", max_size=4)), "why"))
    kept, _ = compatible([[e] for e in edits])
    return text, kept


@settings(max_examples=200, deadline=None)
@given(text_and_edits())
def test_apply_keeps_text_outside_the_edits_and_shifted_ranges_find_the_new_text(case) -> None:
    text, edits = case
    out = apply(text, edits)
    ranges = shifted_ranges(edits)
    ordered = sorted(edits, key=lambda e: (e.start, e.end))
    for edit, (start, end) in zip(ordered, ranges):
        assert out[start:end] == edit.text
    assert _outside(out, ranges) == _outside(text, [(e.start, e.end) for e in ordered])


def _outside(text: str, spans: list[tuple[int, int]]) -> list[str]:
    """The pieces of `text` between the sorted `spans`."""
    bounds = [0] + [p for span in spans for p in span] + [len(text)]
    return [text[bounds[i] : bounds[i + 1]] for i in range(0, len(bounds), 2)]


# --------------------------------------------------------------------------- rounds


def test_overlapping_edits_are_deferred_to_the_next_round() -> None:
    rewrite = fake("DO901", replace_instruction("CMD", "CMD b", only_if="a"))

    def lower_keyword(tree, context):
        ins = first(tree, "CMD")
        if ins.keyword_text == "CMD":
            start, end = ins.keyword_span()
            yield Edit(start, end, "cmd", "lower-case keyword")

    lower = fake("DO902", lower_keyword)
    result = optimize("FROM x\nCMD a\n", [rewrite, lower])
    assert result.output == "FROM x\ncmd b\n"
    assert [c.transform.id for c in result.changes] == ["DO901", "DO902"]
    assert [c.line for c in result.changes] == [2, 2]


def test_result_records_each_change() -> None:
    t = fake("DO901", replace_instruction("CMD", "CMD b", only_if="a"))
    result = optimize("FROM x\n# c\nCMD a\n", [t])
    assert result.changed and result.source == "FROM x\n# c\nCMD a\n"
    (change,) = result.changes
    assert (change.transform, change.line, change.safety, change.explanation) == (t, 3, SAFE, "CMD -> CMD b")


def test_a_parsed_tree_is_accepted_as_input() -> None:
    t = fake("DO901", replace_instruction("CMD", "CMD b", only_if="a"))
    assert optimize(parse("FROM x\nCMD a\n"), [t]).output == "FROM x\nCMD b\n"


def test_no_transforms_no_change() -> None:
    result = optimize("FROM x\nCMD a\n", [])
    assert not result.changed and result.changes == []


def test_edits_that_change_nothing_are_ignored() -> None:
    def same(tree, context):
        ins = first(tree, "CMD")
        yield Edit(ins.start, ins.end, ins.text, "no-op")

    result = optimize("FROM x\nCMD a\n", [fake("DO901", same)])
    assert not result.changed and result.changes == []


# --------------------------------------------------------------------------- safety


def test_safe_only_drops_review_transforms() -> None:
    review = fake("DO901", replace_instruction("CMD", "CMD b", only_if="a"), safety=REVIEW)
    assert optimize("FROM x\nCMD a\n", [review], safe_only=True).changes == []
    result = optimize("FROM x\nCMD a\n", [review])
    assert result.output == "FROM x\nCMD b\n"
    assert [c.safety for c in result.changes] == [REVIEW]


def test_safe_only_drops_edits_that_downgrade_themselves() -> None:
    def fix(tree, context):
        for ins in tree.instructions:
            if ins.keyword == "CMD":
                start, end = ins.content_span()
                yield Edit(start, end, "CMD z", "why", REVIEW if ins.args_text == "risky" else None)

    t = fake("DO901", fix)
    result = optimize("FROM x\nCMD risky\nCMD plain\n", [t], safe_only=True)
    assert result.output == "FROM x\nCMD risky\nCMD z\n"
    assert [c.safety for c in optimize("FROM x\nCMD risky\n", [t]).changes] == [REVIEW]


# --------------------------------------------------------------------------- broken transforms


def _delete_comment(tree, context):
    node = next(n for n in tree.nodes if isinstance(n, Trivia) and n.kind == "comment")
    yield Edit(node.start, node.end, "", "tidy up")


def _join_lines_dropping_inner_comment(tree, context):
    ins = first(tree, "RUN")
    start, end = ins.content_span()
    yield Edit(start, end, "RUN " + ins.args_text, "one line")


def _crlf_to_lf(tree, context):
    ins = first(tree, "CMD")
    yield Edit(ins.start, ins.end, ins.text.replace("\r\n", "\n"), "normalise")


def _open_heredoc(tree, context):
    ins = first(tree, "RUN")
    start, end = ins.content_span()
    yield Edit(start, end, "RUN cat <<USER", "inline")


def _empty_round(tree, context):
    cmds = [i for i in tree.instructions if i.keyword == "CMD"]
    yield Edit(cmds[0].start, cmds[0].end, "", "drop the first")
    yield Edit(len(tree.source), len(tree.source), cmds[0].text, "append it again")


BROKEN = {
    "deletes-a-comment": ("FROM a\n# keep me\nCMD x\n", _delete_comment, "a comment was lost"),
    "drops-an-inner-comment": ("FROM a\nRUN make \\\n  # why\n  install\n", _join_lines_dropping_inner_comment,
                               "a comment was lost"),
    "trailing-backslash-swallows-next-line": ("FROM a\nCMD x\nRUN y\n", replace_instruction("CMD", "CMD x \\"),
                                              "changed meaning"),
    "crlf-to-lf": ("FROM a\r\nCMD x\r\nRUN y\r\n", _crlf_to_lf, "line endings"),
    "opens-a-heredoc": ("FROM a\nRUN x\nLABEL a=b\nUSER\n", _open_heredoc, "changed meaning"),
    "breaks-parsing": ("FROM a\nCMD x\n", replace_instruction("CMD", "CMDX x"), "no longer parses"),
    "edits-cancel-out": ("FROM a\nCMD x\n", _empty_round, "change nothing"),
}


@pytest.mark.parametrize("text, fix, message", list(BROKEN.values()), ids=list(BROKEN))
def test_broken_transform_is_caught(text: str, fix, message: str) -> None:
    t = fake("DO999", fix)
    with pytest.raises(VerificationError, match=message) as info:
        optimize(text, [t])
    assert info.value.transforms == ["DO999"]


@pytest.mark.parametrize("text, fix, message", list(BROKEN.values()), ids=list(BROKEN))
def test_broken_transform_is_reported_as_a_bug_and_the_file_left_alone(text: str, fix, message: str, tmp_path) -> None:
    t = fake("DO999", fix)
    outcome = runner.run_text(text, [t], BuildContext(None), False)
    assert outcome.bug and outcome.result is None and not outcome.changed
    assert "DO999" in outcome.error and message in outcome.error
    assert outcome.error.startswith("1:1: ")

    path = tmp_path / "Dockerfile"
    path.write_bytes(text.encode())
    outcome = runner.run_file(str(path), [t], None, False, write=True)
    assert outcome.bug
    assert path.read_bytes() == text.encode()


def test_a_rewrite_that_never_settles_is_caught() -> None:
    def flip(tree, context):
        ins = first(tree, "CMD")
        start, end = ins.content_span()
        yield Edit(start, end, "CMD b" if ins.args_text == "a" else "CMD a", "flip")

    t = fake("DO999", flip)
    with pytest.raises(VerificationError, match=f"did not settle after {MAX_ROUNDS} rounds"):
        optimize("FROM x\nCMD a\n", [t])
    outcome = runner.run_text("FROM x\nCMD a\n", [t], BuildContext(None), False)
    assert outcome.bug and outcome.result is None


def test_a_transform_that_raises_is_named() -> None:
    def crash(tree, context):
        yield from ()
        raise KeyError("boom")

    t = fake("DO999", crash)
    with pytest.raises(TransformCrashed) as info:
        optimize("FROM x\n", [t])
    assert info.value.transform is t
    assert "DO999" in str(info.value) and "KeyError" in str(info.value)
    outcome = runner.run_text("FROM x\n", [t], BuildContext(None), False)
    assert outcome.bug and outcome.result is None and "DO999" in outcome.error


# --------------------------------------------------------------------------- bad input


def test_invalid_input_is_a_parse_error_not_a_bug() -> None:
    with pytest.raises(ParseError):
        optimize("FROM a\nNOPE x\n", ALL)
    outcome = runner.run_text("FROM a\nNOPE x\n", ALL, BuildContext(None), False)
    assert outcome.error == "2:1: unknown instruction: NOPE"
    assert not outcome.bug and outcome.result is None


@pytest.mark.parametrize(
    "text",
    [
        "FROM a\nCMD a \\\n\n",  # a trailing continuation that swallows blank lines at the end
        "FROM a\nMAINTAINER me \\\n\r\n",
        "FROM a\nCMD a \\\n  \n",
    ],
)
def test_rewriting_an_instruction_with_a_trailing_continuation_at_eof(text: str) -> None:
    result = optimize(text, ALL)
    assert result.changed
    assert optimize(result.output, ALL).output == result.output


def test_transforms_that_read_the_base_image_wait_for_its_rewrite() -> None:
    """slim-base swaps python:3.12-slim for alpine in the first round; shell-pipefail and
    non-root-user then choose ash and BusyBox's adduser, not bash and useradd."""
    from dockopt.transforms import ALL

    text = 'FROM python:3.12-slim\nCOPY app.py /app/\nRUN echo built | tee /app/BUILD\nCMD ["python", "/app/app.py"]\n'
    out = optimize(text, ALL).output
    assert out.startswith("FROM python:3.12-alpine\n")
    assert 'SHELL ["/bin/ash", "-o", "pipefail", "-c"]' in out and "bash" not in out
    assert "adduser -S" in out and "useradd" not in out


def test_an_edit_overlapping_the_split_does_not_cost_the_split() -> None:
    """DO102 rewrites a line DO202's edits touch, so the split waits a round; the rewrites
    that read the base image (DO206) must wait with it, not add a user to the old image."""
    from pathlib import Path

    from dockopt.optimizer.context import BuildContext
    from dockopt.transforms import ALL

    folder = Path(__file__).parent / "fixtures" / "stage-split" / "go-install-alpine"
    text = (folder / "Dockerfile").read_text()
    first, rest = text.split("\n", 1)
    out = optimize(f"{first}\nMAINTAINER me@example.org\n{rest}", ALL, BuildContext(folder)).output
    assert "gcr.io/distroless/" in out and "adduser" not in out


def test_a_change_made_in_many_places_is_listed_in_one_short_line() -> None:
    result = optimize("FROM debian:12\n" + "".join(f"RUN echo {i}\n" for i in range(40)), [by_id("DO110")])
    [change] = distinct_changes(result)
    at = where(changed_lines(result)[change.transform.id, change.explanation])
    assert at == "lines 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 and 29 more"
    assert where([7]) == "line 7" and where([3, 9]) == "lines 3, 9"
