"""Broken sources: `liandong build` lists every problem at file:line:column and writes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import FIXTURES, REPO, golden, liandong, make_project
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


def expected_lines(case: Path, root: Path, printed: list[str] | None = None) -> list[str]:
    """The problems the case expects (expected.txt). `printed`, what `build` printed, is what
    --regenerate writes there, with the body font's family put back as {body_font} (check's
    tests read these files without it: what build prints is what they hold)."""
    family = resolve_fonts(root / "fonts")["body"].family
    path = case / "expected.txt"
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if printed is not None and text.replace(BODY_FONT, family).splitlines() != printed:
        written = "".join(line.replace(family, BODY_FONT) + "\n" for line in printed)
        text = golden(path, written)
    return text.replace(BODY_FONT, family).splitlines()


def problem_lines(stderr: str) -> list[str]:
    """What liandong printed on stderr, without the machine-dependent font notice."""
    return [line for line in stderr.splitlines() if not line.startswith(NOTICE)]


def build(root: Path, out: Path):
    return liandong("build", "13", "--out", str(out), cwd=root)


def snapshot(folder: Path) -> dict[str, tuple[bytes, int, int]]:
    """Every file in a folder: its bytes, modification time and inode (a rename changes it)."""
    return {
        path.name: (path.read_bytes(), path.stat().st_mtime_ns, path.stat().st_ino)
        for path in sorted(folder.iterdir())
    }


@pytest.mark.parametrize("name", case_names())
def test_broken_source_is_reported_and_nothing_written(name: str, tmp_path: Path) -> None:
    case = CASES / name
    root = make_project(tmp_path, overrides=overrides(case), remove=removals(case))
    out = tmp_path / "out"
    result = build(root, out)
    printed = problem_lines(result.stderr)
    assert printed == expected_lines(case, root, printed)
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
    text = text[: text.index("编者按")] + "编者按: |"
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
    printed = problem_lines(second.stderr)
    assert printed == expected_lines(case, root, printed)
    # Same files, same bytes, not even rewritten; no temporary files left behind.
    assert snapshot(out) == before


# --- Folder names: only issues/<year>/<number> in ASCII digits name an issue (issue 14, 2) ----------


def impostor(root: Path, name: str, year: str = "2024") -> Path:
    """A copy of issue 13 under another folder name, with its own title: if any command read
    it as issue 13, it would print, build or publish "冒名顶替的一期"."""
    import shutil

    folder = root / "issues" / year / name
    shutil.copytree(root / "issues" / "2024" / "13", folder)
    article = folder / "01.md"
    text = article.read_text(encoding="utf-8")
    article.write_text(text.replace("标题: 沈晓明", "标题: 冒名顶替的一期沈晓明"), encoding="utf-8")
    return folder


def same_issue(name: str) -> str:
    return (
        f"issues/2024/{name}:1:1: 文件夹名“{name}”不是有效的期号：期号只能用半角阿拉伯数字、"
        "不带前导零（如 13）；issues/2024/13 已经是第 13 期，同一期不能有两个文件夹。"
        "其中的稿件不会被检查、生成或发布，请改名或删去"
    )


def outputs(result) -> list[str]:
    return problem_lines(result.stdout) + problem_lines(result.stderr)


@pytest.mark.parametrize("name", ["013", "0013", "１３", "١٣", "13 ", "第13期"])
def test_a_folder_that_also_means_issue_13_is_an_error(name: str, tmp_path: Path) -> None:
    """`013`, `0013`, full-width and Arabic-Indic digits were read as issue 13: check only
    warned, `build 13` built whichever came last, `site` published it."""
    root = make_project(tmp_path)
    impostor(root, name)
    out = tmp_path / "out"
    for args in (("check",), ("build", "13", "--out", str(out))):
        result = liandong(*args, cwd=root)
        assert result.returncode == 1, args
        assert same_issue(name) in outputs(result), (args, outputs(result))
    assert not out.exists()


def test_every_command_that_reads_the_archive_refuses_a_second_folder(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    impostor(root, "١٣")
    out, site = tmp_path / "out", tmp_path / "site"
    for args in (
        ("check", "13"),
        ("build", "--all", "--out", str(out)),
        ("site", "--out", str(site)),
        ("new", "--date", "2024-09-06"),
    ):
        result = liandong(*args, cwd=root)
        assert result.returncode == 1, args
        assert same_issue("١٣") in outputs(result), (args, outputs(result))
    assert not out.exists() and not site.exists()
    assert not (root / "issues" / "2024" / "14").exists()


@pytest.mark.parametrize("name, hint", [("14 ", "14"), ("第14期", "14"), ("０１４", "14")])
def test_a_misnamed_issue_is_reported_not_skipped(name: str, hint: str, tmp_path: Path) -> None:
    root = make_project(tmp_path)
    folder = impostor(root, name)
    issue = folder / "issue.yaml"
    issue.write_text(
        issue.read_text(encoding="utf-8").replace("期号: 13", "期号: 14"), encoding="utf-8"
    )
    result = liandong("check", cwd=root)
    assert result.returncode == 1
    assert outputs(result) == [
        f"issues/2024/{name}:1:1: 文件夹名“{name}”不是有效的期号：期号只能用半角阿拉伯数字、"
        f"不带前导零（如 13），应为“{hint}”。其中的稿件不会被检查、生成或发布，请改名或删去",
        "检查了 2024 年第 13 期：1 处错误，0 处提醒。",
    ]


@pytest.mark.parametrize(
    "year, hint",
    [
        ("２０２４", "；issues/2024 已经是 2024 年的文件夹，同一年不能有两个文件夹"),
        ("0001", ""),
        ("2025 ", "，应为“2025”"),
    ],
)
def test_a_misnamed_year_is_reported_not_skipped(year: str, hint: str, tmp_path: Path) -> None:
    """A year 0001 (which `import` could write) or ２０２４ was never read: its issues were
    silently missing from check, build --all and the site."""
    root = make_project(tmp_path)
    impostor(root, "13", year=year)
    result = liandong("build", "--all", "--out", str(tmp_path / "out"), cwd=root)
    assert result.returncode == 1
    assert problem_lines(result.stderr) == [
        f"issues/{year}:1:1: 文件夹名“{year}”不是有效的年份：年份只能用半角阿拉伯数字、不带前导零"
        f"（如 2024）{hint}。其中的稿件不会被检查、生成或发布，请改名或删去",
        "共 1 处错误，未生成任何文件。",
    ]


def test_an_empty_misnamed_folder_is_only_a_notice(tmp_path: Path) -> None:
    """git keeps no empty folders, so an empty one holds no issue: a notice, the build goes on."""
    root = make_project(tmp_path)
    (root / "issues" / "2024" / "14 ").mkdir()
    notice = (
        "issues/2024/14 :1:1: 注意：文件夹名“14 ”不是有效的期号：期号只能用半角阿拉伯数字、"
        "不带前导零（如 13），应为“14”。这是空文件夹，已忽略，可以删去"
    )
    result = liandong("check", cwd=root)
    assert result.returncode == 0
    assert notice in result.stdout.splitlines()
    result = liandong("build", "--all", "--out", str(tmp_path / "out"), cwd=root)
    assert result.returncode == 0, result.stderr
    assert (
        result.stderr.splitlines().count("注意：" + notice.replace(":1:1: 注意：", ":1:1: ")) == 1
    )
    assert (tmp_path / "out" / "2024-13.pdf").is_file()
