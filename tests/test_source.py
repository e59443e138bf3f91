"""Recognising the encodings Windows tools save Chinese text in."""

from __future__ import annotations

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
