"""DO520 apt-lists-kept: apt's package lists that DO302 leaves in a layer, and why.

What it does
    Reports a RUN that runs `apt-get update` and no `rm -rf /var/lib/apt/lists/*`, in a
    stage whose files reach an image (the last stage, or one a later FROM builds on), as
    hadolint does (DL3009), where DO302 apt-lists-cleanup does not add the cleanup, and
    says why:
    - the RUN deletes the lists already, in a way hadolint does not look for
      (`apt-get dist-clean`, `rm /var/lib/apt/lists/*_*`);
    - apt's folders are `--mount`s of the RUN, so the lists never reach the image;
    - a later instruction reads the lists without fetching them again (`apt-get install`,
      a script of the project's own that may), which deleting them would break;
    - the script ends in a way no `&& rm ...` can follow (`&`, a trailing comment), or is
      a heredoc.

Why
    The lists are tens of megabytes that nothing at run time reads; deleted in a later RUN
    they would still ship in the earlier layer (hadolint DL3009).

Example
    RUN apt-get update
    RUN apt-get install -y curl && rm -rf /var/lib/apt/lists/*
    reported on line 1: a later instruction (line 2) reads these lists

Why there is no fix
    Where the lists are gone already there is nothing to fix. Where a later RUN installs
    from them, moving its install into the RUN that fetched them (DO303 joins `apt-get
    update` with the install right after it) is the fix; otherwise deleting them would make
    that RUN fail.
"""

from __future__ import annotations

from dockopt.optimizer.findings import Check, Problem
from dockopt.optimizer.messages import joined


def find(dockerfile):
    from dockopt.transforms.apt_lists_cleanup import verdicts

    last = len(dockerfile.stages) - 1
    for stage, ins, reason, _ in verdicts(dockerfile):
        if reason is None or not (stage.index == last or dockerfile.descendants(stage)):
            continue
        if _cleanup_hadolint_sees(ins):
            continue
        kind, first, detail = reason
        start, end = ins.keyword_span()
        # Lists deleted already, or never in the image: nothing to fix, only hadolint's view.
        yield Problem(start, end, joined(first, detail), severity="style" if kind in ("deleted", "mounted") else None)


def _cleanup_hadolint_sees(ins) -> bool:
    """A recursive `rm` of /var/lib/apt/lists in the RUN, which hadolint takes for the cleanup."""
    from dockopt.optimizer.shell import commands

    for c in commands(ins):
        if c.name == "rm" and any(w.startswith("-") and "r" in w.lower() for w in c.words[1:]):
            if any(w.startswith("/var/lib/apt/lists") for w in c.words[1:]):
                return True
    return False


CHECK = Check(
    id="DO520",
    name="apt-lists-kept",
    title="apt package lists left in a layer that cannot be deleted there",
    why="The lists apt-get update downloads are tens of megabytes nothing at run time reads.",
    severity="info",
    find=find,
    doc=__doc__,
    hadolint=("DL3009",),
    fixed_by=("DO302", "DO303"),  # a cleanup appended, or the update moved into the RUN that installs
)
