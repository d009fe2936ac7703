"""Where each ecosystem's build output can run: runtime images, users, and what a build makes.

Knowledge kept as data and small functions, for the stage-split transform (DO202): for a
builder image, which runtime image may run what it builds, which non-root user that image
has, which packages a builder may install without the runtime needing them, and where
`go build`, `go install`, Maven and Gradle put what they make. Image facts come from
`images.py` (the official manifests, the distroless README) or are cited below; a runtime
is only proposed when its tag is listed or follows a listed pattern.

Facts used here, with their sources:
- Go: the golang image sets `GOPATH=/go` and puts `$GOPATH/bin` first on PATH
  (docker-library/golang Dockerfile template: `ENV GOPATH /go`, `ENV PATH
  $GOPATH/bin:/usr/local/go/bin:$PATH`). `go build` names a single main package's binary
  after the last non-major-version element of its import path, or after the first file
  for `go build a.go b.go` (`go help build`). Since Go 1.20 the go command disables cgo
  when no C compiler is found (Go 1.20 release notes), which is the case in golang:*-alpine
  unless gcc is added. A binary built with CGO_ENABLED=0 needs no libc: it runs on
  distroless static (no libc, but CA certificates, tzdata and /etc/passwd with root,
  nonroot and nobody; distroless README and base/README.md). A cgo binary links glibc:
  distroless base has glibc; a binary linked against an older glibc runs on a newer one.
- Node: every node image variant creates the user `node` (uid 1000) (nodejs/docker-node
  Dockerfiles: `groupadd --gid 1000 node && useradd --uid 1000 --gid node ... node`,
  `adduser -u 1000 -G node ... node` on Alpine) and ships npm. Versions that left the
  manifest (Node 20 and older) keep their tags on Docker Hub, named as the maintained ones
  are (`22-bookworm-slim`, `22-slim`, `22-alpine`): a derived tag is used only when the
  same tag with a maintained version is listed. node:20-alpine is named by the seed
  (seeds/003_d5932590af2a0d6c.txt in the research notes), with its size.
- Java: eclipse-temurin publishes a `-jre` image beside each `-jdk` one (manifest).
  A Spring Boot or shaded jar carries its dependencies, so the jar alone runs.
- Rust: `cargo build --release` writes target/release/<bin>, `cargo install` writes to
  /usr/local/cargo/bin (the rust image's CARGO_HOME); a musl target links statically; a
  glibc binary needs libgcc too, which distroless cc adds to base (cc/README.md).
- .NET: the sdk image builds, aspnet and runtime run (images.json, dotnet-docker READMEs);
  their tags follow one scheme (`8.0`, `8.0-alpine`, `8.0-bookworm-slim`), and from .NET 8
  the runtime images have the user `app` (uid 1654, `APP_UID`), as the runtime-deps
  Dockerfiles in the corpus show (dotnet/dotnet-docker src/runtime-deps/*: `APP_UID=1654`,
  `useradd ... --uid=$APP_UID ... app`).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass

from dockopt.optimizer import images

DISTROLESS = "gcr.io/distroless/"


@dataclass(frozen=True)
class Runtime:
    ref: str  # the FROM reference to write
    why: str  # why this image: one clause, with its source
    users: frozenset[str]  # user names the image has (numeric ids always work)
    user: str | None = None  # USER to add (numeric uid:gid) when the original ran as root
    user_name: str | None = None  # that user's name, for the explanation
    default_user: str | None = None  # the non-root user the image already runs as
    shell: bool = True  # has /bin/sh: shell-form CMD and HEALTHCHECK may stay
    create_user: str | None = None  # RUN that adds `user`, for images that have none


# Packages a builder may install that a runtime never needs: compilers, VCS, headers,
# and python3 for node-gyp. Anything else (ffmpeg, a client library, curl) may be what the
# app runs or links, so a stage that installs it is left alone.
BUILD_PACKAGES = frozenset(
    """git gcc g++ make musl-dev libc-dev libc6-dev build-base binutils pkgconfig pkg-config
    upx openssh-client mercurial bzr subversion python3 python3-dev autoconf automake libtool""".split()
)
# What distroless static, base and cc already have (distroless README: CA certificates,
# tzdata), so a Go or Rust builder may also install them.
DISTROLESS_PACKAGES = BUILD_PACKAGES | {"ca-certificates", "tzdata"}


def size_note(ref: str) -> str:
    """`ref` with its size and the source of the figure, or "size unknown"."""
    img = images.describe(ref)
    size = img.size
    if size is None and (img.family or "").startswith("distroless/") and ":" in ref:
        size = images.describe(ref.rsplit(":", 1)[0]).size  # tags differ in user only
    if size is None:
        return f"{ref}: size unknown"
    about = "about " if size.approx else ""
    measure = "" if size.measure == "unspecified" else f" {size.measure}"
    return f"{ref}: {about}{size.value:g} {size.unit}{measure} ({images.cited(size.source)})"


def version_tuple(version: str | None) -> tuple[int, ...] | None:
    m = re.match(r"(\d+)(?:\.(\d+))?", version or "")
    return tuple(int(g) for g in m.groups() if g is not None) if m else None


# --- Go -------------------------------------------------------------------------------

GOPATH = "/go"
GO_PATH_DIRS = ("/go/bin", "/usr/local/go/bin", "/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")
DEFAULT_PATH_DIRS = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")
_GO_VALUE_FLAGS = frozenset(
    "-o -p -C -asmflags -buildmode -compiler -gccgoflags -gcflags -installsuffix -ldflags -mod "
    "-modfile -overlay -pgo -pkgdir -tags -toolexec -coverpkg -covermode".split()
)
_GO_BOOL_FLAGS = frozenset("-a -n -race -msan -asan -v -work -x -trimpath -linkshared -cover -buildvcs -modcacherw".split())
C_COMPILERS = frozenset({"gcc", "g++", "clang", "build-base", "musl-dev", "libc-dev", "libc6-dev"})


@dataclass(frozen=True)
class GoBuild:
    """What one `go build` or `go install` makes."""

    verb: str  # "build" or "install"
    output: str | None  # absolute path of the binary, None when it cannot be told
    flags: dict[str, str]
    packages: list[str]
    cwd: str


def parse_go(words: list[str], cwd: str) -> GoBuild | None:
    """`go build ...` / `go install ...` with the flags understood; None for anything else."""
    if len(words) < 2 or words[0] != "go" or words[1] not in ("build", "install"):
        return None
    flags, packages, i = {}, [], 2
    while i < len(words):
        word = words[i]
        if word.startswith("-") and packages:
            return None  # flags after packages: program arguments do not exist for build
        if word.startswith("-"):
            name, eq, value = word.lstrip("-").partition("=")
            key = "-" + name
            if key in _GO_VALUE_FLAGS and not eq:
                if i + 1 >= len(words):
                    return None
                value, i = words[i + 1], i + 1
            elif key not in _GO_VALUE_FLAGS and key not in _GO_BOOL_FLAGS:
                return None
            flags[key] = value
        else:
            packages.append(word)
        i += 1
    if "-C" in flags:
        cwd = _join(cwd, flags["-C"])
    return GoBuild(words[1], None, flags, packages, cwd)


def go_binary_name(build: GoBuild, module_of) -> str | None:
    """The binary name `go build` gives a single main package (`go help build`)."""
    pkgs = build.packages or ["."]
    if any("..." in p or "$" in p for p in pkgs):
        return None
    if all(p.endswith(".go") for p in pkgs):
        return os.path.basename(pkgs[0])[:-3] if build.verb == "build" else None
    if len(pkgs) != 1 or "@" in pkgs[0]:
        return None
    pkg = pkgs[0]
    if pkg in (".", "./"):
        path = module_of(build.cwd)
        if not path:
            return None
    elif pkg.startswith(("./", "../")):
        path = _join(build.cwd, pkg)
    else:
        path = pkg
    parts = [p for p in path.split("/") if p]
    if len(parts) > 1 and re.fullmatch(r"v[2-9]\d*|v1\d+", parts[-1]):
        parts.pop()
    return parts[-1] if parts else None


def go_output(build: GoBuild, env: dict[str, str], module_of, dirs: set[str]) -> str | None:
    """Absolute path of the binary a build writes, or None when it cannot be proven."""
    if build.flags.get("-buildmode", "exe") not in ("exe", "default"):
        return None
    if build.verb == "install":
        if "-o" in build.flags:
            return None
        name = go_binary_name(build, module_of)
        gobin = env.get("GOBIN") or _join(env.get("GOPATH", GOPATH), "bin")
        return _join(gobin, name) if name and gobin.startswith("/") else None
    out = build.flags.get("-o")
    if out is None:
        name = go_binary_name(build, module_of)
        return _join(build.cwd, name) if name else None
    if "$" in out or out.endswith("/") or out in (".", ".."):
        return None
    path = _join(build.cwd, out)
    return None if path in dirs else path


def go_module_path(text: str | None) -> str | None:
    m = re.search(r"^\s*module\s+\"?([^\s\"]+)", text or "", re.M)
    return m.group(1) if m else None


# Calls through which a Go program reads or writes files, or runs programs, at run time:
# a runtime holding only the binary would not have them. go:embed'ed files are in the binary.
_GO_FILE_ACCESS = re.compile(
    r"\bos\.(Open|OpenFile|ReadFile|ReadDir|Create|WriteFile|Mkdir|MkdirAll|DirFS|Stat)\(|"
    r"\bioutil\.(ReadFile|ReadDir|WriteFile)\(|\btemplate\.(ParseFiles|ParseGlob)\(|"
    r"\bhttp\.(Dir|ServeFile)\(|\bfilepath\.(Walk|WalkDir|Glob)\(|\"os/exec\"|"
    r"\bgodotenv\.|\bviper\.|\bsqlite|\.LoadFiles?\(|\bgin\.Default\(\)\.(LoadHTML|Static)"
)


def go_sources_touch_files(context) -> str | None:
    """The first Go source of the context that reads files or runs programs, or None."""
    root = getattr(context, "root", None)
    if root is None:
        return None
    seen = 0
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in ("vendor", "testdata", "node_modules") and not d.startswith("."))
        for name in sorted(files):
            if not name.endswith(".go") or name.endswith("_test.go"):
                continue
            seen += 1
            if seen > 2000:
                return "(too many Go files to check)"
            rel = os.path.relpath(os.path.join(folder, name), root)
            text = context.read_text(rel) or ""
            code = "\n".join(line.split("//", 1)[0] for line in text.splitlines())
            if _GO_FILE_ACCESS.search(code):
                return rel
    return None


def go_runtime(builder: images.Image, static: bool) -> Runtime | None:
    """distroless static for a static binary, distroless base (glibc) for a cgo one."""
    if static:
        name = "static-debian13"
        why = "a CGO_ENABLED=0 binary needs no libc; distroless static has CA certificates and tzdata"
    else:
        if builder.libc != "glibc" and not (builder.family == "golang" and builder.variant == "full"):
            return None
        if builder.suite not in (None, "buster", "bullseye", "bookworm", "trixie"):
            return None
        name = "base-debian13"
        why = "a cgo binary links glibc; distroless base-debian13 has a glibc at least as new as the builder's"
    ref = f"{DISTROLESS}{name}:nonroot"
    if not images.describe(ref).in_manifest:
        return None
    return Runtime(ref, why + " (distroless README)", frozenset({"root", "nonroot", "nobody"}),
                   default_user="nonroot", shell=False)


# --- Node -----------------------------------------------------------------------------

NODE_USER, NODE_UID = "node", "1000:1000"
_NATIVE_NAME = re.compile(r"(^|/)(node-gyp|prebuild|node-pre-gyp)|-(gnu|musl|linux-x64|linux-arm64)(\b|$)")


def node_runtime(ref: str, args: dict[str, str], musl_ok: bool) -> Runtime | None:
    """The runtime variant of a node builder: itself when slim or alpine, else slim of the
    same release, or alpine when `musl_ok` (the dependencies hold no native code)."""
    img = images.describe(ref, args)
    if img.family != "node" or img.digest or img.windows or not img.version:
        return None
    users = frozenset({"root", NODE_USER})
    user = dict(user=NODE_UID, user_name=NODE_USER)
    if img.variant in ("slim", "alpine"):
        return Runtime(ref, f"{ref} is already the {img.variant} variant", users, **user)
    if img.variant != "full":
        return None
    if musl_ok:
        tag = _node_variant_tag(img, "alpine", args)
        why = ("alpine variant: the lockfile shows no production package with install scripts or per-platform "
               "binaries, so node_modules built on glibc run on musl")
    else:
        tag = _node_variant_tag(img, "slim", args)
        why = "slim variant of the same Debian release: node_modules built on glibc keep working"
    if tag is None:
        return None
    new = images.template_swap(ref, args, tag)
    return Runtime(new, why, users, **user) if new else None


def _node_variant_tag(img: images.Image, variant: str, args: dict[str, str]) -> str | None:
    if img.in_manifest:
        needs = {"glibc", "apt"} if variant == "slim" else set()
        s = images.slimmer(img.ref, needs, args)
        return s.tag if s and s.variant == variant else None
    m = re.fullmatch(r"(\d+(?:\.\d+){0,2})(?:-([a-z]+))?", img.tag or "")
    if not m:
        return None
    version, suite = m.groups()
    if variant == "alpine":
        tag = f"{version}-alpine"
    elif suite:
        tag = f"{version}-{suite}-slim"
    else:
        tag = f"{version}-slim"
    return tag if _pattern_listed("node", tag, version) else None


def _pattern_listed(family: str, tag: str, version: str) -> bool:
    """Whether the manifest lists `tag` with some maintained version in place of `version`."""
    listed = {t for e in images.data()["official"][family]["images"] for t in e["tags"] + e.get("shared", [])}
    majors = {t.split("-", 1)[0] for t in listed if re.match(r"\d", t)}
    depth = version.count(".")
    for major in majors:
        if major.count(".") == depth and tag.replace(version, major, 1) in listed:
            return True
    return False


def package_json(context) -> dict | None:
    """The build context's package.json, when there is one that reads as an object."""
    if not context.known:
        return None
    try:
        pkg = json.loads(context.read_text("package.json") or "")
    except ValueError:
        return None
    return pkg if isinstance(pkg, dict) else None


