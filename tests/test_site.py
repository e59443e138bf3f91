"""The archive site: sign-off, incremental builds, the cache, determinism, feed and sitemap, the
pages in chromium, and what `site` may read and delete."""

from __future__ import annotations

import contextlib
import functools
import http.server
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import REPO, add_issue, liandong, make_project

BASE = "https://example.org/archive/"
ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
VNU = REPO / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
WAIT = 120  # seconds allowed for a process to react: a limit for hangs, not a timing

SITE_SETTINGS = """
网站名称: 联络动态网络版
主办单位: 湖南省人大常委会办公厅
备案号: 湘ICP备12345678号-1
公安备案号: 湘公网安备 43010502000001号
网站联系方式: 0731—85300000
订阅期数: 2
"""


def archive_project(tmp: Path) -> Path:
    """The real 2024/13 plus two generated issues, 2024/12 without 乙烯 and 2023/20 without
    沈晓明, all signed off; a draft 2024/14; the site's settings in series.yaml."""
    project = make_project(tmp)
    add_issue(
        project,
        2024,
        12,
        713,
        "2024-08-15",
        "省人大常委会召开代表联络站建设推进会",
        replace={"乙烯": "芳烃"},
    )
    add_issue(
        project,
        2023,
        20,
        690,
        "2023-12-20",
        "代表建议办理工作总结会议召开",
        replace={"沈晓明": "李东升"},
    )
    add_issue(
        project,
        2024,
        14,
        715,
        "2024-09-13",
        "尚未签发的草稿标题鹦鹉螺",
        replace={"状态: 已签发": "状态: 草稿"},
    )
    series = project / "issues" / "series.yaml"
    series.write_text(series.read_text(encoding="utf-8") + SITE_SETTINGS, encoding="utf-8")
    return project


def mtimes(folder: Path) -> dict[str, int]:
    return {
        p.relative_to(folder).as_posix(): p.stat().st_mtime_ns
        for p in folder.rglob("*")
        if p.is_file()
    }


def search_text(out: Path) -> str:
    """Everything in the site's search index, as text."""
    return "".join(p.read_text(encoding="utf-8") for p in sorted((out / "search").rglob("*.js")))


# --- Incremental builds -----------------------------------------------------------


@pytest.fixture
def two_issues(tmp_path) -> Path:
    project = make_project(tmp_path / "project")
    add_issue(project, 2024, 12, 713, "2024-08-15", "省人大常委会召开代表联络站建设推进会")
    return project


def test_on_a_terminal_site_shows_one_progress_bar(tmp_path):
    """stderr a terminal: click's progress bar (排版, done/total, the issue), no plain lines.
    A subprocess on a pseudo-terminal: what is tested is the terminal."""
    import pty

    project = make_project(tmp_path)
    leader, follower = pty.openpty()
    exe = Path(sys.executable).with_name("liandong")
    process = subprocess.Popen(
        [str(exe), "site"], cwd=project, stdout=subprocess.PIPE, stderr=follower, text=True
    )
    os.close(follower)
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the command closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    stdout = process.communicate(timeout=WAIT)[0]
    os.close(leader)
    assert process.returncode == 0
    terminal = shown.decode("utf-8")
    assert "排版" in terminal and "1/1" in terminal and "2024-13" in terminal
    assert "Traceback" not in terminal
    assert "已排好" not in stdout and "重新生成 1 期" in stdout


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
    article.write_text(
        article.read_text(encoding="utf-8").replace("乙烯", "丙烯"), encoding="utf-8"
    )
    result = liandong("site", cwd=two_issues, check=True)
    assert "重新生成 1 期，1 期无变化。" in result.stdout
    assert "已排好 2024-12（1/1）" in result.stdout
    after = mtimes(out)
    assert after["2024-12.pdf"] != before["2024-12.pdf"]
    assert after["2024-12.html"] != before["2024-12.html"]
    assert after["2024-13.pdf"] == before["2024-13.pdf"]
    assert after["2024-13.html"] == before["2024-13.html"]
    assert (
        after["index.html"] == before["index.html"]
    )  # same titles: the home page's bytes are equal
    assert after["search/t/2024-12.js"] != before["search/t/2024-12.js"]
    assert after["search/t/2024-13.js"] == before["search/t/2024-13.js"]
    assert "丙烯" in (out / "search" / "t" / "2024-12.js").read_text(encoding="utf-8")
    assert '"丙烯":' in search_text(out)


