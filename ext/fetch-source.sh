#!/bin/sh
# fetch-source.sh NAME [--print-sources]: makes the pinned source of NAME (zlib, elfutils)
# available under ext/NAME/, as ext/NAME.env pins it, then (with --print-sources) prints the C
# files of its static library for ext/NAME.gyp, relative to ext/.
#
# Like fetch-libbpf.sh: Debian's source package, fetched with apt-get through a private apt
# configuration derived from this machine's own apt sources (no host name is written here),
# checked against the pinned SHA-256, and trimmed to what a build needs. An npm tarball ships
# ext/NAME/ already unpacked, so installing from it never runs apt.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
name=${1:?usage: fetch-source.sh NAME [--print-sources]}
. "$here/$name.env"
dest="$here/$name"
stamp="$dest/.pinned-$SRC_SHA256"

log() { echo "fetch-source: $*" >&2; }

fetch() {
  work="$here/.apt-$name"
  rm -rf "$work" && mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/sources" "$work/dl"
  uri=$( (cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '/^URIs:/ {print $2}';
          cat /etc/apt/sources.list 2>/dev/null | awk '$1 == "deb" {print $2}') \
        | grep -v security | head -n 1)
  if [ -z "$uri" ]; then
    log "no Debian archive found in this machine's apt sources; unpack $SRC_TARBALL by hand into $dest"
    exit 1
  fi
  printf 'Types: deb-src\nURIs: %s\nSuites: %s\nComponents: main\nSigned-By: %s\n' \
    "$uri" "$SRC_DEBIAN_SUITE" /usr/share/keyrings/debian-archive-keyring.gpg > "$work/sources/src.sources"
  opts="-o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts=$work/sources \
        -o Dir::State::Lists=$work/lists -o Dir::Cache=$work/cache -o APT::Sandbox::User=root"
  log "fetching $SRC_PACKAGE $SRC_DEBIAN_VERSION source from Debian $SRC_DEBIAN_SUITE"
  # shellcheck disable=SC2086
  apt-get $opts -qq update >&2
  # shellcheck disable=SC2086
  (cd "$work/dl" && apt-get $opts -qq source --download-only "$SRC_PACKAGE=$SRC_DEBIAN_VERSION" >&2)
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
  rm -rf "$work"
  touch "$stamp"
  log "$SRC_PACKAGE ready in $dest"
}

[ -f "$stamp" ] || fetch

if [ "${2:-}" = "--print-sources" ]; then
  case $name in
    zlib)
      for f in "$dest"/*.c; do echo "zlib/$(basename "$f")"; done ;;
    elfutils)
      # libelf's own list (libelf/Makefile.am), plus the one lib/ file it calls into.
      sed -n '/^libelf_a_SOURCES/,/^$/p' "$dest/libelf/Makefile.am" | sed 's/libelf_a_SOURCES =//; s/\\//g' \
        | tr -s ' \t' '\n\n' | grep '\.c$' | sed 's|^|elfutils/libelf/|'
      echo elfutils/lib/eu-search.c ;;
  esac
fi
