"""The 联络动态 page: its sizes, margins, grid and rules, in pt (GB/T 9704).

The numbers every stage agrees on: render sets the text on this grid (print.css reads the same
numbers through the context), preflight checks a PDF against it. Imports nothing of liandong.
"""

from __future__ import annotations

from dataclasses import dataclass

MM = 72 / 25.4


@dataclass(frozen=True)
class Layout:
    """The 联络动态 page (GB/T 9704), in pt unless named otherwise."""

    page_width: float = 210 * MM
    page_height: float = 297 * MM
    top: float = 37 * MM  # to the top of the first line's glyphs
    binding: float = 28 * MM  # left on odd pages, right on even pages
    text_width: float = 156 * MM
    text_height: float = 225 * MM
    lines: int = 22
    chars: int = 28
    body_size: float = 16.0  # 三号
    title_size: float = 22.0  # 二号
    subtitle_size: float = 16.0  # 三号, in Kai
    masthead_size: float = 60.0
    banji_size: float = 14.0  # 四号
    banji_leading: float = 1.5  # 版记 line height, in font sizes
    banji_padding: float = 1.5  # above and below the lines of each 版记 row
    banji_outer_rule: float = 0.35 * MM  # the 版记's first and last rules
    banji_inner_rule: float = 0.25 * MM  # the rules between its rows
    banji_gap: float = 0.5
    """Least gap, in 版记 characters, between the two parts of one 版记 line (责任编辑 and
    联系方式, 批准文号 and 印数): half a character, wider than a word space (a third of one) and
    than the quarter em clreq puts between Chinese and Latin, so the two read as two fields,
    and narrow enough that the published issue 13 keeps its one credits line. The parts may be
    squeezed (typeset.set_pair) to leave it."""
    folio_size: float = 14.0  # 四号
    folio_gap: float = 7 * MM  # from the text area's bottom to the top of the page number's dashes
    masthead_lines: int = 7  # the masthead and the space under its rule, in grid lines
    table_size: float = 14.0  # 四号: table cells
    cell_padding: float = 7.0  # left and right in every table cell (half a 四号 character)
    table_rule: float = 0.5  # every rule of a table (全框线), pt

    @property
    def outer(self) -> float:
        return self.page_width - self.binding - self.text_width

    @property
    def bottom(self) -> float:
        return self.page_height - self.top - self.text_height

    @property
    def pitch(self) -> float:
        """One character of the grid: 156 mm ÷ 28."""
        return self.text_width / self.chars

    @property
    def line_height(self) -> float:
        """One line of the grid: 225 mm ÷ 22."""
        return self.text_height / self.lines

    @property
    def spacing(self) -> float:
        """Letter-spacing that puts 28 body characters on a line."""
        return self.pitch - self.body_size

    @property
    def banji_room(self) -> float:
        """The width of a 版记 line: the text area less one character on either side."""
        return self.text_width - 2 * self.banji_size

    @property
    def banji_line_height(self) -> float:
        return self.banji_size * self.banji_leading
