"""Our scanner against BuildKit's parser on every real Dockerfile of the corpus.

For each file BuildKit would build, our tree must print back the file byte for byte and
report the same instructions on the same lines, with the same flags, JSON forms and
heredocs. A file docker would refuse (BuildKit's parser rejects it, it has no FROM, or it
uses an instruction docker does not know) must raise ParseError. The tests skip when the
corpus (../shared/corpus) is absent.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dockopt.optimizer.syntax import ParseError, parse

# Corpus files with template syntax BuildKit's parser reads as instructions (`...`, `{{`)
# although docker build refuses them; so must we.
TEMPLATES = (
    "GoogleContainerTools__skaffold__docs-v2__content__en__samples__builders__artifact-dependencies__Dockerfile.app",
    "docker-library__python__Dockerfile-linux.template",
    "docker-library__python__Dockerfile-windows.template",
)
_JSON_KEYWORDS = {"RUN", "CMD", "ENTRYPOINT", "SHELL", "COPY", "ADD", "VOLUME"}


def _read(path: Path) -> str:
    return path.read_bytes().decode("utf-8")


def test_corpus_file_agrees_with_buildkit(corpus_file: Path, buildkit) -> None:
    text = _read(corpus_file)
    try:
        commands = buildkit.parse(text)
    except buildkit.Error:
        commands = None
    if commands is None or not buildkit.buildable(commands):
        with pytest.raises(ParseError):
            parse(text)
        return

    tree = parse(text)
    assert tree.render() == text
    assert [(i.keyword, i.start_line, i.end_line) for i in tree.instructions] == buildkit.layout(commands)
    for ins, command in zip(tree.instructions, commands):
        where = f"line {ins.start_line}"
        assert ins.flags == list(command.flags), where
        if ins.keyword in _JSON_KEYWORDS:
            assert ins.json == command.json, where
        if ins.keyword != "ONBUILD":  # BuildKit attaches those to the inner instruction
            assert [(h.name, h.content) for h in ins.heredocs] == [(h.name, h.content) for h in command.heredocs], where


@pytest.mark.parametrize("name", TEMPLATES)
def test_template_files_are_refused_where_docker_refuses_them(name: str, corpus_dir: Path, buildkit) -> None:
    path = corpus_dir / name
    assert path.is_file(), f"{name} is no longer in the corpus: update TEMPLATES"
    text = _read(path)
    commands = buildkit.parse(text)  # BuildKit's parser accepts the file...
    assert "FROM" in {(c.cmd or "").upper() for c in commands}
    unknown = next(c for c in commands if (c.cmd or "").upper() not in buildkit.known_instructions)
    with pytest.raises(ParseError) as info:  # ...docker build does not, and neither do we.
        parse(text)
    assert info.value.message == f"unknown instruction: {unknown.cmd}"
    assert info.value.line == unknown.start_line
