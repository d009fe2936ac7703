"""Which shell commands install dependencies, and which files they read.

Knowledge, kept as data: for each package manager, the commands that install a project's
dependencies from its manifests alone, the manifests and lockfiles they read, and the
signs that an install would need more than the manifests (workspaces, install scripts,
local paths). The cache-order transform moves such an install before the source is
copied; everything here is what makes that move sound.
"""

from __future__ import annotations

import json
import os
import posixpath
import re
from dataclasses import dataclass
from typing import Callable

from dockopt.optimizer.context import BuildContext


@dataclass(frozen=True)
class Manager:
    name: str
    manifests: tuple[str, ...]  # always read; the install fails without the first one
    optional: tuple[str, ...]  # read when present (lockfiles, registry config)
    implied: tuple[str, ...]  # what to copy when the context is unknown
    blockers: tuple[str, ...]  # files whose presence means the install needs more (workspaces)


NPM = Manager(
    "npm", ("package.json",), ("package-lock.json", "npm-shrinkwrap.json", ".npmrc"), ("package*.json",),
    (),
)
YARN = Manager("yarn", ("package.json",), ("yarn.lock", ".yarnrc"), ("package.json", "yarn.lock"), (".yarnrc.yml",))
PNPM = Manager(
    "pnpm", ("package.json",), ("pnpm-lock.yaml", ".npmrc", ".pnpmfile.cjs"), ("package.json", "pnpm-lock.yaml"),
    ("pnpm-workspace.yaml",),
)
GO = Manager("go", ("go.mod",), ("go.sum",), ("go.mod", "go.sum"), ("go.work",))
BUNDLER = Manager("bundler", ("Gemfile",), ("Gemfile.lock",), ("Gemfile", "Gemfile.lock"), ())
PIP = Manager("pip", (), (), (), ())  # reads exactly the files named with -r / -c
DOTNET = Manager("dotnet", (), (), (), ())  # reads the project file and the shared build files

# npm lifecycle scripts of the root package that run during an install and may read sources.
_INSTALL_SCRIPTS = ("preinstall", "install", "postinstall", "prepare", "preprepare", "postprepare")


@dataclass(frozen=True)
class Install:
    """A dependency install found in a RUN: the manager and the files it needs."""

    manager: Manager
    files: tuple[str, ...]  # context paths to copy before the install
    confident: bool  # the context confirmed the install reads nothing else


def _npm_like(words: list[str], manager: Manager, verbs: tuple[str, ...]) -> Manager | None:
    args = words[1:]
    if manager is YARN and not args:
        return YARN
    if not args or args[0] not in verbs:
        return None
    rest = args[1:]
    if any(not a.startswith("-") for a in rest) or "-g" in rest or "--global" in rest:
        return None  # named packages: not an install from the manifest
    return manager


def _pip(words: list[str]) -> list[str] | None:
    """The requirement files of `pip install -r ...` when nothing else is installed."""
    if len(words) < 3 or words[1] != "install":
        return None
    files, args = [], words[2:]
    while args:
        arg = args.pop(0)
        if arg in ("-r", "--requirement", "-c", "--constraint"):
            if not args:
                return None
            files.append(args.pop(0))
        elif re.match(r"^(-r|-c|--requirement=|--constraint=)", arg):
            files.append(re.sub(r"^(-r|-c|--requirement=|--constraint=)", "", arg))
        elif arg.startswith("-"):
            if arg in ("-e", "--editable", "-t", "--target", "--prefix", "--root", "-f", "--find-links"):
                return None
        else:
            return None  # a package or a path: may need the source
    return files or None


_DETECTORS: tuple[tuple[str, Callable[[list[str]], Manager | None]], ...] = (
    ("npm", lambda w: _npm_like(w, NPM, ("install", "i", "ci", "clean-install"))),
    ("yarn", lambda w: _npm_like(w, YARN, ("install",))),
    ("pnpm", lambda w: _npm_like(w, PNPM, ("install", "i"))),
    ("go", lambda w: GO if w[1:3] == ["mod", "download"] and len(w) == 3 else None),
    ("bundle", lambda w: BUNDLER if w[1:2] == ["install"] and all(a.startswith("-") for a in w[2:]) else None),
)


