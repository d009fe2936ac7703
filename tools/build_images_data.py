"""Build dockopt/data/images.json, the base-image knowledge, from the facts in ../shared/data.

    .venv/bin/python tools/build_images_data.py            # write the file
    .venv/bin/python tools/build_images_data.py --check    # exit 1 if the committed file differs

Everything that can be read from ../shared/data is read from it (tag manifests, variant
docs, distroless README, the seed that quotes node sizes), so a new snapshot of those files
regenerates the knowledge, including each family's tag convention (what OS a tag without
an OS word names, see conventions()). The few facts those files do not hold are written below, each
with the public file it comes from. dockopt itself only reads the generated JSON: it never
needs ../shared at run time.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
OUT = ROOT / "dockopt" / "data" / "images.json"
sys.path.insert(0, str(ROOT))

from dockopt.optimizer.images import VERSION, _parse_tag  # noqa: E402  (the tag grammar)

# Where the snapshot in ../shared/data comes from, as its README gives it (checked below).
OFFICIAL = "official-images/{name}: docker-library/official-images library/{name}, commit 37079fb336f5, 2026-08-21"
DOCS = "image-docs/{name}: docker-library/docs, commit c4a9ba41443, 2026-08-21"
DISTROLESS = "distroless-README.md: GoogleContainerTools/distroless README, commit cd080764af31, 2026-08-21"
SEED = ("seeds/003_d5932590af2a0d6c.txt: a case study's figures for a Node.js image, read as "
        "compressed sizes (the study does not say; shared/data/README.md quotes them as compressed)")
SIZES = "image-sizes.tsv"

# Facts not in ../shared/data, each from a named public file.
ALPINE_DOC = "docker-library/docs alpine/content.md, commit 06f380c8f843 (musl libc and BusyBox; `apk add`)"
DEBIAN_BASE = ("Debian policy: bash and apt are Priority required, in every Debian and Ubuntu "
               "image; slim only drops files such as man pages and docs ({slim})")
WINDOWS = "official-images Architectures `windows-amd64`; RUN runs `cmd /S /C` (Dockerfile reference, SHELL)"
SCRATCH = "Dockerfile reference: `FROM scratch` is the reserved, explicitly empty image"
# What /bin/sh is, for rewrites that change the shell (DO109 adds `-o pipefail`).
SH_DASH = ("Debian policy 10.4 and the dash package: /bin/sh is dash, Priority required, since "
           "Debian 6.0 and Ubuntu 6.10; bash is installed beside it at /bin/bash")
SH_BUSYBOX = ("alpinelinux/aports main/busybox/busyboxconfig: CONFIG_SH_IS_ASH=y, "
              "CONFIG_ASH_BASH_COMPAT=y (ash has `set -o pipefail`); /bin/sh and /bin/ash are "
              "links to BusyBox")
DL_BASE = "GoogleContainerTools/distroless base/README.md, commit 1533e54a7380"
DL_CC = "GoogleContainerTools/distroless cc/README.md, commit a9245545096a (everything in base, plus libgcc)"
DL_UID = "GoogleContainerTools/distroless common/variables.bzl, commit 2bbbfedeee0d (NONROOT = 65532)"
ARCH_NAMESPACES = (OFFICIAL.format(name="*") + " (each block's `Architectures`); docker-library/official-images "
                   "README, \"Architectures other than amd64?\": each architecture's images are also published "
                   "under a Docker Hub namespace of its name, such as `arm64v8/`")
# Registries that serve copies of Docker Hub's images under the same paths.
MIRRORS = {
    "registries": ["mirror.gcr.io"],
    "source": ("Google Cloud, \"Pull cached Docker Hub images\" "
               "(https://cloud.google.com/artifact-registry/docs/pull-cached-dockerhub-images): mirror.gcr.io "
               "caches frequently-accessed public Docker Hub images, kept in sync with Docker Hub"),
}
DOTNET_DEPS = ("dotnet/dotnet-docker src/runtime-deps/<version>/<os>/<arch>/Dockerfile, commit 3ed00b611cc8 "
               "(in ../shared/corpus): each tag is built FROM the OS its tag names, `alpine3.24` FROM "
               "alpine:3.24, `azurelinux3.0` FROM Azure Linux; runtime and aspnet are built FROM it")
DOTNET = "dotnet/dotnet-docker {name}, nightly branch, commit 00173ed650e5"
OLD_SUITES = {  # releases no manifest lists any more, still common in FROM lines
    "wheezy": ("debian", "7"), "jessie": ("debian", "8"), "stretch": ("debian", "9"), "buster": ("debian", "10"),
    "precise": ("ubuntu", "12.04"), "trusty": ("ubuntu", "14.04"), "xenial": ("ubuntu", "16.04"),
    "bionic": ("ubuntu", "18.04"), "focal": ("ubuntu", "20.04"),
    # interim Ubuntu releases (buildpack-deps had tags for them: `disco-scm`)
    "cosmic": ("ubuntu", "18.10"), "disco": ("ubuntu", "19.04"), "eoan": ("ubuntu", "19.10"),
    "groovy": ("ubuntu", "20.10"), "hirsute": ("ubuntu", "21.04"), "impish": ("ubuntu", "21.10"),
    "kinetic": ("ubuntu", "22.10"), "lunar": ("ubuntu", "23.04"), "mantic": ("ubuntu", "23.10"),
    "oracular": ("ubuntu", "24.10"), "plucky": ("ubuntu", "25.04"), "questing": ("ubuntu", "25.10"),
}
OLD_SUITES_SOURCE = {
    "debian": "wiki.debian.org/DebianReleases (linked from image-docs/template-helpers_variant-default-debian.md)",
    "ubuntu": "wiki.ubuntu.com/Releases (linked from official-images/ubuntu)",
}
# The working directory a container of each Linux image starts in (its config's WorkingDir;
# none set means "/"), read from the image history docker-library/repo-info publishes.
REPO_INFO = "docker-library/repo-info repos/{name}/remote/{tag}.md, commit {commit} (history: {said})"
WORKDIRS = {
    "alpine": ("/", REPO_INFO.format(name="alpine", tag="latest", commit="1746b5874918",
                                     said="ADD alpine-minirootfs, CMD; no WORKDIR")),
    "debian": ("/", REPO_INFO.format(name="debian", tag="bookworm", commit="05f354f0a08a",
                                     said="one RUN from debian.sh, CMD; no WORKDIR")),
    "ubuntu": ("/", REPO_INFO.format(name="ubuntu", tag="latest", commit="01470af91233",
                                     said="umoci add-layer and config: cmd, env, labels; no WORKDIR")),
    "busybox": ("/", REPO_INFO.format(name="busybox", tag="latest", commit="01a7054230d5",
                                       said="one layer (`RUN BusyBox 1.38.0 ...`), Default Command `[\"sh\"]`; no WORKDIR")),
    "python": ("/", "docker-library/python <version>/<variant>/Dockerfile, commit 4f07059567fa (the Linux "
                    "files in ../shared/corpus): no WORKDIR; built FROM debian:*-slim, alpine:* or buildpack-deps:*, "
                    "none of which sets one (docker-library/buildpack-deps debian/bookworm/Dockerfile, commit "
                    "84e7e4602613, and curl/Dockerfile, commit 4f0449f75e6f: FROM, RUN only)"),
    "node": ("/", "nodejs/docker-node 22/trixie/Dockerfile, commit 09c24884cd9f: no WORKDIR; built FROM "
                  "buildpack-deps:trixie (no WORKDIR, as for python)"),
    "golang": ("/go", REPO_INFO.format(name="golang", tag="latest", commit="01b535c016d0",
                                       said="last instruction `WORKDIR /go`")
               + "; docker-library/golang 1.23/alpine3.22/Dockerfile, commit 19c4c4251cc5 (`ENV GOPATH /go`, "
                 "`WORKDIR $GOPATH`)"),
}
# Tag conventions: how the OS of a tag the snapshot no longer lists (`node:8-slim`) is read
# from the family's naming. Derived from the manifests in conventions(); these are the
# exceptions, each with its reason.
NO_CONVENTION = {
    "tomcat": ("tags name the JDK image they are built on (`jdk21-temurin-noble`); older tags were built on "
               "openjdk (`jdk11-openjdk`), deprecated (image-docs/openjdk_deprecated.md), so the OS of a tag "
               "without an OS word depends on its age"),
}
# Flavour words a family's old tags use that today's manifest no longer lists, each with its source.
OLD_WORDS = {
    "openjdk": {"jre": "docker-library/openjdk 11/jre/slim/Dockerfile, commit 0277c804c16c (`FROM debian:sid-slim`)"},
}
ROLLING = {"stable", "oldstable", "oldoldstable", "testing", "unstable", "experimental", "latest",
           "rolling", "devel"}
PRERELEASE = re.compile(r"rc|ea|alpha|beta|preview|tip", re.I)


def parse_manifest(text: str) -> list[dict]:
    """The image entries of an official-images library file, in file order."""
    header: dict[str, str] = {}
    entries = []
    for para in re.split(r"\n[ \t]*\n", text):
        fields: dict[str, str] = {}
        key = None
        for line in para.splitlines():
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            if line[0].isspace() and key:
                fields[key] += " " + line.strip()
                continue
            key, _, value = line.partition(":")
            key = key.strip()
            fields[key] = value.strip()
        if "Tags" not in fields:
            header.update(fields)
            continue
        words = lambda field: [w.strip() for w in fields.get(field, "").split(",") if w.strip()]
        arches = words("Architectures") or [a.strip() for a in header.get("Architectures", "").split(",")]
        entry = {"tags": words("Tags")}
        if words("SharedTags"):
            entry["shared"] = words("SharedTags")
        if arches and all(a.startswith("windows-") for a in arches if a):
            entry["windows"] = True
        entries.append(entry)
    return entries


def full_version(entry: dict) -> str | None:
    versions = [t for t in entry["tags"] + entry.get("shared", []) if VERSION.fullmatch(t)]
    return max(versions, key=len) if versions else None


def current(entries: list[dict]) -> str | None:
    """The shortest version tag of the `latest` image that no other maintained version shares."""
    latest = [e for e in entries if "latest" in e["tags"] + e.get("shared", []) and not e.get("windows")]
    if not latest or not full_version(latest[0]):
        return None
    full = full_version(latest[0])
    prefix = lambda tag, v: v.startswith(tag) and not v[len(tag):][:1].isdigit()  # 8 of 8u504, not 2 of 26
    others = {full_version(e) for e in entries} - {None, full}
    others = {v for v in others if not PRERELEASE.search(v)}
    tags = [t for t in latest[0]["tags"] + latest[0].get("shared", []) if VERSION.fullmatch(t) and prefix(t, full)]
    free = [t for t in tags if not any(prefix(t, v) for v in others)]
    return min(free, key=lambda t: (len(t), t)) if free else full


def suites(official: dict[str, list[dict]]) -> dict:
    out = {}
    for distro in ("debian", "ubuntu"):
        for e in official[distro]:
            words = [t for t in e["tags"] if re.fullmatch(r"[a-z]+", t) and t not in ROLLING]
            numbers = sorted((t for t in e["tags"] if re.fullmatch(r"\d+(\.\d+)?", t)), key=len)
            for w in words:
                out[w] = {"distro": distro, "version": numbers[0] if numbers else None,
                          "source": OFFICIAL.format(name=distro)}
    for word, (distro, version) in OLD_SUITES.items():
        out.setdefault(word, {"distro": distro, "version": version, "source": OLD_SUITES_SOURCE[distro]})
    return dict(sorted(out.items()))


def plain(markdown: str) -> str:
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", markdown)
    text = text.replace("*", "").replace("`%%IMAGE%%`", "the image").replace("%%IMAGE%%", "the image")
    return re.sub(r"\s+", " ", text).strip()


def sentence(docs: Path, name: str, pattern: str) -> dict:
    text = plain((docs / name).read_text(encoding="utf-8"))
    m = re.search(pattern, text)
    if not m:
        raise SystemExit(f"{name}: no sentence matches {pattern!r}; the docs changed, update this script")
    return {"text": m.group().strip(), "source": DOCS.format(name=name)}


def figure(text: str, pattern: str, where: str) -> int:
    m = re.search(pattern, text)
    if not m:
        raise SystemExit(f"{where}: no figure matches {pattern!r}; update this script")
    return int(m.group(1))


def variants(docs: Path) -> dict:
    """What the default, slim and alpine variants are, in the docs' own words."""
    alpine = "template-helpers_variant-alpine.md"
    out = {
        "full": sentence(docs, "template-helpers_variant-default-buildpack-deps.md",
                         r"This tag is based off of `buildpack-deps`\..*?large number[^.]*\."),
        "slim": sentence(docs, "template-helpers_variant-slim.md", r"This image does not contain[^.]*\."),
        "alpine": sentence(docs, alpine, r"The main caveat[^.]*\."),
    }
    out["alpine"]["text"] += " " + sentence(docs, alpine, r"To minimize image size[^.]*\.")["text"]
    return {name: {"summary": v["text"], "source": v["source"]} for name, v in out.items()}


