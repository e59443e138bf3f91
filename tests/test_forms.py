"""Issue 13's forms in print, on the web page, in the tagged PDF and the search text: run-in
headings, lists, tables, 注 notes and figures, built from one project by the real command."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pdfplumber
import pikepdf
import pytest

from conftest import FIXTURES, REPO, liandong, make_project
from test_validate import overrides

CASE = FIXTURES / "forms" / "all_forms"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """`liandong build 13 --print-shop` of the sample with its article replaced by one that
    has every form, and two more articles, 2.md and 10.md."""
    tmp = tmp_path_factory.mktemp("forms")
    root = make_project(tmp, overrides=overrides(CASE))
    result = liandong("build", "13", "--print-shop", "--out", str(tmp / "out"), cwd=root)
    assert result.returncode == 0, result.stderr
    return {
        "root": root,
        "pdf": tmp / "out" / "2024-13.pdf",
        "shop": tmp / "out" / "2024-13-print.pdf",
        "html": (tmp / "out" / "2024-13.html").read_text(encoding="utf-8"),
        "stderr": result.stderr,
    }


def _lines(pdf: Path) -> list[tuple[int, float, list[dict]]]:
    """(page, baseline, chars left to right) of every line of text."""
    out = []
    with pdfplumber.open(pdf) as doc:
        for number, page in enumerate(doc.pages, start=1):
            rows: dict[float, list[dict]] = {}
            for char in page.chars:
                key = round(char["matrix"][5], 1)
                rows.setdefault(key, []).append(char)
            for key in sorted(rows, reverse=True):
                out.append((number, key, sorted(rows[key], key=lambda c: c["x0"])))
    return out


def _text(chars: list[dict]) -> str:
    return "".join(c["text"] for c in chars)


def _line_starting(pdf: Path, start: str):
    for page, baseline, chars in _lines(pdf):
        if _text(chars).replace(" ", "").startswith(start):
            return page, baseline, chars
    raise AssertionError(f"no line starts with {start}")


def test_a_run_in_heading_is_one_paragraph_in_two_faces(built):
    """Issue 13: "（一）联络站建设全面铺开。各市州……" written as a heading was all Kai (and as
    text, all FangSong). Its phrase prints in Kai, the text after it on the same line in the
    body's FangSong."""
    _, _, chars = _line_starting(built["pdf"], "（一）联络站建设全面铺开。各市州")
    phrase = len("（一）联络站建设全面铺开。")
    assert {c["fontname"].split("+")[1] for c in chars[:phrase]} == {"LXGW-WenKai"}
    assert chars[phrase]["text"] == "各"
    assert chars[phrase]["fontname"].split("+")[1] == "FandolFang"


def test_a_third_level_run_in_heading_is_bold(built):
    """1. and （1） run-in phrases are bold FangSong. FandolFang has no bold face: its bold is
    drawn stroked (text rendering mode 2), where WeasyPrint alone printed it regular."""
    _, _, chars = _line_starting(built["pdf"], "1.完善制度体系。市人大")
    assert chars[0]["fontname"].endswith("FandolFang-Bold")
    assert chars[len("1.完善制度体系。")]["fontname"].endswith("FandolFang")
    with pikepdf.open(built["pdf"]) as pdf:
        for page in pdf.pages:
            fonts = {str(k): str(v.BaseFont) for k, v in page.Resources.Font.items()}
            mode, seen = 0, False
            for operands, operator in pikepdf.parse_content_stream(page, "Tf Tr Tj TJ"):
                op = str(operator)
                if op == "Tr":
                    mode = int(operands[0])
                elif op == "Tf":
                    bold = fonts[str(operands[0])].endswith("FandolFang-Bold")
                elif op in ("Tj", "TJ") and bold:
                    assert mode == 2
                    seen = True
            if seen:
                break
        assert seen


def test_list_items_are_separate_lines_with_their_markers(built):
    """Issue 13: list items merged into one paragraph ("- 第一项……；- 第二项……"). Each item
    starts a line with its marker; an item's second line hangs after the marker."""
    page, baseline, first = _line_starting(built["pdf"], "组织代表接待群众")
    lines = [l for l in _lines(built["pdf"]) if l[0] == page and _text(l[2]) != "●"]
    bullets = [c for l in _lines(built["pdf"]) if l[0] == page for c in l[2] if c["text"] == "●"]
    # The bullet, at half size, stands before the item's first character, in its line.
    assert any(b["x1"] <= first[0]["x0"] and abs(b["matrix"][5] - baseline) < 8 for b in bullets)
    index = next(i for i, l in enumerate(lines) if l[2] == first)
    continued = lines[index + 1][2]
    assert not _text(continued).startswith("组织代表开展")
    assert abs(continued[0]["x0"] - first[0]["x0"]) < 0.5  # under the text, not the marker
    assert _text(lines[index + 2][2]).startswith("组织代表开展视察调研")
    assert len(bullets) == 2
    assert _text(lines[index + 3][2]).startswith("1.推进联络站标准化建设")
    assert _text(lines[index + 4][2]).startswith("2.加强联络站工作人员培训")
    assert "- " not in "".join(_text(l[2]) for l in lines)


