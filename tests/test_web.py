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
    body_size = page.evaluate("parseFloat(getComputedStyle(document.querySelector('article p')).fontSize)")
    assert body_size >= 16
    column = page.evaluate("document.querySelector('main').getBoundingClientRect().width")
    assert column <= min(width, 720)
    line = page.evaluate("parseFloat(getComputedStyle(document.querySelector('article p')).lineHeight)")
    assert line >= 1.6 * body_size


def test_red_masthead_and_rule(page):
    page, _ = page
    red = "rgb(230, 0, 18)"
    assert page.evaluate("getComputedStyle(document.querySelector('.masthead .name')).color") == red
    assert page.evaluate("getComputedStyle(document.querySelector('.masthead .meta')).borderBottomColor") == red
    name_box = page.evaluate("document.querySelector('.masthead .name').getBoundingClientRect().toJSON()")
    assert name_box["height"] > 40


def test_banji_lines_start_flush_left(page):
    page, _ = page
    for selector in (".banji .list", ".banji .approval"):
        assert page.evaluate(f"getComputedStyle(document.querySelector('{selector}')).textIndent") == "0px"


def test_pdf_link_is_visible(page):
    page, _ = page
    link = page.locator("a[href='2024-13.pdf']")
    assert link.is_visible()
    assert "下载印刷版 PDF" in link.inner_text()
