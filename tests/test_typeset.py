"""Chinese typesetting rules: numerals, kinsoku, flush lines, compression, balanced titles."""

from __future__ import annotations

import itertools

import pytest

from liandong.typeset import (
    CLOSING,
    HAN_STRETCH,
    LATIN_STRETCH,
    OPENING,
    RESIDUAL,
    SQUEEZE,
    TRACK,
    Piece,
    balance_lines,
    break_lines,
    chinese_number,
    set_pair,
)

SIZE = 16.0
CHARS = 28
WIDTH = CHARS * SIZE  # a grid of 28 full-width cells, no spacing
HAN = "省人大常委会认真践行两个密切联系的重要指示要求把代表工作作为人大工作的基本盘"


def measure(style: str, text: str, spacing: float = 0.0, full_width: bool = False) -> float:
    """Full-width cells for Chinese, half for ASCII; quotes narrow in the 'narrow' style; like
    WeasyPrint's box width, `spacing` follows every character."""

    def cell(c: str) -> float:
        if style == "narrow" and c in "“”":
            return 0.35 * SIZE
        return SIZE / 2 if ord(c) < 128 else SIZE

    return sum(cell(c) for c in text) + len(text) * spacing


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
        total += (
            measure(piece.style, piece.text, spacing)
            + piece.pad_left
            + piece.pad_right
            + piece.margin_right
        )
    return total - spacing


@pytest.mark.parametrize(
    "number, numeral",
    [
        (1, "一"),
        (10, "十"),
        (13, "十三"),
        (110, "一百一十"),
        (714, "七百一十四"),
        (1005, "一千零五"),
        (1010, "一千零一十"),
    ],
)
def test_running_total_in_chinese_numerals(number, numeral):
    assert chinese_number(number) == numeral


def test_every_line_but_the_last_is_flush():
    lines = typeset(HAN * 4)
    assert len(lines) > 3
    for line in lines[:-1]:
        assert line_width(line) == pytest.approx(WIDTH, abs=RESIDUAL)
    assert line_width(lines[-1]) <= WIDTH
    assert "".join(line.text for line in lines) == HAN * 4


def test_comma_never_starts_a_line():
    text = HAN[:CHARS] + "，" + HAN
    lines = typeset(text)
    assert all(line.text[0] not in CLOSING for line in lines)
    assert all(line_width(line) == pytest.approx(WIDTH, abs=RESIDUAL) for line in lines[:-1])


def test_a_space_between_latin_words_never_starts_a_line():
    """The renderer drops a space that opens a line, which would leave that line short."""
    for shift in range(12):
        text = HAN[: CHARS - 8 + shift] + "APEC Business Advisory Council meeting" + HAN
        lines = typeset(text)
        assert all(not line.text[0].isspace() for line in lines), shift
        assert " ".join(line.text for line in lines).replace(" ", "") == text.replace(" ", "")


def test_a_space_at_a_line_break_is_dropped_so_the_visible_edge_is_flush():
    """A space left at a line's end prints nothing where the line was measured to end: the
    visible edge fell 1.3–2.5 mm short of the text area's edge."""
    broke_at_a_space = 0
    for shift in range(12):
        text = HAN[: CHARS - 8 + shift] + "APEC Business Advisory Council meeting" + HAN
        for line in typeset(text, spacing=0.5)[:-1]:
            assert not line.text.endswith(" "), line.text
            assert line_width(line) == pytest.approx(WIDTH, abs=RESIDUAL)
            broke_at_a_space += line.text[-1].isalpha()
    assert broke_at_a_space


def test_opening_quote_never_ends_a_line():
    text = HAN[: CHARS - 1] + "“金点子”" + HAN
    lines = typeset(text)
    assert all(line.text[-1] not in OPENING for line in lines)


@pytest.mark.parametrize(
    "unit", ["85309270", "1234567890123", "——", "……", "4×4", "COVID-19", "iPhone15", "2024-2025"]
)
def test_numbers_words_and_double_marks_stay_whole(unit):
    for shift in range(8):
        text = HAN[: CHARS - 2 - shift] + unit + HAN
        lines = typeset(text)
        assert any(unit in line.text for line in lines), (unit, [l.text for l in lines])


