"""Read series and issue sources into YAML nodes and Markdown blocks, keeping every position."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import yaml

from liandong import limits
from liandong.errors import Problem, display_path, os_reason

if TYPE_CHECKING:
    from liandong.images import ImageFile

SERIES_FILE = "series.yaml"
ISSUE_FILE = "issue.yaml"


@dataclass(frozen=True)
class SourceFile:
    """A source file's text, with the name shown to the editor."""

    path: Path
    name: str
    text: str

    def position(self, offset: int) -> tuple[int, int]:
        """1-based line and column of a character offset."""
        line = self.text.count("\n", 0, offset) + 1
        column = offset - (self.text.rfind("\n", 0, offset) + 1) + 1
        return line, column


@dataclass(frozen=True)
class Loc:
    """Where a value stands in its source: a span of character offsets."""

    source: SourceFile
    start: int
    end: int

    def problem(self, message: str, offset: int | None = None) -> Problem:
        line, column = self.source.position(self.start if offset is None else offset)
        return Problem(self.source.name, line, column, message)

    def find(self, char: str) -> list[int]:
        """Offsets of every occurrence of char inside this span."""
        text = self.source.text
        found, at = [], text.find(char, self.start, self.end)
        while at != -1:
            found.append(at)
            at = text.find(char, at + 1, self.end)
        return found


GBK_MESSAGE = "文件是 GBK（GB18030）编码，请另存为 UTF-8，或运行 liandong check --fix 自动转换"
UTF16_MESSAGE = "文件是 UTF-16 编码，请另存为 UTF-8，或运行 liandong check --fix 自动转换"
BOM = b"\xef\xbb\xbf"


def foreign_encoding(raw: bytes) -> str | None:
    """The encoding of a source that is not UTF-8 but can be converted: "gb18030" or "utf-16".

    Windows tools save Chinese text as GBK (code page 936, of which GB18030 is the superset)
    or as UTF-16 with a byte-order mark. A UTF-8 file with a few damaged bytes is not
    GB18030 text even when its bytes happen to decode as GB18030, so GB18030 is accepted only
    when UTF-8 fails on most of the file's non-ASCII text and the decoded text reads as
    common Chinese (GB2312 characters)."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            raw.decode("utf-16")
            return "utf-16"
        except UnicodeDecodeError:
            return None
    try:
        raw.decode("utf-8")
        return None
    except UnicodeDecodeError:
        pass
    lenient = raw.decode("utf-8", errors="replace")
    damaged = lenient.count("\ufffd")
    fine = sum(1 for char in lenient if ord(char) > 0x7F and char != "\ufffd")
    if fine >= damaged:
        return None
    try:
        text = raw.decode("gb18030")
    except UnicodeDecodeError:
        return None
    wide = [char for char in text if ord(char) > 0x7F]
    if any(ord(char) < 0x20 and char not in "\t\n\r" for char in text):
        return None
    common = sum(1 for char in wide if _in_gb2312(char))
    return "gb18030" if wide and common >= 0.9 * len(wide) else None


def _in_gb2312(char: str) -> bool:
    try:
        char.encode("gb2312")
        return True
    except UnicodeEncodeError:
        return False


def decode_source(raw: bytes) -> tuple[str, str, bytes]:
    """The text of a source's bytes as stored: (text, encoding, byte-order mark).

    Raises UnicodeDecodeError for bytes that are neither UTF-8 nor a convertible encoding."""
    encoding = foreign_encoding(raw)
    if encoding == "utf-16":
        return raw.decode("utf-16"), encoding, b""
    if encoding == "gb18030":
        return raw.decode("gb18030"), encoding, b""
    bom = BOM if raw.startswith(BOM) else b""
    return raw[len(bom) :].decode("utf-8"), "utf-8", bom


def normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def source_name(path: Path, root: Path) -> str:
    """The name an editor knows: the path as written inside the project, links not followed."""
    if path.absolute().is_relative_to(root.absolute()):
        return display_path(path, root, resolve=False)
    return display_path(path, root)


def outside_project(path: Path, root: Path) -> Path | None:
    """Where path really leads when a symbolic link takes it out of the project; else None."""
    try:
        real = path.resolve()
    except (OSError, RuntimeError):
        return path
    return None if real.is_relative_to(root.resolve()) else real


CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")
"""Invisible control characters: never meant in a bulletin, and they break the HTML/PDF stages."""


def control_message(char: str) -> str:
    return f"含有不可见的控制字符 U+{ord(char):04X}，请删除"


def read_source(path: Path, root: Path, problems: list[Problem]) -> SourceFile | None:
    """Read a UTF-8 source file; a BOM is dropped and CRLF becomes LF.

    Refused: a symbolic link out of the project, a file over limits.SOURCE_BYTES, control
    characters. GBK/GB18030 and UTF-16 files are recognised and refused with a message naming
    the encoding (`liandong check --fix` converts them); other bytes are reported where UTF-8
    fails."""
    name = source_name(path, root)
    real = outside_project(path, root)
    if real is not None:
        problems.append(
            Problem(
                name,
                1,
                1,
                f"这是指向项目之外（{display_path(real)}）的符号链接，"
                "出于安全考虑不读取；请把文件本身放进项目",
            )
        )
        return None
    if path.exists() and not path.is_file() and not path.is_dir():
        # A named pipe or a device would block the build or never end.
        problems.append(Problem(name, 1, 1, "这不是普通文件（可能是管道或设备），不读取"))
        return None
    try:
        with path.open("rb") as handle:
            raw = handle.read(limits.SOURCE_BYTES + 1)
    except OSError as exc:
        problems.append(Problem(name, 1, 1, f"无法读取文件：{os_reason(exc)}"))
        return None
    if len(raw) > limits.SOURCE_BYTES:
        problems.append(
            Problem(
                name,
                1,
                1,
                f"文件超过 {limits.SOURCE_BYTES // 1024} KB 的上限"
                "（limits.SOURCE_BYTES），请拆分成几篇文章",
            )
        )
        return None
    encoding = foreign_encoding(raw)
    if encoding is not None:
        message = GBK_MESSAGE if encoding == "gb18030" else UTF16_MESSAGE
        problems.append(Problem(name, 1, 1, message))
        return None
    if raw.startswith(BOM):
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        line_start = raw.rfind(b"\n", 0, exc.start) + 1
        column = len(raw[line_start : exc.start].decode("utf-8", errors="replace")) + 1
        problems.append(Problem(name, line, column, "文件不是 UTF-8 编码，请另存为 UTF-8"))
        return None
    source = SourceFile(path, name, normalise_newlines(text))
    control = CONTROL.search(source.text)
    if control:
        line, column = source.position(control.start())
        problems.append(Problem(name, line, column, control_message(control.group())))
        return None
    return source


_YAML_PROBLEMS = {
    "found character '\\t' that cannot start any token": "不能用 Tab 缩进，请改用空格",
    "found a tab character that violates indentation": "不能用 Tab 缩进，请改用空格",
    "mapping values are not allowed here": "此处不能出现“:”，含冒号的文字请加引号",
    "could not find expected ':'": "缺少“:”，每行应写成“键: 值”",
    "found unexpected end of stream": "引号或括号没有闭合",
    "found undefined alias": "引用了未定义的别名",
}


_YAML_PATTERNS = (
    (
        re.compile(r"found unknown escape character '?(.)'?"),
        "双引号里的“\\{0}”不是有效的写法：反斜杠请写成“\\\\”，或改用单引号",
    ),
    (
        re.compile(r"expected ',' or '\]', but (?:got|found) .*"),
        "方括号 [ ] 没有闭合，或列表的项之间缺少“,”",
    ),
    (
        re.compile(r"expected ',' or '\}', but (?:got|found) .*"),
        "花括号 {{ }} 没有闭合，或项之间缺少“,”",
    ),
    (
        re.compile(
            r"expected <block end>, but found .*|did not find expected (?:key|'-' indicator)"
        ),
        "缩进没有对齐：同一层的各项应缩进同样多的空格",
    ),
    (
        re.compile(r"found character '(.)' that cannot start any token"),
        "“{0}”不能用在值的开头：含有它的文字请加引号",
    ),
    (re.compile(r"but found another document"), "一个文件里只能有一份设置，不能有第二个“---”"),
)
"""PyYAML's other reasons, in Chinese; the first group of the match fills {0}."""


