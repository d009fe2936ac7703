"""Writing the split: the stage becomes the builder, and a runtime stage follows it.

The builder is the stage's own text with ` AS build` added to its FROM (or its name kept
when it already reads as a builder's: build, compile, dev), less what it promised at run
time; the steps a plan adds (a prune, the venv) are joined to it. The runtime stage comes
after it with a comment line (BuildKit reads the comment above a named stage as its
description, which starts with the name): FROM the plan's image, the ARGs its ENV or
LABEL use, the builder's working folder, the plan's own lines, a `COPY --from=build` for
each file carried over, then what the image promised at run time with its comments (ENV,
WORKDIR, EXPOSE, LABEL, USER, STOPSIGNAL, CMD, ENTRYPOINT), in their order.

The runtime runs as the image's non-root user, given as numeric ids, unless the original
sets a USER (kept, when the runtime has it), or exposes a port below 1024 or declares a
VOLUME (root kept; on distroless, which has no root without `:latest` or `USER root`, the
split gives up). A shell-form command on an image without a shell, or a HEALTHCHECK whose
tools the runtime may lack, gives up too.
"""

from __future__ import annotations

import re

from dockopt.optimizer import runtimes
from dockopt.optimizer.edits import Edit
from dockopt.optimizer.messages import SHORT, joined
from dockopt.optimizer.syntax import Instruction, Trivia
from dockopt.optimizer.transform import REVIEW
from dockopt.transforms._descriptions import describe
from dockopt.transforms.stage_split.stage import Bail, Layout, Plan, arg_pairs, env_pairs, expand

_BUILDER_NAME = re.compile(r"build|compile|dev", re.I)
_VAR = re.compile(r"\$(?:\{(\w+)|(\w+))")


def edit(layout: Layout, plan: Plan) -> Edit:
    """The split as one edit: from the stage's FROM to the end of the file."""
    df = layout.dockerfile
    source, nl = df.source, df.newline
    stage = layout.stage
    runtime = plan.runtime
    user_line, user_note = _user(layout, plan)
    ref = runtime.ref
    _check_runtime_needs(layout, runtime, plan)
    region = [n for n in df.nodes if n.start >= stage.from_.start]
    moved_ids = {id(i) for i in layout.moved}
    last_build = layout.builds[-1]

    builder_name = _fresh_name(df, "build")
    keep_name = stage.name and _BUILDER_NAME.search(stage.name)
    if keep_name:
        builder_name = stage.name
    runtime_name = None if keep_name or not stage.name else stage.name

    builder: list[tuple[str, str]] = []  # (kind, text)
    moved_text: dict[int, str] = {}
    pending: list[Trivia] = []
    removed_since_kept = False
    for node in region:
        if isinstance(node, Trivia) and node.kind == "comment":
            pending.append(node)
            continue
        if isinstance(node, Instruction) and id(node) in moved_ids:
            moved_text[id(node)] = "".join(c.text for c in pending) + _ensure_nl(node.text, nl)
            pending = []
            removed_since_kept = True
            continue
        if plan.builder_before and node is plan.builder_before[0]:
            builder += [("ins", _recase(stage.from_, line) + nl) for line in plan.builder_before[1]]
        for c in pending:
            builder.append(("comment", c.text))
        pending = []
        if isinstance(node, Trivia):
            if node.kind == "blank" and removed_since_kept and builder and builder[-1][0] == "blank":
                continue
            builder.append((node.kind, node.text))
            continue
        removed_since_kept = False
        text = node.text
        if node is stage.from_:
            text = _rename_from(node, builder_name if not keep_name else None, source)
        if node is last_build and plan.builder_steps:
            text = _with_steps(node, plan.builder_steps, df)
        builder.append(("ins", text))
    trailing = "".join(_ensure_nl(c.text, nl) for c in pending)  # after the stage's last instruction: end of the runtime
    while builder and builder[-1][0] == "blank":
        builder.pop()
    builder_text = "".join(t for _, t in builder)
    ends_nl = source.endswith("\n")
    head = builder_text if builder_text.endswith("\n") else builder_text + nl
    if not keep_name:  # the comment above the FROM must not read as a false description of `build`
        head = describe(df, stage.from_, builder_name, "builds what the runtime stage copies") + head

    kw = lambda word: stage.from_.recased(word)
    # BuildKit reads the comment above a named stage as its description, which starts with the name
    comment = f"{runtime_name} {plan.comment[0].lower()}{plan.comment[1:]}" if runtime_name else plan.comment
    lines = [f"# {comment}{nl}", f"{kw('FROM')} {ref}" + (f" {kw('AS')} {runtime_name}" if runtime_name else "") + nl]
    lines += [t + nl for t in _runtime_args(layout)]
    moved_workdir = next((i for i in layout.moved if i.keyword == "WORKDIR"), None)
    if plan.keep_workdir and layout.build_workdir and not (moved_workdir and moved_workdir.arguments[:1] and moved_workdir.arguments[0].startswith("/")):
        lines.append(f"{kw('WORKDIR')} {layout.build_workdir}{nl}")
    # the comments of what the runtime does not repeat (its own CMD) describe what replaces it
    lines += [_comments_only(moved_text.get(id(i), "")) for i in layout.moved if i.keyword in plan.drop]
    lines += [_recase(stage.from_, line).replace("\n", nl) + nl for line in plan.runtime_lines]
    for src, dest in plan.copies:
        lines.append(f"{kw('COPY')} --from={builder_name} {src} {dest}{nl}")
    order = sorted(layout.copied + layout.moved, key=lambda i: i.start)
    user_done = user_line is None
    add_user = ([_recase(stage.from_, runtime.create_user) + nl] if runtime.create_user and user_line else []) \
        + [f"{kw('USER')} {user_line}{nl}"]
    for ins in order:
        if not user_done and ins.keyword in ("HEALTHCHECK", "ENTRYPOINT", "CMD"):
            lines += add_user
            user_done = True
        if ins.keyword in plan.drop:
            continue
        if id(ins) in moved_text:
            lines.append(moved_text[id(ins)])
        else:
            start, end = ins.content_span()
            lines.append(source[start:end] + nl)
    if not user_done:
        lines += add_user
    lines.append(trailing)
    runtime_text = "".join(lines)
    if not ends_nl:
        runtime_text = runtime_text[: -len(nl)]
    return Edit(stage.from_.start, len(source), head + nl + runtime_text, _explanation(layout, plan, user_note), REVIEW)


