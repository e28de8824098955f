#!/bin/sh
# Makes the pinned libbpf source available under ext/libbpf/, then (with --print-sources) prints
# the C files of the static library, for ext/libbpf.gyp.
#
# The source comes from Debian's source package, fetched with apt-get through a private apt
# configuration derived from this machine's own apt sources (no host name is written here), and
# is checked against the SHA-256 pinned in ext/libbpf.env. An npm tarball ships ext/libbpf/
# already unpacked, so installing from it never runs apt.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/libbpf.env"
dest="$here/libbpf"
stamp="$dest/.pinned-$LIBBPF_VERSION-$LIBBPF_SHA256"

log() { echo "fetch-libbpf: $*" >&2; }

fetch() {
  work="$here/.apt"
  rm -rf "$work" && mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/sources" "$work/dl"
  # Every deb822 stanza that serves Debian's main archive, turned into a deb-src stanza for the
  # suite that carries the pinned release. One-line sources.list entries are read too.
  uri=$( (cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '/^URIs:/ {print $2}';
          cat /etc/apt/sources.list 2>/dev/null | awk '$1 == "deb" {print $2}') \
        | grep -v security | head -n 1)
  if [ -z "$uri" ]; then
    log "no Debian archive found in this machine's apt sources; install libbpf source by hand into $dest"
    exit 1
  fi
  keyring=/usr/share/keyrings/debian-archive-keyring.gpg
  printf 'Types: deb-src\nURIs: %s\nSuites: %s\nComponents: main\nSigned-By: %s\n' \
    "$uri" "$LIBBPF_DEBIAN_SUITE" "$keyring" > "$work/sources/libbpf-src.sources"
  opts="-o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts=$work/sources \
        -o Dir::State::Lists=$work/lists -o Dir::Cache=$work/cache -o APT::Sandbox::User=root"
  log "fetching libbpf $LIBBPF_DEBIAN_VERSION source from Debian $LIBBPF_DEBIAN_SUITE"
  # shellcheck disable=SC2086
  apt-get $opts -qq update >&2
  # shellcheck disable=SC2086
  (cd "$work/dl" && apt-get $opts -qq source --download-only "libbpf=$LIBBPF_DEBIAN_VERSION" >&2)
  tarball="$work/dl/libbpf_$LIBBPF_VERSION.orig.tar.gz"
  got=$(sha256sum "$tarball" | cut -d' ' -f1)
  if [ "$got" != "$LIBBPF_SHA256" ]; then
    log "checksum mismatch for $tarball: got $got, pinned $LIBBPF_SHA256"
    exit 1
  fi
  rm -rf "$dest" && mkdir -p "$dest"
  tar -xzf "$tarball" -C "$dest" --strip-components=1
  # The public headers as consumers include them: <bpf/libbpf.h>, <bpf/bpf_helpers.h>.
  mkdir -p "$dest/usr/include/bpf"
  cp "$dest"/src/*.h "$dest/usr/include/bpf/"
  # What a tarball needs to build: sources, headers, licence. Drop the rest (CI scripts, docs).
  rm -rf "$dest/.github" "$dest/docs" "$dest/scripts" "$dest/travis-ci" "$dest/fuzz" "$dest/assets" "$dest/ci" "$work"
  touch "$stamp"
  log "libbpf $LIBBPF_VERSION ready in $dest"
}

[ -f "$stamp" ] || fetch

if [ "${1:-}" = "--print-sources" ]; then
  for f in "$dest"/src/*.c; do echo "libbpf/src/$(basename "$f")"; done
fi
