"""Validate series and issue sources against one schema and build plain `Issue` data."""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import logging
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TypeVar

import yaml

from liandong import limits
from liandong.errors import Problem, display_path
from liandong.source import (
    CONTROL,
    ISSUE_FILE,
    SERIES_FILE,
    Block,
    Figure,
    Form,
    Loc,
    SourceFile,
    Table,
    compose_yaml,
    control_message,
    key_slip,
    node_loc,
    parse_blocks,
    read_source,
    source_name,
    split_front_matter,
)
from liandong.typeset import CLOSING, OPENING, chinese_number

if TYPE_CHECKING:
    from liandong.fonts import FontSettings

logger = logging.getLogger(__name__)

DISTRIBUTION_KEYS = ("报", "送", "发")
"""The 版记 lists, in the order they print: superiors, peers, subordinates."""


@dataclass(frozen=True)
class Field:
    """One key of a source file: its kind and what it means."""

    kind: str  # "text", "number", "date", "list", "markdown", "choice", "choices", "timezone", "fonts"
    doc: str
    required: bool = False
    maximum: int | None = None  # for numbers
    choices: tuple[str, ...] = ()  # for choice(s) (期号编排: the first is the default)


SERIES_SCHEMA: dict[str, Field] = {
    "刊名": Field("text", "刊物名称，印在报头，如“联络动态”。", required=True),
    "编印单位": Field("text", "编印单位，报头左侧印作“……编”。", required=True),
    "批准文号": Field("text", "内部资料批准文号，印在版记最后一行。", required=True),
    "责任编辑": Field("text", "责任编辑姓名，印在版记。"),
    "联系方式": Field("text", "电话、邮箱等，印在版记。"),
    "报": Field("list", "报送的上级机关，每行一个。"),
    "送": Field("list", "送达的机关和单位，每行一个。"),
    "发": Field("list", "发至的下级机关，每行一个。"),
    "印数": Field("number", "共印份数，印在版记。", maximum=9_999_999),
    "期号编排": Field(
        "choice",
        "期号怎样编：“每年重排”（默认，每年从第 1 期编起）或“连续”"
        "（跨年接着编）。总期号总是连续的。",
        choices=("每年重排", "连续"),
    ),
    "时区": Field(
        "timezone",
        "出刊日期所在的时区，写作 IANA 时区名，默认 Asia/Shanghai（北京时间）；"
        "PDF 的创建、修改时间是出刊日期零点，带上这个时区；网站订阅源里各期的时间也按它写出。",
    ),
    "补字字体": Field(
        "fonts",
        "某种字体缺字时，逐字改用哪个字体印出，按字体角色写，每行一个，"
        "如“仿宋: Noto Serif CJK SC”。角色：小标宋、仿宋、楷体、黑体、宋体。"
        "不写时：仿宋、宋体、小标宋用 Noto Serif CJK SC，楷体用 LXGW WenKai"
        "（楷体本身就是它时用 Noto Serif CJK SC），黑体用 Noto Sans CJK SC。",
    ),
    "接受代用仿宋": Field(
        "choice",
        "没有授权的仿宋字体时，确认用这个开源字体印正文，不再每次提醒："
        "“FandolFang”或“Noto Serif CJK SC”。",
        choices=("FandolFang", "Noto Serif CJK SC"),
    ),
    "网站名称": Field("text", "网站标题，印在网站每一页的页头；默认用刊名。"),
    "主办单位": Field("text", "网站页脚的主办单位；默认用编印单位。"),
    "备案号": Field(
        "text", "ICP 备案号，如“湘ICP备12345678号-1”，印在网站页脚，链接到工业和信息化部备案系统。"
    ),
    "公安备案号": Field(
        "text", "公安机关互联网站安全备案号，如“湘公网安备 43010502000001号”，印在网站页脚。"
    ),
    "网站联系方式": Field("text", "网站页脚的联系方式；默认用版记的“联系方式”。"),
    "订阅期数": Field("number", "订阅源（feed.xml）收录最近多少期，默认 20。", maximum=500),
    "网站附带": Field(
        "attachments",
        "网站上每期除 PDF 外还附带哪些文件，每行一项：“Word”（.docx 电子版）"
        "或“OFD”（版式文档）。不写时只附 PDF。",
        choices=("Word", "OFD"),
    ),
}
"""series.yaml: what every issue shares. Each issue may override any of these except the
series-only ones (SERIES_ONLY: 刊名, 期号编排, 时区, the font settings and the site's settings)."""

SERIES_ONLY = (
    "刊名",
    "期号编排",
    "时区",
    "补字字体",
    "接受代用仿宋",
    "网站名称",
    "主办单位",
    "备案号",
    "公安备案号",
    "网站联系方式",
    "订阅期数",
    "网站附带",
)
FONT_KEYS = ("补字字体", "接受代用仿宋")
"""Font settings: fonts are resolved once for the whole project, so they are series-only."""
NUMBERING_KEY = "期号编排"
PER_YEAR, CONTINUOUS = SERIES_SCHEMA[NUMBERING_KEY].choices

TIMEZONE_KEY = "时区"
DEFAULT_TIMEZONE = "Asia/Shanghai"
"""Where the bulletin appears: its dates in the PDF (Info and XMP) are midnight there."""

ISSUE_SCHEMA: dict[str, Field] = {
    "期号": Field("number", "本年第几期，如 13。", required=True, maximum=999),
    "总期号": Field(
        "number",
        "创刊以来的总期数，如 714，印作“总第七百一十四期”。",
        required=True,
        maximum=99_999,
    ),
    "日期": Field("date", "出刊日期，写作 2024-08-30。", required=True),
    "编者按": Field("markdown", "编者按正文，可分段；印在文章之前，用楷体。"),
    "状态": Field(
        "choice",
        "“草稿”（默认）或“已签发”：只有已签发、且通过 liandong check --strict 的"
        "一期才会发布到网站和订阅源；liandong serve 预览时草稿也显示，标明“草稿”。",
        choices=("草稿", "已签发"),
    ),
    **{
        key: Field(spec.kind, spec.doc, maximum=spec.maximum)
        for key, spec in SERIES_SCHEMA.items()
        if key not in SERIES_ONLY
    },
}
"""issue.yaml: one issue. Values given here override series.yaml."""

