"""Read a Word/WPS document (.docx) into the importer's paragraphs, with what else it holds.

python-docx reads the body in order: paragraphs with their styles (标题, 副标题, 标题 1–4) and
the face of every character (bold, and 楷体/黑体 by the East Asian font of the run), so that a
numbered phrase set in a heading face becomes a run-in heading and other bold runs **…**;
Word's own list numbering (bullets become a bulleted list, "1." numbers a numbered one, 一、
and （一） are written out as the heading numbers they are); tables (a caption 表… above or in
the Caption style; a one-row or one-column table, or one holding the masthead or the 版记, is
read as lines of text); pictures (JPEG and PNG copied as they are, GIF, BMP, TIFF and WebP
converted to PNG; a caption 图… under them).

The .docx is untrusted: its size is checked before it is read, and every part decompressed and
counted (a zip bomb) before python-docx parses it.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from liandong import limits
from liandong.errors import LiandongError, display_path

if TYPE_CHECKING:
    from docx.document import Document as DocxDocument
    from docx.oxml.xmlchemy import BaseOxmlElement
    from docx.text.paragraph import Paragraph as DocxParagraph

logger = logging.getLogger(__name__)

_KAI_HEI = re.compile(r"(?i)楷|黑|kai|hei|fzxbs|小标宋")
"""East Asian fonts of a heading face: 楷体 (（一）), 黑体 (一、), 小标宋."""

_CAPTION_STYLE = re.compile(r"(?i)caption|题注")
_TABLE_CAPTION = re.compile(r"表\s*[0-9一二三四五六七八九十]")
_FIGURE_CAPTION = re.compile(r"图\s*[0-9一二三四五六七八九十]")
_CHINESE_FORMATS = {
    "chineseCounting",
    "chineseCountingThousand",
    "ideographTraditional",
    "taiwaneseCounting",
    "taiwaneseCountingThousand",
    "chineseLegalSimplified",
    "ideographLegalTraditional",
    "ideographDigital",
    "japaneseCounting",
}
_CONVERTIBLE = {"GIF", "BMP", "TIFF", "WEBP"}
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
_R = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_V = "{urn:schemas-microsoft-com:vml}"
_WP = "{http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing}"
"""Word's XML namespaces, for the pictures (DrawingML, and VML in older files)."""
_BROKEN = "无法读取 Word 文档：文件已损坏，或不是 .docx 格式；请在 Word/WPS 中重新另存为 .docx"


@dataclass
class _Entry:
    """One thing of the document body, in order, before captions are matched."""

    kind: str  # "p", "table", "picture"
    where: str
    text: str = ""
    styled: str = ""
    style: str = ""
    number: tuple[str, int, str] | None = None
    """Word's list numbering of the paragraph: (kind "bullet"/"ordered"/"label", n, label)."""
    rows: list[list[tuple[str, str]]] = field(default_factory=list)
    data: bytes = b""
    width_mm: float | None = None


def read_docx(path: Path, name: str) -> list:
    """The importer's paragraphs (`importer.Para`) of a Word document."""
    import docx  # python-docx loads only for Word files

    from liandong.importer import read_limited

    data = io.BytesIO(read_limited(path, name, limits.DOCX_BYTES, "DOCX_BYTES"))
    check_docx_sizes(data, name)
    try:
        document = docx.Document(data)
        entries = _Reader(document, name).read()
    except LiandongError:
        raise
    except Exception as exc:  # noqa: BLE001 - zip, XML and package errors of a broken file
        logger.debug("python-docx: %r", exc)
        raise LiandongError(f"{name}: {_BROKEN}") from None
    return _paras(entries, name)


