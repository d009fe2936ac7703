"""Java in the stage split (DO202): the jar on the JRE of the builder's JDK.

A stage that builds with Maven or Gradle (or their wrappers) and runs `java -jar JAR`
becomes a builder and a runtime on eclipse-temurin's JRE of the same version. The runtime
takes the jar alone when the build file makes a fat jar (Spring Boot, shade, shadow), when
it was copied out of target/ (`cp target/app-*.jar app.jar`), or when the build file gives
its manifest no Class-Path; with the folder Maven's `<addClasspath>` and
`<classpathPrefix>` name (target/lib/) when it does; and its whole output folder only when
the Class-Path cannot be told (no context, one written by hand). Never target/ whole: its
classes/, reports and sources would double the layer.

Builds of another project folder (`-f`, `-pl`, `-p`), goals other than building and
testing, and (with the context) Spring Boot configuration in the working folder, which
the jar alone would not find, give up.
"""

from __future__ import annotations

import posixpath
import re

from dockopt.optimizer import runtimes
from dockopt.transforms.stage_split.stage import (SAFE_COMMANDS, Bail, Layout, Plan, build_commands, check_copies,
                                                  installs_only, join)

_MAVEN_GOALS = re.compile(r"^(clean|package|install|verify|compile|test-compile|validate|"
                          r"dependency:[\w-]+|spring-boot:repackage)$")
_GRADLE_TASKS = re.compile(r"^:?(clean|build|assemble|bootJar|shadowJar|jar|dependencies|classes|testClasses)$")
_JAR_GOALS = frozenset({"package", "install", "verify", "spring-boot:repackage", "build", "assemble", "bootJar",
                        "shadowJar", "jar"})
_OTHER_PROJECT = re.compile(r"^(-f|--file|-pl|--projects|-p|--project-dir|-b|--build-file)(=|$)")


def plan(layout: Layout, context) -> Plan | None:
    base = layout.base
    if base.family not in runtimes.JAVA_BUILDERS or not layout.entry:
        return None
    version = runtimes.java_version(base)
    if version is None:
        return None
    outputs: dict[str, str] = {}  # folder a build writes its jar to -> the tool
    aliases: set[str] = set()  # jars copied out of such a folder by cp / mv
    for ins, words, assigns in build_commands(layout):
        cwd = layout.workdir[id(ins)]
        name = posixpath.basename(words[0])
        if name in ("mvn", "mvnw", "gradle", "gradlew"):
            if cwd is None or any(_OTHER_PROJECT.match(w) for w in words[1:]):
                raise Bail("build of another project folder")
            values = {w for i, w in enumerate(words[1:], 1) if words[i - 1] in ("-x", "--exclude-task", "-P", "-D")}
            goals = [w for w in words[1:] if not w.startswith("-") and w not in values]
            maven = name.startswith("mvn")
            if not all((_MAVEN_GOALS if maven else _GRADLE_TASKS).match(g) for g in goals):
                raise Bail(f"build goals {goals}")
            if any(g.lstrip(":") in _JAR_GOALS for g in goals):
                outputs[join(cwd, "target" if maven else "build/libs")] = "Maven" if maven else "Gradle"
        elif name in ("cp", "mv") and len(words) == 3 and cwd and not words[1].startswith("-"):
            src, dest = join(cwd, words[1]), join(cwd, words[2])
            if posixpath.dirname(src) not in outputs or not dest.endswith(".jar"):
                raise Bail("cp of something else than a built jar")
            aliases.add(dest)
        elif name in ("apk", "apt-get", "apt"):
            installs_only(words, runtimes.BUILD_PACKAGES)
        elif name not in SAFE_COMMANDS:
            raise Bail(f"unknown command {name}")
    if not outputs:
        return None
    jar = _java_jar(layout.entry)
    if jar is None or (layout.final_workdir is None and not jar.startswith("/")):
        return None
    jar = join(layout.final_workdir or "/", jar)
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
    check_copies(layout, [layout.build_workdir] + [posixpath.dirname(o) for o in outputs])
    if context.known and (context.glob("application*.properties") + context.glob("application*.y*ml")
                          or context.is_dir("config")):
        raise Bail("Spring Boot reads configuration from the working folder")
    runtime = runtimes.java_runtime(base, version)
    if runtime is None:
        return None
    notes = [] if context.known else ["without the build context the app's other files are not checked: copy any it reads"]
    tool = " and ".join(sorted(set(outputs.values())))
    return Plan(runtime, copies, f"Runtime: the jar on a JRE, without the JDK and {tool}", what, notes=notes)


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
