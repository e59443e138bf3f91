#!/usr/bin/env bash
# Publish the archive site, as CI does, and (with --to) upload it to any web server.
#
#   bash scripts/publish.sh [DIR] [--to TARGET] [--upload-only]
#
# 1. bash setup.sh: the editor's level only (no test tools).
# 2. liandong site --out DIR (default build/site): every issue signed off in its issue.yaml
#    (状态: 已签发); each must pass what `liandong check --strict` checks, or nothing is written.
#    Drafts are left out. The site's cache (manifest, search blocks) goes beside DIR, into
#    DIR-cache/, and is never uploaded. SITE_BASE_URL, when set, is the site's public address
#    (feed and sitemap).
# 3. With --to TARGET, DIR is uploaded; files gone from DIR are deleted there:
#      user@host:/var/www/liandong/     rsync over ssh (rsync and ssh on both machines)
#      rsync://host/module/liandong/    an rsync daemon
#      /srv/www/liandong/               a folder on this machine or a mounted share (rsync)
#      s3://bucket/liandong/            an S3-compatible bucket (Aliyun OSS, Tencent COS, MinIO…)
#                                       with the aws command; S3_ENDPOINT names the service's
#                                       address, credentials as aws reads them (AWS_ACCESS_KEY_ID…)
#    --upload-only uploads DIR as it is, without installing or building.
set -euo pipefail

fail() { echo "publish.sh：$*" >&2; exit 1; }

usage() {
  cat <<'EOF'
用法：bash scripts/publish.sh [目录] [--to 目标] [--upload-only]

与自动发布相同的步骤：
  1. bash setup.sh（只装编辑用的第一级，不装测试工具）；
  2. liandong site --out 目录（默认 build/site）：只发布已签发（状态: 已签发）且通过
     liandong check --strict 的各期；草稿不发布。缓存放在“目录-cache/”，不上传。
     设置了环境变量 SITE_BASE_URL（网站网址）时，同时生成订阅源和 sitemap。
  3. 有 --to 时把目录上传到网站服务器，服务器上多出的旧文件会删掉：
       user@host:/var/www/liandong/     经 ssh 的 rsync
       rsync://host/module/liandong/    rsync 服务
       /srv/www/liandong/               本机文件夹或挂载的共享文件夹
       s3://bucket/liandong/            S3 兼容的对象存储（阿里云 OSS、腾讯云 COS、MinIO 等），
                                        用 aws 命令；S3_ENDPOINT 写服务地址
  --upload-only  不安装、不生成，只上传目录里现有的网站。
EOF
}

dir="" target="" upload_only=no
while [ $# -gt 0 ]; do
  case "$1" in
    --to) [ $# -ge 2 ] || fail "--to 后面要写上传的目标，如 user@host:/var/www/liandong/"; target="$2"; shift 2 ;;
    --to=*) target="${1#--to=}"; shift ;;
    --upload-only) upload_only=yes; shift ;;
    -h|--help) usage; exit 0 ;;
    -*) fail "不认识的选项“$1”：可用 --to 目标、--upload-only。" ;;
    *) [ -z "$dir" ] || fail "只能指定一个网站文件夹（多出了“$1”）。"; dir="$1"; shift ;;
  esac
done
out="$(realpath -m "${dir:-build/site}")"
cd "$(dirname "$0")/.."

if [ "$upload_only" = no ]; then
  bash setup.sh
  args=(--out "$out")
  if [ -n "${SITE_BASE_URL:-}" ]; then
    args+=(--base-url "$SITE_BASE_URL")
  fi
  .venv/bin/liandong site "${args[@]}"
elif [ -z "$target" ]; then
  fail "--upload-only 要和 --to 一起用。"
fi

[ -z "$target" ] && exit 0
[ -f "$out/index.html" ] || fail "$out 里没有网站（缺少 index.html）：请先生成网站。"
# Nothing of liandong's own bookkeeping goes public (older versions kept a manifest in the site).
if find "$out" -name '.liandong*' -print -quit | grep -q .; then
  fail "$out 里有 liandong 的记录文件（.liandong*）：它们不应发布。请删除后重新运行 liandong site。"
fi

case "$target" in
  s3://*)
    command -v aws >/dev/null || fail "上传到 S3 兼容的存储需要 aws 命令：apt-get install awscli（或 pip install awscli）。"
    endpoint=()
    [ -n "${S3_ENDPOINT:-}" ] && endpoint=(--endpoint-url "$S3_ENDPOINT")
    echo "正在上传 $out 到 $target"
    aws "${endpoint[@]}" s3 sync "$out/" "$target" --delete --no-progress \
      || fail "上传到 $target 没有完成（aws 的出错信息见上）：请检查地址、S3_ENDPOINT 和密钥后重新运行。"
    ;;
  *)
    command -v rsync >/dev/null || fail "上传需要 rsync：apt-get install rsync（服务器上也要有 rsync）。"
    echo "正在上传 $out 到 $target"
    # New and changed files first, all put in place together at the end; then what is gone.
    rsync --recursive --links --times --omit-dir-times --chmod=D755,F644 \
      --delete-after --delay-updates "$out/" "$target" \
      || fail "上传到 $target 没有完成（rsync 的出错信息见上）：请检查地址、权限和网络后重新运行。"
    ;;
esac
echo "已上传到 $target"
