"""Typeset one liandong issue with Typst (PyPI `typst`): the speed reference for issue 6.

The issue is loaded through liandong's own code (`IssueRenderer.load`), so the text is the one the
WeasyPrint PDF prints; Typst markup is generated from `context.values` (never from liandong's
HTML), every text escaped; the fonts are the files `liandong.fonts.resolve_fonts` picks, and only
they are given to Typst (no system or bundled fonts). The page is liandong's `Layout` (GB/T 9704:
A4, 156 x 225 mm text area, 22 lines of 16 pt). Typst breaks and justifies the lines itself; only
the titles keep liandong's balanced line breaks, which Typst has no rule for.

    python benchmarks/typst_issue.py ROOT SELECTOR OUT.pdf   # prints the number of pages
"""

from __future__ import annotations

import functools
import re
import sys
from pathlib import Path

from liandong.build import IssueRenderer
from liandong.context import Banji, IssueContext, Title
from liandong.errors import LiandongError, SourceErrors
from liandong.files import write_output
from liandong.fonts import ResolvedFont, resolve_fonts
from liandong.page import Layout
from liandong.project import select_folders

RED = "#e60012"
"""The sRGB red liandong's print CSS uses for the masthead name and rule."""

# Every ASCII punctuation character can start or change Typst markup (# * _ ` $ < > @ [ ] \ ~
# ' " - . / : = + and more in the future); a backslash before any non-space character makes it
# literal, so all of them are escaped rather than a hand-picked few.
_MARKUP = re.compile(r"([!-/:-@\[-`{-~])")
_SPACE = re.compile(r"\s+")

# Ideographic em box of the CJK fonts: a line box of exactly one em, so the leading alone sets
# the grid pitch.
_TOP_EDGE, _BOTTOM_EDGE = 0.88, -0.12
_INK_TOP = 0.83  # ink top of a Han character in Noto CJK, in em: 37 mm is measured to the ink


def escape(text: str) -> str:
    """Text as Typst markup that prints exactly `text` (whitespace runs become one space)."""
    return _MARKUP.sub(r"\\\1", _SPACE.sub(" ", text))


