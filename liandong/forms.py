"""Typesetting the forms beyond paragraphs and headings: lists, 注 notes, tables and figures.

Loaded by render only for an issue that has one of them. Each form is laid out on the
22-line grid: every line of text, in a list, a note, a table cell or a caption, takes one grid
line, and a figure's picture takes whole grid lines, so the text after a form is on the grid
again. What cannot be set (a table wider than the text area, an image too coarse for its printed
size) is a problem at the source's file:line:column, found before anything is rendered.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING
from urllib.parse import quote

from liandong import context as ctx
from liandong.images import PRINT_URL
from liandong.render import typeset_lines
from liandong.source import Block, Figure, Form, ListBlock, Note, Table
from liandong.typeset import SPACE, Atom, Piece, atoms, balance_lines, break_lines, can_break

if TYPE_CHECKING:
    from liandong.render import ContextBuilder

MM = 72 / 25.4

DPI_NOTICE = 200
"""Below this resolution at its printed size an image is printed with a notice: it may look soft."""
DPI_FLOOR = 100
"""Below this an image is refused: its pixels would show. Give a larger image, or a smaller 宽."""
FIGURE_LINES = 11
"""The most grid lines a picture takes (half the text area): a photo is never taller."""
FIGURE_MIN_LINES = 2
"""The fewest grid lines a picture takes."""
FIGURE_WIDTHS = (20 * MM, 156 * MM)
"""What `{宽=…}` may ask for, in pt: 20 mm to the text area's width."""

KEEP_WHOLE = 8
"""A cell of up to this many characters (em) is kept on one line when the table can give every
column that much: only longer texts wrap first."""
NUMBER = re.compile(r"[+\-−±]?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?[%‰]?")
"""A number as a table cell holds it: 1,268 · 98.5% · -3 · 0.25."""
NO_DATA = frozenset({"", "—", "——", "-", "–", "/", "…", "……"})
"""What a number column may hold where there is no figure."""
_INTEGER = re.compile(r"[+\-−±]?[0-9,]+")


def _pieces(block: Block, role: str) -> list[Piece]:
    return [Piece(run.text, role + ("+strong" if run.strong else "")) for run in block.runs]


def _marker_cells(builder: ContextBuilder, markers: list[str]) -> int:
    """How many grid characters a list's markers take: the widest, rounded up."""
    L = builder.layout
    widest = (
        max(
            builder.measurer.width("body", marker, L.body_size, L.spacing)
            for marker in markers
            if marker
        )
        if any(markers)
        else 0.0
    )
    return max(1, math.ceil(widest / L.pitch - 0.01))


def _hanging(
    builder: ContextBuilder, items: Sequence[Block], cells: int, what: str
) -> tuple[ctx.Entry, ...]:
    """Items set as paragraphs with a hanging indent: the marker at the paragraph indent (two
    characters), every line of the text aligned after the marker's cells."""
    L = builder.layout
    width = L.text_width - (2 + cells) * L.pitch
    out = []
    for item in items:
        pieces = _pieces(item, "body")
        lines = break_lines(
            builder.with_fallback(pieces),
            builder._measure(L.body_size),
            first_width=width,
            width=width,
            spacing=L.spacing,
            size=L.body_size,
            marks="body",
        )
        builder.note_lines(lines, item.loc)
        builder.report_lines(lines, item.text, item.loc, what)
        marker = item.marker
        if marker:
            builder.note_role("body", marker, item.loc, generated=True)
        out.append(
            ctx.Entry(
                marker=marker,
                marker_pieces=tuple(builder.with_fallback([Piece(marker, "body")]))
                if marker
                else (),
                text=item.text,
                runs=tuple(pieces),
                lines=typeset_lines(lines),
            )
        )
    return tuple(out)


def list_form(builder: ContextBuilder, form: ListBlock) -> ctx.ListForm:
    """A list: each item a paragraph, its marker (● or the number as written) at the two-
    character indent, the item's lines aligned after the markers' cells."""
    L = builder.layout
    cells = _marker_cells(builder, [item.marker for item in form.items])
    return ctx.ListForm(
        kind="list",
        ordered=form.ordered,
        cells=cells,
        marker_width=cells * L.pitch,
        indent=(2 + cells) * L.pitch,
        spacing=L.spacing,
        entries=_hanging(builder, form.items, cells, "列表"),
    )


def note_form(builder: ContextBuilder, form: Note) -> ctx.NoteForm:
    """A 注 block: 注： at the two-character indent, its text and every further item aligned
    after it."""
    L = builder.layout
    cells = _marker_cells(builder, [form.items[0].marker])
    return ctx.NoteForm(
        kind="zhu",
        marker_width=cells * L.pitch,
        indent=(2 + cells) * L.pitch,
        spacing=L.spacing,
        entries=_hanging(builder, form.items, cells, "注"),
    )


