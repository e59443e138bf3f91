"""The one measure of a right 联络动态 issue, applied the same way to every corpus PDF.

Everything is measured from what is drawn: each glyph's position comes from the content stream
(its text matrix), its em box from that position and the advance the PDF gives the glyph (the
font's /W widths, the advance the viewer draws with), and ink from pages rendered by pdfium.
Character boxes are never trusted on their own: an invisible glyph (a space at a line's end) has
a box but no ink, and counts for nothing here.

`measure(pdf, expected, notices)` returns a `Measurement`: its `failures`, each under one of
`CRITERIA`, and the figures the corpus summary prints. Each criterion is specified in the
docstring of its `_check_*` function; every tolerance is a named constant below. `expected`
comes from the issue's sources (`expected_issue`), so that each drawn line is known as a line
of a given paragraph, title or 版记 part, and nothing is guessed from the layout.
`build_corpus` renders every issue of a project in one process for the tests and the summary.
"""

from __future__ import annotations

import itertools
import logging
import re
import time
import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pdfplumber

from pdfmeasure import BOTTOM, MM, PITCH, TEXT_H, TEXT_W, TOP, text_left, text_right

# --- The page and its tolerances -------------------------------------------------------------

GRID_LINES = 22
LINE_PITCH = TEXT_H / GRID_LINES
"""One line of the grid: 225 mm ÷ 22 = 10.227 mm."""
BODY_SIZE = 16.0  # 三号: running text, subtitles, headings, the 编者按
TITLE_SIZE = 22.0  # 二号: article titles
BANJI_SIZE = 14.0  # 四号: the 版记 and the page number

EMBOX_TOP = 0.88
"""Top of the ideographic em box above the baseline, in em. Every CJK face in use declares the
em box from -0.12 em to 0.88 em (BASE table `ideo` = -120/1000 and OS/2 typo metrics 880/-120:
Noto Serif/Sans CJK, LXGW WenKai, FandolFang/Kai/Hei/Song), so a glyph's em box is
[baseline - 0.88 size, baseline + 0.12 size] whatever face drew it."""

EDGE_TOLERANCE = 0.2 * MM
"""Visible line edges, 版记 indents and the 印数 at the right: within 0.2 mm."""
GRID_TOLERANCE = 0.1 * MM
"""A 三号 line's em-box top: within 0.1 mm of its grid line."""
MASTHEAD_TOLERANCE = 0.3 * MM
"""The masthead's red ink top: within 0.3 mm of 37 mm (the ink is placed, not an em box)."""

HAN_STRETCH = 0.15
"""Most extra space (em) between two full-width glyphs beyond the line's natural spacing."""
LATIN_STRETCH = 0.5
"""Most extra space (em) at a Latin word, number or URL: between words (beyond the space's own
advance) and between Latin and Chinese (beyond nothing: no space drawn there counts as 0)."""
HAN_SQUEEZE = 0.1
"""Most space (em) taken out between two full-width glyphs beyond the natural spacing ..."""
MARK_SQUEEZE = 0.6
"""... or, where one of them is a full-width punctuation mark, which may give up its blank half."""
LATIN_SQUEEZE = 0.25
"""Most space (em) taken out between a Latin glyph and its neighbour (kerning)."""
PAIR_GAP = 0.5
"""Least space (em) between the two parts of one 版记 line (责任编辑 and 联系方式, 批准文号
and 印数)."""
PAIR_SQUEEZE = 0.05
"""The two parts must share one line when they fit there with PAIR_GAP between them, squeezed
by at most this much (em) between each two neighbouring full-width glyphs of theirs: the body's
limit. Where they share it, what is taken out between two glyphs is held to HAN_SQUEEZE."""

RULE_THICK = 0.35 * MM  # the 版记's first and last rules (GB/T 9704 §7.4.1)
RULE_THIN = 0.25 * MM  # the rules between its parts
RULE_TOLERANCE = 0.05 * MM
BANJI_BOTTOM_TOLERANCE = 0.2 * MM
"""The 版记's last rule: its lower edge on the text area's bottom edge, within 0.2 mm."""

FOLIO_GAP = 7 * MM
"""The page number's dashes: their ink top 7 mm below the text area (GB/T 9704 §7.5)."""
FOLIO_GAP_TOLERANCE = 0.3 * MM
FOLIO_INSET = PITCH
"""The page number stands one character (156 mm ÷ 28) in from the text area's outer edge."""

INK_DPI = 400
"""Pages are rendered at 400 dpi (0.064 mm a pixel) for the ink checks."""
INK_LEVEL = 128
"""A pixel darker than mid-grey is ink."""
INK_TOLERANCE = 0.1 * MM
"""Ink may reach 0.1 mm past the text area (anti-aliasing) and still be inside."""

CRITERIA = (
    "build",
    "text",
    "edges",
    "grid",
    "kinsoku",
    "words",
    "spacing",
    "keep",
    "banji",
    "outside",
    "forms",
)
"""The criteria, in the order failures are reported. `build` is the harness's: the issue was
refused (a source problem or a failed preflight); the others are measured on the PDF.
`forms` judges what only lists, 注 notes, tables and figures have (see _check_forms)."""

TABLE_RULE = 0.5
"""pt: every rule of a table (全框线). Drawn rules are measured on the rendered ink."""
TABLE_RULE_TOLERANCE = 0.3
"""pt: a table rule may be this much thicker or thinner (anti-aliasing at INK_DPI)."""
DPI_FLOOR = 100
"""An image printed below this resolution fails; ..."""
DPI_NOTICE = 200
"""... below this it needs a notice at its figure's place."""
NUMBER = re.compile(r"[+\-−±]?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?[%‰]?")
"""A number in a table cell (1,268, 98.5%, -3): a column of them is set right, decimal points
in line."""
NO_DATA = frozenset({"", "—", "——", "-", "–", "/", "…", "……"})

# --- Punctuation classes (clreq), written here and not imported, so the measure stays
# independent of the typesetting it judges. -----------------------------------------------------

CLOSING = frozenset("，。、；：？！）》」』】〕〗〉”’,.;:?!)]}")
"""No line starts with these."""
OPENING = frozenset("（《「『【〔〖〈“‘([{")
"""No line ends with these."""
PAIRED = frozenset("—…")
"""—— and …… are one mark each: a line never ends with the first half and starts with the other."""
BLANK_RIGHT = frozenset("，。、；：？！）》」』】〕〗〉”’")
"""Full-width marks whose blank half is on the right: at a line's end the cell is the edge."""
BLANK_LEFT = frozenset("（《「『【〔〖〈“‘")
"""Full-width marks whose blank half is on the left: at a line's start the cell is the edge."""
URL_BREAKS = frozenset("/.-?&")
"""A URL may break after these, with nothing inserted."""
_URL = re.compile(r"(?:https?://|www\.)", re.I)
_FOLIO = re.compile(r"—(\d+)—")
_NOTICE_PLACE = re.compile(r"([^\s:：]+\.(?:md|yaml)):(\d+):(\d+)")
_SPACE = re.compile(r"\s+")


def norm(text: str) -> str:
    """Text compared between source and PDF: every whitespace character removed."""
    return _SPACE.sub("", text)


# --- What is drawn ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Glyph:
    """One drawn glyph. x in pt from the trim's left edge, baseline in pt from its top."""

    text: str
    x0: float  # the glyph's origin: where its em box starts
    x1: float  # origin + advance: where its em box ends
    baseline: float
    size: float
    font: str

    @property
    def inked(self) -> bool:
        """A glyph that draws something: not a space (U+0020, U+00A0, U+3000, …)."""
        return bool(self.text) and not all(
            c.isspace() or unicodedata.category(c) == "Cf" for c in self.text
        )

    @property
    def wide(self) -> bool:
        """Full-width as drawn: an advance of at least 0.9 em (Han, full-width marks)."""
        return self.x1 - self.x0 >= 0.9 * self.size

    @property
    def cell_left(self) -> float:
        """Where the glyph's cell starts: a full-width opening mark's cell is one em ending at
        its advance's end, even when a font draws it narrower (its blank half is the cell's)."""
        if self.text in BLANK_LEFT:
            return min(self.x0, self.x1 - self.size)
        return self.x0

    @property
    def cell_right(self) -> float:
        """Where the glyph's cell ends: one em from its origin for a full-width closing mark."""
        if self.text in BLANK_RIGHT:
            return max(self.x1, self.x0 + self.size)
        return self.x1


@dataclass
class Line:
    """The glyphs of one page that share a baseline, left to right."""

    page: int
    glyphs: list[Glyph]

    @property
    def ink(self) -> list[Glyph]:
        return [g for g in self.glyphs if g.inked]

    @property
    def text(self) -> str:
        """What the line prints, spaces between words included."""
        return "".join(g.text for g in self.glyphs)

    @property
    def ink_text(self) -> str:
        return "".join(g.text for g in self.ink)

    @property
    def baseline(self) -> float:
        """The baseline of the line's largest glyph (a smaller raised mark, such as a list's
        bullet, sits in the line without being on its baseline)."""
        return max(self.glyphs, key=lambda g: g.size).baseline

    @property
    def size(self) -> float:
        return max(g.size for g in self.ink)

    @property
    def em_top(self) -> float:
        return self.baseline - EMBOX_TOP * self.size

    @property
    def em_bottom(self) -> float:
        return self.baseline + (1 - EMBOX_TOP) * self.size

    @property
    def left(self) -> float:
        """The visible left edge: the cell start of the first inked glyph."""
        return self.ink[0].cell_left

    @property
    def right(self) -> float:
        """The visible right edge: the cell end of the last inked glyph. A trailing space, or
        any glyph without ink, does not count."""
        return self.ink[-1].cell_right

    def quote(self, limit: int = 14) -> str:
        text = self.ink_text
        return "“" + (text if len(text) <= limit else text[:limit] + "…") + "”"


@dataclass
class Page:
    number: int
    lines: list[Line]
    images: list[tuple[float, float, float, float, tuple[int, int]]] = field(default_factory=list)
    """Images drawn: (x0, top, x1, bottom) in pt from the trim's left and top, and pixels."""


