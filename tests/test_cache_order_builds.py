"""DO201 on builds that download their own dependencies: which deps-only step, and when none."""

from __future__ import annotations

import pytest

from dockopt.optimizer.context import BuildContext
from dockopt.optimizer.installs import find_build, find_install
from dockopt.optimizer.pipeline import optimize
from dockopt.transforms import by_id

NO_CONTEXT = BuildContext(None)
POM = "<project><modelVersion>4.0.0</modelVersion><artifactId>a</artifactId></project>"


def _context(tmp_path, files: dict[str, str]) -> BuildContext:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return BuildContext(tmp_path)


def _fix(text: str, context: BuildContext) -> str:
    return optimize(text, [by_id("DO201")], context).output


@pytest.mark.parametrize(
    ("command", "files", "deps"),
    [
        ("mvn -B package", ("pom.xml",), "mvn -B dependency:go-offline"),
        ("./mvnw -q -s settings.xml verify", ("pom.xml", "settings.xml", ".mvn/", "mvnw"),
         "./mvnw -q -s settings.xml dependency:go-offline"),
        ("composer install --no-dev -o", ("composer.json", "composer.lock"),
         "composer install --no-dev --no-scripts --no-autoloader"),
        ("dotnet publish App.csproj -c Release -r linux-x64", ("App.csproj",), "dotnet restore App.csproj -r linux-x64"),
    ],
)
def test_without_context_the_command_implies_the_manifests(command, files, deps):
    found = find_build(command.split(), NO_CONTEXT)
    assert found is not None and not found.safe
    assert found.files == files
    assert " ".join(found.command) == deps


@pytest.mark.parametrize(
    "command",
    [
        "gradle build",  # Groovy or Kotlin, one project or many: unknown
        "dotnet publish -c Release",  # the project file's name is unknown
        "dotnet publish Shop.sln",
        "dotnet publish App.csproj --no-restore",
        "mvn -f api/pom.xml package",
        "mvn -pl api -am package",
        "mvn dependency:go-offline",
        "mvn -s /etc/maven/settings.xml package",
        "mvn -Drevision=$VERSION package",
        "mvn exec:java",
        "composer install -d app",
        "composer update",
        "composer install --no-scripts --no-autoloader",
        "cargo build --release",
    ],
)
def test_builds_left_alone_without_context(command):
    assert find_build(command.split(), NO_CONTEXT) is None


def test_maven_with_a_system_path_dependency_is_left_alone(tmp_path):
    pom = POM.replace("</project>", "<dependencies><dependency><systemPath>${basedir}/lib/x.jar</systemPath>"
                                    "</dependency></dependencies></project>")
    assert find_build(["mvn", "package"], _context(tmp_path, {"pom.xml": pom})) is None


def test_maven_wrapper_needs_the_wrapper_script(tmp_path):
    assert find_build(["./mvnw", "package"], _context(tmp_path, {"pom.xml": POM})) is None


def test_gradle_build_script_reading_a_file_is_left_alone(tmp_path):
    context = _context(tmp_path, {
        "build.gradle": "version = file('version.txt').text.trim()\n",
        "settings.gradle": "rootProject.name = 'x'\n",
    })
    assert find_build(["gradle", "build"], context) is None


def test_gradle_drops_excluded_tasks_and_adds_no_daemon(tmp_path):
    context = _context(tmp_path, {"build.gradle": "plugins { id 'java' }\n"})
    found = find_build(["gradle", "build", "-x", "test", "-Pprod"], context)
    assert found is not None and found.files == ("build.gradle",)
    assert found.command == ["gradle", "dependencies", "-Pprod", "--no-daemon"]


@pytest.mark.parametrize(
    "manifest",
    [
        '{"scripts": {"post-package-install": "App\\\\Installer::run"}}',
        '{"extra": {"merge-plugin": {"include": ["modules/*/composer.json"]}}}',
        '{"repositories": [{"type": "artifact", "url": "dist/"}]}',
        'not json',
    ],
)
def test_composer_installs_that_need_more_than_the_manifest(tmp_path, manifest):
    context = _context(tmp_path, {"composer.json": manifest, "composer.lock": "{}"})
    assert find_build(["composer", "install"], context) is None


def test_composer_with_vendor_in_the_context_only_when_ignored(tmp_path):
    context = _context(tmp_path, {"composer.json": "{}", "vendor/autoload.php": "<?php"})
    assert find_build(["composer", "install"], context) is None
    (tmp_path / ".dockerignore").write_text("vendor\n")
    found = find_build(["composer", "install"], BuildContext(tmp_path))
    assert found is not None and found.safe and found.files == ("composer.json",)


def test_composer_with_enabled_plugins_is_review(tmp_path):
    context = _context(tmp_path, {"composer.json": '{"config": {"allow-plugins": {"a/b": true}}}'})
    found = find_build(["composer", "install"], context)
    assert found is not None and not found.safe


def test_php_composer_phar_keeps_the_interpreter(tmp_path):
    found = find_build(["php", "composer.phar", "install"], _context(tmp_path, {"composer.json": "{}"}))
    assert found is not None and found.command[:3] == ["php", "composer.phar", "install"]


@pytest.mark.parametrize(
    "project",
    [
        '<Project Sdk="Microsoft.NET.Sdk"><Import Project="build/common.props" /></Project>',
        '<Project Sdk="Microsoft.NET.Sdk"><ItemGroup><ProjectReference Include="lib/Lib.csproj" /></ItemGroup></Project>',
        '<Project Sdk="Microsoft.NET.Sdk"><ItemGroup Condition="Exists(\'secrets.json\')" /></Project>',
    ],
)
def test_dotnet_restore_reading_other_files_is_left_alone(tmp_path, project):
    context = _context(tmp_path, {"App.csproj": project})
    assert find_build(["dotnet", "publish", "-c", "Release"], context) is None
    assert find_install(["dotnet", "restore", "App.csproj"], context) is None


def test_dotnet_two_projects_without_a_project_argument(tmp_path):
    sdk = '<Project Sdk="Microsoft.NET.Sdk" />'
    context = _context(tmp_path, {"A.csproj": sdk, "B.fsproj": sdk})
    assert find_build(["dotnet", "publish"], context) is None
    assert find_build(["dotnet", "publish", "A.csproj"], context).files == ("A.csproj",)


def test_build_with_a_cache_mount_is_left_alone(tmp_path):
    text = "FROM maven:3\nWORKDIR /app\nCOPY . .\nRUN --mount=type=cache,target=/root/.m2 mvn package\n"
    assert _fix(text, _context(tmp_path, {"pom.xml": POM})) == text


def test_build_not_first_in_its_run_is_left_alone(tmp_path):
    text = "FROM eclipse-temurin:21-jdk\nWORKDIR /app\nCOPY . .\nRUN apt-get update && mvn package\n"
    assert _fix(text, _context(tmp_path, {"pom.xml": POM})) == text


def test_unknown_context_says_the_files_are_implied():
    text = "FROM maven:3\nWORKDIR /app\nCOPY . .\nRUN mvn -B package\n"
    result = optimize(text, [by_id("DO201")], NO_CONTEXT)
    assert result.output == (
        "FROM maven:3\nWORKDIR /app\nCOPY pom.xml ./\nRUN mvn -B dependency:go-offline\nCOPY . .\nRUN mvn -B package\n"
    )
    assert [c.safety for c in result.changes] == ["review"]
    assert "implied by the build command" in result.changes[0].edit.explanation
