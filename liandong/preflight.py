"""Preflight a built PDF the way a print shop would, before it is published."""

from __future__ import annotations

import functools
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from liandong.errors import display_path, printable
from liandong.fonts import ResolvedFont
from liandong.page import MM, Layout

if TYPE_CHECKING:
    import pikepdf
    import pypdfium2

    from liandong.tags import PdfObject

TRIM_TOLERANCE = 0.5 * MM
"""A4 within half a millimetre: PDF boxes are in pt, rounded by the writer."""

AREA_TOLERANCE = 1.0 * MM
"""Glyph boxes may reach this far past the text area (accents, punctuation ink) and still pass."""

BANJI_ANCHOR = "banji"
"""The 版记 is found by structure, not by its words: its element's id, which WeasyPrint writes
as a named destination (page and top edge) in the PDF."""

FOLIO = re.compile(r"—\d+—")
"""The page number, the only text printed outside the text area by design."""


@dataclass
class Check:
    """One check of the report: its name, and what went wrong, page by page."""

    title: str
    errors: dict[str, list[int]] = field(default_factory=dict)
    warning: bool = False  # a failed warning-only check does not fail the preflight

    def fail(self, message: str, page: int | None = None) -> None:
        pages = self.errors.setdefault(message, [])
        if page is not None and page not in pages:
            pages.append(page)

    @property
    def passed(self) -> bool:
        return not self.errors

    def lines(self) -> list[str]:
        if self.passed:
            return [f"  ✓ {self.title}"]
        mark = "!" if self.warning else "✗"
        result = []
        for message, pages in self.errors.items():
            where = f"第 {'、'.join(str(p) for p in pages)} 页：" if pages else ""
            result.append(f"  {mark} {where}{message}")
        return result


@dataclass
class Report:
    name: str
    pages: int
    checks: list[Check]

    @property
    def ok(self) -> bool:
        return all(check.passed or check.warning for check in self.checks)

    @property
    def warnings(self) -> list[str]:
        return [
            line.strip()[2:]
            for check in self.checks
            if check.warning
            for line in check.lines()
            if not check.passed
        ]

    def text(self) -> str:
        lines = [f"预检 {self.name}（共 {self.pages} 页）"]
        for check in self.checks:
            lines += check.lines()
        errors = sum(len(c.errors) for c in self.checks if not c.warning)
        lines.append("预检通过。" if self.ok else f"预检未通过：共 {errors} 处错误。")
        return "\n".join(lines)


def preflight(
    data: bytes, fonts: dict[str, ResolvedFont], name: str = "PDF", layout: Layout | None = None
) -> Report:
    """Check a PDF's bytes against the 联络动态 page; `fonts` are the resolved roles."""
    import pikepdf
    import pypdfium2

    L = layout or Layout()
    trim = Check("成品尺寸（裁切框）为 A4")
    embedded = Check("字体全部嵌入")
    roles = Check("字体都是字体角色所定的字体")
    notdef = Check("没有缺字（.notdef 空字形）")
    area = Check("文字都在版心之内（页码除外）")
    banji = Check("版记在最后一页版心底部")
    even = Check("页数为双数", warning=True)
    checks = [trim, embedded, roles, notdef, area, banji, even]

    try:
        pdf = pikepdf.open(io.BytesIO(data))
    except pikepdf.PdfError:
        return _unreadable(name)
    try:
        over = over_limits(pdf)
    except pikepdf.PdfError:
        pdf.close()
        return _unreadable(name)
    if over is not None:
        pdf.close()
        limited = Check("在预检的上限之内")
        limited.fail(over)
        return Report(name, 0, [limited])
    try:
        document = pypdfium2.PdfDocument(data)
    except pypdfium2.PdfiumError:
        pdf.close()
        return _unreadable(name)

    allowed = sorted({font.pdf_name for font in fonts.values()})
    known = set(allowed).union(*(_face_names(font.file, font.index) for font in fonts.values()))
    # A project font: messages add its file to the name it carries in the PDF.
    shown = {
        font.pdf_name: f"{font.pdf_name}（fonts/{display_path(font.file.name)}）"
        for font in fonts.values()
        if font.origin == "fonts/"
    }
    pages = len(pdf.pages)
    used: dict = {}  # font object id -> (font dictionary, {page: glyph codes printed})
    try:
        anchor = _destination(pdf, BANJI_ANCHOR)
        for number, (page, fpage) in enumerate(zip(pdf.pages, document), start=1):
            box = [float(v) for v in page.obj.get("/TrimBox", page.mediabox)]
            x0, x1 = sorted((box[0], box[2]))
            y0, y1 = sorted((box[1], box[3]))
            width, height = x1 - x0, y1 - y0
            if (
                abs(width - L.page_width) > TRIM_TOLERANCE
                or abs(height - L.page_height) > TRIM_TOLERANCE
            ):
                trim.fail(
                    f"成品尺寸为 {width / MM:.1f} × {height / MM:.1f} mm，不是 A4（210 × 297 mm）",
                    number,
                )
            _check_fonts(page, number, used)
            left = x0 + (L.binding if number % 2 else L.outer)
            top = y1 - L.top
            banji_top = anchor[1] if anchor and anchor[0] == number else None
            _check_area(
                fpage,
                number,
                (left, top - L.text_height, left + L.text_width, top),
                area,
                banji_top,
                banji,
                L,
            )
        _check_font_files(used, allowed, known, embedded, roles, notdef, shown)
    except (pikepdf.PdfError, pypdfium2.PdfiumError):
        return _unreadable(name)
    finally:
        document.close()
        pdf.close()

    if anchor is None:
        banji.fail(f'找不到版记（模板里 id="{BANJI_ANCHOR}" 的版记元素）')
    elif anchor[0] != pages:
        banji.fail(f"版记不在最后一页：在第 {anchor[0]} 页，全文共 {pages} 页")
    if pages % 2:
        even.fail(f"共 {pages} 页，是单数：双面印刷时最后一页的背面是空白页（仅提示）")
    return Report(name, pages, checks)


