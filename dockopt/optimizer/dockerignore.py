""".dockerignore: what a build context should leave out, and how docker reads the file.

Everything in the build context is sent to the builder before the first instruction runs,
and `COPY . .` puts all of it into the image: a local node_modules, a virtualenv, the .git
history, an `.env` full of secrets. DO205 (dockopt/transforms/dockerignore.py) proposes a
.dockerignore for the ecosystem it detects, or extends the one there is. This module holds
the two halves of that:

- the matcher: docker's own reading of the file (moby/patternmatcher with BuildKit's
  ignorefile reader): comments and blank lines skipped, each line trimmed and cleaned, a
  leading `/` dropped, `!` for exceptions, the last matching line wins, and a path is
  ignored when it or one of its parent folders is. Patterns are Go `filepath.Match` globs
  where `**` also matches any number of folders.
- the knowledge: per ecosystem, what can go (dependencies the image installs itself, build
  output it builds itself, caches, secrets, version control) and the conditions that keep
  each rule out, checked against every COPY/ADD/bind-mount source of every Dockerfile that
  reads the same ignore file, so a proposed rule never removes a file a build needs.

`plan(...)` returns the new text of the ignore file (None: nothing to add). Existing lines
are never removed or reordered; new rules go at the end under `# added by dockopt`, in the
file's own line endings, and only those the file does not already cover.
"""

from __future__ import annotations

import fnmatch
import os
import posixpath
import re
from dataclasses import dataclass, field
from typing import Iterable, Sequence

# --------------------------------------------------------------------------- the matcher


class BadPattern(ValueError):
    """A line docker refuses (`!` alone, an unclosed `[`): the file is left alone."""


@dataclass(frozen=True)
class Pattern:
    text: str  # as cleaned: no `!`, no leading `/`
    exclusion: bool  # a `!` line: re-includes what earlier lines ignored
    _kind: str = field(repr=False, default="exact")  # exact, prefix, suffix or regex
    _regex: re.Pattern | None = field(repr=False, default=None)

    def match(self, path: str) -> bool:
        if self._kind == "exact":
            return path == self.text
        if self._kind == "prefix":
            return path.startswith(self.text[:-2])
        if self._kind == "suffix":
            suffix = self.text[2:]
            return path.endswith(suffix) or (suffix.startswith("/") and path == suffix[1:])
        return bool(self._regex.match(path))


_REGEX_SPECIAL = set(".+()|{}$")


def compile_pattern(line: str) -> Pattern:
    """One pattern as moby/patternmatcher compiles it: a literal, a `dir/**` prefix, a
    `**name` suffix, or a regular expression (`*` and `?` never cross a `/`)."""
    exclusion = line.startswith("!")
    text = line[1:].strip() if exclusion else line.strip()
    if exclusion and not text:
        raise BadPattern('illegal exclusion pattern: "!"')
    text = _clean(text)
    if len(text) > 1 and text.startswith("/"):
        text = text[1:]
    _check_glob(text)
    regex, kind, i, first = "^", "exact", 0, True
    while i < len(text):
        ch = text[i]
        i += 1
        if ch == "*" and text.startswith("*", i):
            i += 1
            if text.startswith("/", i):
                i += 1
            if i >= len(text):
                if kind == "exact":
                    kind = "prefix"
                else:
                    regex, kind = regex + ".*", "regex"
            else:
                regex, kind = regex + "(.*/)?", "regex"
            if first:
                kind = "suffix"
        elif ch == "*":
            regex, kind = regex + "[^/]*", "regex"
        elif ch == "?":
            regex, kind = regex + "[^/]", "regex"
        elif ch in _REGEX_SPECIAL:
            regex += "\\" + ch
        elif ch == "\\":
            if i < len(text):
                regex, kind = regex + re.escape(text[i]), "regex"
                i += 1
            else:
                regex += "\\\\"
        elif ch in "[]":
            regex, kind = regex + ch, "regex"
        else:
            regex += ch
        first = False
    if kind != "regex":
        return Pattern(text, exclusion, kind)
    try:
        return Pattern(text, exclusion, "regex", re.compile(regex + "$", re.DOTALL))
    except re.error as exc:
        raise BadPattern(f"{text!r}: {exc}") from None


