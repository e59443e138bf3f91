"""The archive site: incremental builds, determinism, feed and sitemap, and the pages in chromium."""

from __future__ import annotations

import functools
import http.server
import shutil
import subprocess
import threading
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import REPO, add_issue, liandong, make_project

BASE = "https://example.org/archive/"
ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
VNU = REPO / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"


def archive_project(tmp: Path) -> Path:
    """The real 2024/13 plus two generated issues: 2024/12 without 乙烯, 2023/20 without 沈晓明."""
    project = make_project(tmp)
    add_issue(project, 2024, 12, 713, "2024-08-15", "省人大常委会召开代表联络站建设推进会",
              replace={"乙烯": "芳烃"})
    add_issue(project, 2023, 20, 690, "2023-12-20", "代表建议办理工作总结会议召开",
              replace={"沈晓明": "李东升"})
    return project


def mtimes(folder: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in folder.iterdir() if p.is_file()}


# --- Incremental builds -----------------------------------------------------------

@pytest.fixture
def two_issues(tmp_path) -> Path:
    project = make_project(tmp_path / "project")
    add_issue(project, 2024, 12, 713, "2024-08-15", "省人大常委会召开代表联络站建设推进会")
    return project


def test_second_run_renders_nothing_and_says_so(two_issues):
    out = two_issues / "build" / "site"
    first = liandong("site", cwd=two_issues, check=True)
    assert "已排好 2024-12（" in first.stdout  # plain lines, not a progress bar, without a terminal
    assert "重新生成 2 期，0 期无变化。" in first.stdout
    before = mtimes(out)
    second = liandong("site", cwd=two_issues, check=True)
    assert "全部 2 期均无变化，未重新生成。" in second.stdout
    assert "已排好" not in second.stdout
    assert mtimes(out) == before


def test_changing_one_issue_renders_only_it(two_issues):
    out = two_issues / "build" / "site"
    liandong("site", cwd=two_issues, check=True)
    before = mtimes(out)
    article = two_issues / "issues" / "2024" / "12" / "01.md"
    article.write_text(article.read_text(encoding="utf-8").replace("乙烯", "丙烯"), encoding="utf-8")
    result = liandong("site", cwd=two_issues, check=True)
    assert "重新生成 1 期，1 期无变化。" in result.stdout
    assert "已排好 2024-12（1/1）" in result.stdout
    after = mtimes(out)
    assert after["2024-12.pdf"] != before["2024-12.pdf"]
    assert after["2024-12.html"] != before["2024-12.html"]
    assert after["2024-13.pdf"] == before["2024-13.pdf"]
    assert after["2024-13.html"] == before["2024-13.html"]
    assert after["index.html"] == before["index.html"]  # same titles: the home page's bytes are equal
    assert after["search-index.js"] != before["search-index.js"]
    assert "丙烯" in (out / "search-index.js").read_text(encoding="utf-8")


def test_changing_a_template_renders_every_issue(two_issues):
    liandong("site", cwd=two_issues, check=True)
    css = two_issues / "templates" / "web.css"
    css.parent.mkdir()
    css.write_text((REPO / "templates" / "web.css").read_text(encoding="utf-8")
                   + "\n.download a { font-weight: bold; }\n", encoding="utf-8")
    result = liandong("site", cwd=two_issues, check=True)
    assert "重新生成 2 期，0 期无变化。" in result.stdout
    assert "font-weight: bold; }" in (two_issues / "build" / "site" / "2024-13.html").read_text(encoding="utf-8")


def test_changing_only_a_site_page_template_renders_no_issue(two_issues):
    liandong("site", cwd=two_issues, check=True)
    page = two_issues / "templates" / "site_404.html"
    page.parent.mkdir()
    page.write_text((REPO / "templates" / "site_404.html").read_text(encoding="utf-8")
                    .replace("找不到这个页面</h1>", "页面不存在</h1>"), encoding="utf-8")
    result = liandong("site", cwd=two_issues, check=True)
    assert "全部 2 期均无变化，未重新生成。" in result.stdout
    assert "页面不存在" in (two_issues / "build" / "site" / "404.html").read_text(encoding="utf-8")


def test_missing_output_is_rendered_again(two_issues):
    out = two_issues / "build" / "site"
    liandong("site", cwd=two_issues, check=True)
    (out / "2024-13.pdf").unlink()
    result = liandong("site", cwd=two_issues, check=True)
    assert "重新生成 1 期，1 期无变化。" in result.stdout
    assert (out / "2024-13.pdf").read_bytes().startswith(b"%PDF")