class _Reader:
    def __init__(self, document: DocxDocument, name: str):
        from docx.oxml.ns import qn

        self.document, self.name, self.qn = document, name, qn
        self.levels = _numbering(document)
        self.counters: dict[tuple[str, int], int] = {}
        self.entries: list[_Entry] = []
        self.paragraphs = 0

    def read(self) -> list[_Entry]:
        self._children(self.document.element.body)
        return self.entries

    def _children(self, parent: BaseOxmlElement) -> None:
        qn = self.qn
        for child in parent.iterchildren():
            if child.tag == qn("w:p"):
                self._paragraph(child)
            elif child.tag == qn("w:tbl"):
                self._table(child)
            elif child.tag == qn("w:sdt"):  # a content control (WPS templates): its content
                content = child.find(qn("w:sdtContent"))
                if content is not None:
                    self._children(content)

    def _where(self) -> str:
        return f"{self.name}（第 {self.paragraphs} 段）"

    def _paragraph(self, element: BaseOxmlElement) -> None:
        from docx.text.paragraph import Paragraph

        self.paragraphs += 1
        paragraph = Paragraph(element, self.document)
        style = paragraph.style.name if paragraph.style is not None else ""
        text, styled = _styled_text(paragraph, self.qn)
        for picture, width in self._pictures(element):
            self.entries.append(_Entry("picture", self._where(), data=picture, width_mm=width))
        if text.strip():
            self.entries.append(
                _Entry("p", self._where(), text, styled, style or "", self._number(paragraph))
            )

    def _number(self, paragraph: DocxParagraph) -> tuple[str, int, str] | None:
        """The paragraph's list numbering (its own, or its style's), counted as Word counts."""
        qn = self.qn
        num_pr = None
        element = paragraph._p.pPr
        if element is not None:
            num_pr = element.find(qn("w:numPr"))
        style = paragraph.style
        while num_pr is None and style is not None:
            pPr = style.element.pPr
            num_pr = pPr.find(qn("w:numPr")) if pPr is not None else None
            style = style.base_style
        if num_pr is None:
            return None
        num_id = num_pr.find(qn("w:numId"))
        ilvl = num_pr.find(qn("w:ilvl"))
        num = num_id.get(qn("w:val")) if num_id is not None else None
        level = int(ilvl.get(qn("w:val"), "0")) if ilvl is not None else 0
        if not num or num == "0" or (num, level) not in self.levels:
            return None
        fmt, pattern, start = self.levels[(num, level)]
        if fmt in ("bullet", "none"):
            return ("bullet", 0, "") if fmt == "bullet" else None
        value = self.counters.get((num, level), start - 1) + 1
        self.counters[(num, level)] = value
        for key in [k for k in self.counters if k[0] == num and k[1] > level]:
            del self.counters[key]  # a deeper level restarts under this one
        if fmt in _CHINESE_FORMATS:
            import cn2an

            shown = cn2an.an2cn(value)
        elif fmt == "decimal" or fmt == "decimalZero":
            shown = str(value)
        else:
            return None
        label = re.sub(r"%[1-9]", shown, pattern)
        if fmt == "decimal" and re.fullmatch(r"[0-9]+[.．]", label):
            return ("ordered", value, label)
        return ("label", value, label)

    def _pictures(self, element: BaseOxmlElement) -> list[tuple[bytes, float | None]]:
        """The pictures a paragraph holds (DrawingML and the older VML), with their width."""
        found = []
        drawings = [node for tag in (f"{_W}drawing", f"{_W}pict") for node in element.iter(tag)]
        for drawing in drawings:
            ids = [node.get(f"{_R}embed") for node in drawing.iter(f"{_A}blip")]
            ids += [node.get(f"{_R}id") for node in drawing.iter(f"{_V}imagedata")]
            ids = [rid for rid in ids if rid]
            extent = [node.get("cx", "") for node in drawing.iter(f"{_WP}extent")]
            width = int(extent[0]) / 36000 if extent and extent[0].isdigit() else None
            for rid in ids[:1]:
                part = self.document.part.related_parts.get(rid)
                if part is not None:
                    found.append((part.blob, width))
        return found

    def _table(self, element: BaseOxmlElement) -> None:
        from docx.table import Table

        self.paragraphs += 1
        table = Table(element, self.document)
        rows: list[list[tuple[str, str]]] = []
        seen: set = set()  # the cells' elements themselves: held, so no proxy is recycled
        merged = False
        for row in table.rows:
            cells = []
            for cell in row.cells:
                if cell._tc in seen:  # a merged cell repeats: its text once
                    cells.append(("", ""))
                    merged = True
                    continue
                seen.add(cell._tc)
                parts = [_styled_text(p, self.qn) for p in cell.paragraphs]
                cells.append(_join_styled([part for part in parts if part[0].strip()]))
            rows.append(cells)
        entry = _Entry("table", self._where(), rows=rows)
        if merged:
            entry.style = "merged"
        self.entries.append(entry)


