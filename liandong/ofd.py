"""The issue as OFD (GB/T 33190-2016), made from the archival PDF liandong has just rendered.

Every page of the PDF is read back with pikepdf: its content stream is interpreted (graphics
state, text state, paths, images) and each thing it draws is written as the OFD object that
draws the same: a TextObject per text showing operator (font, size, colour, the glyphs'
positions as X, Y and DeltaX in mm), a PathObject per filled or stroked path (filled
rectangles, WeasyPrint's rules and borders, are reduced to the rectangles they cover), an
ImageObject per image. The embedded font subsets become OpenType files: a CID-keyed CFF program
is wrapped into an .otf, a TrueType program gets a cmap, so that TextCode can hold the text's
characters (from the PDF's ToUnicode maps) and each character finds its glyph; where the
character alone would not find the glyph the PDF draws, a CGTransform names it.

The package is written with lxml and zipfile, deterministically: the same PDF gives the same
bytes (fixed zip times, ordered entries, IDs numbered in drawing order).

Imported only for `liandong build --ofd` and for a site that publishes OFD (series.yaml
网站附带).
"""

from __future__ import annotations

import io
import itertools
import logging
import math
import re
import uuid
import zipfile
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lxml import etree

from liandong.errors import LiandongError

if TYPE_CHECKING:
    from collections.abc import Iterable

    import pikepdf
    from fontTools.fontBuilder import FontBuilder

    from liandong.tags import PdfObject

Element = Any
"""An lxml element (lxml has no type information)."""

logger = logging.getLogger(__name__)

NS = "http://www.ofdspec.org/2016"
MM = 25.4 / 72
"""One PDF point in mm, OFD's unit."""

ZIP_TIME = (2000, 1, 1, 0, 0, 0)
"""Every entry of the package carries this time, so the bytes do not depend on the clock."""


def _q(tag: str) -> str:
    return f"{{{NS}}}{tag}"


def _num(value: float, places: int = 3) -> str:
    """A number as OFD writes it: fixed decimals, trailing zeros dropped, no "-0"."""
    text = f"{value:.{places}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _mul(m: tuple, n: tuple) -> tuple:
    """The matrix product m × n of PDF matrices [a b c d e f] (m applied first)."""
    a, b, c, d, e, f = m
    A, B, C, D, E, F = n
    return (
        a * A + b * C,
        a * B + b * D,
        c * A + d * C,
        c * B + d * D,
        e * A + f * C + E,
        e * B + f * D + F,
    )


def _apply(m: tuple, x: float, y: float) -> tuple[float, float]:
    return m[0] * x + m[2] * y + m[4], m[1] * x + m[3] * y + m[5]


IDENTITY = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)


# -- What a page draws -------------------------------------------------------------------------


@dataclass
class Glyph:
    x: float  # origin, mm from the page's left edge
    y: float  # baseline, mm from the page's top edge
    code: int  # the CID the PDF shows
    advance: float  # mm


@dataclass
class Text:
    font: Font
    size: float  # mm
    glyphs: list[Glyph]
    fill: tuple | None
    stroke: tuple | None
    line_width: float
    alpha: int
    hscale: float = 1.0
    invisible: bool = False  # text render mode 3: written with Visible="false"


@dataclass
class Shape:
    """A path in page mm (y down): subpaths of ("M", x, y), ("L", x, y), ("B", …6), ("C",)."""

    segments: list[tuple]
    fill: tuple | None
    stroke: tuple | None
    even_odd: bool
    line_width: float
    alpha: int
    cap: str = "Butt"
    join: str = "Miter"
    dash: list[float] | None = None


@dataclass
class Rect:
    x: float
    y: float
    w: float
    h: float
    fill: tuple
    alpha: int


@dataclass
class Picture:
    matrix: tuple  # maps the image's unit square (top-left origin, y down) to page mm
    image: Media
    alpha: int


@dataclass
class Page:
    width: float
    height: float
    bleed: tuple | None
    objects: list = field(default_factory=list)


@dataclass
class Font:
    key: tuple
    name: str
    family: str
    bold: bool
    italic: bool
    serif: bool
    fixed: bool
    to_unicode: dict[int, str]
    widths: dict[int, float]
    default_width: float
    bbox: tuple[float, float, float, float]  # in 1/1000 em: left, bottom, right, top
    program: bytes = b""
    suffix: str = ".otf"
    gid: dict[int, int] = field(default_factory=dict)  # CID → glyph id in program
    cmap: dict[str, int] = field(default_factory=dict)  # character → glyph id in program
    # The PDF objects it was read from (for the program, read when the OFD is written).
    descriptor: PdfObject = field(default=None, compare=False, repr=False)
    cid_font: PdfObject = field(default=None, compare=False, repr=False)


@dataclass
class Media:
    key: tuple
    data: bytes
    format: str  # "JPEG" or "PNG"


# -- Reading the PDF -------------------------------------------------------------------------

_BFCHAR = re.compile(rb"beginbfchar(.*?)endbfchar", re.S)
_BFRANGE = re.compile(rb"beginbfrange(.*?)endbfrange", re.S)
_HEX = re.compile(rb"<([0-9a-fA-F]*)>|\[([^\]]*)\]")


def _utf16(hexdigits: bytes) -> str:
    raw = bytes.fromhex(hexdigits.decode("ascii"))
    return raw.decode("utf-16-be", errors="replace")


def parse_to_unicode(data: bytes) -> dict[int, str]:
    """A ToUnicode CMap's bfchar and bfrange entries: code → text."""
    mapping: dict[int, str] = {}
    for block in _BFCHAR.findall(data):
        items = re.findall(rb"<([0-9a-fA-F]*)>", block)
        for src, dst in zip(items[0::2], items[1::2]):
            mapping[int(src, 16)] = _utf16(dst)
    for block in _BFRANGE.findall(data):
        tokens = _HEX.findall(block)
        i = 0
        while i + 2 < len(tokens):
            lo, hi = int(tokens[i][0], 16), int(tokens[i + 1][0], 16)
            dst_hex, dst_array = tokens[i + 2]
            if dst_array:
                targets = re.findall(rb"<([0-9a-fA-F]*)>", dst_array)
                for offset, target in enumerate(targets[: hi - lo + 1]):
                    mapping[lo + offset] = _utf16(target)
            else:
                raw = bytearray(bytes.fromhex(dst_hex.decode("ascii")))
                for code in range(lo, hi + 1):
                    mapping[code] = raw.decode("utf-16-be", errors="replace")
                    raw[-1] = (raw[-1] + 1) & 0xFF
            i += 3
    return mapping


