"""`liandong new`: the next issue's numbers, its files, and never overwriting anything."""

from __future__ import annotations

import datetime as dt
import shutil

import yaml

from conftest import REPO, liandong, make_project
from test_check import add_issue, lines
from test_validate import problem_lines

SERIES = "issues/series.yaml"


def series_lists(root):
    data = yaml.safe_load((root / SERIES).read_text(encoding="utf-8"))
    return {key: data[key] for key in ("报", "送", "发") if key in data}


def test_new_issue_follows_the_last_one(tmp_path):
    root = make_project(tmp_path)
    result = liandong("new", "--date", "2024-09-06", cwd=root)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "已新建 2024 年第 14 期（总第 715 期，2024-09-06）：",
        "issues/2024/14/issue.yaml",
        "issues/2024/14/01.md",
    ]
    folder = root / "issues" / "2024" / "14"
    assert sorted(p.name for p in folder.iterdir()) == ["01.md", "issue.yaml"]
    data = yaml.safe_load((folder / "issue.yaml").read_text(encoding="utf-8"))
    assert (data["期号"], data["总期号"], data["日期"]) == (14, 715, dt.date(2024, 9, 6))
    assert data["状态"] == "草稿"  # not published until the editor signs it off
    # The 版记 lists are a copy of the series', to be edited for this issue alone.
    assert {key: data[key] for key in ("报", "送", "发") if key in data} == series_lists(root)


def test_the_new_issue_passes_check_with_its_placeholders_as_warnings(tmp_path):
    root = make_project(tmp_path)
    liandong("new", "--date", "2024-09-06", cwd=root, check=True)
    result = liandong("check", "2024/14", cwd=root)
    assert result.returncode == 0, result.stdout
    placeholder = "注意：还有未填写的占位文字“【待填写】”，请写上内容或删去"
    assert lines(result) == [
        f"issues/2024/14/01.md:2:5: {placeholder}",
        f"issues/2024/14/01.md:6:1: {placeholder}",
        f"issues/2024/14/issue.yaml:10:3: {placeholder}",
        "检查了 2024 年第 14 期：0 处错误，3 处提醒。",
    ]
    # Before printing, --strict refuses what is still a placeholder.
    assert liandong("check", "2024/14", "--strict", cwd=root).returncode == 1


def test_a_new_year_starts_at_one(tmp_path):
    root = make_project(tmp_path)
    result = liandong("new", "--date", "2025-01-03", cwd=root, check=True)
    assert result.stdout.splitlines()[0] == "已新建 2025 年第 1 期（总第 715 期，2025-01-03）："
    assert (root / "issues" / "2025" / "1" / "issue.yaml").is_file()


def test_continuous_numbering_goes_on_into_the_new_year(tmp_path):
    root = make_project(tmp_path)
    series = (
        (root / SERIES).read_text(encoding="utf-8").replace("期号编排: 每年重排", "期号编排: 连续")
    )
    (root / SERIES).write_text(series, encoding="utf-8")
    result = liandong("new", "--date", "2025-01-03", cwd=root, check=True)
    assert result.stdout.splitlines()[0] == "已新建 2025 年第 14 期（总第 715 期，2025-01-03）："


def test_the_date_defaults_to_today(tmp_path):
    root = make_project(tmp_path)
    shutil.rmtree(root / "issues" / "2024")
    result = liandong("new", cwd=root, check=True)
    today = dt.date.today()
    assert (
        result.stdout.splitlines()[0]
        == f"已新建 {today.year} 年第 1 期（总第 1 期，{today.isoformat()}）："
    )


def test_an_existing_folder_is_never_overwritten(tmp_path):
    root = make_project(tmp_path)
    folder = root / "issues" / "2024" / "14"
    folder.mkdir()
    (folder / "01.md").write_text("编辑已经写了一半", encoding="utf-8")
    result = liandong("new", "--date", "2024-09-06", cwd=root)
    assert result.returncode == 1
    assert problem_lines(result.stderr) == [
        "错误：issues/2024/14 已经存在：为了不覆盖已有稿件，没有做任何改动。"
    ]
    assert [p.name for p in folder.iterdir()] == ["01.md"]
    assert (folder / "01.md").read_text(encoding="utf-8") == "编辑已经写了一半"


def test_a_date_before_the_latest_issue_is_refused(tmp_path):
    root = make_project(tmp_path)
    result = liandong("new", "--date", "2024-08-01", cwd=root)
    assert result.returncode == 1
    assert problem_lines(result.stderr) == [
        "错误：日期 2024-08-01 早于最近一期（2024 年第 13 期，2024-08-30）：新一期的日期不能早于已有各期。"
    ]
    assert not (root / "issues" / "2024" / "14").exists()


def test_bad_dates_are_refused(tmp_path):
    root = make_project(tmp_path)
    for value, message in (
        ("2024-02-30", "错误：--date 不是有效日期：“2024-02-30”"),
        ("9月6日", "错误：--date 应写作 2024-08-30，现在是“9月6日”"),
    ):
        result = liandong("new", "--date", value, cwd=root)
        assert result.returncode == 1
        assert problem_lines(result.stderr) == [message]
    assert sorted(p.name for p in (root / "issues" / "2024").iterdir()) == ["13"]


def test_an_unreadable_total_stops_new(tmp_path):
    """The next total cannot be known while an issue's 总期号 is broken: say where, create nothing."""
    root = make_project(tmp_path)
    add_issue(root, 2024, 14, 715, "2024-09-06")
    path = root / "issues" / "2024" / "14" / "issue.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("总期号: 715", "总期号: 七百一十五"),
        encoding="utf-8",
    )
    result = liandong("new", "--date", "2024-09-13", cwd=root)
    assert result.returncode == 1
    assert problem_lines(result.stderr) == [
        "issues/2024/14/issue.yaml:3:6: “总期号”应是正整数（半角阿拉伯数字），现在是“七百一十五”",
        "共 1 处错误，未生成任何文件。",
    ]
    assert not (root / "issues" / "2024" / "15").exists()


def test_list_items_that_need_quotes_are_quoted(tmp_path):
    root = make_project(tmp_path)
    series = (
        (root / SERIES)
        .read_text(encoding="utf-8")
        .replace("  - 省人民检察院\n", "  - 省人民检察院\n  - '#1 工作组: 联络'\n  - '- 备用'\n")
    )
    (root / SERIES).write_text(series, encoding="utf-8")
    liandong("new", "--date", "2024-09-06", cwd=root, check=True)
    data = yaml.safe_load((root / "issues/2024/14/issue.yaml").read_text(encoding="utf-8"))
    assert data["送"] == series_lists(root)["送"]
    assert "#1 工作组: 联络" in data["送"] and "- 备用" in data["送"]


def test_new_outside_a_project_is_a_clear_error(tmp_path):
    result = liandong("new", cwd=tmp_path)
    assert result.returncode == 1
    assert "找不到 issues/series.yaml" in result.stderr
    assert "Traceback" not in result.stderr


def test_new_in_the_repository_help_mentions_the_rule():
    result = liandong("new", "--help", cwd=REPO, check=True)
    assert "期号编排: 连续" in result.stdout
