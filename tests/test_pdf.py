"""The sample issue's PDF, measured against the 联络动态 layout (GB/T 9704 page)."""

from __future__ import annotations

import itertools
import re
import statistics
import subprocess
from pathlib import Path

import pdfplumber
import pytest

from conftest import REPO
from liandong.fonts import resolve_fonts
from liandong.typeset import BLANK_RIGHT, CLOSING, OPENING
from pdfmeasure import (
    BOTTOM,
    MM,
    PAGE_H,
    PAGE_W,
    PITCH,
    TEXT_H,
    TEXT_W,
    TOP,
    ink_rows,
    lines,
    pdf_font_name,
    rules,
    text_left,
    text_right,
)

FOLIO = re.compile(r"^— \d+ —$")


@pytest.fixture(scope="module")
def pdf(sample_build):
    return sample_build["pdf"]


@pytest.fixture(scope="module")
def all_lines(pdf):
    return lines(pdf)


@pytest.fixture(scope="module")
def fonts():
    resolved = resolve_fonts(REPO / "fonts")
    return {key: pdf_font_name(font) for key, font in resolved.items() if not font.fallback}


@pytest.fixture(scope="module")
def red_rule(pdf):
    """The red rule under the masthead, as printed: (top, bottom, left, right) in pt."""
    found = rules(pdf, 1, TOP, 150 * MM, color="red")
    assert len(found) == 1, found
    return found[0]


@pytest.fixture(scope="module")
def rule_bottom_page1(red_rule):
    """Everything below the red rule on page 1 is content."""
    return red_rule[1]


@pytest.fixture(scope="module")
def body_lines(all_lines, fonts, rule_bottom_page1):
    """Lines of running text (note, body, headings): 16 pt, starting at the left edge or indented
    two characters. Centred lines (masthead, titles, subtitle) and the 版记 are left out."""
    text_fonts = {fonts["body"], fonts["kai"], fonts["hei"]}
    result = []
    for line in all_lines:
        if line.page == 1 and line.baseline < rule_bottom_page1:
            continue
        if abs(line.size - 16) > 0.01 or not line.fonts <= text_fonts:
            continue
        offset = line.x0 - text_left(line.page)
        if abs(offset) < 0.1 * MM or abs(offset - 2 * PITCH) < 0.1 * MM:
            result.append(line)
    return result


def _starts_paragraph(line) -> bool:
    return abs(line.x0 - text_left(line.page) - 2 * PITCH) < 0.1 * MM


def test_every_page_is_a4(pdf):
    with pdfplumber.open(pdf) as doc:
        assert len(doc.pages) >= 2
        for page in doc.pages:
            assert page.width == pytest.approx(PAGE_W, abs=0.5)
            assert page.height == pytest.approx(PAGE_H, abs=0.5)


def test_body_is_16pt_in_the_body_role(all_lines, body_lines, fonts):
    article = [l for l in body_lines if l.font_of(l.text[0]) == fonts["body"]]
    assert len(article) > 40
    assert all(l.size == pytest.approx(16, abs=0.01) for l in article)
    assert all(l.fonts == {fonts["body"]} for l in article)


def test_text_area_is_156_by_225_mm_with_mirrored_margins(body_lines):
    for line in body_lines:
        assert line.x0 >= text_left(line.page) - 0.05 * MM
        assert line.x1 <= text_right(line.page) + 0.5 * MM
        assert TOP - 1 * MM <= line.baseline <= BOTTOM
    for parity in (0, 1):  # both odd and even pages have full-width lines at their own margins
        flush_left = [l for l in body_lines if l.page % 2 == parity and not _starts_paragraph(l)]
        assert flush_left, f"no full line on {'even' if parity == 0 else 'odd'} pages"
        for line in flush_left:
            assert line.x0 == pytest.approx(text_left(line.page), abs=0.05 * MM)


def test_top_margin_is_37_mm_to_the_glyphs(pdf, body_lines):
    """The first line of page 2: its characters' bodies (the ideographic em box, 0.88 em above
    the baseline in every CJK face used) start at 37 mm, the grid's first line; their ink, as a
    ruler on the paper finds it, never above and at most half a millimetre below (FangSong
    faces sit lower in their bodies than Song faces: FandolFang 0.44 mm, Noto Serif 0.14 mm)."""
    first = min((l for l in body_lines if l.page == 2), key=lambda l: l.baseline)
    assert (first.baseline - 0.88 * 16) / MM == pytest.approx(37, abs=0.05)
    ink = ink_rows(pdf, 2, (text_left(2), 20 * MM, text_right(2), first.baseline + 2))
    assert ink is not None
    assert 37 - 0.05 <= ink[0] / MM <= 37.5


def test_body_is_on_the_22_line_grid(body_lines):
    page2 = [l for l in body_lines if l.page == 2]
    assert len(page2) == 22
    pitches = [b.baseline - a.baseline for a, b in itertools.pairwise(page2)]
    for pitch in pitches:
        assert pitch == pytest.approx(TEXT_H / 22, abs=0.05)
    assert page2[-1].baseline <= BOTTOM


def test_every_line_of_every_face_is_on_the_grid(all_lines, fonts, rule_bottom_page1):
    """Song (body), Kai (the editor's note, the subtitle), Hei and the title: each line's em box
    starts where a body line's does on one of the 22 grid lines. Kai lines were 0.55 mm off:
    a block's line boxes come from its own face, and LXGW WenKai's ascent is not Noto's."""
    from liandong.fonts import Measurer

    measurer = Measurer(resolve_fonts(REPO / "fonts"))
    em_top = {
        name: measurer.metrics(role).embox_top
        for role, name in fonts.items()
        if role in ("body", "kai", "hei", "title")
    }
    checked = set()
    for line in all_lines:
        if (line.page == 1 and line.baseline < rule_bottom_page1) or line.size < 15.9:
            continue  # the masthead; the 版记 (四号) and the page numbers are not on the grid
        top = line.baseline - em_top[line.font_of(line.text.strip()[0])] * line.size
        offset = (top - TOP) / (TEXT_H / 22)
        off = (offset - round(offset)) * TEXT_H / 22
        assert abs(off) < 0.02 * MM, (
            f"page {line.page}: “{line.text[:12]}” is {off / MM:+.2f} mm off"
        )
        checked.add(line.font_of(line.text.strip()[0]))
    assert checked == {fonts["body"], fonts["kai"], fonts["hei"], fonts["title"]}


def test_a_full_line_holds_28_characters(body_lines, fonts):
    """Lines of Chinese without Latin text or compressed punctuation hold the grid's 28."""
    counts = [
        len(l.text)
        for l in body_lines
        if fonts["body"] in l.fonts
        and not _starts_paragraph(l)
        and not re.search(r"[0-9A-Za-z]", l.text)
    ]
    assert statistics.median(counts) == 28