def _widths(cid_font: PdfObject) -> dict[int, float]:
    import pikepdf

    widths: dict[int, float] = {}
    items = list(cid_font.get("/W", []))
    i = 0
    while i + 1 < len(items):
        first, nxt = int(items[i]), items[i + 1]
        if isinstance(nxt, pikepdf.Array):
            for offset, w in enumerate(nxt):
                widths[first + offset] = float(w)
            i += 2
        else:
            for cid in range(first, int(nxt) + 1):
                widths[cid] = float(items[i + 2])
            i += 3
    return widths


class Reader:
    """Interprets the PDF's pages into Page objects, collecting fonts and images."""

    def __init__(self, pdf):
        self.pdf = pdf
        self.fonts: dict[tuple, Font] = {}
        self.media: dict[tuple, Media] = {}
        self.unsupported: set[str] = set()

    # resources
    def font(self, obj: PdfObject) -> Font:
        key = obj.objgen if obj.objgen != (0, 0) else (id(obj), 0)
        if key in self.fonts:
            return self.fonts[key]
        if obj.get("/Subtype") != "/Type0" or str(obj.get("/Encoding")) != "/Identity-H":
            raise LiandongError(
                f"无法生成 OFD：PDF 里的字体 {str(obj.get('/BaseFont', ''))[1:]} "
                "不是 Identity-H 编码的 CID 字体。"
            )
        cid_font = obj.DescendantFonts[0]
        descriptor = cid_font.FontDescriptor
        base = str(obj.get("/BaseFont", "/font"))[1:].rpartition("+")[2]
        family = str(descriptor.get("/FontFamily", base))
        flags = int(descriptor.get("/Flags", 0))
        to_unicode = parse_to_unicode(obj.ToUnicode.read_bytes()) if "/ToUnicode" in obj else {}
        bbox = tuple(float(v) for v in descriptor.get("/FontBBox", [0, -200, 1000, 900]))
        font = Font(
            key=key,
            name=base,
            family=family,
            bold="bold" in base.lower() or "black" in base.lower(),
            italic=bool(flags & 64),
            serif=bool(flags & 2),
            fixed=bool(flags & 1),
            to_unicode=to_unicode,
            widths=_widths(cid_font),
            default_width=float(cid_font.get("/DW", 1000)),
            bbox=(
                min(bbox[0], bbox[2]),
                min(bbox[1], bbox[3]),
                max(bbox[0], bbox[2]),
                max(bbox[1], bbox[3]),
            ),
        )
        font.descriptor, font.cid_font = descriptor, cid_font
        self.fonts[key] = font
        return font

    def image(self, xobject: PdfObject) -> Media:
        import pikepdf

        key = xobject.objgen
        if key in self.media:
            return self.media[key]
        pdf_image = pikepdf.PdfImage(xobject)
        smask = xobject.get("/SMask")
        if xobject.get("/Filter") == "/DCTDecode" and smask is None:
            media = Media(key, xobject.read_raw_bytes(), "JPEG")
        else:
            picture = pdf_image.as_pil_image()
            if picture.mode not in ("RGB", "L", "RGBA", "LA"):
                picture = picture.convert("RGB")
            if smask is not None:
                mask = pikepdf.PdfImage(smask).as_pil_image().convert("L")
                if mask.size != picture.size:
                    mask = mask.resize(picture.size)
                picture = picture.convert("RGBA")
                picture.putalpha(mask)
            out = io.BytesIO()
            picture.save(out, format="PNG", optimize=False)
            media = Media(key, out.getvalue(), "PNG")
        self.media[key] = media
        return media

    # pages
    def page(self, page: pikepdf.Page) -> Page:
        box = [float(v) for v in page.obj.get("/MediaBox", page.MediaBox)]
        x0, y0, x1, y1 = (
            min(box[0], box[2]),
            min(box[1], box[3]),
            max(box[0], box[2]),
            max(box[1], box[3]),
        )
        # PDF user space (pt, y up) → OFD page space (mm, y down)
        to_page = (MM, 0.0, 0.0, -MM, -x0 * MM, y1 * MM)
        bleed = None
        if "/BleedBox" in page.obj:
            b = [float(v) for v in page.obj.BleedBox]
            bx0, by0, bx1, by1 = min(b[0], b[2]), min(b[1], b[3]), max(b[0], b[2]), max(b[1], b[3])
            if (bx0, by0, bx1, by1) != (x0, y0, x1, y1):
                bleed = ((bx0 - x0) * MM, (y1 - by1) * MM, (bx1 - bx0) * MM, (by1 - by0) * MM)
        result = Page((x1 - x0) * MM, (y1 - y0) * MM, bleed)
        self.run(page, page.obj.get("/Resources", {}), to_page, result)
        return result

    def run(
        self,
        stream_owner: PdfObject,
        resources: PdfObject,
        base: tuple,
        out: Page,
        inherited: _State | None = None,
    ) -> None:
        """Interpret one content stream (a page's, or a form XObject's, which starts from the
        graphics state of the `Do` that draws it)."""
        import pikepdf

        gs = inherited.copy() if inherited is not None else _State()
        gs.ctm = base
        stack: list[_State] = []
        path: list[tuple] = []  # in user space: ("M", x, y) …
        current = (0.0, 0.0)
        start = (0.0, 0.0)
        pending_clip = None
        for instruction in pikepdf.parse_content_stream(stream_owner):
            operands, operator = instruction.operands, instruction.operator
            op = str(operator)
            if op == "q":
                stack.append(gs.copy())
            elif op == "Q":
                if stack:
                    gs = stack.pop()
            elif op == "cm":
                gs.ctm = _mul(tuple(float(v) for v in operands), gs.ctm)
            elif op in ("rg", "g", "k", "sc", "scn"):
                gs.fill = _colour(operands, op)
            elif op in ("RG", "G", "K", "SC", "SCN"):
                gs.stroke = _colour(operands, op.lower())
            elif op == "cs":
                gs.fill = (0, 0, 0) if str(operands[0]) != "/Pattern" else None
            elif op == "CS":
                gs.stroke = (0, 0, 0) if str(operands[0]) != "/Pattern" else None
            elif op == "w":
                gs.line_width = float(operands[0])
            elif op == "J":
                gs.cap = ("Butt", "Round", "Square")[int(operands[0]) % 3]
            elif op == "j":
                gs.join = ("Miter", "Round", "Bevel")[int(operands[0]) % 3]
            elif op == "d":
                gs.dash = [float(v) for v in operands[0]] or None
            elif op == "gs":
                state = resources.get("/ExtGState", {}).get(str(operands[0]))
                if state is not None:
                    if "/ca" in state:
                        gs.fill_alpha = float(state.ca)
                    if "/CA" in state:
                        gs.stroke_alpha = float(state.CA)
                    if "/LW" in state:
                        gs.line_width = float(state.LW)
            # paths
            elif op == "m":
                current = start = (float(operands[0]), float(operands[1]))
                path.append(("M", *current))
            elif op == "l":
                current = (float(operands[0]), float(operands[1]))
                path.append(("L", *current))
            elif op in ("c", "v", "y"):
                values = [float(v) for v in operands]
                if op == "c":
                    points = values
                elif op == "v":
                    points = [*current, *values]
                else:
                    points = [*values[:2], *values[2:], *values[2:]]
                current = (points[4], points[5])
                path.append(("B", *points))
            elif op == "h":
                path.append(("C",))
                current = start
            elif op == "re":
                x, y, w, h = (float(v) for v in operands)
                path += [("M", x, y), ("L", x + w, y), ("L", x + w, y + h), ("L", x, y + h), ("C",)]
                current = start = (x, y)
            elif op in ("W", "W*"):
                pending_clip = (list(path), op == "W*")
            elif op in ("f", "F", "f*", "B", "B*", "b", "b*", "S", "s", "n"):
                if op in ("b", "b*", "s"):
                    path.append(("C",))
                fill = op in ("f", "F", "f*", "B", "B*", "b", "b*")
                stroke = op in ("B", "B*", "b", "b*", "S", "s")
                if path and (fill or stroke):
                    self.paint(out, gs, path, fill, stroke, op.endswith("*"))
                if pending_clip is not None:
                    gs.clip = _clip_rect(pending_clip[0], gs.ctm, gs.clip)
                    pending_clip = None
                path = []
            # text
            elif op == "BT":
                gs.tm = gs.tlm = IDENTITY
            elif op == "Tf":
                font = resources.get("/Font", {}).get(str(operands[0]))
                gs.font = self.font(font) if font is not None else None
                gs.font_size = float(operands[1])
            elif op == "Tc":
                gs.char_spacing = float(operands[0])
            elif op == "Tw":
                gs.word_spacing = float(operands[0])
            elif op == "Tz":
                gs.hscale = float(operands[0]) / 100
            elif op == "TL":
                gs.leading = float(operands[0])
            elif op == "Ts":
                gs.rise = float(operands[0])
            elif op == "Tr":
                gs.render = int(operands[0])
            elif op == "Tm":
                gs.tm = gs.tlm = tuple(float(v) for v in operands)
            elif op in ("Td", "TD"):
                tx, ty = float(operands[0]), float(operands[1])
                if op == "TD":
                    gs.leading = -ty
                gs.tm = gs.tlm = _mul((1, 0, 0, 1, tx, ty), gs.tlm)
            elif op == "T*":
                gs.tm = gs.tlm = _mul((1, 0, 0, 1, 0, -gs.leading), gs.tlm)
            elif op in ("Tj", "'", '"', "TJ"):
                if op == "'":
                    gs.tm = gs.tlm = _mul((1, 0, 0, 1, 0, -gs.leading), gs.tlm)
                elif op == '"':
                    gs.word_spacing, gs.char_spacing = float(operands[0]), float(operands[1])
                    gs.tm = gs.tlm = _mul((1, 0, 0, 1, 0, -gs.leading), gs.tlm)
                    operands = operands[2:]
                items = list(operands[0]) if op == "TJ" else [operands[-1]]
                self.show(out, gs, items)
            elif op == "Do":
                xobject = resources.get("/XObject", {}).get(str(operands[0]))
                if xobject is None:
                    continue
                subtype = xobject.get("/Subtype")
                if subtype == "/Image":
                    if xobject.get("/ImageMask", False):
                        self.unsupported.add("image mask")
                        continue
                    out.objects.append(
                        Picture(_image_matrix(gs.ctm), self.image(xobject), _alpha(gs.fill_alpha))
                    )
                elif subtype == "/Form":
                    matrix = tuple(float(v) for v in xobject.get("/Matrix", IDENTITY))
                    self.run(
                        xobject, xobject.get("/Resources", resources), _mul(matrix, gs.ctm), out, gs
                    )
            elif op in ("sh", "BI", "d0", "d1"):
                self.unsupported.add(op)

    def paint(
        self, out: Page, gs: _State, path: list, fill: bool, stroke: bool, even_odd: bool
    ) -> None:
        fill_colour = gs.fill if fill else None
        stroke_colour = gs.stroke if stroke else None
        if fill_colour is None and stroke_colour is None:
            return
        if fill_colour is not None and not stroke:
            rects = _rectangles(path, gs.ctm, even_odd)
            if rects is not None:
                if gs.clip is not None:
                    rects = _merge(
                        [r for r in (_intersect(r, gs.clip) for r in rects) if r is not None]
                    )
                alpha = _alpha(gs.fill_alpha)
                for x, y, w, h in rects:
                    rect = Rect(x, y, w, h, fill_colour, alpha)
                    # adjoining sides of a border both draw the corner square: once is enough
                    if not (out.objects and out.objects[-1] == rect):
                        out.objects.append(rect)
                return
        segments = []
        for item in path:
            if item[0] == "C":
                segments.append(("C",))
            else:
                pts = item[1:]
                mapped: list[float] = []
                for i in range(0, len(pts), 2):
                    mapped += _apply(gs.ctm, pts[i], pts[i + 1])
                segments.append((item[0], *mapped))
        scale = math.sqrt(abs(gs.ctm[0] * gs.ctm[3] - gs.ctm[1] * gs.ctm[2]))
        dash = [v * scale for v in gs.dash] if gs.dash else None
        out.objects.append(
            Shape(
                segments,
                fill_colour,
                stroke_colour,
                even_odd,
                gs.line_width * scale,
                _alpha(gs.fill_alpha if fill else gs.stroke_alpha),
                gs.cap,
                gs.join,
                dash,
            )
        )

    def show(self, out: Page, gs: _State, items: list) -> None:
        import pikepdf

        font = gs.font
        if font is None:
            return
        size, hscale = gs.font_size, gs.hscale
        glyphs: list[Glyph] = []
        trm0 = None
        for item in items:
            if isinstance(item, pikepdf.String):
                raw = bytes(item)
                for i in range(0, len(raw) - 1, 2):
                    code = raw[i] << 8 | raw[i + 1]
                    trm = _mul((size * hscale, 0, 0, size, 0, gs.rise), _mul(gs.tm, gs.ctm))
                    trm0 = trm0 or trm
                    x, y = trm[4], trm[5]
                    width = font.widths.get(code, font.default_width) / 1000
                    tx = (width * size + gs.char_spacing) * hscale
                    end = _apply(_mul(gs.tm, gs.ctm), tx, 0)
                    start = _apply(_mul(gs.tm, gs.ctm), 0, 0)
                    advance = math.hypot(end[0] - start[0], end[1] - start[1])
                    glyphs.append(Glyph(x, y, code, advance))
                    gs.tm = _mul((1, 0, 0, 1, tx, 0), gs.tm)
            else:
                tx = -float(item) / 1000 * size * hscale
                gs.tm = _mul((1, 0, 0, 1, tx, 0), gs.tm)

        # A space at either end of a text object draws nothing, and XML readers that trim text
        # would lose it and shift every position after it: leave it out (the spaces between
        # characters stay).
        def blank(glyph: Glyph) -> bool:
            text = font.to_unicode.get(glyph.code, "")
            return bool(text) and text.isspace()

        while glyphs and blank(glyphs[-1]):
            glyphs.pop()
        while glyphs and blank(glyphs[0]):
            glyphs.pop(0)
        if not glyphs or trm0 is None:  # trm0 is the first glyph's: set when there is one
            return
        a, b, c, d = trm0[:4]
        if abs(b) > 1e-6 or abs(c) > 1e-6 or a <= 0 or d >= 0:
            self.unsupported.add("rotated or mirrored text")
            return
        render = gs.render % 4
        fill = gs.fill if render in (0, 2) else None
        stroke = gs.stroke if render in (1, 2) else None
        scale = math.sqrt(abs(gs.ctm[0] * gs.ctm[3] - gs.ctm[1] * gs.ctm[2]))
        alpha = _alpha(gs.fill_alpha if render != 1 else gs.stroke_alpha)
        text = Text(font, -d, glyphs, fill, stroke, gs.line_width * scale, alpha, hscale=a / -d)
        text.invisible = render == 3
        out.objects.append(text)