@pytest.mark.parametrize("unit", ["0731—85309270", "2024—2025年", "3～5", "8月—9月", "北京—上海"])
def test_a_phone_number_or_a_range_never_breaks_at_its_dash(unit):
    """0731— / 85309270 and 2024— / 2025年 were printed; a joining dash binds its neighbours."""
    for shift in range(10):
        text = HAN[: CHARS - 4 - shift] + unit + HAN
        lines = typeset(text)
        assert not any(
            line.text.endswith(("—", "～")) or line.text.startswith(("—", "～")) for line in lines
        ), [l.text for l in lines]
        if unit.isascii() or unit[0].isdigit():
            assert any(unit.rstrip("年") in line.text for line in lines), [l.text for l in lines]


def test_a_joining_dash_prints_full_width_in_a_span_of_its_own():
    """Next to Latin letters or digits Pango shapes — as Latin, with the narrow proportional
    glyph: the dash gets the fonts' full-width form (fwid), and is measured with it."""
    lines = typeset("电话0731—85309270，范围A—B。" + HAN)
    dashes = [p for line in lines for p in line.pieces if p.text == "—"]
    assert len(dashes) == 2 and all(p.full_width for p in dashes)


def test_a_latin_word_is_one_span_so_it_is_measured_as_it_is_shaped():
    """A word printed as two spans loses its kerning (AV) and ligatures: never split one."""
    lines = typeset("会议指出AVATAR与WAVE两个词COVID-19和iPhone15以及Win11" + HAN, spacing=0.5)
    texts = [p.text for line in lines for p in line.pieces]
    for word in ("AVATAR", "WAVE", "COVID-19", "iPhone15", "Win11"):
        assert word in texts, texts
    words = [p for line in lines for p in line.pieces if p.text in ("AVATAR", "WAVE")]
    assert all(p.spacing == 0 for p in words)  # tight inside, the gap after is the margin
    for line in lines[:-1]:
        assert line_width(line) == pytest.approx(WIDTH, abs=RESIDUAL)


def test_a_url_breaks_only_after_its_break_characters_with_nothing_inserted():
    url = "https://www.hnrd.gov.cn/content/2024/08/30/article_12345.html?from=list&page=2"
    lines = typeset("网址：详见" + url + "，" + HAN, spacing=0.5)
    inside = [line.text for line in lines if any(part in line.text for part in ("www", "html"))]
    assert len(inside) >= 2
    assert "".join(line.text for line in lines) == "网址：详见" + url + "，" + HAN
    for line in lines[:-1]:
        if line.text[-1].isascii():
            assert line.text[-1] in "/.-?&", line.text
            assert not line.text.endswith(":/")
        assert line_width(line) == pytest.approx(WIDTH, abs=RESIDUAL)


def test_an_email_address_breaks_only_before_at_or_after_a_dot():
    for shift in range(8):
        text = HAN[: CHARS - 2 - shift] + "hnrldgwxrc@163.com" + HAN
        lines = typeset(text)
        for line, following in itertools.pairwise(lines):
            if line.text[-1].isascii() and following.text[0].isascii():
                assert line.text[-1] == "." or following.text[0] == "@", (line.text, following.text)


def test_a_line_with_latin_words_stretches_the_gaps_around_and_between_them_first():
    """The line before a URL was letter-spaced across the whole measure (网 址 ： 详 见)."""
    text = (
        "会议指出He said the quick brown fox jumps over the lazy dog again and again today." + HAN
    )
    lines = typeset(text, spacing=-0.2)
    stretched = [line for line in lines[:-1] if line.loose > 0]
    assert stretched
    for line in stretched:
        assert line.stretch <= HAN_STRETCH and line.loose <= LATIN_STRETCH
        assert line.stretch < line.loose
        assert line_width(line) == pytest.approx(WIDTH, abs=RESIDUAL)


def test_a_line_that_is_one_piece_of_a_url_is_letter_spaced_inside_it():
    """No gap to stretch: a URL's piece that nearly fills a line is tracked (within TRACK)
    rather than left short, and its last character is a span of its own."""
    url = "https://example.org/" + "a" * 30 + "/" + "b" * 54 + "/c"
    lines = typeset(HAN[:5] + url + HAN)
    alone = next(line for line in lines if line.text.startswith("bbb"))
    assert alone.text == "b" * 54 + "/" and not alone.underfull
    assert all(0 < piece.spacing <= TRACK * SIZE for piece in alone.pieces)
    assert alone.pieces[-1].text == "/"
    assert line_width(alone) == pytest.approx(WIDTH, abs=RESIDUAL)