def _clean(path: str) -> str:
    """Go's filepath.Clean on a slash path ("" is ".", "a/" is "a", "//a" is "/a")."""
    if not path:
        return "."
    cleaned = posixpath.normpath(path)
    return "/" + cleaned.lstrip("/") if cleaned.startswith("//") else cleaned


def _check_glob(text: str) -> None:
    """The syntax errors of Go's filepath.Match: unclosed classes, bad ranges, a trailing
    backslash."""
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            if i + 1 >= len(text):
                raise BadPattern(f"{text!r}: trailing backslash")
            i += 2
            continue
        if ch == "[":
            j = i + 1
            if j < len(text) and text[j] == "^":
                j += 1
            items = 0
            while True:
                if j >= len(text):
                    raise BadPattern(f"{text!r}: unclosed [")
                if text[j] == "]" and items:
                    break
                lo, j = _class_char(text, j)
                if j < len(text) and text[j] == "-":
                    _, j = _class_char(text, j + 1)
                items += 1
            i = j + 1
            continue
        i += 1


def _class_char(text: str, j: int) -> tuple[str, int]:
    if j >= len(text) or text[j] in "-]":
        raise BadPattern(f"{text!r}: bad character class")
    if text[j] == "\\":
        if j + 1 >= len(text):
            raise BadPattern(f"{text!r}: trailing backslash")
        return text[j + 1], j + 2
    return text[j], j + 1


def read_rules(text: str) -> list[Pattern]:
    """The patterns of a .dockerignore, as BuildKit reads it; BadPattern for a line docker
    would refuse."""
    patterns = []
    for n, raw in enumerate(text.split("\n")):
        line = raw.lstrip("\ufeff") if n == 0 else raw
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        patterns.append(compile_pattern(line))
    return patterns


def ignored(patterns: Sequence[Pattern], path: str) -> bool:
    """Whether docker leaves `path` (slash-separated, relative to the context) out of the
    context: the last line matching it or one of its parent folders decides."""
    path = _clean(path).lstrip("/")
    if path in (".", ""):
        return False
    parents = path.split("/")[:-1]
    result = False
    for p in patterns:
        if p.exclusion != result:
            continue
        hit = p.match(path) or any(p.match("/".join(parents[: i + 1])) for i in range(len(parents)))
        if hit:
            result = not p.exclusion
    return result


# --------------------------------------------------------------------------- the knowledge

DEPS, OUTPUT, CACHE, SECRET, VCS = "deps", "output", "cache", "secret", "vcs"


@dataclass(frozen=True)
class Rule:
    pattern: str
    kind: str  # DEPS: the image installs them; OUTPUT: the image builds it; CACHE, SECRET, VCS
    probes: tuple[str, ...]  # paths the rule ignores: a file covering them all covers the rule
    present: bool = False  # only when something in the context matches it


@dataclass(frozen=True)
class Block:
    name: str  # which ecosystem, for detection
    comment: str  # the line above the block, says why
    rules: tuple[Rule, ...]


def _r(pattern: str, kind: str, *probes: str, present: bool = False) -> Rule:
    return Rule(pattern, kind, probes or (pattern,), present)


# Install and build commands, per ecosystem: DEPS rules need the first, OUTPUT rules the second.
_INSTALLS = {
    "node": re.compile(r"\b(npm|pnpm|bun)\s+(ci|install|i)\b|\byarn(\s+install)?\s*($|[;&|)]|--)"),
    "python": re.compile(r"\b(pip3?|uv|poetry|pipenv|pdm)\b[^;&|]*\b(install|sync)\b"),
}
# Commands that create the dependency folder itself (pip installs into site-packages, not .venv).
_CREATES = {
    "node": _INSTALLS["node"],
    "python": re.compile(r"-m\s+venv\b|\bvirtualenv\s|\buv\s+(sync|venv)\b|\b(poetry|pdm|pipenv)\s+install\b"),
}
_BUILDS = {
    "node": re.compile(r"\b(npm|pnpm|bun|yarn)\s+(run\s+)?build\b|\b(next|vite|ng|nuxt)\s+build\b|\btsc\b"),
    "maven": re.compile(r"\bmvnw?\b[^;&|]*\b(package|install|verify|compile)\b"),
    "gradle": re.compile(r"\bgradlew?\b"),
    "rust": re.compile(r"\bcargo\s+(build|install)\b"),
    "dotnet": re.compile(r"\bdotnet\s+(restore|build|publish)\b"),
}

