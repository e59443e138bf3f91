"""Shared fixtures: the repository's sample issue, built once by the real command."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import click.formatting
import pytest
from click.testing import CliRunner
from playwright import sync_api as playwright

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SAMPLE_TEXT = FIXTURES / "samples" / "2024-13-as-published.txt"
"""The published text of issue 13 (2024), as extracted from the printed PDF, damage included."""
MM = 72 / 25.4

T = TypeVar("T")

CHROMIUM = "/usr/bin/chromium"  # Debian's; `playwright install` is never run
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
"""Headless chromium for the browser tests, quiet and offline."""


REGENERATE = False
"""`pytest --regenerate`: the golden fixtures are rewritten from what the code gives now (see
golden and scripts/regenerate_fixtures.py) instead of being compared."""


def pytest_addoption(parser):
    parser.addoption(
        "--regenerate",
        action="store_true",
        default=False,
        help="rewrite the expected outputs under tests/fixtures (expected.txt, "
        "fixed.*, fixed/, import expected/) from what the code gives now",
    )


def pytest_configure(config):
    global REGENERATE
    REGENERATE = config.getoption("--regenerate")


def golden(path: Path, actual: str | bytes) -> str | bytes:
    """The expected output kept in the fixture `path`, to compare `actual` with; with
    --regenerate the file is first rewritten to `actual` (review `git diff tests/fixtures`
    before committing: a regenerated fixture is only as right as the code that wrote it)."""
    if REGENERATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(actual, bytes):
            path.write_bytes(actual)
        else:
            path.write_text(actual, encoding="utf-8", newline="")
    if isinstance(actual, bytes):
        return path.read_bytes()
    return path.read_text(encoding="utf-8")


def golden_folder(folder: Path, actual: Path) -> Path:
    """A folder of expected files (an import's sources); with --regenerate, first replaced by
    a copy of the files in `actual`."""
    if REGENERATE:
        shutil.rmtree(folder, ignore_errors=True)
        shutil.copytree(actual, folder)
    return folder


SUBPROCESS = os.environ.get("LIANDONG_TESTS_SUBPROCESS") == "1"
"""LIANDONG_TESTS_SUBPROCESS=1: every `liandong(...)` starts the installed command, as before
the suite ran the CLI in-process (slower; for a run that trusts nothing in-process)."""

_LOGGERS = ("liandong", "weasyprint", "fontTools")


class _Runner(CliRunner):
    """CliRunner without its fixed 80-column help: the width comes from COLUMNS, as in a shell."""

    @contextlib.contextmanager
    def isolation(self, *args, **kwargs):
        with super().isolation(*args, **kwargs) as streams:
            click.formatting.FORCED_WIDTH = None  # put back by CliRunner on the way out
            yield streams


def liandong(
    *args: str,
    cwd: Path,
    check: bool = False,
    env: dict[str, str] | None = None,
    installed: bool = False,
) -> subprocess.CompletedProcess:
    """Run the command as an editor would (env: variables to add or change).

    In this process through click's CliRunner on `liandong.cli:main`, from the folder `cwd`,
    with separate stdout and stderr and the exit status main gives: what a shell would see,
    without starting Python and importing liandong (and WeasyPrint) once per call. An exception
    that escapes main fails the test (a user would have seen a traceback). installed=True (or
    LIANDONG_TESTS_SUBPROCESS=1) starts the installed `.venv/bin/liandong` instead: for tests
    about the installed command, the process, its environment or its locale."""
    variables = {"COLUMNS": "100", **(env or {})}
    if installed or SUBPROCESS:
        exe = Path(sys.executable).with_name("liandong")
        result = subprocess.run(
            [str(exe), *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            env={**os.environ, **variables},
        )
    else:
        result = _in_process(list(args), Path(cwd), variables)
    if check and result.returncode != 0:
        raise AssertionError(f"liandong {' '.join(args)} failed:\n{result.stderr}")
    return result


def _in_process(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    import logging

    from liandong.cli import main

    # main sets up logging for the process (handlers on the runner's stderr, propagation
    # off): put it back afterwards, for caplog and the next call.
    saved = [
        (logger, logger.handlers[:], logger.level, logger.propagate)
        for logger in map(logging.getLogger, _LOGGERS)
    ]
    before = os.getcwd()
    os.chdir(cwd)
    try:
        result = _Runner(env=env).invoke(main, args, prog_name="liandong")
    finally:
        os.chdir(before)
        for logger, handlers, level, propagate in saved:
            logger.handlers[:] = handlers
            logger.setLevel(level)
            logger.propagate = propagate
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return subprocess.CompletedProcess(
        ["liandong", *args], result.exit_code, result.stdout, result.stderr
    )


def make_project(
    tmp: Path, *, overrides: dict[str, bytes | str] | None = None, remove: tuple[str, ...] = ()
) -> Path:
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


def blank_pdf(path: Path, pages: int = 1, content: bytes = b"", inflated: int = 0) -> Path:
    """A PDF of blank A4 pages; the first page's content is `content` followed by `inflated`
    spaces, stored compressed (a bomb of a few hundred KB)."""
    import zlib

    import pikepdf

    pdf = pikepdf.new()
    for _ in range(pages):
        pdf.add_blank_page(page_size=(595.28, 841.89))
    compress = zlib.compressobj(9)
    data = compress.compress(content)
    block = b" " * (1 << 20)
    for _ in range(inflated // len(block)):
        data += compress.compress(block)
    data += compress.flush()
    stream = pikepdf.Stream(pdf, data)
    stream.Filter = pikepdf.Name.FlateDecode
    pdf.pages[0].obj.Contents = pdf.make_indirect(stream)
    pdf.save(path, compress_streams=False, stream_decode_level=pikepdf.StreamDecodeLevel.none)
    return path


def once_per_run(tmp_path_factory, name: str, make: Callable[[Path], T]) -> T:
    """make(folder), once per test run: `make` gets an empty folder to write into and returns
    what the fixture gives (it must pickle). Under pytest-xdist the first worker to ask makes it
    in the run's shared temporary folder, under a file lock, and pickles the result beside it;
    the others wait for the lock and read it."""
    if os.environ.get("PYTEST_XDIST_WORKER") is None:
        return make(tmp_path_factory.mktemp(name))
    import pickle

    from filelock import FileLock

    shared = tmp_path_factory.getbasetemp().parent  # this run's, shared by its workers
    folder = shared / name
    done = shared / f"{name}.pickle"
    with FileLock(str(shared / f"{name}.lock")):
        if not done.exists():
            folder.mkdir()
            result = make(folder)
            done.write_bytes(pickle.dumps(result))
            return result
    return pickle.loads(done.read_bytes())


@pytest.fixture(scope="session")
def sample_build(tmp_path_factory) -> dict[str, Path]:
    """`liandong build 13 --out DIR` on the repository itself (the installed command), once per
    test run (shared by the xdist workers)."""

    def make(out: Path) -> dict:
        result = liandong("build", "13", "--out", str(out), cwd=REPO, check=True, installed=True)
        return {
            "pdf": out / "2024-13.pdf",
            "html": out / "2024-13.html",
            "out": out,
            "stdout": result.stdout,
            "stderr": result.stderr,
        }

    return once_per_run(tmp_path_factory, "sample-build", make)


@pytest.fixture(scope="session")
def corpus_build(tmp_path_factory) -> dict:
    """Every issue of tests/corpus rendered in memory, as `liandong build` renders it (the same
    bytes) but going on past an issue build would refuse (measure.build_corpus): {"2024/13":
    measure.Built}, once per test run for the corpus test, the measure's baselines and the
    importer's round trips."""
    from measure import build_corpus

    return once_per_run(
        tmp_path_factory, "corpus-build", lambda out: build_corpus(REPO / "tests" / "corpus")[0]
    )


def add_issue(
    project: Path,
    year: int,
    number: int,
    total: int,
    date: str,
    title: str | None = None,
    replace: dict[str, str] | None = None,
) -> Path:
    """A further issue made from the sample: its 期号, 总期号, 日期 and first title changed, and
    some words replaced, so an archive has issues that differ where tests look."""
    sample = project / "issues" / "2024" / "13"
    folder = project / "issues" / str(year) / str(number)
    shutil.copytree(sample, folder)
    meta = folder / "issue.yaml"
    text = meta.read_text(encoding="utf-8")
    text = (
        text.replace("期号: 13", f"期号: {number}")
        .replace("总期号: 714", f"总期号: {total}")
        .replace("日期: 2024-08-30", f"日期: {date}")
        .replace("2024 年第 13 期", f"{year} 年第 {number} 期")
    )
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