def test_a_run_longer_than_the_line_is_overfull():
    """A number that cannot break and is wider than the measure: the line is marked, so that
    check and build report it at its place instead of printing outside the text area."""
    number = "1" * 80
    lines = typeset(HAN[:10] + number + HAN)
    assert [line.overfull for line in lines].count(True) == 1
    assert number in next(line.text for line in lines if line.overfull)


def test_a_line_that_cannot_be_set_well_is_underfull():
    """A word that fits a line but not after the five characters before it: their line can only
    be stretched past the limits, and says so (like TeX's underfull box)."""
    lines = typeset(HAN[:5] + " " + "x" * 46 + " " + HAN, first_width=WIDTH)
    assert HAN[:5].startswith(lines[0].text) and lines[0].underfull
    assert not any(line.underfull or line.overfull for line in lines[1:])
    assert line_width(lines[0]) == pytest.approx(WIDTH, abs=RESIDUAL)  # still flush


def test_words_and_numbers_are_set_tight():
    lines = typeset("联系方式：0731—85309270 hnrldgwxrc@163.com" + HAN, spacing=0.5)
    latin = [p for line in lines for p in line.pieces if p.text[0].isascii()]
    assert latin and all(p.spacing == 0 for p in latin)
    for line in lines[:-1]:
        assert line_width(line) == pytest.approx(WIDTH, abs=RESIDUAL)


def test_no_single_character_last_line():
    lines = typeset(HAN[:CHARS] * 2 + "盘。")
    assert len(lines[-1].text.rstrip("。")) >= 2


def test_squeeze_is_bounded_and_stretch_keeps_the_edge():
    """A closing mark kept on a full line squeezes every gap by at most SQUEEZE; a line short
    of the measure is stretched. Either way its last glyph ends on the edge."""
    squeezed = stretched = 0
    for shift in range(6):
        for text, spacing in (
            (HAN[: CHARS - shift] + "，" + HAN[:shift] + HAN * 2, 0.0),
            (HAN * 3, -0.2),
        ):
            lines = typeset(text, spacing=spacing)
            for line in lines[:-1]:
                assert line.spacing >= spacing - SQUEEZE * SIZE - 1e-9, line.text
                assert line.stretch >= -SQUEEZE - 1e-9, line.text
                assert line_width(line) == pytest.approx(WIDTH, abs=RESIDUAL), line.text
                squeezed += line.stretch < 0
                stretched += line.stretch > 0
    assert squeezed and stretched


def test_first_line_width_allows_for_the_indent():
    lines = typeset(HAN * 2, first_width=WIDTH - 2 * SIZE)
    assert len(lines[0].text) == CHARS - 2
    assert line_width(lines[0]) == pytest.approx(WIDTH - 2 * SIZE, abs=RESIDUAL)


def test_two_marks_in_a_row_are_compressed():
    lines = typeset("他说：“好。”，")
    pieces = [p for line in lines for p in line.pieces]
    kerned = [p.text for p in pieces if p.spacing is not None]
    assert kerned == ["：", "。", "”"]  # the last "，" ends the line: no kern there
    assert all(p.spacing == -SIZE / 2 for p in pieces if p.spacing is not None)


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
    assert [len(line.text) for line in lines] == [16, 14]  # 15 + 15 would split 两个


@pytest.mark.parametrize(
    "title, first",
    [
        (
            "省人大常委会代表工作委员会开展专题调研推动代表建议办理工作",
            "省人大常委会代表工作委员会开展",
        ),
        (
            "湖南省人大常委会代表工作委员会召开全省代表联络站建设工作推进会",
            "湖南省人大常委会代表工作委员会",
        ),
    ],
)
def test_a_title_breaks_between_words(title, first):
    """GB/T 9704 7.3.2: a wrapped title keeps its words whole (…委员会开 / 展专题… was printed)."""
    size = 22.0
    lines = balance_lines([Piece(title, "title")], measure, width=156 * 72 / 25.4, size=size)
    assert [line.text for line in lines] == [first, title[len(first) :]]
    assert all(
        line.spacing == 0 and all(p.spacing in (None, 0) for p in line.pieces) for line in lines
    )  # centred, never letter-spaced