@dataclass
class _State:
    ctm: tuple = IDENTITY
    fill: tuple | None = (0, 0, 0)
    stroke: tuple | None = (0, 0, 0)
    fill_alpha: float = 1.0
    stroke_alpha: float = 1.0
    line_width: float = 1.0
    cap: str = "Butt"
    join: str = "Miter"
    dash: list | None = None
    clip: tuple | None = None
    font: Font | None = None
    font_size: float = 0.0
    char_spacing: float = 0.0
    word_spacing: float = 0.0
    hscale: float = 1.0
    leading: float = 0.0
    rise: float = 0.0
    render: int = 0
    tm: tuple = IDENTITY
    tlm: tuple = IDENTITY

    def copy(self) -> _State:
        return _State(**self.__dict__)


def _colour(operands: Iterable[PdfObject], op: str) -> tuple | None:
    values = []
    for v in operands:
        try:
            values.append(float(v))
        except (TypeError, ValueError):
            return None  # a pattern name
    if len(values) == 1:
        g = round(values[0] * 255)
        return (g, g, g)
    if len(values) == 3:
        return tuple(round(v * 255) for v in values)
    if len(values) == 4:
        c, m, y, k = values
        return tuple(round(255 * (1 - min(1.0, v + k))) for v in (c, m, y))
    return (0, 0, 0)


