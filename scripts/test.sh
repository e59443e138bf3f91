#!/usr/bin/env bash
# The whole test suite, on a machine where `bash setup.sh` has run (or on a fresh one): installs
# the test tools if they are missing (setup.sh --dev), checks the types (mypy), then runs
# pytest. Arguments go to pytest.
#
#   bash scripts/test.sh                 # every test
#   bash scripts/test.sh tests/test_typeset.py -k title
set -euo pipefail
cd "$(dirname "$0")/.."
bash setup.sh --dev
# Types first: mypy over liandong/ ([tool.mypy] in pyproject.toml), zero errors.
if ! .venv/bin/python -m mypy; then
  echo "scripts/test.sh：类型检查（mypy）没有通过：上面列出了每处的 文件:行 和原因，改好后再运行。" >&2
  exit 1
fi
status=0
.venv/bin/python -m pytest "$@" || status=$?
if [ "$status" -eq 5 ]; then
  # pytest's "no tests collected" must never pass as green.
  echo "scripts/test.sh：没有收集到任何测试。" >&2
  exit 1
fi
exit "$status"