STATUS_KEY = "状态"
DRAFT, SIGNED_OFF = ISSUE_SCHEMA[STATUS_KEY].choices

ARTICLE_SCHEMA: dict[str, Field] = {
    "标题": Field("text", "文章标题。", required=True),
    "副标题": Field("text", "副标题，另起一行印在标题之下。"),
}
"""Front matter of each article (*.md in the issue's folder, in the numeric order of their
names: see `article_order`)."""

HEADING_PATTERNS = {
    1: (re.compile(r"[一二三四五六七八九十百]+、"), "一、"),
    2: (re.compile(r"（[一二三四五六七八九十百]+）"), "（一）"),
    3: (re.compile(r"\d+[.．]"), "1."),
    4: (re.compile(r"（\d+）"), "（1）"),
}
"""Body headings: # 一、 ## （一） ### 1. #### （1）; the editor writes the number."""


@dataclass(frozen=True)
class Text:
    """A text value and where it stands."""

    value: str
    loc: Loc


@dataclass(frozen=True)
class Article:
    title: Text
    subtitle: Text | None
    blocks: tuple[Form, ...]
    """The body: paragraphs and headings (Block), lists, notes, tables and figures."""
    source: SourceFile


@dataclass(frozen=True)
class Issue:
    """One issue, validated, with the series' values already merged in."""

    folder: Path
    year: int
    number: int
    total: int
    date: dt.date
    name: str
    compiler: Text
    approval: Text
    editor: Text | None
    contact: Text | None
    print_count: int | None
    note: tuple[Block, ...]
    articles: tuple[Article, ...]
    distribution: tuple[tuple[str, tuple[Text, ...]], ...]
    sources: tuple[SourceFile, ...] = field(default=())
    locs: dict[str, Loc] = field(default_factory=dict)
    """Where each field (series or issue) is written, for problems found later."""
    timezone: str = DEFAULT_TIMEZONE
    """The series' 时区, an IANA name: the issue date is midnight there."""
    signed_off: bool = False
    """状态: 已签发 in issue.yaml: the issue may be published (a draft otherwise)."""
    notices: tuple[Problem, ...] = ()
    """Warnings about the sources' forms (a heading written as text, an unpaired **, a list
    that skips a number …): check shows them, build logs them."""

    @property
    def figures(self) -> tuple[Figure, ...]:
        return tuple(
            form for article in self.articles for form in article.blocks if isinstance(form, Figure)
        )

    @property
    def slug(self) -> str:
        return f"{self.year}-{self.number:02d}"


# --- YAML mapping → checked values --------------------------------------------


def _mapping(
    source: SourceFile,
    node: yaml.Node | None,
    schema: dict[str, Field],
    problems: list[Problem],
    parsed: bool = True,
) -> dict[str, yaml.Node]:
    """Check keys of a mapping: unknown keys (with a suggestion), duplicates, missing keys.

    When the YAML did not parse, its syntax error is the only problem worth reporting."""
    if not parsed:
        return {}
    if node is None:
        node_dict: dict[str, yaml.Node] = {}
        for key, spec in schema.items():
            if spec.required:
                problems.append(Problem(source.name, 1, 1, f"缺少必填项“{key}”"))
        return node_dict
    if not isinstance(node, yaml.MappingNode):
        loc = node_loc(source, node)
        slip = key_slip(source, source.text[loc.start : loc.end], loc.start, loc.end)
        problems.append(slip or loc.problem("这里应是“键: 值”形式的设置"))
        return {}
    if not _tag_ok(source, "本文件", node, problems):
        return {}
    found: dict[str, yaml.Node] = {}
    key_lines: dict[str, int] = {}
    suggested: set[str] = set()
    for key_node, value_node in node.value:
        loc = node_loc(source, key_node)
        if not isinstance(key_node, yaml.ScalarNode):
            problems.append(loc.problem("设置的名称应是一段文字，如“期号”"))
            continue
        key = str(key_node.value)
        if key_node.tag == _YAML + "merge":
            problems.append(loc.problem("不支持 YAML 合并键“<<”：请把每一项直接写出"))
            continue
        if key in found:
            problems.append(loc.problem(f"“{_shown(key)}”重复出现（第 {key_lines[key]} 行已有）"))
            continue
        if key not in schema and schema is ISSUE_SCHEMA and key in SERIES_ONLY:
            problems.append(loc.problem(f"“{key}”是整个刊物的设置，只能写在 series.yaml 里"))
            continue
        if key not in schema:
            close = difflib.get_close_matches(key[:50], list(schema), n=1, cutoff=0.3)
            hint = f"，是不是“{close[0]}”？" if close else f"；可用的有：{'、'.join(schema)}"
            problems.append(loc.problem(f"未知的设置“{_shown(key)}”{hint}"))
            suggested.update(close)
            continue
        found[key] = value_node
        key_lines[key] = source.position(key_node.start_mark.index)[0]
    for key, spec in schema.items():
        # A missing key already suggested for a misspelt one is the same problem: say it once.
        if spec.required and key not in found and key not in suggested:
            problems.append(node_loc(source, node).problem(f"缺少必填项“{key}”"))
    return found


_YAML = "tag:yaml.org,2002:"
_KNOWN_TAGS = {
    _YAML + name for name in ("str", "int", "float", "bool", "timestamp", "null", "seq", "map")
}


def _shown(value: str, limit: int = 30) -> str:
    """A value quoted in a message: long ones are cut, so a message stays one readable line."""
    value = value.replace("\n", " ")
    return value if len(value) <= limit else value[:limit] + "…"