def _yaml_problem(problem: str) -> str:
    """A syntax error PyYAML explains in English, said in Chinese (never the English itself)."""
    for pattern, message in _YAML_PATTERNS:
        match = pattern.fullmatch(problem)
        if match:
            return message.format(*match.groups())
    return "YAML 格式错误：这里的写法无法识别，请检查冒号、引号、括号和缩进"


class _Loader(yaml.SafeLoader):
    """SafeLoader's composer, refusing aliases (*name): liandong's files never need them, and
    without them no alias bomb (billion laughs) can be expanded by any later step."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None, None, f"{_ALIAS}{event.anchor}", event.start_mark
            )
        return super().compose_node(parent, index)


_ALIAS = "liandong: alias *"


def compose_yaml(
    source: SourceFile, problems: list[Problem], offset: int = 0, text: str | None = None
) -> yaml.Node | None:
    """Parse YAML safely (no Python tags) into nodes whose marks give line and column."""
    text = source.text if text is None else text
    try:
        node = yaml.compose(text, Loader=_Loader)
    except RecursionError:
        # PyYAML composes nodes recursively (about 1,000 levels deep it gives up), but parses
        # events with a stack of its own: find where the nesting first goes too deep.
        line, column = source.position(offset + _too_deep_at(text))
        problems.append(
            Problem(
                source.name,
                line,
                column,
                f"YAML 嵌套超过 {limits.YAML_DEPTH} 层的上限（limits.YAML_DEPTH）",
            )
        )
        return None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = offset + (mark.index if mark else 0)
        slip = key_slip(source, text, offset, where)
        if slip is not None:
            problems.append(slip)
            return None
        line, column = source.position(where)
        problem = (exc.problem or "").strip()
        message = _YAML_PROBLEMS.get(problem) or _yaml_problem(problem)
        if (
            message == _YAML_PROBLEMS["found character '\\t' that cannot start any token"]
            and source.text[source.text.rfind("\n", 0, where) + 1 : where].strip()
        ):
            message = "这里不能用 Tab，请改用空格"  # a tab after "键:", not indentation
        if problem.startswith(_ALIAS):
            message = f"不支持 YAML 别名“*{problem[len(_ALIAS) :]}”：请把内容直接写出"
        problems.append(Problem(source.name, line, column, message))
        return None
    except yaml.YAMLError as exc:
        problems.append(Problem(source.name, 1, 1, f"YAML 格式错误（{exc}）"))
        return None
    if node is None:
        return None
    _shift_marks(node, offset)
    deep = _too_deep(node)
    if deep is not None:
        line, column = source.position(deep.start_mark.index)
        problems.append(
            Problem(
                source.name,
                line,
                column,
                f"YAML 嵌套超过 {limits.YAML_DEPTH} 层的上限（limits.YAML_DEPTH）",
            )
        )
        return None
    return node


_KEY_SLIP = re.compile(r"^([\u4e00-\u9fff]{1,8})[ \t]*(：|:(?=[^\s]))", re.M)


def key_slip(source: SourceFile, text: str, offset: int, error: int) -> Problem | None:
    """The usual cause of a YAML syntax error in an editor's file: "期号：13" (a full-width colon)
    or "期号:13" (no space), on a line at or before the error. YAML's own message points at
    the line after, so this names the line and the fix instead."""
    for match in _KEY_SLIP.finditer(text):
        if offset + match.start() > error:
            break
        key, colon = match.groups()
        line, column = source.position(offset + match.start(2))
        if colon == "：":
            message = f"“{key}”后面要用半角冒号加空格，写成“{key}: ……”，不能用全角冒号“：”"
        else:
            message = f"“{key}”后面的冒号要跟一个空格，写成“{key}: ……”"
        return Problem(source.name, line, column, message)
    return None


def _too_deep(root: yaml.Node) -> yaml.Node | None:
    """The first node nested deeper than limits.YAML_DEPTH. Aliases are visited once: an alias
    bomb (billion laughs) costs its size in the file, not its expansion."""
    stack = [(root, 1)]
    seen = set()
    while stack:
        node, depth = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if depth > limits.YAML_DEPTH:
            return node
        if isinstance(node, yaml.MappingNode):
            stack += [(child, depth + 1) for pair in node.value for child in pair]
        elif isinstance(node, yaml.SequenceNode):
            stack += [(child, depth + 1) for child in node.value]
    return None


def _too_deep_at(text: str) -> int:
    """The offset of the first list or mapping nested deeper than limits.YAML_DEPTH, found
    from the parser's events (no recursion); 0 if the events end first."""
    depth = 0
    try:
        for event in yaml.parse(text, Loader=_Loader):
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > limits.YAML_DEPTH:
                    return event.start_mark.index if event.start_mark else 0
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
    except yaml.YAMLError:
        pass
    return 0


