#!/usr/bin/env bash
# Installs liandong on Debian 12 (bookworm), in two levels:
#
#   bash setup.sh          what an editor needs: the fonts, WeasyPrint's text stack, and .venv
#                          with liandong (build, check, import, site, serve)
#   bash setup.sh --dev    also the test tools: chromium, Java (Nu HTML Checker), Node/npm,
#                          poppler-utils, qpdf, strace and the test Python packages
#
# System packages come through apt (only the missing ones; root or sudo is needed only then).
# The Fandol fonts (FandolFang is the open FangSong for the body) are taken out of Debian's
# texlive-lang-chinese package without installing TeX Live. Every message is in Chinese.
set -euo pipefail
cd "$(dirname "$0")"

fail() { echo "setup.sh：$*" >&2; exit 1; }

level=editor
case "${1:-}" in
  "") ;;
  --dev) level=dev ;;
  -h|--help)
    sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'
    exit 0 ;;
  *) fail "不认识的选项“$1”：只有 --dev（另装测试工具）。" ;;
esac

# --- The system: only what is tested ------------------------------------------------------
os_release="${LIANDONG_OS_RELEASE:-/etc/os-release}"  # the variable is for the tests
if [ -r "$os_release" ]; then
  # shellcheck disable=SC1090
  . "$os_release"
fi
if [ "${ID:-}" != debian ] || [ "${VERSION_ID:-}" != 12 ] || ! command -v apt-get >/dev/null; then
  fail "只支持 Debian 12（bookworm），这台电脑是 ${PRETTY_NAME:-未知系统}。请在 Debian 12 上安装（也可以用 Debian 12 的虚拟机或容器）。"
fi

RUNTIME_PACKAGES=(
  python3 python3-venv  # Python 3.11 and its venv
  ca-certificates       # pip downloads over HTTPS
  fontconfig            # fc-list: exact font lookup by family name
  fonts-noto-cjk        # Noto Serif/Sans CJK SC: title and Hei defaults
  fonts-lxgw-wenkai     # LXGW WenKai: the Kai default
  libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0  # WeasyPrint's text stack
  libgs-common          # a CMYK profile: photos are separated with it for the print-shop PDF
)
DEV_PACKAGES=(
  chromium              # the web pages in a browser, at phone and desktop widths
  libatomic1            # the Node driver inside the pip playwright package needs it
  poppler-utils         # pdffonts, pdftotext, pdftoppm
  qpdf                  # qpdf --check
  strace                # prove that a build opens no file outside the project
  rsync                 # scripts/publish.sh --to: the upload is tested into a folder
  git                   # tests clone and diff
  locales               # localedef: the tests build in zh_CN, ja_JP and en_US as well as C
  ghostscript           # tiffsep: the print-shop PDF's separations, plate by plate
  libpdfbox2-java libactivation-java libjaxb-api-java  # Apache PDFBox Preflight (PDF/A)
  libreoffice-writer-nogui  # soffice --headless: an independent renderer of the .docx (build --docx)
)

packages=("${RUNTIME_PACKAGES[@]}")
[ "$level" = dev ] && packages+=("${DEV_PACKAGES[@]}")
missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
done
if [ "$level" = dev ]; then
  # The browser tests' npm tools (package.json): node and npm, and Java for the Nu HTML Checker.
  # Checked by command, since node may come from elsewhere than Debian (with its own npm).
  command -v npm >/dev/null || missing+=(nodejs npm)
  command -v java >/dev/null || missing+=(default-jre-headless)
fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then
    SUDO=(sudo)
  elif [ "${#missing[@]}" -gt 0 ]; then
    fail "需要安装系统软件包（${missing[*]}），这要 root 权限：请用 root 运行，或先装好 sudo。"
  fi
fi
if [ "${#missing[@]}" -gt 0 ]; then
  echo "正在安装系统软件包（${#missing[@]} 个）：${missing[*]}"
  "${SUDO[@]}" apt-get update -q || fail "apt-get update 失败：请检查网络和 /etc/apt/sources.list。"
  DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -q --no-install-recommends \
    "${missing[@]}" || fail "apt-get install 失败：见上面 apt 的说明。"
