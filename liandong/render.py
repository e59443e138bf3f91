"""One context per issue, rendered through Jinja into the print HTML and the web page."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import jinja2
from jinja2.runtime import BlockReference, LoopContext, Macro, TemplateReference
from jinja2.sandbox import SandboxedEnvironment
from jinja2.utils import Namespace
from markupsafe import Markup

from liandong import context as ctx
from liandong.context import CONTEXT_TYPES, IssueContext, template_names
from liandong.errors import Problem, display_path
from liandong.fonts import ROLES, Measurer, ResolvedFont, Role, fallback_runs
from liandong.page import MM, Layout
from liandong.source import Block, Loc
from liandong.typeset import (
    HAN_STRETCH,
    LATIN_STRETCH,
    Line,
    Piece,
    balance_lines,
    break_lines,
    chinese_number,
    set_pair,
    title_parts,
)
from liandong.validate import Article as IssueArticle, Issue, Text

if TYPE_CHECKING:
    from liandong.images import ImageFile

PACKAGE_TEMPLATES = Path(__file__).parent / "templates"


@dataclass
class Printed:
    """A piece of text the PDF will print, with its role and where it came from."""

    role: str
    text: str
    loc: Loc | None
    generated: bool = False  # made from a source value (numerals, labels), not copied from it


@dataclass
class Context:
    """Everything both templates need; built once per issue.

    `values` is what the templates receive (context.IssueContext: frozen dataclasses of plain
    data); the code that reads it (the site's metadata, the Typst benchmark) reads the same."""

    values: IssueContext
    printed: list[Printed] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    """Values too long for the one line the layout gives them (the masthead, the 版记 lines),
    and text that cannot be set within the text area (a unit wider than a line)."""
    notices: list[Problem] = field(default_factory=list)
    """Lines the typesetter could set only past its spacing limits (shown as warnings)."""
    images: list[tuple[ctx.FigureForm, ImageFile]] = field(default_factory=list)
    """(figure, images.ImageFile) for each figure: what the outputs' image versions are made
    from (build.IssueRenderer), only when something is rendered."""

    @property
    def template_values(self) -> dict[str, object]:
        """The names a template starts from: the fields of `values` (not copied)."""
        return {f.name: getattr(self.values, f.name) for f in dataclasses.fields(self.values)}

    def with_web_sources(self, sources: dict[int, str]) -> None:
        """Give each figure whose id() is a key of `sources` its web picture (a data: URI):
        the context's figures are frozen, so they are replaced by copies that carry it."""
        replaced: dict[int, ctx.FigureForm] = {}

        def block(item: ctx.Block) -> ctx.Block:
            if isinstance(item, ctx.FigureForm) and id(item) in sources:
                replaced[id(item)] = dataclasses.replace(item, web_src=sources[id(item)])
                return replaced[id(item)]
            return item

        articles = tuple(
            dataclasses.replace(article, blocks=tuple(map(block, article.blocks)))
            for article in self.values.articles
        )
        self.values = dataclasses.replace(self.values, articles=articles)
        self.images = [(replaced.get(id(figure), figure), image) for figure, image in self.images]


HEADING_ROLES = {1: "hei", 2: "kai", 3: "body", 4: "body"}
RUNIN_ROLES = {1: "hei", 2: "kai", 3: "body+strong", 4: "body+strong"}
"""The face of a run-in heading's phrase: 一、 黑体, （一） 楷体, 1. and （1） bold 仿宋 (a
whole-line 1. or （1） heading stands out by its own line; run in, only by its face)."""


def date_text(date: dt.date) -> str:
    return f"{date.year}年{date.month}月{date.day}日"


def issue_datetime(date: dt.date, timezone: str) -> str:
    """The issue's date as a full timestamp, midnight in the series' time zone:
    2024-08-30T00:00:00+08:00. PDF readers and validators compare Info and XMP dates as
    instants, so a date without its time zone meant a different moment to each of them."""
    from zoneinfo import ZoneInfo

    return dt.datetime.combine(date, dt.time(), ZoneInfo(timezone)).isoformat()


class ContextBuilder:
    def __init__(
        self, issue: Issue, fonts: dict[str, ResolvedFont], measurer: Measurer, layout: Layout
    ):
        self.issue, self.fonts, self.measurer, self.layout = issue, fonts, measurer, layout
        self.printed: list[Printed] = []
        self.problems: list[Problem] = []
        self.notices: list[Problem] = []
        self.images: list[tuple[ctx.FigureForm, ImageFile]] = []

    def one_line(self, width: float, room: float, loc: Loc | None, what: str) -> None:
        """A value the layout sets on one line must fit it: report where it is written."""
        if width > room + 0.01 and loc is not None:
            over = (width - room) / MM
            self.problems.append(
                loc.problem(f"{what}太长，一行放不下（超出 {over:.1f} mm），请缩短")
            )

    def _measure(self, size: float) -> Callable[..., float]:
        measurer = self.measurer

        def measure(style: str, text: str, spacing: float = 0.0, full_width: bool = False) -> float:
            return measurer.width(style, text, size, spacing, full_width)

        return measure

    def report_lines(self, lines: list[Line], text: str, loc: Loc | None, what: str) -> None:
        """An overfull line is an error, an underfull one a notice, each at its place."""
        if loc is None:
            return
        for line in lines:
            shown = line.text.strip()
            if line.overfull:
                self.problems.append(
                    _place(loc, text, line.offset, shown).problem(
                        f"{what}里的“{_cut(shown)}”太长，一行排不下，中间又没有可以断行的地方"
                        "（网址只在 / . - ? & 之后断行，电子邮箱还可在 @ 之前断行；数字、电话号码、"
                        "起止年份和英文单词都不拆开）：请改写，例如拆开或缩短"
                    )
                )
            elif line.underfull and not line.stretch and not line.loose:
                self.notices.append(
                    _place(loc, text, line.offset, shown).problem(
                        f"{what}里以“{_cut(shown, 12)}”开头的一行没有可以加宽的字间（整行是"
                        "不能拆开的网址片段、数字或英文），右边留空；可调整这一段的文字"
                    )
                )
            elif line.underfull:
                latin = (
                    f"，西文词间和中西文之间已各加宽到上限 {LATIN_STRETCH:.2f} 字"
                    if line.loose
                    else ""
                )
                self.notices.append(
                    _place(loc, text, line.offset, shown).problem(
                        f"{what}里以“{_cut(shown, 12)}”开头的一行排得太松：每个字间加宽 "
                        f"{max(line.stretch, 0):.2f} 字（上限 {HAN_STRETCH:.2f} 字{latin}），"
                        "多因下一行开头的长网址、长数字或英文单词放不进这一行；可调整这一段的文字"
                    )
                )

    def note_role(self, role: str, text: str, loc: Loc | None, generated: bool = False) -> None:
        self.printed.append(Printed(role, text, loc, generated))

    def note_lines(self, lines: list[Line], loc: Loc | None) -> None:
        """Record what each font prints, piece by piece, for the glyph check."""
        for line in lines:
            for piece in line.pieces:
                self.note_role(piece.style.split("+")[0], piece.text, loc)

    def with_fallback(self, pieces: list[Piece]) -> list[Piece]:
        """The pieces with every character their role's font lacks, and its 补字 font has, in
        a piece of its own whose style is the 补字 font's key (fonts.fallback_runs)."""
        result = []
        for piece in pieces:
            result += [
                Piece(text, style)
                for text, style in fallback_runs(piece.text, piece.style, self.fonts)
            ]
        return result

    def paragraph(
        self, block: Block, role: str, kind: str = "p", label: Piece | None = None
    ) -> ctx.Paragraph:
        L = self.layout
        pieces = [Piece(run.text, role + ("+strong" if run.strong else "")) for run in block.runs]
        if block.lead:  # a run-in heading: its phrase in the heading's face
            pieces = _runin_pieces(block, role)
        if label:
            pieces.insert(0, label)
        indent = 2 * L.pitch
        lines = break_lines(
            self.with_fallback(pieces),
            self._measure(L.body_size),
            first_width=L.text_width - indent,
            width=L.text_width,
            spacing=L.spacing,
            size=L.body_size,
            marks="body",
        )
        self.note_lines(lines, block.loc)
        text = "".join(p.text for p in pieces)
        if label:  # the label is generated: offsets in the source start after it
            text = text[len(label.text) :]
            lines = [_shifted(line, -len(label.text)) for line in lines]
        self.report_lines(lines, text, block.loc, _BLOCK_NAMES.get(kind, "正文"))
        return ctx.Paragraph(
            kind,
            _tag(kind),
            "".join(p.text for p in pieces),
            tuple(pieces),
            typeset_lines(lines),
            block.level if block.lead else 0,
        )

    def title(self, text: Text, role: str, size: float, what: str) -> ctx.Title:
        """A centred title, broken between words into balanced lines; a newline the editor
        wrote (a YAML block scalar, 标题: |) is a line break, never a space."""
        pieces = [Piece(text.value, role)]
        lines = balance_lines(
            self.with_fallback(pieces),
            self._measure(size),
            width=self.layout.text_width,
            size=size,
            marks="body",
        )
        self.note_lines(lines, text.loc)
        self.report_lines(lines, text.value, text.loc, what)
        return ctx.Title(
            title_text(text.value), typeset_lines(lines), tuple(title_parts_text(text.value))
        )

    def styled(self, text: str, role: str) -> ctx.BanjiField:
        """Text set on one line by the template (no spacing of its own): its pieces, 补字
        characters apart."""
        return ctx.BanjiField(text, tuple(self.with_fallback([Piece(text, role)])))

    def banji_width(self, field: ctx.BanjiField) -> float:
        """A 版记 part's width at the 版记's size."""
        return sum(
            self.measurer.width(p.style, p.text, self.layout.banji_size) for p in field.pieces
        )

    def distribution(self, label: str, items: tuple[Text, ...]) -> ctx.DistributionList:
        L = self.layout
        role = "body"
        text = "，".join(item.value for item in items) + "。"
        for item in items:
            self.note_role(role, item.value, item.loc)
        self.note_role(role, f"{label}：，。", items[0].loc, generated=True)
        label_width = self.measurer.width(role, f"{label}：", L.banji_size)
        width = L.banji_room - label_width
        lines = break_lines(
            self.with_fallback([Piece(text, role)]),
            self._measure(L.banji_size),
            first_width=width,
            width=width,
            spacing=0.0,
            size=L.banji_size,
        )
        return ctx.DistributionList(label, text, typeset_lines(lines), label_width)

    def banji(self) -> ctx.Banji:
        """The 版记, laid out here so that every form holds: the lists 报, 送, 发 (wrapped lines
        after the colon), then 责任编辑 at the left and 联系方式 at the right of one line when
        both fit with `Layout.banji_gap` between them, squeezed if need be as a body line may
        be (typeset.set_pair; else 联系方式 on the next line, flush left), then 批准文号 at the
        left with （共印 N 份） flush right on its line, by the same rule (or, when they cannot
        share it, on the next line, flush right). A rule above every row; the lists are one
        row (GB/T 9704 §7.4.2: no rule between 主送 and 抄送).

        Each line is either one part (left or right aligned) or a pair, which the template
        justifies: the one space between the two parts takes up the room left, so the right
        part ends exactly at the right edge. A pair's parts are typeset lines ("lines"), each
        as wide as set_pair measured it."""
        issue, L = self.issue, self.layout
        lists = [self.distribution(label, items) for label, items in issue.distribution]
        count_text = f"（共印 {issue.print_count} 份）" if issue.print_count else None
        fields: dict[str, ctx.BanjiField] = {}
        for key, value, label in (
            ("editor", issue.editor, "责任编辑："),
            ("contact", issue.contact, "联系方式："),
            ("approval", issue.approval, "批准文号："),
        ):
            if value:
                self.note_role("body", label, value.loc, generated=True)
                self.note_role("body", value.value, value.loc)
                fields[key] = self.styled(label + value.value, "body")
                self.one_line(
                    self.banji_width(fields[key]), L.banji_room, value.loc, f"版记的“{label[:-1]}”"
                )
        if count_text:
            self.note_role("body", count_text, issue.locs.get("印数"), generated=True)
            fields["count"] = self.styled(count_text, "body")

        gap = L.banji_gap * L.banji_size
        rows: list[ctx.BanjiRow] = []

        def pair(left: str, right: str, right_align: str) -> tuple[ctx.BanjiLine, ...]:
            """Two parts on one line when they fit, else each on its own line."""
            a, b = fields.get(left), fields.get(right)
            lines = (
                a
                and b
                and set_pair(
                    list(a.pieces),
                    list(b.pieces),
                    self._measure(L.banji_size),
                    width=L.banji_room,
                    gap=gap,
                    size=L.banji_size,
                )
            )
            if a and b and lines:
                return (ctx.BanjiLine("pair", (_pair_part(a, lines[0]), _pair_part(b, lines[1]))),)
            return ((ctx.BanjiLine("left", (a,)),) if a else ()) + (
                (ctx.BanjiLine(right_align, (b,)),) if b else ()
            )

        credits = pair("editor", "contact", "left")
        if credits:
            rows.append(ctx.BanjiRow("credits", credits))
        rows.append(ctx.BanjiRow("approval", pair("approval", "count", "right")))

        line_count = sum(len(item.lines) for item in lists) + sum(len(row.lines) for row in rows)
        row_count = bool(lists) + len(rows)  # the lists are one row: no rule between them
        height = (
            2 * L.banji_outer_rule
            + (row_count - 1) * L.banji_inner_rule
            + row_count * 2 * L.banji_padding
            + line_count * L.banji_line_height
        )
        # The 版记 goes at the foot of a page, one blank grid line below the body; one that
        # does not fit there goes to a page of its own, where it may take the whole text area
        # (the blank line above it then lies in the top margin, where it prints nothing).
        room = L.text_height
        if height > room + 0.01:
            longest = max(issue.distribution, key=lambda entry: len(entry[1]))[0]
            most = int(
                (
                    room
                    - 2 * L.banji_outer_rule
                    - (row_count - 1) * L.banji_inner_rule
                    - row_count * 2 * L.banji_padding
                )
                // L.banji_line_height
            )
            message = (
                f"版记太长，一页放不下：排出来有 {line_count} 行、高 {height / MM:.0f} mm，"
                f"而一页最多排 {most} 行（版心高 {L.text_height / MM:.0f} mm）；"
                f"请减少“{longest}”的单位，或把几个单位合写成一项"
            )
            self.problems.append(issue.locs[longest].problem(message))
        return ctx.Banji(
            lists=tuple(lists),
            rows=tuple(rows),
            editor=fields["editor"].text if "editor" in fields else None,
            contact=fields["contact"].text if "contact" in fields else None,
            approval=issue.approval.value,
            count_text=count_text,
        )

    def masthead(self) -> ctx.Masthead:
        """The masthead's lines, each checked to fit the one line the layout gives it."""
        issue, L = self.issue, self.layout
        number_line = f"第 {issue.number} 期"
        total_line = f"（总第{chinese_number(issue.total)}期）"
        compiler_line = f"{issue.compiler.value}编"
        date_line = date_text(issue.date)
        self.note_role("title", issue.name, issue.locs.get("刊名"))
        # The name is letter-spaced by a quarter em, with a quarter em of indent to balance it.
        name_width = self.measurer.width(
            "title", issue.name, L.masthead_size
        ) + 0.25 * L.masthead_size * (len(issue.name) + 1)
        self.one_line(name_width, L.text_width, issue.locs.get("刊名"), "报头的刊名")
        meta_width = sum(
            self.measurer.width("body", line, L.body_size) for line in (compiler_line, date_line)
        )
        self.one_line(
            meta_width + 2 * L.body_size,
            L.text_width,
            issue.compiler.loc,
            "报头的编印单位（与日期同在一行，中间至少空两字）",
        )
        for line, source_key in (
            (number_line, "期号"),
            (total_line, "总期号"),
            (date_line, "日期"),
        ):
            self.note_role("body", line, issue.locs.get(source_key), generated=True)
        self.note_role("body", compiler_line, issue.compiler.loc)
        # What the print edition sets in spans, so that a 补字 character gets its own.
        return ctx.Masthead(
            name=issue.name,
            number_line=number_line,
            total_line=total_line,
            compiler_line=compiler_line,
            date_line=date_line,
            name_pieces=tuple(self.with_fallback([Piece(issue.name, "title")])),
            compiler_pieces=tuple(self.with_fallback([Piece(compiler_line, "body")])),
        )

    def note(self) -> tuple[ctx.Paragraph, ...]:
        """The 编者按 in Kai, its first paragraph opening with 【编者按】 in Hei."""
        return tuple(
            self.paragraph(block, "kai", label=Piece("【编者按】", "hei") if index == 0 else None)
            for index, block in enumerate(self.issue.note)
        )

    def article(self, article: IssueArticle) -> ctx.Article:
        L = self.layout
        blocks: list[ctx.Block] = []
        for block in article.blocks:
            if not isinstance(block, Block):
                from liandong.forms import article_form  # only for an issue that has one

                blocks.append(article_form(self, block))
            elif block.level and not block.lead:
                role = HEADING_ROLES[block.level]
                blocks.append(self.paragraph(block, role, kind=f"h{block.level}"))
            else:
                blocks.append(self.paragraph(block, "body"))
        return ctx.Article(
            title=self.title(article.title, "title", L.title_size, "标题"),
            subtitle=(
                self.title(article.subtitle, "kai", L.subtitle_size, "副标题")
                if article.subtitle
                else None
            ),
            blocks=tuple(blocks),
        )

    def issue_info(self) -> ctx.IssueInfo:
        issue = self.issue
        full_title = f"{issue.name} {issue.year}年第{issue.number}期（总第{issue.total}期）"
        # Document metadata for the PDF (Info and XMP): subject = the article titles, keywords
        # name the bulletin, its compiler and the issue, so an archive can find it.
        subject = "；".join(title_text(article.title.value) for article in issue.articles)
        keywords = (
            issue.name,
            issue.compiler.value,
            f"{issue.year}年第{issue.number}期",
            f"总第{issue.total}期",
        )
        return ctx.IssueInfo(
            year=issue.year,
            number=issue.number,
            total=issue.total,
            total_cn=chinese_number(issue.total),
            date=issue.date.isoformat(),
            created=issue_datetime(issue.date, issue.timezone),
            date_text=date_text(issue.date),
            slug=issue.slug,
            full_title=full_title,
            subject=subject,
            keywords=keywords,
        )

    def build(self, pdf_name: str) -> Context:
        issue = self.issue
        masthead = self.masthead()
        note = self.note()
        articles = tuple(self.article(article) for article in issue.articles)
        banji = self.banji()
        values = ctx.IssueContext(
            issue=self.issue_info(),
            masthead=masthead,
            note=note,
            articles=articles,
            has_forms=any(
                not isinstance(block, ctx.Paragraph)
                for article in articles
                for block in article.blocks
            ),
            banji=banji,
            pdf_name=pdf_name,
            layout=self.layout,
            print=self._print_geometry(),
            fonts={key: font_face(font) for key, font in self.fonts.items()},
            web_fonts={role.key: _web_stack(role) for role in ROLES},
        )
        return Context(
            values, self.printed, self.problems, list(issue.notices) + self.notices, self.images
        )

    def _print_geometry(self) -> ctx.PrintGeometry:
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
        # The page number's dashes are full-width (print.css: font-variant-east-asian).
        dash = m.ink_top("song", "—", features={"fwid": True})
        dash_top = song.baseline(L.folio_size, folio_lh) - dash * L.folio_size
        return ctx.PrintGeometry(
            # A title line is one grid line in the title's face and size; moved down by this
            # much, its em box starts where a body glyph's does on the same grid line.
            title_shift=body_gap - title.glyph_top(L.title_size, L.line_height),
            margin_top=L.top - body_gap,
            masthead_shift=body_gap - mast_gap,
            masthead_line_height=mast_lh,
            folio_line_height=folio_lh,
            folio_padding=L.folio_gap - dash_top,
        )


def typeset_lines(lines: list[Line]) -> tuple[ctx.Line, ...]:
    """Typeset lines as the print templates draw them: their pieces and letter-spacing."""
    return tuple(ctx.Line(tuple(line.pieces), line.spacing) for line in lines)


def _tag(kind: str) -> str:
    """HTML element: h1 is the bulletin's name and h2 an article title, so 一、 is h3."""
    return "p" if kind == "p" else f"h{int(kind[1]) + 2}"


def _pair_part(field: ctx.BanjiField, line: Line) -> ctx.BanjiPairPart:
    return ctx.BanjiPairPart(field.text, field.pieces, typeset_lines([line]))


def font_face(font: ResolvedFont) -> ctx.FontFace:
    """What the print CSS needs of a resolved font: names, weight, and where its file is (a URI
    string, not a path object a template could call methods on)."""
    return ctx.FontFace(
        key=font.key,
        css_family=font.css_family,
        weight=font.weight,
        origin=font.origin,
        fallback=font.fallback,
        url=font.file.as_uri(),
    )


_BLOCK_NAMES = {"p": "正文", "h1": "一级标题", "h2": "二级标题", "h3": "三级标题", "h4": "四级标题"}


def title_text(value: str) -> str:
    """A title as one line of text: the editor's line breaks taken out (a space only where
    they stood between two Latin words)."""
    parts = title_parts_text(value)
    text = parts[0] if parts else ""
    for part in parts[1:]:
        text += (
            " "
            if text[-1].isascii() and text[-1].isalnum() and part[0].isascii() and part[0].isalnum()
            else ""
        ) + part
    return text


def title_parts_text(value: str) -> list[str]:
    """The lines an editor asked for in a title (`typeset.title_parts`)."""
    return [value[start:end] for start, end in title_parts(value)]


def _runin_pieces(block: Block, body: str) -> list[Piece]:
    """A run-in heading's pieces: the first `lead` characters (the heading phrase) in the face
    of its level (RUNIN_ROLES), the rest in the body's, **strong** kept."""
    head = RUNIN_ROLES[block.level]
    pieces, at = [], 0
    for run in block.runs:
        for start, end, role in (
            (at, min(at + len(run.text), block.lead), head),
            (max(at, block.lead), at + len(run.text), body),
        ):
            if start < end:
                text = run.text[start - at : end - at]
                strong = run.strong and "+strong" not in role and role != "kai"
                pieces.append(Piece(text, role + ("+strong" if strong else "")))
        at += len(run.text)
    return pieces


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
        probe = text[offset : offset + length]
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


def _web_stack(role: Role) -> str:
    names = list(dict.fromkeys(role.families + role.defaults + role.fallbacks))
    return ", ".join(f'"{name}"' for name in names) + f", {role.generic}"


def build_context(
    issue: Issue, fonts: dict[str, ResolvedFont], measurer: Measurer, layout: Layout | None = None
) -> Context:
    return ContextBuilder(issue, fonts, measurer, layout or Layout()).build(f"{issue.slug}.pdf")


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
                    f"出于安全考虑，不使用模板 {display_path(self.shown + '/' + '/'.join(pieces))}："
                    f"它指向模板文件夹之外（{display_path(real)}）。请把模板文件本身放进 {self.shown}/。"
                )
        return super().get_source(environment, template)


