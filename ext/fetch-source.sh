#!/bin/sh
# fetch-source.sh NAME [--print-sources]: makes the pinned source of NAME (libbpf, zlib,
# elfutils) available under ext/NAME/, as ext/NAME.env pins it, then (with --print-sources) prints
# the C files of its static library for ext/NAME.gyp, relative to ext/.
#
# The source comes from Debian's source package, fetched with apt-get through a private apt
# configuration derived from this machine's own apt sources (ext/debian-apt.sh; no host name is
# written here), checked against the pinned SHA-256, and trimmed to what a build needs. An npm
# tarball ships ext/NAME/ already unpacked, so installing from it never runs apt.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
name=${1:?usage: fetch-source.sh NAME [--print-sources]}
. "$here/$name.env"
. "$here/debian-apt.sh"
dest="$here/$name"
stamp="$dest/.pinned-$SRC_SHA256"

log() { echo "fetch-source: $*" >&2; }

fetch() {
  work="$here/.apt-$name"
  rm -rf "$work"
  debian_apt_setup "$work" deb-src "$SRC_DEBIAN_SUITE" || { log "fetch $SRC_TARBALL by hand and unpack it into $dest"; exit 1; }
  mkdir -p "$work/dl"
  log "fetching $SRC_PACKAGE $SRC_DEBIAN_VERSION source from Debian $SRC_DEBIAN_SUITE"
  # shellcheck disable=SC2086
  apt-get $APT_OPTS -qq update >&2
  # shellcheck disable=SC2086
  (cd "$work/dl" && apt-get $APT_OPTS -qq source --download-only "$SRC_PACKAGE=$SRC_DEBIAN_VERSION" >&2)
  tarball="$work/dl/$SRC_TARBALL"
  got=$(sha256sum "$tarball" | cut -d' ' -f1)
  if [ "$got" != "$SRC_SHA256" ]; then
    log "checksum mismatch for $tarball: got $got, pinned $SRC_SHA256"
    exit 1
  fi
  rm -rf "$dest" "$work/src" && mkdir -p "$dest" "$work/src"
  tar -xf "$tarball" -C "$work/src" --strip-components=1
  # shellcheck disable=SC2086
  (cd "$work/src" && for keep in $SRC_KEEP; do [ -e "$keep" ] && cp -R $keep "$dest/"; done; true)
  if [ "$name" = libbpf ]; then
    # The public headers as consumers include them: <bpf/libbpf.h>, <bpf/bpf_helpers.h>.
    mkdir -p "$dest/usr/include/bpf"
    cp "$dest"/src/*.h "$dest/usr/include/bpf/"
  fi
  rm -rf "$work"
  touch "$stamp"
  log "$SRC_PACKAGE ready in $dest"
}

[ -f "$stamp" ] || fetch

if [ "${2:-}" = "--print-sources" ]; then
  case $name in
    libbpf)
      for f in "$dest"/src/*.c; do echo "libbpf/src/$(basename "$f")"; done ;;
    zlib)
      for f in "$dest"/*.c; do echo "zlib/$(basename "$f")"; done ;;
    elfutils)
      # libelf's own list (libelf/Makefile.am), plus the one lib/ file it calls into.
      sed -n '/^libelf_a_SOURCES/,/^$/p' "$dest/libelf/Makefile.am" | sed 's/libelf_a_SOURCES =//; s/\\//g' \
        | tr -s ' \t' '\n\n' | grep '\.c$' | sed 's|^|elfutils/libelf/|'
      echo elfutils/lib/eu-search.c ;;
  esac
fi