def systems() -> dict:
    """libc, shell, bash, apt, apk (and what /bin/sh is, where known) of each kind of system an
    image is built on."""
    facts = lambda libc, shell, bash, apt, apk, source: dict(libc=libc, shell=shell, bash=bash, apt=apt,
                                                             apk=apk, source=source)
    debian = DEBIAN_BASE.format(slim=DOCS.format(name="debian_variant-slim.md"))
    alpine = DOCS.format(name="template-helpers_variant-alpine.md") + "; " + ALPINE_DOC
    sh = lambda name, source: dict(sh=name, sh_source=source)
    return {
        "debian": facts("glibc", True, True, True, False, debian) | sh("dash", SH_DASH),
        "ubuntu": facts("glibc", True, True, True, False, debian) | sh("dash", SH_DASH),
        "alpine": facts("musl", True, False, False, True, alpine) | sh("busybox-ash", SH_BUSYBOX),
        "windows": facts(None, True, False, False, False, WINDOWS),
        "distroless": facts(None, False, False, False, False, DISTROLESS + " (no package managers, no shell)"),
        "distroless-debug": facts(None, True, False, False, False,
                                  DISTROLESS + " (the :debug images provide a busybox shell)"),
        "scratch": facts("none", False, False, False, False, SCRATCH),
    }


