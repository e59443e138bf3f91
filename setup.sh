#!/usr/bin/env bash
# Installs everything liandong needs on Debian/Ubuntu: fonts and tools through apt (only the
# missing ones), a virtual environment in .venv, and the package with its test tools.
set -euo pipefail
cd "$(dirname "$0")"

APT_PACKAGES=(
  fonts-noto-cjk        # Noto Serif/Sans CJK SC: title, body and Hei defaults
  fonts-lxgw-wenkai     # LXGW WenKai: the Kai default
  fontconfig            # fc-list: exact font lookup by family name
  libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0  # WeasyPrint's text stack
  poppler-utils         # pdffonts, pdftotext, pdftoppm (tests and checking)
  strace                # tests: prove a build opens no file outside the project
  qpdf                  # qpdf --check (tests)
  chromium              # the web page tested on a phone-sized screen (tests)
  python3-venv
)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
done
# The browser tests' npm tools (package.json): node and npm, and Java for the Nu HTML Checker.
# Checked by command, since node may come from elsewhere than Debian (e.g. with its own npm).
command -v npm >/dev/null || missing+=(nodejs npm)
command -v java >/dev/null || missing+=(default-jre-headless)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "正在安装系统软件包：${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

PYTHON="${PYTHON:-python3}"
"$PYTHON" - <<'PY'
import sys
if sys.version_info < (3, 11):
    sys.exit(f"需要 Python 3.11 或更新版本，当前是 {sys.version.split()[0]}")
PY
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test,bench]'
# axe-core and the Nu HTML Checker (vnu-jar), at the versions pinned in package-lock.json.
npm ci --no-audit --no-fund --loglevel=error
echo "安装完成：.venv/bin/liandong"