def _numbering(document: DocxDocument) -> dict[tuple[str, int], tuple[str, str, int]]:
    """(numId, level) → (numFmt, lvlText, start) from the document's numbering part."""
    from docx.oxml.ns import qn

    try:
        root = document.part.numbering_part.element
    except (NotImplementedError, KeyError, AttributeError):
        return {}
    abstract: dict[str, dict[int, tuple[str, str, int]]] = {}
    for node in root.findall(qn("w:abstractNum")):
        levels = {}
        for lvl in node.findall(qn("w:lvl")):
            fmt = lvl.find(qn("w:numFmt"))
            text = lvl.find(qn("w:lvlText"))
            start = lvl.find(qn("w:start"))
            levels[int(lvl.get(qn("w:ilvl"), "0"))] = (
                fmt.get(qn("w:val"), "decimal") if fmt is not None else "decimal",
                text.get(qn("w:val"), "") if text is not None else "",
                int(start.get(qn("w:val"), "1")) if start is not None else 1,
            )
        abstract[node.get(qn("w:abstractNumId"))] = levels
    result = {}
    for num in root.findall(qn("w:num")):
        ref = num.find(qn("w:abstractNumId"))
        if ref is None:
            continue
        for level, value in abstract.get(ref.get(qn("w:val")), {}).items():
            result[(num.get(qn("w:numId")), level)] = value
    return result


def _styled_text(paragraph: DocxParagraph, qn: Callable[[str], str]) -> tuple[str, str]:
    """A paragraph's text (tabs as two spaces, soft line breaks as \\n) and each character's
    face: "." regular, "b" bold, "f" 楷体/黑体, "F" both."""
    text, styled = "", ""
    for item in paragraph.iter_inner_content():
        runs = item.runs if hasattr(item, "runs") else [item]
        for run in runs:
            piece = run.text.replace("\t", "  ")
            bold = (
                run.bold
                if run.bold is not None
                else bool(
                    run.style is not None and run.style.font is not None and run.style.font.bold
                )
            )
            fonts = run._r.rPr.find(qn("w:rFonts")) if run._r.rPr is not None else None
            east = fonts.get(qn("w:eastAsia"), "") if fonts is not None else ""
            other = bool(east and _KAI_HEI.search(east))
            face = ("F" if bold else "f") if other else ("b" if bold else ".")
            text += piece
            styled += face * len(piece)
    return text, styled


def _join_styled(parts: list[tuple[str, str]]) -> tuple[str, str]:
    """Pieces of text joined as source.join_lines joins lines, their faces alongside."""
    from liandong.source import join_lines

    text, styled = "", ""
    for piece, faces in parts:
        lead = len(piece) - len(piece.lstrip(" \t\u3000"))
        stripped = piece.strip(" \t\u3000")
        faces = faces[lead : lead + len(stripped)]
        joined = join_lines([text, stripped]) if text else stripped
        styled += "." * (len(joined) - len(text) - len(stripped)) + faces
        text = joined
    return text, styled


# --- Entries → paragraphs ---------------------------------------------------------------------


