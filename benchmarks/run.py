"""The liandong benchmark suite: one command, a table of medians with min and max.

Usage: .venv/bin/python benchmarks/run.py [--quick] [--runs K] [--issues N] [--only a,b,...]
                                          [--markdown FILE] [--keep DIR]

Measures (each in a fresh temporary folder; nothing is written into the repository):
  a      `liandong build 13` cold, as a whole process: wall time and peak memory
  b      `liandong serve`: save -> reload event latency, and the in-process warm rebuild
  c      `liandong site` of a generated archive of N issues, cold, on all cores
  d      the same site again with nothing changed, and with one issue changed
  e      the size of issue 13's PDF (and HTML)
  s      the site in chromium (720 issues): bytes a browser downloads for one search, time to the
         first result with the CPU slowed down 4× (devtools CPU throttling), the home page's size
  typst  the same issue with Typst (benchmarks/typst_issue.py), same fonts, same run: ratio

The commands are the ones installed next to this Python (`<venv>/bin/liandong`). Progress goes
to stderr, the table to stdout (and to --markdown FILE, written atomically).
"""

from __future__ import annotations

import argparse
import http.client
import os
import platform
import queue
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))

import generate  # noqa: E402 - benchmarks/ is not a package

try:
    import typst_issue  # written alongside, may not have landed yet
except ImportError:
    typst_issue = None


def _code_root() -> Path:
    """The checkout whose liandong is installed (editable): the code being measured."""
    import importlib.util

    spec = importlib.util.find_spec("liandong")
    if spec and spec.origin:
        root = Path(spec.origin).resolve().parent.parent
        if (root / "issues" / "2024" / "13").is_dir():
            return root
    return REPO


CODE = _code_root()
BIN = Path(sys.executable).parent
LIANDONG = str(BIN / "liandong") if (BIN / "liandong").exists() else shutil.which("liandong")

MEASURES = ("a", "b", "c", "d", "e", "s", "typst")
FULL_ISSUES = 720
QUICK_ISSUES = 48
SERVE_ISSUES = 48
QUICK_SERVE_ISSUES = 8
TYPST_MISSING = "未测（缺少 benchmarks/typst_issue.py）"


