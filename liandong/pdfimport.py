"""Read a published issue's PDF into the importer's paragraphs, by what the page shows.

Every character comes with its font, size, colour and position (PDFium, through pypdfium2);
lines are rebuilt from the baselines, and the page tells the rest:

- the text column (its left and right edge) is where most body lines start and end, per page
  parity, since a two-sided bulletin mirrors its margins;
- a paragraph ends where a line ends short or the next starts with a first-line indent, and
  goes on over a page break when neither happens; a tagged PDF (liandong's own PDF/A) says where
  each paragraph ends in its structure tree, and that is used when every line is tagged;
- the masthead is the top of page 1 down to its date line; titles are set larger than the body;
  a subtitle is centred under its title; the 版记 starts at its first label on the last pages;
  page numbers ("— 2 —", or a bare number) above or below the text are dropped;
- each character's face is kept (`Para.styled`): bold runs become **…**, and a paragraph that
  opens with a numbered phrase in a heading face is a run-in heading.

The PDF is untrusted: its size is checked before it is read, and its pages, objects and
decoded streams against preflight's limits before PDFium parses it.
"""

from __future__ import annotations

import ctypes
import io
import logging
import re
import statistics
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from liandong import limits
from liandong.errors import LiandongError

if TYPE_CHECKING:
    import pikepdf
    import pypdfium2

    from liandong.importer import Para
    from liandong.tags import PdfObject

logger = logging.getLogger(__name__)

SEGMENT_GAP = 1.5
"""A gap of this many ems inside a line separates two items set on one line (编印单位 and the
date, 责任编辑 and 联系方式, the 印数 at the right)."""

SPACE_GAP = 0.25
"""A gap of this many ems between two Latin letters or digits is a word space that the PDF does
not draw as a character. Between Chinese and Latin a gap is only spacing (Word, WPS and
liandong draw every space they mean as a character)."""

WIDE_SPACE_GAP = 0.75
"""A gap of this many ems (less than SEGMENT_GAP) is a full-width space (U+3000), as in
“表1　……” and “图1　……”."""

INDENT = 1.2
"""A line that starts this many ems right of the column's edge begins a paragraph (the body's
first-line indent is two characters)."""

SHORT = 0.75
"""A line that ends this many ems left of the column's right edge ends its paragraph (a
justified line reaches the edge)."""

TITLE_SCALE = 1.15
"""Text this much larger than the body is a title (2号, 22 pt, over a 3号, 16 pt body)."""

_PAGE_NUMBER = re.compile(
    r"[—–\-－―]{0,2}\s*[0-9０-９]{1,4}\s*[—–\-－―]{0,2}|第\s*[0-9]{1,4}\s*页"
    r"(?:\s*共\s*[0-9]{1,4}\s*页)?"
)
_BOLD_NAME = re.compile(r"(?i)bold|black|heavy|demi|semibold|,b$|黑")
_LATIN = re.compile(r"[A-Za-z0-9@%&/.:_\-]")
_INLINE_TAGS = {
    "/Span",
    "/Quote",
    "/Note",
    "/Reference",
    "/BibEntry",
    "/Code",
    "/Link",
    "/Annot",
    "/Ruby",
    "/RB",
    "/RT",
    "/RP",
    "/Warichu",
    "/WT",
    "/WP",
    "/Em",
    "/Strong",
    "/Sub",
    "/Lbl",
    "/LBody",
    "/NonStruct",
    "/Private",
    "/Formula",
    "/Figure",
    "/Form",
}
"""Structure types inside a paragraph: a character's paragraph is its nearest other ancestor."""


@dataclass
class Glyph:
    text: str
    x0: float
    x1: float
    base: float
    size: float
    font: str
    bold: bool
    red: bool
    tag: Tag | None = None
    """Where the glyph stands in the tag tree, when the PDF is tagged."""

    @property
    def block(self) -> int | None:
        return self.tag.block if self.tag else None


@dataclass
class Line:
    page: int
    glyphs: list[Glyph]
    text: str = ""
    chars: list[Glyph | None] = field(default_factory=list)
    """The glyph of each character of `text` (None for a space put in a gap)."""
    segments: list[str] = field(default_factory=list)
    """The line's text cut at wide gaps: items set apart on one line."""

    @property
    def x0(self) -> float:
        return self.glyphs[0].x0

    @property
    def x1(self) -> float:
        return max(g.x1 for g in self.glyphs)

    @property
    def base(self) -> float:
        return self.glyphs[0].base

    @property
    def size(self) -> float:
        return Counter(round(g.size, 1) for g in self.glyphs if not g.text.isspace()).most_common(
            1
        )[0][0]

    @property
    def font(self) -> str:
        return Counter(g.font for g in self.glyphs if not g.text.isspace()).most_common(1)[0][0]

    @property
    def red(self) -> bool:
        return sum(g.red for g in self.glyphs) * 2 > len(self.glyphs)

    @property
    def blocks(self) -> set[int | None]:
        return {g.block for g in self.glyphs if not g.text.isspace()}