COMMON = (
    Block("vcs", "# Version control history: the image needs the files, not their history", (_r(".git", VCS),)),
    Block(
        "secrets",
        "# Secrets and local settings: keep them out of every layer",
        (
            _r(".env", SECRET),
            _r(".env.local", SECRET, present=True),
            _r(".env.*.local", SECRET, ".env.development.local", present=True),
            _r("*.pem", SECRET, "key.pem", present=True),
            _r("*.key", SECRET, "server.key", present=True),
            _r("id_rsa", SECRET, present=True),
            _r("id_ed25519", SECRET, present=True),
            _r(".aws", SECRET, present=True),
            _r(".ssh", SECRET, present=True),
        ),
    ),
    Block(
        "editor",
        "# Editor and OS files",
        (
            _r(".idea", CACHE, present=True),
            _r(".vscode", CACHE, present=True),
            _r("**/.DS_Store", CACHE, ".DS_Store", "a/.DS_Store", present=True),
            _r("*.log", CACHE, "debug.log", present=True),
        ),
    ),
)
ECOSYSTEMS = (
    Block(
        "node",
        "# Node: local dependencies and logs; the image installs its own",
        (
            _r("node_modules", DEPS),
            _r("npm-debug.log*", CACHE, "npm-debug.log", present=True),
            _r("yarn-error.log", CACHE, present=True),
            _r(".npm", CACHE, present=True),
            _r("coverage", CACHE, present=True),
        ),
    ),
    Block(
        "node",
        "# Node build output: the image builds it itself",
        (_r("dist", OUTPUT, present=True), _r("build", OUTPUT, present=True), _r(".next", OUTPUT, present=True)),
    ),
    Block(
        "python",
        "# Python: virtualenvs, bytecode and tool caches",
        (
            _r(".venv", DEPS),
            _r("venv", DEPS, present=True),
            _r("**/__pycache__", CACHE, "__pycache__", "pkg/__pycache__"),
            _r("**/*.pyc", CACHE, "a.pyc", "pkg/a.pyc"),
            _r(".pytest_cache", CACHE, present=True),
            _r(".mypy_cache", CACHE, present=True),
            _r(".ruff_cache", CACHE, present=True),
            _r(".tox", CACHE, present=True),
            _r("*.egg-info", CACHE, "app.egg-info", present=True),
        ),
    ),
    Block("maven", "# Maven: the image builds target/ itself", (_r("target", OUTPUT),)),
    Block("gradle", "# Gradle: the image builds build/ itself", (_r("build", OUTPUT), _r(".gradle", CACHE))),
    Block("rust", "# Rust: the image builds target/ itself", (_r("target", OUTPUT),)),
    Block(
        "dotnet",
        "# .NET: bin/ and obj/ are rebuilt by dotnet restore and publish",
        (_r("**/bin", OUTPUT, "bin", "src/App/bin"), _r("**/obj", OUTPUT, "obj", "src/App/obj")),
    ),
)
# Which files say which ecosystem a context is (globs at the context root).
_MARKERS = {
    "node": ("package.json",),
    "python": ("pyproject.toml", "setup.py", "setup.cfg", "requirements*.txt", "Pipfile", "poetry.lock"),
    "maven": ("pom.xml",),
    "gradle": ("build.gradle", "build.gradle.kts", "settings.gradle", "settings.gradle.kts"),
    "rust": ("Cargo.toml",),
    "dotnet": ("*.sln", "*.csproj", "*.fsproj", "*/*.csproj", "*/*/*.csproj", "*/*.fsproj"),
    "go": ("go.mod",),
}
# Projects whose version comes from git: their build reads .git.
_VCS_VERSIONING = re.compile(
    r"setuptools[_-]scm|hatch-vcs|versioneer|poetry-dynamic-versioning|dunamai|\bpbr\b|\"husky|git (describe|rev-parse)"
)
_GIT_COMMAND = re.compile(r"(?:^|[;&|(`]|\b(?:then|do|else)\s)\s*(?:\S*/)?git\s+(?!clone\b)")
_GLOB = re.compile(r"[*?\[]")


