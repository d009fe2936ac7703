"""What dockopt's rewrites do to real builds: every buildable project, before and after.

The buildable projects are the test fixtures with an `engine.toml` (complete small apps:
Node with npm, Yarn and pnpm, Python with pip, Poetry and uv, Go, static front ends on
nginx). For each, this runs `dockopt fix --measure --format json` on a copy, exactly as a
user would, with `base-flavour = "slim"` (the build lab has no Alpine images), and prints
one table: the final image's size, the cold build time (`--no-cache`), and the rebuild
after a source-only change (time, RUN steps taken from the cache), before and after.

It needs a Docker engine with BuildKit (on these machines: `../shared/tools/build-lab up`,
then `eval "$(../shared/tools/build-lab env)"`); without one it says so and exits 0. The
figures are the engine's: on the build lab, its stand-ins are Debian-built look-alikes of
the official images, so sizes are comparable before/after but are not Docker Hub's.

    python bench/builds.py [--only NAME] [--json]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures"
sys.path.insert(0, str(REPO))

from dockopt.measure.engine import Engine, EngineError  # noqa: E402
from dockopt.measure.report import mb  # noqa: E402


def measure(project: Path, work: Path) -> dict:
    settings = tomllib.loads((project / "engine.toml").read_text())
    copy = work / project.name
    shutil.copytree(project, copy, ignore=shutil.ignore_patterns("expected.*", "engine.toml"))
    (copy / ".dockopt.toml").write_text('base-flavour = "slim"\n')
    args = ["--smoke-path", settings.get("path", "/")]
    if "port" in settings:
        args += ["--smoke-port", str(settings["port"])]
    run = subprocess.run(
        [sys.executable, "-m", "dockopt", "fix", "--measure", "--format", "json", *args, str(copy / "Dockerfile")],
        capture_output=True, text=True, cwd=copy,
    )
    if run.returncode != 0:
        return {"project": project, "error": run.stderr.strip().splitlines()[-1:] or ["failed"]}
    entry = json.loads(run.stdout)["files"][0]
    return {"project": project, "entry": entry}


def _side(side: dict | None) -> tuple[str, str, str]:
    if not side or not side.get("builds"):
        return "fails", "-", "-"
    rebuild = side.get("source_only_rebuild") or {}
    cached = f"{rebuild.get('run_steps_cached', '?')}/{rebuild.get('run_steps', '?')}" if rebuild else "-"
    again = f"{rebuild['seconds']:.1f} s, {cached} RUN cached" if rebuild else "-"
    return mb(side.get("size_bytes")), f"{side['seconds']:.1f} s", again


def table(rows: list[dict]) -> str:
    head = ("project", "image before", "after", "cold build before", "after",
            "source-only rebuild before", "after", "same behaviour")
    lines = [head]
    for row in rows:
        name = f"{row['project'].parent.name}/{row['project'].name}"
        if "error" in row:
            lines.append((name, "error: " + " ".join(row["error"]), "", "", "", "", "", ""))
            continue
        m = row["entry"].get("measure") or {}
        b, a = _side(m.get("original")), _side(m.get("rewrite"))
        same = {True: "yes", False: "NO", None: "-"}[m.get("same_behaviour")]
        if m.get("dropped"):
            same += " (dropped " + ", ".join(d["transform"].split()[0] for d in m["dropped"]) + ")"
        lines.append((name, b[0], a[0], b[1], a[1], b[2], a[2], same))
    widths = [max(len(str(line[i])) for line in lines) for i in range(len(head))]
    out = ["| " + " | ".join(str(c).ljust(w) for c, w in zip(line, widths)) + " |" for line in lines]
    out.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="only projects whose path contains this")
    parser.add_argument("--json", action="store_true", help="print the measurements as JSON")
    opts = parser.parse_args()
    try:
        Engine.connect()
    except EngineError as exc:
        print(f"bench/builds.py: {exc}; nothing measured", file=sys.stderr)
        return 0
    projects = sorted(p.parent for p in FIXTURES.glob("*/*/engine.toml"))
    if opts.only:
        projects = [p for p in projects if opts.only in str(p)]
    rows = []
    with tempfile.TemporaryDirectory(prefix="dockopt-bench-") as work:
        for project in projects:
            print(f"measuring {project.relative_to(FIXTURES)} ...", file=sys.stderr)
            rows.append(measure(project, Path(work)))
    if opts.json:
        print(json.dumps([{**r, "project": str(r["project"].relative_to(FIXTURES))} for r in rows], indent=2))
    else:
        print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
