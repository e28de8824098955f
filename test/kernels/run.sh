#!/bin/sh
# The kernel matrix: boots Debian kernels under qemu (TCG; KMATRIX_JOBS guests at a time) and runs the
# real-kernel test suite inside each, against this machine's own userland and this project tree.
#
#   npm run test:kernels                          every configured kernel, whole suite
#   npm run test:kernels -- 5.10 test/attach/xdp.test.ts one kernel, some files
#   npm run test:kernels -- --slice 5.10,6.1      the kernel-feature slice on two kernels
#   npm run test:kernels -- 5.10 --exec 'cmd'     a shell command in the guest instead of the tests
#   npm run test:kernels -- --lockdown --slice 6.1  the guest boots with lockdown=confidentiality
#   npm run test:kernels -- --arch arm64 6.12 test/attach/xdp.test.ts
#                                                 Debian's arm64 kernel under qemu-system-aarch64
#
# arm64 (--arch arm64): the guest boots Debian's arm64 kernel on qemu's `virt` machine (TCG, a
# Cortex-A72: see run_suite). Its userland is build-prebuild/arm64-root (.ci/arm64-root.sh: Debian trixie's arm64
# Node and the tools the tests run), the addon is the arm64 prebuild (prebuilds/linux-arm64, made
# here by .ci/prebuild.sh arm64 when missing or older than native/), and the platform packages
# the test runner needs (rolldown, lightningcss) are their linux-arm64 builds, fetched with npm
# into .cache/npm-arm64 (never into the repo's lock). Nothing is built inside the guest.
#
# Before the tests, each guest compares what the feature probes answer with the feature set
# recorded for its kernel (expected/<suite>.json, expected/<suite>-lockdown.json with --lockdown;
# test/kernels/expect-features.cjs) and fails when they disagree: the suite itself only skips by
# the probe's answer.
# Kernels are named by version (5.10, 6.1, 6.12), 'sid' (unstable's) or 'newest' (experimental's),
# or by Debian suite name; fetch.sh takes each suite's current image. Prints one summary line per kernel and
# exits non-zero if any kernel fails, times out or does not boot. Environment:
#   KMATRIX_TIMEOUT   seconds per guest (default 7200 for the whole suite, 2400 for the slice or
#                     named files; the slice takes ~400 s on 6.1 and ~430 s on 5.10, side by side)
#   KMATRIX_JOBS      guests side by side (default 1; 2 suits a 2-core machine)
#   KMATRIX_SMP       guest CPUs (default 1: the machine is shared)
#   KMATRIX_MEM       guest memory in MiB (default 2048)
#   KMATRIX_ARCH      amd64 or arm64, as --arch (default amd64)
#   LIBBPF_NODE_TEST_SLOW  passed into the guest (default 8, arm64 16): test/support/scale.ts
#                     multiplies fixed timeouts by it and divides heavy sweeps by it, for emulation
#                     (arm64 under TCG here: a first node start took over 80 s at load 4).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
project=$(cd "$here/../.." && pwd)
cache="$here/.cache"
log() { echo "kernels: $*" >&2; }

# The slice: the tests that touch kernel features, the files tagged `// @module-tag kernel-slice`.
SLICE=$(node "$here/../support/tags.mjs" kernel-slice)

