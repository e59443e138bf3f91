"""The measure (tests/measure.py) fails each criterion on a PDF made wrong on purpose.

Each case copies one corpus issue into a project of its own and breaks one thing the way a
designer's override or a faulty typesetter would: a templates/print.css or _lines.html that
the project's templates/ folder supplies, or a line breaker patched in this process. The same
issue without the change meets that criterion, so the failure is the change's."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

import liandong.typeset
from conftest import REPO
from measure import (
    BLANK_RIGHT,
    EDGE_TOLERANCE,
    MM,
    Glyph,
    Line,
    build_corpus,
    expected_issue,
    load_title_words,
    measure,
    measure_built,
)
from pdfmeasure import lines as char_box_lines, text_right

CORPUS = REPO / "tests" / "corpus"
WORDS = load_title_words(CORPUS / "title-words.yaml")


def _project(
    tmp_path: Path, issue: str, css: str = "", templates: dict[str, str] | None = None
) -> Path:
    root = tmp_path / "project"
    (root / "issues").mkdir(parents=True)
    shutil.copy(CORPUS / "issues" / "series.yaml", root / "issues" / "series.yaml")
    shutil.copytree(CORPUS / "issues" / issue, root / "issues" / issue)
    if css or templates:
        (root / "templates").mkdir()
        if css:
            shipped = (REPO / "templates" / "print.css").read_text(encoding="utf-8")
            (root / "templates" / "print.css").write_text(shipped + "\n" + css, encoding="utf-8")
        for name, text in (templates or {}).items():
            (root / "templates" / name).write_text(text, encoding="utf-8")
    return root


def _measure(
    tmp_path: Path,
    issue: str,
    css: str = "",
    templates: dict[str, str] | None = None,
    words: dict | None = None,
    notices: tuple[str, ...] = (),
):
    root = _project(tmp_path, issue, css, templates)
    built, _, _ = build_corpus(root)
    item = built[issue]
    item.notices += list(notices)
    return measure_built(root, item, WORDS if words is None else words), item


@pytest.fixture(scope="module")
def baseline(corpus_build):
    """The corpus issues the cases start from, unchanged (conftest.corpus_build, rendered once
    per run): {issue: Measurement}."""
    return {
        issue: measure_built(CORPUS, corpus_build[issue], WORDS)
        for issue in (
            "2025/1",
            "2025/4",
            "2024/13",
            "2024/14",
            "2024/17",
            "2024/23",
            "2025/16",
            "2025/17",
            "2025/18",
        )
    }


def _fails(result, criterion: str, pattern: str) -> list[str]:
    found = [str(f) for f in result.of(criterion)]
    return [text for text in found if re.search(pattern, text)]


CASES = {
    # name: (issue, criterion, what the failure says, CSS appended to the shipped print.css)
    "lines_letter_spaced_short": (
        "2025/4",
        "edges",
        "右边缘偏 -",
        "article > p .line { letter-spacing: -0.3pt !important; }",
    ),
    "paragraph_indented_one_character": (
        "2025/4",
        "edges",
        "左边缘偏",
        "article > p { text-indent: 5.57mm !important; }",
    ),
    "title_set_flush_left": (
        "2025/1",
        "edges",
        "没有居中",
        "article > header { text-align: left !important; }",
    ),
    "paragraphs_shifted_off_the_grid": (
        "2025/4",
        "grid",
        "不在网格上",
        "article > p + p { position: relative; top: 0.3mm; }",
    ),
    "text_area_moved_down": (
        "2025/4",
        "grid",
        "报头的墨迹上沿",
        "@page { margin-top: 40mm !important; }",
    ),
    "lines_letter_spaced_wide": (
        "2025/4",
        "spacing",
        "拉得太开",
        "article > p .line:first-child { letter-spacing: 3pt !important; }",
    ),
    "lines_squeezed": (
        "2025/4",
        "spacing",
        "挤压",
        "article > p .line:first-child { letter-spacing: -3pt !important; }",
    ),
    "title_spaced_out": (
        "2025/1",
        "spacing",
        "拉得太开",
        "article .title .line { letter-spacing: 4pt !important; }",
    ),
    "heading_left_at_a_page_foot": (
        "2024/23",
        "keep",
        "在页末",
        "article h3, article h4 { break-after: auto !important; }",
    ),
    "a_paragraph_not_printed": (
        "2025/4",
        "text",
        "应印",
        "article > p:nth-of-type(2) { display: none; }",
    ),
    "banji_inner_rules_thick": (
        "2025/4",
        "banji",
        "线粗 0.3",
        ".banji > * + * { border-top-width: 0.35mm; }",
    ),
    "banji_without_indent": (
        "2025/4",
        "banji",
        "应距版心左边一字",
        ".banji > * { padding-left: 0; }",
    ),
    "banji_contact_apart_though_it_fits": (
        "2024/13",
        "banji",
        "却另起了一行",
        ".banji .pair .part { display: block; text-align-last: left; }",
    ),
    "banji_pair_without_its_gap": (
        "2024/13",
        "banji",
        "之间不足 0.5 字",
        ".banji .pair { text-align: left; text-align-last: left; }",
    ),
    "banji_pair_squeezed_too_tight": (
        "2024/13",
        "banji",
        "挤得太紧",
        ".banji .pair .line { letter-spacing: -2pt !important; }",
    ),
    "banji_lifted_from_the_bottom": (
        "2025/4",
        "banji",
        "下沿在",
        "@page { @footnote { padding-bottom: 3mm !important; } }",
    ),
    "title_pushed_out_of_the_text_area": (
        "2025/4",
        "outside",
        "版心右侧有墨迹",
        "article .title { position: relative; left: 80mm; }",
    ),
    "page_number_at_the_edge": (
        "2025/4",
        "outside",
        "页码应居右空一字",
        "@page :right { @bottom-right { padding-right: 0 !important; } }",
    ),
    "page_number_lower": (
        "2025/4",
        "outside",
        "页码一字线上沿",
        "@page :right { @bottom-right { padding-top: 12mm !important; } }",
    ),
    # The forms of issue 13: lists, tables, figures.
    "list_text_in_part_of_a_character": (
        "2025/16",
        "forms",
        "不在整字的位置上",
        ".lbl { width: 20pt !important; }",
    ),
    "list_lines_hanging_under_the_marker": (
        "2025/16",
        "edges",
        "应与标记后的文字对齐",
        "article .list li { text-indent: -31.58pt !important; }",
    ),
    "table_without_rules": (
        "2025/17",
        "forms",
        "没有画出框线",
        "table.grid th, table.grid td { outline: none !important; }",
    ),
    "table_inner_rules_missing": (
        "2025/17",
        "forms",
        "条竖线",
        "table.grid td, table.grid th { outline: none !important; } table.grid { "
        "outline: 0.5pt solid black; }",
    ),
    "table_numbers_set_left": (
        "2025/17",
        "forms",
        "没有按小数点对齐",
        "table.grid td.right { text-align: left !important; padding-right: 7pt !important; }",
    ),
    "table_header_not_repeated": (
        "2025/17",
        "forms",
        "没有重复表头",
        "table.grid thead { display: table-row-group !important; }",
    ),
    "table_narrower_than_the_text_area": (
        "2025/17",
        "forms",
        "应与版心同宽",
        "table.grid { margin-left: 10mm !important; }",
    ),
    "figure_not_centred": (
        "2025/18",
        "forms",
        "没有居中",
        "figure.figure img { margin-left: 0 !important; }",
    ),
    "figure_picture_missing": (
        "2025/18",
        "forms",
        "之上没有图片",
        "figure.figure img { visibility: hidden !important; }",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_criterion_fails_on_a_pdf_made_wrong(tmp_path, baseline, case):
    issue, criterion, pattern, css = CASES[case]
    assert not _fails(baseline[issue], criterion, pattern), baseline[issue].report(criterion)
    result, _ = _measure(tmp_path, issue, css)
    assert _fails(result, criterion, pattern), result.report(criterion)


def test_a_trailing_space_does_not_make_a_line_flush(tmp_path, baseline):
    """The old test's defect: a no-break space drawn after the last character of each line
    fills the line's character boxes to the edge while its ink ends 1.6 mm short."""
    lines_template = (REPO / "templates" / "_lines.html").read_text(encoding="utf-8")
    lines_template = lines_template.replace(
        '{% for line in par.lines %}<span class="line"',
        '{% for line in par.lines %}{% set outer = loop %}<span class="line"',
    ).replace(
        ">{{ piece.text }}</span>{% endfor %}",
        '>{{ piece.text }}{% if loop.last and not outer.last and par.kind == "p" %}\u00a0'
        "{% endif %}</span>{% endfor %}",
    )
    css = "article > p .line:not(:last-child) { letter-spacing: -0.4pt !important; }"
    result, item = _measure(tmp_path, "2025/4", css, {"_lines.html": lines_template})
    assert not baseline["2025/4"].of("edges")
    assert _fails(result, "edges", "没有排满"), result.report("edges")
    # Measured by character boxes, the same lines look flush.
    pdf = tmp_path / "trailing.pdf"
    pdf.write_bytes(item.pdf)
    ends = [line for line in char_box_lines(pdf) if line.page == 1 and line.text[-1].isspace()]
    assert ends
    for line in ends:
        assert abs(line.x1 - text_right(1)) < 0.5 * MM