def _unreadable(name: str) -> Report:
    """qpdf's and PDFium's own reasons are English and technical: the editor is told what it
    means (-v shows nothing more: the file is simply not a sound PDF)."""
    broken = Check("文件是可读的 PDF")
    broken.fail("无法读取：文件已损坏，或不是 PDF 文件")
    return Report(name, 0, [broken])


_PASSTHROUGH = {"/ASCIIHexDecode", "/AHx", "/ASCII85Decode", "/A85"}
"""Filters whose output is no longer than their input: counted at their input's size."""


def over_limits(pdf: pikepdf.Pdf, what: str = "预检") -> str | None:
    """Why this PDF is too large to read (in Chinese, ending with 未 `what`: the step that was
    not done), or None: pages, objects, and the decoded size of every stream but images, measured
    in pieces before anything is parsed. Preflight and `liandong import` share it."""
    import pikepdf

    from liandong import limits

    action = f"未{what}"
    if len(pdf.pages) > limits.PDF_PAGES:
        return f"共 {len(pdf.pages)} 页，超过 {limits.PDF_PAGES} 页的上限（limits.PDF_PAGES），{action}"
    objects = len(pdf.objects)
    if objects > limits.PDF_OBJECTS:
        return (
            f"有 {objects} 个对象，超过 {limits.PDF_OBJECTS} 个的上限（limits.PDF_OBJECTS），"
            f"{action}"
        )
    left = limits.PDF_DECODED_BYTES
    too_big = (
        f"内容解压后超过 {limits.PDF_DECODED_BYTES // (1024 * 1024)} MB 的上限"
        f"（limits.PDF_DECODED_BYTES）：不像是一期简报，可能是恶意构造的文件，{action}"
    )
    for obj in pdf.objects:
        if not isinstance(obj, pikepdf.Stream) or obj.get("/Subtype") == "/Image":
            continue
        size = _decoded_size(obj, left)
        if size is None:
            return (
                f"用了{what}不支持的压缩方式（"
                + "、".join(str(f) for f in _filters(obj))
                + f"），{action}"
            )
        left -= size
        if left < 0:
            return too_big
    return None


def _filters(stream: PdfObject) -> list[str]:
    import pikepdf

    value = stream.get("/Filter")
    if value is None:
        return []
    return [str(f) for f in value] if isinstance(value, pikepdf.Array) else [str(value)]