def find_install(words: list[str], context: BuildContext) -> Install | None:
    """The dependency install `words` (one simple command) performs, or None."""
    if not words:
        return None
    name = words[0].rsplit("/", 1)[-1]
    if name in ("pip", "pip3") or (name.startswith("python") and words[1:3] == ["-m", "pip"]):
        files = _pip(words if name.startswith("pip") else words[2:])
        return _pip_install(files, context) if files else None
    if name == "dotnet" and words[1:2] == ["restore"]:
        return _dotnet_restore(words, context)
    for command, detect in _DETECTORS:
        if name == command:
            manager = detect(words)
            return _install(manager, context) if manager else None
    return None


def _install(manager: Manager, context: BuildContext) -> Install | None:
    if not context.known:
        return Install(manager, manager.implied, confident=False)
    if not all(context.exists(m) for m in manager.manifests):
        return None
    if any(context.exists(b) for b in manager.blockers):
        return None
    if manager.manifests == ("package.json",) and not _package_json_is_self_contained(context):
        return None
    if manager is BUNDLER and re.search(r"^\s*gemspec\b", context.read_text("Gemfile") or "", re.M):
        return None
    files = manager.manifests + tuple(f for f in manager.optional if context.exists(f))
    return Install(manager, files, confident=True)


def _package_json_is_self_contained(context: BuildContext) -> bool:
    """No workspaces, no install-time scripts, no local `file:` dependencies."""
    try:
        pkg = json.loads(context.read_text("package.json") or "")
    except ValueError:
        return False
    if not isinstance(pkg, dict) or pkg.get("workspaces"):
        return False
    scripts = pkg.get("scripts") or {}
    if any(s in scripts for s in _INSTALL_SCRIPTS):
        return False
    for section in ("dependencies", "devDependencies", "optionalDependencies"):
        for spec in (pkg.get(section) or {}).values():
            if isinstance(spec, str) and spec.startswith(("file:", "link:", "workspace:", ".", "/")):
                return False
    return True


def _pip_install(files: list[str], context: BuildContext) -> Install | None:
    if any("$" in f for f in files):
        return None
    if not context.known:
        return Install(PIP, tuple(files), confident=False)
    seen: list[str] = []
    queue = list(files)
    while queue:
        name = queue.pop(0)
        if name in seen:
            continue
        text = context.read_text(name)
        if text is None:
            return None
        seen.append(name)
        folder = name.rsplit("/", 1)[0] + "/" if "/" in name else ""
        for line in text.splitlines():
            line = line.split(" #", 1)[0].strip()
            m = re.match(r"^(-r|-c|--requirement|--constraint)[\s=]+(\S+)", line)
            if m:
                queue.append(folder + m.group(2))
            elif re.match(r"^(-e|--editable)\b", line) or line.startswith((".", "/", "file:")):
                return None  # a local project: needs the source
    return Install(PIP, tuple(seen), confident=True)


_PACKAGE_NAME = re.compile(r"^[A-Za-z0-9@][A-Za-z0-9_.\-\[\],<>=!~^@*]*$")


def installs_tools_only(words: list[str]) -> bool:
    """A command that installs tools by name and reads nothing from the build context:
    `npm install -g pnpm`, `pip install --upgrade pip`, `corepack enable`, `apt-get ...`."""
    if not words:
        return False
    name, args = words[0].rsplit("/", 1)[-1], words[1:]
    if name.startswith("python") and args[:2] == ["-m", "pip"]:
        name, args = "pip", args[2:]
    named = [a for a in args[1:] if not a.startswith("-")]
    by_name = bool(named) and all(_PACKAGE_NAME.match(a) and "/" not in a.split("@", 1)[0] for a in named)
    if name in ("npm", "pnpm") and args[:1] in (["install"], ["i"], ["add"]):
        return ("-g" in args or "--global" in args) and by_name
    if name == "yarn" and args[:2] == ["global", "add"]:
        return True
    if name in ("pip", "pip3") and args[:1] == ["install"]:
        return by_name and not any(a in ("-r", "-c", "-e", "--editable", "--requirement") for a in args)
    if name == "gem" and args[:1] == ["install"]:
        return by_name
    if name == "corepack":
        return args[:1] in (["enable"], ["prepare"])
    return name in ("apt-get", "apk", "yum", "dnf", "microdnf") and bool(args)


