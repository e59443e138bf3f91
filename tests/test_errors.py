"""What liandong prints: paths made printable, reasons in Chinese."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from liandong.errors import Problem, display_path, os_reason, printable


@pytest.mark.parametrize(
    "text, shown",
    [
        ("issues/2024/13/01.md", "issues/2024/13/01.md"),
        ("第十三期/稿件 一.md", "第十三期/稿件 一.md"),
        ("\x1b]0;title\x07.md", r"\x1b]0;title\x07.md"),
        ("a\nb\rc\td", r"a\x0ab\x0dc\x09d"),
        ("\x85\x9b.md", r"\x85\x9b.md"),  # C1 controls: NEL and CSI
        ("\u202egnp.exe", r"\u202egnp.exe"),  # a right-to-left override
        ("a\u2028b", r"a\u2028b"),
        ("\udcff\udcfe.md", r"\xff\xfe.md"),  # undecodable bytes of a file name
    ],
)
def test_printable_escapes_what_a_terminal_acts_on(text: str, shown: str) -> None:
    assert printable(text) == shown
    assert printable(shown) == shown  # escaping twice changes nothing


def test_every_printed_path_and_problem_goes_through_the_escapes(tmp_path: Path) -> None:
    name = tmp_path / "issues" / "a\x1b[2Jb.md"
    assert display_path(name, tmp_path) == r"issues/a\x1b[2Jb.md"
    assert display_path(name) == str(tmp_path) + r"/issues/a\x1b[2Jb.md"
    assert str(Problem("x\ny.md", 1, 2, "说明")) == r"x\x0ay.md:1:2: 说明"


@pytest.mark.parametrize(
    "code, reason",
    [
        (errno.ELOOP, "符号链接太多层，可能是链接成了一个圈"),
        (errno.ENAMETOOLONG, "文件名太长"),
        (errno.ECONNRESET, "系统错误 ECONNRESET"),
    ],
)
def test_os_reasons_are_chinese(code: int, reason: str) -> None:
    """The system's own text ("Too many levels of symbolic links") is English."""
    assert os_reason(OSError(code, "English text")) == reason
