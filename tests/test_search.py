"""The site's search (liandong/search.py and templates/site_search.js) in chromium, on an archive
of 25 issues whose index is built without typesetting: exactness, ranking, pages of results,
boilerplate, shards split by the second character."""

from __future__ import annotations

import functools
import http.server
import threading

import pytest

from conftest import add_issue, make_project
from liandong import search


def _issue_date(number: int) -> str:
    return f"2023-{(number + 1) // 2:02d}-{8 if number % 2 else 22:02d}"


@pytest.fixture(scope="module")
def search_url(tmp_path_factory):
    """Issue 13 and 2023/1–24; 2023/5 has 乙烯 in a title, 2023/7 none at all, 2023/9 a title
    made for exactness tests. Small shards, so that characters get shards of their own."""
    from liandong.site import SitePlan

    tmp = tmp_path_factory.mktemp("search")
    project = make_project(tmp / "project")
    titles = {5: "乙烯项目推进会议召开", 9: "鹦鹉螺化石展和化石鹦鹉螺"}
    for number in range(1, 25):
        add_issue(
            project,
            2023,
            number,
            665 + number,
            _issue_date(number),
            titles.get(number),
            replace={"乙烯": "芳烃"} if number == 7 else None,
        )
    out = tmp / "site"
    patch = pytest.MonkeyPatch()
    patch.setattr(search, "SHARD_BYTES", 3000)
    try:
        plan = SitePlan(project, out)
        plan.plan()
        files = plan.site_files()
        plan.write_site(files)
    finally:
        patch.undo()
    assert any(
        name.startswith("search/s/c") for name in files
    )  # characters with shards of their own

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format, *args):  # noqa: A002 - http.server's own signature
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(out))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture
def page(browser):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    yield page
    assert errors == []
    page.close()


def results(page) -> list[str]:
    return page.locator("#search-results .issue-head a").evaluate_all(
        "links => links.map(a => a.getAttribute('href').split('.html')[0])"
    )


def run(page, url: str, query: str) -> None:
    page.goto(url + "search.html?q=" + query)
    page.wait_for_function(
        "!document.getElementById('search-status').textContent.startsWith('正在搜索')"
    )


def test_results_come_ranked_in_pages_without_a_reload(page, search_url):
    run(page, search_url, "乙烯")
    assert page.locator("#search-status").inner_text().startswith("找到 24 期含有“乙烯”")
    first = results(page)
    assert len(first) == 10
    assert first[0] == "2023-05"  # in a title: first; then the newest
    assert first[1:4] == ["2024-13", "2023-24", "2023-23"]
    assert "见于标题" in page.locator("#search-results > li").first.inner_text()
    assert page.locator("#search-pages span").inner_text() == "第 1 / 3 页"
    page.evaluate("window.__stayed = true")
    page.get_by_role("button", name="下一页").click()
    page.wait_for_function(
        "document.querySelector('#search-pages span').textContent === '第 2 / 3 页'"
    )
    second = results(page)
    assert len(second) == 10 and not set(second) & set(first)
    assert page.url.endswith("p=2")
    page.get_by_role("button", name="下一页").click()
    page.wait_for_function(
        "document.querySelector('#search-pages span').textContent === '第 3 / 3 页'"
    )
    third = results(page)
    assert len(third) == 4 and "2023-07" not in first + second + third
    assert page.get_by_role("button", name="下一页").is_disabled()
    page.go_back()
    page.wait_for_function(
        "document.querySelector('#search-pages span').textContent === '第 2 / 3 页'"
    )
    assert results(page) == second
    assert page.evaluate("window.__stayed") is True  # the same document all along


@pytest.mark.parametrize(
    "query, expected",
    [
        ("鹦鹉螺化石", ["2023-09"]),
        ("化石鹦鹉", ["2023-09"]),
        ("螺化石鹦", []),  # its bigrams are in the title, but not one after the other
        ("鹦鹉螺 乙烯", ["2023-09"]),  # two words: both in the issue
        ("鹦鹉螺 芳烃", []),
    ],
)
def test_matching_is_exact(page, search_url, query, expected):
    run(page, search_url, query)
    assert results(page) == expected


def test_boilerplate_ranks_last_and_is_said_so(page, search_url):
    run(page, search_url, "HNRLDGWXRC@163")  # the e-mail in 联系方式, any case
    status = page.locator("#search-status").inner_text()
    assert status.startswith("找到 25 期含有“HNRLDGWXRC@163”，其中 25 期只在报头或版记中出现")
    assert results(page)[:2] == ["2024-13", "2023-24"]
    assert page.locator("#search-results mark").first.inner_text() == "hnrldgwxrc@163"


def test_a_title_hit_outranks_the_boilerplate(page, search_url):
    run(page, search_url, "推进会议")
    assert results(page) == ["2023-05"]
    assert (
        page.locator("#search-results .snippets a")
        .first.get_attribute("href")
        .startswith("2023-05.html#a1:~:text=")
    )


def test_one_character_is_found_through_every_bigram_it_starts(page, search_url):
    run(page, search_url, "螺")
    assert results(page) == ["2023-09"]
    run(page, search_url, "烯")
    assert page.locator("#search-status").inner_text().startswith("找到 24 期")


def test_the_number_encoding_round_trips():
    for value in (0, 1, 31, 32, 1023, 1024, 70000, 2**31):
        text = search.encode(value)
        assert all(c in search.VARINT_MORE for c in text[:-1]) and text[-1] in search.VARINT_LAST
        decoded, scale = 0, 1
        for char in text:
            digit = (
                search.VARINT_MORE.index(char)
                if char in search.VARINT_MORE
                else search.VARINT_LAST.index(char)
            )
            decoded += digit * scale
            scale *= 32
        assert decoded == value