# Builds that download their own dependencies. Maven, Gradle, Composer and .NET projects are
# usually built in one step (`mvn package`, `gradle build`, `composer install`, `dotnet
# publish`) that fetches the dependencies and compiles the source together. Each tool has a
# deps-only mode that reads only the manifests; run first, it fills the same caches the
# build then finds warm. Cargo has none that works without the source (`cargo fetch` and
# `cargo build` both need the targets under src/), so it is not listed.


@dataclass(frozen=True)
class Prefetch:
    """The deps-only step to run before a build that downloads its own dependencies."""

    tool: str
    files: tuple[str, ...]  # context paths to copy first; a folder ends with "/"
    command: list[str]  # the deps-only command's words
    safe: bool  # the context confirmed it reads only `files` and the image ends up the same


def find_build(words: list[str], context: BuildContext) -> Prefetch | None:
    """The deps-only step for the build `words` (one simple command) runs, or None."""
    if not words:
        return None
    name = words[0].rsplit("/", 1)[-1]
    if name in ("mvn", "mvnw"):
        return _maven(words, context)
    if name in ("gradle", "gradlew"):
        return _gradle(words, context)
    if name in ("composer", "composer.phar"):
        return _composer(words, context)
    if name == "php" and words[1:2] and words[1].rsplit("/", 1)[-1] == "composer.phar":
        found = _composer(words[1:], context)
        return Prefetch(found.tool, found.files, words[:1] + found.command, found.safe) if found else None
    if name == "dotnet":
        return _dotnet(words, context)
    if name == "go":
        return _go(words, context)
    return None


# Flags of `go build`/`go install` that read more than go.mod/go.sum to resolve modules.
_GO_BLOCKING = ("-mod", "-modfile", "-modcacherw", "-overlay", "-C")


def _go(words: list[str], context: BuildContext) -> Prefetch | None:
    """`go build` / `go install` of the context's module: `go mod download` with go.mod and
    go.sum first (go.work, go.work.sum and each used module's go.mod and go.sum for a
    workspace). Vendored modules (a vendor/ folder, `-mod=vendor`) download nothing."""
    if len(words) < 2 or words[1] not in ("build", "install"):
        return None
    if any("$" in w or "`" in w for w in words) or any(w.split("=", 1)[0] in _GO_BLOCKING for w in words[2:]):
        return None
    if any("@" in w for w in words[2:]):
        return None  # `go install pkg@version` builds outside the module
    command = [words[0], "mod", "download"]
    if not context.known:
        return Prefetch("Go", ("go.mod", "go.sum"), command, safe=False)
    modules = ["."]
    files = []
    if context.exists("go.work"):
        modules = _go_work_uses(context.read_text("go.work") or "")
        if not modules:
            return None
        files += [f for f in ("go.work", "go.work.sum") if context.exists(f)]
    for module in modules:
        at = "" if module == "." else module + "/"
        if not context.exists(f"{at}go.mod") or _present(context, f"{at}vendor"):
            return None
        files += [f"{at}{f}" for f in ("go.mod", "go.sum") if context.exists(f"{at}{f}")]
    return Prefetch("Go", tuple(files), command, safe=True)


def _go_work_uses(text: str) -> list[str] | None:
    """The module folders a go.work `use`s (relative, inside the context), or None when one
    cannot be read plainly (an absolute or parent path, a `replace` of a local folder)."""
    uses: list[str] = []
    block = False
    for raw in text.splitlines():
        line = raw.split("//", 1)[0].strip()
        if block:
            if line == ")":
                block = False
            elif line:
                uses.append(line)
            continue
        if line.startswith("use"):
            rest = line[3:].strip()
            if rest == "(":
                block = True
            elif rest:
                uses.append(rest)
        elif line.startswith("replace") and ("=> ." in line or "=> /" in line):
            return None
    cleaned = []
    for use in uses:
        use = use.strip('"')
        if use.startswith(("/", "..")):
            return None
        cleaned.append(posixpath.normpath(use.removeprefix("./")) if use not in (".", "./") else ".")
    return cleaned


def _options(args: list[str], with_value: frozenset[str]) -> tuple[list[str], list[str]] | None:
    """Split arguments into options (with their values) and positional words."""
    options, positional = [], []
    args = list(args)
    while args:
        word = args.pop(0)
        if "$" in word or "`" in word:
            return None  # a value only the shell knows
        if word.startswith("-"):
            options.append(word)
            if word in with_value:
                if not args:
                    return None
                options.append(args.pop(0))
        else:
            positional.append(word)
    return options, positional