PLAIN_TYPES = (str, Markup, int, float, bool, type(None), list, tuple, dict)
"""What a template may be given besides the context's own types (context.CONTEXT_TYPES): text,
numbers, lists and mappings of them, and Markup that liandong built. Exact types: a subclass
could carry methods of its own."""


def impure(value: object, where: str = "") -> str | None:
    """Where a value holds something other than plain data (`PLAIN_TYPES`, and the context's
    dataclasses of them), or None."""
    stack = [(value, where)]
    while stack:
        item, path = stack.pop()
        kind = type(item)
        if kind in CONTEXT_TYPES:
            stack += [
                (getattr(item, name), f"{path}.{name}" if path else name)
                for name in sorted(template_names(kind))
            ]
            continue
        if kind not in PLAIN_TYPES:
            return f"{path or '(top)'}: {kind.__module__}.{kind.__qualname__}"
        if isinstance(item, dict):
            for key, child in item.items():
                if type(key) is not str:
                    return f"{path}[{key!r}]: key of type {type(key).__name__}"
                stack.append((child, f"{path}.{key}" if path else key))
        elif isinstance(item, (list, tuple)):
            stack += [(child, f"{path}[{index}]") for index, child in enumerate(item)]
    return None


_JINJA_TYPES = (LoopContext, Namespace, TemplateReference, Macro, BlockReference)
"""Jinja's own objects that a template handles: loops, namespaces, self, macros and blocks."""