suites="bullseye bookworm trixie sid experimental"
slice=""
files=""
lockdown=""
exec_cmd=""
next_is_exec=""
next_is_arch=""
arch=${KMATRIX_ARCH:-amd64}
for a in "$@"; do
  if [ -n "$next_is_exec" ]; then exec_cmd=$a; next_is_exec=""; continue; fi
  if [ -n "$next_is_arch" ]; then arch=$a; next_is_arch=""; continue; fi
  case "$a" in
    --slice) slice=1 ;;
    --arch) next_is_arch=1 ;;
    --arch=*) arch=${a#--arch=} ;;
    --lockdown) lockdown=1 ;;
    --exec) next_is_exec=1 ;;
    test/*|*.ts) files="$files $a" ;;
    *) suites=""
       for v in $(echo "$a" | tr ',' ' '); do
         case "$v" in
           5.10|bullseye) suites="$suites bullseye" ;;
           6.1|bookworm) suites="$suites bookworm" ;;
           6.12|trixie) suites="$suites trixie" ;;
           sid|unstable) suites="$suites sid" ;;
           newest|experimental) suites="$suites experimental" ;;
           *) log "unknown kernel '$v' (use 5.10, 6.1, 6.12, sid, newest or a Debian suite name)"; exit 2 ;;
         esac
       done ;;
  esac
done
case "$arch" in
  amd64|x64|x86_64) arch=amd64 ;;
  arm64|aarch64) arch=arm64 ;;
  *) log "unknown architecture '$arch' (amd64 or arm64)"; exit 2 ;;
esac
# A named file that is not there is looked up by its name under test/: the concept layout moved
# the files into folders (test/xdp.test.ts is now test/attach/xdp.test.ts), and commands written
# down before that still run. A name that fits no file, or more than one, is refused.
named=""
for f in $files; do
  if [ -f "$project/$f" ]; then named="$named $f"; continue; fi
  found=$(cd "$project" && find test -name "$(basename "$f")" -not -path '*/node_modules/*' | sort)
  case "$(echo "$found" | grep -c .)" in
    1) log "$f is now $found: running that"; named="$named $found" ;;
    0) log "no test file $f"; exit 2 ;;
    *) log "$f could be any of: $(echo $found)"; exit 2 ;;
  esac
done
files=$named
# Names of this architecture's files in .cache (amd64 keeps the names it always had).
tag=""; [ "$arch" = amd64 ] || tag="-$arch"
# How much slower than hardware a guest is (LIBBPF_NODE_TEST_SLOW's default).
slow=8; [ "$arch" = amd64 ] || slow=16
[ -n "$slice" ] && [ -z "$files" ] && files=$(echo $SLICE)
# The slice takes ~7 minutes a guest here; the whole suite ~35 minutes (README, Supported kernels).
default_timeout=7200
[ -n "$files" ] && default_timeout=2400
timeout=${KMATRIX_TIMEOUT:-$default_timeout}

# What the runner needs from Debian, installed when missing (as root), like .ci/setup.sh does.
need="busybox-static kmod cpio zstd xz-utils"
if [ "$arch" = arm64 ]; then need="$need qemu-system-arm"; else need="$need qemu-system-x86"; fi
missing=""
for p in $need; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  [ "$(id -u)" = 0 ] || { log "needs Debian packages:$missing (run as root, or install them)"; exit 2; }
  log "installing$missing"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null 2>&1 ||
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null; }
fi

# The guests run what is built here: build it once, on the host.
sh "$project/.ci/setup.sh" >&2
# ...with the child processes the reliability tests spawn (test/support/helpers.ts buildTs:
# starting tsc in a guest takes minutes).
(cd "$project" && npx --no-install tsc -p test/reliability/tsconfig.json && touch dist/.tsbuildinfo-reliability)

# The guest's userland: this machine's root filesystem (amd64), or an arm64 one (arm64).
userland=/
if [ "$arch" = arm64 ]; then
  # The arm64 prebuild, not a build in the guest: made when missing or older than the sources.
  addon=$(ls "$project"/prebuilds/linux-arm64/*.node 2>/dev/null | head -n 1)
  if [ -z "$addon" ] || [ -n "$(find "$project/native" "$project/binding.gyp" -newer "$addon" 2>/dev/null | head -n 1)" ]; then
    log "building the arm64 prebuild (.ci/prebuild.sh arm64)"
    sh "$project/.ci/prebuild.sh" arm64 >&2
  fi
  # Node, busybox (the initramfs's), and what the tests run: ip, ping, modprobe, bpftool, tcpdump, unshare, taskset, flock;
  # and systemtap's sys/sdt.h for the USDT target below.
  userland=$(sh "$project/.ci/arm64-root.sh" busybox-static iproute2 iputils-ping kmod tar coreutils util-linux dash bpftool tcpdump systemtap-sdt-dev)
  # The test fixtures and binaries for arm64: <bpf/bpf_tracing.h> reads arm64's pt_regs, and the
  # uprobe and USDT targets are arm64 executables (the prebuild brought the cross compiler).
  command -v aarch64-linux-gnu-gcc >/dev/null || {
    log "installing Debian's cross compiler gcc-aarch64-linux-gnu"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends gcc-aarch64-linux-gnu >/dev/null
  }
  # (ARCH_INC: arm64's UAPI headers, struct user_pt_regs; sys/sdt.h: systemtap-sdt-dev's, from the
  # arm64 root.)
  make -s -C "$project/bpf" fixtures test-bins TARGET_ARCH=arm64 ARCH_INC=/usr/aarch64-linux-gnu/include \
    TEST_CC=aarch64-linux-gnu-gcc TEST_CFLAGS="-idirafter $userland/usr/include/aarch64-linux-gnu" DIST="$cache/dist-arm64/dist"
  # The guest mounts it read-only: the mount points and the few files dpkg would have made.
  for d in proc sys dev tmp run var/tmp root mnt "${project#/}"; do mkdir -p "$userland/$d"; done
  [ -s "$userland/etc/passwd" ] || printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n' > "$userland/etc/passwd"
  [ -s "$userland/etc/group" ] || printf 'root:x:0:\nnogroup:x:65534:\n' > "$userland/etc/group"
  [ -s "$userland/etc/hosts" ] || printf '127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n' > "$userland/etc/hosts"
  # The test runner's platform packages (vite's rolldown and lightningcss), in the versions the
  # repo's linux-x64 ones have, for linux-arm64: into .cache, added to the guest's tree below.
  npm_arm64="$cache/npm-arm64"
  wanted=""
  for x in "$project"/node_modules/@rolldown/binding-linux-x64-gnu "$project"/node_modules/lightningcss-linux-x64-gnu; do
    [ -f "$x/package.json" ] || continue
    wanted="$wanted $(node -p "const p = require('$x/package.json'); p.name.replace('linux-x64', 'linux-arm64') + '@' + p.version")"
  done
  have=$(cat "$npm_arm64/.wanted" 2>/dev/null || true)
  if [ "$have" != "$wanted" ]; then
    log "fetching the linux-arm64 builds of$wanted"
    rm -rf "$npm_arm64" && mkdir -p "$npm_arm64"
    # npm pack fetches (and checks) each package without the platform check an install makes here.
    for w in $wanted; do
      name=${w%@*}
      tgz=$(cd "$npm_arm64" && npm pack --silent "$w" | tail -n 1)
      mkdir -p "$npm_arm64/node_modules/$name"
      tar -xzf "$npm_arm64/$tgz" -C "$npm_arm64/node_modules/$name" --strip-components=1
      rm -f "$npm_arm64/$tgz"
    done
    echo "$wanted" > "$npm_arm64/.wanted"
  fi
fi

qemu_pid=""
cleanup() { # (every step may fail: set -e must not cut it short)
  rm -rf "${stage:-}" "${tree:-}"
  [ -z "$qemu_pid" ] || kill "$qemu_pid" 2>/dev/null || true
  [ -z "${pids:-}" ] || kill $pids 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The tree the guests run is packed once; each guest unpacks it into memory at the same path.
# Thousands of small reads over 9p are slow under emulation: on 5.10 a vitest file ran 5x faster
# from memory (31 s against 152 s), and the slice there went from 1,730 s to 805 s.
mkdir -p "$cache"
tree="$cache/tree-$$.tar"
# arm64: without build/ (this machine's x64 addon: node-gyp-build would try it before the
# prebuild), with the runner's arm64 platform packages.
nobuild=""; [ "$arch" = amd64 ] || nobuild="--exclude=./build --exclude=./dist/test-bpf --exclude=./dist/test-bin"
tar -C "$project" -cf "$tree" --exclude=./.git --exclude=./build-prebuild --exclude=./test/kernels/.cache \
  --exclude=./bench/out --exclude=./docs/api --exclude='./*.tgz' $nobuild .
if [ "$arch" = arm64 ]; then
  (cd "$npm_arm64" && tar -rf "$tree" ./node_modules)
  tar -C "$cache/dist-arm64" -rf "$tree" ./dist/test-bpf ./dist/test-bin
fi

# Builds the initramfs for one kernel: busybox, init.sh, the 9p/virtio modules (decompressed, in
# load order), and the command to run.
initramfs() { # $1 release, $2 module root (…/lib/modules/<release>), $3 output, $4 expectation name
  stage=$(mktemp -d)
  mkdir -p "$stage/bin" "$stage/modules" "$stage/proc" "$stage/sys" "$stage/dev"
  cp "$userland/bin/busybox" "$stage/bin/busybox"
  cp "$here/init.sh" "$stage/init"
  chmod +x "$stage/init"
  : > "$stage/modules.order"
  base=${2%/lib/modules/$1}
  for m in virtio_pci 9pnet_virtio 9p; do
    modprobe -d "$base" -S "$1" --show-depends "$m" 2>/dev/null | awk '$1 == "insmod" {print $2}'
  done | awk '!seen[$0]++' | while read -r ko; do
    name=$(basename "$ko" | sed 's/\.\(xz\|zst\|gz\)$//')
    case "$ko" in
      *.xz) xz -dc "$ko" > "$stage/modules/$name" ;;
      *.zst) zstd -qdc "$ko" > "$stage/modules/$name" ;;
      *.gz) gzip -dc "$ko" > "$stage/modules/$name" ;;
      *) cp "$ko" "$stage/modules/$name" ;;
    esac
    echo "$name" >> "$stage/modules.order"
  done
  printf 'PROJECT=%s\nTREE=%s\nRELEASE=%s\nSLOW=%s\n' "$project" "${tree#$project/}" "$1" "${LIBBPF_NODE_TEST_SLOW:-$slow}" > "$stage/env"
  if [ -n "$exec_cmd" ]; then
    printf '%s\n' "$exec_cmd" > "$stage/cmd"
  else
    cat > "$stage/cmd" <<EOF
echo "KMATRIX-STEP features \$(cut -d' ' -f1 /proc/uptime)"
node -e "const f = require('./dist/lib/features.js').features; console.log('KMATRIX-FEATURES ' + f.list().filter((x) => !x.available).map((x) => x.name + (x.state === 'undetermined' ? ' (undetermined: ' + x.errno + ')' : '')).join(', '))"
node test/kernels/expect-features.cjs $4; expect_rc=\$?
echo "KMATRIX-STEP vitest \$(cut -d' ' -f1 /proc/uptime)"
node node_modules/vitest/vitest.mjs run --reporter=verbose --reporter=./test/support/summary-reporter.mts $files
rc=\$?; [ "\$rc" != 0 ] || rc=\$expect_rc; exit "\$rc"
EOF
  fi
  (cd "$stage" && find . | cpio -o -H newc --quiet | gzip -1) > "$3"
  rm -rf "$stage"; stage=""
}

# One guest: boots the suite's kernel, runs the tests, prints one summary line, returns 1 when
# anything failed. Runs in a subshell of its own when guests run side by side (KMATRIX_JOBS).
run_suite() {
  line=$(cat "$cache/fetched-$1$tag")
  suite=$1
  release=$(echo "$line" | cut -d' ' -f2)
  dir=$(echo "$line" | cut -d' ' -f3)
  modules=$(ls -d "$dir/root/lib/modules/$release" "$dir/root/usr/lib/modules/$release" 2>/dev/null | head -n 1)
  kernel=$(ls "$dir/root/boot/vmlinuz-$release" "$modules/vmlinuz" 2>/dev/null | head -n 1)
  mkdir -p "$cache/logs"
  expect="$suite$tag"
  if [ "$arch" = arm64 ]; then
    # qemu's virt machine (a PL011 serial port) with a Cortex-A72 (KMATRIX_ARM64_CPU overrides
    # it). Under -cpu max, Debian's Node 20 died in both runs of xdp.test.ts with this machine's
    # qemu 7.2: in V8's deoptimizer ("Check failed: CodeKindCanDeoptimize", pauth-impdef=on) and
    # with a segfault before the first test (pauth=off); on the Cortex-A72 the file ran through.
    cpu=${KMATRIX_ARM64_CPU:-cortex-a72}
    append="console=ttyAMA0 quiet panic=-1 mitigations=off"
    set -- qemu-system-aarch64 -machine virt,accel=tcg -cpu "$cpu"
  else
    append="console=ttyS0 quiet panic=-1 tsc=reliable no_timer_check mitigations=off"
    set -- qemu-system-x86_64 -machine accel=tcg -cpu max
  fi
  if [ -n "$lockdown" ]; then expect="$expect-lockdown"; append="$append lockdown=confidentiality"; fi
  out="$cache/logs/$release${lockdown:+-lockdown}.log"
  rm -f "$out" # (a result is never read from an earlier run's log)
  initramfs "$release" "$modules" "$cache/initramfs-$release${lockdown:+-lockdown}.cpio.gz" "$expect"
  log "$release: booting${lockdown:+ with lockdown=confidentiality} (timeout ${timeout}s, log $out)"
  start=$(date +%s)
  nice -n 10 "$@" -smp "${KMATRIX_SMP:-1}" -m "${KMATRIX_MEM:-2048}" \
    -no-reboot -nic none -serial stdio -display none -monitor none \
    -kernel "$kernel" -initrd "$cache/initramfs-$release${lockdown:+-lockdown}.cpio.gz" \
    -append "$append" \
    -virtfs "local,path=$userland,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap" \
    -virtfs "local,path=$project,mount_tag=project,security_model=none,readonly=on" \
    -virtfs "local,path=$modules,mount_tag=modules,security_model=none,readonly=on" \
    < /dev/null > "$out" 2>&1 &
  qemu_pid=$!
  # Bounded: past the deadline the guest is killed (qemu stays our direct child, nothing else
  # is started that could outlive this script).
  # A line a minute says how far the guest is (tests done, from vitest's verbose per-test lines).
  report=60
  while kill -0 "$qemu_pid" 2>/dev/null; do
    secs=$(( $(date +%s) - start ))
    [ "$secs" -lt "$timeout" ] || kill "$qemu_pid" 2>/dev/null || true
    if [ "$secs" -ge "$report" ]; then
      report=$(( report + 60 ))
      done_tests=$(grep -a -c -E '^ +[^ ]+ test/[^ ]+\.test\.ts > ' "$out" || true)
      log "$release: ${secs}s, $done_tests tests done"
    fi
    sleep 2
  done
  wait "$qemu_pid" 2>/dev/null || true
  qemu_pid=""
  status=0
  secs=$(( $(date +%s) - start ))
  rc=$(sed -n 's/.*KMATRIX-RC=\([0-9]*\).*/\1/p' "$out" | tail -n 1)
  counts=$(sed -n 's/.*\(tests: [0-9]* passed, [0-9]* failed, [0-9]* skipped\).*/\1/p' "$out" | tail -n 1)
  missing=$(sed -n 's/.*KMATRIX-FEATURES \(.*\)$/\1/p' "$out" | tr -d '\r' | tail -n 1)
  expected=$(sed -n 's/.*KMATRIX-EXPECT \(.*\)$/\1/p' "$out" | tr -d '\r' | tail -n 1)
  case "$expected" in MISMATCH*) status=1; grep -a 'KMATRIX-EXPECT-WRONG' "$out" | tr -d '\r' >&2 || true ;; esac
  if [ -z "$rc" ]; then
    if [ "$secs" -ge "$timeout" ]; then result="timed out after ${timeout}s"; else result="no result"; fi
    result="$result (see $out)"; status=1
  elif [ "$rc" != 0 ]; then
    result="${counts#tests: } FAILED (exit $rc)"; status=1
  else
    result="${counts#tests: }"
  fi
  echo "$release ($suite$tag${lockdown:+, lockdown}): $result in ${secs}s (features missing: ${missing:-none}; recorded feature set: ${expected:-not checked})"
  return $status
}

# Fetch first, one suite at a time (the private apt state is shared), then boot.
mkdir -p "$cache"
for suite in $suites; do
  KMATRIX_ARCH=$arch sh "$here/fetch.sh" "$suite" > "$cache/fetched-$suite$tag"
done

# KMATRIX_JOBS guests side by side (default 1); each is one emulated CPU, so 2 suits a 2-core
# machine. The guests' lines are printed when all are done, in the order asked.
jobs=${KMATRIX_JOBS:-1}
status=0
batch=""
pids=""
for suite in $suites; do
  # A guest's subshell kills its own qemu when it is stopped (traps are not inherited).
  (trap 'cleanup; exit 143' INT TERM; run_suite "$suite" > "$cache/result-$suite$tag${lockdown:+-lockdown}") &
  batch="$batch $!"
  pids="$pids $!"
  if [ "$(echo $batch | wc -w)" -ge "$jobs" ]; then
    for pid in $batch; do wait "$pid" || status=1; done
    batch=""
  fi
done
for pid in $batch; do wait "$pid" || status=1; done
for suite in $suites; do
  cat "$cache/result-$suite$tag${lockdown:+-lockdown}" 2>/dev/null || echo "$suite$tag: no result"
done
exit $status
