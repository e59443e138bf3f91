"""Chinese typography lint: findings at source positions, each with its fix.

A lint unit is one stretch of a source file that prints as text: a YAML text value, a list item,
a Markdown paragraph or heading. Rules look at one line of a unit at a time, except the pairing
rules (brackets and straight quotes), which look at the whole unit. Every finding is a warning;
`safe` fixes are the ones `liandong check --fix` applies without asking (they cannot change what
the editor meant), the others are suggestions.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from liandong.errors import Problem
from liandong.source import SourceFile

HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_HAN = re.compile(f"[{HAN}]")
CJK_PUNCTUATION = "，。、；：？！“”‘’（）《》【】〔〕…—·「」『』"
PLACEHOLDER = "【待填写】"
"""What `liandong new` writes where the editor has still to write something."""

_HALF_TO_FULL = {",": "，", ";": "；", ":": "：", "?": "？", "!": "！", ".": "。"}
PAIRS = {"“": "”", "‘": "’", "《": "》", "（": "）", "【": "】", "〔": "〕"}
_QUOTE_NAMES = {"“": "左双引号“", "”": "右双引号”", "‘": "左单引号‘", "’": "右单引号’"}
_MARKUP = "*"  # **strong** in Markdown: not a character that prints


@dataclass(frozen=True)
class Finding:
    """One typography problem and its fix: edits of (start, end, replacement) in source.text."""

    rule: str
    source: SourceFile
    start: int
    message: str
    edits: tuple[tuple[int, int, str], ...] = ()
    safe: bool = False

    def problem(self) -> Problem:
        line, column = self.source.position(self.start)
        note = "（--fix 可自动修正）" if self.safe else ""
        return Problem(self.source.name, line, column, f"注意：{self.message}{note}")


def is_han(char: str | None) -> bool:
    return char is not None and char != "" and bool(_HAN.match(char))


def is_chinese(char: str | None) -> bool:
    """A Han character or a full-width Chinese punctuation mark."""
    return char is not None and char != "" and (is_han(char) or char in CJK_PUNCTUATION)


def _before(line: str, index: int) -> str | None:
    while index > 0:
        index -= 1
        if line[index] not in _MARKUP:
            return line[index]
    return None


def _after(line: str, index: int) -> str | None:
    while index < len(line) - 1:
        index += 1
        if line[index] not in _MARKUP:
            return line[index]
    return None


class _Collector:
    def __init__(self, source: SourceFile):
        self.source = source
        self.findings: list[Finding] = []

    def add(
        self,
        rule: str,
        start: int,
        message: str,
        edits: Iterable[tuple[int, int, str]] = (),
        safe: bool = False,
    ) -> None:
        self.findings.append(Finding(rule, self.source, start, message, tuple(edits), safe))


def lint_unit(source: SourceFile, start: int, end: int, quoted: str | None = None) -> list[Finding]:
    """Every finding in source.text[start:end].

    `quoted` is the quote of a quoted YAML value (' or "), inside which a straight quote is
    written escaped ('' or \\") and is fixed as that two-character escape."""
    out = _Collector(source)
    offset = start
    for line in source.text[start:end].split("\n"):
        _lint_line(out, line, offset)
        offset += len(line) + 1
    _lint_pairs(out, source.text, start, end)
    _lint_straight_quotes(out, source.text, start, end, quoted)
    return sorted(out.findings, key=lambda f: (f.start, f.rule))


# --- Rules on one line ------------------------------------------------------

_DOCUMENT_NUMBER = re.compile(
    f"(?<=[{HAN}])([\\[(（【［])(\\d{{4}})([\\])）】］])(?=\\s*第?\\s*\\d+\\s*号)"
)
_ELLIPSIS = re.compile(r"\.{2,}|。{3,}|·{3,}|…+")
_DOUBLE_DASH = re.compile(r"(?<![-—―－–])(?:-{2,}|－{2,}|―{2,}|—―|―—)(?![-—―－–])")
_SINGLE_DASH = re.compile(r"(?<![-—―－–])[-—―－–](?![-—―－–])")
_SPACES = re.compile(f"(?<=[{HAN}{CJK_PUNCTUATION}])[ \\t\u3000]+(?=[{HAN}{CJK_PUNCTUATION}])")
_FULL_WIDTH = re.compile("[０-９Ａ-Ｚａ-ｚ]+")
_DOUBLED = re.compile("[，。、；：？！]{2,}")


def _lint_line(out: _Collector, line: str, base: int) -> None:
    taken: set[int] = set()  # characters already covered by a more specific rule

    for match in _DOCUMENT_NUMBER.finditer(line):
        open_, year, close = match.groups()
        taken.update((match.start(1), match.end(3) - 1))
        out.add(
            "document_number_brackets",
            base + match.start(),
            f"文号中的年份应使用六角括号“〔{year}〕”，不用“{open_}{year}{close}”",
            [
                (base + match.start(1), base + match.end(1), "〔"),
                (base + match.start(3), base + match.end(3), "〕"),
            ],
            safe=True,
        )

    for match in _ELLIPSIS.finditer(line):
        text = match.group()
        if text[0] == "…" and len(text) % 2 == 0:
            continue
        if text[0] != "…" and not (
            is_chinese(_before(line, match.start())) or is_chinese(_after(line, match.end() - 1))
        ):
            continue
        taken.update(range(match.start(), match.end()))
        out.add(
            "ellipsis",
            base + match.start(),
            f"省略号应为“……”，不用“{text}”",
            [(base + match.start(), base + match.end(), "……")],
            safe=True,
        )

    for match in _DOUBLE_DASH.finditer(line):
        if not (
            is_chinese(_before(line, match.start())) or is_chinese(_after(line, match.end() - 1))
        ):
            continue
        taken.update(range(match.start(), match.end()))
        out.add(
            "dash",
            base + match.start(),
            f"破折号应为“——”，不用“{match.group()}”",
            [(base + match.start(), base + match.end(), "——")],
            safe=True,
        )
    for match in _SINGLE_DASH.finditer(line):
        if match.start() in taken:
            continue
        before, after = _before(line, match.start()), _after(line, match.start())
        # Only a dash with Chinese on both sides: 0731—85309270, 2023-2024 and 8月—9月 are
        # numbers and ranges, not dashes as punctuation.
        if is_chinese(before) and is_chinese(after):
            out.add(
                "dash",
                base + match.start(),
                f"单个“{match.group()}”夹在中文之间：作破折号应为“——”；"
                "如表示起止（如 北京—上海），可保留一字线“—”",
                [(base + match.start(), base + match.end(), "——")],
            )

    _half_width_parentheses(out, line, base, taken)
    for index, char in enumerate(line):
        if char not in _HALF_TO_FULL or index in taken:
            continue
        before, after = _before(line, index), _after(line, index)
        if char == ".":
            if line[index - 1 : index] == "." or line[index + 1 : index + 2] == ".":
                continue
            due = is_han(before) and (after is None or is_chinese(after))
        else:
            due = before is not None and is_chinese(before) and before not in "“‘（《【〔"
        if due:
            full = _HALF_TO_FULL[char]
            out.add(
                "half_width_punctuation",
                base + index,
                f"中文里用了半角“{char}”，应改为全角“{full}”",
                [(base + index, base + index + 1, full)],
                safe=True,
            )

    for match in _SPACES.finditer(line):
        shown = match.group().replace("\u3000", "全角空格").replace("\t", "Tab")
        kind = "空格" if set(match.group()) == {" "} else shown
        out.add(
            "space_between_chinese",
            base + match.start(),
            f"中文之间不应有{kind}，应删去",
            [(base + match.start(), base + match.end(), "")],
            safe=True,
        )

    for match in _FULL_WIDTH.finditer(line):
        half = "".join(chr(ord(c) - 0xFEE0) for c in match.group())
        out.add(
            "full_width_alphanumerics",
            base + match.start(),
            f"全角字母或数字“{match.group()}”应改为半角“{half}”",
            [(base + match.start(), base + match.end(), half)],
            safe=True,
        )

    for match in _DOUBLED.finditer(line):
        text = match.group()
        if (set(text) <= {"。"} and len(text) >= 3) or (
            set(text) <= {"？", "！"} and len(set(text)) > 1
        ):
            continue  # 。。。 is an ellipsis; ？！ and ！？ are allowed
        if len(set(text)) == 1:
            out.add(
                "doubled_punctuation",
                base + match.start(),
                f"标点重复“{text}”，应为“{text[0]}”",
                [(base + match.start(), base + match.end(), text[0])],
                safe=True,
            )
        else:
            out.add("doubled_punctuation", base + match.start(), f"标点连用“{text}”，请只保留一个")

    at = line.find(PLACEHOLDER)
    while at != -1:
        out.add("placeholder", base + at, f"还有未填写的占位文字“{PLACEHOLDER}”，请写上内容或删去")
        at = line.find(PLACEHOLDER, at + 1)


def _half_width_parentheses(out: _Collector, line: str, base: int, taken: set[int]) -> None:
    stack: list[int] = []
    for index, char in enumerate(line):
        if index in taken:
            continue
        if char == "(":
            stack.append(index)
        elif char == ")" and stack:
            start = stack.pop()
            inside = line[start + 1 : index]
            if (
                _HAN.search(inside)
                or is_chinese(_before(line, start))
                or is_chinese(_after(line, index))
            ):
                # Spaces between the brackets and Chinese text go in the same fix: once the
                # brackets are full-width they would be spaces between Chinese, a finding the
                # editor was never shown ("会议 (党组) 研究" → "会议（党组）研究").
                edits = [_spaced(line, base, start, -1, "（"), _spaced(line, base, index, 1, "）")]
                spaces = any(end - begin > 1 for begin, end, _ in edits)
                out.add(
                    "half_width_parentheses",
                    base + start,
                    f"中文里用了半角括号“({inside})”，应改为全角“（{inside}）”"
                    + ("，并删去括号外的空格" if spaces else ""),
                    edits,
                    safe=True,
                )


def _spaced(line: str, base: int, index: int, step: int, full: str) -> tuple[int, int, str]:
    """The edit that makes the bracket at index full-width, taking in the spaces on its outer
    side (step -1: before it, 1: after it) when Chinese text lies beyond them."""
    edge = index
    while 0 <= edge + step < len(line) and line[edge + step] in " \t\u3000":
        edge += step
    if edge == index or not is_chinese(line[edge + step] if 0 <= edge + step < len(line) else None):
        return base + index, base + index + 1, full
    return (
        (base + edge, base + index + 1, full) if step < 0 else (base + index, base + edge + 1, full)
    )


# --- Rules on a whole unit ----------------------------------------------------


def _apostrophe(text: str, index: int) -> bool:
    """’ or ' between Latin letters (Xi’an, it's) is an apostrophe, not a quotation mark."""
    return (
        0 < index < len(text) - 1
        and text[index - 1].isascii()
        and text[index - 1].isalpha()
        and text[index + 1].isascii()
        and text[index + 1].isalpha()
    )


def _lint_pairs(out: _Collector, text: str, start: int, end: int) -> None:
    """Unbalanced “” ‘’ 《》 （） 【】 〔〕, each kind on its own so one slip gives one finding."""
    for open_, close in PAIRS.items():
        depth: list[int] = []
        for index in range(start, end):
            char = text[index]
            if char == open_:
                depth.append(index)
            elif char == close and not (close == "’" and _apostrophe(text, index)):
                if depth:
                    depth.pop()
                else:
                    out.add(
                        "unbalanced_brackets",
                        index,
                        f"{_name(close)}前面缺少与之配对的{_name(open_)}",
                    )
        for index in depth:
            out.add("unbalanced_brackets", index, f"{_name(open_)}后面缺少与之配对的{_name(close)}")


def _name(mark: str) -> str:
    return _QUOTE_NAMES.get(mark, f"“{mark}”")


def _lint_straight_quotes(
    out: _Collector, text: str, start: int, end: int, quoted: str | None
) -> None:
    """Straight quotes in Chinese text become “” and ‘’, paired in order within the unit."""
    unit = text[start:end]
    if not _HAN.search(unit):
        return
    for straight, (left, right) in (('"', "“”"), ("'", "‘’")):
        token = {"'": "''", '"': '\\"'}[straight] if quoted == straight else straight
        places: list[int] = []
        index = unit.find(token)
        while index != -1:
            if not (token == "'" and _apostrophe(unit, index)):
                places.append(start + index)
            index = unit.find(token, index + len(token))
        size = len(token)
        if len(places) % 2:
            for place in places:
                out.add(
                    "straight_quotes",
                    place,
                    f"中文里有不成对的直引号{straight}：请改为中文引号{left}或{right}",
                )
            continue
        for first, second in zip(places[::2], places[1::2]):
            inside = text[first + size : second]
            if "\n" in inside or len(inside) > 20:
                inside = "……"
            out.add(
                "straight_quotes",
                first,
                f"中文里用了直引号{straight}{inside}{straight}，应改为中文引号{left}{inside}{right}",
                [(first, first + size, left), (second, second + size, right)],
                safe=True,
            )
