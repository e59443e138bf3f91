"""`liandong check`: every problem at file:line:column, numbering warnings, --strict and --fix."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import FIXTURES, REPO, SAMPLE_TEXT, add_issue, golden, liandong, make_project
from test_validate import CASES as VALIDATE_CASES, expected_lines, overrides, problem_lines

ISSUE = "issues/2024/13/issue.yaml"
ARTICLE = "issues/2024/13/01.md"
SERIES = "issues/series.yaml"


def lines(result: subprocess.CompletedProcess) -> list[str]:
    return problem_lines(result.stdout)


def test_the_sample_is_clean():
    result = liandong("check", cwd=REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert lines(result) == ["检查了 2024 年第 13 期：没有发现问题。"]
    assert problem_lines(result.stderr) == []


@pytest.mark.parametrize("selector", [["13"], ["2024/13"], ["--all"], []])
def test_issue_selection(selector):
    result = liandong("check", *selector, "--strict", cwd=REPO)
    assert result.returncode == 0
    assert lines(result)[-1] == "检查了 2024 年第 13 期：没有发现问题。"


def test_a_number_and_all_together_is_a_usage_error():
    result = liandong("check", "13", "--all", cwd=REPO)
    assert result.returncode == 2
    assert "不能同时指定期号和 --all。" in result.stderr


def test_schema_problems_all_at_once(tmp_path):
    case = VALIDATE_CASES / "many_problems_in_one_run"
    root = make_project(tmp_path, overrides=overrides(case))
    result = liandong("check", cwd=root)
    assert result.returncode == 1
    errors = expected_lines(case, root)[:-1]  # without build's "未生成任何文件" line
    assert lines(result) == [*errors, f"检查了 2024 年第 13 期：{len(errors)} 处错误，0 处提醒。"]


def test_missing_glyph_is_an_error_found_without_building(tmp_path):
    case = VALIDATE_CASES / "missing_glyph"
    root = make_project(tmp_path, overrides=overrides(case))
    result = liandong("check", "13", cwd=root)
    assert result.returncode == 1
    assert lines(result) == [
        *expected_lines(case, root)[:-1],
        "检查了 2024 年第 13 期：1 处错误，0 处提醒。",
    ]
    assert not (root / "build").exists()


@pytest.mark.parametrize("name", ["unbreakable_number_too_long", "title_word_too_long"])
def test_text_that_cannot_be_set_is_an_error_found_without_building(name, tmp_path):
    """A unit that cannot break and is wider than a line: check said 没有发现问题 and build
    failed at preflight with a page number; now both name the place."""
    case = VALIDATE_CASES / name
    root = make_project(tmp_path, overrides=overrides(case))
    result = liandong("check", "13", cwd=root)
    assert result.returncode == 1
    errors = expected_lines(case, root)[:-1]
    reported = lines(result)
    assert [line for line in reported if "注意：" not in line][:-1] == errors
    assert reported[-1].startswith("检查了 2024 年第 13 期：1 处错误")
    assert not (root / "build").exists()


FORM_CASES = [
    "table_too_wide",
    "table_without_caption",
    "image_missing",
    "image_outside_the_issue_folder",
    "image_from_the_network",
    "image_not_a_picture",
    "image_too_coarse_to_print",
    "heading_with_text_on_the_next_line",
    "blockquote_footnote_and_inline_image",
    "nested_list",
    "editor_note_with_a_list",
    "markup_in_markdown_is_refused",
]
"""Issue 13: what build refuses in the new forms (a table too wide, an image missing, outside
the issue's folder, remote, not a picture or too coarse, markup that would print raw)."""


@pytest.mark.parametrize("name", FORM_CASES)
def test_check_reports_the_forms_build_refuses(name, tmp_path):
    case = VALIDATE_CASES / name
    root = make_project(tmp_path, overrides=overrides(case))
    result = liandong("check", "13", cwd=root)
    assert result.returncode == 1
    errors = expected_lines(case, root)[:-1]
    reported = [line for line in lines(result) if "注意：" not in line]
    assert reported[:-1] == errors
    assert reported[-1].startswith(f"检查了 2024 年第 13 期：{len(errors)} 处错误")
    assert not (root / "build").exists()


@pytest.mark.parametrize(
    "name, expected",
    [
        (
            "image_under_200_dpi",
            "issues/2024/13/01.md:7:11: 注意：图片“照片.jpg”印成 143 mm 宽只有 142 dpi（低于 200 dpi），"
            "印出来可能发虚：最好换用更清晰的原图，或用“{宽=…mm}”把它印小",
        ),
        (
            "heading_number_written_as_text",
            "issues/2024/13/01.md:5:1: 注意：这一段以“（一）”开头，像是二级标题，写成正文就印不出标题的字体："
            "独立成行的标题写成“## （一）……”，标题与正文同段（接排标题）写成“## （一）标题短语。正文……”",
        ),
    ],
)
def test_a_form_worth_a_look_is_a_notice(name, expected, tmp_path):
    """Issue 13: a run-in heading written as text lost its face and check said nothing; an
    image under 200 dpi at its printed size prints, with a notice in check and in build."""
    case = FIXTURES / "check" / name
    root = make_project(tmp_path, overrides=overrides(case))
    result = liandong("check", "13", cwd=root)
    assert result.returncode == 0
    assert expected in lines(result)
    assert liandong("check", "13", "--strict", cwd=root).returncode == 1
    built = liandong("build", "13", "--out", str(tmp_path / "out"), cwd=root)
    assert built.returncode == 0, built.stderr
    assert expected.replace("注意：", "") in built.stderr


def test_a_line_set_past_the_spacing_limits_is_a_notice(tmp_path):
    """Like TeX's underfull box: shown by check (and once by build), failing only --strict."""
    case = FIXTURES / "check" / "loose_line_before_a_long_word"
    root = make_project(tmp_path, overrides=overrides(case))
    notice = f"{ARTICLE}:5:1: 注意：正文里以“会议指出”开头的一行排得太松：每个字间加宽 "
    result = liandong("check", "13", cwd=root)
    assert result.returncode == 0
    assert len(lines(result)) == 2 and lines(result)[0].startswith(notice)
    assert lines(result)[0].endswith(
        "字（上限 0.10 字），多因下一行开头的长网址、长数字或英文单词放不进这一行；"
        "可调整这一段的文字"
    )
    assert lines(result)[1] == "检查了 2024 年第 13 期：0 处错误，1 处提醒。"
    assert liandong("check", "13", "--strict", cwd=root).returncode == 1
    built = liandong("build", "13", cwd=root)
    assert built.returncode == 0
    said = [line for line in built.stderr.splitlines() if "排得太松" in line]
    assert said == ["注意：" + lines(result)[0].replace("注意：", "")]


def test_check_does_not_load_weasyprint(tmp_path):
    """`check` runs the glyph check (fonts, typesetting) but never imports WeasyPrint."""
    case = VALIDATE_CASES / "missing_glyph"
    root = make_project(tmp_path, overrides=overrides(case))
    script = (
        "import sys\n"
        "from liandong.cli import main\n"
        "try:\n"
        "    main(['check'])\n"
        "except SystemExit as exit:\n"
        "    code = exit.code\n"
        "print('EXIT', code, 'weasyprint' in sys.modules, 'liandong.render' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=root, capture_output=True, text=True
    )
    # The glyph check ran (exit 1 for the missing glyph, render imported), WeasyPrint did not load.
    assert result.stdout.splitlines()[-1] == "EXIT 1 False True"


# --- Numbering across the archive ----------------------------------------------------------


def test_numbering_problems_are_warnings(tmp_path):
    root = make_project(tmp_path)
    add_issue(root, 2024, 15, 714, "2024-08-20")  # 14 missing, total repeated, date before 13's
    add_issue(root, 2025, 3, 717, "2025-01-10")  # 2025 starts at 3; totals 715–716 missing
    result = liandong("check", cwd=root)
    assert result.returncode == 0
    assert lines(result) == [
        "issues/2024/15/issue.yaml:2:5: 注意：2024 年缺少第 14 期（上一期是 2024 年第 13 期）",
        "issues/2024/15/issue.yaml:3:6: 注意：总期号 714 与 2024 年第 13 期重复",
        "issues/2024/15/issue.yaml:4:5: 注意：日期 2024-08-20 早于上一期（2024 年第 13 期，2024-08-30）",
        "issues/2025/3/issue.yaml:2:5: 注意：2025 年缺少第 1 至 2 期（期号编排为“每年重排”，每年从第 1 期编起）",
        "issues/2025/3/issue.yaml:3:6: 注意：缺少总第 715 至 716 期（总期号 714 是 2024 年第 13 期）",
        "检查了 3 期：0 处错误，5 处提醒。",
    ]
    strict = liandong("check", "--strict", cwd=root)
    assert strict.returncode == 1
    assert lines(strict)[-1] == "检查了 3 期：0 处错误，5 处提醒；使用了 --strict，提醒也算作错误。"
    # One issue named: only the warnings in its own files.
    single = liandong("check", "2025/3", cwd=root)
    assert lines(single)[:-1] == lines(result)[3:5]


def test_continuous_numbering_goes_on_across_years(tmp_path):
    root = make_project(tmp_path)
    series = (
        (root / SERIES).read_text(encoding="utf-8").replace("期号编排: 每年重排", "期号编排: 连续")
    )
    (root / SERIES).write_text(series, encoding="utf-8")
    add_issue(root, 2025, 14, 715, "2025-01-10")
    assert lines(liandong("check", cwd=root)) == ["检查了 2 期：没有发现问题。"]
    add_issue(root, 2025, 1, 716, "2025-01-20")
    assert lines(liandong("check", "2025/1", cwd=root)) == [
        "issues/2025/1/issue.yaml:2:5: 注意：期号 1 小于上一期（2024 年第 13 期）：期号编排为“连续”，跨年接着编",
        "检查了 2025 年第 1 期：0 处错误，1 处提醒。",
    ]


# --- Typography and --fix -----------------------------------------------------------------


def published_paragraph(start: str) -> str:
    text = SAMPLE_TEXT.read_text(encoding="utf-8")
    return next(p for p in text.split("\n\n") if p.startswith(start))


def test_half_width_commas_of_the_published_text_are_listed_and_fixed(tmp_path):
    paragraph = published_paragraph("沈晓明强调,要以")
    article = "---\n标题: 测试\n---\n\n" + paragraph + "\n"
    root = make_project(tmp_path, overrides={ARTICLE: article})
    result = liandong("check", cwd=root)
    assert result.returncode == 0
    commas = [i for i, c in enumerate(paragraph) if c == ","]
    assert lines(result) == [
        f"{ARTICLE}:5:{i + 1}: 注意：中文里用了半角“,”，应改为全角“，”（--fix 可自动修正）"
        for i in commas
    ] + [
        f"检查了 2024 年第 13 期：0 处错误，{len(commas)} 处提醒"
        f"（其中 {len(commas)} 处可用 liandong check --fix 自动修正）。"
    ]

    fixed = liandong("check", "--fix", cwd=root)
    assert fixed.returncode == 0
    assert lines(fixed) == [
        f"{ARTICLE}:5: - {paragraph}",
        f"{ARTICLE}:5: + {paragraph.replace(',', '，')}",
        f"共修正 {len(commas)} 处排版问题。修正后重新检查：",
        "检查了 2024 年第 13 期：没有发现问题。",
    ]
    assert (root / ARTICLE).read_text(encoding="utf-8") == article.replace(",", "，")
    assert lines(liandong("check", "--strict", cwd=root)) == [
        "检查了 2024 年第 13 期：没有发现问题。"
    ]


def test_fix_keeps_every_other_byte(tmp_path):
    """CRLF, a BOM, comments (with commas of their own) and key order survive --fix untouched."""
    case = FIXTURES / "check" / "crlf_bom_comments"
    files = {
        path.relative_to(case).as_posix(): path.read_bytes()
        for path in (case / "issues").rglob("*")
        if path.is_file()
    }
    root = make_project(tmp_path, overrides=files)
    result = liandong("check", "--fix", cwd=root)
    assert result.returncode == 0, result.stdout
    for name in files:
        assert (root / name).read_bytes() == golden(
            case / "fixed" / name, (root / name).read_bytes()
        ), name
    assert lines(result)[-2:] == [
        "共修正 6 处排版问题。修正后重新检查：",
        "检查了 2024 年第 13 期：没有发现问题。",
    ]
    assert f"{ARTICLE}:4: + 副标题: 切实把代表的“金点子”转化为促进改革发展的“金钥匙”" in lines(
        result
    )
    leftovers = [
        p.name for p in (root / "issues" / "2024" / "13").iterdir() if p.name.endswith(".tmp")
    ]
    assert leftovers == []


def test_fix_converts_gbk_to_utf8(tmp_path):
    case = VALIDATE_CASES / "gb18030_article_crlf"
    root = make_project(tmp_path, overrides=overrides(case))
    before = liandong("check", cwd=root)
    assert before.returncode == 1
    assert lines(before)[0] == expected_lines(case, root)[0]
    result = liandong("check", "--fix", cwd=root)
    assert result.returncode == 0, result.stdout
    assert lines(result) == [
        f"已把 {ARTICLE} 从 GBK（GB18030）编码转换为 UTF-8",
        "共转换 1 个文件的编码。修正后重新检查：",
        "检查了 2024 年第 13 期：没有发现问题。",
    ]
    # Same text, now UTF-8, line endings as they were.
    assert (root / ARTICLE).read_bytes() == (REPO / ARTICLE).read_bytes().replace(b"\n", b"\r\n")


def test_fix_never_converts_a_file_linked_from_outside_the_project(tmp_path):
    """--fix reads sources through the same guards as the build: a GBK file outside the
    project, linked in as an article, is neither converted nor replaced by a copy."""
    outside = tmp_path / "outside.md"
    gbk = (REPO / ARTICLE).read_text(encoding="utf-8").encode("gb18030")
    outside.write_bytes(gbk)
    root = make_project(tmp_path / "project")
    link = root / "issues" / "2024" / "13" / "99.md"
    link.symlink_to(outside)
    result = liandong("check", "--fix", cwd=root)
    assert result.returncode == 1
    assert "转换为 UTF-8" not in result.stdout + result.stderr
    assert "issues/2024/13/99.md:1:1: 这是指向项目之外" in result.stdout + result.stderr
    assert link.is_symlink() and outside.read_bytes() == gbk


def test_fix_converts_utf16_to_utf8(tmp_path):
    case = VALIDATE_CASES / "utf16_encoded"
    root = make_project(tmp_path, overrides=overrides(case))
    result = liandong("check", "--fix", cwd=root)
    assert lines(result)[0] == f"已把 {ISSUE} 从 UTF-16 编码转换为 UTF-8"
    assert (root / ISSUE).read_bytes() == (REPO / ISSUE).read_bytes()


def test_unsafe_findings_are_not_fixed(tmp_path):
    article = "---\n标题: 测试\n---\n\n乙烯项目—单体投资最大的立省项目，“内容高质量。\n"
    root = make_project(tmp_path, overrides={ARTICLE: article})
    result = liandong("check", "--fix", cwd=root)
    assert (root / ARTICLE).read_text(encoding="utf-8") == article
    assert lines(result) == [
        "没有可自动修正的问题。",
        f"{ARTICLE}:5:5: 注意：单个“—”夹在中文之间：作破折号应为“——”；如表示起止（如 北京—上海），可保留一字线“—”",
        f"{ARTICLE}:5:18: 注意：左双引号“后面缺少与之配对的右双引号”",
        "检查了 2024 年第 13 期：0 处错误，2 处提醒。",
    ]


def test_the_group_help_lists_new_and_check():
    out = liandong("--help", cwd=REPO, check=True).stdout
    assert "liandong new " in out and "liandong check " in out
    commands = out.split("命令：")[-1]
    assert [line.split()[0] for line in commands.strip().splitlines()] == [
        "build",
        "check",
        "fonts",
        "import",
        "new",
        "preflight",
        "serve",
        "site",
    ]


def test_a_fix_that_would_break_the_yaml_is_not_written(tmp_path):
    """The safety net under every fix: the file must still parse, or it is left as it was."""
    from liandong.check import apply_fixes
    from liandong.lint import Finding
    from liandong.source import read_source

    path = tmp_path / "issue.yaml"
    path.write_bytes("期号: 13\n总期号: 714\n日期: 2024-08-30\n编印单位: 测试\n".encode())
    source = read_source(path, tmp_path, [])
    at = source.text.index("测试")
    finding = Finding("test", source, at, "test", ((at, at + 2, "a: b"),), safe=True)
    said = []
    assert apply_fixes(tmp_path, [finding], said.append) == 0
    assert path.read_bytes() == "期号: 13\n总期号: 714\n日期: 2024-08-30\n编印单位: 测试\n".encode()
    assert said == ["注意：issue.yaml 修正后不再是有效的 YAML，未做修改，请手工修改"]


def test_repeated_numbers(tmp_path):
    """Per year, a number cannot repeat: a folder like 013 is no issue (an error, issue 14);
    continuously, numbers repeat across years."""
    root = make_project(tmp_path)
    shutil.copytree(root / "issues" / "2024" / "13", root / "issues" / "2024" / "013")
    result = liandong("check", "--all", cwd=root)
    assert lines(result) == [
        "issues/2024/013:1:1: 文件夹名“013”不是有效的期号：期号只能用半角阿拉伯数字、不带前导零"
        "（如 13）；issues/2024/13 已经是第 13 期，同一期不能有两个文件夹。其中的稿件不会被检查、"
        "生成或发布，请改名或删去",
        "检查了 2024 年第 13 期：1 处错误，0 处提醒。",
    ]

    root = make_project(tmp_path / "continuous")
    series = (
        (root / SERIES).read_text(encoding="utf-8").replace("期号编排: 每年重排", "期号编排: 连续")
    )
    (root / SERIES).write_text(series, encoding="utf-8")
    add_issue(root, 2025, 13, 715, "2025-01-10")
    assert lines(liandong("check", "2025/13", cwd=root)) == [
        "issues/2025/13/issue.yaml:2:5: 注意：期号与 2024/13 重复：都是第 13 期",
        "检查了 2025 年第 13 期：0 处错误，1 处提醒。",
    ]


def test_a_banji_taller_than_a_page_is_found_by_check(tmp_path):
    """60 recipients (under the limit of 100) make a 版记 that no page holds: check says so at
    the list, as build does before rendering anything."""
    case = VALIDATE_CASES / "banji_taller_than_a_page"
    root = make_project(tmp_path, overrides=overrides(case))
    result = liandong("check", "13", cwd=root)
    assert result.returncode == 1
    assert lines(result) == [
        *expected_lines(case, root)[:-1],
        "检查了 2024 年第 13 期：1 处错误，0 处提醒。",
    ]


def test_fix_keeps_a_private_files_mode(tmp_path):
    """Issue 14, 12: --fix made a 0600 source world-readable (0644)."""
    article = "---\n标题: 测试\n---\n\n会上,省委书记讲话。\n"
    root = make_project(tmp_path, overrides={ARTICLE: article})
    (root / ARTICLE).chmod(0o600)
    result = liandong("check", "--fix", cwd=root)
    assert result.returncode == 0, result.stdout
    assert (root / ARTICLE).read_text(encoding="utf-8") == article.replace(",", "，")
    assert oct((root / ARTICLE).stat().st_mode & 0o7777) == "0o600"


def test_fix_writes_through_a_link_inside_the_project(tmp_path):
    """Issue 14, 12: --fix replaced a symbolic link inside the project with a regular file; the
    link stays, its target (inside the project) gets the fix."""
    article = "---\n标题: 测试\n---\n\n会上,省委书记讲话。\n"
    root = make_project(tmp_path)
    shared = root / "common" / "01.md"
    shared.parent.mkdir()
    shared.write_text(article, encoding="utf-8")
    shared.chmod(0o640)
    link = root / ARTICLE
    link.unlink()
    link.symlink_to(Path("..", "..", "..", "common", "01.md"))
    result = liandong("check", "--fix", cwd=root)
    assert result.returncode == 0, result.stdout
    assert link.is_symlink() and link.resolve() == shared.resolve()
    assert shared.read_text(encoding="utf-8") == article.replace(",", "，")
    assert oct(shared.stat().st_mode & 0o7777) == "0o640"
    assert f"{ARTICLE}:5: + 会上，省委书记讲话。" in lines(result)


def test_fix_converts_an_encoding_keeping_mode_and_link(tmp_path):
    case = VALIDATE_CASES / "gb18030_article_crlf"
    root = make_project(tmp_path, overrides=overrides(case))
    target = root / "issues" / "2024" / "13" / "article.md.src"
    (root / ARTICLE).rename(target)
    (root / ARTICLE).symlink_to(target.name)
    target.chmod(0o600)
    result = liandong("check", "--fix", cwd=root)
    assert result.returncode == 0, result.stdout
    assert (root / ARTICLE).is_symlink()
    assert target.read_bytes() == (REPO / ARTICLE).read_bytes().replace(b"\n", b"\r\n")
    assert oct(target.stat().st_mode & 0o7777) == "0o600"