def test_changing_a_template_renders_every_issue(two_issues):
    liandong("site", cwd=two_issues, check=True)
    css = two_issues / "templates" / "web.css"
    css.parent.mkdir()
    css.write_text(
        (REPO / "templates" / "web.css").read_text(encoding="utf-8")
        + "\n.download a { font-weight: bold; }\n",
        encoding="utf-8",
    )
    result = liandong("site", cwd=two_issues, check=True)
    assert "重新生成 2 期，0 期无变化。" in result.stdout
    assert "font-weight: bold; }" in (two_issues / "build" / "site" / "2024-13.html").read_text(
        encoding="utf-8"
    )


def test_a_web_only_template_renders_the_pages_but_not_the_pdfs(two_issues):
    out = two_issues / "build" / "site"
    liandong("site", cwd=two_issues, check=True)
    before = mtimes(out)
    css = two_issues / "templates" / "web.css"
    css.parent.mkdir()
    css.write_text(
        (REPO / "templates" / "web.css").read_text(encoding="utf-8")
        + "\n.download a { font-weight: bold; }\n",
        encoding="utf-8",
    )
    liandong("site", cwd=two_issues, check=True)
    after = mtimes(out)
    assert after["2024-13.html"] != before["2024-13.html"]
    assert after["2024-13.pdf"] == before["2024-13.pdf"]


def test_changing_only_a_site_page_template_renders_no_issue(two_issues):
    liandong("site", cwd=two_issues, check=True)
    page = two_issues / "templates" / "site_404.html"
    page.parent.mkdir()
    page.write_text(
        (REPO / "templates" / "site_404.html")
        .read_text(encoding="utf-8")
        .replace("找不到这个页面</h1>", "页面不存在</h1>"),
        encoding="utf-8",
    )
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


def test_a_missing_piece_of_the_search_index_is_written_again(two_issues):
    out = two_issues / "build" / "site"
    liandong("site", cwd=two_issues, check=True)
    shard = sorted((out / "search" / "s").iterdir())[0]
    data = shard.read_bytes()
    shard.unlink()
    result = liandong("site", cwd=two_issues, check=True)
    assert "全部 2 期均无变化，未重新生成。" in result.stdout
    assert shard.read_bytes() == data


def test_removed_issue_disappears_from_the_site(two_issues):
    out = two_issues / "build" / "site"
    liandong("site", cwd=two_issues, check=True)
    shutil.rmtree(two_issues / "issues" / "2024" / "12")
    result = liandong("site", cwd=two_issues, check=True)
    assert not (out / "2024-12.pdf").exists() and not (out / "2024-12.html").exists()
    assert not (out / "search" / "t" / "2024-12.js").exists()
    assert "2024-12" not in (out / "index.html").read_text(encoding="utf-8")
    assert "2024-12" not in (out / "search" / "meta.js").read_text(encoding="utf-8")
    # 2024/13 lost its previous issue, so its page changed (not its PDF).
    assert "重新生成 1 期，0 期无变化。" in result.stdout
    assert 'rel="prev"' not in (out / "2024-13.html").read_text(encoding="utf-8")


def test_bad_source_reports_every_problem_and_writes_nothing(two_issues):
    out = two_issues / "build" / "site"
    liandong("site", cwd=two_issues, check=True)
    before = {name: (out / name).read_bytes() for name in mtimes(out)}
    meta = two_issues / "issues" / "2024" / "12" / "issue.yaml"
    meta.write_text(meta.read_text(encoding="utf-8") + "日其: 1\n", encoding="utf-8")
    article = two_issues / "issues" / "2024" / "13" / "01.md"
    article.write_text(
        article.read_text(encoding="utf-8").replace("标题:", "题目:", 1), encoding="utf-8"
    )
    result = liandong("site", cwd=two_issues)
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert lines[1:] == [
        "issues/2024/12/issue.yaml:12:1: 未知的设置“日其”，是不是“日期”？",
        "issues/2024/13/01.md:2:1: 未知的设置“题目”，是不是“标题”？",
        "共 2 处错误，未生成任何文件。",
    ]
    assert "Traceback" not in result.stderr
    assert {name: (out / name).read_bytes() for name in mtimes(out)} == before


def test_base_url_must_be_absolute(two_issues):
    result = liandong("site", "--base-url", "archive/", cwd=two_issues)
    assert result.returncode == 1
    assert (
        result.stderr == "错误：--base-url 应是以 http:// 或 https:// 开头的完整网址：“archive/”\n"
    )