def _tag_ok(source: SourceFile, key: str, node: yaml.Node, problems: list[Problem]) -> bool:
    """Only YAML's plain types: a Python tag (!!python/object…) is reported, never constructed."""
    if node.tag in _KNOWN_TAGS:
        return True
    tag = "!!" + node.tag[len(_YAML) :] if node.tag.startswith(_YAML) else node.tag
    problems.append(node_loc(source, node).problem(f"“{key}”使用了不支持的 YAML 标签 {tag}"))
    return False


def _scalar(
    source: SourceFile,
    key: str,
    node: yaml.Node,
    problems: list[Problem],
    expected: str = "一段文字",
) -> str | None:
    if not _tag_ok(source, key, node, problems):
        return None
    if not isinstance(node, yaml.ScalarNode) or node.tag == _YAML + "null":
        problems.append(node_loc(source, node).problem(f"“{key}”应是{expected}"))
        return None
    value = str(node.value)
    control = CONTROL.search(value)  # written as a YAML escape such as "\x01"
    if control:
        problems.append(
            node_loc(source, node).problem(f"“{key}”{control_message(control.group())}")
        )
        return None
    return value


def _text(source: SourceFile, key: str, node: yaml.Node, problems: list[Problem]) -> Text | None:
    value = _scalar(source, key, node, problems)
    if value is None:
        return None
    value = value.strip()
    if not value:
        problems.append(node_loc(source, node).problem(f"“{key}”不能为空"))
        return None
    if len(value) > limits.TEXT_CHARS:
        problems.append(
            node_loc(source, node).problem(
                f"“{key}”有 {len(value)} 字，超过 {limits.TEXT_CHARS} 字的上限（limits.TEXT_CHARS）"
            )
        )
        return None
    return Text(value, node_loc(source, node))


def _number(
    source: SourceFile,
    key: str,
    node: yaml.Node,
    problems: list[Problem],
    maximum: int | None = None,
) -> int | None:
    value = _scalar(source, key, node, problems, expected="正整数（半角阿拉伯数字）")
    if value is None:
        return None
    if not re.fullmatch(r"[0-9]+", value.strip()) or not value.strip().lstrip("0"):
        problems.append(
            node_loc(source, node).problem(
                f"“{key}”应是正整数（半角阿拉伯数字），现在是“{_shown(value)}”"
            )
        )
        return None
    # Compared by length first: int() refuses strings of more than 4,300 digits.
    digits = value.strip().lstrip("0")
    if maximum is not None and (len(digits) > len(str(maximum)) or int(digits) > maximum):
        problems.append(
            node_loc(source, node).problem(
                f"“{key}”不能大于 {maximum}，现在是 {_shown(value.strip())}"
            )
        )
        return None
    return int(digits)


_DATE = re.compile(r"([0-9]{4})(?:-([0-9]{1,2})-([0-9]{1,2})|年([0-9]{1,2})月([0-9]{1,2})日)")


def parse_date(value: str) -> dt.date | Literal[False] | None:
    """A date written 2024-08-30 or 2024年8月30日: the date, None if not written so, False if
    written so but impossible (2024-02-30)."""
    match = _DATE.fullmatch(value.strip())
    if not match:
        return None
    year, month, day = (int(g) for g in match.groups() if g is not None)
    try:
        return dt.date(year, month, day)
    except ValueError:
        return False


def _date(source: SourceFile, key: str, node: yaml.Node, problems: list[Problem]) -> dt.date | None:
    value = _scalar(source, key, node, problems, expected="日期，写作 2024-08-30")
    if value is None:
        return None
    date = parse_date(value)
    if date is None and re.search("[０-９]", value):
        problems.append(
            node_loc(source, node).problem(
                f"“{key}”应使用半角数字，写作 2024-08-30，现在是“{value}”"
            )
        )
        return None
    if date is None:
        problems.append(
            node_loc(source, node).problem(f"“{key}”应写作 2024-08-30，现在是“{_shown(value)}”")
        )
        return None
    if date is False:
        problems.append(node_loc(source, node).problem(f"“{key}”不是有效日期：“{value}”"))
        return None
    return date


def _choice(
    source: SourceFile,
    key: str,
    node: yaml.Node,
    problems: list[Problem],
    choices: tuple[str, ...] = (),
) -> str | None:
    value = _scalar(source, key, node, problems)
    if value is None:
        return None
    if value.strip() not in choices:
        options = "或".join(f"“{choice}”" for choice in choices)
        problems.append(node_loc(source, node).problem(f"“{key}”应是{options}，现在是“{value}”"))
        return None
    return value.strip()


def _list(
    source: SourceFile, key: str, node: yaml.Node, problems: list[Problem], what: str = "一个单位"
) -> tuple[Text, ...] | None:
    if isinstance(node, yaml.ScalarNode) and node.tag == _YAML + "null":
        return ()
    if not isinstance(node, yaml.SequenceNode):
        if _tag_ok(source, key, node, problems):
            problems.append(
                node_loc(source, node).problem(f"“{key}”应是列表，每行以“- ”开头写{what}")
            )
        return None
    if not _tag_ok(source, key, node, problems):
        return None
    if len(node.value) > limits.LIST_ITEMS:
        problems.append(
            node_loc(source, node).problem(
                f"“{key}”有 {len(node.value)} 项，超过 {limits.LIST_ITEMS} 项的上限（limits.LIST_ITEMS）"
            )
        )
        return None
    items = [_text(source, key, item, problems) for item in node.value]
    texts = tuple(item for item in items if item is not None)
    return texts if len(texts) == len(items) else None