def _string(text: str) -> str:
    """A Typst string literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _pt(value: float) -> str:
    return f"{value:.3f}pt"


class _Markup:
    """Typst markup for one issue's context values."""

    def __init__(
        self,
        fonts: dict[str, ResolvedFont],
        layout: Layout,
        families: dict[tuple[str, int], str] | None = None,
    ):
        self.fonts, self.L = fonts, layout
        self.families = families or {}

    def font(self, role: str, strong: bool = False) -> str:
        resolved = self.fonts[role]
        weight = 700 if strong else resolved.weight
        # Typst names a face by its own reading of the name table, which may differ from
        # fontconfig's (FandolFang is "FandolFang R" to Typst).
        family = self.families.get((str(resolved.file), resolved.index), resolved.family)
        return f"font: {_string(family)}, weight: {weight}"

    def runs(self, pieces, default: str) -> str:
        """Styled pieces (adjacent ones of one style merged); the default role is left bare."""
        merged: list[list[str]] = []
        for piece in pieces:
            if merged and merged[-1][0] == piece.style:
                merged[-1][1] += piece.text
            else:
                merged.append([piece.style, piece.text])
        out = []
        for style, text in merged:
            role, _, strong = style.partition("+")
            if style == default:
                out.append(escape(text))
            else:
                out.append(f"#text({self.font(role, bool(strong))})[{escape(text)}]")
        return "".join(out)

    def paragraph(self, par, default: str) -> str:
        # The pieces of liandong's lines, not its runs: they carry the marks it sets in another
        # font (e.g. quotes in Kai text); its line breaks are dropped, Typst breaks again.
        pieces = [piece for line in par.lines for piece in line.pieces]
        return self.runs(pieces, default)

    def title_lines(self, title: Title, default: str) -> str:
        return " \\\n".join(self.runs(line.pieces, default) for line in title.lines)

    def document(self, values: IssueContext) -> str:
        L = self.L
        pitch = L.line_height
        leading = pitch - L.body_size
        top = L.top - (_TOP_EDGE - _INK_TOP) * L.body_size
        issue, masthead, banji = values.issue, values.masthead, values.banji
        out = [
            f"#set document(title: {_string(issue.full_title)}, "
            f"author: {_string(masthead.compiler_line[:-1])})",
            f"#let red = rgb({_string(RED)})",
            # Folio: 四号 "— N —", odd pages right and even pages left, one character in; the
            # dashes' tops about 7 mm below the text area.
            '#set page(paper: "a4", binding: left, '
            f"margin: (top: {_pt(top)}, bottom: {_pt(L.page_height - top - L.text_height)}, "
            f"inside: {_pt(L.binding)}, outside: {_pt(L.outer)}), "
            f"footer-descent: {_pt(L.folio_gap - 0.5 * L.folio_size)}, "
            "footer: context {"
            " let n = counter(page).get().first();"
            f" let folio = text({self.font('song')}, size: {_pt(L.folio_size)}, tracking: 0pt)"
            "[— #n —];"
            f" if calc.odd(n) {{ align(right, pad(right: {_pt(L.pitch)}, folio)) }}"
            f" else {{ align(left, pad(left: {_pt(L.pitch)}, folio)) }} }})",
            f'#set text({self.font("body")}, size: {_pt(L.body_size)}, lang: "zh", '
            # No gap between Han characters and digits or Latin letters: liandong sets none.
            f'region: "cn", cjk-latin-spacing: none, top-edge: {_TOP_EDGE}em, '
            f"bottom-edge: {_BOTTOM_EDGE}em, "
            # Just under the grid's letter-spacing, so 28 characters fit a line.
            f"tracking: {_pt(L.spacing - 0.01)}, fallback: false)",
            f"#set par(justify: true, leading: {_pt(leading)}, spacing: {_pt(leading)}, "
            f"first-line-indent: (amount: {_pt(2 * L.pitch)}, all: true))",
            f"#set block(spacing: {_pt(leading)})",
        ]
        # Masthead: seven grid lines on page 1, the name large and red, the red rule last.
        out += [
            f"#block(height: {_pt(L.masthead_lines * pitch - leading)}, width: 100%, "
            "spacing: 0pt)[",
            "#set par(first-line-indent: 0pt, justify: false)",
            f"#align(center, text({self.font('title')}, size: {_pt(L.masthead_size)}, "
            f'tracking: 0.25em, fill: red, top-edge: "cap-height")'
            f"[#h(0.25em){escape(masthead.name)}])",
            f"#v({_pt(0.5 * pitch)})",
            f"#align(center)[{escape(masthead.number_line)}]",
            f"#align(center)[{escape(masthead.total_line)}]",
            f"#v({_pt(0.5 * pitch)})",
            f"#block(width: 100%, inset: (bottom: 4pt), stroke: (bottom: 2pt + red), "
            f"spacing: 0pt)[#set text(tracking: 0pt); {escape(masthead.compiler_line)}"
            f"#h(1fr){escape(masthead.date_line)}]",
            "]",
        ]
        # 【编者按】: the note in Kai, its label in Hei (the label's own piece style).
        for par in values.note:
            out.append(f"#[#set text({self.font('kai')}); #par[{self.paragraph(par, 'kai')}]]")
        for number, article in enumerate(values.articles):
            # One blank grid line above and below the title, two between articles; the title
            # stays with what follows it.
            above = (2 if number else 1) * pitch + leading
            header = [
                "#set par(first-line-indent: 0pt, justify: false)",
                f"#align(center, text({self.font('title')}, size: {_pt(L.title_size)}, "
                f"tracking: 0pt)[#set par(leading: {_pt(pitch - L.title_size)}); "
                f"{self.title_lines(article.title, 'title')}])",
            ]
            if article.subtitle:
                header.append(
                    f"#align(center, text({self.font('kai')}, "
                    f"size: {_pt(L.subtitle_size)}, tracking: 0pt)"
                    f"[{self.title_lines(article.subtitle, 'kai')}])"
                )
            out.append(
                f"#block(sticky: true, width: 100%, above: {_pt(above)}, "
                f"below: {_pt(pitch + leading)})[\n" + "\n".join(header) + "\n]"
            )
            for par in article.blocks:
                text = f"#par[{self.paragraph(par, 'body')}]"
                # A heading never ends a page.
                out.append(f"#block(sticky: true)[{text}]" if par.kind != "p" else text)
        out.append(self.banji(banji))
        return "\n\n".join(out) + "\n"

    def banji(self, banji: Banji) -> str:
        """The 版记 at the foot of the last page; it moves whole to a new page if it doesn't fit."""
        L = self.L
        size = L.banji_size
        rows = []
        for item in banji.lists:
            rows.append(
                f"#par(hanging-indent: {_pt(item.label_width)})"
                f"[{escape(item.label + '：')}{escape(item.text)}]"
            )
        credits_row = banji.rows[0] if banji.rows[0].kind == "credits" else None
        if credits_row and len(credits_row.lines) == 1 and len(credits_row.lines[0].parts) == 2:
            rows.append(f"#par[{escape(banji.editor or '')}#h(1fr){escape(banji.contact or '')}]")
        else:
            # Editor and contact on their own lines, in one cell (no rule between them).
            credits = [escape(line) for line in (banji.editor, banji.contact) if line]
            rows.append("#par[" + " \\\n".join(credits) + "]")
        count = f"#h(1fr){escape(banji.count_text)}" if banji.count_text else ""
        rows.append(f"#par[{escape('批准文号：' + banji.approval)}{count}]")
        cells = "\n#line(length: 100%, stroke: 0.25mm)\n".join(
            f"#block(width: 100%, inset: (x: {_pt(size)}, y: 1.5pt))[{row}]" for row in rows
        )
        return (
            f"#v(1fr)\n#block(breakable: false, width: 100%, above: {_pt(L.line_height)}, "
            f"stroke: (top: 0.35mm, bottom: 0.35mm))[\n"
            f"#set text(size: {_pt(size)}, tracking: 0pt)\n"
            f"#set par(first-line-indent: 0pt, leading: {_pt(0.5 * size)})\n"
            f"#set block(spacing: 0pt)\n{cells}\n]"
        )


