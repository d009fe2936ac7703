"""What a rewrite buys, file by file and in total: the summary `dockopt fix --diff` prints.

A diff shows what changes; this says what that is worth, from the Dockerfile alone:

- the changes, counted by transform, each with the transform's one-line reason;
- the base image of the final stage before and after, with its compressed size where the
  knowledge base (images.py, data/images.json) has one, and the source of that figure.
  These are estimates of the base image only: what the Dockerfile adds is not counted;
- the number of stages before and after;
- the steps the build cache keeps across a source-only change (an edit to a file of the
  build context that is not a dependency manifest or lockfile). Docker rebuilds a stage
  from its first step that reads such a file: a COPY or ADD of the source (`COPY . .`),
  a RUN with the context bind-mounted, or a copy from a stage that read the source. The
  steps before it stay cached. This is counted over the stages the final image is built
  from (its own, its parents', and those it copies from).

Nothing here reads the build context or runs a build; every figure is named as an estimate.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Iterable

from dockopt.optimizer import images
from dockopt.optimizer.context import BuildContext
from dockopt.optimizer.syntax import Dockerfile, Instruction, Stage, parse

if TYPE_CHECKING:
    from dockopt.optimizer.pipeline import Result

# Dependency files of ecosystems installs.py does not rewrite installs for (its managers'
# manifests and lockfiles are added below): copying them alone keeps the cache.
_OTHER_MANIFESTS = (
    "requirements*.txt", "constraints*.txt", "pyproject.toml", "poetry.lock", "Pipfile", "Pipfile.lock",
    "uv.lock", "Cargo.toml", "Cargo.lock", "pom.xml", "build.gradle", "build.gradle.kts",
    "settings.gradle", "settings.gradle.kts", "gradle.properties", "*.csproj", "*.fsproj", "*.sln",
    "packages.lock.json", "NuGet.config", "composer.json", "composer.lock", "mix.exs", "mix.lock",
)
_LAYERS = frozenset({"RUN", "COPY", "ADD"})  # the instructions that add a filesystem layer
_MB = {"MB": 1.0, "MiB": 1.048576}  # a size in MB (10^6 bytes)


@dataclass(frozen=True)
class BaseImage:
    """The image the final stage is built on, as written, and its size if a source gives it."""

    ref: str
    size: images.Size | None

    @property
    def mb(self) -> float | None:
        return None if self.size is None else self.size.value * _MB.get(self.size.unit, float("nan"))


@dataclass(frozen=True)
class Step:
    """A layer of the final image's build that stays cached."""

    stage: str | None  # the stage's name, None when unnamed
    index: int  # the stage's index
    line: int
    text: str  # the instruction's logical line


@dataclass(frozen=True)
class Shape:
    """What one version of a Dockerfile is, for the summary."""

    base: BaseImage
    stages: int
    layers: int  # RUN, COPY and ADD in the stages the final image is built from
    cached: tuple[Step, ...]  # those kept across a source-only change
    split: bool  # the final image is built from more than one stage


@dataclass(frozen=True)
class TransformCount:
    id: str
    name: str
    safety: str
    why: str
    count: int


@dataclass(frozen=True)
class Impact:
    changes: tuple[TransformCount, ...]
    before: Shape
    after: Shape

    @property
    def size_saved(self) -> float | None:
        """Estimated MB saved on the final stage's base image; None when a size is unknown
        or the two figures do not measure the same thing."""
        a, b = self.before.base, self.after.base
        if a.ref == b.ref:
            return 0.0
        if a.size is None or b.size is None or a.size.measure != b.size.measure:
            return None
        return a.mb - b.mb


def assess(result: Result, context: BuildContext | None = None) -> Impact:
    """The impact of a pipeline result (its source and output must parse, as they do).

    `context` only tells which files the installs read (`pip install -r` of a file that
    includes others); nothing else is read from it."""
    counts: dict[tuple[str, str], list] = {}
    from dockopt.optimizer.pipeline import distinct_changes

    for change in distinct_changes(result):
        counts.setdefault((change.transform.id, change.safety), []).append(change)
    changes = tuple(
        TransformCount(cs[0].transform.id, cs[0].transform.name, safety, cs[0].transform.why, len(cs))
        for (_, safety), cs in counts.items()
    )
    return Impact(
        tuple(sorted(changes, key=lambda c: c.id)), shape(result.source, context), shape(result.output, context)
    )