def _markdown_blocks(
    source: SourceFile,
    key: str,
    node: yaml.Node,
    problems: list[Problem],
    notices: list[Problem] | None = None,
) -> tuple[Block, ...] | None:
    """A Markdown value inside YAML (编者按): paragraphs only. Block scalars (|) map back to
    the file line by line."""
    value = _scalar(source, key, node, problems)
    if value is None:
        return None
    loc = node_loc(source, node)
    before = len(problems)
    if getattr(node, "style", None) == "|":
        # The literal block's lines are the file's lines minus indentation; parse the file span.
        newline = source.text.find("\n", loc.start, loc.end)
        if newline == -1:  # "编者按: |" on the file's last line: an empty note
            return ()
        forms = parse_blocks(source, newline + 1, loc.end, problems, notices)
    else:
        # Folded or plain scalars: parse the value, then anchor each paragraph at its start.
        temp = SourceFile(source.path, source.name, value)
        errors: list[Problem] = []
        warnings: list[Problem] = []
        forms = [
            _anchored(form, loc) for form in parse_blocks(temp, 0, len(value), errors, warnings)
        ]
        problems += [loc.problem(problem.message) for problem in errors]
        if notices is not None:
            notices += [loc.problem(problem.message) for problem in warnings]
    for form in forms:
        if not isinstance(form, Block) or form.level:
            problems.append(
                form.loc.problem(
                    f"“{key}”里只能写段落（可以用 **加粗**）：标题、列表、表格、图片和“注：”请写在文章里"
                )
            )
    _check_paragraphs(forms, problems)
    blocks = tuple(form for form in forms if isinstance(form, Block))
    return blocks if len(problems) == before else None  # every form is a Block, or a problem


def _anchored(form: Form, loc: Loc) -> Form:
    if isinstance(form, Block):
        return Block(form.runs, loc, form.level, form.lead, form.marker)
    return form


def _timezone(source: SourceFile, key: str, node: yaml.Node, problems: list[Problem]) -> str | None:
    """An IANA time zone name (Asia/Shanghai), checked against the time zone database."""
    import zoneinfo

    value = _scalar(source, key, node, problems, expected="时区名，如 Asia/Shanghai")
    if value is None:
        return None
    name = value.strip()
    try:
        zoneinfo.ZoneInfo(name)
        return name
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        pass
    close = difflib.get_close_matches(
        name[:50], sorted(zoneinfo.available_timezones()), n=1, cutoff=0.8
    )
    hint = f"，是不是“{close[0]}”？" if close else ""
    problems.append(
        node_loc(source, node).problem(
            f"“{key}”应是 IANA 时区名，如 Asia/Shanghai（北京时间），现在是“{_shown(value)}”{hint}"
        )
    )
    return None


def _fonts(
    source: SourceFile, key: str, node: yaml.Node, problems: list[Problem]
) -> dict[str, Text] | None:
    """补字字体: a mapping from a role's style (仿宋 …) to a font family name."""
    from liandong.fonts import ROLE_BY_STYLE

    if not _tag_ok(source, key, node, problems):
        return None
    if not isinstance(node, yaml.MappingNode):
        problems.append(
            node_loc(source, node).problem(
                f"“{key}”应按字体角色逐行写，如“  仿宋: Noto Serif CJK SC”"
            )
        )
        return None
    before = len(problems)
    found: dict[str, Text] = {}
    for role_node, family_node in node.value:
        style = str(role_node.value) if isinstance(role_node, yaml.ScalarNode) else ""
        role = ROLE_BY_STYLE.get(style)
        if role is None:
            problems.append(
                node_loc(source, role_node).problem(
                    f"“{key}”里没有“{_shown(style)}”这种字体角色；可用的有：{'、'.join(ROLE_BY_STYLE)}"
                )
            )
            continue
        if role.key in found:
            problems.append(node_loc(source, role_node).problem(f"“{key}”里“{style}”重复出现"))
            continue
        family = _text(source, f"{key}：{style}", family_node, problems)
        if family is not None:
            found[role.key] = family
    return found if len(problems) == before else None


def _attachments(
    source: SourceFile,
    key: str,
    node: yaml.Node,
    problems: list[Problem],
    choices: tuple[str, ...] = (),
) -> tuple[str, ...] | None:
    """网站附带: a list of the file kinds a site publishes beside each PDF (Word, OFD)."""
    options = "、".join(f"“{choice}”" for choice in choices)
    items = _list(source, key, node, problems, what=f"一项：{options}")
    if items is None:
        return None
    found: list[str] = []
    before = len(problems)
    for item in items:
        value = item.value.strip()
        if value not in choices:
            problems.append(
                item.loc.problem(
                    f"“{key}”里没有“{_shown(value)}”这一项：可写的有{'、'.join(choices)}"
                )
            )
        elif value in found:
            problems.append(item.loc.problem(f"“{key}”里“{value}”重复出现"))
        else:
            found.append(value)
    return tuple(found) if len(problems) == before else None


_CONVERTERS: dict[str, Callable] = {
    "text": _text,
    "number": _number,
    "date": _date,
    "list": _list,
    "markdown": _markdown_blocks,
    "choice": _choice,
    "timezone": _timezone,
    "fonts": _fonts,
    "attachments": _attachments,
}


def _values(
    source: SourceFile,
    nodes: dict[str, yaml.Node],
    schema: dict[str, Field],
    problems: list[Problem],
    notices: list[Problem] | None = None,
) -> dict[str, object]:
    values = {}
    for key, node in nodes.items():
        spec = schema[key]
        extra = (
            {"maximum": spec.maximum}
            if spec.kind == "number"
            else {"choices": spec.choices}
            if spec.kind in ("choice", "attachments")
            else {"notices": notices}
            if spec.kind == "markdown"
            else {}
        )
        value = _CONVERTERS[spec.kind](source, key, node, problems, **extra)
        if value is not None:
            values[key] = value
    return values


# --- Loading --------------------------------------------------------------


def load_series(
    root: Path, problems: list[Problem]
) -> tuple[dict[str, object], dict[str, Loc]] | None:
    """series.yaml's values, and where each is written; None when it could not be read."""
    path = root / "issues" / SERIES_FILE
    if not path.is_file():
        problems.append(Problem(f"issues/{SERIES_FILE}", 1, 1, "找不到刊物设置文件"))
        return None
    source = read_source(path, root, problems)
    if source is None:
        return None
    before = len(problems)
    node = compose_yaml(source, problems)
    if len(problems) > before:
        return None
    nodes = _mapping(source, node, SERIES_SCHEMA, problems)
    locs = {key: node_loc(source, value) for key, value in nodes.items()}
    values = _values(source, nodes, SERIES_SCHEMA, problems)
    if len(problems) > before:  # a broken series is reported once, not again for every issue
        return None
    return values, locs