def detect(context) -> list[str]:
    """The ecosystems whose marker files are in the context, in a fixed order."""
    return [name for name, globs in _MARKERS.items() if any(context.glob(g) for g in globs)]


# --------------------------------------------------------------------------- what a build needs


class Unknown(Exception):
    """A Dockerfile whose needs cannot be read (a variable in a COPY source): leave the
    ignore file alone."""


@dataclass
class Needs:
    """What one Dockerfile takes from its context."""

    paths: list[str] = field(default_factory=list)  # explicit sources, cleaned, globs kept
    commands: list[tuple[int, str]] = field(default_factory=list)  # (order, text) of RUN, CMD...
    words: list[tuple[tuple[int, int], str]] = field(default_factory=list)  # ((order, offset), word)
    declarations: set[tuple[int, int]] = field(default_factory=set)  # where ENV words are


_SPLIT = re.compile(r"""[\s'"=:;,&|()<>`]+""")
_URL = re.compile(r"^[a-z][a-z0-9+.-]*://|^git@", re.I)
_MENTIONING = frozenset({"RUN", "CMD", "ENTRYPOINT", "ENV", "HEALTHCHECK"})


def needs_of(dockerfile) -> Needs:
    """The sources a Dockerfile copies or mounts from the context and the words its
    commands use; raises Unknown when a source is not literal."""
    needs = Needs()
    for order, ins in enumerate(dockerfile.instructions):
        if ins.keyword in ("COPY", "ADD") and ins.flag("from") is None:
            for src in _sources(ins):
                needs.paths.append(src)
        if ins.keyword == "RUN":
            for src in _bind_mounts(ins):
                needs.paths.append(src)
        if ins.keyword in _MENTIONING:
            text = " ".join([ins.args_text, *(h.content for h in ins.heredocs)])
            needs.commands.append((order, text))
            at = 0
            for word in _SPLIT.split(text):
                at = text.index(word, at) if word else at
                if word and not word.startswith("-"):
                    needs.words.append(((order, at), word))
                    if ins.keyword == "ENV":
                        needs.declarations.add((order, at))
                at += len(word)
    return needs


def _sources(ins) -> list[str]:
    args = ins.arguments[:-1]
    heredocs = {h.name for h in ins.heredocs}
    found = []
    for src in args:
        if src.startswith("<<") and src.lstrip("<-").strip("'\"") in heredocs:
            continue
        if ins.keyword == "ADD" and _URL.match(src):
            continue
        if "$" in src:
            raise Unknown(f"line {ins.start_line}: {ins.keyword} source {src!r} uses a variable")
        found.append(_relative(src))
    return found


def _bind_mounts(ins) -> list[str]:
    found = []
    for flag in ins.flags:
        if not flag.startswith("--mount="):
            continue
        fields = dict(part.partition("=")[::2] for part in flag[len("--mount=") :].split(","))
        fields = {k.strip().lower(): v.strip().strip("'\"") for k, v in fields.items()}
        if fields.get("type", "bind") != "bind" or "from" in fields:
            continue
        src = fields.get("source") or fields.get("src") or "."
        if "$" in src:
            raise Unknown(f"line {ins.start_line}: a bind mount source uses a variable")
        found.append(_relative(src))
    return found


def _relative(src: str) -> str:
    cleaned = posixpath.normpath("/" + src.replace("\\", "/") if src else "/").lstrip("/")
    return cleaned or "."


# --------------------------------------------------------------------------- the plan


@dataclass(frozen=True)
class Added:
    block: Block
    rules: tuple[Rule, ...]


