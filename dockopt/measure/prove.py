"""Prove one rewrite on the engine: build both versions, run both, keep what passes.

For one Dockerfile, `prove` builds the original and the rewrite from scratch (`--no-cache`,
so the two cold builds are timed alike), starts each image as it says and watches it
(`engine.Behaviour`), then makes the source-only change in both copies of the context and
rebuilds, reading which RUN steps came from the cache. It says what was measured and
nothing more.

A rewrite that does not build, or behaves differently, while the original passes is never
the one written. The transforms responsible are found by building without them: first
without every `review` transform (the ones that change the image's contents), then by
halving the candidates, one culprit at a time. What is written is the rewrite by the other
transforms, and the report names each dropped transform with the reason (the build log's
tail, or the two behaviours). When the original itself does not build, that is reported
and the rewrite is applied or not as without `--measure`.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Callable, Sequence

from dockopt.measure.engine import Behaviour, Build, Engine
from dockopt.measure.steps import Step, read_steps
from dockopt.measure.workspace import Workspace, source_file, touch_source
from dockopt.optimizer import runner
from dockopt.optimizer.syntax import Dockerfile, parse

MAX_TRIALS = 8  # rewrites built while looking for the changes to drop


@dataclass
class Side:
    """One version of the Dockerfile as the engine built and ran it."""

    build: Build
    behaviour: Behaviour | None = None
    rebuild: Build | None = None  # after the source-only change
    steps: list[Step] = field(default_factory=list)  # the rebuild's filesystem steps

    @property
    def run_steps(self) -> list[Step]:
        return [s for s in self.steps if s.keyword == "RUN"]


@dataclass
class Dropped:
    transform: str  # "DO202 stage-split"
    reason: str


@dataclass
class Proof:
    path: str
    outcome: runner.Outcome  # what to write: the rewrite minus the dropped transforms
    kept: list  # the transforms that rewrite used
    original: Side | None = None
    rewrite: Side | None = None
    dropped: list[Dropped] = field(default_factory=list)
    source_change: str | None = None  # the file the source-only change edited
    error: str | None = None  # no measurement possible: "line:col: message"

    @property
    def original_builds(self) -> bool:
        return self.original is not None and self.original.build.ok


@dataclass
class Options:
    port: int | None = None  # --smoke-port; else EXPOSE or PORT of the final stage
    path: str = "/"
    say: Callable[[str], None] = lambda message: None


def prove(path: str, context_dir: str | None, transforms: Sequence, safe_only: bool, others: Sequence[str],
          engine: Engine, options: Options) -> Proof:
    outcome = runner.run_file(path, transforms, context_dir, safe_only, False, others)
    proof = Proof(path, outcome, list(transforms))
    if outcome.error or not outcome.changed:
        return proof
    context = context_dir if context_dir is not None else os.path.dirname(os.path.abspath(path))
    space = Workspace(context, path)
    try:
        _measure(proof, space, engine, options, context_dir, safe_only, others)
    finally:
        space.remove()
    return proof


def _measure(proof: Proof, space: Workspace, engine: Engine, options: Options, context_dir, safe_only, others) -> None:
    source = proof.outcome.result.source
    tree = parse(source)
    port = options.port if options.port is not None else smoke_port(tree)
    options.say("building the original")
    before_dir, before_file = space.version("original", source)
    original = Side(engine.build(before_dir, before_file, "original", cache=False))
    proof.original = original
    if not original.build.ok and original.build.pull_error:
        proof.error = f"1:1: cannot measure: the original's base image cannot be pulled: {original.build.pull_error}"
        return
    if original.build.ok:
        options.say("running the original")
        original.behaviour = engine.behaviour(original.build.image, port, options.path)

    def trial(outcome: runner.Outcome, name: str, cache: bool) -> tuple[Side, str, str]:
        options.say(f"building the rewrite ({name})")
        folder, dockerfile = space.version(name, outcome.result.output, _companions(outcome, space))
        side = Side(engine.build(folder, dockerfile, name, cache=cache))
        if side.build.ok and original.behaviour is not None:
            options.say(f"running the rewrite ({name})")
            side.behaviour = engine.behaviour(side.build.image, port, options.path)
        return side, folder, dockerfile

    def failure(side: Side) -> str | None:
        """Why this rewrite may not be written, or None when it passes."""
        if not original.build.ok:
            return None
        if not side.build.ok:
            return "the rewrite does not build:\n" + side.build.tail
        if not side.behaviour.same_as(original.behaviour):
            return f"the rewrite behaves differently: {original.behaviour.text()} -> {side.behaviour.text()}"
        return None

    rewrite, folder, dockerfile = trial(proof.outcome, "rewrite", cache=False)
    why = failure(rewrite)
    if why is not None:
        rewrite, folder, dockerfile = _drop_culprits(proof, why, trial, failure, context_dir, safe_only, others)
    proof.rewrite = rewrite
    if not (original.build.ok and rewrite is not None and rewrite.build.ok):
        return
    # The source-only change, made alike in both copies, then both rebuilt with the cache.
    proof.source_change = source_file(before_dir)
    if proof.source_change is None:
        return
    for side, (where, file), name, text in (
        (original, (before_dir, before_file), "original", source),
        (rewrite, (folder, dockerfile), "rewrite", proof.outcome.result.output),
    ):
        if not os.path.exists(os.path.join(where, proof.source_change)):
            continue
        options.say(f"rebuilding the {name} after a source-only change")
        touch_source(where, proof.source_change, engine.run_id)
        side.rebuild = engine.build(where, file, name + "-rebuild", cache=True)
        side.steps = read_steps(side.rebuild.log, parse(text)) if side.rebuild.ok else []


def _drop_culprits(proof: Proof, why: str, trial, failure, context_dir, safe_only, others):
    """Find the transforms whose changes break the rewrite; leave `proof` with the rewrite
    by the others, and return that rewrite's (side, folder, dockerfile)."""
    changes = proof.outcome.result.changes
    made = list(dict.fromkeys(c.transform for c in changes))
    review = [t for t in made if any(c.transform is t and c.safety == "review" for c in changes)]
    dropped: list = []
    reasons: dict = {}
    results: dict = {}

    def attempt(without: Sequence) -> tuple[Side | None, str | None]:
        key = frozenset(t.id for t in without)
        if key not in results:
            kept = [t for t in proof.kept if t not in without]
            outcome = runner.run_file(proof.path, kept, context_dir, safe_only, False, others)
            if outcome.error or not outcome.changed:
                results[key] = (None, None, outcome, kept, None, None)
            elif results and len(results) >= MAX_TRIALS:
                results[key] = (None, "not tried: too many builds", outcome, kept, None, None)
            else:
                side, folder, dockerfile = trial(outcome, f"without-{len(results)}", cache=True)
                results[key] = (side, failure(side), outcome, kept, folder, dockerfile)
        return results[key][0], results[key][1]

    results[frozenset()] = (None, why, proof.outcome, proof.kept, None, None)
    candidates = made
    if review and len(review) < len(made):
        _, broken = attempt(review)
        if broken is None:
            candidates = review
    while candidates:
        _, broken = attempt(dropped)
        if broken is None:
            break
        reason = broken
        pool = [t for t in candidates if t not in dropped]
        while len(pool) > 1:
            half = pool[: len(pool) // 2]
            _, broken_without = attempt([*dropped, *half])
            pool = half if broken_without is None else pool[len(pool) // 2:]
        culprit = pool[0]
        dropped.append(culprit)
        reasons[culprit.id] = reason
        candidates = [t for t in candidates if t is not culprit]
    attempt(dropped)
    side, broken, outcome, kept, folder, dockerfile = results[frozenset(t.id for t in dropped)]
    if broken is not None:  # nothing found that passes: write nothing
        outcome = runner.Outcome(proof.path, runner.Result(proof.outcome.result.source, proof.outcome.result.source))
        dropped, kept, side = made, [t for t in proof.kept if t not in made], None
        for t in made:
            reasons.setdefault(t.id, broken)
    proof.outcome, proof.kept = outcome, kept
    proof.dropped = [Dropped(f"{t.id} {t.name}", reasons.get(t.id, why)) for t in dropped]
    if side is None or not outcome.changed:
        return None, None, None
    return side, folder, dockerfile


def _companions(outcome: runner.Outcome, space: Workspace) -> dict[str, str]:
    """The files the rewrite writes beside the Dockerfile (its .dockerignore), by path
    relative to the context."""
    extra = {}
    for companion in outcome.companions:
        if companion.result is None:
            continue
        real = os.path.realpath(companion.path)
        if os.path.commonpath([real, space.context]) == space.context:
            extra[os.path.relpath(real, space.context)] = companion.result.output
    return extra


def smoke_port(tree: Dockerfile) -> int | None:
    """The port a server in the final stage listens on: its first EXPOSE, else ENV PORT."""
    final = tree.stages[-1]
    for ins in final.instructions:
        if ins.keyword == "EXPOSE":
            for word in ins.arguments:
                m = re.fullmatch(r"(\d+)(?:/tcp)?", word)
                if m:
                    return int(m.group(1))
    for ins in final.instructions:
        if ins.keyword == "ENV":
            m = re.search(r"(?:^|\s)PORT[= ]\"?(\d+)", ins.args_text)
            if m:
                return int(m.group(1))
    return None
