"""The `dockopt` command: parse arguments, call the engine, report.

Kept thin and quick to start, since editors run it on every save: rich is imported only
to colour a diff on a terminal or draw a progress bar, never for `--check` or `-`, and the
checks are loaded only by `dockopt check`. Each Dockerfile's project configuration
(`[tool.dockopt]`, `.dockopt.toml`; see dockopt/optimizer/config.py) gives the defaults
that `--select`, `--ignore`, `--safe` and `--review` override.
Exit status: 0 nothing to report, 1 `fix --check` found changes or `check` found problems
at or above `--severity`, 2 an error (bad input or configuration, or a rewrite that failed
verification, which is a dockopt bug).
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


_SELECT_HELP = "Only these rules (ids or names, comma-separated); the configuration's select and ignore lists do not apply."
_IGNORE_HELP = "Skip these rules (ids or names, comma-separated); replaces the configuration's list."


@app.command()
def fix(
    paths: List[str] = typer.Argument(None, help="Dockerfiles or folders to search; - reads stdin."),
    diff: bool = typer.Option(False, "--diff", help="Print a unified diff; write nothing."),
    check: bool = typer.Option(False, "--check", help="Write nothing; exit 1 when something would change."),
    safe: bool = typer.Option(False, "--safe", help="Apply only `safe` transforms (image equivalent)."),
    review: bool = typer.Option(False, "--review", help="Apply `review` transforms too, even when the configuration turns them off."),
    select: Optional[str] = typer.Option(None, "--select", help=_SELECT_HELP),
    ignore: Optional[str] = typer.Option(None, "--ignore", help=_IGNORE_HELP),
    context: Optional[str] = typer.Option(None, "--context", help="Build context folder (default: the Dockerfile's)."),
    cache_mounts: bool = typer.Option(False, "--cache-mounts", help="Keep package caches in BuildKit cache mounts (DO320) instead of deleting them."),
    color: str = typer.Option("auto", "--color", help="Colour the diff: auto, always or never."),
    stdin_filename: Optional[str] = typer.Option(
        None, "--stdin-filename", help="With -: the file the text on stdin comes from; its folder is the build context and its configuration applies."),
    output_format: str = typer.Option(
        "text", "--format", help="text, or json: one JSON document on stdout with each file's changes and impact."
    ),
    measure: bool = typer.Option(
        False, "--measure", help="Build and run the original and the rewrite on your Docker engine first; "
        "a change that breaks the build or the behaviour is dropped."),
    smoke_port: Optional[int] = typer.Option(None, "--smoke-port", help="With --measure: the port a server answers HTTP on (default: EXPOSE, else PORT)."),
    smoke_path: str = typer.Option("/", "--smoke-path", help="With --measure: the path asked for on that port."),
    keep: bool = typer.Option(False, "--keep", help="With --measure: keep the images it built."),
    force: bool = typer.Option(False, "--force", help="Rewrite read-only files too."),
) -> None:
    """Rewrite Dockerfiles in place, or show (--diff) or test (--check) what would change.

    With --diff, each changed file's impact follows its changes on stderr (changes by
    transform, base-image size estimates, stages, cached layers), and a run over several
    files ends with a totals table; stdout holds only the diff. With --measure, the
    original and the rewrite are built and run first, and what was measured joins it.
    """
    from dockopt.optimizer import runner
    from dockopt.optimizer.context import BuildContext

    if output_format not in ("text", "json"):
        _fail("--format must be text or json")
    if color not in ("auto", "always", "never"):
        _fail("--color must be auto, always or never")
    settings = _settings(select, ignore, safe, review, with_checks=False, noun="transform", cache_mounts=cache_mounts)
    targets, plans = _targets(paths, context, settings, stdin_filename)
    report = _Report(color, diff, output_format == "json")
    write = not (diff or check)
    if measure:
        _fix_measured(targets, plans, context, write, report, smoke_port, smoke_path, keep, force)
        raise typer.Exit(report.finish(check))
    for path in report.progress(targets):
        transforms, _, safe_only = plans[path]
        if path == "-":
            text = sys.stdin.buffer.read()
            try:
                outcome = runner.run_text(runner.decode(text), transforms, _stdin_context(context, stdin_filename), safe_only, "-")
            except runner.ParseError as exc:
                outcome = runner.Outcome("-", error=str(exc))
            if report.json:
                pass  # the rewrite goes into the JSON document
            elif outcome.result is not None and not (diff or check):
                _write(outcome.result.output)
            elif outcome.error and not (diff or check):
                sys.stdout.buffer.write(text)
        else:
            outcome = runner.run_file(path, transforms, context, safe_only, write, targets, force)
        named = stdin_filename if path == "-" else path
        folder = context if context is not None or named is None else os.path.dirname(os.path.abspath(named))
        report.add(outcome, write, folder)
        for companion in outcome.companions:  # a .dockerignore beside it (DO205)
            report.add(companion, write, companion=True)
    raise typer.Exit(report.finish(check))


def _fix_measured(targets, plans, context, write: bool, report: "_Report", port, path_asked, keep, force) -> None:
    """`fix --measure`: each Dockerfile's rewrite is built and run before it is shown or
    written; the changes that break it are left out (dockopt/measure/prove.py)."""
    from dockopt.measure.engine import Engine, EngineError
    from dockopt.measure.prove import Options, prove
    from dockopt.optimizer import runner

    if "-" in targets:
        _fail("--measure builds a Dockerfile with its build context: name the file, not -")
    try:
        engine = Engine.connect()
    except EngineError as exc:
        _fail(str(exc))
    status = None
    if sys.stderr.isatty():
        status = _console(stderr=True).status("dockopt --measure")
        status.start()
    try:
        for path in targets:
            transforms, _, safe_only = plans[path]
            options = Options(port, path_asked, lambda message, p=path: status and status.update(f"{p}: {message}"))
            proof = prove(path, context, transforms, safe_only, targets, engine, options)
            if proof.error:
                report.add(runner.Outcome(path, error=proof.error), write)
                continue
            outcome = runner.run_file(path, proof.kept, context, safe_only, write, targets, force)
            folder = context if context is not None else os.path.dirname(os.path.abspath(path))
            report.add(outcome, write, folder, proof=proof)
            for companion in outcome.companions:
                report.add(companion, write, companion=True)
    finally:
        if status is not None:
            status.stop()
        if not keep:
            engine.cleanup()


@app.command()
def check(
    paths: List[str] = typer.Argument(None, help="Dockerfiles or folders to search; - reads stdin."),
    output_format: str = typer.Option("text", "--format", help="text, json or sarif (SARIF 2.1.0)."),
    severity: str = typer.Option(
        "warning", "--severity", help="Exit 1 when a finding is at least this severe: error, warning, info or style."
    ),
    safe: bool = typer.Option(False, "--safe", help="Report only what `safe` transforms would change, and the checks."),
    review: bool = typer.Option(False, "--review", help="Report `review` transforms too, even when the configuration turns them off."),
    select: Optional[str] = typer.Option(None, "--select", help=_SELECT_HELP),
    ignore: Optional[str] = typer.Option(None, "--ignore", help=_IGNORE_HELP),
    context: Optional[str] = typer.Option(None, "--context", help="Build context folder (default: the Dockerfile's)."),
    cache_mounts: bool = typer.Option(False, "--cache-mounts", help="Keep package caches in BuildKit cache mounts (DO320) instead of deleting them."),
    stdin_filename: Optional[str] = typer.Option(
        None, "--stdin-filename", help="With -: the file the text on stdin comes from; its folder is the build context and its configuration applies."),
) -> None:
    """Report problems without rewriting: what `fix` would change, and what it cannot fix."""
    from dockopt.optimizer import findings, runner
    from dockopt.optimizer.context import BuildContext

    if output_format not in ("text", "json", "sarif"):
        _fail("--format must be text, json or sarif")
    if severity not in findings.SEVERITIES:
        _fail("--severity must be error, warning, info or style")
    settings = _settings(select, ignore, safe, review, with_checks=True, noun="transform or check", cache_mounts=cache_mounts)
    targets, plans = _targets(paths, context, settings, stdin_filename)
    found, errors, ran = [], [], {}
    for path in targets:
        transforms, checks, safe_only = plans[path]
        ran.update((r.id, r) for r in (*transforms, *checks))
        if path == "-":
            try:
                text = runner.decode(sys.stdin.buffer.read())
            except runner.ParseError as exc:
                result = findings.FileReport("-", [], str(exc))
            else:
                result = findings.check_text(text, transforms, checks, _stdin_context(context, stdin_filename), safe_only, "-")
        else:
            result = findings.check_file(path, transforms, checks, context, safe_only)
        if result.error:
            errors.append((path, result.error))
            print(f"{_shown(path)}:{result.error}", file=sys.stderr)
        elif result.skipped:
            print(f"{_shown(path)}:{result.skipped}", file=sys.stderr)
        found.extend(result.findings)
        if output_format == "text":
            _write(findings.to_text(result.findings))
    if output_format == "json":
        _write(findings.to_json(found))
    elif output_format == "sarif":
        from dockopt.rules import all_rules

        order = {r.id: i for i, r in enumerate(all_rules())}
        _write(findings.to_sarif(found, sorted(ran.values(), key=lambda r: order[r.id]), errors))
    elif found:
        # as `dockopt fix` counts them: a change made to several instructions is one change
        changes = len({(f.path, f.id, f.message, f.detail) for f in found if f.fixable})
        print(f"dockopt: {len(found)} finding(s); `dockopt fix` makes {changes} change(s)", file=sys.stderr)
    if errors:
        raise typer.Exit(2)
    raise typer.Exit(1 if any(findings.at_least(f.severity, severity) for f in found) else 0)


def _targets(paths, context, settings, stdin_filename=None) -> tuple[list[str], dict]:
    """The Dockerfiles to process and each one's (transforms, checks, safe_only); a bad
    `--context`, no Dockerfile or a bad configuration anywhere stops the run before any file.
    Standard input takes the configuration of `--stdin-filename`'s folder, else the current one."""
    from dockopt.optimizer import runner

    if context is not None and not os.path.isdir(context):
        _fail(f"--context {context}: not a folder")
    if stdin_filename is not None and "-" not in (paths or []):
        _fail("--stdin-filename names the file behind -: give - as the path")
    skipped: list[tuple[str, str]] = []
    targets = list(runner.discover(paths or ["."], skipped))
    for path, why in skipped:
        print(f"{_shown(path)}: skipped: {why}", file=sys.stderr)
    if not targets:
        _fail("no Dockerfiles found" + (" (see the skipped paths above)" if skipped else ""))
    from dockopt.settings import SettingsError

    try:
        return targets, {path: settings.for_target(stdin_filename if path == "-" and stdin_filename else path)
                         for path in targets}
    except SettingsError as exc:
        _fail(str(exc))


