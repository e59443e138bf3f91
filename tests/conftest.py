"""Shared fixtures: the repository's sample issue, built once by the real command."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from playwright import sync_api as playwright

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SAMPLE_TEXT = FIXTURES / "samples" / "2024-13-as-published.txt"
"""The published text of issue 13 (2024), as extracted from the printed PDF, damage included."""
MM = 72 / 25.4

CHROMIUM = "/usr/bin/chromium"  # Debian's; `playwright install` is never run
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--disable-component-update", "--no-first-run",
        "--disable-sync"]
"""Headless chromium for the browser tests, quiet and offline."""


def liandong(*args: str, cwd: Path, check: bool = False,
             env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run the installed command as an editor would (env: variables to add or change)."""
    exe = Path(sys.executable).with_name("liandong")
    result = subprocess.run([str(exe), *args], cwd=cwd, capture_output=True, text=True,
                            env={**os.environ, "COLUMNS": "100", **(env or {})})
    if check and result.returncode != 0:
        raise AssertionError(f"liandong {' '.join(args)} failed:\n{result.stderr}")
    return result


def make_project(tmp: Path, *, overrides: dict[str, bytes | str] | None = None,
                 remove: tuple[str, ...] = ()) -> Path:
    """A copy of the repository's issues/ with some files replaced, added or removed."""
    shutil.copytree(REPO / "issues", tmp / "issues")
    for name in remove:
        (tmp / name).unlink()
    for name, content in (overrides or {}).items():
        path = tmp / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        else:
            path.write_bytes(content)
    return tmp


@pytest.fixture(scope="session")
def sample_build(tmp_path_factory) -> dict[str, Path]:
    """`liandong build 13 --out DIR` on the repository itself, once per test session."""
    out = tmp_path_factory.mktemp("build")
    result = liandong("build", "13", "--out", str(out), cwd=REPO, check=True)
    return {"pdf": out / "2024-13.pdf", "html": out / "2024-13.html", "out": out,
            "stdout": result.stdout, "stderr": result.stderr}


def add_issue(project: Path, year: int, number: int, total: int, date: str,
              title: str | None = None, replace: dict[str, str] | None = None) -> Path:
    """A further issue made from the sample: its 期号, 总期号, 日期 and first title changed, and
    some words replaced, so an archive has issues that differ where tests look."""
    sample = project / "issues" / "2024" / "13"
    folder = project / "issues" / str(year) / str(number)
    shutil.copytree(sample, folder)
    meta = folder / "issue.yaml"
    text = meta.read_text(encoding="utf-8")
    text = (text.replace("期号: 13", f"期号: {number}").replace("总期号: 714", f"总期号: {total}")
            .replace("日期: 2024-08-30", f"日期: {date}").replace("2024 年第 13 期", f"{year} 年第 {number} 期"))
    for old, new in (replace or {}).items():
        text = text.replace(old, new)
    meta.write_text(text, encoding="utf-8")
    for article in sorted(folder.glob("*.md")):
        body = article.read_text(encoding="utf-8")
        for old, new in (replace or {}).items():
            body = body.replace(old, new)
        article.write_text(body, encoding="utf-8")
    if title is None:
        return folder
    first = sorted(folder.glob("*.md"))[0]
    body = first.read_text(encoding="utf-8")
    start = body.index("标题: ") + len("标题: ")
    end = body.index("\n", start)
    first.write_text(body[:start] + title + body[end:], encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def browser():
    """One headless chromium per test module."""
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()