def test_first_lines_are_indented_two_characters(body_lines):
    starts = [l for l in body_lines if _starts_paragraph(l)]
    assert len(starts) == 7  # the note and the six paragraphs of the article
    for line in starts:
        assert line.x0 - text_left(line.page) == pytest.approx(2 * PITCH, abs=0.05 * MM)


def test_both_edges_flush(pdf, body_lines, all_lines):
    """Every line but a paragraph's last ends within 0.05 mm of the text area's right edge: its
    visible edge, measured from what is drawn (the cell of its last inked glyph; a space, which
    has a character box but prints nothing, left out). Letter-spacing drifted up to 0.12 mm
    before each line's last glyph got a span of its own."""
    from measure import drawn_lines, line_at

    drawn = drawn_lines(pdf)
    checked = 0
    for index, line in enumerate(body_lines):
        following = body_lines[index + 1] if index + 1 < len(body_lines) else None
        # A paragraph ends before an indented line, or before a title/heading/版记 in between.
        next_any = all_lines[all_lines.index(line) + 1]
        last_of_paragraph = (
            following is None
            or _starts_paragraph(following)
            or (
                next_any is not following
                and next_any.page == line.page
                and not FOLIO.match(next_any.text)
            )
        )
        if last_of_paragraph:
            continue
        checked += 1
        edge = line_at(drawn, line.page, line.baseline).right
        assert abs(edge - text_right(line.page)) <= 0.05 * MM, (
            f"page {line.page}: “{line.text}” ends {(edge - text_right(line.page)) / MM:+.2f} mm "
            "from the right edge"
        )
    assert checked > 40


def test_no_line_starts_with_closing_or_ends_with_opening_punctuation(all_lines):
    for line in all_lines:
        text = line.text.strip()
        if not text or FOLIO.match(text):
            continue
        assert text[0] not in CLOSING - {"—"}, (
            f"page {line.page} line starts with {text[0]}: {text}"
        )
        assert text[-1] not in OPENING, f"page {line.page} line ends with {text[-1]}: {text}"


def test_pdftotext_gives_the_text_back_without_inserted_spaces(pdf):
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    body = [line for line in text.splitlines() if re.search(r"[\u4e00-\u9fff]{10}", line)]
    assert len(body) > 50
    wide = r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef“”]"
    spaced = [line for line in body if re.search(wide + " +" + wide, line)]
    assert spaced == []


def test_masthead_is_large_red_song_bold_at_the_top(pdf, all_lines, fonts):
    name = next(l for l in all_lines if l.page == 1 and l.text.replace(" ", "") == "联络动态")
    assert name.fonts == {fonts["title"]}
    assert name.size >= 42
    with pdfplumber.open(pdf) as doc:
        colors = {
            tuple(c["non_stroking_color"])
            for c in doc.pages[0].chars
            if c["text"] in "联络动态" and c["size"] == name.size
        }
    # The published PDF is PDF/A with an sRGB output intent: the red is #e60012, the sRGB
    # rendering of C0 M100 Y100 K0 (the print-shop PDF keeps the CMYK; see test_print_shop).
    assert colors == {(0.901961, 0.0, 0.070588)}
    ink = ink_rows(pdf, 1, (text_left(1), 20 * MM, text_right(1), 80 * MM), color="red")
    top, _ = ink
    assert top / MM == pytest.approx(37, abs=0.3)
    glyph = ink_rows(
        pdf, 1, (name.chars[0]["x0"], 20 * MM, name.chars[0]["x1"], top + 30 * MM), color="red"
    )
    assert 15 <= (glyph[1] - glyph[0]) / MM <= 22
    centre = (name.x0 + name.x1) / 2
    assert centre == pytest.approx(text_left(1) + TEXT_W / 2, abs=1.5 * MM)


def test_issue_number_and_total_are_centred_beneath(all_lines):
    page1 = [l for l in all_lines if l.page == 1]
    name = next(l for l in page1 if l.text.replace(" ", "") == "联络动态")
    number = next(l for l in page1 if l.text == "第 13 期")
    total = next(l for l in page1 if l.text == "（总第七百一十四期）")
    assert name.baseline < number.baseline < total.baseline
    for line in (number, total):
        assert (line.x0 + line.x1) / 2 == pytest.approx(text_left(1) + TEXT_W / 2, abs=0.3 * MM)


def test_compiler_left_and_date_right_on_one_line_above_a_red_rule(all_lines, red_rule):
    line = next(
        l
        for l in all_lines
        if l.page == 1 and l.text.startswith("湖南省人大常委会代表工作委员会编")
    )
    assert line.text.endswith("2024年8月30日")
    assert line.x0 == pytest.approx(text_left(1), abs=0.1 * MM)
    assert line.x1 == pytest.approx(text_right(1), abs=0.1 * MM)
    top, bottom, left, right = red_rule
    assert left == pytest.approx(text_left(1), abs=0.1 * MM)
    assert right == pytest.approx(text_right(1), abs=0.1 * MM)
    assert 1 <= bottom - top <= 2.5  # pt
    assert 0 < top - line.baseline < 10 * MM


def test_editors_note_is_set_in_kai_with_its_label(all_lines, fonts, rule_bottom_page1):
    first = next(l for l in all_lines if l.text.startswith("【编者按】"))
    assert first.font_of("【编者按】") == fonts["hei"]
    assert first.font_of("省人大常委会") == fonts["kai"]
    note = [
        l
        for l in all_lines
        if l.page == 1
        and fonts["kai"] in l.fonts
        and l.baseline > rule_bottom_page1
        and abs(l.size - 16) < 0.01
    ]
    assert "".join(l.text for l in note).find("现将会议有关情况编发，供参考。") > 0


def test_article_title_is_22pt_song_bold_centred_with_subtitle_on_its_own_line(all_lines, fonts):
    title = next(l for l in all_lines if l.text == "沈晓明主持召开人大代表建议办理专题会议")
    assert title.size == pytest.approx(22, abs=0.01)
    assert title.fonts == {fonts["title"]}
    centre = text_left(title.page) + TEXT_W / 2
    assert (title.x0 + title.x1) / 2 == pytest.approx(centre, abs=0.3 * MM)
    subtitle = all_lines[all_lines.index(title) + 1]
    assert subtitle.text == "切实把代表的“金点子”转化为促进改革发展的“金钥匙”"
    assert subtitle.baseline > title.baseline
    # A closing mark's blank half at the line's end is not counted: the ink is centred.
    ink_end = subtitle.x1 - (8 if subtitle.text[-1] in BLANK_RIGHT else 0)
    assert (subtitle.x0 + ink_end) / 2 == pytest.approx(centre, abs=0.3 * MM)