@dataclass
class Picture:
    """An image drawn on a page: where (PDF points, y upwards), and the file it gives."""

    page: int
    top: float
    bottom: float
    x0: float
    x1: float
    data: bytes = b""
    ext: str = ""
    refused: str = ""
    """Why the image gives no file (too large, unreadable), or empty."""


@dataclass
class Page:
    number: int
    lines: list[Line]
    pictures: list[Picture] = field(default_factory=list)
    unmapped: int = 0
    """Characters whose font gives no Unicode text (left out)."""


# --- Reading --------------------------------------------------------------------------------


def read_pages(data: bytes, name: str) -> list[Page]:
    """The PDF's pages as lines of glyphs; refused with a Chinese reason if it can't be read."""
    import pikepdf
    import pypdfium2

    from liandong.preflight import over_limits

    broken = f"{name}: 无法读取 PDF：文件已损坏，或不是 PDF 文件"
    try:
        pdf = pikepdf.open(io.BytesIO(data))
    except pikepdf.PasswordError:
        raise LiandongError(f"{name}: PDF 设有密码，无法导入；请用不加密的 PDF") from None
    except pikepdf.PdfError:
        raise LiandongError(broken) from None
    try:
        over = over_limits(pdf, "导入")
        if over is not None:
            raise LiandongError(f"{name}: {over}")
        blocks = _structure(pdf)
        textless = _fonts_without_text(pdf)
    except pikepdf.PdfError:
        raise LiandongError(broken) from None
    finally:
        pdf.close()
    try:
        document = pypdfium2.PdfDocument(data)
    except pypdfium2.PdfiumError:
        raise LiandongError(broken) from None
    try:
        return [
            _read_page(document[index], index, blocks, textless) for index in range(len(document))
        ]
    except pypdfium2.PdfiumError:
        raise LiandongError(broken) from None
    finally:
        document.close()


@dataclass(frozen=True)
class Tag:
    """Where a glyph stands in the tag tree: its paragraph-level element (P, H1, LI, TD, TH,
    Caption…) and that element's type, the list or table around it, and its table row."""

    block: int
    kind: str
    group: int | None = None
    group_kind: str = ""
    row: int | None = None


_GROUPING_TAGS = {"/Document", "/Part", "/Sect", "/Art", "/Div", "/THead", "/TBody", "/TFoot"}


def _structure(pdf: pikepdf.Pdf) -> dict[tuple[int, int], Tag]:
    """(page index, marked-content id) → its Tag, from the tag tree; empty when the PDF is not
    tagged. Each element is visited once, so a tree that loops ends."""
    import pikepdf

    root = pdf.Root.get("/StructTreeRoot")
    if not isinstance(root, pikepdf.Dictionary):
        return {}
    pages = {page.obj.objgen: index for index, page in enumerate(pdf.pages)}
    role_map = root.get("/RoleMap")

    def kind(element: PdfObject) -> str:
        name = str(element.get("/S", ""))
        if (
            isinstance(role_map, pikepdf.Dictionary)
            and name in role_map
            and name not in _INLINE_TAGS
        ):
            name = str(role_map[name])
        return name

    found: dict[tuple[int, int], Tag] = {}
    seen: set[tuple[int, int]] = set()
    stack: list[tuple[object, Tag | None, int | None]] = [(root, None, None)]
    while stack:
        element, tag, page = stack.pop()
        if not isinstance(element, pikepdf.Dictionary):
            continue
        if element.objgen != (0, 0):
            if element.objgen in seen:
                continue
            seen.add(element.objgen)
        if "/Pg" in element and isinstance(element["/Pg"], pikepdf.Dictionary):
            page = pages.get(element["/Pg"].objgen, page)
        if (
            element is not root
            and element.get("/Type", "/StructElem") == "/StructElem"
            and "/S" in element
        ):
            name, number = kind(element), element.objgen[0] or id(element)
            if name in ("/L", "/Table"):
                tag = Tag(number, name, number, name)
            elif name == "/TR":
                tag = Tag(
                    number, name, tag.group if tag else None, tag.group_kind if tag else "", number
                )
            elif name not in _INLINE_TAGS | _GROUPING_TAGS:
                tag = Tag(number, name, *((tag.group, tag.group_kind, tag.row) if tag else ()))
        kids = element.get("/K")
        if kids is None:
            continue
        for kid in list(kids) if isinstance(kids, pikepdf.Array) else [kids]:
            if isinstance(kid, int) and page is not None and tag is not None:
                found[(page, int(kid))] = tag
            elif isinstance(kid, pikepdf.Dictionary) and kid.get("/Type") == "/MCR":
                kid_page = kid.get("/Pg")
                where = (
                    pages.get(kid_page.objgen, page)
                    if isinstance(kid_page, pikepdf.Dictionary)
                    else page
                )
                if where is not None and tag is not None and "/MCID" in kid:
                    found[(where, int(kid["/MCID"]))] = tag
            elif isinstance(kid, pikepdf.Dictionary):
                stack.append((kid, tag, page))
    return found


