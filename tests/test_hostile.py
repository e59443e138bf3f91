"""Hostile sources and project files: each case is refused with a clear message or neutralised,
and nothing outside the project is read or requested while rendering.

Fixtures: tests/fixtures/hostile/<case>/ (issues/ files that replace the sample's and, for error
cases, expected.txt), or generated here when the case is about size."""

from __future__ import annotations

import http.server
import os
import re
import shutil
import subprocess
import sys
import threading
from html.parser import HTMLParser
from pathlib import Path
from typing import ClassVar

import pdfplumber
import pikepdf
import pytest

from conftest import FIXTURES, REPO, liandong, make_project
from liandong import limits
from test_validate import expected_lines, overrides, problem_lines

CASES = FIXTURES / "hostile"
ISSUE = "issues/2024/13/issue.yaml"
ARTICLE = "issues/2024/13/01.md"
SERIES = "issues/series.yaml"


def build(root: Path, *args: str) -> subprocess.CompletedProcess:
    return liandong("build", *(args or ("13",)), "--out", str(root / "out"), cwd=root)


def error(stderr: str) -> str:
    """The one error liandong printed, without the machine-dependent font notice."""
    return "\n".join(problem_lines(stderr)).strip()


def error_cases() -> list[str]:
    return sorted(p.name for p in CASES.iterdir() if (p / "expected.txt").is_file())


@pytest.mark.parametrize("name", error_cases())
def test_hostile_source_is_refused_with_a_clear_message(name: str, tmp_path: Path) -> None:
    case = CASES / name
    root = make_project(tmp_path, overrides=overrides(case))
    result = build(root)
    printed = problem_lines(result.stderr)
    assert printed == expected_lines(case, root, printed)
    assert result.returncode == 1
    assert not (root / "out").exists()


# --- Recording what a render touches ------------------------------------------------------


class Recorder(http.server.BaseHTTPRequestHandler):
    """A local server that answers every request and remembers it."""

    requests: ClassVar[list[str]] = []

    def do_GET(self):  # http.server's naming
        Recorder.requests.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "text/css")
        self.end_headers()
        self.wfile.write(b"body { color: red }")

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    Recorder.requests = []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd.server_address[1], Recorder.requests
    httpd.shutdown()
    httpd.server_close()


class _Audit:
    """Python audit events (files opened, sockets, URL requests) while recording is on."""

    events: list[tuple[str, tuple]] | None = None
    installed = False

    @classmethod
    def hook(cls, event: str, args: tuple) -> None:
        if cls.events is not None and (event == "open" or event.startswith(("socket.", "urllib."))):
            cls.events.append((event, args))

    @classmethod
    def record(cls):
        if not cls.installed:
            sys.addaudithook(cls.hook)  # permanent for the process: gated by `events`
            cls.installed = True
        cls.events = []
        return cls

    @classmethod
    def stop(cls) -> list[tuple[str, tuple]]:
        events, cls.events = cls.events, None
        return events or []


def opened(events) -> set[Path]:
    paths = set()
    for event, args in events:
        if event == "open" and isinstance(args[0], (str, bytes, os.PathLike)):
            path = os.fsdecode(args[0])
            paths.add(Path(path).resolve() if os.path.isabs(path) else Path(path))
    return paths


def tiny_png(path: Path) -> None:
    from PIL import Image

    Image.new("RGB", (4, 4), (200, 0, 0)).save(path)


@pytest.fixture
def sandbox(tmp_path: Path) -> dict[str, Path]:
    """A project whose issue folder holds an image and a link to a canary file outside."""
    outside = tmp_path / "outside"
    outside.mkdir()
    canary = outside / "canary.txt"
    canary.write_text("secret", encoding="utf-8")
    issue = tmp_path / "project" / "issues" / "2024" / "13"
    issue.mkdir(parents=True)
    tiny_png(issue / "ok.png")
    (issue / "escape.png").symlink_to(canary)
    return {"issue": issue, "canary": canary, "project": tmp_path / "project"}


def pdf_objects(pdf: pikepdf.Pdf):
    """Every dictionary of the PDF, streams' dictionaries and direct (nested) ones included: a
    link's action is a dictionary inside its annotation, not an object of its own."""
    stack = list(pdf.objects)
    while stack:
        obj = stack.pop()
        if isinstance(obj, pikepdf.Stream):
            obj = obj.stream_dict
        if isinstance(obj, pikepdf.Dictionary):
            yield obj
            stack += [value for value in obj.values() if _direct_container(value)]
        elif isinstance(obj, pikepdf.Array):
            stack += [value for value in obj if _direct_container(value)]


def _direct_container(value) -> bool:
    return isinstance(value, (pikepdf.Dictionary, pikepdf.Array)) and not value.is_indirect


FORBIDDEN_PDF_KEYS = {
    "/JavaScript",
    "/JS",
    "/EmbeddedFiles",
    "/EmbeddedFile",
    "/Launch",
    "/URI",
    "/AA",
    "/OpenAction",
    "/Filespec",
    "/FileAttachment",
    "/RichMedia",
}


def assert_inert_pdf(path_or_bytes) -> None:
    source = (
        path_or_bytes
        if isinstance(path_or_bytes, Path)
        else __import__("io").BytesIO(path_or_bytes)
    )
    with pikepdf.open(source) as pdf:
        for obj in pdf_objects(pdf):
            keys = set(obj.keys())
            assert not keys & FORBIDDEN_PDF_KEYS, keys & FORBIDDEN_PDF_KEYS
            for key in ("/Type", "/S", "/Subtype"):
                assert str(obj.get(key, "")) not in FORBIDDEN_PDF_KEYS