def progress(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


# --- Measuring one process ---------------------------------------------------


@dataclass
class Run:
    seconds: float
    max_rss_mb: float
    """ru_maxrss from wait4: the largest single process of the tree (on Linux the child's
    rusage includes its reaped descendants, so pool workers count, as a maximum, not a sum)."""
    tree_rss_mb: float
    """The largest sum of RSS over the process and its descendants, sampled every 50 ms."""
    stdout: str
    stderr: str


def _descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        try:
            kids = Path(f"/proc/{p}/task/{p}/children").read_text().split()
        except OSError:
            continue
        found += [int(k) for k in kids]
        todo += [int(k) for k in kids]
    return found


def _rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def run_process(args: list[str], cwd: Path, *, expect: str | None = None) -> Run:
    """Run args as a child, timing Popen..wait4 with perf_counter. Fails loudly on a non-zero
    exit status or when `expect` is not in the output."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        peak = [0]
        done = threading.Event()
        start = time.perf_counter()
        child = subprocess.Popen(
            args, cwd=cwd, stdout=out, stderr=err, env={**os.environ, "COLUMNS": "100"}
        )

        def sample() -> None:
            while not done.wait(0.05):
                total = sum(_rss_kb(p) for p in [child.pid, *_descendants(child.pid)])
                peak[0] = max(peak[0], total)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(child.pid, 0)
        elapsed = time.perf_counter() - start
        done.set()
        child.returncode = os.waitstatus_to_exitcode(status)
        sampler.join()
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
    if child.returncode != 0:
        raise SystemExit(
            f"命令失败（退出状态 {child.returncode}）：{' '.join(args)}\n{stdout}{stderr}"
        )
    if expect is not None and expect not in stdout + stderr:
        raise SystemExit(f"命令的输出里没有“{expect}”：{' '.join(args)}\n{stdout}{stderr}")
    return Run(elapsed, usage.ru_maxrss / 1024, peak[0] / 1024, stdout, stderr)


# --- Results -----------------------------------------------------------------


@dataclass
class Row:
    label: str
    unit: str
    values: list[float] = field(default_factory=list)
    target: float | None = None
    note: str = ""
    """Shown instead of figures when the row was not measured, or after the target."""
    digits: int = 2

    def cells(self) -> list[str]:
        if not self.values:
            return [self.label, self.note or "—", "", "", self._target(), ""]
        fmt = f"{{:.{self.digits}f}} {self.unit}".strip()
        med = statistics.median(self.values)
        verdict = "" if self.target is None else ("达标" if med <= self.target else "未达标")
        return [
            self.label,
            fmt.format(med),
            fmt.format(min(self.values)),
            fmt.format(max(self.values)),
            self._target(),
            verdict,
        ]

    def _target(self) -> str:
        if self.target is None:
            return self.note if self.values and self.note else "—"
        return f"≤ {self.target:g} {self.unit}".strip() + (f"（{self.note}）" if self.note else "")


HEADER = ["项目", "中位数", "最小", "最大", "目标", "结果"]


def machine() -> str:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        from importlib.metadata import version

        weasy = version("weasyprint")
    except Exception:  # noqa: BLE001 - the version is only shown in the report
        weasy = "?"
    commit = (
        subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=CODE, capture_output=True, text=True
        ).stdout.strip()
        or "?"
    )
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--", "liandong", "templates"],
        cwd=CODE,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return (
        f"{os.cpu_count()} 核（nproc {len(os.sched_getaffinity(0))}），{cpu}；"
        f"Python {platform.python_version()}，WeasyPrint {weasy}，"
        f"liandong {commit}{'（有未提交的改动）' if dirty else ''}（{CODE}）"
    )


def table_text(rows: list[Row]) -> str:
    cells = [HEADER] + [r.cells() for r in rows]
    width = [max(_width(c[i]) for c in cells) for i in range(len(HEADER))]
    lines = []
    for k, c in enumerate(cells):
        lines.append("  ".join(s + " " * (width[i] - _width(s)) for i, s in enumerate(c)).rstrip())
        if k == 0:
            lines.append("  ".join("-" * w for w in width))
    return "\n".join(lines)


def table_markdown(rows: list[Row]) -> str:
    out = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    out += ["| " + " | ".join(r.cells()) + " |" for r in rows]
    return "\n".join(out)


def _width(text: str) -> int:
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


# --- Projects ----------------------------------------------------------------


def copy_repo_project(dest: Path) -> Path:
    """The project of the measured checkout (issues/, and templates/ and fonts/ if present)."""
    for name in ("issues", "templates", "fonts"):
        if (CODE / name).is_dir():
            shutil.copytree(CODE / name, dest / name, symlinks=True)
    return dest


def pdf_pages(path: Path) -> int:
    import pikepdf

    with pikepdf.open(path) as pdf:
        return len(pdf.pages)


def edit_sentence(article: Path, tag: str) -> None:
    """A real content change: one sentence of the article's body gets different words."""
    text = article.read_text(encoding="utf-8")
    head, sep, body = text.partition("\n---\n")
    lines = body.split("\n")
    for i, line in enumerate(lines):
        if line.strip() and line.rstrip().endswith("。"):
            base = re.sub(r"（修改[^）]*）。$", "。", line.rstrip())
            lines[i] = base[:-1] + f"（修改{tag}）。"
            break
    else:
        raise SystemExit(f"{article} 里没有可改的句子")
    article.write_text(head + sep + "\n".join(lines), encoding="utf-8")


# --- a, e, typst ---------------------------------------------------------------


def measure_build(tmp: Path, runs: int, rows: dict[str, Row], want: set[str]) -> Path:
    project = copy_repo_project(tmp / "project")
    out = project / "build"
    for k in range(runs):
        shutil.rmtree(out, ignore_errors=True)
        progress(f"a：liandong build 13（第 {k + 1}/{runs} 次）")
        run = run_process([LIANDONG, "build", "13"], project)
        rows["a_time"].values.append(run.seconds)
        rows["a_mem"].values.append(run.max_rss_mb)
    pdf, page = out / "2024-13.pdf", out / "2024-13.html"
    if "e" in want:
        rows["e_pdf"].values.append(pdf.stat().st_size / 1024)
        rows["e_html"].values.append(page.stat().st_size / 1024)
    rows["a_pages"].values.append(pdf_pages(pdf))
    return project


def measure_typst(project: Path, tmp: Path, runs: int, rows: dict[str, Row]) -> None:
    if typst_issue is None:
        for key in ("t_time", "t_mem", "t_ratio", "t_pages", "t_size"):
            rows[key].note = TYPST_MISSING
        return
    out = tmp / "typst.pdf"
    for k in range(runs):
        out.unlink(missing_ok=True)
        progress(f"typst：benchmarks/typst_issue.py（第 {k + 1}/{runs} 次）")
        run = run_process(
            [sys.executable, str(BENCH / "typst_issue.py"), str(project), "13", str(out)], project
        )
        rows["t_time"].values.append(run.seconds)
        rows["t_mem"].values.append(run.max_rss_mb)
    rows["t_pages"].values.append(pdf_pages(out))
    rows["t_size"].values.append(out.stat().st_size / 1024)


# --- b: the preview server ---------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _events(port: int, into: queue.Queue, stop: threading.Event) -> None:
    """Read the server-sent events; put (perf_counter, generation) for every `data:` line."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    conn.request("GET", "/__liandong/events")
    response = conn.getresponse()
    into.put(("socket", conn))
    while not stop.is_set():
        try:
            line = response.fp.readline()
        except OSError:
            return
        if not line:
            return
        if line.startswith(b"data:"):
            into.put((time.perf_counter(), int(line[5:].strip())))


QUIET = 1.5
"""Seconds without an event after which a rebuild counts as finished."""


def _stat(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size


def _settle(events: queue.Queue, generation: int) -> int:
    """Wait until the server has been quiet for QUIET seconds; the last generation seen."""
    while True:
        try:
            _, generation = events.get(timeout=QUIET)
        except queue.Empty:
            return generation


def _wait_up(port: int, child: subprocess.Popen, limit: float) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise SystemExit(f"liandong serve 意外退出（退出状态 {child.returncode}）")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=limit)
            conn.request("GET", "/index.html")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("liandong serve 在限定时间内没有就绪")


def measure_serve(tmp: Path, issues: int, runs: int, rows: dict[str, Row]) -> None:
    project = tmp / "serve"
    made = generate.generate(project, issues, seed=2)
    article = made[-1].folder / "01.md"
    out = tmp / "serve-out"
    pdf = out / f"{made[-1].year}-{made[-1].number:02d}.pdf"
    port = free_port()
    progress(f"b：liandong serve（{issues} 期，端口 {port}），等待首次生成")
    log = open(tmp / "serve.log", "wb")  # noqa: SIM115 - closed in the finally below
    child = subprocess.Popen(
        [LIANDONG, "serve", "--port", str(port), "--out", str(out)],
        cwd=project,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    stop = threading.Event()
    events: queue.Queue = queue.Queue()
    try:
        _wait_up(port, child, 900)
        # The server answers at once and builds in the background: wait for the first build.
        deadline = time.monotonic() + 900
        while "无变化。" not in (tmp / "serve.log").read_text(encoding="utf-8", errors="replace"):
            if child.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("liandong serve 的首次生成没有完成")
            time.sleep(0.2)
        threading.Thread(target=_events, args=(port, events, stop), daemon=True).start()
        _, conn = events.get(timeout=30)
        _, generation = events.get(timeout=30)  # sent on connect
        for k in range(runs + 1):
            generation = _settle(events, generation)
            before = _stat(pdf)
            edit_sentence(article, f"甲{k}")
            saved = time.perf_counter()
            while True:  # the first reload after the save
                first, seen = events.get(timeout=120)
                if seen != generation:
                    generation = seen
                    break
            deadline = time.monotonic() + 120
            while _stat(pdf) == before:  # the PDF is written after the page, without a reload
                if time.monotonic() > deadline:
                    raise SystemExit(f"预览没有更新 {pdf.name}")
                time.sleep(0.005)
            last = time.perf_counter()
            if k:  # the first save is a warm-up
                rows["b_reload"].values.append(first - saved)
                rows["b_settled"].values.append(last - saved)
            progress(f"b：保存到刷新事件 {first - saved:.3f} s，到 PDF 更新 {last - saved:.3f} s")
        stop.set()
        conn.sock and conn.sock.shutdown(socket.SHUT_RDWR)
    finally:
        stop.set()
        child.send_signal(signal.SIGINT)
        try:
            child.wait(10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        log.close()
    if b"Traceback" in (tmp / "serve.log").read_bytes():
        raise SystemExit((tmp / "serve.log").read_text(encoding="utf-8", errors="replace"))

    # The same rebuild in this process, without the watcher's polling: Preview.rebuild().
    import logging

    from liandong.serve import Preview

    logging.getLogger("liandong").setLevel(logging.ERROR)
    preview = Preview(project, out, lambda message: None)
    preview.rebuild()  # nothing changed since the server: fonts resolved, renderer made
    for k in range(runs + 1):
        edit_sentence(article, f"乙{k}")
        start = time.perf_counter()
        preview.rebuild()
        elapsed = time.perf_counter() - start
        if preview.error:
            raise SystemExit(preview.error)
        if k:  # the first real rebuild warms WeasyPrint up
            rows["b_inproc"].values.append(elapsed)
        progress(f"b：进程内重建 {elapsed:.3f} s")


# --- c, d: the archive site --------------------------------------------------


def measure_site(
    tmp: Path,
    issues: int,
    runs_c: int,
    runs_d: int,
    rows: dict[str, Row],
    want: set[str],
    keep: Path | None = None,
) -> Path:
    """c and d; the site folder of the last cold build (for s). With keep, the archive, its
    site and the site's cache are copied there at the end (to look at them, or deploy them)."""
    project = tmp / "archive"
    progress(f"c：生成 {issues} 期的合成档案（不计时）")
    made = generate.generate(project, issues, seed=1)
    site = [LIANDONG, "site", "--out"]
    out = tmp / "site-0"
    for k in range(runs_c if "c" in want else 1):
        out = tmp / f"site-{k}"
        progress(f"c：liandong site，全部 {issues} 期，冷（第 {k + 1}/{runs_c} 次）")
        run = run_process([*site, str(out)], project)
        pdfs = len(list(out.glob("*.pdf")))
        if pdfs != issues:
            raise SystemExit(f"应有 {issues} 份 PDF，实际 {pdfs} 份：{out}")
        if "c" in want:
            rows["c_time"].values.append(run.seconds)
            rows["c_mem"].values.append(run.max_rss_mb)
            rows["c_tree"].values.append(run.tree_rss_mb)
            progress(f"c：{run.seconds:.1f} s")
        if k:
            shutil.rmtree(tmp / f"site-{k - 1}")
    if "d" not in want:
        _keep(keep, project, out)
        return out
    for k in range(runs_d):
        progress(f"d：liandong site，无变化（第 {k + 1}/{runs_d} 次）")
        run = run_process([*site, str(out)], project, expect="均无变化")
        rows["d_none"].values.append(run.seconds)
    step = max(1, len(made) // (runs_d + 1))
    for k in range(runs_d):
        edit_sentence(made[(k + 1) * step - 1].folder / "01.md", f"丙{k}")
        progress(f"d：liandong site，改动一期（第 {k + 1}/{runs_d} 次）")
        run = run_process([*site, str(out)], project, expect="重新生成 1 期")
        rows["d_one"].values.append(run.seconds)
    _keep(keep, project, out)
    return out


def _keep(keep: Path | None, project: Path, out: Path) -> None:
    if keep is None:
        return
    progress(f"保留合成档案和网站：{keep}")
    shutil.copytree(project / "issues", keep / "issues")
    shutil.copytree(out, keep / "site")
    shutil.copytree(out.with_name(out.name + "-cache"), keep / "site-cache")


# --- s: the site in a browser ---------------------------------------------------

SEARCH_QUERY = "乙烯"
THROTTLE = 4
"""CPU slow-down (chromium devtools Emulation.setCPUThrottlingRate), as on a phone."""
BROWSER_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


def site_pages_only(tmp: Path, issues: int) -> Path:
    """A generated archive's site without issue pages and PDFs (the same home, years, search
    page and search index as `liandong site` writes), for s without c's cold build."""
    import logging

    from liandong.site import SitePlan

    logging.getLogger("liandong").setLevel(logging.ERROR)
    project = tmp / "archive-s"
    progress(f"s：生成 {issues} 期的合成档案和网站的首页、年份页、搜索索引（不排各期）")
    generate.generate(project, issues, seed=1)
    out = tmp / "site-s"
    plan = SitePlan(project, out)
    plan.plan()
    plan.write_site(plan.site_files())
    return out


def _static_server(folder: Path):
    """A plain static host (no compression: the worst case for bytes) on 127.0.0.1."""
    import functools
    import http.server

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format, *args):  # noqa: A002 - http.server's own signature
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def measure_browser(site: Path, runs: int, rows: dict[str, Row]) -> None:
    from playwright.sync_api import sync_playwright

    rows["h_size"].values.append((site / "index.html").stat().st_size / 1024)
    server = _static_server(site)
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=BROWSER_ARGS)
            for k in range(runs):
                context = browser.new_context(viewport={"width": 375, "height": 800})  # empty cache
                page = context.new_page()
                cdp = context.new_cdp_session(page)
                cdp.send("Network.enable")
                cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
                received: dict[str, int] = {}
                urls: dict[str, str] = {}
                cdp.on(
                    "Network.requestWillBeSent",
                    lambda e, urls=urls: urls.__setitem__(e["requestId"], e["request"]["url"]),
                )
                cdp.on(
                    "Network.loadingFinished",
                    lambda e, received=received: received.__setitem__(
                        e["requestId"], e["encodedDataLength"]
                    ),
                )
                page.goto(url + "index.html")
                page.wait_for_load_state("networkidle")
                home = sum(received.values())
                received.clear()
                page.goto(url + "search.html")
                page.wait_for_load_state("networkidle")
                before_query = sum(received.values())
                cdp.send("Emulation.setCPUThrottlingRate", {"rate": THROTTLE})
                page.evaluate("""() => { window.__first = null; new MutationObserver(() => {
                    if (window.__first === null && document.querySelector('#search-results > li'))
                        window.__first = performance.now(); })
                    .observe(document.getElementById('search-results'), {childList: true}); }""")
                page.fill("#q", SEARCH_QUERY)
                page.evaluate(
                    "() => { window.__start = performance.now(); "
                    "document.getElementById('search-form').requestSubmit(); }"
                )
                page.wait_for_function("window.__first !== null", timeout=60_000)
                page.wait_for_selector("#search-results > li .snippets li", timeout=60_000)
                page.wait_for_load_state("networkidle")
                first = page.evaluate("window.__first - window.__start") / 1000
                total = sum(received.values())
                status = page.locator("#search-status").inner_text()
                shown = page.locator("#search-results > li").count()
                pieces = sorted(
                    u.split("/search/", 1)[1]
                    for rid, u in urls.items()
                    if "/search/" in u and rid in received
                )
                # The same query opened as an address (search.html?q=…): everything from the
                # navigation on, the page and its script included, with the CPU slowed down too.
                page.add_init_script("""window.__first = null; new MutationObserver(() => {
                    if (window.__first === null && document.querySelector('#search-results > li'))
                        window.__first = performance.now(); })
                    .observe(document, {childList: true, subtree: true});""")
                page.goto(url + "search.html?q=" + SEARCH_QUERY)
                page.wait_for_function("window.__first !== null", timeout=60_000)
                rows["s_url"].values.append(page.evaluate("window.__first") / 1000)
                cdp.send("Emulation.setCPUThrottlingRate", {"rate": 1})
                rows["h_bytes"].values.append(home / 1024)
                rows["s_bytes"].values.append(total / 1024)
                rows["s_query"].values.append((total - before_query) / 1024)
                rows["s_first"].values.append(first)
                progress(
                    f"s：“{SEARCH_QUERY}”：共下载 {total / 1024:.1f} KB（查询本身 "
                    f"{(total - before_query) / 1024:.1f} KB，{len(pieces)} 个索引文件）；"
                    f"第一条结果 {first * 1000:.0f} ms（CPU 降速 {THROTTLE} 倍）；{status}"
                    f"（本页 {shown} 期）"
                )
                if k == 0:
                    progress(f"s：下载的索引文件：{'、'.join(pieces)}")
                    for query in ("第13期", "714", "湘党简准字", "烯"):
                        page.goto(url + "search.html?q=" + query)
                        page.wait_for_selector("#search-results > li", timeout=60_000)
                        first_hit = page.locator("#search-results .issue-head a").first.inner_text()
                        progress(
                            f"s：“{query}”：{page.locator('#search-status').inner_text()}"
                            f"第一条：{first_hit}"
                        )
                context.close()
            browser.close()
    finally:
        server.shutdown()
        server.server_close()