def test_page_numbers_are_14pt_on_the_outside_7mm_below_the_text_area(pdf, all_lines, fonts):
    folios = [l for l in all_lines if FOLIO.match(l.text)]
    pages = sorted({l.page for l in all_lines})
    assert [int(l.text.split()[1]) for l in folios] == pages
    for line in folios:
        assert line.size == pytest.approx(14, abs=0.01)
        assert line.fonts == {fonts["song"]}
        if line.page % 2:
            assert text_right(line.page) - line.x1 == pytest.approx(PITCH, abs=0.2 * MM)
        else:
            assert line.x0 - text_left(line.page) == pytest.approx(PITCH, abs=0.2 * MM)
        dash = line.chars[0]
        ink = ink_rows(
            pdf, line.page, (dash["x0"] + 2, dash["top"] - 5, dash["x1"] - 2, dash["bottom"] + 5)
        )
        assert (ink[0] - BOTTOM) / MM == pytest.approx(7, abs=0.5)


def test_banji_sits_at_the_bottom_of_the_last_page_with_its_rules(pdf, all_lines, body_lines):
    last = max(l.page for l in all_lines)
    found = rules(pdf, last, TOP, BOTTOM + 5 * MM)
    assert (
        len(found) == 4
    )  # above the lists, between lists and credits, credits and approval, below
    for _, _, left, right in found:
        assert left == pytest.approx(text_left(last), abs=0.1 * MM)
        assert right == pytest.approx(text_right(last), abs=0.1 * MM)
    thickness = [(bottom - top) / MM for top, bottom, _, _ in found]
    assert thickness[0] == pytest.approx(0.35, abs=0.05)
    assert thickness[-1] == pytest.approx(0.35, abs=0.05)
    assert all(t == pytest.approx(0.25, abs=0.05) for t in thickness[1:-1])
    assert found[-1][1] == pytest.approx(BOTTOM, abs=0.3 * MM)
    first_rule = found[0][0]
    banji = [
        l
        for l in all_lines
        if l.page == last and l.baseline > first_rule and not FOLIO.match(l.text)
    ]
    text = "".join(l.text for l in banji)
    for part in (
        "送：",
        "责任编辑：王小益",
        "联系方式：0731—85309270",
        "批准文号：湘党简准字〔2000〕第 28 号",
    ):
        assert part in text
    body_above = [l for l in body_lines if l.page == last]
    assert max(l.baseline for l in body_above) + 0.12 * 16 < first_rule  # descenders included


def test_banji_list_wraps_aligned_after_the_colon(all_lines):
    start = next(l for l in all_lines if l.text.startswith("送："))
    colon_end = start.chars[1]["x1"]
    following = all_lines[all_lines.index(start) + 1 :]
    wrapped = []
    for line in following:
        if line.text.startswith(("责任编辑", "联系方式", "批准文号")):
            break
        wrapped.append(line)
    assert len(wrapped) >= 2
    for line in wrapped:
        assert line.x0 == pytest.approx(colon_end, abs=0.1)
    assert start.text.rstrip("。") and wrapped[-1].text.endswith("。")


def test_fonts_are_embedded_subset_and_only_the_resolved_roles(pdf, fonts):
    out = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    rows = [line.split() for line in out.splitlines()[2:] if line.strip()]
    assert rows
    names = set()
    for row in rows:
        name = row[0]
        emb, sub = row[-5], row[-4]
        assert (emb, sub) == ("yes", "yes"), row
        assert re.match(r"^[A-Z]{6}\+", name)
        names.add(name.split("+", 1)[1])
    assert names == set(fonts.values())


def test_weasyprint_reads_only_project_files(tmp_path):
    from liandong.pdf import ProjectFetcher

    allowed = tmp_path / "project"
    allowed.mkdir()
    (allowed / "ok.css").write_text("p {}", encoding="utf-8")
    fetcher = ProjectFetcher([allowed])
    assert fetcher.fetch((allowed / "ok.css").as_uri()).read() == b"p {}"
    for url in (
        "file:///etc/passwd",
        "http://169.254.169.254/latest/meta-data/",
        (allowed / ".." / "escape.css").as_uri(),
        "data:text/plain,x",
        "ftp://example.org/x",
    ):
        with pytest.raises(ValueError):
            fetcher.fetch(url)
    assert len(fetcher.refused) == 5


# --- The published PDF is archival: PDF/A-2u, tagged, self-describing ---------------------

RED_RGB = (0.902, 0.0, 0.0706)  # #e60012, the sRGB rendering of C0 M100 Y100 K0
RED_CMYK = (0.0, 1.0, 1.0, 0.0)


def _colour_operators(pdf_path) -> set[tuple]:
    """Every colour the content streams set: (operator, operands), fill and stroke."""
    import pikepdf

    found = set()
    with pikepdf.open(pdf_path) as doc:
        for page in doc.pages:
            for operands, op in pikepdf.parse_content_stream(
                page, "rg RG k K g G cs CS sc SC scn SCN"
            ):
                found.add(
                    (
                        str(op),
                        tuple(
                            str(v) if isinstance(v, pikepdf.Name) else round(float(v), 4)
                            for v in operands
                        ),
                    )
                )
    return found


def test_published_pdf_is_pdfa_2u_and_tagged(pdf):
    import pikepdf

    with pikepdf.open(pdf) as doc:
        meta = doc.open_metadata()
        assert meta["pdfaid:part"] == "2"
        assert meta["pdfaid:conformance"] == "U"
        intents = doc.Root.OutputIntents
        assert len(intents) == 1 and intents[0].S == "/GTS_PDFA1"
        profile = intents[0].DestOutputProfile
        assert profile.N == 3 and profile.read_bytes()[36:40] == b"acsp"  # an ICC profile
        assert "/StructTreeRoot" in doc.Root and doc.Root.MarkInfo.Marked is True
        assert str(doc.Root.Lang) == "zh-CN"
        fonts = {}
        for page in doc.pages:
            for font in page.Resources.Font.values():
                fonts[str(font.BaseFont)] = font.DescendantFonts[0].FontDescriptor
        assert fonts and all({"/FontFile2", "/FontFile3"} & set(d.keys()) for d in fonts.values())


def test_published_pdf_describes_itself(pdf):
    import pikepdf

    from liandong import __version__

    title = "联络动态 2024年第13期（总第714期）"
    author = "湖南省人大常委会代表工作委员会"
    subject = "沈晓明主持召开人大代表建议办理专题会议"
    keywords = "联络动态, 湖南省人大常委会代表工作委员会, 2024年第13期, 总第714期"
    with pikepdf.open(pdf) as doc:
        info = {key: str(value) for key, value in doc.docinfo.items()}
        assert info["/Title"] == title
        assert info["/Author"] == author
        assert info["/Subject"] == subject
        assert info["/Keywords"] == keywords
        assert info["/Creator"] == f"liandong {__version__}"
        # The issue's date, midnight in the series' time zone (Asia/Shanghai by default).
        assert info["/CreationDate"] == info["/ModDate"] == "D:20240830000000+08'00'"
        meta = doc.open_metadata()
        assert meta["dc:title"] == title
        assert meta["dc:creator"] == [author]
        assert meta["dc:description"] == subject
        assert meta["pdf:Keywords"] == keywords
        assert meta["xmp:CreatorTool"] == info["/Creator"]
        assert meta["xmp:CreateDate"] == meta["xmp:ModifyDate"] == "2024-08-30T00:00:00+08:00"
        # Derived from the content, never random (test_build checks two builds give the same
        # bytes): the first from WeasyPrint's output, the second from the file as written after
        # its fonts are compacted, as PDF has it for a file modified after creation.
        first, second = (bytes(part) for part in doc.trailer.ID)
        assert re.fullmatch(rb"[0-9a-f]{32}", first) and len(second) == 16


