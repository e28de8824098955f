#!/bin/sh
# Makes this machine ready to build, test and run libbpf-node, from a fresh Debian machine as
# root: Debian packages, bpffs, npm packages, the pinned libbpf source, the addon, the BPF
# objects and the compiled TypeScript. Each step is skipped when already done, so a second run
# takes a few seconds. `npm test` and `npm run demo` run it first.
set -eu
cd "$(dirname "$0")/.."
say() { echo "setup: $*"; }

# step "what" command...: runs a step with its output kept aside (shown only if it fails). A step
# that takes more than 5 s says so, then how long it has been running every 10 s, then how long
# it took; a quick one (nothing to do) prints nothing.
step() {
  what=$1; shift
  t0=$(date +%s)
  out=$(mktemp)
  ( sleep 5; say "$what..."; while sleep 10; do say "$what... $(( $(date +%s) - t0 )) s"; done ) &
  ticker=$!
  rc=0; "$@" >"$out" 2>&1 || rc=$?
  kill "$ticker" 2>/dev/null || true
  wait "$ticker" 2>/dev/null || true
  took=$(( $(date +%s) - t0 ))
  if [ "$rc" != 0 ]; then cat "$out" >&2; rm -f "$out"; say "$what failed (exit $rc) after $took s"; exit "$rc"; fi
  rm -f "$out"
  [ "$took" -lt 5 ] || say "$what: done in $took s"
}

# 1. Debian packages: compilers for BPF and the addon, libelf/zlib for libbpf, iproute2 and
#    ping for the veth test kit, bpftool for inspection, dpkg-dev for `apt-get source`,
#    prometheus for the fleet metrics test, systemtap-sdt-dev (sys/sdt.h) for the USDT test binary,
#    tcpdump and tshark to read the capture tests' pcapng files.
packages="clang llvm make g++ pkg-config libelf-dev zlib1g-dev iproute2 iputils-ping bpftool dpkg-dev libcap2-bin prometheus systemtap-sdt-dev tcpdump tshark"
missing=""
for p in $packages; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  if [ "$(id -u)" != 0 ]; then
    say "missing Debian packages:$missing (run this as root, or install them)"; exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  step "installing Debian packages:$missing" sh -c "apt-get update -qq && apt-get install -y -qq --no-install-recommends $missing"
fi

# 2. bpffs, where pinned maps and programs live.
if [ "$(id -u)" = 0 ] && ! grep -qs ' /sys/fs/bpf bpf ' /proc/mounts; then
  say "mounting bpffs at /sys/fs/bpf"
  mount -t bpf bpf /sys/fs/bpf
fi

# 3. npm packages, when package-lock.json changed since the last install. Install scripts are
#    off: step 5 builds the addon itself.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  step "installing npm packages" npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
fi

# 4. The pinned sources of libbpf, libelf and zlib (ext/*.env), from Debian's source packages.
step "fetching the pinned libbpf, libelf and zlib sources" \
  sh -c 'sh ext/fetch-source.sh libbpf && sh ext/fetch-source.sh zlib && sh ext/fetch-source.sh elfutils'

# 5. The addon: configure once, then an incremental build (the first compiles libbpf, libelf
#    and zlib too: about a minute on two cores).
if [ ! -f build/Makefile ] || [ binding.gyp -nt build/Makefile ] || [ -n "$(find ext -maxdepth 1 -name '*.gyp' -newer build/Makefile)" ]; then
  step "configuring the addon build" npx --no-install node-gyp configure --loglevel=error
fi
step "compiling the addon" npx --no-install node-gyp build -j "$(nproc)" --loglevel=error

# 6. The BPF objects (make: only what changed).
step "building the BPF objects" make -s -C bpf

# 7. The TypeScript API (incremental; not even started when no source is newer than the last
#    build, since starting tsc alone takes seconds).
if [ ! -f dist/.tsbuildinfo ] || [ ! -f dist/lib/index.d.ts ] ||
   [ -n "$(find lib tsconfig.json tsconfig.build.json package.json -newer dist/.tsbuildinfo 2>/dev/null | head -n 1)" ]; then
  step "compiling the TypeScript" npx --no-install tsc -p tsconfig.build.json
  touch dist/.tsbuildinfo # tsc leaves it alone when a touched file did not change
fi
# The commands in package.json's "bin" are executable, as npm makes them in a project that
# installs this package: `npx libbpf-node` and `npx xdp-root` run inside this checkout too.
chmod +x dist/lib/cli/libbpf-node.js dist/lib/cli/xdp-root.js
# tsc never deletes what it compiled from a source that moved or was removed: drop those outputs
# (a walk of dist/lib, no tsc), so a checkout that pulled a move runs and packs only what lib/ holds.
find dist/lib -name '*.js' | while read -r out; do
  src="lib/${out#dist/lib/}"
  [ -f "${src%.js}.ts" ] || rm -f "$out" "${out%.js}.d.ts" "$out.map"
done
