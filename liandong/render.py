"""One context per issue, rendered through Jinja into the print HTML and the web page."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from liandong.errors import Problem
from liandong.fonts import ROLES, Measurer, ResolvedFont
from liandong.source import Block, Loc
from liandong.typeset import (HAN_STRETCH, LATIN_STRETCH, Line, Piece, balance_lines,
                              break_lines, chinese_number, title_parts)
from liandong.validate import Issue, Text

PACKAGE_TEMPLATES = Path(__file__).parent / "templates"

MM = 72 / 25.4


@dataclass(frozen=True)
class Layout:
    """The 联络动态 page (GB/T 9704), in pt unless named otherwise."""

    page_width: float = 210 * MM
    page_height: float = 297 * MM
    top: float = 37 * MM            # to the top of the first line's glyphs
    binding: float = 28 * MM        # left on odd pages, right on even pages
    text_width: float = 156 * MM
    text_height: float = 225 * MM
    lines: int = 22
    chars: int = 28
    body_size: float = 16.0         # 三号
    title_size: float = 22.0        # 二号
    subtitle_size: float = 16.0     # 三号, in Kai
    masthead_size: float = 60.0
    banji_size: float = 14.0        # 四号
    folio_size: float = 14.0        # 四号
    folio_gap: float = 7 * MM       # from the text area's bottom to the top of the page number's dashes
    masthead_lines: int = 7         # the masthead and the space under its rule, in grid lines

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


@dataclass
class Printed:
    """A piece of text the PDF will print, with its role and where it came from."""

    role: str
    text: str
    loc: Loc | None
    generated: bool = False  # made from a source value (numerals, labels), not copied from it


@dataclass
class Paragraph:
    kind: str  # "p", or "h1".."h4" for the body headings 一、（一）1.（1）
    text: str
    runs: list[Piece]
    lines: list[Line]

    @property
    def tag(self) -> str:
        """HTML element: h1 is the bulletin's name and h2 an article title, so 一、 is h3."""
        return "p" if self.kind == "p" else f"h{int(self.kind[1]) + 2}"


@dataclass
class Context:
    """Everything both templates need; built once per issue."""

    values: dict
    printed: list[Printed] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    """Values too long for the one line the layout gives them (the masthead, the 版记 lines),
    and text that cannot be set within the text area (a unit wider than a line)."""
    notices: list[Problem] = field(default_factory=list)
    """Lines the typesetter could set only past its spacing limits (shown as warnings)."""


HEADING_ROLES = {1: "hei", 2: "kai", 3: "body", 4: "body"}


def date_text(date: dt.date) -> str:
    return f"{date.year}年{date.month}月{date.day}日"