def _shift_marks(node: yaml.Node, offset: int) -> None:
    """Make mark offsets of YAML embedded in a file (front matter) count from the file's start.

    Only `index` is shifted: positions are always derived from it (`SourceFile.position`)."""
    if offset == 0:
        return
    stack = [node]
    seen = set()
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        for mark in (current.start_mark, current.end_mark):
            mark.index += offset
        if isinstance(current, yaml.MappingNode):
            for key, value in current.value:
                stack += [key, value]
        elif isinstance(current, yaml.SequenceNode):
            stack += current.value


def node_loc(source: SourceFile, node: yaml.Node) -> Loc:
    """The span of a YAML node. For block scalars the span starts after the indicator line."""
    return Loc(source, node.start_mark.index, max(node.end_mark.index, node.start_mark.index + 1))


_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)?---[ \t]*(?:\n|\Z)", re.S)


def split_front_matter(source: SourceFile) -> tuple[str, int, int] | None:
    """The front matter's YAML text and offset, and where the Markdown body starts."""
    match = _FRONT_MATTER.match(source.text)
    if not match:
        return None
    return match.group(1) or "", match.start(1) if match.group(1) else match.end(), match.end()


# --- Markdown bodies -------------------------------------------------------
#
# Article bodies (and 编者按) are written in liandong's own small Markdown dialect, specified in
# docs/syntax.md (for editors: the README's "小标题、列表、表格、图片和“注：”"): paragraphs,
# headings whole-line and run-in (接排标题), lists, tables, figures and 注 notes, with **strong**
# and backslash escapes inside text. Everything else prints as written, or, where it is markup
# that would print raw or vanish (links, HTML, images inside text, footnotes, blockquotes, code
# fences, rules), is reported at its file:line:column with what to write instead. It is parsed
# here, line by line, rather than by a CommonMark library, because the dialect is not
# CommonMark: a run-in heading continues on the lines under it, a table's caption is the line
# above it, a 注 block has items, and CommonMark's rule for ** (flanking delimiter runs) leaves
# **一是……。**市 unbolded, as it does most bold phrases that end in Chinese punctuation.
# python-markdown, used before, gave no positions and silently dropped `*` pairs and backslashes.

_SPACES = " \t\u3000"
_LATIN = re.compile(r"[A-Za-z0-9]")

HEADING_NUMBER = re.compile(
    r"[一二三四五六七八九十百]+、|（[一二三四五六七八九十百]+）|[0-9]+[.．]|（[0-9]+）"
)
"""The number an editor writes at the start of a heading, at any level (validate checks that
it is the level's own: 一、 （一） 1. （1））."""

SENTENCE_END = "。！？"
_CLOSERS = "”’）》】」』〕"
_OPENERS = {
    "（": "）",
    "“": "”",
    "‘": "’",
    "《": "》",
    "【": "】",
    "「": "」",
    "『": "』",
    "〔": "〕",
}


@dataclass(frozen=True)
class Run:
    """A stretch of inline text with one style."""

    text: str
    strong: bool = False


@dataclass(frozen=True)
class Block:
    """A paragraph or a numbered heading (level 1–4: 一、（一）1.（1）) of an article body; also
    the text of a list item, a note item, a table cell or a caption.

    A run-in heading (接排标题) is one paragraph whose first `lead` characters are the heading
    phrase (its number included); a whole-line heading has lead 0. `marker` is what prints
    before a list item ("●", "1.") or a note's first item ("注："), as a label of its own."""

    runs: tuple[Run, ...]
    loc: Loc
    level: int = 0
    lead: int = 0
    marker: str = ""

    @property
    def text(self) -> str:
        return "".join(run.text for run in self.runs)

    def units(self) -> tuple[Block, ...]:
        return (self,)

    def spans(self) -> list[tuple[int, int]]:
        """Where in the source the text that prints stands (what typography lint reads)."""
        return [(self.loc.start, self.loc.end)]


BULLET = "●"
"""What a bulleted list item prints before its text, whatever marker (- * +) was written."""


class _Items:
    """What a list and a 注 note share: their text, units and spans are their items'."""

    items: tuple[Block, ...]

    @property
    def text(self) -> str:
        return "\n".join(item.marker + item.text for item in self.items)

    def units(self) -> tuple[Block, ...]:
        return self.items

    def spans(self) -> list[tuple[int, int]]:
        return [(item.loc.start, item.loc.end) for item in self.items]


