"""`liandong new`: the next issue's sources (issue.yaml and one article stub), never overwriting."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from liandong.errors import LiandongError, Problem, SourceErrors, display_path, os_reason
from liandong.files import write_output
from liandong.lint import PLACEHOLDER
from liandong.numbering import Next, next_issue, numbering_rule, read_archive
from liandong.source import ISSUE_FILE, yaml_scalar
from liandong.validate import DISTRIBUTION_KEYS, DRAFT, issue_folder, load_series, parse_date

ARTICLE_FILE = "01.md"


def parse_date_option(value: str | None, today: dt.date) -> dt.date:
    """--date, written 2024-08-30 or 2024年8月30日; today when not given."""
    if value is None:
        return today
    date = parse_date(value)
    if date is None:
        raise LiandongError(f"--date 应写作 2024-08-30，现在是“{value}”")
    if date is False:
        raise LiandongError(f"--date 不是有效日期：“{value}”")
    return date


def issue_yaml(name: str, numbers: Next, series: dict[str, object]) -> str:
    lines = [
        f"# {name} {numbers.year} 年第 {numbers.number} 期",
        f"期号: {numbers.number}",
        f"总期号: {numbers.total}",
        f"日期: {numbers.date.isoformat()}",
        "# 草稿不发布到网站；编好、校对完毕，可以出刊时改为“状态: 已签发”。",
        f"状态: {DRAFT}",
        "",
        "# 编者按可选：不需要时删去下面两行。",
        "编者按: |",
        f"  {PLACEHOLDER}编者按正文。",
    ]
    lists: list[tuple[str, tuple]] = []
    for key in DISTRIBUTION_KEYS:
        value = series.get(key)
        if isinstance(value, tuple) and value:  # the Texts of a list the schema validated
            lists.append((key, value))
    if lists:
        lines += [
            "",
            "# 版记的发送范围：创建时从 series.yaml 抄来，本期增减单位就改这里，",
            "# 这样以后改动 series.yaml 也不会改变已出刊各期的版记。",
        ]
    for key, items in lists:
        lines.append(f"{key}:")
        lines += [f"  - {yaml_scalar(item.value)}" for item in items]
    return "\n".join(lines) + "\n"


ARTICLE_STUB = f"""---
标题: {PLACEHOLDER}文章标题
# 副标题: 可选，另起一行印在标题之下
---

{PLACEHOLDER}正文第一段。段与段之间空一行；一段可以分几行写，排版时自动连成一段。
"""


def new_issue(root: Path, date: dt.date) -> tuple[Next, list[Path]]:
    """Create issues/<year>/<number>/ with issue.yaml and 01.md; refuse if anything is in the way."""
    problems: list[Problem] = []
    series = load_series(root, problems)
    archive = read_archive(root, problems)
    if problems or series is None:
        raise SourceErrors(problems)
    rule = numbering_rule(series)
    dated = [(n.date, n) for n in archive if n.date is not None]
    latest_date, latest = max(dated, key=lambda pair: pair[0], default=(None, None))
    if latest_date is not None and latest is not None and date < latest_date:
        raise LiandongError(
            f"日期 {date.isoformat()} 早于最近一期（{latest.label}，{latest_date.isoformat()}）："
            "新一期的日期不能早于已有各期。"
        )
    numbers = next_issue(archive, rule, date)
    try:
        folder = issue_folder(root, numbers.year, numbers.number)
    except ValueError as exc:
        raise LiandongError(f"无法新建 {numbers.year} 年第 {numbers.number} 期：{exc}。") from None
    shown = display_path(folder, root)
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        os.mkdir(folder)  # claims the folder: fails if it exists, even if made a moment ago
    except FileExistsError:
        raise LiandongError(f"{shown} 已经存在：为了不覆盖已有稿件，没有做任何改动。") from None
    except OSError as exc:
        raise LiandongError(f"无法建立文件夹 {shown}：{os_reason(exc)}") from None
    values = series[0]
    name = str(getattr(values.get("刊名"), "value", "")) or "本刊"
    written = [
        write_output(folder / ISSUE_FILE, issue_yaml(name, numbers, values)),
        write_output(folder / ARTICLE_FILE, ARTICLE_STUB),
    ]
    return numbers, written
