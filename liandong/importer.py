"""Import a published issue (text extracted from its PDF, or a Word/WPS .docx) into sources.

Two readers turn a file into the same stream of paragraphs (`Para`); one recogniser maps that
stream to the masthead, the editor's note, articles (title, subtitle, headings, paragraphs) and
the 版记; one writer turns the result into issue.yaml and NN.md.

The text is kept raw: half-width commas and brackets stay for `liandong check --fix` to repair.
Only what extraction did to the text is undone: page numbers, paragraphs split at page breaks,
lines wrapped inside a paragraph, and a title run together with its subtitle.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from liandong import limits
from liandong.errors import LiandongError, Problem, SourceErrors, display_path, os_reason
from liandong.files import write_new
from liandong.source import ISSUE_FILE, decode_source, join_lines, normalise_newlines, yaml_scalar
from liandong.validate import (
    DISTRIBUTION_KEYS,
    ISSUE_SCHEMA,
    SERIES_SCHEMA,
    issue_folder,
    issue_place,
    load_issues,
    load_series,
)

logger = logging.getLogger(__name__)

TITLE_MAX = 40
"""Longest title (or subtitle part) in characters; longer unfinished lines are body text."""
SUBTITLE_MAX = 60
HEADING_MAX = 40
MASTHEAD_NAME_MAX = 20

_TERMINAL = "。！？…"
_CLOSERS = "”’」』）)》】"
_OPENERS = "（(【[《“‘「『"
_SPACES = " \t\u3000"

_NOTE_LABEL = re.compile(r"^[【\[]?\s*编\s*者\s*按\s*[】\]]?\s*[：:]?\s*")
_COLOPHON_LABEL = re.compile(
    r"(?:(?:^|(?<=[\s　]))(报|送|发)|(责任编辑|联系方式|批准文号))\s*[：:]\s*"
)
"""A 版记 label. 报, 送 and 发 open a line or follow a space (印发：… is not 发：); the longer
labels may follow the text before them directly: the 版记 sets 联系方式 half a character after
责任编辑's name, which a PDF gives as no space at all."""
_PRINT_COUNT = re.compile(r"[(（]?\s*共印\s*([0-9０-９]+)\s*份\s*[)）]?")
_PAGE_NUMBER = re.compile(r"[—–\-－―]{1,2}\s*[0-9０-９]{1,3}\s*[—–\-－―]{1,2}|[0-9０-９]{1,3}")

_CN_DIGITS = "〇零一二三四五六七八九十百千"
_NUMBER = rf"[0-9０-９]+|[{_CN_DIGITS}]+"
ISSUE_NUMBER = re.compile(rf"第\s*({_NUMBER})\s*期")
TOTAL_NUMBER = re.compile(rf"[(（]\s*总\s*第\s*({_NUMBER})\s*期\s*[)）]")
MASTHEAD_DATE = re.compile(rf"({_NUMBER})\s*年\s*({_NUMBER})\s*月\s*({_NUMBER})\s*日")
_COMPILER = re.compile(r"(\S(?:.*\S)?)\s*编(?=\s|$)")

HEADING_NUMBERS = {
    1: re.compile(r"[一二三四五六七八九十百]+、"),
    2: re.compile(r"[（(][一二三四五六七八九十百]+[）)]"),
    3: re.compile(r"[0-9]+[.．](?![0-9])"),
    4: re.compile(r"[（(][0-9]+[）)]"),
}
"""Body headings by their number, both widths (the text stays raw; check --fix repairs it)."""

STYLE_HEADING = re.compile(r"(?i)(?:heading|标题)\s*([1-9])")
STYLE_TITLE = re.compile(r"(?i)title|标题")
STYLE_SUBTITLE = re.compile(r"(?i)subtitle|副标题")


@dataclass
class Para:
    """One paragraph as a reader found it: its lines, and where it starts."""

    lines: list[str]
    where: str
    """"FILE:LINE:1" for text, "FILE（第 N 段）" for Word: named in messages."""
    role: str = ""
    """From Word styles: "title", "subtitle", "heading"; from a PDF's layout also "text" (a
    paragraph or a numbered heading, never a title), "masthead" and "colophon"; else unknown."""
    page_break_before: bool = False
    joinable: bool = True
    """Text extracted from a PDF may be split at page breaks; Word paragraphs never are (nor
    paragraphs read from a PDF's layout: pdfimport has rejoined them)."""
    styled: str = ""
    """The face of each character of `text`, when the reader knows it (a PDF's fonts, Word's
    runs): "." the body's, "b" bold, "f" another face (楷体, 黑体), "F" another face in bold.
    Empty: all in the body's face."""
    payload: object = None
    """What a Word reader found besides text (role "table", "item", "figure"): a Table,
    an Item or a Figure of this module."""

    @property
    def text(self) -> str:
        return join_lines(self.lines)


@dataclass
class Text:
    """A paragraph, or a heading (level 1–4): whole-line, or run in (`lead` > 0: the heading
    phrase is text[:lead], the paragraph goes on after it)."""

    text: str
    level: int = 0
    lead: int = 0
    strong: list[tuple[int, int]] = field(default_factory=list)
    """Bold runs, as offsets into the text."""


@dataclass
class Item:
    """One list item: bulleted, or numbered with the number as printed."""

    text: str
    ordered: bool
    number: int = 0
    strong: list[tuple[int, int]] = field(default_factory=list)


@dataclass
class Items:
    items: list[Item]

    @property
    def ordered(self) -> bool:
        return self.items[0].ordered