@dataclass(frozen=True)
class ListBlock(_Items):
    """A bulleted or numbered list; each item a Block whose marker is what prints before it."""

    items: tuple[Block, ...]
    ordered: bool
    loc: Loc
    level: ClassVar[int] = 0


@dataclass(frozen=True)
class Note(_Items):
    """A 注 block: the first item's marker is "注：" as written; a line of the block that begins
    with a number (1. （1） ①) starts another item, which has no marker of its own."""

    items: tuple[Block, ...]
    loc: Loc
    level: ClassVar[int] = 0


@dataclass(frozen=True)
class Table:
    """A table: its caption (the line above it, 表…), header cells, body rows, and each
    column's alignment from the delimiter row ("left", "center", "right"; "" for the default:
    numbers to the right, text to the left)."""

    caption: Block
    header: tuple[Block, ...]
    rows: tuple[tuple[Block, ...], ...]
    aligns: tuple[str, ...]
    loc: Loc
    level: ClassVar[int] = 0

    @property
    def text(self) -> str:
        lines = [self.caption.text, "\t".join(cell.text for cell in self.header)]
        return "\n".join(lines + ["\t".join(cell.text for cell in row) for row in self.rows])

    def units(self) -> tuple[Block, ...]:
        return (self.caption, *self.header, *(cell for row in self.rows for cell in row))

    def spans(self) -> list[tuple[int, int]]:
        return [
            (unit.loc.start, unit.loc.end) for unit in self.units() if unit.loc.end > unit.loc.start
        ]


@dataclass(frozen=True)
class Figure:
    """A photo or figure: ![caption](file){宽=…}. `image` (images.ImageFile) is filled in by
    validation once the file has been found and read."""

    caption: Block
    src: str
    src_loc: Loc
    width: tuple[float, str] | None  # (80.0, "mm") or (50.0, "%"); None: the text width
    loc: Loc
    image: ImageFile | None = None
    level: ClassVar[int] = 0

    @property
    def text(self) -> str:
        return self.caption.text

    def units(self) -> tuple[Block, ...]:
        return (self.caption,)

    def spans(self) -> list[tuple[int, int]]:
        return [(self.caption.loc.start, self.caption.loc.end)]


Form = Block | ListBlock | Note | Table | Figure
"""What an article body is made of."""


def join_lines(lines: list[str]) -> str:
    """Join a paragraph's source lines: Chinese lines join directly, Latin words keep a space."""
    return _joined([(0, line.strip(_SPACES)) for line in lines])[0]


def _joined(lines: list[tuple[int, str]]) -> tuple[str, list[int]]:
    """Stripped lines (offset, text) joined as join_lines joins them, with the source offset of
    every character (an inserted space stands at the line break before it)."""
    text, where = "", []
    for offset, line in lines:
        if text and line and _LATIN.match(text[-1]) and _LATIN.match(line[0]):
            text += " "
            where.append(offset - 1)
        text += line
        where.extend(range(offset, offset + len(line)))
    return text, where


# --- Inside text ---------------------------------------------------------------------

_ESCAPABLE = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
_MASK = "\ue000"  # an escaped character, which no markup pattern may match

_LINK = "不支持链接：网址请直接写出（如 www.hnrd.gov.cn），不写方括号和圆括号；要印出“[”，写成“\\[”"
_INLINE_PROBLEMS = (
    (
        re.compile(r"!\[[^\]\n]*\]\([^)\n]*\)"),
        "图片要单独成段：上下各空一行，一段只写“![图题](文件名)”",
        True,
    ),
    (
        re.compile(r"\[\^[^\]\s]+\]"),
        "简报不用脚注“{0}”：请把注释写成“注：……”段落，放在文末或表格下面",
        True,
    ),
    (re.compile(r"(?<!!)\[[^\]\n]*\]\([^)\n]*\)"), _LINK, True),
    (re.compile(r"(?<![!\]])\[[^\]\n^]+\]\[[^\]\n]*\]"), _LINK, True),
    (
        re.compile(r"<(?:[A-Za-z][A-Za-z0-9+.-]{1,31}:[^<>\s]*|[^<>\s@]+@[^<>\s@]+\.[^<>\s@]+)>"),
        "不支持链接：网址、电子邮箱请直接写出，不加尖括号“< >”",
        True,
    ),
    (
        re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>|<!--|<![A-Za-z\[]|<\?"),
        "不支持 HTML 标记“{0}”：加粗请写成 **文字**，其他格式请用本刊的写法；要印出“<”，写成“\\<”",
        True,
    ),
    (
        re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});"),
        "“{0}”是 HTML 的写法，会原样印出：请直接写出要印的字符",
        False,
    ),
)
"""Markup inside text that liandong does not support: (pattern, message, is an error). An
error stops the build; the HTML entity is a warning (it prints as written)."""

_UNPAIRED_STRONG = (
    "“**”没有配对，按原样印出两个星号：加粗请成对写“**文字**”；要印出星号，写成“\\*\\*”"
)


def _shown(text: str, limit: int = 20) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


class _Reporter:
    """Where parsing puts what it finds: errors and warnings, each at its place."""

    def __init__(
        self,
        source: SourceFile | None,
        problems: list[Problem] | None,
        notices: list[Problem] | None,
    ):
        self.source, self.problems, self.notices = source, problems, notices

    def error(self, offset: int, message: str) -> None:
        if self.problems is not None and self.source is not None:
            line, column = self.source.position(offset)
            self.problems.append(Problem(self.source.name, line, column, message))

    def warn(self, offset: int, message: str) -> None:
        if self.notices is not None and self.source is not None:
            line, column = self.source.position(offset)
            self.notices.append(Problem(self.source.name, line, column, message))


