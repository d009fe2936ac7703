"""DO202 stage-split: build in one stage, run from a small image that holds only the result.

What it does
    When the last stage builds the application on a toolchain image and runs it there, that
    stage becomes the builder (` AS build` added to its FROM, its text otherwise kept) and a
    runtime stage is appended, with a comment line, that copies only what the command needs.
    (BuildKit reads the comment right above a named stage as its description, which starts
    with the name: a comment above the builder gets `# build builds what the runtime stage
    copies` below it, and a runtime stage keeping the stage's name says `# app runtime: ...`.)

    - Go: the binary of `go build` / `go install` that CMD or ENTRYPOINT runs, into
      `gcr.io/distroless/static-debian13:nonroot` when CGO_ENABLED=0 is set (assignment,
      `export` or ENV) or cgo is off because golang:*-alpine has no C compiler (Go >= 1.20);
      else, on a Debian golang image, into distroless `base-debian13` (glibc).
    - Node (npm, pnpm): with a build script (`npm run build`, `pnpm build`), package.json, the
      production node_modules (`npm prune --omit=dev` / `pnpm prune --prod` joined to the
      last RUN) and the folder of the file `node` runs, or the whole app folder when the
      context does not show every other copied file to be a build input; without a build
      script, the app folder with dev dependencies pruned. The runtime is the builder when it
      is slim or alpine, else the slim variant of the same release, or alpine when the
      lockfile (npm v2/v3, pnpm v5/v6) shows no production package with install scripts or
      per-platform binaries: node_modules built on glibc with native addons break on musl.
    - Java (Maven, Gradle, their wrappers): the jar of `java -jar`, alone when the build file
      makes a fat jar (Spring Boot, shade, shadow), it was copied out of target/, or the
      build file gives its manifest no Class-Path; with the folder Maven's `<addClasspath>`
      and `<classpathPrefix>` name (target/lib/) when it does; its whole folder only when the
      Class-Path cannot be told (no context, one written by hand). Not target/ whole: its
      classes/, reports and sources would double the layer. Into eclipse-temurin's JRE of
      the builder's JDK version, listed in the manifest.
    - .NET: the `dotnet publish -o` folder, when the command runs from it (it is the content
      root), into `aspnet` (or `runtime` when the context's projects do not use ASP.NET
      Core) with the sdk tag's version and OS, .NET 8 and later.
    - Rust: the `cargo build --release` / `cargo install --path` binary into distroless
      `cc-debian13` (glibc, libgcc, OpenSSL), or distroless static for a musl build, when the
      context's Cargo.lock has no -sys crate linking another library.
    - Python (pip, `poetry install --no-root`, `uv sync --no-install-project`/`--no-editable`),
      when the image carries a toolchain (gcc, build-essential, -dev packages from apt, or
      the full `python:X` image): the builder creates /opt/venv (`python -m venv`, ENV
      VIRTUAL_ENV and PATH) before the first install, or after the RUN that installs Poetry
      or uv with pip (with VIRTUAL_ENV but not PATH when they share one RUN), so the runtime
      venv holds the project's dependencies and not the tool; the runtime is `python:X-slim` of the
      same Debian release (never alpine: wheels built for glibc), with the venv and the app
      folder, and the runtime libraries -dev packages map to (libpq-dev -> libpq5,
      default-libmysqlclient-dev -> libmariadb3). On the full image (only with the context)
      the dependency files are read: a source-only package that links a system library
      (psycopg2, mysqlclient) gets its runtime library, an unmapped one (python-ldap, pycurl,
      uwsgi...) leaves the file alone. The command must be Python or a console script the
      dependencies install; a HEALTHCHECK is kept when it runs Python.
    - Static front ends: a node image whose command serves a built folder (`serve -s build
      -l 3000`, `http-server dist -p 8080`) after a static build (vite, react-scripts,
      @angular/cli, vue-cli, next export...) gets an nginx stable runtime (alpine, or Debian
      under base-flavour slim/distroless) holding that folder in /usr/share/nginx/html, with
      a server block (a heredoc) that listens on the same port and keeps the servers' clean
      URLs (`/about` -> about.html) and serve's `-s` single-page fallback; a RUN that only
      installed serve or http-server leaves the builder. Server-side apps (next start, nuxt,
      remix, express, a server.js) are left alone.

    What the image promised at run time moves to the runtime stage with its comments: ENV
    (also kept in the builder), WORKDIR, EXPOSE, LABEL, USER, STOPSIGNAL, CMD and ENTRYPOINT,
    whose paths resolve as before (same working folder, files at the same paths; a binary
    found on PATH goes to /usr/local/bin). Build ARGs and secrets stay in the builder; an
    ARG is declared again only where a runtime ENV or LABEL uses it. The runtime runs as
    the image's non-root user (distroless `nonroot`, node's `node` 1000:1000, .NET's `app`
    1654:1654, or an `app` user added with groupadd/adduser on the JRE), given as numeric
    ids (Kubernetes' runAsNonRoot checks numbers, hadolint DL3066), unless the original sets
    a USER (kept), or exposes a port below 1024 or declares a VOLUME (root kept; on
    distroless, which would need `:latest` or `USER root`, the file is left alone).

Why
    A toolchain image is large: golang, node, maven and the .NET sdk carry compilers,
    build tools, sources and dev dependencies, none of which run. The seed case
    (node:20-bookworm, pnpm, 1.2 GB) shrinks to 148 MB with two stages; a Go binary on
    distroless static sits on a base of about 2 MiB (distroless README). Less to pull,
    store and scan, and no compiler for an intruder.

Example
    FROM golang:1.22                          FROM golang:1.22 AS build
    WORKDIR /src                              WORKDIR /src
    COPY . .                                  COPY . .
    RUN CGO_ENABLED=0 go build -o /out/app    RUN CGO_ENABLED=0 go build -o /out/app
    EXPOSE 8080                          ->
    CMD ["/out/app"]                          # Runtime: only the compiled binary, no Go toolchain
                                              FROM gcr.io/distroless/static-debian13:nonroot
                                              WORKDIR /src
                                              COPY --from=build /out/app /out/app
                                              EXPOSE 8080
                                              CMD ["/out/app"]

When it is not safe
    Always `review`: the runtime image differs, and so does the user. A split is proposed
    only when the Dockerfile (and the build context, when there is one) shows that the
    runtime has what the command needs; otherwise the file is left alone: the command must
    be in exec form on distroless (no shell) and run a file the build provably writes; every
    RUN must be a known build step (package installs of compilers and VCS only, no user
    creation, no downloads, no redirections, nothing inside `if` or loops); nothing may be
    copied outside the app folder or from another image; HEALTHCHECKs (their tools may be
    missing), ENVs using variables only the base image defines, SHELL and ONBUILD block it.
    With the context, Go sources that open files, run programs or load config files, Spring
    Boot config files in the working folder, and pnpm lifecycle scripts (`pnpm prune`
    re-runs `prepare`) block it too. Without the context a Go binary or a jar is moved only
    when the command names its path, and the app's other files are not copied: an app that
    reads files next to it must be split by hand (the explanation says so). Dev
    dependencies an app loads at run time must be in `dependencies`. Python is left alone
    for editable installs (`pip install -e`, poetry without `--no-root`, uv sync of the
    project), pipenv, conda, alpine, a venv the file makes itself, apt packages other than
    compilers and mapped headers (the app may run or load them), a command that runs a build
    tool (poetry run, uv run, pip), and a full image without the build context. A running app cannot
    write to files it did not own in the builder. Only the last stage is considered, and a
    stage this transform added is never split again.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field

from dockopt.optimizer import images, runtimes
from dockopt.optimizer.edits import Edit
from dockopt.optimizer.syntax import Instruction, Trivia
from dockopt.optimizer.transform import REVIEW, Transform
from dockopt.transforms._descriptions import describe

_BUILD = frozenset({"RUN", "COPY", "ADD"})
_RUNTIME_ONLY = frozenset({"LABEL", "EXPOSE", "HEALTHCHECK", "STOPSIGNAL", "CMD", "ENTRYPOINT", "MAINTAINER"})
_BUILDER_NAME = re.compile(r"build|compile|dev", re.I)
_VAR = re.compile(r"\$(?:\{(\w+)|(\w+))")
_WINDOWS = re.compile(r"windows|nanoserver|servercore|ltsc", re.I)
_REDIRECT_OK = re.compile(r"\d?>&\d|[12]?>\s*/dev/null")


class _Bail(Exception):
    """The stage cannot be split soundly; the message says why (for debugging)."""


@dataclass
class _Layout:
    """The last stage, read as the split needs it."""

    dockerfile: object
    stage: object
    args: dict[str, str]  # the ARGs the stage declares, with their values
    base: images.Image
    builds: list[Instruction]
    moved: list[Instruction]  # runtime-only: leave the builder for the runtime stage
    copied: list[Instruction]  # ENV (and the last USER) the runtime repeats
    workdir: dict[int, str | None]  # id(ins) -> working directory in effect at ins
    env: dict[int, dict[str, str | None]]  # id(ins) -> ENV in effect at ins (None: unknown)
    final_workdir: str | None  # at the end of the stage (where CMD runs)
    build_workdir: str | None  # at the last build step
    entry: list[str] | None  # what the container runs, exec-style words
    entry_shell: bool  # CMD/ENTRYPOINT in shell form
    user: str | None  # the last USER value, None when the stage sets none

    def runs(self):
        return [i for i in self.builds if i.keyword == "RUN"]


@dataclass
class _Plan:
    runtime: runtimes.Runtime
    copies: list[tuple[str, str]]  # (path in the builder, destination in the runtime)
    comment: str  # the runtime stage's comment line, without "# "
    what: str  # for the explanation: what the runtime holds
    builder_steps: list[str] = field(default_factory=list)  # instructions appended to the builder
    notes: list[str] = field(default_factory=list)
    builder_before: tuple[Instruction, list[str]] | None = None  # lines inserted above an instruction
    runtime_lines: list[str] = field(default_factory=list)  # instructions before the runtime's COPYs
    healthcheck_ok: bool = False  # the runtime has what the HEALTHCHECK runs
    drop: frozenset[str] = frozenset()  # runtime-only keywords the runtime does not repeat (comments kept)
    keep_workdir: bool = True  # the runtime works in the builder's app folder


def fix(dockerfile, context):
    if dockerfile.escape != "\\" or not dockerfile.stages:
        return
    try:
        layout = _layout(dockerfile, dockerfile.stages[-1])
        plan = None
        from dockopt.optimizer.split_python import plan_python
        from dockopt.optimizer.split_static import plan_static

        for planner in (_plan_go, plan_static, _plan_node, _plan_java, _plan_dotnet, _plan_rust, plan_python):
            plan = planner(layout, context)
            if plan is not None:
                break
        if plan is None:
            return
        yield _render(layout, plan)
    except _Bail:
        return


# --- reading the stage ----------------------------------------------------------------

def _layout(dockerfile, stage) -> _Layout:
    if stage.from_.flags or _WINDOWS.search(stage.image):
        raise _Bail("platform flag or Windows image")
    if any(s.name and s.name.lower() == stage.image.lower() for s in dockerfile.stages[:-1]):
        raise _Bail("built on an earlier stage")
    global_args: dict[str, str | None] = {}
    for ins in dockerfile.instructions:
        if ins.keyword == "FROM":
            break
        if ins.keyword == "ARG":
            global_args.update(_arg_pairs(ins))
    base = images.describe(stage.image, {k: v for k, v in global_args.items() if v is not None})
    if base.family is None or base.windows or base.borrowed:
        raise _Bail("unknown base image, or one known only by its OS")
    instructions = stage.instructions
    keywords = {i.keyword for i in instructions}
    if keywords & {"SHELL", "ONBUILD"} or not keywords & {"CMD", "ENTRYPOINT"}:
        raise _Bail("SHELL, ONBUILD, or nothing to run")
    build_idx = [n for n, i in enumerate(instructions) if i.keyword in _BUILD]
    if not build_idx:
        raise _Bail("no build step")
    last = build_idx[-1]
    args: dict[str, str] = {}  # the ARGs the stage declares, with their defaults
    moved, copied, workdir, env = [], [], {}, {}
    cwd: str | None = None
    current: dict[str, str | None] = {}
    user, last_user_before = None, None
    for n, ins in enumerate(instructions):
        workdir[id(ins)], env[id(ins)] = cwd, dict(current)
        kw = ins.keyword
        if kw == "ARG":
            for name, value in _arg_pairs(ins):
                value = value if value is not None else global_args.get(name)
                if value is not None:
                    args[name] = value
        if kw == "ENV":
            for name, value in _env_pairs(ins):
                current[name] = _expand(value, current, args) if value is not None else None
        elif kw == "WORKDIR":
            target = _expand(ins.arguments[0], current, args) if ins.arguments else None
            cwd = None if target is None or (cwd is None and not target.startswith("/")) else _join(cwd or "/", target)
        elif kw == "USER":
            user = _expand(ins.args_text, current, args) or "?"
        if n > last:
            if kw not in _BUILD:
                moved.append(ins)
        elif kw in _RUNTIME_ONLY:
            moved.append(ins)
        elif kw == "ENV":
            copied.append(ins)
        elif kw == "USER":
            last_user_before = ins
        elif kw == "VOLUME":
            raise _Bail("VOLUME before a build step changes what the build keeps")
    if last_user_before is not None and not any(i.keyword == "USER" for i in moved):
        copied.append(last_user_before)
    entry, shell = _entry(instructions)
    return _Layout(dockerfile, stage, args, base, [instructions[n] for n in build_idx], moved, copied,
                   workdir, env, cwd, workdir[id(instructions[last])], entry, shell, user)


def _entry(instructions) -> tuple[list[str] | None, bool]:
    """The command line the container runs (ENTRYPOINT + CMD), as words; None when a
    shell-form command is more than plain words."""
    from dockopt.transforms.exec_form import split_plain_words

    entrypoint = next((i for i in reversed(instructions) if i.keyword == "ENTRYPOINT"), None)
    cmd = next((i for i in reversed(instructions) if i.keyword == "CMD"), None)
    words, shell = [], False
    for ins in (entrypoint, cmd):
        if ins is None:
            continue
        if ins.json:
            part = ins.arguments
        else:
            shell = True
            part = split_plain_words(ins.args_text)
            if part is None:
                return None, True
        words += part
        if ins is entrypoint and not ins.json:
            break  # a shell-form ENTRYPOINT ignores CMD
    return (words or None), shell


def _arg_pairs(ins):
    for word in ins.arguments:
        name, eq, value = word.partition("=")
        yield name, (_unquote(value) if eq else None)


def _env_pairs(ins):
    text = ins.args_text
    if not re.match(r"^\w+=", text):
        name, _, value = text.partition(" ")
        yield name, value.strip() or None
        return
    for m in re.finditer(r"(\w+)=(\"(?:[^\"\\]|\\.)*\"|'[^']*'|(?:[^\s\\]|\\.)*)", text):
        yield m.group(1), _unquote(m.group(2))


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def _expand(text: str | None, env: dict, args: dict) -> str | None:
    """Expand $VAR and ${VAR} from ENV, then ARG values; None when one is unknown."""
    if text is None:
        return None
    if "${" in text and re.search(r"\$\{\w+:?[-+?]", text):
        return None
    missing = []

    def value(m):
        name = m.group(1) or m.group(2)
        got = env.get(name, args.get(name))
        if got is None:
            missing.append(name)
        return got or ""

    out = re.sub(r"\$(?:\{(\w+)\}|(\w+))", value, text)
    return None if missing else _unquote(out)


def _join(base: str, path: str) -> str:
    return posixpath.normpath(posixpath.join(base, path))


def _commands(ins: Instruction):
    """(words, assignments dict, raw) for each top-level simple command of a RUN."""
    from dockopt.optimizer.shell import commands

    if ins.json:
        return [(list(ins.arguments), {}, " ".join(ins.arguments))]
    found = commands(ins)
    if not found and ins.args_text.strip():
        raise _Bail("RUN text that is not sh")
    out = []
    for cmd in found:
        if cmd.nested:
            raise _Bail("a command inside a compound construct")
        assigns = dict(w.split("=", 1) for w in cmd.words[: cmd.assignments])
        out.append((cmd.words[cmd.assignments:], {k: _unquote(v) for k, v in assigns.items()}, cmd.raw))
    return out


def _redirects(raw: str) -> bool:
    return bool(re.search(r"[<>]", _REDIRECT_OK.sub("", raw)))


def _packages(words: list[str]) -> list[str] | None:
    """Packages named by `apk add` / `apt-get install`, or [] for other apt/apk verbs."""
    verbs = [w for w in words[1:] if not w.startswith("-")]
    if not verbs:
        return []
    if verbs[0] in ("add", "install"):
        return [p.split("=", 1)[0] for p in verbs[1:]]
    if verbs[0] in ("update", "upgrade", "clean", "autoremove", "del", "purge", "remove", "cache"):
        return []
    return None


def _check_copies(layout: _Layout, roots: list[str]) -> list[Instruction]:
    """COPY/ADD must bring context files under the app folders; returns the copies."""
    copies = []
    for ins in layout.builds:
        if ins.keyword == "RUN":
            continue
        if ins.flag("from") is not None or ins.heredocs or len(ins.arguments) < 2:
            raise _Bail("COPY --from, heredoc or odd COPY")
        if ins.keyword == "ADD" and any(re.match(r"\w+://|git@", a) for a in ins.arguments[:-1]):
            raise _Bail("ADD of a URL")
        dest = _expand(ins.arguments[-1], layout.env[id(ins)], layout.args)
        cwd = layout.workdir[id(ins)]
        if dest is None or (not dest.startswith("/") and cwd is None):
            raise _Bail("COPY destination unknown")
        dest = _join(cwd or "/", dest)
        if not any(dest == r or dest.startswith(r.rstrip("/") + "/") for r in roots if r):
            raise _Bail(f"COPY into {dest}, outside the app")
        copies.append(ins)
    return copies


# --- Go -------------------------------------------------------------------------------

_GO_OK = frozenset({"mod", "get", "generate", "vet", "test", "env", "version", "clean", "list", "work", "fmt"})
# Commands whose effects stay in the builder: the runtime takes only the named output.
_SAFE_COMMANDS = frozenset({"set", "true", "echo", "ls", "pwd", "rm", "chmod", "chown", "git", "upx", "printenv", "env",
                            "uname", "id", "cat"})


def _plan_go(layout: _Layout, context) -> _Plan | None:
    base = layout.base
    if base.family != "golang" or layout.entry is None or layout.entry_shell:
        return None
    builds, c_compiler, dirs, cwds = [], False, set(), []
    for ins in layout.runs():
        cwd = layout.workdir[id(ins)] or runtimes.GOPATH
        exported: dict[str, str] = {}
        for words, assigns, raw in _commands(ins):
            if not words:
                raise _Bail("bare assignment")
            name = words[0]
            if _redirects(raw) and name != "go":
                raise _Bail("redirection")
            if name == "cd":
                if len(words) != 2 or "$" in words[1]:
                    raise _Bail("cd")
                cwd = _join(cwd, words[1])
            elif name == "export":
                for w in words[1:]:
                    key, eq, value = w.partition("=")
                    exported[key] = _unquote(value) if eq else None
            elif name == "go":
                build = runtimes.parse_go(words, cwd)
                if build is not None:
                    env = {**layout.env[id(ins)], **exported, **assigns}
                    builds.append((build, env, ins))
                    cwds.append(build.cwd)
                elif len(words) < 2 or words[1] not in _GO_OK:
                    raise _Bail(f"go {words[1:2]}")
            elif name in ("apk", "apt-get", "apt"):
                pkgs = _packages(words)
                if pkgs is None or set(pkgs) - runtimes.DISTROLESS_PACKAGES:
                    raise _Bail(f"installs {pkgs}")
                c_compiler |= bool(set(pkgs) & runtimes.C_COMPILERS)
            elif name == "mkdir":
                dirs.update(_join(cwd, w) for w in words[1:] if not w.startswith("-"))
            elif name not in _SAFE_COMMANDS:
                raise _Bail(f"unknown command {name}")
    if not builds:
        return None
    module_of = _go_module_finder(layout, context)
    known_dirs = dirs | {w for w in layout.workdir.values() if w}
    outputs = [(runtimes.go_output(b, env, module_of, known_dirs), b, env, ins) for b, env, ins in builds]
    program = layout.entry[0]
    if any(("/" in a or re.search(r"\.\w{1,5}$", a)) and not a.startswith("-") or "=/" in a for a in layout.entry[1:]):
        raise _Bail("arguments that name files")
    if "/" in program:
        if not program.startswith("/") and layout.final_workdir is None:
            return None
        target = _join(layout.final_workdir or "/", program)
        dest = target
    else:
        if any("PATH" == k for e in layout.env.values() for k in e) or program in ("go", "gofmt"):
            return None
        target = next((d + "/" + program for d in runtimes.GO_PATH_DIRS
                       if any(o == d + "/" + program for o, *_ in outputs)), None)
        if target is None:
            return None
        dest = target if posixpath.dirname(target) in runtimes.DEFAULT_PATH_DIRS else "/usr/local/bin/" + program
    match = [(o, b, env, ins) for o, b, env, ins in outputs if o == target]
    if not match:
        return None
    _, build, env, ins = match[-1]
    if env.get("GOOS") not in (None, "linux") or env.get("GOARCH") is not None:
        raise _Bail("cross-compiled")
    _check_copies(layout, [layout.build_workdir, build.cwd, "/go/src"] + cwds)
    cgo = env.get("CGO_ENABLED")
    version = runtimes.version_tuple(base.version)
    static = cgo == "0" or (cgo is None and base.variant == "alpine" and not c_compiler
                            and version is not None and version >= (1, 20))
    if static and "linkmode" in build.flags.get("-ldflags", ""):
        raise _Bail("external linking")
    if not static and base.variant != "full":
        return None  # a cgo binary on musl: no distroless image has musl
    runtime = runtimes.go_runtime(base, static)
    if runtime is None:
        return None
    touched = runtimes.go_sources_touch_files(context)
    if touched:
        raise _Bail(f"{touched} reads files or runs programs")
    how = ("the build sets CGO_ENABLED=0" if cgo == "0" else "cgo is off: no C compiler in the alpine builder (Go >= 1.20)") if static \
        else "cgo may be on, so the binary links glibc"
    notes = [how]
    if not context.known:
        notes.append("without the build context the app's other files are not checked: copy any it reads")
    return _Plan(runtime, [(target, dest)], "Runtime: only the compiled binary, no Go toolchain",
                 f"only {target}", notes=notes)


def _go_module_finder(layout: _Layout, context):
    """cwd -> import path of the package there, from go.mod in the build context."""
    roots = []
    for ins in layout.builds:
        if ins.keyword in ("COPY", "ADD") and ins.arguments[:-1] in (["."], ["./"]) and ins.flag("from") is None:
            dest = ins.arguments[-1]
            cwd = layout.workdir[id(ins)]
            if "$" not in dest and (dest.startswith("/") or cwd):
                roots.append(_join(cwd or "/", dest))

    def module_of(cwd: str) -> str | None:
        if not context.known:
            return None
        for root in roots:
            if cwd != root and not cwd.startswith(root.rstrip("/") + "/"):
                continue
            rel = posixpath.relpath(cwd, root)
            parts = [] if rel == "." else rel.split("/")
            for i in range(len(parts), -1, -1):
                module = runtimes.go_module_path(context.read_text("/".join(parts[:i] + ["go.mod"])))
                if module:
                    return "/".join([module] + parts[i:])
        return None

    return module_of


# --- Node -----------------------------------------------------------------------------

_NODE_BUILD_INPUTS = re.compile(
    r"^(src|lib/?src|test|tests|__tests__|spec|e2e|docs|\.github|\.vscode|\.husky|\.git|\.gitignore|"
    r"\.gitattributes|\.dockerignore|\.editorconfig|\.eslintrc.*|\.eslintignore|\.prettierrc.*|"
    r"\.prettierignore|\.nvmrc|\.node-version|\.npmrc|\.babelrc.*|tsconfig.*\.json|[\w.-]+\.config\.[cm]?[jt]s|"
    r"README.*|LICENSE.*|CHANGELOG.*|.*\.md|Dockerfile.*|.*\.Dockerfile|docker-compose.*|compose\.ya?ml|"
    r"package\.json|package-lock\.json|pnpm-lock\.yaml|npm-shrinkwrap\.json|node_modules|\.env\.example|"
    r"nodemon\.json|jest\.config\.json|\.dockopt\.toml)$"
)


_LIFECYCLE = frozenset({"preinstall", "install", "postinstall", "prepare", "preprepare", "postprepare"})


def _plan_node(layout: _Layout, context) -> _Plan | None:
    base = layout.base
    if base.family != "node" or layout.entry is None:
        return None
    app = layout.build_workdir
    if not app or app == "/" or layout.final_workdir != app:
        return None
    manager, prod_only, builds = None, False, []
    pkg = runtimes.package_json(context)
    scripts = (pkg or {}).get("scripts") or {}
    for ins in layout.runs():
        for words, assigns, raw in _commands(ins):
            if not words or _redirects(raw):
                raise _Bail("redirection or bare assignment")
            name, rest = words[0], words[1:]
            verb = rest[0] if rest else ""
            if name in ("npm", "pnpm") and verb in ("install", "i", "add", "ci") and ("-g" in rest or "--global" in rest):
                continue  # a global tool, e.g. pnpm itself
            if name == "corepack" and verb in ("enable", "prepare"):
                continue
            if name in ("npm", "pnpm") and verb in ("install", "i", "ci", "clean-install"):
                if any(not a.startswith("-") for a in rest[1:]) or manager not in (None, name):
                    raise _Bail("named packages or two package managers")
                manager = name
                prod_only = any(a in ("--production", "--omit=dev", "--only=production", "--only=prod", "--prod", "-P") for a in rest)
            elif name in ("npm", "pnpm") and (verb in ("run", "run-script") and len(rest) >= 2 or name == "pnpm" and verb == "build"):
                script = "build" if verb == "build" else rest[1]
                if script != "build" and script not in scripts:
                    raise _Bail(f"script {script}")
                if pkg is not None and script not in scripts:
                    raise _Bail("no such script")
                builds.append(script)
            elif name == "npm" and verb in ("prune", "cache") or name == "pnpm" and verb in ("prune", "store"):
                continue
            elif name in ("apk", "apt-get", "apt"):
                pkgs = _packages(words)
                if pkgs is None or set(pkgs) - runtimes.BUILD_PACKAGES:
                    raise _Bail(f"installs {pkgs}")
            elif name not in _SAFE_COMMANDS - {"git"}:
                raise _Bail(f"unknown command {name}")
    if manager is None:
        return None
    script_file = _node_script(layout.entry, scripts, context)
    if script_file is None:
        return None
    target = _join(app, script_file)
    if not target.startswith(app.rstrip("/") + "/"):
        return None
    copies = _check_copies(layout, [app])
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
    return _Plan(runtime, pairs, comment, what, builder_steps=steps, notes=notes)


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


# --- Java -----------------------------------------------------------------------------

_MAVEN_GOALS = re.compile(r"^(clean|package|install|verify|compile|test-compile|validate|"
                          r"dependency:[\w-]+|spring-boot:repackage)$")
_GRADLE_TASKS = re.compile(r"^:?(clean|build|assemble|bootJar|shadowJar|jar|dependencies|classes|testClasses)$")
_JAR_GOALS = frozenset({"package", "install", "verify", "spring-boot:repackage", "build", "assemble", "bootJar",
                        "shadowJar", "jar"})
_OTHER_PROJECT = re.compile(r"^(-f|--file|-pl|--projects|-p|--project-dir|-b|--build-file)(=|$)")


def _plan_java(layout: _Layout, context) -> _Plan | None:
    base = layout.base
    if base.family not in runtimes.JAVA_BUILDERS or not layout.entry:
        return None
    version = runtimes.java_version(base)
    if version is None:
        return None
    outputs: dict[str, str] = {}  # folder a build writes its jar to -> the tool
    aliases: set[str] = set()  # jars copied out of such a folder by cp / mv
    for ins in layout.runs():
        cwd = layout.workdir[id(ins)]
        for words, assigns, raw in _commands(ins):
            if not words or _redirects(raw):
                raise _Bail("redirection or bare assignment")
            name = posixpath.basename(words[0])
            if name in ("mvn", "mvnw", "gradle", "gradlew"):
                if cwd is None or any(_OTHER_PROJECT.match(w) for w in words[1:]):
                    raise _Bail("build of another project folder")
                values = {w for i, w in enumerate(words[1:], 1) if words[i - 1] in ("-x", "--exclude-task", "-P", "-D")}
                goals = [w for w in words[1:] if not w.startswith("-") and w not in values]
                maven = name.startswith("mvn")
                if not all((_MAVEN_GOALS if maven else _GRADLE_TASKS).match(g) for g in goals):
                    raise _Bail(f"build goals {goals}")
                if any(g.lstrip(":") in _JAR_GOALS for g in goals):
                    outputs[_join(cwd, "target" if maven else "build/libs")] = "Maven" if maven else "Gradle"
            elif name in ("cp", "mv") and len(words) == 3 and cwd and not words[1].startswith("-"):
                src, dest = _join(cwd, words[1]), _join(cwd, words[2])
                if posixpath.dirname(src) not in outputs or not dest.endswith(".jar"):
                    raise _Bail("cp of something else than a built jar")
                aliases.add(dest)
            elif name in ("apk", "apt-get", "apt"):
                pkgs = _packages(words)
                if pkgs is None or set(pkgs) - runtimes.BUILD_PACKAGES:
                    raise _Bail(f"installs {pkgs}")
            elif name not in _SAFE_COMMANDS:
                raise _Bail(f"unknown command {name}")
    if not outputs:
        return None
    jar = _java_jar(layout.entry)
    if jar is None or (layout.final_workdir is None and not jar.startswith("/")):
        return None
    jar = _join(layout.final_workdir or "/", jar)
    folder = posixpath.dirname(jar)
    fat = _fat_jar(context)
    if jar in aliases:
        copies, what = [(jar, jar)], f"only {jar}"
    elif folder in outputs and fat:
        copies, what = [(jar, jar)], f"only {jar} ({fat} packs the dependencies into it)"
    elif folder in outputs and (libraries := _class_path(context, outputs[folder], folder)) is not None:
        copies = [(jar, jar)] + [(lib, lib) for lib in libraries]
        what = (f"only {jar} and {', '.join(lib + '/' for lib in libraries)} (the libraries its manifest's Class-Path "
                f"names)" if libraries else f"only {jar} (its manifest names no library: no Class-Path in the build file)")
    elif folder in outputs:
        copies, what = [(folder, folder)], f"{folder}/ (the jar, and any libraries its manifest names)"
    else:
        return None
    _check_copies(layout, [layout.build_workdir] + [posixpath.dirname(o) for o in outputs])
    if context.known and (context.glob("application*.properties") + context.glob("application*.y*ml")
                          or context.is_dir("config")):
        raise _Bail("Spring Boot reads configuration from the working folder")
    runtime = runtimes.java_runtime(base, version)
    if runtime is None:
        return None
    notes = [] if context.known else ["without the build context the app's other files are not checked: copy any it reads"]
    tool = " and ".join(sorted(set(outputs.values())))
    return _Plan(runtime, copies, f"Runtime: the jar on a JRE, without the JDK and {tool}", what, notes=notes)


def _java_jar(entry: list[str]) -> str | None:
    """The jar of `java [options] -jar JAR [args]`; None for a classpath, an agent or a glob."""
    if posixpath.basename(entry[0]) != "java" or "-jar" not in entry:
        return None
    at = entry.index("-jar")
    if at + 1 >= len(entry) or any(o.startswith(("-cp", "-classpath", "--class-path", "-javaagent", "@")) or "/" in o
                                   for o in entry[1:at]):
        return None
    jar = entry[at + 1]
    return None if "$" in jar or "*" in jar or not jar.endswith(".jar") else jar


def _class_path(context, tool: str, folder: str) -> list[str] | None:
    """The folders beside the jar its manifest's Class-Path reaches, as the build file
    configures it: none when it sets no Class-Path; Maven's `<addClasspath>` with a
    `<classpathPrefix>` (the libraries copied there, as maven-dependency-plugin's
    copy-dependencies does); None (the whole output folder, as before) when it cannot be
    told: no build context, a Class-Path written by hand, or no prefix."""
    if not context.known:
        return None
    if tool == "Maven":
        pom = context.read_text("pom.xml")
        if pom is None or "<modules>" in pom or "Class-Path" in pom:
            return None
        if not re.search(r"<addClasspath>\s*true\s*</addClasspath>", pom):
            return []
        prefix = re.search(r"<classpathPrefix>\s*([\w.-]+)/?\s*</classpathPrefix>", pom)
        return [posixpath.join(folder, prefix.group(1))] if prefix else None
    build = context.read_text("build.gradle") or context.read_text("build.gradle.kts")
    if build is None or re.search(r"Class-Path|classpath\s*[=(]|manifest\s*\{[^}]*attributes", build, re.I | re.S):
        return None
    return []


def _fat_jar(context) -> str | None:
    """The plugin that makes the jar carry its dependencies, from the build file."""
    if not context.known:
        return None
    for name in ("pom.xml", "build.gradle", "build.gradle.kts"):
        m = runtimes.FAT_JAR_PLUGINS.search(context.read_text(name) or "")
        if m:
            return m.group(0)
    return None


# --- .NET -----------------------------------------------------------------------------

_DOTNET_OK = frozenset({"restore", "build", "test", "--info", "--version", "nuget", "dev-certs"})
_SELF_CONTAINED = re.compile(r"^(-r|--runtime|--self-contained|--sc|-p:Publish(Aot|Trimmed|SingleFile|ReadyToRun)|"
                             r"/p:Publish(Aot|Trimmed|SingleFile|ReadyToRun))(=|:|$)", re.I)


def _plan_dotnet(layout: _Layout, context) -> _Plan | None:
    base = layout.base
    if base.family != "dotnet/sdk" or not layout.entry:
        return None
    published: list[str] = []
    for ins in layout.runs():
        cwd = layout.workdir[id(ins)]
        for words, assigns, raw in _commands(ins):
            if not words or _redirects(raw):
                raise _Bail("redirection or bare assignment")
            if words[0] == "dotnet" and words[1:2] == ["publish"]:
                out = next((words[i + 1] for i, w in enumerate(words[:-1]) if w in ("-o", "--output")), None)
                out = out or next((w.split("=", 1)[1] for w in words if w.startswith("--output=")), None)
                if out is None or "$" in out or cwd is None and not out.startswith("/"):
                    raise _Bail("publish folder unknown")
                if any(_SELF_CONTAINED.match(w) for w in words):
                    raise _Bail("self-contained or native publish")
                published.append(_join(cwd or "/", out))
            elif words[0] == "dotnet" and words[1:2] and words[1] in _DOTNET_OK:
                continue
            elif words[0] not in _SAFE_COMMANDS - {"git"}:
                raise _Bail(f"unknown command {words[0]}")
    if not published:
        return None
    entry, cwd = layout.entry, layout.final_workdir
    if entry[0] == "dotnet" and len(entry) >= 2 and entry[1].endswith(".dll"):
        program = entry[1]
    elif not entry[0].endswith(".dll") and "/" in entry[0]:
        program = entry[0]  # the apphost next to the dll
    else:
        return None
    if cwd is None or "$" in program or any("/" in a for a in entry[2:]):
        return None
    if cwd not in published or posixpath.dirname(_join(cwd, program)) != cwd:
        return None  # the content root (appsettings.json, wwwroot) is the working folder: it must be the output
    _check_copies(layout, [layout.build_workdir])
    runtime = runtimes.dotnet_runtime(base, _dotnet_web(context))
    if runtime is None:
        return None
    return _Plan(runtime, [(cwd, cwd)], "Runtime: the published app on the .NET runtime, without the SDK",
                 f"the published {cwd}/")


def _dotnet_web(context) -> bool | None:
    """Whether the projects use ASP.NET Core: True, False, or None without the context."""
    if not context.known:
        return None
    projects = context.glob("*.csproj") + context.glob("*/*.csproj") + context.glob("*/*/*.csproj")
    if not projects:
        return None
    texts = [context.read_text(p) or "" for p in projects]
    return any(re.search(r"Microsoft\.NET\.Sdk\.(Web|Razor|BlazorWebAssembly)|Microsoft\.AspNetCore", t) for t in texts)


# --- Rust -----------------------------------------------------------------------------

def _plan_rust(layout: _Layout, context) -> _Plan | None:
    base = layout.base
    if base.family != "rust" or layout.entry is None or layout.entry_shell:
        return None
    outputs: dict[str, bool] = {}  # folder cargo writes binaries to -> static (musl target)
    for ins in layout.runs():
        cwd = layout.workdir[id(ins)]
        env = layout.env[id(ins)]
        for words, assigns, raw in _commands(ins):
            if not words or _redirects(raw):
                raise _Bail("redirection or bare assignment")
            name, args = words[0], words[1:]
            if name == "cargo" and args[:1] == ["build"]:
                if cwd is None or "CARGO_TARGET_DIR" in env or "CARGO_TARGET_DIR" in assigns or "--target-dir" in args:
                    raise _Bail("target folder unknown")
                if "--release" not in args and "-r" not in args:
                    raise _Bail("debug build")
                triple = next((args[i + 1] for i, a in enumerate(args[:-1]) if a == "--target"), None)
                folder = f"target/{triple}/release" if triple else "target/release"
                static = (triple or "").endswith("-linux-musl") or (triple is None and base.variant == "alpine")
                outputs[_join(cwd, folder)] = static
            elif name == "cargo" and args[:1] == ["install"] and "--path" in args and "--root" not in args:
                outputs[runtimes.CARGO_BIN] = base.variant == "alpine"
            elif name == "cargo" and args[:1] and args[0] in ("fetch", "test", "check", "clippy", "fmt", "generate-lockfile"):
                continue
            elif name == "rustup" and args[:2] in (["target", "add"], ["component", "add"]):
                continue
            elif name in ("apk", "apt-get", "apt"):
                pkgs = _packages(words)
                if pkgs is None or set(pkgs) - runtimes.DISTROLESS_PACKAGES:
                    raise _Bail(f"installs {pkgs}")
            elif name not in _SAFE_COMMANDS | {"mkdir", "touch", "cp"}:
                raise _Bail(f"unknown command {name}")
    if not outputs:
        return None
    program = layout.entry[0]
    if any("/" in a or "=/" in a for a in layout.entry[1:]):
        raise _Bail("arguments that name files")
    if "/" in program:
        if not program.startswith("/") and layout.final_workdir is None:
            return None
        target = dest = _join(layout.final_workdir or "/", program)
    elif runtimes.CARGO_BIN in outputs and not any("PATH" in e for e in layout.env.values()):
        target, dest = f"{runtimes.CARGO_BIN}/{program}", f"/usr/local/bin/{program}"
    else:
        return None
    folder = posixpath.dirname(target)
    if folder not in outputs:
        return None
    sys_crates = runtimes.rust_sys_crates(context)
    if sys_crates is None or sys_crates or (outputs[folder] and "openssl-sys" in (context.read_text("Cargo.lock") or "")):
        raise _Bail(f"Cargo.lock unknown or links {sys_crates}")
    _check_copies(layout, [layout.build_workdir])
    runtime = runtimes.rust_runtime(base, outputs[folder])
    if runtime is None:
        return None
    return _Plan(runtime, [(target, dest)], "Runtime: only the compiled binary, no Rust toolchain",
                 f"only {target}", notes=["Cargo.lock has no -sys crate linking a library the runtime lacks"])


# --- writing the split ----------------------------------------------------------------

def _render(layout: _Layout, plan: _Plan) -> Edit:
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
    sizes = f"builder {runtimes.size_note(layout.base.ref)}; runtime {runtimes.size_note(ref)}"
    why = "; ".join(
        [f"split into a build stage and a runtime stage on {ref} holding {plan.what}", runtime.why]
        + plan.notes + [user_note, sizes]
    )
    return Edit(stage.from_.start, len(source), head + nl + runtime_text, why, REVIEW)


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


def _user(layout: _Layout, plan: _Plan) -> tuple[str | None, str]:
    """The USER to add (None: none) and a note for the explanation."""
    runtime = plan.runtime
    if layout.user is not None:
        name = layout.user.split(":", 1)[0]
        if not (name.isdigit() or name in runtime.users):
            raise _Bail(f"user {name} does not exist in the runtime")
        return None, f"keeps USER {layout.user}"
    reason = _needs_root(layout)
    if reason and runtime.default_user:
        # distroless as root needs `:latest` or `USER root`: both flagged (DL3007, DL3002)
        raise _Bail(f"it {reason}: root on distroless")
    if reason:
        return None, f"runs as root like the original, since it {reason}"
    if runtime.default_user:
        return None, f"runs as {runtime.default_user} (uid 65532), the image's non-root user"
    if runtime.user:
        how = "a system user added with the image's own tools" if runtime.create_user else "the image's non-root user"
        return runtime.user, f"runs as {runtime.user_name} ({runtime.user}), {how}"
    return None, "runs as root like the original"


def _needs_root(layout: _Layout) -> str | None:
    for ins in layout.moved:
        if ins.keyword == "VOLUME":
            return "declares a VOLUME"
        if ins.keyword == "EXPOSE":
            for word in ins.arguments:
                port = _expand(word.split("/", 1)[0], layout.env[id(ins)], layout.args)
                low = port.split("-", 1)[0] if port else ""
                if not low.isdigit() or int(low) < 1024:
                    return f"exposes port {word}"
    return None


def _check_runtime_needs(layout: _Layout, runtime: runtimes.Runtime, plan: _Plan) -> None:
    for ins in layout.moved:
        if ins.keyword in plan.drop:
            continue
        if ins.keyword == "HEALTHCHECK" and not plan.healthcheck_ok:
            args = ins.args_text.split()
            if args[:1] and args[0].upper() == "NONE":
                continue
            raise _Bail("HEALTHCHECK: the runtime may lack its command")
        if ins.keyword in ("CMD", "ENTRYPOINT") and not ins.json and not runtime.shell:
            raise _Bail("shell-form command on an image without a shell")


def _runtime_args(layout: _Layout) -> list[str]:
    """ARG declarations the runtime needs because its ENV/LABEL/... use them."""
    defined: set[str] = {"PATH", "HOME", "HOSTNAME"}
    moved_args = {name for i in layout.moved if i.keyword == "ARG" for name, _ in _arg_pairs(i)}
    needed: list[str] = []
    for ins in sorted(layout.copied + layout.moved, key=lambda i: i.start):
        if ins.keyword == "ARG":
            defined.update(name for name, _ in _arg_pairs(ins))
            continue
        if ins.keyword in ("CMD", "ENTRYPOINT", "HEALTHCHECK"):
            continue  # the shell expands these when the container runs, from its environment: no ARG reaches it
        for m in _VAR.finditer(ins.args_text):
            name = m.group(1) or m.group(2)
            if name in defined or name in needed:
                continue
            decl = next((i for i in layout.stage.instructions
                         if i.keyword == "ARG" and i.start < ins.start and name in dict(_arg_pairs(i))), None)
            if decl is None:
                raise _Bail(f"${name}: not declared in the stage, unknown in the runtime")
            if name not in moved_args:
                needed.append(name)
        if ins.keyword == "ENV":
            defined.update(name for name, _ in _env_pairs(ins))
    out = []
    for ins in layout.stage.instructions:
        if ins.keyword == "ARG" and any(name in needed for name, _ in _arg_pairs(ins)):
            start, end = ins.content_span()
            out.append(layout.dockerfile.source[start:end])
    return out


# What the per-ecosystem planners in dockopt/optimizer/split_*.py build on.
Bail, Layout, Plan = _Bail, _Layout, _Plan
run_commands, packages, check_copies, expand, join, entry_words = _commands, _packages, _check_copies, _expand, _join, _entry
redirects, SAFE_COMMANDS = _redirects, _SAFE_COMMANDS


TRANSFORM = Transform(
    id="DO202",
    name="stage-split",
    title="Build in one stage and run from a small runtime image",
    why="A toolchain image ships compilers, sources and dev dependencies the app never runs.",
    safety=REVIEW,
    fix=fix,
    doc=__doc__,
)