def _mentions(options: list[str], names: frozenset[str]) -> bool:
    return any(o.split("=", 1)[0] in names for o in options)


def _ignored(context: BuildContext, folder: str) -> bool:
    """Whether the context's .dockerignore leaves `folder` out of the build."""
    from dockopt.optimizer.dockerignore import BadPattern, ignored, read_rules

    try:
        return ignored(read_rules(context.read_text(".dockerignore") or ""), folder)
    except BadPattern:
        return False


def _present(context: BuildContext, folder: str) -> bool:
    """A folder the context sends to the build (build output a later COPY would merge)."""
    return context.is_dir(folder) and not _ignored(context, folder)


_MVN_VALUE = frozenset({"-s", "--settings", "-gs", "--global-settings", "-P", "--activate-profiles", "-D",
                        "-T", "--threads", "-t", "--toolchains", "-l", "--log-file", "-f", "--file",
                        "-pl", "--projects", "-rf", "--resume-from"})
_MVN_BLOCKING = frozenset({"-f", "--file", "-pl", "--projects", "-rf", "--resume-from", "-o", "--offline",
                           "-N", "--non-recursive", "-am", "--also-make", "-amd", "--also-make-dependents"})
_MVN_BUILDS = frozenset({"compile", "test-compile", "test", "package", "verify", "install"})
_MVN_PHASES = _MVN_BUILDS | {"clean", "validate", "process-resources"}


def _maven(words: list[str], context: BuildContext) -> Prefetch | None:
    split = _options(words[1:], _MVN_VALUE)
    if split is None:
        return None
    options, goals = split
    if _mentions(options, _MVN_BLOCKING) or not _MVN_BUILDS & set(goals):
        return None
    if any(g not in _MVN_PHASES and (":" not in g or g.startswith("dependency:")) for g in goals):
        return None
    wrapper = words[0].rsplit("/", 1)[-1] == "mvnw"
    settings = [options[i + 1] for i, o in enumerate(options[:-1]) if o in ("-s", "--settings")]
    settings += [o.split("=", 1)[1] for o in options if o.startswith("--settings=")]
    if any(s.startswith("/") or ".." in s.split("/") for s in settings):
        return None  # settings from outside the context: leave the build alone
    files = ["pom.xml", *settings]
    command = [words[0], *options, "dependency:go-offline"]
    if not context.known:
        return Prefetch("maven", tuple(files + ([".mvn/", "mvnw"] if wrapper else [])), command, safe=False)
    pom = context.read_text("pom.xml")
    if pom is None or not all(context.exists(s) for s in settings):
        return None
    # Modules need their own poms; a system path or a parent's relative path reads other files.
    if re.search(r"<modules?\b|<systemPath\b|<relativePath>\s*[^<\s]", pom):
        return None
    if context.is_dir(".mvn"):
        files.append(".mvn/")
    if wrapper:
        if not context.exists("mvnw"):
            return None
        files.append("mvnw")
    return Prefetch("maven", tuple(files), command, safe=False)


_GRADLE_VALUE = frozenset({"-x", "--exclude-task", "-p", "--project-dir", "-b", "--build-file", "-c",
                           "--settings-file", "-I", "--init-script", "-g", "--gradle-user-home",
                           "--include-build", "-D", "-P", "--console", "--warning-mode"})
_GRADLE_BLOCKING = frozenset({"-p", "--project-dir", "-b", "--build-file", "-c", "--settings-file", "-I",
                              "--init-script", "--include-build", "--offline", "-a", "--no-rebuild"})
# Build scripts that read other files while Gradle configures the project, or include more projects.
_GRADLE_READS = re.compile(
    r"""\b(?:include|includeBuild|includeFlat|file|files|fileTree|File|readText|readLines|load|exec)\s*[\s("']"""
    r"""|apply\s*\(?\s*from|\bproviders\.|\bproject\.file|\bgit\b"""
)