def test_render_reads_only_allowed_files_and_opens_no_connection(sandbox, server, caplog):
    from liandong.pdf import PdfRenderer

    port, requests = server
    issue, canary = sandbox["issue"], sandbox["canary"]
    html = (CASES / "fetcher_escapes" / "page.html").read_text(encoding="utf-8")
    html = (
        html.replace("{port}", str(port))
        .replace("{canary_uri}", canary.as_uri())
        .replace("{canary}", str(canary))
        .replace("{issue}", str(issue))
    )
    renderer = PdfRenderer()
    audit = _Audit.record()
    try:
        pdf = renderer.render(html, issue, [issue])
    finally:
        events = audit.stop()

    files = opened(events)
    assert canary.resolve() not in files
    assert Path("/etc/passwd") not in files
    # The control: the image inside the issue folder was read, so the hook does see the fetcher.
    assert (issue / "ok.png").resolve() in files
    assert [e for e, _ in events if e.startswith(("socket.", "urllib."))] == []
    assert requests == []
    refused = " ".join(r.getMessage() for r in caplog.records if r.name == "liandong.pdf")
    for url in (
        "http://169.254.169.254/latest/meta-data/",
        f"http://127.0.0.1:{port}/img.png",
        f"https://127.0.0.1:{port}/https.png",
        f"ftp://127.0.0.1:{port}/ftp.png",
        f"http://127.0.0.1:{port}/inline.png",
        f"http://127.0.0.1:{port}/style.css",
        "file:///etc/passwd",
        canary.as_uri(),
        f"file://{issue}/escape.png",
        f"http://127.0.0.1:{port}/base/relative.png",
        "data:image/svg+xml",
    ):
        assert url in refused, url
    assert_inert_pdf(pdf)
    with pikepdf.open(__import__("io").BytesIO(pdf)) as doc:
        images = [
            name
            for page in doc.pages
            for name, xobj in page.resources.get("/XObject", {}).items()
            if xobj.get("/Subtype") == "/Image"
        ]
    assert len(images) == 1  # ok.png, nothing else


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/",
        "https://example.org/x.png",
        "ftp://127.0.0.1/x",
        "data:text/plain,secret",
        "javascript:alert(1)",
        "file:///etc/passwd",
        "file://{canary}",
        "file://localhost{canary}",
        "file://evil.example{issue}/ok.png",
        "file://{issue}/../../../../outside/canary.txt",
        "file://{issue}/%2e%2e/%2e%2e/%2e%2e/%2e%2e/outside/canary.txt",
        "file://{issue}/%2E%2E%2F%2E%2E%2F%2E%2E%2F%2E%2E%2Foutside/canary.txt",
        "file://{issue}/escape.png",
        "file://{issue}/ok.png%00",
        "file://{issue}",
        "file://{issue}-evil/ok.png",
        "file:ok.png",
        "file://{issue}/%ff.png",
    ],
)
def test_fetcher_refuses_every_way_out(url: str, sandbox) -> None:
    from liandong.pdf import ProjectFetcher

    issue, canary = sandbox["issue"], sandbox["canary"]
    evil = Path(f"{issue}-evil")
    evil.mkdir()
    tiny_png(evil / "ok.png")
    fetcher = ProjectFetcher([issue])
    url = url.replace("{issue}", str(issue)).replace("{canary}", str(canary))
    audit = _Audit.record()
    try:
        with pytest.raises(ValueError, match="refused by liandong"):
            fetcher.fetch(url)
    finally:
        events = audit.stop()
    assert fetcher.refused == [url]
    assert canary.resolve() not in opened(events)


def test_a_missing_file_inside_the_project_is_missing_not_refused(sandbox) -> None:
    """A designer's typo in templates/ is reported as a missing file, not as a way out."""
    from liandong.pdf import ProjectFetcher

    issue = sandbox["issue"]
    fetcher = ProjectFetcher([issue])
    url = f"file://{issue}/missing.png"
    with pytest.raises(ValueError, match="refused by liandong"):
        fetcher.fetch(url)
    assert fetcher.missing == [url] and fetcher.refused == []


@pytest.mark.parametrize(
    "url",
    [
        "file://{issue}/ok.png",
        "file://localhost{issue}/ok.png",
        "file://{issue}/sub/../ok.png",
        "file://{issue}/%6Fk.png",
    ],
)
def test_fetcher_serves_files_inside_the_allowed_folder(url: str, sandbox) -> None:
    from liandong.pdf import ProjectFetcher

    issue = sandbox["issue"]
    (issue / "sub").mkdir()
    response = ProjectFetcher([issue]).fetch(url.replace("{issue}", str(issue)))
    assert response.read() == (issue / "ok.png").read_bytes()
    assert response.content_type == "image/png"