def test_a_line_starting_with_a_closing_mark_fails_kinsoku(tmp_path, baseline, monkeypatch):
    monkeypatch.setattr(liandong.typeset, "can_break", lambda before, after: True)
    result, _ = _measure(tmp_path, "2024/13")
    assert not baseline["2024/13"].of("kinsoku")
    assert _fails(result, "kinsoku", "开头"), result.report("kinsoku")


def test_latin_runs_and_ranges_broken_anywhere_fail_words(tmp_path, baseline, monkeypatch):
    monkeypatch.setattr(
        liandong.typeset,
        "_latin_tokens",
        lambda text, start, end, unit: [
            (k, k + 1, liandong.typeset.LATIN, True, False, unit * 1000 + k)
            for k in range(start, end)
        ],
    )
    monkeypatch.setattr(liandong.typeset, "can_break", lambda before, after: True)
    result, _ = _measure(tmp_path, "2024/17")
    assert not baseline["2024/17"].of("words")
    assert _fails(result, "words", "不能拆开|回行"), result.report("words")


def test_a_title_broken_inside_a_word_fails_words(tmp_path, baseline):
    """2024/14's title takes two lines; declared one word, it has no place to break."""
    assert not baseline["2024/14"].of("words")
    title = "长沙市芙蓉区代表联络站开展“代表接待日”活动"
    result, _ = _measure(tmp_path, "2024/14", words={"2024/14/01.md": {"标题": title}})
    assert _fails(result, "words", "标题在词中间回行"), result.report("words")