class _Builder:
    def __init__(self, issue: Issue, fonts: dict[str, ResolvedFont], measurer: Measurer,
                 layout: Layout):
        self.issue, self.fonts, self.measurer, self.layout = issue, fonts, measurer, layout
        self.printed: list[Printed] = []
        self.problems: list[Problem] = []
        self.notices: list[Problem] = []

    def one_line(self, width: float, room: float, loc: Loc | None, what: str) -> None:
        """A value the layout sets on one line must fit it: report where it is written."""
        if width > room + 0.01 and loc is not None:
            over = (width - room) / MM
            self.problems.append(loc.problem(f"{what}太长，一行放不下（超出 {over:.1f} mm），请缩短"))

    def _measure(self, size: float):
        measurer = self.measurer

        def measure(style: str, text: str, spacing: float = 0.0, full_width: bool = False):
            return measurer.width(style, text, size, spacing, full_width)
        return measure

    def report_lines(self, lines: list[Line], text: str, loc: Loc | None, what: str) -> None:
        """An overfull line is an error, an underfull one a notice, each at its place."""
        if loc is None:
            return
        for line in lines:
            shown = line.text.strip()
            if line.overfull:
                self.problems.append(_place(loc, text, line.offset, shown).problem(
                    f"{what}里的“{_cut(shown)}”太长，一行排不下，中间又没有可以断行的地方"
                    "（网址只在 / . - ? & 之后断行，电子邮箱还可在 @ 之前断行；数字、电话号码、"
                    "起止年份和英文单词都不拆开）：请改写，例如拆开或缩短"))
            elif line.underfull and not line.stretch and not line.loose:
                self.notices.append(_place(loc, text, line.offset, shown).problem(
                    f"注意：{what}里以“{_cut(shown, 12)}”开头的一行没有可以加宽的字间（整行是"
                    "不能拆开的网址片段、数字或英文），右边留空；可调整这一段的文字"))
            elif line.underfull:
                latin = (f"，西文词间和中西文之间已各加宽到上限 {LATIN_STRETCH:.2f} 字"
                         if line.loose else "")
                self.notices.append(_place(loc, text, line.offset, shown).problem(
                    f"注意：{what}里以“{_cut(shown, 12)}”开头的一行排得太松：每个字间加宽 "
                    f"{max(line.stretch, 0):.2f} 字（上限 {HAN_STRETCH:.2f} 字{latin}），"
                    "多因下一行开头的长网址、长数字或英文单词放不进这一行；可调整这一段的文字"))

    def note_role(self, role: str, text: str, loc: Loc | None, generated: bool = False) -> None:
        self.printed.append(Printed(role, text, loc, generated))

    def note_lines(self, lines: list[Line], loc: Loc | None) -> None:
        """Record what each font prints, piece by piece, for the glyph check."""
        for line in lines:
            for piece in line.pieces:
                self.note_role(piece.style.split("+")[0], piece.text, loc)

    def paragraph(self, block: Block, role: str, kind: str = "p",
                  label: Piece | None = None) -> Paragraph:
        L = self.layout
        pieces = [Piece(run.text, role + ("+strong" if run.strong else "")) for run in block.runs]
        if label:
            pieces.insert(0, label)
        indent = 2 * L.pitch
        lines = break_lines(pieces, self._measure(L.body_size), first_width=L.text_width - indent,
                            width=L.text_width, spacing=L.spacing, size=L.body_size, marks="body")
        self.note_lines(lines, block.loc)
        text = "".join(p.text for p in pieces)
        if label:  # the label is generated: offsets in the source start after it
            text = text[len(label.text):]
            lines = [_shifted(line, -len(label.text)) for line in lines]
        self.report_lines(lines, text, block.loc, _BLOCK_NAMES.get(kind, "正文"))
        return Paragraph(kind, "".join(p.text for p in pieces), pieces, lines)

    def title(self, text: Text, role: str, size: float, what: str) -> dict:
        """A centred title, broken between words into balanced lines; a newline the editor
        wrote (a YAML block scalar, 标题: |) is a line break, never a space."""
        pieces = [Piece(text.value, role)]
        lines = balance_lines(pieces, self._measure(size), width=self.layout.text_width,
                              size=size, marks="body")
        self.note_lines(lines, text.loc)
        self.report_lines(lines, text.value, text.loc, what)
        return {"text": title_text(text.value), "lines": lines,
                "parts": title_parts_text(text.value)}

    def distribution(self, label: str, items: tuple[Text, ...]) -> dict:
        L = self.layout
        role = "body"
        text = "，".join(item.value for item in items) + "。"
        for item in items:
            self.note_role(role, item.value, item.loc)
        self.note_role(role, f"{label}：，。", items[0].loc, generated=True)
        label_width = self.measurer.width(role, f"{label}：", L.banji_size)
        width = L.text_width - 2 * L.banji_size - label_width
        lines = break_lines([Piece(text, role)], self._measure(L.banji_size),
                            first_width=width, width=width, spacing=0.0, size=L.banji_size)
        return {"label": label, "text": text, "lines": lines, "label_width": label_width}

    def build(self, pdf_name: str) -> Context:
        issue, L = self.issue, self.layout
        total_cn = chinese_number(issue.total)
        masthead = {
            "name": issue.name,
            "number_line": f"第 {issue.number} 期",
            "total_line": f"（总第{total_cn}期）",
            "compiler_line": f"{issue.compiler.value}编",
            "date_line": date_text(issue.date),
        }
        self.note_role("title", issue.name, issue.locs.get("刊名"))
        # The name is letter-spaced by a quarter em, with a quarter em of indent to balance it.
        name_width = (self.measurer.width("title", issue.name, L.masthead_size)
                      + 0.25 * L.masthead_size * (len(issue.name) + 1))
        self.one_line(name_width, L.text_width, issue.locs.get("刊名"), "报头的刊名")
        meta_width = sum(self.measurer.width("body", masthead[key], L.body_size)
                         for key in ("compiler_line", "date_line"))
        self.one_line(meta_width + 2 * L.body_size, L.text_width, issue.compiler.loc,
                      "报头的编印单位（与日期同在一行，中间至少空两字）")
        for key, source_key in (("number_line", "期号"), ("total_line", "总期号"), ("date_line", "日期")):
            self.note_role("body", masthead[key], issue.locs.get(source_key), generated=True)
        self.note_role("body", masthead["compiler_line"], issue.compiler.loc)

        note = []
        for index, block in enumerate(issue.note):
            label = Piece("【编者按】", "hei") if index == 0 else None
            note.append(self.paragraph(block, "kai", label=label))

        articles = []
        for article in issue.articles:
            blocks = []
            for block in article.blocks:
                if block.level:
                    role = HEADING_ROLES[block.level]
                    blocks.append(self.paragraph(block, role, kind=f"h{block.level}"))
                else:
                    blocks.append(self.paragraph(block, "body"))
            articles.append({
                "title": self.title(article.title, "title", L.title_size, "标题"),
                "subtitle": (self.title(article.subtitle, "kai", L.subtitle_size, "副标题")
                             if article.subtitle else None),
                "blocks": blocks,
            })

        editor = f"责任编辑：{issue.editor.value}" if issue.editor else None
        contact = f"联系方式：{issue.contact.value}" if issue.contact else None
        room = L.text_width - 2 * L.banji_size
        parts = [t for t in (editor, contact) if t]
        widths = [self.measurer.width("body", t, L.banji_size) for t in parts]
        banji = {
            "lists": [self.distribution(label, items) for label, items in issue.distribution],
            "editor": editor,
            "contact": contact,
            # Editor left and contact right on one line when both fit with two characters
            # between them; otherwise each gets its own line.
            "credits_one_line": sum(widths) + 2 * L.banji_size <= room,
            "approval": issue.approval.value,
            "print_count": issue.print_count,
        }
        count = f"共印{issue.print_count}份" if issue.print_count else ""
        for value, label in ((issue.editor, "责任编辑："), (issue.contact, "联系方式："),
                             (issue.approval, "批准文号：")):
            if value:
                self.note_role("body", label, value.loc, generated=True)
                self.note_role("body", value.value, value.loc)
                line = label + value.value + (count + "　" if label == "批准文号：" and count else "")
                self.one_line(self.measurer.width("body", line, L.banji_size), room, value.loc,
                              f"版记的“{label[:-1]}”")
        if issue.print_count:
            self.note_role("body", f"共印{issue.print_count}份", issue.locs.get("印数"),
                           generated=True)

        full_title = f"{issue.name} {issue.year}年第{issue.number}期（总第{issue.total}期）"
        # Document metadata for the PDF (Info and XMP): subject = the article titles, keywords
        # name the bulletin, its compiler and the issue, so an archive can find it.
        subject = "；".join(title_text(article.title.value) for article in issue.articles)
        keywords = [issue.name, issue.compiler.value, f"{issue.year}年第{issue.number}期",
                    f"总第{issue.total}期"]
        values = {
            "issue": {
                "year": issue.year, "number": issue.number, "total": issue.total,
                "total_cn": total_cn, "date": issue.date.isoformat(),
                "date_text": date_text(issue.date), "slug": issue.slug,
                "full_title": full_title, "subject": subject, "keywords": keywords,
            },
            "masthead": masthead,
            "note": note,
            "articles": articles,
            "banji": banji,
            "pdf_name": pdf_name,
            "layout": L,
            "print": self._print_geometry(),
            "fonts": dict(self.fonts),
            "web_fonts": {role.key: _web_stack(role) for role in ROLES},
        }
        return Context(values, self.printed, self.problems, self.notices)

    def _print_geometry(self) -> dict:
        """Offsets that put glyph tops, not line boxes, where GB/T 9704 measures them."""
        L, m = self.layout, self.measurer
        body = m.metrics("body")
        title = m.metrics("title")
        song = m.metrics("song")
        body_gap = body.glyph_top(L.body_size, L.line_height)
        # The masthead's big letters are placed by their ink, which sits visibly below the em box.
        mast_lh = L.masthead_size * 1.0
        mast_ink = max(m.ink_top("title", char) for char in self.issue.name)
        mast_gap = title.baseline(L.masthead_size, mast_lh) - mast_ink * L.masthead_size
        folio_lh = L.folio_size * 1.2
        dash_top = song.baseline(L.folio_size, folio_lh) - m.ink_top("song", "—") * L.folio_size
        return {
            # A title line is one grid line in the title's face and size; moved down by this
            # much, its em box starts where a body glyph's does on the same grid line.
            "title_shift": body_gap - title.glyph_top(L.title_size, L.line_height),
            "margin_top": L.top - body_gap,
            "masthead_shift": body_gap - mast_gap,
            "masthead_line_height": mast_lh,
            "folio_line_height": folio_lh,
            "folio_padding": L.folio_gap - dash_top,
        }


