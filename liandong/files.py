"""Atomic writes: a temporary file in the same folder, then a rename, so nothing is half-written."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import BinaryIO, Callable

from liandong.errors import LiandongError, display_path, os_reason

STALE_AFTER = 3600
"""Seconds after which a temporary file left by a killed run is removed by the next write."""


def write_atomic(path: Path, data: bytes | str | Callable[[BinaryIO], None]) -> Path:
    """Write data (or let a writer fill the file) and rename it into place.

    An interrupted or failed write leaves the previous file intact. Two writers racing for the
    same path each rename a complete file; the last rename wins.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale(path)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            if callable(data):
                data(handle)
            else:
                handle.write(data.encode("utf-8") if isinstance(data, str) else data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def write_output(path: Path, data: bytes | str) -> Path:
    """write_atomic, with a Chinese reason when the file system refuses (no traceback)."""
    try:
        return write_atomic(path, data)
    except OSError as exc:
        raise LiandongError(f"无法写入 {display_path(path)}：{os_reason(exc)}") from None


def _remove_stale(path: Path) -> None:
    """Temporary files of this path left by a killed run; young ones may be a parallel run's."""
    now = time.time()
    for leftover in path.parent.glob(f".{path.name}.*.tmp"):
        try:
            if now - leftover.stat().st_mtime > STALE_AFTER:
                leftover.unlink()
        except OSError:
            pass