def test_only_an_issue_that_passed_is_said_to_be_done(two_issues):
    """A template that fails for 2024/12 alone: 2024/13 is 已排好, 2024/12 is not."""
    (two_issues / "templates").mkdir()
    template = (REPO / "templates" / "site_issue.html").read_text(encoding="utf-8")
    (two_issues / "templates" / "site_issue.html").write_text(
        template.replace(
            "{% block after %}",
            "{% block after %}{% if issue.number == 12 %}{{ nothing_here }}{% endif %}",
        ),
        encoding="utf-8",
    )
    result = liandong("site", cwd=two_issues)
    assert result.returncode == 1
    assert "已排好 2024-13" in result.stdout
    assert "已排好 2024-12" not in result.stdout
    assert "未通过 2024-12" in result.stdout
    assert "模板错误" in result.stderr


# --- Sign-off: only signed-off issues that pass check --strict are published -------------


def test_a_draft_is_absent_from_the_site_the_feed_and_the_search(archive):
    out, result = archive
    assert "草稿不发布（1 期）：2024 年第 14 期" in result.stdout
    assert not (out / "2024-14.html").exists() and not (out / "2024-14.pdf").exists()
    assert not (out / "search" / "t" / "2024-14.js").exists()
    assert "鹦鹉螺" not in search_text(out)
    assert "2024-14" not in (out / "search" / "meta.js").read_text(encoding="utf-8")
    for name in ("index.html", "2024.html", "feed.xml", "sitemap.xml", "2024-13.html"):
        text = (out / name).read_text(encoding="utf-8")
        assert "2024-14" not in text and "鹦鹉螺" not in text, name


def test_a_signed_off_issue_must_pass_check_strict(two_issues):
    out = two_issues / "build" / "site"
    article = two_issues / "issues" / "2024" / "12" / "01.md"
    article.write_text(article.read_text(encoding="utf-8").replace("，", ",", 1), encoding="utf-8")
    strict = liandong("check", "2024/12", "--strict", cwd=two_issues)
    assert strict.returncode == 1
    finding = next(
        line for line in strict.stdout.splitlines() if line.startswith("issues/2024/12/01.md:")
    )
    result = liandong("site", cwd=two_issues)
    assert result.returncode == 1
    assert finding in result.stderr.splitlines()
    assert result.stderr.splitlines()[-1] == (
        "共 1 处提醒：已签发的各期要通过 liandong check --strict 才能发布，未生成任何文件。"
        "请改正，或把这一期改回“状态: 草稿”。"
    )
    assert not out.exists()
    # As a draft it is simply left out.
    meta = two_issues / "issues" / "2024" / "12" / "issue.yaml"
    meta.write_text(
        meta.read_text(encoding="utf-8").replace("状态: 已签发", "状态: 草稿"), encoding="utf-8"
    )
    result = liandong("site", cwd=two_issues, check=True)
    assert "草稿不发布（1 期）：2024 年第 12 期" in result.stdout
    assert not (out / "2024-12.html").exists()


@pytest.mark.parametrize("change", ["补字", "loose line"])
def test_a_notice_of_check_strict_stops_a_signed_off_issue(two_issues, change):
    """A character printed from a 补字 font and a line set past the spacing limits are notices
    that fail check --strict: a signed-off issue with one is not published either."""
    article = two_issues / "issues" / "2024" / "12" / "01.md"
    text = article.read_text(encoding="utf-8")
    if change == "补字":
        text = text.replace("省委书记", "省委书记李珺", 1)
    else:
        text += (
            "\n会议指出 Pneumonoultramicroscopicsilicovolcanoconiosiscases 是一个很长的英文单词。\n"
        )
    article.write_text(text, encoding="utf-8")
    strict = liandong("check", "2024/12", "--strict", cwd=two_issues)
    assert strict.returncode == 1
    notice = next(
        line for line in strict.stdout.splitlines() if line.startswith("issues/2024/12/01.md:")
    )
    result = liandong("site", cwd=two_issues)
    assert result.returncode == 1
    assert notice in result.stderr.splitlines()
    assert not (two_issues / "build" / "site").exists()


def test_a_numbering_warning_stops_a_signed_off_issue(two_issues):
    meta = two_issues / "issues" / "2024" / "12" / "issue.yaml"
    meta.write_text(
        meta.read_text(encoding="utf-8").replace("总期号: 713", "总期号: 714"), encoding="utf-8"
    )
    result = liandong("site", cwd=two_issues)
    assert result.returncode == 1
    assert "issues/2024/13/issue.yaml:3:6: 注意：总期号 714 与 2024 年第 12 期重复" in result.stderr