def _explanation(layout: Layout, plan: Plan, user_note: str) -> str:
    """What changes, on the first line; below it one reason a line: what the runtime
    holds, why its image, the plan's notes, its user, and both images' sizes."""
    ref = plan.runtime.ref
    first = f"split into a build stage and a runtime stage on {ref}"
    if len(first) > SHORT:  # an image name too long for the first line: the sizes name it
        first = "split into a build stage and a runtime stage"
    detail = [f"the runtime holds {plan.what}", plan.runtime.why, *plan.notes, user_note,
              f"builder {runtimes.size_note(layout.base.ref)}", f"runtime {runtimes.size_note(ref)}"]
    return joined(first, "\n".join(detail))


def _with_steps(run: Instruction, steps: list[str], df) -> str:
    """The last build step's text with `steps` (RUN lines) after it: joined to the RUN with
    `&&` when it is a plain shell-form RUN (hadolint DL3059: no consecutive RUNs), else as
    RUN instructions of their own."""
    from dockopt.optimizer.shell import commands

    nl = df.newline
    text = run.text
    if run.keyword == "RUN" and not run.json and not run.heredocs and not run.inner_comments:
        found = commands(run)
        start, end = run.content_span()
        if found and found[-1].end == end and not found[-1].nested:
            cut = end - run.start
            body = " && ".join(s.split(" ", 1)[1] for s in steps)
            if run.start_line == run.end_line:
                return text[:cut] + f" && {body}" + text[cut:]
            last = text[: cut].rsplit("\n", 1)[-1]
            indent = last[: len(last) - len(last.lstrip())]
            return text[:cut] + f" && {df.escape}{nl}{indent}{body}" + text[cut:]
    return _ensure_nl(text, nl) + "".join(_recase(run, s) + nl for s in steps)


def _comments_only(text: str) -> str:
    """The comment lines above an instruction the runtime does not repeat."""
    return "".join(line for line in text.splitlines(keepends=True) if line.lstrip().startswith("#"))


def _ensure_nl(text: str, nl: str) -> str:
    return text if text.endswith("\n") else text + nl


def _recase(from_: Instruction, line: str) -> str:
    word, _, rest = line.partition(" ")
    return f"{from_.recased(word)} {rest}"


