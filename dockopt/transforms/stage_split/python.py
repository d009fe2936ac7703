"""Python in the stage split (DO202): a virtualenv built with the toolchain, run on slim.

A single-stage Python image that installs its dependencies with pip, poetry or uv and
carries a toolchain it does not run (gcc, build-essential and -dev packages installed with
apt, or the full `python:X` image, which is buildpack-deps) becomes a builder that installs
the dependencies into /opt/venv, and a runtime on the slim variant of the same Python and
Debian release that copies the venv and the app folder. What makes it sound, and what makes
it give up, is in `plan`; the knowledge about images and packages is in runtimes.py.

The venv holds the project's dependencies, not the tool that installs them: `pip install
poetry` (or uv) keeps running with the system pip, so poetry and its own dependencies stay
in the builder's /usr/local. `_venv_setup` chooses where `RUN python -m venv /opt/venv` and
its ENV go: above the first install that follows the last tool install, with the venv
first on PATH (pip then installs into it); or, when the tool installs in the same RUN as
the project (`pip install poetry && poetry install --no-root`), above that RUN with
VIRTUAL_ENV (and UV_PROJECT_ENVIRONMENT) but not PATH, which poetry install, `uv pip
install` and uv sync follow while pip stays the system's. When a pip install into the venv
comes after a tool install in the same RUN, or the command (a script) may run the tool,
the venv goes above the first install as a whole, tool included, as the original had it
on PATH.
"""

from __future__ import annotations

import dataclasses
import posixpath
import re

from dockopt.optimizer import runtimes
from dockopt.transforms.stage_split.stage import (SAFE_COMMANDS, Bail, Plan, check_copies, packages, redirects,
                                                  run_commands)

_PYTHON = re.compile(r"^python(\d(\.\d+)?)?$")
_COMPILERS = frozenset({"gcc", "g++", "build-essential", "make", "cmake", "gfortran", "rustc", "cargo", "swig",
                        "libc6-dev", "libc-dev", "pkg-config", "pkgconfig", "autoconf", "automake", "libtool"})
_PIP_UNSAFE = frozenset({"-e", "--editable", "--user", "-t", "--target", "--prefix", "--root", "--src", "--system",
                         "--break-system-packages"})
_PIP_VERBS = frozenset({"install", "cache", "config", "--version", "-V", "list", "freeze", "check", "download", "wheel"})
_POETRY_OK = frozenset({"config", "export", "check", "--version", "lock", "self"})
_DEPENDENCY_FILES = ("pyproject.toml", "poetry.lock", "uv.lock", "Pipfile", "Pipfile.lock", "setup.py", "setup.cfg")
# ENV that sends installs outside the venv (pip's flags in _PIP_UNSAFE, uv's --system)
_INSTALL_ENV = re.compile(r"\b(PIP_(USER|TARGET|PREFIX|ROOT|SRC|EDITABLE|BREAK_SYSTEM_PACKAGES)|UV_SYSTEM_PYTHON)\b")
_SHELL_CMD = re.compile(r"^\s*(?:exec\s+)?([A-Za-z0-9_./-]+)(?:\s|$)")
_VENV_ENV = f'ENV VIRTUAL_ENV={runtimes.VENV} PATH="{runtimes.VENV}/bin:$PATH"'
# What `pip install` may name for the install tool itself, run in the builder only; and pip's own packages.
_TOOLS = frozenset({"poetry", "poetry-plugin-export", "uv"})
_PIP_ITSELF = frozenset({"pip", "setuptools", "wheel"})


@dataclasses.dataclass
class _Installs:
    """What the stage's RUNs install, read command by command."""

    first: object = None  # the first RUN that installs Python packages
    # (RUN, kind) of each install command in order. kind: "tool" (pip install of poetry or uv),
    # "pip itself" (pip, setuptools, wheel), "pip" (anything else pip installs: the venv must
    # be first on PATH), "env" (poetry install, uv sync, uv pip install: VIRTUAL_ENV or
    # UV_PROJECT_ENVIRONMENT name the venv)
    steps: list[tuple[object, str]] = dataclasses.field(default_factory=list)
    toolchain: list[str] = dataclasses.field(default_factory=list)  # build packages from apt
    runtime_packages: set[str] = dataclasses.field(default_factory=set)  # runtime libraries they map to
    apt_packages: set[str] = dataclasses.field(default_factory=set)
    named: set[str] = dataclasses.field(default_factory=set)  # packages named on the command line
    requirement_files: list[str] = dataclasses.field(default_factory=list)
    uv_sync: bool = False