# --- Main ----------------------------------------------------------------------


def make_rows(issues: int) -> dict[str, Row]:
    scaled = "" if issues == FULL_ISSUES else f"针对 {FULL_ISSUES} 期"
    return {
        "a_time": Row("a. liandong build 13，冷启动整个进程：用时", "s", target=1.0),
        "a_mem": Row("a. liandong build 13：峰值内存", "MB", digits=0),
        "a_pages": Row("a. liandong 第 13 期页数", "页", digits=0),
        "b_reload": Row("b. 预览：保存后到刷新事件（含监视延迟）", "s", target=0.3),
        "b_settled": Row("b. 预览：保存后到 PDF 写出（参考）", "s"),
        "b_inproc": Row("b. 预览：进程内热重建一期（Preview.rebuild，含 PDF）", "s", target=0.3),
        "c_time": Row(
            f"c. 全部 {issues} 期网站，冷，全部核心：用时",
            "s",
            target=60.0 if not scaled else None,
            note=scaled and "目标 ≤ 60 s " + scaled,
            digits=1,
        ),
        "c_mem": Row("c. 峰值内存（单个进程最大，wait4）", "MB", digits=0),
        "c_tree": Row("c. 峰值内存（进程树合计，每 50 ms 采样）", "MB", digits=0),
        "d_none": Row(f"d. {issues} 期网站，无变化", "s", target=1.0, note=scaled),
        "d_one": Row(f"d. {issues} 期网站，改动一期", "s", target=2.0, note=scaled),
        "s_bytes": Row(
            f"s. 搜索“{SEARCH_QUERY}”：打开搜索页到第一页结果全部显示，共下载（不压缩）",
            "KB",
            target=300.0,
            digits=1,
        ),
        "s_query": Row("s. 其中查询本身（索引片段、各期文字）", "KB", digits=1),
        "s_first": Row(
            f"s. 搜索“{SEARCH_QUERY}”：提交到第一条结果，CPU 降速 {THROTTLE} 倍",
            "s",
            target=0.3,
            digits=3,
        ),
        "s_url": Row(
            f"s. 打开 search.html?q={SEARCH_QUERY} 到第一条结果，CPU 降速 {THROTTLE} 倍（参考）",
            "s",
            digits=3,
        ),
        "h_size": Row("s. 首页 index.html 大小", "KB", target=150.0, digits=1),
        "h_bytes": Row("s. 打开首页共下载（HTML、CSS、图标，不压缩）", "KB", digits=1),
        "e_pdf": Row("e. 第 13 期 PDF 大小", "KB", target=250.0, digits=0),
        "e_html": Row("e. 第 13 期网页（HTML）大小（参考）", "KB", digits=1),
        "t_time": Row("Typst：同一期，冷启动整个进程：用时", "s"),
        "t_mem": Row("Typst：峰值内存", "MB", digits=0),
        "t_ratio": Row("用时比 liandong ÷ Typst（中位数）", "", digits=1),
        "t_pages": Row("Typst 第 13 期页数", "页", digits=0),
        "t_size": Row("Typst 第 13 期 PDF 大小（参考）", "KB", digits=0),
    }


