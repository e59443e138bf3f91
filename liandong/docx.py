"""The issue as a Word document (.docx): the 电子版 offices pass on, opened and cut from in WPS or Word.

Written from the same context as the PDF and the web page (render.build_context), with
python-docx; raw OOXML only where python-docx has no API: the document grid (w:docGrid),
East Asian font names (w:rFonts w:eastAsia), mirrored margins, odd and even footers with a
PAGE field, outline levels, numbering definitions, the 版记's floating table, the zip's dates.

Loaded only for `build --docx` and a site whose series.yaml asks for Word files: python-docx is
not imported otherwise. The document names the fonts an office has (a .docx names fonts, it does
not embed them): the project's own family when it is a licensed one (仿宋_GB2312 …), else the
standard name of the role's typeface, with Windows' own face as the alternative name.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import zipfile
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from docx import Document
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt, Twips

from liandong import context as ctx
from liandong.fonts import FALLBACK, ROLES, ResolvedFont
from liandong.page import Layout
from liandong.render import Context
from liandong.typeset import Piece
from liandong.validate import Issue

if TYPE_CHECKING:
    from docx.oxml.xmlchemy import BaseOxmlElement as Element
    from docx.styles.style import ParagraphStyle
    from docx.text.paragraph import Paragraph
    from docx.text.run import Run

RED = "E60012"
"""The masthead's red: print.css's #e60012, the sRGB rendering of C0 M100 Y100 K0."""

ALT_NAMES = {"title": "宋体", "body": "仿宋", "kai": "楷体", "hei": "黑体", "song": "宋体"}
"""The face a Windows installation without the office's licensed fonts has for each role
(simfang, simkai, simhei, simsun): the fonts table's w:altName (font_table), an alternative
name Word and WPS may substitute when the named font is missing."""

STYLE_NAMES = {
    "title": "Heading 1",
    "subtitle": "Subtitle",
    "h1": "Heading 2",
    "h2": "Heading 3",
    "h3": "Heading 4",
    "h4": "Heading 5",
}
"""Built-in styles (Word and WPS show them localised: 标题 1 …, 副标题), so that the navigation
pane shows the structure: the article title at level 1, 一、 at 2, （一） at 3, 1. at 4, （1） at 5."""


def twips(pt: float) -> int:
    return round(pt * 20)


def line_pitch(layout: Layout) -> float:
    """One grid line in pt, rounded down to whole twips (579): 22 lines of 580 twips would
    not fit the text area, and Word would set 21."""
    return int(layout.line_height * 20) / 20


def grid_spacing(layout: Layout) -> float:
    """The letter-spacing of text on the character grid: the PDF's (28 characters of 三号 on
    156 mm: −0.21 pt), rounded down to what Word stores (twentieths of a point): −0.25 pt.

    The document grid (22 × 28, what an office's page setup shows) is defined, but the
    paragraphs keep off its character cells: LibreOffice gives a character wider than a cell
    (16 pt against 15.79) two cells, 14 characters a line, where Word squeezes it into one.
    Set 0.25 pt narrower, 28 characters fit a line in every renderer, justified to the edge."""
    return math.floor(layout.spacing * 20) / 20


def font_names(fonts: dict[str, ResolvedFont]) -> dict[str, str]:
    """The font name the document gives each role (and each 补字 font): the family the project
    prints with when it is one of the role's licensed faces, else the role's standard name
    (仿宋_GB2312, 方正小标宋简体, 楷体_GB2312, 黑体, 宋体); a 补字 font by its own family."""
    names = {}
    for role in ROLES:
        font = fonts.get(role.key)
        names[role.key] = (
            font.family if font is not None and font.family in role.families else role.families[0]
        )
        fallback = fonts.get(role.key + FALLBACK)
        if fallback is not None:
            names[role.key + FALLBACK] = fallback.family
    return names


# --- Raw OOXML helpers -----------------------------------------------------------------------


def _el(tag: str, **attrs: object) -> Element:
    element = OxmlElement(tag)
    for key, value in attrs.items():
        element.set(qn(f"w:{key}"), str(value))
    return element


def _replace(parent: Element, tag: str, child: Element | None = None) -> Element | None:
    """Remove parent's `tag` children; append child, if given, where the schema wants it
    (python-docx's insert order when it knows the element, else at the end)."""
    for old in parent.findall(qn(tag)):
        parent.remove(old)
    if child is not None:
        adder = getattr(parent, "_insert_" + tag.split(":")[1], None)
        if adder is not None:
            adder(child)
        else:
            parent.append(child)
    return child


def _rfonts(name: str) -> Element:
    return _el("w:rFonts", ascii=name, hAnsi=name, eastAsia=name, cs=name, hint="eastAsia")