def _rename_from(from_: Instruction, name: str | None, source: str) -> str:
    """The FROM text with ` AS name` added, or its stage name replaced by `name`."""
    text = from_.text
    if name is None:
        return text
    end = from_.source_offset(len(from_.line.rstrip())) - from_.start
    words = from_.arguments
    if len(words) >= 3 and words[1].lower() == "as":
        return text[: end - len(words[2])] + name + text[end:]
    return text[:end] + f" {from_.recased('AS')} {name}" + text[end:]


def _fresh_name(df, base: str) -> str:
    taken = {s.name.lower() for s in df.stages if s.name} | {s.image.lower() for s in df.stages}
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}-{n}"
    return name


def _user(layout: Layout, plan: Plan) -> tuple[str | None, str]:
    """The USER to add (None: none) and a note for the explanation."""
    runtime = plan.runtime
    if layout.user is not None:
        name = layout.user.split(":", 1)[0]
        if not (name.isdigit() or name in runtime.users):
            raise Bail(f"user {name} does not exist in the runtime")
        return None, f"keeps USER {layout.user}"
    reason = _needs_root(layout)
    if reason and runtime.default_user:
        # distroless as root needs `:latest` or `USER root`: both flagged (DL3007, DL3002)
        raise Bail(f"it {reason}: root on distroless")
    if reason:
        return None, f"runs as root like the original, since it {reason}"
    if runtime.default_user:
        return None, f"runs as {runtime.default_user} (uid 65532), the image's non-root user"
    if runtime.user:
        how = "a system user added with the image's own tools" if runtime.create_user else "the image's non-root user"
        return runtime.user, f"runs as {runtime.user_name} ({runtime.user}), {how}"
    return None, "runs as root like the original"


def _needs_root(layout: Layout) -> str | None:
    for ins in layout.moved:
        if ins.keyword == "VOLUME":
            return "declares a VOLUME"
        if ins.keyword == "EXPOSE":
            for word in ins.arguments:
                port = expand(word.split("/", 1)[0], layout.env[id(ins)], layout.args)
                low = port.split("-", 1)[0] if port else ""
                if not low.isdigit() or int(low) < 1024:
                    return f"exposes port {word}"
    return None


def _check_runtime_needs(layout: Layout, runtime: runtimes.Runtime, plan: Plan) -> None:
    for ins in layout.moved:
        if ins.keyword in plan.drop:
            continue
        if ins.keyword == "HEALTHCHECK" and not plan.healthcheck_ok:
            args = ins.args_text.split()
            if args[:1] and args[0].upper() == "NONE":
                continue
            raise Bail("HEALTHCHECK: the runtime may lack its command")
        if ins.keyword in ("CMD", "ENTRYPOINT") and not ins.json and not runtime.shell:
            raise Bail("shell-form command on an image without a shell")


def _runtime_args(layout: Layout) -> list[str]:
    """ARG declarations the runtime needs because its ENV/LABEL/... use them."""
    defined: set[str] = {"PATH", "HOME", "HOSTNAME"}
    moved_args = {name for i in layout.moved if i.keyword == "ARG" for name, _ in arg_pairs(i)}
    needed: list[str] = []
    for ins in sorted(layout.copied + layout.moved, key=lambda i: i.start):
        if ins.keyword == "ARG":
            defined.update(name for name, _ in arg_pairs(ins))
            continue
        if ins.keyword in ("CMD", "ENTRYPOINT", "HEALTHCHECK"):
            continue  # the shell expands these when the container runs, from its environment: no ARG reaches it
        for m in _VAR.finditer(ins.args_text):
            name = m.group(1) or m.group(2)
            if name in defined or name in needed:
                continue
            decl = next((i for i in layout.stage.instructions
                         if i.keyword == "ARG" and i.start < ins.start and name in dict(arg_pairs(i))), None)
            if decl is None:
                raise Bail(f"${name}: not declared in the stage, unknown in the runtime")
            if name not in moved_args:
                needed.append(name)
        if ins.keyword == "ENV":
            defined.update(name for name, _ in env_pairs(ins))
    out = []
    for ins in layout.stage.instructions:
        if ins.keyword == "ARG" and any(name in needed for name, _ in arg_pairs(ins)):
            start, end = ins.content_span()
            out.append(layout.dockerfile.source[start:end])
    return out