def test_without_a_signed_off_issue_there_is_nothing_to_publish(tmp_path):
    project = make_project(tmp_path / "project")
    meta = project / "issues" / "2024" / "13" / "issue.yaml"
    meta.write_text(
        meta.read_text(encoding="utf-8").replace("状态: 已签发", "状态: 草稿"), encoding="utf-8"
    )
    result = liandong("site", cwd=project)
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (
        "错误：还没有已签发的一期，网站上没有可发布的内容：一期编好、校对完毕后，"
        "在它的 issue.yaml 里写上“状态: 已签发”。"
    )


def test_a_new_issue_is_a_draft_and_stays_off_the_site(two_issues):
    liandong("new", "--date", "2024-09-06", cwd=two_issues, check=True)
    result = liandong("site", cwd=two_issues, check=True)
    assert "草稿不发布（1 期）：2024 年第 14 期" in result.stdout
    assert not (two_issues / "build" / "site" / "2024-14.html").exists()


# --- The cache: beside the site, never published, checked before use ----------------------


def test_the_manifest_is_kept_beside_the_site_not_in_it(two_issues):
    out = two_issues / "build" / "site"
    (out).mkdir(parents=True)
    (out / ".liandong-site.json").write_text("{}", encoding="utf-8")  # left by an older liandong
    liandong("site", cwd=two_issues, check=True)
    assert (two_issues / "build" / "site-cache" / "manifest.json").is_file()
    hidden = [p.name for p in out.rglob(".*")]
    assert hidden == []
    assert not any("manifest" in p.name or "cache" in p.name for p in out.rglob("*"))


@pytest.mark.parametrize(
    "issues",
    [
        {"../../../../victim": {"pdf": "0" * 64, "page": "0" * 64, "meta": {}}},
        {"2024-13": "not an entry"},
        {"2024-13": {"pdf": "x", "page": "y", "meta": None}},
    ],
    ids=["slug_out_of_the_folder", "entry_not_a_mapping", "keys_and_meta_invalid"],
)
def test_a_bad_manifest_means_rebuild_everything_and_deletes_nothing_outside(tmp_path, issues):
    project = make_project(tmp_path / "project")
    out = tmp_path / "deep" / "a" / "b" / "c" / "site"
    victims = out.parents[3]  # where out / "../../../../victim" leads
    victims.mkdir(parents=True)
    for name in ("victim.pdf", "victim.html"):
        (victims / name).write_text("keep me", encoding="utf-8")
    manifest = json.dumps({"format": 1, "issues": issues})
    out.mkdir(parents=True)
    (out / ".liandong-site.json").write_text(manifest, encoding="utf-8")  # where 0.x kept it
    cache = out.with_name("site-cache")
    cache.mkdir()
    (cache / "manifest.json").write_text(
        manifest.replace('"format": 1', '"format": 2'), encoding="utf-8"
    )
    result = liandong("site", "--out", str(out), cwd=project)
    assert result.returncode == 0, result.stderr
    assert "全部重新生成" in result.stderr
    assert "内部错误" not in result.stderr
    assert (victims / "victim.pdf").read_text(encoding="utf-8") == "keep me"
    assert (victims / "victim.html").read_text(encoding="utf-8") == "keep me"
    assert (out / "2024-13.pdf").is_file()
    assert (
        liandong("site", "--out", str(out), cwd=project, check=True).stderr.count("全部重新生成")
        == 0
    )


