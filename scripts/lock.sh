#!/usr/bin/env bash
# Lock every Python package liandong installs, each with its version and SHA-256 hashes:
#
#   requirements/editor.txt   what `bash setup.sh` installs (liandong's dependencies)
#   requirements/dev.txt      what `bash setup.sh --dev` installs (also the test and bench extras)
#
# Both include setuptools (liandong's build backend: setup.sh installs liandong itself with
# --no-build-isolation, so nothing unpinned is downloaded). Run this after changing the
# dependencies in pyproject.toml, or with --upgrade to move every package to the newest version
# pyproject.toml allows; then run `bash setup.sh --dev` and the tests, and commit both files.
#
#   bash scripts/lock.sh [--upgrade]
#
# pip-compile (pip-tools) runs in a throw-away virtual environment with the Python setup.sh
# uses (Debian 12's python3, 3.11), so the lock is resolved for that Python on Linux.
set -euo pipefail
cd "$(dirname "$0")/.."

PIP_TOOLS_VERSION=7.6.2

upgrade=()
case "${1:-}" in
  "") ;;
  --upgrade) upgrade=(--upgrade) ;;
  -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "scripts/lock.sh：不认识的选项“$1”：只有 --upgrade（把所有软件包升到允许的最新版本）。" >&2; exit 1 ;;
esac

PYTHON="${PYTHON:-python3}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$PYTHON" -m venv "$work/venv"
"$work/venv/bin/python" -m pip install -q "pip-tools==$PIP_TOOLS_VERSION"

# The header of each file names this script as the way to regenerate it.
export CUSTOM_COMPILE_COMMAND="bash scripts/lock.sh"
compile=("$work/venv/bin/pip-compile" --quiet --generate-hashes --allow-unsafe --strip-extras
         --all-build-deps --no-emit-index-url --no-emit-find-links --no-emit-trusted-host)
mkdir -p requirements
"${compile[@]}" "${upgrade[@]}" --extra test --extra bench \
  --output-file requirements/dev.txt pyproject.toml
# The editor's level holds the same versions: pip-compile keeps the pins it finds in its output
# file and drops what is no longer needed, so it starts from the developer's lock.
cp requirements/dev.txt requirements/editor.txt
"${compile[@]}" --output-file requirements/editor.txt pyproject.toml
echo "已更新 requirements/editor.txt 和 requirements/dev.txt。"