def font_settings(root: Path) -> FontSettings:
    """series.yaml's font settings (fonts.FontSettings), read leniently: a broken series.yaml
    gives the defaults here, and its problems are reported where the series is loaded."""
    from liandong.fonts import FontSettings

    series = load_series(root, [])
    if series is None:
        return FontSettings()
    values = series[0]
    return FontSettings(
        fallbacks=_optional(values, "补字字体", dict) or {},
        accepted=_optional(values, "接受代用仿宋", str),
    )


def _load_article(
    path: Path, root: Path, problems: list[Problem], notices: list[Problem] | None = None
) -> Article | None:
    source = read_source(path, root, problems)
    if source is None:
        return None
    if not source.text.strip():
        problems.append(
            Problem(source.name, 1, 1, "文章是空文件：请写上标题和正文，或删去这个文件")
        )
        return None
    front = split_front_matter(source)
    if front is None:
        problems.append(Problem(source.name, 1, 1, "文章开头缺少以“---”包围的标题设置（标题: ……）"))
        return None
    yaml_text, yaml_offset, body_start = front
    before = len(problems)
    node = compose_yaml(source, problems, offset=yaml_offset, text=yaml_text)
    nodes = _mapping(source, node, ARTICLE_SCHEMA, problems, parsed=len(problems) == before)
    values = _values(source, nodes, ARTICLE_SCHEMA, problems)
    blocks = parse_blocks(source, body_start, len(source.text), problems, notices)
    _check_headings(blocks, problems, notices)
    _check_paragraphs(blocks, problems)
    _check_tables(blocks, problems)
    if not blocks:
        end_line = source.text.count("\n", 0, body_start) + 1
        problems.append(Problem(source.name, end_line, 1, "文章没有正文"))
    if "标题" not in values:
        return None
    return Article(
        _typed(values, "标题", Text), _optional(values, "副标题", Text), tuple(blocks), source
    )


_NUMBER_PART = re.compile(r"([0-9]+)")


def article_order(path: Path) -> tuple:
    """The order articles print in: their names compared piece by piece, digits by their value
    (1.md, 2.md, 10.md; 01-开幕.md, 02-视察.md), then the names as text."""
    parts = _NUMBER_PART.split(path.name)
    return tuple(
        (0, int(part), "") if index % 2 else (1, 0, part) for index, part in enumerate(parts)
    ), path.name


_PUNCTUATION_RUN = re.compile(
    "[" + re.escape("".join(sorted(OPENING | CLOSING))) + f"]{{{limits.PUNCTUATION_RUN + 1},}}"
)


def _check_paragraphs(blocks: Sequence[Form], problems: list[Problem]) -> None:
    for form in blocks:
        for block in form.units():
            if len(block.text) > limits.PARAGRAPH_CHARS:
                problems.append(
                    block.loc.problem(
                        f"这一段有 {len(block.text)} 字，超过 {limits.PARAGRAPH_CHARS} 字的上限"
                        "（limits.PARAGRAPH_CHARS），请分段"
                    )
                )
                continue
            run = max((len(m.group()) for m in _PUNCTUATION_RUN.finditer(block.text)), default=0)
            if run:
                problems.append(
                    block.loc.problem(
                        f"这一段有连续 {run} 个标点，超过 {limits.PUNCTUATION_RUN} 个的上限"
                        "（limits.PUNCTUATION_RUN）：标点之间不能换行"
                    )
                )


def _check_tables(blocks: Sequence[Form], problems: list[Problem]) -> None:
    for form in blocks:
        if not isinstance(form, Table):
            continue
        if len(form.header) > limits.TABLE_COLUMNS:
            problems.append(
                form.header[0].loc.problem(
                    f"表格有 {len(form.header)} 列，超过 {limits.TABLE_COLUMNS} 列的上限"
                    "（limits.TABLE_COLUMNS）：请拆成两个表格"
                )
            )
        if len(form.rows) > limits.TABLE_ROWS:
            problems.append(
                form.rows[limits.TABLE_ROWS][0].loc.problem(
                    f"表格有 {len(form.rows)} 行，超过 {limits.TABLE_ROWS} 行的上限"
                    "（limits.TABLE_ROWS）：请拆成几个表格"
                )
            )
        for cell in (*form.header, *(cell for row in form.rows for cell in row)):
            if len(cell.text) > limits.CELL_CHARS:
                problems.append(
                    cell.loc.problem(
                        f"这一格有 {len(cell.text)} 字，超过 {limits.CELL_CHARS} 字的上限"
                        "（limits.CELL_CHARS）：表格里只写简短的文字，说明请写在表下的“注：”里"
                    )
                )


_CN_DIGITS = {char: value for value, char in enumerate("零一二三四五六七八九")}


def _cn_value(text: str) -> int:
    """一 → 1, 十二 → 12, 二十 → 20, 一百零五 → 105 (heading numbers)."""
    total = current = 0
    for char in text:
        if char in _CN_DIGITS:
            current = _CN_DIGITS[char]
        elif char == "十":
            total += (current or 1) * 10
            current = 0
        elif char == "百":
            total += (current or 1) * 100
            current = 0
    return total + current


def _heading_value(level: int, number: str) -> int:
    digits = number.strip("（）、.．")
    return int(digits) if level >= 3 else _cn_value(digits)


def heading_number(level: int, value: int) -> str:
    """The number of a heading at a level: 一、 （一） 1. （1）."""
    return (
        f"{chinese_number(value)}、",
        f"（{chinese_number(value)}）",
        f"{value}.",
        f"（{value}）",
    )[level - 1]