def _paras(entries: list[_Entry], name: str) -> list:
    from liandong.importer import (
        STYLE_HEADING,
        STYLE_SUBTITLE,
        STYLE_TITLE,
        Figure,
        Item,
        Para,
        Splitter,
        Table,
        colophon_start,
        is_masthead_line,
    )

    paras = []
    splitter = Splitter()
    used: set[int] = set()  # entries taken as captions
    figures = 0
    for index, entry in enumerate(entries):
        if index in used:
            continue
        if entry.kind == "picture":
            caption_at = _caption(entries, index + 1, _FIGURE_CAPTION)
            figures += 1
            caption = entries[caption_at].text.strip() if caption_at is not None else f"图{figures}"
            if caption_at is not None:
                used.add(caption_at)
            else:
                logger.warning("%s: 图片没有图题，已写作“%s”：请补上图题", entry.where, caption)
            image = _image(entry, figures, name)
            if image is not None:
                file, data = image
                width = entry.width_mm if entry.width_mm and entry.width_mm < 150 else None
                paras.append(
                    Para(
                        [],
                        entry.where,
                        role="figure",
                        joinable=False,
                        payload=Figure(
                            caption, file, data, max(20.0, round(width)) if width else None
                        ),
                    )
                )
            continue
        if entry.kind == "table":
            texts = [text for row in entry.rows for text, _ in row if text]
            columns = max((len(row) for row in entry.rows), default=0)
            layout = any(is_masthead_line(t) or colophon_start(t) for t in texts)
            if len(entry.rows) < 2 or columns < 2 or layout:
                # A table that lays out the masthead or the 版记, or lines: its rows as text.
                for row in entry.rows:
                    line = "  ".join(text for text, _ in row if text.strip())
                    if line:
                        paras.append(Para([line], entry.where, joinable=False))
                continue
            caption_at = _caption(entries, index - 1, _TABLE_CAPTION)
            if caption_at is not None and paras and paras[-1].where == entries[caption_at].where:
                paras.pop()  # the caption read as a paragraph just before
            if caption_at is None:
                caption_at = _caption(entries, index + 1, _TABLE_CAPTION, styled_only=True)
                if caption_at is not None:
                    used.add(caption_at)
            tables = sum(1 for p in paras if p.role == "table") + 1
            caption = entries[caption_at].text.strip() if caption_at is not None else f"表{tables}"
            if caption_at is None:
                logger.warning("%s: 表格没有表题，已写作“%s”：请补上表题", entry.where, caption)
            elif not caption.startswith("表"):
                caption = f"表{tables}　{caption}"
            if entry.style == "merged":
                logger.warning("%s: 表格有合并的单元格，已拆开（合并处留空）：请核对", entry.where)
            rows = [[(text, styled) for text, styled in row] for row in entry.rows]
            from liandong.importer import strong_runs

            paras.append(
                Para(
                    [caption],
                    entry.where,
                    role="table",
                    joinable=False,
                    payload=Table(caption, [[(t, strong_runs(s)) for t, s in row] for row in rows]),
                )
            )
            continue
        role = ""
        style = entry.style.strip()
        if STYLE_HEADING.fullmatch(style):
            role = "heading"
        elif STYLE_SUBTITLE.fullmatch(style):
            role = "subtitle"
        elif STYLE_TITLE.fullmatch(style):
            role = "title"
        text, styled = entry.text, entry.styled
        if entry.number is not None:
            kind, value, label = entry.number
            if kind == "label" or (kind == "ordered" and role == "heading"):
                text, styled = (
                    label + text.lstrip(),
                    "." * len(label) + styled[len(text) - len(text.lstrip()) :],
                )
            elif not role:
                from liandong.importer import strong_runs

                stripped, faces = _join_styled([(text, styled)])
                paras.append(
                    Para(
                        [stripped],
                        entry.where,
                        role="item",
                        joinable=False,
                        payload=Item(stripped, kind == "ordered", value, strong_runs(faces)),
                    )
                )
                continue
        pieces = text.split("\n")
        offsets, at = [], 0
        for piece in pieces:
            offsets.append((piece, styled[at : at + len(piece)]))
            at += len(piece) + 1
        lines = [
            (number, piece) for number, piece in enumerate(offsets) if piece[0].strip(" \t\u3000")
        ]
        if not lines:
            continue
        for part in splitter.split([(number, piece[0]) for number, piece in lines]):
            _, faces = _join_styled([offsets[number] for number, _ in part])
            paras.append(
                Para(
                    [piece.strip(" \t\u3000") for _, piece in part],
                    entry.where,
                    role=role,
                    joinable=False,
                    styled=faces,
                )
            )
    return paras