def test_a_table_prints_its_cells_in_order_with_rules(built):
    """Issue 13: a table printed as "| 地区 | 基站数 | 普及率 ||---|---|---||…". Its caption,
    then its rows, the cells in their columns, ruled all round; numbers right, their decimal
    points in line."""
    pdf = built["pdf"]
    page, _, caption = _line_starting(pdf, "表1")
    lines = [l for l in _lines(pdf) if l[0] == page]
    index = next(i for i, l in enumerate(lines) if l[2] == caption)
    rows = [_text(l[2]) for l in lines[index + 1 : index + 4]]
    assert rows == ["地区联络站（个）覆盖率", "长沙市1,26898.5%", "株洲市562100%"]
    assert "|" not in "".join(_text(l[2]) for l in lines)
    with pdfplumber.open(pdf) as doc:
        rects = doc.pages[page - 1].rects
    assert len(rects) >= 9 * 2  # every cell ruled all round
    dots = [c for l in lines[index + 2 : index + 4] for c in l[2] if c["text"] in ".%"]
    assert abs(dots[0]["x0"] - dots[2]["x0"]) < 0.1  # 98.5% and 100%: . and % in line


def test_a_figure_prints_its_picture_and_caption(built):
    with pdfplumber.open(built["pdf"]) as doc:
        pages = [p for p in doc.pages if p.images]
        assert len(pages) == 1
        image = pages[0].images[0]
        caption = next(c for c in pages[0].chars if c["text"] == "图")
    assert image["bottom"] <= caption["top"]
    assert abs((image["x0"] + image["x1"]) / 2 - (caption["x0"] + caption["x1"]) / 2) < 120


def test_the_print_shop_pdf_gets_the_picture_in_cmyk(built):
    """The archival PDF prints the photo in RGB; the print shop's in CMYK, separated through a
    profile (a dark grey prints mostly on the black plate, not as four equal inks)."""
    with pikepdf.open(built["pdf"]) as pdf:
        image = next(pikepdf.PdfImage(x) for p in pdf.pages for x in p.get_images().values())
        assert str(image.obj.ColorSpace) == "/DeviceRGB"
    with pikepdf.open(built["shop"]) as pdf:
        image = next(pikepdf.PdfImage(x) for p in pdf.pages for x in p.get_images().values())
        assert str(image.obj.ColorSpace) == "/DeviceCMYK"
        pixels = image.as_pil_image()
    c, m, y, k = pixels.getpixel((650, 200))  # the red
    assert c < 40 and m > 180 and y > 180
    c, m, y, k = pixels.getpixel((650, 850))  # the dark grey
    assert k > 120 and max(c, m, y) - min(c, m, y) < 60


def test_asterisks_underscores_and_backslashes_print_as_written(built):
    """Issue 13: "注：*号表示必填项*" printed as "注：号表示必填项", 4*4 as 44, escapes vanished."""
    with pdfplumber.open(built["pdf"]) as doc:
        text = re.sub(r"\s", "", "".join(p.extract_text() or "" for p in doc.pages))
    assert "注：*号表示必填项*，4*4的格子，a*b，\\和C:\\文件照原样印出。" in text


def test_articles_print_in_numeric_order(built):
    """Issue 13: 1.md, 10.md, 2.md printed in that order."""
    with pdfplumber.open(built["pdf"]) as doc:
        text = "".join(p.extract_text() or "" for p in doc.pages)
    assert text.index("全省代表联络站建设情况") < text.index("第二篇") < text.index("第十篇")


def test_the_web_page_shows_the_same_forms(built):
    html = built["html"]
    assert '<span class="kai">（一）联络站建设全面铺开。</span>各市州' in html
    assert "<strong>1.完善制度体系。</strong>" in html
    assert re.search(
        r'<ul class="list cells-1">\s*<li><span class="lbl">●</span>组织代表接待群众', html
    )
    assert re.search(r'<ol class="list cells-1">\s*<li><span class="lbl">1.</span>推进', html)
    assert "<caption>表1　各市州代表联络站建设情况</caption>" in html
    assert '<th scope="col">联络站（个）</th>' in html
    assert re.search(r'<td class="right"[^>]*>1,268</td>', html)
    assert re.search(
        r'<img src="data:image/jpeg;base64,[A-Za-z0-9+/=]+" alt="图1　代表在联络站接待群众"', html
    )
    assert '<div class="zhu" role="note">' in html
    assert '<span class="lbl">注：</span>*号表示必填项*，4*4 的格子，a*b，\\ 和 C:\\文件' in html