def test_a_hostile_template_reads_nothing_outside_even_in_c(tmp_path: Path, server) -> None:
    """The whole command under strace: no file outside the project is opened by any code (fonts
    and libraries are read by C code that Python's audit hook cannot see), no socket connected."""
    port, requests = server
    outside = tmp_path / "outside"
    outside.mkdir()
    canary = outside / "canary.txt"
    canary.write_text("secret", encoding="utf-8")
    root = make_project(tmp_path / "project")
    template = (CASES / "template_fetches_outside" / "templates" / "print.html").read_text(
        encoding="utf-8"
    )
    (root / "templates").mkdir()
    (root / "templates" / "print.html").write_text(
        template.replace("PORT", str(port)).replace("CANARY", str(canary)), encoding="utf-8"
    )
    trace = tmp_path / "trace.txt"
    exe = Path(sys.executable).with_name("liandong")
    result = subprocess.run(
        [
            "strace",
            "-f",
            "-qq",
            "-e",
            "trace=open,openat,openat2,connect",
            "-o",
            str(trace),
            str(exe),
            "build",
            "13",
            "--out",
            str(root / "out"),
        ],
        cwd=root,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "已拒绝读取项目之外的资源" in result.stderr
    calls = trace.read_text()
    assert "open" in calls  # strace did record the run
    assert str(canary) not in calls
    assert "canary.txt" not in calls
    assert "connect(" not in calls
    assert requests == []
    assert_inert_pdf(root / "out" / "2024-13.pdf")


# --- Markup in every text field -------------------------------------------------------------


class _Elements(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self._in_style = False
        self.style = ""

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))
        self._in_style = tag == "style"

    def handle_endtag(self, tag):
        self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.style += data
        else:
            self.text.append(data)


WEB_TAGS = {
    "html",
    "head",
    "meta",
    "title",
    "style",
    "body",
    "header",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "p",
    "span",
    "time",
    "main",
    "section",
    "article",
    "strong",
    "footer",
    "a",
    "br",
    "div",
}
"""What web.html itself writes; a source can add none."""

SHOWN = [
    '委<base href="http://10.0.0.1/">',
    '湘<iframe src="javascript:alert(1)">',
    "标题<script>alert(1)</script>",
    '<iframe src="file:///etc/passwd"></iframe>',
    '<link rel="attachment" href="file:///etc/passwd">',
    "[链接](javascript:alert(1))",
    "![图片](http://169.254.169.254/x.png)",
    "<http://169.254.169.254/>",
    "实体&lt;script&gt;alert(1)&lt;/script&gt;、&#60;iframe&#62;、&#x3C;base&#x3E;、&amp;。",
    "<b onmouseover=alert(1)>加粗</b>",
    "{{ 7 * 7 }}{% include 'print.css' %}",
    "王小益<img src=x onerror=alert(1)>",
    "单位<style>body{display:none}</style>",
]
"""Source text that must come out as visible characters, exactly as written."""


@pytest.fixture(scope="module")
def markup_build(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("markup")
    case = CASES / "markup_in_every_field"
    root = make_project(tmp, overrides=overrides(case))
    result = build(root)
    assert result.returncode == 0, result.stderr
    return root / "out"


def test_markup_in_sources_never_becomes_html(markup_build):
    parser = _Elements()
    parser.feed((markup_build / "2024-13.html").read_text(encoding="utf-8"))
    tags = [tag for tag, _ in parser.elements]
    assert set(tags) <= WEB_TAGS
    assert tags.count("style") == 1 and tags.count("a") == 1
    for tag, attrs in parser.elements:
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, name)
            assert name not in ("src", "srcset", "data", "style", "rel"), (tag, name)
            assert "javascript" not in (value or "").lower(), (tag, name, value)
    assert [attrs["href"] for tag, attrs in parser.elements if "href" in attrs] == ["2024-13.pdf"]
    assert "display:none" not in parser.style and "169.254" not in parser.style
    text = "".join(parser.text)
    for shown in SHOWN:
        assert shown in text, shown
    assert "49" not in text  # {{ 7 * 7 }} was not evaluated


def test_markup_in_sources_prints_as_text_and_the_pdf_is_inert(markup_build):
    pdf = markup_build / "2024-13.pdf"
    assert_inert_pdf(pdf)
    with pdfplumber.open(pdf) as doc:
        text = re.sub(r"\s", "", "".join(page.extract_text() or "" for page in doc.pages))
    for shown in SHOWN:
        if not shown.startswith("代表工作委员会"):  # the masthead's meta line shares its row
            assert re.sub(r"\s", "", shown) in text, shown


def test_markup_sources_request_nothing(tmp_path: Path, server) -> None:
    port, requests = server
    case = CASES / "markup_in_every_field"
    files = {
        name: data.replace(b"127.0.0.1:9", f"127.0.0.1:{port}".encode())
        for name, data in overrides(case).items()
    }
    root = make_project(tmp_path, overrides=files)
    result = build(root)
    assert result.returncode == 0, result.stderr
    assert "已拒绝" not in result.stderr  # escaped markup asks for nothing to refuse
    assert requests == []


# --- Paths: issue arguments, symbolic links, outputs ---------------------------------------------


@pytest.mark.parametrize(
    "selector",
    ["../13", "/etc", "2024/../../x", "2024/13/../../../13", "./13", "%2e%2e/13", "13/", "~/13"],
)
def test_issue_argument_cannot_name_a_path(selector: str, tmp_path: Path) -> None:
    root = make_project(tmp_path)
    result = build(root, selector)
    assert result.returncode == 1
    assert error(result.stderr) == f"错误：无法识别期号“{selector}”：请写作 13 或 2024/13。"
    assert not (root / "out").exists()


def outside_issue(tmp_path: Path) -> Path:
    """A complete issue folder outside the project."""
    folder = tmp_path / "elsewhere" / "14"
    shutil.copytree(REPO / "issues" / "2024" / "13", folder)
    issue = folder / "issue.yaml"
    issue.write_text(
        issue.read_text(encoding="utf-8").replace("期号: 13", "期号: 14"), encoding="utf-8"
    )
    return folder


