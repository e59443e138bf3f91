"""Preview the site on 127.0.0.1: drafts included, built in the background while the browser is
served, rebuilt on save, reloaded in the browser, source errors shown in the page."""

from __future__ import annotations

import contextlib
import errno
import html
import http.server
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from stat import S_ISREG
from urllib.parse import unquote

from liandong.errors import LiandongError, SourceErrors, display_path, internal_error, os_reason
from liandong.project import resolve_project_fonts
from liandong.site import Item, SitePlan, SiteRenderer, SiteResult, build_site

__all__ = ["Preview", "serve"]

logger = logging.getLogger(__name__)

EVENTS = "/__liandong/events"
"""Server-sent events: the build generation, sent on connect and after every rebuild."""

POLL_SECONDS = 0.25
"""How often sources are checked for changes. Polling stats works the same on every file system
(network drives and containers included) and needs no extra dependency."""

PROGRESS_SECONDS = 2.0
"""At most one progress line on the terminal this often while the first build runs."""

SAVE_EVERY = 20
"""While the first build runs, the manifest is saved after this many PDFs, so that a preview
stopped midway does not start from nothing."""

WATCHED = ("issues", "templates", "fonts")

_ISSUE_PAGE = re.compile(r"/([0-9]{4}-[0-9]{2,3})\.(html|pdf)")

_RELOAD = """<script>(function () {{
  var built = {generation};
  var events = new EventSource("{events}");
  events.onmessage = function (e) {{ if (Number(e.data) !== built) {{ window.location.reload(); }} }};
}})();</script>
"""
"""Injected only into pages served by the preview, never into the files of the site."""

_NOTE = (
    '<p class="liandong-preview-note" role="status" style="margin:0;padding:0.4rem 1rem;'
    "background:#fff8d6;border-bottom:1px solid #e0c860;color:#1a1a1a;font:1rem/1.6 sans-serif;"
    'text-align:center;text-indent:0">{text}</p>\n'
)
"""The preview's note at the top of every page while the first build is still running."""

_PAGE = """<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · liandong 预览</title>
<style>
body {{ margin: 0 auto; max-width: 56rem; padding: 1.5rem; line-height: 1.7;
       font-family: "Noto Sans CJK SC", sans-serif; }}
h1 {{ color: #b0000e; font-size: 1.5rem; }}
pre {{ white-space: pre-wrap; overflow-wrap: anywhere; background: #fff4f4;
      border-left: 4px solid #e60012; padding: 1rem; font-size: 1rem; }}
</style>
</head>
<body>
{body}
{reload}</body>
</html>
"""

_ERROR = """<h1>稿件有错误，网站没有更新</h1>
<p>改正下列问题并保存，本页会自动刷新。</p>
<pre class="liandong-errors">{errors}</pre>"""

_WAIT = """<h1>正在准备预览</h1>
<p>正在检查各期稿件，这一页稍后会自动显示。</p>"""