def _stdin_context(context: Optional[str], stdin_filename: Optional[str]):
    """The build context of the text on stdin: `--context`, else the folder of the file it
    came from (`--stdin-filename`), whose configuration applies; else none, with the current
    folder's configuration."""
    from dockopt.optimizer.context import BuildContext

    if stdin_filename is not None:
        return BuildContext.for_file(stdin_filename, context)
    return BuildContext(context, os.getcwd())


def _settings(*args, **kwargs):
    """The rules for each Dockerfile (dockopt/settings.py); a bad flag stops the run."""
    from dockopt.settings import Settings, SettingsError

    try:
        return Settings(*args, **kwargs)
    except SettingsError as exc:
        _fail(str(exc))


@app.command()
def rules() -> None:
    """List the transforms (id, safety, name, title), then the checks (id, severity, name, title)."""
    from dockopt.rules import all_rules

    for rule in all_rules():
        level = getattr(rule, "safety", None) or rule.severity
        print(f"{rule.id}  {level:<7}  {rule.name:<20}  {rule.title}")


@app.command()
def explain(rule: str = typer.Argument(..., help="A transform or check id (DO101) or name.")) -> None:
    """Print a transform's or a check's documentation."""
    from dockopt.rules import UnknownRule, by_id

    try:
        found = by_id(rule)
    except UnknownRule as exc:
        _fail(str(exc))
    level = getattr(found, "safety", None) or found.severity
    print(f"{found.id} {found.name} ({level})\n")
    print(found.doc.strip())