fi

# --- Fandol fonts (FandolFang: the open FangSong) -----------------------------------------
# Debian ships them only inside texlive-lang-chinese, which depends on TeX Live: the package
# file is downloaded and unpacked, and only the fonts are kept. Licence: GPL with the font
# exception, so embedding them in a PDF is allowed.
if ! fc-list -q "FandolFang"; then
  if [ "$(id -u)" -eq 0 ] || [ "${#SUDO[@]}" -gt 0 ]; then
    fonts_dir=/usr/local/share/fonts/fandol
  else
    fonts_dir="${XDG_DATA_HOME:-$HOME/.local/share}/fonts/fandol"
  fi
  echo "正在安装开源仿宋等 Fandol 字体（从 Debian 的 texlive-lang-chinese 软件包中取出，约 49 MB）"
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  # apt downloads as its own _apt user, which must be able to write there
  if [ "$(id -u)" -eq 0 ] && id _apt >/dev/null 2>&1; then chown _apt "$work"; fi
  (cd "$work" && apt-get download -q texlive-lang-chinese >/dev/null) \
    || fail "下载 texlive-lang-chinese 失败：请先运行 apt-get update，并检查网络。"
  dpkg-deb -x "$work"/texlive-lang-chinese_*.deb "$work/root"
  fandol="$work/root/usr/share/texlive/texmf-dist/fonts/opentype/public/fandol"
  [ -f "$fandol/FandolFang-Regular.otf" ] || fail "texlive-lang-chinese 里没有找到 FandolFang-Regular.otf。"
  "${SUDO[@]}" mkdir -p "$fonts_dir"
  "${SUDO[@]}" install -m 644 "$fandol"/Fandol{Fang,Song,Hei,Kai}-*.otf "$fonts_dir"/
  doc="$work/root/usr/share/doc/texlive-lang-chinese/copyright"
  [ -f "$doc" ] && "${SUDO[@]}" install -m 644 "$doc" "$fonts_dir/copyright"
  fc-cache -f "$fonts_dir" >/dev/null
  fc-list -q "FandolFang" || fail "Fandol 字体装进了 $fonts_dir，但 fontconfig 找不到它。"
fi

# --- Python --------------------------------------------------------------------------------
PYTHON="${PYTHON:-python3}"
command -v "$PYTHON" >/dev/null || fail "找不到 $PYTHON。"
"$PYTHON" - <<'PY' || exit 1
import sys
if sys.version_info < (3, 11):
    sys.exit(f"setup.sh：需要 Python 3.11 或更新版本，当前是 {sys.version.split()[0]}。")
PY
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv || fail "无法建立虚拟环境 .venv：请安装 python3-venv。"
fi
# Every Python package at the version and hashes of the lock file (scripts/lock.sh makes it),
# then liandong itself without dependencies and without build isolation (its build backend,
# setuptools, comes from the lock too): the same packages on every machine, years later too.
lock=requirements/editor.txt
[ "$level" = dev ] && lock=requirements/dev.txt
.venv/bin/python -m pip install -q --require-hashes -r "$lock" \
  || fail "按 $lock 安装 Python 软件包失败：请检查网络（或 pip 镜像设置，见 README）。"
.venv/bin/python -m pip install -q --no-deps --no-build-isolation -e . \
  || fail "安装 liandong 失败：见上面 pip 的说明。"

if [ "$level" = dev ]; then
  # axe-core and the Nu HTML Checker (vnu-jar), at the versions pinned in package-lock.json.
  npm ci --no-audit --no-fund --loglevel=error || fail "npm ci 失败：请检查网络（或 npm 镜像设置，见 README）。"
  echo "安装完成（含测试工具）：.venv/bin/liandong"
else
  echo "安装完成：.venv/bin/liandong"
fi