def plan(layout, context):
    base = layout.base
    if base.family != "python":
        return None
    if base.variant not in ("full", "slim") or base.distro not in (None, "debian"):
        return None  # alpine: musl wheels; other systems: not the python image's Debian
    app = layout.build_workdir
    if not app or app == "/" or layout.final_workdir != app or app.startswith(runtimes.VENV):
        return None
    found = _read_runs(layout)
    if found.first is None:
        return None
    if base.variant == "slim" and not found.toolchain:
        return None  # nothing to leave behind
    if base.variant == "full" and not context.known:
        raise Bail("full image without the context: its libraries may be linked by what pip builds")
    if context.known and not _dependency_files(context, found):
        raise Bail("no dependency file in the context")
    _check_path(layout)
    names = _dependency_names(context, found)
    notes = []
    if base.variant == "full":
        for name in sorted(names & runtimes.PYTHON_LINKED_SDISTS.keys()):
            lib = runtimes.PYTHON_LINKED_SDISTS[name]
            if lib is None:
                raise Bail(f"{name} links a library whose runtime package is not mapped")
            found.runtime_packages.add(lib)
        if not any(context.exists(f) for f in ("poetry.lock", "uv.lock", "Pipfile.lock")):
            notes.append("only the listed requirements were checked for sources that link system libraries, "
                         "not what they depend on")
    entry_known = _check_entry(layout, found, names, base.variant == "slim")
    healthcheck_ok = _healthcheck_runs_python(layout)
    others = [i for i in layout.builds if not _is_uv_binary(i)]
    check_copies(dataclasses.replace(layout, builds=others), [app])

    runtime = runtimes.python_runtime(layout.stage.image, {**layout.dockerfile.global_args(), **layout.args})
    if runtime is None:
        return None
    anchor, on_path, venv_note = _venv_setup(layout, found, entry_known)
    if anchor is None:
        return None  # only the install tool or pip itself: nothing for the venv to carry
    env = [f"VIRTUAL_ENV={runtimes.VENV}"] + ([f"UV_PROJECT_ENVIRONMENT={runtimes.VENV}"] if found.uv_sync else []) \
        + ([f'PATH="{runtimes.VENV}/bin:$PATH"'] if on_path else [])
    env_line = "ENV " + " ".join(env)
    runtime_lines = []
    if found.runtime_packages:
        pkgs = " ".join(sorted(found.runtime_packages))
        runtime_lines.append(f"RUN apt-get update && apt-get install -y --no-install-recommends {pkgs} "
                             f"&& rm -rf /var/lib/apt/lists/*")
        notes.append(f"{pkgs}: the runtime libraries of what was built against "
                     + ", ".join(sorted(found.apt_packages & runtimes.PYTHON_DEV_RUNTIME.keys()) or ["the full image"]))
    runtime_lines.append(_VENV_ENV)
    toolchain = ", ".join(found.toolchain) if found.toolchain else f"the full {base.ref}"
    notes.append("the dependencies install into a virtualenv the runtime copies; a file the app writes at run time "
                 "must be in a folder its user owns")
    if venv_note:
        notes.append(venv_note)
    return Plan(
        runtime, [(runtimes.VENV, runtimes.VENV), (app, app)],
        "Runtime: the virtualenv and the app on slim Python, no compilers or headers",
        f"the virtualenv {runtimes.VENV} and {app}/ (built with {toolchain})",
        builder_before=(anchor, [f"RUN python -m venv {runtimes.VENV}", env_line]),
        runtime_lines=runtime_lines, healthcheck_ok=healthcheck_ok, notes=notes,
    )


def _read_runs(layout) -> _Installs:
    found = _Installs()
    for ins in layout.runs():
        for words, assigns, raw in run_commands(ins):
            if not words or redirects(raw) or assigns:
                raise Bail("redirection or assignment")
            name = posixpath.basename(words[0])
            args = words[1:]
            if _PYTHON.match(name) and args[:2] == ["-m", "pip"]:
                name, args = "pip", args[2:]
            if name in ("apt-get", "apt"):
                pkgs = packages(words)
                if pkgs is None:
                    raise Bail("apt verb")
                for pkg in pkgs:
                    if pkg in runtimes.PYTHON_DEV_RUNTIME:
                        found.runtime_packages.add(runtimes.PYTHON_DEV_RUNTIME[pkg])
                    elif pkg not in runtimes.PYTHON_BUILD_PACKAGES:
                        raise Bail(f"installs {pkg}: the app may need it at run time")
                    if pkg in _COMPILERS or pkg.endswith("-dev"):
                        found.toolchain.append(pkg)
                found.apt_packages.update(pkgs)
            elif name in ("pip", "pip3"):
                kind = _read_pip(args, found)
                if kind:
                    found.steps.append((ins, kind))
            elif name == "poetry":
                if args[:1] == ["install"]:
                    if "--no-root" not in args:
                        raise Bail("poetry install of the project itself: an editable install")
                    found.steps.append((ins, "env"))
                elif not args or args[0] not in _POETRY_OK:
                    raise Bail(f"poetry {args[:1]}")
            elif name == "uv":
                _read_uv(args, found)
                found.steps.append((ins, "env"))
            elif _PYTHON.match(name) and args[:2] == ["-m", "compileall"]:
                continue
            elif name in SAFE_COMMANDS - {"git", "chown", "cat"} | {"mkdir"}:
                continue
            else:
                raise Bail(f"unknown command {name}")
    found.first = found.steps[0][0] if found.steps else None
    return found