def _gradle(words: list[str], context: BuildContext) -> Prefetch | None:
    split = _options(words[1:], _GRADLE_VALUE)
    if split is None or not context.known:
        return None  # unknown context: Groovy or Kotlin scripts, one project or many
    options, tasks = split
    if _mentions(options, _GRADLE_BLOCKING) or not tasks or "dependencies" in tasks:
        return None
    kept = []
    for i, o in enumerate(options):  # drop excluded tasks: `dependencies` has none of them
        if o in ("-x", "--exclude-task") or (i and options[i - 1] in ("-x", "--exclude-task")):
            continue
        kept.append(o)
    if "--no-daemon" not in kept:
        kept.append("--no-daemon")
    wrapper = words[0].rsplit("/", 1)[-1] == "gradlew"
    scripts = [f for f in ("build.gradle", "build.gradle.kts") if context.exists(f)]
    settings = [f for f in ("settings.gradle", "settings.gradle.kts") if context.exists(f)]
    if len(scripts) != 1 or len(settings) > 1 or context.exists("buildSrc"):
        return None
    if any(_GRADLE_READS.search(context.read_text(f) or "include") for f in scripts + settings):
        return None
    files = scripts + settings + [f for f in ("gradle.properties",) if context.exists(f)]
    if context.is_dir("gradle"):
        files.append("gradle/")
    if wrapper:
        if not context.exists("gradlew") or not context.exists("gradle/wrapper/gradle-wrapper.properties"):
            return None
        files.append("gradlew")
    return Prefetch("gradle", tuple(files), [words[0], "dependencies", *kept], safe=False)


_COMPOSER_VALUE = frozenset({"-d", "--working-dir"})
_COMPOSER_AUTOLOAD = frozenset({"-o", "--optimize-autoloader", "-a", "--classmap-authoritative",
                                "--apcu-autoloader", "--apcu-autoloader-prefix"})
# Root-package events that run while packages are installed, or before: `--no-scripts` would
# skip them for good, as the second install has nothing left to install.
_COMPOSER_EARLY_EVENTS = ("pre-install-cmd", "pre-update-cmd", "pre-package-install", "post-package-install",
                          "pre-package-update", "post-package-update", "pre-operations-exec",
                          "pre-pool-create", "pre-dependencies-solving", "post-dependencies-solving")


def _composer(words: list[str], context: BuildContext) -> Prefetch | None:
    split = _options(words[1:], _COMPOSER_VALUE)
    if split is None:
        return None
    options, positional = split
    if positional != ["install"] or _mentions(options, _COMPOSER_VALUE):
        return None
    if "--no-scripts" in options and "--no-autoloader" in options:
        return None  # already deps-only
    kept = [o for o in options if o.split("=", 1)[0] not in _COMPOSER_AUTOLOAD]
    command = [words[0], "install", *kept]
    command += [f for f in ("--no-scripts", "--no-autoloader") if f not in kept]
    if not context.known:
        return Prefetch("composer", ("composer.json", "composer.lock"), command, safe=False)
    try:
        manifest = json.loads(context.read_text("composer.json") or "")
    except ValueError:
        return None
    if not isinstance(manifest, dict) or _present(context, "vendor"):
        return None
    repositories = manifest.get("repositories") or []
    if isinstance(repositories, dict):
        repositories = list(repositories.values())
    if any(not isinstance(r, dict) or r.get("type") in ("path", "artifact") for r in repositories):
        return None  # packages from the source tree
    if any(e in (manifest.get("scripts") or {}) for e in _COMPOSER_EARLY_EVENTS):
        return None
    if "merge-plugin" in (manifest.get("extra") or {}):
        return None  # reads more composer.json files from the source
    plugins = ((manifest.get("config") or {}).get("allow-plugins"))
    enabled = plugins is True or (isinstance(plugins, dict) and any(v is not False for v in plugins.values()))
    files = ("composer.json",) + (("composer.lock",) if context.exists("composer.lock") else ())
    return Prefetch("composer", files, command, safe=not enabled)


_DOTNET_VALUE = frozenset({"-c", "--configuration", "-o", "--output", "-r", "--runtime", "-f", "--framework",
                           "-v", "--verbosity", "-a", "--arch", "--os", "-s", "--source", "--version-suffix",
                           "--property", "-p"})
_DOTNET_RESTORE_FLAGS = frozenset({"-r", "--runtime", "-s", "--source"})
_PROJECT = re.compile(r"^[\w.\-]+\.(?:cs|fs|vb)proj$")
# Read by every restore of a project in the context root, when present.
_DOTNET_SHARED = ("global.json", "NuGet.config", "nuget.config", "NuGet.Config", "Directory.Build.props",
                  "Directory.Build.targets", "Directory.Packages.props", "packages.lock.json")