@functools.lru_cache(maxsize=4)
def _renderer(root: Path) -> IssueRenderer:
    """liandong's loader for a project, kept as liandong keeps it (one per process)."""
    return IssueRenderer(root, resolve_fonts(root / "fonts"))


@functools.lru_cache(maxsize=4)
def _compiler(folders: tuple[Path, ...]):
    """A Typst compiler that knows only the resolved fonts' folders (scanned once)."""
    import typst

    fonts = typst.Fonts(
        include_system_fonts=False,
        include_embedded_fonts=False,
        font_paths=[str(folder) for folder in folders],
    )
    return typst.Compiler(font_paths=fonts, ignore_system_fonts=True)


@functools.lru_cache(maxsize=4)
def _families(folders: tuple[Path, ...]) -> dict[tuple[str, int], str]:
    """The family Typst knows each face of these folders by: (file, index) -> family."""
    import typst

    fonts = typst.Fonts(
        include_system_fonts=False,
        include_embedded_fonts=False,
        font_paths=[str(folder) for folder in folders],
    )
    return {(info.path, info.index): info.family for info in fonts.fonts()}


def font_folders(fonts: dict[str, ResolvedFont]) -> tuple[Path, ...]:
    """The folders of every resolved font file, bold faces included."""
    files = {font.file for font in fonts.values()}
    files |= {font.bold[0] for font in fonts.values() if font.bold}
    return tuple(sorted({file.parent for file in files}))


def issue_markup(root: Path, selector: str) -> tuple[str, tuple[Path, ...]]:
    """The Typst source for issue `selector` and the font folders it needs."""
    root = Path(root).resolve()
    renderer = _renderer(root)
    problems: list = []
    loaded = renderer.load(select_folders(root, selector, False), problems)
    if problems:
        raise SourceErrors(problems)
    [(_, context)] = loaded
    values = context.values
    folders = font_folders(renderer.fonts)
    return (_Markup(renderer.fonts, values.layout, _families(folders)).document(values), folders)


def compile_markup(source: str, folders: tuple[Path, ...]) -> bytes:
    """Compile Typst source with only the given font folders; the PDF's bytes."""
    return _compiler(tuple(folders)).compile(source.encode("utf-8"), format="pdf")


def compile_issue(root: Path, selector: str, out: Path) -> int:
    """Typeset issue `selector` (e.g. "13") of the liandong project at `root` with Typst, using the
    same fonts liandong resolves, into `out` (a PDF). Returns the number of pages."""
    source, folders = issue_markup(root, selector)
    pdf = compile_markup(source, folders)
    write_output(Path(out), pdf)
    return _page_count(pdf)


def _page_count(pdf: bytes) -> int:
    import io

    import pikepdf

    with pikepdf.open(io.BytesIO(pdf)) as document:
        return len(document.pages)


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print("用法：python benchmarks/typst_issue.py 项目文件夹 期号 输出.pdf", file=sys.stderr)
        return 2
    root, selector, out = argv
    try:
        pages = compile_issue(Path(root), selector, Path(out))
    except LiandongError as exc:  # a bad source or selector: liandong's own Chinese messages
        exc.show()
        return exc.exit_code
    print(pages)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