class Preview:
    """The project being previewed: the site's folder, the warm renderer, the last error, and
    while the first build runs, the issues whose pages are not written yet."""

    def __init__(self, root: Path, out: Path, echo: Callable[[str], None]):
        self.root, self.out, self.echo = root, out, echo
        self.renderer: SiteRenderer | None = None
        self.generation = 0
        self.error: str | None = None
        self.changed = threading.Condition()
        self.lock = threading.RLock()
        """One rendering at a time: the background build and the browser's requests share it."""
        self.plan: SitePlan | None = None
        self.pages: dict[str, Item] = {}
        """Issues (slug → plan item) whose page the first build has not written yet."""
        self.pdfs: dict[str, Item] = {}
        """Issues whose PDF the first build has not written yet."""
        self.note: str | None = None
        """What the first build is doing, shown at the top of every page until it is done."""
        self.asking = 0
        """Requests waiting for a page: the background build lets them go first."""
        self._counter = threading.Lock()
        self.prepared = threading.Event()
        """Set when the first build knows which pages it has still to write (or has failed)."""
        self.preparing = False
        self._said = 0.0

    # -- the first build: in the background, what the browser asks for first -------------

    def start(self) -> None:
        """The first build, served as it goes: prepare(), then build_rest(); a page the browser
        asks for meanwhile is rendered at once (ensure). A failure is shown in the page."""
        try:
            self.prepare()
            self.build_rest()
        except Exception as exc:  # noqa: BLE001 - shown in the page, the watcher goes on
            self.note = None
            self._publish(_message(exc))

    def prepare(self) -> None:
        """Check every issue (its sources, without typesetting) and write the site's own pages:
        home, years, search; pages waiting for the site reload. Then the search index."""
        self.preparing = True
        try:
            with self.lock:
                fonts = resolve_project_fonts(self.root, notice=True)
                self.renderer = SiteRenderer(self.root, fonts)
                plan = SitePlan(self.root, self.out, preview=True, fonts=fonts)
                self.note = "预览正在检查各期稿件……"
                plan.plan()
                self.plan = plan
                self.pages = {item.slug: item for item in plan.changed}
                self.pdfs = {item.slug: item for item in plan.changed if item.pdf}
                plan.write_site(plan.site_files(index=False))
        finally:
            self.prepared.set()
        if plan.changed:
            self.echo(
                f"预览：共 {len(plan.items)} 期，{len(plan.changed)} 期需要重新生成，在后台进行；"
                "浏览器打开的页面优先生成。"
            )
        self._progress(force=True)
        self._publish(None)  # pages waiting for the site now reload
        # The search index (every issue's text: seconds for a large archive) needs no renderer:
        # pages the browser asks for meanwhile are rendered as it is made.
        plan.write_site(plan.index_files())
        if not plan.changed:
            self.note = None
        self._publish(None)  # the search page, if open, now finds

    def build_rest(self) -> None:
        """Every changed issue's page, newest first, then their PDFs; the manifest is saved as
        PDFs are written, so a preview stopped midway goes on from there next time."""
        plan = self.plan
        if plan is None:  # prepare() failed and said why
            return
        order = sorted(plan.changed, key=lambda item: item.slug, reverse=True)
        for item in order:
            self._give_way()
            if not self.ensure(item.slug, pdf=False, background=True):
                return
            self._progress()
        done: set[str] = {item.slug for item in plan.changed if not item.pdf}
        for item in order:
            if item.slug not in done:
                self._give_way()
                if not self.ensure(item.slug, pdf=True, background=True):
                    return
                done.add(item.slug)
                if len(done) % SAVE_EVERY == 0:
                    with self.lock:
                        plan.finish(done)
            self._progress()
        with self.lock:
            plan.finish(done)
            self.note = None
        self.echo(plan.result().summary())
        if plan.changed:
            self._publish(None)  # the progress note goes

    def ensure(self, slug: str, *, pdf: bool = False, background: bool = False) -> bool:
        """Render and write an issue's page (or PDF) now if the first build has not yet;
        False if it failed (the error is then shown)."""
        if self.preparing:  # a page asked for while the sources are checked: wait for that
            self.prepared.wait(timeout=600)
        waiting = self.pdfs if pdf else self.pages
        if slug not in waiting:
            return True
        with self._turn(background):
            item = waiting.get(slug)
            if item is None or self.plan is None or self.renderer is None:
                return True
            result = self.renderer.render(item.folder, item.site, pdf=pdf)
            if not result.ok:
                self._publish("\n".join([str(p) for p in result.problems] + result.errors))
                waiting.pop(slug, None)
                return False
            self.plan.write_issue(result)
            self.pages.pop(slug, None)
            if pdf:
                self.pdfs.pop(slug, None)
        return True

    @contextlib.contextmanager
    def _turn(self, background: bool) -> Iterator[None]:
        """The renderer, for a request before the background build's next issue."""
        if background:
            with self.lock:
                yield
            return
        with self._counter:
            self.asking += 1
        try:
            self.lock.acquire()
        finally:
            with self._counter:
                self.asking -= 1
        try:
            yield
        finally:
            self.lock.release()

    def _give_way(self) -> None:
        """Let a page the browser asks for be rendered before the next one of the background."""
        while self.asking:
            time.sleep(0.005)

    def _progress(self, force: bool = False) -> None:
        plan = self.plan
        if plan is None or not plan.changed:
            return
        total = len(plan.changed)
        pdf_total = sum(1 for item in plan.changed if item.pdf)
        pages, pdfs = total - len(self.pages), pdf_total - len(self.pdfs)
        self.note = (
            f"预览正在后台生成：网页 {pages}/{total}，PDF {pdfs}/{pdf_total}。"
            "尚未生成的一期，打开时立即生成。"
        )
        now = time.monotonic()
        if force or now - self._said >= PROGRESS_SECONDS or pdfs == pdf_total:
            self._said = now
            self.echo(f"预览：网页 {pages}/{total}，PDF {pdfs}/{pdf_total}")

    # -- rebuilding after a save -------------------------------------------------------------

    def rebuild(self, changed: set[str] | None = None) -> None:
        """Build the site in this process, keeping the fonts and WeasyPrint warm between saves.

        In two steps, each followed by a reload when it changed what the browser shows: first
        the changed issues' pages (only those, when every changed file lies in an issue
        folder), so an edit shows at once; then everything else, as `liandong site` does:
        their PDFs (preflighted), the home and search pages, the manifest."""
        first = self.generation == 0
        if not first and self._build(pdfs=False, only=self._issue_folders(changed)) is None:
            return  # a bad source: its error page is shown, the PDFs would fail the same way
        self._build(pdfs=True, reload_for_pdfs=first)

    def _issue_folders(self, changed: set[str] | None) -> list[Path] | None:
        """The issue folders the changed files lie in; None if any lies elsewhere (series.yaml,
        templates/, fonts/) or its folder is gone, since then any page may change."""
        if not changed:
            return None
        issues = self.root / "issues"
        folders = set()
        for name in changed:
            try:
                parts = Path(name).relative_to(issues).parts
            except ValueError:
                return None
            folder = issues.joinpath(*parts[:2])
            if len(parts) < 3 or not folder.is_dir():
                return None
            folders.add(folder)
        return sorted(folders)

    def warm(self) -> None:
        """Load WeasyPrint and its fonts before the first edit (in the watcher thread, so it
        never renders at the same time as a rebuild)."""
        if self.renderer is not None:
            try:
                with self.lock:
                    self.renderer.issues.warm()
            except Exception:  # a failure here shows at the next rebuild
                logger.debug("预热失败", exc_info=True)

    def _build(
        self, *, pdfs: bool, reload_for_pdfs: bool = True, only: list[Path] | None = None
    ) -> SiteResult | None:
        """One build step; the SiteResult, or None if it failed (the error is then shown)."""
        result = None
        try:
            with self.lock:
                fonts = resolve_project_fonts(self.root, notice=self.generation == 0)
                if self.renderer is None or self.renderer.fonts != fonts:
                    self.renderer = SiteRenderer(self.root, fonts)
                result = build_site(
                    self.root, self.out, renderer=self.renderer, pdfs=pdfs, only=only, preview=True
                )
            error = None
            if pdfs:
                self.echo(result.summary())
        except Exception as exc:  # noqa: BLE001 - the watcher thread must survive anything
            error = _message(exc)
        if error or result is None:
            logger.error("%s", error)
        elif self.error is None and self.generation and not result.written:
            return result  # a save that changed nothing the site shows: no reload
        elif (
            self.error is None
            and pdfs
            and not reload_for_pdfs
            and all(path.suffix != ".html" for path in result.written)
        ):
            return result  # only PDFs, the search index or the feed: no page looks different
        self._publish(error)
        return None if error else result

    def _publish(self, error: str | None) -> None:
        """A new generation: every open page reloads (and shows the error, if any)."""
        with self.changed:
            self.error = error
            self.generation += 1
            self.changed.notify_all()

    def wait(self, seen: int, timeout: float) -> int:
        with self.changed:
            self.changed.wait_for(lambda: self.generation != seen, timeout=timeout)
            return self.generation

    def snapshot(self) -> dict[str, tuple[int, int]]:
        """Size and mtime of every watched file: what a save changes."""
        state = {}
        for name in WATCHED:
            # os.walk and one stat per file: this runs four times a second, over every file of
            # a 700-issue archive (about 10 ms), so no Path objects and no second stat.
            for folder, _, files in os.walk(self.root / name):
                for file in files:
                    path = os.path.join(folder, file)
                    try:
                        stat = os.stat(path)
                    except OSError:
                        continue
                    if S_ISREG(stat.st_mode):
                        state[path] = (stat.st_mtime_ns, stat.st_size)
        return state

    def watch(self, stop: threading.Event, before: dict | None = None) -> None:
        before = self.snapshot() if before is None else before
        self.warm()  # an edit made meanwhile is seen at the first poll: the snapshot came first
        while not stop.wait(POLL_SECONDS):
            now = self.snapshot()
            if now != before:
                changed = {
                    path for path in before.keys() | now.keys() if before.get(path) != now.get(path)
                }
                before = now
                self.rebuild(changed)

    def run(self, stop: threading.Event) -> None:
        """The background thread: the first build, then watching for saves (the snapshot is
        taken first, so a save made during the first build is rebuilt after it)."""
        before = self.snapshot()
        self.start()
        self.watch(stop, before)

    def page(self, body: str | None) -> bytes:
        """A page as the preview serves it: the error if the last build failed, a waiting page
        while the first build checks the sources, the progress note, and the reload script."""
        reload = _RELOAD.format(generation=self.generation, events=EVENTS)
        if self.error is not None:
            text = _PAGE.format(
                title="稿件有错误",
                body=_ERROR.format(errors=html.escape(self.error)),
                reload=reload,
            )
        elif body is None:
            text = _PAGE.format(title="正在准备", body=_WAIT, reload=reload)
        else:
            note = self.note
            if note:
                opened = re.search(r"<body[^>]*>\n?", body)
                if opened:
                    body = (
                        body[: opened.end()]
                        + _NOTE.format(text=html.escape(note))
                        + body[opened.end() :]
                    )
            head, tail = body.rsplit("</body>", 1) if "</body>" in body else (body, "")
            text = head + reload + "</body>" + tail
        return text.encode("utf-8")


