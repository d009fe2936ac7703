"""DO105 duplicate-cmd: keep only the CMD and ENTRYPOINT that take effect.

What it does
    In a stage with several CMD (or several ENTRYPOINT) instructions, removes all but the
    last one; comments stay where they are.

Why
    Only the last CMD and the last ENTRYPOINT of a stage take effect. The earlier ones
    mislead every reader about what the container runs (hadolint DL4003, DL4004,
    BuildKit MultipleInstructionsDisallowed).

Example
    CMD ["npm", "run", "dev"]
    CMD ["node", "server.js"]     ->   CMD ["node", "server.js"]

When it is not safe
    Always safe: the image's configuration is the same. An `ONBUILD CMD` is a trigger for
    child images and is not counted.
"""

from __future__ import annotations

from dockopt.optimizer.edits import Edit
from dockopt.optimizer.transform import SAFE, Transform


def fix(dockerfile, context):
    for stage in dockerfile.stages:
        for keyword in ("CMD", "ENTRYPOINT"):
            found = [i for i in stage.instructions if i.keyword == keyword]
            for ins in found[:-1]:
                if ins.inner_comments:
                    continue
                yield Edit(ins.start, ins.end, "", f"only the last {keyword} of a stage takes effect (line {found[-1].start_line})")


TRANSFORM = Transform(
    id="DO105",
    name="duplicate-cmd",
    title="Remove CMD and ENTRYPOINT instructions that a later one overrides",
    why="Only the last CMD and ENTRYPOINT of a stage take effect; earlier ones mislead.",
    safety=SAFE,
    fix=fix,
    doc=__doc__,
    hadolint=("DL4003", "DL4004"),
    buildkit=("MultipleInstructionsDisallowed",),
)