def conventions(name: str, entries: list[dict], suites: dict) -> dict | None:
    """How a tag of `name` that the manifest does not list says its OS, as far as the
    manifest's own tags show: {"default", "slim", "words"} (or "refused"); None when nothing.

    `default` (a tag with no OS word, not slim) holds when every Linux image has an OS word
    in some tag and every image with a tag without one is built on the same distro; `slim`
    likewise for slim tags without a release name. A tag with a flavour word the family's
    images of that distro do not use (`centos7`, `onbuild`) is not read by the convention.
    """
    if name in ("debian", "ubuntu", "alpine"):
        return None  # the family is the distro
    source = OFFICIAL.format(name=name)
    if name in NO_CONVENTION:
        return {"refused": NO_CONVENTION[name], "source": source}
    images = []  # (distro, parsed tags) of each Linux image
    for e in entries:
        parsed = [_parse_tag(t, suites) for t in e["tags"] + e.get("shared", [])]
        if e.get("windows") or any(p.windows for p in parsed):
            continue
        distro = next((p.distro for p in parsed if p.distro), None)
        if distro is None:
            return None  # an image whose tags never say its OS: nothing to read a convention from
        images.append((distro, parsed))
    unnamed = {
        "default": lambda p: not (p.distro or p.slim or p.distroless),
        "slim": lambda p: p.slim and not p.distro,
    }
    what = {"default": "a tag without an OS word", "slim": "a `slim` tag without a release name"}
    out: dict = {}
    for kind, fits in unnamed.items():
        hits = [(d, parsed) for d, parsed in images if any(fits(p) for p in parsed)]
        distros = {d for d, _ in hits}
        if len(distros) != 1 or not distros <= {"debian", "ubuntu", "alpine"}:
            continue
        distro = distros.pop()
        named = sorted({p.suite for d, parsed in images if d == distro for p in parsed if p.suite})
        others = sorted({d for d, _ in images if d != distro})
        text = (f"every Linux image of {name} with {what[kind]} ({len(hits)}) is {distro}-based, its other "
                f"tags naming {', '.join(named)}")
        if others:
            text += f"; its images on other systems ({', '.join(others)}) say so in every tag"
        out[kind] = {"distro": distro, "source": f"{source}: {text}"}
    if not out:
        return None
    distros = {rule["distro"] for rule in out.values()}
    words = {w for d, parsed in images if d in distros for p in parsed for w in p.flavour
             if not w[0].isdigit()}  # version-like words (`open-17-jdk`) are never an OS
    old = OLD_WORDS.get(name, {})
    out["words"] = sorted(words | set(old))
    if old:
        out["words_sources"] = dict(sorted(old.items()))
    return out


