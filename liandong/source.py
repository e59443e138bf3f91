"""Read series and issue sources into YAML nodes and Markdown blocks, keeping every position."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

import markdown
import yaml

from liandong import limits
from liandong.errors import Problem, display_path, os_reason

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


@dataclass(frozen=True)
class Run:
    """A stretch of inline text with one style."""

    text: str
    strong: bool = False


@dataclass(frozen=True)
class Block:
    """A paragraph or a numbered heading (level 1–4: 一、（一）1.（1）) of an article body."""

    runs: tuple[Run, ...]
    loc: Loc
    level: int = 0

    @property
    def text(self) -> str:
        return "".join(run.text for run in self.runs)


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
    return raw[len(bom):].decode("utf-8"), "utf-8", bom


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


_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")
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
        problems.append(Problem(name, 1, 1, f"这是指向项目之外（{display_path(real)}）的符号链接，"
                                            "出于安全考虑不读取；请把文件本身放进项目"))
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
        problems.append(Problem(name, 1, 1, f"文件超过 {limits.SOURCE_BYTES // 1024} KB 的上限"
                                            "（limits.SOURCE_BYTES），请拆分成几篇文章"))
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
        column = len(raw[line_start:exc.start].decode("utf-8", errors="replace")) + 1
        problems.append(Problem(name, line, column, "文件不是 UTF-8 编码，请另存为 UTF-8"))
        return None
    source = SourceFile(path, name, normalise_newlines(text))
    control = _CONTROL.search(source.text)
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
    (re.compile(r"found unknown escape character '?(.)'?"),
     "双引号里的“\\{0}”不是有效的写法：反斜杠请写成“\\\\”，或改用单引号"),
    (re.compile(r"expected ',' or '\]', but (?:got|found) .*"), "方括号 [ ] 没有闭合，或列表的项之间缺少“,”"),
    (re.compile(r"expected ',' or '\}', but (?:got|found) .*"), "花括号 {{ }} 没有闭合，或项之间缺少“,”"),
    (re.compile(r"expected <block end>, but found .*|did not find expected (?:key|'-' indicator)"),
     "缩进没有对齐：同一层的各项应缩进同样多的空格"),
    (re.compile(r"found character '(.)' that cannot start any token"),
     "“{0}”不能用在值的开头：含有它的文字请加引号"),
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
            raise yaml.composer.ComposerError(None, None, f"{_ALIAS}{event.anchor}",
                                              event.start_mark)
        return super().compose_node(parent, index)


_ALIAS = "liandong: alias *"


def compose_yaml(source: SourceFile, problems: list[Problem], offset: int = 0,
                 text: str | None = None) -> yaml.Node | None:
    """Parse YAML safely (no Python tags) into nodes whose marks give line and column."""
    text = source.text if text is None else text
    try:
        node = yaml.compose(text, Loader=_Loader)
    except RecursionError:
        # PyYAML composes nodes recursively (about 1,000 levels deep it gives up), but parses
        # events with a stack of its own: find where the nesting first goes too deep.
        line, column = source.position(offset + _too_deep_at(text))
        problems.append(Problem(source.name, line, column, f"YAML 嵌套超过 {limits.YAML_DEPTH} "
                                                           "层的上限（limits.YAML_DEPTH）"))
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
        if message == _YAML_PROBLEMS["found character '\\t' that cannot start any token"] and \
                source.text[source.text.rfind("\n", 0, where) + 1:where].strip():
            message = "这里不能用 Tab，请改用空格"  # a tab after "键:", not indentation
        if problem.startswith(_ALIAS):
            message = f"不支持 YAML 别名“*{problem[len(_ALIAS):]}”：请把内容直接写出"
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
        problems.append(Problem(source.name, line, column,
                                f"YAML 嵌套超过 {limits.YAML_DEPTH} 层的上限（limits.YAML_DEPTH）"))
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
                    return event.start_mark.index
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

_HEADING = re.compile(r"(#{1,6})[ \t]+(.*?)[ \t#]*$")
_LATIN = re.compile(r"[A-Za-z0-9]")
_SPACES = " \t\u3000"


def _markdown() -> markdown.Markdown:
    """Markdown for inline styles only. Raw HTML, links and images become plain text."""
    md = markdown.Markdown(output_format="xhtml")
    for name in ("html_block", "normalize_whitespace"):
        if name in md.preprocessors:
            md.preprocessors.deregister(name)
    for name in ("code", "hashheader", "setextheader", "hr", "olist", "ulist", "quote",
                 "indent", "reference"):
        if name in md.parser.blockprocessors:
            md.parser.blockprocessors.deregister(name)
    for name in ("html", "entity", "link", "image_link", "image_reference", "reference",
                 "short_reference", "short_image_ref", "autolink", "automail", "linebreak",
                 "backtick", "not_strong"):
        if name in md.inlinePatterns:
            md.inlinePatterns.deregister(name)
    return md


_MD = _markdown()


def inline_runs(text: str) -> tuple[Run, ...]:
    """Split a paragraph's Markdown into runs: **strong** and plain. Other markup is kept as text."""
    _MD.reset()
    # "&" is escaped first so that entities (&lt; &#60;) print as written, like all other markup.
    html = _MD.convert(text.replace("&", "&amp;"))
    root = ElementTree.fromstring(f"<div>{html}</div>")
    runs: list[Run] = []
    # Depth-first without recursion: **** nested a thousand deep is still just text.
    stack: list[tuple[ElementTree.Element | str, bool]] = [(root, False)]
    while stack:
        item, strong = stack.pop()
        if isinstance(item, str):
            runs.append(Run(item, strong))
            continue
        if item.text:
            runs.append(Run(item.text, strong))
        for child in reversed(item):
            if child.tail:
                stack.append((child.tail, strong))
            stack.append((child, strong or child.tag in ("strong", "b")))
    merged: list[Run] = []
    for run in runs:
        if merged and merged[-1].strong == run.strong:
            merged[-1] = Run(merged[-1].text + run.text, run.strong)
        elif run.text:
            merged.append(run)
    return tuple(merged)


