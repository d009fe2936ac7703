"""DO206 non-root-user: run the final image as a non-root user the image has or can create.

What it does
    When the last stage of a file has no USER anywhere in its lineage, adds one after the
    stage's last build step (RUN, COPY, ADD), so the build still runs as root and the
    container does not:

        FROM node:20-slim                     FROM node:20-slim
        WORKDIR /app                          WORKDIR /app
        COPY . .                      ->      COPY . .
        CMD ["node", "server.js"]             USER node
                                              CMD ["node", "server.js"]

    The user is one the image already has (node's `node`, distroless's `nonroot`, .NET 8's
    `app`), or, on Debian, Ubuntu and Alpine based images, a system user `app` (uid 10001)
    created with the system's own `useradd` or `adduser` in the same change.

Why
    A process running as root in a container is root on the files it can reach, and one
    container escape away from root on the host. Most application images need root only
    to build (hadolint DL3002, Docker's "Dockerfile best practices", CIS Docker Benchmark
    4.1).

Example
    `FROM python:3.12-slim` ... `CMD ["gunicorn", "app:app"]` gets
    `RUN groupadd --system --gid 10001 app && useradd --system --no-log-init --uid 10001
    --gid app --create-home app` and `USER 10001:10001` before the CMD.

When it is not safe
    It is a `review` change: the files the build copied stay owned by root, so an
    application that writes into its own folder at run time (uploads, a SQLite file, logs)
    needs a writable folder of its own, and a volume mounted from the host must be readable
    by the new uid. Left alone: images that start as root on purpose and drop privileges
    themselves or need root (entrypoint scripts, gosu, su-exec, nginx, httpd, sshd, cron,
    supervisord, databases), families not known to be application runtimes, stages that
    expose a port below 1024 (binding it needs root outside Docker's default sysctl) or
    declare a VOLUME, a CMD that installs packages or changes ownership at run time, stages
    with ONBUILD triggers or without their own CMD or ENTRYPOINT, Windows images and
    backtick-escape files.
"""

from __future__ import annotations

import re

from dockopt.optimizer.edits import Edit
from dockopt.optimizer.messages import joined
from dockopt.optimizer.transform import REVIEW, Transform
from dockopt.transforms._base_image import BASE_IMAGE_REWRITES

# Application runtime images and the non-root user each already has (None: create one).
# Sources: nodejs/docker-node Dockerfiles (node, uid 1000); distroless README (nonroot,
# uid 65532); dotnet-docker, .NET 8 release notes (app, uid 1654, APP_UID).
_USERS = {
    "node": ("1000:1000", "node"),
    "dotnet/aspnet": ("1654:1654", "app"),
    "dotnet/runtime": ("1654:1654", "app"),
    "dotnet/runtime-deps": ("1654:1654", "app"),
    "python": None,
    "ruby": None,
    "golang": None,
    "eclipse-temurin": None,
    "openjdk": None,
    "debian": None,
    "ubuntu": None,
    "alpine": None,
}
_DISTROLESS_USER = ("65532:65532", "nonroot")
_CREATE = {
    "alpine": "RUN addgroup -S -g {uid} {name} && adduser -S -D -u {uid} -G {name} {name}",
    "debian": "RUN groupadd --system --gid {uid} {name} && useradd --system --no-log-init --uid {uid} --gid {name} --create-home {name}",
}
_CREATE["ubuntu"] = _CREATE["debian"]
# Programs that need root or drop privileges themselves.
_ROOT_PROGRAMS = re.compile(
    r"(?:.*/)?(?:[\w.-]*entrypoint[\w.-]*|[\w.-]+\.sh|gosu|su-exec|su|sudo|setpriv|chroot|nginx|apache2\w*|httpd|"
    r"sshd|cron|crond|supervisord|systemd|init|service|php-fpm[\d.]*|postgres|mysqld|mariadbd|redis-server|mongod|"
    r"sh|bash|dash|ash|zsh)"
)
_ROOT_WORK = re.compile(r"\b(?:apt-get|apt|apk|yum|dnf|microdnf|zypper|chown|chmod|useradd|adduser|groupadd|addgroup)\b|"
                        r"\b(?:npm|yarn|pnpm|pip3?|gem|bundle|composer)\s+(?:install|add|ci)\b")
_BUILD_STEPS = ("RUN", "COPY", "ADD")