def read_glyphs(data: bytes) -> list[Page]:
    """Every inked or blank glyph of every page, grouped into lines by baseline."""
    import io

    pages = []
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        for number, page in enumerate(pdf.pages, start=1):
            trim = page.trimbox or page.mediabox
            left, top = trim[0], trim[3]
            glyphs = []
            for char in page.chars:
                matrix = char["matrix"]
                if abs(matrix[1]) > 1e-6 or abs(matrix[2]) > 1e-6:
                    continue  # rotated text: liandong draws none
                glyphs.append(
                    Glyph(
                        char["text"],
                        char["x0"] - left,
                        char["x1"] - left,
                        top - matrix[5],
                        char["size"],
                        char["fontname"].split("+", 1)[-1],
                    )
                )
            glyphs.sort(key=lambda g: (g.baseline, g.x0))
            lines: list[Line] = []
            for glyph in glyphs:
                if lines and abs(glyph.baseline - lines[-1].baseline) < 0.5:
                    lines[-1].glyphs.append(glyph)
                else:
                    lines.append(Line(number, [glyph]))
            lines = _with_small_marks(lines)
            for line in lines:
                line.glyphs.sort(key=lambda g: g.x0)
            shift = float(page.mediabox[3]) - float(
                top
            )  # pdfplumber's tops count from the media box
            images = [
                (
                    image["x0"] - left,
                    image["top"] - shift,
                    image["x1"] - left,
                    image["bottom"] - shift,
                    tuple(image["srcsize"]),
                )
                for image in page.images
            ]
            pages.append(Page(number, [line for line in lines if line.ink], images))
    return pages


def drawn_lines(pdf: bytes | Path) -> list[Line]:
    """Every line of drawn glyphs of a PDF, page after page, top to bottom (see read_glyphs):
    for tests that ask whether a line is flush, by its visible edges (`Line.left`,
    `Line.right`), never by character boxes, which count a trailing space."""
    data = pdf if isinstance(pdf, bytes) else Path(pdf).read_bytes()
    return [line for page in read_glyphs(data) for line in page.lines]


def line_at(lines: Sequence[Line], page: int, baseline: float) -> Line:
    """The drawn line of `lines` on `page` whose baseline is `baseline` (within 0.5 pt)."""
    return next(line for line in lines if line.page == page and abs(line.baseline - baseline) < 0.5)


def _with_small_marks(lines: list[Line]) -> list[Line]:
    """Lines of glyphs smaller than three quarters of a neighbouring line's size, drawn inside
    that line's em box (a list's bullet, set at half size and raised to the ideographs'
    middle), are part of that line."""
    kept: list[Line] = []
    for k, line in enumerate(lines):
        host = None
        for other in (lines[k - 1] if k else None, lines[k + 1] if k + 1 < len(lines) else None):
            if other is None or not other.ink or not line.ink:
                continue
            if all(
                g.size < 0.75 * other.size
                and g.baseline - EMBOX_TOP * g.size >= other.em_top - 0.5
                and g.baseline + (1 - EMBOX_TOP) * g.size <= other.em_bottom + 0.5
                for g in line.glyphs
            ):
                host = other
                break
        if host is None:
            kept.append(line)
        else:
            host.glyphs.extend(line.glyphs)
    return kept


def render_pages(data: bytes, dpi: int = INK_DPI) -> list:
    """Each page rendered by pdfium, greyscale (PIL "L" images), trim box at (0, 0)."""
    import pypdfium2

    document = pypdfium2.PdfDocument(data)
    try:
        return [
            page.render(scale=dpi / 72, grayscale=True, may_draw_forms=False).to_pil()
            for page in document
        ]
    finally:
        document.close()


# --- What the sources say ----------------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    """A paragraph, heading, title or subtitle as the sources write it."""

    kind: str  # "note", "title", "subtitle", "p", "h1" … "h4"; "li" (a list item),
    # "zhu" (an item of a 注 note), "caption" (a table's), "table",
    # "figcaption" (a figure's)
    text: str  # as written: whitespace kept (a title's line breaks are whitespace)
    source: str = ""  # the file, as the editor sees it
    lines: tuple[int, int] = (0, 0)  # first and last source line
    words: str = ""  # a title's words separated by "/": where it may break
    marker: str = ""  # what a list or note item prints before its text (● 1. 注：)
    group: int = -1  # the list or note an item belongs to
    cells: tuple[tuple[str, ...], ...] = ()  # a table's rows, the header first

    @property
    def running(self) -> bool:
        """Running text: justified lines on the grid (编者按, paragraphs, headings, list and
        note items)."""
        return self.kind not in ("title", "subtitle", "caption", "table", "figcaption")

    @property
    def where(self) -> str:
        return f"{self.source}:{self.lines[0]}" if self.source else self.kind


@dataclass(frozen=True)
class Banji:
    """The 版记 as the sources give it."""

    lists: tuple[tuple[str, tuple[str, ...]], ...]  # ("报", units), ("送", …), ("发", …)
    editor: str | None
    contact: str | None
    approval: str
    count: int | None


@dataclass(frozen=True)
class Expected:
    name: str
    blocks: tuple[Block, ...]
    banji: Banji | None
    masthead: bool = True


def expected_issue(root: Path, folder: Path, title_words: dict | None = None) -> Expected:
    """What an issue folder should print, read with liandong's own loader (the schema and the
    Markdown reader are not what is measured). title_words: {"2024/20/01.md": {"标题": "a/b"}}."""
    from liandong.validate import load_issues

    problems: list = []
    issues = load_issues(root, [folder], problems)
    if not issues:
        raise ValueError("\n".join(str(p) for p in problems))
    issue = issues[0]
    name = f"{folder.parent.name}/{folder.name}"

    def block(kind: str, text: str, loc, words: str = "") -> Block:
        first = loc.source.position(loc.start)[0]
        last = loc.source.position(max(loc.start, loc.end - 1))[0]
        return Block(kind, text, loc.source.name, (first, last), words)

    blocks = []
    for index, b in enumerate(issue.note):
        blocks.append(block("note", ("【编者按】" if index == 0 else "") + b.text, b.loc))
    for article in issue.articles:
        words = (title_words or {}).get(f"{name}/{article.source.path.name}", {})
        blocks.append(block("title", article.title.value, article.title.loc, words.get("标题", "")))
        if article.subtitle:
            blocks.append(
                block(
                    "subtitle",
                    article.subtitle.value,
                    article.subtitle.loc,
                    words.get("副标题", ""),
                )
            )
        for b in article.blocks:
            blocks += _form_blocks(block, b, len(blocks))
    banji = Banji(
        tuple((key, tuple(t.value for t in items)) for key, items in issue.distribution),
        issue.editor.value if issue.editor else None,
        issue.contact.value if issue.contact else None,
        issue.approval.value,
        issue.print_count,
    )
    return Expected(name, tuple(blocks), banji)


def _form_blocks(block, form, group: int) -> list[Block]:
    """The blocks one form of an article body prints: a paragraph or heading (a run-in heading
    is a paragraph), each item of a list or note, a table's caption and its cells, a figure's
    caption."""
    from dataclasses import replace

    from liandong.source import Figure, ListBlock, Note, Table

    if isinstance(form, (ListBlock, Note)):
        kind = "li" if isinstance(form, ListBlock) else "zhu"
        return [
            replace(block(kind, item.marker + item.text, item.loc), marker=item.marker, group=group)
            for item in form.items
        ]
    if isinstance(form, Table):
        rows = tuple(tuple(cell.text for cell in row) for row in (form.header, *form.rows))
        return [
            block("caption", form.caption.text, form.caption.loc),
            replace(block("table", "".join("".join(row) for row in rows), form.loc), cells=rows),
        ]
    if isinstance(form, Figure):
        return [block("figcaption", form.caption.text, form.caption.loc)]
    return [block(f"h{form.level}" if form.level and not form.lead else "p", form.text, form.loc)]


# --- The measurement --------------------------------------------------------------------------


@dataclass(frozen=True)
class Failure:
    criterion: str
    page: int | None
    message: str

    def __str__(self) -> str:
        return (f"第 {self.page} 页：" if self.page else "") + self.message


@dataclass
class Measurement:
    name: str
    pages: int = 0
    failures: list[Failure] = field(default_factory=list)
    edge_error: float = 0.0  # worst visible-edge error of a justified line, mm
    grid_error: float = 0.0  # worst em-box distance from the grid, mm
    han_stretch: float = 0.0  # worst extra space between full-width glyphs, em
    latin_stretch: float = 0.0  # worst extra space at Latin text, em
    last_body: tuple[int, int] | None = None  # (page, grid line 1–22) of the last body line
    banji_page: int | None = None

    def fail(self, criterion: str, page: int | None, message: str) -> None:
        self.failures.append(Failure(criterion, page, message))

    def of(self, criterion: str) -> list[Failure]:
        return [f for f in self.failures if f.criterion == criterion]

    def report(self, criterion: str) -> str:
        found = self.of(criterion)
        return f"{self.name}：{criterion} 有 {len(found)} 处不合格：\n" + "\n".join(
            f"  {f}" for f in found
        )


@dataclass
class _State:
    expected: Expected
    pages: list[Page]
    images: list
    notices: Sequence[str]
    result: Measurement
    flow: list[Line] = field(default_factory=list)  # lines of the running text, in order
    block_of: dict[int, Block] = field(default_factory=dict)  # id(line) -> block
    block_lines: list[tuple[Block, list[Line]]] = field(default_factory=list)
    banji_lines: list[Line] = field(default_factory=list)
    folios: list[Line] = field(default_factory=list)
    masthead: list[Line] = field(default_factory=list)
    headers: set[int] = field(default_factory=set)  # id(line) of a table header repeated
    hangs: dict[int, float] = field(default_factory=dict)  # a list's or note's hang (pt from left)


def measure(pdf: bytes | Path, expected: Expected, notices: Sequence[str] = ()) -> Measurement:
    """Measure one PDF against every criterion. `notices` are the lines the build reported
    (file:line:column: message); a notice excuses an over-stretched line of its paragraph."""
    data = pdf.read_bytes() if isinstance(pdf, Path) else pdf
    pages = read_glyphs(data)
    state = _State(
        expected, pages, render_pages(data), notices, Measurement(expected.name, pages=len(pages))
    )
    _match(state)
    for check in (
        _check_edges,
        _check_grid,
        _check_kinsoku,
        _check_words,
        _check_spacing,
        _check_keep,
        _check_banji,
        _check_outside,
        _check_forms,
    ):
        check(state)
    return state.result


def _is_folio(line: Line) -> bool:
    return line.em_top > BOTTOM and bool(_FOLIO.fullmatch(norm(line.ink_text)))


