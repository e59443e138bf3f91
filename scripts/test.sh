#!/usr/bin/env bash
# The whole test suite, on a machine where `bash setup.sh` has run (or on a fresh one): installs
# the test tools if they are missing (setup.sh --dev), lints the code with ruff (pyproject.toml's
# [tool.ruff]; a finding stops the run before any test), checks the types with mypy
# ([tool.mypy]: zero errors over liandong/; an error stops the run too), then runs pytest on
# every core (pytest-xdist: -n auto; --dist loadscope keeps each test file on one worker, so
# that its module fixtures are built once) in a random order (pytest-randomly prints the seed;
# pass -p randomly --randomly-seed=N to repeat an order, -p no:randomly for the files' order).
# Arguments go to pytest, after these: -n 0 runs in one process.
#
#   bash scripts/test.sh                 # every test
#   bash scripts/test.sh tests/test_typeset.py -k title
set -euo pipefail
cd "$(dirname "$0")/.."
bash setup.sh --dev
if ! .venv/bin/ruff check --no-cache .; then
  echo "scripts/test.sh：ruff 检查发现上面这些问题，请先修正（能自动修正的：.venv/bin/ruff check --fix .）。" >&2
  exit 1
fi
# The code's layout is ruff format's ([tool.ruff.format]); a file laid out otherwise stops the run.
if ! .venv/bin/ruff format --no-cache --check .; then
  echo "scripts/test.sh：上面这些文件没有按 ruff format 排版，请运行 .venv/bin/ruff format .。" >&2
  exit 1
fi
# Then the types: mypy over liandong/ ([tool.mypy] in pyproject.toml), zero errors.
if ! .venv/bin/python -m mypy; then
  echo "scripts/test.sh：类型检查（mypy）没有通过：上面列出了每处的 文件:行 和原因，改好后再运行。" >&2
  exit 1
fi
status=0
.venv/bin/python -m pytest -n auto --dist loadscope "$@" || status=$?
if [ "$status" -eq 5 ]; then
  # pytest's "no tests collected" must never pass as green.
  echo "scripts/test.sh：没有收集到任何测试。" >&2
  exit 1
fi
exit "$status"