def test_a_title_avoids_a_break_next_to_a_one_character_word():
    """The segmenter cuts a name it does not know into single characters (东|江湖): a break
    there is taken only when nothing better balances."""
    title = "郴州市人大代表围绕东江湖生态保护开展专题调研"
    lines = balance_lines([Piece(title, "title")], measure, width=20 * SIZE, size=SIZE)
    assert [line.text for line in lines] == ["郴州市人大代表围绕东江湖", "生态保护开展专题调研"]


def test_a_subtitle_keeps_a_quoted_term_on_one_line():
    """“有形 / 覆盖” was printed: a break inside quotation marks is taken only when nothing
    else balances."""
    subtitle = (
        "坚持问需于民、问计于民，推动代表联络站从“有形覆盖”向“有效覆盖”转变，让代表履职更好贴近群众"
    )
    lines = balance_lines([Piece(subtitle, "kai")], measure, width=156 * 72 / 25.4, size=SIZE)
    assert [line.text for line in lines] == [
        "坚持问需于民、问计于民，推动代表联络站从“有形覆盖”",
        "向“有效覆盖”转变，让代表履职更好贴近群众",
    ]


def test_a_title_folded_onto_two_lines_breaks_where_the_editor_broke_it():
    """A plain YAML value on two lines reads as one with a space: between two Chinese
    characters that space is the editor's line break, and prints nothing."""
    lines = balance_lines(
        [Piece("岳阳市人大常委会 推行代表建议“回头看”", "title")],
        measure,
        width=20 * SIZE,
        size=SIZE,
    )
    assert [line.text for line in lines] == ["岳阳市人大常委会", "推行代表建议“回头看”"]


def test_an_editors_line_break_in_a_title_is_a_line_break():
    """标题: | with a newline: two lines, and never a space printed for the newline."""
    lines = balance_lines(
        [Piece("关于加强代表工作的\n几点意见", "title")], measure, width=20 * SIZE, size=SIZE
    )
    assert [line.text for line in lines] == ["关于加强代表工作的", "几点意见"]
    assert [line.last for line in lines] == [False, True]


def test_title_never_leaves_one_or_two_characters_alone():
    title = HAN[:21]
    lines = balance_lines([Piece(title, "title")], measure, width=20 * SIZE, size=SIZE)
    assert min(len(line.text) for line in lines) >= 10


def test_closing_mark_blank_is_trimmed_at_the_end_of_a_centred_line():
    lines = balance_lines([Piece("金钥匙”", "title")], measure, width=20 * SIZE, size=SIZE)
    last = lines[-1].pieces[-1]
    assert last.text == "”" and last.spacing == -SIZE / 2
    # The box the template centres ends where the mark's ink does: three characters and the
    # mark's left half. An opening mark keeps its cell (its blank half is on the other side).
    assert box_width(lines[-1]) == pytest.approx(3.5 * SIZE)
    plain = balance_lines([Piece("金钥匙“", "title")], measure, width=20 * SIZE, size=SIZE)
    assert box_width(plain[-1]) == pytest.approx(4 * SIZE)


def test_double_marks_are_one_span_without_spacing_inside():
    """—— and …… are one unit each; letter-spaced inside, a stretched line showed a gap in the
    middle of the dash. Alone in a span Pango would shape them as Latin (narrower than
    measured): they ask for the full-width forms."""
    lines = typeset(HAN[:10] + "——" + HAN[:10] + "……" + HAN, spacing=0.5)
    marks = [p for line in lines for p in line.pieces if p.text in ("——", "……")]
    assert len(marks) == 2 and all(p.full_width and p.spacing == 0 for p in marks)
    for line in lines[:-1]:
        assert line_width(line) == pytest.approx(WIDTH, abs=RESIDUAL)


def test_a_number_keeps_its_unit_when_the_spacing_allows():
    for shift in range(4):
        text = HAN[: CHARS - 3 - shift] + "，8月28日，" + HAN
        lines = typeset(text, spacing=-0.2)
        for line, following in itertools.pairwise(lines):
            assert not (line.text[-1].isdigit() and following.text[0] in "月日"), [
                l.text for l in lines
            ]