def node_lockfile_native(context) -> bool | None:
    """Whether production dependencies may hold native code: True, False (the lockfile
    says none does), or None (no lockfile that records it)."""
    if not context.known:
        return None
    pkg = package_json(context)
    if pkg is None:
        return None
    scripts = pkg.get("scripts") or {}
    if any(s in scripts for s in ("preinstall", "install", "postinstall")) or (isinstance(pkg, dict) and pkg.get("gypfile")):
        return True
    text = context.read_text("package-lock.json")
    if text is not None:
        return _npm_lock_native(text)
    text = context.read_text("pnpm-lock.yaml")
    if text is not None:
        return _pnpm_lock_native(text)
    return None


def _npm_lock_native(text: str) -> bool | None:
    try:
        lock = json.loads(text)
    except ValueError:
        return None
    if not isinstance(lock, dict) or lock.get("lockfileVersion") not in (2, 3):
        return None
    for path, entry in (lock.get("packages") or {}).items():
        if not path or not isinstance(entry, dict) or entry.get("dev"):
            continue
        if entry.get("hasInstallScript") or any(k in entry for k in ("os", "cpu", "libc")) or _NATIVE_NAME.search(path):
            return True
    return False


def _pnpm_lock_native(text: str) -> bool | None:
    m = re.search(r"^lockfileVersion:\s*'?([\d.]+)", text, re.M)
    if not m or version_tuple(m.group(1)) is None or not (5,) <= version_tuple(m.group(1)) < (7,):
        return None  # pnpm 9 lockfiles no longer record which packages run build scripts
    blocks = re.split(r"^  (?=\S)", text.split("\npackages:", 1)[-1], flags=re.M)
    for block in blocks:
        if re.search(r"^\s+dev: true", block, re.M):
            continue
        if re.search(r"^\s+(requiresBuild: true|os:|cpu:|libc:)", block, re.M) or _NATIVE_NAME.search(block.split(":", 1)[0]):
            return True
    return False


