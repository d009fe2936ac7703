"""DO202 stage-split: build in one stage, run from a small image that holds only the result.

What it does
    When the last stage builds the application on a toolchain image and runs it there, that
    stage becomes the builder (` AS build` added to its FROM, its text otherwise kept) and a
    runtime stage is appended, with a comment line, that copies only what the command needs.
    (BuildKit reads the comment right above a named stage as its description, which starts
    with the name: a comment above the builder gets `# build builds what the runtime stage
    copies` below it, and a runtime stage keeping the stage's name says `# app runtime: ...`.)

    - Go: the binary of `go build` / `go install` that CMD or ENTRYPOINT runs, into
      `gcr.io/distroless/static-debian13:nonroot` when CGO_ENABLED=0 is set (assignment,
      `export` or ENV) or cgo is off because golang:*-alpine has no C compiler (Go >= 1.20);
      else, on a Debian golang image, into distroless `base-debian13` (glibc).
    - Node (npm, pnpm): with a build script (`npm run build`, `pnpm build`), package.json, the
      production node_modules (`npm prune --omit=dev` / `pnpm prune --prod` joined to the
      last RUN) and the folder of the file `node` runs, or the whole app folder when the
      context does not show every other copied file to be a build input; without a build
      script, the app folder with dev dependencies pruned. The runtime is the builder when it
      is slim or alpine, else the slim variant of the same release, or alpine when the
      lockfile (npm v2/v3, pnpm v5/v6) shows no production package with install scripts or
      per-platform binaries: node_modules built on glibc with native addons break on musl.
    - Java (Maven, Gradle, their wrappers): the jar of `java -jar`, alone when the build file
      makes a fat jar (Spring Boot, shade, shadow), it was copied out of target/, or the
      build file gives its manifest no Class-Path; with the folder Maven's `<addClasspath>`
      and `<classpathPrefix>` name (target/lib/) when it does; its whole folder only when the
      Class-Path cannot be told (no context, one written by hand). Not target/ whole: its
      classes/, reports and sources would double the layer. Into eclipse-temurin's JRE of
      the builder's JDK version, listed in the manifest.
    - .NET: the `dotnet publish -o` folder, when the command runs from it (it is the content
      root), into `aspnet` (or `runtime` when the context's projects do not use ASP.NET
      Core) with the sdk tag's version and OS, .NET 8 and later.
    - Rust: the `cargo build --release` / `cargo install --path` binary into distroless
      `cc-debian13` (glibc, libgcc, OpenSSL), or distroless static for a musl build, when the
      context's Cargo.lock has no -sys crate linking another library.
    - Python (pip, `poetry install --no-root`, `uv sync --no-install-project`/`--no-editable`),
      when the image carries a toolchain (gcc, build-essential, -dev packages from apt, or
      the full `python:X` image): the builder creates /opt/venv (`python -m venv`, ENV
      VIRTUAL_ENV and PATH) before the first install, or after the RUN that installs Poetry
      or uv with pip (with VIRTUAL_ENV but not PATH when they share one RUN), so the runtime
      venv holds the project's dependencies and not the tool; the runtime is `python:X-slim` of the
      same Debian release (never alpine: wheels built for glibc), with the venv and the app
      folder, and the runtime libraries -dev packages map to (libpq-dev -> libpq5,
      default-libmysqlclient-dev -> libmariadb3). On the full image (only with the context)
      the dependency files are read: a source-only package that links a system library
      (psycopg2, mysqlclient) gets its runtime library, an unmapped one (python-ldap, pycurl,
      uwsgi...) leaves the file alone. The command must be Python or a console script the
      dependencies install; a HEALTHCHECK is kept when it runs Python.
    - Static front ends: a node image whose command serves a built folder (`serve -s build
      -l 3000`, `http-server dist -p 8080`) after a static build (vite, react-scripts,
      @angular/cli, vue-cli, next export...) gets an nginx stable runtime (alpine, or Debian
      under base-flavour slim/distroless) holding that folder in /usr/share/nginx/html, with
      a server block (a heredoc) that listens on the same port and keeps the servers' clean
      URLs (`/about` -> about.html) and serve's `-s` single-page fallback; a RUN that only
      installed serve or http-server leaves the builder. Server-side apps (next start, nuxt,
      remix, express, a server.js) are left alone.

    What the image promised at run time moves to the runtime stage with its comments: ENV
    (also kept in the builder), WORKDIR, EXPOSE, LABEL, USER, STOPSIGNAL, CMD and ENTRYPOINT,
    whose paths resolve as before (same working folder, files at the same paths; a binary
    found on PATH goes to /usr/local/bin). Build ARGs and secrets stay in the builder; an
    ARG is declared again only where a runtime ENV or LABEL uses it. The runtime runs as
    the image's non-root user (distroless `nonroot`, node's `node` 1000:1000, .NET's `app`
    1654:1654, or an `app` user added with groupadd/adduser on the JRE), given as numeric
    ids (Kubernetes' runAsNonRoot checks numbers, hadolint DL3066), unless the original sets
    a USER (kept), or exposes a port below 1024 or declares a VOLUME (root kept; on
    distroless, which would need `:latest` or `USER root`, the file is left alone).

Why
    A toolchain image is large: golang, node, maven and the .NET sdk carry compilers,
    build tools, sources and dev dependencies, none of which run. The seed case
    (node:20-bookworm, pnpm, 1.2 GB) shrinks to 148 MB with two stages; a Go binary on
    distroless static sits on a base of about 2 MiB (distroless README). Less to pull,
    store and scan, and no compiler for an intruder.

Example
    FROM golang:1.22                          FROM golang:1.22 AS build
    WORKDIR /src                              WORKDIR /src
    COPY . .                                  COPY . .
    RUN CGO_ENABLED=0 go build -o /out/app    RUN CGO_ENABLED=0 go build -o /out/app
    EXPOSE 8080                          ->
    CMD ["/out/app"]                          # Runtime: only the compiled binary, no Go toolchain
                                              FROM gcr.io/distroless/static-debian13:nonroot
                                              WORKDIR /src
                                              COPY --from=build /out/app /out/app
                                              EXPOSE 8080
                                              CMD ["/out/app"]

When it is not safe
    Always `review`: the runtime image differs, and so does the user. A split is proposed
    only when the Dockerfile (and the build context, when there is one) shows that the
    runtime has what the command needs; otherwise the file is left alone: the command must
    be in exec form on distroless (no shell) and run a file the build provably writes; every
    RUN must be a known build step (package installs of compilers and VCS only, no user
    creation, no downloads, no redirections, nothing inside `if` or loops); nothing may be
    copied outside the app folder or from another image; HEALTHCHECKs (their tools may be
    missing), ENVs using variables only the base image defines, SHELL and ONBUILD block it.
    With the context, Go sources that open files, run programs or load config files, Spring
    Boot config files in the working folder, and pnpm lifecycle scripts (`pnpm prune`
    re-runs `prepare`) block it too. Without the context a Go binary or a jar is moved only
    when the command names its path, and the app's other files are not copied: an app that
    reads files next to it must be split by hand (the explanation says so). Dev
    dependencies an app loads at run time must be in `dependencies`. Python is left alone
    for editable installs (`pip install -e`, poetry without `--no-root`, uv sync of the
    project), pipenv, conda, alpine, a venv the file makes itself, apt packages other than
    compilers and mapped headers (the app may run or load them), a command that runs a build
    tool (poetry run, uv run, pip), and a full image without the build context. A running app cannot
    write to files it did not own in the builder. Only the last stage is considered, and a
    stage this transform added is never split again.
"""

from __future__ import annotations

from dockopt.optimizer.transform import REVIEW, Transform
from dockopt.transforms.stage_split import dotnet, go, java, node, python, render, rust, static
from dockopt.transforms.stage_split.stage import Bail, read_layout

# One planner per ecosystem (stage.py says what a planner reads and returns); the first
# that recognises the stage plans the split. A static front end builds on a node image:
# its planner goes before node's.
PLANNERS = (go.plan, static.plan, node.plan, java.plan, dotnet.plan, rust.plan, python.plan)


def fix(dockerfile, context):
    if dockerfile.escape != "\\" or not dockerfile.stages:
        return
    try:
        layout = read_layout(dockerfile, dockerfile.stages[-1])
        plan = None
        for planner in PLANNERS:
            plan = planner(layout, context)
            if plan is not None:
                break
        if plan is None:
            return
        yield render.edit(layout, plan)
    except Bail:
        return


TRANSFORM = Transform(
    id="DO202",
    name="stage-split",
    title="Build in one stage and run from a small runtime image",
    why="A toolchain image ships compilers, sources and dev dependencies the app never runs.",
    safety=REVIEW,
    fix=fix,
    doc=__doc__,
)
