"""The language server: pygls wiring around dockopt/lsp/analysis.py.

- Diagnostics on open, save and change: what `dockopt check` reports, one per change
  dockopt would make (code = the transform's id) and one per finding with no fix (code =
  the check's id). Changes are debounced (`DEBOUNCE` seconds after the last keystroke)
  and every analysis runs on one worker thread, never on the event loop, so a slow file
  cannot hold up other requests; a result for a version that has since changed is dropped.
- Code actions: a `quickfix` per change (its edits) and `source.fixAll.dockopt`
  (every `safe` change, as formatting does).
- Formatting: `safe` rewrites only, or `review` ones too when the editor's settings say
  `{"dockopt": {"review": true}}` (initializationOptions, workspace/configuration, or
  workspace/didChangeConfiguration), as minimal line edits.

Documents are synced whole (TextDocumentSyncKind.Full): a Dockerfile is small, and the
server then analyses exactly the text the client has, with positions mapped by
dockopt/lsp/positions.py in the encoding agreed at initialize (UTF-16 by default).

An editor must never hang on it. A request (formatting, code actions) waits at most
`BUDGET` for its answer and otherwise answers with nothing to offer, while the work goes on
in the background and serves the next request for the same text; work for a text the
document no longer holds is skipped before it starts; a document over `MAX_TEXT`
characters (no real Dockerfile comes near) is not analysed at all.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlparse

from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from dockopt import __version__
from dockopt.lsp import analysis
from dockopt.lsp.analysis import FIX_ALL, Analysis, Problem, Settings

DEBOUNCE = 0.2  # seconds of quiet after a change before the document is analysed again
BUDGET = 0.15  # seconds a request waits for its answer before answering with nothing to offer
MAX_TEXT = 1_000_000  # characters; a larger document gets no analysis
CONFIG_TIMEOUT = 5.0  # seconds to wait for the client's workspace/configuration answer

_SEVERITY = {
    "error": lsp.DiagnosticSeverity.Error,
    "warning": lsp.DiagnosticSeverity.Warning,
    "info": lsp.DiagnosticSeverity.Information,
    "style": lsp.DiagnosticSeverity.Hint,
}
log = logging.getLogger(__name__)


class DockoptServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("dockopt", __version__, text_document_sync_kind=lsp.TextDocumentSyncKind.Full)
        self.settings = Settings()
        self.pull_configuration = False  # whether the client answers workspace/configuration
        self.worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dockopt-analysis")
        self.pending: dict[str, asyncio.TimerHandle] = {}
        self.tasks: set[asyncio.Task] = set()  # running publications, kept until done
        self.analyses: dict[str, tuple[tuple, Analysis]] = {}  # uri -> (key, last analysis)
        self.running: dict[tuple, asyncio.Future] = {}  # work started, by what it depends on
        self.formats: dict[str, tuple[tuple, object]] = {}  # uri -> (key, last formatting)

    # ------------------------------------------------------------------ helpers

    @property
    def encoding(self) -> str:
        value = self.workspace.position_encoding or lsp.PositionEncodingKind.Utf16
        return str(getattr(value, "value", value))

    def document(self, uri: str):
        """The open document, or None once it is closed."""
        return self.workspace.text_documents.get(uri)

    async def run(self, fn, *args):
        return await asyncio.get_running_loop().run_in_executor(self.worker, fn, *args)

    def start(self, key: tuple, uri: str, text: str, fn, *args) -> asyncio.Future:
        """`fn(text, *args)` on the worker, once per `key`; skipped (None) when the document
        no longer holds `text` by the time the worker gets to it."""
        future = self.running.get(key)
        if future is None:
            def work():
                doc = self.document(uri)
                if doc is None or doc.source != text:
                    return None  # superseded while it waited
                return _safely(fn, text, *args)

            future = asyncio.ensure_future(self.run(work))
            self.running[key] = future
            future.add_done_callback(lambda _: self.running.pop(key, None))
        return future

    async def analyse(self, uri: str, text: str, budget: float | None = None) -> Analysis | None:
        """The analysis of `text`, reusing the last one when nothing it depends on changed;
        None when it is not ready within `budget` seconds (it goes on, for next time), the
        text changed meanwhile, or the document is too large to analyse."""
        if len(text) > MAX_TEXT:
            return None
        key = (text, self.settings, self.encoding)
        cached = self.analyses.get(uri)
        if cached is not None and cached[0] == key:
            return cached[1]
        future = self.start(("diagnose",) + key, uri, text, analysis.diagnose, path_of(uri), self.settings, self.encoding)

        def keep(done: asyncio.Future) -> None:
            if not done.cancelled() and done.exception() is None and done.result() is not None \
                    and self.document(uri) is not None:
                self.analyses[uri] = (key, done.result())

        future.add_done_callback(keep)
        try:
            return await asyncio.wait_for(asyncio.shield(future), budget) if budget else await future
        except asyncio.TimeoutError:
            return None

    def schedule(self, uri: str, delay: float) -> None:
        """Analyse `uri` after `delay` seconds, replacing an analysis already waiting."""
        handle = self.pending.pop(uri, None)
        if handle is not None:
            handle.cancel()
        loop = asyncio.get_running_loop()

        def start() -> None:
            task = loop.create_task(self.publish(uri))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

        self.pending[uri] = loop.call_later(delay, start)

    async def publish(self, uri: str) -> None:
        self.pending.pop(uri, None)
        doc = self.document(uri)
        if doc is None:
            return
        text, version = doc.source, doc.version
        result = await self.analyse(uri, text)
        now = self.document(uri)
        if result is None or now is None or now.version != version or now.source != text:
            return  # edited meanwhile (the newer version's analysis is scheduled), or too large
        self.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(
            uri=uri, version=version, diagnostics=[diagnostic(p, uri) for p in result.problems],
        ))

    def relint_all(self) -> None:
        for uri in list(self.workspace.text_documents):
            self.schedule(uri, 0)

    async def fetch_configuration(self) -> None:
        try:
            answer = await asyncio.wait_for(
                self.workspace_configuration_async(lsp.ConfigurationParams(items=[lsp.ConfigurationItem(section="dockopt")])),
                CONFIG_TIMEOUT,
            )
        except Exception as exc:  # noqa: BLE001 - a client that cannot answer keeps the settings
            log.warning("workspace/configuration failed: %s", exc)
            return
        if answer:
            self.settings = Settings.parse(answer[0], self.settings)


def _warm_up() -> None:
    """Load what every analysis needs (the transforms, the image facts) before the editor asks."""
    sample = "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm install\nCMD node a.js\n"
    _safely(analysis.diagnose, sample, None)
    _formatting(sample, None, False, "utf-16")


def _formatting(text, path, review, encoding):
    """format_edits, whose failure is reported like any other (its own `error`)."""
    try:
        return analysis.format_edits(text, path, review, encoding)
    except Exception as exc:  # noqa: BLE001 - a dockopt bug: no edits, a logged message
        log.exception("formatting failed")
        return analysis.Formatting([], f"internal error ({exc}); {analysis._BUG}")


def path_of(uri: str) -> str | None:
    """The file behind a file:// URI; None for untitled and other schemes."""
    if urlparse(uri).scheme != "file":
        return None
    return to_fs_path(uri)


