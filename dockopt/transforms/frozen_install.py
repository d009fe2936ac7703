"""DO317 frozen-install: install Node dependencies exactly as the lockfile says.

What it does
    Where the build context has a lockfile and the image holds it when the install runs,
    the install stops resolving versions anew:

        RUN npm install          ->  RUN npm ci                          (package-lock.json)
        RUN yarn install         ->  RUN yarn install --frozen-lockfile  (yarn.lock, Yarn 1)
        RUN pnpm install         ->  RUN pnpm install --frozen-lockfile  (pnpm-lock.yaml)

Why
    `npm install` and a plain `yarn`/`pnpm install` may update the lockfile and install
    newer versions than the ones tested, so two builds of one commit can differ. The frozen
    install installs exactly what the lockfile records and fails when it is out of date
    with package.json (npm's and Docker's guidance for reproducible builds).

Example
    COPY package.json package-lock.json ./
    RUN npm install --omit=dev  ->  RUN npm ci --omit=dev

When it is not safe
    It is a `review` change: a build whose lockfile no longer matches package.json now
    fails instead of quietly resolving, which is the point but needs a person to fix the
    lockfile. Left alone: no build context, no lockfile in it, a lockfile the image does
    not hold at that point (only package.json copied, or the .dockerignore leaves it out),
    installs naming packages, global installs, `--no-package-lock`, Yarn 2+ (which has
    `--immutable` and its own rules), a RUN after `cd` into another folder, and RUNs that
    no POSIX shell runs.
"""

from __future__ import annotations

import posixpath

from dockopt.optimizer.edits import Edit
from dockopt.optimizer.runs import sh_stages
from dockopt.optimizer.transform import REVIEW, Transform

# tool -> (lockfile, install verbs, the frozen spelling: a verb to use or a flag to add)
_TOOLS = {
    "npm": (("package-lock.json", "npm-shrinkwrap.json"), ("install", "i"), ("verb", "ci")),
    "yarn": (("yarn.lock",), ("install", None), ("flag", "--frozen-lockfile")),
    "pnpm": (("pnpm-lock.yaml",), ("install", "i"), ("flag", "--frozen-lockfile")),
}
_ALREADY = frozenset({"--frozen-lockfile", "--immutable", "--pure-lockfile", "--no-package-lock",
                      "--package-lock=false", "--lockfile-only", "--prefer-frozen-lockfile"})


def fix(dockerfile, context):
    from dockopt.optimizer.shell import commands
    from dockopt.optimizer.installs import yarn_berry

    if not context.known:
        return
    berry = None  # whether the file or context shows Yarn 2+: read once, not per yarn command
    for stage, runs in sh_stages(dockerfile):
        for ins in runs:
            first_cd = min((c.start for c in commands(ins) if c.name == "cd"), default=None)
            for cmd in commands(ins):
                tool = cmd.name.rsplit("/", 1)[-1]
                if tool not in _TOOLS or cmd.context or (first_cd is not None and first_cd < cmd.start):
                    continue
                locks, verbs, (kind, frozen) = _TOOLS[tool]
                words = cmd.words[cmd.assignments :]
                verb = words[1] if len(words) > 1 and not words[1].startswith("-") else None
                if verb not in verbs or any(not w.startswith("-") for w in words[2 if verb else 1 :]):
                    continue  # another subcommand, or named packages
                if any(w in _ALREADY or w.split("=", 1)[0] in _ALREADY for w in words) or "-g" in words:
                    continue
                if tool == "yarn" and berry is None:
                    berry = yarn_berry(dockerfile.source, context)
                if tool == "yarn" and berry:
                    continue
                lock = next((f for f in locks if context.exists(f)), None)
                if lock is None or not _held(dockerfile, stage, ins, lock, context):
                    continue
                why = f"{tool} installs exactly what {lock} records, and fails when it is out of date"
                if kind == "verb":
                    start, end = cmd.word_span(cmd.assignments + 1)
                    yield Edit(start, end, frozen, why)
                else:
                    at = cmd.word_span(cmd.assignments + (1 if verb else 0))[1]
                    yield Edit(at, at, " " + frozen, why)


def _held(dockerfile, stage, run, lock: str, context) -> bool:
    """Whether a COPY or ADD of the stage (or one it is built from) before the RUN brings
    the lockfile from the context (`.`, the file's name or a glob matching it, no
    .dockerignore rule leaving it out) into the folder the install runs in."""
    from fnmatch import fnmatchcase

    from dockopt.optimizer.dockerignore import ignored, read_rules

    rules = context.read_text(".dockerignore")
    try:
        if rules is not None and ignored(read_rules(rules), lock):
            return False
    except ValueError:
        return False
    cwd, found = "/", False  # the folder instructions run in: WORKDIR after WORKDIR
    for s in reversed(dockerfile.lineage(stage)):
        for ins in s.instructions:
            if ins is run:
                return found and cwd == found
            if ins.keyword == "WORKDIR":
                cwd = None if cwd is None or "$" in ins.args_text else posixpath.normpath(posixpath.join(cwd, ins.args_text.strip()))
            elif ins.keyword in ("COPY", "ADD") and ins.flag("from") is None and not ins.heredocs:
                sources = [a.removeprefix("./").rstrip("/") for a in ins.arguments[:-1]]
                if any(src in (".", "") or fnmatchcase(lock, src) for src in sources) and cwd is not None:
                    dest = ins.arguments[-1]
                    folder = posixpath.normpath(posixpath.join(cwd, dest))
                    # the lockfile lands in the folder the install runs in
                    found = folder if dest.endswith("/") or dest in (".", "./") or len(sources) > 1 or sources == ["."] else None
    return False


TRANSFORM = Transform(
    id="DO317",
    name="frozen-install",
    title="Install Node dependencies from the lockfile: npm ci, --frozen-lockfile",
    why="A plain install may resolve newer versions than the lockfile records, so builds of one commit differ.",
    safety=REVIEW,
    fix=fix,
    doc=__doc__,
)
