"""Chinese typesetting rules: numerals, kinsoku, flush lines, compression, balanced titles."""

from __future__ import annotations

import pytest

from liandong.typeset import (BLANK_RIGHT, CLOSING, OPENING, Piece, balance_lines, break_lines,
                              chinese_number)

SIZE = 16.0
CHARS = 28
WIDTH = CHARS * SIZE  # a grid of 28 full-width cells, no spacing
HAN = "省人大常委会认真践行两个密切联系的重要指示要求把代表工作作为人大工作的基本盘"


def measure(style: str, text: str, spacing: float = 0.0, full_width: bool = False) -> float:
    """Full-width cells for Chinese, half for ASCII; quotes narrow in the 'narrow' style; like
    WeasyPrint's box width, `spacing` follows every character."""
    if style == "narrow" and text in "“”":
        return 0.35 * SIZE + spacing
    return sum(SIZE / 2 if ord(c) < 128 else SIZE for c in text) + len(text) * spacing


def typeset(text: str, style: str = "body", **kwargs):
    options = dict(first_width=WIDTH, width=WIDTH, spacing=0.0, size=SIZE)
    options.update(kwargs)
    return break_lines([Piece(text, style)], measure, **options)


def line_width(line) -> float:
    """Where the last glyph ends: each span's box (its text with its letter-spacing after every
    character, padding, and the gap after it), less the spacing after the last glyph."""
    total = 0.0
    spacing = 0.0
    for piece in line.pieces:
        spacing = line.spacing if piece.spacing is None else piece.spacing
        total += (measure(piece.style, piece.text, spacing) + piece.pad_left + piece.pad_right
                  + piece.margin_right)
    return total - spacing


@pytest.mark.parametrize("number, numeral", [
    (1, "一"), (10, "十"), (13, "十三"), (110, "一百一十"), (714, "七百一十四"),
    (1005, "一千零五"), (1010, "一千零一十"),
])
def test_running_total_in_chinese_numerals(number, numeral):
    assert chinese_number(number) == numeral


def test_every_line_but_the_last_is_flush():
    lines = typeset(HAN * 4)
    assert len(lines) > 3
    for line in lines[:-1]:
        assert line_width(line) == pytest.approx(WIDTH, abs=1e-6)
    assert line_width(lines[-1]) <= WIDTH
    assert "".join(line.text for line in lines) == HAN * 4


def test_comma_never_starts_a_line():
    text = HAN[:CHARS] + "，" + HAN
    lines = typeset(text)
    assert all(line.text[0] not in CLOSING for line in lines)
    assert all(line_width(line) == pytest.approx(WIDTH, abs=1e-6) for line in lines[:-1])


def test_a_space_between_latin_words_never_starts_a_line():
    """The renderer drops a space that opens a line, which would leave that line short."""
    for shift in range(12):
        text = HAN[:CHARS - 8 + shift] + "APEC Business Advisory Council meeting" + HAN
        lines = typeset(text)
        assert all(not line.text[0].isspace() for line in lines), shift
        assert "".join(line.text for line in lines) == text


def test_opening_quote_never_ends_a_line():
    text = HAN[:CHARS - 1] + "“金点子”" + HAN
    lines = typeset(text)
    assert all(line.text[-1] not in OPENING for line in lines)


def test_numbers_email_and_double_marks_stay_whole():
    for unit in ("85309270", "hnrldgwxrc@163.com", "——", "……", "4×4"):
        for shift in range(6):
            text = HAN[:CHARS - 2 - shift] + unit + HAN
            lines = typeset(text)
            assert any(unit in line.text for line in lines), (unit, [l.text for l in lines])


def test_words_and_numbers_are_set_tight():
    lines = typeset("联系方式：0731—85309270 hnrldgwxrc@163.com" + HAN, spacing=0.5)
    tight = [p.text for line in lines for p in line.pieces if p.tight]
    assert "8530927" in tight and "hnrldgwxrc@163.co" in tight
    for line in lines[:-1]:
        assert line_width(line) == pytest.approx(WIDTH, abs=1e-6)


