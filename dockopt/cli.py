"""The `dockopt` command: parse arguments, call the engine, report.

Kept thin and quick to start, since editors run it on every save: rich is imported only
to colour a diff on a terminal or draw a progress bar, never for `--check` or `-`.
Exit status: 0 nothing to report, 1 `--check` found changes, 2 an error (bad input, or
a rewrite that failed verification, which is a dockopt bug).
"""

from __future__ import annotations

import os
import sys
from typing import List, Optional

import typer

from dockopt import __version__

app = typer.Typer(
    add_completion=False,
    pretty_exceptions_enable=False,
    no_args_is_help=True,
    help="Rewrite Dockerfiles into smaller, faster-building, safer ones, as reviewable diffs.",
)


def _version(value: bool) -> None:
    if value:
        print(f"dockopt {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    """dockopt: a Dockerfile optimizer."""


def _ids(value: Optional[str]) -> List[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


@app.command()
def fix(
    paths: List[str] = typer.Argument(None, help="Dockerfiles or folders to search; - reads stdin."),
    diff: bool = typer.Option(False, "--diff", help="Print a unified diff; write nothing."),
    check: bool = typer.Option(False, "--check", help="Write nothing; exit 1 when something would change."),
    safe: bool = typer.Option(False, "--safe", help="Apply only `safe` transforms (image equivalent)."),
    select: Optional[str] = typer.Option(None, "--select", help="Only these transform ids, comma-separated."),
    ignore: Optional[str] = typer.Option(None, "--ignore", help="Skip these transform ids, comma-separated."),
    context: Optional[str] = typer.Option(None, "--context", help="Build context folder (default: the Dockerfile's)."),
    color: str = typer.Option("auto", "--color", help="Colour the diff: auto, always or never."),
) -> None:
    """Rewrite Dockerfiles in place, or show (--diff) or test (--check) what would change."""
    from dockopt.optimizer import runner
    from dockopt.optimizer.context import BuildContext
    from dockopt.transforms import UnknownTransform, choose

    if color not in ("auto", "always", "never"):
        _fail("--color must be auto, always or never")
    try:
        transforms = choose(_ids(select), _ids(ignore))
    except UnknownTransform as exc:
        _fail(str(exc))
    if context is not None and not os.path.isdir(context):
        _fail(f"--context {context}: not a folder")
    targets = list(runner.discover(paths or ["."]))
    if not targets:
        _fail("no Dockerfiles found")
    report = _Report(color, diff)
    write = not (diff or check)
    for path in report.progress(targets):
        if path == "-":
            text = sys.stdin.buffer.read()
            try:
                outcome = runner.run_text(runner.decode(text), transforms, BuildContext(context), safe, "-")
            except runner.ParseError as exc:
                outcome = runner.Outcome("-", error=str(exc))
            if outcome.result is not None and not (diff or check):
                sys.stdout.write(outcome.result.output)
            elif outcome.error and not (diff or check):
                sys.stdout.buffer.write(text)
        else:
            outcome = runner.run_file(path, transforms, context, safe, write)
        report.add(outcome, write)
    raise typer.Exit(report.finish(check))


@app.command()
def rules() -> None:
    """List the transforms: id, safety, name and title."""
    from dockopt.transforms import ALL

    for t in ALL:
        print(f"{t.id}  {t.safety:<6}  {t.name:<18}  {t.title}")


@app.command()
def explain(rule: str = typer.Argument(..., help="A transform id (DO101) or name.")) -> None:
    """Print a transform's documentation."""
    from dockopt.transforms import UnknownTransform, by_id

    try:
        t = by_id(rule)
    except UnknownTransform as exc:
        _fail(str(exc))
    print(f"{t.id} {t.name} ({t.safety})\n")
    print(t.doc.strip())


def _fail(message: str) -> None:
    print(f"dockopt: error: {message}", file=sys.stderr)
    raise typer.Exit(2)


class _Report:
    """Prints diffs to stdout and one line per changed or failed file to stderr."""

    def __init__(self, color: str, diff: bool):
        self.diff = diff
        self.color = color == "always" or (color == "auto" and sys.stdout.isatty() and "NO_COLOR" not in os.environ)
        self.changed = self.failed = self.total = 0

    def progress(self, targets: List[str]):
        if len(targets) < 50 or not sys.stderr.isatty():
            return targets
        from rich.progress import track

        return track(targets, description="dockopt", transient=True, console=_console(stderr=True))

    def add(self, outcome, write: bool) -> None:
        self.total += 1
        if outcome.error:
            self.failed += 1
            print(f"{outcome.path}:{outcome.error}", file=sys.stderr)
            return
        if not outcome.changed:
            return
        self.changed += 1
        result = outcome.result
        if self.diff:
            from dockopt.optimizer.diff import unified_diff

            self._print_diff(unified_diff(result.source, result.output, _diff_name(outcome.path)))
        verb = "fixed" if write else "would fix"
        findings = {}
        for change in sorted(result.changes, key=lambda c: c.line):
            findings.setdefault((change.transform.id, change.explanation), change)
        print(f"{outcome.path}: {verb} {len(findings)} change(s)", file=sys.stderr)
        for change in findings.values():
            t = change.transform
            print(f"  line {change.line}: {t.id} {t.name} ({change.safety}): {change.explanation}", file=sys.stderr)

    def _print_diff(self, text: str) -> None:
        if not self.color:
            sys.stdout.write(text)
            return
        from rich.syntax import Syntax

        _console().print(Syntax(text, "diff", theme="ansi_dark", background_color="default"), end="")

    def finish(self, check: bool) -> int:
        if self.total > 1 or self.failed:
            parts = [f"{self.total} file(s)", f"{self.changed} {'to change' if check else 'changed'}"]
            if self.failed:
                parts.append(f"{self.failed} failed")
            print("dockopt: " + ", ".join(parts), file=sys.stderr)
        if self.failed:
            return 2
        return 1 if check and self.changed else 0


def _diff_name(path: str) -> str:
    if path == "-":
        return "Dockerfile"
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel


def _console(stderr: bool = False):
    from rich.console import Console

    return Console(stderr=stderr, force_terminal=True, highlight=False, soft_wrap=True)