def _set_run_props(
    rpr: Element,
    name: str | None = None,
    size: float | None = None,
    bold: bool | None = None,
    color: str | None = None,
    spacing: float | None = None,
) -> None:
    """Character properties in schema order (rFonts, b, color, spacing, sz, szCs)."""
    for tag in ("w:rFonts", "w:b", "w:bCs", "w:color", "w:spacing", "w:sz", "w:szCs", "w:lang"):
        for old in rpr.findall(qn(tag)):
            rpr.remove(old)
    children = []
    if name:
        children.append(_rfonts(name))
    if bold is not None:
        children += [_el("w:b", val=int(bold)), _el("w:bCs", val=int(bold))]
    if color:
        children.append(_el("w:color", val=color))
    if spacing is not None:
        children.append(_el("w:spacing", val=twips(spacing)))
    if size is not None:
        children += [_el("w:sz", val=round(size * 2)), _el("w:szCs", val=round(size * 2))]
    children.append(_el("w:lang", val="en-US", eastAsia="zh-CN", bidi="ar-SA"))
    # Keep the elements that come before rFonts (rStyle) in front.
    at = 1 if len(rpr) and rpr[0].tag == qn("w:rStyle") else 0
    for offset, child in enumerate(children):
        rpr.insert(at + offset, child)


def _ppr_children(ppr: Element, *children: Element) -> None:
    """Set paragraph properties, each put in schema order."""
    order = (
        "w:pStyle",
        "w:keepNext",
        "w:keepLines",
        "w:pageBreakBefore",
        "w:framePr",
        "w:widowControl",
        "w:numPr",
        "w:suppressLineNumbers",
        "w:pBdr",
        "w:shd",
        "w:tabs",
        "w:suppressAutoHyphens",
        "w:kinsoku",
        "w:wordWrap",
        "w:overflowPunct",
        "w:topLinePunct",
        "w:autoSpaceDE",
        "w:autoSpaceDN",
        "w:bidi",
        "w:adjustRightInd",
        "w:snapToGrid",
        "w:spacing",
        "w:ind",
        "w:contextualSpacing",
        "w:mirrorIndents",
        "w:suppressOverlap",
        "w:jc",
        "w:textDirection",
        "w:textAlignment",
        "w:textboxTightWrap",
        "w:outlineLvl",
        "w:divId",
        "w:cnfStyle",
        "w:rPr",
        "w:sectPr",
        "w:pPrChange",
    )
    rank = {qn(tag): index for index, tag in enumerate(order)}
    for child in children:
        for old in ppr.findall(child.tag):
            ppr.remove(old)
        position = len(ppr)
        for index, existing in enumerate(ppr):
            if rank.get(existing.tag, 99) > rank[child.tag]:
                position = index
                break
        ppr.insert(position, child)


def _spacing(
    line: float | None = None, before: float = 0.0, after: float = 0.0, exact: bool = True
) -> Element:
    attrs: dict[str, object] = {"before": twips(before), "after": twips(after)}
    if line is not None:
        attrs.update(line=twips(line), lineRule="exact" if exact else "auto")
    else:
        attrs.update(line=240, lineRule="auto")
    return _el("w:spacing", **attrs)


# --- The document ---------------------------------------------------------------------------