def test_removed_issue_disappears_from_the_site(two_issues):
    out = two_issues / "build" / "site"
    liandong("site", cwd=two_issues, check=True)
    shutil.rmtree(two_issues / "issues" / "2024" / "12")
    result = liandong("site", cwd=two_issues, check=True)
    assert not (out / "2024-12.pdf").exists() and not (out / "2024-12.html").exists()
    assert "2024-12" not in (out / "index.html").read_text(encoding="utf-8")
    # 2024/13 lost its previous issue, so its page changed.
    assert "重新生成 1 期，0 期无变化。" in result.stdout
    assert 'rel="prev"' not in (out / "2024-13.html").read_text(encoding="utf-8")


def test_bad_source_reports_every_problem_and_writes_nothing(two_issues):
    out = two_issues / "build" / "site"
    liandong("site", cwd=two_issues, check=True)
    before = {name: (out / name).read_bytes() for name in mtimes(out)}
    meta = two_issues / "issues" / "2024" / "12" / "issue.yaml"
    meta.write_text(meta.read_text(encoding="utf-8") + "日其: 1\n", encoding="utf-8")
    article = two_issues / "issues" / "2024" / "13" / "01.md"
    article.write_text(article.read_text(encoding="utf-8").replace("标题:", "题目:", 1), encoding="utf-8")
    result = liandong("site", cwd=two_issues)
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert lines[1:] == ["issues/2024/12/issue.yaml:11:1: 未知的设置“日其”，是不是“日期”？",
                         "issues/2024/13/01.md:2:1: 未知的设置“题目”，是不是“标题”？",
                         "共 2 处错误，未生成任何文件。"]
    assert "Traceback" not in result.stderr
    assert {name: (out / name).read_bytes() for name in mtimes(out)} == before


def test_base_url_must_be_absolute(two_issues):
    result = liandong("site", "--base-url", "archive/", cwd=two_issues)
    assert result.returncode == 1
    assert result.stderr == "错误：--base-url 应是以 http:// 或 https:// 开头的完整网址：“archive/”\n"


# --- Determinism, feed and sitemap ------------------------------------------------

@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Path:
    """The three-issue archive built under srv/archive/, as a host serves it from a sub-path."""
    tmp = tmp_path_factory.mktemp("archive")
    project = archive_project(tmp / "project")
    out = tmp / "srv" / "archive"
    liandong("site", "--out", str(out), "--base-url", BASE, cwd=project, check=True)
    return out


def test_site_is_deterministic_across_folders(archive, tmp_path):
    project = archive_project(tmp_path / "elsewhere" / "copy")
    out = tmp_path / "other-out"
    liandong("site", "--out", str(out), "--base-url", BASE, cwd=project, check=True)
    texts = sorted(p.name for p in archive.iterdir() if p.suffix in (".html", ".xml", ".js", ".css", ".svg"))
    assert len(texts) >= 10
    assert texts == sorted(p.name for p in out.iterdir() if p.suffix in (".html", ".xml", ".js", ".css", ".svg"))
    for name in texts:
        assert (archive / name).read_bytes() == (out / name).read_bytes(), name
    assert (archive / ".liandong-site.json").read_bytes() == (out / ".liandong-site.json").read_bytes()


def test_feed_lists_issues_newest_first_dated_by_the_latest_issue(archive):
    feed = ET.parse(archive / "feed.xml").getroot()
    assert feed.find(f"{ATOM}updated").text.startswith("2024-08-30T00:00:00")
    assert feed.find(f"{ATOM}title").text == "联络动态"
    entries = feed.findall(f"{ATOM}entry")
    assert [e.find(f"{ATOM}id").text for e in entries] == [
        BASE + "2024-13.html", BASE + "2024-12.html", BASE + "2023-20.html"]
    assert entries[0].find(f"{ATOM}title").text == "联络动态 2024年第13期（总第714期）"
    assert "沈晓明主持召开人大代表建议办理专题会议" in entries[0].find(f"{ATOM}summary").text
    assert [link.get("href") for link in entries[0].findall(f"{ATOM}link")] == [BASE + "2024-13.html"]


def test_sitemap_has_absolute_urls_of_every_page(archive):
    urls = [u.find(f"{SITEMAP}loc").text for u in ET.parse(archive / "sitemap.xml").getroot()]
    assert urls == [BASE, BASE + "2024-13.html", BASE + "2024-12.html", BASE + "2023-20.html"]


def test_published_pages_have_no_preview_script(archive):
    for page in archive.glob("*.html"):
        assert "EventSource" not in page.read_text(encoding="utf-8")


