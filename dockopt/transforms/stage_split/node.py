"""Node in the stage split (DO202): the app with production dependencies, on slim or alpine.

A stage that installs with npm or pnpm and runs `node FILE` (or `npm start` with a known
start script) becomes a builder that prunes its dev dependencies (`npm prune --omit=dev` /
`pnpm prune --prod`, joined to the last RUN) and a runtime that copies the app. With a
build script (`npm run build`, `pnpm build`) and a build context showing every other
copied file to be a build input (sources, tests, configs, docs), the runtime takes only
package.json, the production node_modules and the folder of the file `node` runs;
otherwise the whole app folder.

The runtime is the builder when it is slim or alpine, else the slim variant of the same
release, or alpine when the lockfile (npm v2/v3, pnpm v5/v6) shows no production package
with install scripts or per-platform binaries: node_modules built on glibc with native
addons break on musl (runtimes.node_lockfile_native). A stage with nothing to leave
behind (no full image, no build, no dev dependencies) is left alone, and so is a pnpm
project with lifecycle scripts: `pnpm prune --prod` runs `prepare` again, without the dev
tools it uses.
"""

from __future__ import annotations

import posixpath
import re

from dockopt.optimizer import runtimes
from dockopt.optimizer.syntax import Instruction
from dockopt.transforms.stage_split.stage import (SAFE_COMMANDS, Bail, Layout, Plan, build_commands, check_copies,
                                                  installs_only, join)

_NODE_BUILD_INPUTS = re.compile(
    r"^(src|lib/?src|test|tests|__tests__|spec|e2e|docs|\.github|\.vscode|\.husky|\.git|\.gitignore|"
    r"\.gitattributes|\.dockerignore|\.editorconfig|\.eslintrc.*|\.eslintignore|\.prettierrc.*|"
    r"\.prettierignore|\.nvmrc|\.node-version|\.npmrc|\.babelrc.*|tsconfig.*\.json|[\w.-]+\.config\.[cm]?[jt]s|"
    r"README.*|LICENSE.*|CHANGELOG.*|.*\.md|Dockerfile.*|.*\.Dockerfile|docker-compose.*|compose\.ya?ml|"
    r"package\.json|package-lock\.json|pnpm-lock\.yaml|npm-shrinkwrap\.json|node_modules|\.env\.example|"
    r"nodemon\.json|jest\.config\.json|\.dockopt\.toml)$"
)


_LIFECYCLE = frozenset({"preinstall", "install", "postinstall", "prepare", "preprepare", "postprepare"})


