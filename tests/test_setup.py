"""setup.sh refuses what it cannot do with one Chinese sentence, before installing anything."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from conftest import REPO

TOOLS = ("bash", "cat", "grep", "sed", "id", "mktemp", "rm", "fc-list", "apt-get", "dirname")
"""What setup.sh needs to reach its checks; sudo is deliberately absent."""


def _run(
    tmp_path: Path,
    *,
    os_release: str = "ID=debian\nVERSION_ID=12\n",
    missing: bool = False,
    python: str | None = None,
    user: bool = False,
):
    """setup.sh with a PATH of only TOOLS (plus a dpkg-query that finds every package, or none)."""
    # In a folder the user nobody can reach (pytest's own are private to root).
    bin_ = Path(tempfile.mkdtemp(prefix="liandong-setup-"))
    bin_.chmod(0o755)
    for tool in TOOLS:
        found = shutil.which(tool)
        if found:
            (bin_ / tool).symlink_to(found)
    state = "not-installed" if missing else "install ok installed"
    (bin_ / "dpkg-query").write_text(f"#!/bin/sh\necho '{state}'\n")
    (bin_ / "dpkg-query").chmod(0o755)
    (bin_ / "os-release").write_text(os_release, encoding="utf-8")
    (bin_ / "os-release").chmod(0o644)
    env = {
        "PATH": str(bin_),
        "LIANDONG_OS_RELEASE": str(bin_ / "os-release"),
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
    }
    if python:
        env["PYTHON"] = python
    # A copy of setup.sh where nobody can read it too (the clone may lie under /root).
    shutil.copy(REPO / "setup.sh", bin_ / "setup.sh")
    (bin_ / "setup.sh").chmod(0o755)
    command = [shutil.which("bash"), str(bin_ / "setup.sh")]
    if user:  # as an ordinary user: nobody, who has no sudo either
        command = [
            shutil.which("setpriv"),
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            *command,
        ]
    try:
        return subprocess.run(command, capture_output=True, text=True, env=env, cwd=bin_)
    finally:
        shutil.rmtree(bin_)


def test_an_unsupported_system_is_refused(tmp_path):
    result = _run(
        tmp_path, os_release='ID=ubuntu\nVERSION_ID="22.04"\nPRETTY_NAME="Ubuntu 22.04.4 LTS"\n'
    )
    assert result.returncode == 1
    assert result.stderr == (
        "setup.sh：只支持 Debian 12（bookworm），这台电脑是 Ubuntu 22.04.4 LTS。"
        "请在 Debian 12 上安装（也可以用 Debian 12 的虚拟机或容器）。\n"
    )
    assert result.stdout == ""


def test_missing_packages_without_root_or_sudo_are_explained(tmp_path):
    if os.geteuid() != 0:
        import pytest

        pytest.fail("this test switches to the user nobody, which needs root")
    result = _run(tmp_path, missing=True, user=True)
    assert result.returncode == 1
    assert result.stderr.startswith("setup.sh：需要安装系统软件包（python3 python3-venv ")
    assert result.stderr.endswith("），这要 root 权限：请用 root 运行，或先装好 sudo。\n")
    assert "sudo: command not found" not in result.stderr


def test_an_old_python_is_refused(tmp_path):
    # A Python that says it is 3.10 (the setup's check reads sys.version_info).
    fake = tmp_path / "python3.10"
    fake.write_text(
        f"#!/bin/sh\nexec {sys.executable} -c 'import sys; "
        'sys.version_info = (3, 10, 12); sys.version = "3.10.12"; '
        'exec(sys.stdin.read())\' "$@"\n'
    )
    fake.chmod(0o755)
    result = _run(tmp_path, python=str(fake))
    assert result.returncode == 1
    assert result.stderr == "setup.sh：需要 Python 3.11 或更新版本，当前是 3.10.12。\n"


def test_an_unknown_option_is_refused(tmp_path):
    result = subprocess.run(
        ["bash", str(REPO / "setup.sh"), "--editor"], capture_output=True, text=True
    )
    assert result.returncode == 1
    assert result.stderr == "setup.sh：不认识的选项“--editor”：只有 --dev（另装测试工具）。\n"