def _fonts_without_text(pdf: pikepdf.Pdf) -> set[str]:
    """Names of the composite fonts (Identity-encoded CID fonts) that have no ToUnicode map:
    their glyph numbers say nothing about the characters, whatever a reader makes of them."""
    import pikepdf

    found: set[str] = set()
    for page in pdf.pages:
        resources = page.obj.get("/Resources")
        fonts = resources.get("/Font") if isinstance(resources, pikepdf.Dictionary) else None
        if not isinstance(fonts, pikepdf.Dictionary):
            continue
        for font in fonts.values():
            if (
                isinstance(font, pikepdf.Dictionary)
                and font.get("/Subtype") == "/Type0"
                and "/ToUnicode" not in font
                and str(font.get("/Encoding", "")).startswith("/Identity")
            ):
                found.add(str(font.get("/BaseFont", ""))[1:])
    return found


def _read_page(
    page: pypdfium2.PdfPage, index: int, blocks: dict[tuple[int, int], Tag], textless: set[str]
) -> Page:
    import pypdfium2.raw as raw

    textpage = page.get_textpage()
    name = ctypes.create_string_buffer(256)
    flags = ctypes.c_int()
    origin_x, origin_y = ctypes.c_double(), ctypes.c_double()
    box = raw.FS_RECTF()
    matrix = raw.FS_MATRIX()
    size = ctypes.c_float()
    r, g, b, a = (ctypes.c_uint() for _ in range(4))
    glyphs: list[Glyph] = []
    fonts: dict[int, tuple[str, bool]] = {}
    unmapped = 0
    for i in range(raw.FPDFText_CountChars(textpage)):
        if raw.FPDFText_IsGenerated(textpage, i):
            continue  # PDFium's guessed spaces and line ends: the lines are rebuilt here
        code = raw.FPDFText_GetUnicode(textpage, i)
        if (
            raw.FPDFText_HasUnicodeMapError(textpage, i)
            or code == 0xFFFD
            or 0xE000 <= code <= 0xF8FF
        ):
            unmapped += 1  # a glyph without its text (a font with no ToUnicode map)
            continue
        if textless:
            length = raw.FPDFText_GetFontInfo(textpage, i, name, len(name), flags)
            if name.raw[: max(length - 1, 0)].decode("utf-8", "replace") in textless:
                unmapped += 1
                continue
        if code in (0, 0xFFFE, 0xFFFF) or code in (0x0D, 0x0A):
            continue
        text = chr(code)
        if unicodedata.category(text) in ("Cc", "Cs") and text != "\t":
            continue
        obj = raw.FPDFText_GetTextObject(textpage, i)
        raw.FPDFText_GetCharOrigin(textpage, i, origin_x, origin_y)
        raw.FPDFText_GetLooseCharBox(textpage, i, box)
        raw.FPDFText_GetMatrix(textpage, i, matrix)
        scale = abs(matrix.a * matrix.d - matrix.b * matrix.c) ** 0.5
        if obj and raw.FPDFTextObj_GetFontSize(obj, size):
            font_size = size.value * scale
        else:
            font_size = raw.FPDFText_GetFontSize(textpage, i)
        if font_size <= 0 or abs(matrix.b) > 0.01 * scale:
            continue  # rotated or invisible text: not part of a bulletin's reading text
        key = ctypes.cast(obj, ctypes.c_void_p).value or 0 if obj else 0
        if key not in fonts:
            length = raw.FPDFText_GetFontInfo(textpage, i, name, len(name), flags)
            font = name.raw[: max(length - 1, 0)].decode("utf-8", "replace").split("+", 1)[-1]
            weight = raw.FPDFText_GetFontWeight(textpage, i)
            mode = raw.FPDFTextObj_GetTextRenderMode(obj) if obj else 0
            fonts[key] = (
                font,
                bool(_BOLD_NAME.search(font))
                or weight >= 600
                or mode == raw.FPDF_TEXTRENDERMODE_FILL_STROKE,
            )
        font, bold = fonts[key]
        raw.FPDFText_GetFillColor(textpage, i, r, g, b, a)
        red = r.value > 150 and g.value < 100 and b.value < 100
        mcid = raw.FPDFPageObj_GetMarkedContentID(obj) if obj else -1
        glyphs.append(
            Glyph(
                text,
                box.left,
                box.right,
                origin_y.value,
                font_size,
                font,
                bold,
                red,
                blocks.get((index, mcid)) if mcid >= 0 else None,
            )
        )
    pictures = [
        _picture(obj, index + 1)
        for obj in page.get_objects(max_depth=3)
        if obj.type == raw.FPDF_PAGEOBJ_IMAGE
    ]
    return Page(
        index + 1, _lines(glyphs, index + 1), [p for p in pictures if p is not None], unmapped
    )


