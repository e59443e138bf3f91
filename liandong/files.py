"""Atomic writes: a temporary file in the same folder, then a rename, so nothing is half-written.

Temporary files are named `.<name>.<run>.<random>.tmp`, where <run> identifies the writing process
(`_run_token`: its pid and start time), so the next run can tell a killed run's leftovers from a
parallel run's files in progress. `replace_together` renames several finished files into place
after writing a journal (`.liandong-replace.<run>.<random>.json`); `recover` completes what a
killed run left between two renames, so an issue's PDF and HTML never stay out of step.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import json
import os
import re
import secrets
import stat
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import BinaryIO

from liandong.errors import LiandongError, display_path, os_reason

STALE_AFTER = 3600
"""Seconds after which a temporary file is removed even if the process that wrote it seems alive
(its pid reused), and the age rule for temporary files of liandong before this naming."""

JOURNAL_PREFIX = ".liandong-replace."
"""The journal of a `replace_together` in progress, in the folder it writes to."""

_TEMP = re.compile(r"\.(?P<name>.+)\.(?P<run>\d+-\d+)\.[A-Za-z0-9_]+\.tmp")
_OLD_TEMP = re.compile(r"\.(?P<name>.+)\.[A-Za-z0-9_]{6,12}\.tmp")
_JOURNAL = re.compile(re.escape(JOURNAL_PREFIX) + r"(?P<run>\d+-\d+)\.[A-Za-z0-9_]+\.json")

Data = bytes | str | Callable[[BinaryIO], None]


# --- Which process wrote a temporary file --------------------------------------------------------


def _start_time(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (Linux /proc), None if unknown."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            fields = handle.read().rsplit(b")", 1)[1].split()
        return int(fields[19])
    except (OSError, IndexError, ValueError):
        return None


@functools.lru_cache(maxsize=1)
def _run_token() -> str:
    return f"{os.getpid()}-{_start_time(os.getpid()) or 0}"


def _alive(run: str) -> bool:
    """Is the process that wrote this token still running (the same process, not a reused pid)?"""
    pid_text, _, started = run.partition("-")
    pid = int(pid_text)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return pid > 0
    now = _start_time(pid)
    return now is None or started == "0" or str(now) == started


def _stale(path: Path, run: str | None, now: float) -> bool:
    try:
        old = now - path.lstat().st_mtime > STALE_AFTER
    except OSError:
        return False
    return old or (run is not None and not _alive(run))


# --- Writing ---------------------------------------------------------------------------------


def _write_temporary(path: Path, data: Data, mode: int) -> Path:
    """The data in a finished temporary file beside path (flushed to disk), not yet renamed."""
    fd, tmp_name = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.{_run_token()}.", suffix=".tmp"
    )
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            if callable(data):
                data(handle)
            else:
                handle.write(data.encode("utf-8") if isinstance(data, str) else data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def write_atomic(path: Path, data: Data, *, mode: int = 0o644) -> Path:
    """Write data (or let a writer fill the file) and rename it into place.

    An interrupted or failed write leaves the previous file intact. Two writers racing for the
    same path each rename a complete file; the last rename wins. A symbolic link at path is
    replaced, never written through (see `rewrite` for sources).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale(path.parent, path.name)
    tmp = _write_temporary(path, data, mode)
    try:
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def write_new(path: Path, data: Data, *, mode: int = 0o644) -> Path:
    """Write a file that must not exist yet (what `liandong import` creates): complete in a
    temporary file, then linked into place, which fails rather than replace a file that
    appeared meanwhile. On a file system without hard links the name is claimed first
    (O_EXCL), then the finished file renamed over the claim. Raises LiandongError."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = _write_temporary(path, data, mode)
    except OSError as exc:
        raise LiandongError(f"无法写入 {display_path(path)}：{os_reason(exc)}") from None
    try:
        try:
            os.link(tmp, path)
        except FileExistsError:
            raise
        except OSError:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode))
            os.replace(tmp, path)
    except FileExistsError:
        raise LiandongError(f"{display_path(path)} 已经存在，没有覆盖") from None
    except OSError as exc:
        raise LiandongError(f"无法写入 {display_path(path)}：{os_reason(exc)}") from None
    finally:
        tmp.unlink(missing_ok=True)
    return path


def write_output(path: Path, data: bytes | str) -> Path:
    """write_atomic, with a Chinese reason when the file system refuses (no traceback)."""
    try:
        return write_atomic(path, data)
    except OSError as exc:
        raise LiandongError(f"无法写入 {display_path(path)}：{os_reason(exc)}") from None


def replace_together(files: dict[Path, Data]) -> list[Path]:
    """Replace several files of one folder as one change: an issue's PDF, page and print PDF.

    Every file is first written completely to its temporary file; then a journal naming them is
    written, the temporaries are renamed into place, and the journal is removed. A run killed
    between two renames leaves the journal, and `recover` (at the start of the next run that
    writes to this folder) renames the rest, so the outputs never stay half old, half new.
    Raises LiandongError with a Chinese reason when the file system refuses."""
    paths = list(files)
    if not paths:
        return []
    folder = paths[0].parent
    if any(path.parent != folder for path in paths):
        raise ValueError("replace_together writes into one folder")
    temporaries: list[Path] = []
    journal = None
    current = paths[0]  # the output named if the file system refuses
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for current in paths:
            _remove_stale(folder, current.name)
            temporaries.append(_write_temporary(current, files[current], 0o644))
        if len(paths) > 1:
            journal = folder / f"{JOURNAL_PREFIX}{_run_token()}.{secrets.token_hex(4)}.json"
            entries = [[tmp.name, path.name] for tmp, path in zip(temporaries, paths)]
            write_atomic(journal, json.dumps({"format": 1, "replace": entries}))
        for tmp, current in zip(temporaries, paths):
            os.replace(tmp, current)
        _sync_folder(folder)
        if journal is not None:
            journal.unlink()
    except OSError as exc:
        if journal is None or not journal.exists():
            for tmp in temporaries:
                tmp.unlink(missing_ok=True)
        raise LiandongError(f"无法写入 {display_path(current)}：{os_reason(exc)}") from None
    return paths


def _sync_folder(folder: Path) -> None:
    """Make the renames durable before the journal goes (a crash of the machine, not a kill)."""
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# --- The next run: complete and clean up -------------------------------------------------------


def _plain_name(name: object) -> bool:
    return (
        isinstance(name, str)
        and name not in ("", ".", "..")
        and "/" not in name
        and "\0" not in name
        and "\\" not in name
    )


def recover(folder: Path) -> list[Path]:
    """Finish what a killed run left in folder, and remove its temporary files; the files it
    completed are returned. Call before writing outputs into folder (`build` does; the site
    should). A journal of a run still going is left alone. Journal entries are trusted only as
    plain names inside folder, each a temporary file of liandong's for its target, so a forged
    journal (the output folder may come from a CI cache) can only finish a liandong write."""
    completed: list[Path] = []
    try:
        entries = sorted(folder.iterdir())
    except OSError:
        return completed
    now = time.time()
    for journal in entries:
        match = _JOURNAL.fullmatch(journal.name)
        if not match or not _stale(journal, match.group("run"), now):
            continue
        try:
            if not stat.S_ISREG(journal.lstat().st_mode) or journal.lstat().st_size > 1 << 20:
                raise ValueError("not a journal")
            renames = json.loads(journal.read_text(encoding="utf-8"))["replace"]
            for tmp_name, target in renames:
                if not (_plain_name(tmp_name) and _plain_name(target)):
                    continue
                temp = _TEMP.fullmatch(tmp_name)
                if temp is None or temp.group("name") != target:
                    continue
                tmp = folder / tmp_name
                if tmp.is_symlink() or not tmp.is_file():
                    continue  # already renamed, or not ours
                os.replace(tmp, folder / target)
                completed.append(folder / target)
        except (OSError, ValueError, TypeError, KeyError):
            pass  # unreadable or forged: nothing of it is trusted
        with contextlib.suppress(OSError):
            journal.unlink()
    _remove_stale(folder)
    return completed


def _remove_stale(folder: Path, name: str | None = None) -> None:
    """Temporary files of liandong's (of one target name, or all) whose run is over: the
    writing process has ended, or the file is older than STALE_AFTER."""
    now = time.time()
    pattern = f".{glob_escape(name)}.*.tmp" if name is not None else ".*.tmp"
    for leftover in folder.glob(pattern):
        new = _TEMP.fullmatch(leftover.name)
        if new is not None:
            stale = _stale(leftover, new.group("run"), now)
        elif _OLD_TEMP.fullmatch(leftover.name):
            stale = _stale(leftover, None, now)
        else:
            continue
        if stale and not leftover.is_dir():
            with contextlib.suppress(OSError):
                leftover.unlink()


def glob_escape(name: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", name)


# --- Sources: rewritten in place, keeping their mode and links ------------------------------------


def rewrite(path: Path, data: bytes, root: Path) -> Path:
    """Replace a source's contents atomically, as `check --fix` does: the file keeps its
    permissions (a 0600 file stays private), and a symbolic link stays a link: its target,
    inside the project, gets the new contents. Raises LiandongError for a link out of the
    project (never written through) or a file system refusal."""
    target = path
    if path.is_symlink():
        target = path.resolve()
        if not target.is_relative_to(root.resolve()):
            raise LiandongError(
                f"出于安全考虑，不修改 {display_path(path, root, resolve=False)}："
                f"它指向项目之外（{display_path(target)}）"
            )
    try:
        info = target.stat()
        write_atomic(target, data, mode=stat.S_IMODE(info.st_mode))
        if os.geteuid() == 0 and (info.st_uid, info.st_gid) != (0, 0):
            os.chown(target, info.st_uid, info.st_gid)  # root fixing an editor's file
    except OSError as exc:
        raise LiandongError(
            f"无法写入 {display_path(path, root, resolve=False)}：{os_reason(exc)}"
        ) from None
    return path


# --- Where outputs may go ---------------------------------------------------------------------

SYSTEM_FOLDERS = tuple(
    Path(p)
    for p in (
        "/",
        "/bin",
        "/boot",
        "/dev",
        "/etc",
        "/home",
        "/lib",
        "/lib32",
        "/lib64",
        "/libx32",
        "/media",
        "/mnt",
        "/opt",
        "/proc",
        "/root",
        "/run",
        "/sbin",
        "/srv",
        "/sys",
        "/tmp",
        "/usr",
        "/var",
        "/var/lib",
        "/var/log",
        "/Applications",
        "/Library",
        "/System",
        "/Users",
        "/private",
        "/Volumes",
    )
)
"""Never an output folder, not even with --force."""

SYSTEM_TREES = tuple(
    Path(p)
    for p in (
        "/bin",
        "/boot",
        "/dev",
        "/etc",
        "/lib",
        "/lib32",
        "/lib64",
        "/libx32",
        "/proc",
        "/run",
        "/sbin",
        "/sys",
        "/usr",
        "/System",
        "/Library",
    )
)
"""Nothing inside these either: they belong to the operating system."""

IGNORED = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})
"""Files an operating system leaves in any folder: they do not make it someone else's."""


