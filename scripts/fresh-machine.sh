#!/usr/bin/env bash
# The README's two commands on a fresh Debian 12, as a new user runs them: a minimal root file
# system (debootstrap --variant=minbase bookworm, nothing of this machine's packages), a fresh
# clone of this repository inside it with nothing beside it, then exactly
#
#   bash setup.sh && .venv/bin/liandong build 13
#   bash scripts/test.sh
#
# It prints, for each of the two, the time taken, the Debian packages installed and their download
# size. The clean system only borrows this machine's network settings: DNS (resolv.conf), the
# certificate authorities it adds for its network (/usr/local/share/ca-certificates) and proxy or
# mirror variables. Needs root (debootstrap, chroot, mounts); .ci/run calls it.
#
#   bash scripts/fresh-machine.sh [--keep]     (--keep: leave the root file system for a look)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
keep=no
[ "${1:-}" = --keep ] && keep=yes

if [ "$(id -u)" -ne 0 ]; then
  echo "fresh-machine.sh：需要 root 权限（debootstrap、chroot、挂载）。" >&2
  exit 1
fi
if ! command -v debootstrap >/dev/null; then
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends debootstrap >/dev/null
fi

work="$(mktemp -d /var/tmp/liandong-fresh.XXXXXX)"
root="$work/root"
mounted=()
cleanup() {
  local status=$?
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
    umount -R "${mounted[$i]}" 2>/dev/null || umount -lR "${mounted[$i]}" 2>/dev/null || true
  done
  if [ "$keep" = yes ]; then
    echo "保留了全新系统：$root"
  elif findmnt -rn -o TARGET | grep -q "^$root/"; then
    # Never delete through a mount that is still there: /dev and /sys are the machine's own.
    echo "fresh-machine.sh：$root 下还有挂载点，没有删除它。" >&2
  else
    rm -rf "$work"
  fi
  exit "$status"
}
trap cleanup EXIT

echo "== debootstrap：Debian 12 minbase =="
start=$SECONDS
debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian > "$work/debootstrap.log" 2>&1 \
  || { tail -20 "$work/debootstrap.log"; exit 1; }
echo "用时 $((SECONDS - start)) 秒，$(chroot "$root" dpkg-query -W -f='.\n' | wc -l) 个软件包"

# A fresh install's package sources, and this machine's network (not its packages).
cat > "$root/etc/apt/sources.list" <<'EOF'
deb http://deb.debian.org/debian bookworm main
deb http://deb.debian.org/debian bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
EOF
cp /etc/resolv.conf "$root/etc/resolv.conf"
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
  mkdir -p "$root/usr/local/share/ca-certificates"
  cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
fi

for fs in proc sys dev; do
  mkdir -p "$root/$fs"
  if [ "$fs" = proc ]; then
    mount -t proc proc "$root/proc"
  else
    mount --rbind "/$fs" "$root/$fs"
    mount --make-rslave "$root/$fs"
  fi
  mounted+=("$root/$fs")
done

# The project alone: a clone of the committed tree, nothing beside it.
git clone -q --no-local "$repo" "$root/root/liandong"

passthrough=()
for name in http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY PIP_INDEX_URL \
            npm_config_registry; do
  [ -n "${!name:-}" ] && passthrough+=("$name=${!name}")
done

run() {  # run LOG COMMAND: a login-like shell in the clean system, in the clone
  chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 CI=true \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "${passthrough[@]}" \
    bash -c "cd /root/liandong && $2" > "$work/$1" 2>&1
}

summary() {  # summary LOG SECONDS
  local packages download
  packages=$(grep -oE "[0-9]+ newly installed" "$work/$1" | awk '{s += $1} END {print s + 0}')
  download=$(grep -oE "^Need to get [0-9.,]+ [kMG]B" "$work/$1" | sed 's/Need to get //' | paste -sd' ' || true)
  echo "用时 $2 秒；新装 Debian 软件包 ${packages:-0} 个，下载 ${download:-0 B}（apt）"
}

status=0
echo "== 第一条命令：bash setup.sh && .venv/bin/liandong build 13 =="
start=$SECONDS
run first.log 'bash setup.sh && .venv/bin/liandong build 13' || status=$?
tail -3 "$work/first.log"
summary first.log $((SECONDS - start))
if [ "$status" -ne 0 ]; then
  echo "第一条命令失败（退出状态 $status）：" >&2
  tail -40 "$work/first.log" >&2
  exit 1
fi
echo "虚拟环境 $(du -sh "$root/root/liandong/.venv" | cut -f1)；Fandol 字体 $(du -sh "$root/usr/local/share/fonts/fandol" | cut -f1)"

echo "== 第二条命令：bash scripts/test.sh =="
start=$SECONDS
run second.log 'bash scripts/test.sh' || status=$?
result=$(grep -E "^=+ .*(passed|failed|error|no tests ran).* =+$" "$work/second.log" | tail -1)
echo "$result"
summary second.log $((SECONDS - start))
if [ "$status" -eq 0 ] && grep -q "skipped" <<<"$result"; then
  echo "有测试被跳过：全新的系统上每个测试都应运行。" >&2
  status=1
fi
if [ "$status" -ne 0 ]; then
  echo "第二条命令失败（退出状态 $status）：" >&2
  tail -80 "$work/second.log" >&2
  exit 1
fi
echo "全新的 Debian 12 上，README 的两条命令都通过了。"
