"""What a build stage needs from its base image, read from what its instructions do.

The slim-base transform may only swap a base image for a variant that still has everything
the stage uses: Debian's apt when packages are installed with apt-get, bash when a command
runs bash, the default image's compilers and tools (git, curl, make, gcc...) when a command
calls one it did not install, glibc when anything compiled against it may run (packages
installed with pip, npm, gem... ship glibc builds; binaries copied from another stage).
What the container runs counts as much as what the build runs: a CMD, ENTRYPOINT or
HEALTHCHECK calling bash or curl, or a script from the build context whose `#!` line names
bash. A pip install keeps the compilers when it may build a source-only package that
links a system library (psycopg2, uwsgi...), or when the requirements cannot be read.
Each need names the instruction that causes it, so the explanation can say why a smaller
variant was not chosen.
"""

from __future__ import annotations

import re

# Tools the default (buildpack-deps based) images ship and slim or alpine variants lack.
BUILD_TOOLS = frozenset(
    "git curl wget gcc g++ cc c++ make cmake autoconf automake libtool pkg-config ssh scp "
    "svn hg bzr patch unzip xz bzip2 file gnupg gpg dpkg-dev procps".split()
)
# Installers that may compile native code (node-gyp needs python3, make and g++).
_NATIVE_INSTALLERS = frozenset({"npm", "yarn", "pnpm", "gem", "bundle", "node-gyp"})
_GLIBC_INSTALLERS = frozenset({"pip", "pip3", "pipenv", "poetry", "uv", "conda", "composer", "cargo", "go"})
_APT = frozenset({"apt-get", "apt", "dpkg", "add-apt-repository", "apt-key"})


def stage_needs(stage, context=None) -> dict[str, int]:
    """The needs of a stage, each with the first line that causes it; `context` (a
    BuildContext) lets scripts and requirement files be read."""
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
        if ins.keyword in ("CMD", "ENTRYPOINT", "HEALTHCHECK"):
            for name in _run_time_needs(ins, context):
                need(name, line)
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
                if _may_compile(cmd, name, context):
                    need("build-tools", line)
    return found


def _run_time_needs(ins, context) -> set[str]:
    """What a CMD, ENTRYPOINT or HEALTHCHECK runs needs: bash, a default-image tool (curl,
    wget...), or what a script it runs needs (its `#!` line, the tools it calls); a script
    that cannot be read may need bash."""
    import json

    from dockopt.optimizer.shell import ShellSyntaxError, parse_commands, run_program

    argv, script = (list(ins.arguments), None) if ins.json else ([], ins.args_text)
    if ins.keyword == "HEALTHCHECK" and script is not None:
        script = re.sub(r"^(?:--\S+\s+)*CMD\s+", "", script, flags=re.I)
        if script.startswith("["):  # HEALTHCHECK CMD ["wget", ...]
            try:
                argv, script = [str(a) for a in json.loads(script)], None
            except ValueError:
                return {"bash", "build-tools"}
    found = set()
    if argv and len(argv) >= 3 and argv[0].rsplit("/", 1)[-1] in ("sh", "ash", "dash", "bash") and argv[1].endswith("c"):
        script = argv[2]
        if argv[0].rsplit("/", 1)[-1] == "bash":
            found.add("bash")
    words_list = [argv] if argv and script is None else []
    if script is not None:
        try:
            words_list = [c.words[c.assignments :] for c in parse_commands(script) if c.name]
        except ShellSyntaxError:
            return {"bash", "build-tools"}
    for words in words_list:
        base, at = run_program(words)
        program = words[at] if at >= 0 else ""
        if base == "bash":
            found.add("bash")
        elif base in BUILD_TOOLS:
            found.add("build-tools")
        elif base.endswith(".sh") or (program.startswith(("./", "/")) and "." not in base):
            found |= _script_needs(program, context)
    return found


