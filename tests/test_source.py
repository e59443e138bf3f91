"""Recognising the encodings Windows tools save Chinese text in."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import REPO
from liandong.source import foreign_encoding

TEXT = (REPO / "issues" / "2024" / "13" / "01.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("raw, expected", [
    (TEXT.encode("utf-8"), None),
    (b"\xef\xbb\xbf" + TEXT.replace("\n", "\r\n").encode("utf-8"), None),
    (TEXT.encode("gbk"), "gb18030"),
    (TEXT.encode("gb18030"), "gb18030"),
    (("䶮" + TEXT).encode("gb18030"), "gb18030"),   # a four-byte GB18030 character
    (TEXT.encode("utf-16"), "utf-16"),
    (b"\xfe\xff" + TEXT.encode("utf-16-be"), "utf-16"),
], ids=["utf-8", "utf-8 bom crlf", "gbk", "gb18030", "gb18030 four-byte", "utf-16 le", "utf-16 be"])
def test_encodings(raw: bytes, expected: str | None) -> None:
    assert foreign_encoding(raw) == expected


def test_utf8_with_a_damaged_byte_is_not_taken_for_gbk() -> None:
    raw = TEXT.encode("utf-8")
    damaged = raw[:200] + b"\x80" + raw[201:]
    assert foreign_encoding(damaged) is None


def test_bytes_that_are_no_chinese_encoding_are_not_taken_for_gbk() -> None:
    assert foreign_encoding(bytes(range(128, 256)) * 4) is None


@pytest.mark.parametrize("text, expected", [
    ('a: "abc\\q"\n', "x.yaml:1:9: 双引号里的“\\q”不是有效的写法：反斜杠请写成“\\\\”，或改用单引号"),
    ("a: [1, 2\n", "x.yaml:2:1: 方括号 [ ] 没有闭合，或列表的项之间缺少“,”"),
    ("a: {b: 1\n", "x.yaml:2:1: 花括号 { } 没有闭合，或项之间缺少“,”"),
    ("a:\n  - x\n  y: 1\n", "x.yaml:3:3: 缩进没有对齐：同一层的各项应缩进同样多的空格"),
    ("a: @x\n", "x.yaml:1:4: “@”不能用在值的开头：含有它的文字请加引号"),
    ("a: 1\n---\nb: 1\n", "x.yaml:2:1: 一个文件里只能有一份设置，不能有第二个“---”"),
    ("a: !<x y\n", "x.yaml:1:7: YAML 格式错误：这里的写法无法识别，请检查冒号、引号、括号和缩进"),
])
def test_yaml_syntax_errors_are_explained_in_chinese(text: str, expected: str) -> None:
    """Issue 14, 14: PyYAML's English reasons were shown as they are."""
    from liandong.source import SourceFile, compose_yaml

    problems: list = []
    assert compose_yaml(SourceFile(Path("x.yaml"), "x.yaml", text), problems) is None
    assert [str(p) for p in problems] == [expected]