@app.command()
def lsp() -> None:
    """Run the language server over stdio (diagnostics, code actions, format on save)."""
    from dockopt.lsp import serve

    serve()


@app.command()
def bot(
    path: str = typer.Argument(".", help="A folder inside the git repository to optimize."),
    repo: str = typer.Option(..., "--repo", help="The GitHub repository, OWNER/NAME."),
    base: Optional[str] = typer.Option(None, "--base", help="Base branch (default: the repository's default branch)."),
    branch: str = typer.Option("dockopt/optimize", "--branch", help="The branch the bot pushes."),
    api_url: str = typer.Option("https://api.github.com", "--api-url", help="GitHub REST API root (GitHub Enterprise: https://HOST/api/v3)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the pull request body and diff; touch nothing."),
    safe: bool = typer.Option(False, "--safe", help="Apply only `safe` transforms."),
    token_env: str = typer.Option("GITHUB_TOKEN", "--token-env", help="Environment variable holding the token."),
    author: Optional[str] = typer.Option(None, "--author", help="Commit author, 'Name <email>' (default: git config)."),
    measure: bool = typer.Option(False, "--measure", help="Build and run each original and rewrite on your Docker engine first; say what was measured; drop what breaks."),
) -> None:
    """Open (or update) a pull request with the rewrite and an explanation of each change."""
    from dockopt.bot import run

    raise typer.Exit(
        run(path=path, repo=repo, base=base, branch=branch, api_url=api_url, dry_run=dry_run, safe=safe,
            token_env=token_env, author=author, measure=measure)
    )