def _alpha(value: float) -> int:
    return max(0, min(255, round(value * 255)))


def _image_matrix(ctm: tuple) -> tuple:
    """The OFD matrix taking an image's unit square (origin top-left, y down) to page mm, from
    the PDF's, which takes the unit square (origin bottom-left, y up) there."""
    a, b, c, d, e, f = ctm
    return (a, b, -c, -d, c + e, d + f)


def _points(path: list, ctm: tuple) -> list[list[tuple[float, float]]]:
    subpaths: list[list[tuple[float, float]]] = []
    for item in path:
        if item[0] == "M":
            subpaths.append([_apply(ctm, item[1], item[2])])
        elif item[0] == "L" and subpaths:
            subpaths[-1].append(_apply(ctm, item[1], item[2]))
        elif item[0] == "B":
            return []
    return subpaths


def _axis_rect(points: list[tuple[float, float]]) -> tuple | None:
    """The (x0, y0, x1, y1) of a closed polygon that is an axis-aligned rectangle, else None."""
    pts = list(points)
    if len(pts) == 5 and _close(pts[0], pts[-1]):
        pts = pts[:4]
    if len(pts) != 4:
        return None
    for p, q in zip(pts, pts[1:] + pts[:1]):
        if not (abs(p[0] - q[0]) < 1e-6 or abs(p[1] - q[1]) < 1e-6):
            return None
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    return (min(xs), min(ys), max(xs), max(ys))


def _close(p: tuple[float, float], q: tuple[float, float]) -> bool:
    return abs(p[0] - q[0]) < 1e-6 and abs(p[1] - q[1]) < 1e-6


