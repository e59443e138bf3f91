"""What the issue templates receive: every name print.html, web.html and site_issue.html (and
the files they include) may use, as frozen dataclasses of text, numbers and tuples.

A designer reads this file to see what a template can write: `IssueContext` holds the names a
template starts from (`issue`, `masthead`, `note`, `articles`, `banji`, `layout`, `print`,
`fonts`, `web_fonts`, `pdf_name`, `has_forms`); each field's type says what lies below it.
render.py builds them (one small function per element, forms.py for lists, 注 notes, tables
and figures); docs/templates.md documents them; tests/test_templates_contract.py checks that
every name a shipped template uses is here, and that nothing here goes unused.

The sandbox (render._Sandbox) lets a template read the fields and properties of these types
and nothing else of them: they hold only str, int, float, bool, None, tuples, mappings with
string keys and these types (render.impure checks it), never an object with methods.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from liandong.page import Layout
from liandong.typeset import Piece

__all__ = [
    "CONTEXT_TYPES",
    "Article",
    "Banji",
    "BanjiField",
    "BanjiLine",
    "BanjiPairPart",
    "BanjiRow",
    "Block",
    "Caption",
    "DistributionList",
    "Entry",
    "FigureForm",
    "FontFace",
    "IssueContext",
    "IssueInfo",
    "Layout",
    "Line",
    "ListForm",
    "Masthead",
    "NoteForm",
    "Paragraph",
    "Piece",
    "PrintGeometry",
    "TableCell",
    "TableForm",
    "TableRow",
    "Title",
    "template_names",
]


# `Layout` (page.Layout, the page in pt) is defined with the page; templates see it as `layout`,
# every field and property (print.css, _forms.css, _folio.css).


# --- Text ----------------------------------------------------------------------------------
# `Piece` (typeset.Piece) is one span of text in one style: text; style (a font role key such
# as "body", "kai", "hei", "title", or a 补字 font's key, with "+strong" for bold); and how the
# print edition spaces it: spacing (letter-spacing in pt, None: the line's), margin_right,
# pad_left, pad_right (pt), full_width (printed with full-width forms).


@dataclass(frozen=True)
class Line:
    """One typeset line of the print edition: its spans, and the letter-spacing (pt) of its
    Chinese text that makes it flush."""

    pieces: tuple[Piece, ...]
    spacing: float


@dataclass(frozen=True)
class Paragraph:
    """A paragraph of the 编者按 or an article, or a body heading 一、（一）1.（1）."""

    kind: str
    """"p", or "h1".."h4" for the body headings."""
    tag: str
    """The HTML element: "p", or h3..h6 (h1 is the bulletin's name, h2 an article title)."""
    text: str
    runs: tuple[Piece, ...]
    """The text in styled runs (the web page's <strong>, a run-in heading's face)."""
    lines: tuple[Line, ...]
    """The print edition's lines."""
    runin: int
    """The level of a run-in heading (接排标题) the paragraph opens with, else 0."""


@dataclass(frozen=True)
class Title:
    """An article's title or subtitle, centred in balanced lines."""

    text: str
    """On one line: the editor's line breaks taken out."""
    lines: tuple[Line, ...]
    parts: tuple[str, ...]
    """The lines the editor asked for (the web page keeps them as <br>)."""


@dataclass(frozen=True)
class Masthead:
    name: str
    number_line: str
    """第 13 期"""
    total_line: str
    """（总第七百一十四期）"""
    compiler_line: str
    """湖南省人大常委会代表工作委员会编"""
    date_line: str
    """2024年8月30日"""
    name_pieces: tuple[Piece, ...]
    """The name in spans, a 补字 character in its own."""
    compiler_pieces: tuple[Piece, ...]


@dataclass(frozen=True)
class IssueInfo:
    year: int
    number: int
    total: int
    total_cn: str
    """The total number in Chinese numerals: 七百一十四."""
    date: str
    """ISO date: 2024-08-30."""
    created: str
    """Midnight of the date in the series' time zone: 2024-08-30T00:00:00+08:00."""
    date_text: str
    """2024年8月30日"""
    slug: str
    """2024-13: the files' names."""
    full_title: str
    """联络动态 2024年第13期（总第714期）"""
    subject: str
    """The article titles, joined by ；(the PDF's subject)."""
    keywords: tuple[str, ...]


# --- Lists, 注 notes, tables, figures (forms.py) -----------------------------------------------


@dataclass(frozen=True)
class Entry:
    """A list item or a 注 note's item: its marker (● 1. 注：, or "" for a note's later items)
    and its text."""

    marker: str
    marker_pieces: tuple[Piece, ...]
    text: str
    runs: tuple[Piece, ...]
    lines: tuple[Line, ...]


@dataclass(frozen=True)
class ListForm:
    kind: str
    """"list"."""
    ordered: bool
    cells: int
    """How many grid characters the markers take."""
    marker_width: float
    indent: float
    """The items' left edge (pt): the paragraph indent and the markers' cells."""
    spacing: float
    entries: tuple[Entry, ...]


@dataclass(frozen=True)
class NoteForm:
    kind: str
    """"zhu"."""
    marker_width: float
    indent: float
    spacing: float
    entries: tuple[Entry, ...]


@dataclass(frozen=True)
class Caption:
    """A table's or a figure's caption, centred in balanced lines."""

    text: str
    runs: tuple[Piece, ...]
    """The text in styled runs, before it is broken into lines: no template reads it; the Word
    document does (docx.py), a caption being one paragraph there."""
    lines: tuple[Line, ...]


@dataclass(frozen=True)
class TableCell:
    text: str
    runs: tuple[Piece, ...]
    lines: tuple[Line, ...]
    align: str
    """"left", "right" or "center" (a header cell)."""
    decimal: float
    """Room (pt) right of a number, so that the decimal points of its column line up."""
    pad_top: float
    """Space (pt) above a cell with fewer lines than its row: centred on the grid."""


@dataclass(frozen=True)
class TableRow:
    cells: tuple[TableCell, ...]


@dataclass(frozen=True)
class TableForm:
    kind: str
    """"table"."""
    caption: Caption
    widths: tuple[float, ...]
    """Each column's width (pt), padding included."""
    header: TableRow
    rows: tuple[TableRow, ...]
    size: float
    """The cells' font size (pt): the web page gives a number's decimal room in em."""
    padding: float
    """Left and right in every cell (pt)."""


@dataclass(frozen=True)
class FigureForm:
    kind: str
    """"figure"."""
    src: str
    """The picture for the PDF: images.PRINT_URL and the file's path in the issue's folder,
    URL-quoted ("" when it is missing); pdf.ProjectFetcher serves the converted bytes."""
    alt: str
    width: float
    height: float
    box: float
    """The grid lines the picture takes (pt): it is centred in them."""
    caption: Caption
    web_src: str
    """The picture for the web page (a data: URI), filled in when the web page is rendered."""
    pixels: tuple[int, int]


Block = Paragraph | ListForm | NoteForm | TableForm | FigureForm
"""What an article holds: a paragraph (kind p, h1..h4) or a form (kind list, zhu, table, figure)."""


@dataclass(frozen=True)
class Article:
    title: Title
    subtitle: Title | None
    blocks: tuple[Block, ...]


# --- The 版记 ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DistributionList:
    """报, 送 or 发: the label and the units, wrapped after the colon."""

    label: str
    text: str
    lines: tuple[Line, ...]
    label_width: float


@dataclass(frozen=True)
class BanjiField:
    """One part of a 版记 line set as it is: 责任编辑：…, 联系方式：…, 批准文号：…, （共印 N 份）."""

    text: str
    pieces: tuple[Piece, ...]


@dataclass(frozen=True)
class BanjiPairPart:
    """One of the two parts of a shared 版记 line, as the line (squeezed if need be) it is set in."""

    text: str
    pieces: tuple[Piece, ...]
    lines: tuple[Line, ...]


@dataclass(frozen=True)
class BanjiLine:
    align: str
    """"left" or "right" (one part), or "pair" (two parts, justified)."""
    parts: tuple[BanjiField | BanjiPairPart, ...]


@dataclass(frozen=True)
class BanjiRow:
    kind: str
    """"credits" or "approval"."""
    lines: tuple[BanjiLine, ...]


@dataclass(frozen=True)
class Banji:
    lists: tuple[DistributionList, ...]
    rows: tuple[BanjiRow, ...]
    editor: str | None
    """责任编辑：… (the web page's credits)."""
    contact: str | None
    approval: str
    """The 批准文号 itself (without its label)."""
    count_text: str | None
    """（共印 N 份）"""


# --- Fonts and the print geometry ---------------------------------------------------------


@dataclass(frozen=True)
class FontFace:
    """A resolved font, as the print CSS names it (`fonts` maps a role key, or a 补字 font's
    key, to one)."""

    key: str
    css_family: str
    weight: int
    origin: str
    """"fonts/", "installed" or "default": print.css declares @font-face for fonts/ only."""
    fallback: bool
    """A 补字 font (its key is a CSS class of the spans it prints)."""
    url: str
    """The font file as a file: URI."""


@dataclass(frozen=True)
class PrintGeometry:
    """Offsets that put glyph tops, not line boxes, where GB/T 9704 measures them (pt)."""

    title_shift: float
    margin_top: float
    masthead_shift: float
    masthead_line_height: float
    folio_line_height: float
    folio_padding: float


# --- The whole context ---------------------------------------------------------------------


@dataclass(frozen=True)
class IssueContext:
    """The names every issue template starts from."""

    issue: IssueInfo
    masthead: Masthead
    note: tuple[Paragraph, ...]
    """The 编者按's paragraphs (the first opens with 【编者按】)."""
    articles: tuple[Article, ...]
    has_forms: bool
    """Some article has a list, note, table or figure (print.css includes _forms.css)."""
    banji: Banji
    pdf_name: str
    layout: Layout
    print: PrintGeometry
    fonts: dict[str, FontFace]
    web_fonts: dict[str, str]
    """A CSS font-family list for each role key (web.css)."""


CONTEXT_TYPES: frozenset[type] = frozenset(
    {
        Layout,
        Piece,
        Line,
        Paragraph,
        Title,
        Article,
        Masthead,
        IssueInfo,
        DistributionList,
        BanjiField,
        BanjiPairPart,
        BanjiLine,
        BanjiRow,
        Banji,
        FontFace,
        PrintGeometry,
        Entry,
        ListForm,
        NoteForm,
        Caption,
        TableCell,
        TableRow,
        TableForm,
        FigureForm,
        IssueContext,
    }
)
"""The types a template may read fields of (render._Sandbox)."""


def template_names(kind: type) -> frozenset[str]:
    """What a template may read of a context type: its fields and properties."""
    names = {f.name for f in dataclasses.fields(kind)}
    names |= {name for name, value in vars(kind).items() if isinstance(value, property)}
    return frozenset(names)
