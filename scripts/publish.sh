#!/usr/bin/env bash
# Publish as CI does: install (setup.sh), check every issue, then build every issue's PDF and
# page and the whole site into DIR (default build/site). The workflow .github/workflows/publish.yml
# runs exactly this. SITE_BASE_URL, when set, is the site's public address (feed and sitemap).
#
#   bash scripts/publish.sh [DIR]
set -euo pipefail
out="$(realpath -m "${1:-build/site}")"
cd "$(dirname "$0")/.."
bash setup.sh
.venv/bin/liandong check --all
args=(--out "$out")
if [ -n "${SITE_BASE_URL:-}" ]; then
  args+=(--base-url "$SITE_BASE_URL")
fi
.venv/bin/liandong site "${args[@]}"
