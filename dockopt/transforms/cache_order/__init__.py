"""DO201 cache-order: install dependencies from their manifests before copying the source.

What it does
    Where a stage copies the whole build context and then installs dependencies,
    it first copies only the dependency manifests and lockfile, runs the install, and then
    copies the rest:

        COPY . .                          COPY package.json package-lock.json ./
        RUN npm ci && npm run build  ->   RUN npm ci
                                          COPY . .
                                          RUN npm run build

    Tool installs that read nothing from the context (`npm install -g pnpm`, `pip install
    --upgrade pip`, `corepack enable`) move along with the install.

    Builds that download their own dependencies (`mvn package`, `./gradlew build`,
    `composer install`, `dotnet publish`) stay as they are; before the `COPY . .` go the
    manifests and the tool's deps-only step, with the build's own options:

        COPY . .                          COPY pom.xml ./
        RUN mvn -B package          ->    RUN mvn -B dependency:go-offline
                                          COPY . .
                                          RUN mvn -B package

Why
    Docker reuses a layer only while everything before it is unchanged. With `COPY . .`
    first, any edit to any source file invalidates the install layer and every build
    downloads and installs all dependencies again. With the manifests first, a source-only
    change reuses the install layer: builds take seconds instead of minutes.

Example
    npm, yarn, pnpm (package.json and lockfile), pip (`pip install -r` and the files those
    requirements include), Poetry (`poetry install --no-root`: pyproject.toml, poetry.lock and
    the readme it names), uv (`uv sync --no-install-project`: pyproject.toml, uv.lock),
    Pipenv (`pipenv install`: Pipfile, Pipfile.lock), Go (`go mod download`: go.mod, go.sum),
    Bundler (`bundle install`: Gemfile, Gemfile.lock), .NET (`dotnet restore App.csproj`:
    the project file, NuGet.config, global.json, Directory.Build.props/targets,
    Directory.Packages.props, packages.lock.json).
    Steps that read none of the copied files move above the COPY (cache_order/
    context_free.py: `COPY . .` then `RUN pip install Flask` becomes the other way round).
    Deps-only steps added before a build: Maven `dependency:go-offline` (pom.xml, .mvn/,
    mvnw, a `-s` settings file), Gradle `dependencies --no-daemon` (build and settings
    scripts, gradle.properties, gradle/, gradlew), Composer `install --no-scripts
    --no-autoloader` (composer.json, composer.lock), .NET `dotnet restore` (as above), Go
    `go mod download` before a `go build` or `go install` (go.mod, go.sum where it exists; a
    workspace's go.work, go.work.sum and each used module's go.mod and go.sum; `CGO_ENABLED`,
    `GOOS`, `GOARCH` before the command are fine: they choose the target, not the modules).
    Cargo gets none: `cargo fetch` and `cargo build` both fail on a manifest whose targets
    (src/main.rs, src/lib.rs) are not there yet, and the known workaround, building once
    against a stub main.rs, leaves stub artifacts whose timestamps can make cargo skip the
    real build: too fragile to write without a person checking it.

When it is not safe
    The install must read nothing but its manifests. With the build context at hand this is
    checked: the manifests must exist; npm projects with workspaces, install-time lifecycle
    scripts (`preinstall`, `install`, `postinstall`, `prepare`) or local `file:` dependencies,
    pnpm workspaces, Yarn Berry, Go workspaces, gemspec-based Gemfiles, requirements files
    with editable or local paths, and Python projects with path dependencies, uv workspaces or
    poetry `packages` are left alone; `poetry install` without `--no-root` and `uv sync`
    without `--no-install-project` install the project itself and need its source. Then the change is `safe`. Without the
    context (`dockopt fix -`), the manifests are the ones the commands imply and the change is
    marked `review`. Only a `COPY . <workdir>` directly followed by the install is rewritten
    (LABEL or EXPOSE may stand between), so the install runs in the same folder, as the same
    user, with the same environment as before.

    Added deps-only steps. Left alone: Maven multi-module projects (`<modules>`: every module's
    pom would be needed), `<systemPath>` dependencies, a parent pom by relative path, `-f`,
    `-pl`, `--offline`; Gradle multi-project builds (`include` in settings), buildSrc,
    composite builds, build scripts that read files while configuring (`file(...)`, `apply
    from`, `providers`, git), and any Gradle build without its context (Groovy or Kotlin
    scripts cannot be told apart); Composer path or artifact repositories, the merge plugin,
    root scripts on package or pre-install events (`--no-scripts` would skip them for good);
    Go with vendored modules (a vendor/ folder or `-mod=vendor`: nothing to download), `-modfile`,
    `go install pkg@version`, a go.work with local `replace`s or modules outside the context;
    .NET solutions, project references, imported build files, `Exists(...)` conditions,
    several project files, `--no-restore`; builds that keep their downloads in a cache mount;
    a vendor/, obj/ or bin/ folder the context sends (the later COPY would merge it into what
    the deps step made); stages that already run the tool before the COPY. Safety: Composer
    is `safe` with the context (the second install finds every package in vendor/, then runs
    the scripts and dumps the autoloader exactly as the single install did) unless a plugin
    is enabled (plugins then run in the first install, without the source: `review`). Maven,
    Gradle and .NET are `review`: `dependency:go-offline` also downloads the dependency
    plugin and every declared plugin's dependencies into ~/.m2, `gradle dependencies` fills
    ~/.gradle with more than the build needs, and a `dotnet restore` without the build's
    configuration or properties may resolve a graph the build then resolves again, so the
    image holds more cached packages than before. The build command keeps its own implicit
    restore or download, so nothing is missed when the deps step fetched less.
"""

