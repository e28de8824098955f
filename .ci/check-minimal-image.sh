#!/bin/sh
# check-minimal-image.sh: a consumer on a minimal Debian root, as a slim container image is:
# `debootstrap --variant=minbase trixie` plus Debian's nodejs (Node 20) and nothing else (no
# libelf1, no zlib1g-dev, no compiler). Into it goes the tarball `npm pack` makes, unpacked as npm
# installs it (node_modules/libbpf-node plus its two dependencies); then, chrooted, it requires
# the package and loads a shipped BPF object into the running kernel. Exit 0 when that works.
#
# The root is built once into build-prebuild/minimal-root/ (about 3 minutes) and reused; delete
# it to start over. Needs root and debootstrap (installed when missing). Only the root's own
# /proc is mounted, and unmounted on exit. `npm run check:minimal-image` runs it; it packs the
# package first (`npm pack`, which builds both prebuilds: several minutes); SKIP_PACK=1 reuses
# the newest libbpf-node-*.tgz. Measured on the shared 2-core VM: 11.5 min the first time
# (debootstrap and npm pack), 2 s with the root and the tarball in place.
set -eu
cd "$(dirname "$0")/.."
root=$(pwd)
started=$(date +%s)
say() { echo "check-minimal-image: $* ($(( $(date +%s) - started )) s)"; }
[ "$(id -u)" = 0 ] || { echo "check-minimal-image: needs root (debootstrap, chroot)" >&2; exit 1; }
command -v debootstrap >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null

target="$root/build-prebuild/minimal-root"
if [ ! -x "$target/usr/bin/node" ]; then
  . "$root/ext/debian-apt.sh"
  uri=$(debian_archive_uri)
  rm -rf "$target"
  say "debootstrap --variant=minbase trixie (once)"
  debootstrap --variant=minbase --include=nodejs trixie "$target" "$uri" >"$root/build-prebuild/debootstrap.log" 2>&1 \
    || { tail -n 20 "$root/build-prebuild/debootstrap.log" >&2; exit 1; }
fi
if chroot "$target" dpkg-query -W libelf1 >/dev/null 2>&1; then
  echo "check-minimal-image: the root has libelf1 installed; it must not, to prove anything" >&2; exit 1
fi

if [ "${SKIP_PACK:-}" != 1 ]; then
  say "npm pack"
  rm -f libbpf-node-*.tgz
  npm pack --loglevel=error >/dev/null
fi
tarball=$(ls -t libbpf-node-*.tgz | head -n 1)
app="$target/app"
rm -rf "$app" && mkdir -p "$app/node_modules/libbpf-node"
tar -xzf "$tarball" -C "$app/node_modules/libbpf-node" --strip-components=1
cp -R node_modules/node-gyp-build node_modules/node-addon-api "$app/node_modules/"

mount -t proc proc "$target/proc"
trap 'umount "$target/proc"' EXIT
say "in the root: $(chroot "$target" node --version), glibc $(chroot "$target" ldd --version | head -n 1 | awk '{print $NF}'), libelf1 absent"
chroot "$target" env -i PATH=/usr/bin:/bin HOME=/root sh -c 'cd /app && node -e "
  const { BpfObject, libbpfVersion, shippedObjectPath } = require(\"libbpf-node\");
  (async () => {
    const obj = BpfObject.open(shippedObjectPath(\"xdp_pass\"));
    await obj.load();
    const p = obj.program(\"xdp_pass\");
    if (!(p.id > 0)) throw new Error(\"no program id after load\");
    console.log(\"check-minimal-image: ok: libbpf \" + libbpfVersion() + \", loaded xdp_pass, kernel program id \" + p.id);
    obj.close();
  })().catch((e) => { console.error(e); process.exit(1); });
"'
