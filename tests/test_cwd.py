"""The leading-cd reader behind DO108: which scripts start with a cd a WORKDIR can take over."""

from __future__ import annotations

import pytest

from dockopt.optimizer.cwd import LeadingCd, leading_cd
from dockopt.optimizer.syntax import parse


def _run(script: str):
    return parse(f"FROM debian:bookworm\nRUN {script}\n").instructions[1]


@pytest.mark.parametrize(
    "script, deleted",
    [
        ("cd /app && make", "cd /app && "),
        ("cd  /app  &&  make | tee log && make install", "cd  /app  &&  "),
        ("set -ex && cd /usr/src && ./configure", "cd /usr/src && "),
        ("set -eux; cd /usr/src; ./configure; make", "cd /usr/src; "),
        ("set -o errexit; cd src; make || true", "cd src; "),
        ("cd /x && if [ -f a ]; then make; fi && { echo ok; }", "cd /x && "),
        ("cd /x && ! grep -q foo bar", "cd /x && "),
    ],
)
def test_leading_cd(script: str, deleted: str) -> None:
    ins = _run(script)
    found = leading_cd(ins)
    assert isinstance(found, LeadingCd), found
    assert ins.text[found.start - ins.start : found.end - ins.start] == deleted


@pytest.mark.parametrize(
    "script, reason",
    [
        ("make", "no cd"),
        ("make && cd /x && make", "cd inside the script"),
        ("(cd /x && make)", "cd inside the script"),
        ("set -- a b; cd /x && make", "cd inside the script"),
        ("cd $HOME && make", "cd with options, variables or ~"),
        ("cd ~/src && make", "cd with options, variables or ~"),
        ("cd -P /x && make", "cd with options, variables or ~"),
        ("cd /x", "cd alone"),
        ("cd /x || exit 1; make", "cd's failure does not stop the RUN"),
        ("cd /x && make || true", "cd's failure does not stop the RUN"),
        ("cd /x && make; make install", "cd's failure does not stop the RUN"),
        ("cd /x; make", "cd's failure does not stop the RUN"),
        ("set -e; set +e; cd /x; make", "cd's failure does not stop the RUN"),
        ("cd /x && make &", "cd's failure does not stop the RUN"),
        ("cd /x | cat", "cd's failure does not stop the RUN"),
        ("! cd /x && make", "cd's failure does not stop the RUN"),
        ("cd /x && make && cd - && ls", "uses the previous directory (cd -, $OLDPWD)"),
        ("cd /x && echo $OLDPWD", "uses the previous directory (cd -, $OLDPWD)"),
        ("cd /x && echo 'unterminated", "not sh"),
    ],
)
def test_no_leading_cd(script: str, reason: str) -> None:
    assert leading_cd(_run(script)) == reason


def test_comment_inside_is_left_alone() -> None:
    ins = parse("FROM debian\nRUN cd /x && \\\n# why\n    make\n").instructions[1]
    assert leading_cd(ins) == "comment inside"