def _message(exc: BaseException) -> str:
    """A failed build step, as the page and the terminal show it."""
    if isinstance(exc, SourceErrors):
        return (
            "\n".join(str(p) for p in exc.problems)
            + f"\n共 {len(exc.problems)} 处错误，未生成任何文件。"
        )
    if isinstance(exc, LiandongError):
        return exc.format_message()
    if isinstance(exc, OSError):  # a file that vanished mid-save, a full disk: say so, keep serving
        shown = display_path(exc.filename) if exc.filename else ""
        return f"无法读取或写入文件 {shown}：{os_reason(exc)}"
    logger.debug("内部错误", exc_info=True)
    return internal_error(exc)


_REASONS = {
    400: "请求无效",
    403: "禁止访问",
    404: "找不到这个文件",
    405: "不支持这种请求",
    500: "预览出错",
    501: "不支持这种请求",
}


def _handler(preview: Preview, port: Callable[[], int]) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(preview.out), **kwargs)

        def log_message(self, format, *args):  # noqa: A002 - the quiet preview logs nothing
            pass

        def send_error(self, code, message=None, explain=None):
            """A plain Chinese text instead of http.server's English HTML."""
            body = f"{code} {_REASONS.get(code, '请求无效')}\n".encode()
            self.send_response(code)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _host_ok(self) -> bool:
            """Only the loopback names: a page on another site that a DNS rebinding points at
            127.0.0.1 sends its own host name, and gets nothing."""
            host = (self.headers.get("Host") or "").strip().lower()
            allowed = {f"127.0.0.1:{port()}", f"localhost:{port()}"}
            if port() == 80:
                allowed |= {"127.0.0.1", "localhost"}
            return host in allowed

        def do_GET(self):  # http.server's naming
            self._guarded(self._get)

        def do_HEAD(self):
            self._guarded(super().do_HEAD)

        def _guarded(self, action: Callable[[], object]) -> None:
            if not self._host_ok():
                return self.send_error(400)
            try:
                action()
            except (ValueError, UnicodeError):  # a null byte, bad percent-encoding
                self.send_error(400)
            except OSError as exc:
                if exc.errno in (errno.EPIPE, errno.ECONNRESET):
                    return
                self.send_error(404)
            except Exception:  # never a traceback on the terminal
                logger.debug("预览请求出错", exc_info=True)
                self.send_error(500)

        def _get(self):
            path = self.path.split("?", 1)[0].split("#", 1)[0]
            if "\0" in unquote(path):
                return self.send_error(400)
            if path == EVENTS:
                return self._events()
            page = _ISSUE_PAGE.fullmatch(path)
            if page:  # not written yet by the first build: render it now
                preview.ensure(page.group(1), pdf=page.group(2) == "pdf")
            if path.endswith("/"):
                path += "index.html"
            if path.endswith(".html"):
                return self._html(path)
            if os.path.isdir(self.translate_path(path)):
                return self.send_error(404)  # no directory listings
            return super().do_GET()

        def _html(self, path: str) -> None:
            file = Path(self.translate_path(path))
            body = None
            status = 200
            if preview.error is None:
                try:
                    body = file.read_text(encoding="utf-8")
                except OSError:
                    try:
                        body = (preview.out / "404.html").read_text(encoding="utf-8")
                        status = 404
                    except OSError:
                        body = None  # the site is not written yet: the waiting page
            data = preview.page(body)
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _events(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            seen = -1
            try:
                while True:
                    generation = preview.wait(seen, timeout=15)
                    if generation != seen:
                        self.wfile.write(f"data: {generation}\n\n".encode())
                        seen = generation
                    else:
                        self.wfile.write(b": keep-alive\n\n")
                    self.wfile.flush()
            except OSError:  # the browser went away
                return

        def end_headers(self):
            self.send_header("Cache-Control", "no-store")
            super().end_headers()

    return Handler


def serve(root: Path, out: Path, port: int, echo: Callable[[str], None]) -> None:
    """`liandong serve`: serve out/ on 127.0.0.1 at once, build in the background, rebuild on
    save, until Ctrl+C."""
    preview = Preview(root, out, echo)
    server: http.server.ThreadingHTTPServer | None = None
    try:
        server = http.server.ThreadingHTTPServer(
            ("127.0.0.1", port),
            _handler(preview, lambda: server.server_address[1] if server else port),
        )
    except OverflowError:
        raise LiandongError(f"端口号 {port} 无效：应在 0 到 65535 之间。") from None
    except OSError as exc:
        reason = "端口已被占用" if exc.errno == errno.EADDRINUSE else os_reason(exc)
        raise LiandongError(
            f"无法在 127.0.0.1:{port} 上提供预览：{reason}，可用 --port 换一个端口。"
        ) from None
    server.daemon_threads = True
    echo(
        f"预览：http://127.0.0.1:{server.server_address[1]}/（草稿也显示；保存稿件后自动更新；"
        "按 Ctrl+C 停止）"
    )
    stop = threading.Event()
    worker = threading.Thread(target=preview.run, args=(stop,), daemon=True)
    worker.start()
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        echo("预览已停止。")
    finally:
        stop.set()
        server.server_close()