from __future__ import annotations

import posixpath
import re

from dockopt.optimizer.edits import Edit
from dockopt.optimizer.messages import joined, short_list
from dockopt.optimizer.installs import Install, Manager, find_build, find_install, installs_tools_only
from dockopt.optimizer.syntax import Instruction, Trivia
from dockopt.optimizer.transform import REVIEW, SAFE, Transform
from dockopt.transforms.cache_order.context_free import hoist

_PASSIVE = frozenset({"LABEL", "EXPOSE", "STOPSIGNAL", "MAINTAINER"})
_WHOLE_CONTEXT = (["."], ["./"])


def fix(dockerfile, context):
    for stage in dockerfile.stages:
        instructions = stage.instructions
        workdirs = _workdirs(instructions)
        for index, copy in enumerate(instructions):
            if not _copies_whole_context(copy):
                continue
            workdir = workdirs[index]
            dest = _manifest_dest(copy.arguments[-1], workdir)
            run = next((instructions[j] for j in range(index + 1, len(instructions))
                        if instructions[j].keyword not in _PASSIVE), None)
            if dest is None or run is None or run.keyword != "RUN" or run.json or run.heredocs:
                continue
            edits = _split(dockerfile, copy, run, dest, context) or _prefetch(dockerfile, stage, index, run, dest, context)
            if edits:
                yield from edits
                break
    yield from hoist(dockerfile, context)  # steps that read no copied file go before it


def _copies_whole_context(ins: Instruction) -> bool:
    if ins.keyword != "COPY" or ins.heredocs or len(ins.arguments) != 2 or ins.json:
        return False
    if any(f.split("=", 1)[0] not in ("--chown", "--chmod", "--link") for f in ins.flags):
        return False  # --from, --exclude, --parents: not a plain copy of the context
    return ins.arguments[:-1] in _WHOLE_CONTEXT


def _workdirs(instructions) -> list[str | None]:
    """For each instruction, the absolute working directory before it, when the stage sets
    it: worked out in one pass over the stage, not again for each `COPY . .` in it."""
    found, path, known = [], None, True
    for ins in instructions:
        found.append(path if known else None)
        if known and ins.keyword == "WORKDIR" and ins.arguments:
            target = ins.arguments[0]
            if "$" in target:
                known = False  # a variable: unknown from here on
            else:
                path = posixpath.normpath(posixpath.join(path or "/", target)) if path or target.startswith("/") else None
    return found


def _manifest_dest(dest: str, workdir: str | None) -> str | None:
    """Where the manifests go so the install finds them: the install's own folder."""
    if dest in (".", "./"):
        return "./"
    if "$" not in dest and workdir and posixpath.normpath(dest) == workdir:
        return workdir.rstrip("/") + "/"
    return None