def test_a_notice_excuses_a_stretched_line(tmp_path):
    css = "article > p .line:first-child { letter-spacing: 3pt !important; }"
    result, _ = _measure(
        tmp_path,
        "2025/4",
        css,
        notices=(
            "issues/2025/4/01.md:5:1: 注意：这一行排得太松",
            "issues/2025/4/01.md:7:1: 注意：这一行排得太松",
        ),
    )
    # The third paragraph (01.md:9) has no notice: its stretched line still fails.
    assert [str(f) for f in result.of("spacing")] == [
        "第 1 页：第 17 行“有关措施正在有序推进。”（issues/2025/4/01.md:9）拉得太开（“有关”之间"
        "多出 0.20 字），而生成时没有提示"
    ]


def test_a_build_refused_fails_build(tmp_path):
    """2024/17 prints Latin words wider than the typesetter measured them; whatever the code,
    an issue the build refuses is reported under build, with the reason."""
    root = _project(tmp_path, "2025/4")
    built, _, _ = build_corpus(root)
    built["2025/4"].refused.append("预检未通过")
    assert measure_built(root, built["2025/4"]).of("build")


# --- The definitions, on glyphs made by hand -------------------------------------------------


def _line(*glyphs: tuple[str, float, float]) -> Line:
    return Line(1, [Glyph(text, x0, x1, 100.0, 16.0, "F") for text, x0, x1 in glyphs])


def test_the_visible_edge_ignores_a_trailing_space():
    line = _line(("字", 0, 16), ("字", 16, 32), (" ", 32, 36))
    assert line.right == 32
    assert line.ink_text == "字字"


def test_a_closing_mark_keeps_its_full_cell_at_the_line_end():
    """A narrow ” (a font without zh-CN forms) still ends its cell one em from its origin."""
    assert "”" in BLANK_RIGHT
    line = _line(("字", 0, 16), ("”", 16, 21))
    assert line.right == 32
    line = _line(("“", 0, 5), ("字", 5, 21))
    assert line.left == -11


def test_an_issue_folder_gives_its_blocks_and_banji():
    expected = expected_issue(CORPUS, CORPUS / "issues" / "2024" / "15")
    kinds = [block.kind for block in expected.blocks]
    assert kinds[:4] == ["note", "title", "subtitle", "p"]
    assert expected.blocks[0].text.startswith("【编者按】代表建议")
    assert expected.banji.count == 120
    assert [key for key, _ in expected.banji.lists] == ["报", "送"]


def test_a_pdf_without_the_expected_text_fails_text(tmp_path):
    root = _project(tmp_path, "2025/1")
    built, _, _ = build_corpus(root)
    expected = expected_issue(root, root / "issues" / "2025" / "1")
    other = expected_issue(CORPUS, CORPUS / "issues" / "2025" / "2")
    result = measure(
        built["2025/1"].pdf, type(expected)(expected.name, other.blocks, expected.banji)
    )
    assert result.of("text")
    assert EDGE_TOLERANCE == pytest.approx(0.2 * MM)
