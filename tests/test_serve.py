"""`liandong serve`: a real server in a subprocess, rebuilding on save and showing errors in the page."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from conftest import add_issue, liandong, make_project

WAIT = 120  # seconds allowed for the server to start or react: a limit for hangs, not a timing


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8")


def wait_for(url: str, condition, server: subprocess.Popen) -> str:
    """The page once condition(page) holds; fails if the server dies or never gets there."""
    deadline = time.monotonic() + WAIT
    last = ""
    while time.monotonic() < deadline:
        assert server.poll() is None, "the preview server stopped"
        try:
            _, last = fetch(url)
            if condition(last):
                return last
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise AssertionError(f"page never met the condition; last page:\n{last[-2000:]}")


@pytest.fixture
def served(tmp_path):
    project = make_project(tmp_path / "project")
    port = free_port()
    exe = Path(sys.executable).with_name("liandong")
    with open(tmp_path / "stdout.txt", "w") as stdout, open(tmp_path / "stderr.txt", "w") as stderr:
        server = subprocess.Popen(
            [str(exe), "serve", "--port", str(port)],
            cwd=project,
            stdout=stdout,
            stderr=stderr,
            text=True,
        )
    server.stdout_path, server.stderr_path = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_for(url + "2024-13.html", lambda page: "乙烯" in page, server)
        yield project, url, server
    finally:
        server.terminate()
        server.wait(timeout=30)


def raw_get(port: int, path: str, host: str) -> tuple[int, str]:
    """A request with any Host header and any path, as a browser of another site could send."""
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.putrequest("GET", path, skip_host=True)
    conn.putheader("Host", host)
    conn.endheaders()
    response = conn.getresponse()
    body = response.read().decode("utf-8", "replace")
    conn.close()
    return response.status, body


def test_rebuilds_on_save_shows_errors_and_recovers(served):
    project, url, server = served
    page = fetch(url + "2024-13.html")[1]
    assert "EventSource" in page  # the reload script, in served pages only
    assert "EventSource" not in (project / "build" / "preview" / "2024-13.html").read_text(
        encoding="utf-8"
    )
    assert not (project / "build" / "site").exists()  # the preview is never the site to publish

    article = project / "issues" / "2024" / "13" / "01.md"
    good = article.read_text(encoding="utf-8")
    article.write_text(good.replace("乙烯", "丙烯"), encoding="utf-8")
    page = wait_for(url + "2024-13.html", lambda p: "丙烯" in p, server)
    assert "乙烯" not in page

    meta = project / "issues" / "2024" / "13" / "issue.yaml"
    meta_text = meta.read_text(encoding="utf-8")
    meta.write_text(meta_text + "日其: 1\n", encoding="utf-8")
    page = wait_for(url + "2024-13.html", lambda p: "稿件有错误" in p, server)
    assert "issues/2024/13/issue.yaml:12:1: 未知的设置“日其”，是不是“日期”？" in page
    assert "共 1 处错误，未生成任何文件。" in page
    assert "稿件有错误" in fetch(url)[1]  # every page shows it, the home page too

    meta.write_text(meta_text, encoding="utf-8")
    page = wait_for(url + "2024-13.html", lambda p: "稿件有错误" not in p, server)
    assert "丙烯" in page
    assert server.poll() is None


def test_answers_only_to_loopback_host_names(served):
    """Against DNS rebinding: a page of another site, resolved to 127.0.0.1, sends its own host
    name and gets a plain 400, not the drafts."""
    _, url, server = served
    port = int(url.rsplit(":", 1)[1].strip("/"))
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"LOCALHOST:{port}"):
        status, body = raw_get(port, "/2024-13.html", host)
        assert status == 200 and "乙烯" in body, host
    for host in (
        "attacker.example",
        f"attacker.example:{port}",
        "127.0.0.1",
        f"127.0.0.1:{port + 1}",
        "",
    ):
        status, body = raw_get(port, "/2024-13.html", host)
        assert status == 400, host
        assert "乙烯" not in body and body == "400 请求无效\n"
    assert server.poll() is None


@pytest.mark.parametrize(
    "path, status",
    [
        ("/%00.html", 400),
        ("/%00", 400),
        ("/a%00b.pdf", 400),
        ("/%ff%fe.html", 404),
        ("/../../etc/passwd", 404),
        ("/search/", 404),
        ("/no-such-file.js", 404),
    ],
)
def test_a_bad_request_is_a_plain_error_without_a_traceback(served, path, status):
    _, url, server = served
    port = int(url.rsplit(":", 1)[1].strip("/"))
    got, body = raw_get(port, path, f"127.0.0.1:{port}")
    assert got == status
    assert "Traceback" not in body and "Error response" not in body
    assert server.poll() is None
    assert "Traceback" not in server.stderr_path.read_text()


def test_serves_only_on_the_loopback_address(served):
    _, url, server = served
    port = int(url.rsplit(":", 1)[1].strip("/"))
    listening = []  # local addresses of the sockets listening on the port, from the kernel's table
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:
                listening.append(address)
    assert listening == ["0100007F"]  # 127.0.0.1 only, no IPv6, no 0.0.0.0
    assert server.poll() is None


def test_browser_reloads_after_a_save(served, browser):
    project, url, _ = served
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url + "2024-13.html")
    article = project / "issues" / "2024" / "13" / "01.md"
    article.write_text(
        article.read_text(encoding="utf-8").replace("乙烯", "丁烯"), encoding="utf-8"
    )
    page.wait_for_function("document.body.innerText.includes('丁烯')", timeout=WAIT * 1000)
    page.close()
    assert errors == []


def test_a_taken_port_is_reported_in_chinese(tmp_path):
    project = make_project(tmp_path / "project")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        exe = Path(sys.executable).with_name("liandong")
        result = subprocess.run(
            [str(exe), "serve", "--port", str(port)],
            cwd=project,
            capture_output=True,
            text=True,
            timeout=WAIT,
        )
    assert result.returncode == 1
    assert (
        result.stderr
        == f"错误：无法在 127.0.0.1:{port} 上提供预览：端口已被占用，可用 --port 换一个端口。\n"
    )


def test_an_edit_shows_in_the_page_before_the_pdf_is_rendered(tmp_path):
    """The preview's rebuild: the page first (one reload), then the PDF, without a second
    reload; the PDF and the manifest end up as `liandong site` leaves them."""
    import pikepdf

    from liandong.serve import Preview
    from liandong.site import MANIFEST, cache_folder

    project = make_project(tmp_path / "project")
    out = tmp_path / "site"
    preview = Preview(project, out, lambda line: None)
    preview.rebuild()
    assert preview.generation == 1 and preview.error is None
    manifest = (cache_folder(out) / MANIFEST).read_text(encoding="utf-8")
    article = project / "issues" / "2024" / "13" / "01.md"
    article.write_text(
        article.read_text(encoding="utf-8").replace("乙烯项目", "丙烯项目", 1), encoding="utf-8"
    )

    seen = []  # (generation, page says 丙烯, PDF says 丙烯) at each reload
    original = preview.changed.notify_all

    def notify():
        pdf_text = _pdf_text(out / "2024-13.pdf")
        seen.append(
            (
                preview.generation,
                "丙烯项目" in (out / "2024-13.html").read_text(encoding="utf-8"),
                "丙烯项目" in pdf_text,
            )
        )
        original()

    preview.changed.notify_all = notify
    preview.rebuild()
    assert seen == [(2, True, False)]  # one reload, when the page had the edit and the PDF not yet
    assert preview.generation == 2 and preview.error is None
    assert "丙烯项目" in _pdf_text(out / "2024-13.pdf")
    assert (cache_folder(out) / MANIFEST).read_text(encoding="utf-8") != manifest
    with pikepdf.open(out / "2024-13.pdf"):
        pass


def _pdf_text(path) -> str:
    import pdfplumber

    with pdfplumber.open(path) as pdf:
        return "".join(page.extract_text() for page in pdf.pages).replace("\n", "")


def test_pages_only_build_leaves_the_pdf_and_the_manifest_alone(tmp_path):
    from liandong.site import MANIFEST, build_site, cache_folder

    project = make_project(tmp_path / "project")
    out = tmp_path / "site"
    build_site(project, out)
    pdf, manifest = (out / "2024-13.pdf").read_bytes(), (cache_folder(out) / MANIFEST).read_bytes()
    article = project / "issues" / "2024" / "13" / "01.md"
    article.write_text(
        article.read_text(encoding="utf-8").replace("乙烯项目", "丙烯项目", 1), encoding="utf-8"
    )
    result = build_site(project, out, pdfs=False)
    assert result.rendered == ["2024-13"]
    assert "丙烯项目" in (out / "2024-13.html").read_text(encoding="utf-8")
    assert (out / "2024-13.pdf").read_bytes() == pdf
    assert (cache_folder(out) / MANIFEST).read_bytes() == manifest
    again = build_site(project, out)  # the full build still renders the issue
    assert again.rendered == ["2024-13"] and (out / "2024-13.pdf").read_bytes() != pdf


def test_a_save_in_one_issue_reloads_with_only_that_page_then_updates_the_rest(tmp_path):
    """When the watcher knows the save lay in one issue folder, the first step renders only
    that page (no hashing of the archive, no home or search page); the second does the rest."""
    from liandong.serve import Preview

    project = make_project(tmp_path / "project")
    out = tmp_path / "site"
    preview = Preview(project, out, lambda line: None)
    preview.rebuild()
    article = project / "issues" / "2024" / "13" / "01.md"
    article.write_text(
        article.read_text(encoding="utf-8").replace("乙烯项目", "丙烯项目", 1), encoding="utf-8"
    )
    seen = []
    original = preview.changed.notify_all

    def notify():
        seen.append(
            (
                "丙烯项目" in (out / "2024-13.html").read_text(encoding="utf-8"),
                "丙烯项目" in (out / "search" / "t" / "2024-13.js").read_text(encoding="utf-8"),
            )
        )
        original()

    preview.changed.notify_all = notify
    preview.rebuild({str(article)})
    assert seen == [(True, False)]  # reloaded when the page had the edit, the search not yet
    assert "丙烯项目" in (out / "search" / "t" / "2024-13.js").read_text(encoding="utf-8")
    assert "丙烯项目" in _pdf_text(out / "2024-13.pdf")


def test_a_save_outside_the_issue_folders_rebuilds_every_page_first(tmp_path):
    from liandong.serve import Preview

    project = make_project(tmp_path / "project")
    preview = Preview(project, tmp_path / "site", lambda line: None)
    issues = project / "issues"
    assert preview._issue_folders({str(issues / "2024" / "13" / "01.md")}) == [
        issues / "2024" / "13"
    ]
    for elsewhere in (
        issues / "series.yaml",
        project / "templates" / "print.css",
        issues / "2024" / "14" / "01.md",
    ):  # shared files, a folder that is gone
        assert (
            preview._issue_folders({str(issues / "2024" / "13" / "01.md"), str(elsewhere)}) is None
        )


def test_the_first_build_serves_first_what_the_browser_asks_for(tmp_path):
    """The server answers at once: the site's own pages come from the sources alone, a page the
    browser asks for is rendered before the others, the rest follows in the background with
    its progress on the terminal and in the page."""
    from liandong.serve import Preview

    project = make_project(tmp_path / "project")
    add_issue(project, 2024, 12, 713, "2024-08-15")
    add_issue(project, 2023, 20, 690, "2023-12-20")
    out = tmp_path / "preview"
    said: list[str] = []
    preview = Preview(project, out, said.append)
    assert b"\xe6\xad\xa3\xe5\x9c\xa8\xe5\x87\x86\xe5\xa4\x87" in preview.page(None)  # 正在准备
    preview.prepare()
    assert (out / "index.html").is_file() and (out / "search.html").is_file()
    assert not list(out.glob("20*-*.html")) and not list(out.glob("*.pdf"))
    served = preview.page("<body>\n<p>x</p></body>").decode("utf-8")
    assert "预览正在后台生成：网页 0/3，PDF 0/3" in served
    preview.ensure("2023-20")  # what the browser asked for
    assert sorted(p.name for p in out.glob("20*-*.*")) == ["2023-20.html"]
    preview.build_rest()
    assert sorted(p.name for p in out.glob("20*-*.*")) == [
        "2023-20.html",
        "2023-20.pdf",
        "2024-12.html",
        "2024-12.pdf",
        "2024-13.html",
        "2024-13.pdf",
    ]
    assert preview.note is None and "预览正在后台生成" not in preview.page("<body></body>").decode()
    assert said[0] == "预览：共 3 期，3 期需要重新生成，在后台进行；浏览器打开的页面优先生成。"
    assert "预览：网页 3/3，PDF 3/3" in said
    assert said[-1] == "重新生成 3 期，0 期无变化。"
    # The manifest is written: a second preview has nothing left to do.
    again = Preview(project, out, said.append)
    again.prepare()
    assert again.plan.changed == [] and again.note is None


def test_the_preview_shows_drafts_marked_as_drafts(tmp_path):
    from liandong.serve import Preview

    project = make_project(tmp_path / "project")
    liandong("new", "--date", "2024-09-06", cwd=project, check=True)
    out = tmp_path / "preview"
    preview = Preview(project, out, lambda line: None)
    preview.rebuild()
    assert preview.error is None
    page = (out / "2024-14.html").read_text(encoding="utf-8")
    assert "草稿：本期尚未签发" in page
    assert "草稿：本期尚未签发" not in (out / "2024-13.html").read_text(encoding="utf-8")
    assert '<span class="draft-tag">草稿</span>' in (out / "index.html").read_text(encoding="utf-8")
    assert "2024-14" in (out / "search" / "meta.js").read_text(encoding="utf-8")