def test_published_pdf_uses_one_red_and_no_cmyk(pdf):
    colours = _colour_operators(pdf)
    assert colours == {("rg", (0.0, 0.0, 0.0)), ("rg", RED_RGB)}


# --- The print-shop PDF: bleed, crop marks, CMYK, same page inside the trim --------------

BLEED = 3 * MM


@pytest.fixture(scope="module")
def print_pdf(tmp_path_factory):
    from conftest import liandong

    out = tmp_path_factory.mktemp("print-shop")
    result = liandong("build", "13", "--print-shop", "--out", str(out), cwd=REPO, check=True)
    assert result.stdout.splitlines() == [
        str(out / name) for name in ("2024-13.pdf", "2024-13.html", "2024-13-print.pdf")
    ]
    return out / "2024-13-print.pdf"


MARKS = 8 * MM
"""The crop marks reach 8 mm past the trim: 3 mm off it (the bleed's edge), 5 mm long."""


def test_print_shop_pdf_has_a4_trim_3mm_bleed_and_room_for_the_marks(print_pdf):
    import pikepdf

    with pikepdf.open(print_pdf) as doc:
        for page in doc.pages:
            trim = [float(v) for v in page.TrimBox]
            assert trim == pytest.approx([0, 0, PAGE_W, PAGE_H], abs=0.01)
            assert [float(v) for v in page.BleedBox] == pytest.approx(
                [-BLEED, -BLEED, PAGE_W + BLEED, PAGE_H + BLEED], abs=0.01
            )
            assert [float(v) for v in page.MediaBox] == pytest.approx(
                [-MARKS, -MARKS, PAGE_W + MARKS, PAGE_H + MARKS], abs=0.01
            )


def _ink_box(image, scale: float) -> tuple[float, float, float, float] | None:
    """The inked part of a rendered region, in pt from its top-left corner."""
    box = image.convert("L").point(lambda v: 255 if v < 160 else 0).getbbox()
    return None if box is None else tuple(v / scale for v in box)


def test_print_shop_pdf_has_crop_marks_outside_the_bleed(print_pdf):
    """At each corner, two hairlines on the trim lines' extensions, from 3 mm (the bleed's
    edge) to 8 mm off the trim; nothing inked in the bleed around the corners."""
    from pdfmeasure import render_box

    dpi = 600
    scale = dpi / 72
    with pdfplumber.open(print_pdf) as doc:
        count = len(doc.pages)
    full_w, full_h = PAGE_W + 2 * MARKS, PAGE_H + 2 * MARKS
    for number in (1, count):
        for right in (False, True):
            for bottom in (False, True):
                # render_box measures from the MediaBox's top-left; the trim starts 8 mm in.
                trim_x = MARKS + (PAGE_W if right else 0)
                trim_y = MARKS + (PAGE_H if bottom else 0)
                out_x = (trim_x, full_w) if right else (0, trim_x)
                out_y = (trim_y, full_h) if bottom else (0, trim_y)
                # The horizontal mark: a band along the trim line y, outside the page.
                band = (out_x[0], trim_y - 1 * MM, out_x[1], trim_y + 1 * MM)
                ink = _ink_box(render_box(print_pdf, number, band, dpi), scale)
                assert ink is not None, (number, right, bottom)
                near, far = (ink[0], ink[2]) if right else (MARKS - ink[2], MARKS - ink[0])
                assert near / MM == pytest.approx(3, abs=0.1)
                assert far / MM == pytest.approx(8, abs=0.1)
                assert (ink[3] - ink[1]) <= 0.5  # a hairline: 0.25 pt
                # The vertical mark: a band along the trim line x, above or below the page.
                band = (trim_x - 1 * MM, out_y[0], trim_x + 1 * MM, out_y[1])
                ink = _ink_box(render_box(print_pdf, number, band, dpi), scale)
                assert ink is not None
                near, far = (ink[1], ink[3]) if bottom else (MARKS - ink[3], MARKS - ink[1])
                assert near / MM == pytest.approx(3, abs=0.1)
                assert far / MM == pytest.approx(8, abs=0.1)
                # The bleed around the corner stays clean: the marks never reach into it.
                corner = (
                    min(trim_x, trim_x + (BLEED if right else -BLEED)),
                    min(trim_y, trim_y + (BLEED if bottom else -BLEED)),
                    max(trim_x, trim_x + (BLEED if right else -BLEED)),
                    max(trim_y, trim_y + (BLEED if bottom else -BLEED)),
                )
                corner = (corner[0] + 0.2, corner[1] + 0.2, corner[2] - 0.2, corner[3] - 0.2)
                assert _ink_box(render_box(print_pdf, number, corner, dpi), scale) is None


def test_print_shop_pdf_keeps_the_layout_inside_the_trim(pdf, print_pdf):
    """Every glyph's origin relative to the TrimBox, its font and size, are those of the
    published PDF. pdfplumber's text matrix counts from the MediaBox's lower-left corner."""
    import pikepdf

    def positions(path):
        with pikepdf.open(path) as doc:
            offsets = [
                (
                    float(page.TrimBox[0]) - float(page.MediaBox[0]),
                    float(page.TrimBox[1]) - float(page.MediaBox[1]),
                )
                for page in doc.pages
            ]
        with pdfplumber.open(path) as doc:
            return [
                [
                    (
                        c["text"],
                        round(c["matrix"][4] - dx, 3),
                        round(c["matrix"][5] - dy, 3),
                        c["fontname"].split("+")[-1],
                        round(c["size"], 3),
                    )
                    for c in page.chars
                ]
                for page, (dx, dy) in zip(doc.pages, offsets)
            ]

    normal = positions(pdf)
    assert len(normal) == 4 and all(len(page) > 100 for page in normal)
    assert positions(print_pdf) == normal


def test_print_shop_pdf_prints_in_cmyk_with_one_red(print_pdf):
    colours = _colour_operators(print_pdf)
    # Text and rules in CMYK; the crop marks in registration colour (see test_pdfx).
    assert colours == {
        ("cs", ("/DeviceCMYK",)),
        ("scn", (0.0, 0.0, 0.0, 1.0)),
        ("scn", RED_CMYK),
        ("CS", ("/LiandongRegistration",)),
        ("SCN", (1.0,)),
    }
    with pdfplumber.open(print_pdf) as doc:
        reds = {
            tuple(c["non_stroking_color"])
            for c in doc.pages[0].chars
            if c["text"] in "联络动态" and c["size"] > 40
        }
    assert reds == {RED_CMYK}