def shape(source: str | Dockerfile, context: BuildContext | None = None) -> Shape:
    tree = source if isinstance(source, Dockerfile) else parse(source)
    stages = tree.stages
    final = stages[-1]
    manifests = _manifests(tree, context or BuildContext(None))
    depends: dict[int, bool] = {}
    kept: dict[int, list[Instruction]] = {}
    for stage in stages:
        chain = tree.lineage(stage)
        if len(chain) > 1 and depends[chain[1].index]:
            kept[stage.index], depends[stage.index] = [], True
            continue
        reads = (i for i, ins in enumerate(stage.instructions) if _reads_source(tree, stage, ins, manifests, depends))
        cut = next(reads, None)
        depends[stage.index] = cut is not None
        kept[stage.index] = stage.instructions if cut is None else stage.instructions[:cut]
    built_from = sorted(_built_from(tree, final), key=lambda s: s.index)
    cached = tuple(
        Step(s.name, s.index, ins.start_line, _one_line(ins))
        for s in built_from for ins in kept[s.index] if ins.keyword in _LAYERS
    )
    layers = sum(ins.keyword in _LAYERS for s in built_from for ins in s.instructions)
    root = tree.lineage(final)[-1]
    return Shape(_base(tree, root.image), len(stages), layers, cached, len(built_from) > 1)


def _one_line(ins: Instruction) -> str:
    return " ".join(ins.line.split())


def _base(tree: Dockerfile, ref: str) -> BaseImage:

    args = tree.global_args()
    img = images.describe(images._expand(ref, args) or ref, args)  # `FROM ${BASE}` names a whole ref
    size = img.size
    if size is None and (img.family or "").startswith("distroless/") and ":" in ref:
        size = images.describe(ref.rsplit(":", 1)[0], args).size  # the tags differ in the user only
    if size is None and img.variant == "scratch":
        size = images.Size(0, "MB", False, "compressed", img.sources[0] if img.sources else "")
    return BaseImage(ref, size)


@dataclass(frozen=True)
class _Manifests:
    patterns: tuple[str, ...]  # file names (globs) of manifests and lockfiles
    paths: frozenset[str]  # context paths this Dockerfile's installs read

    def __contains__(self, source: str) -> bool:
        if "$" in source:
            return False
        path = posixpath.normpath(source.lstrip("/"))
        name = posixpath.basename(path)
        return path in self.paths or any(fnmatchcase(name, p) for p in self.patterns)


def _manifests(tree: Dockerfile, context: BuildContext) -> _Manifests:
    """The dependency manifests and lockfiles: those of installs.py's managers, the other
    ecosystems', and the files this Dockerfile's installs read (`pip install -r
    requirements/prod.txt` and the files it includes, when the context is known)."""
    from dockopt.optimizer import installs
    from dockopt.optimizer.shell import commands

    names = set(_OTHER_MANIFESTS)
    for manager in (installs.NPM, installs.YARN, installs.PNPM, installs.GO, installs.BUNDLER):
        names.update(manager.manifests + manager.optional + manager.implied)
    paths: set[str] = set()
    for ins in tree.instructions:
        if ins.keyword == "RUN":
            for command in commands(ins):
                found = installs.find_install(command.words[command.assignments :], context)
                if found is not None:
                    paths.update(posixpath.normpath(f) for f in found.files)
    return _Manifests(tuple(sorted(names)), frozenset(paths))


def _stage_named(tree: Dockerfile, ref: str, before: int) -> Stage | None:
    """The earlier stage `ref` (a name, or an index for --from) points at, or None."""
    earlier = tree.stages[:before]
    if ref.isdigit():
        return earlier[int(ref)] if int(ref) < before else None
    return next((s for s in reversed(earlier) if s.name and s.name.lower() == ref.lower()), None)