def test_no_single_character_last_line():
    lines = typeset(HAN[:CHARS] * 2 + "盘。")
    assert len(lines[-1].text.rstrip("。")) >= 2


def test_squeeze_is_bounded_and_stretch_keeps_the_edge():
    lines = typeset(HAN * 3, spacing=-0.2)
    for line in lines[:-1]:
        assert line.spacing >= -0.2 - 0.05 * SIZE - 1e-9


def test_first_line_width_allows_for_the_indent():
    lines = typeset(HAN * 2, first_width=WIDTH - 2 * SIZE)
    assert len(lines[0].text) == CHARS - 2
    assert line_width(lines[0]) == pytest.approx(WIDTH - 2 * SIZE, abs=1e-6)


def test_two_marks_in_a_row_are_compressed():
    lines = typeset("他说：“好。”，")
    pieces = [p for line in lines for p in line.pieces]
    kerned = [p.text for p in pieces if p.kern]
    assert kerned == ["：", "。", "”"]  # the last "，" ends the line: no kern there
    assert all(p.kern == -SIZE / 2 for p in pieces if p.kern)


def test_narrow_quotes_take_a_full_cell_from_the_marks_font():
    lines = typeset("要把“金点子”转化", style="narrow", marks="body")
    pieces = [p for line in lines for p in line.pieces]
    quotes = [p for p in pieces if p.text in "“”"]
    assert [p.style for p in quotes] == ["body", "body"]
    assert all(not (p.pad_left or p.pad_right) for p in quotes)


def test_narrow_quotes_are_padded_when_no_font_has_them_full_width():
    lines = typeset("要把“金点子”转化", style="narrow")
    quotes = [p for line in lines for p in line.pieces if p.text in "“”"]
    assert quotes[0].pad_left == pytest.approx(0.65 * SIZE) and quotes[0].pad_right == 0
    assert quotes[1].pad_right == pytest.approx(0.65 * SIZE) and quotes[1].pad_left == 0


def test_title_lines_are_balanced():
    title = HAN[:30]
    lines = balance_lines([Piece(title, "title")], measure, width=20 * SIZE, size=SIZE)
    assert [len(line.text) for line in lines] == [15, 15]


def test_title_never_leaves_one_or_two_characters_alone():
    title = HAN[:21]
    lines = balance_lines([Piece(title, "title")], measure, width=20 * SIZE, size=SIZE)
    assert min(len(line.text) for line in lines) >= 10


def test_closing_mark_blank_is_trimmed_at_the_end_of_a_centred_line():
    lines = balance_lines([Piece("金钥匙”", "title")], measure, width=20 * SIZE, size=SIZE)
    last = lines[-1].pieces[-1]
    assert last.text == "”" and last.kern == -SIZE / 2
    assert "”" in BLANK_RIGHT


def test_double_marks_are_one_unit_not_split_into_tight_pieces():
    lines = typeset(HAN[:10] + "——" + HAN[:10] + "……" + HAN, spacing=0.5)
    pieces = [p for line in lines for p in line.pieces]
    assert not any(p.tight for p in pieces)
    assert any("——" in p.text for p in pieces) and any("……" in p.text for p in pieces)


def test_a_number_keeps_its_unit_when_the_spacing_allows():
    for shift in range(4):
        text = HAN[:CHARS - 3 - shift] + "，8月28日，" + HAN
        lines = typeset(text, spacing=-0.2)
        for line, following in zip(lines, lines[1:]):
            assert not (line.text[-1].isdigit() and following.text[0] in "月日"), (
                [l.text for l in lines])


def test_chinese_number_spells_every_number_as_cn2an_does():
    """chinese_number replaces cn2an.an2cn only to save its import: they must never differ."""
    import random

    import cn2an

    rng = random.Random(714)
    numbers = list(range(0, 20001)) + [rng.randrange(10 ** 12) for _ in range(3000)]
    numbers += [10 ** k for k in range(12)] + [10 ** k + 10 for k in range(2, 12)]
    assert [n for n in numbers if chinese_number(n) != cn2an.an2cn(n)] == []