def test_chinese_number_spells_every_number_as_cn2an_does():
    """chinese_number replaces cn2an.an2cn only to save its import: they must never differ."""
    import random

    import cn2an

    rng = random.Random(714)
    numbers = list(range(0, 20001)) + [rng.randrange(10**12) for _ in range(3000)]
    numbers += [10**k for k in range(12)] + [10**k + 10 for k in range(2, 12)]
    assert [n for n in numbers if chinese_number(n) != cn2an.an2cn(n)] == []


# --- Two parts of one line (the 版记's 责任编辑 + 联系方式, 批准文号 + 印数) -------------------

EDITOR = [Piece("责任编辑：王小益", "body")]  # 8 cells: 128 pt, 7 gaps
CONTACT = [Piece("联系方式：热线电话", "body")]  # 9 cells: 144 pt, 8 gaps
PAIR_GAP = 8.0


def box_width(line) -> float:
    """The width of the box the template puts a part in: every span with its spacing."""
    return sum(
        measure(p.style, p.text, line.spacing if p.spacing is None else p.spacing)
        + p.pad_left
        + p.pad_right
        + p.margin_right
        for p in line.pieces
    )


def test_two_parts_that_fit_keep_their_natural_width():
    width = 128 + 144 + PAIR_GAP + 10
    left, right = set_pair(EDITOR, CONTACT, measure, width=width, gap=PAIR_GAP, size=SIZE)
    assert (left.text, right.text) == ("责任编辑：王小益", "联系方式：热线电话")
    assert left.spacing == right.spacing == 0.0
    assert (box_width(left), box_width(right)) == (128, 144)


def test_two_parts_a_little_too_wide_are_squeezed_alike_to_leave_the_gap():
    """Over by 12 pt, 15 gaps: each gives up 0.8 pt (0.05 em is 0.8 pt at 16 pt). The parts'
    boxes end at their last glyphs (no spacing after it), so the gap is what is left."""
    over = 12.0
    width = 128 + 144 + PAIR_GAP - over
    left, right = set_pair(EDITOR, CONTACT, measure, width=width, gap=PAIR_GAP, size=SIZE)
    assert left.spacing == right.spacing == pytest.approx(-over / 15, abs=1e-3)
    assert left.stretch == pytest.approx(-over / 15 / SIZE, abs=1e-4)
    assert all(
        line.pieces[-1].spacing == 0.0 and len(line.pieces[-1].text) == 1 for line in (left, right)
    )
    assert box_width(left) == pytest.approx(line_width(left), abs=1e-9)
    assert line_width(left) == pytest.approx(128 - 7 * over / 15, abs=RESIDUAL)
    assert line_width(right) == pytest.approx(144 - 8 * over / 15, abs=RESIDUAL)
    assert width - box_width(left) - box_width(right) == pytest.approx(PAIR_GAP, abs=2 * RESIDUAL)
    assert not (left.overfull or right.overfull)


def test_two_parts_that_need_more_than_the_squeeze_go_on_two_lines():
    limit = SQUEEZE * SIZE * 15
    width = 128 + 144 + PAIR_GAP
    assert (
        set_pair(EDITOR, CONTACT, measure, width=width - limit + 0.01, gap=PAIR_GAP, size=SIZE)
        is not None
    )
    assert (
        set_pair(EDITOR, CONTACT, measure, width=width - limit - 0.01, gap=PAIR_GAP, size=SIZE)
        is None
    )


def test_a_part_squeezed_at_a_latin_word_keeps_the_word_whole():
    """Latin is set tight: the squeeze goes to the gaps between Chinese units and at the words
    (as in a body line), never inside a word or number."""
    contact = [Piece("联系方式：0731—85309270 ab@163.com", "body")]
    natural = 5 * 16 + 8 * 12 + 16 + 8 + 8 * 10  # 12 digits, a full-width dash, a space
    width = 128 + natural + PAIR_GAP - 6
    left, right = set_pair(EDITOR, contact, measure, width=width, gap=PAIR_GAP, size=SIZE)
    latin = [p for p in right.pieces if p.text.strip() and ord(p.text[0]) < 128]
    assert latin and all(p.spacing == 0.0 for p in latin)
    assert "".join(p.text for p in right.pieces) == "联系方式：0731—85309270 ab@163.com"
    assert width - box_width(left) - box_width(right) == pytest.approx(PAIR_GAP, abs=2 * RESIDUAL)
