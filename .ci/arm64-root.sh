#!/bin/sh
# arm64-root.sh [PACKAGE...]: makes build-prebuild/arm64-root/, an arm64 userland unpacked from
# Debian trixie's packages: nodejs (Node 20) and its libraries, plus the packages named. Used by
# .ci/check-arm64.sh (qemu-user loads the prebuild with it) and by the kernel matrix's arm64
# guests (test/kernels/run.sh --arch arm64: it is the guest's root filesystem).
#
# The packages are fetched with a private apt configuration (ext/debian-apt.sh) and unpacked, not
# installed: the machine's dpkg is untouched, no architecture is added to it, no maintainer script
# runs. Packages already unpacked (recorded in arm64-root/.packages) are not fetched again; a new
# one is unpacked on top. Prints the root's path.
set -eu
cd "$(dirname "$0")/.."
root=$(pwd)
work="$root/build-prebuild/arm64-apt"
rootfs="$root/build-prebuild/arm64-root"
stamp="$rootfs/.packages"
want="nodejs $*"

[ -x "$rootfs/usr/bin/node" ] || rm -rf "$rootfs"
mkdir -p "$rootfs" && touch "$stamp"
missing=""
for p in $want; do grep -qx "$p" "$stamp" || missing="$missing $p"; done
if [ -n "$missing" ]; then
  echo "arm64-root: fetching Debian trixie's arm64$missing and their libraries" >&2
  rm -rf "$work"
  . "$root/ext/debian-apt.sh"
  debian_apt_setup "$work" deb trixie arm64
  # shellcheck disable=SC2086
  apt-get $APT_OPTS -qq update >&2
  # shellcheck disable=SC2086
  apt-get $APT_OPTS -qq -y install --download-only $missing >/dev/null
  for deb in "$work"/cache/archives/*.deb; do dpkg-deb -x "$deb" "$rootfs"; done
  # Debian 13 keeps everything under /usr; the /lib alias is made by a package not unpacked here.
  for d in lib bin sbin; do [ -e "$rootfs/$d" ] || ln -s "usr/$d" "$rootfs/$d"; done
  for p in $missing; do echo "$p" >> "$stamp"; done
  rm -rf "$work"
fi
echo "$rootfs"