@dataclass
class Table:
    """A table: its caption (表…) and rows of cells (text, bold runs), the first the header."""

    caption: str
    rows: list[list[tuple[str, list[tuple[int, int]]]]]


@dataclass
class Figure:
    """A picture to copy into the issue's folder as `file`, with its caption (图…)."""

    caption: str
    file: str
    data: bytes
    width_mm: float | None = None


@dataclass
class NoteBlock:
    """A 注 block: its first item begins with 注：; the others with their number."""

    items: list[str]


Form = Text | Items | Table | Figure | NoteBlock


@dataclass
class Article:
    title: str
    subtitle: str | None
    blocks: list[Form] = field(default_factory=list)
    where: str = ""


@dataclass
class Imported:
    name_lines: list[Para]
    """Unrecognised short masthead lines: the 刊名 is one of them."""
    number: int
    total: int
    date: dt.date
    values: dict[str, object]
    """Masthead and 版记 values as printed: 编印单位, 批准文号, 责任编辑, 联系方式, 报, 送, 发, 印数."""
    note: list[str]
    articles: list[Article]
    name: str = ""


# --- Readers ------------------------------------------------------------------------------


def read_paragraphs(path: Path, name: str) -> list[Para]:
    """The file's paragraphs, by its format; a clear error for anything else."""
    suffix = path.suffix.lower()
    if not path.exists():
        raise LiandongError(f"{name}: 找不到要导入的文件")
    if not path.is_file():
        raise LiandongError(f"{name}: 这不是普通文件（可能是文件夹、管道或设备），无法导入")
    if suffix == ".docx":
        from liandong.docximport import read_docx  # python-docx loads only for Word files

        return read_docx(path, name)
    if suffix in (".txt", ".text"):
        return read_text(path, name)
    if suffix == ".pdf":
        from liandong.pdfimport import read_pdf  # PDFium loads only for PDFs

        return read_pdf(path, name)
    if suffix in (".doc", ".wps", ".rtf", ".odt"):
        raise LiandongError(
            f"{name}: 不支持 {display_path(suffix)} 格式，请在 Word/WPS 中另存为 .docx 再导入"
        )
    raise LiandongError(
        f"{name}: 不认识的文件格式“{display_path(suffix) if suffix else '（无扩展名）'}”："
        "只能导入 PDF（.pdf）、Word 文档（.docx）和纯文本（.txt，UTF-8 或 GBK 编码）"
    )


def _decode(raw: bytes, name: str) -> str:
    """UTF-8 (BOM tolerated), UTF-16 with a BOM, or GBK/GB18030 with a notice: the sources'
    own recognition (source.decode_source), so import and build agree on what a file is."""
    try:
        text, encoding, _ = decode_source(raw)
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise LiandongError(
            f"{name}:{line}:1: 文件既不是 UTF-8 文本，也不是 GBK/GB18030 编码的"
            "文本，无法导入；请另存为 UTF-8 纯文本"
        ) from None
    if not _looks_like_text(text):
        raise LiandongError(f"{name}: 这不是纯文本文件（含有二进制数据），无法导入")
    if encoding == "gb18030":
        logger.warning(
            "%s 是 GBK/GB18030 编码（Windows 记事本、WPS 常用），已按 GB18030 读取"
            "并转成 UTF-8；请核对导入的文字有无乱码",
            name,
        )
    return text


def _looks_like_text(text: str) -> bool:
    return not any(unicodedata.category(c) == "Cc" and c not in "\t\n\r\f" for c in text)