def test_nu_html_checker_finds_no_errors(archive):
    assert VNU.is_file(), "vnu.jar is missing: bash setup.sh installs it (npm ci)"
    pages = sorted(str(p) for p in archive.glob("*.html"))
    assert len(pages) == 6
    result = subprocess.run(["java", "-jar", str(VNU), "--errors-only", *pages],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


# --- In chromium, served from a sub-path ----------------------------------------------

class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002
        pass


@pytest.fixture(scope="module")
def site_url(archive):
    """A plain static host on 127.0.0.1 serving the site under /archive/."""
    handler = functools.partial(_Quiet, directory=str(archive.parent))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/archive/"
    server.shutdown()
    server.server_close()


@pytest.fixture(params=[375, 1280], ids=["phone", "desktop"])
def page(request, browser):
    page = browser.new_page(viewport={"width": request.param, "height": 800})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("requestfailed", lambda r: errors.append(f"failed: {r.url}"))
    page.on("response", lambda r: errors.append(f"{r.status}: {r.url}") if r.status >= 400 else None)
    yield page
    assert errors == []
    page.close()


def fits_width(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_home_lists_issues_newest_first_by_year(page, site_url):
    page.goto(site_url)
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert page.locator("section.year h2").all_inner_texts() == ["2024年", "2023年"]
    links = page.locator(".issue-head a")
    assert [links.nth(i).get_attribute("href") for i in range(links.count())] == [
        "2024-13.html", "2024-12.html", "2023-20.html"]
    first = page.locator(".issues > li").first.inner_text()
    for text in ("第 13 期", "总第七百一十四期", "2024年8月30日", "沈晓明主持召开人大代表建议办理专题会议"):
        assert text in first
    assert fits_width(page)


@pytest.mark.parametrize("query, expected", [
    ("乙烯", ["2024-13", "2023-20"]),
    ("烯", ["2024-13", "2023-20"]),
    ("沈晓明", ["2024-13", "2024-12"]),
    ("湘党简准字", ["2024-13", "2024-12", "2023-20"]),
    ("代表联络站建设推进会", ["2024-12"]),
])
def test_search_finds_issues_and_marks_the_passage(page, site_url, query, expected):
    page.goto(site_url + "search.html")
    page.fill("#q", query)
    page.press("#q", "Enter")
    page.wait_for_url("**/archive/search.html?q=*")
    page.wait_for_selector("#search-results > li")
    hrefs = page.locator("#search-results .issue-head a").evaluate_all(
        "links => links.map(a => a.getAttribute('href').split('.html')[0])")
    assert hrefs == expected
    marks = page.locator("#search-results mark").all_inner_texts()
    assert marks and set(marks) == {query}
    assert query in page.locator("#search-status").inner_text()
    assert fits_width(page)


def test_search_finds_nothing_for_absent_text(page, site_url):
    page.goto(site_url + "search.html?q=" + "量子计算机")
    page.wait_for_function("document.getElementById('search-status').textContent.includes('没有找到')")
    assert page.locator("#search-results > li").count() == 0
    assert page.locator("#search-status").inner_text() == "没有找到含有“量子计算机”的内容。"


def test_search_result_leads_to_the_passage(page, site_url):
    page.goto(site_url + "search.html?q=乙烯")
    page.locator("#search-results .issue-head a").first.click()
    page.wait_for_url("**/archive/2024-13.html*")
    assert "乙烯" in page.locator("main").inner_text()


def test_issue_page_shows_masthead_text_and_its_pdf(page, site_url):
    page.goto(site_url + "2024-12.html")
    assert page.locator(".masthead .name").inner_text().replace(" ", "") == "联络动态"
    assert "第 12 期" in page.locator(".masthead").inner_text()
    assert "省人大常委会召开代表联络站建设推进会" in page.locator("article h2").first.inner_text()
    assert "芳烃" in page.locator("main").inner_text()
    link = page.locator("a[href='2024-12.pdf']")
    assert link.is_visible()
    response = page.request.get(site_url + link.get_attribute("href"))
    assert response.ok and response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF-")
    assert page.locator("a[rel=prev]").get_attribute("href") == "2023-20.html"
    assert page.locator("a[rel=next]").get_attribute("href") == "2024-13.html"
    assert fits_width(page)


def test_404_page_links_home(page, site_url):
    page.goto(site_url + "404.html")
    assert page.locator("h1").inner_text() == "找不到这个页面"
    assert page.locator("main a").first.get_attribute("href") == BASE + "index.html"


@pytest.mark.parametrize("path", ["", "search.html?q=乙烯", "2024-13.html", "2023-20.html", "404.html"])
def test_axe_finds_no_serious_violations(page, site_url, path):
    assert AXE.is_file(), "axe-core is missing: bash setup.sh installs it (npm ci)"
    page.goto(site_url + path)
    page.add_script_tag(path=str(AXE))
    violations = page.evaluate("""async () => (await axe.run()).violations
        .filter(v => v.impact === 'serious' || v.impact === 'critical')
        .map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '))""")
    assert violations == []