class _Writer:
    def __init__(self, issue: Issue, context: Context, fonts: dict[str, ResolvedFont]):
        self.issue, self.context = issue, context
        self.values = context.values
        self.L: Layout = context.values.layout
        self.names = font_names(fonts)
        self.doc = Document()
        self._nums = 0

    # Styles ----------------------------------------------------------------------------------
    def style(
        self,
        name: str,
        *,
        font: str = "body",
        size: float | None = None,
        bold: bool = False,
        color: str | None = None,
        align: str | None = None,
        first_indent: bool = False,
        outline: int | None = None,
        keep_next: bool = False,
        spacing: float | None = 0.0,
        line: float | None = None,
        based_on: str | None = "Normal",
    ) -> ParagraphStyle:
        """A paragraph style. Every style keeps off the character grid (w:snapToGrid 0): text
        on the grid is set 28 characters a line by its letter-spacing (grid_spacing), which
        every renderer honours the same way. spacing None inherits Normal's."""
        from docx.enum.style import WD_STYLE_TYPE

        styles = self.doc.styles
        try:
            style = styles[name]
        except KeyError:
            style = styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        if based_on and name != based_on:
            style.base_style = styles[based_on]
        style.quick_style = True
        element = style.element
        ppr = element.get_or_add_pPr()
        for child in list(ppr):
            ppr.remove(child)
        L = self.L
        children = []
        if keep_next:
            children.append(_el("w:keepNext"))
        children.append(_el("w:widowControl"))
        children += _typography()
        children.append(_el("w:snapToGrid", val=0))
        children.append(_spacing(line_pitch(L) if line is None else line))
        if first_indent:
            children.append(_el("w:ind", firstLineChars=200, firstLine=twips(2 * L.pitch)))
        else:
            children.append(_el("w:ind", firstLineChars=0, firstLine=0, left=0, right=0))
        children.append(_el("w:jc", val=align or "both"))
        if outline is not None:
            children.append(_el("w:outlineLvl", val=outline))
        _ppr_children(ppr, *children)
        rpr = element.get_or_add_rPr()
        for child in list(rpr):
            rpr.remove(child)
        _set_run_props(rpr, self.names[font], size or L.body_size, bold, color, spacing)
        return style

    def styles(self) -> None:
        L = self.L
        # Document defaults: the body face at 三号, in Chinese; no theme fonts.
        defaults = self.doc.styles.element.find(qn("w:docDefaults"))
        rpr = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
        for child in list(rpr):
            rpr.remove(child)
        _set_run_props(rpr, self.names["body"], L.body_size)
        # No automatic quarter em between Chinese and Latin or digits, no punctuation hanging
        # past the margin (both Word's defaults): the PDF sets "2024年8月30日" solid and its
        # lines within the measure, and liandong's line breaks count on it. In the defaults
        # as well as in each style: LibreOffice reads them only there.
        ppr_default = defaults.find(qn("w:pPrDefault"))
        if ppr_default is None:
            ppr_default = _el("w:pPrDefault")
            defaults.append(ppr_default)
        ppr = ppr_default.find(qn("w:pPr"))
        if ppr is None:
            ppr = _el("w:pPr")
            ppr_default.append(ppr)
        _ppr_children(ppr, *_typography())
        normal = self.style("Normal", first_indent=True, spacing=grid_spacing(L), based_on=None)
        normal.element.set(qn("w:default"), "1")
        self.style(
            "刊名",
            font="title",
            size=L.masthead_size,
            color=RED,
            align="center",
            line=self.values.print.masthead_line_height,
        )
        self.style("报头", align="center")
        self.style("编者按", font="kai", first_indent=True, spacing=None)
        self.style(
            STYLE_NAMES["title"],
            font="title",
            size=L.title_size,
            align="center",
            outline=0,
            keep_next=True,
        )
        self.style(
            STYLE_NAMES["subtitle"],
            font="kai",
            size=L.subtitle_size,
            align="center",
            keep_next=True,
        )
        faces = {"h1": "hei", "h2": "kai", "h3": "body", "h4": "body"}
        for level, kind in enumerate(("h1", "h2", "h3", "h4"), start=1):
            self.style(
                STYLE_NAMES[kind],
                font=faces[kind],
                first_indent=True,
                outline=level,
                keep_next=True,
                spacing=None,
            )
        self.style("表题", font="hei", align="center", keep_next=True)
        self.style("表格文字", size=L.table_size, align="left")
        self.style("图", align="center")
        self.style("图题", font="kai", align="center")
        self.style("列表", spacing=None)
        self.style("注", spacing=None)
        self.style("版记", size=L.banji_size, align="left", line=L.banji_line_height)
        self.style("页码", font="song", size=L.folio_size, line=self.values.print.folio_line_height)

    # Runs and paragraphs ------------------------------------------------------------------------
    def run(
        self,
        paragraph: Paragraph,
        text: str,
        style: str = "body",
        *,
        size: float | None = None,
        color: str | None = None,
        spacing: float | None = None,
    ) -> Run:
        run = paragraph.add_run(text)
        key, _, extra = style.partition("+")
        rpr = run._r.get_or_add_rPr()
        _set_run_props(
            rpr,
            self.names.get(key, self.names["body"]),
            size=size,
            bold=True if "strong" in extra else None,
            color=color,
            spacing=spacing,
        )
        return run

    def paragraph(
        self, style: str, pieces: Iterable[Piece] = (), text: str | None = None, role: str = "body"
    ) -> Paragraph:
        paragraph = self.doc.add_paragraph(style=style)
        if text is not None:
            self.run(paragraph, text, role)
        for piece in pieces:
            self.run(paragraph, piece.text, piece.style)
        return paragraph

    def masthead(self) -> None:
        L, masthead = self.L, self.values.masthead
        lh = line_pitch(L)
        name = self.doc.add_paragraph(style="刊名")
        for piece in masthead.name_pieces:
            self.run(
                name,
                piece.text,
                piece.style,
                size=L.masthead_size,
                color=RED,
                spacing=0.25 * L.masthead_size,
            )
        # The letter-spacing after the last character, balanced by as much indent before.
        _ppr_children(
            name._p.get_or_add_pPr(), _el("w:ind", left=twips(0.25 * L.masthead_size), firstLine=0)
        )
        number = self.paragraph("报头", text=masthead.number_line)
        _ppr_children(number._p.get_or_add_pPr(), _spacing(lh, before=0.5 * lh))
        self.paragraph("报头", text=masthead.total_line)
        meta = self.paragraph("报头", masthead.compiler_pieces)
        meta.add_run("\t")
        self.run(meta, masthead.date_line)
        rule = 2.0
        used = self.values.print.masthead_line_height + 4 * lh + 4 + rule
        # Seven grid lines in all, as in the PDF, less half a point: LibreOffice converts each
        # paragraph's twips to its own unit (1/100 mm) and came out 0.1 pt over, which pushed a
        # full page 1's last line (and the article's title with it) to page 2.
        after = max(0.0, L.masthead_lines * lh - used - 0.5)
        _ppr_children(
            meta._p.get_or_add_pPr(),
            _tabs(("right", L.text_width)),
            _border("bottom", rule, RED, space=4),
            _spacing(lh, before=0.5 * lh, after=after),
            _el("w:jc", val="left"),
        )

    def note(self) -> None:
        for par in self.values.note:
            self.paragraph("编者按", self.pieces(par.runs))

    def pieces(self, pieces: Sequence[Piece]) -> list[Piece]:
        return [p for p in pieces if p.text]

    def broken_lines(self, style: str, lines: Sequence[ctx.Line]) -> Paragraph:
        """A title or subtitle as liandong broke it (GB/T 9704 §7.3.2: words kept whole): one
        paragraph, a line break between its lines."""
        paragraph = self.doc.add_paragraph(style=style)
        for number, line in enumerate(lines):
            if number:
                paragraph.add_run().add_break()
            for piece in line.pieces:
                self.run(paragraph, piece.text, piece.style)
        return paragraph

    def article(self, index: int, article: ctx.Article) -> None:
        L = self.L
        lh = line_pitch(L)
        title = self.broken_lines(STYLE_NAMES["title"], article.title.lines)
        before = (2 if index else 1) * lh
        header = [title]
        if article.subtitle:
            header.append(self.broken_lines(STYLE_NAMES["subtitle"], article.subtitle.lines))
        _ppr_children(title._p.get_or_add_pPr(), _spacing(lh, before=before))
        _ppr_children(
            header[-1]._p.get_or_add_pPr(),
            _spacing(lh, before=before if len(header) == 1 else 0, after=lh),
        )
        for block in article.blocks:
            if isinstance(block, ctx.ListForm):
                self.form_list(block)
            elif isinstance(block, ctx.NoteForm):
                self.form_zhu(block)
            elif isinstance(block, ctx.TableForm):
                self.form_table(block)
            elif isinstance(block, ctx.FigureForm):
                self.form_figure(block)
            elif block.kind == "p":
                self.paragraph("Normal", self.pieces(block.runs))
            else:
                self.paragraph(STYLE_NAMES[block.kind], self.pieces(block.runs))

    # Forms -------------------------------------------------------------------------------------
    def numbering(self, ordered: bool, start: int, indent: float, hanging: float) -> int:
        """A numbering definition of its own for one list (it restarts at `start`)."""
        numbering = self.doc.part.numbering_part.element
        self._nums += 1
        abstract_id = 9000 + self._nums
        num_id = 900 + self._nums
        abstract = _el("w:abstractNum", abstractNumId=abstract_id)
        abstract.append(_el("w:multiLevelType", val="singleLevel"))
        level = _el("w:lvl", ilvl=0)
        level.append(_el("w:start", val=start))
        level.append(_el("w:numFmt", val="decimal" if ordered else "bullet"))
        level.append(_el("w:suff", val="tab"))
        level.append(_el("w:lvlText", val="%1." if ordered else "●"))
        level.append(_el("w:lvlJc", val="left"))
        ppr = _el("w:pPr")
        ppr.append(_el("w:ind", left=twips(indent), hanging=twips(hanging)))
        level.append(ppr)
        rpr = _el("w:rPr")
        L = self.L
        if ordered:  # the body's letter-spacing: the number stays within its grid characters
            _set_run_props(rpr, self.names["body"], spacing=grid_spacing(L))
        else:  # ● at half size, raised to the ideographs' middle (print.css's .lbl.bullet)
            _set_run_props(rpr, self.names["body"], size=L.body_size / 2, spacing=0.0)
            rpr.insert(len(rpr) - 3, _el("w:position", val=round(0.19 * L.body_size * 2)))
        level.append(rpr)
        abstract.append(level)
        nums = numbering.findall(qn("w:num"))
        if nums:
            nums[0].addprevious(abstract)
        else:
            numbering.append(abstract)
        num = _el("w:num", numId=num_id)
        num.append(_el("w:abstractNumId", val=abstract_id))
        numbering.append(num)
        return num_id

    def form_list(self, form: ctx.ListForm) -> None:
        indent, hanging = form.indent, form.marker_width
        entries = form.entries
        numbers = [int(e.marker[:-1]) for e in entries] if form.ordered else []
        native = not form.ordered or (
            all(e.marker.endswith(".") for e in entries)
            and numbers == list(range(numbers[0], numbers[0] + len(numbers)))
        )
        num_id = (
            self.numbering(form.ordered, numbers[0] if numbers else 1, indent, hanging)
            if native
            else None
        )
        for entry in entries:
            paragraph = self.doc.add_paragraph(style="列表")
            ppr = paragraph._p.get_or_add_pPr()
            if num_id is not None:
                numpr = _el("w:numPr")
                numpr.append(_el("w:ilvl", val=0))
                numpr.append(_el("w:numId", val=num_id))
                _ppr_children(ppr, numpr)
            else:  # numbers as written, out of sequence: printed as text
                self.run(paragraph, entry.marker + "\t")
            _ppr_children(
                ppr,
                _el("w:ind", left=twips(indent), hanging=twips(hanging)),
                _tabs(("left", indent)),
            )
            for piece in self.pieces(entry.runs):
                self.run(paragraph, piece.text, piece.style)

    def form_zhu(self, form: ctx.NoteForm) -> None:
        indent, hanging = form.indent, form.marker_width
        for entry in form.entries:
            paragraph = self.doc.add_paragraph(style="注")
            _ppr_children(
                paragraph._p.get_or_add_pPr(),
                _el("w:ind", left=twips(indent), hanging=twips(hanging) if entry.marker else 0),
            )
            if entry.marker:
                for piece in entry.marker_pieces:
                    self.run(paragraph, piece.text, piece.style)
            for piece in self.pieces(entry.runs):
                self.run(paragraph, piece.text, piece.style)

    def form_table(self, form: ctx.TableForm) -> None:
        L = self.L
        caption = self.doc.add_paragraph(style="表题")
        for piece in self.pieces(form.caption.runs):
            self.run(caption, piece.text, piece.style)
        widths = form.widths
        rows = [form.header, *form.rows]
        table = self.doc.add_table(rows=len(rows), cols=len(widths))
        tbl = table._tbl
        tblpr = tbl.tblPr
        for tag in ("w:tblStyle", "w:tblW", "w:tblLook"):
            _replace(tblpr, tag)
        # Each column rounded up to whole twips and each decimal indent down: liandong broke the
        # cells' lines to fit these widths within 0.01 pt, and a rounding the other way wraps
        # "100%" in two.
        cols = [math.ceil(width * 20) for width in widths]
        tblpr.append(_el("w:tblW", w=sum(cols), type="dxa"))
        tblpr.append(_el("w:jc", val="center"))
        borders = _el("w:tblBorders")
        for side in ("top", "left", "bottom", "right", "insideH", "insideV"):
            borders.append(
                _el(f"w:{side}", val="single", sz=round(L.table_rule * 8), space=0, color="000000")
            )
        tblpr.append(borders)
        tblpr.append(_el("w:tblLayout", type="fixed"))
        # The padding less half a rule: LibreOffice takes the rules' width out of the cells,
        # and a header that fills its column exactly (改造数（个）) would wrap.
        margins = _el("w:tblCellMar")
        for side in ("left", "right"):
            margins.append(
                _el(f"w:{side}", w=math.floor((form.padding - L.table_rule / 2) * 20), type="dxa")
            )
        tblpr.append(margins)
        grid = tbl.tblGrid
        for col, width in zip(grid.findall(qn("w:gridCol")), cols):
            col.set(qn("w:w"), str(width))
        for row_values, row in zip(rows, table.rows):
            trpr = row._tr.get_or_add_trPr()
            trpr.append(_el("w:cantSplit"))
            if row_values is form.header:
                trpr.append(_el("w:tblHeader"))
            for cell_values, cell, width in zip(row_values.cells, row.cells, cols):
                cell.width = Twips(width)
                paragraph = cell.paragraphs[0]
                paragraph.style = self.doc.styles["表格文字"]
                align = cell_values.align
                children = [
                    _el(
                        "w:jc",
                        val={"left": "left", "right": "right", "center": "center"}.get(
                            align, "left"
                        ),
                    )
                ]
                if cell_values.decimal:
                    children.append(
                        _el("w:ind", right=math.floor(cell_values.decimal * 20), firstLine=0)
                    )
                _ppr_children(paragraph._p.get_or_add_pPr(), *children)
                for piece in self.pieces(cell_values.runs):
                    self.run(paragraph, piece.text, piece.style, size=L.table_size)

    def form_figure(self, form: ctx.FigureForm) -> None:
        image = next((image for figure, image in self.context.images if figure is form), None)
        if image is not None:
            from liandong.images import archival

            data, _ = archival(image)
            paragraph = self.doc.add_paragraph(style="图")
            gap = (form.box - form.height) / 2
            _ppr_children(
                paragraph._p.get_or_add_pPr(),
                _spacing(None, before=gap, after=gap),
                _el("w:keepNext"),
            )
            paragraph.add_run().add_picture(
                io.BytesIO(data), width=Pt(form.width), height=Pt(form.height)
            )
            doc_pr = paragraph._p.xpath(".//wp:docPr")
            if doc_pr:
                doc_pr[0].set("descr", form.alt)
        caption = self.doc.add_paragraph(style="图题")
        for piece in self.pieces(form.caption.runs):
            self.run(caption, piece.text, piece.style)

    # The 版记 -----------------------------------------------------------------------------------
    def banji(self) -> None:
        """At the foot of the last page: a table floating at the bottom of the text area
        (text flows around it, so it never covers the body; it goes to the next page with its
        anchor when the body leaves no room), ruled above and below every row, the outer rules
        0.35 mm and the inner 0.25 mm, no side rules."""
        L, banji = self.L, self.values.banji
        rows: list[list[ctx.DistributionList | ctx.BanjiLine]] = []
        if banji.lists:
            rows.append(list(banji.lists))
        for row in banji.rows:
            rows.append(list(row.lines))
        table = self.doc.add_table(rows=len(rows), cols=1)
        tbl = table._tbl
        tblpr = tbl.tblPr
        for tag in ("w:tblStyle", "w:tblW", "w:tblLook"):
            _replace(tblpr, tag)
        tblpr.insert(
            0,
            _el(
                "w:tblpPr",
                leftFromText=0,
                rightFromText=0,
                topFromText=twips(L.line_height),
                bottomFromText=0,
                vertAnchor="margin",
                horzAnchor="margin",
                tblpXSpec="center",
                tblpYSpec="bottom",
            ),
        )
        tblpr.append(_el("w:tblOverlap", val="never"))
        tblpr.append(_el("w:tblW", w=twips(L.text_width), type="dxa"))
        borders = _el("w:tblBorders")
        outer, inner = (round(L.banji_outer_rule * 8), round(L.banji_inner_rule * 8))
        borders.append(_el("w:top", val="single", sz=outer, space=0, color="000000"))
        borders.append(_el("w:left", val="nil"))
        borders.append(_el("w:bottom", val="single", sz=outer, space=0, color="000000"))
        borders.append(_el("w:right", val="nil"))
        borders.append(_el("w:insideH", val="single", sz=inner, space=0, color="000000"))
        borders.append(_el("w:insideV", val="nil"))
        tblpr.append(borders)
        tblpr.append(_el("w:tblLayout", type="fixed"))
        margins = _el("w:tblCellMar")
        for side, value in (
            ("top", L.banji_padding),
            ("left", L.banji_size),
            ("bottom", L.banji_padding),
            ("right", L.banji_size),
        ):
            margins.append(_el(f"w:{side}", w=twips(value), type="dxa"))
        tblpr.append(margins)
        tbl.tblGrid.findall(qn("w:gridCol"))[0].set(qn("w:w"), str(twips(L.text_width)))
        room = L.banji_room
        for items, row in zip(rows, table.rows):
            row._tr.get_or_add_trPr().append(_el("w:cantSplit"))
            cell = row.cells[0]
            cell.width = Pt(L.text_width)
            first = True
            for item in items:
                paragraph = cell.paragraphs[0] if first else cell.add_paragraph()
                first = False
                paragraph.style = self.doc.styles["版记"]
                ppr = paragraph._p.get_or_add_pPr()
                if isinstance(item, ctx.DistributionList):
                    self.run(paragraph, f"{item.label}：")
                    self.run(paragraph, item.text)
                    _ppr_children(
                        ppr,
                        _el("w:ind", left=twips(item.label_width), hanging=twips(item.label_width)),
                    )
                    continue
                parts = item.parts
                if item.align == "pair":
                    # Two parts on one line, squeezed as liandong set them (typeset.set_pair):
                    # each part's line keeps its letter-spacing, rounded down to what Word stores.
                    for number, part in enumerate(parts):
                        if number:
                            paragraph.add_run("\t")
                        assert isinstance(part, ctx.BanjiPairPart)  # typeset.set_pair made them
                        line = part.lines[0]
                        for piece in line.pieces:
                            self.run(
                                paragraph,
                                piece.text,
                                piece.style,
                                spacing=math.floor(line.spacing * 20) / 20,
                            )
                    _ppr_children(ppr, _tabs(("right", room)))
                else:
                    for piece in parts[0].pieces:
                        self.run(paragraph, piece.text, piece.style)
                    _ppr_children(
                        ppr, _el("w:jc", val="right" if item.align == "right" else "left")
                    )
        # A floating table is anchored to the paragraph after it, and a document cannot end
        # with a table: an empty paragraph, one point high, so that it never makes a page.
        anchor = self.doc.add_paragraph(style="版记")
        _ppr_children(anchor._p.get_or_add_pPr(), _spacing(1.0))

    # The page ----------------------------------------------------------------------------------
    def page(self) -> None:
        L = self.L
        section = self.doc.sections[0]
        mm = lambda value: Twips(twips(value))  # noqa: E731
        section.page_width, section.page_height = mm(L.page_width), mm(L.page_height)
        # As in the PDF: GB/T 9704's 37 mm is measured to the first line's glyph tops, and a
        # line box starts above them (render._print_geometry's margin_top).
        section.top_margin = mm(self.values.print.margin_top)
        section.bottom_margin = mm(L.bottom)
        section.left_margin, section.right_margin = mm(L.binding), mm(L.outer)
        section.gutter = Twips(0)
        folio_lh = self.values.print.folio_line_height
        # The page number's line box starts where the PDF's does, folio_padding below the text
        # area, so the dashes are 7 mm below it; Word measures the footer from the page's foot.
        section.footer_distance = mm(L.bottom - self.values.print.folio_padding - folio_lh)
        section.header_distance = mm(15 * 72 / 25.4)
        self.doc.settings.odd_and_even_pages_header_footer = True
        settings = self.doc.settings.element
        _insert_setting(settings, _el("w:mirrorMargins"))
        for old in settings.findall(qn("w:themeFontLang")):
            old.set(qn("w:eastAsia"), "zh-CN")
        for old in settings.findall(qn("w:rsids")):
            settings.remove(old)
        sectpr = section._sectPr
        # 22 lines of 28 characters (GB/T 9704): the line pitch in twips, rounded down so that
        # 22 lines fit the text area; the character pitch as Word stores it, in 4096ths of a
        # point more than the body size (Normal's 三号).
        grid = _el(
            "w:docGrid",
            type="linesAndChars",
            linePitch=twips(line_pitch(L)),
            charSpace=round((L.pitch - L.body_size) * 4096),
        )
        _replace(sectpr, "w:docGrid")
        sectpr.append(grid)
        for footer, align, indent in (
            (section.footer, "right", "right"),
            (section.even_page_footer, "left", "left"),
        ):
            footer.is_linked_to_previous = False
            paragraph = footer.paragraphs[0]
            paragraph.style = self.doc.styles["页码"]
            _ppr_children(
                paragraph._p.get_or_add_pPr(),
                _el("w:jc", val=align),
                _el("w:ind", **{indent: twips(L.folio_size), "firstLine": 0}),
            )
            self.run(paragraph, "— ", "song")
            _page_field(self, paragraph)
            self.run(paragraph, " —", "song")
        section.header.is_linked_to_previous = True

    def metadata(self) -> None:
        issue, values = self.issue, self.values.issue
        core = self.doc.core_properties
        core.title = values.full_title
        core.author = issue.compiler.value
        core.last_modified_by = issue.compiler.value
        core.subject = values.subject
        core.keywords = "；".join(values.keywords)
        core.comments = ""
        core.category = ""
        core.revision = 1
        core.language = "zh-CN"
        when = dt.datetime.fromisoformat(values.created)
        core.created = when
        core.modified = when
        # python-docx writes times as UTC with a Z; the issue's date is midnight in the
        # series' time zone, so write it as such (W3CDTF allows an offset).
        element = core._element
        for tag in ("dcterms:created", "dcterms:modified"):
            found = element.find(qn(tag))
            if found is not None:
                found.text = when.isoformat()
        package = self.doc.part.package
        for rid, rel in list(package.rels.items()):  # the template's thumbnail of an empty page
            if rel.reltype.endswith("/thumbnail"):
                del package.rels[rid]

    def font_table(self) -> None:
        """Each office font in the fonts table, with the Chinese character set and the face a
        Windows installation has for its role as w:altName: what Word and WPS may substitute
        where the licensed font is missing."""
        from docx.opc.constants import RELATIONSHIP_TYPE as RT
        from lxml import etree

        part = self.doc.part.part_related_by(RT.FONT_TABLE)
        table = etree.fromstring(part.blob)
        known = {font.get(qn("w:name")) for font in table.findall(qn("w:font"))}
        for role in ROLES:
            name = self.names[role.key]
            if name in known:
                continue
            known.add(name)
            font = etree.SubElement(table, qn("w:font"), {qn("w:name"): name})
            if ALT_NAMES[role.key] != name:
                etree.SubElement(font, qn("w:altName"), {qn("w:val"): ALT_NAMES[role.key]})
            etree.SubElement(font, qn("w:charset"), {qn("w:val"): "86"})
            etree.SubElement(font, qn("w:family"), {qn("w:val"): "auto"})
            etree.SubElement(font, qn("w:pitch"), {qn("w:val"): "variable"})
        part._blob = etree.tostring(table, xml_declaration=True, encoding="UTF-8", standalone=True)

    def build(self) -> bytes:
        self.styles()
        self.font_table()
        self.page()
        body = self.doc.element.body
        for paragraph in list(body.findall(qn("w:p"))):  # the template's empty paragraph
            body.remove(paragraph)
        self.masthead()
        self.note()
        for index, article in enumerate(self.values.articles):
            self.article(index, article)
        self.banji()
        self.metadata()
        out = io.BytesIO()
        self.doc.save(out)
        return _normalised_zip(out.getvalue(), self.issue)


