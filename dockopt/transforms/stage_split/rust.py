"""Rust in the stage split (DO202): the release binary alone, on distroless.

A stage that runs `cargo build --release` (or `cargo install --path`) and a binary it
makes becomes a builder and a runtime holding only that binary: distroless `cc-debian13`
(glibc, libgcc, OpenSSL) for a glibc build, distroless static for a musl one (a
`--target *-linux-musl`, or the rust alpine image). Only with the build context, and only
when its Cargo.lock has no -sys crate linking a library the runtime lacks (openssl-sys is
fine on cc, not on static). Debug builds, a target folder moved by CARGO_TARGET_DIR or
`--target-dir`, and command arguments that name files give up.
"""

from __future__ import annotations

import posixpath

from dockopt.optimizer import runtimes
from dockopt.transforms.stage_split.stage import (SAFE_COMMANDS, Bail, Layout, Plan, build_commands, check_copies,
                                                  installs_only, join)

def plan(layout: Layout, context) -> Plan | None:
    base = layout.base
    if base.family != "rust" or layout.entry is None or layout.entry_shell:
        return None
    outputs: dict[str, bool] = {}  # folder cargo writes binaries to -> static (musl target)
    for ins, words, assigns in build_commands(layout):
        cwd = layout.workdir[id(ins)]
        env = layout.env[id(ins)]
        name, args = words[0], words[1:]
        if name == "cargo" and args[:1] == ["build"]:
            if cwd is None or "CARGO_TARGET_DIR" in env or "CARGO_TARGET_DIR" in assigns or "--target-dir" in args:
                raise Bail("target folder unknown")
            if "--release" not in args and "-r" not in args:
                raise Bail("debug build")
            triple = next((args[i + 1] for i, a in enumerate(args[:-1]) if a == "--target"), None)
            folder = f"target/{triple}/release" if triple else "target/release"
            static = (triple or "").endswith("-linux-musl") or (triple is None and base.variant == "alpine")
            outputs[join(cwd, folder)] = static
        elif name == "cargo" and args[:1] == ["install"] and "--path" in args and "--root" not in args:
            outputs[runtimes.CARGO_BIN] = base.variant == "alpine"
        elif name == "cargo" and args[:1] and args[0] in ("fetch", "test", "check", "clippy", "fmt", "generate-lockfile"):
            continue
        elif name == "rustup" and args[:2] in (["target", "add"], ["component", "add"]):
            continue
        elif name in ("apk", "apt-get", "apt"):
            installs_only(words, runtimes.DISTROLESS_PACKAGES)
        elif name not in SAFE_COMMANDS | {"mkdir", "touch", "cp"}:
            raise Bail(f"unknown command {name}")
    if not outputs:
        return None
    program = layout.entry[0]
    if any("/" in a or "=/" in a for a in layout.entry[1:]):
        raise Bail("arguments that name files")
    if "/" in program:
        if not program.startswith("/") and layout.final_workdir is None:
            return None
        target = dest = join(layout.final_workdir or "/", program)
    elif runtimes.CARGO_BIN in outputs and not any("PATH" in e for e in layout.env.values()):
        target, dest = f"{runtimes.CARGO_BIN}/{program}", f"/usr/local/bin/{program}"
    else:
        return None
    folder = posixpath.dirname(target)
    if folder not in outputs:
        return None
    sys_crates = runtimes.rust_sys_crates(context)
    if sys_crates is None or sys_crates or (outputs[folder] and "openssl-sys" in (context.read_text("Cargo.lock") or "")):
        raise Bail(f"Cargo.lock unknown or links {sys_crates}")
    check_copies(layout, [layout.build_workdir])
    runtime = runtimes.rust_runtime(base, outputs[folder])
    if runtime is None:
        return None
    return Plan(runtime, [(target, dest)], "Runtime: only the compiled binary, no Rust toolchain",
                 f"only {target}", notes=["Cargo.lock has no -sys crate linking a library the runtime lacks"])
