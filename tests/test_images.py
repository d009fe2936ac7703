"""The base-image knowledge: answers checked against the tag manifests they come from."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from dockopt.optimizer import images

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
MANIFESTS = SHARED / "data" / "official-images"
CORPUS = SHARED / "corpus" / "files"
needs_shared = pytest.mark.skipif(not MANIFESTS.is_dir(), reason="../shared/data is not here")


def manifest_tags(family: str) -> set[str]:
    """Every tag the official-images file lists (read directly, not through dockopt's data)."""
    if MANIFESTS.is_dir():
        text = (MANIFESTS / family).read_text(encoding="utf-8")
        lines = [ln.split(":", 1)[1] for ln in text.splitlines() if ln.startswith(("Tags:", "SharedTags:"))]
        return {t.strip() for ln in lines for t in ln.split(",") if t.strip()}
    entries = images.data()["official"][family]["images"]
    return {t for e in entries for t in e["tags"] + e.get("shared", [])}


def latest_entry_tags(family: str) -> set[str]:
    """The tags of the Linux image `latest` names, read from the manifest file."""
    text = (MANIFESTS / family).read_text(encoding="utf-8")
    for para in re.split(r"\n\s*\n", text):
        if "windows-" in para:
            continue
        tags = {t.strip() for ln in para.splitlines() if ln.startswith(("Tags:", "SharedTags:"))
                for t in ln.split(":", 1)[1].split(",")}
        if "latest" in tags:
            return tags
    return set()


@pytest.mark.parametrize("ref, expected", [
    ("node:20-bookworm", dict(family="node", version="20", variant="full", distro="debian", suite="bookworm",
                              libc="glibc", shell=True, bash=True, apt=True, apk=False, windows=False,
                              in_manifest=False)),
    ("python:3.12-slim", dict(family="python", version="3.12", variant="slim", distro="debian",
                              suite="trixie", libc="glibc", apt=True, in_manifest=True)),
    ("docker.io/library/golang:1.22-alpine3.20", dict(
        registry="docker.io", family="golang", version="1.22", variant="alpine", suite="alpine3.20", libc="musl",
        shell=True, bash=False, apt=False, apk=True, in_manifest=False)),
    ("openjdk:17", dict(family="openjdk", version="17", in_manifest=False)),
    ("ubuntu", dict(family="ubuntu", tag="latest", variant="full", distro="ubuntu", libc="glibc",
                    in_manifest=True)),
    ("nginx:latest", dict(family="nginx", variant="full", distro="debian", in_manifest=True)),
    ("alpine:latest", dict(family="alpine", variant="alpine", libc="musl", bash=False, apk=True)),
    ("gcr.io/distroless/static-debian12:nonroot", dict(
        registry="gcr.io", family="distroless/static-debian12", variant="distroless", libc="none", shell=False,
        bash=False, apt=False, apk=False, uid=65532, in_manifest=True, size=None)),
    ("gcr.io/distroless/base-debian13:debug", dict(variant="distroless", libc="glibc", shell=True, uid=None)),
    ("mcr.microsoft.com/dotnet/sdk:8.0", dict(registry="mcr.microsoft.com", family="dotnet/sdk", version="8.0",
                                              role="build", in_manifest=False)),
    ("mcr.microsoft.com/dotnet/aspnet:8.0-alpine", dict(role="run", variant="alpine", libc="musl")),
    ("python:3.14-windowsservercore-ltsc2022", dict(family="python", variant="windows", windows=True,
                                                    bash=False, in_manifest=True)),
    ("scratch", dict(variant="scratch", shell=False, libc="none")),
    ("debian:stretch-slim", dict(family="debian", variant="slim", suite="stretch", apt=True, in_manifest=False)),
    ("node:lts", dict(family="node", variant="full", in_manifest=True)),
])
def test_describe(ref, expected):
    img = images.describe(ref)
    assert {k: getattr(img, k) for k in expected} == expected
    assert img.sources or img.family is None


@pytest.mark.parametrize("ref, variant, distro", [
    ("node:8-slim", "slim", "debian"),  # bash is Essential on Debian: DO109 may use it
    ("node:0.10", "full", "debian"),
    ("golang:1.26.4", "full", "debian"),
    ("php:7.3-fpm", "full", "debian"),
    ("php:5-apache", "full", "debian"),
    ("rust:1.64", "full", "debian"),
    ("python:3.5-slim", "slim", "debian"),
    ("nginx:1.21.6", "full", "debian"),
    ("openjdk:11-jre-slim", "slim", "debian"),  # every openjdk slim image is Debian; `jre` from an old Dockerfile
    ("eclipse-temurin:11.0.13_8-jdk", "full", "ubuntu"),
    ("ibm-semeru-runtimes:open-16-jdk", "full", "ubuntu"),
    ("caddy:2.4.6", "alpine", "alpine"),
])
def test_describe_reads_an_unlisted_tag_by_the_family_convention(ref, variant, distro):
    img = images.describe(ref)
    assert (img.variant, img.distro, img.in_manifest) == (variant, distro, False)
    assert img.inferred and "tag convention" in img.inferred
    rule = images.data()["official"][img.family]["convention"]["slim" if variant == "slim" else "default"]
    assert rule["source"] in img.sources and rule["source"] in img.inferred
    assert img.suite is None and img.size is None  # the release and the size stay unknown
    facts = images.data()["systems"][distro]
    assert (img.libc, img.bash, img.apt, img.apk, img.sh) == (facts["libc"], facts["bash"], facts["apt"],
                                                               facts["apk"], facts["sh"])
    assert images.slimmer(ref, {"apt"}) is None and images.slimmer(ref) is None  # never a swap to an unlisted tag


@pytest.mark.parametrize("ref, distro", [
    ("buildpack-deps:bookworm-scm", "debian"),
    ("buildpack-deps:stretch", "debian"),
    ("buildpack-deps:focal-curl", "ubuntu"),
    ("buildpack-deps:disco-scm", "ubuntu"),
    ("python:2.7-wheezy", "debian"),
])
def test_a_release_name_says_the_distro(ref, distro):
    img = images.describe(ref)
    assert img.distro == distro and img.suite and img.inferred is None


@pytest.mark.parametrize("ref", [
    "openjdk:8-jdk",  # the default moved to Oracle Linux from openjdk:12 (openjdk_variant-oracle.md)
    "openjdk:17",
    "amazoncorretto:8u292",  # Amazon Linux
    "tomcat:8.5",  # the OS followed the JDK image, openjdk then eclipse-temurin
    "maven:3-jdk-8",  # Debian, Ubuntu, Amazon Linux and others without an OS word
    "gradle:4.10-jdk8",
    "elixir:1.9",  # no tag of elixir names its OS
    "erlang:22-slim",
    "eclipse-temurin:11-jdk-centos7",  # a word the convention does not know
    "golang:1.9-onbuild",
    "python:2.7-onbuild",
    "buildpack-deps:SUITE-scm",
    "busybox:1.31",
])
def test_no_convention_no_distro(ref):
    img = images.describe(ref)
    assert img.distro is None and img.libc is None and img.bash is None and img.inferred is None


def test_a_windows_tag_is_never_read_by_the_convention():
    img = images.describe("python:3.7-windowsservercore-1809")
    assert img.windows and img.distro is None and img.inferred is None


@needs_shared
@pytest.mark.parametrize("family", sorted(f for f, v in images.data()["official"].items()
                                           if v.get("convention", {}).get("default") and v["images"]))
def test_the_convention_agrees_with_every_listed_tag(family):
    """Each Linux tag of the manifest file that names no OS is what the convention says."""
    rules = images.data()["official"][family]["convention"]
    text = (MANIFESTS / family).read_text(encoding="utf-8")
    checked = 0
    for para in re.split(r"\n\s*\n", text):
        if "windows-" in para:
            continue
        tags = {t.strip() for ln in para.splitlines() if ln.startswith(("Tags:", "SharedTags:"))
                for t in ln.split(":", 1)[1].split(",")}
        for tag in tags:
            written = images._parse_tag(tag)
            if written.distro or written.windows:
                continue
            rule = rules.get("slim" if written.slim else "default")
            if rule:
                checked += 1
                assert images.describe(f"{family}:{tag}").distro == rule["distro"], tag
    assert checked


def test_describe_unknown_images_know_nothing():
    for ref in ("ghcr.io/acme/node:24", "acme/node:24", "amd64/acme:1", "builder", "$BASE", "node:${UNSET}"):
        img = images.describe(ref)
        assert img.family is None and img.libc is None and img.shell is None and not img.in_manifest


def test_an_architecture_namespace_is_the_official_image_for_one_architecture():
    img = images.describe("arm64v8/buildpack-deps:noble-curl")
    assert (img.family, img.arch, img.distro, img.sh, img.bash) == ("buildpack-deps", "arm64v8", "ubuntu", "dash", True)
    assert any("Architectures other than amd64" in s for s in img.sources)
    # its OS facts only: no tag is proposed that the architecture's copy may lack
    assert not img.in_manifest and img.size is None
    assert images.slimmer("amd64/node:24") is None
    assert images.current_tag("arm32v7/node") is None
    assert images.replacement("amd64/openjdk:17") is None


def test_a_mirror_of_docker_hub_serves_the_official_image_under_its_path():
    img = images.describe("mirror.gcr.io/library/debian:bookworm")
    assert (img.family, img.registry, img.distro, img.sh, img.bash) == ("debian", "mirror.gcr.io", "debian", "dash", True)
    assert any("mirror.gcr.io caches" in s for s in img.sources)
    # its OS facts only: a mirror holds the tags pulled through it, so none is proposed
    assert not img.in_manifest and img.size is None
    assert images.slimmer("mirror.gcr.io/library/node:24") is None
    assert images.current_tag("mirror.gcr.io/library/node") is None
    # outside library/, or a registry that is no mirror: nothing is known
    assert images.describe("mirror.gcr.io/acme/debian:12").family is None
    assert images.describe("example.com/library/debian:12").family is None


def test_a_declared_image_has_the_os_of_its_public_image_and_nothing_more():
    assert images.describe("acme/python:3.12").family is None
    with images.declared((("acme/*", "python:3.12-slim-bookworm"),)):
        img = images.describe("acme/python:3.12")
        assert (img.family, img.distro, img.sh, img.declared) == ("python", "debian", "dash", "python:3.12-slim-bookworm")
        assert img.registry == "docker.io" and img.tag == "3.12" and not img.in_manifest and img.size is None
        assert any("acme/* is built from" in s for s in img.sources)
        # no tag or variant is proposed for the project's own image
        assert images.slimmer("acme/python:3.12") is None and images.current_tag("acme/python") is None
        assert images.describe("other/python:3.12").family is None
        # names are compared as docker reads them
        assert images.describe("docker.io/acme/python:3.12").declared == "python:3.12-slim-bookworm"
        assert images.describe("index.docker.io/acme/base").declared == "python:3.12-slim-bookworm"
    with images.declared((("docker.io/acme/base", "debian:bookworm"),)):
        assert images.describe("acme/base:1").distro == "debian"
    assert images.describe("acme/python:3.12").family is None, "only within declared()"


def test_dotnet_runtime_deps_is_built_on_the_os_its_tag_names():
    alpine = images.describe("mcr.microsoft.com/dotnet/runtime-deps:9.0.19-alpine3.24-amd64")
    assert (alpine.distro, alpine.sh, alpine.role) == ("alpine", "busybox-ash", "run")
    assert images.describe("mcr.microsoft.com/dotnet/runtime-deps:8.0-noble-chiseled").shell is False


def test_dotnet_sdk_points_at_its_run_images():
    img = images.describe("mcr.microsoft.com/dotnet/sdk:8.0")
    assert "mcr.microsoft.com/dotnet/aspnet" in img.run_images
    for run in img.run_images:
        assert images.describe(run + ":8.0").role == "run"


def test_openjdk_is_deprecated_for_eclipse_temurin():
    img = images.describe("openjdk:17")
    assert "deprecated" in img.deprecated
    assert img.replaced_by[0] == "eclipse-temurin"
    assert any("openjdk_deprecated.md" in s for s in img.sources)
    swap = images.replacement("openjdk:17")
    assert swap.ref == "eclipse-temurin:17" and swap.tag in manifest_tags("eclipse-temurin")
    assert images.replacement("openjdk:8-jre-slim").ref == "eclipse-temurin:8-jre"
    assert images.replacement("openjdk").ref == "eclipse-temurin"
    assert images.replacement("node:24") is None


@pytest.mark.parametrize("ref, needs, expected", [
    ("node:24-bookworm", {"apt"}, "node:24-bookworm-slim"),
    ("node:24-bookworm", {"glibc"}, "node:24-bookworm-slim"),
    ("node:24-bookworm", {"bash", "shell"}, "node:24-bookworm-slim"),
    ("node:24-bookworm", set(), "node:24-alpine"),
    ("node:24-bookworm", {"shell"}, "node:24-alpine"),
    ("node:24", {"apt"}, "node:24-slim"),
    ("docker.io/library/node:24", {"apt"}, "docker.io/library/node:24-slim"),
    ("node:lts", set(), "node:lts-alpine"),
    ("python:3.12-slim", set(), "python:3.12-alpine"),
    ("python:3.14", {"apt"}, "python:3.14-slim"),
    ("golang:1.27-bookworm", set(), "golang:1.27-alpine"),
    ("nginx:latest", set(), "nginx:alpine"),
    ("nginx:1.31-perl", set(), "nginx:1.31-alpine-perl"),
    ("php:8.5-fpm", {"shell"}, "php:8.5-fpm-alpine"),
    ("eclipse-temurin:17-jdk-noble", set(), "eclipse-temurin:17-jdk-alpine"),
    ("debian:bookworm", {"apt"}, "debian:bookworm-slim"),
])
def test_slimmer_picks_a_listed_smaller_variant(ref, needs, expected):
    got = images.slimmer(ref, needs)
    assert got is not None and got.ref == expected
    family = images.describe(ref).family
    assert got.tag in manifest_tags(family)
    new, old = images.describe(got.ref), images.describe(ref)
    assert new.in_manifest and new.variant == got.variant
    assert ["alpine", "slim", "full"].index(new.variant) < ["alpine", "slim", "full"].index(old.variant)
    if needs & {"apt", "glibc", "bash"}:
        assert (new.apt, new.libc, new.bash) == (True, "glibc", True)
    assert got.reason and got.sources


@pytest.mark.parametrize("ref, needs", [
    ("node:24-bookworm", {"build-tools"}),  # slim and alpine both drop the default's packages
    ("python:3.12-slim", {"apt"}),  # already the smallest Debian variant
    ("nginx:latest", {"apt"}),  # nginx has no Debian slim variant
    ("ubuntu", set()),
    ("alpine:3.24", set()),
    ("ghcr.io/acme/node:24-bookworm", set()),  # unknown registry
    ("registry.example.com:5000/node:24-bookworm", set()),
    ("python:3.14-windowsservercore-ltsc2022", set()),
    ("node:24-bookworm", {"windows"}),
    ("node:20-bookworm", set()),  # node 20 is no longer in the manifest
    ("docker.io/library/golang:1.22-alpine3.20", set()),
    ("openjdk:17", set()),
    ("gcr.io/distroless/static-debian12:nonroot", set()),
    ("mcr.microsoft.com/dotnet/sdk:8.0", set()),
    ("node:24-bookworm@sha256:" + "0" * 64, set()),  # a digest pins the bytes, not the tag
    ("amazoncorretto:8", set()),  # Amazon Linux: what it has is not in the sources
    ("erlang:29", {"apt"}),  # a slim variant whose OS no source names
    ("node:${NODE_VERSION}", set()),  # no value for the ARG
])
def test_slimmer_declines(ref, needs):
    assert images.slimmer(ref, needs) is None


def test_slimmer_rejects_unknown_needs():
    with pytest.raises(ValueError):
        images.slimmer("node:24", {"apt-get"})


@pytest.mark.parametrize("ref, args, needs, expected, tag", [
    ("node:${NODE_VERSION}", {"NODE_VERSION": "24"}, {"apt"}, "node:${NODE_VERSION}-slim", "24-slim"),
    ("node:$NODE_VERSION", {"NODE_VERSION": "24"}, set(), "node:$NODE_VERSION-alpine", "24-alpine"),
    ("node:${NODE_VERSION}-bookworm", {"NODE_VERSION": "24"}, {"apt"},
     "node:${NODE_VERSION}-bookworm-slim", "24-bookworm-slim"),
    ("python:${PY:-3.12}", {}, set(), "python:${PY:-3.12}-alpine", "3.12-alpine"),
    ("${REGISTRY}node:24-bookworm", {"REGISTRY": ""}, {"apt"},
     "${REGISTRY}node:24-bookworm-slim", "24-bookworm-slim"),
])
def test_slimmer_keeps_args(ref, args, needs, expected, tag):
    got = images.slimmer(ref, needs, args=args)
    assert (got.ref, got.tag) == (expected, tag)
    assert tag in manifest_tags("node" if "node" in ref else "python")


@pytest.mark.parametrize("ref, args", [
    ("python:3.12-${VARIANT}", {"VARIANT": "slim"}),  # the ARG holds the part that would change
    ("python:${TAG}", {"TAG": "3.12-slim"}),
    ("${IMAGE}", {"IMAGE": "node:24-bookworm"}),
    ("${REGISTRY}node:24-bookworm", {}),  # the registry is unknown
])
def test_slimmer_declines_what_an_arg_decides(ref, args):
    assert images.slimmer(ref, args=args) is None


def test_template_swap():
    assert images.template_swap("node:${V}", {"V": "24"}, "24-slim") == "node:${V}-slim"
    assert images.template_swap("node:${V}-bookworm", {"V": "24"}, "24-alpine") == "node:${V}-alpine"
    assert images.template_swap("node:${V}", {}, "24-slim") is None
    assert images.template_swap("node:24@sha256:" + "0" * 64, None, "24-slim") is None
    assert images.template_swap("node", None, "slim") == "node:slim"


@needs_shared
@pytest.mark.parametrize("family", ["node", "python", "golang", "ubuntu", "nginx", "debian", "alpine"])
def test_current_tag_is_a_version_tag_of_latest(family):
    tag = images.current_tag(family)
    assert tag in latest_entry_tags(family)
    assert images.VERSION.fullmatch(tag)
    assert images.current_tag(f"docker.io/library/{family}:latest") == tag


def test_current_tag_examples():
    assert images.current_tag("node") == "26"  # 24 and 22 are maintained beside it
    assert images.current_tag("python") == "3.14"  # `3` would also name 3.13
    assert images.current_tag("ubuntu") == "26.04"
    assert images.current_tag("openjdk") is None  # no `latest` any more
    assert images.current_tag("ghcr.io/acme/node") is None


def test_every_size_has_a_source():
    for size in images.data()["sizes"]:
        assert size["source"] and size["value"] > 0 and size["unit"] in ("MB", "MiB")
        got = images.describe(size["ref"]).size
        assert got is not None and got.value == size["value"] and got.source == size["source"]
        if MANIFESTS.is_dir():  # the figure is in the file the source names
            cited = size["source"].split(":")[0]  # seeds/003_....txt, distroless-README.md, image-sizes.tsv
            path = SHARED / cited if cited.startswith("seeds/") else SHARED / "data" / cited
            text = path.read_text(encoding="utf-8")
            if cited == "image-sizes.tsv":  # the row the source names, its bytes in MB
                row = next(r.split("\t") for r in text.splitlines() if r.split("\t")[-1] in size["source"])
                assert round(int(row[2]) / 1e6, 1) == size["value"] and size["measure"] == "compressed"
            else:
                assert str(size["value"]) in text


def test_every_fact_has_a_source():
    data = images.data()
    tables = [data["suites"], data["systems"], data["variants"], data["official"], data["dotnet"]["repos"]]
    for table in tables:
        for name, fact in table.items():
            assert fact["source"], name
    for name, image in data["distroless"]["images"].items():
        assert image.get("libc") is None or image["libc_source"], name


@needs_shared
def test_regenerating_gives_the_committed_file():
    spec = importlib.util.spec_from_file_location("build_images_data", ROOT / "tools" / "build_images_data.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    assert tool.render(tool.build(SHARED)) == images.DATA.read_text(encoding="utf-8")
    listed = {name for name, fam in images.data()["official"].items() if fam["images"]}
    tagged = {p.name for p in MANIFESTS.iterdir() if "\nTags:" in p.read_text(encoding="utf-8")}
    assert listed == tagged  # the deprecated images' manifests (php-zendserver, ...) list no tag
    assert set(images.data()["official"]) == {p.name for p in MANIFESTS.iterdir()}


def test_import_does_not_read_the_data():
    code = "import dockopt.optimizer.images as m; print(m.data.cache_info().currsize)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "0"


def test_data_is_json_with_the_tables_the_loader_reads():
    data = json.loads(images.DATA.read_text(encoding="utf-8"))
    assert {"suites", "systems", "variants", "sizes", "distroless", "dotnet", "official"} <= set(data)


@pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is not here")
def test_corpus_from_lines():
    """Every FROM of the corpus is described without error; every suggestion is a listed tag."""
    suggested = 0
    for path in sorted(CORPUS.iterdir()):
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            words = line.split()
            if len(words) < 2 or words[0].upper() != "FROM":
                continue
            ref = next((w for w in words[1:] if not w.startswith("--")), None)
            if ref is None:
                continue
            img = images.describe(ref)
            for needs in (set(), {"apt"}):
                got = images.slimmer(ref, needs)
                if got is not None:
                    suggested += 1
                    assert got.tag in manifest_tags(img.family), (path.name, ref)
                    assert images.describe(got.ref).in_manifest, (path.name, ref)
    assert suggested > 0
