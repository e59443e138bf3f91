"""Issue numbers across the archive: the next issue's numbers, and gaps, repeats and dates out of order.

Numbering rule (series.yaml 期号编排): "每年重排" starts each year at 第 1 期; "连续" goes on across
years. The running total (总期号) always goes on, one per issue. The archive may start anywhere
(the back catalogue is imported bit by bit), so only gaps between issues that are present count.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from pathlib import Path

from liandong.errors import Problem
from liandong.validate import (
    CONTINUOUS,
    NUMBERING_KEY,
    PER_YEAR,
    Numbers,
    issue_folders,
    read_numbers,
)


def numbering_rule(series: tuple[dict[str, object], dict] | None) -> str:
    """The series' numbering rule; per year unless series.yaml says 连续."""
    if series is None:
        return PER_YEAR
    return str(series[0].get(NUMBERING_KEY, PER_YEAR))


def read_archive(
    root: Path, problems: list[Problem], folders: list[Path] | None = None
) -> list[Numbers]:
    """The numbers of every issue in issues/ (or of `folders`, from `validate.scan_archive`),
    oldest first; unreadable ones are left out."""
    folders = issue_folders(root) if folders is None else folders
    found = [read_numbers(folder, root, problems) for folder in folders]
    return [numbers for numbers in found if numbers is not None]


@dataclass(frozen=True)
class Next:
    year: int
    number: int
    total: int
    date: dt.date


def next_issue(archive: list[Numbers], rule: str, date: dt.date) -> Next:
    """The numbers of the issue that follows the archive, dated `date`."""
    if rule == CONTINUOUS:
        numbers = [n.number for n in archive if n.number is not None]
    else:
        numbers = [n.number for n in archive if n.number is not None and n.year == date.year]
    totals = [n.total for n in archive if n.total is not None]
    return Next(date.year, max(numbers, default=0) + 1, max(totals, default=0) + 1, date)


def _span(first: int, last: int) -> str:
    return f"第 {first} 期" if first == last else f"第 {first} 至 {last} 期"


def check_numbering(archive: list[Numbers], rule: str) -> list[Problem]:
    """Warnings: repeated or missing numbers and totals, and dates out of order."""
    problems: list[Problem] = []

    def warn(numbers: Numbers, key: str, message: str) -> None:
        loc = numbers.locs.get(key)
        if loc is not None:
            problems.append(loc.problem(message))

    ordered = sorted(
        (n for n in archive if n.number is not None),
        key=lambda n: (n.year, n.number, n.folder.name),
    )
    first_year = min((n.year for n in ordered), default=None)
    previous: Numbers | None = None
    for numbers in ordered:
        assert numbers.number is not None
        same_run = previous is not None and (rule == CONTINUOUS or previous.year == numbers.year)
        if same_run:
            assert previous is not None and previous.number is not None
            if numbers.number == previous.number:
                warn(
                    numbers,
                    "期号",
                    f"期号与 {previous.folder.parent.name}/{previous.folder.name} "
                    f"重复：都是第 {numbers.number} 期",
                )
            elif numbers.number < previous.number:
                warn(
                    numbers,
                    "期号",
                    f"期号 {numbers.number} 小于上一期（{previous.label}）"
                    f"：期号编排为“{CONTINUOUS}”，跨年接着编",
                )
            elif numbers.number > previous.number + 1:
                where = f"{numbers.year} 年" if rule == PER_YEAR else "期号"
                warn(
                    numbers,
                    "期号",
                    f"{where}缺少{_span(previous.number + 1, numbers.number - 1)}"
                    f"（上一期是 {previous.label}）",
                )
        elif rule == PER_YEAR and numbers.year != first_year and numbers.number > 1:
            # A later year of the archive: its issues start at 1 under this rule.
            warn(
                numbers,
                "期号",
                f"{numbers.year} 年缺少{_span(1, numbers.number - 1)}"
                f"（期号编排为“{PER_YEAR}”，每年从第 1 期编起）",
            )
        previous = numbers

    # Totals: repeats and decreases along the issues' order; gaps in the set of totals, so an
    # issue filed under the wrong number gives one warning, not a gap and a decrease.
    with_totals = [n for n in ordered if n.total is not None]
    first_with: dict[int, Numbers] = {}
    for before, numbers in zip([None, *with_totals], with_totals):
        assert numbers.total is not None
        if numbers.total in first_with:
            warn(
                numbers,
                "总期号",
                f"总期号 {numbers.total} 与 {first_with[numbers.total].label}重复",
            )
            continue
        if before is not None and before.total is not None and numbers.total < before.total:
            warn(
                numbers,
                "总期号",
                f"总期号 {numbers.total} 小于上一期（{before.label}，总期号 {before.total}）",
            )
        first_with[numbers.total] = numbers
    totals = sorted(first_with)
    for low, high in itertools.pairwise(totals):
        if high > low + 1:
            gap = f"总第 {low + 1} 期" if high == low + 2 else f"总第 {low + 1} 至 {high - 1} 期"
            warn(
                first_with[high], "总期号", f"缺少{gap}（总期号 {low} 是 {first_with[low].label}）"
            )

    dated = [n for n in ordered if n.date is not None]
    for before, numbers in itertools.pairwise(dated):
        assert before.date is not None and numbers.date is not None
        if numbers.date < before.date:
            warn(
                numbers,
                "日期",
                f"日期 {numbers.date.isoformat()} 早于上一期（{before.label}，"
                f"{before.date.isoformat()}）",
            )
    return problems