def propose(context, dockerfiles: Sequence, existing: str | None, keep: Iterable[str] = ()) -> list[Added]:
    """The rules to add to the ignore file read by `dockerfiles` (parsed trees), given its
    current text (None: there is none); `keep` are context paths that must stay (the
    Dockerfiles themselves). Empty when nothing is needed or anything is unclear."""
    ecosystems = detect(context)
    if not ecosystems:
        return []
    try:
        current = read_rules(existing or "")
        needs = [needs_of(d) for d in dockerfiles]
    except (BadPattern, Unknown):
        return []
    keep = [*keep, ".dockerignore"]
    blocks = [b for b in ECOSYSTEMS if b.name in ecosystems] + list(COMMON)
    chosen: list[Added] = []
    taken: list[Pattern] = list(current)
    seen: set[str] = set()
    for block in blocks:
        rules = []
        for rule in block.rules:
            if rule.pattern in seen:
                continue
            if all(ignored(taken, p) for p in rule.probes):
                continue  # already covered
            if rule.present and not _present(context, rule.pattern, taken):
                continue
            candidate = taken + [compile_pattern(rule.pattern)]
            if not _allowed(rule, block.name, candidate, taken, needs, keep, context):
                continue
            rules.append(rule)
            seen.add(rule.pattern)
            taken = candidate
        if rules:
            chosen.append(Added(block, tuple(rules)))
    return chosen


def render(existing: str | None, added: Sequence[Added], header: str) -> str:
    """The ignore file with the added blocks at its end, in its own line endings; a new
    file starts with the `header` comment line."""
    nl = "\r\n" if existing and "\r\n" in existing else "\n"
    lines = []
    for item in added:
        lines.append(item.block.comment)
        lines.extend(r.pattern for r in item.rules)
    if existing is None:
        return nl.join([header, *lines]) + nl
    text = existing
    if text and not text.endswith("\n"):
        text += nl
    if text.strip("\ufeff"):
        text += nl
    return text + nl.join(["# added by dockopt", *lines]) + nl


def _present(context, pattern: str, taken: Sequence[Pattern]) -> bool:
    """Whether something in the context that the file does not leave out yet matches."""
    name = pattern[3:] if pattern.startswith("**/") else pattern
    found = context.glob(name) + (context.glob("**/" + name) if pattern.startswith("**/") else [])
    return any(not ignored(taken, f.replace(os.sep, "/")) for f in found)


def _allowed(rule: Rule, ecosystem: str, candidate, taken, needs: Sequence[Needs], keep, context) -> bool:
    single = [candidate[-1]]
    for path in keep:
        if ignored(candidate, path) and not ignored(taken, path):
            return False
    for need in needs:
        sources = [(src, _expand(context, src)) for src in need.paths]
        # A source the build names must stay, and so must the folders above it.
        for _, paths in sources:
            for path in paths:
                if path != "." and ignored(candidate, path) and not ignored(taken, path):
                    return False
        if not any(_reaches(src, paths, probe) for src, paths in sources for probe in rule.probes):
            continue  # this Dockerfile copies nothing the rule leaves out
        # A command that uses a path the rule ignores: kept, unless the image made it first
        # (dependencies by installing them, output by building it; an ENV naming them, like
        # PATH=/app/node_modules/.bin, only says where they will be).
        made = {DEPS: _INSTALLS, OUTPUT: _BUILDS}.get(rule.kind)
        if made is not None and _first(need, made.get(ecosystem)) is None:
            return False
        first = _first(need, {DEPS: _CREATES, OUTPUT: _BUILDS}[rule.kind].get(ecosystem)) if made else None
        for where, word in need.words:
            if first is not None and (where >= first or where in need.declarations):
                continue
            if any(ignored(single, p) for p in _suffixes(word)):
                return False
        if rule.kind == VCS and (any(_GIT_COMMAND.search(t) for _, t in need.commands) or _versioned_from_git(context)):
            return False
    return True


def _reaches(src: str, paths: list[str], probe: str) -> bool:
    """Whether copying `src` copies `probe`: it is the whole context, a folder above the
    probe, or a wildcard matching it or a folder above it."""
    if any(p == "." or probe == p or probe.startswith(p + "/") for p in paths):
        return True
    if not _GLOB.search(src):
        return False
    try:
        return ignored([compile_pattern(src)], probe)
    except BadPattern:
        return True