def _read_pip(args: list[str], found: _Installs) -> str | None:
    """Reads a pip command; for an install, its kind: "tool" when it installs only poetry or uv
    (and pip's own packages), "pip itself" for those alone, else "pip"."""
    if not args or args[0] not in _PIP_VERBS:
        raise Bail(f"pip {args[:1]}")
    if args[0] != "install":
        return None
    rest = args[1:]
    named, other = set(), False  # other: requirement files, paths, URLs
    for i, arg in enumerate(rest):
        flag = arg.split("=", 1)[0]
        if flag in _PIP_UNSAFE:
            raise Bail(f"pip install {flag}")
        if flag in ("-r", "--requirement") and i + 1 < len(rest):
            found.requirement_files.append(rest[i + 1])
            other = True
        elif arg.startswith("--requirement="):
            found.requirement_files.append(arg.split("=", 1)[1])
            other = True
        elif not arg.startswith("-") and (i == 0 or rest[i - 1] not in ("-r", "--requirement", "-c", "--constraint",
                                                                        "-i", "--index-url", "--extra-index-url")):
            name = runtimes.python_package_name(arg)
            if name and "/" not in arg and arg != ".":
                found.named.add(name)
                named.add(name)
            else:
                other = True
    if other or not named or named - _TOOLS - _PIP_ITSELF:
        return "pip"
    return "tool" if named & _TOOLS else "pip itself"


def _read_uv(args: list[str], found: _Installs) -> None:
    if args[:2] == ["pip", "install"]:
        _read_pip(args[1:], found)
    elif args[:1] == ["sync"]:
        if "--no-install-project" not in args and "--no-editable" not in args:
            raise Bail("uv sync installs the project in editable mode")
        found.uv_sync = True
    else:
        raise Bail(f"uv {args[:1]}")


def _venv_setup(layout, found: _Installs, entry_known: bool):
    """(the RUN the venv is made above, whether the builder puts it first on PATH, a note).

    The venv must receive every project install and no install tool. pip and `python -m
    pip` install where PATH leads; poetry install, `uv pip install` and uv sync follow
    VIRTUAL_ENV / UV_PROJECT_ENVIRONMENT. The RUN is None when nothing but the tool or pip
    itself is installed."""
    order = {id(ins): n for n, ins in enumerate(layout.runs())}
    steps = [(order[id(ins)], kind, ins) for ins, kind in found.steps]
    projects = [n for n, kind, _ in steps if kind in ("pip", "env")]
    if not projects:
        return None, True, None
    tools = [n for n, kind, _ in steps if kind == "tool"]
    tool = " and ".join(sorted(found.named & _TOOLS)) or "the install tool"
    if not tools:
        return found.first, True, None
    if not entry_known:
        return found.first, True, (f"{tool} installs into the venv too, as the command may run it "
                                   f"(the original had it on PATH)")
    last_tool = max(tools)
    if min(projects) > last_tool:  # the tool's RUN comes first: it runs before the venv exists
        anchor = next(ins for n, kind, ins in steps if n > last_tool)
        return anchor, True, (f"{tool} installs with the system pip before the venv is made, "
                              f"so the runtime's venv holds only the project's dependencies")
    if not any(kind == "pip" for _, kind, _ in steps):
        anchor = next(ins for _, kind, ins in steps if kind == "env")
        named = "VIRTUAL_ENV and UV_PROJECT_ENVIRONMENT" if found.uv_sync else "VIRTUAL_ENV"
        return anchor, False, (f"the builder names the venv in {named} but leaves it off PATH: pip installs "
                               f"{tool} for the system Python and {tool} installs the project's dependencies "
                               f"into the venv, so the runtime's venv holds only those")
    return found.first, True, (f"{tool} installs into the venv too: pip installs into it in the same or a "
                               f"later RUN, and the venv must be first on PATH for that")


def _is_uv_binary(ins) -> bool:
    """`COPY --from=ghcr.io/astral-sh/uv... /uv /uvx /bin/`: the uv tool, used in the builder only."""
    source = ins.flag("from") if ins.keyword == "COPY" else None
    return bool(source) and source.startswith("ghcr.io/astral-sh/uv") \
        and all(a.lstrip("/") in ("uv", "uvx") for a in ins.arguments[:-1])


def _dependency_files(context, found: _Installs) -> bool:
    return bool(context.glob("requirements*.txt") or found.requirement_files or found.named
                or any(context.exists(f) for f in _DEPENDENCY_FILES))