def _check_headings(
    blocks: Sequence[Form], problems: list[Problem], notices: list[Problem] | None = None
) -> None:
    """Every heading's number matches its level (error); the numbers of each level follow on
    from 1 under their parent (warning): whole-line and run-in headings alike."""
    last = {level: 0 for level in range(1, 5)}
    for block in blocks:
        if not isinstance(block, Block) or not block.level:
            continue
        if block.level > 4:
            problems.append(block.loc.problem("标题最多四级：# 一、 ## （一） ### 1. #### （1）"))
            continue
        pattern, example = HEADING_PATTERNS[block.level]
        match = pattern.match(block.text)
        if not match:
            marks = "#" * block.level
            problems.append(
                block.loc.problem(f"{block.level}级标题（{marks}）应以“{example}”这样的序号开头")
            )
            continue
        value = _heading_value(block.level, match.group())
        expected = last[block.level] + 1
        if value != expected and notices is not None:
            notices.append(
                block.loc.problem(
                    f"标题序号不连续：这里是“{match.group()}”，按顺序应是“{heading_number(block.level, expected)}”"
                )
            )
        last[block.level] = value
        for deeper in range(block.level + 1, 5):
            last[deeper] = 0


def _with_images(article: Article, folder: Path, problems: list[Problem]) -> Article:
    """The article with each figure's image found and checked (images.find_image); Pillow is
    loaded only for an article that has a figure."""
    if not any(isinstance(form, Figure) for form in article.blocks):
        return article
    import dataclasses

    from liandong.images import find_image

    blocks = tuple(
        dataclasses.replace(form, image=find_image(folder, form, problems))
        if isinstance(form, Figure)
        else form
        for form in article.blocks
    )
    return dataclasses.replace(article, blocks=blocks)


YEAR_NAME = re.compile(r"[1-9][0-9]{3}")
"""A year folder: four ASCII digits, no leading zero (1000 to 9999)."""

NUMBER_NAME = re.compile(r"[1-9][0-9]{0,2}")
"""An issue folder: ASCII digits without a leading zero, 1 to 999 (the 期号 maximum)."""


def folder_year(name: str) -> int | None:
    """The year a folder name stands for, or None: only the canonical spelling counts, so
    `２０２４`, `02024` or `2024 ` can never be read as 2024 next to a real `2024`."""
    return int(name) if YEAR_NAME.fullmatch(name) else None


def folder_number(name: str) -> int | None:
    """The issue number a folder name stands for, or None (`013`, `１３`, `١٣`, `13 `)."""
    return int(name) if NUMBER_NAME.fullmatch(name) else None


def issue_place(year: int, number: int) -> str | None:
    """Why issue `number` of `year` cannot have a folder that every command reads, or None.
    `new` and `import` ask before they write one."""
    if not 1000 <= year <= 9999:
        return f"年份 {year} 不在 1000 至 9999 之间，没有对应的年份文件夹"
    most = ISSUE_SCHEMA["期号"].maximum or 0
    if not 1 <= number <= most:
        return f"期号 {number} 不在 1 至 {most} 之间"
    return None


def issue_folder(root: Path, year: int, number: int) -> Path:
    """The one folder of an issue: issues/<year>/<number>, as `folder_year`/`folder_number`
    read it back. Raises ValueError (with `issue_place`'s reason) for any other issue."""
    reason = issue_place(year, number)
    if reason is not None:
        raise ValueError(reason)
    return root / "issues" / str(year) / str(number)


@dataclass
class Archive:
    """What issues/ holds: the issue folders, oldest first, and the folders that look like a
    year or an issue but cannot be read as one."""

    folders: list[Path]
    errors: list[Problem] = field(default_factory=list)
    """Folders with something in them that no command would read: an issue that would be
    silently missing from the print and the site, or a second folder for one issue."""
    notices: list[Problem] = field(default_factory=list)
    """Empty folders with such names: git keeps no empty folders, so they hold no issue."""


def _digits(name: str) -> int | None:
    """The number the decimal digits of any script in a name spell (`第１５期` → 15)."""
    digits = "".join(
        str(unicodedata.decimal(char))
        for char in name
        if unicodedata.decimal(char, None) is not None
    )
    return int(digits[:6]) if digits else None


def _looks_dated(path: Path, marks: str) -> bool:
    """A folder name with a digit of any script or a telling character (年, 期)."""
    return any(unicodedata.decimal(char, None) is not None or char in marks for char in path.name)


def _holds(path: Path, name: str) -> bool:
    try:
        return (path / name).exists()
    except OSError:
        return False


def _is_empty(path: Path) -> bool:
    try:
        return not any(path.iterdir())
    except OSError:
        return False


def scan_archive(root: Path) -> Archive:
    """Every issue folder issues/YYYY/N, and every folder under issues/ that looks like a year
    or an issue but is not spelled as one. The one place folder names are read: `check`,
    `build`, `site`, numbering, `new` and `import` all go through it (or `issue_folder`)."""
    archive = Archive([])
    base = root / "issues"
    try:
        years = sorted(base.iterdir()) if base.is_dir() else []
    except OSError:
        years = []

    def odd(path: Path, what: str, canonical: Path | None, example: str) -> None:
        name = display_path(path, root)
        message = (
            f"文件夹名“{display_path(path.name)}”不是有效的{what}：{what}只能用半角阿拉伯数字、不带前导零"
            f"（如 {example}）"
        )
        if canonical is not None and canonical.is_dir():
            label, unit = (
                (f" {canonical.name} 年的文件夹", "年")
                if what == "年份"
                else (f"第 {canonical.name} 期", "期")
            )
            message += (
                f"；{display_path(canonical, root)} 已经是{label}，同一{unit}不能有两个文件夹"
            )
        elif canonical is not None:
            message += f"，应为“{canonical.name}”"
        if _is_empty(path):
            archive.notices.append(
                Problem(name, 1, 1, message + "。这是空文件夹，已忽略，可以删去")
            )
        else:
            archive.errors.append(
                Problem(name, 1, 1, message + "。其中的稿件不会被检查、生成或发布，请改名或删去")
            )

    for year_dir in years:
        if year_dir.name.startswith(".") or not year_dir.is_dir():
            continue
        if folder_year(year_dir.name) is None:
            if _looks_dated(year_dir, "年"):
                year = _digits(year_dir.name)
                canonical = base / str(year) if year is not None and 1000 <= year <= 9999 else None
                odd(year_dir, "年份", canonical, "2024")
            continue
        try:
            entries = sorted(year_dir.iterdir())
        except OSError:
            entries = []
        for number_dir in entries:
            if number_dir.name.startswith(".") or not number_dir.is_dir():
                continue
            if folder_number(number_dir.name) is not None:
                archive.folders.append(number_dir)
            elif _looks_dated(number_dir, "期") or _holds(number_dir, ISSUE_FILE):
                number = _digits(number_dir.name)
                canonical = (
                    year_dir / str(number)
                    if number is not None and issue_place(1000, number) is None
                    else None
                )
                odd(number_dir, "期号", canonical, "13")
    archive.folders.sort(key=lambda f: (int(f.parent.name), int(f.name)))
    return archive