# --- Java -----------------------------------------------------------------------------

_JDK_IN_TAG = re.compile(r"(?:eclipse-temurin|jdk|openjdk|amazoncorretto|ibm-semeru(?:-runtimes)?)-?(\d+)(?=-|$)")
JAVA_BUILDERS = frozenset({"maven", "gradle", "eclipse-temurin"})
APP_USER, APP_UID = "app", "10001"


def java_version(img: images.Image) -> str | None:
    """The JDK major version of a maven, gradle or eclipse-temurin builder, from its tag or
    from the other tags of the same manifest entry (`maven:3.9` is `3.9-eclipse-temurin-26`)."""
    tag = img.tag or ""
    if img.family == "eclipse-temurin":
        m = re.match(r"(\d+)", tag)
        return m.group(1) if m and "jre" not in tag else None
    m = _JDK_IN_TAG.search(tag)
    if m:
        return m.group(1)
    for entry in images.data()["official"].get(img.family or "", {}).get("images", ()):
        tags = entry["tags"] + entry.get("shared", [])
        if tag in tags:
            found = {m.group(1) for t in tags for m in [_JDK_IN_TAG.search(t)] if m}
            return found.pop() if len(found) == 1 else None
    return None


def java_runtime(img: images.Image, version: str) -> Runtime | None:
    """eclipse-temurin's JRE of the builder's JDK version, when the manifest lists it; the
    image has no non-root user, so one is added with the system's own tools."""
    alpine = img.variant == "alpine"
    ref = f"eclipse-temurin:{version}-jre-alpine" if alpine else f"eclipse-temurin:{version}-jre"
    jre = images.describe(ref)
    if not jre.in_manifest:
        return None
    if alpine:
        create = f"RUN addgroup -S -g {APP_UID} {APP_USER} && adduser -S -D -u {APP_UID} -G {APP_USER} {APP_USER}"
    else:
        create = (f"RUN groupadd --system --gid {APP_UID} {APP_USER} && useradd --system --no-log-init "
                  f"--uid {APP_UID} --gid {APP_USER} --create-home {APP_USER}")
    return Runtime(ref, f"eclipse-temurin's JRE {version} runs the jar without the JDK and the build tool (manifest)",
                   frozenset({"root"}), user=f"{APP_UID}:{APP_UID}", user_name=APP_USER, create_user=create)


