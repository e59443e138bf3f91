"""Problems found in sources, reported with file:line:column in Chinese.

Error: the source cannot be built; nothing is written and the exit status is 1.
Warning: the build goes on, but the editor should look (printed once, to stderr).
"""

from __future__ import annotations

import errno
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import click


@dataclass(frozen=True, order=True)
class Problem:
    """One problem at one place in one source file."""

    path: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{printable(self.path)}:{self.line}:{self.column}: {self.message}"


class LiandongError(click.ClickException):
    """A user-facing failure: one clean message in Chinese, exit status 1, no traceback."""

    def format_message(self) -> str:
        return self.message

    def show(self, file: IO[str] | None = None) -> None:
        click.echo(f"错误：{self.format_message()}", err=True, file=file)


class SourceErrors(LiandongError):
    """All problems of one run, collected before anything is written."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(set(problems))
        super().__init__("\n".join(str(p) for p in self.problems))

    def show(self, file: IO[str] | None = None) -> None:
        for problem in self.problems:
            click.echo(str(problem), err=True, file=file)
        click.echo(f"共 {len(self.problems)} 处错误，未生成任何文件。", err=True, file=file)


_HIDDEN = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})
"""Unicode categories that a terminal acts on or a reader cannot see: controls (ESC starts an
escape sequence, a newline starts a forged `file:line:col:` line), format characters (bidi
overrides reorder what is shown), line and paragraph separators, and the lone surrogates
that stand for undecodable bytes of a file name."""


def printable(text: str) -> str:
    """Text from outside liandong (a file name, a URL, a name inside a PDF) made safe to print:
    every character of `_HIDDEN` is written as an escape, `\\x1b`, `\\n`-like `\\x0a`,
    `\\u202e`; an undecodable byte of a file name as `\\xNN`."""
    if text.isascii() and text.isprintable():
        return text
    shown = []
    for char in text:
        if unicodedata.category(char) not in _HIDDEN:
            shown.append(char)
            continue
        code = ord(char)
        if 0xDC80 <= code <= 0xDCFF:  # os.fsdecode's stand-in for an undecodable byte
            shown.append(f"\\x{code - 0xDC00:02x}")
        elif code <= 0xFF:
            shown.append(f"\\x{code:02x}")
        elif code <= 0xFFFF:
            shown.append(f"\\u{code:04x}")
        else:
            shown.append(f"\\U{code:08x}")
    return "".join(shown)


def display_path(path: Path | str, root: Path | None = None, *, resolve: bool = True) -> str:
    """A path as liandong prints it, the one place paths are formatted for display: relative
    to the project when inside it (`root`), and with `printable`'s escapes, so a committed
    file name cannot write to the terminal or forge a line. resolve=False keeps the path as
    written (a link inside the project is named, not its target)."""
    path = Path(path)
    if root is not None:
        try:
            if resolve:
                return printable(path.resolve().relative_to(root.resolve()).as_posix())
            return printable(path.absolute().relative_to(root.absolute()).as_posix())
        except (ValueError, OSError, RuntimeError):
            pass
    return printable(str(path))


_OS_REASONS = {
    errno.EACCES: "没有权限",
    errno.EPERM: "没有权限",
    errno.ENOENT: "文件或文件夹不存在",
    errno.ENOTDIR: "路径中有一个同名文件，不是文件夹",
    errno.EISDIR: "这是一个文件夹",
    errno.ENOSPC: "磁盘空间不足",
    errno.EROFS: "只读的文件系统",
    errno.EEXIST: "已经存在",
    errno.ELOOP: "符号链接太多层，可能是链接成了一个圈",
    errno.ENAMETOOLONG: "文件名太长",
    errno.EMFILE: "打开的文件太多",
    errno.ENFILE: "打开的文件太多",
    errno.EIO: "读写出错（磁盘或网络）",
    errno.EBUSY: "文件正被别的程序占用",
    errno.ETXTBSY: "文件正被别的程序占用",
    errno.EFBIG: "文件太大",
    errno.EDQUOT: "超出了磁盘配额",
    errno.EXDEV: "不能跨磁盘移动",
    errno.ENXIO: "设备不存在（可能是没有写入端的管道）",
    errno.EAGAIN: "暂时无法读写，请重试",
    errno.ENOTEMPTY: "文件夹不是空的",
    errno.EINVAL: "文件名或参数无效",
}


def os_reason(exc: OSError) -> str:
    """Why a file operation failed, in Chinese: the common causes by name, any other by its
    error code (the system's own text is English)."""
    if exc.errno in _OS_REASONS:
        return _OS_REASONS[exc.errno]
    code = errno.errorcode.get(exc.errno) if exc.errno is not None else None
    return f"系统错误 {code}" if code else "系统错误"


def internal_error(exc: BaseException) -> str:
    """What an editor sees when liandong itself fails: one Chinese sentence, no traceback."""
    return (
        f"liandong 内部错误（{type(exc).__name__}: {exc}）。这不是稿件的问题；"
        "请用 liandong -v 重新运行，并把输出发给维护者。"
    )