def _insert_setting(settings: Element, child: Element) -> None:
    """mirrorMargins goes before what follows it in CT_Settings."""
    after = (
        "w:alignBordersAndEdges",
        "w:bordersDoNotSurroundHeader",
        "w:bordersDoNotSurroundFooter",
        "w:gutterAtTop",
        "w:hideSpellingErrors",
        "w:hideGrammaticalErrors",
        "w:activeWritingStyle",
        "w:proofState",
        "w:formsDesign",
        "w:attachedTemplate",
        "w:linkStyles",
        "w:stylePaneFormatFilter",
        "w:stylePaneSortMethod",
        "w:documentType",
        "w:mailMerge",
        "w:revisionView",
        "w:trackRevisions",
        "w:doNotTrackMoves",
        "w:doNotTrackFormatting",
        "w:documentProtection",
        "w:autoFormatOverride",
        "w:styleLockTheme",
        "w:styleLockQFSet",
        "w:defaultTabStop",
    )
    _replace(settings, "w:" + child.tag.split("}")[1])
    for tag in after:
        found = settings.find(qn(tag))
        if found is not None:
            found.addprevious(child)
            return
    settings.append(child)


def _typography() -> list[Element]:
    """Paragraph properties that keep the PDF's Chinese typography (see _Writer.styles)."""
    return [_el("w:overflowPunct", val=0), _el("w:autoSpaceDE", val=0), _el("w:autoSpaceDN", val=0)]