def caption(builder: ContextBuilder, block: Block, role: str, what: str) -> ctx.Caption:
    """A caption: centred, broken between words into balanced lines, in 三号."""
    L = builder.layout
    pieces = _pieces(block, role)
    lines = balance_lines(
        builder.with_fallback(pieces),
        builder._measure(L.body_size),
        width=L.text_width,
        size=L.body_size,
        marks="body",
    )
    builder.note_lines(lines, block.loc)
    builder.report_lines(lines, block.text, block.loc, what)
    return ctx.Caption(block.text, tuple(pieces), typeset_lines(lines))


# --- Tables --------------------------------------------------------------------------


def _is_number(text: str) -> bool:
    return NUMBER.fullmatch(text) is not None


def _widths(items: Sequence[Atom]) -> tuple[float, float, str]:
    """A cell's natural width on one line, its narrowest (the widest run that cannot break,
    kinsoku included) and that run's text."""
    natural = sum(atom.width for atom in items)
    widest, text, run, run_text = 0.0, "", 0.0, ""
    for k, atom in enumerate(items):
        if atom.kind == SPACE:
            run, run_text = 0.0, ""
            continue
        run += atom.width
        run_text += atom.text
        if run > widest:
            widest, text = run, run_text
        if k + 1 < len(items) and can_break(atom, items[k + 1]):
            run, run_text = 0.0, ""
    return natural, widest, text


def table_form(builder: ContextBuilder, form: Table) -> ctx.TableForm:
    """A table the width of the text area, ruled all round (全框线), its header repeated on
    every page it runs onto. Columns share the width by what their text needs: each at least
    its widest unbreakable run, the rest in proportion to their natural widths. Cell text is
    broken into lines that each take a grid line, not justified; a number column is set
    right, its decimal points in line."""
    L = builder.layout
    size, pad = L.table_size, L.cell_padding
    measure = builder._measure(size)
    columns = len(form.header)
    aligns: list[tuple[str, bool]] = []
    for index, explicit in enumerate(form.aligns):
        values = [row[index].text for row in form.rows]
        numeric = any(_is_number(v) for v in values) and all(
            _is_number(v) or v in NO_DATA for v in values
        )
        aligns.append((explicit or ("right" if numeric else "left"), numeric))

    def cell_pieces(cell: Block, header: bool) -> list[Piece]:
        return builder.with_fallback(_pieces(cell, "hei" if header else "body"))

    def tail(text: str) -> str:
        """What follows a number's integer part (.5%, %), which lines up in its column."""
        match = _INTEGER.match(text)
        return text[match.end() :] if match and _is_number(text) else ""

    def decimal(index: int, text: str) -> float:
        align, numeric = aligns[index]
        if not numeric or align != "right" or not _is_number(text):
            return 0.0
        return tails[index] - (measure("body", tail(text)) if tail(text) else 0.0)

    tails = [
        max(
            (measure("body", tail(row[i].text)) for row in form.rows if tail(row[i].text)),
            default=0.0,
        )
        for i in range(columns)
    ]
    grid = [[(cell, cell_pieces(cell, True), True) for cell in form.header]]
    grid += [[(cell, cell_pieces(cell, False), False) for cell in row] for row in form.rows]
    natural = [0.0] * columns
    narrowest = [0.0] * columns
    compact = [0.0] * columns
    culprit: list[tuple[Block, str, float] | None] = [None] * columns
    for row in grid:
        for index, (cell, pieces, header) in enumerate(row):
            items = atoms(pieces, measure, size, "body") if pieces else []
            wide, least, unit = _widths(items)
            if not header:  # a number's place in its column: its decimal point in line
                wide += decimal(index, cell.text)
                least += decimal(index, cell.text)
            natural[index] = max(natural[index], wide)
            compact[index] = max(compact[index], min(wide, max(least, KEEP_WHOLE * size)))
            if least > narrowest[index]:
                narrowest[index] = least
                culprit[index] = (cell, unit, least)
    room = L.text_width - L.table_rule - columns * 2 * pad  # the outer rules inside the area
    too_wide = sum(narrowest) > room + 0.01
    if too_wide:
        cell, unit, least = max((c for c in culprit if c), key=lambda c: c[2])
        builder.problems.append(
            cell.loc.problem(
                f"表格太宽，版心放不下：各列最窄也要 {(sum(narrowest) + columns * 2 * pad) / MM:.0f} mm"
                f"（数字和英文词不拆开，每格左右各留半字），版心只有 {L.text_width / MM:.0f} mm；"
                f"最宽的是这一格的“{unit}”（{least / MM:.0f} mm）。请缩短各格的文字、减少列数，"
                "或把表格拆成两个"
            )
        )
        widths = [room / columns] * columns
    elif sum(natural) <= room:
        extra = room - sum(natural)
        total = sum(natural) or 1.0
        widths = [w + extra * w / total for w in natural]
    else:
        # Short texts stay on one line first (a place name, a header of a few characters);
        # what is left goes to the columns of longer text, in proportion to what they lack.
        low, high = (compact, natural) if sum(compact) <= room else (narrowest, compact)
        slack = sum(h - m for h, m in zip(high, low)) or 1.0
        share = (room - sum(low)) / slack
        widths = [m + (h - m) * share for h, m in zip(high, low)]

    rows = []
    for row in grid:
        cells = []
        for index, (cell, pieces, header) in enumerate(row):
            align, _ = aligns[index]
            shift = 0.0 if header else decimal(index, cell.text)
            lines = (
                break_lines(
                    pieces,
                    measure,
                    first_width=widths[index] - shift + 0.01,
                    width=widths[index] - shift + 0.01,
                    spacing=0.0,
                    size=size,
                    marks="body",
                    ragged=True,
                )
                if pieces
                else []
            )
            builder.note_lines(lines, cell.loc)
            if not too_wide:  # else the table's problem says it all
                builder.report_lines(lines, cell.text, cell.loc, "表格")
            cells.append((cell, pieces, lines, "center" if header else align, shift))
        count = max(1, *(len(lines) for _, _, lines, _, _ in cells))
        rows.append(
            ctx.TableRow(
                tuple(
                    ctx.TableCell(
                        text=cell.text,
                        runs=tuple(pieces),
                        lines=typeset_lines(lines),
                        align=align,
                        decimal=round(shift, 3),
                        pad_top=(count - max(1, len(lines))) // 2 * L.line_height,
                    )
                    for cell, pieces, lines, align, shift in cells
                )
            )
        )
    return ctx.TableForm(
        kind="table",
        caption=caption(builder, form.caption, "hei", "表题"),
        widths=tuple(w + 2 * pad for w in widths),
        header=rows[0],
        rows=tuple(rows[1:]),
        size=size,
        padding=pad,
    )


