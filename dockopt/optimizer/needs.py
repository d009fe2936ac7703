"""What a build stage needs from its base image, read from what its instructions do.

The slim-base transform may only swap a base image for a variant that still has everything
the stage uses: Debian's apt when packages are installed with apt-get, bash when a command
runs bash, the default image's compilers and tools (git, curl, make, gcc...) when a command
calls one it did not install, glibc when anything compiled against it may run (packages
installed with pip, npm, gem... ship glibc builds; binaries copied from another stage).
Each need names the instruction that causes it, so the explanation can say why a smaller
variant was not chosen.
"""

from __future__ import annotations

# Tools the default (buildpack-deps based) images ship and slim or alpine variants lack.
BUILD_TOOLS = frozenset(
    "git curl wget gcc g++ cc c++ make cmake autoconf automake libtool pkg-config ssh scp "
    "svn hg bzr patch unzip xz bzip2 file gnupg gpg dpkg-dev procps".split()
)
# Installers that may compile native code (node-gyp needs python3, make and g++).
_NATIVE_INSTALLERS = frozenset({"npm", "yarn", "pnpm", "gem", "bundle", "node-gyp"})
_GLIBC_INSTALLERS = frozenset({"pip", "pip3", "pipenv", "poetry", "uv", "conda", "composer", "cargo", "go"})
_APT = frozenset({"apt-get", "apt", "dpkg", "add-apt-repository", "apt-key"})


def stage_needs(stage) -> dict[str, int]:
    """The needs of a stage, each with the first line that causes it."""
    from dockopt.optimizer.shell import commands

    found: dict[str, int] = {}
    installed: set[str] = set()

    def need(name: str, line: int) -> None:
        found.setdefault(name, line)

    for ins in stage.instructions:
        line = ins.start_line
        if ins.keyword == "SHELL":
            need("bash" if any("bash" in a for a in ins.arguments) else "shell", line)
        if ins.keyword in ("COPY", "ADD") and ins.flag("from") is not None:
            need("glibc", line)
        if ins.keyword in ("RUN", "CMD", "ENTRYPOINT", "HEALTHCHECK") and not ins.json:
            need("shell", line)
        if ins.keyword != "RUN":
            continue
        if ins.json or ins.heredocs and not commands(ins):
            need("bash", line)  # cannot read it: assume the most
            need("build-tools", line)
            continue
        for cmd in commands(ins):
            name = cmd.name.rsplit("/", 1)[-1]
            if name in _APT:
                need("apt", line)
                if cmd.find("install") is not None:
                    installed.update(w for w in cmd.args_after("install") or [] if not w.startswith("-"))
            elif name == "bash" or "[[" in cmd.words:
                need("bash", line)
            elif name in BUILD_TOOLS and name not in installed:
                need("build-tools", line)
            if name in _NATIVE_INSTALLERS:
                need("build-tools", line)
                need("glibc", line)
            elif name in _GLIBC_INSTALLERS or name.startswith("python"):
                need("glibc", line)
    return found
