"""Which shell commands install dependencies, and which files they read.

Knowledge, kept as data: for each package manager, the commands that install a project's
dependencies from its manifests alone, the manifests and lockfiles they read, and the
signs that an install would need more than the manifests (workspaces, install scripts,
local paths). The cache-order transform moves such an install before the source is
copied; everything here is what makes that move sound.
"""

from __future__ import annotations

import json
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
