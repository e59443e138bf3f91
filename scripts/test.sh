#!/usr/bin/env bash
# The whole test suite, on a machine where `bash setup.sh` has run (or on a fresh one): installs
# the test tools if they are missing (setup.sh --dev), then runs pytest on every core
# (pytest-xdist: -n auto; --dist loadscope keeps each test file on one worker, so that its
# module fixtures are built once) in a random order (pytest-randomly prints the seed; pass
# -p randomly --randomly-seed=N to repeat an order, -p no:randomly for the files' order).
# Arguments go to pytest, after these: -n 0 runs in one process.
#
#   bash scripts/test.sh                 # every test
#   bash scripts/test.sh tests/test_typeset.py -k title
set -euo pipefail
cd "$(dirname "$0")/.."
bash setup.sh --dev
status=0
.venv/bin/python -m pytest -n auto --dist loadscope "$@" || status=$?
if [ "$status" -eq 5 ]; then
  # pytest's "no tests collected" must never pass as green.
  echo "scripts/test.sh：没有收集到任何测试。" >&2
  exit 1
fi
exit "$status"