def _split(dockerfile, copy: Instruction, run: Instruction, dest: str, context) -> list[Edit]:
    from dockopt.optimizer.shell import commands

    if run.inner_comments:
        return []  # comment lines inside the RUN would have to move with its parts
    cmds = commands(run)
    prefix, installs = [], []
    for cmd in cmds:
        if cmd.nested or cmd.assignments or (prefix and cmd.op != "&&"):
            break
        install = _find_install(cmd.words, context)
        if install:
            installs.append(install)
        elif not installs_tools_only(cmd.words) and not _sets_up_tool(cmd.words) and not (
            installs and _cleans_cache(cmd.words)
        ):
            break
        prefix.append(cmd)
    while prefix and not _find_install(prefix[-1].words, context) and not _cleans_cache(prefix[-1].words):
        prefix.pop()
    if not installs or not prefix:
        return []
    rest = cmds[len(prefix)] if len(cmds) > len(prefix) else None
    if rest is not None and rest.op != "&&":
        return []
    files = list(dict.fromkeys(f for i in installs for f in i.files))
    nl = dockerfile.newline
    source = dockerfile.source
    flags = source[copy.keyword_span()[1] : copy.args_offset()]
    copies = [
        f"{copy.keyword_text}{flags}{' '.join(group)} {posixpath.join(dest, folder) if folder else dest}{'/' if folder else ''}{nl}"
        for folder, group in _by_folder(files)
    ]
    run_flags = source[run.keyword_span()[1] : run.args_offset()]
    install_text = f"{run.keyword_text}{run_flags}{source[prefix[0].start : prefix[-1].end]}{nl}"
    comments = "" if rest else _attached_comments(dockerfile, run)
    at = _block_start(dockerfile, copy)
    why = joined(f"install dependencies from {short_list(files, 35)} before copying the source",
                 f"a source-only change then reuses the install layer (manifests: {', '.join(files)})")
    safety = SAFE if all(i.confident for i in installs) else REVIEW
    edits = [Edit(at, at, comments + "".join(copies) + install_text, why, safety)]
    if rest is not None:
        edits.append(Edit(prefix[0].start, rest.start, "", why, safety))
    else:
        start = run.start - len(comments)
        edits.append(Edit(start, run.end, "", why, safety))
    return edits


_CACHE_CLEANUPS = (("npm", "cache", "clean"), ("yarn", "cache", "clean"), ("yarnpkg", "cache", "clean"),
                   ("pnpm", "store", "prune"), ("pip", "cache", "purge"), ("pip3", "cache", "purge"),
                   ("uv", "cache", "clean"), ("poetry", "cache", "clear"))


def _cleans_cache(words: list[str]) -> bool:
    """A package manager's own cache cleanup (`npm cache clean --force`): it belongs to the
    install before it and moves with it (left behind, it would run after the source COPY)."""
    return bool(words) and tuple([words[0].rsplit("/", 1)[-1], *words[1:3]]) in _CACHE_CLEANUPS


def _prefetch(dockerfile, stage, index: int, run: Instruction, dest: str, context) -> list[Edit]:
    """Before a build that downloads its own dependencies, copy the manifests and run the
    tool's deps-only step; the build itself stays as it is."""
    from dockopt.optimizer.shell import commands

    if any(f.startswith("--mount=") and "type=cache" in f for f in run.flags):
        return []  # the build already keeps its downloads in a cache mount
    chmods, found = [], None
    for cmd in commands(run):
        if cmd.nested or (cmd.op not in (None, "&&")):
            return []
        words = cmd.words[cmd.assignments:]
        if cmd.assignments and not (words[:1] == ["go"] and _go_target_only(cmd.words[: cmd.assignments])):
            return []
        if words[:2] == ["chmod", "+x"] and len(words) == 3 and words[2].lstrip("./") in ("mvnw", "gradlew"):
            chmods.append(cmd)
            continue
        found = find_build(words, context)
        break
    if found is None or any(c.words[2].lstrip("./") not in found.files for c in chmods):
        return []
    if not all(_PLAIN_WORD.fullmatch(w) for w in found.command):
        return []  # a quoted word: keep to what can be written back exactly
    if _ran_before(stage, index, found.command[0]):
        return []  # the stage already has a dependency step: leave its layout alone
    source = dockerfile.source
    nl = dockerfile.newline
    copy = stage.instructions[index]
    flags = source[copy.keyword_span()[1] : copy.args_offset()]
    files = [f for f in found.files if not f.endswith("/")]
    copies = [
        f"{copy.keyword_text}{flags}{' '.join(group)} {posixpath.join(dest, folder) if folder else dest}{'/' if folder else ''}{nl}"
        for folder, group in _by_folder(files)
    ]
    copies += [
        f"{copy.keyword_text}{flags}{folder} {folder if dest == './' else dest + folder}{nl}"
        for folder in found.files if folder.endswith("/")
    ]
    run_flags = source[run.keyword_span()[1] : run.args_offset()]
    steps = [source[c.start : c.end] for c in chmods] + [" ".join(found.command)]
    install_text = f"{run.keyword_text}{run_flags}{' && '.join(steps)}{nl}"
    at = _block_start(dockerfile, copy)
    why = joined(f"fetch the {found.tool} dependencies before copying the source",
                 f"a source-only change then reuses the download layer (manifests: {', '.join(found.files)})")
    if not context.known:
        why += " (files implied by the build command; no build context to check)"
    return [Edit(at, at, "".join(copies) + install_text, why, SAFE if found.safe else REVIEW)]


# Variables that choose what `go build` compiles for, not which modules it downloads.
_GO_TARGET_ENV = frozenset({"CGO_ENABLED", "GOOS", "GOARCH", "GOARM", "GOAMD64", "GOARM64", "GO386"})