def families(official: dict[str, list[dict]], docs: Path, suites: dict) -> dict:
    out = {}
    for name, entries in official.items():
        fam = {"source": OFFICIAL.format(name=name), "current": current(entries)}
        if name in ("debian", "ubuntu", "alpine"):
            fam["distro"] = name
        convention = conventions(name, entries, suites)
        if convention:
            fam["convention"] = convention
        if name in WORKDIRS:
            path, source = WORKDIRS[name]
            fam["workdir"] = {"path": path, "source": source}
        out[name] = fam | {"images": entries}
    out["bash"]["has"] = {"bash": True}  # the image packages bash itself, on Alpine
    out["python"]["notes"] = {"slim": sentence(docs, "python_variant-slim.md", r"`pip install` may fail[^.]*\.")}
    out["golang"]["notes"] = {
        "alpine": sentence(docs, "golang_variant-alpine.md", r"This variant is highly[^.]*\.")}
    alternatives = re.findall(r"\[`([a-z0-9-]+)`\]", (docs / "openjdk_deprecated.md").read_text(encoding="utf-8"))
    if "eclipse-temurin" not in alternatives:
        raise SystemExit("openjdk_deprecated.md no longer lists eclipse-temurin")
    out["openjdk"]["deprecated"] = {
        "use": "eclipse-temurin",
        "alternatives": alternatives,
        "note": sentence(docs, "openjdk_deprecated.md", r"This image is officially deprecated[^.]*\.")["text"],
        "choice": ("The docs list " + ", ".join(alternatives) + " with no preference; dockopt proposes "
                   "eclipse-temurin, whose base OS may differ: review the package manager calls."),
        "source": DOCS.format(name="openjdk_deprecated.md"),
    }
    return dict(sorted(out.items()))