def _match(s: _State) -> None:
    """`text`: the drawn lines, top to bottom and page by page, spell the sources' blocks in
    order, each block starting on a new line and nothing between or after them but the 版记
    (and the masthead before them on page 1, and the page numbers below the text area).
    Whitespace is not compared (a line break may take the place of a space); everything else
    is, so a character lost, repeated or inserted (a hyphen at a URL's break) fails here."""
    flow = []
    for page in s.pages:
        for line in page.lines:
            (s.folios if _is_folio(line) else flow).append(line)
    blocks = s.expected.blocks
    pos = 0
    if s.expected.masthead and blocks:
        first = norm(blocks[0].text)
        pos = next(
            (
                i
                for i, line in enumerate(flow)
                if norm(line.ink_text) and first.startswith(norm(line.ink_text))
            ),
            -1,
        )
        if pos < 0:
            s.result.fail("text", None, f"找不到第一段（{blocks[0].where}）的开头“{first[:14]}”")
            s.masthead = [line for line in flow if line.page == 1]
            return
        s.masthead = [line for line in flow[:pos] if line.page == 1]
        if len(s.masthead) < pos:
            s.result.fail(
                "text",
                flow[pos - 1].page,
                f"报头与第一段之间有别的文字：{flow[len(s.masthead)].quote()}",
            )
    for block in blocks:
        want, got, lines = norm(block.text), "", []
        if block.kind == "table":
            pos = _match_table(s, block, flow, pos)
            if pos < 0:
                s.flow = [line for _, ls in s.block_lines for line in ls]
                return
            continue
        while len(got) < len(want) and pos < len(flow):
            text = norm(flow[pos].ink_text)
            if not want.startswith(got + text):
                break
            got += text
            lines.append(flow[pos])
            pos += 1
        if got != want:
            printed = flow[pos].quote(20) if pos < len(flow) else "（没有了）"
            page = flow[pos].page if pos < len(flow) else None
            s.result.fail(
                "text",
                page,
                f"{block.where}：应印“…{want[len(got) : len(got) + 16]}…”，印出的是{printed}",
            )
            s.flow = [line for _, ls in s.block_lines for line in ls]
            return
        s.block_lines.append((block, lines))
        for line in lines:
            s.block_of[id(line)] = block
    s.flow = [line for _, ls in s.block_lines for line in ls]
    s.banji_lines = flow[pos:]
    if s.expected.banji is None and s.banji_lines:
        s.result.fail(
            "text", s.banji_lines[0].page, f"正文之后还有文字：{s.banji_lines[0].quote()}"
        )
    if s.block_lines:
        last = s.block_lines[-1][1][-1]
        s.result.last_body = (last.page, _grid_index(last)[0] + 1)


def _match_table(s: _State, block: Block, flow: list[Line], pos: int) -> int:
    """The lines of a table: as many as hold its cells' characters (a row's cells share their
    lines), plus its header row again at the top of each further page it runs onto. The lines
    hold exactly the cells' characters (in any order here; _check_forms reads them cell by
    cell). Returns where the flow goes on, or -1 after a failure."""
    want = sorted(norm(block.text))
    header = sorted(norm("".join(block.cells[0]))) if block.cells else []
    got: list[str] = []
    lines: list[Line] = []
    while len(got) < len(want) and pos < len(flow):
        line = flow[pos]
        if lines and line.page != lines[-1].page and header:
            # A new page: the header row first, again.
            repeated, k = [], pos
            while k < len(flow) and len(repeated) < len(header) and flow[k].page == line.page:
                repeated += norm(flow[k].ink_text)
                k += 1
            if sorted(repeated) == header:
                for line in flow[pos:k]:
                    s.headers.add(id(line))
                    lines.append(line)
                pos = k
                continue
            s.result.fail("forms", line.page, f"{block.where}：表格转到下一页，页首没有重复表头")
        got += norm(flow[pos].ink_text)
        lines.append(flow[pos])
        pos += 1
    if sorted(got) != want:
        s.result.fail(
            "text",
            lines[0].page if lines else None,
            f"{block.where}：表格里印出的字与稿件的各格不同",
        )
        return -1
    s.block_lines.append((block, lines))
    for line in lines:
        s.block_of[id(line)] = block
    return pos


def _em_top(line: Line, block: Block | None = None) -> float:
    """A line's em-box top; a table's lines (四号) by their baseline, which is the body's: the
    em-box top a 三号 glyph on that baseline would have."""
    if block is not None and block.kind == "table":
        return line.baseline - EMBOX_TOP * BODY_SIZE
    return line.em_top


def _grid_index(line: Line, block: Block | None = None) -> tuple[int, float]:
    """The grid line (0–21) nearest the line's em-box top, and the distance to it (pt)."""
    top = _em_top(line, block)
    k = round((top - TOP) / LINE_PITCH)
    return k, top - (TOP + k * LINE_PITCH)


def _running_lines(s: _State) -> Iterator[tuple[Block, int, Line, bool]]:
    """(block, index, line, is the block's last line) for every line of running text."""
    for block, lines in s.block_lines:
        if block.running:
            for index, line in enumerate(lines):
                yield block, index, line, index == len(lines) - 1


def _where(line: Line, block: Block | None = None) -> str:
    k = _grid_index(line)[0] + 1
    place = f"第 {k} 行" if 1 <= k <= GRID_LINES else ""
    return f"{place}{line.quote()}" + (f"（{block.where}）" if block else "")


def _check_edges(s: _State) -> None:
    """`edges`: both edges of running text are flush with the text area.

    The visible right edge of a line is the end of the cell of its last inked glyph: the end of
    the glyph's em box (origin + advance), or one em from the origin for a full-width closing
    mark, whose blank right half belongs to its cell (全角式: no hanging, no compression at a
    line's end). A space drawn after it, or any glyph without ink, is not part of the line.
    Every line of a paragraph, heading or 编者按 but its last ends within EDGE_TOLERANCE of the
    text area's right edge; its last line does not end past it. The visible left edge (the
    start of the first inked glyph's cell; a full-width opening mark's cell is one em ending at
    its advance's end) is the text area's left edge, or two grid characters (2 × 156 mm ÷ 28)
    in on a block's first line, within EDGE_TOLERANCE. That nothing is drawn past the edges is
    checked on the rendered ink by `outside`. Each line of a title or subtitle is centred: the
    middle of its visible edges is the text area's middle within EDGE_TOLERANCE (a full-width
    closing mark that ends the line may count with or without its blank half)."""
    worst = 0.0
    for block, index, line, last in _running_lines(s):
        left = text_left(line.page) + (2 * PITCH if index == 0 else 0.0)
        kind = "首行应缩进两字" if index == 0 else "应顶格"
        if block.kind in ("li", "zhu"):
            # An item: its marker at the two-character indent, everything else hangs after
            # the marker of its list's or note's first item.
            if index == 0 and block.marker:
                marks = len(norm(block.marker))
                s.hangs.setdefault(
                    block.group,
                    line.ink[marks].cell_left - text_left(line.page)
                    if len(line.ink) > marks
                    else 2 * PITCH,
                )
            elif block.group in s.hangs:
                left = text_left(line.page) + s.hangs[block.group]
                kind = "应与标记后的文字对齐"
        error = line.left - left
        worst = max(worst, abs(error))
        if abs(error) > EDGE_TOLERANCE:
            s.result.fail(
                "edges", line.page, f"{_where(line, block)}左边缘偏 {error / MM:+.2f} mm（{kind}）"
            )
        error = line.right - text_right(line.page)
        if not last:
            worst = max(worst, abs(error))
        if (not last and abs(error) > EDGE_TOLERANCE) or error > EDGE_TOLERANCE:
            what = "没有排满" if error < 0 else "超出版心"
            s.result.fail(
                "edges", line.page, f"{_where(line, block)}右边缘偏 {error / MM:+.2f} mm（{what}）"
            )
    for block, lines in s.block_lines:
        if block.running or block.kind == "table":
            continue
        for line in lines:
            middle = (text_left(line.page) + text_right(line.page)) / 2
            last = line.ink[-1]
            # A closing mark's blank half at the end may be left out of the centring.
            trimmed = last.x0 + last.size / 2 if last.text in BLANK_RIGHT else line.right
            error = min(
                (line.left + line.right) / 2 - middle, (line.left + trimmed) / 2 - middle, key=abs
            )
            if abs(error) > EDGE_TOLERANCE:
                s.result.fail(
                    "edges",
                    line.page,
                    f"标题行{line.quote()}（{block.where}）没有居中，偏 {error / MM:+.2f} mm",
                )
    s.result.edge_error = worst / MM


def _check_grid(s: _State) -> None:
    """`grid`: every 三号 line on the 22-line grid, every page starting on its first line.

    Grid line k (0–21) of a page has its em-box top at 37 mm + k × 225 mm ÷ 22 from the trim's
    top. Each line of running text and of a subtitle has its em-box top within GRID_TOLERANCE
    of a grid line, k from 0 to 21. Titles in 二号 are off the grid, but a title that opens a
    page starts on the first line: its em box lies inside the first grid line's band (top no
    higher than 37 mm − GRID_TOLERANCE, no lower than 37 mm + one grid line − 22 pt). The first
    line of every page after the first is on grid line 0 (a page holding only the 版记 has no
    first line to check); on page 1 the masthead's red ink starts 37 mm below the trim's top,
    within MASTHEAD_TOLERANCE."""
    worst = 0.0
    for block, lines in s.block_lines:
        if block.kind == "title":
            continue
        for line in lines:
            k, error = _grid_index(line, block)
            worst = max(worst, abs(error))
            if abs(error) > GRID_TOLERANCE or not 0 <= k < GRID_LINES:
                s.result.fail(
                    "grid",
                    line.page,
                    f"{_where(line, block)}不在网格上：字框上沿距网格线 {error / MM:+.2f} mm",
                )
    s.result.grid_error = worst / MM
    by_page: dict[int, Line] = {}
    for _, lines in s.block_lines:
        for line in lines:
            by_page.setdefault(line.page, line)
    for page, line in by_page.items():
        if page == 1 and s.expected.masthead:
            continue
        block = s.block_of[id(line)]
        if block.kind == "title":
            low = TOP + LINE_PITCH - TITLE_SIZE
            if not TOP - GRID_TOLERANCE <= line.em_top <= low + GRID_TOLERANCE:
                s.result.fail(
                    "grid",
                    page,
                    f"页首的标题{line.quote()}不在第一行：字框上沿在 "
                    f"{line.em_top / MM:.2f} mm（应在 37 至 {low / MM:.2f} mm 之间）",
                )
        elif block.kind == "figcaption" and _figure_opens(s, page, line):
            continue  # the picture above it opens the page (_check_forms checks where)
        elif _grid_index(line, block)[0] != 0:
            s.result.fail(
                "grid",
                page,
                f"本页第一行{line.quote()}的字框上沿在 "
                f"{_em_top(line, block) / MM:.2f} mm，不在版心第一行（37 mm）",
            )
    if s.expected.masthead and s.images:
        top = _ink_top(s.images[0], (text_left(1), TOP - 10 * MM, text_right(1), TOP + 25 * MM))
        if top is None or abs(top - TOP) > MASTHEAD_TOLERANCE:
            shown = "没有墨迹" if top is None else f"在 {top / MM:.2f} mm"
            s.result.fail("grid", 1, f"报头的墨迹上沿{shown}，应在 37 mm")