def _liandong_file(name: str) -> bool:
    return bool(
        _TEMP.fullmatch(name)
        or _OLD_TEMP.fullmatch(name)
        or _JOURNAL.fullmatch(name)
        or name.startswith(".liandong-")
    )


def check_out_folder(
    out: Path,
    owned: Callable[[str], bool],
    *,
    force: bool = False,
    marks: tuple[str, ...] = (),
    option: str = "--out",
) -> None:
    """Refuse an output folder that is a system folder (always), or a folder with files that
    liandong did not write (unless force): a folder is liandong's output when every file in it
    has a name `owned` accepts (or is liandong's temporary file or journal) and, if `marks`
    are given, one of them is there (a site's search/meta.js: an `index.html` alone may be
    anybody's). Subfolders are not looked into: liandong writes none there."""
    real = Path(os.path.realpath(out))
    shown = display_path(out)
    if real in SYSTEM_FOLDERS or any(real.is_relative_to(tree) for tree in SYSTEM_TREES):
        raise LiandongError(
            f"{option} {shown} 是根文件夹或系统文件夹（{display_path(real)}），"
            "不能用作输出文件夹：请指定一个专用的文件夹。"
        )
    if force or not real.is_dir():
        return
    foreign = _foreign(real.iterdir(), owned)
    if foreign is None and marks and not any((real / mark).is_file() for mark in marks):
        # Only names a liandong output has, but none of its marks: the first such file.
        foreign = next(
            (
                entry.name
                for entry in sorted(real.iterdir())
                if entry.name not in IGNORED
                and not _liandong_file(entry.name)
                and not entry.is_dir()
            ),
            None,
        )
    if foreign is not None:
        raise LiandongError(
            f"{option} {shown} 里已经有不是 liandong 生成的文件（如 {display_path(foreign)}），"
            "为免覆盖别的文件，没有写入。请指定一个空文件夹或 liandong 的输出文件夹；"
            "确实要写入这里，请加 --force。"
        )


def _foreign(entries: Iterable[Path], owned: Callable[[str], bool]) -> str | None:
    try:
        for entry in sorted(entries):
            name = entry.name
            if name in IGNORED or _liandong_file(name) or owned(name):
                continue
            if entry.is_dir() and not entry.is_symlink():
                continue
            return name
    except OSError as exc:
        if exc.errno in (errno.EACCES, errno.EPERM):
            return "（无法列出文件夹内容）"
        raise
    return None