def read_limited(path: Path, name: str, limit: int, which: str) -> bytes:
    """The file's bytes, its size checked before anything is read (and again while reading)."""
    try:
        with path.open("rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            raw = handle.read(limit + 1) if size <= limit else b""
    except OSError as exc:
        raise LiandongError(f"{name}: 无法读取文件：{os_reason(exc)}") from None
    if size > limit or len(raw) > limit:
        shown = f"{size / (1024 * 1024):.1f} MB" if size >= 1024 * 1024 else f"{size // 1024} KB"
        raise LiandongError(
            f"{name}: 文件有 {shown}，超过 {size_shown(limit)} 的上限（limits.{which}）："
            "这不像是一期简报，没有导入"
        )
    return raw


def size_shown(limit: int) -> str:
    return f"{limit // (1024 * 1024)} MB" if limit >= 1024 * 1024 else f"{limit // 1024} KB"


def read_text(path: Path, name: str) -> list[Para]:
    """Paragraphs of extracted text: blank lines separate them, page numbers mark page breaks."""
    raw = read_limited(path, name, limits.IMPORT_TEXT_BYTES, "IMPORT_TEXT_BYTES")
    text = normalise_newlines(_decode(raw, name))
    groups: list[tuple[list[tuple[int, str]], bool]] = []
    current: list[tuple[int, str]] = []
    page_break = False

    def flush() -> None:
        nonlocal current, page_break
        if current:
            groups.append((current, page_break))
            page_break = False
        current = []

    for number, line in enumerate(text.split("\n"), start=1):
        pieces = line.split("\f")
        for index, piece in enumerate(pieces):
            if index:  # a form feed: pdftotext's page end
                flush()
                page_break = True
            stripped = piece.strip(_SPACES)
            if not stripped:
                flush()
            elif _PAGE_NUMBER.fullmatch(stripped):
                flush()
                page_break = True
            else:
                if current and _starts_new_paragraph(piece, current[-1][1]):
                    flush()
                current.append((number, piece))
    flush()
    paras = []
    splitter = Splitter()
    for lines, after_break in groups:
        for part in splitter.split(lines):
            paras.append(
                Para(
                    [line.strip(_SPACES) for _, line in part],
                    f"{name}:{part[0][0]}:1",
                    page_break_before=after_break,
                )
            )
            after_break = False
    return paras


def _indent(line: str) -> int:
    lead = line[: len(line) - len(line.lstrip(_SPACES))]
    return lead.count(" ") + 4 * lead.count("\t") + 2 * lead.count("\u3000")


def _starts_new_paragraph(line: str, previous: str) -> bool:
    """A first-line indent deeper than the line before starts a new paragraph."""
    return _indent(line) >= 2 and _indent(line) > _indent(previous)


class Splitter:
    """Cuts a reader's line groups where a line must stand alone even without a blank line:
    the masthead lines (only at the top, so a wrapped body line ending in 编 stays put),
    【编者按】 and the 版记 labels."""

    def __init__(self) -> None:
        self.in_masthead = True

    def _kind(self, text: str) -> str:
        """ "masthead" (a line of its own), "label" (starts a paragraph) or ""."""
        if is_note(text) or colophon_start(text):
            self.in_masthead = False
            return "label"
        if self.in_masthead and is_masthead_line(text):
            if MASTHEAD_DATE.search(text):  # the date is the masthead's last line
                self.in_masthead = False
            return "masthead"
        return ""

    def split(self, lines: list[tuple[int, str]]) -> list[list[tuple[int, str]]]:
        parts: list[list[tuple[int, str]]] = []
        previous = ""
        for key, line in lines:
            kind = self._kind(line.strip(_SPACES))
            if not parts or kind or previous == "masthead":
                parts.append([(key, line)])
            else:
                parts[-1].append((key, line))
            previous = kind
        return parts


# --- Recognising ------------------------------------------------------------------------


def _to_int(text: str) -> int | None:
    text = unicodedata.normalize("NFKC", text)
    if text.isdigit():
        # int() refuses more than 4,300 digits; anything this long is over every limit anyway.
        return int(text) if len(text) <= 18 else 10**18
    if all(c in "〇零一二三四五六七八九" for c in text) and len(text) >= 2:  # 二〇二四
        return int("".join(str("〇一二三四五六七八九".index(c) if c != "零" else 0) for c in text))
    import cn2an  # lazily: importing it takes 0.13 s

    try:
        return int(cn2an.cn2an(text, "normal"))
    except (ValueError, KeyError):
        return None


def is_masthead_line(text: str) -> bool:
    return bool(
        ISSUE_NUMBER.fullmatch(text)
        or TOTAL_NUMBER.fullmatch(text)
        or MASTHEAD_DATE.fullmatch(text)
        or (_COMPILER.fullmatch(text) and len(text) <= 40)
        or (
            (m := _COMPILER.match(text)) and MASTHEAD_DATE.fullmatch(text[m.end() :].strip(_SPACES))
        )
    )


def _finished(text: str) -> bool:
    """Does the paragraph end a sentence (。！？…, maybe followed by closing quotes)?

    A colon counts too: "会议提出三点要求：" introduces the next paragraph, it is no title
    and no paragraph cut by a page break."""
    stripped = text.rstrip(_SPACES + _CLOSERS)
    return bool(stripped) and stripped[-1] in _TERMINAL + "!?：:"


def heading_level(text: str) -> int:
    """1–4 for a numbered heading line (一、 （一） 1. （1）), else 0."""
    if len(text) > HEADING_MAX or _finished(text) or re.search(r"[。！？]", text):
        return 0
    for level, pattern in HEADING_NUMBERS.items():
        match = pattern.match(text)
        if match and text[match.end() :].strip(_SPACES):
            return level
    return 0


def split_title(text: str) -> tuple[str, str | None]:
    """A title run together with its subtitle: "标题： 副标题" or "标题 ——副标题"."""
    match = re.fullmatch(r"(.+?)[：:][ \t\u3000]+(\S.*)", text) or re.fullmatch(
        r"(.+?)[ \t\u3000]+(——\S.*)", text
    )
    if match:
        return match.group(1).strip(_SPACES), match.group(2).strip(_SPACES)
    return text, None


def _title_like(text: str, relaxed: bool) -> bool:
    """A short line that does not end a sentence: a title (or subtitle) rather than body text.

    Where a title is due (after the masthead, the note or a title) commas are allowed; in the
    middle of an article a comma marks the first half of a paragraph split at a page break."""
    if (
        _finished(text)
        or heading_level(text)
        or text[0] in _OPENERS
        or re.search(r"[。！？]", text)
    ):
        return False
    title, subtitle = split_title(text)
    if len(title) > TITLE_MAX or (subtitle is not None and len(subtitle) > SUBTITLE_MAX):
        return False
    return relaxed or not re.search(r"[，,；;]", title)


def is_note(text: str) -> bool:
    return bool(_NOTE_LABEL.match(text)) and "编者按" in text[:6]


def colophon_start(text: str) -> bool:
    return bool(_COLOPHON_LABEL.match(text) or _PRINT_COUNT.fullmatch(text))


def recognise(paras: list[Para], name: str) -> Imported:
    """Map the paragraphs of a published issue to its parts; raises with a Chinese message."""
    masthead, rest = _masthead(paras, name)
    body, colophon = rest, []
    # A PDF's layout has found the 版记 already; in text, it starts at its first label.
    by_layout = any(para.role == "colophon" for para in rest)
    for index, para in enumerate(rest):
        if para.role == "colophon" if by_layout else colophon_start(para.text):
            body, colophon = rest[:index], rest[index:]
            break
    masthead.note, masthead.articles = _body(body, name)
    masthead.values.update(_colophon(colophon))
    return masthead


def _masthead(paras: list[Para], name: str) -> tuple[Imported, list[Para]]:
    """刊名, 第 N 期, （总第 N 期）, “…编” and the date, from the first lines (the issue without
    its note, articles and 版记 values yet)."""
    found_number: tuple[int | None, Para, str] | None = None
    found_total: tuple[int | None, Para, str] | None = None
    found_date: tuple[re.Match[str], Para] | None = None
    values: dict[str, object] = {}
    names: list[Para] = []
    index = 0
    # A PDF's layout marks the masthead's items: all of them, and nothing else, are read here.
    by_layout = any(para.role == "masthead" for para in paras)
    for index, para in enumerate(paras):  # noqa: B007 - where it breaks: read after the loop
        text = para.text
        if by_layout:
            if para.role != "masthead":
                break
        elif is_note(text) or (found_number and not is_masthead_line(text)):
            break
        matched = False
        if match := ISSUE_NUMBER.fullmatch(text):
            found_number = found_number or (_to_int(match.group(1)), para, match.group(1))
            matched = True
        elif match := TOTAL_NUMBER.fullmatch(text):
            found_total = found_total or (_to_int(match.group(1)), para, match.group(1))
            matched = True
        else:
            rest = text
            if (compiler := _COMPILER.match(text)) and (
                MASTHEAD_DATE.fullmatch(text[compiler.end() :].strip(_SPACES))
                or not text[compiler.end() :].strip()
            ):
                values.setdefault("编印单位", compiler.group(1))
                rest = text[compiler.end() :].strip(_SPACES)
                matched = True
            if dated := MASTHEAD_DATE.fullmatch(rest):
                found_date = found_date or (dated, para)
                matched = True
        if not matched:
            if not by_layout and (len(text) > MASTHEAD_NAME_MAX or found_number):
                break
            names.append(para)
    else:
        index = len(paras)
    if not found_number:
        where = paras[0].where if paras else f"{name}:1:1"
        if not names:
            raise LiandongError(
                f"{where}: 找不到报头：文件开头应是刊名和“第 N 期”，这不像是一期已发表的简报"
            )
        raise LiandongError(f"{where}: 报头里找不到期号（如“第 13 期”）")
    number, number_para, number_text = found_number
    if not number:
        raise LiandongError(f"{number_para.where}: 期号“{number_text}”不是数字")
    if not found_total:
        raise LiandongError(f"{number_para.where}: 报头里找不到总期号（如“（总第七百一十四期）”）")
    total, total_para, total_text = found_total
    if not total:
        raise LiandongError(f"{total_para.where}: 总期号“{total_text}”不是数字")
    if not found_date:
        raise LiandongError(f"{number_para.where}: 报头里找不到日期（如“2024年8月30日”）")
    date_match, date_para = found_date
    year, month, day = (_to_int(g) for g in date_match.groups())
    try:
        date = dt.date(year or 0, month or 0, day or 0)
    except (ValueError, OverflowError):
        raise LiandongError(f"{date_para.where}: 日期“{date_match.group(0)}”不是有效日期") from None
    if not names:
        raise LiandongError(f"{paras[0].where}: 报头里找不到刊名")
    # Only an issue that has a folder every command reads (issues/<1000-9999>/<1-999>), and
    # numbers the schema accepts: `check`, `build --all` and the site never see anything else.
    unread = "没有这样的文件夹，check、build 和网站都读不到它，无法导入"
    if issue_place(1000, number) is not None:
        raise LiandongError(
            f"{number_para.where}: 期号“{number_text}”不在 1 至 "
            f"{ISSUE_SCHEMA['期号'].maximum} 之间：{unread}"
        )
    if issue_place(date.year, number) is not None:
        raise LiandongError(
            f"{date_para.where}: 日期“{date_match.group(0)}”的年份不在 1000 至 9999 之间：{unread}"
        )
    most = ISSUE_SCHEMA["总期号"].maximum or 0
    if total > most:
        raise LiandongError(f"{total_para.where}: 总期号“{total_text}”大于 {most}，无法导入")
    return (
        Imported(
            name_lines=names,
            number=number,
            total=total,
            date=date,
            values=values,
            note=[],
            articles=[],
        ),
        paras[index:],
    )


def _body(paras: list[Para], name: str) -> tuple[list[str], list[Article]]:
    """The editor's note, then articles: title, subtitle, headings and paragraphs."""
    note: list[str] = []
    articles: list[Article] = []
    state = "start"  # start → note → title → body (→ title …)
    index = 0
    while index < len(paras):
        para = paras[index]
        text = para.text
        index += 1
        if para.payload is not None:
            if articles:
                _add_block(articles[-1], para, para.role, 0, text, "")
                state = "body"
            else:
                logger.warning(
                    "%s: %s在第一篇文章的标题之前，未导入",
                    para.where,
                    {"table": "表格", "figure": "图片", "item": "列表"}[para.role],
                )
            continue
        if state in ("start", "note") and not articles and is_note(text):
            text = _NOTE_LABEL.sub("", text, count=1)
            state = "note"
            if not text:
                continue
        relaxed = state != "body"
        # A paragraph that stops mid-sentence continues after a page break.
        while (
            para.joinable
            and index < len(paras)
            and paras[index].joinable
            and not _finished(text)
            and not heading_level(text)
            and (paras[index].page_break_before or not _title_like(text, relaxed))
        ):
            text = join_lines([text, paras[index].text])
            index += 1
        level = heading_level(text)
        if para.role == "text":
            kind = "heading" if level else "paragraph"
        elif para.role == "heading" and not level:
            kind = "title"  # a styled heading without a number: Word users style titles so
        elif para.role in ("title", "subtitle"):
            kind = para.role
        elif level:
            kind = "heading"
        elif _title_like(text, relaxed):
            kind = "title"
        else:
            kind = "paragraph"
        # A second title-like line right after a title is its subtitle.
        if kind == "subtitle" or (kind == "title" and para.role != "title" and state == "title"):
            if state == "title" and articles[-1].subtitle is None:
                articles[-1].subtitle = text
                state = "body"
                continue
            kind = "title" if not articles else "paragraph"
        if kind == "title":
            title, subtitle = split_title(text) if para.role != "title" else (text, None)
            articles.append(Article(title, subtitle, where=para.where))
            state = "title"
        elif state == "note":
            note.append(text)
        elif not articles:
            raise LiandongError(f"{para.where}: 找不到文章标题：报头（和编者按）之后应是文章标题")
        else:
            styled = para.styled if text == para.text else ""
            _add_block(articles[-1], para, kind, level, text, styled)
            state = "body"
    # A short last line (a signature, a source) read as a title gets back to its article.
    while articles and not articles[-1].blocks and len(articles) > 1:
        orphan = articles.pop()
        articles[-1].blocks += [Text(orphan.title)] + (
            [Text(orphan.subtitle)] if orphan.subtitle else []
        )
    if not articles:
        raise LiandongError(f"{name}: 找不到任何文章：报头（和编者按）之后应是文章标题和正文")
    if not articles[-1].blocks:
        raise LiandongError(f"{articles[-1].where}: 文章“{articles[-1].title}”没有正文")
    return note, articles


_NOTE_START = re.compile(r"注[：:]")
_NOTE_ITEM = re.compile(r"(?:[0-9]{1,3}[.．]|（[0-9]{1,3}）|[\u2460-\u2473])")
_QUOTES = "“”‘’"


def strong_runs(styled: str) -> list[tuple[int, int]]:
    """Bold runs of a paragraph's faces, as offsets."""
    return [match.span() for match in re.finditer(r"[bF]+", styled)]


def run_in(text: str, styled: str) -> tuple[int, int]:
    """(level, lead) of a paragraph that opens with a numbered heading phrase set in a heading
    face (bold, 楷体, 黑体) and goes on in the body's face; (0, 0) for any other paragraph."""
    from liandong.source import phrase_end

    level, number = next(
        (
            (level, match)
            for level, pattern in HEADING_NUMBERS.items()
            if (match := pattern.match(text))
        ),
        (0, None),
    )
    end = phrase_end(text)
    if (
        not level
        or number is None
        or not styled
        or end is None
        or end >= len(text)
        or end > HEADING_MAX
    ):
        return 0, 0
    start = number.end()
    phrase = [
        face
        for char, face in zip(text[start:end], styled[start:end])
        if char not in _QUOTES and not char.isspace()
    ]
    after = [
        face
        for char, face in zip(text[end:], styled[end:])
        if char not in _QUOTES and not char.isspace()
    ][:1]
    if phrase and sum(face != "." for face in phrase) >= 0.8 * len(phrase) and after == ["."]:
        return level, end
    return 0, 0


def _add_block(article: Article, para: Para, kind: str, level: int, text: str, styled: str) -> None:
    """The article's next block: a list item joins the list before it, a numbered line right
    after a 注 joins the note."""
    blocks = article.blocks
    if kind == "item":
        item = para.payload
        if not isinstance(item, Item):
            raise TypeError(f"{para.where}: a list item without its Item")
        if blocks and isinstance(blocks[-1], Items) and blocks[-1].ordered == item.ordered:
            blocks[-1].items.append(item)
        else:
            blocks.append(Items([item]))
    elif kind in ("table", "figure"):
        if not isinstance(para.payload, (Table, Figure)):
            raise TypeError(f"{para.where}: a {kind} without its {kind.title()}")
        blocks.append(para.payload)
    elif kind == "heading":
        blocks.append(Text(text, level))
    elif _NOTE_START.match(text):
        blocks.append(NoteBlock([text]))
    elif blocks and isinstance(blocks[-1], NoteBlock) and _NOTE_ITEM.match(text):
        blocks[-1].items.append(text)
    else:
        level, lead = run_in(text, styled)
        strong = (
            [(s, e) for s, e in strong_runs(styled) if s >= lead] if lead else strong_runs(styled)
        )
        blocks.append(Text(text, level, lead, strong))


def _colophon(paras: list[Para]) -> dict[str, object]:
    """报/送/发 lists, 责任编辑, 联系方式, 批准文号 and 共印 N 份 from the 版记 lines."""
    values: dict[str, object] = {}
    texts: dict[str, str] = {}
    key = None
    for para in paras:
        text = para.text
        if count := _PRINT_COUNT.search(text):
            values["印数"] = int(unicodedata.normalize("NFKC", count.group(1)))
            text = (text[: count.start()] + text[count.end() :]).strip(_SPACES)
        labels = list(_COLOPHON_LABEL.finditer(text))
        if not labels or labels[0].start() > 0:
            lead = text[: labels[0].start()] if labels else text
            if key is not None and key in DISTRIBUTION_KEYS:
                texts[key] = join_lines([texts[key], lead])
            elif lead.strip(_SPACES):
                logger.warning("%s: 版记中的“%s”不属于任何已知项目，未导入", para.where, lead)
        for label, following in zip(labels, [*labels[1:], None]):
            key = label.group(1) or label.group(2)
            end = following.start() if following else len(text)
            texts[key] = text[label.end() : end].strip(_SPACES)
    for key, text in texts.items():
        if key in DISTRIBUTION_KEYS:
            values[key] = _split_list(text)
        elif text:
            values[key] = text
    return values


def _split_list(text: str) -> list[str]:
    """“A，B（甲，乙），C。” → [A, B（甲，乙）, C]: commas outside brackets separate units."""
    items, depth, current = [], 0, ""
    for char in text.strip(_SPACES).rstrip("。.；;"):
        if char in "（(《【[“":
            depth += 1
        elif char in "）)》】]”":
            depth = max(0, depth - 1)
        if depth == 0 and char in "，,；;":
            items.append(current)
            current = ""
        else:
            current += char
    items.append(current)
    return [item.strip(_SPACES) for item in items if item.strip(_SPACES)]


# --- Writing ------------------------------------------------------------------------------

_SENTENCE_END = re.compile(rf"[。！？]+[{_CLOSERS}]*|[.!?][”’]+(?=[\u4e00-\u9fff])")
"""A sentence's end: its marks and closing quotes or brackets; a quoted Latin sentence's
before Chinese text."""


def sentences(text: str) -> list[str]:
    """One sentence per line, so git diffs stay readable; joining the lines gives the text back."""
    lines, start = [], 0
    for match in _SENTENCE_END.finditer(text):
        end = match.end()
        # A bold run that ends with its sentence (a run-in heading: **一是……。**正文) keeps
        # the text after it on its line; one that starts after it starts a line.
        closes = text.startswith("**", end) and text.count("**", 0, end) % 2 == 1
        if end < len(text) and not closes and text[end] not in _SPACES + "，、；：,;:" + _TERMINAL:
            lines.append(text[start:end])
            start = end
    lines.append(text[start:])
    return [line for line in lines if line]


_ASCII_PUNCTUATION = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
_LINK_OPEN = re.compile(r"\[(?=\^|[^\]\n]*\][(\[])")
_ENTITY = re.compile(r"&(?=#[0-9]{1,7};|#[xX][0-9A-Fa-f]{1,6};|[A-Za-z][A-Za-z0-9]{1,31};)")


def escape(text: str, extra: str = "") -> str:
    """Text as a source writes it so that it prints as it reads (docs/syntax.md, 7 and 9):
    a backslash before ASCII punctuation, the stars of a **, the [ of a link, footnote or
    image, every <, the & of an HTML entity, and the `extra` characters (a cell's |, a
    caption's brackets) get a backslash. Everything else prints as written already."""
    marks = {match.start() for match in _LINK_OPEN.finditer(text)}
    marks |= {match.start() for match in _ENTITY.finditer(text)}
    out = []
    for index, char in enumerate(text):
        pair = char == "*" and (
            (index + 1 < len(text) and text[index + 1] == "*") or (index and text[index - 1] == "*")
        )
        backslash = char == "\\" and index + 1 < len(text) and text[index + 1] in _ASCII_PUNCTUATION
        if pair or backslash or index in marks or char == "<" or char in extra:
            out.append("\\")
        out.append(char)
    return "".join(out)


def _emphasis(text: str, strong: list[tuple[int, int]], extra: str = "") -> str:
    """The text escaped, with its bold runs as **…** (spaces at a run's edge stay outside)."""
    out, at = "", 0
    for start, end in strong:
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if start < end and start >= at:
            out += escape(text[at:start], extra) + "**" + escape(text[start:end], extra) + "**"
            at = end
    return out + escape(text[at:], extra)


_BLOCK_START = re.compile(
    r"#|>|\||\[|([-*+])[ \t\u3000]|[0-9]{1,9}(?=\.[ \t\u3000])|"
    r"(?:([-*_])[ \t]*){3,}$|`{3}|~{3}|=+[ \t]*$"
)


def _as_text_line(line: str) -> str:
    """A line of a paragraph that would start a block (a heading, list item, table row, rule,
    quote…) begins with a backslash instead: it stays text."""
    match = _BLOCK_START.match(line)
    if not match:
        return line
    if match.group(0)[:1].isdigit():  # 1. → 1\.
        return line[: match.end()] + "\\" + line[match.end() :]
    return "\\" + line


def _markdown_lines(markdown: str) -> list[str]:
    """A paragraph's Markdown one sentence per line, each line text (see _as_text_line); a
    sentence that begins with 注： stays on the line before (it would start a note)."""
    lines: list[str] = []
    for line in sentences(markdown):
        if lines and _NOTE_START.match(line):
            lines[-1] += line
        else:
            lines.append(line)
    return [
        _as_text_line(line) if index or not _NOTE_START.match(line) else line
        for index, line in enumerate(lines)
    ]


def _block_lines(block: Form) -> list[str]:
    if isinstance(block, Text) and block.level and not block.lead:
        return [f"{'#' * block.level} {escape(block.text)}"]
    if isinstance(block, Text) and block.lead:
        # The heading phrase and the paragraph's first sentence on the heading's line.
        rest = [(s - block.lead, e - block.lead) for s, e in block.strong]
        lines = _markdown_lines(_emphasis(block.text[block.lead :], rest)) or [""]
        return [f"{'#' * block.level} {escape(block.text[: block.lead])}{lines[0]}", *lines[1:]]
    if isinstance(block, Text):
        return _markdown_lines(_emphasis(block.text, block.strong))
    if isinstance(block, Items):
        result = []
        for item in block.items:
            marker = f"{item.number}. " if item.ordered else "- "
            lines = _markdown_lines(_emphasis(item.text, item.strong))
            result += [marker + lines[0]] + ["  " + line for line in lines[1:]]
        return result
    if isinstance(block, Table):
        width = max(len(row) for row in block.rows)
        rows = [row + [("", [])] * (width - len(row)) for row in block.rows]
        lines = [escape(block.caption)]
        for number, row in enumerate(rows):
            lines.append(
                "| " + " | ".join(_emphasis(text, strong, "|") for text, strong in row) + " |"
            )
            if number == 0:
                lines.append("|" + "---|" * width)
        return lines
    if isinstance(block, Figure):
        size = f"{{宽={block.width_mm:g}mm}}" if block.width_mm else ""
        return [f"![{escape(block.caption, '[]')}]({block.file}){size}"]
    return [escape(item) for item in block.items]  # NoteBlock


def issue_yaml(imported: Imported, overrides: dict[str, object], source_name: str) -> str:
    lines = [
        f"# {imported.name} {imported.date.year} 年第 {imported.number} 期",
        f"# 由 liandong import 从 {source_name} 导入：请与原件核对。",
        f"期号: {imported.number}",
        f"总期号: {imported.total}",
        f"日期: {imported.date.isoformat()}",
    ]
    for key, value in overrides.items():
        if isinstance(value, list):
            lines.append(f"{key}:")
            lines += [f"  - {yaml_scalar(item)}" for item in value]
        elif isinstance(value, int):
            lines.append(f"{key}: {value}")
        else:
            lines.append(f"{key}: {yaml_scalar(str(value))}")
    if imported.note:
        lines += ["", "编者按: |"]
        for number, paragraph in enumerate(imported.note):
            if number:
                lines.append("")
            lines += [f"  {line}" for line in _markdown_lines(escape(paragraph))]
    return "\n".join(lines) + "\n"


def article_markdown(article: Article) -> str:
    lines = ["---", f"标题: {yaml_scalar(article.title)}"]
    if article.subtitle:
        lines.append(f"副标题: {yaml_scalar(article.subtitle)}")
    lines.append("---")
    for number, block in enumerate(article.blocks):
        if not (
            isinstance(block, NoteBlock)
            and number
            and isinstance(article.blocks[number - 1], Table)
        ):
            lines.append("")  # a 注 right under a table is written as its note
        lines += _block_lines(block)
    return "\n".join(lines) + "\n"


def import_issue(root: Path, file: Path) -> list[Path]:
    """Import FILE as a new issue of the project at root; returns the files written."""
    name = display_path(file, root) if file.is_absolute() else display_path(file)
    problems: list[Problem] = []
    series = load_series(root, problems)
    if series is None or problems:
        raise SourceErrors(problems)
    series_values = {
        key: (
            value.value
            if hasattr(value, "value")
            else [item.value for item in value]
            if isinstance(value, tuple)
            else value
        )
        for key, value in series[0].items()
    }
    imported = recognise(read_paragraphs(file, name), name)

    series_name = series_values["刊名"]
    # Letter-spaced mastheads come out of PDFs as "联 络 动 态".
    names = [re.sub(r"[\s\u3000]", "", line.text) for line in imported.name_lines]
    if series_name not in names:
        raise LiandongError(
            f"{imported.name_lines[0].where}: 刊名“{names[0]}”与 series.yaml 中的"
            f"“{series_name}”不同：这不是本刊物的一期，不能导入"
        )
    imported.name = str(series_name)
    for line, printed in zip(imported.name_lines, names):
        if printed != series_name:
            logger.warning("%s: 报头中的“%s”不是已知的报头项目，未导入", line.where, line.text)

    folder = issue_folder(root, imported.date.year, imported.number)  # checked by _masthead
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise LiandongError(
            f"{name}: {display_path(folder, root)} 已经存在：liandong import 不会覆盖已有的一期"
            f"（{imported.date.year} 年第 {imported.number} 期）。如要重新导入，请先把这个文件夹移走"
        )
    # Values printed as the series has them are not repeated; others override for this issue.
    # Where a 版记 was read, a list of the series that it does not print is emptied ("送:" with
    # no value removes the series' list); a text value cannot be removed by an issue: said.
    colophon_read = any(key in imported.values for key in DISTRIBUTION_KEYS)
    overrides: dict[str, object] = {}
    for key in SERIES_SCHEMA:
        if key in imported.values and imported.values[key] != series_values.get(key):
            overrides[key] = imported.values[key]
        elif (
            key in DISTRIBUTION_KEYS
            and colophon_read
            and series_values.get(key)
            and key not in imported.values
        ):
            overrides[key] = []
    unprinted = [
        key
        for key in ("责任编辑", "联系方式", "印数")
        if colophon_read and series_values.get(key) and key not in imported.values
    ]
    files: dict[Path, str | bytes] = {
        folder / ISSUE_FILE: issue_yaml(imported, overrides, display_path(file.name))
    }
    for number, article in enumerate(imported.articles, start=1):
        files[folder / f"{number:02d}.md"] = article_markdown(article)
    for article in imported.articles:  # pictures go into the issue's own folder
        for block in article.blocks:
            if isinstance(block, Figure):
                files[folder / block.file] = block.data
    written = [write_new(path, text) for path, text in files.items()]
    settings = display_path(folder / ISSUE_FILE, root)
    for key, value in overrides.items():
        if value == []:
            logger.info(
                "%s: 本期的版记没有“%s”，已写“%s:”（不用 series.yaml 的）", settings, key, key
            )
        else:
            logger.info("%s: 本期的“%s”与 series.yaml 不同，已写入作为本期设置", settings, key)
    for key in unprinted:
        logger.warning(
            "%s: 原件的版记没有“%s”，series.yaml 却有：一期不能去掉 series.yaml 的“%s”，"
            "生成时会印出它；请核对",
            name,
            key,
            key,
        )
    after: list[Problem] = []
    load_issues(root, [folder], after)
    for problem in sorted(set(after)):
        logger.warning("%s", problem)
    if after:
        logger.warning(
            "导入的稿件还有上面 %d 处问题，请修改后再生成"
            "（半角标点可用 liandong check --fix 修正）",
            len(after),
        )
    return written


# --- Several files ------------------------------------------------------------------------

IMPORTABLE = (".pdf", ".docx", ".txt")
"""What a folder given to `liandong import` is searched for (other files are listed as refused
only when named one by one)."""


@dataclass
class Outcome:
    """What became of one file of an import: written, with the reasons to look, or refused."""

    name: str
    written: list[Path] = field(default_factory=list)
    look: list[str] = field(default_factory=list)
    """Notices given while importing it: why an editor should look before building."""
    refused: str | None = None


class _Notices(logging.Handler):
    """Collects the warnings given while one file is imported (they are printed as well)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _natural(path: Path) -> list:
    """第2期 before 第10期: digits compare as numbers."""
    return [
        (int(part), "") if part.isdigit() else (0, part)
        for part in re.split(r"(\d+)", path.as_posix())
    ]


def files_to_import(paths: list[Path]) -> tuple[list[Path], list[Outcome]]:
    """The files named, and those a named folder holds (its subfolders too, in natural order,
    links to folders not followed); a folder without any file to import is refused."""
    files: list[Path] = []
    refused: list[Outcome] = []
    for path in paths:
        if not path.is_dir():
            files.append(path)
            continue
        found = []
        for current, folders, names in os.walk(path):
            folders[:] = [f for f in folders if not f.startswith(".")]
            found += [
                Path(current) / n
                for n in names
                if Path(n).suffix.lower() in IMPORTABLE and not n.startswith((".", "~$"))
            ]  # Word's lock files are ~$name.docx
        if len(found) > limits.IMPORT_FILES:
            refused.append(
                Outcome(
                    display_path(path),
                    refused=(
                        f"{display_path(path)}: 文件夹里有 {len(found)} 个可导入的文件，超过 {limits.IMPORT_FILES} "
                        "个的上限（limits.IMPORT_FILES）：请分几次导入"
                    ),
                )
            )
        elif not found:
            refused.append(
                Outcome(
                    display_path(path),
                    refused=(
                        f"{display_path(path)}: 文件夹里没有可以导入的文件（.pdf、.docx、.txt）"
                    ),
                )
            )
        files += sorted(found, key=_natural)
    return files, refused


def import_files(root: Path, paths: list[Path]) -> list[Outcome]:
    """Import each file into its own issue folder, going on past one that is refused.

    The series is read once first: if it has errors nothing is imported."""
    problems: list[Problem] = []
    if load_series(root, problems) is None or problems:
        raise SourceErrors(problems)
    files, outcomes = files_to_import(paths)
    package = logging.getLogger("liandong")
    for file in files:
        outcome = Outcome(display_path(file, root) if file.is_absolute() else display_path(file))
        notices = _Notices()
        package.addHandler(notices)
        try:
            outcome.written = import_issue(root, file)
        except SourceErrors as exc:
            outcome.refused = "\n".join(str(problem) for problem in exc.problems)
            exc.show()
        except LiandongError as exc:
            outcome.refused = exc.format_message()
            exc.show()
        finally:
            package.removeHandler(notices)
        outcome.look = notices.messages
        outcomes.append(outcome)
    return outcomes


def report(outcomes: list[Outcome], root: Path) -> str:
    """The closing summary of an import of several files, in Chinese."""
    done = [o for o in outcomes if o.refused is None and not o.look]
    look = [o for o in outcomes if o.refused is None and o.look]
    refused = [o for o in outcomes if o.refused is not None]

    def folder(outcome: Outcome) -> str:
        return display_path(outcome.written[0].parent, root) if outcome.written else ""

    lines = [
        f"导入结果：共 {len(outcomes)} 个文件，已导入 {len(done) + len(look)} 个"
        f"（其中 {len(look)} 个需要核对），未导入 {len(refused)} 个。"
    ]
    if done:
        lines.append(f"已导入（{len(done)}）：")
        lines += [f"  {o.name} → {folder(o)}" for o in done]
    if look:
        lines.append(f"需要核对（{len(look)}）：")
        for o in look:
            lines.append(f"  {o.name} → {folder(o)}")
            lines += [f"    {message}" for message in o.look]
    if refused:
        lines.append(f"未导入（{len(refused)}）：")
        for o in refused:
            lines += [f"  {message}" for message in (o.refused or "").splitlines()]
    return "\n".join(lines)