def _first(need: Needs, command: re.Pattern | None) -> tuple[int, int] | None:
    """Where the first command matching `command` starts: (instruction, offset)."""
    if command is None:
        return None
    for order, text in need.commands:
        m = command.search(text)
        if m:
            return order, m.start()
    return None


def _suffixes(word: str) -> list[str]:
    """`/app/dist/x` could be the context's `app/dist/x`, `dist/x` or `x` under a WORKDIR."""
    parts = [p for p in word.replace("\\", "/").split("/") if p not in ("", ".")]
    return ["/".join(parts[i:]) for i in range(len(parts))]


def _expand(context, src: str) -> list[str]:
    """A source, and for a wildcard source the context paths it names now."""
    if not _GLOB.search(src):
        return [src]
    found = [src]
    parts = src.split("/")
    frontier = [""]
    for part in parts:
        nxt = []
        for base in frontier:
            if not _GLOB.search(part):
                nxt.append(posixpath.join(base, part) if base else part)
                continue
            folder = os.path.join(context.root, base) if base else context.root
            try:
                names = sorted(os.listdir(folder))
            except OSError:
                continue
            nxt.extend(posixpath.join(base, n) if base else n for n in names if fnmatch.fnmatchcase(n, _go_class(part)))
        frontier = nxt[:1000]
    return found + frontier


def _go_class(part: str) -> str:
    """Go's `[^a]` is fnmatch's `[!a]`."""
    return part.replace("[^", "[!")


def _versioned_from_git(context) -> bool:
    for name in ("pyproject.toml", "setup.py", "setup.cfg", "package.json"):
        text = context.read_text(name)
        if text and _VCS_VERSIONING.search(text):
            return True
    return False


# --------------------------------------------------------------------------- the file


@dataclass
class Companion:
    """The ignore file change proposed for one Dockerfile."""

    path: str  # as the user would name it (beside the path they gave)
    target: str  # the real file to write
    before: str | None  # None: the file is new
    after: str
    added: list[Added]

    def blocks(self) -> Iterable[tuple[int, int, str, str]]:
        """(start, line, text, explanation) of each added block in `after`."""
        nl = "\r\n" if "\r\n" in self.after else "\n"
        at = 0
        for item in self.added:
            text = nl.join([item.block.comment, *(r.pattern for r in item.rules)]) + nl
            at = self.after.index(text, at)
            patterns = ", ".join(r.pattern for r in item.rules)
            why = item.block.comment.lstrip("# ")
            yield at, self.after.count("\n", 0, at) + 1, text, f"ignore {patterns} ({why})"
            at += len(text)


def plan_file(
    path: str, source: str, output: str, context_dir: str | None, others: Sequence[str], keys: Iterable[str],
    header: str,
) -> Companion | None:
    """The ignore-file change for the Dockerfile at `path` (its text before and after the
    rewrite), built with `context_dir` (None: its folder). `others` are the Dockerfiles of
    the same run, in order: of those sharing one ignore file, the first proposes it.
    None when nothing is to change, or when a pragma (`keys`) or anything unclear says no.
    A new file starts with the `header` comment line."""
    from dockopt.optimizer.context import BuildContext
    from dockopt.optimizer.pragmas import Pragmas
    from dockopt.optimizer.syntax import ParseError, parse

    here = os.path.abspath(path)
    root = os.path.realpath(context_dir if context_dir is not None else os.path.dirname(here))
    specific = here + ".dockerignore"
    if os.path.isfile(specific):
        target, shown, sharers = specific, path + ".dockerignore", []
    else:
        target = os.path.join(root, ".dockerignore")
        shown = os.path.join(context_dir if context_dir is not None else os.path.dirname(path), ".dockerignore")
        sharers = _sharers(here, root, context_dir is not None, others)
        if sharers is None:
            return None
    if os.path.islink(target) or (os.path.exists(target) and not os.path.isfile(target)):
        return None
    context = BuildContext(root)
    if not detect(context):
        return None  # `propose` would find no ecosystem: the sharers need not be read
    trees = [parse(source), parse(output)]
    for other in sharers:
        try:
            with open(other, "rb") as fh:
                trees.append(parse(fh.read().decode("utf-8")))
        except (OSError, UnicodeDecodeError, ParseError):
            return None  # a Dockerfile of this context we cannot read: its needs are unknown
    keys = frozenset(keys)
    if any(Pragmas(t).everywhere & keys for t in trees):
        return None
    existing = None
    if os.path.exists(target):
        try:
            with open(target, "rb") as fh:
                existing = fh.read().decode("utf-8")
        except (OSError, UnicodeDecodeError):
            return None
    keep = [os.path.relpath(os.path.realpath(p), root) for p in (here, *sharers)]
    keep = [k.replace(os.sep, "/") for k in keep if not k.startswith("..")]
    added = propose(context, trees, existing, keep)
    if not added:
        return None
    return Companion(shown, target, existing, render(existing, added, header), added)


