"""Measuring a built PDF the way a typesetter checks a proof: lines, edges, fonts, ink."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pdfplumber

from liandong.fonts import ResolvedFont, resolve_fonts

MM = 72 / 25.4
PAGE_W, PAGE_H = 210 * MM, 297 * MM
TEXT_W, TEXT_H = 156 * MM, 225 * MM
TOP = 37 * MM
BOTTOM = TOP + TEXT_H
PITCH = TEXT_W / 28


def text_left(page_number: int) -> float:
    """The text area's left edge: the binding (28 mm) on odd pages, the outer (26 mm) on even."""
    return 28 * MM if page_number % 2 else 26 * MM


def text_right(page_number: int) -> float:
    return text_left(page_number) + TEXT_W


def pdf_font_name(font: ResolvedFont) -> str:
    """The font name the PDF carries for a role (after the subset tag): a project font's
    PostScript name, else the family as WeasyPrint writes it."""
    name = font.pdf_name
    return f"{name}-Bold" if font.weight >= 700 and font.origin != "fonts/" else name


def roles_by_pdf_name(root: Path) -> dict[str, str]:
    return {pdf_font_name(font): key for key, font in resolve_fonts(root / "fonts").items()}


@dataclass
class TextLine:
    page: int
    chars: list[dict]

    @property
    def text(self) -> str:
        return "".join(c["text"] for c in self.chars)

    @property
    def x0(self) -> float:
        return self.chars[0]["x0"]

    @property
    def x1(self) -> float:
        return self.chars[-1]["x1"]

    @property
    def baseline(self) -> float:
        return self.chars[0]["page_height"] - self.chars[0]["matrix"][5]

    @property
    def size(self) -> float:
        return max(c["size"] for c in self.chars)

    @property
    def fonts(self) -> set[str]:
        return {c["fontname"].split("+", 1)[-1] for c in self.chars}

    def font_of(self, text: str) -> str:
        start = self.text.index(text)
        return self.chars[start]["fontname"].split("+", 1)[-1]


def lines(pdf_path: Path) -> list[TextLine]:
    """Every text line of every page, top to bottom, chars left to right."""
    result = []
    with pdfplumber.open(pdf_path) as pdf:
        for number, page in enumerate(pdf.pages, start=1):
            rows: dict[float, list[dict]] = {}
            for char in page.chars:
                char = dict(char, page_height=page.height)
                baseline = round(page.height - char["matrix"][5], 0)
                rows.setdefault(baseline, []).append(char)
            for baseline in sorted(rows):
                chars = sorted(rows[baseline], key=lambda c: c["x0"])
                result.append(TextLine(number, chars))
    return result


def render_box(pdf_path: Path, page_number: int, box: tuple[float, float, float, float], dpi: int):
    """Render only box (x0, top, x1, bottom, pt from the top-left) of a page, as RGB."""
    import pypdfium2

    pdf = pypdfium2.PdfDocument(str(pdf_path))
    try:
        page = pdf[page_number - 1]
        width, height = page.get_size()
        x0, top, x1, bottom = box
        crop = (x0, height - bottom, width - x1, top)
        return page.render(scale=dpi / 72, crop=crop).to_pil().convert("RGB")
    finally:
        pdf.close()


def ink_rows(
    pdf_path: Path,
    page_number: int,
    box: tuple[float, float, float, float],
    dpi: int = 600,
    color: str | None = None,
) -> tuple[float, float] | None:
    """Top and bottom (pt) of the ink inside box (x0, top, x1, bottom, in pt) on a page.

    color="red" counts only red pixels. This measures glyphs as printed, not their line boxes.
    """
    from PIL import ImageChops

    scale = dpi / 72
    crop = render_box(pdf_path, page_number, box, dpi)
    top = box[1] * scale
    if color == "red":
        r, g, b = crop.split()
        mask = ImageChops.multiply(
            r.point(lambda v: 255 if v > 150 else 0),
            ImageChops.multiply(
                g.point(lambda v: 255 if v < 110 else 0), b.point(lambda v: 255 if v < 110 else 0)
            ),
        )
    else:
        mask = crop.convert("L").point(lambda v: 255 if v < 160 else 0)
    bbox = mask.getbbox()
    if bbox is None:
        return None
    return (top + bbox[1]) / scale, (top + bbox[3]) / scale


def rules(
    pdf_path: Path,
    page_number: int,
    top: float,
    bottom: float,
    dpi: int = 600,
    color: str | None = None,
) -> list[tuple[float, float, float, float]]:
    """Horizontal rules as printed: (top, bottom, left, right) in pt, between top and bottom.

    Scans a column just inside the text area's left edge for dark runs, keeps the runs whose
    middle row is inked for at least 150 mm (text is never that long), and measures them.
    """
    scale = dpi / 72
    image = render_box(pdf_path, page_number, (0, top, PAGE_W, bottom), dpi)
    pixels = image.load()

    def inked(x: int, y: int) -> bool:
        r, g, b = pixels[x, y]
        if color == "red":
            return r > 150 and g < 110 and b < 110
        return r + g + b < 3 * 128

    column = int((text_left(page_number) + 0.5 * MM) * scale)
    found, y, end = [], 0, image.height
    while y < end:
        if not inked(column, y):
            y += 1
            continue
        start = y
        while y < end and inked(column, y):
            y += 1
        middle = (start + y) // 2
        left = column
        while left > 0 and inked(left - 1, middle):
            left -= 1
        right = column
        while right < image.width - 1 and inked(right + 1, middle):
            right += 1
        if (right - left) / scale > 150 * MM:
            found.append((top + start / scale, top + y / scale, left / scale, (right + 1) / scale))
    return found
