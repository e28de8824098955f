#!/bin/sh
# Makes this machine ready to build, test and run libbpf-node, from a fresh Debian machine as
# root: Debian packages, bpffs, npm packages, the pinned libbpf source, the addon, the BPF
# objects and the compiled TypeScript. Each step is skipped when already done, so a second run
# takes a few seconds. `npm test` and `npm run demo` run it first.
set -eu
cd "$(dirname "$0")/.."
say() { echo "setup: $*"; }

# 1. Debian packages: compilers for BPF and the addon, libelf/zlib for libbpf, iproute2 and
#    ping for the veth test kit, bpftool for inspection, dpkg-dev for `apt-get source`,
#    prometheus for the fleet metrics test, systemtap-sdt-dev (sys/sdt.h) for the USDT test binary.
packages="clang llvm make g++ pkg-config libelf-dev zlib1g-dev iproute2 iputils-ping bpftool dpkg-dev libcap2-bin prometheus systemtap-sdt-dev"
missing=""
for p in $packages; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  if [ "$(id -u)" != 0 ]; then
    say "missing Debian packages:$missing (run this as root, or install them)"; exit 1
  fi
  say "installing$missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# 2. bpffs, where pinned maps and programs live.
if [ "$(id -u)" = 0 ] && ! grep -qs ' /sys/fs/bpf bpf ' /proc/mounts; then
  say "mounting bpffs at /sys/fs/bpf"
  mount -t bpf bpf /sys/fs/bpf
fi

# 3. npm packages, when package-lock.json changed since the last install. Install scripts are
#    off: step 5 builds the addon itself.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm packages"
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
fi

# 4. The pinned libbpf source (ext/libbpf.env).
sh ext/fetch-libbpf.sh

# 5. The addon: configure once, then an incremental build.
if [ ! -f build/Makefile ] || [ binding.gyp -nt build/Makefile ] || [ ext/libbpf.gyp -nt build/Makefile ]; then
  npx --no-install node-gyp configure --loglevel=error
fi
npx --no-install node-gyp build -j "$(nproc)" --loglevel=error >/dev/null

# 6. The BPF objects (make: only what changed).
make -s -C bpf

# 7. The TypeScript API (incremental).
npx --no-install tsc -p tsconfig.build.json