_DICT_METHODS = frozenset({"items", "keys", "values", "get"})
_LOOP_METHODS = frozenset({"cycle", "changed"})


class _Sandbox(SandboxedEnvironment):
    """Jinja's sandbox (no `_` attributes, no Python internals), narrowed to plain data.

    Attributes are read only from plain data and Jinja's own loop, namespace, macro and block
    objects, and a template may call only what `is_safe_callable` allows: its macros and
    blocks (`super()`, `caller()`, `self.block()`), a recursive `loop()` and `loop.cycle()`,
    the mapping methods items/keys/values/get, and the globals `range` and `namespace`.
    Filters and tests are liandong's and Jinja's own functions, not reached through values.
    Nothing a template can reach touches a file: the context holds no objects with methods."""

    def __init__(self, **options):
        super().__init__(**options)
        for name in ("dict", "lipsum", "cycler", "joiner"):
            self.globals.pop(name, None)
        self._allowed_globals = tuple(self.globals.values())

    def wrap_str_format(self, value):
        """No str.format/format_map at all (Jinja would hand out a sandboxed wrapper, and
        wrappers of wrappers through `__wrapped__`): the `format` filter does the same job."""
        return None

    def is_safe_attribute(self, obj: object, attr: str, value: object) -> bool:
        if not super().is_safe_attribute(obj, attr, value):
            return False
        if type(obj) in CONTEXT_TYPES:  # the context's dataclasses: their fields, no methods
            return attr in template_names(type(obj))
        if type(obj) not in PLAIN_TYPES and not isinstance(obj, _JINJA_TYPES):
            return False
        return not callable(value) or self.is_safe_callable(value)

    def is_safe_callable(self, obj: object) -> bool:
        if not super().is_safe_callable(obj):
            return False
        if isinstance(obj, (Macro, BlockReference, LoopContext)):
            return True
        if any(obj is allowed for allowed in self._allowed_globals):
            return True
        owner, name = getattr(obj, "__self__", None), getattr(obj, "__name__", None)
        if type(owner) is dict:
            return name in _DICT_METHODS
        if type(owner) is LoopContext:
            return name in _LOOP_METHODS
        return False