FAT_JAR_PLUGINS = re.compile(
    r"spring-boot-maven-plugin|maven-shade-plugin|jar-with-dependencies|org\.springframework\.boot|"
    r"com\.github\.johnrengelman\.shadow|com\.gradleup\.shadow"
)


# --- .NET -----------------------------------------------------------------------------

def dotnet_runtime(img: images.Image, web: bool | None) -> Runtime | None:
    """aspnet (or runtime for a console app) with the sdk tag's version and OS."""
    if img.family != "dotnet/sdk" or img.digest or img.windows:
        return None
    m = re.fullmatch(r"(\d+)\.(\d+)(?:\.\d+)?((?:-[a-z][a-z0-9.]*)*)", img.tag or "")
    if not m or int(m.group(1)) < 8:
        return None  # the `app` user exists from .NET 8
    repo = "aspnet" if web is not False else "runtime"
    ref = f"mcr.microsoft.com/dotnet/{repo}:{m.group(1)}.{m.group(2)}{m.group(3)}"
    if "mcr.microsoft.com/dotnet/" + repo not in img.run_images:
        return None
    why = f"{repo} runs what the sdk publishes (dotnet-docker README.sdk.md, run_images in images.json)"
    return Runtime(ref, why, frozenset({"root", "app"}), user="1654:1654", user_name="app")