def test_the_web_page_hangs_list_items_as_print_does(built, browser, tmp_path):
    """The web page sets a list as the PDF does: the marker at the paragraph's two-character
    indent, the item's text one character further in, its second line under that text (the
    bullet and the number were 1 and 1.5 characters in, each list its own way)."""
    page_file = tmp_path / "forms.html"
    page_file.write_text(built["html"], encoding="utf-8")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(page_file.as_uri())
    boxes = page.evaluate("""() => {
        const box = (node, start, end) => { const r = document.createRange();
            r.setStart(node, start); r.setEnd(node, end); return [...r.getClientRects()]; };
        const article = document.querySelector('article');
        const em = parseFloat(getComputedStyle(article.querySelector('p')).fontSize);
        const left = article.querySelector('p').getBoundingClientRect().left;
        const out = {em, left, lists: []};
        for (const li of document.querySelectorAll('.list > li')) {
            const lbl = li.querySelector('.lbl');
            const text = lbl.nextSibling;
            const glyph = box(lbl.firstChild, 0, 1)[0];
            const rects = box(text, 0, text.length);
            out.lists.push({marker: glyph.left, text: rects[0].left,
                            lines: rects.map(r => r.left)});
        }
        return out; }""")
    page.close()
    em, left = boxes["em"], boxes["left"]
    assert len(boxes["lists"]) == 4  # two bulleted items, two numbered (the fixture)
    for item in boxes["lists"]:
        assert abs(item["text"] - (left + 3 * em)) < 0.5, item
        assert all(abs(x - item["text"]) < 0.5 for x in item["lines"]), item
        # The marker's glyph starts in the cell at the indent (● is narrower than its cell).
        assert left + 2 * em - 0.5 <= item["marker"] < left + 2.5 * em, item


def test_the_tagged_pdf_names_the_forms(built):
    """Lists (L, LI with Lbl and LBody), the table (Table, Caption, TR, TH, TD), the figure
    (Figure with its caption as alternative text) and the note (Note)."""
    found: dict[str, list] = {}
    with pikepdf.open(built["pdf"]) as pdf:
        stack = list(pdf.Root.StructTreeRoot.K)
        while stack:
            element = stack.pop()
            if not isinstance(element, pikepdf.Dictionary) or element.get("/Type") != "/StructElem":
                continue
            found.setdefault(str(element.S), []).append(element)
            kids = element.get("/K")
            stack += list(kids) if isinstance(kids, pikepdf.Array) else [kids]
        for kind in (
            "/L",
            "/LI",
            "/Lbl",
            "/LBody",
            "/Table",
            "/Caption",
            "/TR",
            "/TH",
            "/TD",
            "/Figure",
            "/Note",
        ):
            assert kind in found, kind
        assert [str(f.Alt) for f in found["/Figure"]] == ["图1　代表在联络站接待群众"]
        assert all([str(k.S) for k in li.K][:1] == ["/Lbl"] for li in found["/LI"])


def test_the_search_text_holds_the_forms(built):
    from liandong import search
    from liandong.validate import load_issues

    issue = load_issues(built["root"], [built["root"] / "issues" / "2024" / "13"], [])[0]
    texts = [text for _, _, text in search.issue_units(issue)["units"]]
    for wanted in (
        "●组织代表开展视察调研。",
        "1.推进联络站标准化建设。",
        "表1　各市州代表联络站建设情况",
        "1,268",
        "98.5%",
        "注：覆盖率按行政村计算。",
        "图1　代表在联络站接待群众",
    ):
        assert wanted in texts, wanted


def test_images_and_tables_load_only_for_an_issue_that_has_them():
    """Speed: the sample issue (no figure, no table) never imports the forms' code or Pillow."""
    code = (
        "import sys; from pathlib import Path; from liandong.load import IssueLoader; "
        "from liandong.project import resolve_project_fonts; root = Path('.'); r = IssueLoader(root, "
        "resolve_project_fonts(root)); r.load([root / 'issues/2024/13'], []); "
        "print(sorted(m for m in ('liandong.forms', 'liandong.images', 'PIL') "
        "if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert result.stdout.strip() == "[]", result.stderr
