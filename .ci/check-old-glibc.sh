#!/bin/sh
# check-old-glibc.sh: loads the linux-x64 prebuild on an older glibc than the build machine's:
# Debian 11's (glibc 2.31, the oldest suite the Debian archive still serves; the floor the
# prebuild claims is 2.28, which check-prebuilds.sh reads from the binary) with Debian 11's Node
# (12.22, too old for the JavaScript layer, so this drives the addon directly: open a bad ELF,
# which must throw through the C++ exception path, then open and load xdp_pass off the main
# thread). Before glibc 2.34, pthread_once lived in libpthread: this is where pinning symbol
# versions (ext/glibc-floor.c) would fail if it were wrong.
#
# The packages are fetched with a private apt configuration into build-prebuild/bullseye-root/
# and unpacked, not installed. Needs root (chroot). `npm run check:old-glibc` runs it.
set -eu
cd "$(dirname "$0")/.."
root=$(pwd)
started=$(date +%s)
say() { echo "check-old-glibc: $* ($(( $(date +%s) - started )) s)"; }
[ -f prebuilds/linux-x64/libbpf-node.node ] || { echo "check-old-glibc: no prebuilds/linux-x64; run npm run prebuildify" >&2; exit 1; }
[ -f dist/bpf/xdp_pass.bpf.o ] || { echo "check-old-glibc: no dist/bpf; run npm run setup" >&2; exit 1; }

work="$root/build-prebuild/bullseye-apt"
rootfs="$root/build-prebuild/bullseye-root"
if [ ! -x "$rootfs/usr/bin/node" ]; then
  say "fetching Debian 11's nodejs and its libraries"
  rm -rf "$work" "$rootfs" && mkdir -p "$rootfs"
  . "$root/ext/debian-apt.sh"
  debian_apt_setup "$work" deb bullseye amd64
  # shellcheck disable=SC2086
  apt-get $APT_OPTS -qq update
  # shellcheck disable=SC2086
  apt-get $APT_OPTS -qq -y install --download-only nodejs >/dev/null
  for deb in "$work"/cache/archives/*.deb; do dpkg-deb -x "$deb" "$rootfs"; done
  rm -rf "$work"
fi
mkdir -p "$rootfs/app"
cp prebuilds/linux-x64/libbpf-node.node dist/bpf/xdp_pass.bpf.o "$rootfs/app/"
glibc=$(chroot "$rootfs" /lib/x86_64-linux-gnu/libc.so.6 | head -n 1 | grep -o '[0-9][0-9]*\.[0-9][0-9]*' | tail -n 1)
say "loading prebuilds/linux-x64 with glibc $glibc and Node $(chroot "$rootfs" /usr/bin/node --version)"
env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin chroot "$rootfs" /usr/bin/node -e '
  const m = { exports: {} };
  process.dlopen(m, "/app/libbpf-node.node");
  const b = m.exports;
  let threw = false;
  try { new b.NativeObject(Buffer.alloc(64, 1), {}); } catch (e) { threw = /bpf_object__open_mem/.test(e.message); }
  if (!threw) throw new Error("a bad ELF image did not throw the expected error");
  const o = new b.NativeObject("/app/xdp_pass.bpf.o", {});
  o.loadAsync().then(() => {
    const n = o.programs().length;
    o.close();
    console.log(`check-old-glibc: ok: libbpf ${b.libbpfVersion()}; a bad image threw; xdp_pass loaded off the main thread (${n} program)`);
  }, (e) => { console.error("check-old-glibc: load failed: " + e.message); process.exit(1); });
'