# --- Figures -------------------------------------------------------------------------


def figure_form(builder: ContextBuilder, form: Figure) -> ctx.FigureForm:
    """A figure: the picture as wide as the text area (or as `宽` asks), never taller than
    FIGURE_LINES grid lines, its height rounded to whole grid lines less half a line (a
    quarter line of space above and below it), the caption centred under it in 三号楷体.
    Its resolution at that size is checked (DPI_NOTICE, DPI_FLOOR)."""
    L = builder.layout
    image = form.image
    cap = caption(builder, form.caption, "kai", "图题")
    if image is None:  # not found: validation has said why
        return ctx.FigureForm(
            kind="figure",
            src="",
            alt=form.caption.text,
            width=0.0,
            height=0.0,
            box=0.0,
            caption=cap,
            web_src="",
            pixels=(0, 0),
        )
    lh = L.line_height
    if form.width is None:
        wanted = L.text_width
    elif form.width[1] == "%":
        wanted = L.text_width * form.width[0] / 100
    else:
        wanted = form.width[0] * MM
    low, high = FIGURE_WIDTHS
    if form.width is not None and not low - 0.01 <= wanted <= high + 0.01:
        builder.problems.append(
            form.loc.problem(
                f"图片的宽度要在 {low / MM:.0f} mm 到 {high / MM:.0f} mm（版心宽度）之间，"
                f"现在是 {wanted / MM:.0f} mm"
            )
        )
        wanted = min(max(wanted, low), high)
    aspect = image.height / image.width
    height = min(wanted * aspect, FIGURE_LINES * lh)
    lines = min(FIGURE_LINES, max(FIGURE_MIN_LINES, round((height + lh / 2) / lh)))
    pic_h = lines * lh - lh / 2
    pic_w = pic_h / aspect
    if pic_w > L.text_width:
        pic_w, pic_h = L.text_width, L.text_width * aspect
    dpi = image.width / (pic_w / 72)
    shown = image.name
    if dpi < DPI_FLOOR:
        builder.problems.append(
            form.src_loc.problem(
                f"图片“{shown}”太不清晰：{image.width}×{image.height} 像素印成 {pic_w / MM:.0f} mm 宽，"
                f"只有 {dpi:.0f} dpi，低于 {DPI_FLOOR} dpi 的下限，不能付印：请换用更清晰的原图，"
                "或用“{宽=…mm}”把它印小"
            )
        )
    elif dpi < DPI_NOTICE:
        builder.notices.append(
            form.src_loc.problem(
                f"图片“{shown}”印成 {pic_w / MM:.0f} mm 宽只有 {dpi:.0f} dpi（低于 {DPI_NOTICE} dpi），"
                "印出来可能发虚：最好换用更清晰的原图，或用“{宽=…mm}”把它印小"
            )
        )
    src = PRINT_URL + "/".join(quote(part) for part in image.name.split("/"))
    figure = ctx.FigureForm(
        kind="figure",
        src=src,
        alt=form.caption.text,
        width=round(pic_w, 3),
        height=round(pic_h, 3),
        box=lines * lh,
        caption=cap,
        web_src="",
        pixels=(image.width, image.height),
    )
    builder.images.append((figure, image))
    return figure


def article_form(builder: ContextBuilder, form: Form) -> ctx.Block:
    if isinstance(form, ListBlock):
        return list_form(builder, form)
    if isinstance(form, Note):
        return note_form(builder, form)
    if isinstance(form, Table):
        return table_form(builder, form)
    if isinstance(form, Figure):
        return figure_form(builder, form)
    raise TypeError(f"not an article form: {type(form).__name__}")
