"""The web page in a real browser (Debian's chromium): a 375 px phone and a desktop."""

from __future__ import annotations

import pytest


@pytest.fixture(params=[375, 1280], ids=["phone", "desktop"])
def page(request, browser, sample_build):
    page = browser.new_page(viewport={"width": request.param, "height": 800})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(sample_build["html"].as_uri())
    yield page, request.param
    assert errors == []
    page.close()


def test_no_sideways_scrolling_and_readable_type(page):
    page, width = page
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    body_size = page.evaluate(
        "parseFloat(getComputedStyle(document.querySelector('article p')).fontSize)"
    )
    assert body_size >= 16
    column = page.evaluate("document.querySelector('main').getBoundingClientRect().width")
    assert column <= min(width, 720)
    line = page.evaluate(
        "parseFloat(getComputedStyle(document.querySelector('article p')).lineHeight)"
    )
    assert line >= 1.6 * body_size


def test_red_masthead_and_rule(page):
    page, _ = page
    red = "rgb(230, 0, 18)"
    assert page.evaluate("getComputedStyle(document.querySelector('.masthead .name')).color") == red
    assert (
        page.evaluate(
            "getComputedStyle(document.querySelector('.masthead .meta')).borderBottomColor"
        )
        == red
    )
    name_box = page.evaluate(
        "document.querySelector('.masthead .name').getBoundingClientRect().toJSON()"
    )
    assert name_box["height"] > 40


def test_banji_lines_start_flush_left(page):
    page, _ = page
    for selector in (".banji .list", ".banji .approval"):
        assert (
            page.evaluate(f"getComputedStyle(document.querySelector('{selector}')).textIndent")
            == "0px"
        )


def test_pdf_link_is_visible(page):
    page, _ = page
    link = page.locator("a[href='2024-13.pdf']")
    assert link.is_visible()
    assert "下载印刷版 PDF" in link.inner_text()


@pytest.fixture(scope="module")
def banji_case(tmp_path_factory):
    """The 版记 with every part: 报, 送, 发, a short 联系方式 and a print count."""
    from conftest import FIXTURES, liandong, make_project

    case = FIXTURES / "banji" / "report_send_and_issue_lists"
    project = make_project(
        tmp_path_factory.mktemp("banji"),
        overrides={"issues/series.yaml": (case / "issues" / "series.yaml").read_bytes()},
    )
    liandong("build", "13", "--out", "out", cwd=project, check=True)
    return project / "out" / "2024-13.html"


@pytest.mark.parametrize("width", [375, 1280])
def test_banji_parts_sit_where_the_print_puts_them(browser, banji_case, width):
    page = browser.new_page(viewport={"width": width, "height": 800})
    page.goto(banji_case.as_uri())
    layout = page.evaluate("""() => {
        const box = e => e.getBoundingClientRect().toJSON();
        const inner = p => { const b = box(p), s = getComputedStyle(p);
            return {left: b.left + parseFloat(s.paddingLeft), right: b.right - parseFloat(s.paddingRight)}; };
        const banji = document.querySelector('.banji');
        const rows = [...banji.children];
        return {
            labels: [...banji.querySelectorAll('.list .label')].map(e => e.textContent),
            order: rows.map(p => p.className),
            outer: [getComputedStyle(banji).borderTopWidth, getComputedStyle(banji).borderBottomWidth],
            inner: rows.slice(1).map(p => getComputedStyle(p).borderTopWidth),
            credits: {p: inner(rows.find(p => p.matches('.credits'))),
                      spans: [...banji.querySelectorAll('.credits span')].map(box)},
            approval: {p: inner(rows.find(p => p.matches('.approval'))),
                       spans: [...banji.querySelectorAll('.approval span')].map(box),
                       text: banji.querySelector('.approval .count').textContent},
        };
    }""")
    page.close()
    assert layout["labels"] == ["报：", "送：", "发："]
    assert layout["order"] == ["lists", "credits", "approval"]  # no rule between 报, 送, 发
    assert layout["outer"] == ["2px", "2px"] and set(layout["inner"]) == {"1px"}
    editor, contact = layout["credits"]["spans"]
    p = layout["credits"]["p"]
    assert editor["left"] == pytest.approx(p["left"], abs=1)
    if contact["top"] == editor["top"]:  # one line: 联系方式 at the right
        assert contact["right"] == pytest.approx(p["right"], abs=1)
    else:  # its own line, flush left
        assert contact["left"] == pytest.approx(p["left"], abs=1)
    approval, count = layout["approval"]["spans"]
    p = layout["approval"]["p"]
    assert layout["approval"]["text"] == "（共印 3000 份）"
    assert approval["left"] == pytest.approx(p["left"], abs=1)
    assert count["right"] == pytest.approx(p["right"], abs=1)  # flush right, wrapped or not
    if width == 1280:
        assert contact["top"] == editor["top"] and count["top"] == approval["top"]
