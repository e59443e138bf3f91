"""The command line: Chinese help, issue selection, outputs, and clean failures."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

import pytest

from conftest import REPO, liandong, make_project
from liandong.cli import main


def _commands() -> list[list[str]]:
    return [[]] + [[name] for name in sorted(main.commands)]


@pytest.mark.parametrize("command", _commands(), ids=lambda c: " ".join(c) or "liandong")
def test_every_command_has_chinese_help(command):
    result = liandong(*command, "--help", cwd=REPO, check=True)
    out = result.stdout
    assert out.startswith("用法：liandong")
    assert "选项：" in out and "显示本帮助并退出。" in out
    assert not re.search(r"\b(Usage|Options|Show this message|Commands)\b", out)
    description = out.split("\n\n")[1]
    assert re.search(r"[\u4e00-\u9fff]{4}", description)


def test_python_dash_m_works():
    result = subprocess.run([sys.executable, "-m", "liandong", "--version"], capture_output=True,
                            text=True, check=True)
    assert re.fullmatch(r"liandong \d+\.\d+\.\d+\n", result.stdout)


def test_build_prints_the_paths_it_wrote(sample_build):
    out = sample_build["out"]
    assert sample_build["stdout"].splitlines() == [str(out / "2024-13.pdf"), str(out / "2024-13.html")]
    # Beside them, not printed: the build record (test_stack).
    assert sorted(p.name for p in out.iterdir()) == ["2024-13.build.json", "2024-13.html",
                                                     "2024-13.pdf"]


@pytest.fixture
def two_years(tmp_path):
    """The sample, plus a 2023 issue 13 and a 2024 issue 14 made from it."""
    project = make_project(tmp_path)
    issues = project / "issues"
    for year, number, total in (("2023", "13", 690), ("2024", "14", 715)):
        folder = issues / year / number
        shutil.copytree(issues / "2024" / "13", folder)
        yaml = (folder / "issue.yaml").read_text(encoding="utf-8")
        yaml = yaml.replace("期号: 13", f"期号: {number}").replace("总期号: 714", f"总期号: {total}")
        yaml = yaml.replace("日期: 2024-08-30", f"日期: {year}-09-0{int(number) - 12}")
        (folder / "issue.yaml").write_text(yaml, encoding="utf-8")
    return project


def test_a_bare_number_means_the_latest_year_that_has_it(two_years):
    result = liandong("build", "13", cwd=two_years, check=True)
    assert result.stdout.splitlines()[0] == str(two_years / "build" / "2024-13.pdf")


def test_year_and_number(two_years):
    result = liandong("build", "2023/13", "--out", "pdfs", cwd=two_years, check=True)
    assert result.stdout.splitlines() == ["pdfs/2023-13.pdf", "pdfs/2023-13.html"]
    assert (two_years / "pdfs" / "2023-13.pdf").stat().st_size > 10_000


def test_build_all(two_years):
    result = liandong("build", "--all", "--out", str(two_years / "all"), cwd=two_years, check=True)
    assert [p.rsplit("/", 1)[1] for p in result.stdout.splitlines()] == [
        "2023-13.pdf", "2023-13.html", "2024-13.pdf", "2024-13.html", "2024-14.pdf", "2024-14.html"]


def test_runs_from_a_subfolder_of_the_project(two_years):
    result = liandong("build", "2024/14", cwd=two_years / "issues" / "2024", check=True)
    assert result.stdout.splitlines()[0] == str(two_years / "build" / "2024-14.pdf")


@pytest.mark.parametrize("args, message", [
    (["build", "99"], "错误：找不到第 99 期：issues/ 下任何年份都没有这一期。"),
    (["build", "2023/13"], "错误：找不到 2023 年第 13 期：没有 issues/2023/13 文件夹。"),
    (["build", "13期"], "错误：无法识别期号“13期”：请写作 13 或 2024/13。"),
    (["build"], "错误：请指明要生成哪一期，例如 liandong build 13、liandong build 2024/13，或用 --all 生成全部。"),
    (["build", "13", "--all"], "错误：不能同时指定期号和 --all。"),
    (["biuld"], "错误：没有命令 'biuld'。 是不是 'build'？"),
])
def test_usage_errors_are_chinese_with_exit_status_1_or_2(args, message, tmp_path):
    project = make_project(tmp_path)
    result = liandong(*args, cwd=project)
    assert result.returncode in (1, 2)
    assert message in result.stderr.splitlines()
    assert "Traceback" not in result.stderr
    assert not (project / "build").exists()


def test_outside_a_project(tmp_path):
    result = liandong("build", "13", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr == (f"错误：在 {tmp_path} 及其上级文件夹中找不到 issues/series.yaml："
                             "请在刊物项目的文件夹里运行。\n")


def test_help_and_fonts_do_not_load_weasyprint():
    code = ("import sys\nfrom click.testing import CliRunner\nfrom liandong.cli import main\n"
            "CliRunner().invoke(main, ['--help'])\nCliRunner().invoke(main, ['build', '--help'])\n"
            "print('weasyprint' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                            text=True, check=True)
    assert result.stdout.strip() == "False"
