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
    result = subprocess.run(
        [sys.executable, "-m", "liandong", "--version"], capture_output=True, text=True, check=True
    )
    assert re.fullmatch(r"liandong \d+\.\d+\.\d+\n", result.stdout)


def test_build_prints_the_paths_it_wrote(sample_build):
    out = sample_build["out"]
    assert sample_build["stdout"].splitlines() == [
        str(out / "2024-13.pdf"),
        str(out / "2024-13.html"),
    ]
    # Beside them, not printed: the build record (test_stack).
    assert sorted(p.name for p in out.iterdir()) == [
        "2024-13.build.json",
        "2024-13.html",
        "2024-13.pdf",
    ]


@pytest.fixture
def two_years(tmp_path):
    """The sample, plus a 2023 issue 13 and a 2024 issue 14 made from it."""
    project = make_project(tmp_path)
    issues = project / "issues"
    for year, number, total in (("2023", "13", 690), ("2024", "14", 715)):
        folder = issues / year / number
        shutil.copytree(issues / "2024" / "13", folder)
        yaml = (folder / "issue.yaml").read_text(encoding="utf-8")
        yaml = yaml.replace("期号: 13", f"期号: {number}").replace(
            "总期号: 714", f"总期号: {total}"
        )
        yaml = yaml.replace("日期: 2024-08-30", f"日期: {year}-09-0{int(number) - 12}")
        (folder / "issue.yaml").write_text(yaml, encoding="utf-8")
    return project


def test_a_bare_number_means_the_latest_year_that_has_it(two_years):
    result = liandong("build", "13", cwd=two_years, check=True)
    assert result.stdout.splitlines()[0] == "build/2024-13.pdf"


def test_year_and_number(two_years):
    result = liandong("build", "2023/13", "--out", "pdfs", cwd=two_years, check=True)
    assert result.stdout.splitlines() == ["pdfs/2023-13.pdf", "pdfs/2023-13.html"]
    assert (two_years / "pdfs" / "2023-13.pdf").stat().st_size > 10_000


def test_build_all(two_years):
    result = liandong("build", "--all", "--out", str(two_years / "all"), cwd=two_years, check=True)
    assert [p.rsplit("/", 1)[1] for p in result.stdout.splitlines()] == [
        "2023-13.pdf",
        "2023-13.html",
        "2024-13.pdf",
        "2024-13.html",
        "2024-14.pdf",
        "2024-14.html",
    ]


def test_runs_from_a_subfolder_of_the_project(two_years):
    result = liandong("build", "2024/14", cwd=two_years / "issues" / "2024", check=True)
    assert result.stdout.splitlines()[0] == str(two_years / "build" / "2024-14.pdf")


@pytest.mark.parametrize(
    "args, message",
    [
        (["build", "99"], "错误：找不到第 99 期：issues/ 下任何年份都没有这一期。"),
        (["build", "2023/13"], "错误：找不到 2023 年第 13 期：没有 issues/2023/13 文件夹。"),
        (["build", "13期"], "错误：无法识别期号“13期”：请写作 13 或 2024/13。"),
        (
            ["build"],
            "错误：请指明要生成哪一期，例如 liandong build 13、liandong build 2024/13，或用 --all 生成全部。",
        ),
        (["build", "13", "--all"], "错误：不能同时指定期号和 --all。"),
        (["biuld"], "错误：没有命令 'biuld'。 是不是 'build'？"),
        # Issue 14, 14: click's own reasons were English ("'abc' is not a valid integer.").
        (
            ["serve", "--port", "abc"],
            "错误：'--port' 的值无效：“abc”不是有效的数字（请写半角阿拉伯数字）。",
        ),
        (["build", "13", "--out"], "错误：选项 '--out' 需要一个值。"),
        (["preflight", "missing.pdf"], "错误：'PDF文件' 的值无效：文件 'missing.pdf' 不存在。"),
        (["build", "13", "--print-shop=yes"], "错误：选项 '--print-shop' 不接受值。"),
    ],
)
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
    assert result.stderr == (
        f"错误：在 {tmp_path} 及其上级文件夹中找不到 issues/series.yaml："
        "请在刊物项目的文件夹里运行。\n"
    )


def test_help_and_fonts_do_not_load_weasyprint():
    code = (
        "import sys\nfrom click.testing import CliRunner\nfrom liandong.cli import main\n"
        "CliRunner().invoke(main, ['--help'])\nCliRunner().invoke(main, ['build', '--help'])\n"
        "print('weasyprint' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def test_every_command_prints_written_paths_the_same_way(tmp_path):
    """build, new and import print what they wrote relative to the current folder when it lies
    inside it, else in full: the same rule for all, so a printed path can always be typed next."""
    project = make_project(tmp_path)
    new = liandong("new", "--date", "2024-09-06", cwd=project, check=True)
    assert new.stdout.splitlines()[1:] == ["issues/2024/14/issue.yaml", "issues/2024/14/01.md"]
    build = liandong("build", "13", cwd=project, check=True)
    assert build.stdout.splitlines() == ["build/2024-13.pdf", "build/2024-13.html"]
    inside = project / "issues" / "2024"
    build = liandong("build", "13", cwd=inside, check=True)
    assert build.stdout.splitlines() == [
        str(project / "build" / "2024-13.pdf"),
        str(project / "build" / "2024-13.html"),
    ]
    new = liandong("new", "--date", "2024-09-20", cwd=inside, check=True)
    assert new.stdout.splitlines()[1:] == ["15/issue.yaml", "15/01.md"]


@pytest.mark.parametrize("command", _commands(), ids=lambda c: " ".join(c) or "liandong")
def test_help_fits_80_columns_without_stray_spaces(command):
    """Chinese takes two terminal columns: click's own wrapping counts one and joins a
    paragraph's lines with a space, even between two Chinese characters."""
    import unicodedata

    def columns(line: str) -> int:
        return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line)

    out = liandong(*command, "--help", cwd=REPO, env={"COLUMNS": "200"}, check=True).stdout
    assert max(columns(line) for line in out.splitlines()) <= 80
    source = main.commands[command[0]].help if command else main.help
    wide = "[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]"
    description = out.split("\n选项：")[0]  # the option table's columns are spaced on purpose
    for gap in re.findall(f"{wide} +{wide}", description):
        assert gap in source, f"a space that the help text does not have: {gap!r}"


def _click_messages() -> dict[str, str]:
    """Every message click passes through gettext (`_()` or `ngettext()`), with its module."""
    import ast
    from pathlib import Path

    import click

    found = {}
    for path in sorted(Path(click.__file__).parent.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("_", "ngettext")
            ):
                for arg in node.args[:2]:
                    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                        found.setdefault(arg.value, path.name)
    return found


def test_every_message_of_click_is_translated():
    """Issue 14, 14: a new click release that adds a message fails here, not in front of an
    editor. Each translation keeps the fields its message is formatted with."""
    from liandong.cli import _CLICK_ZH

    messages = _click_messages()
    assert len(messages) > 50
    missing = {text: module for text, module in messages.items() if text not in _CLICK_ZH}
    assert missing == {}
    fields = re.compile(r"{(\w+)(?:![rs])?}|%\((\w+)\)s")
    for text in messages:
        assert {m for m in fields.findall(_CLICK_ZH[text])} <= {m for m in fields.findall(text)}, (
            text
        )
        assert not re.search(
            "[A-Za-z]{4,}",
            fields.sub("", _CLICK_ZH[text])
            .replace("Windows", "")
            .replace("Bash", "")
            .replace("UUID", ""),
        ), _CLICK_ZH[text]
