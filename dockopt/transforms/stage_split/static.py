"""Static front ends in the stage split (DO202): build with node, serve with nginx.

A node image whose command serves a folder of built files (`serve -s build -l 3000`,
`http-server dist -p 8080`) only needs node to build them. The builder keeps the build; the
runtime is nginx's stable alpine image with the served folder in /usr/share/nginx/html and
a server block that keeps what the original server did: the same port, single-page
fallback to index.html for `serve -s`, and both servers' clean URLs (`/about` -> about.html).
Apps that render on a server (next start, nuxt, remix, an express server.js) are not
static and are left alone.

A RUN that does nothing but install that server globally (`npm install -g serve@14`,
`yarn global add http-server`, with an npm/yarn/pnpm cache clean at most) served only the
original's command: it leaves the builder, where it would rerun on every cache miss. The
planner hands it to the split as an instruction the runtime does not repeat (added to
`layout.moved`, with RUN in the plan's `drop`), so the builder loses it and any comment
above it moves with the command's own to the runtime. A RUN that installs anything else
as well, uses a variable, or whose server a build script runs, stays.
"""

from __future__ import annotations

import posixpath
import re

from dockopt.optimizer import runtimes
from dockopt.transforms.stage_split.stage import (SAFE_COMMANDS, Bail, Plan, build_commands, check_copies,
                                                  installs_only, join, run_commands)

# Build tools of static sites, with the folder they write when their config does not say.
_STATIC_BUILDS = re.compile(r"\b(vite build|react-scripts build|craco build|react-app-rewired build|ng build|"
                            r"vue-cli-service build|next export|parcel build|astro build|gatsby build|webpack)\b")
_SERVER_DEPS = ("express", "koa", "fastify", "@hapi/hapi", "nuxt", "@remix-run/serve", "@remix-run/node",
                "@sveltejs/adapter-node", "next")
_SERVER_FILES = ("server.js", "server.ts", "server.mjs", "server.cjs")
_PORT_FLAGS = {"serve": ("-l", "--listen", "-p", "--port"), "http-server": ("-p", "--port")}
# serve's flags that take a value, and the ones it is known to run with; anything else gives up.
_SERVE_VALUE = {"-l", "--listen", "-p", "--port", "-c", "--config"}
_SERVE_BOOL = {"-s", "--single", "-n", "--no-clipboard", "-u", "--no-request-logging", "-L", "--no-port-switching"}
_HTTP_SERVER_VALUE = {"-p", "--port", "-a", "-c"}
_HTTP_SERVER_BOOL = {"-s", "--silent", "-d", "-i", "-g", "--gzip", "-b", "--brotli", "--cors"}


