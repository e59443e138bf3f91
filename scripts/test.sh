#!/usr/bin/env bash
# The whole test suite, on a machine where `bash setup.sh` has run (or on a fresh one): installs
# the test tools if they are missing (setup.sh --dev), then runs pytest. Arguments go to pytest.
#
#   bash scripts/test.sh                 # every test
#   bash scripts/test.sh tests/test_typeset.py -k title
set -euo pipefail
cd "$(dirname "$0")/.."
bash setup.sh --dev
status=0
.venv/bin/python -m pytest "$@" || status=$?
if [ "$status" -eq 5 ]; then
  # pytest's "no tests collected" must never pass as green.
  echo "scripts/test.sh：没有收集到任何测试。" >&2
  exit 1
fi
exit "$status"