def _tabs(*stops: tuple[str, float]) -> Element:
    tabs = _el("w:tabs")
    for kind, position in stops:
        tabs.append(_el("w:tab", val=kind, pos=twips(position)))
    return tabs


def _border(side: str, width: float, color: str, space: float = 0) -> Element:
    border = _el("w:pBdr")
    border.append(
        _el(f"w:{side}", val="single", sz=round(width * 8), space=round(space), color=color)
    )
    return border


def _page_field(writer: _Writer, paragraph: Paragraph) -> None:
    """A PAGE field (begin, instruction, separate, the number shown until it is updated, end)."""
    for kind, text in (("begin", ""), ("", " PAGE "), ("separate", ""), ("", "1"), ("end", "")):
        run = writer.run(paragraph, "", "song")
        if kind:
            run._r.append(_el("w:fldChar", fldCharType=kind))
        elif text.strip().isdigit():
            run.text = text
        else:
            instr = OxmlElement("w:instrText")
            instr.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
            instr.text = text
            run._r.append(instr)


def _normalised_zip(data: bytes, issue: Issue) -> bytes:
    """The same bytes for the same sources: every entry dated the issue's date (midnight, the
    series' time zone; zip stores local times) and stored in the order python-docx wrote it,
    with the docProps/app.xml of the template replaced by liandong's."""
    when = dt.datetime.combine(issue.date, dt.time(), ZoneInfo(issue.timezone))
    stamp = (max(when.year, 1980), when.month, when.day, 0, 0, 0)
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            body = source.read(info.filename)
            if info.filename == "docProps/app.xml":
                body = APP_XML
            entry = zipfile.ZipInfo(info.filename, date_time=stamp)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            entry.create_system = 3
            target.writestr(entry, body, compresslevel=9)
    return out.getvalue()


APP_XML = (
    b"<?xml version='1.0' encoding='UTF-8' standalone='yes'?>\n"
    b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
    b'extended-properties" xmlns:vt="http://schemas.openxmlformats.org/officeDocument/'
    b'2006/docPropsVTypes"><Application>liandong</Application><DocSecurity>0</DocSecurity>'
    b"</Properties>"
)
"""The extended properties: the template's named Normal.dotm and counted one page."""


def issue_docx(issue: Issue, context: Context, fonts: dict[str, ResolvedFont]) -> bytes:
    """The issue as a .docx, in memory: the same content as its PDF, from the same context."""
    return _Writer(issue, context, fonts).build()