def plan(layout: Layout, context) -> Plan | None:
    base = layout.base
    if base.family != "node" or layout.entry is None:
        return None
    app = layout.build_workdir
    if not app or app == "/" or layout.final_workdir != app:
        return None
    manager, prod_only, builds = None, False, []
    pkg = runtimes.package_json(context)
    scripts = (pkg or {}).get("scripts") or {}
    for ins, words, assigns in build_commands(layout):
        name, rest = words[0], words[1:]
        verb = rest[0] if rest else ""
        if name in ("npm", "pnpm") and verb in ("install", "i", "add", "ci") and ("-g" in rest or "--global" in rest):
            continue  # a global tool, e.g. pnpm itself
        if name == "corepack" and verb in ("enable", "prepare"):
            continue
        if name in ("npm", "pnpm") and verb in ("install", "i", "ci", "clean-install"):
            if any(not a.startswith("-") for a in rest[1:]) or manager not in (None, name):
                raise Bail("named packages or two package managers")
            manager = name
            prod_only = any(a in ("--production", "--omit=dev", "--only=production", "--only=prod", "--prod", "-P") for a in rest)
        elif name in ("npm", "pnpm") and (verb in ("run", "run-script") and len(rest) >= 2 or name == "pnpm" and verb == "build"):
            script = "build" if verb == "build" else rest[1]
            if script != "build" and script not in scripts:
                raise Bail(f"script {script}")
            if pkg is not None and script not in scripts:
                raise Bail("no such script")
            builds.append(script)
        elif name == "npm" and verb in ("prune", "cache") or name == "pnpm" and verb in ("prune", "store"):
            continue
        elif name in ("apk", "apt-get", "apt"):
            installs_only(words, runtimes.BUILD_PACKAGES)
        elif name not in SAFE_COMMANDS - {"git"}:
            raise Bail(f"unknown command {name}")
    if manager is None:
        return None
    script_file = _node_script(layout.entry, scripts, context)
    if script_file is None:
        return None
    target = join(app, script_file)
    if not target.startswith(app.rstrip("/") + "/"):
        return None
    copies = check_copies(layout, [app])
    if not builds and base.variant != "full" and (prod_only or not (pkg or {}).get("devDependencies")):
        return None  # nothing to leave behind: no toolchain, no build, no dev dependencies
    native = runtimes.node_lockfile_native(context)
    musl_ok = (native is False and context.musl_ok) or base.variant == "alpine"
    runtime = runtimes.node_runtime(layout.stage.image, {**layout.dockerfile.global_args(), **layout.args}, musl_ok)
    if runtime is None:
        return None
    steps = []
    if not prod_only:
        major = runtimes.version_tuple(base.version)
        if manager == "npm":
            steps.append("RUN npm prune --omit=dev" if major and major >= (16,) else "RUN npm prune --production")
        elif pkg is None or set(scripts) & _LIFECYCLE:
            return None  # `pnpm prune --prod` runs `prepare` again, without the dev tools it uses
        else:
            steps.append("RUN pnpm prune --prod")
    rel = posixpath.relpath(target, app)
    top = rel.split("/", 1)[0] if "/" in rel else None
    precise = builds and top and _only_build_inputs(copies, context, top)
    if precise:
        pairs = [(f"{app}/package.json", "./"), (f"{app}/node_modules", "./node_modules"), (f"{app}/{top}", f"./{top}")]
        what = f"package.json, the production node_modules and {top}/"
    else:
        pairs = [(app, "./")]
        what = f"{app} with the production dependencies only"
    notes = [] if prod_only else ["dev dependencies are pruned: a package the app loads must be in dependencies"]
    if native is None and base.variant == "full":
        notes.append("slim, not alpine: no lockfile shows the dependencies are free of native code")
    elif native and base.variant == "full":
        notes.append("slim, not alpine: the lockfile has packages with native code built for glibc")
    elif native is False and base.variant == "full" and not context.musl_ok:
        notes.append(f"slim, not alpine: the project prefers {context.base_flavour} images (base-flavour)")
    comment = ("Runtime: the build output and production dependencies, no build toolchain" if builds
               else "Runtime: the app with production dependencies only, no build toolchain")
    return Plan(runtime, pairs, comment, what, builder_steps=steps, notes=notes)


_NODE_LOADS = re.compile(r"^(-r|--require|--import|--loader|--experimental-loader|-e|--eval|-p|--print|"
                         r"--env-file(-if-exists)?|--conditions|-C|--test)(=|$)")


def _node_script(entry: list[str], scripts: dict, context) -> str | None:
    """The file `node` runs, for `node [flags] FILE ...` or `npm start` with a known script."""
    words = entry
    if words[:2] in (["npm", "start"], ["npm", "run"]) and (words[1] == "start" or words[2:3] == ["start"]):
        if len(words) > (2 if words[1] == "start" else 3):
            return None
        start = scripts.get("start") if context.known else None
        if not isinstance(start, str) or re.search(r"[;&|<>$`]", start):
            return None
        words = start.split()
    if not words or words[0] != "node":
        return None
    at = next((i for i, w in enumerate(words[1:], 1) if not w.startswith("-")), None)
    if at is None or any(_NODE_LOADS.match(w) for w in words[1:at]):
        return None  # preloaded modules, eval'd code or env files: more than one file runs
    files = words[at:]
    if "$" in files[0]:
        return None
    if any("/" in w for w in files[1:]):
        return None
    return files[0]


def _only_build_inputs(copies: list[Instruction], context, output: str) -> bool:
    """Whether everything the stage copies, but the build output, is a build input only."""
    if not context.known:
        return False
    ignored = _dockerignore(context)
    names = set()
    for ins in copies:
        for src in ins.arguments[:-1]:
            src = src.lstrip("./") if src not in (".", "./") else "."
            if src == ".":
                names.update(n for n in (context.glob("*") + context.glob(".*")) if n not in ignored)
            else:
                names.add(src.split("/", 1)[0])
    names.discard(output)
    return all(_NODE_BUILD_INPUTS.match(n) for n in names)


def _dockerignore(context) -> set[str]:
    text = context.read_text(".dockerignore") or ""
    return {ln.strip().strip("/") for ln in text.splitlines() if ln.strip() and not ln.startswith(("#", "!"))}
