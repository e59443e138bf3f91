"""Atomic writes: a failed or interrupted write leaves the previous file as it was."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

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
        "files.write_atomic = slow\n"
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


def test_a_killed_runs_leftover_is_cleared_by_the_next_write_once_stale(tmp_path):
    target = tmp_path / "a.pdf"
    stale = tmp_path / ".a.pdf.abc123.tmp"
    fresh = tmp_path / ".a.pdf.def456.tmp"  # perhaps a parallel build's, still writing
    stale.write_bytes(b"half")
    fresh.write_bytes(b"half")
    old = time.time() - 2 * 3600
    os.utime(stale, (old, old))
    write_atomic(target, b"new")
    assert not stale.exists() and fresh.exists()


def test_an_unwritable_output_folder_is_a_clear_error(tmp_path, sample_build):
    from conftest import liandong

    if os.geteuid() == 0:
        blocker = tmp_path / "out"
        blocker.write_text("a file where the folder should be", encoding="utf-8")
        out = blocker / "sub"
    else:
        out = tmp_path / "ro"
        out.mkdir()
        out.chmod(0o500)
    result = liandong("build", "13", "--out", str(out), cwd=REPO)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and "内部错误" not in result.stderr
    reason = "路径中有一个同名文件，不是文件夹" if os.geteuid() == 0 else "没有权限"
    assert f"错误：无法写入 {out / '2024-13.pdf'}：{reason}" in result.stderr.splitlines()


def _pdf_pages(path) -> int:
    import pikepdf

    with pikepdf.open(path) as pdf:
        return len(pdf.pages)


def test_two_builds_at_once_into_the_same_folder(tmp_path, sample_build):
    """Two editors (or a script and an editor) build the same issue into one folder at once."""
    from conftest import liandong

    exe = Path(sys.executable).with_name("liandong")
    out = tmp_path / "out"
    runs = [subprocess.Popen([str(exe), "build", "13", "--out", str(out)], cwd=REPO,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(2)]
    results = [(run.wait(timeout=300), run.stdout.read(), run.stderr.read()) for run in runs]
    for run in runs:
        run.stdout.close()
        run.stderr.close()
    assert [code for code, _, _ in results] == [0, 0], results
    assert sorted(p.name for p in out.iterdir()) == ["2024-13.build.json", "2024-13.html",
                                                     "2024-13.pdf"]  # no temporaries
    assert _pdf_pages(out / "2024-13.pdf") == _pdf_pages(sample_build["pdf"])
    assert subprocess.run(["qpdf", "--check", str(out / "2024-13.pdf")],
                          capture_output=True).returncode == 0
    assert (out / "2024-13.html").read_text(encoding="utf-8").rstrip().endswith("</html>")
    assert liandong("build", "13", "--out", str(out), cwd=REPO).returncode == 0


_PAUSE_BEFORE_RENAME = '''
import os, sys, time
_replace = os.replace
def replace(src, dst, *args, **kwargs):
    if str(dst).endswith(".pdf"):
        print("RENAMING", flush=True)
        time.sleep(120)
    return _replace(src, dst, *args, **kwargs)
os.replace = replace
'''


def test_killing_the_installed_command_before_the_rename_keeps_the_old_pdf(tmp_path, sample_build):
    """The real `liandong` executable, unpatched, killed with SIGKILL after the new PDF is fully
    written to its temporary file but before it is renamed over the old one. Only os.replace is
    slowed (through sitecustomize) so the kill lands at that moment every time."""
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(_PAUSE_BEFORE_RENAME, encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    old = b"%PDF-1.7 previous issue, a stand-in that must survive untouched\n"
    (out / "2024-13.pdf").write_bytes(old)
    exe = Path(sys.executable).with_name("liandong")
    process = subprocess.Popen([str(exe), "build", "13", "--out", str(out)], cwd=REPO,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                               env={**os.environ, "PYTHONPATH": str(hook)})
    try:
        assert process.stdout.readline().strip() == "RENAMING"
        temporaries = [p for p in out.iterdir() if p.name.endswith(".tmp")]
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait(timeout=30)
        process.stdout.close()
    assert process.returncode == -signal.SIGKILL
    assert (out / "2024-13.pdf").read_bytes() == old
    # The new PDF was complete in its temporary file: the kill lost only the rename.
    (temporary,) = temporaries
    assert temporary.name.startswith(".2024-13.pdf.")
    assert _pdf_pages(temporary) == _pdf_pages(sample_build["pdf"])