def _write(text: str) -> None:
    """Dockerfiles are UTF-8 whatever the terminal's locale: write the bytes as they are."""
    sys.stdout.flush()
    sys.stdout.buffer.write(text.encode("utf-8"))
    sys.stdout.buffer.flush()


def _fail(message: str) -> None:
    print(f"dockopt: error: {message}", file=sys.stderr)
    raise typer.Exit(2)


class _Report:
    """Prints diffs to stdout and one line per changed or failed file to stderr.

    With --diff, each changed file's impact (dockopt/optimizer/impact.py) follows its
    changes on stderr, and a run over several files ends with a totals table: drawn by rich
    on a terminal, plain aligned text otherwise. With --format json, stdout holds a single
    JSON document instead, and stderr only the files that failed.
    """

    def __init__(self, color: str, diff: bool, as_json: bool = False):
        self.diff, self.json = diff, as_json
        self.color = color == "always" or (color == "auto" and sys.stdout.isatty() and "NO_COLOR" not in os.environ)
        self.rich_totals = color == "always" or (color == "auto" and sys.stderr.isatty())
        self.changed = self.failed = self.total = self.beside = 0
        self.files: list[dict] = []
        self.totals = None
        if diff or as_json:
            from dockopt.optimizer.impact import Totals

            self.totals = Totals()

    def progress(self, targets: List[str]):
        if len(targets) < 50 or not sys.stderr.isatty():
            return targets
        from rich.progress import track

        return track(targets, description="dockopt", transient=True, console=_console(stderr=True))

    def add(self, outcome, write: bool, context: Optional[str] = None, companion: bool = False, proof=None) -> None:
        """`companion`: a file written beside a Dockerfile (its .dockerignore), which has
        no impact of its own to assess and is counted apart. `proof`: what --measure
        measured for it."""
        self.total += not companion
        assessed = None
        if outcome.changed and self.totals is not None and not companion:
            from dockopt.optimizer.context import BuildContext
            from dockopt.optimizer.impact import assess

            assessed = assess(outcome.result, BuildContext(context))
        if self.totals is not None and not companion:
            self.totals.add(assessed, error=bool(outcome.error))
        if self.json:
            self._add_json(outcome, assessed, proof)
        measured = []
        if proof is not None and not self.json:
            from dockopt.measure.report import to_lines

            measured = ["  " + line for line in to_lines(proof)]
            if measured and not outcome.changed:
                print(f"{_shown(outcome.path)}: left as it is", file=sys.stderr)
                print("\n".join(measured), file=sys.stderr)
        if outcome.error:
            self.failed += 1
            print(f"{_shown(outcome.path)}:{outcome.error}", file=sys.stderr)
            return
        if outcome.skipped and not self.json:
            print(f"{_shown(outcome.path)}:{outcome.skipped}", file=sys.stderr)
        if not outcome.changed:
            return
        if companion:
            self.beside += 1
        else:
            self.changed += 1
        if self.json:
            return
        result = outcome.result
        if self.diff:
            from dockopt.optimizer.diff import unified_diff

            self._print_diff(unified_diff(result.source, result.output, _diff_name(outcome.path)))
        verb = "fixed" if write else "would fix"
        from dockopt.optimizer.messages import split as split_message
        from dockopt.optimizer.pipeline import changed_lines, distinct_changes, where

        listed, lines = distinct_changes(result), changed_lines(result)
        print(f"{_shown(outcome.path)}: {verb} {len(listed)} change(s)", file=sys.stderr)
        for change in listed:
            t, at = change.transform, where(lines[change.transform.id, change.explanation])
            message, detail = split_message(change.explanation)
            print(f"  {at}: {t.id} {t.name} ({change.safety}): {message}", file=sys.stderr)
            for line in detail.splitlines():
                print(f"      {line}", file=sys.stderr)
        if assessed is not None:
            from dockopt.optimizer.impact import to_lines

            print("\n".join("  " + line for line in to_lines(assessed)), file=sys.stderr)
        if measured:
            print("\n".join(measured), file=sys.stderr)

    def _add_json(self, outcome, assessed, proof=None) -> None:
        from dockopt.optimizer.impact import to_dict
        from dockopt.optimizer.messages import split as split_message
        from dockopt.optimizer.pipeline import changed_lines, distinct_changes

        entry: dict = {"path": outcome.path, "changed": outcome.changed}
        if outcome.error:
            entry["error"] = outcome.error
        if outcome.skipped:
            entry["skipped"] = outcome.skipped
        changes = distinct_changes(outcome.result) if outcome.changed else []
        lines = changed_lines(outcome.result) if outcome.changed else {}
        entry["changes"] = [
            {"transform": c.transform.id, "name": c.transform.name, "safety": c.safety, "line": c.line,
             "lines": lines[c.transform.id, c.explanation],
             **dict(zip(("explanation", "detail"), split_message(c.explanation)))}
            for c in changes
        ]
        entry["impact"] = to_dict(assessed) if assessed is not None else None
        if self.diff and outcome.changed:
            from dockopt.optimizer.diff import unified_diff

            entry["diff"] = unified_diff(outcome.result.source, outcome.result.output, _diff_name(outcome.path))
        if outcome.path == "-" and outcome.result is not None:
            entry["output"] = outcome.result.output  # nowhere else to put the rewrite of stdin
        if proof is not None:
            from dockopt.measure.report import to_dict

            entry["measure"] = to_dict(proof) if proof.original is not None else None
        self.files.append(entry)

    def _print_diff(self, text: str) -> None:
        if not self.color:
            _write(text)
            return
        from rich.syntax import Syntax

        _console().print(Syntax(text, "diff", theme="ansi_dark", background_color="default"), end="")

    def finish(self, check: bool) -> int:
        if self.json:
            import json

            from dockopt.optimizer.impact import totals_dict

            document = {"files": self.files, "totals": totals_dict(self.totals)}
            _write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
        elif self.diff and self.total > 1:
            self._print_totals()
        if (self.total > 1 or self.failed or self.beside) and not self.json:
            writes = not (check or self.diff)
            parts = [f"{self.total} file(s)", f"{self.changed} {'changed' if writes else 'to change'}"]
            if self.beside:
                parts.append(f"{self.beside} .dockerignore {'written' if writes else 'to write'}")
            if self.failed:
                parts.append(f"{self.failed} failed")
            print("dockopt: " + ", ".join(parts), file=sys.stderr)
        if self.failed:
            return 2
        return 1 if check and (self.changed or self.beside) else 0

    def _print_totals(self) -> None:
        from dockopt.optimizer import images
        from dockopt.optimizer.impact import totals_rows, totals_text

        if not self.rich_totals:
            sys.stderr.write(totals_text(self.totals))
            return
        from rich.table import Table

        table = Table(title="dockopt totals", title_justify="left", show_header=False)
        table.add_column("what")
        table.add_column("", justify="right")
        for label, value in totals_rows(self.totals):
            table.add_row(label, value)
        console = _console(stderr=True)
        console.print(table)
        for source in self.totals.sources:
            console.print(f"size source: {images.cited(source)}")


def _shown(path: str) -> str:
    from dockopt.optimizer.runner import shown

    return shown(path)


def _diff_name(path: str) -> str:
    if path == "-":
        return "Dockerfile"
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel


def _console(stderr: bool = False):
    from rich.console import Console

    return Console(stderr=stderr, force_terminal=True, highlight=False, soft_wrap=True)