def _opened(tmp_path: Path, project: Path, *args: str) -> str:
    """`liandong site` under strace: every file it (and its workers) opened."""
    trace = tmp_path / "trace.txt"
    exe = Path(sys.executable).with_name("liandong")
    result = subprocess.run(
        [
            "strace",
            "-f",
            "-qq",
            "-e",
            "trace=open,openat,openat2",
            "-o",
            str(trace),
            str(exe),
            "site",
            *args,
        ],
        cwd=project,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    calls = trace.read_text()
    assert "openat" in calls
    return calls


def test_site_reads_no_large_file_and_no_link_out_of_the_project(tmp_path):
    """Change detection hashes what the build reads, streamed, and follows no link: a large
    scan left in an issue folder and a link to a file outside the project are never opened."""
    project = make_project(tmp_path / "project")
    folder = project / "issues" / "2024" / "13"
    with open(folder / "scan.tif", "wb") as big:  # sparse: large, but costs no disk
        big.truncate(3 * 1024**3)
    secret = tmp_path / "secret.txt"
    secret.write_text("secret", encoding="utf-8")
    (folder / "notes.txt").symlink_to(secret)
    for _ in range(2):  # a cold build, then one with every key cached
        calls = _opened(tmp_path, project)
        assert "scan.tif" not in calls
        assert "secret.txt" not in calls


@pytest.mark.parametrize("moved", ["issues/series.yaml", "issues"])
def test_a_link_out_of_the_project_is_refused_even_when_nothing_changed(tmp_path, moved):
    project = make_project(tmp_path / "project")
    liandong("site", cwd=project, check=True)
    outside = tmp_path / "elsewhere" / Path(moved).name
    outside.parent.mkdir()
    shutil.move(project / moved, outside)
    (project / moved).symlink_to(outside)
    result = liandong("site", cwd=project)
    assert result.returncode == 1
    assert "符号链接" in result.stderr and "不读取" in result.stderr
    assert "Traceback" not in result.stderr


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            found += [int(c) for c in (task / "children").read_text().split()]
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="the site renders in one process on one core")
def test_killing_site_ends_its_workers(tmp_path):
    project = make_project(tmp_path / "project")
    for number in (10, 11, 12):
        add_issue(project, 2024, number, 701 + number, f"2024-07-{number:02d}")
    exe = Path(sys.executable).with_name("liandong")
    site = subprocess.Popen(
        [str(exe), "site"], cwd=project, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + WAIT
    workers: list[int] = []
    while time.monotonic() < deadline and len(workers) < 2:
        assert site.poll() is None, "liandong site ended before its workers started"
        workers = [pid for pid in _children(site.pid) if _alive(pid)]
        time.sleep(0.05)
    assert len(workers) >= 2
    site.send_signal(signal.SIGKILL)
    site.wait()
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline and any(_alive(pid) for pid in workers):
        time.sleep(0.1)
    left = [pid for pid in workers if _alive(pid)]
    for pid in left:  # do not leave them behind if the test fails
        os.kill(pid, signal.SIGKILL)
    assert left == []


# --- The archive: determinism, feed and sitemap, settings ---------------------------------


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    """The archive built under srv/archive/, as a host serves it from a sub-path."""
    tmp = tmp_path_factory.mktemp("archive")
    project = archive_project(tmp / "project")
    out = tmp / "srv" / "archive"
    result = liandong("site", "--out", str(out), "--base-url", BASE, cwd=project, check=True)
    return out, result


@pytest.fixture(scope="module")
def site_dir(archive) -> Path:
    return archive[0]


def test_site_is_deterministic_across_folders(site_dir, tmp_path):
    project = archive_project(tmp_path / "elsewhere" / "copy")
    out = tmp_path / "other-out"
    liandong("site", "--out", str(out), "--base-url", BASE, cwd=project, check=True)
    texts = sorted(
        p.relative_to(site_dir).as_posix()
        for p in site_dir.rglob("*")
        if p.suffix in (".html", ".xml", ".js", ".css", ".svg")
    )
    assert len(texts) >= 20
    assert texts == sorted(
        p.relative_to(out).as_posix()
        for p in out.rglob("*")
        if p.suffix in (".html", ".xml", ".js", ".css", ".svg")
    )
    for name in texts:
        assert (site_dir / name).read_bytes() == (out / name).read_bytes(), name
    assert (site_dir.parent / "archive-cache" / "manifest.json").read_bytes() == (
        tmp_path / "other-out-cache" / "manifest.json"
    ).read_bytes()


def test_feed_holds_the_latest_issues_in_the_series_time_zone(site_dir):
    feed = ET.parse(site_dir / "feed.xml").getroot()
    assert feed.find(f"{ATOM}updated").text == "2024-08-30T00:00:00+08:00"
    assert feed.find(f"{ATOM}title").text == "联络动态网络版"
    entries = feed.findall(f"{ATOM}entry")
    # 订阅期数: 2 in series.yaml: the latest two (the draft 2024/14 is not published).
    assert [e.find(f"{ATOM}id").text for e in entries] == [
        BASE + "2024-13.html",
        BASE + "2024-12.html",
    ]
    assert entries[0].find(f"{ATOM}title").text == "联络动态 2024年第13期（总第714期）"
    assert entries[1].find(f"{ATOM}published").text == "2024-08-15T00:00:00+08:00"
    assert "沈晓明主持召开人大代表建议办理专题会议" in entries[0].find(f"{ATOM}summary").text
    assert [link.get("href") for link in entries[0].findall(f"{ATOM}link")] == [
        BASE + "2024-13.html"
    ]


def test_sitemap_has_absolute_urls_of_every_page(site_dir):
    urls = [u.find(f"{SITEMAP}loc").text for u in ET.parse(site_dir / "sitemap.xml").getroot()]
    assert urls == [
        BASE,
        BASE + "2024.html",
        BASE + "2023.html",
        BASE + "2024-13.html",
        BASE + "2024-12.html",
        BASE + "2023-20.html",
    ]


def test_published_pages_have_no_preview_script(site_dir):
    for page in site_dir.glob("*.html"):
        assert "EventSource" not in page.read_text(encoding="utf-8")


def test_the_footer_carries_the_settings_of_series_yaml(site_dir):
    for name in (
        "index.html",
        "2024.html",
        "2024-13.html",
        "search.html",
        "subscribe.html",
        "404.html",
    ):
        text = (site_dir / name).read_text(encoding="utf-8")
        assert "主办单位：湖南省人大常委会办公厅" in text, name
        assert (
            '<a href="https://beian.miit.gov.cn/" rel="noopener">湘ICP备12345678号-1</a>' in text
        ), name
        assert "code=43010502000001" in text and "湘公网安备 43010502000001号" in text, name
        assert "联系方式：0731—85300000" in text, name
        assert "联络动态网络版" in text, name


def test_nu_html_checker_finds_no_errors(site_dir):
    assert VNU.is_file(), "vnu.jar is missing: bash setup.sh installs it (npm ci)"
    pages = sorted(str(p) for p in site_dir.glob("*.html"))
    assert [Path(p).name for p in pages] == [
        "2023-20.html",
        "2023.html",
        "2024-12.html",
        "2024-13.html",
        "2024.html",
        "404.html",
        "index.html",
        "search.html",
        "subscribe.html",
    ]
    result = subprocess.run(
        ["java", "-jar", str(VNU), "--errors-only", *pages], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


# --- In chromium, served from a sub-path ----------------------------------------------


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - http.server's own signature
        pass


@pytest.fixture(scope="module")
def site_url(site_dir):
    """A plain static host on 127.0.0.1 serving the site under /archive/."""
    handler = functools.partial(_Quiet, directory=str(site_dir.parent))
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
    # A request the browser cancels itself (a favicon still loading when the test navigates on,
    # under load) is not the site's failure; any other failed request is.
    page.on(
        "requestfailed",
        lambda r: (
            None
            if r.failure == "net::ERR_ABORTED"
            else errors.append(f"failed: {r.url} ({r.failure})")
        ),
    )
    page.on(
        "response", lambda r: errors.append(f"{r.status}: {r.url}") if r.status >= 400 else None
    )
    yield page
    assert errors == []
    page.close()


def fits_width(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_home_holds_the_latest_issues_and_the_years(page, site_url):
    page.goto(site_url)
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    links = page.locator(".latest .issue-head a")
    assert [links.nth(i).get_attribute("href") for i in range(links.count())] == [
        "2024-13.html",
        "2024-12.html",
        "2023-20.html",
    ]
    first = page.locator(".latest .issues > li").first.inner_text()
    for text in (
        "第 13 期",
        "总第七百一十四期",
        "2024年8月30日",
        "沈晓明主持召开人大代表建议办理专题会议",
    ):
        assert text in first
    assert page.locator(".year-list a").evaluate_all("a => a.map(x => x.getAttribute('href'))") == [
        "2024.html",
        "2023.html",
    ]
    assert page.locator(".year-list .count").all_inner_texts() == ["2 期", "1 期"]
    assert page.locator(".site-bar a", has_text="订阅").get_attribute("href") == "subscribe.html"
    assert fits_width(page)


def test_a_year_page_lists_its_issues_with_breadcrumbs(page, site_url):
    page.goto(site_url + "2024.html")
    assert page.locator("h1").inner_text() == "2024年（共 2 期）"
    assert page.locator(".breadcrumbs li").all_inner_texts() == ["首页", "2024年"]
    assert page.locator(".issues .issue-head a").evaluate_all(
        "a => a.map(x => x.getAttribute('href'))"
    ) == ["2024-13.html", "2024-12.html"]
    assert page.locator("a[rel=prev]").get_attribute("href") == "2023.html"
    assert fits_width(page)
    article = page.locator(".titles a").first
    assert article.get_attribute("href") == "2024-13.html#a1"
    article.click()
    page.wait_for_url("**/2024-13.html#a1")
    assert page.evaluate("document.querySelector(':target').tagName") == "ARTICLE"


def test_an_issue_page_has_breadcrumbs_a_table_of_contents_and_article_anchors(page, site_url):
    page.goto(site_url + "2024-13.html")
    assert page.locator(".breadcrumbs li").all_inner_texts() == ["首页", "2024年", "第 13 期"]
    assert page.locator(".breadcrumbs a").evaluate_all(
        "a => a.map(x => x.getAttribute('href'))"
    ) == ["index.html", "2024.html"]
    toc = page.locator(".toc a")
    assert toc.all_inner_texts() == [
        "编者按",
        "沈晓明主持召开人大代表建议办理专题会议",
        "印刷版 PDF",
    ]
    for link in toc.evaluate_all("a => a.map(x => x.getAttribute('href'))")[:-1]:
        assert page.locator(link).count() == 1
    assert page.locator("article").get_attribute("id") == "a1"
    assert page.locator(".draft-note").count() == 0
    assert fits_width(page)


def test_kai_text_sets_quote_marks_full_width(page, site_url):
    """The editor's note is in Kai, whose open default (LXGW WenKai) has narrow quote marks: on
    the page they take a full character cell, as in the PDF."""
    page.goto(site_url + "2024-13.html")
    widths = page.evaluate("""() => {
        const note = document.querySelector('.note p');
        const size = parseFloat(getComputedStyle(note).fontSize);
        const walker = document.createTreeWalker(note, NodeFilter.SHOW_TEXT);
        const out = [];
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            for (let i = 0; i < node.data.length; i++) {
                if ('“”'.includes(node.data[i])) {
                    const range = document.createRange();
                    range.setStart(node, i); range.setEnd(node, i + 1);
                    out.push([range.getBoundingClientRect().width / size,
                              node.data.slice(Math.max(0, i - 1), i + 2)]);
                }
            }
        }
        return out;
    }""")
    # Between Chinese characters a quote takes a full cell; next to another mark (”，) the
    # browser compresses the pair, as the PDF does (clreq).
    alone = [width for width, around in widths if not set(around) & set("，。、；：（）《》")]
    assert len(alone) >= 4
    assert all(width > 0.9 for width in alone), widths


def test_the_search_button_stays_on_the_line_of_its_field(page, site_url):
    for path in ("", "search.html"):
        page.goto(site_url + path)
        field = page.locator("#q").bounding_box()
        button = page.locator(".search-form button").bounding_box()
        assert abs(field["y"] + field["height"] / 2 - button["y"] - button["height"] / 2) < 2
        assert button["x"] > field["x"]


def test_the_subscription_page_explains_the_feed(page, site_url):
    page.goto(site_url + "subscribe.html")
    assert page.locator("h1").inner_text() == "订阅联络动态网络版"
    assert page.locator("#feed-url").input_value() == BASE + "feed.xml"
    assert "最近 2 期" in page.locator("main").inner_text()


@pytest.mark.parametrize(
    "query, expected",
    [
        ("乙烯", ["2024-13", "2023-20"]),
        ("烯", ["2024-13", "2023-20"]),
        ("沈晓明", ["2024-13", "2024-12"]),  # in 2024/13's title, in 2024/12's body only
        ("湘党简准字", ["2024-13", "2024-12", "2023-20"]),  # only in the 版记: newest first
        ("代表联络站建设推进会", ["2024-12"]),
    ],
)
def test_search_finds_issues_ranks_them_and_marks_the_passage(page, site_url, query, expected):
    page.goto(site_url + "search.html")
    page.fill("#q", query)
    page.press("#q", "Enter")
    page.wait_for_url("**/archive/search.html?q=*")
    page.wait_for_selector("#search-results > li .snippets li")
    hrefs = page.locator("#search-results .issue-head a").evaluate_all(
        "links => links.map(a => a.getAttribute('href').split('.html')[0])"
    )
    assert hrefs == expected
    marks = page.locator("#search-results mark").all_inner_texts()
    assert marks and set(marks) == {query}
    assert query in page.locator("#search-status").inner_text()
    assert fits_width(page)


@pytest.mark.parametrize(
    "query", ["第13期", "2024年第13期", "714", "总第714期", "总第七百一十四期"]
)
def test_search_finds_an_issue_by_its_number(page, site_url, query):
    page.goto(site_url + "search.html?q=" + query)
    page.wait_for_selector("#search-results > li")
    hrefs = page.locator("#search-results .issue-head a").evaluate_all(
        "links => links.map(a => a.getAttribute('href'))"
    )
    assert hrefs[0] == "2024-13.html"
    assert "期号相符" in page.locator("#search-results > li").first.inner_text()


def test_search_finds_nothing_for_absent_text(page, site_url):
    page.goto(site_url + "search.html?q=" + "量子计算机")
    page.wait_for_function(
        "document.getElementById('search-status').textContent.includes('没有找到')"
    )
    assert page.locator("#search-results > li").count() == 0
    assert page.locator("#search-status").inner_text() == "没有找到含有“量子计算机”的内容。"


def test_search_result_leads_to_the_article_and_the_passage(page, site_url):
    page.goto(site_url + "search.html?q=乙烯")
    link = page.locator("#search-results .snippets a").first
    page.wait_for_selector("#search-results .snippets a")
    assert link.get_attribute("href").startswith("2024-13.html#a1:~:text=")
    link.click()
    page.wait_for_url("**/archive/2024-13.html*")
    assert "乙烯" in page.locator("main").inner_text()


def test_search_loads_nothing_before_a_query_and_only_its_pieces_after(browser, site_url):
    page = browser.new_page()
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url.replace(site_url, "")))
    page.goto(site_url + "search.html")
    page.wait_for_load_state("networkidle")
    assert [r for r in requests if r.startswith("search/")] == []
    page.fill("#q", "乙烯")
    page.press("#q", "Enter")
    page.wait_for_selector("#search-results > li .snippets li")
    page.wait_for_load_state("networkidle")
    loaded = sorted(r for r in requests if r.startswith("search/"))
    shards = [r for r in loaded if r.startswith("search/s/")]
    assert "search/meta.js" in loaded
    assert len(shards) == 1  # one bigram: one piece of the index
    assert sorted(r for r in loaded if r.startswith("search/t/")) == [
        "search/t/2023-20.js",
        "search/t/2024-13.js",
    ]  # the texts of the issues shown
    assert len(loaded) == 4
    page.close()


def test_issue_page_shows_masthead_text_and_its_pdf(page, site_url):
    page.goto(site_url + "2024-12.html")
    assert page.locator(".masthead .name").inner_text().replace(" ", "") == "联络动态"
    assert "第 12 期" in page.locator(".masthead").inner_text()
    assert "省人大常委会召开代表联络站建设推进会" in page.locator("article h2").first.inner_text()
    assert "芳烃" in page.locator("main").inner_text()
    link = page.locator(".download a[href='2024-12.pdf']")
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


@pytest.mark.parametrize(
    "path",
    [
        "",
        "2024.html",
        "search.html?q=乙烯",
        "search.html?q=湘党简准字",
        "subscribe.html",
        "2024-13.html",
        "2023-20.html",
        "404.html",
    ],
)
def test_axe_finds_no_serious_violations(page, site_url, path):
    assert AXE.is_file(), "axe-core is missing: bash setup.sh installs it (npm ci)"
    page.goto(site_url + path)
    if "?q=" in path:
        page.wait_for_selector("#search-results > li .snippets li")
    page.add_script_tag(path=str(AXE))
    violations = page.evaluate("""async () => (await axe.run()).violations
        .filter(v => v.impact === 'serious' || v.impact === 'critical')
        .map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '))""")
    assert violations == []


def test_site_publishes_each_issues_ofd_when_the_series_asks(tmp_path):
    """网站附带: OFD puts 2024-13.ofd beside 2024-13.pdf, linked from the issue's page; without
    it there is neither file nor link."""
    project = make_project(tmp_path / "with")
    series = project / "issues" / "series.yaml"
    series.write_text(series.read_text(encoding="utf-8") + "网站附带:\n  - OFD\n", encoding="utf-8")
    out = tmp_path / "site"
    liandong("site", "--out", str(out), cwd=project, check=True)
    assert (out / "2024-13.ofd").read_bytes()[:2] == b"PK"
    link = '<a href="2024-13.ofd" type="application/ofd">OFD 版式文件（与印刷版同一版面）</a>'
    assert link in (out / "2024-13.html").read_text(encoding="utf-8")

    plain = make_project(tmp_path / "without")
    out = tmp_path / "plain"
    liandong("site", "--out", str(out), cwd=plain, check=True)
    assert not (out / "2024-13.ofd").exists()
    assert ".ofd" not in (out / "2024-13.html").read_text(encoding="utf-8")