def _decoded_size(stream: PdfObject, limit: int) -> int | None:
    """The stream's decoded length, or limit + 1 once it is known to exceed limit; None for a
    filter whose output cannot be measured without decoding it whole (LZW, images' codecs)."""
    import zlib

    data = stream.read_raw_bytes()
    filters = _filters(stream)
    if all(name in _PASSTHROUGH for name in filters) and len(filters) <= 1:
        return len(data)
    if filters not in (["/FlateDecode"], ["/Fl"]):
        return None  # chains (A85 then Flate, Flate over Flate), LZW: never liandong's
    inflate = zlib.decompressobj()
    total = 0
    try:
        for start in range(0, len(data), 1 << 16):
            piece = data[start : start + (1 << 16)]
            while piece:
                chunk = inflate.decompress(piece, 1 << 20)
                total += len(chunk)
                if total > limit:
                    return limit + 1
                piece = inflate.unconsumed_tail
    except zlib.error:
        return total  # damaged: what qpdf decodes of it is no more than this
    return total


@functools.cache
def _face_names(file: Path, index: int) -> frozenset[str]:
    """Every family and full name a face has, in every language, as a PDF font name spells it.

    Pango names an installed font by fontconfig's first family, which may be the English name
    (FangSong_GB2312) of a role resolved by its Chinese one (仿宋_GB2312): both are the role's."""
    from fontTools.ttLib import TTFont, TTLibError

    from liandong.fonts import installed_faces

    # fontconfig's list is already read (and cached) by resolve_fonts: no font file opened.
    listed = {
        name
        for face in installed_faces()
        if face.file == file and face.index == index
        for name in face.families
    }
    if listed:
        return frozenset(name.replace(" ", "-") for name in listed)
    try:
        names = TTFont(file, fontNumber=index, lazy=True)["name"].names
        found = {
            str(record.toUnicode()).strip() for record in names if record.nameID in (1, 4, 6, 16)
        }
    except (TTLibError, OSError, KeyError, UnicodeDecodeError):
        return frozenset()
    return frozenset(name.replace(" ", "-") for name in found if name)


def _font_name(font: PdfObject) -> str:
    try:
        name = str(font.get("/BaseFont", "/?"))
    except (UnicodeDecodeError, ValueError):
        name = "/?"
    return printable(name[1:].split("+", 1)[-1])


def _descriptor(font):
    if font.get("/Subtype") == "/Type0":
        return font.DescendantFonts[0].get("/FontDescriptor")
    return font.get("/FontDescriptor")


def _check_fonts(page: pikepdf.Page, number: int, used: dict) -> None:
    """Which fonts the page prints with (by Tf), and the glyph codes it prints in each."""
    import pikepdf

    def walk(content: PdfObject, resources: PdfObject, seen: set) -> None:
        fonts = resources.get("/Font", {}) if resources is not None else {}
        current: PdfObject = None
        codes: set[int] = set()
        for instruction in pikepdf.parse_content_stream(content, "Tf Tj TJ ' \""):
            operands, op = instruction.operands, str(instruction.operator)
            if op == "Tf":
                current = fonts.get(str(operands[0]))
                if current is not None:
                    pages = used.setdefault(current.objgen, (current, {}))[1]
                    codes = pages.setdefault(number, set())
                continue
            if current is None or current.get("/Subtype") != "/Type0":
                continue
            strings = operands[0] if op == "TJ" else [operands[-1]]
            for string in strings:
                if isinstance(string, pikepdf.String):
                    data = bytes(string)
                    codes.update(
                        int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data) - 1, 2)
                    )
        xobjects = resources.get("/XObject", {}) if resources is not None else {}
        for xobject in xobjects.values():
            if xobject.get("/Subtype") == "/Form" and xobject.objgen not in seen:
                seen.add(xobject.objgen)
                walk(xobject, xobject.get("/Resources", resources), seen)

    walk(page, page.obj.get("/Resources"), set())