def _dotnet(words: list[str], context: BuildContext) -> Prefetch | None:
    if words[1:2] not in (["publish"], ["build"]):
        return None
    args = [w for i, w in enumerate(words[2:])  # `--self-contained false`: a value, not a project
            if not (w in ("true", "false") and i and words[1 + i] in ("--sc", "--self-contained"))]
    split = _options(args, _DOTNET_VALUE)
    if split is None:
        return None
    options, positional = split
    if "--no-restore" in options or len(positional) > 1 or (positional and not _PROJECT.match(positional[0])):
        return None  # a solution, a folder, a project elsewhere: restore needs more
    carried = []
    for i, o in enumerate(options):
        if o.split("=", 1)[0] in _DOTNET_RESTORE_FLAGS:
            carried += options[i : i + 1 + (o in _DOTNET_RESTORE_FLAGS)]
    if not context.known:
        if not positional:
            return None  # the project file's name is unknown
        return Prefetch("dotnet", (positional[0],), [words[0], "restore", positional[0], *carried], safe=False)
    files = _dotnet_inputs(positional[0] if positional else None, context)
    if files is None:
        return None
    return Prefetch("dotnet", files, [words[0], "restore", *positional, *carried], safe=False)


def _dotnet_restore(words: list[str], context: BuildContext) -> Install | None:
    """`dotnet restore [App.csproj]` of the one project in the context root."""
    split = _options(words[2:], _DOTNET_VALUE)
    if split is None or len(split[1]) > 1 or (split[1] and not _PROJECT.match(split[1][0])):
        return None
    project = split[1][0] if split[1] else None
    if not context.known:
        return Install(DOTNET, (project,), confident=False) if project else None
    files = _dotnet_inputs(project, context)
    return Install(DOTNET, files, confident=True) if files else None


def _dotnet_inputs(named: str | None, context: BuildContext) -> tuple[str, ...] | None:
    """What a restore of the root project reads, or None when it may read more (other
    projects, imported build files, files whose presence changes the project)."""
    projects = [p for p in context.glob("*.??proj") if _PROJECT.match(p)]
    if named is None and (context.glob("*.sln") or context.glob("*.slnx") or len(projects) != 1):
        return None
    project = named or projects[0]
    if project not in projects:
        return None
    if _present(context, "obj") or _present(context, "bin"):
        return None  # restore output in the context: the later COPY would merge it
    listed = os.listdir(context.root)
    shared = [f for f in _DOTNET_SHARED if f in listed]
    for f in [project, *shared]:
        if re.search(r"<(?:ProjectReference|Import)\b|\bExists\s*\(", context.read_text(f) or "<Import"):
            return None
    return (project, *shared)


# Yarn 2+ ("Berry") keeps its cache and installs by rules of its own (`--immutable`, a
# `.yarn/cache` that Plug'n'Play installs from): the Yarn 1 rewrites must not touch it.
BERRY_SIGNS = re.compile(
    r"\byarn(?:pkg)?\s+set\s+version\b|\.yarnrc\.yml|\.yarn/|yarnPath|yarn@(?:berry|stable|canary|[2-9]|\d\d)"
    r"|YARN_(?:ENABLE_|NODE_LINKER|GLOBAL_FOLDER|NPM_|PNP_|CACHE_MIGRATION|YARN_PATH)"
    r"|\byarn(?:pkg)?\b[^\n&|;]*\s--immutable\b"  # a flag only Yarn 2+ has
)


def yarn_berry(source: str, context: BuildContext) -> bool:
    """Whether the Dockerfile's text or the build context shows Yarn 2 or later."""
    return BERRY_SIGNS.search(source) is not None or _berry_in_context(context)


def _berry_in_context(context) -> bool:
    """A .yarnrc.yml, or a package.json asking corepack for Yarn 2+, near the context root."""
    if not context.known:
        return False
    for folder in ("", "*/", "*/*/"):
        if any("node_modules" not in p for p in context.glob(folder + ".yarnrc.yml")):
            return True
        for path in context.glob(folder + "package.json"):
            if "node_modules" in path:
                continue
            try:
                manager = json.loads(context.read_text(path) or "{}").get("packageManager", "")
            except (ValueError, AttributeError):
                continue
            if isinstance(manager, str) and re.match(r"yarn@(?:[2-9]|\d\d)", manager):
                return True
    return False