def _picture(obj: pypdfium2.PdfObject, page: int) -> Picture | None:
    """An image object as a file: a JPEG as it is stored, anything else as PNG (with its mask
    applied). Its pixels are counted before anything is decoded (limits.IMAGE_PIXELS)."""
    import pypdfium2

    left, bottom, right, top = obj.get_bounds()
    if right - left < 1 or top - bottom < 1:
        return None
    picture = Picture(page, top, bottom, left, right)
    try:
        width, height = obj.get_px_size()
        if width * height > limits.IMAGE_PIXELS:
            picture.refused = f"有 {width} × {height} 像素，超过 {limits.IMAGE_PIXELS} 的上限（limits.IMAGE_PIXELS）"
            return picture
        filters = obj.get_filters()
        raw_data = bytes(obj.get_data(decode_simple=False)) if filters == ["DCTDecode"] else b""
        if raw_data.startswith(b"\xff\xd8\xff") and len(raw_data) <= limits.IMAGE_BYTES:
            picture.data, picture.ext = raw_data, "jpg"
        else:
            out = io.BytesIO()
            obj.get_bitmap(render=True).to_pil().convert("RGB").save(out, "PNG")
            picture.data, picture.ext = out.getvalue(), "png"
    except (pypdfium2.PdfiumError, OSError, ValueError):
        picture.refused = "无法读出"
    return picture


def _lines(glyphs: list[Glyph], page: int) -> list[Line]:
    """Glyphs grouped by baseline, top to bottom, each line left to right."""
    lines: list[list[Glyph]] = []
    for glyph in sorted(glyphs, key=lambda g: -g.base):
        if lines and abs(lines[-1][0].base - glyph.base) <= 0.3 * max(
            glyph.size, lines[-1][0].size
        ):
            lines[-1].append(glyph)
        else:
            lines.append([glyph])
    result = []
    for members in lines:
        members.sort(key=lambda g: g.x0)
        if all(g.text.isspace() for g in members):
            continue
        line = Line(page, members)
        _spell(line)
        result.append(line)
    return result


def _spell(line: Line) -> None:
    """The line's text, with a space where the PDF leaves a word gap and a segment break where
    it leaves a wide one; bold runs as offsets into the text."""
    text, segments, segment = "", [], ""
    chars: list[Glyph | None] = []
    previous: Glyph | None = None
    for glyph in line.glyphs:
        if previous is not None:
            gap = glyph.x0 - previous.x1
            em = max(previous.size, glyph.size)
            if gap >= SEGMENT_GAP * em:
                segments.append(segment.strip())
                segment = ""
                if not text.endswith(" "):
                    text += " "
                    chars.append(None)
            elif (
                gap >= WIDE_SPACE_GAP * em
                and not glyph.text.isspace()
                and not previous.text.isspace()
            ):
                text += "\u3000"  # a full-width space, which PDFs often leave undrawn
                chars.append(None)
                segment += "\u3000"
            elif gap >= SPACE_GAP * em and _LATIN.match(glyph.text) and _LATIN.match(previous.text):
                text += " "
                chars.append(None)
                segment += " "
        text += glyph.text
        chars.append(glyph)
        segment += glyph.text
        previous = glyph
    segments.append(segment.strip())
    lead = len(text) - len(text.lstrip())
    line.text = text.strip()
    line.chars = chars[lead : lead + len(line.text)]
    line.segments = [s for s in segments if s]


# --- Layout ---------------------------------------------------------------------------------


@dataclass
class _Column:
    left: float
    right: float


def _edge(values: list[float], pick: Callable[[Iterable[float]], float]) -> float:
    """The column's left (pick=min) or right (max) edge: the outermost place where two lines
    or more start (or end). Continuation lines start at the left edge and justified lines end
    at the right one, but in a short issue indented first lines and short last lines may be
    the most; an edge that only one line reaches may be a stray (a date set right)."""
    counts = Counter(round(v * 2) / 2 for v in values)
    shared = [value for value, count in counts.items() if count >= 2]
    return pick(shared) if shared else pick(counts)