def test_every_printed_glyph_maps_to_unicode(pdf):
    """PDF/A-2u: each glyph code the pages print has a ToUnicode entry, so text can be found."""
    import pikepdf

    from liandong.preflight import _check_fonts
    from liandong.tags import to_unicode

    used: dict = {}
    with pikepdf.open(pdf) as doc:
        for number, page in enumerate(doc.pages, start=1):
            _check_fonts(page, number, used)
        assert len(used) >= 4
        for font, codes in used.values():
            printed = set().union(*codes.values())
            mapped = to_unicode(font)
            assert printed and printed <= set(mapped), str(font.BaseFont)


def _printed_codes(doc) -> dict:
    """Glyph codes each Type0 font prints, read from the content streams (Tj/TJ operands)."""
    import pikepdf

    codes: dict = {}
    for page in doc.pages:
        fonts = page.Resources.Font
        current = None
        for operands, operator in pikepdf.parse_content_stream(page):
            if str(operator) == "Tf":
                current = fonts[operands[0]]
            elif str(operator) in ("Tj", "TJ") and current is not None:
                strings = operands[0] if str(operator) == "TJ" else [operands[0]]
                for item in strings:
                    if isinstance(item, pikepdf.String):
                        raw = bytes(item)
                        codes.setdefault(current.objgen, (current, set()))[1].update(
                            int.from_bytes(raw[i : i + 2], "big") for i in range(0, len(raw), 2)
                        )
    return codes


def _pdf_widths(cid_font) -> tuple[dict[int, float], float]:
    """A CID font's /W by CID, and its /DW (1000 by default), as the PDF reference defines them."""
    import pikepdf

    items, widths = list(cid_font.get("/W", [])), {}
    while len(items) >= 2:
        if isinstance(items[1], pikepdf.Array):
            widths.update((int(items[0]) + n, float(w)) for n, w in enumerate(items[1]))
            items = items[2:]
        else:
            widths.update((c, float(items[2])) for c in range(int(items[0]), int(items[1]) + 1))
            items = items[3:]
    return widths, float(cid_font.get("/DW", 1000))


def _program_outlines(descriptor):
    """A function giving the outline (fontTools pen, components decomposed) a CID font draws
    for a code, read from its embedded program the way a PDF reader reads it: TrueType through
    the CID font's CIDToGIDMap (identity by default), CID-keyed CFF by the CID in its charset,
    name-keyed CFF with the CID as glyph index; .notdef for a glyph the program lacks."""
    import io

    import pikepdf
    from fontTools.cffLib import CFFFontSet
    from fontTools.pens.recordingPen import DecomposingRecordingPen, RecordingPen
    from fontTools.ttLib import TTFont

    if "/FontFile2" in descriptor:
        font = TTFont(io.BytesIO(descriptor.FontFile2.read_bytes()))
        order, glyphs = font.getGlyphOrder(), font.getGlyphSet()

        def truetype(cid_font, code):
            table = cid_font.get("/CIDToGIDMap")
            gid = code
            if isinstance(table, pikepdf.Stream):
                raw = table.read_bytes()
                gid = (
                    int.from_bytes(raw[2 * code : 2 * code + 2], "big")
                    if 2 * code < len(raw)
                    else 0
                )
            pen = DecomposingRecordingPen(glyphs)
            glyphs[order[gid] if gid < len(order) else order[0]].draw(pen)
            return tuple(pen.value)

        return truetype
    program = descriptor.FontFile3
    if program.get("/Subtype") == "/OpenType":
        top = TTFont(io.BytesIO(program.read_bytes()))["CFF "].cff.topDictIndex[0]
    else:
        cff = CFFFontSet()
        cff.decompile(io.BytesIO(program.read_bytes()), otFont=None)
        top = cff.topDictIndex[0]
    charset, strings, cid_keyed = list(top.charset), top.CharStrings, hasattr(top, "ROS")

    def cff_outline(cid_font, code):
        name = f"cid{code:05d}" if cid_keyed else (charset[code] if code < len(charset) else "")
        pen = RecordingPen()
        strings[name if name in strings else ".notdef"].draw(pen)
        return tuple(pen.value)

    return cff_outline


def _drawn(doc, only: str = "") -> dict:
    """What each printed code draws: (font name, code) → (outline, width in the PDF), for the
    fonts whose name contains `only`."""
    drawn, programs = {}, {}
    for font, codes in _printed_codes(doc).values():
        name = str(font.BaseFont)
        if only not in name:
            continue
        cid_font = font.DescendantFonts[0]
        descriptor = cid_font.FontDescriptor
        if descriptor.objgen not in programs:
            programs[descriptor.objgen] = _program_outlines(descriptor)
        widths, default = _pdf_widths(cid_font)
        for code in codes:
            drawn[(name, code)] = (
                programs[descriptor.objgen](cid_font, code),
                widths.get(code, default),
            )
    return drawn


@pytest.fixture(scope="module")
def raw_pdf(tmp_path_factory):
    """Issue 13 as the build makes it, but its fonts as WeasyPrint wrote them (not compacted)."""
    import liandong.pdf
    from liandong.build import IssueRenderer
    from liandong.project import resolve_project_fonts, select_folders

    renderer = IssueRenderer(REPO, resolve_project_fonts(REPO))
    ((issue, context),) = renderer.load(select_folders(REPO, "13", False), [])
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(liandong.pdf, "_compact_program", lambda *args: None)
        data = renderer.render(issue, context).pdf
    path = tmp_path_factory.mktemp("raw") / "2024-13-raw.pdf"
    path.write_bytes(data)
    return path


def _compacted(path, tmp_path, edit=None):
    """The PDF at path (changed by `edit(doc)` first), its copy compacted again, and the
    notices compact_fonts gave."""
    import pikepdf

    from liandong.pdf import compact_fonts

    before, after = tmp_path / "before.pdf", tmp_path / "after.pdf"
    with pikepdf.open(path) as doc:
        if edit is not None:
            edit(doc)
        doc.save(before)
    with pikepdf.open(before) as doc:
        notices = compact_fonts(doc)
        doc.save(after)
    return before, after, notices


