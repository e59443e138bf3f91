"""Broken sources: `liandong build` lists every problem at file:line:column and writes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import FIXTURES, REPO, liandong, make_project
from liandong.fonts import resolve_fonts

CASES = FIXTURES / "validate"
"""One folder per case: issues/ files that replace or join the sample's, expected.txt, remove.txt."""

ISSUE = "issues/2024/13/issue.yaml"
ARTICLE = "issues/2024/13/01.md"
SERIES = "issues/series.yaml"

NOTICE = "注意："
"""The font-fallback notice, printed only on machines without a FangSong font."""

BODY_FONT = "{body_font}"
"""Stands in expected.txt for the body font's family, which depends on the fonts installed."""


def case_names() -> list[str]:
    return sorted(path.name for path in CASES.iterdir() if path.is_dir())


def overrides(case: Path) -> dict[str, bytes]:
    """The case's source files as bytes, keyed by their path in the project."""
    files = sorted(path for path in (case / "issues").rglob("*") if path.is_file())
    return {path.relative_to(case).as_posix(): path.read_bytes() for path in files}


def removals(case: Path) -> tuple[str, ...]:
    """Sample files the case deletes, one project-relative path per line of remove.txt."""
    listing = case / "remove.txt"
    if not listing.is_file():
        return ()
    lines = listing.read_text(encoding="utf-8").splitlines()
    return tuple(line.strip() for line in lines if line.strip())


def expected_lines(case: Path, root: Path) -> list[str]:
    text = (case / "expected.txt").read_text(encoding="utf-8")
    return text.replace(BODY_FONT, resolve_fonts(root / "fonts")["body"].family).splitlines()


def problem_lines(stderr: str) -> list[str]:
    """What liandong printed on stderr, without the machine-dependent font notice."""
    return [line for line in stderr.splitlines() if not line.startswith(NOTICE)]


def build(root: Path, out: Path):
    return liandong("build", "13", "--out", str(out), cwd=root)


def snapshot(folder: Path) -> dict[str, tuple[bytes, int, int]]:
    """Every file in a folder: its bytes, modification time and inode (a rename changes it)."""
    return {path.name: (path.read_bytes(), path.stat().st_mtime_ns, path.stat().st_ino)
            for path in sorted(folder.iterdir())}


@pytest.mark.parametrize("name", case_names())
def test_broken_source_is_reported_and_nothing_written(name: str, tmp_path: Path) -> None:
    case = CASES / name
    root = make_project(tmp_path, overrides=overrides(case), remove=removals(case))
    out = tmp_path / "out"
    result = build(root, out)
    assert problem_lines(result.stderr) == expected_lines(case, root)
    assert result.returncode == 1
    assert result.stdout == ""
    assert not out.exists()


@pytest.mark.parametrize("path", [ISSUE, ARTICLE, SERIES])
def test_bom_and_crlf_are_fine(path: str, tmp_path: Path) -> None:
    # Windows editors save UTF-8 with a BOM and CRLF line ends; both must be accepted silently.
    text = (REPO / path).read_bytes()
    root = make_project(tmp_path, overrides={path: b"\xef\xbb\xbf" + text.replace(b"\n", b"\r\n")})
    out = tmp_path / "out"
    result = build(root, out)
    assert result.returncode == 0, result.stderr
    assert problem_lines(result.stderr) == []
    assert (out / "2024-13.pdf").is_file() and (out / "2024-13.html").is_file()


def test_empty_note_block_at_end_of_file_builds(tmp_path: Path) -> None:
    # `编者按: |` left empty as the file's last line, with no final newline (as Notepad saves it):
    # an empty note, exactly like `编者按: |` followed by a newline, which builds without a note.
    text = (REPO / ISSUE).read_text(encoding="utf-8")
    text = text[:text.index("编者按")] + "编者按: |"
    root = make_project(tmp_path, overrides={ISSUE: text})
    out = tmp_path / "out"
    result = build(root, out)
    assert result.returncode == 0, result.stderr
    assert problem_lines(result.stderr) == []
    assert (out / "2024-13.pdf").is_file()


def test_failed_build_keeps_previous_output(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    out = tmp_path / "out"
    first = build(root, out)
    assert first.returncode == 0, first.stderr
    before = snapshot(out)
    assert set(before) == {"2024-13.pdf", "2024-13.html", "2024-13.build.json"}

    # Break the issue the way the impossible_date case does, and build into the same folder.
    case = CASES / "impossible_date"
    (root / ISSUE).write_bytes((case / ISSUE).read_bytes())
    second = build(root, out)
    assert second.returncode == 1
    assert problem_lines(second.stderr) == expected_lines(case, root)
    # Same files, same bytes, not even rewritten; no temporary files left behind.
    assert snapshot(out) == before