def _mounts(ins: Instruction) -> Iterable[dict[str, str]]:
    for flag in ins.flags:
        if flag.startswith("--mount="):
            fields = dict(f.partition("=")[::2] for f in flag[len("--mount="):].split(",") if f)
            yield {k.lower(): v for k, v in fields.items()}


def _reads_source(tree: Dockerfile, stage: Stage, ins: Instruction, manifests, depends) -> bool:
    """Whether a source-only change can change what this instruction produces."""

    def from_stage(ref: str) -> bool:
        if "$" in ref:
            return True  # unknown: assume the worst
        named = _stage_named(tree, ref, stage.index)
        return named is not None and depends[named.index]

    if ins.keyword in ("COPY", "ADD"):
        origin = ins.flag("from")
        if origin is not None:
            return from_stage(origin)
        sources = ins.arguments[:-1]
        return any(
            not s.startswith("<<") and "://" not in s and not s.startswith("git@") and s not in manifests
            for s in sources
        )
    if ins.keyword == "RUN":
        for mount in _mounts(ins):
            if mount.get("type", "bind") != "bind":
                continue
            if "from" not in mount or from_stage(mount["from"]):
                return True
    return False


def _built_from(tree: Dockerfile, final: Stage) -> list[Stage]:
    """The final stage and every stage it is built FROM, copies from or mounts, transitively."""
    seen: dict[int, Stage] = {}
    todo = [final]
    while todo:
        stage = todo.pop()
        if stage.index in seen:
            continue
        seen[stage.index] = stage
        todo.extend(tree.lineage(stage)[1:])
        for ins in stage.instructions:
            refs = [ins.flag("from")] if ins.keyword in ("COPY", "ADD") else []
            refs += [m["from"] for m in _mounts(ins) if "from" in m] if ins.keyword == "RUN" else []
            for ref in filter(None, refs):
                named = _stage_named(tree, ref, stage.index)
                if named is not None:
                    todo.append(named)
    return list(seen.values())


# --------------------------------------------------------------------------- totals


@dataclass
class Totals:
    """The sums over a run: files, files changed, changes by transform, size saved."""

    files: int = 0
    changed: int = 0
    failed: int = 0
    changes: dict[tuple[str, str], TransformCount] = field(default_factory=dict)
    saved_mb: float = 0.0
    sized: int = 0  # changed files whose base image sizes are both known
    sources: list[str] = field(default_factory=list)

    def add(self, impact: Impact | None, error: bool = False) -> None:
        self.files += 1
        self.failed += error
        if impact is None:
            return
        self.changed += 1
        for c in impact.changes:
            old = self.changes.get((c.id, c.safety))
            total = c.count + (old.count if old else 0)
            self.changes[(c.id, c.safety)] = TransformCount(c.id, c.name, c.safety, c.why, total)
        saved = impact.size_saved
        if saved is not None and impact.before.base.ref != impact.after.base.ref:
            self.saved_mb += saved
            self.sized += 1
            for base in (impact.before.base, impact.after.base):
                if base.size.source not in self.sources:
                    self.sources.append(base.size.source)

    def by_transform(self) -> list[TransformCount]:
        return sorted(self.changes.values(), key=lambda c: (c.id, c.safety))


# --------------------------------------------------------------------------- rendering


def size_text(base: BaseImage) -> str:
    size = base.size
    if size is None:
        return "size unknown"
    about = "about " if size.approx else ""
    measure = "" if size.measure == "unspecified" else f" {size.measure}"
    return f"{about}{size.value:g} {size.unit}{measure}"


def mb_text(mb: float) -> str:
    return f"{mb:,.0f} MB" if abs(mb) >= 10 else f"{mb:.1f} MB"


def _steps_text(shape: Shape, width: int = 60) -> str:
    if not shape.cached:
        return "none"
    parts, stage = [], None
    for step in shape.cached:
        text = step.text if len(step.text) <= width else step.text[: width - 3] + "..."
        if shape.split and step.index != stage:
            text = f"[{step.stage or f'stage {step.index}'}] {text}"
        stage = step.index
        parts.append(text)
    return "; ".join(parts)