def _dependency_names(context, found: _Installs) -> set[str]:
    """Normalised names of the projects the stage installs, as far as the files list them."""
    names = set(found.named)
    if not context.known:
        return names
    queue = list(found.requirement_files) + context.glob("requirements*.txt")
    seen = set()
    while queue:
        rel = queue.pop().lstrip("./") if queue[-1].startswith("./") else queue.pop()
        if rel in seen or "$" in rel:
            continue
        seen.add(rel)
        folder = posixpath.dirname(rel)
        for line in (context.read_text(rel) or "").splitlines():
            line = line.split("#", 1)[0].strip()
            m = re.match(r"^(-r|--requirement|-c|--constraint)[\s=]+(\S+)", line)
            if m:
                queue.append(posixpath.join(folder, m.group(2)))
            elif line and not line.startswith("-"):
                name = runtimes.python_package_name(line)
                if name:
                    names.add(name)
    for lock in ("poetry.lock", "uv.lock"):
        names.update(runtimes.python_package_name(n) or "" for n in
                     re.findall(r'^name\s*=\s*"([^"]+)"', context.read_text(lock) or "", re.M))
    pyproject = context.read_text("pyproject.toml") or ""
    names.update(runtimes.python_package_name(n) or "" for n in re.findall(r'^\s*"([A-Za-z0-9][\w.\-]*)', pyproject, re.M))
    names.update(runtimes.python_package_name(n) or "" for n in re.findall(r"^([A-Za-z0-9][\w.\-]*)\s*=", pyproject, re.M))
    for pip_lock in ("Pipfile",):
        names.update(runtimes.python_package_name(n) or "" for n in
                     re.findall(r"^([A-Za-z0-9][\w.\-]*)\s*=", context.read_text(pip_lock) or "", re.M))
    names.discard("")
    return names


def _check_path(layout) -> None:
    """A later ENV that sets PATH without $PATH would hide the venv; an earlier venv clashes;
    an ENV may send installs elsewhere (pip's --user or --target, uv's --system)."""
    for ins in layout.stage.instructions:
        text = ins.args_text
        if ins.keyword == "ENV" and _INSTALL_ENV.search(text):
            raise Bail("ENV that installs outside a virtualenv")
        if ins.keyword == "ENV" and re.search(r"\bPATH[= ]", text) and "$PATH" not in text and "${PATH}" not in text:
            raise Bail("ENV PATH without $PATH")
        if ins.keyword in ("ENV", "RUN") and (runtimes.VENV in text or "VIRTUAL_ENV" in text
                                              or re.search(r"-m\s+venv\b|\bvirtualenv\b|\bconda\b|\bmamba\b", text)):
            raise Bail("the stage makes its own virtualenv")


def _check_entry(layout, found: _Installs, names: set[str], slim_builder: bool) -> bool:
    """The command must be Python or a console script the dependencies install, not a build tool.
    True when it is one of those; False for a script or a program a slim builder may have,
    which may run anything the image had, the install tool included."""
    words = layout.entry
    if words is None:
        ins = next((i for i in reversed(layout.stage.instructions) if i.keyword in ("CMD", "ENTRYPOINT")), None)
        m = _SHELL_CMD.match(ins.args_text) if ins is not None and not ins.json else None
        if m is None or re.search(r"[;&|`<>]|\$\(", ins.args_text):
            raise Bail("a shell command that is more than one command")
        words = [m.group(1)]
    program = words[0]
    name = posixpath.basename(program)
    if name in runtimes.PYTHON_BUILD_TOOLS or name in found.apt_packages:
        raise Bail(f"the command runs the build tool {name}")
    if _PYTHON.match(name):
        if "/" in program and not program.startswith(("/usr/local/bin/", runtimes.VENV)):
            raise Bail("a Python outside the image's")
        rest = words[1:]
        if rest[:2] in (["-m", "pip"], ["-m", "poetry"], ["-m", "build"]) or rest[:1] == ["setup.py"]:
            raise Bail("the command runs a build tool")
        return True
    if "/" in program:
        if not slim_builder:
            raise Bail("a script may run tools only the full image has")
        return False
    if runtimes.python_package_name(name) in names:
        return True
    if not slim_builder:
        raise Bail(f"{name}: not a console script of the dependencies the files list")
    return False


def _healthcheck_runs_python(layout) -> bool:
    for ins in layout.moved:
        if ins.keyword != "HEALTHCHECK":
            continue
        text = ins.args_text
        m = re.search(r"\bCMD\s+(\[\s*\"([^\"]+)\"|(\S+))", text, re.I)
        if m is None:
            return False
        program = posixpath.basename(m.group(2) or m.group(3))
        return bool(_PYTHON.match(program))
    return True