def test_embedded_fonts_hold_only_the_printed_glyphs(pdf, raw_pdf):
    """compact_fonts: each font program keeps the glyphs the pages print and nothing else, and
    every printed code still draws the outline, at the width, it drew in what WeasyPrint wrote."""
    import io

    import pikepdf
    from fontTools.cffLib import CFFFontSet
    from fontTools.ttLib import TTFont

    with pikepdf.open(pdf) as doc, pikepdf.open(raw_pdf) as raw:
        printed = _printed_codes(doc)
        assert len(printed) >= 3
        for font, codes in printed.values():
            descriptor = font.DescendantFonts[0].FontDescriptor
            if "/FontFile3" in descriptor:
                program = descriptor.FontFile3
                assert program.Subtype == "/CIDFontType0C"
                cff = CFFFontSet()
                cff.decompile(io.BytesIO(program.read_bytes()), otFont=None)
                assert hasattr(cff.topDictIndex[0], "ROS")
                assert len(cff.topDictIndex[0].charset) <= len(codes) + 1  # and .notdef
            else:
                program = descriptor.FontFile2
                glyphs = TTFont(io.BytesIO(program.read_bytes()))["maxp"].numGlyphs
                assert glyphs <= len(codes) + 1
        drawn, written = _drawn(doc), _drawn(raw)
        assert drawn.keys() == written.keys()
        wrong = sorted(key for key in drawn if drawn[key] != written[key])
        assert not wrong, f"{len(wrong)} codes draw another glyph: {wrong[:5]}"


def test_compacting_issue_13_twice_draws_the_same_glyphs(pdf, tmp_path):
    """What a WeasyPrint that wrote compact fonts (here: the built PDF compacted again) would
    give: every code draws what it drew, or the fonts are left as they were, with a notice."""
    before, after, notices = _compacted(pdf, tmp_path)
    import pikepdf

    with pikepdf.open(before) as old, pikepdf.open(after) as new:
        drawn, was = _drawn(new), _drawn(old)
        wrong = sorted(key for key in was if drawn[key] != was[key])
        assert not wrong, f"{len(wrong)} codes draw another glyph: {wrong[:5]}"
        if notices:
            assert all(
                a.read_raw_bytes() == b.read_raw_bytes()
                for a, b in zip(_programs(old), _programs(new), strict=True)
            )


def _programs(doc) -> list:
    return [
        font.DescendantFonts[0].FontDescriptor.get(key)
        for font, _ in _printed_codes(doc).values()
        for key in ("/FontFile2", "/FontFile3")
        if key in font.DescendantFonts[0].FontDescriptor
    ]


def _default_widths(doc) -> None:
    """Each CID font gives its commonest width as /DW, and /W only the other widths."""
    import pikepdf

    for font, _ in _printed_codes(doc).values():
        cid_font = font.DescendantFonts[0]
        widths, _default = _pdf_widths(cid_font)
        common = statistics.mode(widths.values())
        cid_font.DW = common
        cid_font.W = pikepdf.Array(
            [
                item
                for cid, width in sorted(widths.items())
                if width != common
                for item in (cid, pikepdf.Array([width]))
            ]
        )


def test_a_font_with_a_default_width_and_widths_left_out_is_compacted_right(raw_pdf, tmp_path):
    """A CID font may leave the commonest width to /DW and list only the others in /W: the
    glyphs it does not list are printed too, and must stay."""
    import pikepdf

    before, after, notices = _compacted(raw_pdf, tmp_path, _default_widths)
    with pikepdf.open(before) as old, pikepdf.open(after) as new:
        assert (
            sum(
                len(cid.get("/W", []))
                for cid in (f.DescendantFonts[0] for f, _ in _printed_codes(old).values())
            )
            < 200
        )
        drawn, was = _drawn(new), _drawn(old)
        wrong = sorted(key for key in was if drawn[key] != was[key])
        assert not wrong, f"{len(wrong)} codes draw another glyph: {wrong[:5]}"
        assert notices == []  # and the fonts were compacted
        assert sum(len(p.read_raw_bytes()) for p in _programs(new)) < 0.8 * sum(
            len(p.read_raw_bytes()) for p in _programs(old)
        )


def _renumbered_truetype(doc) -> None:
    """The TrueType font's codes renumbered 1, 2, 3 … in the content streams, /W and a
    CIDToGIDMap stream that sends each to its glyph: the same glyphs, printed by other codes."""
    import pikepdf

    ((font, codes),) = [
        (f, c)
        for f, c in _printed_codes(doc).values()
        if "/FontFile2" in f.DescendantFonts[0].FontDescriptor
    ]
    cid_font = font.DescendantFonts[0]
    assert str(cid_font.get("/CIDToGIDMap", "/Identity")) == "/Identity"
    new = {code: n for n, code in enumerate(sorted(codes), start=1)}
    table = bytearray(2 * (len(new) + 1))
    for code, n in new.items():
        table[2 * n : 2 * n + 2] = code.to_bytes(2, "big")
    widths, default = _pdf_widths(cid_font)
    cid_font.CIDToGIDMap = pikepdf.Stream(doc, bytes(table))
    cid_font.W = pikepdf.Array([1, pikepdf.Array([widths.get(c, default) for c in sorted(codes)])])

    def renumber(item):
        if not isinstance(item, pikepdf.String):
            return item
        raw = bytes(item)
        return pikepdf.String(
            b"".join(
                new[int.from_bytes(raw[i : i + 2], "big")].to_bytes(2, "big")
                for i in range(0, len(raw), 2)
            )
        )

    for page in doc.pages:
        fonts, current, out = page.Resources.Font, None, []
        for operands, operator in pikepdf.parse_content_stream(page):
            if str(operator) == "Tf":
                current = fonts[operands[0]].objgen
            elif str(operator) in ("Tj", "TJ") and current == font.objgen:
                operands = [
                    pikepdf.Array([renumber(i) for i in operands[0]])
                    if str(operator) == "TJ"
                    else renumber(operands[0])
                ]
            out.append(pikepdf.ContentStreamInstruction(operands, operator))
        page.Contents = doc.make_stream(pikepdf.unparse_content_stream(out))


def test_a_truetype_font_with_a_cid_to_gid_map_is_compacted_right(raw_pdf, tmp_path):
    """A TrueType CID font whose codes reach their glyphs through a CIDToGIDMap stream (not the
    identity): each code keeps its glyph."""
    import pikepdf

    before, after, notices = _compacted(raw_pdf, tmp_path, _renumbered_truetype)
    with pikepdf.open(before) as old, pikepdf.open(after) as new:
        drawn, was = _drawn(new, "WenKai"), _drawn(old, "WenKai")
        assert len(was) > 50 and max(code for _, code in was) == len(was)
        wrong = sorted(key for key in was if drawn[key] != was[key])
        assert not wrong, f"{len(wrong)} codes draw another glyph: {wrong[:5]}"
        assert notices == []