def _inline(text: str, where: list[int], report: _Reporter) -> tuple[Run, ...]:
    """A text's runs: **strong** and plain, backslash escapes resolved; unsupported markup
    reported at its place. Nothing else is markup: it prints as written."""
    if len(text) > limits.PARAGRAPH_CHARS:  # reported by validation; not parsed
        return (Run(text),)
    chars: list[str] = []
    escaped: list[bool] = []
    at: list[int] = []
    i = 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text) and text[i + 1] in _ESCAPABLE:
            chars.append(text[i + 1])
            escaped.append(True)
            at.append(where[i])
            i += 2
        else:
            chars.append(text[i])
            escaped.append(False)
            at.append(where[i])
            i += 1
    masked = "".join(_MASK if e else c for c, e in zip(chars, escaped))
    for pattern, message, is_error in _INLINE_PROBLEMS:
        for match in pattern.finditer(masked):
            shown = "".join(chars[match.start() : match.end()])
            (report.error if is_error else report.warn)(
                at[match.start()], message.format(_shown(shown))
            )
    marks = [m.start() for m in re.finditer(r"\*\*", masked)]
    toggles: set[int] = set()
    k = 0
    while k + 1 < len(marks):
        if marks[k + 1] == marks[k] + 2:  # **** : nothing between, printed as written
            k += 2
            continue
        toggles.update((marks[k], marks[k + 1]))
        k += 2
    if (
        len(marks) % 2
        and marks[-1] not in toggles
        and (len(marks) < 2 or marks[-1] != marks[-2] + 2)
    ):
        report.warn(at[marks[-1]], _UNPAIRED_STRONG)
    runs: list[Run] = []
    strong, current, i = False, "", 0
    while i < len(chars):
        if i in toggles:
            if current:
                runs.append(Run(current, strong))
            current, strong = "", not strong
            i += 2
            continue
        current += chars[i]
        i += 1
    if current:
        runs.append(Run(current, strong))
    return tuple(runs)


def inline_runs(text: str) -> tuple[Run, ...]:
    """A text's runs (see _inline), with nothing reported."""
    return _inline(text, list(range(len(text))), _Reporter(None, None, None))


def phrase_end(text: str) -> int | None:
    """Where a run-in heading's phrase ends: after the first 。！？ outside brackets and quotes,
    and the closing marks right after it; None when there is none."""
    closing: list[str] = []
    for index, char in enumerate(text):
        if char in _OPENERS:
            closing.append(_OPENERS[char])
        elif closing and char == closing[-1]:
            closing.pop()
        elif char in SENTENCE_END and not closing:
            end = index + 1
            while end < len(text) and text[end] in _CLOSERS:
                end += 1
            return end
    return None


# --- Blocks ----------------------------------------------------------------------------

_HR = re.compile(r"([-*_])(?:[ \t]*\1){2,}[ \t]*")
_FENCE = re.compile(r"(`{3,}|~{3,})")
_HEADING_LINE = re.compile(r"(#+)(?:[ \t\u3000]+(.*))?")
_BULLET_LINE = re.compile(r"([-*+])[ \t\u3000]+(?=\S)")
_ORDERED_LINE = re.compile(r"([0-9]{1,9})\.[ \t\u3000]+(?=\S)")
_FIGURE_LINE = re.compile(r"!\[(.*?)\]\((.*?)\)(\{.*\})?")
_NOTE_LINE = re.compile(r"注[：:]")
_NOTE_ITEM = re.compile(r"(?:[0-9]{1,3}[.．]|（[0-9]{1,3}）|[\u2460-\u2473])")
_FOOTNOTE_DEF = re.compile(r"\[\^[^\]]*\]:")
_LINK_DEF = re.compile(r"\[[^\]^][^\]]*\]:[ \t]*\S")
_SETEXT = re.compile(r"=+[ \t]*")
_WIDTH = re.compile(r"\{[ \t]*宽[ \t]*[=＝][ \t]*([0-9]+(?:\.[0-9]+)?)[ \t]*(mm|%)[ \t]*\}")
_DELIMITER = re.compile(r"[ \t]*(:?)-+(:?)[ \t]*")
_LOOKALIKE = (
    (1, re.compile(r"[一二三四五六七八九十百]+、"), "一、"),
    (2, re.compile(r"（[一二三四五六七八九十百]+）"), "（一）"),
    (3, re.compile(r"[0-9]+[.．](?![0-9])"), "1."),
    (4, re.compile(r"（[0-9]+）"), "（1）"),
)
_LEVEL_NAMES = {1: "一", 2: "二", 3: "三", 4: "四"}
_HASH_NUMBER = re.compile(r"#+(?=" + HEADING_NUMBER.pattern + ")")


def _matched(match: re.Match | None) -> re.Match:
    """The match `_line_kind` gives every kind of line but text and rules."""
    if match is None:
        raise ValueError("a list item, heading or figure line without its match")
    return match


def _line_kind(text: str) -> tuple[str, re.Match | None]:
    """What a non-blank line (stripped) starts: a block's kind, or "text"."""
    if _HR.fullmatch(text):
        return "rule", None
    match = _FENCE.match(text)
    if match:
        return "fence", match
    if text.startswith(">"):
        return "quote", None
    match = _HEADING_LINE.fullmatch(text)
    if match:
        return "heading", match
    if text.startswith("|"):
        return "table", None
    match = _FIGURE_LINE.fullmatch(text)
    if match:
        return "figure", match
    if _NOTE_LINE.match(text):
        return "note", None
    if _FOOTNOTE_DEF.match(text):
        return "footnote", None
    if _LINK_DEF.match(text):
        return "linkdef", None
    match = _BULLET_LINE.match(text)
    if match:
        return "bullet", match
    match = _ORDERED_LINE.match(text)
    if match:
        return "ordered", match
    if _SETEXT.fullmatch(text):
        return "setext", None
    return "text", None