def _check_kinsoku(s: _State) -> None:
    """`kinsoku`: no line of a paragraph, title, subtitle or 版记 starts with closing
    punctuation (，。、；：？！）》」』】〕〗〉”’ and their half-width forms), none ends with
    opening punctuation (（《「『【〔〖〈“‘ and half-width ([{), and —— or …… is never split
    between two lines of one block."""
    groups = [(b, ls) for b, ls in _cell_blocks(s)] + [(None, ls) for ls in _banji_parts(s)]
    for block, lines in groups:
        for index, line in enumerate(lines):
            text = line.ink_text
            if index > 0 and text[0] in CLOSING:
                s.result.fail("kinsoku", line.page, f"{_where(line, block)}以“{text[0]}”开头")
            if index < len(lines) - 1 and text[-1] in OPENING:
                s.result.fail("kinsoku", line.page, f"{_where(line, block)}以“{text[-1]}”结尾")
            if index > 0 and text[0] in PAIRED and lines[index - 1].ink_text.endswith(text[0]):
                s.result.fail(
                    "kinsoku", line.page, f"{_where(line, block)}：“{text[0] * 2}”被拆在两行"
                )


def _breaks(lines: list[Line]) -> list[int]:
    """Offsets, in the block's whitespace-free text, where its lines break."""
    offsets, at = [], 0
    for line in lines[:-1]:
        at += len(norm(line.ink_text))
        offsets.append(at)
    return offsets


def _source_index(text: str) -> list[int]:
    """For each character of norm(text), its offset in text."""
    return [i for i, c in enumerate(text) if not c.isspace()]


def _latin(char: str) -> bool:
    return char.isascii() and not char.isspace()


def _check_words(s: _State) -> None:
    """`words`: lines break only where they may.

    In every block: a run of Latin letters, digits and ASCII signs written without a space
    (a word, COVID-19, iPhone15, 12,345, 3.5, an e-mail address) is never broken; a URL (a run
    starting http://, https:// or www.) breaks only after / . - ? or &, and nothing is inserted
    at the break (`text` sees any inserted character). A dash between Latin letters or digits
    (0731—85309270, 2024—2025年, Win7—Win11) is never separated from either side.
    In a title or subtitle: every line break the editor wrote (a newline in the value, or the
    space YAML makes of a folded line between two Chinese characters) is a line break, and no
    space is printed there; where tests/corpus/title-words.yaml gives the title's words (split
    by "/"), every other break falls between two words; no line holds fewer than three
    characters, and within the lines between two editor's breaks none is narrower than half the
    widest (balanced, GB/T 9704 §7.3.2)."""
    for block, lines in _cell_blocks(s):
        text, want = block.text, norm(block.text)
        index = _source_index(text)
        breaks = _breaks(lines)
        for line_no, at in enumerate(breaks, start=1):
            a, b = want[at - 1], want[at]
            spaced = any(c.isspace() for c in text[index[at - 1] + 1 : index[at]])
            line = lines[line_no]
            shown = f"“{want[max(0, at - 6) : at]}|{want[at : at + 6]}”"
            if not spaced and _latin(a) and _latin(b):
                start = at - 1
                while (
                    start > 0
                    and _latin(want[start - 1])
                    and not any(c.isspace() for c in text[index[start - 1] + 1 : index[start]])
                ):
                    start -= 1
                end = at
                while (
                    end < len(want)
                    and _latin(want[end])
                    and not any(c.isspace() for c in text[index[end - 1] + 1 : index[end]])
                ):
                    end += 1
                run = want[start:end]
                if not (_URL.match(run) and a in URL_BREAKS):
                    kind = "网址只能在 / . - ? & 之后回行" if _URL.match(run) else "不能拆开"
                    s.result.fail(
                        "words", line.page, f"{block.where}：“{run[:40]}”在{shown}处回行，{kind}"
                    )
            if (
                a == "—"
                and at >= 2
                and _latin(want[at - 2])
                and want[at - 2] not in "—"
                and _latin(b)
            ):
                s.result.fail(
                    "words",
                    line.page,
                    f"{block.where}：在{shown}的“—”之后回行（电话号码、起止范围不能拆开）",
                )
            if b == "—" and _latin(a) and at + 1 < len(want) and _latin(want[at + 1]):
                s.result.fail(
                    "words",
                    line.page,
                    f"{block.where}：在{shown}的“—”之前回行（电话号码、起止范围不能拆开）",
                )
        if block.running:
            continue
        _check_title_breaks(
            s, block, lines, breaks, index, editor=block.kind in ("title", "subtitle")
        )


def _check_title_breaks(
    s: _State,
    block: Block,
    lines: list[Line],
    breaks: list[int],
    index: list[int],
    editor: bool = True,
) -> None:
    """A title's (or, without the editor's breaks, a caption's) lines: see _check_words."""
    text, want = block.text, norm(block.text)
    forced = [
        at
        for at in range(1, len(want))
        if editor
        and any(c.isspace() for c in text[index[at - 1] + 1 : index[at]])
        and not (_latin(want[at - 1]) and _latin(want[at]))
    ]
    page = lines[0].page
    for at in forced:
        if at not in breaks:
            s.result.fail(
                "words",
                page,
                f"{block.where}：编辑在“{want[max(0, at - 6) : at]}|"
                f"{want[at : at + 6]}”处换行，标题没有在这里回行",
            )
    for line in lines:
        ink = line.glyphs
        for k in range(1, len(ink) - 1):
            if not ink[k].inked and ink[k - 1].wide and ink[k + 1].wide:
                s.result.fail(
                    "words", line.page, f"{block.where}：标题行{line.quote()}里印出了空格"
                )
    if block.words:
        if norm(block.words.replace("/", "")) != want:
            s.result.fail(
                "words", page, f"{block.where}：title-words.yaml 里的分词“{block.words}”与标题不符"
            )
        else:
            allowed, at = set(), 0
            for word in block.words.split("/")[:-1]:
                at += len(norm(word))
                allowed.add(at)
            for at in breaks:
                if at not in allowed and at not in forced:
                    s.result.fail(
                        "words",
                        page,
                        f"{block.where}：标题在词中间回行："
                        f"“{want[max(0, at - 6) : at]}|{want[at : at + 6]}”",
                    )
    # Balance, within each stretch between the editor's breaks.
    segment: list[Line] = []
    ends = set(forced)
    at = 0
    for k, line in enumerate(lines):
        segment.append(line)
        at += len(norm(line.ink_text))
        if at in ends or k == len(lines) - 1:
            widest = max(l.right - l.left for l in segment)
            total = sum(len(norm(l.ink_text)) for l in segment)
            for l in segment:
                count = len(norm(l.ink_text))
                if len(segment) > 1 and (count < 3 <= total or l.right - l.left < widest / 2):
                    s.result.fail(
                        "words",
                        l.page,
                        f"{block.where}：标题回行不匀称：{l.quote()}"
                        f"只有 {count} 字（最长一行 {widest / MM:.0f} mm）",
                    )
            segment = []


def _nominal_spacing(size: float) -> float:
    """The natural space between two full-width glyphs: running text in 三号 sits on the
    28-character grid (156 mm ÷ 28 − 16 pt = −0.21 pt); other sizes are set solid (0)."""
    return PITCH - size if abs(size - BODY_SIZE) < 0.1 else 0.0


def _noticed(s: _State, block: Block | None) -> bool:
    """Whether the build reported a notice at a place inside the block's source lines (for the
    版记, a notice at issue.yaml or series.yaml)."""
    for notice in s.notices:
        for path, line, _ in _NOTICE_PLACE.findall(notice):
            if block is None:
                if path.endswith(("issue.yaml", "series.yaml")):
                    return True
            elif path == block.source and block.lines[0] <= int(line) <= block.lines[1]:
                return True
    return False


def _check_spacing(s: _State) -> None:
    """`spacing`: no line stretched or squeezed beyond the limits, unless a notice says so.

    For each pair of neighbouring inked glyphs a, b on a line of running text, of a title or
    subtitle (set solid: a title spaced out to fill its line fails here) or of a 版记 list, the
    extra space is b's origin − a's advance end − the advances of the blank glyphs
    drawn between them − the natural spacing (see _nominal_spacing for two full-width glyphs,
    0 otherwise). Between two full-width glyphs it is at most HAN_STRETCH em and at least
    −HAN_SQUEEZE em (−MARK_SQUEEZE em if either is a full-width punctuation mark); where a
    Latin glyph, a narrow glyph or a space is involved, at most LATIN_STRETCH em and at least
    −LATIN_SQUEEZE em (em = a's size). A line beyond a stretch limit passes only if the build
    gave a notice placed inside its paragraph's source lines (file:line:column). Squeezing
    beyond the limits always fails: glyphs would collide. The gap after a list's or note's
    marker (● 1. 注：) is not spacing: `forms` judges where the item's text starts."""
    han = latin = 0.0
    groups = list(_cell_blocks(s)) + [(None, ls) for ls in _banji_parts(s)]
    for block, lines in groups:
        for number, line in enumerate(lines):
            worst_line = None
            glyphs = line.glyphs
            inked = [i for i, g in enumerate(glyphs) if g.inked]
            # A list's or note's marker stands in its own cells: the gap after it is the hang
            # (judged by `forms`), not spacing.
            marks = len(norm(block.marker)) if block is not None and number == 0 else 0
            inked = inked[marks:]
            for i, j in itertools.pairwise(inked):
                a, b = glyphs[i], glyphs[j]
                blank = sum(g.x1 - g.x0 for g in glyphs[i + 1 : j])
                em = a.size
                if a.wide and b.wide and j == i + 1:
                    extra = (b.x0 - a.x1 - _nominal_spacing(a.size)) / em
                    han = max(han, extra)
                    squeeze = (
                        MARK_SQUEEZE
                        if (
                            a.text in BLANK_RIGHT | BLANK_LEFT or b.text in BLANK_RIGHT | BLANK_LEFT
                        )
                        else HAN_SQUEEZE
                    )
                    if extra > HAN_STRETCH:
                        worst_line = worst_line or f"“{a.text}{b.text}”之间多出 {extra:.2f} 字"
                    if extra < -squeeze:
                        s.result.fail(
                            "spacing",
                            line.page,
                            f"{_where(line, block)}：“{a.text}{b.text}”挤压了 {-extra:.2f} 字",
                        )
                else:
                    extra = (b.x0 - a.x1 - blank) / em
                    latin = max(latin, extra)
                    if extra > LATIN_STRETCH:
                        worst_line = worst_line or f"“{a.text}”与“{b.text}”之间多出 {extra:.2f} 字"
                    if extra < -LATIN_SQUEEZE:
                        s.result.fail(
                            "spacing",
                            line.page,
                            f"{_where(line, block)}：“{a.text}{b.text}”挤压了 {-extra:.2f} 字",
                        )
            if worst_line and not _noticed(s, block):
                s.result.fail(
                    "spacing",
                    line.page,
                    f"{_where(line, block)}拉得太开（{worst_line}），而生成时没有提示",
                )
    s.result.han_stretch, s.result.latin_stretch = han, latin