def _check_font_files(
    used: dict,
    allowed: list[str],
    known: set[str],
    embedded: Check,
    roles: Check,
    notdef: Check,
    shown: dict[str, str],
) -> None:
    """Each font that prints something: embedded, one of the resolved roles' families, and no
    glyph it lacks (.notdef). `shown` names a project font's file beside its private name."""
    allowed = [shown.get(family, family) for family in allowed]
    for font, codes in used.values():
        raw = _font_name(font)
        name = shown.get(raw, raw)
        pages = sorted(codes)
        where = f"（用于第 {'、'.join(str(p) for p in pages)} 页）"
        program = None
        if font.get("/Subtype") != "/Type3":
            descriptor = _descriptor(font)
            for key in ("/FontFile", "/FontFile2", "/FontFile3"):
                if descriptor is not None and key in descriptor:
                    program = descriptor[key]
            if program is None:
                embedded.fail(f"字体 {name} 没有嵌入{where}：别的电脑和印刷厂会换成别的字体")
        if not any(raw == family or raw.startswith(family + "-") for family in known):
            roles.fail(
                f"字体 {name} 不是任何字体角色所定的字体{where}，应为 {'、'.join(allowed)} 之一："
                "多半是缺字时系统悄悄换用的字体"
            )
        if font.get("/Subtype") == "/Type0":
            missing = _missing_glyphs(font, program, codes)
            for page, chars in missing.items():
                notdef.fail(
                    f"字体 {name} 没有“{'”“'.join(chars)}”的字形，印出的是空字形（.notdef）", page
                )


def _missing_glyphs(
    font: PdfObject, program: PdfObject, codes: dict[int, set[int]]
) -> dict[int, list[str]]:
    """Codes of a CID font that print no glyph: glyph 0 (.notdef), or a glyph id past the end of
    the embedded font, which is how WeasyPrint writes a character no font has."""
    import pikepdf
    from fontTools.ttLib import TTFont, TTLibError

    from liandong.tags import to_unicode

    glyphs = None
    charset: set[int] | None = None  # the CIDs a bare CID-keyed CFF program has
    if program is not None:
        try:
            if program.get("/Subtype") == "/CIDFontType0C":
                charset = _cff_cids(program.read_bytes())
            else:
                glyphs = TTFont(io.BytesIO(program.read_bytes()), lazy=True)["maxp"].numGlyphs
        except (
            TTLibError,
            KeyError,
            IndexError,
            pikepdf.PdfError,
            OSError,
            ValueError,
            AssertionError,
        ):
            glyphs = charset = None  # unreadable: only glyph 0 is checked
    cid_map = font.DescendantFonts[0].get("/CIDToGIDMap")
    table = cid_map.read_bytes() if isinstance(cid_map, pikepdf.Stream) else None

    def gid(code: int) -> int:
        if table is None:
            return code
        if 2 * code + 1 >= len(table):
            return 0
        return int.from_bytes(table[2 * code : 2 * code + 2], "big")

    unicode = to_unicode(font)
    result = {}
    for page, page_codes in sorted(codes.items()):
        bad = sorted(
            code
            for code in page_codes
            if gid(code) == 0
            or (glyphs is not None and gid(code) >= glyphs)
            or (charset is not None and code not in charset)
        )
        if bad:
            result[page] = [printable(unicode.get(code, f"<{code:04X}>")) for code in bad]
    return result


def _cff_cids(data: bytes) -> set[int] | None:
    """The CIDs of a bare CID-keyed CFF program (its charset), or None for a name-keyed one."""
    from fontTools.cffLib import CFFFontSet

    fonts = CFFFontSet()
    fonts.decompile(io.BytesIO(data), otFont=None)
    top = fonts.topDictIndex[0]
    if not hasattr(top, "ROS"):
        return None
    return {int(name[3:]) for name in top.charset if name.startswith("cid")}


def _destination(pdf: pikepdf.Pdf, name: str) -> tuple[int, float] | None:
    """The page number and top (pt) of a named destination, from the catalog's name tree."""
    import pikepdf

    names = pdf.Root.get("/Names")
    tree = names.get("/Dests") if isinstance(names, pikepdf.Dictionary) else None
    pages = {page.obj.objgen: number for number, page in enumerate(pdf.pages, start=1)}

    def search(node: PdfObject, depth: int = 0) -> tuple[int, float] | None:
        if not isinstance(node, pikepdf.Dictionary) or depth > 32:
            return None
        entries: list[PdfObject] = list(node.get("/Names", []))
        for key, value in zip(entries[::2], entries[1::2]):
            if isinstance(key, pikepdf.String) and bytes(key) == name.encode():
                if isinstance(value, pikepdf.Dictionary):
                    value = value.get("/D")
                if (
                    isinstance(value, pikepdf.Array)
                    and len(value) >= 4
                    and value[0].objgen in pages
                ):
                    return pages[value[0].objgen], float(value[3])
        for kid in node.get("/Kids", []):
            found = search(kid, depth + 1)
            if found:
                return found
        return None

    return search(tree)