ROWS_OF = {
    "a": ["a_time", "a_mem", "a_pages"],
    "b": ["b_reload", "b_settled", "b_inproc"],
    "c": ["c_time", "c_mem", "c_tree"],
    "d": ["d_none", "d_one"],
    "e": ["e_pdf", "e_html"],
    "s": ["s_bytes", "s_query", "s_first", "s_url", "h_size", "h_bytes"],
    "typst": ["t_time", "t_mem", "t_ratio", "t_pages", "t_size"],
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="liandong 性能测试：每项取多次运行的中位数、最小和最大值，打印成表。",
        epilog="测量项目：a 生成第 13 期（冷启动）；b 预览服务热重建；c 全部各期网站（冷）；"
        "d 网站无变化、改动一期；e 第 13 期 PDF 大小；s 浏览器里的搜索和首页（720 期）；"
        "typst 用 Typst 排同一期作对比。",
    )
    parser.add_argument(
        "--runs",
        type=int,
        default=None,
        help="每项运行次数（默认 a、b、e、s、typst 各 5 次，c、d 各 3 次）",
    )
    parser.add_argument(
        "--issues", type=int, default=None, help=f"c、d 的合成档案期数（默认 {FULL_ISSUES}）"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"快速试运行：{QUICK_ISSUES} 期、每项 3 次、预览 {QUICK_SERVE_ISSUES} 期",
    )
    parser.add_argument(
        "--only", default=",".join(MEASURES), help="只测这些项目，逗号分隔（a,b,c,d,e,s,typst）"
    )
    parser.add_argument(
        "--markdown", type=Path, default=None, help="另把表格写入这个 Markdown 文件"
    )
    parser.add_argument(
        "--keep",
        type=Path,
        default=None,
        metavar="DIR",
        help="把 c 生成的合成档案（issues/）、网站（site/）和缓存（site-cache/）复制到 DIR"
        "（DIR 必须还不存在），供查看或部署",
    )
    args = parser.parse_args(argv)
    want = {m.strip() for m in args.only.split(",") if m.strip()}
    if unknown := want - set(MEASURES):
        parser.error(f"未知的项目：{', '.join(sorted(unknown))}（可用：{','.join(MEASURES)}）")
    if LIANDONG is None:
        parser.error("找不到 liandong 命令：请用 .venv/bin/python 运行")
    if args.keep is not None and args.keep.exists():
        parser.error(f"--keep {args.keep} 已经存在")
    issues = args.issues or (QUICK_ISSUES if args.quick else FULL_ISSUES)
    runs_small = args.runs or (3 if args.quick else 5)
    runs_big = args.runs or 3
    serve_issues = QUICK_SERVE_ISSUES if args.quick else SERVE_ISSUES
    rows = make_rows(issues)

    started = time.perf_counter()
    load = "、".join(f"{x:.1f}" for x in os.getloadavg())
    mach = machine() + f"；开始时负载 {load}（1、5、15 分钟平均）"  # the code as it was measured
    with tempfile.TemporaryDirectory(prefix="liandong-bench-") as name:
        tmp = Path(name)
        if want & {"a", "e", "typst"}:
            a_tmp = tmp / "a"
            a_tmp.mkdir()
            project = measure_build(a_tmp, runs_small if "a" in want else 1, rows, want)
            if "typst" in want:
                measure_typst(project, a_tmp, runs_small, rows)
                if rows["t_time"].values and rows["a_time"].values:
                    rows["t_ratio"].values.append(
                        statistics.median(rows["a_time"].values)
                        / statistics.median(rows["t_time"].values)
                    )
        if "b" in want:
            (tmp / "b").mkdir()
            measure_serve(tmp / "b", serve_issues, runs_small, rows)
        site = None
        if want & {"c", "d"}:
            (tmp / "c").mkdir()
            site = measure_site(tmp / "c", issues, runs_big, runs_big, rows, want, args.keep)
        if "s" in want:
            if site is None:
                (tmp / "s").mkdir()
                site = site_pages_only(tmp / "s", issues)
            measure_browser(site, runs_small, rows)

    shown = [rows[key] for m in MEASURES if m in want for key in ROWS_OF[m]]
    if "a" not in want and "typst" in want:
        shown = [r for r in shown if r is not rows["t_ratio"]]
    small = "、".join(m for m in ("a", "b", "e", "s", "typst") if m in want)
    big = "、".join(m for m in ("c", "d") if m in want)
    runs_note = (
        "每项运行次数："
        + "，".join(
            filter(None, [small and f"{small} {runs_small} 次", big and f"{big} {runs_big} 次"])
        )
        + "。"
        + (f"c、d、s 为 {issues} 期合成档案。" if want & {"c", "d", "s"} else "")
        + (f"b 为 {serve_issues} 期合成档案。" if "b" in want else "")
    )
    total = time.perf_counter() - started
    print(table_text(shown))
    print(f"\n机器：{mach}\n{runs_note}总用时 {total:.0f} s。")
    if args.markdown:
        from liandong.files import write_atomic

        text = table_markdown(shown) + f"\n\n机器：{mach}\n\n{runs_note}\n"
        write_atomic(args.markdown, text.encode("utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