def fix(dockerfile, context):
    from dockopt.optimizer import images
    from dockopt.optimizer.runtimes import APP_UID, APP_USER

    if dockerfile.escape == "`" or not dockerfile.stages:
        return
    stage = dockerfile.stages[-1]
    lineage = dockerfile.lineage(stage)
    everything = [i for s in lineage for i in s.instructions]
    if any(i.keyword in ("USER", "ONBUILD", "VOLUME") for i in everything) or _low_port(everything):
        return
    starts = [i for i in stage.instructions if i.keyword in ("CMD", "ENTRYPOINT")]
    if not starts or any(_needs_root(i) for i in everything if i.keyword in ("CMD", "ENTRYPOINT")):
        return
    img = images.describe(lineage[-1].image, dockerfile.global_args())
    if img.windows or img.family is None or img.uid:
        return  # unknown, or already runs as a non-root user (distroless :nonroot)
    if img.family.startswith("distroless/"):
        user = _DISTROLESS_USER
    elif img.family.startswith("dotnet/") and not _at_least(img.version, 8):
        return  # the `app` user exists from .NET 8
    elif img.family == "node" and not _at_least(img.version, 6):
        return  # images of old Node versions may lack the `node` user
    elif img.family in _USERS:
        user = _USERS[img.family]
    else:
        return
    create = None
    if user is None:
        template = _CREATE.get(img.distro or "")
        if template is None:
            return
        user = (f"{APP_UID}:{APP_UID}", APP_USER)
        create = template.format(uid=APP_UID, name=APP_USER)
    if any(re.search(rf"\b(?:deluser|userdel)\b.*\b{re.escape(user[1])}\b", i.line) for i in everything if i.keyword == "RUN"):
        return  # the build removes that user
    at = _insertion_point(stage)
    if at is None or any(dockerfile.ends_open(i) for i in stage.instructions[-1:] + [stage.from_]
                         if i.end == at):
        return  # after a continuation left open at the end of the file, the USER would join it
    newline = dockerfile.newline
    text = (create + newline if create else "") + f"USER {user[0]}" + newline
    how = f"adds the system user {user[1]} ({user[0]}) and runs as it" if create else f"runs as {user[1]} ({user[0]}), the image's non-root user"
    detail = ["the build still runs as root; the files it copied stay root-owned (read-only to the app)"]
    if img.inferred and create:
        detail.append(f"{lineage[-1].image}: its OS inferred from the family's tag convention")
    yield Edit(at, at, text, joined(how, "\n".join(detail)))


def _insertion_point(stage) -> int | None:
    """Just after the stage's last build step (or its FROM), before the CMD or ENTRYPOINT."""
    last = stage.from_
    for ins in stage.instructions:
        if ins.keyword in _BUILD_STEPS:
            last = ins
    if not last.text.endswith("\n"):
        return None
    return last.end


def _at_least(version: str | None, major: int) -> bool:
    m = re.match(r"(\d+)", version or "")
    return m is not None and int(m.group(1)) >= major


def _low_port(instructions) -> bool:
    for ins in instructions:
        if ins.keyword == "EXPOSE":
            for port in ins.arguments:
                number = port.split("/", 1)[0].split("-", 1)[0]
                if not number.isdigit() or int(number) < 1024:
                    return True
    return False


def _needs_root(ins) -> bool:
    from dockopt.optimizer.shell import run_program

    words = ins.arguments if ins.json else (ins.shell or "").split()
    if len(words) >= 3 and words[0].rsplit("/", 1)[-1] in ("sh", "ash", "dash") and words[1] == "-c":
        if re.search(r"[;&|<>`]|\$\(", words[2]):
            return True
        words = words[2].split()  # DO101's ["/bin/sh", "-c", "exec ..."]
    words = [w for w in words if not re.fullmatch(r"[A-Za-z_]\w*=.*", w)]
    name, at = run_program(words)
    if at < 0 or any(w.rsplit("/", 1)[-1] in ("sudo", "doas") for w in words[:at]):
        return True
    return _ROOT_PROGRAMS.fullmatch(name) is not None or _ROOT_WORK.search(" ".join(words[at:])) is not None


TRANSFORM = Transform(
    id="DO206",
    name="non-root-user",
    title="Run the final image as a non-root user",
    why="A container running as root is root on every file it reaches and one escape away from root on the host.",
    safety=REVIEW,
    fix=fix,
    doc=__doc__,
    hadolint=("DL3002",),
    after=BASE_IMAGE_REWRITES,
)