def _go_target_only(assignments: list[str]) -> bool:
    return all(a.split("=", 1)[0] in _GO_TARGET_ENV for a in assignments)


def _ran_before(stage, index: int, program: str) -> bool:
    """Whether a RUN before the COPY already runs the build tool (a deps step of its own)."""
    from dockopt.optimizer.shell import commands

    name = program.rsplit("/", 1)[-1]
    return any(
        c.name.rsplit("/", 1)[-1] == name
        for ins in stage.instructions[:index] if ins.keyword == "RUN" and not ins.json
        for c in commands(ins)
    )


_PLAIN_WORD = re.compile(r"[\w@%+=:,./-]+")


# Python project managers that install from a lockfile without the project itself (`poetry
# install --no-root`, `uv sync --no-install-project`) or into the system (`pipenv install
# --system`): the install reads the manifests only. Path dependencies and workspaces read more.
POETRY = Manager("poetry", ("pyproject.toml",), ("poetry.lock", "poetry.toml"), ("pyproject.toml", "poetry.lock"), ())
UV = Manager("uv", ("pyproject.toml",), ("uv.lock", ".python-version"), ("pyproject.toml", "uv.lock"), ())
PIPENV = Manager("pipenv", ("Pipfile",), ("Pipfile.lock",), ("Pipfile", "Pipfile.lock"), ())
_LOCAL_SOURCE = re.compile(r"""^\s*\[tool\.uv\.workspace\]|\bpath\s*=\s*["']|\beditable\s*=\s*true|^\s*packages\s*=""", re.M)


def _find_install(words: list[str], context) -> Install | None:
    """An install from the manifests, including the Python managers above."""
    manager = _python_manager(words)
    if manager is None:
        return find_install(words, context)
    if not context.known:
        return Install(manager, manager.implied, confident=False)
    manifest = manager.manifests[0]
    text = context.read_text(manifest)
    if text is None or _LOCAL_SOURCE.search(text):
        return None
    files = list(manager.manifests) + [f for f in manager.optional if context.exists(f)]
    readme = re.search(r"""^\s*readme\s*=\s*["']([^"']+)["']""", text, re.M)
    if readme and manager is not PIPENV:
        if not context.exists(readme.group(1)):
            return None
        files.append(readme.group(1))
    return Install(manager, tuple(files), confident=True)


_POETRY_VALUE_FLAGS = frozenset({"--only", "--with", "--without", "-E", "--extras", "--directory", "-C"})


def _sets_up_tool(words: list[str]) -> bool:
    """`poetry config ...`: configures the installer, reads nothing from the context."""
    return bool(words) and words[0].rsplit("/", 1)[-1] == "poetry" and words[1:2] == ["config"]


def _python_manager(words: list[str]) -> Manager | None:
    if not words:
        return None
    name, args = words[0].rsplit("/", 1)[-1], words[1:]
    flags, rest = [], args[1:]
    while rest:
        word = rest.pop(0)
        if not word.startswith("-"):
            return None  # a named package: not an install from the manifests
        flags.append(word)
        if name == "poetry" and word in _POETRY_VALUE_FLAGS and rest:
            rest.pop(0)  # --only main, --with dev, -E extra
    if name == "poetry" and args[:1] == ["install"] and "--no-root" in flags and "--directory" not in flags \
            and "-C" not in flags:
        return POETRY
    if name == "uv" and args[:1] == ["sync"] and "--no-install-project" in flags and "--no-install-workspace" not in flags:
        return UV
    if name == "pipenv" and args[:1] == ["install"] and not any(f in ("-e", "--editable", "--dev", "-d") for f in flags):
        return PIPENV
    return None


def _by_folder(files: list[str]) -> list[tuple[str, list[str]]]:
    groups: dict[str, list[str]] = {}
    for f in files:
        folder, _ = posixpath.split(f.lstrip("./") if f.startswith("./") else f)
        groups.setdefault(folder, []).append(f)
    return list(groups.items())


def _attached_comments(dockerfile, ins: Instruction) -> str:
    """The comment lines directly above an instruction (no blank line between)."""
    nodes = dockerfile.nodes
    i = dockerfile.position(ins)
    text = ""
    while i > 0 and isinstance(nodes[i - 1], Trivia) and nodes[i - 1].kind == "comment":
        i -= 1
        text = nodes[i].text + text
    return text


def _block_start(dockerfile, ins: Instruction) -> int:
    """Where the instruction's own comment block starts, so inserted lines go above it."""
    return ins.start - len(_attached_comments(dockerfile, ins))


TRANSFORM = Transform(
    id="DO201",
    name="cache-order",
    title="Install dependencies from their manifests before copying the source",
    why="With the source copied first, every code change reinstalls all dependencies.",
    safety=SAFE,
    fix=fix,
    doc=__doc__,
)