class _Layout:
    """The body's size and face, and each page's text column, as most of the text has them."""

    def __init__(self, pages: list[Page]):
        sizes: Counter[float] = Counter()
        for page in pages:
            for line in page.lines:
                for glyph in line.glyphs:
                    if not glyph.text.isspace():
                        sizes[round(glyph.size, 1)] += 1
        self.size = sizes.most_common(1)[0][0] if sizes else 16.0
        faces = Counter(
            g.font
            for page in pages
            for line in page.lines
            for g in line.glyphs
            if round(g.size, 1) == self.size and not g.text.isspace()
        )
        self.font = faces.most_common(1)[0][0] if faces else ""
        self.columns: dict[int, _Column] = {}
        body = {
            parity: [
                line
                for page in pages
                if page.number % 2 == parity
                for line in page.lines
                if self.is_body_size(line)
            ]
            for parity in (0, 1)
        }
        everything = body[0] + body[1]
        steps = [
            a.base - b.base
            for page in pages
            for a, b in zip(page.lines, page.lines[1:])
            if self.is_body_size(a) and self.is_body_size(b) and a.base > b.base
        ]
        self._pitch = statistics.median(steps) if steps else 1.8 * self.size
        for page in pages:
            # Too few lines of a parity to tell its edges (a last page with one line): the other
            # parity's are within a fraction of a character (mirrored margins differ by 2 mm).
            lines = body[page.number % 2] if len(body[page.number % 2]) >= 3 else everything
            lines = lines or page.lines
            if lines:
                self.columns[page.number] = _Column(
                    _edge([line.x0 for line in lines], min), _edge([line.x1 for line in lines], max)
                )
            else:
                self.columns[page.number] = _Column(0.0, 0.0)

    @property
    def pitch(self) -> float:
        """The usual distance from one body line's baseline to the next one's."""
        return self._pitch

    def is_body_size(self, line: Line) -> bool:
        return abs(line.size - self.size) < 0.5

    def is_title(self, line: Line) -> bool:
        return line.size >= TITLE_SCALE * self.size

    def indented(self, line: Line) -> bool:
        return line.x0 - self.columns[line.page].left >= INDENT * self.size

    def short(self, line: Line) -> bool:
        return self.columns[line.page].right - line.x1 >= SHORT * self.size

    def centred(self, line: Line) -> bool:
        column = self.columns[line.page]
        before, after = line.x0 - column.left, column.right - line.x1
        return before >= 0.5 * self.size and abs(before - after) <= self.size


# --- Paragraphs -----------------------------------------------------------------------------


def read_pdf(path: Path, name: str) -> list:
    """The importer's paragraphs (`importer.Para`) of a PDF file: the masthead's items one by
    one, titles and subtitles by role, body paragraphs whole, the 版记 line by line."""
    from liandong.importer import read_limited

    data = read_limited(path, name, limits.PDF_BYTES, "PDF_BYTES")
    pages = read_pages(data, name)
    if not any(page.lines for page in pages) and not any(page.unmapped for page in pages):
        raise LiandongError(
            f"{name}: PDF 里没有可以提取的文字（可能是扫描件或图片）：扫描件要先做文字识别"
            "（OCR），无法直接导入"
        )
    read = sum(len(line.glyphs) for page in pages for line in page.lines)
    unmapped = sum(page.unmapped for page in pages)
    if unmapped > read:
        raise LiandongError(
            f"{name}: PDF 里的字大多没有对应的文字编码（字体缺少 Unicode 映射），读不出"
            "文字，无法导入：请用原来的 Word 文件，或先做文字识别（OCR）"
        )
    return assemble(pages, name)


def _where(name: str, page: int) -> str:
    return f"{name}（第 {page} 页）"


def _drop_page_numbers(pages: list[Page], layout: _Layout) -> None:
    """A page's first or last line that is only a number ("— 2 —", "2", "第 2 页") is its
    page number, when it stands apart from the text (set no larger than the body)."""
    for page in pages:
        for at in (-1, 0):
            if not page.lines:
                break
            line = page.lines[at]
            if (
                _PAGE_NUMBER.fullmatch(re.sub(r"\s", "", line.text))
                and line.size <= layout.size + 0.5
                and len(page.lines) > 1
            ):
                page.lines.pop(at)