def join_lines(lines: list[str]) -> str:
    """Join a paragraph's source lines: Chinese lines join directly, Latin words keep a space."""
    text = ""
    for line in lines:
        line = line.strip(_SPACES)
        if text and line and _LATIN.match(text[-1]) and _LATIN.match(line[0]):
            text += " "
        text += line
    return text


def parse_blocks(source: SourceFile, start: int, end: int) -> list[Block]:
    """Split a Markdown span into paragraphs and # headings (blank lines separate paragraphs)."""
    blocks: list[Block] = []
    lines: list[str] = []
    block_start = block_end = start

    def flush() -> None:
        if lines:
            text = join_lines(lines)
            if text:
                # Over the limit, validation reports the paragraph: Markdown is not run on it.
                runs = inline_runs(text) if len(text) <= limits.PARAGRAPH_CHARS else (Run(text),)
                blocks.append(Block(runs, Loc(source, block_start, block_end)))
        lines.clear()

    offset = start
    for raw in source.text[start:end].split("\n"):
        line_end = offset + len(raw)
        stripped = raw.strip(_SPACES)
        heading = _HEADING.match(raw)
        if not stripped:
            flush()
        elif heading:
            flush()
            level = len(heading.group(1))
            text = heading.group(2).strip(_SPACES)
            runs = inline_runs(text) if len(text) <= limits.PARAGRAPH_CHARS else (Run(text),)
            blocks.append(Block(runs, Loc(source, offset, line_end), level))
        else:
            if not lines:
                block_start = offset + (len(raw) - len(raw.lstrip(_SPACES)))
            lines.append(raw)
            block_end = line_end
        offset = line_end + 1
    flush()
    return blocks


def yaml_scalar(value: str) -> str:
    """A value as liandong writes it into a source (new, import): plain when YAML reads it back
    unchanged, else double-quoted."""
    try:
        if yaml.safe_load(f"k: {value}") == {"k": value}:
            return value
    except yaml.YAMLError:
        pass
    return yaml.safe_dump(value, allow_unicode=True, default_style='"', width=10**6).strip()