def _join(base: str, path: str) -> str:
    import posixpath

    return posixpath.normpath(posixpath.join(base, path)) if base else posixpath.normpath(path)


# --- Rust -----------------------------------------------------------------------------

CARGO_BIN = "/usr/local/cargo/bin"  # the rust image's CARGO_HOME/bin, on its PATH
# -sys crates whose library a distroless base or cc image has (base-nossl exists beside
# base because base carries OpenSSL), or that link nothing on Linux. Others (libsqlite3-sys,
# libz-sys, lzma-sys, pq-sys...) may link a library of the full rust image's buildpack-deps.
_RUST_SYS_OK = frozenset({"openssl-sys", "linux-raw-sys", "windows-sys"})


def rust_sys_crates(context) -> list[str] | None:
    """The `-sys` crates of Cargo.lock that link system libraries a runtime may lack;
    None without a Cargo.lock."""
    if not context.known:
        return None
    text = context.read_text("Cargo.lock")
    if text is None:
        return None
    names = re.findall(r'^name = "([^"]+)"', text, re.M)
    return sorted({n for n in names if n.endswith("-sys") and n not in _RUST_SYS_OK})


def rust_runtime(builder: images.Image, static: bool) -> Runtime | None:
    """distroless static for a musl (static) binary, distroless cc (glibc, libgcc, OpenSSL)
    for a glibc one built on a Debian release no newer than the runtime's."""
    if static:
        ref, why = f"{DISTROLESS}static-debian13:nonroot", "a musl target links statically; distroless static has no libc"
    else:
        if builder.variant not in ("full", "slim"):
            return None  # Debian-based: the rust image's full and slim variants
        if builder.suite not in (None, "buster", "bullseye", "bookworm", "trixie"):
            return None
        ref = f"{DISTROLESS}cc-debian13:nonroot"
        why = "a Rust binary links glibc and libgcc: distroless cc-debian13 has both, at least as new as the builder's"
    if not images.describe(ref).in_manifest:
        return None
    return Runtime(ref, why + " (distroless README, cc/README.md)", frozenset({"root", "nonroot", "nobody"}),
                   default_user="nonroot", shell=False)