def assemble(pages: list[Page], name: str) -> list:
    from liandong.importer import (
        ISSUE_NUMBER,
        MASTHEAD_DATE,
        TOTAL_NUMBER,
        Para,
        colophon_start,
        heading_level,
        is_masthead_line,
        is_note,
    )

    layout = _Layout(pages)
    _drop_page_numbers(pages, layout)
    for page in pages:
        if page.unmapped:
            logger.warning(
                "%s: 有 %d 个字在 PDF 里没有对应的文字编码（字体缺少 Unicode 映射），导入时"
                "缺了这些字：请对照原件补上",
                _where(name, page.number),
                page.unmapped,
            )
    lines = [line for page in pages for line in page.lines]

    # The masthead: the top of page 1, down to the line with the date.
    first_page = [line for line in lines if line.page == pages[0].number]
    end = 0
    for index, line in enumerate(first_page):
        items = line.segments or [line.text]
        if any(
            is_masthead_line(item) or ISSUE_NUMBER.search(item) or TOTAL_NUMBER.search(item)
            for item in items
        ):
            end = index + 1
        elif (
            index
            and layout.is_body_size(line)
            and not layout.short(line)
            and not layout.centred(line)
            and not MASTHEAD_DATE.search(line.text)
        ):
            break  # a full line of body text: the masthead (if any) is above it
        if (
            MASTHEAD_DATE.search(line.text)
            or is_note(line.text)
            or (layout.is_title(line) and not line.red and index > 0)
        ):
            if MASTHEAD_DATE.search(line.text):
                end = index + 1
            break
    paras: list = []
    for line in first_page[:end]:
        for item in line.segments or [line.text]:
            paras.append(Para([item], _where(name, line.page), role="masthead"))
    rest = lines[end:]

    # The 版记: from its first label, on the last two pages with text.
    last_pages = sorted({line.page for line in rest})[-2:]
    colophon_at = len(rest)
    for index, line in enumerate(rest):
        if line.page in last_pages and colophon_start(line.text):
            colophon_at = index
            break
    body, colophon = rest[:colophon_at], rest[colophon_at:]

    tagged = bool(body) and all(None not in line.blocks for line in body)
    groups: list[tuple[str, list]] = []
    flow = _with_pictures(
        body, pages, colophon[0] if colophon else None, first_page[end - 1] if end else None
    )
    index = 0
    while index < len(flow):
        line = flow[index]
        index += 1
        kind, members = groups[-1] if groups else ("", [])
        previous = members[-1] if members and isinstance(members[-1], Line) else None
        if isinstance(line, Picture):
            caption: list[Line] = []
            while (
                index < len(flow)
                and isinstance(flow[index], Line)
                and (
                    (flow[index].glyphs[0].tag and flow[index].glyphs[0].tag.kind == "/Caption")
                    or (not caption and _FIGURE_CAPTION.match(flow[index].text))
                )
            ):
                caption.append(flow[index])
                index += 1
                if not tagged:
                    break
            groups.append(("figure", [line, *caption]))
            continue
        group = line.glyphs[0].tag
        if tagged and group and group.group is not None:
            members = [line]
            while (
                index < len(flow)
                and isinstance(flow[index], Line)
                and flow[index].glyphs[0].tag
                and flow[index].glyphs[0].tag.group == group.group
            ):
                members.append(flow[index])
                index += 1
            groups.append(("table" if group.group_kind == "/Table" else "list", members))
            continue
        if not tagged and _TABLE_CAPTION.match(line.text):
            rows = _untagged_rows(flow, index)
            if rows:
                groups.append(("table", [line, *rows]))
                index += len(rows)
                continue
        if layout.is_title(line):
            if kind == "title" and previous is not None and _same_title(previous, line, layout):
                members.append(line)
            else:
                groups.append(("title", [line]))
        elif (
            kind in ("title", "subtitle")
            and _subtitle_line(line, members, kind, layout)
            and not heading_level(line.text)
        ):
            if kind == "subtitle":
                members.append(line)
            else:
                groups.append(("subtitle", [line]))
        elif kind == "text" and previous is not None and _continues(previous, line, layout, tagged):
            members.append(line)
        else:
            groups.append(("text", [line]))
    figures = 0
    for kind, members in groups:
        where = _where(name, members[0].page)
        if kind == "figure":
            figures += 1
            para = _figure(members[0], members[1:], figures, where, layout)
            if para is not None:
                paras.append(para)
        elif kind == "table":
            paras.append(_table(members, where, layout, tagged))
        elif kind == "list":
            paras += _items(members, where, layout)
        else:
            text, styled = _join(members, layout)
            if kind == "text" and _BULLET.match(text):
                paras += _items(members, where, layout)
                continue
            paras.append(
                Para(
                    [text],
                    where,
                    role=kind,
                    joinable=False,
                    styled=styled if kind == "text" else "",
                )
            )
    for line in colophon:
        paras.append(Para([line.text], _where(name, line.page), role="colophon", joinable=False))
    return paras