def _caption(
    entries: list[_Entry], index: int, pattern: re.Pattern, styled_only: bool = False
) -> int | None:
    """The entry at index when it is a caption: in the Caption style, or (unless styled_only)
    a short paragraph beginning with 表1/图1."""
    if not 0 <= index < len(entries) or entries[index].kind != "p":
        return None
    entry = entries[index]
    text = entry.text.strip()
    if _CAPTION_STYLE.search(entry.style) and text:
        return index
    if not styled_only and pattern.match(text) and len(text) <= 60 and "\n" not in text:
        return index
    return None


def _image(entry: _Entry, number: int, name: str) -> tuple[str, bytes] | None:
    """The picture as a file for the issue's folder: (file name, bytes); JPEG and PNG as they
    are, GIF, BMP, TIFF and WebP converted to PNG; None (with a notice) for anything else."""
    data = entry.data
    if data.startswith(b"\xff\xd8\xff"):
        return f"图{number}.jpg", data
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return f"图{number}.png", data
    from PIL import Image, UnidentifiedImageError

    Image.MAX_IMAGE_PIXELS = limits.IMAGE_PIXELS
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format not in _CONVERTIBLE:
                raise UnidentifiedImageError(image.format)
            out = io.BytesIO()
            converted = image.convert("RGBA" if "A" in image.getbands() else "RGB")
            converted.save(out, "PNG")
            return f"图{number}.png", out.getvalue()
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError):
        logger.warning(
            "%s: 图片不是 JPEG、PNG（也无法转换，可能是 EMF/WMF 矢量图），未导入：请在 Word "
            "中把它另存为 PNG 或 JPEG，放进这一期的文件夹，再在稿件里写上",
            entry.where,
        )
        return None


def check_docx_sizes(data: io.BytesIO, name: str) -> None:
    """Every part of the .docx decompressed, streamed and counted, before python-docx reads it:
    declared sizes and real ones within limits.DOCX_PART_BYTES and DOCX_TOTAL_BYTES, so a zip
    bomb is refused after reading at most the limits, in small pieces."""
    import zipfile

    broken = f"{name}: {_BROKEN}"
    try:
        archive = zipfile.ZipFile(data)
        members = archive.infolist()
        if len(members) > limits.DOCX_PARTS:
            raise LiandongError(
                f"{name}: Word 文档有 {len(members)} 个部分，超过 {limits.DOCX_PARTS} "
                "个的上限（limits.DOCX_PARTS）：这不像是一期简报，没有导入"
            )
        total = 0
        for member in members:
            if member.file_size > limits.DOCX_PART_BYTES:
                _too_big(name, member.filename, member.file_size, "DOCX_PART_BYTES")
            real = 0
            with archive.open(member) as part:
                while chunk := part.read(1 << 16):
                    real += len(chunk)
                    if real > min(member.file_size, limits.DOCX_PART_BYTES):
                        # More than declared: zipfile itself stops at the declared size, but
                        # a part may not claim less than it holds either.
                        _too_big(name, member.filename, real, "DOCX_PART_BYTES")
            total += real
            if total > limits.DOCX_TOTAL_BYTES:
                _too_big(name, "全部内容", total, "DOCX_TOTAL_BYTES")
    except LiandongError:
        raise
    except Exception:  # noqa: BLE001 - zip errors, CRC errors, unsupported compression
        raise LiandongError(broken) from None
    finally:
        data.seek(0)


def _too_big(name: str, part: str, size: int, which: str) -> None:
    from liandong.importer import size_shown

    limit = getattr(limits, which)
    raise LiandongError(
        f"{name}: Word 文档的 {display_path(part)} 解压后超过 {size_shown(limit)} 的上限"
        f"（limits.{which}）：文件已损坏或不是一期简报，没有导入"
    )
