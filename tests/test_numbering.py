"""The next issue's numbers under both numbering rules."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from liandong.numbering import next_issue
from liandong.validate import CONTINUOUS, PER_YEAR, Numbers


def numbers(year: int, number: int, total: int) -> Numbers:
    return Numbers(
        Path(f"issues/{year}/{number}"), year, number, total, dt.date(year, 6, number), {}
    )


ARCHIVE = [numbers(2023, 24, 690), numbers(2024, 12, 713), numbers(2024, 13, 714)]


def test_per_year():
    assert next_issue(ARCHIVE, PER_YEAR, dt.date(2024, 9, 6)).number == 14
    assert next_issue(ARCHIVE, PER_YEAR, dt.date(2025, 1, 3)).number == 1


def test_continuous():
    assert next_issue(ARCHIVE, CONTINUOUS, dt.date(2025, 1, 3)).number == 25  # the largest + 1


def test_totals_go_on_from_the_largest():
    assert next_issue(ARCHIVE, PER_YEAR, dt.date(2025, 1, 3)).total == 715


def test_an_empty_archive_starts_at_one():
    assert (
        next_issue([], PER_YEAR, dt.date(2024, 1, 5)).number,
        next_issue([], PER_YEAR, dt.date(2024, 1, 5)).total,
    ) == (1, 1)