def _row(line: Line) -> int:
    """The grid line (0–21) whose band holds the line's em-box centre."""
    return int(((line.em_top + line.em_bottom) / 2 - TOP) // LINE_PITCH)


_HEADS = ("title", "subtitle", "h1", "h2", "h3", "h4", "caption")


def _check_keep(s: _State) -> None:
    """`keep`: titles and headings stay with their text, and no page is left short.

    - A title, subtitle or heading never ends a page while the text it heads goes on to the
      next page.
    - Page 1 holds text below the masthead: the masthead is never left alone on its page.
    - A page followed by more text is filled. Counting grid lines, the lines left empty at its
      foot (below the line holding its last line's em-box centre) are fewer than 2 when the
      next page goes on with the same block (one line may move to avoid a widow or an orphan).
      When the next page opens with a new block, they are fewer than the lines of its opening
      group: the titles, subtitles and headings that open the page, then the lines of the next
      block that must go with them (its first two, or all of it when it has three lines or
      fewer: no orphan and no widow of one line), counted from the page's first grid line down
      to the one holding the group's last line, plus 2 when the group opens with a title (the
      blank lines above an article). The 版记 never explains a short page: the text flows
      first and the 版记 follows it.
    """
    fail = lambda page, message: s.result.fail("keep", page, message)  # noqa: E731 - a one-line alias
    blocks = s.block_lines
    for k, (block, lines) in enumerate(blocks[:-1]):
        if block.kind in _HEADS:
            following = blocks[k + 1][1][0]
            if following.page > lines[-1].page:
                fail(lines[-1].page, f"{_where(lines[-1], block)}在页末，它下面的文字在下一页")
    if not s.flow:
        return
    if s.expected.masthead and s.flow[0].page != 1:
        fail(1, f"第 1 页报头之下没有正文：正文从第 {s.flow[0].page} 页才开始")
    index_of = {id(line): j for j, (_, lines) in enumerate(blocks) for line in lines}
    pages = sorted({line.page for line in s.flow})
    for page, following in itertools.pairwise(pages):
        if following != page + 1:
            fail(page + 1, "这一页没有正文，正文却在后面接着排")
            continue
        last = [line for line in s.flow if line.page == page][-1]
        first = next(line for line in s.flow if line.page == following)
        free = GRID_LINES - 1 - _row(last)
        j = index_of[id(first)]
        if j == index_of[id(last)]:
            allowed = 2
        else:
            group, titled = [], blocks[j][0].kind == "title"
            while j < len(blocks) and blocks[j][0].kind in _HEADS:
                group += blocks[j][1]
                j += 1
            if j < len(blocks):
                lines = blocks[j][1]
                group += lines[:2] if len(lines) > 3 else lines
            allowed = _row(group[-1]) + 1 + (2 if titled else 0)
        if free >= allowed:
            fail(page, f"这一页下面空了 {free} 行，下一页开头的{first.quote()}本可排在这里")


# --- Lists, notes, tables and figures ----------------------------------------------------------


@dataclass
class _TablePart:
    """A table as drawn on one page: its rules and the cells they enclose."""

    page: int
    rows: list[tuple[float, float, float, float]]  # horizontal rules: top, bottom, left, right
    columns: list[tuple[float, float]]  # vertical rules: left, right (pt)
    cells: list[list[tuple[str, list[Line]]]]  # per row band, per column: text, lines


def _vertical_rules(
    image, top: float, bottom: float, left: float, right: float
) -> list[tuple[float, float]]:
    """Vertical rules inked over 95 % of the band top–bottom between left and right (pt):
    (left, right) of each, from the integrated coverage of its columns."""
    from PIL import Image

    x0, x1, y0, y1 = _px(left), _px(right), _px(top), _px(bottom)
    if x1 <= x0 or y1 <= y0:
        return []
    band = _mask(image.crop((x0, y0, x1, y1)))
    cols = list(band.resize((band.width, 1), Image.BOX).tobytes())
    found, x, scale = [], 0, 72 / INK_DPI
    while x < len(cols):
        if cols[x] < 0.95 * 255:
            x += 1
            continue
        start = x
        while x < len(cols) and cols[x] >= 0.95 * 255:
            x += 1
        lo, hi = max(0, start - 3), min(len(cols), x + 3)
        grey = image.crop((x0 + lo, y0, x0 + hi, y1)).resize((hi - lo, 1), Image.BOX).tobytes()
        weight = sum(255 - v for v in grey)
        centre = lo + sum((c + 0.5) * (255 - v) for c, v in enumerate(grey)) / max(weight, 1)
        thickness = weight / 255
        found.append(((x0 + centre - thickness / 2) * scale, (x0 + centre + thickness / 2) * scale))
    return found


def _table_parts(s: _State, block: Block, lines: list[Line]) -> list[_TablePart]:
    """The table on each page it is drawn on: its horizontal and vertical rules (rendered ink)
    and, for each band between two horizontal rules, the text of each column (the glyphs of
    the band's lines whose middle lies between two vertical rules), line by line."""
    key = ("table", id(block))
    if key in s.hangs:  # cached
        return s.hangs[key]  # type: ignore[return-value]
    parts = []
    for page in sorted({line.page for line in lines}):
        on_page = [line for line in lines if line.page == page]
        image = s.images[page - 1] if page <= len(s.images) else None
        if image is None:
            continue
        top = on_page[0].em_top - LINE_PITCH
        bottom = on_page[-1].em_bottom + LINE_PITCH
        rows = _rules(image, page, top, bottom, coverage=0.5)
        if len(rows) < 2:
            parts.append(_TablePart(page, rows, [], []))
            continue
        columns = _vertical_rules(
            image,
            rows[0][1],
            rows[-1][0],
            max(0.0, text_left(page) - 15 * MM),
            min(image.width * 72 / INK_DPI, text_right(page) + 15 * MM),
        )
        cells = []
        for (_, upper, _, _), (lower, _, _, _) in itertools.pairwise(rows):
            band = [line for line in on_page if upper < line.baseline < lower]
            row = []
            for (_, c0), (c1, _) in itertools.pairwise(columns):
                fragments = []
                for line in band:
                    glyphs = [g for g in line.glyphs if c0 < (g.x0 + g.x1) / 2 < c1]
                    if any(g.inked for g in glyphs):
                        fragments.append(Line(line.page, glyphs))
                row.append(("".join(norm(f.ink_text) for f in fragments), fragments))
            cells.append(row)
        parts.append(_TablePart(page, rows, columns, cells))
    s.hangs[key] = parts  # type: ignore[assignment]
    return parts


def _drawn_rows(s: _State, block: Block, lines: list[Line]) -> list[list[tuple[str, list[Line]]]]:
    """The table's rows as drawn, page after page, without the header repeated on later pages."""
    rows = []
    for number, part in enumerate(_table_parts(s, block, lines)):
        for k, row in enumerate(part.cells):
            repeated = (
                number > 0
                and k == 0
                and any(
                    id(line) in s.headers
                    for _, fragments in row
                    for f in fragments
                    for line in lines
                    if line.page == f.page and line.baseline == f.baseline
                )
            )
            if not repeated:
                rows.append(row)
    return rows


def _cell_blocks(s: _State) -> Iterator[tuple[Block, list[Line]]]:
    """The blocks and their lines, a table's replaced by one block for each cell drawn as the
    sources write it (its lines the cell's fragments of the table's lines): what kinsoku,
    words and spacing judge line by line."""
    from dataclasses import replace

    for block, lines in s.block_lines:
        if block.kind != "table":
            yield block, lines
            continue
        drawn = _drawn_rows(s, block, lines)
        for want, got in zip(block.cells, drawn):
            for text, (printed, fragments) in zip(want, got):
                if fragments and norm(text) == printed:
                    yield replace(block, kind="cell", text=text), fragments


def _figure_opens(s: _State, page: int, line: Line) -> bool:
    """Whether a picture above the line opens the page: its top in the first grid line."""
    images = s.pages[page - 1].images if page <= len(s.pages) else []
    return any(
        bottom <= line.em_top and TOP - GRID_TOLERANCE <= top < TOP + LINE_PITCH
        for _, top, _, bottom, _ in images
    )


def _integer_end(line: Line) -> float | None:
    """Where a number's integer part ends on a line (the start of its . or %, else its end)."""
    ink = line.ink
    for k, glyph in enumerate(ink):
        if glyph.text in ".%‰" and k > 0:
            return glyph.x0
    return ink[-1].x1 if ink else None


def _check_forms(s: _State) -> None:
    """`forms`: what only lists, notes, tables and figures have.

    - Lists and notes: every item of a list (or note) hangs at the same place, a whole number
      of grid characters (156 mm ÷ 28) after the two-character indent, within EDGE_TOLERANCE
      (that each line starts there is `edges`).
    - Tables (rendered ink): ruled all round (全框线): a horizontal rule above the table, below
      every row and below the last, and a vertical rule at both ends and between every two
      columns, each as long as the table, TABLE_RULE thick within TABLE_RULE_TOLERANCE; the
      outer rules on the text area's edges (the table is as wide as the text area) within
      EDGE_TOLERANCE. Read cell by cell between the rules, the table prints the sources' cells
      in their rows and columns, in order, the header again at the top of every further page.
      In a column whose body cells are all numbers (NUMBER, or NO_DATA), the integer parts of
      the numbers end at one place (their decimal points in line) within EDGE_TOLERANCE.
    - Figures: a picture (an image drawn) lies right above each figure caption, on its page:
      between the line before it (if on the page) and the caption, inside the text area's
      width and centred in it within EDGE_TOLERANCE; a picture that opens its page starts in
      the first grid line. Its resolution at its printed size is at least DPI_FLOOR, and below
      DPI_NOTICE only with a notice placed at its figure in the sources."""
    fail = lambda page, message: s.result.fail("forms", page, message)  # noqa: E731 - a one-line alias
    hangs: dict[int, float] = {}
    for block, lines in s.block_lines:
        if block.kind in ("li", "zhu") and block.marker:
            line = lines[0]
            marks = len(norm(block.marker))
            if len(line.ink) <= marks:
                continue
            hang = line.ink[marks].cell_left - text_left(line.page)
            cells = (hang - 2 * PITCH) / PITCH
            if abs(cells - round(cells)) * PITCH > EDGE_TOLERANCE or round(cells) < 1:
                fail(
                    line.page,
                    f"{_where(line, block)}：标记后的文字不在整字的位置上（标记占 {cells:.2f} 字）",
                )
            if block.group in hangs and abs(hangs[block.group] - hang) > EDGE_TOLERANCE:
                fail(
                    line.page,
                    f"{_where(line, block)}：各条目标记后的文字没有对齐"
                    f"（差 {(hang - hangs[block.group]) / MM:+.2f} mm）",
                )
            hangs.setdefault(block.group, hang)
    previous: Line | None = None
    for block, lines in s.block_lines:
        if block.kind == "table":
            _check_table(s, block, lines, fail)
        elif block.kind == "figcaption":
            _check_figure(s, block, lines[0], previous, fail)
        previous = lines[-1]


def _check_table(s: _State, block: Block, lines: list[Line], fail) -> None:
    parts = _table_parts(s, block, lines)
    for part in parts:
        page = part.page
        bands = len(part.rows) - 1
        shown_rows = len(part.cells)
        if bands < 1 or len(part.columns) < 2:
            fail(page, f"{block.where}：表格没有画出框线")
            continue
        if len(part.columns) != len(block.cells[0]) + 1:
            fail(
                page,
                f"{block.where}：表格有 {len(part.columns)} 条竖线，{len(block.cells[0])} 列"
                f"应有 {len(block.cells[0]) + 1} 条（全框线）",
            )
        first, last = part.columns[0], part.columns[-1]
        if (
            abs(first[0] - text_left(page)) > EDGE_TOLERANCE
            or abs(last[1] - text_right(page)) > EDGE_TOLERANCE
        ):
            fail(
                page,
                f"{block.where}：表格从 {first[0] / MM:.2f} mm 到 {last[1] / MM:.2f} mm，"
                "应与版心同宽",
            )
        for t, b, _, _ in part.rows:
            if abs((b - t) - TABLE_RULE) > TABLE_RULE_TOLERANCE:
                fail(page, f"{block.where}：表格横线粗 {b - t:.2f} pt，应为 {TABLE_RULE} pt")
        for left, right in part.columns:
            if abs((right - left) - TABLE_RULE) > TABLE_RULE_TOLERANCE:
                fail(page, f"{block.where}：表格竖线粗 {right - left:.2f} pt，应为 {TABLE_RULE} pt")
        for row in part.cells:
            if not any(text for text, _ in row):
                fail(page, f"{block.where}：表格里有一行空格（两条横线之间没有文字），行线多画了")
        del shown_rows
    drawn = _drawn_rows(s, block, lines)
    want = [[norm(cell) for cell in row] for row in block.cells]
    got = [[text for text, _ in row] for row in drawn]
    if got != want:
        for k, (w, g) in enumerate(zip(want, got)):
            if w != g:
                fail(
                    lines[0].page,
                    f"{block.where}：表格第 {k + 1} 行按格读出“{'｜'.join(g)}”，"
                    f"应为“{'｜'.join(w)}”",
                )
                break
        else:
            fail(lines[0].page, f"{block.where}：表格画出 {len(got)} 行，稿件有 {len(want)} 行")
        return
    for column in range(len(want[0])):
        values = [row[column] for row in block.cells[1:]]
        if not (
            any(NUMBER.fullmatch(v) for v in values)
            and all(NUMBER.fullmatch(v) or v in NO_DATA for v in values)
        ):
            continue
        ends = []
        for row in drawn[1:]:
            text, fragments = row[column]
            end = _integer_end(fragments[0]) if NUMBER.fullmatch(text) and fragments else None
            if end is not None:  # from the text area's left: pages differ in their binding
                ends.append((end - text_left(fragments[0].page), fragments[0]))
        spread = max(e for e, _ in ends) - min(e for e, _ in ends) if ends else 0
        if spread > EDGE_TOLERANCE:
            worst = max(ends, key=lambda item: abs(item[0] - ends[0][0]))[1]
            fail(
                worst.page,
                f"{block.where}：第 {column + 1} 列的数字没有按小数点对齐"
                f"（{worst.quote()}，相差 {spread / MM:.2f} mm）",
            )


def _check_figure(s: _State, block: Block, caption: Line, previous: Line | None, fail) -> None:
    page = caption.page
    images = [
        image
        for image in (s.pages[page - 1].images if page <= len(s.pages) else [])
        if image[3] <= caption.em_top + 0.5
    ]
    if previous is not None and previous.page == page:
        images = [image for image in images if image[1] >= previous.em_bottom - 0.5]
    if not images:
        fail(page, f"{block.where}：图题{caption.quote()}之上没有图片")
        return
    x0, top, x1, bottom, (width, _) = max(images, key=lambda image: image[3])
    if x0 < text_left(page) - EDGE_TOLERANCE or x1 > text_right(page) + EDGE_TOLERANCE:
        fail(page, f"{block.where}：图片超出版心（{x0 / MM:.1f}–{x1 / MM:.1f} mm）")
    error = (x0 + x1) / 2 - (text_left(page) + text_right(page)) / 2
    if abs(error) > EDGE_TOLERANCE:
        fail(page, f"{block.where}：图片没有居中，偏 {error / MM:+.2f} mm")
    if caption.em_top - bottom > LINE_PITCH:
        fail(page, f"{block.where}：图片与图题之间空了 {(caption.em_top - bottom) / MM:.1f} mm")
    if (
        previous is None or previous.page != page
    ) and not TOP - GRID_TOLERANCE <= top < TOP + LINE_PITCH:
        fail(page, f"{block.where}：页首的图片上沿在 {top / MM:.2f} mm，不在版心第一行")
    dpi = width / ((x1 - x0) / 72) if x1 > x0 else 0.0
    if dpi < DPI_FLOOR:
        fail(page, f"{block.where}：图片只有 {dpi:.0f} dpi，低于 {DPI_FLOOR} dpi")
    elif dpi < DPI_NOTICE and not _noticed(s, block):
        fail(page, f"{block.where}：图片只有 {dpi:.0f} dpi（低于 {DPI_NOTICE}），而生成时没有提示")


# --- The 版记 --------------------------------------------------------------------------------

_LIST_LABELS = ("报", "送", "发")
_COUNT = re.compile(r"（?共印(\d+)份）?")


@dataclass
class _Part:
    label: str
    lines: list[Line]
    start: int = 0  # index of the label's first glyph in lines[0].glyphs


def _parts(s: _State) -> list[_Part]:
    """The 版记 lines, split into parts by their labels (报： 送： 发： 责任编辑： 联系方式：
    批准文号：); a line without a label continues the list above it."""
    parts: list[_Part] = []
    for line in s.banji_lines:
        text = line.text
        stripped = text.lstrip()
        label = next(
            (
                l
                for l in (*_LIST_LABELS, "责任编辑", "联系方式", "批准文号")
                if stripped.startswith(l + "：")
            ),
            None,
        )
        if label is None:
            if parts and parts[-1].label in _LIST_LABELS:
                parts[-1].lines.append(line)
            else:
                parts.append(_Part("?", [line]))
            continue
        parts.append(_Part(label, [line], len(text) - len(stripped)))
        if label == "责任编辑":
            at = text.find("联系方式：")
            if at > 0:
                parts.append(_Part("联系方式", [line], at))
    return parts


def _banji_parts(s: _State) -> list[list[Line]]:
    return [p.lines for p in _parts(s) if p.label in _LIST_LABELS]


def _glyph_index(line: Line, offset: int) -> int:
    """The index of the glyph that prints character `offset` of line.text."""
    at = 0
    for index, glyph in enumerate(line.glyphs):
        at += len(glyph.text)
        if offset < at:
            return index
    return len(line.glyphs)


def _glyph_span(line: Line, start: int, end: int | None = None) -> tuple[float, float]:
    """Visible left and right of the inked glyphs printing line.text[start:end]."""
    first = _glyph_index(line, start)
    last = len(line.glyphs) if end is None else _glyph_index(line, end)
    ink = [g for g in line.glyphs[first:last] if g.inked]
    return ink[0].cell_left, ink[-1].cell_right


def _part_glyphs(line: Line, start: int, end: int | None = None) -> list[Glyph]:
    """The inked glyphs printing line.text[start:end]."""
    first = _glyph_index(line, start)
    last = len(line.glyphs) if end is None else _glyph_index(line, end)
    return [g for g in line.glyphs[first:last] if g.inked]


def _wide_pairs(glyphs: list[Glyph]) -> int:
    """How many neighbouring glyphs are both full-width: the gaps a part can be squeezed at
    (counted from what is drawn, so fewer than the typesetter may count at Latin words)."""
    return sum(1 for a, b in itertools.pairwise(glyphs) if a.wide and b.wide)


def _check_pair_squeeze(s: _State, line: Line, glyphs: list[Glyph]) -> None:
    """Two parts squeezed to share a 版记 line: never more than HAN_SQUEEZE between two
    neighbouring full-width glyphs (each glyph's em box against the next one's origin)."""
    for a, b in itertools.pairwise(glyphs):
        if a.wide and b.wide and b.x0 - a.x1 < -HAN_SQUEEZE * a.size:
            s.result.fail(
                "banji",
                line.page,
                f"版记{line.quote()}挤得太紧：“{a.text}{b.text}”之间"
                f"收紧 {(a.x1 - b.x0) / a.size:.2f} 字"
                f"（上限 {HAN_SQUEEZE:g} 字）",
            )
            return


def _check_banji(s: _State) -> None:
    """`banji`: the 版记 is complete, in order, in place, and ruled as GB/T 9704 §7.4 rules it.

    - It is on the last page, below all running text, and only there.
    - Its parts come in this order, each present exactly when the sources give it: 报, 送, 发
      (each "label：" then the units joined by “，” and closed by “。”), then 责任编辑 and
      联系方式, then 批准文号 (the last line) with “（共印 N 份）” when there is a 印数.
    - Labels (报： 送： 发： 责任编辑： 批准文号：, and 联系方式： when it opens a line) start
      one 版记 character (its glyph size) in from the text area's left edge; a list's wrapped
      lines start under the first unit, after the colon (hanging indent); a list's lines but
      its last end one character in from the right edge; the 印数 ends one character in from the
      right edge; all within EDGE_TOLERANCE.
    - 联系方式 is on the 责任编辑 line, after it with at least PAIR_GAP of space, whenever
      both fit there: their drawn widths plus PAIR_GAP are at most 156 mm less the two indents
      plus PAIR_SQUEEZE for each two neighbouring full-width glyphs of theirs. Otherwise it
      opens the next line. A 印数 on the 批准文号 line stands at least PAIR_GAP after it. On a
      line of two parts, no two neighbouring full-width glyphs come closer than HAN_SQUEEZE.
    - Rules as drawn (rendered ink, spanning the text area's width within EDGE_TOLERANCE at
      both ends): one above the 版记, one between the lists (报/送/发, no rule between them,
      §7.4.2) and the 责任编辑 part, one between that part and 批准文号 (one only if either
      part is absent), one below the last line. The first and last are RULE_THICK thick, those
      between RULE_THIN, within RULE_TOLERANCE; each lies between the lines it separates.
    - The last rule's lower edge is on the text area's bottom edge (BANJI_BOTTOM_TOLERANCE)."""
    banji = s.expected.banji
    if banji is None:
        return
    fail = lambda page, message: s.result.fail("banji", page, message)  # noqa: E731 - a one-line alias
    lines = s.banji_lines
    if not lines:
        if s.block_lines:
            fail(None, "找不到版记")
        return
    last_page = len(s.pages)
    pages = sorted({line.page for line in lines})
    s.result.banji_page = pages[-1]
    if pages != [last_page]:
        fail(
            pages[0],
            f"版记应只在最后一页（第 {last_page} 页），现在在第 {'、'.join(map(str, pages))} 页",
        )
    body_on_page = [line for line in s.flow if line.page == lines[0].page]
    if body_on_page and body_on_page[-1].em_bottom > lines[0].em_top:
        fail(lines[0].page, "版记与正文重叠")

    parts = _parts(s)
    want = [key for key, _ in banji.lists]
    if banji.editor:
        want.append("责任编辑")
    if banji.contact:
        want.append("联系方式")
    want.append("批准文号")
    got = [p.label for p in parts]
    if got != want:
        fail(lines[0].page, f"版记各部分的顺序是 {'、'.join(got)}，应为 {'、'.join(want)}")

    size = lines[0].size
    inset = size
    for part in parts:
        first = part.lines[0]
        page = first.page
        left, _ = _glyph_span(first, part.start)
        if part.label in _LIST_LABELS:
            units = dict(banji.lists).get(part.label, ())
            expect = norm(f"{part.label}：{'，'.join(units)}。")
            printed = norm("".join(l.ink_text for l in part.lines))
            if printed != expect:
                fail(page, f"“{part.label}”一栏印的是“{printed[:30]}…”，应为“{expect[:30]}…”")
            after = _glyph_index(first, first.text.find("：", part.start)) + 1
            hang = first.glyphs[after].cell_left if after < len(first.glyphs) else left
            for k, line in enumerate(part.lines):
                if k and abs(line.left - hang) > EDGE_TOLERANCE:
                    fail(
                        line.page,
                        f"“{part.label}”一栏的回行{line.quote()}应与冒号后的第一字对齐，"
                        f"偏 {(line.left - hang) / MM:+.2f} mm",
                    )
                if k < len(part.lines) - 1:
                    error = line.right - (text_right(line.page) - inset)
                    if abs(error) > EDGE_TOLERANCE:
                        fail(
                            line.page,
                            f"“{part.label}”一栏的{line.quote()}右端应距版心右边一字，"
                            f"偏 {error / MM:+.2f} mm",
                        )
        if part.label in (*_LIST_LABELS, "责任编辑", "批准文号") or part.start == 0:
            error = left - (text_left(page) + inset)
            if abs(error) > EDGE_TOLERANCE:
                fail(page, f"“{part.label}”应距版心左边一字，偏 {error / MM:+.2f} mm")
    by_label = {p.label: p for p in parts}
    editor, contact = by_label.get("责任编辑"), by_label.get("联系方式")
    if editor and banji.editor:
        text = norm(
            editor.lines[0].text[
                editor.start : contact.start
                if contact and contact.lines[0] is editor.lines[0]
                else None
            ]
        )
        if text != norm(f"责任编辑：{banji.editor}"):
            fail(editor.lines[0].page, f"责任编辑一栏印的是“{text}”")
    if contact and banji.contact:
        line = contact.lines[0]
        text = norm(line.text[contact.start :])
        if text != norm(f"联系方式：{banji.contact}"):
            fail(line.page, f"联系方式一栏印的是“{text}”")
    if editor and contact:
        same = contact.lines[0] is editor.lines[0]
        e_left, e_right = _glyph_span(
            editor.lines[0], editor.start, contact.start if same else None
        )
        c_left, c_right = _glyph_span(contact.lines[0], contact.start)
        room = TEXT_W - 2 * inset
        e_glyphs = _part_glyphs(editor.lines[0], editor.start, contact.start if same else None)
        c_glyphs = _part_glyphs(contact.lines[0], contact.start)
        squeeze = PAIR_SQUEEZE * size * (_wide_pairs(e_glyphs) + _wide_pairs(c_glyphs))
        fits = (e_right - e_left) + (c_right - c_left) + PAIR_GAP * size <= room + squeeze + 0.01
        if same and c_left - e_right < PAIR_GAP * size - 0.01:
            fail(contact.lines[0].page, f"联系方式与责任编辑之间不足 {PAIR_GAP:g} 字")
        if same:
            _check_pair_squeeze(s, contact.lines[0], e_glyphs + c_glyphs)
        if same and c_right > text_right(contact.lines[0].page) - inset + EDGE_TOLERANCE:
            fail(contact.lines[0].page, "联系方式超出版记右边（距版心右边应有一字）")
        if fits and not same:
            fail(contact.lines[0].page, "联系方式与责任编辑放得进同一行，却另起了一行")
        if not same and contact.lines[0].baseline < editor.lines[0].baseline:
            fail(contact.lines[0].page, "联系方式印在责任编辑之上")
    approval = by_label.get("批准文号")
    if approval:
        line = approval.lines[0]
        text = norm(line.text[approval.start :])
        match = _COUNT.search(text)
        main = text[: match.start()] if match else text
        if main != norm(f"批准文号：{banji.approval}"):
            fail(line.page, f"批准文号一栏印的是“{main}”")
        if banji.count and not match:
            fail(line.page, f"批准文号一行没有印数（共印 {banji.count} 份）")
        elif match and (not banji.count or int(match.group(1)) != banji.count):
            fail(line.page, f"印数印作“{match.group()}”，稿件是 {banji.count}")
        elif match:
            if match.end() != len(text):
                fail(line.page, "印数应在批准文号一行的最右端")
            count_at = (
                line.text.rfind("（共印") if "（共印" in line.text else line.text.rfind("共印")
            )
            a_glyphs = _part_glyphs(line, approval.start, count_at)
            n_glyphs = _part_glyphs(line, count_at)
            if a_glyphs and n_glyphs:
                if n_glyphs[0].cell_left - a_glyphs[-1].cell_right < PAIR_GAP * size - 0.01:
                    fail(line.page, f"印数与批准文号之间不足 {PAIR_GAP:g} 字")
                _check_pair_squeeze(s, line, a_glyphs + n_glyphs)
            error = line.right - (text_right(line.page) - inset)
            if abs(error) > EDGE_TOLERANCE:
                fail(
                    line.page,
                    f"印数“{match.group()}”应右空一字排在版心右边，偏 {error / MM:+.2f} mm",
                )
        if line is not lines[-1]:
            fail(line.page, "批准文号应是版记的最后一行")
    _check_banji_rules(s, parts, inset)


def _check_banji_rules(s: _State, parts: list[_Part], inset: float) -> None:
    fail = lambda page, message: s.result.fail("banji", page, message)  # noqa: E731 - a one-line alias
    page = s.banji_lines[-1].page
    if page > len(s.images):
        return
    body = [line for line in s.flow if line.page == page]
    top = body[-1].em_bottom if body else TOP - 2 * MM
    found = _rules(s.images[page - 1], page, top, BOTTOM + 5 * MM)
    groups: list[list[Line]] = []
    kinds = []
    for part in parts:
        kind = (
            "lists"
            if part.label in _LIST_LABELS
            else "credits"
            if part.label in ("责任编辑", "联系方式")
            else part.label
        )
        if kinds and kinds[-1] == kind:
            groups[-1] += [l for l in part.lines if l not in groups[-1]]
        else:
            kinds.append(kind)
            groups.append(list(part.lines))
    want = len(groups) + 1
    shown = "、".join(f"{(t) / MM:.2f}/{(b - t) / MM:.2f}" for t, b, _, _ in found)
    if len(found) != want:
        fail(
            page,
            f"版记有 {len(found)} 条通栏线（上沿/粗细 mm：{shown or '无'}），应为 {want} 条："
            "首尾各一条，各部分之间各一条，报、送、发之间不加线",
        )
        return
    for k, (t, b, left, right) in enumerate(found):
        thickness = b - t
        expect = RULE_THICK if k in (0, want - 1) else RULE_THIN
        name = "第一条" if k == 0 else "最后一条" if k == want - 1 else f"第 {k + 1} 条"
        if abs(thickness - expect) > RULE_TOLERANCE:
            fail(page, f"版记{name}线粗 {thickness / MM:.2f} mm，应为 {expect / MM:.2f} mm")
        if (
            abs(left - text_left(page)) > EDGE_TOLERANCE
            or abs(right - text_right(page)) > EDGE_TOLERANCE
        ):
            fail(page, f"版记{name}线从 {left / MM:.2f} mm 到 {right / MM:.2f} mm，应与版心同宽")
        above = groups[k - 1][-1].em_bottom if k > 0 else None
        below = groups[k][0].em_top if k < len(groups) else None
        if (above is not None and t < above) or (below is not None and b > below):
            fail(page, f"版记{name}线没有排在它所分隔的两部分之间")
    bottom = found[-1][1]
    if abs(bottom - BOTTOM) > BANJI_BOTTOM_TOLERANCE:
        fail(
            page,
            f"版记最后一条线的下沿在 {bottom / MM:.2f} mm，应在版心下边缘 {BOTTOM / MM:.2f} mm",
        )


# --- Ink -------------------------------------------------------------------------------------


def _px(value: float) -> int:
    return round(value * INK_DPI / 72)


def _mask(image):
    return image.point(lambda v: 255 if v < INK_LEVEL else 0)


def _ink_top(image, box: tuple[float, float, float, float]) -> float | None:
    """Top (pt) of the ink inside box (x0, top, x1, bottom), or None."""
    crop = _mask(image.crop(tuple(_px(v) for v in box)))
    bbox = crop.getbbox()
    return None if bbox is None else box[1] + bbox[1] * 72 / INK_DPI


def _rules(
    image, page: int, top: float, bottom: float, coverage: float = 0.98
) -> list[tuple[float, float, float, float]]:
    """Full-width horizontal rules between top and bottom (pt): (top, bottom, left, right).

    A rule is a run of rows inked across `coverage` of the text area's width; its thickness is the
    integrated coverage of its rows (so anti-aliasing counts for what it is) and its top and
    bottom are centred on the coverage's centroid; its ends are those of its middle row."""
    from PIL import Image

    x0, x1 = _px(text_left(page) + 1 * MM), _px(text_right(page) - 1 * MM)
    y0, y1 = _px(max(0.0, top)), _px(bottom)
    if y1 <= y0:
        return []
    band = image.crop((x0, y0, x1, y1))
    rows = list(_mask(band).resize((1, band.height), Image.BOX).tobytes())
    found, y = [], 0
    scale = 72 / INK_DPI
    while y < len(rows):
        if rows[y] < coverage * 255:
            y += 1
            continue
        start = y
        while y < len(rows) and rows[y] >= coverage * 255:
            y += 1
        lo, hi = max(0, start - 3), min(band.height, y + 3)
        darkness = [
            255 - v
            for v in band.crop((0, lo, band.width, hi)).resize((1, hi - lo), Image.BOX).tobytes()
        ]
        weight = sum(darkness)
        centre = lo + sum((r + 0.5) * d for r, d in enumerate(darkness)) / weight
        thickness = weight / 255
        middle = y0 + (start + y) // 2
        row = _mask(image.crop((0, middle, image.width, middle + 1)))
        line_box = row.getbbox()
        left = line_box[0] * scale if line_box else 0.0
        right = line_box[2] * scale if line_box else 0.0
        t = (y0 + centre - thickness / 2) * scale
        found.append((t, t + thickness * scale, left, right))
    return found


def _check_outside(s: _State) -> None:
    """`outside`: nothing is inked outside the text area but the page number.

    On every page, rendered at INK_DPI, no pixel darker than INK_LEVEL lies outside the text
    area (156 × 225 mm, 37 mm from the trim's top, 28 mm from the binding edge: left on odd
    pages, right on even ones) widened by INK_TOLERANCE, except inside the page number's em
    boxes (widened by 0.5 mm). Every page has exactly one page number: “— N —” with N the page
    (em dashes U+2014, 四号), the dashes' ink top FOLIO_GAP below the text area within
    FOLIO_GAP_TOLERANCE, standing FOLIO_INSET in from the outer edge (right on odd pages, left
    on even ones) within EDGE_TOLERANCE. One exception: on a page whose first line is a table's
    (its header, repeated), the table's top rule lies in that line's box, above the text area
    by the line's half leading ((22-line pitch − 16 pt) ÷ 2, 2.3 mm) and half the rule."""
    from PIL import ImageDraw

    folios: dict[int, list[Line]] = {}
    for line in s.folios:
        folios.setdefault(line.page, []).append(line)
    for number, image in enumerate(s.images, start=1):
        mask = _mask(image)
        draw = ImageDraw.Draw(mask)
        left, right = text_left(number), text_right(number)
        draw.rectangle(
            (
                _px(left - INK_TOLERANCE),
                _px(TOP - INK_TOLERANCE),
                _px(right + INK_TOLERANCE),
                _px(BOTTOM + INK_TOLERANCE),
            ),
            fill=0,
        )
        opening = [
            line
            for block, lines in s.block_lines
            if block.kind == "table"
            for line in lines[:1] + [l for l in lines if l.page == number][:1]
            if line.page == number and _grid_index(line, block)[0] == 0
        ]
        if opening:
            lead = (LINE_PITCH - BODY_SIZE) / 2 + TABLE_RULE
            draw.rectangle(
                (_px(left - INK_TOLERANCE), _px(TOP - lead), _px(right + INK_TOLERANCE), _px(TOP)),
                fill=0,
            )
        for line in folios.get(number, []):
            draw.rectangle(
                (
                    _px(line.glyphs[0].x0 - 0.5 * MM),
                    _px(line.em_top - 0.5 * MM),
                    _px(line.glyphs[-1].x1 + 0.5 * MM),
                    _px(line.em_bottom + 0.5 * MM),
                ),
                fill=0,
            )
        scale = 72 / INK_DPI
        sides = (
            ("上方", (0, 0, mask.width, _px(TOP))),
            ("下方", (0, _px(BOTTOM), mask.width, mask.height)),
            ("左侧", (0, 0, _px(left), mask.height)),
            ("右侧", (_px(right), 0, mask.width, mask.height)),
        )
        for side, box in sides:
            bbox = mask.crop(box).getbbox()
            if bbox:
                x0, y0 = (box[0] + bbox[0]) * scale / MM, (box[1] + bbox[1]) * scale / MM
                x1, y1 = (box[0] + bbox[2]) * scale / MM, (box[1] + bbox[3]) * scale / MM
                s.result.fail(
                    "outside",
                    number,
                    f"版心{side}有墨迹：x {x0:.1f}–{x1:.1f} mm，y {y0:.1f}–{y1:.1f} mm",
                )
        found = folios.get(number, [])
        if len(found) != 1:
            s.result.fail("outside", number, f"应有一个页码“— {number} —”，找到 {len(found)} 个")
            continue
        line = found[0]
        match = _FOLIO.fullmatch(norm(line.ink_text))
        if int(match.group(1)) != number:
            s.result.fail("outside", number, f"页码印作{line.quote()}，应为第 {number} 页")
        if abs(line.size - BANJI_SIZE) > 0.1:
            s.result.fail("outside", number, f"页码字号 {line.size:.1f} pt，应为四号（14 pt）")
        dash = line.ink[0]
        top = _ink_top(image, (dash.x0, line.em_top - 2 * MM, dash.x1, line.em_bottom + 2 * MM))
        if top is None or abs(top - BOTTOM - FOLIO_GAP) > FOLIO_GAP_TOLERANCE:
            shown = "无墨迹" if top is None else f"{(top - BOTTOM) / MM:.2f} mm"
            s.result.fail("outside", number, f"页码一字线上沿距版心下边缘 {shown}，应为 7 mm")
        error = (
            line.ink[-1].x1 - (right - FOLIO_INSET)
            if number % 2
            else line.ink[0].x0 - (left + FOLIO_INSET)
        )
        if abs(error) > EDGE_TOLERANCE:
            side = "右" if number % 2 else "左"
            s.result.fail("outside", number, f"页码应居{side}空一字，偏 {error / MM:+.2f} mm")


# --- Building a corpus in one process ----------------------------------------------------------


@dataclass
class Built:
    """One issue of a project, rendered in memory."""

    name: str  # "2024/13"
    folder: Path
    pdf: bytes | None
    refused: list[str]  # why `liandong build` would refuse it (source problems, preflight)
    notices: list[str]  # what the build reported for it (warnings, notices)
    seconds: float


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.WARNING or "notice" in record.name:
            self.messages.append(record.getMessage())


@contextmanager
def _collecting() -> Iterator[list[str]]:
    logger = logging.getLogger("liandong")
    handler = _Collect()
    old_level = logger.level
    logger.addHandler(handler)
    if logger.level == logging.NOTSET or logger.level > logging.INFO:
        logger.setLevel(logging.INFO)
    try:
        yield handler.messages
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)