def _rectangles(path: list, ctm: tuple, even_odd: bool) -> list[tuple] | None:
    """The area a fill of axis-aligned rectangles covers, as (x, y, w, h) rectangles in page
    mm; None when the path has anything else."""
    subpaths = _points(path, ctm)
    if not subpaths:
        return None
    boxes = []
    for points in subpaths:
        box = _axis_rect(points)
        if box is None:
            return None
        if box[2] - box[0] > 1e-9 and box[3] - box[1] > 1e-9:
            boxes.append(box)
    if len(boxes) == 1:
        x0, y0, x1, y1 = boxes[0]
        return [(x0, y0, x1 - x0, y1 - y0)]
    xs = sorted({v for b in boxes for v in (b[0], b[2])})
    ys = sorted({v for b in boxes for v in (b[1], b[3])})
    rows: list[tuple] = []
    for j in range(len(ys) - 1):
        cy = (ys[j] + ys[j + 1]) / 2
        run = None
        for i in range(len(xs) - 1):
            cx = (xs[i] + xs[i + 1]) / 2
            count = sum(1 for b in boxes if b[0] < cx < b[2] and b[1] < cy < b[3])
            inside = count % 2 == 1 if even_odd else count > 0
            if inside:
                run = (run[0], xs[i + 1]) if run else (xs[i], xs[i + 1])
            elif run:
                rows.append((run[0], ys[j], run[1], ys[j + 1]))
                run = None
        if run:
            rows.append((run[0], ys[j], run[1], ys[j + 1]))
    # merge rows of equal span stacked on each other
    merged: list[list[float]] = []
    for x0, y0, x1, y1 in rows:
        for m in merged:
            if abs(m[0] - x0) < 1e-9 and abs(m[2] - x1) < 1e-9 and abs(m[3] - y0) < 1e-9:
                m[3] = y1
                break
        else:
            merged.append([x0, y0, x1, y1])
    return [(x0, y0, x1 - x0, y1 - y0) for x0, y0, x1, y1 in merged]


def _clip_rect(path: list, ctm: tuple, previous: tuple | None) -> tuple | None:
    """The clip as one rectangle (x, y, w, h) in page mm: the clip path's bounding box when it
    is one polygon of straight lines. WeasyPrint clips each side of a border to a trapezoid
    (outer edge, inner edge, mitred ends) before filling the border's ring: the box of that
    trapezoid cuts the ring to the side and its corners. A clip with curves keeps the previous
    one (OFD objects here are not clipped further)."""
    subpaths = _points(path, ctm)
    if len(subpaths) != 1 or len(subpaths[0]) < 3:
        return previous
    xs, ys = [p[0] for p in subpaths[0]], [p[1] for p in subpaths[0]]
    rect = (min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys))
    return rect if previous is None else _intersect(rect, previous)


def _merge(rects: list[tuple]) -> list[tuple]:
    """Rectangles (x, y, w, h) that continue each other, edge to edge with the same span, as
    one."""
    rects = list(rects)
    merged = True
    while merged:
        merged = False
        for i, a in enumerate(rects):
            for j, b in enumerate(rects):
                if i == j:
                    continue
                same_x = abs(a[0] - b[0]) < 1e-6 and abs(a[2] - b[2]) < 1e-6
                same_y = abs(a[1] - b[1]) < 1e-6 and abs(a[3] - b[3]) < 1e-6
                if same_x and abs(a[1] + a[3] - b[1]) < 1e-6:
                    rects[i] = (a[0], a[1], a[2], a[3] + b[3])
                elif same_y and abs(a[0] + a[2] - b[0]) < 1e-6:
                    rects[i] = (a[0], a[1], a[2] + b[2], a[3])
                else:
                    continue
                del rects[j]
                merged = True
                break
            if merged:
                break
    return rects


def _intersect(r: tuple, s: tuple) -> tuple | None:
    x0, y0 = max(r[0], s[0]), max(r[1], s[1])
    x1, y1 = min(r[0] + r[2], s[0] + s[2]), min(r[1] + r[3], s[1] + s[3])
    if x1 - x0 <= 1e-9 or y1 - y0 <= 1e-9:
        return None
    return (x0, y0, x1 - x0, y1 - y0)


# -- Fonts as OpenType files -------------------------------------------------------------------


def convert_font(font: Font, used: set[int]) -> None:
    """Give the font its program as an OpenType file with a cmap for the characters it shows:
    font.program, font.suffix, font.gid (CID → glyph id) and font.cmap (character → glyph id)."""
    import pikepdf
    from fontTools.fontBuilder import FontBuilder
    from fontTools.ttLib import TTFont, newTable

    descriptor = font.descriptor
    cid_font = font.cid_font
    if "/FontFile3" in descriptor and descriptor.FontFile3.get("/Subtype") == "/CIDFontType0C":
        from fontTools.cffLib import CFFFontSet

        cff = CFFFontSet()
        cff.decompile(io.BytesIO(descriptor.FontFile3.read_bytes()), otFont=None)
        top = cff.topDictIndex[0]
        order = list(top.charset)
        if hasattr(top, "ROS"):
            cid_of = {name: (0 if name == ".notdef" else int(name[3:])) for name in order}
        else:
            cid_of = {name: gid for gid, name in enumerate(order)}
        font.gid = {cid: order.index(name) for name, cid in cid_of.items()}
        matrix = getattr(top, "FontMatrix", [0.001])
        if hasattr(top, "FDArray") and not hasattr(top, "FontMatrix"):
            matrix = getattr(top.FDArray[0], "FontMatrix", [0.001])
        upm = round(1 / matrix[0]) if matrix[0] else 1000
        fb = FontBuilder(unitsPerEm=upm, isTTF=False)
        fb.setupGlyphOrder(order)
        table = newTable("CFF ")
        table.cff = cff
        cff.otFont = fb.font
        fb.font["CFF "] = table
        metrics = {}
        charstrings = top.CharStrings
        for name in order:
            width = font.widths.get(cid_of[name], font.default_width) * upm / 1000
            bounds = charstrings[name].calcBounds(charstrings)
            metrics[name] = (round(width), round(bounds[0]) if bounds else 0)
        font.suffix = ".otf"
        _finish_font(fb, font, order, metrics, upm, used)
    else:
        if "/FontFile2" in descriptor:
            data = descriptor.FontFile2.read_bytes()
            suffix = ".ttf"
        elif "/FontFile3" in descriptor and descriptor.FontFile3.get("/Subtype") == "/OpenType":
            data = descriptor.FontFile3.read_bytes()
            suffix = ".otf"
        else:
            raise LiandongError(f"无法生成 OFD：字体 {font.name} 没有嵌入字体程序。")
        ttfont = TTFont(io.BytesIO(data))
        order = ttfont.getGlyphOrder()
        cid_map = cid_font.get("/CIDToGIDMap")
        if isinstance(cid_map, pikepdf.Stream):
            table = cid_map.read_bytes()
            font.gid = {
                cid: table[2 * cid] << 8 | table[2 * cid + 1]
                for cid in used
                if 2 * cid + 1 < len(table)
            }
        else:
            font.gid = {cid: cid for cid in used}
        font.suffix = suffix
        fb = FontBuilder(font=ttfont)
        upm = ttfont["head"].unitsPerEm
        metrics = None
        if "hmtx" not in ttfont:
            metrics = {
                name: (round(font.widths.get(gid, font.default_width) * upm / 1000), 0)
                for gid, name in enumerate(order)
            }
        _finish_font(fb, font, order, metrics, upm, used)
    out = io.BytesIO()
    fb.font.recalcTimestamp = False  # head.modified stays what _finish_font set: no clock
    fb.font.save(out, reorderTables=True)
    font.program = out.getvalue()