def _same_title(previous: Line, line: Line, layout: _Layout) -> bool:
    return (
        previous.page == line.page
        and abs(previous.size - line.size) < 0.5
        and previous.font == line.font
        and previous.base - line.base <= 2.2 * line.size
    )


def _subtitle_line(line: Line, members: list[Line], kind: str, layout: _Layout) -> bool:
    """Under a title: a centred line in another face than the body (or opening with a dash);
    a subtitle's further lines in its face."""
    previous = members[-1]
    if previous.page != line.page or previous.base - line.base > 3 * max(line.size, layout.size):
        return False
    if kind == "subtitle":
        return line.font == previous.font and abs(line.size - previous.size) < 0.5
    column = layout.columns[line.page]
    full = line.x0 - column.left < 0.5 * layout.size and column.right - line.x1 < 0.5 * layout.size
    other_face = line.font != layout.font or line.text.startswith(("—", "－－", "--"))
    return other_face and (layout.centred(line) or full)


def _continues(previous: Line, line: Line, layout: _Layout, tagged: bool) -> bool:
    """Is `line` the next line of `previous`'s paragraph?

    Tagged: when both are in the same structure element. Else by the layout: not when the
    line starts with an indent, or stands further below than the lines of a paragraph do, or
    is in another size or (both being in one face each) another face; not when the line
    before ended short: by two characters or more, or by part of one at the end of a sentence
    (a line of text that is not justified may end a character short anywhere)."""
    if tagged:
        return (
            bool(previous.blocks & line.blocks)
            and previous.glyphs[-1].block == line.glyphs[0].block
        )
    if layout.indented(line) or layout.is_body_size(previous) != layout.is_body_size(line):
        return False
    if previous.page == line.page and previous.base - line.base > 1.4 * layout.pitch:
        return False
    if previous.font != line.font and _one_face(previous) and _one_face(line):
        return False
    short = layout.columns[line.page].right - previous.x1
    if short >= 2 * layout.size:
        return False
    return not (short >= SHORT * layout.size and _ends_sentence(previous.text))


def _one_face(line: Line) -> bool:
    return len({g.font for g in line.glyphs if not g.text.isspace()}) == 1


def _ends_sentence(text: str) -> bool:
    stripped = text.rstrip(" \u3000”’」』）)》】")
    return bool(stripped) and stripped[-1] in "。！？…：:!?；;"


def _join(lines: list[Line], layout: _Layout) -> tuple[str, str]:
    """A paragraph's lines as one text (Chinese joins directly, Latin words keep a space), and
    the face of each character (importer.Para.styled): "." the body's, "b" bold, "f" another
    face, "F" another face in bold."""
    from liandong.source import join_lines

    text, styled = "", ""
    for line in lines:
        joined = join_lines([text, line.text]) if text else line.text
        styled += "." * (len(joined) - len(text) - len(line.text))
        styled += "".join(_face(glyph, layout) for glyph in line.chars)
        text = joined
    return text, styled


def _face(glyph: Glyph | None, layout: _Layout) -> str:
    if glyph is None:
        return "."
    other = glyph.font != layout.font
    return ("F" if glyph.bold else "f") if other else ("b" if glyph.bold else ".")


# --- Figures, tables and lists ----------------------------------------------------------------

MM = 72 / 25.4
_FIGURE_CAPTION = re.compile(r"图\s*[0-9一二三四五六七八九十]")
_TABLE_CAPTION = re.compile(r"表\s*[0-9一二三四五六七八九十]")
_BULLET = re.compile(r"[●•▪■◆◦○·]\s*")
_NUMBER = re.compile(r"([0-9]{1,3})[.．]\s*")


def _top(item: Line | Picture) -> float:
    return item.top if isinstance(item, Picture) else item.base + 0.8 * item.size


def _with_pictures(
    body: list[Line], pages: list[Page], colophon: Line | None, masthead: Line | None
) -> list:
    """The body's lines with the pictures drawn among them, in reading order (a picture in
    the masthead or in the 版记 is not part of an article)."""
    flow: list = []
    for page in pages:
        lines = [line for line in body if line.page == page.number]
        pictures = [
            picture
            for picture in page.pictures
            if not (masthead and page.number == masthead.page and picture.bottom >= masthead.base)
            and not (
                colophon
                and (
                    page.number > colophon.page
                    or (page.number == colophon.page and picture.top <= _top(colophon))
                )
            )
        ]
        flow += sorted(lines + pictures, key=lambda item: -_top(item))
    return flow


def _untagged_rows(flow: list, index: int) -> list[Line]:
    """Under a caption 表…: the lines that are rows of one table, each cut into as many cells
    (items set apart by wide gaps) as the first; none if there are fewer than two."""
    rows: list[Line] = []
    while index < len(flow) and isinstance(flow[index], Line) and len(flow[index].segments) >= 2:
        if rows and len(flow[index].segments) != len(rows[0].segments):
            break
        rows.append(flow[index])
        index += 1
    return rows if len(rows) >= 2 else []