def _script_needs(program: str, context) -> set[str]:
    """What a script from the build context needs: bash when its `#!` line names bash, the
    default image's tools it calls; bash when a `.sh` script cannot be found there."""
    base = program.rsplit("/", 1)[-1]
    if context is not None and context.known and base:
        for path in context.glob(f"**/{base}")[:5]:
            text = context.read_text(path)
            if text is None or not text.startswith("#!"):
                return set()  # a binary, or sh runs it
            needs = {"bash"} if "bash" in text.split("\n", 1)[0] else set()
            if re.search(rf"(?<![\w./-])(?:{'|'.join(map(re.escape, sorted(BUILD_TOOLS)))})(?![\w.-])", text):
                needs.add("build-tools")
            return needs
    return {"bash"} if base.endswith(".sh") else set()


# PyPI projects published only as sources that link a system library: installing them
# compiles (runtimes.PYTHON_LINKED_SDISTS lists them with their runtime libraries).
def _linked_sdists() -> frozenset[str]:
    from dockopt.optimizer.runtimes import PYTHON_LINKED_SDISTS

    return frozenset(PYTHON_LINKED_SDISTS)


_REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)", re.M)
_PROJECT_FILES = ("poetry.lock", "uv.lock", "Pipfile.lock", "Pipfile", "pyproject.toml", "setup.py", "setup.cfg")


def _may_compile(cmd, name: str, context) -> bool:
    """Whether a Python install may build a source-only package that links a system
    library: one is named, or listed in the requirement or project files it reads, or
    those files cannot be read (no build context)."""
    words = cmd.words[cmd.assignments :]
    if name.startswith("python"):
        if words[1:3] != ["-m", "pip"]:
            return False
        words = words[2:]
    if name not in ("pip", "pip3") and not name.startswith(("pip", "python")):
        if name in ("poetry", "uv", "pipenv") and any(w in ("install", "sync", "add") for w in words[1:3]):
            return _project_may_compile(context)
        return False
    if "install" not in words[1:3]:
        return False
    names, files = [], []
    args = words[words.index("install") + 1 :]
    for i, word in enumerate(args):
        if word in ("-r", "--requirement", "-c", "--constraint") and i + 1 < len(args):
            files.append(args[i + 1])
        elif word.startswith(("-r", "--requirement=")) and len(word) > 2 and word != "-r":
            files.append(word.split("=", 1)[-1] if word.startswith("--") else word[2:])
        elif word in (".", "./") or word.startswith(("./", "/", "-e", "git+")) or "$" in word:
            return _project_may_compile(context) if word in (".", "./", "-e") else True
        elif not word.startswith("-") and (i == 0 or args[i - 1] not in ("-r", "--requirement", "-c", "--constraint", "-i", "--index-url", "--extra-index-url", "-f", "--find-links")):
            names.append(word)
    linked = _linked_sdists()
    if any(_normal(n) in linked for n in names):
        return True
    seen = set()
    while files:
        path = files.pop()
        if path in seen:
            continue
        seen.add(path)
        text = context.read_text(path) if context is not None and context.known else None
        if text is None or any(_normal(n) in linked for n in _REQUIREMENT.findall(text)):
            return True
        folder = path.rsplit("/", 1)[0] + "/" if "/" in path else ""
        files += [folder + m for m in re.findall(r"^\s*(?:-r|-c|--requirement|--constraint)[=\s]\s*(\S+)", text, re.M)]
    return False


def _project_may_compile(context) -> bool:
    if context is None or not context.known:
        return True
    texts = [t for t in (context.read_text(f) for f in _PROJECT_FILES) if t]
    if not texts:
        return True
    linked = _linked_sdists()
    return any(_normal(n) in linked for t in texts for n in re.findall(r"[A-Za-z0-9][A-Za-z0-9._-]*", t))


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", re.split(r"[<>=!~\[;@ ]", name, 1)[0]).lower()
