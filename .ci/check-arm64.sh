#!/bin/sh
# check-arm64.sh: loads the linux-arm64 prebuild under qemu-user with an arm64 Node from
# Debian's packages (trixie: Node 20), on this x64 machine, and opens a shipped BPF object with
# it. What it proves: the cross-built binary loads in an arm64 Node, its libbpf/libelf/zlib
# parse an ELF object, N-API calls work. What it cannot: loading programs into a kernel (qemu-user
# passes bpf(2) to the x64 host kernel, where an arm64 process's BPF calls are not checked here).
#
# The arm64 Debian packages are fetched with a private apt configuration (.ci/arm64-root.sh) into
# build-prebuild/arm64-root/ and unpacked, not installed: the machine's dpkg is untouched and no
# architecture is added to it. Needs qemu-user (installed when missing,
# as root). `npm run check:arm64` runs it; run `npm run prebuildify` first.
set -eu
cd "$(dirname "$0")/.."
root=$(pwd)
started=$(date +%s)
say() { echo "check-arm64: $* ($(( $(date +%s) - started )) s)"; }
[ -f prebuilds/linux-arm64/libbpf-node.node ] || { echo "check-arm64: no prebuilds/linux-arm64; run npm run prebuildify" >&2; exit 1; }
if ! command -v qemu-aarch64 >/dev/null; then
  say "installing qemu-user"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends qemu-user >/dev/null
fi

# The arm64 userland (nodejs and its libraries from Debian trixie), shared with the kernel matrix.
rootfs=$(sh .ci/arm64-root.sh)

say "loading prebuilds/linux-arm64 in $(qemu-aarch64 -L "$rootfs" "$rootfs/usr/bin/node" --version) ($(qemu-aarch64 -L "$rootfs" "$rootfs/usr/bin/node" -p process.arch)) under qemu-user"
pkg="$root/build-prebuild/arm64-pkg"
rm -rf "$pkg" && mkdir -p "$pkg/node_modules"
cp -R package.json prebuilds dist "$pkg/" && cp -R node_modules/node-gyp-build "$pkg/node_modules/"
touch "$pkg/binding.gyp" # the package root marker lib/internal/native.ts looks for
# shellcheck disable=SC2016
qemu-aarch64 -L "$rootfs" "$rootfs/usr/bin/node" -e '
  const { BpfObject, libbpfVersion, shippedObjectPath } = require(process.argv[1]);
  const obj = BpfObject.open(shippedObjectPath("xdp_sampler"));
  const progs = obj.programs.map((p) => p.name).join(",");
  const maps = obj.maps.map((m) => m.name).join(",");
  obj.close();
  if (progs !== "xdp_sampler") throw new Error("unexpected programs " + progs);
  console.log(`check-arm64: ok: libbpf ${libbpfVersion()}, opened xdp_sampler.bpf.o: programs ${progs}; maps ${maps}`);
' "$pkg"
rm -rf "$pkg"
