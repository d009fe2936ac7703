"""DO311 apk-no-cache: install Alpine packages with `apk add --no-cache`.

What it does
    Adds `--no-cache` right after `add` in every `apk add` that has neither it nor a cache
    of its own:

        RUN apk add curl git  ->  RUN apk add --no-cache curl git

    An `apk update` joined by `&&` to adds that all get the flag goes in the same change,
    since it is what would still leave the index in the layer
    (`apk update && apk add curl` -> `apk add --no-cache curl`); one beside other apk
    commands, and an `rm -rf /var/cache/apk/*`, are left as they are.

Why
    Without the flag apk downloads the package index (about 2 MB per repository) into
    /var/cache/apk and leaves it in the layer, where nothing ever uses it again. With it,
    apk fetches the index into memory and writes nothing (hadolint DL3019).

Example
    `apk add`, `apk --update add`, `/sbin/apk -U add --virtual .deps gcc`; inside `if`
    bodies and loops too, since the flag changes nothing but where the index is kept.

When it is not safe
    It always is: apk fetches the index when it has none, so the same packages are
    installed. Left alone: an `apk add` under a `--mount=type=cache` covering /var/cache/apk
    or /etc/apk/cache (the cache is wanted there), one with `--cache-dir` (a cache set up on
    purpose) or `--no-network` (it downloads nothing and must see the index already there),
    RUNs after a SHELL instruction (another shell runs them), Windows images and files
    using the backtick escape.
"""

from __future__ import annotations


from dockopt.optimizer.edits import Edit
from dockopt.optimizer.messages import joined
from dockopt.optimizer.runs import cache_mounts, covers, removal_ranges, sh_stages, subcommand
from dockopt.optimizer.transform import SAFE, Transform

_CACHES = ("/var/cache/apk", "/etc/apk/cache")
_KEEP = ("--no-cache", "--no-network", "--cache-dir")
# Global options that take the next word as their value.
_VALUED = frozenset(
    "-X --repository -p --root --arch --cache-dir --keys-dir --repositories-file --progress-fd --timeout "
    "--cache-max-age --wait".split()
)


def fix(dockerfile, context):
    from dockopt.optimizer.shell import commands

    for _, runs in sh_stages(dockerfile):
        for ins in runs:
            if any(covers(t, p) for t in cache_mounts(ins) for p in _CACHES):
                continue
            cmds = commands(ins)
            apk = [(c, subcommand(c.words, c.assignments, _VALUED)) for c in cmds if c.name.rsplit("/", 1)[-1] == "apk"]
            verbs = [None if v is None else c.words[v] for c, v in apk]
            adds = [(c, v) for c, v in apk if v is not None and c.words[v] == "add"]
            edits = [
                Edit(c.word_span(v)[1], c.word_span(v)[1], " --no-cache", _WHY)
                for c, v in adds
                if not any(w.split("=", 1)[0] in _KEEP for w in c.words)
            ]
            if not edits:
                continue
            # An `apk update` before adds that all fetch the index themselves only leaves it
            # in the layer: it goes, in the same change.
            updates = [c for (c, _), verb in zip(apk, verbs) if verb == "update" and len(c.words) == c.assignments + 2]
            if updates and set(verbs) == {"update", "add"} and len(edits) == len(adds):
                doomed = {id(c) for c in updates}  # by identity: `c in updates` compares field by field
                removed = removal_ranges(cmds, [id(c) in doomed for c in cmds], dockerfile.source)
                if removed:
                    why = joined("apk add --no-cache, and `apk update` goes: the index stays out of the layer",
                                 "The add fetches the index itself; `apk update` only left a copy in the layer.")
                    edits = [Edit(e.start, e.end, e.text, why) for e in edits]
                    edits += [Edit(a, b, "", why) for a, b in removed]
            yield from edits


_WHY = "apk add --no-cache: do not keep the package index in the layer"
_KEPT = {
    "--no-network": ("`apk add --no-network` downloads no index, so it keeps none",
                     "hadolint DL3019 does not know the option; --no-cache would change nothing the layer keeps."),
    "--cache-dir": ("`apk add --cache-dir` keeps a cache on purpose", ""),
}


def left_alone(dockerfile):
    """(RUN, `apk add` command, why, (first line, detail)) for each `apk add` without
    `--no-cache` that DO311 leaves as it is: why is "mounted" (a cache mount over apk's
    cache), "--no-network" or "--cache-dir"."""
    from dockopt.optimizer.shell import commands

    for _, runs in sh_stages(dockerfile):
        for ins in runs:
            cmds = [c for c in commands(ins) if c.name.rsplit("/", 1)[-1] == "apk"]
            adds = [c for c in cmds if (v := subcommand(c.words, c.assignments, _VALUED)) is not None and c.words[v] == "add"]
            for c in adds:
                options = {w.split("=", 1)[0] for w in c.words}
                if "--no-cache" in options:
                    continue
                if any(covers(t, p) for t in cache_mounts(ins) for p in _CACHES):
                    yield ins, c, "mounted", ("apk's cache is a cache --mount here: it stays out of the image", "")
                elif "--no-network" in options:
                    yield ins, c, "--no-network", _KEPT["--no-network"]
                elif "--cache-dir" in options:
                    yield ins, c, "--cache-dir", _KEPT["--cache-dir"]


TRANSFORM = Transform(
    id="DO311",
    name="apk-no-cache",
    title="Install Alpine packages with `apk add --no-cache`",
    why="apk add without --no-cache leaves the package index in the image.",
    safety=SAFE,
    fix=fix,
    doc=__doc__,
    hadolint=("DL3019",),
)