# --- Python ---------------------------------------------------------------------------
#
# The python image's slim variant keeps the libraries the interpreter itself links (its
# Dockerfile marks every library the compiled Python needs as manually installed before
# purging the build dependencies: OpenSSL, libffi, zlib, bzip2, xz, sqlite3, readline,
# ncurses, gdbm, uuid, expat, tk), so wheels built against their headers run there. Other
# -dev packages are mapped to the runtime library only where Debian names it the same in
# bullseye, bookworm and trixie (libpq5 from postgresql, libmariadb3 from mariadb); any
# other header package makes the split give up, since the runtime library is unknown.

PYTHON_BUILD_PACKAGES = BUILD_PACKAGES | frozenset(
    """build-essential cmake ninja-build swig gfortran cargo rustc python3-pip python3-venv python3-setuptools
    python3-wheel libc6-dev linux-libc-dev libffi-dev libssl-dev zlib1g-dev libbz2-dev liblzma-dev
    libsqlite3-dev libreadline-dev libncurses-dev libncurses5-dev libncursesw5-dev libgdbm-dev uuid-dev
    libexpat1-dev tk-dev ca-certificates""".split()
)
PYTHON_DEV_RUNTIME = {"libpq-dev": "libpq5", "default-libmysqlclient-dev": "libmariadb3", "libmariadb-dev": "libmariadb3"}
# PyPI projects that only come as sources linking a system library (no manylinux wheels):
# built on the full image, which has the -dev packages, they need the runtime library.
# None: the library's runtime package is not mapped, so the split gives up.
PYTHON_LINKED_SDISTS = {
    "psycopg2": "libpq5", "psycopg": "libpq5", "psycopg-c": "libpq5", "mysqlclient": "libmariadb3",
    "mariadb": "libmariadb3", "python-ldap": None, "pycurl": None, "pyodbc": None, "uwsgi": None,
    "mod-wsgi": None, "python-magic": None, "pygraphviz": None, "pycairo": None, "weasyprint": None,
    "gdal": None, "xmlsec": None, "pylibmc": None, "pyaudio": None, "python-snappy": None, "pykerberos": None,
}
VENV = "/opt/venv"
PYTHON_BUILD_TOOLS = frozenset({"pip", "pip3", "poetry", "uv", "uvx", "pipenv", "pdm", "hatch", "make", "gcc", "cc",
                                "setup.py", "tox", "nox", "conda", "mamba"})


