""".NET in the stage split (DO202): the published folder on the ASP.NET Core or .NET runtime.

A stage on the .NET SDK that runs `dotnet publish -o FOLDER` and starts the app from that
folder (`dotnet App.dll`, or the apphost beside it), with that folder as the working
folder, which is the app's content root (appsettings.json, wwwroot), becomes a builder and
a runtime that copies the folder. The runtime is `aspnet`, or `runtime` when the build
context's projects do not use ASP.NET Core, with the SDK tag's version and OS, .NET 8 and
later (their images have the non-root `app` user). Self-contained, single-file, trimmed,
AOT or ReadyToRun publishes give up: what they need at run time differs.
"""

from __future__ import annotations

import posixpath
import re

from dockopt.optimizer import runtimes
from dockopt.transforms.stage_split.stage import (SAFE_COMMANDS, Bail, Layout, Plan, build_commands, check_copies,
                                                  join)

_DOTNET_OK = frozenset({"restore", "build", "test", "--info", "--version", "nuget", "dev-certs"})
_SELF_CONTAINED = re.compile(r"^(-r|--runtime|--self-contained|--sc|-p:Publish(Aot|Trimmed|SingleFile|ReadyToRun)|"
                             r"/p:Publish(Aot|Trimmed|SingleFile|ReadyToRun))(=|:|$)", re.I)


def plan(layout: Layout, context) -> Plan | None:
    base = layout.base
    if base.family != "dotnet/sdk" or not layout.entry:
        return None
    published: list[str] = []
    for ins, words, assigns in build_commands(layout):
        cwd = layout.workdir[id(ins)]
        if words[0] == "dotnet" and words[1:2] == ["publish"]:
            out = next((words[i + 1] for i, w in enumerate(words[:-1]) if w in ("-o", "--output")), None)
            out = out or next((w.split("=", 1)[1] for w in words if w.startswith("--output=")), None)
            if out is None or "$" in out or cwd is None and not out.startswith("/"):
                raise Bail("publish folder unknown")
            if any(_SELF_CONTAINED.match(w) for w in words):
                raise Bail("self-contained or native publish")
            published.append(join(cwd or "/", out))
        elif words[0] == "dotnet" and words[1:2] and words[1] in _DOTNET_OK:
            continue
        elif words[0] not in SAFE_COMMANDS - {"git"}:
            raise Bail(f"unknown command {words[0]}")
    if not published:
        return None
    entry, cwd = layout.entry, layout.final_workdir
    if entry[0] == "dotnet" and len(entry) >= 2 and entry[1].endswith(".dll"):
        program = entry[1]
    elif not entry[0].endswith(".dll") and "/" in entry[0]:
        program = entry[0]  # the apphost next to the dll
    else:
        return None
    if cwd is None or "$" in program or any("/" in a for a in entry[2:]):
        return None
    if cwd not in published or posixpath.dirname(join(cwd, program)) != cwd:
        return None  # the content root (appsettings.json, wwwroot) is the working folder: it must be the output
    check_copies(layout, [layout.build_workdir])
    runtime = runtimes.dotnet_runtime(base, _dotnet_web(context))
    if runtime is None:
        return None
    return Plan(runtime, [(cwd, cwd)], "Runtime: the published app on the .NET runtime, without the SDK",
                 f"the published {cwd}/")


def _dotnet_web(context) -> bool | None:
    """Whether the projects use ASP.NET Core: True, False, or None without the context."""
    if not context.known:
        return None
    projects = context.glob("*.csproj") + context.glob("*/*.csproj") + context.glob("*/*/*.csproj")
    if not projects:
        return None
    texts = [context.read_text(p) or "" for p in projects]
    return any(re.search(r"Microsoft\.NET\.Sdk\.(Web|Razor|BlazorWebAssembly)|Microsoft\.AspNetCore", t) for t in texts)