def _finish_font(
    fb: FontBuilder, font: Font, order: list[str], metrics: dict | None, upm: int, used: set[int]
) -> None:
    """The cmap (each character to the glyph the PDF shows for it first, by CID) and the tables
    an OpenType font needs that the embedded program lacks."""
    cmap: dict[int, str] = {}
    for cid in sorted(used):
        text = font.to_unicode.get(cid, "")
        gid = font.gid.get(cid)
        if len(text) == 1 and gid is not None and gid < len(order) and ord(text) not in cmap:
            cmap[ord(text)] = order[gid]
    font.cmap = {chr(u): order.index(name) for u, name in cmap.items()}
    fb.setupCharacterMap(cmap)
    ttfont = fb.font
    if metrics is not None:
        fb.setupHorizontalMetrics(metrics)
    left, bottom, right, top = (v * upm / 1000 for v in font.bbox)
    if "hhea" not in ttfont:
        fb.setupHorizontalHeader(ascent=round(top), descent=round(bottom))
    if "name" not in ttfont:
        fb.setupNameTable(
            {
                "familyName": font.family,
                "styleName": "Bold" if font.bold else "Regular",
                "psName": re.sub(r"[^A-Za-z0-9-]", "", font.name)[:63] or "Font",
            }
        )
    if "OS/2" not in ttfont:
        fb.setupOS2(
            sTypoAscender=round(top),
            sTypoDescender=round(bottom),
            usWinAscent=round(top),
            usWinDescent=round(-bottom),
            usWeightClass=700 if font.bold else 400,
            fsType=0,
        )
    if "post" not in ttfont:
        fb.setupPost()
    if "maxp" not in ttfont:
        fb.setupMaxp()
    if "head" in ttfont:
        ttfont["head"].created = ttfont["head"].modified = 0
    if "CFF " in ttfont and "head" in ttfont:
        ttfont["head"].xMin, ttfont["head"].yMin = round(left), round(bottom)
        ttfont["head"].xMax, ttfont["head"].yMax = round(right), round(top)


# -- Writing the package -----------------------------------------------------------------------


@dataclass
class Metadata:
    title: str = ""
    author: str = ""
    subject: str = ""
    keywords: tuple[str, ...] = ()
    created: str = ""  # xs:date, with its time zone: 2024-08-30+08:00
    creator: str = "liandong"
    creator_version: str = ""


def metadata_from_pdf(pdf: pikepdf.Pdf) -> Metadata:
    from liandong import __version__
    from liandong.metadata import parse_pdf_date

    info = pdf.docinfo

    def text(key: str) -> str:
        return str(info[key]) if key in info else ""

    created = ""
    parsed = parse_pdf_date(text("/CreationDate")) if text("/CreationDate") else None
    if parsed is not None:
        xmp = parsed[1]
        match = re.fullmatch(r"(\d{4}-\d{2}-\d{2})(?:T[\d:]+)?(Z|[+-]\d{2}:\d{2})?", xmp)
        if match:
            created = match.group(1) + (match.group(2) or "")
    keywords = tuple(k.strip() for k in re.split(r"[,，]", text("/Keywords")) if k.strip())
    return Metadata(
        text("/Title"),
        text("/Author"),
        text("/Subject"),
        keywords,
        created,
        "liandong",
        __version__,
    )


class _Ids:
    def __init__(self) -> None:
        self.last = 0

    def next(self) -> str:
        self.last += 1
        return str(self.last)


def _element(parent: Element, tag: str, text: str | None = None, **attrs: str | None) -> Element:
    el = etree.SubElement(parent, _q(tag), {k: v for k, v in attrs.items() if v is not None})
    if text is not None:
        el.text = text
    return el


def _root(tag: str, **attrs: str | None) -> Element:
    return etree.Element(
        _q(tag), {k: v for k, v in attrs.items() if v is not None}, nsmap={"ofd": NS}
    )