def plan(layout, context):
    base = layout.base
    if base.family != "node" or layout.entry is None:
        return None
    served = _served(layout.entry, layout.env.get(id(layout.stage.instructions[-1]), {}))
    if served is None:
        return None
    tool, folder, port, single, clean = served
    if layout.dockerfile.newline != "\n":
        raise Bail("a CRLF file: the nginx config heredoc would carry carriage returns")
    app = layout.build_workdir
    if not app or layout.final_workdir != app or layout.user is not None:
        raise Bail("app folder unknown or a USER nginx does not have")
    if any(i.keyword in ("HEALTHCHECK", "STOPSIGNAL", "VOLUME") for i in layout.moved):
        raise Bail("HEALTHCHECK, STOPSIGNAL or VOLUME of the node server")
    pkg = runtimes.package_json(context)
    if not _builds(layout, pkg):
        return None
    if context.known and (pkg is None or _server_side(pkg, context)):
        raise Bail("a server-side app, or no package.json")
    output = join(app, folder)
    if output == app or not output.startswith(app.rstrip("/") + "/"):
        raise Bail("served folder outside the app")
    check_copies(layout, [app])
    runtime = runtimes.nginx_runtime(context.musl_ok)
    if runtime is None:
        return None
    fallback = "/index.html" if single else "=404"
    tries = "$uri $uri.html $uri/" if clean else "$uri $uri/"
    conf = [
        "COPY <<'EOF' /etc/nginx/conf.d/default.conf",
        "server {",
        f"    listen {port};",
        f"    root {runtimes.NGINX_HTML};",
        "    location / {",
        f"        try_files {tries} {fallback};",
        "    }",
        "}",
        "EOF",
    ]
    what = f"the built {output}/ in {runtimes.NGINX_HTML}"
    notes = [f"nginx listens on {port} like {tool} did"
             + ("; unknown paths fall back to index.html like `serve -s`" if single else ""),
             "the server config is a heredoc (BuildKit, Dockerfile syntax 1.4+)"]
    drop = {"CMD", "ENTRYPOINT", "WORKDIR"}
    unused = _server_installs(layout, tool, pkg)
    if unused:
        # The plan has no way to remove a builder step: a moved instruction whose keyword is
        # dropped leaves the builder and is not repeated in the runtime. Last, after every
        # check that gives up, since the other planners read the same layout.
        layout.moved = sorted(layout.moved + unused, key=lambda i: i.start)
        drop.add("RUN")
        notes.append(f"the builder no longer installs {tool} globally: only the original's command ran it")
    return Plan(runtime, [(output, runtimes.NGINX_HTML)], "Runtime: the built static files on nginx, no node",
                     what, runtime_lines=["\n".join(conf)], notes=notes, drop=frozenset(drop), keep_workdir=False)


def _server_installs(layout, tool: str, pkg) -> list:
    """The RUNs that do nothing but install `tool` globally (a package-manager cache clean
    aside): with nginx serving the files nothing runs it. None of them when a build script
    the RUNs run (or its pre/post script) names the server."""
    scripts = (pkg or {}).get("scripts") or {}
    runs = layout.runs()
    for ins in runs:
        for words, _, _ in run_commands(ins):
            script = _script(words[0], words[1:]) if words else None
            for name in (script, f"pre{script}", f"post{script}") if script else ():
                if re.search(rf"(^|[\s;&|(]){re.escape(tool)}($|[\s;&|)])", str(scripts.get(name, ""))):
                    return []
    found = []
    for ins in runs:
        if "$" in ins.args_text:
            continue
        kinds = []
        for words, assigns, _ in run_commands(ins):
            name, rest = words[0], words[1:]
            if assigns:
                kinds.append(None)
            elif _cache_clean(name, rest):
                kinds.append("clean")
            else:
                specs = _global_install(name, rest)
                kinds.append("install" if specs and all(_spec_name(s) == tool for s in specs) else None)
        if "install" in kinds and None not in kinds:
            found.append(ins)
    return found


def _cache_clean(name: str, rest: list[str]) -> bool:
    """`npm cache clean --force`, `yarn cache clean`: only deletes the package cache."""
    return name in ("npm", "pnpm", "yarn") and [w for w in rest if not w.startswith("-")][:2] == ["cache", "clean"]


def _global_install(name: str, rest: list[str]) -> list[str] | None:
    """The packages of `npm install -g`, `pnpm add -g` or `yarn global add`, else None."""
    words = [w for w in rest if not w.startswith("-")]
    flags = [w for w in rest if w.startswith("-")]
    if name == "yarn" and words[:2] == ["global", "add"]:
        return words[2:]
    if name in ("npm", "pnpm") and words[:1] and words[0] in ("install", "i", "add") \
            and any(f in ("-g", "--global", "--location=global") for f in flags):
        return words[1:]
    return None


def _spec_name(spec: str) -> str:
    """`serve@14` -> serve; `@scope/pkg@1` -> @scope/pkg."""
    at = spec.rfind("@")
    return spec[:at] if at > 0 else spec


