"""Regenerate the golden fixtures: the expected outputs kept under tests/fixtures.

    .venv/bin/python scripts/regenerate_fixtures.py [pytest arguments]

Runs the tests that compare against them with `pytest --regenerate`, which rewrites each one
from what the code gives now instead of comparing (tests/conftest.py: golden, golden_folder):

    tests/fixtures/lint/*/expected.txt, fixed.*    check's findings and --fix   (test_lint)
    tests/fixtures/validate/*/expected.txt         build's problems             (test_validate)
    tests/fixtures/hostile/*/expected.txt          build's problems             (test_hostile)
    tests/fixtures/check/*/fixed/                  check --fix on a file        (test_check)
    tests/fixtures/import/*/expected.txt, expected/  import's report and sources (test_importer)

Then it lists what changed (git status). Read every change (git diff tests/fixtures) before
committing: a regenerated fixture is only as right as the code that wrote it. Not regenerated,
because they are written by hand from the printed page or the fonts: tests/fixtures/banji/*/
expected.txt (the 版记's rows) and tests/fixtures/fonts/*/expected.txt (the notices).
Extra arguments go to pytest, e.g. `-k half_width` for some cases only.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MODULES = [
    "tests/test_lint.py",
    "tests/test_validate.py",
    "tests/test_hostile.py",
    "tests/test_check.py",
    "tests/test_importer.py",
]


def main() -> int:
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "--regenerate",
        "-p",
        "no:randomly",
        "-n",
        "auto",
        "--dist",
        "loadscope",
        *MODULES,
        *sys.argv[1:],
    ]
    status = subprocess.run(command, cwd=REPO).returncode
    changed = subprocess.run(
        ["git", "status", "--short", "--", "tests/fixtures"],
        cwd=REPO,
        capture_output=True,
        text=True,
    ).stdout
    print(changed or "测试样例的预期输出没有变化。")
    if changed:
        print("请用 git diff tests/fixtures 逐一核对上面的改动，确认无误后再提交。")
    if status not in (0, 1):
        print(f"pytest 异常结束（退出状态 {status}）。", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
