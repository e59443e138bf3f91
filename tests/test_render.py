"""The issue's web page: same content and identity as the PDF, semantic, readable on a phone."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from conftest import REPO
from liandong.fonts import Measurer, resolve_fonts
from liandong.render import build_context, render_print, render_web, template_environment
from liandong.validate import load_issues
from test_roundtrip import pdf_text


class _Outline(HTMLParser):
    """Collects elements with their attributes and text, and the page's visible text."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict, list[str]]] = []
        self.stack: list[tuple[str, dict, list[str]]] = []
        self.text: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("style", "script", "title"):
            self._skip += 1
        entry = (tag, dict(attrs), [])
        self.elements.append(entry)
        if tag not in ("meta", "link", "br", "img"):
            self.stack.append(entry)

    def handle_endtag(self, tag):
        if tag in ("style", "script", "title"):
            self._skip -= 1
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data):
        for entry in self.stack:
            entry[2].append(data)
        if not self._skip:
            self.text.append(data)

    def find(self, tag: str, cls: str | None = None) -> list[str]:
        return ["".join(parts) for name, attrs, parts in self.elements
                if name == tag and (cls is None or cls in attrs.get("class", "").split())]


@pytest.fixture(scope="module")
def page(sample_build) -> _Outline:
    outline = _Outline()
    outline.feed(sample_build["html"].read_text(encoding="utf-8"))
    return outline


@pytest.fixture(scope="module")
def context():
    fonts = resolve_fonts(REPO / "fonts")
    problems: list = []
    issue = load_issues(REPO, [REPO / "issues" / "2024" / "13"], problems)[0]
    assert problems == []
    return build_context(issue, fonts, Measurer(fonts))


def test_html_is_chinese_and_titled(sample_build, page):
    html = sample_build["html"].read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>\n<html lang=\"zh-CN\">")
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert "<title>联络动态 2024年第13期（总第714期）</title>" in html


def test_masthead_matches_the_pdf(page):
    assert page.find("h1") == ["联络动态"]
    assert page.find("p", "number") == ["第 13 期"]
    assert page.find("p", "total") == ["（总第七百一十四期）"]
    assert page.find("time") == ["2024年8月30日"]
    assert page.find("span", "compiler") == ["湖南省人大常委会代表工作委员会编"]
    time = next(attrs for tag, attrs, _ in page.elements if tag == "time")
    assert time["datetime"] == "2024-08-30"


def test_semantic_structure(page):
    tags = [tag for tag, _, _ in page.elements]
    for tag in ("header", "main", "article", "footer", "section"):
        assert tag in tags
    assert page.find("h2", "title") == ["沈晓明主持召开人大代表建议办理专题会议"]
    assert page.find("p", "subtitle") == ["切实把代表的“金点子”转化为促进改革发展的“金钥匙”"]
    note = next(attrs for tag, attrs, _ in page.elements if tag == "section")
    assert note["aria-label"] == "编者按"


def test_links_the_pdf_next_to_it(sample_build, page):
    links = [attrs["href"] for tag, attrs, _ in page.elements if tag == "a"]
    assert links == ["2024-13.pdf"]
    assert (sample_build["html"].parent / links[0]).is_file()


def test_same_text_as_the_pdf(sample_build, page):
    """Every word of the PDF is on the page and nothing else but the download link."""
    web = re.sub(r"\s+", "", "".join(page.text))
    link = re.sub(r"\s+", "", page.find("a")[0])
    assert web.endswith(link)
    printed = re.sub(r"\s+", "", pdf_text(sample_build["pdf"]))
    assert web[: -len(link)] == printed


def test_print_and_web_come_from_one_context(context):
    env = template_environment(REPO)
    print_html, web_html = render_print(env, context), render_web(env, context)
    for article in context.values["articles"]:
        for paragraph in article["blocks"]:
            assert paragraph.text in web_html
            joined = "".join(line.text for line in paragraph.lines)
            assert joined == paragraph.text
            for line in paragraph.lines:
                assert line.pieces[0].text in print_html


def test_raw_html_in_sources_is_escaped(tmp_path):
    from conftest import liandong, make_project

    article = ("---\n标题: 测试<b>标题</b>\n---\n\n正文<script>alert(1)</script>段落，"
               "<img src=\"http://169.254.169.254/x\">结束。\n")
    project = make_project(tmp_path, overrides={"issues/2024/13/01.md": article})
    liandong("build", "13", "--out", str(tmp_path / "out"), cwd=project, check=True)
    html = (tmp_path / "out" / "2024-13.html").read_text(encoding="utf-8")
    assert "<script>alert" not in html and "<img" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    printed = re.sub(r"\s+", "", pdf_text(tmp_path / "out" / "2024-13.pdf"))
    assert "正文<script>alert(1)</script>段落" in printed  # printed as text, never run
