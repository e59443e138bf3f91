"""Atomic writes: a failed or interrupted write leaves the previous file as it was."""

from __future__ import annotations

import json
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
        "real = files._write_temporary\n"
        "def slow(path, data, mode):\n"
        "    def writer(handle):\n"
        "        handle.write(data[: len(data) // 2]); handle.flush()\n"
        "        print('HALF', flush=True); time.sleep(60)\n"
        "    return real(path, writer, mode)\n"
        "files._write_temporary = slow\n"
        "from liandong.cli import main\n"
        f"sys.argv = ['liandong', 'build', '13', '--out', {str(out)!r}]\n"
        "main()\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", script],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
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
    runs = [
        subprocess.Popen(
            [str(exe), "build", "13", "--out", str(out)],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results = [(run.wait(timeout=300), run.stdout.read(), run.stderr.read()) for run in runs]
    for run in runs:
        run.stdout.close()
        run.stderr.close()
    assert [code for code, _, _ in results] == [0, 0], results
    assert sorted(p.name for p in out.iterdir()) == [
        "2024-13.build.json",
        "2024-13.html",
        "2024-13.pdf",
    ]  # no temporaries
    assert _pdf_pages(out / "2024-13.pdf") == _pdf_pages(sample_build["pdf"])
    assert (
        subprocess.run(
            ["qpdf", "--check", str(out / "2024-13.pdf")], capture_output=True
        ).returncode
        == 0
    )
    assert (out / "2024-13.html").read_text(encoding="utf-8").rstrip().endswith("</html>")
    assert liandong("build", "13", "--out", str(out), cwd=REPO).returncode == 0


_PAUSE_BEFORE_RENAME = """
import os, sys, time
_replace = os.replace
def replace(src, dst, *args, **kwargs):
    if str(dst).endswith(".pdf"):
        print("RENAMING", flush=True)
        time.sleep(120)
    return _replace(src, dst, *args, **kwargs)
os.replace = replace
"""


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
    process = subprocess.Popen(
        [str(exe), "build", "13", "--out", str(out)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONPATH": str(hook)},
    )
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
    (temporary,) = [p for p in temporaries if p.name.startswith(".2024-13.pdf.")]
    assert temporary.name.startswith(".2024-13.pdf.")
    assert _pdf_pages(temporary) == _pdf_pages(sample_build["pdf"])


# --- Issue 14, 7: temporaries of a killed run go at once; an issue's files change together ---------

_KILL_AFTER_FIRST_RENAME = """
import os, signal
_replace = os.replace
def replace(src, dst, *args, **kwargs):
    result = _replace(src, dst, *args, **kwargs)
    if str(dst).endswith(".pdf"):
        os.kill(os.getpid(), signal.SIGKILL)
    return result
os.replace = replace
"""


def test_a_kill_between_the_renames_is_completed_by_the_next_run(tmp_path, sample_build):
    """The real command killed right after the new PDF replaced the old one, before the page
    did: the state is detectable (a journal) and the next run that writes there completes it,
    so the PDF and the page are of the same build, and no temporary file is left."""
    from liandong.files import recover

    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(_KILL_AFTER_FIRST_RENAME, encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    (out / "2024-13.pdf").write_bytes(b"%PDF-1.7 the previous build\n")
    (out / "2024-13.html").write_text("<!DOCTYPE html><p>the previous build</p>", encoding="utf-8")
    exe = Path(sys.executable).with_name("liandong")
    result = subprocess.run(
        [str(exe), "build", "13", "--out", str(out)],
        cwd=REPO,
        capture_output=True,
        env={**os.environ, "PYTHONPATH": str(hook)},
    )
    assert result.returncode == -signal.SIGKILL
    assert (out / "2024-13.pdf").read_bytes() == sample_build["pdf"].read_bytes()
    assert "the previous build" in (out / "2024-13.html").read_text(encoding="utf-8")
    assert [p.name for p in out.iterdir() if p.name.startswith(".liandong-replace.")]

    assert recover(out) == [out / "2024-13.html", out / "2024-13.build.json"]
    assert (out / "2024-13.html").read_bytes() == sample_build["html"].read_bytes()
    assert sorted(p.name for p in out.iterdir()) == [
        "2024-13.build.json",
        "2024-13.html",
        "2024-13.pdf",
    ]


def _dead_run() -> str:
    """The token of a process that has ended: its pid and start time."""
    from liandong.files import _start_time

    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(0.2)"])
    started = _start_time(process.pid)
    process.wait()
    return f"{process.pid}-{started}"


def test_a_killed_runs_temporaries_are_removed_by_the_next_run_at_once(tmp_path):
    """A kill left `.tmp` files next to the outputs, removed only an hour later: now the next
    run removes them at once when the process that wrote them is gone."""
    from liandong.files import _run_token, recover

    dead = tmp_path / f".2024-13.pdf.{_dead_run()}.k3j2h1g0.tmp"
    other = tmp_path / f".2024-13.html.{_dead_run()}.a1b2c3d4.tmp"
    ours = tmp_path / f".2024-13.pdf.{_run_token()}.z9y8x7w6.tmp"  # a run in progress
    for path in (dead, other, ours):
        path.write_bytes(b"half")
    write_atomic(tmp_path / "2024-13.pdf", b"new")
    assert not dead.exists() and other.exists() and ours.exists()
    recover(tmp_path)
    assert not other.exists() and ours.exists()


def test_a_forged_journal_moves_nothing_but_liandongs_temporaries(tmp_path):
    """The output folder may come from a CI cache: a journal in it is trusted only to rename a
    temporary file of liandong's onto the output it was written for, inside the folder."""
    from liandong.files import recover

    out = tmp_path / "out"
    out.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("keep", encoding="utf-8")
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    (out / "index.html").write_text("published", encoding="utf-8")
    run = _dead_run()
    (out / f".index.html.{run}.aaaa1111.tmp").symlink_to(victim)
    (out / f".2024-13.pdf.{run}.bbbb2222.tmp").write_bytes(b"%PDF new")
    journal = out / f".liandong-replace.{run}.cccc3333.json"
    journal.write_text(
        json.dumps(
            {
                "format": 1,
                "replace": [
                    ["../victim.txt", "2024-13.html"],
                    ["notes.txt", "index.html"],
                    [f".index.html.{run}.aaaa1111.tmp", "index.html"],
                    [f".2024-13.pdf.{run}.bbbb2222.tmp", "../../escaped.pdf"],
                    [f".2024-13.pdf.{run}.bbbb2222.tmp", "2024-13.pdf"],
                ],
            }
        ),
        encoding="utf-8",
    )
    assert recover(out) == [out / "2024-13.pdf"]
    assert victim.read_text(encoding="utf-8") == "keep"
    assert (out / "notes.txt").read_text(encoding="utf-8") == "mine"
    assert (out / "index.html").read_text(encoding="utf-8") == "published"
    assert (out / "2024-13.pdf").read_bytes() == b"%PDF new"
    assert not journal.exists() and not (tmp_path / "escaped.pdf").exists()


# --- Issue 14, 10: where outputs may go ---------------------------------------------------------


def test_the_root_and_system_folders_are_never_an_output_folder(tmp_path):
    from liandong.errors import LiandongError
    from liandong.files import check_out_folder

    for folder in ("/", "/etc", "/usr/local/share/x", "/home", "/tmp", "/var"):
        with pytest.raises(LiandongError) as refused:
            check_out_folder(Path(folder), lambda name: True, force=True)
        assert refused.value.message.startswith(f"--out {folder} 是根文件夹或系统文件夹")
    check_out_folder(tmp_path / "new", lambda name: False)  # a folder that does not exist yet


def test_build_refuses_the_root_folder(tmp_path):
    """`--out /` was accepted (as root, build wrote /2024-13.pdf). The project here is broken,
    so that even a failed guard could not write into /."""
    from conftest import liandong, make_project

    root = make_project(tmp_path, overrides={"issues/2024/13/01.md": ""})
    result = liandong("build", "13", "--out", "/", "--force", cwd=root)
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (
        "错误：--out / 是根文件夹或系统文件夹（/），不能用作输出文件夹：请指定一个专用的文件夹。"
    )


def test_build_refuses_a_folder_with_other_files_unless_forced(tmp_path, sample_build):
    from conftest import liandong

    out = tmp_path / "documents"
    out.mkdir()
    (out / "报告.docx").write_bytes(b"someone's work")
    result = liandong("build", "13", "--out", str(out), cwd=REPO)
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (
        f"错误：--out {out} 里已经有不是 liandong 生成的文件（如 报告.docx），为免覆盖别的文件，"
        "没有写入。请指定一个空文件夹或 liandong 的输出文件夹；确实要写入这里，请加 --force。"
    )
    assert sorted(p.name for p in out.iterdir()) == ["报告.docx"]
    result = liandong("build", "13", "--out", str(out), "--force", cwd=REPO)
    assert result.returncode == 0, result.stderr
    # A folder of liandong's outputs (and subfolders, which build never writes into) is fine.
    (out / "报告.docx").unlink()
    (out / "site").mkdir()
    (out / ".DS_Store").write_bytes(b"")
    result = liandong("build", "13", "--out", str(out), cwd=REPO)
    assert result.returncode == 0, result.stderr


def test_site_refuses_a_folder_that_is_not_a_liandong_site(tmp_path):
    """`site --out DIR` overwrote index.html and the others in any folder."""
    from conftest import liandong, make_project

    root = make_project(tmp_path / "project")
    out = tmp_path / "www"
    out.mkdir()
    (out / "index.html").write_text("<p>the office's own home page</p>", encoding="utf-8")
    (out / "logo.png").write_bytes(b"png")
    result = liandong("site", "--out", str(out), cwd=root)
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (
        f"错误：--out {out} 里已经有不是 liandong 生成的文件（如 logo.png），为免覆盖别的文件，"
        "没有写入。请指定一个空文件夹或 liandong 的输出文件夹；确实要写入这里，请加 --force。"
    )
    assert (out / "index.html").read_text(encoding="utf-8") == "<p>the office's own home page</p>"


def test_site_refuses_a_home_page_that_is_not_a_liandong_sites(tmp_path):
    """An `index.html` alone has a name the site writes, but no liandong site is made of it."""
    from conftest import liandong, make_project

    root = make_project(tmp_path / "project")
    out = tmp_path / "www"
    out.mkdir()
    (out / "index.html").write_text("<p>the office's own home page</p>", encoding="utf-8")
    result = liandong("site", "--out", str(out), cwd=root)
    assert result.returncode == 1
    assert "（如 index.html）" in result.stderr
    assert (out / "index.html").read_text(encoding="utf-8") == "<p>the office's own home page</p>"