_BLOCK_NAMES = {"p": "正文", "h1": "一级标题", "h2": "二级标题", "h3": "三级标题", "h4": "四级标题"}


def title_text(value: str) -> str:
    """A title as one line of text: the editor's line breaks taken out (a space only where
    they stood between two Latin words)."""
    parts = title_parts_text(value)
    text = parts[0] if parts else ""
    for part in parts[1:]:
        text += (" " if text[-1].isascii() and text[-1].isalnum() and part[0].isascii()
                 and part[0].isalnum() else "") + part
    return text


def title_parts_text(value: str) -> list[str]:
    """The lines an editor asked for in a title (`typeset.title_parts`)."""
    return [value[start:end] for start, end in title_parts(value)]


def _cut(text: str, limit: int = 30) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def _shifted(line: Line, by: int) -> Line:
    from dataclasses import replace

    return replace(line, offset=max(0, line.offset + by))


def _place(loc: Loc, text: str, offset: int, shown: str) -> Loc:
    """Where in the source a line that starts at `offset` of a value's printed text stands.

    The printed text is the source less its markup (Markdown emphasis, joined lines), so the
    line's first characters are looked up in the source span: the same occurrence as in the
    printed text. The whole value's place when they cannot be found."""
    source = loc.source.text
    for length in (12, 6, 3, 1):
        probe = text[offset:offset + length]
        if not probe.strip():
            break
        occurrence = text.count(probe, 0, offset)
        at = loc.start
        for _ in range(occurrence + 1):
            at = source.find(probe, at, loc.end)
            if at == -1:
                break
            at += 1
        if at != -1:
            return Loc(loc.source, at - 1, loc.end)
    return loc