def _served(entry: list[str], env: dict) -> tuple[str, str, str, bool, bool] | None:
    """(tool, folder, port, single-page, clean URLs) of a command that serves a folder."""
    words = list(entry)
    if words[:1] == ["npx"]:
        words = [w for w in words[1:] if w not in ("--yes", "-y")]
    if not words or words[0] not in ("serve", "http-server"):
        return None
    tool = words[0]
    values, flags = (_SERVE_VALUE, _SERVE_BOOL) if tool == "serve" else (_HTTP_SERVER_VALUE, _HTTP_SERVER_BOOL)
    opts, folders, i = {}, [], 1
    while i < len(words):
        word = words[i]
        name, eq, value = word.partition("=")
        if name in values:
            if not eq:
                if i + 1 >= len(words):
                    return None
                value, i = words[i + 1], i + 1
            opts[name] = value
        elif word in flags:
            opts[word] = ""
        elif word.startswith("-"):
            raise Bail(f"{tool} {word}: an option nginx may not match")
        else:
            folders.append(word)
        i += 1
    if len(folders) != 1 or "$" in folders[0] or folders[0] in (".", "./"):
        raise Bail("served folder unknown")
    if "-c" in opts or "--config" in opts:
        raise Bail("server configuration file")
    port = next((opts[f] for f in _PORT_FLAGS[tool] if f in opts), None)
    if port is None:
        if tool == "serve" or "PORT" in env:
            raise Bail("port unknown (serve's default changed between versions; PORT may be set)")
        port = "8080"  # http-server's documented default
    m = re.fullmatch(r"(?:tcp://)?(?:0\.0\.0\.0:|:)?(\d{2,5})", port)
    if m is None:
        raise Bail(f"listen address {port}")
    single = tool == "serve" and ("-s" in opts or "--single" in opts)
    # serve strips .html (cleanUrls); http-server adds it to a path without an extension
    # (`--ext`, default html, an option refused above): both answer /about with about.html
    clean = True
    return tool, folders[0].rstrip("/"), m.group(1), single, clean


def _builds(layout, pkg) -> bool:
    """Every RUN is a dependency install, a static build, a global server install, a package
    manager's cache clean or a package install of build tools; at least one build."""
    scripts = (pkg or {}).get("scripts") or {}
    built = False
    for ins, words, assigns in build_commands(layout):
        name, rest = words[0], words[1:]
        verb = rest[0] if rest else ""
        if name in ("npm", "pnpm", "yarn") and ("-g" in rest or "--global" in rest or rest[:2] == ["global", "add"]):
            continue
        if name == "corepack" or name in ("npm", "pnpm", "yarn") and verb in ("install", "i", "ci", "") \
                and all(a.startswith("-") for a in rest[1:]) or _cache_clean(name, rest):
            continue
        script = _script(name, rest)
        if script is not None:
            body = scripts.get(script)
            if pkg is not None and (not isinstance(body, str) or not _STATIC_BUILDS.search(body)):
                raise Bail(f"script {script} is not a known static build")
            built = True
        elif name in ("apk", "apt-get", "apt"):
            installs_only(words, runtimes.BUILD_PACKAGES)
        elif name not in SAFE_COMMANDS - {"git"}:
            raise Bail(f"unknown command {name}")
    return built


def _script(name: str, rest: list[str]) -> str | None:
    if name in ("npm", "pnpm", "yarn") and rest[:1] in (["run"], ["run-script"]) and len(rest) == 2:
        return rest[1]
    if name in ("pnpm", "yarn") and rest == ["build"]:
        return "build"
    return None


def _server_side(pkg: dict, context) -> bool:
    deps = {**(pkg.get("dependencies") or {}), **(pkg.get("devDependencies") or {})}
    build = str((pkg.get("scripts") or {}).get("build", ""))
    if "next" in deps and "next export" not in build and "output: 'export'" not in (
            context.read_text("next.config.js") or context.read_text("next.config.mjs") or ""):
        return True
    return any(d in deps for d in _SERVER_DEPS if d != "next") or any(context.exists(f) for f in _SERVER_FILES) \
        or posixpath.basename(str(pkg.get("main", ""))) in _SERVER_FILES