def template_environment(root: Path) -> jinja2.Environment:
    """The project's templates/ first, then the ones shipped with the package.

    Sandboxed (`_Sandbox`): a template reads the context's plain values and calls only its own
    macros and a few harmless helpers, so it cannot read or write files or run code."""
    loaders = []
    if (root / "templates").is_dir():
        loaders.append(_ConfinedLoader(root / "templates", root, "templates"))
    loaders.append(
        _ConfinedLoader(PACKAGE_TEMPLATES, PACKAGE_TEMPLATES.resolve(), "liandong/templates")
    )
    env = _Sandbox(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=jinja2.select_autoescape(["html"], disabled_extensions=["css"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["pt"] = lambda value: f"{value:.3f}pt"
    env.filters["css_string"] = _css_string
    return env


def render_print(env: jinja2.Environment, context: Context, print_shop: bool = False) -> str:
    """The print HTML; print_shop=True adds bleed and crop marks and prints in CMYK."""
    return env.get_template("print.html").render(**context.template_values, print_shop=print_shop)


def render_web(
    env: jinja2.Environment, context: Context, template: str = "web.html", **extra: object
) -> str:
    """The web page; the site renders its own page (site_issue.html) with navigation extras."""
    return env.get_template(template).render(**context.template_values, **extra)