def python_runtime(ref: str, args: dict[str, str]) -> Runtime | None:
    """The slim variant of a Debian python builder, same version and release (never alpine:
    wheels built for glibc do not run on musl). The image has no non-root user, so one is
    added with useradd, which Debian's slim images have (passwd is a required package)."""
    img = images.describe(ref, args)
    if img.family != "python" or img.windows or img.distro not in (None, "debian") or not img.version:
        return None
    if img.variant == "slim":
        new, why = ref, f"{ref} is already the slim variant"
    elif img.variant == "full" and not img.digest:
        tag = _python_slim_tag(img, args)
        new = images.template_swap(ref, args, tag) if tag else None
        why = "slim variant of the same Python and Debian release: the venv's wheels keep working (glibc)"
    else:
        return None
    if new is None:
        return None
    create = (f"RUN groupadd --system --gid {APP_UID} {APP_USER} && useradd --system --no-log-init "
              f"--uid {APP_UID} --gid {APP_USER} --create-home {APP_USER}")
    return Runtime(new, why, frozenset({"root", "nobody"}), user=f"{APP_UID}:{APP_UID}", user_name=APP_USER,
                   create_user=create)


def _python_slim_tag(img: images.Image, args: dict[str, str]) -> str | None:
    if img.in_manifest:
        s = images.slimmer(img.ref, {"glibc", "apt"}, args)
        return s.tag if s and s.variant == "slim" else None
    m = re.fullmatch(r"(\d+(?:\.\d+){0,2})(?:-([a-z]+))?", img.tag or "")
    if not m:
        return None
    version, suite = m.groups()
    tag = f"{version}-slim-{suite}" if suite else f"{version}-slim"
    return tag if _pattern_listed("python", tag, version) else None


def python_package_name(spec: str) -> str | None:
    """The normalised project name of a requirement line or `pip install` argument."""
    m = re.match(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)", spec)
    return re.sub(r"[-_.]+", "-", m.group(1)).lower() if m else None


# --- static front ends ----------------------------------------------------------------

NGINX_HTML = "/usr/share/nginx/html"


def nginx_runtime(musl_ok: bool = True) -> Runtime | None:
    """nginx's image of the stable line the manifest lists: on alpine (`stable-alpine` names
    it), or on Debian (`stable`) where the project keeps to glibc images (base-flavour)."""
    line, pattern, system = ("stable-alpine", r"\d+\.\d+-alpine", "alpine") if musl_ok else ("stable", r"\d+\.\d+", "Debian")
    for entry in images.data()["official"].get("nginx", {}).get("images", ()):
        tags = entry["tags"] + entry.get("shared", [])
        if line in tags:
            versions = [t for t in tags if re.fullmatch(pattern, t)]
            if versions:
                ref = f"nginx:{versions[0]}"
                return Runtime(ref, f"{ref}, nginx's stable line on {system}, serves the static files (manifest)",
                               frozenset({"root", "nginx"}))
    return None