def _swap_two_glyphs(monkeypatch):
    """Make compact_fonts give two codes of the TrueType font each other's glyph (as a change
    in WeasyPrint's output that it does not follow might); return where the first goes wrong."""
    import pikepdf

    import liandong.pdf

    real = liandong.pdf._compact_program
    wrong = []

    def compact_wrongly(pdf, descriptor, key, *args):
        result = real(pdf, descriptor, key, *args)
        if key == "/FontFile2":
            for font in pdf.objects:
                if (
                    isinstance(font, pikepdf.Dictionary)
                    and font.get("/Subtype") == "/Type0"
                    and font.DescendantFonts[0].FontDescriptor.objgen == descriptor.objgen
                ):
                    cid_font = font.DescendantFonts[0]
                    table = bytearray(cid_font.CIDToGIDMap.read_bytes())
                    first, second = [
                        i for i in range(0, len(table), 2) if table[i : i + 2] != b"\0\0"
                    ][:2]
                    table[first : first + 2], table[second : second + 2] = (
                        table[second : second + 2],
                        table[first : first + 2],
                    )
                    cid_font.CIDToGIDMap.write(bytes(table))
                    wrong.append((str(font.BaseFont)[1:], first // 2))
        return result

    monkeypatch.setattr(liandong.pdf, "_compact_program", compact_wrongly)
    return wrong


REFUSED = (
    "压缩后字体 {} 的编码 {:04X} 画出的字形或字宽与压缩前不同，这份 PDF 保留了未压缩的字体"
    "（内容无误，只是文件大一些）。liandong 的字体压缩只在 WeasyPrint 70.0 上核对过，请告诉维护者。"
)


def test_a_compaction_that_changes_a_glyph_is_undone_with_a_notice(raw_pdf, tmp_path, monkeypatch):
    """Any code drawn differently after compaction: every font goes back to what WeasyPrint
    wrote, and the notice names the font and the code."""
    import pikepdf

    wrong = _swap_two_glyphs(monkeypatch)
    before, after, notices = _compacted(raw_pdf, tmp_path)
    assert notices == [REFUSED.format(*wrong[0])]
    with pikepdf.open(before) as old, pikepdf.open(after) as new:
        assert _drawn(new) == _drawn(old)
        assert [p.read_bytes() for p in _programs(new)] == [p.read_bytes() for p in _programs(old)]


def test_the_build_logs_a_refused_compaction_after_the_file_name(monkeypatch, caplog):
    """build's log: `2024-13.pdf：<notice>`; the PDF is written with WeasyPrint's fonts."""
    from liandong.build import IssueRenderer
    from liandong.project import resolve_project_fonts, select_folders

    wrong = _swap_two_glyphs(monkeypatch)
    renderer = IssueRenderer(REPO, resolve_project_fonts(REPO))
    ((issue, context),) = renderer.load(select_folders(REPO, "13", False), [])
    renderer.render(issue, context)
    logged = [r.getMessage() for r in caplog.records if r.name == "liandong.build"]
    assert logged == ["2024-13.pdf：" + REFUSED.format(*wrong[0])]


def test_weasyprint_is_the_version_compact_fonts_was_checked_with():
    """compact_fonts reads WeasyPrint's font output; it was checked with one version, which
    pyproject.toml pins. Another version must be checked (and WEASYPRINT_CHECKED moved) first."""
    import tomllib
    from importlib.metadata import version

    from liandong.pdf import WEASYPRINT_CHECKED

    installed = version("weasyprint")
    assert installed == WEASYPRINT_CHECKED, (
        f"WeasyPrint {installed} is installed, but compact_fonts (liandong/pdf.py) was checked "
        f"with WeasyPrint {WEASYPRINT_CHECKED} only: check its font output, then update "
        "WEASYPRINT_CHECKED and the pin in pyproject.toml"
    )
    dependencies = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    assert f"weasyprint=={WEASYPRINT_CHECKED}" in [d.split("#")[0].strip() for d in dependencies]


def _print_html(project: Path) -> tuple[str, Path, list[Path]]:
    from liandong.build import IssueRenderer
    from liandong.project import select_folders

    renderer = IssueRenderer(project, resolve_fonts(project / "fonts"))
    ((issue, context),) = renderer.load(select_folders(project, "13", False), [])
    return renderer.pages(issue, context)[0], issue.folder, [*renderer.allowed, issue.folder]


def test_the_print_css_is_parsed_once_and_gives_the_same_pdf(monkeypatch):
    """One style sheet object per process: the second issue reuses the parsed print CSS (and
    its @font-face fonts), and the PDF is byte for byte the one a fresh renderer makes."""
    import weasyprint

    from liandong.pdf import PdfRenderer

    made = []
    original = weasyprint.CSS.__init__

    def counting(self, *args, **kwargs):
        made.append(kwargs.get("string", "")[:40])
        original(self, *args, **kwargs)

    html, base, allowed = _print_html(REPO)
    warm = PdfRenderer()
    monkeypatch.setattr(weasyprint.CSS, "__init__", counting)
    first = warm.render(html, base, allowed)
    second = warm.render(html, base, allowed)
    assert len(made) == 1
    assert first == second == PdfRenderer().render(html, base, allowed)


@pytest.mark.parametrize(
    "extra",
    [
        '<link rel="stylesheet" href="extra.css">',
        '<base href="file:///elsewhere/">',
        "<style>p { color: red }</style>",
    ],
)
def test_a_page_with_other_style_sources_keeps_its_style_in_place(extra):
    """Taken out, the sheet would cascade after a <link> or second <style>, or resolve its URLs
    against another base: such a page is rendered as written."""
    from liandong.pdf import PdfRenderer, ProjectFetcher

    html, base, allowed = _print_html(REPO)
    html = html.replace("</head>", extra + "</head>", 1)
    kept, sheets = PdfRenderer()._style_sheets(html, str(base) + "/", ProjectFetcher(allowed))
    assert kept == html and sheets == []


TOP_OF_PAGE_TITLE = "明确提出健全吸纳民意扎实做好建议办理（第五百五十四期之二）"
"""A two-line title that, after the sample's editor's note, no longer fits on page 1."""


def _title_at_page_top(tmp_path, articles: dict[str, str]):
    """Build a copy of the sample with these articles: the PDF and each page's first line."""
    from conftest import liandong, make_project

    project = make_project(tmp_path, overrides=articles)
    result = liandong("build", "13", cwd=project)
    assert result.returncode == 0, result.stderr  # the preflight passes: every glyph in the area
    pdf = project / "build" / "2024-13.pdf"
    first_of_page = {}
    for line in lines(pdf):
        first_of_page.setdefault(line.page, line)
    return pdf, first_of_page


def _check_title_on_top(pdf, page: int, title) -> None:
    """Ink inside the text area, the title on the first grid line (its em box's top at 37 mm,
    as a body line's), body lines on the grid."""
    ink = ink_rows(pdf, page, (0, TOP - 5 * MM, PAGE_W, title.chars[0]["bottom"] + 1))
    assert ink[0] >= TOP - 0.1 * MM, f"title ink {(TOP - ink[0]) / MM:.2f} mm above the text area"
    assert ink[0] <= TOP + 1.5 * MM, f"title ink starts {(ink[0] - TOP) / MM:.2f} mm below 37 mm"
    em_top = title.baseline - 0.88 * title.size  # Noto CJK's ideographic em box: 0.88 above
    assert em_top == pytest.approx(TOP, abs=0.05 * MM)
    body = [
        line
        for line in lines(pdf)
        if line.page == page and line.size < 17 and line.text and not FOLIO.match(line.text.strip())
    ]
    baselines = [line.baseline for line in body]
    steps = [b - a for a, b in itertools.pairwise(baselines)]
    assert steps and all(abs(step - PITCH_LINE) < 0.05 for step in steps[2:])


PITCH_LINE = 225 * MM / 22
"""The grid: 22 lines in the 225 mm text area."""


def test_a_title_at_the_top_of_a_page_starts_on_the_first_line(tmp_path):
    """The blank line above a title is dropped at a page's top, and the title's glyphs are moved
    down within their grid line so that they neither start a line low (47.6 mm) nor stick out
    of the text area (which failed preflight)."""
    article = (REPO / "issues/2024/13/01.md").read_text(encoding="utf-8")
    article = re.sub(r"标题: .*", f"标题: {TOP_OF_PAGE_TITLE}", article, count=1)
    pdf, first_of_page = _title_at_page_top(tmp_path, {"issues/2024/13/01.md": article})
    title = first_of_page[2]
    assert title.text.replace(" ", "").startswith(TOP_OF_PAGE_TITLE[:10])  # the case happens
    _check_title_on_top(pdf, 2, title)


def test_a_second_article_at_the_top_of_a_page_has_one_blank_line_not_two(tmp_path):
    """Between articles there are two blank lines; at a page's top only the title's own one."""
    article = (REPO / "issues/2024/13/01.md").read_text(encoding="utf-8")
    head, body = article.split("---\n", 2)[1:]
    body_lines = body.split("\n")
    second = article.replace(
        "标题: 沈晓明主持召开人大代表建议办理专题会议", "标题: 第二篇文章的标题用来检验页首"
    )
    for cut in range(4, 12):  # shorten the first article until the second starts a page
        first = "---\n" + head + "---\n" + "\n".join(body_lines[: len(body_lines) - cut]) + "\n"
        case = tmp_path / f"cut{cut}"
        pdf, first_of_page = _title_at_page_top(
            case, {"issues/2024/13/01.md": first, "issues/2024/13/02.md": second}
        )
        tops = [
            page
            for page, line in first_of_page.items()
            if page > 1 and line.text.replace(" ", "").startswith("第二篇文章")
        ]
        if tops:
            _check_title_on_top(pdf, tops[0], first_of_page[tops[0]])
            return
    pytest.fail("no cut put the second article at the top of a page")


def test_widths_array_gives_the_widths_in_both_forms_and_the_default():
    import pikepdf

    from liandong.pdf import _widths

    widths = pikepdf.Array([3, pikepdf.Array([500, 1000]), 10, 12, 1000, 40, pikepdf.Array([250])])
    assert _widths(pikepdf.Dictionary(W=widths, DW=500)) == (
        {3: 500, 4: 1000, 10: 1000, 11: 1000, 12: 1000, 40: 250},
        500,
    )
    assert _widths(pikepdf.Dictionary()) == ({}, 1000)


def test_page_numbers_use_the_full_width_dash(pdf, all_lines):
    """— N —: each dash is the full-width 一字线, one em of 四号 (14 pt) wide, inked across most
    of it; the digits stay half-width. The narrow Western em dash was 12.5 pt."""
    from pdfmeasure import render_box

    folios = [l for l in all_lines if FOLIO.match(l.text)]
    assert folios
    for line in folios:
        dashes = [c for c in line.chars if c["text"] == "—"]
        digits = [c for c in line.chars if c["text"].isdigit()]
        assert len(dashes) == 2
        for dash in dashes:
            assert dash["x1"] - dash["x0"] == pytest.approx(14, abs=0.01)
            image = render_box(
                pdf, line.page, (dash["x0"] - 1, dash["top"], dash["x1"] + 1, dash["bottom"]), 600
            )
            ink = image.convert("L").point(lambda v: 255 if v < 160 else 0).getbbox()
            assert (ink[2] - ink[0]) / (600 / 72) >= 0.85 * 14
        assert all(c["x1"] - c["x0"] < 0.6 * 14 for c in digits)


PDFBOX = [
    "/usr/share/java/" + jar
    for jar in (
        "preflight.jar",
        "pdfbox2.jar",
        "fontbox2.jar",
        "xmpbox.jar",
        "commons-logging.jar",
        "javax.activation.jar",
        "jaxb-api.jar",
    )
]
"""Apache PDFBox 2.0 Preflight from Debian (libpdfbox2-java, libactivation-java,
libjaxb-api-java): a PDF/A-1b validator, independent of liandong and WeasyPrint."""

PDFA1_ONLY = {
    "1.4": "/XRef cross reference streams are not allowed",
    "3.1.11": "The CIDSet entry is missing for the Composite Subset",
    "7.11.1": "conformance level must be A or B",
    "7.11.2": "part must be 1",
}
"""What PDFBox reports because it checks PDF/A-1 (ISO 19005-1) and the file is PDF/A-2u
(ISO 19005-2), read rule by rule: PDF/A-2 is based on PDF 1.7 and allows cross-reference
streams (and object streams); it makes CIDSet optional for subset CID fonts (ISO 19005-2,
6.2.11.4.2); its conformance levels are A, B and U; the part is 2."""


@pytest.mark.parametrize("timezone", ["Asia/Shanghai", "America/New_York"])
def test_published_pdf_passes_pdfbox_preflight_but_for_pdfa1_only_rules(pdf, timezone):
    """Nothing else: no XMP schema or namespace error, no Info/XMP date mismatch (which PDFBox
    reported in UTC+8 and UTC−5 for dates without a time zone), no font, colour or syntax
    error. Run in two time zones, as PDFBox compares dates in the JVM's zone."""
    import os

    result = subprocess.run(
        ["java", "-cp", ":".join(PDFBOX), "org.apache.pdfbox.preflight.Validator_A1b", str(pdf)],
        capture_output=True,
        text=True,
        env={**os.environ, "TZ": timezone},
    )
    findings = [line for line in result.stdout.splitlines() if re.match(r"\d+(\.\d+)* : ", line)]
    assert findings, result.stdout + result.stderr  # PDFBox ran and read the file
    unexpected = [
        line
        for line in findings
        if not any(
            line.startswith(f"{rule} : ") and text in line for rule, text in PDFA1_ONLY.items()
        )
    ]
    assert unexpected == []
    # qpdf, a second independent reader, finds nothing wrong in the file's syntax either.
    checked = subprocess.run(["qpdf", "--check", str(pdf)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "No syntax or stream encoding errors found" in checked.stdout
