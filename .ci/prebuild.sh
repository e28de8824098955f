#!/bin/sh
# prebuild.sh [x64] [arm64]: builds the prebuilt addons that `npm pack` ships,
# prebuilds/linux-<arch>/libbpf-node.napi.node (N-API: one binary serves every Node >= 20.5),
# then checks each with check-prebuilds.sh (NEEDED: glibc and libgcc_s only; GLIBC_ <= 2.28).
#
# Each architecture builds in a staging copy (build-prebuild/<arch>/), so the development build
# in build/ stays as it is. arm64 is cross-compiled with Debian's cross toolchain
# (g++-aarch64-linux-gnu, which brings the arm64 libc headers and libraries); it is installed
# here when missing and this runs as root. `npm run prebuildify` and `npm pack` run this.
set -eu
cd "$(dirname "$0")/.."
root=$(pwd)
archs=${*:-x64 arm64}
started=$(date +%s)
say() { echo "prebuild: $* ($(( $(date +%s) - started )) s)"; }

sh ext/fetch-source.sh libbpf
sh ext/fetch-source.sh zlib
sh ext/fetch-source.sh elfutils

for arch in $archs; do
  case $arch in
    x64) cross="" ;;
    arm64) cross=aarch64-linux-gnu- ;;
    *) echo "prebuild: unknown architecture $arch (x64, arm64)" >&2; exit 2 ;;
  esac
  if [ -n "$cross" ] && ! command -v "${cross}g++" >/dev/null; then
    say "installing Debian's cross toolchain g++-aarch64-linux-gnu"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends g++-aarch64-linux-gnu >/dev/null
  fi
  stage="$root/build-prebuild/$arch"
  rm -rf "$stage" && mkdir -p "$stage/ext"
  cp -R binding.gyp package.json native "$stage/"
  cp -R ext/*.gyp ext/*.env ext/*.sh ext/*.c ext/libbpf ext/zlib ext/elfutils ext/elfutils-config "$stage/ext/"
  ln -s "$root/node_modules" "$stage/node_modules"
  say "building linux-$arch"
  (cd "$stage" &&
    CC="${cross}gcc" CXX="${cross}g++" LINK="${cross}g++" AR="${cross}ar" JOBS="$(nproc)" \
    npx --no-install prebuildify --napi --strip --arch "$arch" --strip-bin "${cross}strip" \
      >"$stage/build.log" 2>&1) || { tail -n 30 "$stage/build.log" >&2; exit 1; }
  rm -rf "prebuilds/linux-$arch" && mkdir -p prebuilds
  cp -R "$stage/prebuilds/linux-$arch" prebuilds/
  say "prebuilds/linux-$arch ready"
done
sh .ci/check-prebuilds.sh