def test_an_issue_folder_linked_from_outside_is_refused(tmp_path: Path) -> None:
    root = make_project(tmp_path / "project")
    folder = outside_issue(tmp_path)
    (root / "issues" / "2024" / "14").symlink_to(folder)
    for args in (("14",), ("--all",)):
        result = build(root, *args)
        assert result.returncode == 1
        assert error(result.stderr) == (
            f"错误：出于安全考虑，不读取指向项目之外的符号链接：issues/2024/14（指向 {folder}）。"
            "请把这一期的文件放进项目的 issues/ 文件夹。"
        )
        assert not (root / "out").exists()


def test_a_year_folder_linked_from_outside_is_refused(tmp_path: Path) -> None:
    root = make_project(tmp_path / "project")
    folder = outside_issue(tmp_path)
    (root / "issues" / "2025").symlink_to(folder.parent)
    result = build(root, "2025/14")
    assert result.returncode == 1
    assert "不读取指向项目之外的符号链接：issues/2025/14" in result.stderr


def test_a_link_inside_the_project_is_followed(tmp_path: Path) -> None:
    # Links are judged by where they lead: one that stays in the project is an ordinary file.
    root = make_project(tmp_path)
    article = root / ARTICLE
    (root / "shared.md").write_bytes(article.read_bytes())
    article.unlink()
    article.symlink_to(root / "shared.md")
    result = build(root)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("name", [ARTICLE, ISSUE, SERIES, "issues/2024/13/00.md"])
def test_a_source_file_linked_from_outside_is_refused(name: str, tmp_path: Path) -> None:
    root = make_project(tmp_path / "project")
    target = tmp_path / "outside" / Path(name).name
    target.parent.mkdir()
    target.write_bytes((root / name).read_bytes() if (root / name).exists() else b"secret")
    (root / name).unlink(missing_ok=True)
    (root / name).symlink_to(target)
    result = build(root)
    assert result.returncode == 1
    assert problem_lines(result.stderr) == [
        f"{name}:1:1: 这是指向项目之外（{target}）的符号链接，出于安全考虑不读取；请把文件本身放进项目",
        "共 1 处错误，未生成任何文件。",
    ]
    assert not (root / "out").exists()


def test_a_link_to_etc_passwd_is_not_read(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    (root / "issues/2024/13/02.md").symlink_to("/etc/passwd")
    audit = _Audit.record()
    try:
        from liandong.validate import load_issues

        problems = []
        load_issues(root, [root / "issues/2024/13"], problems)
    finally:
        events = audit.stop()
    assert Path("/etc/passwd") not in opened(events)
    assert [str(p) for p in problems] == [
        "issues/2024/13/02.md:1:1: 这是指向项目之外（/etc/passwd）的符号链接，"
        "出于安全考虑不读取；请把文件本身放进项目"
    ]


def test_an_output_file_that_is_a_link_is_replaced_not_written_through(tmp_path: Path) -> None:
    root = make_project(tmp_path / "project")
    target = tmp_path / "victim.txt"
    target.write_text("keep me", encoding="utf-8")
    out = root / "out"
    out.mkdir()
    (out / "2024-13.pdf").symlink_to(target)
    (out / "2024-13.html").symlink_to(target)
    result = build(root)
    assert result.returncode == 0, result.stderr
    assert target.read_text(encoding="utf-8") == "keep me"
    for name in ("2024-13.pdf", "2024-13.html"):
        assert not (out / name).is_symlink()
    assert (out / "2024-13.pdf").read_bytes().startswith(b"%PDF")


def test_a_default_build_folder_linked_outside_is_refused(tmp_path: Path) -> None:
    root = make_project(tmp_path / "project")
    victim = tmp_path / "victim"
    victim.mkdir()
    (root / "build").symlink_to(victim)
    result = liandong("build", "13", cwd=root)
    assert result.returncode == 1
    assert error(result.stderr) == (
        f"错误：出于安全考虑，不写入 build/：它是指向项目之外（{victim}）的符号链接。"
        "请删除这个链接，或用 --out 指明输出文件夹。"
    )
    assert list(victim.iterdir()) == []


@pytest.mark.parametrize("linked", ["file", "folder"])
def test_a_template_linked_from_outside_is_refused(linked: str, tmp_path: Path) -> None:
    root = make_project(tmp_path / "project")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "print.css").write_text("secret { }", encoding="utf-8")
    if linked == "file":
        (root / "templates").mkdir()
        (root / "templates" / "print.css").symlink_to(outside / "print.css")
    else:
        (root / "templates").symlink_to(outside)
    result = build(root)
    assert result.returncode == 1
    assert error(result.stderr) == (
        f"错误：出于安全考虑，不使用模板 templates/print.css：它指向模板文件夹之外"
        f"（{(outside / 'print.css').resolve()}）。请把模板文件本身放进 templates/。"
    )
    assert not (root / "out").exists()


