"""Atomic writes: a failed or interrupted write leaves the previous file as it was."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import REPO
from liandong.files import write_atomic


def test_write_replaces_the_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "out" / "a.pdf"
    write_atomic(target, b"first")
    write_atomic(target, "第二")
    assert target.read_text(encoding="utf-8") == "第二"
    assert [p.name for p in target.parent.iterdir()] == ["a.pdf"]
    assert oct(target.stat().st_mode & 0o777) == "0o644"


def test_a_failing_writer_keeps_the_old_file(tmp_path):
    target = tmp_path / "a.pdf"
    target.write_bytes(b"old")

    def writer(handle):
        handle.write(b"half of a new")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_atomic(target, writer)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.pdf"]


def test_killing_a_build_midway_keeps_the_old_pdf(tmp_path, sample_build):
    """SIGKILL while the PDF is being written: the previous PDF is still whole."""
    out = tmp_path / "out"
    out.mkdir()
    old = sample_build["pdf"].read_bytes()
    (out / "2024-13.pdf").write_bytes(old)
    script = (
        "import sys, time\n"
        "import liandong.files as files\n"
        "real = files.write_atomic\n"
        "def slow(path, data):\n"
        "    def writer(handle):\n"
        "        handle.write(data[: len(data) // 2]); handle.flush()\n"
        "        print('HALF', flush=True); time.sleep(60)\n"
        "    return real(path, writer)\n"
        "import liandong.build as build; build.write_atomic = slow\n"
        "from liandong.cli import main\n"
        f"sys.argv = ['liandong', 'build', '13', '--out', {str(out)!r}]\n"
        "main()\n")
    process = subprocess.Popen([sys.executable, "-c", script], cwd=REPO, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True)
    try:
        assert process.stdout.readline().strip() == "HALF"
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait(timeout=30)
    assert (out / "2024-13.pdf").read_bytes() == old
    temporaries = [p.name for p in out.iterdir() if p.name != "2024-13.pdf"]
    assert all(name.startswith(".2024-13.pdf.") and name.endswith(".tmp") for name in temporaries)
    check = subprocess.run(["qpdf", "--check", str(out / "2024-13.pdf")], capture_output=True)
    assert check.returncode == 0