_REFUSED_LINES = {
    "rule": "不支持分隔线（---、*** 或 ___ 单独一行）：请删去；要分开两部分，用标题",
    "quote": "不支持引用块（以“>”开头的行）：引用的话请加引号写在段落里；说明性的文字请写成“注：……”段落",
    "footnote": "简报不用脚注：请把注释写成“注：……”段落，放在文末或表格下面",
    "linkdef": _LINK,
    "setext": "不支持用“===”标出标题：标题请在行首写 #、##、###、####",
    "fence": "不支持代码块（``` 或 ~~~）：请把内容写成普通段落；要印出这几个符号，在前面加“\\”",
}


@dataclass
class _Open:
    """A block being read: its kind and its lines (offset of the text, stripped text)."""

    kind: str  # "p", "heading", "item", "note"
    lines: list[tuple[int, str]]
    level: int = 0
    marker: str = ""
    ordered: bool = False
    indent: int = 0
    items: list[tuple[str, list[tuple[int, str]]]] = field(default_factory=list)


class _BodyParser:
    def __init__(self, source: SourceFile, start: int, end: int, report: _Reporter):
        self.source, self.report = source, report
        self.lines: list[tuple[int, str]] = []
        offset = start
        for raw in source.text[start:end].split("\n"):
            self.lines.append((offset, raw))
            offset += len(raw) + 1
        self.forms: list[Form] = []
        self.open: _Open | None = None
        self.list: _Open | None = None  # the list being read (items in .items)
        self.gap = False  # a blank line since the last line of the list
        self.table: list[tuple[int, str]] = []
        self.caption: tuple[int, str] | None = None

    # --- driving -----------------------------------------------------------------
    def parse(self) -> list[Form]:
        index = 0
        while index < len(self.lines):
            offset, raw = self.lines[index]
            stripped = raw.strip(_SPACES)
            begin = offset + len(raw) - len(raw.lstrip(_SPACES))
            index += 1
            if not stripped:
                self.close_open()
                self.close_table()
                if self.list is not None:
                    self.gap = True
                continue
            kind, match = _line_kind(stripped)
            if self.table and kind != "table":
                self.close_table()
            if self.open is not None and self.open.kind == "note" and _NOTE_ITEM.match(stripped):
                self.open.items.append(("", [(begin, stripped)]))
                continue
            indent = self._indent(raw)
            if kind == "text":
                self.text_line(begin, stripped)
            elif kind in ("bullet", "ordered"):
                self.item_line(kind, _matched(match), begin, stripped, indent)
            elif kind == "table":
                self.table_line(begin, stripped)
            else:
                self.close_all()
                if kind == "heading":
                    self.heading_line(_matched(match), begin, stripped)
                elif kind == "figure":
                    self.figure(_matched(match), begin, stripped)
                elif kind == "note":
                    self.open = _Open("note", [], items=[("", [(begin, stripped)])])
                elif kind == "fence":
                    self.report.error(begin, _REFUSED_LINES[kind])
                    fence = _matched(match).group(1)
                    while index < len(self.lines):
                        closing = self.lines[index][1].strip(_SPACES)
                        index += 1
                        if closing.startswith(fence[0] * len(fence)) and not closing.strip(
                            fence[0]
                        ):
                            break
                elif kind == "quote":
                    self.report.error(begin, _REFUSED_LINES[kind])
                    while index < len(self.lines) and self.lines[index][1].strip(_SPACES):
                        index += 1
                else:
                    self.report.error(begin, _REFUSED_LINES[kind])
        self.close_all()
        return self.forms

    @staticmethod
    def _indent(raw: str) -> int:
        width = 0
        for char in raw:
            if char == " ":
                width += 1
            elif char == "\t":
                width += 4 - width % 4
            elif char == "\u3000":
                width += 2
            else:
                break
        return width

    def close_all(self) -> None:
        self.close_open()
        self.close_table()
        self.close_list()

    # --- text, paragraphs and headings ------------------------------------------------
    def text_line(self, begin: int, text: str) -> None:
        if _HASH_NUMBER.match(text):
            self.report.error(begin, "标题的“#”后面要空一格，如“## （一）……”")
        current = self.open
        if current is not None and not (current.kind == "item" and self.gap):
            if current.kind == "note":
                current.items[-1][1].append((begin, text))
            else:
                current.lines.append((begin, text))
            return
        self.close_all()
        self.open = _Open("p", [(begin, text)])

    def heading_line(self, match: re.Match, begin: int, text: str) -> None:
        marks, rest = match.group(1), (match.group(2) or "")
        rest = re.sub(r"[ \t]+#+[ \t]*$", "", rest).strip(_SPACES)  # closing #s
        if rest.strip("#") == "":
            rest = ""
        start = begin + (match.start(2) if match.group(2) is not None else len(text))
        start += len(match.group(2) or "") - len((match.group(2) or "").lstrip(_SPACES))
        self.open = _Open("heading", [(start, rest)], level=len(marks), indent=begin)

    def close_open(self) -> None:
        current, self.open = self.open, None
        if current is None:
            return
        if current.kind == "p":
            self.paragraph(current.lines)
        elif current.kind == "heading":
            self.heading(current)
        elif current.kind == "item":
            assert self.list is not None
            self.list.items.append((current.marker, current.lines))
            self.list.lines.append((current.indent, current.marker))  # where each marker is
        elif current.kind == "note":
            self.note(current)

    def _block(self, lines: list[tuple[int, str]], level: int = 0, marker: str = "") -> Block:
        text, where = _joined(lines)
        runs = _inline(text, where, self.report) if text else ()
        first = lines[0][0] if lines else 0
        last = lines[-1][0] + len(lines[-1][1]) if lines else first
        return Block(runs, Loc(self.source, first, max(last, first)), level, marker=marker)

    def paragraph(self, lines: list[tuple[int, str]]) -> None:
        block = self._block(lines)
        if not block.text:
            return
        for level, pattern, _example in _LOOKALIKE:
            found = pattern.match(block.text)
            if found:
                number, marks = found.group(), "#" * level
                self.report.warn(
                    block.loc.start,
                    (
                        f"这一段以“{number}”开头，像是{_LEVEL_NAMES[level]}级标题，写成正文就印不出标题的"
                        f"字体：独立成行的标题写成“{marks} {number}……”，标题与正文同段（接排标题）"
                        f"写成“{marks} {number}标题短语。正文……”"
                    ),
                )
                break
        self.forms.append(block)

    def heading(self, current: _Open) -> None:
        """A heading: whole-line, or run in. Its place starts at its # marks."""
        (start, first), *more = current.lines
        if not more and not first:
            self.forms.append(Block((), Loc(self.source, current.indent, start), current.level))
            return
        end = phrase_end(first)
        if more and end is None:
            self.report.error(
                more[0][0],
                (
                    "标题的下一行紧接着文字：独立成行的标题，后面空一行；标题与正文同段（接排标题），"
                    "标题短语要写在 # 这一行、以“。”（或“！”“？”）结束，正文接着写"
                ),
            )
            whole = self._block([(start, first)], current.level)
            self.forms.append(
                Block(whole.runs, Loc(self.source, current.indent, whole.loc.end), current.level)
            )
            self.paragraph(more)
            return
        block = self._block(current.lines, current.level)
        block = Block(block.runs, Loc(self.source, current.indent, block.loc.end), block.level)
        if end is None or (end >= len(first) and not more):
            self.forms.append(block)
            return
        # Run in: the phrase is the heading line's text up to its end mark. A space written
        # after the number ("1. 完善") does not print inside a paragraph.
        lead = self._lead(block, first[:end])
        runs, text = block.runs, block.text
        number = HEADING_NUMBER.match(text)
        if number:
            gap = len(text[number.end() :]) - len(text[number.end() :].lstrip(" \t"))
            if gap and number.end() + gap < lead:
                runs, lead = _cut(runs, number.end(), number.end() + gap), lead - gap
        self.forms.append(Block(runs, block.loc, current.level, lead=lead))

    @staticmethod
    def _lead(block: Block, phrase: str) -> int:
        """The length of the printed heading phrase: the phrase's characters less the markup
        (** and escapes) in it, found by matching the printed text against the source."""
        printed = block.text
        i = j = 0
        while i < len(phrase) and j < len(printed):
            if phrase[i] == printed[j]:
                i += 1
                j += 1
            else:
                i += 1  # markup: ** or a backslash
        return j

    # --- lists ---------------------------------------------------------------------
    def item_line(self, kind: str, match: re.Match, begin: int, text: str, indent: int) -> None:
        ordered = kind == "ordered"
        marker = f"{match.group(1)}." if ordered else BULLET
        body = (begin + match.end(), text[match.end() :])
        if self.list is not None and (self.list.ordered != ordered):
            self.close_all()
        if self.list is not None and indent >= self.list.indent + 2:
            self.report.error(
                begin,
                "不支持多层列表：里面一层请写成条目中的（1）（2）……，"
                "或另起一个列表（前面空一行、不缩进）",
            )
        self.close_open()
        self.close_table()
        if self.list is None:
            self.list = _Open("list", [], ordered=ordered, indent=indent)
        self.gap = False
        self.open = _Open("item", [body], marker=marker, indent=begin)

    def close_list(self) -> None:
        self.close_open()
        current, self.list, self.gap = self.list, None, False
        if current is None or not current.items:
            return
        items = tuple(self._block(lines, marker=marker) for marker, lines in current.items)
        if current.ordered:
            numbers = [int(item.marker[:-1]) for item in items]
            for index, (number, (at, _)) in enumerate(zip(numbers, current.lines)):
                if index and number != numbers[0] + index:
                    self.report.warn(
                        at, f"列表序号不连续：这里是 {number}.，按顺序应是 {numbers[0] + index}."
                    )
                    break
        start, end = items[0].loc.start, items[-1].loc.end
        self.forms.append(ListBlock(items, current.ordered, Loc(self.source, start, end)))

    # --- notes ---------------------------------------------------------------------
    def note(self, current: _Open) -> None:
        items = []
        for index, (_, lines) in enumerate(current.items):
            marker = ""
            if index == 0:
                (begin, first), *rest = lines
                marker, after = first[:2], first[2:]
                text = after.lstrip(_SPACES)
                lines = ([(begin + 2 + len(after) - len(text), text)] if text else []) + rest
                if not lines:
                    self.report.error(begin, "“注：”后面没有内容：请写出注释，或删去这一行")
                    lines = [(begin + 2, "")]
            items.append(self._block(lines, marker=marker))
        start = current.items[0][1][0][0]
        self.forms.append(Note(tuple(items), Loc(self.source, start, items[-1].loc.end)))

    # --- tables --------------------------------------------------------------------
    def table_line(self, begin: int, text: str) -> None:
        if not self.table:
            # The caption is the line directly above the header row.
            current = self.open
            caption = None
            if current is not None and self.gap is False and current.kind in ("p", "item", "note"):
                lines = current.lines if current.kind != "note" else current.items[-1][1]
                if lines and lines[-1][1].startswith("表"):
                    caption = lines.pop()
                    if not lines and current.kind == "p":
                        self.open = None
                    elif not lines and current.kind == "note":
                        current.items.pop()
                        if not current.items:
                            self.open = None
            self.close_all()
            self.caption = caption
        self.table.append((begin, text))

    def _cells(self, begin: int, text: str) -> list[tuple[int, str]]:
        """A row's cells (offset, stripped text), split at | not escaped by a backslash; the
        row's first | and an unescaped last one are not separators."""
        body = text[1:]
        if body.endswith("|") and not _escaped(text, len(text) - 1):
            body = body[:-1]
        raw, start = [], 0
        for i, char in enumerate(body):
            if char == "|" and not _escaped(body, i):
                raw.append((start, body[start:i]))
                start = i + 1
        raw.append((start, body[start:]))
        cells = []
        for start, cell in raw:
            lead = len(cell) - len(cell.lstrip(_SPACES))
            cells.append((begin + 1 + start + lead, cell.strip(_SPACES)))
        return cells

    def _cell(self, offset: int, text: str) -> Block:
        return (
            self._block([(offset, text)]) if text else Block((), Loc(self.source, offset, offset))
        )

    def close_table(self) -> None:
        rows, self.table = self.table, []
        caption, self.caption = self.caption, None
        if not rows:
            return
        first = rows[0][0]
        if caption is None:
            self.report.error(
                first,
                "表格缺少表题：在表格上一行（不空行）写表题，如“表1　2024年各市州"
                "代表联络站建设情况”",
            )
        header = self._cells(*rows[0])
        if len(rows) < 2 or not all(_DELIMITER.fullmatch(c) for _, c in self._cells(*rows[1])):
            where = rows[1][0] if len(rows) > 1 else first
            self.report.error(
                where,
                "表格的第二行应是分隔行，如“|---|---|”（各列一个，数字列可写"
                "“---:”靠右）：第一行是表头",
            )
            return
        delimiters = self._cells(*rows[1])
        if len(delimiters) != len(header):
            self.report.error(
                rows[1][0], f"分隔行有 {len(delimiters)} 列，表头有 {len(header)} 列：两者应一样多"
            )
            return
        if len(rows) < 3:
            self.report.error(first, "表格只有表头，没有内容行")
            return
        aligns = []
        for _, cell in delimiters:
            delimiter = _matched(_DELIMITER.fullmatch(cell))  # the rows were found by it
            left, right = delimiter.group(1), delimiter.group(2)
            aligns.append(
                "center" if left and right else "right" if right else "left" if left else ""
            )
        header_cells = tuple(self._cell(offset, text) for offset, text in header)
        for offset, text in header:
            if not text:
                self.report.error(offset, "表头的每一格都要有文字")
        body = []
        for begin, text in rows[2:]:
            cells = self._cells(begin, text)
            if len(cells) != len(header):
                self.report.error(
                    begin,
                    f"这一行有 {len(cells)} 格，表头有 {len(header)} 格："
                    "每一行的格数应与表头相同（空格也要写出“| |”）",
                )
                continue
            body.append(tuple(self._cell(offset, text) for offset, text in cells))
        cap = (
            self._block([caption])
            if caption is not None
            else Block((), Loc(self.source, first, first))
        )
        end = rows[-1][0] + len(rows[-1][1])
        start = caption[0] if caption is not None else first
        self.forms.append(
            Table(cap, header_cells, tuple(body), tuple(aligns), Loc(self.source, start, end))
        )

    # --- figures -------------------------------------------------------------------
    def figure(self, match: re.Match, begin: int, text: str) -> None:
        alt, src, attributes = match.group(1), match.group(2), match.group(3)
        caption_at = begin + 2
        if not alt.strip(_SPACES):
            self.report.error(
                begin,
                "图片缺少图题：写在方括号里，如“![图1　株洲市代表联络站接待群众](联络站.jpg)”",
            )
        lead = len(alt) - len(alt.lstrip(_SPACES))
        stripped = alt.strip(_SPACES)
        caption = (
            self._block([(caption_at + lead, stripped)])
            if stripped
            else Block((), Loc(self.source, caption_at, caption_at))
        )
        src_at = begin + match.start(2)
        width = None
        if attributes is not None:
            found = _WIDTH.fullmatch(attributes)
            if found is None:
                self.report.error(
                    begin + match.start(3),
                    "图片的尺寸应写成“{宽=80mm}”（毫米）或“{宽=60%}”（版心宽度的百分比）",
                )
            else:
                width = (float(found.group(1)), found.group(2))
        self.forms.append(
            Figure(
                caption,
                src.strip(_SPACES),
                Loc(self.source, src_at, src_at + len(src)),
                width,
                Loc(self.source, begin, begin + len(text)),
            )
        )