def _web_stack(role) -> str:
    names = list(role.families) + [role.default]
    return ", ".join(f'"{name}"' for name in names) + f", {role.generic}"


def build_context(issue: Issue, fonts: dict[str, ResolvedFont], measurer: Measurer,
                  layout: Layout | None = None) -> Context:
    return _Builder(issue, fonts, measurer, layout or Layout()).build(f"{issue.slug}.pdf")


def _css_string(value: object) -> str:
    """A CSS string literal: quotes and backslashes escaped, no way out of <style>."""
    text = str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")
    return '"' + text.replace("<", "\\3c ") + '"'


class TemplateOutsideProject(jinja2.TemplateError):
    """A template file that a symbolic link takes out of its templates/ folder."""


class _ConfinedLoader(jinja2.FileSystemLoader):
    """Serves only files that really lie in its folder: `..` is refused by Jinja itself, and a
    symbolic link out of the folder (or a folder linked from outside the project) stops the
    build with a message naming the file."""

    def __init__(self, folder: Path, root: Path, shown: str):
        super().__init__(str(folder))
        self.folder, self.root, self.shown = folder, root.resolve(), shown

    def get_source(self, environment, template):
        pieces = jinja2.loaders.split_template_path(template)
        path = self.folder.joinpath(*pieces)
        if path.is_file():
            real = path.resolve()
            inside = self.folder.resolve()
            if not real.is_relative_to(inside) or not inside.is_relative_to(self.root):
                raise TemplateOutsideProject(
                    f"出于安全考虑，不使用模板 {self.shown}/{'/'.join(pieces)}：它指向模板文件夹"
                    f"之外（{real}）。请把模板文件本身放进 {self.shown}/。")
        return super().get_source(environment, template)


def template_environment(root: Path) -> jinja2.Environment:
    """The project's templates/ first, then the ones shipped with the package.

    Sandboxed: a template reads the context's values but cannot reach Python internals
    (`__class__`, `__globals__`, …) to run code."""
    loaders = []
    if (root / "templates").is_dir():
        loaders.append(_ConfinedLoader(root / "templates", root, "templates"))
    loaders.append(_ConfinedLoader(PACKAGE_TEMPLATES, PACKAGE_TEMPLATES.resolve(),
                                   "liandong/templates"))
    env = SandboxedEnvironment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=jinja2.select_autoescape(["html"], disabled_extensions=["css"]),
        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
        keep_trailing_newline=True)
    env.filters["pt"] = lambda value: f"{value:.3f}pt"
    env.filters["css_string"] = _css_string
    return env


def render_print(env: jinja2.Environment, context: Context, print_shop: bool = False) -> str:
    """The print HTML; print_shop=True adds bleed and crop marks and prints in CMYK."""
    return env.get_template("print.html").render(**context.values, print_shop=print_shop)


def render_web(env: jinja2.Environment, context: Context, template: str = "web.html",
               **extra: object) -> str:
    """The web page; the site renders its own page (site_issue.html) with navigation extras."""
    return env.get_template(template).render(**context.values, **extra)
