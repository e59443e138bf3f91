"""Preview the site on 127.0.0.1: rebuild on save, reload the browser, show source errors in the page."""

from __future__ import annotations

import errno
import html
import http.server
import logging
import os
import threading
from pathlib import Path
from stat import S_ISREG
from typing import Callable

from liandong.errors import LiandongError, SourceErrors, internal_error, os_reason
from liandong.build import resolve_project_fonts
from liandong.site import SiteRenderer, build_site

__all__ = ["Preview", "serve"]

logger = logging.getLogger(__name__)

EVENTS = "/__liandong/events"
"""Server-sent events: the build generation, sent on connect and after every rebuild."""

POLL_SECONDS = 0.25
"""How often sources are checked for changes. Polling stats works the same on every file system
(network drives and containers included) and needs no extra dependency."""

WATCHED = ("issues", "templates", "fonts")

_RELOAD = """<script>(function () {{
  var built = {generation};
  var events = new EventSource("{events}");
  events.onmessage = function (e) {{ if (Number(e.data) !== built) {{ window.location.reload(); }} }};
}})();</script>
"""
"""Injected only into pages served by the preview, never into the files of the site."""

_ERROR_PAGE = """<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>稿件有错误 · liandong 预览</title>
<style>
body {{ margin: 0 auto; max-width: 56rem; padding: 1.5rem; font-family: "Noto Sans CJK SC", sans-serif; line-height: 1.7; }}
h1 {{ color: #b0000e; font-size: 1.5rem; }}
pre {{ white-space: pre-wrap; overflow-wrap: anywhere; background: #fff4f4; border-left: 4px solid #e60012; padding: 1rem; font-size: 1rem; }}
</style>
</head>
<body>
<h1>稿件有错误，网站没有更新</h1>
<p>改正下列问题并保存，本页会自动刷新。</p>
<pre class="liandong-errors">{errors}</pre>
{reload}</body>
</html>
"""


class Preview:
    """The project being previewed: the site's folder, the warm renderer, the last error."""

    def __init__(self, root: Path, out: Path, echo: Callable[[str], None]):
        self.root, self.out, self.echo = root, out, echo
        self.renderer: SiteRenderer | None = None
        self.generation = 0
        self.error: str | None = None
        self.changed = threading.Condition()

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
                self.renderer.issues.warm()
            except Exception:  # noqa: BLE001 - a failure here shows at the next rebuild
                logger.debug("预热失败", exc_info=True)

    def _build(self, *, pdfs: bool, reload_for_pdfs: bool = True, only: list[Path] | None = None):
        """One build step; the SiteResult, or None if it failed (the error is then shown)."""
        result = None
        try:
            fonts = resolve_project_fonts(self.root, notice=self.generation == 0)
            if self.renderer is None or self.renderer.fonts != fonts:
                self.renderer = SiteRenderer(self.root, fonts)
            result = build_site(self.root, self.out, renderer=self.renderer, pdfs=pdfs, only=only)
            error = None
            if pdfs:
                self.echo(result.summary())
        except SourceErrors as exc:
            error = "\n".join(str(p) for p in exc.problems)
            error += f"\n共 {len(exc.problems)} 处错误，未生成任何文件。"
        except LiandongError as exc:
            error = exc.format_message()
        except OSError as exc:  # a file that vanished mid-save, a full disk: say so, keep serving
            error = f"无法读取或写入文件 {exc.filename or ''}：{os_reason(exc)}"
        except Exception as exc:  # noqa: BLE001 - the watcher thread must survive anything
            logger.debug("内部错误", exc_info=True)
            error = internal_error(exc)
        if error:
            logger.error("%s", error)
        elif self.error is None and self.generation and not result.written:
            return result  # a save that changed nothing the site shows: no reload
        elif (self.error is None and pdfs and not reload_for_pdfs
              and all(path.suffix != ".html" for path in result.written)):
            return result  # only PDFs, the search index or the feed: no page looks different
        with self.changed:
            self.error = error
            self.generation += 1
            self.changed.notify_all()
        return result

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

    def watch(self, stop: threading.Event) -> None:
        before = self.snapshot()
        self.warm()  # an edit made meanwhile is seen at the first poll: the snapshot came first
        while not stop.wait(POLL_SECONDS):
            now = self.snapshot()
            if now != before:
                changed = {path for path in before.keys() | now.keys()
                           if before.get(path) != now.get(path)}
                before = now
                self.rebuild(changed)

    def page(self, body: str | None) -> bytes:
        """A page as the preview serves it: the error if the last build failed, plus the reload
        script."""
        reload = _RELOAD.format(generation=self.generation, events=EVENTS)
        if self.error is not None or body is None:
            text = _ERROR_PAGE.format(errors=html.escape(self.error or ""), reload=reload)
        else:
            head, tail = body.rsplit("</body>", 1) if "</body>" in body else (body, "")
            text = head + reload + "</body>" + tail
        return text.encode("utf-8")


def _handler(preview: Preview):
    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(preview.out), **kwargs)

        def log_message(self, format, *args):  # noqa: A002 - the quiet preview logs nothing
            pass

        def do_GET(self):  # noqa: N802 - http.server's naming
            path = self.path.split("?", 1)[0].split("#", 1)[0]
            if path == EVENTS:
                return self._events()
            if path.endswith("/"):
                path += "index.html"
            if path.endswith(".html"):
                return self._html(path)
            return super().do_GET()

        def _html(self, path: str) -> None:
            file = Path(self.translate_path(path))
            body = None
            status = 200
            if preview.error is None:
                try:
                    body = file.read_text(encoding="utf-8")
                except OSError:
                    status = 404
                    try:
                        body = (preview.out / "404.html").read_text(encoding="utf-8")
                    except OSError:
                        body = "<!DOCTYPE html><html lang=\"zh-CN\"><title>找不到</title><body></body></html>"
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
    """`liandong serve`: build, then serve out/ on 127.0.0.1 until Ctrl+C, rebuilding on save."""
    preview = Preview(root, out, echo)
    try:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", port), _handler(preview))
    except OverflowError:
        raise LiandongError(f"端口号 {port} 无效：应在 0 到 65535 之间。") from None
    except OSError as exc:
        reason = "端口已被占用" if exc.errno == errno.EADDRINUSE else os_reason(exc)
        raise LiandongError(f"无法在 127.0.0.1:{port} 上提供预览：{reason}，"
                            "可用 --port 换一个端口。") from None
    server.daemon_threads = True
    preview.rebuild()
    stop = threading.Event()
    watcher = threading.Thread(target=preview.watch, args=(stop,), daemon=True)
    watcher.start()
    echo(f"预览：http://127.0.0.1:{server.server_address[1]}/（保存稿件后自动更新；按 Ctrl+C 停止）")
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        echo("预览已停止。")
    finally:
        stop.set()
        server.server_close()