@functools.cache
def _notice_once(message: str) -> None:
    logger.warning("%s", message)


def issue_folders(root: Path) -> list[Path]:
    """Every issue folder issues/YYYY/N, oldest first (see `scan_archive`).

    Raises SourceErrors when a folder holds an issue that no command would read, so `build`,
    `site` and `new` stop instead of silently leaving it out (or publishing a second folder
    as the same issue); notices about empty folders are logged once per process."""
    archive = scan_archive(root)
    if archive.errors:
        from liandong.errors import SourceErrors

        raise SourceErrors(archive.errors)
    for notice in archive.notices:
        _notice_once(str(notice))
    return archive.folders


_ARTICLE_LOOKALIKE = re.compile(r"(?i).*\.(md|markdown|mdown|mkd|mkdn)(\.txt)?")
_ISSUE_LOOKALIKE = re.compile(r"(?i)issue\.(yaml|yml)(\.txt)?")


def _lookalikes(folder: Path, root: Path, problems: list[Problem]) -> None:
    """Files of an issue folder that look like its sources but are not read: `01.MD`,
    `01.markdown`, `01.md.txt` (Notepad's added suffix), `issue.yml`. An article silently
    missing from the print is worse than a refused build, so each is an error."""
    try:
        entries = sorted(folder.iterdir())
    except OSError:
        return
    for entry in entries:
        name, shown = entry.name, display_path(entry.name)
        if name.endswith(".md") or name == ISSUE_FILE:
            continue
        if _ARTICLE_LOOKALIKE.fullmatch(name):
            stem = name[: name.lower().rindex(".m")]
            problems.append(
                Problem(
                    source_name(entry, root),
                    1,
                    1,
                    f"文章文件的扩展名应是小写的“.md”，“{shown}”不会被读取："
                    f"请改名为 {display_path(stem)}.md",
                )
            )
        elif _ISSUE_LOOKALIKE.fullmatch(name):
            problems.append(
                Problem(
                    source_name(entry, root),
                    1,
                    1,
                    f"本期设置文件应命名为 {ISSUE_FILE}，“{shown}”不会被读取："
                    f"请改名为 {ISSUE_FILE}",
                )
            )


_T = TypeVar("_T")


def _typed(values: Mapping[str, object], key: str, kind: type[_T]) -> _T:
    """A value the schema has validated, as the type its Field gives it (`_values`): anything
    else is a bug in liandong, never a source's mistake."""
    value = values[key]
    if not isinstance(value, kind):
        raise TypeError(f"{key}: {type(value).__name__}, not {kind.__name__}")
    return value


def _optional(values: Mapping[str, object], key: str, kind: type[_T]) -> _T | None:
    """`_typed`, or None when the key is not given."""
    return _typed(values, key, kind) if values.get(key) is not None else None