@pytest.mark.parametrize(
    "name", ["../../outside.html", "/etc/passwd", "templates/../../x.html", "..\\outside.html"]
)
def test_a_template_cannot_include_files_outside(name: str, tmp_path: Path) -> None:
    root = make_project(tmp_path / "project")
    (tmp_path / "outside.html").write_text("secret", encoding="utf-8")
    (root / "templates").mkdir()
    (root / "templates" / "print.html").write_text(
        f'{{% extends "_issue.html" %}}{{% from "_lines.html" import lines as text %}}'
        f'{{% block banji %}}{{% include "{name}" %}}{{% endblock %}}',
        encoding="utf-8",
    )
    result = build(root)
    assert result.returncode == 1
    assert error(result.stderr) == (
        f"错误：找不到模板 {name}：templates/ 和 liandong 自带的模板里都没有"
    )


def test_a_font_linked_from_outside_is_skipped(tmp_path: Path) -> None:
    root = make_project(tmp_path / "project")
    from liandong.fonts import resolve_fonts

    real = Path(resolve_fonts(root / "fonts")["kai"].file)
    (root / "fonts").mkdir()
    (root / "fonts" / "linked.ttf").symlink_to(real)
    result = build(root)
    assert result.returncode == 0, result.stderr
    assert (
        f"注意：fonts/linked.ttf 指向 fonts/ 文件夹之外（{real.resolve()}），出于安全考虑已跳过；"
        "请把字体文件本身放进 fonts/，或安装到本机"
    ) in result.stderr.splitlines()


# --- Limits ---------------------------------------------------------------------------------


def front(title: str = "标题", body: str = "正文。") -> str:
    return f"---\n标题: {title}\n---\n\n{body}\n"


def run_case(tmp_path: Path, files: dict[str, str | bytes]) -> list[str]:
    root = make_project(tmp_path, overrides=files)
    result = build(root)
    assert result.returncode == 1
    assert not (root / "out").exists()
    return problem_lines(result.stderr)