def build_corpus(root: Path, out: Path | None = None) -> tuple[dict[str, Built], list[str], float]:
    """Render every issue of the project at root the way `liandong build` does, but keep going
    past an issue that `build` would refuse, so that its PDF can still be measured.

    The fonts are resolved as `build` resolves them (`project.resolve_project_fonts`, before it
    `build.resolve_project_fonts`, where the code has it: series.yaml's font settings); an
    issue's notices are what the liandong loggers warn while it is loaded and rendered, plus
    the notices `IssueRenderer.load` hands back where it takes a list for them. Returns the
    issues by name ("2024/13"), the notices and problems given once for the whole build (the
    fonts') and the total time in seconds. With out, each PDF is also written there."""
    import inspect

    from liandong import build as build_module
    from liandong.build import IssueRenderer
    from liandong.errors import LiandongError
    from liandong.fonts import resolve_fonts
    from liandong.validate import issue_folders

    started = time.perf_counter()
    font_problems: list = []
    with _collecting() as general:
        try:
            from liandong.project import resolve_project_fonts
        except ImportError:  # older code: build had it, or nothing did
            resolve_project_fonts = getattr(build_module, "resolve_project_fonts", None)
        if resolve_project_fonts is not None:
            fonts = resolve_project_fonts(root, notice=True, problems=font_problems)
        else:
            fonts = resolve_fonts(root / "fonts", notice=True)
        renderer = IssueRenderer(root, fonts)
    general += [str(p) for p in font_problems]
    takes_notices = "notices" in inspect.signature(renderer.load).parameters
    built: dict[str, Built] = {}
    for folder in issue_folders(root):
        name = f"{folder.parent.name}/{folder.name}"
        begin = time.perf_counter()
        refused: list[str] = [str(p) for p in font_problems]
        pdf = None
        with _collecting() as notices:
            problems: list = []
            handed: list = []
            loaded = (
                renderer.load([folder], problems, handed)
                if takes_notices
                else renderer.load([folder], problems)
            )
            refused += [str(p) for p in problems]
            notices += [str(n) for n in dict.fromkeys(handed)]
            for issue, context in loaded:
                if not takes_notices:
                    notices += [str(n) for n in getattr(context, "notices", ())]
                try:
                    pdf = renderer.render(issue, context).pdf
                except LiandongError as exc:
                    refused.append(exc.message)
                    html = renderer.pages(issue, context)[0]
                    pdf = renderer._pdf_renderer().render(
                        html, issue.folder, [*renderer.allowed, issue.folder]
                    )
        if out is not None and pdf is not None:
            out.mkdir(parents=True, exist_ok=True)
            (out / f"{folder.parent.name}-{int(folder.name):02d}.pdf").write_bytes(pdf)
        built[name] = Built(name, folder, pdf, refused, list(notices), time.perf_counter() - begin)
    return built, general, time.perf_counter() - started


def load_title_words(path: Path) -> dict:
    """tests/corpus/title-words.yaml: {"2024/20/01.md": {"标题": "词/词/…"}}."""
    import yaml

    if not path.is_file():
        return {}
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def measure_built(root: Path, item: Built, title_words: dict | None = None) -> Measurement:
    """One built issue against the measure, with `build` failures for what build refuses."""
    expected = expected_issue(root, item.folder, title_words)
    if item.pdf is None:
        result = Measurement(item.name)
        result.fail("build", None, "没有生成 PDF")
    else:
        result = measure(item.pdf, expected, item.notices)
    for reason in item.refused:
        result.fail("build", None, reason)
    return result