def _safely(fn, text, *args):
    """Run an analysis; a dockopt bug becomes one diagnostic, never a dead request."""
    try:
        return fn(text, *args)
    except Exception as exc:  # noqa: BLE001
        log.exception("analysis failed")
        result = Analysis(text, analysis.LineIndex(text))
        result.problems.append(Problem((0, 0), (0, 0), "error", f"internal error ({exc}); {analysis._BUG}"))
        return result


def lsp_range(start, end) -> lsp.Range:
    return lsp.Range(start=lsp.Position(*start), end=lsp.Position(*end))


def diagnostic(problem: Problem, uri: str | None = None) -> lsp.Diagnostic:
    """The problem's short message; its detail, when it has one, as `data` and (for editors
    that show it, given the document) as related information at the same place."""
    where = lsp_range(problem.start, problem.end)
    related = None
    if problem.detail and uri:
        related = [lsp.DiagnosticRelatedInformation(lsp.Location(uri, where), problem.detail)]
    return lsp.Diagnostic(
        range=where,
        message=problem.message,
        severity=_SEVERITY[problem.severity],
        code=problem.code,
        source="dockopt",
        related_information=related,
        data={"detail": problem.detail} if problem.detail else None,
    )


def text_edits(edits) -> list[lsp.TextEdit]:
    return [lsp.TextEdit(range=lsp_range(e.start, e.end), new_text=e.text) for e in edits]


def _wanted(kind: str, only) -> bool:
    return not only or any(kind == k or kind.startswith(f"{k}.") for k in only)


def _touches(problem: Problem, rng: lsp.Range) -> bool:
    start, end = (rng.start.line, rng.start.character), (rng.end.line, rng.end.character)
    return problem.start <= end and start <= problem.end


