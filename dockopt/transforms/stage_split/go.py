"""Go in the stage split (DO202): the binary alone, on distroless.

The builder keeps `go build` / `go install`; the runtime holds only the binary that CMD or
ENTRYPOINT runs. It goes on `gcr.io/distroless/static-debian13:nonroot` when it is a
static binary: CGO_ENABLED=0 is set (an assignment, `export` or ENV), or cgo is off
because golang:*-alpine has no C compiler (Go >= 1.20). Otherwise, on a Debian golang
image, cgo may be on and the binary links glibc: distroless `base-debian13`. A cgo binary
built on alpine (musl) has no distroless image and is left alone.

Where the binary is comes from `go build -o` or from where `go install` puts it (its
module's import path, read from go.mod in the build context; runtimes.go_output). A
binary found on PATH moves to /usr/local/bin. Cross-compiled builds, external linking,
command arguments that name files, and (with the context) Go sources that open files, run
programs or load config files give up: the runtime has nothing but the binary.
"""

from __future__ import annotations

import posixpath
import re

from dockopt.optimizer import runtimes
from dockopt.transforms.stage_split.stage import (SAFE_COMMANDS, Bail, Layout, Plan, check_copies, installs_only,
                                                  join, redirects, run_commands, unquote)

_GO_OK = frozenset({"mod", "get", "generate", "vet", "test", "env", "version", "clean", "list", "work", "fmt"})


def plan(layout: Layout, context) -> Plan | None:
    base = layout.base
    if base.family != "golang" or layout.entry is None or layout.entry_shell:
        return None
    builds, c_compiler, dirs, cwds = [], False, set(), []
    for ins in layout.runs():
        cwd = layout.workdir[id(ins)] or runtimes.GOPATH
        exported: dict[str, str] = {}
        for words, assigns, raw in run_commands(ins):
            if not words:
                raise Bail("bare assignment")
            name = words[0]
            if redirects(raw) and name != "go":
                raise Bail("redirection")
            if name == "cd":
                if len(words) != 2 or "$" in words[1]:
                    raise Bail("cd")
                cwd = join(cwd, words[1])
            elif name == "export":
                for w in words[1:]:
                    key, eq, value = w.partition("=")
                    exported[key] = unquote(value) if eq else None
            elif name == "go":
                build = runtimes.parse_go(words, cwd)
                if build is not None:
                    env = {**layout.env[id(ins)], **exported, **assigns}
                    builds.append((build, env, ins))
                    cwds.append(build.cwd)
                elif len(words) < 2 or words[1] not in _GO_OK:
                    raise Bail(f"go {words[1:2]}")
            elif name in ("apk", "apt-get", "apt"):
                pkgs = installs_only(words, runtimes.DISTROLESS_PACKAGES)
                c_compiler |= bool(set(pkgs) & runtimes.C_COMPILERS)
            elif name == "mkdir":
                dirs.update(join(cwd, w) for w in words[1:] if not w.startswith("-"))
            elif name not in SAFE_COMMANDS:
                raise Bail(f"unknown command {name}")
    if not builds:
        return None
    module_of = _go_module_finder(layout, context)
    known_dirs = dirs | {w for w in layout.workdir.values() if w}
    outputs = [(runtimes.go_output(b, env, module_of, known_dirs), b, env, ins) for b, env, ins in builds]
    program = layout.entry[0]
    if any(("/" in a or re.search(r"\.\w{1,5}$", a)) and not a.startswith("-") or "=/" in a for a in layout.entry[1:]):
        raise Bail("arguments that name files")
    if "/" in program:
        if not program.startswith("/") and layout.final_workdir is None:
            return None
        target = join(layout.final_workdir or "/", program)
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
        raise Bail("cross-compiled")
    check_copies(layout, [layout.build_workdir, build.cwd, "/go/src"] + cwds)
    cgo = env.get("CGO_ENABLED")
    version = runtimes.version_tuple(base.version)
    static = cgo == "0" or (cgo is None and base.variant == "alpine" and not c_compiler
                            and version is not None and version >= (1, 20))
    if static and "linkmode" in build.flags.get("-ldflags", ""):
        raise Bail("external linking")
    if not static and base.variant != "full":
        return None  # a cgo binary on musl: no distroless image has musl
    runtime = runtimes.go_runtime(base, static)
    if runtime is None:
        return None
    touched = runtimes.go_sources_touch_files(context)
    if touched:
        raise Bail(f"{touched} reads files or runs programs")
    how = ("the build sets CGO_ENABLED=0" if cgo == "0" else "cgo is off: no C compiler in the alpine builder (Go >= 1.20)") if static \
        else "cgo may be on, so the binary links glibc"
    notes = [how]
    if not context.known:
        notes.append("without the build context the app's other files are not checked: copy any it reads")
    return Plan(runtime, [(target, dest)], "Runtime: only the compiled binary, no Go toolchain",
                 f"only {target}", notes=notes)


def _go_module_finder(layout: Layout, context):
    """cwd -> import path of the package there, from go.mod in the build context."""
    roots = []
    for ins in layout.builds:
        if ins.keyword in ("COPY", "ADD") and ins.arguments[:-1] in (["."], ["./"]) and ins.flag("from") is None:
            dest = ins.arguments[-1]
            cwd = layout.workdir[id(ins)]
            if "$" not in dest and (dest.startswith("/") or cwd):
                roots.append(join(cwd or "/", dest))

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