def test_limit_source_file_size(tmp_path: Path) -> None:
    body = "很长的正文。" * (limits.SOURCE_BYTES // 18 + 1)
    assert run_case(tmp_path, {ARTICLE: front(body=body)}) == [
        f"{ARTICLE}:1:1: 文件超过 256 KB 的上限（limits.SOURCE_BYTES），请拆分成几篇文章",
        "共 1 处错误，未生成任何文件。",
    ]


def test_limit_number_of_articles(tmp_path: Path) -> None:
    files = {f"issues/2024/13/{n:03d}.md": front() for n in range(limits.ARTICLES + 1)}
    assert run_case(tmp_path, files) == [
        f"{ISSUE}:1:1: 本期有 {limits.ARTICLES + 2} 篇文章，超过 {limits.ARTICLES} 篇的上限"
        "（limits.ARTICLES）",
        "共 1 处错误，未生成任何文件。",
    ]


def test_limit_paragraph_length(tmp_path: Path) -> None:
    body = "短段。\n\n" + "长" * (limits.PARAGRAPH_CHARS + 1)
    assert run_case(tmp_path, {ARTICLE: front(body=body)}) == [
        f"{ARTICLE}:7:1: 这一段有 {limits.PARAGRAPH_CHARS + 1} 字，超过 {limits.PARAGRAPH_CHARS} "
        "字的上限（limits.PARAGRAPH_CHARS），请分段",
        "共 1 处错误，未生成任何文件。",
    ]


def test_limit_paragraph_length_in_the_note(tmp_path: Path) -> None:
    text = (REPO / ISSUE).read_text(encoding="utf-8")
    text = (
        text[: text.index("编者按")] + "编者按: |\n  " + "按" * (limits.PARAGRAPH_CHARS + 1) + "\n"
    )
    line = text.count("\n", 0, text.index("编者按")) + 2
    assert run_case(tmp_path, {ISSUE: text}) == [
        f"{ISSUE}:{line}:3: 这一段有 {limits.PARAGRAPH_CHARS + 1} 字，超过 {limits.PARAGRAPH_CHARS} "
        "字的上限（limits.PARAGRAPH_CHARS），请分段",
        "共 1 处错误，未生成任何文件。",
    ]


def test_limit_title_length(tmp_path: Path) -> None:
    title = "题" * (limits.TEXT_CHARS + 1)
    assert run_case(tmp_path, {ARTICLE: front(title=title)}) == [
        f"{ARTICLE}:2:5: “标题”有 {limits.TEXT_CHARS + 1} 字，超过 {limits.TEXT_CHARS} 字的上限"
        "（limits.TEXT_CHARS）",
        "共 1 处错误，未生成任何文件。",
    ]


def test_limit_list_items(tmp_path: Path) -> None:
    issue = (
        (REPO / ISSUE).read_text(encoding="utf-8")
        + "发:\n"
        + "".join(f"  - 单位{n}\n" for n in range(limits.LIST_ITEMS + 1))
    )
    line = issue.count("\n", 0, issue.index("发:")) + 2
    assert run_case(tmp_path, {ISSUE: issue}) == [
        f"{ISSUE}:{line}:3: “发”有 {limits.LIST_ITEMS + 1} 项，超过 {limits.LIST_ITEMS} 项的上限"
        "（limits.LIST_ITEMS）",
        "共 1 处错误，未生成任何文件。",
    ]


def test_limit_issue_length(tmp_path: Path) -> None:
    paragraph = "字" * limits.PARAGRAPH_CHARS
    per_file = 10
    count = limits.ISSUE_CHARS // (per_file * limits.PARAGRAPH_CHARS) + 1
    body = "\n\n".join([paragraph] * per_file)
    files = {
        f"issues/2024/13/{n:02d}.md": front(title="长", body=body) for n in range(2, 2 + count)
    }
    lines = run_case(tmp_path, files)
    assert len(lines) == 2 and lines[1] == "共 1 处错误，未生成任何文件。"
    assert re.fullmatch(
        rf"{ISSUE}:1:1: 本期正文共 \d+ 字，超过 {limits.ISSUE_CHARS} 字的上限"
        r"（limits\.ISSUE_CHARS）",
        lines[0],
    ), lines[0]


@pytest.mark.parametrize("depth", [limits.YAML_DEPTH + 1, 1000, 5000])
def test_limit_yaml_nesting(depth: int, tmp_path: Path) -> None:
    """Reported where the nesting first goes too deep; over about 1,000 levels (where PyYAML's
    composer gives up) it was reported at 1:1 (issue 14, 14)."""
    issue = (REPO / ISSUE).read_text(encoding="utf-8") + "发: " + "[" * depth + "]" * depth + "\n"
    line = issue.count("\n", 0, issue.index("发: ")) + 1
    column = len("发: ") + limits.YAML_DEPTH  # the list at level YAML_DEPTH + 1 (the file is 1)
    assert run_case(tmp_path, {ISSUE: issue}) == [
        f"{ISSUE}:{line}:{column}: YAML 嵌套超过 {limits.YAML_DEPTH} 层的上限（limits.YAML_DEPTH）",
        "共 1 处错误，未生成任何文件。",
    ]


def test_limit_punctuation_run(tmp_path: Path) -> None:
    body = "正文" + "。" * (limits.PUNCTUATION_RUN + 1) + "完"
    assert run_case(tmp_path, {ARTICLE: front(body=body)}) == [
        f"{ARTICLE}:5:1: 这一段有连续 {limits.PUNCTUATION_RUN + 1} 个标点，超过 "
        f"{limits.PUNCTUATION_RUN} 个的上限（limits.PUNCTUATION_RUN）：标点之间不能换行",
        "共 1 处错误，未生成任何文件。",
    ]


def test_a_run_of_punctuation_at_the_limit_builds(tmp_path: Path) -> None:
    body = "正文" + "。" * limits.PUNCTUATION_RUN + "完"
    root = make_project(tmp_path, overrides={ARTICLE: front(body=body)})
    result = build(root)
    assert result.returncode == 0, result.stderr


def test_a_template_cannot_reach_python_internals(tmp_path: Path) -> None:
    root = make_project(tmp_path / "project")
    (root / "templates").mkdir()
    (root / "templates" / "print.html").write_text(
        '{% extends "_issue.html" %}{% from "_lines.html" import lines as text %}'
        "{% block banji %}{{ masthead.__class__.__mro__[1].__subclasses__() }}{% endblock %}",
        encoding="utf-8",
    )
    result = build(root)
    assert result.returncode == 1
    assert error(result.stderr) == (
        "错误：templates/print.html:1:1: 模板错误：access to attribute '__class__' of 'Masthead' "
        "object is unsafe."
    )
    assert not (root / "out").exists()


def test_emphasis_a_thousand_times_in_a_paragraph_builds(tmp_path: Path) -> None:
    # Found by hand while fuzzing Markdown: the run walker recursed once per level. Strong
    # marks no longer nest (** pairs are matched left to right), and the parser walks them in
    # a loop: a paragraph of a thousand bold pieces is still a paragraph.
    count = (limits.PARAGRAPH_CHARS - 2) // 5
    body = "正文" + "**深**" * count
    root = make_project(tmp_path, overrides={ARTICLE: front(body=body)})
    result = build(root)
    assert result.returncode == 0, result.stderr
    with pdfplumber.open(root / "out" / "2024-13.pdf") as doc:
        text = re.sub(r"\s", "", "".join(page.extract_text() or "" for page in doc.pages))
    assert "正文深深" in text and text.count("深") == count and "*" not in text


def test_the_hostile_web_page_runs_nothing_in_a_browser(markup_build, browser):
    """The page in chromium: no script runs (no dialog, no error), nothing is requested except the
    page itself, and the markup is on screen as text."""
    page_url = (markup_build / "2024-13.html").as_uri()
    page = browser.new_page()
    try:
        events: list[str] = []
        page.on("dialog", lambda d: (events.append(f"dialog {d.message}"), d.dismiss()))
        page.on("pageerror", lambda e: events.append(f"error {e}"))
        page.on("request", lambda r: events.append(r.url) if r.url != page_url else None)
        page.goto(page_url)
        page.wait_for_timeout(300)
        text = page.inner_text("body")
        counts = page.evaluate("""['script', 'iframe', 'img', 'object', 'embed', 'link',
            'base', 'svg'].map(t => document.getElementsByTagName(t).length)""")
    finally:
        page.close()
    assert events == []
    assert counts == [0] * 8
    assert "标题<script>alert(1)</script>" in text


def test_a_named_pipe_as_an_article_is_refused_not_waited_for(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    os.mkfifo(root / "issues/2024/13/02.md")
    result = liandong("build", "13", "--out", str(root / "out"), cwd=root)
    assert problem_lines(result.stderr) == [
        "issues/2024/13/02.md:1:1: 这不是普通文件（可能是管道或设备），不读取",
        "共 1 处错误，未生成任何文件。",
    ]


# --- Templates: plain data only, a narrow sandbox, no links out of the PDF ------------------------


@pytest.mark.parametrize("action", ["read_text()", "write_text('x')"])
def test_a_template_can_neither_read_nor_write_a_file(action: str, tmp_path: Path) -> None:
    """Issue 14, 1: `fonts.body.file` was a pathlib.Path, so web.html could read a file outside the
    project into the page, or create one, and build exited 0."""
    root = make_project(tmp_path / "project")
    target = tmp_path / "outside" / "canary.txt"
    target.parent.mkdir()
    if action.startswith("read"):
        target.write_text("secret-canary", encoding="utf-8")
    template = (CASES / "template_reads_and_writes_files" / "templates" / "web.html").read_text(
        encoding="utf-8"
    )
    (root / "templates").mkdir()
    (root / "templates" / "web.html").write_text(
        template.replace("TARGET", str(target).lstrip("/")).replace("ACTION", action),
        encoding="utf-8",
    )
    result = build(root)
    assert result.returncode == 1
    assert error(result.stderr) == (
        "错误：templates/web.html:7:1: 模板错误：'liandong.context.FontFace object' has no "
        "attribute 'file'"
    )
    assert not (root / "out").exists()
    if action.startswith("write"):
        assert not target.exists()


def test_a_template_calls_nothing_but_its_macros_and_a_few_helpers(tmp_path: Path) -> None:
    root = make_project(tmp_path / "project")
    (root / "templates").mkdir()
    (root / "templates" / "print.html").write_text(
        '{% extends "_issue.html" %}{% from "_lines.html" import lines as text %}'
        "{% block banji %}{{ masthead.name.encode('utf-8') }}{% endblock %}",
        encoding="utf-8",
    )
    result = build(root)
    assert result.returncode == 1
    assert error(result.stderr) == (
        "错误：templates/print.html:1:1: 模板错误：access to attribute 'encode' of 'str' "
        "object is unsafe."
    )
    assert not (root / "out").exists()


def test_links_in_a_template_never_become_links_of_the_pdf(tmp_path: Path) -> None:
    """Issue 14, 1: `<a href="javascript:…">` (or any link out of the document) in print.html
    became a link annotation of the PDF; only links to a place in the document itself stay."""
    root = make_project(tmp_path / "project")
    shutil.copytree(CASES / "template_links" / "templates", root / "templates")
    result = build(root)
    assert result.returncode == 0, result.stderr
    pdf = root / "out" / "2024-13.pdf"
    assert_inert_pdf(pdf)
    with pikepdf.open(pdf) as doc:
        actions = [
            str(annot.get("/A", {}).get("/S", "")) or ("/Dest" if "/Dest" in annot else "")
            for page in doc.pages
            for annot in page.obj.get("/Annots", [])
        ]
    assert actions and set(actions) <= {"/GoTo", "/Dest"}, actions
    with pdfplumber.open(pdf) as doc:
        text = "".join(page.extract_text() or "" for page in doc.pages)
    assert "脚本网址文件网页邮件附件本页" in text.replace(" ", "")  # the words still print


# --- What liandong prints: no control characters from file names (issue 14, 9) -----------------


@pytest.mark.parametrize(
    "name, shown",
    [
        (b"\x1b]0;pwned\x07.md", r"\x1b]0;pwned\x07.md"),
        ("0\nissue.yaml:1:1: 伪造的问题 .md".encode(), r"0\x0aissue.yaml:1:1: 伪造的问题 .md"),
        ("\u202edm.txt.md".encode(), r"\u202edm.txt.md"),
        (b"\xff\xfe.md", r"\xff\xfe.md"),
    ],
)
@pytest.mark.parametrize("command", ["check", "build"])
def test_a_file_name_cannot_write_to_the_terminal(
    name: bytes, shown: str, command: str, tmp_path: Path
) -> None:
    """An OSC escape in a committed file name reached the terminal; a newline forged a
    `file:line:col:` line; undecodable bytes are shown, not a crash."""
    root = make_project(tmp_path)
    folder = os.fsencode(root / "issues" / "2024" / "13")
    with open(os.path.join(folder, name), "wb"):
        pass  # an empty article: one problem, naming the file
    args = ("check",) if command == "check" else ("build", "13", "--out", str(root / "out"))
    result = subprocess.run(
        [str(Path(sys.executable).with_name("liandong")), *args], cwd=root, capture_output=True
    )
    printed = (result.stdout + result.stderr).decode("utf-8")
    assert result.returncode == 1
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f\u202e]", printed)
    assert (
        f"issues/2024/13/{shown}:1:1: 文章是空文件：请写上标题和正文，或删去这个文件"
        in printed.splitlines()
    )
    assert len(re.findall(r"(?m)^\S+:\d+:\d+: ", printed)) == 1


# --- Fonts in fonts/: checked once, read with the guards of sources (issue 14, 5) ---------------

DAMAGED = "字体文件已损坏，或不是 TrueType/OpenType 字体：请换成完好的字体文件，或从 fonts/ 移走"


@pytest.fixture(scope="module")
def office_ttf(tmp_path_factory) -> Path:
    from fontfiles import office_font

    return office_font(tmp_path_factory.mktemp("font") / "fangsong.ttf")


def font_project(tmp_path: Path, font: Path, damage=None, name: str = "fangsong.ttf") -> Path:
    root = make_project(tmp_path / "project")
    (root / "fonts").mkdir()
    path = root / "fonts" / name
    path.write_bytes(font.read_bytes())
    if damage is not None:
        damage(path)
    return root


def _wipe_every_glyph(path: Path) -> None:
    from fontTools.ttLib import TTFont

    from fontfiles import blank_glyphs

    chars = "".join(chr(code) for code in TTFont(path).getBestCmap() if chr(code).strip())
    blank_glyphs(path, chars)


@pytest.mark.parametrize(
    "case, damage, message",
    [
        ("loca_zeroed", "zero_loca", re.escape(f"字形位置表（loca）与字形数据不符：{DAMAGED}")),
        (
            "outlines_wiped",
            "wipe",
            "抽查的 \\d+ 个字中有 \\d+ 个字形是空的（如“.”），印出来会是空白："
            + re.escape(DAMAGED),
        ),
        ("truncated", "truncate", re.escape(DAMAGED)),
        ("not_a_font", "text", re.escape(DAMAGED)),
        (
            "embedding_restricted",
            "restricted",
            re.escape(
                "字体的授权受限授权（Restricted License），不允许嵌入（OS/2 fsType = 0x0002）：印刷用 PDF 必须"
                "嵌入所用的字形，请换用允许嵌入的字体"
            ),
        ),
    ],
)
def test_a_project_font_that_cannot_print_is_refused_naming_its_file(
    case: str, damage: str, message: str, office_ttf: Path, tmp_path: Path
) -> None:
    """A damaged `loca` gave a PDF of blank glyphs with exit 0 (preflight passed); fontTools'
    English reasons leaked; a font whose licence forbids embedding was embedded."""
    from fontfiles import office_font, zero_loca

    damages = {
        "zero_loca": zero_loca,
        "wipe": _wipe_every_glyph,
        "truncate": lambda path: path.write_bytes(path.read_bytes()[:4000]),
        "text": lambda path: path.write_text("这不是字体", encoding="utf-8"),
        "restricted": lambda path: office_font(path, fs_type=0x0002),
    }
    root = font_project(tmp_path, office_ttf, damages[damage])
    for args in (("build", "13", "--out", str(root / "out")), ("check",), ("fonts",)):
        result = liandong(*args, cwd=root)
        assert result.returncode == 1, (args, result.stdout)
        lines = problem_lines(result.stderr)
        assert len(lines) == 2 and lines[1] == "共 1 处错误，未生成任何文件。", (args, lines)
        assert re.fullmatch("fonts/fangsong.ttf:1:1: " + message, lines[0]), (args, lines[0])
    assert not (root / "out").exists()


def test_a_blank_glyph_that_would_print_is_an_error_where_it_is_written(office_ttf, tmp_path):
    """One damaged outline: the rest of the font is sound, so only the characters that print
    can show it; each is reported at its place, naming the font's file."""
    from fontfiles import blank_glyphs

    root = font_project(tmp_path, office_ttf, lambda path: blank_glyphs(path, "烯"))
    result = build(root)
    assert result.returncode == 1
    lines = problem_lines(result.stderr)
    message = (
        "正文所用字体 仿宋_GB2312（fonts/fangsong.ttf）里“烯”（U+70EF）的字形是空的，"
        "印出来会是空白：字体文件可能已损坏，请换用完好的字体文件"
    )
    assert lines[-1] == f"共 {len(lines) - 1} 处错误，未生成任何文件。"
    assert {line.split(": ", 1)[1] for line in lines[:-1]} == {message}
    assert all(line.startswith(ARTICLE + ":") for line in lines[:-1])
    assert not (root / "out").exists()


def test_a_missing_glyph_names_the_project_fonts_file(office_ttf, tmp_path):
    root = font_project(tmp_path, office_ttf)
    # 𪜀 (U+2A700, CJK extension C): neither the office font nor its 补字 font has it.
    article = (
        (root / ARTICLE).read_text(encoding="utf-8").replace("乙烯项目", "乙烯\U0002a700项目", 1)
    )
    (root / ARTICLE).write_text(article, encoding="utf-8")
    result = build(root)
    assert result.returncode == 1
    assert any(
        line.endswith(
            ": 正文所用字体 仿宋_GB2312（fonts/fangsong.ttf）没有“\U0002a700”"
            "（U+2A700）的字形，无法印出；请改换写法，或在 fonts/ 放入含此字的字体"
        )
        for line in problem_lines(result.stderr)
    )


def test_a_sound_project_font_is_used(office_ttf, tmp_path):
    root = font_project(tmp_path, office_ttf)
    result = build(root)
    assert result.returncode == 0, result.stderr
    with pdfplumber.open(root / "out" / "2024-13.pdf") as doc:
        fonts = {char["fontname"].split("+")[-1] for page in doc.pages for char in page.chars}
    assert "FangSong_GB2312" in fonts  # the project font, under its own PostScript name


@pytest.mark.parametrize("command", [("check",), ("build", "13"), ("fonts",), ("site",)])
def test_a_named_pipe_in_fonts_hangs_no_command(command, tmp_path):
    """A FIFO named *.ttf in fonts/ made every command wait forever for a writer."""
    root = make_project(tmp_path / "project")
    (root / "fonts").mkdir()
    os.mkfifo(root / "fonts" / "pipe.ttf")
    args = [*command] + (
        ["--out", str(tmp_path / "out")] if command[0] in ("build", "site") else []
    )
    result = subprocess.run(
        [str(Path(sys.executable).with_name("liandong")), *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert problem_lines(result.stderr) == [
        "fonts/pipe.ttf:1:1: 这不是普通文件（可能是管道或设备），不读取",
        "共 1 处错误，未生成任何文件。",
    ]