def _figure(
    picture: Picture, caption: list[Line], number: int, where: str, layout: _Layout
) -> Para | None:
    from liandong.importer import Figure, Para

    if picture.refused:
        logger.warning("%s: 一张图片%s，未导入", where, picture.refused)
        return None
    text = " ".join(line.text for line in caption).strip() if caption else ""
    if not text:
        text = f"图{number}"
        logger.warning("%s: 图片没有图题，已写作“%s”：请补上图题", where, text)
    width = (picture.x1 - picture.x0) / MM
    shown = None if width >= 150 else max(20.0, float(round(width)))
    return Para(
        [text],
        where,
        role="figure",
        joinable=False,
        payload=Figure(text, f"图{number}.{picture.ext}", picture.data, shown),
    )


def _table(lines: list[Line], where: str, layout: _Layout, tagged: bool) -> Para:
    """A table's caption and rows: by its tags (TR, TH/TD, Caption), or under a caption by the
    wide gaps between cells; a header row repeated on a later page is read once."""
    from liandong.importer import Para, Table
    from liandong.source import join_lines

    if not tagged:
        title = lines[0].text
        grid: list[list[tuple[str, list]]] = [
            [(cell, []) for cell in line.segments] for line in lines[1:]
        ]
        logger.warning("%s: 表格“%s”是按各行文字的位置读出的：请核对每一格", where, title)
        return Para([title], where, role="table", joinable=False, payload=Table(title, grid))
    cells: dict[tuple, list[tuple[int, str]]] = {}  # (id of the line, its text in the cell)
    first_page: dict[tuple, int] = {}
    order: list[tuple] = []
    caption: list[tuple[int, str]] = []
    first_row = None
    for line in lines:
        current = None
        pieces: dict[int, str] = {}
        for char, glyph in zip(line.text, line.chars):
            tag = glyph.tag if glyph is not None else None
            if tag is not None:
                current = ("caption",) if tag.kind == "/Caption" else (tag.row, tag.block)
                if first_row is None and tag.row is not None:
                    first_row = tag.row
            if current is None:
                continue
            if current not in first_page:
                first_page[current] = line.page
                order.append(current)
            if current[0] == first_row and line.page > first_page[current]:
                continue  # the header row, repeated at the top of a page
            pieces.setdefault(id(current), "")
            target = caption if current == ("caption",) else cells.setdefault(current, [])
            if not target or target[-1][0] != id(line):
                target.append((id(line), ""))
            target[-1] = (target[-1][0], target[-1][1] + char)
    rows: dict[int | None, list[tuple[str, list]]] = {}
    row_pages: dict[int | None, int] = {}
    for key in order:
        if key == ("caption",):
            continue
        text = join_lines([piece for _, piece in cells.get(key, [])])
        rows.setdefault(key[0], []).append((text, []))
        row_pages.setdefault(key[0], first_page[key])
    header = next(iter(rows), None)
    for row in list(rows)[1:]:
        # The header row repeated at the top of a later page, tagged as a row of its own.
        if rows[row] == rows[header] and row_pages[row] > row_pages[header]:
            del rows[row]
    text = join_lines([piece for _, piece in caption]) if caption else ""
    if not text:
        text = "表"
        logger.warning("%s: 表格没有表题，已写作“表”：请补上表题", where)
    return Para(
        [text], where, role="table", joinable=False, payload=Table(text, list(rows.values()))
    )


def _items(lines: list[Line], where: str, layout: _Layout) -> list:
    """List items: one for each LI of the tags, or this paragraph opening with a bullet."""
    from liandong.importer import Item, Para, strong_runs

    groups: list[list[Line]] = []
    for line in lines:
        block = line.glyphs[0].block
        if groups and (block is None or groups[-1][0].glyphs[0].block == block):
            groups[-1].append(line)
        else:
            groups.append([line])
    paras = []
    for group in groups:
        text, styled = _join(group, layout)
        bullet, number = _BULLET.match(text), _NUMBER.match(text)
        marker = bullet or number
        cut = marker.end() if marker else 0
        item = Item(
            text[cut:],
            bool(number) and not bullet,
            int(number.group(1)) if number and not bullet else 0,
            strong_runs(styled[cut:]),
        )
        paras.append(
            Para([item.text], _where_of(where, group), role="item", joinable=False, payload=item)
        )
    return paras


def _where_of(where: str, lines: list[Line]) -> str:
    return re.sub(r"第 \d+ 页", f"第 {lines[0].page} 页", where)