def to_lines(impact: Impact) -> list[str]:
    """The per-file summary, as lines of plain text."""
    before, after = impact.before, impact.after
    old, new = before.base, after.base
    lines = ["impact (sizes are estimates for the final stage's base image alone):"]
    for c in impact.changes:
        lines.append(f"  {c.id} {c.name} ({c.safety}) x{c.count}: {c.why}")
    if old.ref == new.ref and old.size is not None:
        lines.append(f"  base image:  {old.ref}, {size_text(old)} (unchanged)")
    elif old.ref != new.ref:
        line = f"  base image:  {old.ref}, {size_text(old)} -> {new.ref}, {size_text(new)}"
        saved = impact.size_saved
        if saved is not None:
            line += f" (about {mb_text(abs(saved))} {'smaller' if saved >= 0 else 'larger'})"
        lines.append(line)
        sources = [b.size.source for b in (old, new) if b.size is not None]
        lines.extend(f"               size source: {images.cited(source)}" for source in dict.fromkeys(sources))
    if before.stages != after.stages:
        lines.append(f"  stages:      {before.stages} -> {after.stages}")
    if before.cached or after.cached:
        kept = f"{len(before.cached)} -> {len(after.cached)}"
        lines.append(f"  cached:      {kept} layer(s) kept across a source-only change")
        lines.append(f"               before: {_steps_text(before)}")
        lines.append(f"               after:  {_steps_text(after)}")
    return lines


def _size_dict(base: BaseImage) -> dict:
    size = base.size
    estimate = None if size is None else {
        "value": size.value, "unit": size.unit, "approx": size.approx, "measure": size.measure,
        "source": size.source,
    }
    return {"ref": base.ref, "size": estimate}


def _steps_dict(shape: Shape) -> dict:
    return {
        "layers": shape.layers,
        "cached": [
            {"stage": s.stage if s.stage is not None else s.index, "line": s.line, "instruction": s.text}
            for s in shape.cached
        ],
    }


def to_dict(impact: Impact) -> dict:
    saved = impact.size_saved
    return {
        "base_image": {
            "before": _size_dict(impact.before.base),
            "after": _size_dict(impact.after.base),
            "saved_mb": None if saved is None else round(saved, 1),
        },
        "stages": {"before": impact.before.stages, "after": impact.after.stages},
        "cached_layers": {"before": _steps_dict(impact.before), "after": _steps_dict(impact.after)},
    }


def totals_dict(totals: Totals) -> dict:
    return {
        "files": totals.files,
        "changed": totals.changed,
        "failed": totals.failed,
        "changes": [
            {"transform": c.id, "name": c.name, "safety": c.safety, "count": c.count} for c in totals.by_transform()
        ],
        "size_saved": {
            "mb": round(totals.saved_mb, 1), "approx": True, "files": totals.sized, "sources": totals.sources,
        },
    }


def totals_rows(totals: Totals) -> list[tuple[str, str]]:
    """(label, value) rows of the totals table."""
    rows = [("files", str(totals.files)), ("files changed", str(totals.changed))]
    if totals.failed:
        rows.append(("files failed", str(totals.failed)))
    for c in totals.by_transform():
        rows.append((f"{c.id} {c.name} ({c.safety})", str(c.count)))
    if totals.sized:
        rows.append(("base-image size saved (estimate)", f"about {mb_text(totals.saved_mb)} in {totals.sized} file(s)"))
    else:
        rows.append(("base-image size saved (estimate)", "unknown: no size for these images"))
    return rows


def totals_text(totals: Totals) -> str:
    """The totals table as plain aligned text (for a pipe or a log)."""
    rows = totals_rows(totals)
    width = max(len(label) for label, _ in rows)
    num = max(len(value) for _, value in rows if value.isdigit()) if any(v.isdigit() for _, v in rows) else 0
    lines = ["totals:"]
    for label, value in rows:
        lines.append(f"  {label:<{width}}  {value:>{num}}" if value.isdigit() else f"  {label:<{width}}  {value}")
    lines.extend(f"  size source: {images.cited(s)}" for s in totals.sources)
    return "\n".join(lines) + "\n"