def distroless(readme: str) -> dict:
    images = {}
    for m in re.finditer(r"^\| gcr\.io/distroless/(\S+)\s*\|([^|]*)\|([^|]*)\|", readme, re.M):
        name = m.group(1)
        entry = {"tags": [t.strip() for t in m.group(2).split(",")],
                 "arch": [a.strip() for a in m.group(3).split(",")]}
        if name.startswith("static-"):
            entry |= {"libc": "none", "libc_source": DL_BASE + " (static: no libc)"}
        elif name.startswith(("base-", "base-nossl-")):
            entry |= {"libc": "glibc", "libc_source": DL_BASE + " (base, base-nossl: glibc)"}
        elif name.startswith("cc-"):
            entry |= {"libc": "glibc", "libc_source": DL_CC}
        images[name] = entry
    return {"source": DISTROLESS, "nonroot_uid": 65532, "nonroot_uid_source": DL_UID, "images": images}


def dotnet() -> dict:
    run = ["mcr.microsoft.com/dotnet/aspnet", "mcr.microsoft.com/dotnet/runtime"]
    quote = lambda name, words: DOTNET.format(name=name) + f" ('{words}')"
    return {"repos": {
        "dotnet/sdk": {"role": "build", "run_images": run,
                       "source": quote("README.sdk.md", "Use this image for your development process")},
        "dotnet/aspnet": {"role": "run", "source": quote(
            "README.aspnet.md", "optimized for running ASP.NET Core apps in production")},
        "dotnet/runtime": {"role": "run",
                           "source": quote("README.runtime.md", "optimized for running .NET apps in production")},
        "dotnet/runtime-deps": {"role": "run", "source": DOTNET_DEPS},
    }}


