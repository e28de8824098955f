#!/bin/sh
# Fetches Debian kernel image packages for the kernel matrix and unpacks each into
# test/kernels/.cache/<release>/ (vmlinuz + modules). Nothing is installed on the host.
#
# Usage: fetch.sh <suite>...   e.g. fetch.sh bullseye bookworm trixie sid
#        KMATRIX_ARCH=arm64 fetch.sh trixie   Debian's arm64 kernel (default: amd64)
# Prints, per suite, "<suite> <kernel release> <dir>" on stdout.
#
# The packages come through a private apt configuration derived from this machine's own apt
# sources (ext/debian-apt.sh; no host name is written here), with other
# suite names. Each suite's current linux-image-amd64 dependency is taken, so when a suite moves
# on the script takes the new image and says which. Versions and SHA-256 sums of the .deb files
# are recorded in .cache/kernels.lock; a release already unpacked is not fetched again.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cache="$here/.cache"
arch=${KMATRIX_ARCH:-amd64}
case "$arch" in amd64) work="$cache/apt" ;; arm64) work="$cache/apt-arm64" ;; *) echo "kernels: unknown architecture $arch (amd64, arm64)" >&2; exit 2 ;; esac
lock="$cache/kernels.lock"
log() { echo "kernels: $*" >&2; }

mkdir -p "$cache" && touch "$lock"
. "$here/../../ext/debian-apt.sh"
# Every suite the matrix knows is indexed, so that one suite's fetch does not drop another's lists.
debian_apt_setup "$work" deb "bullseye bookworm trixie sid experimental" "$arch"
mkdir -p "$work/dl"
opts=$APT_OPTS

# Refresh the suite indexes at most once an hour: the image names change only when a suite moves.
if [ -z "$(find "$work/lists" -name '*_Packages*' -mmin -60 2>/dev/null | head -n 1)" ]; then
  log "updating package lists"
  # shellcheck disable=SC2086
  apt-get $opts -qq update >&2
fi

for suite in "$@"; do
  # The lock's key: the suite, with the architecture when not amd64 (trixie-arm64).
  key=$suite; [ "$arch" = amd64 ] || key="$suite-$arch"
  # The image package linux-image-<arch> depends on in this suite, and its version.
  # shellcheck disable=SC2086
  pkg=$(apt-cache $opts show "linux-image-$arch/$suite" 2>/dev/null \
        | awk -F': ' '/^Depends:/ {print $2; exit}' | tr ',' '\n' | sed 's/ *(.*//; s/^ *//' \
        | grep '^linux-image-' | head -n 1)
  if [ -z "$pkg" ]; then
    log "$suite: no linux-image-$arch in this suite"; exit 1
  fi
  release=${pkg#linux-image-}
  release=${release%-unsigned}
  dir="$cache/$release"
  if [ ! -f "$dir/.unpacked" ]; then
    # Newer suites split the image into linux-binary-* (vmlinuz) and linux-modules-*.
    # shellcheck disable=SC2086
    parts=$(apt-cache $opts show "$pkg/$suite" 2>/dev/null \
            | awk -F': ' '/^Depends:/ {print $2; exit}' | tr ',|' '\n\n' | sed 's/ *(.*//; s/^ *//' \
            | grep -Fx -e "linux-binary-$release" -e "linux-modules-$release" || true)
    log "$suite: fetching $pkg $parts"
    rm -rf "$work/dl"/*.deb "$dir"
    mkdir -p "$dir"
    grep -v "^$key " "$lock" > "$lock.new" || true
    for p in $pkg $parts; do
      # shellcheck disable=SC2086
      (cd "$work/dl" && apt-get $opts -qq download "$p/$suite" >&2)
      deb=$(ls "$work/dl"/"${p}"_*.deb)
      dpkg-deb -x "$deb" "$dir/root"
      echo "$key $p $(dpkg-deb -f "$deb" Version) sha256:$(sha256sum "$deb" | cut -d' ' -f1)" >> "$lock.new"
      rm -f "$deb"
    done
    mv "$lock.new" "$lock"
    # dpkg's postinst would run depmod; the guest's modprobe needs modules.dep.
    depmod -b "$dir/root" "$release" 2>/dev/null || depmod -b "$dir/root/usr" "$release"
    touch "$dir/.unpacked"
  fi
  prev=$(awk -v s="$key" '$1 == s {print $2; exit}' "$lock")
  [ "$prev" = "$pkg" ] || log "$suite moved on: now $pkg (was ${prev:-none})"
  echo "$suite $release $dir"
done