def _check_area(
    fpage: pypdfium2.PdfPage,
    number: int,
    text_area: tuple[float, float, float, float],
    area: Check,
    banji_top: float | None,
    banji: Check,
    L: Layout,
) -> None:
    """Every glyph box inside the text area, except the page number below it; on the 版记's page
    (banji_top: where its element begins), its last line at the foot of the text area."""
    left, bottom, right, top = text_area
    textpage = fpage.get_textpage()
    try:
        count = textpage.count_chars()
        text = textpage.get_text_range(0, count) if count else ""
        boxes: dict[int, tuple[float, float, float, float]] = {}
        outside: list[tuple[int, float]] = []  # char index, overshoot
        for index in range(count):
            char = text[index] if len(text) == count else textpage.get_text_range(index, 1)
            if char.isspace():
                continue
            x0, y0, x1, y1 = boxes[index] = textpage.get_charbox(index)
            over = max(left - x0, x1 - right, y1 - top, bottom - y0)
            if over > AREA_TOLERANCE:
                outside.append((index, over))

        def char_at(index: int) -> str:
            return text[index] if len(text) == count else textpage.get_text_range(index, 1)

        below = [c for c in outside if boxes[c[0]][3] <= bottom + AREA_TOLERANCE]
        stray = outside
        if FOLIO.fullmatch("".join(char_at(i) for i, _ in below)):
            stray = [c for c in outside if c not in below]
        if stray:
            # Name the first line that overflows (its text, as printed) and how many do.
            # Rows by baseline (the glyph origin), the same for every glyph of a line, where
            # the ink boxes of marks such as ” sit higher and a mark taken from another font
            # (typeset.atoms) has another ascent and descent.
            row = {i: round(_origin(textpage, i)[1]) for i in boxes}
            rows = sorted({row[i] for i, _ in stray}, reverse=True)
            first = [i for i in sorted(boxes) if row[i] == rows[0]]
            sample = "".join(char_at(i) for i in first)
            sample = sample if len(sample) <= 12 else sample[:12] + "…"
            more = f"等 {len(rows)} 行" if len(rows) > 1 else ""
            worst = max(over for _, over in stray)
            area.fail(f"“{sample}”{more}超出版心，最多 {worst / MM:.1f} mm", number)
        if banji_top is not None:
            # What prints below the 版记's top edge, inside the text area, is the 版记 (the
            # footnote area holds nothing else); its last line sits within one grid line of
            # the text area's bottom edge.
            inside = [
                box
                for box in boxes.values()
                if box[3] <= banji_top + AREA_TOLERANCE and box[1] >= bottom - AREA_TOLERANCE
            ]
            if not inside:
                banji.fail("版记是空的：版记元素里没有印出任何文字", number)
            else:
                gap = min(box[1] for box in inside) - bottom
                if gap > L.line_height:
                    banji.fail(
                        f"版记没有排在版心底部：最后一行距版心下边缘 {gap / MM:.1f} mm", number
                    )
    finally:
        textpage.close()


def _origin(textpage: pypdfium2.PdfTextPage, index: int) -> tuple[float, float]:
    """A character's origin on its baseline, in page space."""
    import ctypes

    import pypdfium2.raw as pdfium

    x, y = ctypes.c_double(), ctypes.c_double()
    pdfium.FPDFText_GetCharOrigin(textpage.raw, index, x, y)
    return x.value, y.value


def preflight_file(path: Path, fonts: dict[str, ResolvedFont]) -> Report:
    """Preflight a file: only a regular file (a pipe would never end), read only when it is
    within limits.PDF_BYTES."""
    import os
    import stat

    from liandong import limits
    from liandong.errors import os_reason

    name = display_path(path)
    refused = Check("在预检的上限之内")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        refused.fail(f"无法读取：{os_reason(exc)}")
        return Report(name, 0, [refused])
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            refused.fail("这不是普通文件（可能是管道或设备），不读取")
            return Report(name, 0, [refused])
        if info.st_size > limits.PDF_BYTES:
            refused.fail(
                f"文件有 {info.st_size / (1024 * 1024):.1f} MB，超过 "
                f"{limits.PDF_BYTES // (1024 * 1024)} MB 的上限（limits.PDF_BYTES），未预检"
            )
            return Report(name, 0, [refused])
        data = handle.read(limits.PDF_BYTES + 1)
    return preflight(data, fonts, name=name)