def _escaped(text: str, index: int) -> bool:
    count = 0
    while index - count - 1 >= 0 and text[index - count - 1] == "\\":
        count += 1
    return count % 2 == 1


def _runs_text(runs: tuple[Run, ...]) -> str:
    return "".join(run.text for run in runs)


def _cut(runs: tuple[Run, ...], start: int, end: int) -> tuple[Run, ...]:
    """runs without the characters start:end of their text."""
    out, at = [], 0
    for run in runs:
        a, b = at, at + len(run.text)
        text = (
            run.text[: max(0, start - a)] + run.text[max(0, end - a) :]
            if a < end and b > start
            else run.text
        )
        if text:
            out.append(Run(text, run.strong))
        at = b
    return tuple(out)


def parse_blocks(
    source: SourceFile,
    start: int,
    end: int,
    problems: list[Problem] | None = None,
    notices: list[Problem] | None = None,
) -> list[Form]:
    """The forms of a Markdown span: paragraphs, headings, lists, notes, tables, figures.

    Errors (markup that liandong refuses) go to `problems`, warnings to `notices`, each at its
    file:line:column; without the lists they are not reported (typography lint reads the
    blocks only for their spans)."""
    return _BodyParser(source, start, end, _Reporter(source, problems, notices)).parse()


def yaml_scalar(value: str) -> str:
    """A value as liandong writes it into a source (new, import): plain when YAML reads it back
    unchanged, else double-quoted."""
    try:
        if yaml.safe_load(f"k: {value}") == {"k": value}:
            return value
    except yaml.YAMLError:
        pass
    return yaml.safe_dump(value, allow_unicode=True, default_style='"', width=10**6).strip()