def _xml(root: Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _box(x: float, y: float, w: float, h: float) -> str:
    return " ".join(_num(v) for v in (x, y, w, h))


def _rgb(colour: tuple) -> str:
    return " ".join(str(int(v)) for v in colour)


def _delta(values: list[float]) -> str:
    """DeltaX as GB/T 33190 writes it, runs of three or more equal values as "g N value"."""
    out: list[str] = []
    i = 0
    texts = [_num(v) for v in values]
    while i < len(texts):
        j = i
        while j < len(texts) and texts[j] == texts[i]:
            j += 1
        if j - i >= 3:
            out += ["g", str(j - i), texts[i]]
        else:
            out += texts[i:j]
        i = j
    return " ".join(out)


def write_package(
    pages: list[Page], fonts: list[Font], media: list[Media], meta: Metadata, profile: bytes | None
) -> bytes:
    ids = _Ids()
    files: list[tuple[str, bytes]] = []

    # resources first, so that pages refer to known IDs
    cs_id = ids.next() if profile is not None else None
    font_ids = {font.key: ids.next() for font in fonts}
    media_ids = {m.key: ids.next() for m in media}

    public = _root("Res", BaseLoc="Res")
    if cs_id is not None:
        spaces = _element(public, "ColorSpaces")
        _element(
            spaces, "ColorSpace", ID=cs_id, Type="RGB", BitsPerComponent="8", Profile="sRGB.icc"
        )
    if fonts:
        fonts_el = _element(public, "Fonts")
        for n, font in enumerate(fonts, 1):
            el = _element(
                fonts_el,
                "Font",
                ID=font_ids[font.key],
                FontName=font.name,
                FamilyName=font.family,
                Bold="true" if font.bold else None,
                Italic="true" if font.italic else None,
                Serif="true" if font.serif else None,
                FixedWidth="true" if font.fixed else None,
            )
            name = f"font_{n}{font.suffix}"
            _element(el, "FontFile", name)
            files.append((f"Doc_0/Res/{name}", font.program))
    document_res = _root("Res", BaseLoc="Res")
    if media:
        medias = _element(document_res, "MultiMedias")
        for n, m in enumerate(media, 1):
            name = f"image_{n}.{'jpg' if m.format == 'JPEG' else 'png'}"
            el = _element(medias, "MultiMedia", ID=media_ids[m.key], Type="Image", Format=m.format)
            _element(el, "MediaFile", name)
            files.append((f"Doc_0/Res/{name}", m.data))
    if profile is not None:
        files.append(("Doc_0/Res/sRGB.icc", profile))

    page_entries = []
    for index, page in enumerate(pages):
        page_id = ids.next()
        root = _root("Page")
        area = _element(root, "Area")
        _element(area, "PhysicalBox", _box(0, 0, page.width, page.height))
        if page.bleed is not None:
            _element(area, "BleedBox", _box(*page.bleed))
        content = _element(root, "Content")
        layer = _element(content, "Layer", ID=ids.next(), Type="Body")
        for obj in page.objects:
            _write_object(layer, obj, ids, font_ids, media_ids)
        loc = f"Pages/Page_{index}/Content.xml"
        page_entries.append((page_id, loc, _xml(root)))

    document = _root("Document")
    common = _element(document, "CommonData")
    _element(common, "MaxUnitID", str(ids.last))
    first = pages[0] if pages else Page(210, 297, None)
    area = _element(common, "PageArea")
    _element(area, "PhysicalBox", _box(0, 0, first.width, first.height))
    _element(common, "PublicRes", "PublicRes.xml")
    _element(common, "DocumentRes", "DocumentRes.xml")
    if cs_id is not None:
        _element(common, "DefaultCS", cs_id)
    pages_el = _element(document, "Pages")
    for page_id, loc, _ in page_entries:
        _element(pages_el, "Page", ID=page_id, BaseLoc=loc)

    ofd = _root("OFD", Version="1.0", DocType="OFD")
    body = _element(ofd, "DocBody")
    info = _element(body, "DocInfo")
    doc_id = uuid.uuid5(uuid.NAMESPACE_URL, "liandong:" + meta.author + "/" + meta.title).hex
    _element(info, "DocID", doc_id)
    if meta.title:
        _element(info, "Title", meta.title)
    if meta.author:
        _element(info, "Author", meta.author)
    if meta.subject:
        _element(info, "Subject", meta.subject)
    if meta.created:
        _element(info, "CreationDate", meta.created)
        _element(info, "ModDate", meta.created)
    if meta.keywords:
        keywords = _element(info, "Keywords")
        for keyword in meta.keywords:
            _element(keywords, "Keyword", keyword)
    _element(info, "Creator", meta.creator)
    if meta.creator_version:
        _element(info, "CreatorVersion", meta.creator_version)
    _element(body, "DocRoot", "Doc_0/Document.xml")

    entries = [
        ("OFD.xml", _xml(ofd)),
        ("Doc_0/Document.xml", _xml(document)),
        ("Doc_0/PublicRes.xml", _xml(public)),
        ("Doc_0/DocumentRes.xml", _xml(document_res)),
    ]
    entries += [(f"Doc_0/{loc}", data) for _, loc, data in page_entries]
    entries += files
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in entries:
            item = zipfile.ZipInfo(name, ZIP_TIME)
            item.compress_type = zipfile.ZIP_DEFLATED
            item.external_attr = 0o644 << 16
            item.create_system = 3
            archive.writestr(item, data)
    return out.getvalue()


def _write_object(
    layer: Element, obj: Text | Shape | Rect | Picture, ids: _Ids, font_ids: dict, media_ids: dict
) -> None:
    if isinstance(obj, Text):
        _write_text(layer, obj, ids, font_ids)
    elif isinstance(obj, Rect):
        el = _element(
            layer,
            "PathObject",
            ID=ids.next(),
            Boundary=_box(obj.x, obj.y, obj.w, obj.h),
            Alpha=str(obj.alpha) if obj.alpha != 255 else None,
            Stroke="false",
            Fill="true",
        )
        _element(el, "FillColor", Value=_rgb(obj.fill))
        _element(
            el,
            "AbbreviatedData",
            f"M 0 0 L {_num(obj.w)} 0 L {_num(obj.w)} {_num(obj.h)} L 0 {_num(obj.h)} C",
        )
    elif isinstance(obj, Shape):
        xs = [v for s in obj.segments if s[0] != "C" for v in s[1::2]]
        ys = [v for s in obj.segments if s[0] != "C" for v in s[2::2]]
        if not xs:
            return
        pad = obj.line_width / 2 if obj.stroke is not None else 0
        x0, y0 = min(xs) - pad, min(ys) - pad
        w, h = max(xs) + pad - x0, max(ys) + pad - y0
        data = []
        for s in obj.segments:
            if s[0] == "C":
                data.append("C")
            else:
                coords = [(s[i] - x0) if i % 2 else (s[i] - y0) for i in range(1, len(s))]
                data.append(" ".join([s[0], *(_num(v) for v in coords)]))
        el = _element(
            layer,
            "PathObject",
            ID=ids.next(),
            Boundary=_box(x0, y0, w, h),
            LineWidth=_num(obj.line_width, 4) if obj.stroke is not None else None,
            Cap=obj.cap if obj.cap != "Butt" else None,
            Join=obj.join if obj.join != "Miter" else None,
            DashPattern=" ".join(_num(v) for v in obj.dash) if obj.dash else None,
            Alpha=str(obj.alpha) if obj.alpha != 255 else None,
            Stroke="true" if obj.stroke is not None else "false",
            Fill="true" if obj.fill is not None else "false",
            Rule="Even-Odd" if obj.even_odd and obj.fill is not None else None,
        )
        if obj.stroke is not None:
            _element(el, "StrokeColor", Value=_rgb(obj.stroke))
        if obj.fill is not None:
            _element(el, "FillColor", Value=_rgb(obj.fill))
        _element(el, "AbbreviatedData", " ".join(data))
    elif isinstance(obj, Picture):
        a, b, c, d, e, f = obj.matrix
        corners = [(e, f), (a + e, b + f), (c + e, d + f), (a + c + e, b + d + f)]
        x0, y0 = min(p[0] for p in corners), min(p[1] for p in corners)
        x1, y1 = max(p[0] for p in corners), max(p[1] for p in corners)
        ctm = (a, b, c, d, e - x0, f - y0)
        _element(
            layer,
            "ImageObject",
            ID=ids.next(),
            Boundary=_box(x0, y0, x1 - x0, y1 - y0),
            CTM=" ".join(_num(v, 4) for v in ctm),
            ResourceID=media_ids[obj.image.key],
            Alpha=str(obj.alpha) if obj.alpha != 255 else None,
        )


def _write_text(layer: Element, text: Text, ids: _Ids, font_ids: dict) -> None:
    font, size = text.font, text.size
    chars: list[str] = []
    transforms: list[tuple[int, int, int]] = []  # code position, code count, glyph id
    xs: list[float] = []
    for glyph in text.glyphs:
        unicode = font.to_unicode.get(glyph.code, "")
        gid = font.gid.get(glyph.code, 0)
        if not unicode:
            unicode = " "
        position = len(chars)
        if len(unicode) != 1 or font.cmap.get(unicode) != gid:
            transforms.append((position, len(unicode), gid))
        for ch in unicode:
            chars.append(ch)
            xs.append(glyph.x)
    left, bottom, right, top = (v / 1000 * size for v in font.bbox)
    baseline = text.glyphs[0].y
    last = text.glyphs[-1]
    x0 = min(g.x for g in text.glyphs) + min(0.0, left)
    x1 = max(last.x + last.advance, max(g.x for g in text.glyphs) + right)
    y0, y1 = baseline - top, baseline - bottom
    stroke_pad = text.line_width / 2 if text.stroke is not None else 0
    x0, y0, x1, y1 = x0 - stroke_pad, y0 - stroke_pad, x1 + stroke_pad, y1 + stroke_pad
    rounded = [round(x - x0, 3) for x in xs]
    el = _element(
        layer,
        "TextObject",
        ID=ids.next(),
        Boundary=_box(x0, y0, x1 - x0, y1 - y0),
        Font=font_ids[font.key],
        Size=_num(size, 4),
        CTM=f"{_num(text.hscale, 5)} 0 0 1 0 0" if abs(text.hscale - 1) > 1e-4 else None,
        LineWidth=_num(text.line_width, 4) if text.stroke is not None else None,
        Alpha=str(text.alpha) if text.alpha != 255 else None,
        Stroke="true" if text.stroke is not None else None,
        Fill="false" if text.fill is None else None,
        Visible="false" if text.invisible else None,
    )
    if text.fill is not None:
        _element(el, "FillColor", Value=_rgb(text.fill))
    if text.stroke is not None:
        _element(el, "StrokeColor", Value=_rgb(text.stroke))
    for position, count, gid in transforms:
        cg = _element(
            el, "CGTransform", CodePosition=str(position), CodeCount=str(count), GlyphCount="1"
        )
        _element(cg, "Glyphs", str(gid))
    deltas = [b - a for a, b in itertools.pairwise(rounded)]
    if abs(text.hscale - 1) > 1e-4:
        rounded = [v / text.hscale for v in rounded]
        deltas = [v / text.hscale for v in deltas]
    _element(
        el,
        "TextCode",
        "".join(chars),
        X=_num(rounded[0]),
        Y=_num(baseline - y0),
        DeltaX=_delta(deltas) if deltas else None,
    )


# -- The whole conversion ----------------------------------------------------------------------

SKIPPED = {
    "sh": "渐变",
    "BI": "内嵌图片",
    "d0": "Type 3 字体",
    "d1": "Type 3 字体",
    "image mask": "图片蒙版",
    "rotated or mirrored text": "旋转或镜像的文字",
}
"""What the OFD leaves out, as the warning names it."""


def pdf_to_ofd(data: bytes) -> bytes:
    """The OFD package drawing what the PDF draws, page by page.

    Raises LiandongError (in Chinese) for what it cannot carry over."""
    import pikepdf

    with pikepdf.open(io.BytesIO(data)) as pdf:
        reader = Reader(pdf)
        pages = [reader.page(page) for page in pdf.pages]
        used: dict[tuple, set[int]] = {}
        for page in pages:
            for obj in page.objects:
                if isinstance(obj, Text):
                    used.setdefault(obj.font.key, set()).update(g.code for g in obj.glyphs)
        fonts = [font for font in reader.fonts.values() if font.key in used]
        for font in fonts:
            convert_font(font, used[font.key])
        profile = None
        for intent in pdf.Root.get("/OutputIntents", []):
            stream = intent.get("/DestOutputProfile")
            if stream is not None and int(stream.get("/N", 0)) == 3:
                profile = stream.read_bytes()
                break
        if reader.unsupported:
            shown = sorted(SKIPPED.get(what, what) for what in reader.unsupported)
            logger.warning(
                "生成 OFD 时略去了 PDF 里的%s：OFD 的这些地方与 PDF 不同。", "、".join(shown)
            )
        meta = metadata_from_pdf(pdf)
        return write_package(pages, fonts, list(reader.media.values()), meta, profile)