def sizes(seed: str, readme: str, table: str, official: dict[str, list[dict]]) -> list[dict]:
    """Only the sizes a source states, with its words on what was measured.

    image-sizes.tsv first: docker-library/repo-info's compressed linux/amd64 figures, exact
    to the byte, each with its date. A figure holds for every tag of the manifest block its
    tag is in (`node:22` is `node:22-bookworm`), the newest figure winning where two rows
    share a block, a row's own tag always its own. The other sources only fill what the
    table lacks: the case study's node figures (it does not say whether compressed) and the
    distroless README's round figures."""
    size = lambda ref, value, unit, approx, measure, source: dict(
        ref=ref, value=value, unit=unit, approx=approx, measure=measure, source=source)
    rows = [dict(zip(("image", "tag", "bytes", "date", "source"), line.split("\t")))
            for line in table.splitlines()[1:] if line.strip()]
    found: dict[str, dict] = {}
    own: dict[str, dict] = {}
    for row in sorted(rows, key=lambda r: _date(r["date"])):
        figure_ = size(f"{row['image']}:{row['tag']}", round(int(row["bytes"]) / 1e6, 1), "MB", False, "compressed",
                       f"{SIZES}: {row['source']} (linux/amd64, as of {_date(row['date'])})")
        block = next((e for e in official.get(row["image"], [])
                      if row["tag"] in e["tags"] + e.get("shared", [])), None)
        for alias in (block["tags"] + block.get("shared", [])) if block else []:
            found[f"{row['image']}:{alias}"] = figure_ | {"ref": f"{row['image']}:{alias}"}
        own[figure_["ref"]] = figure_
    found.update(own)
    others = [
        size("node:20-bookworm", figure(seed, r"`node:20-bookworm` \((\d+)MB\)", "seed 003"),
             "MB", True, "compressed", SEED),
        size("node:20-alpine", figure(seed, r"`node:20-alpine` \((\d+)MB\)", "seed 003"),
             "MB", True, "compressed", SEED),
        size("gcr.io/distroless/static-debian13",
             figure(readme, r"static-debian13`, is around (\d+) MiB", "distroless README"),
             "MiB", True, "unspecified", DISTROLESS),
        size("alpine", figure(readme, r"`alpine` \(~(\d+) MiB\)", "distroless README"),
             "MiB", True, "unspecified", DISTROLESS),
        size("debian", figure(readme, r"`debian` \((\d+) MiB\)", "distroless README"),
             "MiB", False, "unspecified", DISTROLESS),
    ]
    refs = {_normal(ref) for ref in found}
    return [found[ref] for ref in sorted(found)] + [o for o in others if _normal(o["ref"]) not in refs]


def _normal(ref: str) -> str:
    return ref if ":" in ref.rsplit("/", 1)[-1] else ref + ":latest"


def _date(text: str) -> str:
    """`Tue, 13 Jan 2026 00:41:44 GMT` -> `2026-01-13`."""
    from email.utils import parsedate_to_datetime

    return parsedate_to_datetime(text).date().isoformat()


def build(shared: Path = SHARED) -> dict:
    data_dir = shared / "data"
    readme = (data_dir / "README.md").read_text(encoding="utf-8")
    for needle in ("37079fb336f5", "c4a9ba41443", "cd080764af31", "2026-08-21"):
        if needle not in readme:
            raise SystemExit(f"shared/data/README.md no longer says {needle!r}: update the sources here")
    docs = data_dir / "image-docs"
    manifests = {p.name: p.read_text(encoding="utf-8") for p in sorted((data_dir / "official-images").iterdir())}
    official = {name: parse_manifest(text) for name, text in manifests.items()}
    readme_dl = (data_dir / "distroless-README.md").read_text(encoding="utf-8")
    seed = (shared / "seeds" / "003_d5932590af2a0d6c.txt").read_text(encoding="utf-8")
    table = (data_dir / "image-sizes.tsv").read_text(encoding="utf-8")
    releases = suites(official)
    return {
        "about": "Generated by tools/build_images_data.py from ../shared/data; do not edit by hand.",
        "suites": releases, "systems": systems(), "variants": variants(docs),
        "sizes": sizes(seed, readme_dl, table, official), "distroless": distroless(readme_dl), "dotnet": dotnet(),
        "official": families(official, docs, releases), "architectures": architectures(list(manifests.values())),
        "mirrors": MIRRORS,
    }


def architectures(manifests: list[str]) -> dict:
    """The Docker Hub namespaces that hold one architecture's copy of the official images
    (`arm64v8/debian` is debian's arm64 image): every Linux architecture a manifest lists."""
    names = {a.strip() for text in manifests for m in re.finditer(r"^Architectures:(.*)$", text, re.M)
             for a in m.group(1).split(",") if a.strip()}
    return {"namespaces": sorted(n for n in names if not n.startswith("windows")), "source": ARCH_NAMESPACES}


def render(data: dict) -> str:
    return json.dumps(data, indent=1, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed file, write nothing")
    parser.add_argument("--shared", type=Path, default=SHARED, help="the shared folder (default: ../shared)")
    opts = parser.parse_args(argv)
    text = render(build(opts.shared))
    if opts.check:
        same = OUT.exists() and OUT.read_text(encoding="utf-8") == text
        print(f"{OUT.relative_to(ROOT)} is {'up to date' if same else 'stale: run tools/build_images_data.py'}")
        return 0 if same else 1
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)} ({len(text)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