def _sharers(here: str, root: str, explicit: bool, others: Sequence[str]) -> list[str] | None:
    """The other Dockerfiles that read `root`'s .dockerignore: those in the context folder
    (built from it by default) and, with an explicit context, the run's other targets;
    none that has its own `<name>.dockerignore`. None when one of them comes before
    `here` in the run: it proposes the file for all of them."""
    run = _RunIndex.of(others)
    found, first_found = run.context(root, explicit)
    me = os.path.realpath(here)
    # The first of the run that reads the file (the first found, or `here` itself if it
    # comes before it) proposes it; only that one lists the others.
    mine = run.position.get(me, len(run.reals))
    if me not in found and mine < first_found:
        first_found = mine
    first = run.reals[first_found] if first_found < len(run.reals) else me
    if first != me:
        return None
    return [p for real, p in found.items() if real != me]


class _RunIndex:
    """The run's targets, resolved once for the whole run, and for each context folder the
    Dockerfiles that may read its ignore file, worked out once per folder: resolving every
    target again for each of 10,000 Dockerfiles made a run's time grow with its square.
    Kept for the run whose `others` sequence it was made from (the same object, of the same
    length); a run writes no `<name>.dockerignore`, so what it found stays true."""

    _last: _RunIndex | None = None

    def __init__(self, run: Sequence[str]) -> None:
        self.run, self.size = run, len(run)
        targets = [o for o in run if o != "-"]
        self.targets = targets
        self.reals = [os.path.realpath(o) for o in targets]
        self.position: dict[str, int] = {}  # real path -> its first place in the run
        for n, real in enumerate(self.reals):
            self.position.setdefault(real, n)
        self.by_folder: dict[str, list[int]] = {}  # folder -> the targets in it, in run order
        for n, (other, real) in enumerate(zip(targets, self.reals)):
            folders = {os.path.dirname(real), os.path.realpath(os.path.dirname(os.path.abspath(other)))}
            for folder in folders:
                self.by_folder.setdefault(folder, []).append(n)
        self._contexts: dict[tuple[str, bool], tuple[dict[str, str], int]] = {}

    @classmethod
    def of(cls, run: Sequence[str]) -> _RunIndex:
        last = cls._last
        if last is None or last.run is not run or last.size != len(run):
            last = cls._last = cls(run)
        return last

    def context(self, root: str, explicit: bool) -> tuple[dict[str, str], int]:
        """The Dockerfiles that may read `root`'s ignore file, by real path (those in the
        folder, then the run's targets built from it: all of them for an explicit
        context), less those with an ignore file of their own; and the place in the run
        of the first target among them (the run's length when none is)."""
        key = (root, explicit)
        if key not in self._contexts:
            from dockopt.optimizer.runner import is_dockerfile_name

            found: dict[str, str] = {}
            try:
                names = sorted(os.listdir(root))
            except OSError:
                names = []
            for name in names:
                full = os.path.join(root, name)
                if is_dockerfile_name(name) and os.path.isfile(full):
                    found.setdefault(os.path.realpath(full), full)
            members = range(len(self.targets)) if explicit else sorted(self.by_folder.get(root, []))
            for n in members:
                found.setdefault(self.reals[n], self.targets[n])
            found = {real: p for real, p in found.items() if not os.path.isfile(p + ".dockerignore")}
            first = min((self.position[real] for real in found if real in self.position), default=len(self.reals))
            self._contexts[key] = found, first
        return self._contexts[key]
