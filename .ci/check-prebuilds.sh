#!/bin/sh
# check-prebuilds.sh [FILE.node ...]: checks that each addon binary (default: prebuilds/*/*.node,
# else build/Release/bpf_node.node) loads on any glibc >= 2.28 with nothing else installed:
#   - NEEDED: only glibc's own libraries (libc, the dynamic loader, libm) and libgcc_s, which
#     glibc itself loads for thread cancellation, so it is there wherever glibc is;
#   - no libstdc++ (GLIBCXX_/CXXABI_) symbol versions: libstdc++ is linked in;
#   - the highest GLIBC_ symbol version is at most GLIBC_FLOOR (2.28, Node's own floor).
# Reads the binaries with readelf, so it checks arm64 files on an x64 machine too. Prints one
# line per file; exit 1 if any fails. `npm run check:prebuilds` runs it.
set -eu
cd "$(dirname "$0")/.."
floor=${GLIBC_FLOOR:-2.28}
if [ $# -eq 0 ]; then
  set -- $(ls prebuilds/*/*.node 2>/dev/null || true)
  [ $# -gt 0 ] || set -- build/Release/bpf_node.node
fi
status=0
for f in "$@"; do
  if [ ! -f "$f" ]; then echo "$f: missing"; status=1; continue; fi
  arch=$(readelf -h "$f" | awk -F: '/Machine:/ {gsub(/^ +/, "", $2); print $2}')
  needed=$(readelf -d "$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
  versions=$(readelf -W --dyn-syms "$f" | grep -o '@GLIBC_[0-9.]*' | sed 's/@GLIBC_//' | sort -uV)
  highest=$(echo "$versions" | tail -n 1)
  problems=""
  for lib in $needed; do
    case $lib in
      libc.so.6|libm.so.6|libgcc_s.so.1|ld-linux-x86-64.so.2|ld-linux-aarch64.so.1|ld-musl-*) ;;
      *) problems="$problems needs $lib;" ;;
    esac
  done
  if readelf -W --dyn-syms "$f" | grep -q '@\(GLIBCXX\|CXXABI\)_'; then problems="$problems uses the system libstdc++;"; fi
  if [ -n "$highest" ] && [ "$(printf '%s\n%s\n' "$highest" "$floor" | sort -V | tail -n 1)" != "$floor" ]; then
    newer=$(readelf -W --dyn-syms "$f" | grep -o '[A-Za-z0-9_]*@GLIBC_[0-9.]*' | awk -F@GLIBC_ '{print $2, $1}' \
      | sort -V | while read -r v s; do
        [ "$(printf '%s\n%s\n' "$v" "$floor" | sort -V | tail -n 1)" = "$floor" ] || printf '%s@%s ' "$s" "$v"; done)
    problems="$problems GLIBC_$highest > $floor ($newer);"
  fi
  line="$f: $arch; NEEDED $needed; highest GLIBC_${highest:-none} (floor $floor)"
  if [ -n "$problems" ]; then echo "$line; FAIL:$problems"; status=1; else echo "$line; ok"; fi
done
exit $status
