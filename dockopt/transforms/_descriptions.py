"""Stage descriptions: where a transform may put a named stage without lying about it.

BuildKit reads the comment line right above a named FROM (or an ARG) as its description
(InvalidDefinitionDescription): the last comment line since the previous instruction,
blank lines between them or not, unless a comment line holding only `#` comes after it.
The description must start with the stage's name (`# build compiles the binary`), compared
with the name in lower case, as BuildKit stores it. A stage dockopt names or declares below
someone's comment (a licence header, the next stage's description) would take that comment
as its own; these helpers find the comment a stage would get and a place where it gets
none, or a description line that is true.
"""

from __future__ import annotations

from dockopt.optimizer.syntax import Dockerfile, Instruction, Trivia


def description(dockerfile: Dockerfile, offset: int) -> str | None:
    """The comment BuildKit would read as the description of an instruction starting at
    `offset` (a node boundary), or None."""
    for node in reversed(dockerfile.nodes):
        if node.start >= offset:
            continue
        if isinstance(node, Instruction) or node.kind in ("directive", "bom"):
            return None
        if node.kind == "comment":
            text = node.text.strip().lstrip("#").strip()
            return text or None
    return None


def fits(comment: str | None, name: str) -> bool:
    """Whether `comment` may stand above the stage `name`: none, or one that starts with it."""
    return comment is None or comment.split(" ")[0] == name.lower()


def declare_at(dockerfile: Dockerfile, user: Instruction, name: str, declaration: str, what: str) -> tuple[int, str]:
    """Where to insert `declaration` (a `FROM image AS name` line, no line ending), a stage
    the stage starting at `user` (a FROM) uses, and the text to insert there: above the
    comment block describing `user` where the new stage gets no description, or a true one;
    else right after the previous instruction (the comments below it belong to the next
    stage, however far above it they stand); else, with only a file header above (a
    licence), under a description line of its own, `# name what`."""
    nl = dockerfile.newline
    at = dockerfile.described_start(user)
    if fits(description(dockerfile, at), name):
        return at, f"{declaration}{nl}{nl}"
    previous = [n for n in dockerfile.nodes if isinstance(n, Instruction) and n.end <= at]
    if previous:
        return previous[-1].end, f"{nl}{declaration}{nl}"
    return at, f"# {name} {what}{nl}{declaration}{nl}{nl}"


def describe(dockerfile: Dockerfile, from_: Instruction, name: str, what: str) -> str:
    """The description line to insert above `from_` once its stage is named `name`, so that
    the comment above it does not read as a false description: `# name what`, or "" when
    it needs none."""
    if fits(description(dockerfile, from_.start), name):
        return ""
    return f"# {name} {what}{dockerfile.newline}"