def load_issue(
    folder: Path,
    root: Path,
    series: tuple[dict[str, object], dict[str, Loc]] | None,
    problems: list[Problem],
) -> Issue | None:
    """Load and validate one issue folder; append every problem found.

    With series None (series.yaml is broken and already reported), what the issue inherits
    from it is not checked, so one mistake gives one message."""
    before = len(problems)
    path = folder / ISSUE_FILE
    if not path.is_file():
        problems.append(Problem(display_path(path, root), 1, 1, "找不到本期设置文件"))
        return None
    source = read_source(path, root, problems)
    if source is None:
        return None
    node = compose_yaml(source, problems)
    nodes = _mapping(source, node, ISSUE_SCHEMA, problems, parsed=len(problems) == before)
    note_notices: list[Problem] = []
    values = _values(source, nodes, ISSUE_SCHEMA, problems, note_notices)

    year, number = int(folder.parent.name), int(folder.name)
    if "期号" in values and values["期号"] != number:
        problems.append(
            node_loc(source, nodes["期号"]).problem(
                f"期号 {values['期号']} 与所在文件夹 {folder.parent.name}/{folder.name} 不符"
            )
        )
    if "日期" in values and _typed(values, "日期", dt.date).year != year:
        problems.append(
            node_loc(source, nodes["日期"]).problem(
                f"日期的年份与所在文件夹 {folder.parent.name} 不符"
            )
        )

    _lookalikes(folder, root, problems)
    articles: list[Article] = []
    notices: list[Problem] = []
    files = sorted(folder.glob("*.md"), key=article_order)
    if len(files) > limits.ARTICLES:
        problems.append(
            Problem(
                source.name,
                1,
                1,
                f"本期有 {len(files)} 篇文章，超过 {limits.ARTICLES} 篇的上限（limits.ARTICLES）",
            )
        )
        files = []
    for md in files:
        article = _load_article(md, root, problems, notices)
        if article:
            articles.append(_with_images(article, folder, problems))
    chars = sum(
        len(a.title.value)
        + len(a.subtitle.value if a.subtitle else "")
        + sum(len(b.text) for b in a.blocks)
        for a in articles
    )
    figures = [form for a in articles for form in a.blocks if isinstance(form, Figure)]
    if len(figures) > limits.IMAGES:
        problems.append(
            figures[limits.IMAGES].loc.problem(
                f"本期有 {len(figures)} 张图片，超过 {limits.IMAGES} 张的上限（limits.IMAGES）"
            )
        )
    chars += sum(len(b.text) for b in _optional(values, "编者按", tuple) or ())
    if chars > limits.ISSUE_CHARS:
        problems.append(
            Problem(
                source.name,
                1,
                1,
                f"本期正文共 {chars} 字，超过 {limits.ISSUE_CHARS} 字的上限（limits.ISSUE_CHARS）",
            )
        )
    if not list(folder.glob("*.md")):
        problems.append(Problem(source.name, 1, 1, "本期没有文章：请在同一文件夹放入 .md 文章文件"))

    if series is None:
        return None
    series_values, series_locs = series
    merged = {**series_values, **values}
    for key in ("编印单位", "批准文号"):
        if key not in merged:
            problems.append(
                Problem(source.name, 1, 1, f"缺少“{key}”（在 series.yaml 或本期设置中填写）")
            )
    distribution = tuple(
        (key, _typed(merged, key, tuple)) for key in DISTRIBUTION_KEYS if merged.get(key)
    )
    if not distribution:
        problems.append(Problem(source.name, 1, 1, "版记没有发送范围：请填写“送”（或“报”“发”）"))
    if len(problems) > before:
        return None
    return Issue(
        folder=folder,
        year=year,
        number=number,
        total=_typed(values, "总期号", int),
        date=_typed(values, "日期", dt.date),
        name=_typed(merged, "刊名", Text).value,
        compiler=_typed(merged, "编印单位", Text),
        approval=_typed(merged, "批准文号", Text),
        editor=_optional(merged, "责任编辑", Text),
        contact=_optional(merged, "联系方式", Text),
        print_count=_optional(merged, "印数", int),
        note=_optional(values, "编者按", tuple) or (),
        articles=tuple(articles),
        distribution=distribution,
        sources=tuple([source] + [a.source for a in articles]),
        locs={**series_locs, **{key: node_loc(source, node) for key, node in nodes.items()}},
        timezone=_optional(series_values, TIMEZONE_KEY, str) or DEFAULT_TIMEZONE,
        signed_off=values.get(STATUS_KEY, DRAFT) == SIGNED_OFF,
        notices=tuple(note_notices + notices),
    )


@dataclass(frozen=True)
class Numbers:
    """An issue's place in the archive: what numbering checks and `liandong new` need."""

    folder: Path
    year: int
    number: int | None
    total: int | None
    date: dt.date | None
    locs: dict[str, Loc]

    @property
    def label(self) -> str:
        return f"{self.year} 年第 {int(self.folder.name)} 期"


def read_numbers(folder: Path, root: Path, problems: list[Problem]) -> Numbers | None:
    """期号, 总期号 and 日期 of one issue, leniently: other keys and the articles are not looked at,
    so an issue still being written does not stop `liandong new`. A folder without issue.yaml
    is not an issue yet (the schema check reports it) and gives None without a problem."""
    path = folder / ISSUE_FILE
    if not path.is_file():
        return None
    source = read_source(path, root, problems)
    if source is None:
        return None
    node = compose_yaml(source, problems)
    if not isinstance(node, yaml.MappingNode):
        if node is not None:
            problems.append(node_loc(source, node).problem("这里应是“键: 值”形式的设置"))
        return None
    return _numbers(folder, source, node, problems)


def _numbers(
    folder: Path, source: SourceFile, node: yaml.MappingNode, problems: list[Problem]
) -> Numbers:
    nodes = {
        str(key.value): value
        for key, value in node.value
        if str(key.value) in ("期号", "总期号", "日期")
    }
    values = _values(source, nodes, ISSUE_SCHEMA, problems)
    return Numbers(
        folder,
        int(folder.parent.name),
        _optional(values, "期号", int),
        _optional(values, "总期号", int),
        _optional(values, "日期", dt.date),
        {key: node_loc(source, value) for key, value in nodes.items()},
    )


def read_status(folder: Path, root: Path, problems: list[Problem]) -> str | None:
    """An issue's 状态 (草稿 or 已签发), reading nothing but its issue.yaml, so that a draft still
    being written does not stop the site. None, with the problem appended, when the file cannot
    be read or parsed, or 状态 is written wrongly: then nobody can tell whether it is signed off."""
    return read_state(folder, root, problems)[0]


def read_state(
    folder: Path, root: Path, problems: list[Problem]
) -> tuple[str | None, Numbers | None]:
    """read_status and read_numbers from one reading of issue.yaml (the site reads every issue
    on every run). Only the problems that hide the status are appended; those of the numbers
    are the schema check's to report."""
    path = folder / ISSUE_FILE
    if not path.is_file():
        problems.append(Problem(display_path(path, root), 1, 1, "找不到本期设置文件"))
        return None, None
    source = read_source(path, root, problems)
    if source is None:
        return None, None
    before = len(problems)
    node = compose_yaml(source, problems)
    if len(problems) > before:
        return None, None
    if not isinstance(node, yaml.MappingNode):
        return (
            DRAFT,
            None,
        )  # empty or malformed: certainly not signed off; the schema check says why
    numbers = _numbers(folder, source, node, [])
    values = [
        value
        for key, value in node.value
        if isinstance(key, yaml.ScalarNode) and key.value == STATUS_KEY
    ]
    if not values:
        return DRAFT, numbers
    status = _choice(
        source, STATUS_KEY, values[-1], problems, choices=ISSUE_SCHEMA[STATUS_KEY].choices
    )
    return status, numbers


def load_issues(root: Path, folders: list[Path], problems: list[Problem]) -> list[Issue]:
    """Load the series and every named issue; the valid ones are returned, problems appended."""
    series = load_series(root, problems)
    issues = [load_issue(folder, root, series, problems) for folder in folders]
    return [issue for issue in issues if issue is not None]