def build() -> DockoptServer:
    server = DockoptServer()

    @server.feature(lsp.INITIALIZE)
    def initialize(ls: DockoptServer, params: lsp.InitializeParams) -> None:
        ls.settings = Settings.parse(params.initialization_options)
        workspace = params.capabilities.workspace
        ls.pull_configuration = bool(workspace and workspace.configuration)
        _warm_up()  # the first request then takes milliseconds, like every later one

    @server.feature(lsp.INITIALIZED)
    async def initialized(ls: DockoptServer, params: lsp.InitializedParams) -> None:
        if ls.pull_configuration:
            before = ls.settings
            await ls.fetch_configuration()
            if ls.settings != before:
                ls.relint_all()

    @server.feature(lsp.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def configuration_changed(ls: DockoptServer, params: lsp.DidChangeConfigurationParams) -> None:
        before = ls.settings
        settings = params.settings
        if isinstance(settings, dict) and "dockopt" in settings:
            ls.settings = Settings.parse(settings, ls.settings)
        elif ls.pull_configuration:
            await ls.fetch_configuration()
        if ls.settings != before:
            ls.relint_all()

    @server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: DockoptServer, params: lsp.DidOpenTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri, 0)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: DockoptServer, params: lsp.DidChangeTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri, DEBOUNCE)

    @server.feature(lsp.TEXT_DOCUMENT_DID_SAVE, lsp.SaveOptions(include_text=False))
    def did_save(ls: DockoptServer, params: lsp.DidSaveTextDocumentParams) -> None:
        ls.analyses.pop(params.text_document.uri, None)  # the build context may have changed too
        ls.formats.pop(params.text_document.uri, None)
        ls.schedule(params.text_document.uri, 0)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: DockoptServer, params: lsp.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        handle = ls.pending.pop(uri, None)
        if handle is not None:
            handle.cancel()
        ls.analyses.pop(uri, None)
        ls.formats.pop(uri, None)
        ls.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri=uri, diagnostics=[]))

    @server.feature(lsp.TEXT_DOCUMENT_FORMATTING)
    async def formatting(ls: DockoptServer, params: lsp.DocumentFormattingParams) -> list[lsp.TextEdit] | None:
        return await _format(ls, params.text_document.uri, ls.settings.review)

    @server.feature(
        lsp.TEXT_DOCUMENT_CODE_ACTION,
        lsp.CodeActionOptions(code_action_kinds=[lsp.CodeActionKind.QuickFix, FIX_ALL], resolve_provider=False),
    )
    async def code_action(ls: DockoptServer, params: lsp.CodeActionParams) -> list[lsp.CodeAction] | None:
        uri = params.text_document.uri
        doc = ls.document(uri)
        if doc is None:
            return None
        only = [str(getattr(k, "value", k)) for k in params.context.only or ()]
        result = await ls.analyse(uri, doc.source, BUDGET)
        if result is None:
            return None  # not ready in time: nothing to offer yet
        actions = []
        if _wanted(lsp.CodeActionKind.QuickFix.value, only):
            for problem in result.problems:
                if problem.edits and _touches(problem, params.range):
                    actions.append(lsp.CodeAction(
                        title=f"Apply {problem.title}",
                        kind=lsp.CodeActionKind.QuickFix,
                        diagnostics=[diagnostic(problem, uri)],
                        is_preferred=problem.safety == "safe",
                        edit=lsp.WorkspaceEdit(changes={uri: text_edits(result.quick_fix(problem))}),
                    ))
        if _wanted(FIX_ALL, only) and any(p.safety == "safe" for p in result.problems):
            edits = await _format(ls, uri, review=False)
            if edits:
                actions.append(lsp.CodeAction(
                    title="dockopt: apply every safe change",
                    kind=FIX_ALL,
                    edit=lsp.WorkspaceEdit(changes={uri: edits}),
                ))
        return actions

    return server


async def _format(ls: DockoptServer, uri: str, review: bool) -> list[lsp.TextEdit] | None:
    doc = ls.document(uri)
    if doc is None or len(doc.source) > MAX_TEXT:
        return None
    text = doc.source
    key = (text, review, ls.encoding)
    cached = ls.formats.get(uri)
    if cached is not None and cached[0] == key:
        result = cached[1]
    else:
        future = ls.start(("format",) + key, uri, text, _formatting, path_of(uri), review, ls.encoding)

        def keep(done: asyncio.Future) -> None:
            if not done.cancelled() and done.exception() is None and done.result() is not None \
                    and ls.document(uri) is not None:
                ls.formats[uri] = (key, done.result())

        future.add_done_callback(keep)
        try:
            result = await asyncio.wait_for(asyncio.shield(future), BUDGET)
        except asyncio.TimeoutError:
            return None  # not ready in time: no edits now; the next request for this text has them
    if result is None:
        return None
    if result.error:
        ls.window_log_message(lsp.LogMessageParams(type=lsp.MessageType.Warning, message=f"dockopt: {uri}: {result.error}"))
        return None
    return text_edits(result.edits)
