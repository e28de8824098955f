#!/bin/sh
# check-container.sh: builds deploy/kubernetes/Containerfile with Debian's podman and runs the
# image the way deploy/kubernetes/daemonset.yaml does, then checks that the agent inside attaches
# to a veth in a namespace this script made, fills its slots, counts traffic and serves /metrics
# on loopback, and that SIGTERM stops it leaving the programs running. `npm run check:container`;
# not part of `npm test` (minutes: debootstrap once, the prebuilt addon, the image).
#
# No registry is reachable, so the Containerfile's base (node:20-bookworm-slim) is replaced
# (podman build --from) by one made here: Debian bookworm by debootstrap (minbase) from the
# mirror apt already uses, imported with `podman import` (cached as
# localhost/libbpf-node-debian:bookworm; CHECK_CONTAINER_REBUILD_BASE=1 makes it again), plus
# Node.js from the host's `nodejs` package (bookworm's own Node.js is 18; the package needs
# >= 20.5): localhost/libbpf-node-base:bookworm.
#
# Runtime flags for this kind of host (see deploy/README.md): --runtime runc (crun refuses hybrid
# cgroups), --cgroup-manager=cgroupfs, and rlimits the host lets us set (no CAP_SYS_RESOURCE).
# Needs root. Installs podman, debootstrap and runc from Debian when missing.
set -eu
cd "$(dirname "$0")/.."
root=$(pwd)
started=$(date +%s)
say() { echo "check-container: $* ($(( $(date +%s) - started )) s)"; }
fail() { echo "check-container: FAILED: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "check-container: needs root" >&2; exit 2; }
if ! command -v podman >/dev/null || ! command -v debootstrap >/dev/null || ! command -v runc >/dev/null; then
  say "installing Debian's podman, debootstrap and runc"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends podman debootstrap runc >/dev/null
fi
P="podman --runtime runc --cgroup-manager=cgroupfs"
version=$(node -p "require('./package.json').version")
base=localhost/libbpf-node-base:bookworm
image=localhost/libbpf-node-agent:$version
tag=lbncc$$
nsa=$tag-a
nsb=$tag-b
pinbase=/sys/fs/bpf/$tag
port=$(( 20000 + $$ % 10000 ))
work=$(mktemp -d /var/tmp/check-container.XXXXXX)
cli="node $root/dist/lib/cli/xdp-root.js"

cleanup() {
  $P rm -f -t 0 "$tag" >/dev/null 2>&1 || true
  $cli detach "$tag"a --netns "/run/netns/$nsa" --pin-base "$pinbase" >/dev/null 2>&1 || true
  ip netns del "$nsa" 2>/dev/null || true
  ip netns del "$nsb" 2>/dev/null || true
  rm -rf "$pinbase" "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# 1. The base image, from Debian packages only: Debian by debootstrap (cached), then Node.js.
debian=localhost/libbpf-node-debian:bookworm
if [ "${CHECK_CONTAINER_REBUILD_BASE:-0}" = 1 ] || ! $P image exists "$debian"; then
  mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n 1)
  [ -n "$mirror" ] || mirror=$(awk '$1 == "deb" { print $2; exit }' /etc/apt/sources.list 2>/dev/null)
  [ -n "$mirror" ] || fail "no Debian mirror in apt's sources"
  say "debootstrap bookworm (minbase) from apt's mirror"
  debootstrap --variant=minbase bookworm "$work/rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 || { tail -n 20 "$work/debootstrap.log" >&2; fail "debootstrap"; }
  rm -rf "$work/rootfs/var/cache/apt/archives/"*.deb "$work/rootfs/var/lib/apt/lists/"*
  say "podman import"
  tar -C "$work/rootfs" -cf - . | $P import --change 'CMD ["/bin/bash"]' - "$debian" >/dev/null
  rm -rf "$work/rootfs"
fi
# Node.js: the host's nodejs package (its node binary and npm as installed).
dpkg -s nodejs >/dev/null 2>&1 || fail "the host has no nodejs package to take Node.js from"
say "adding the host's nodejs package ($(dpkg-query -W -f '${Version}' nodejs)) to the base"
# Laid out as in the node:20 images (under /usr/local, so npm's global folder is
# /usr/local/lib/node_modules, where the Containerfile's ENTRYPOINT looks).
mkdir -p "$work/node/usr/local/bin" "$work/node/usr/local/lib/node_modules"
cp -a "$(readlink -f /usr/bin/node)" "$work/node/usr/local/bin/node"
cp -a /usr/lib/node_modules/npm "$work/node/usr/local/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$work/node/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$work/node/usr/local/bin/npx"
# The host's CA bundle too: a network that intercepts TLS (as this one does) needs its CA, and
# minbase has no ca-certificates; Node.js (npm) takes it through NODE_EXTRA_CA_CERTS.
mkdir -p "$work/node/usr/local/share/ca-certificates"
cp /etc/ssl/certs/ca-certificates.crt "$work/node/usr/local/share/ca-certificates/host-bundle.crt"
printf 'FROM %s\nRUN rm -rf /usr/lib/node_modules/npm /usr/bin/node /usr/bin/npm /usr/bin/npx\nCOPY usr /usr\nENV NODE_EXTRA_CA_CERTS=/usr/local/share/ca-certificates/host-bundle.crt\nRUN node -v && npm -v\n' "$debian" >"$work/node/Containerfile"
$P build --network none -f "$work/node/Containerfile" -t "$base" "$work/node" >"$work/base.log" 2>&1 || { tail -n 20 "$work/base.log" >&2; fail "the base with Node.js"; }

# 2. The package as a release ships it: dist/, the prebuilt addon, packed.
say "building dist/ and the x64 prebuild (when native/ changed)"
sh .ci/setup.sh >"$work/setup.log" 2>&1 || { tail -n 20 "$work/setup.log" >&2; fail "setup"; }
addon=$(ls prebuilds/linux-x64/*.node 2>/dev/null | head -n 1)
if [ -z "$addon" ] || [ -n "$(find native binding.gyp ext/libbpf.env -newer "$addon" -print -quit)" ]; then
  sh .ci/prebuild.sh x64 >"$work/prebuild.log" 2>&1 || { tail -n 20 "$work/prebuild.log" >&2; fail "prebuild"; }
fi
mkdir -p "$work/ctx"
npm pack --ignore-scripts --silent --pack-destination "$work/ctx" >/dev/null
[ -f "$work/ctx/libbpf-node-$version.tgz" ] || fail "npm pack wrote no libbpf-node-$version.tgz"

# 3. The image, as deploy/kubernetes/Containerfile says (its base replaced, see above).
say "podman build"
$P build --from "$base" --network host -f "$root/deploy/kubernetes/Containerfile" -t "$image" "$work/ctx" >"$work/build.log" 2>&1 || { tail -n 30 "$work/build.log" >&2; fail "podman build"; }

# 4. A veth pair with both ends in namespaces made here, and a config for one end.
ip netns add "$nsa"
ip netns add "$nsb"
ip link add "$tag"a netns "$nsa" type veth peer name "$tag"b netns "$nsb"
ip -n "$nsa" addr add 198.18.77.1/24 dev "$tag"a
ip -n "$nsb" addr add 198.18.77.2/24 dev "$tag"b
ip -n "$nsa" link set "$tag"a up
ip -n "$nsb" link set "$tag"b up
mkdir -p "$work/config" "$work/state"
cat >"$work/config/fleet.yaml" <<YAML
pinBase: $pinbase
interfaces:
  - name: ${tag}a
    netns: /run/netns/$nsa
    mode: skb
    slots: 4
    programs:
      - slot: 0
        object: xdp_counter
      - slot: 1
        object: xdp_filter
        filter:
          block: [ { cidr: 198.18.99.0/24, tag: check } ]
      - slot: 2
        object: xdp_pass
YAML

# 5. Run it as the DaemonSet does: host network, host bpffs, /run/netns read-only, the config
#    read-only, capabilities instead of privileged, read-only root, no privilege escalation.
say "podman run (as the DaemonSet)"
$P run -d --name "$tag" \
  --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 \
  --cap-drop all --cap-add bpf,net_admin,perfmon,sys_admin \
  --security-opt no-new-privileges --read-only \
  --network host \
  -v /sys/fs/bpf:/sys/fs/bpf -v /run/netns:/run/netns:ro \
  -v "$work/config:/etc/xdp-root:ro" -v "$work/state:/run/xdp-root" \
  "$image" agent --config /etc/xdp-root/fleet.yaml --metrics "127.0.0.1:$port" --log-format json --run-stats --state /run/xdp-root/fleet-state.json >/dev/null

i=0
until $P logs "$tag" 2>&1 | grep -q '"msg":"in sync'; do
  i=$((i + 1))
  if [ $i -gt 120 ] || [ "$($P inspect -f '{{.State.Running}}' "$tag")" != true ]; then
    $P logs "$tag" >&2 || true
    fail "the agent did not report 'in sync' within 60 s"
  fi
  sleep 0.5
done
say "the agent says: $($P logs "$tag" 2>&1 | grep '"msg":"in sync' | head -n 1)"
caps=$($P exec "$tag" sh -c 'grep CapEff /proc/1/status' | awk '{ print $2 }')
say "the agent's effective capabilities: $caps"

status=$($cli status "$tag"a --netns "/run/netns/$nsa" --pin-base "$pinbase" --json)
echo "$status" | node -e '
  const s = JSON.parse(require("fs").readFileSync(0, "utf8"))[0];
  const names = s.slots.map((x) => x.name ?? null);
  if (!s.attached || JSON.stringify(names) !== JSON.stringify(["xdp_counter", "xdp_filter", "xdp_pass", null])) {
    console.error("unexpected slots:", JSON.stringify(names), "attached:", s.attached); process.exit(1);
  }' || fail "the slots are not as configured"
say "root array attached to ${tag}a in $nsa, slots as configured"

ip netns exec "$nsb" ping -c 20 -i 0.05 -W 1 -q 198.18.77.1 >/dev/null || fail "no ping replies through the root array"
metrics=$(node -e "fetch('http://127.0.0.1:$port/metrics').then((r) => r.text()).then((t) => process.stdout.write(t), (e) => { console.error(e.message); process.exit(1) })") || fail "no /metrics on 127.0.0.1:$port"
echo "$metrics" | node -e '
  const t = require("fs").readFileSync(0, "utf8");
  const iface = process.argv[1];
  const line = t.split("\n").find((l) => l.startsWith("xdp_root_slot_packets_total{") && l.includes(`interface="${iface}"`) && l.includes("slot=\"0\"") && l.includes("action=\"pass\""));
  const n = line ? Number(line.split(" ").pop()) : 0;
  if (!(n >= 20)) { console.error("slot 0 passed", n, "packets, expected at least 20\n" + t.split("\n").filter((l) => l.includes(iface)).slice(0, 20).join("\n")); process.exit(1); }
  if (!t.includes("xdp_root_agent_config_ok 1")) { console.error("xdp_root_agent_config_ok is not 1"); process.exit(1); }
  console.log(line);' "$tag"a >"$work/sample" || fail "the metrics do not count the traffic"
say "/metrics on 127.0.0.1:$port: $(cat "$work/sample")"

$P stop -t 20 "$tag" >/dev/null
code=$($P inspect -f '{{.State.ExitCode}}' "$tag")
[ "$code" = 0 ] || fail "the agent exited $code on SIGTERM"
$cli status "$tag"a --netns "/run/netns/$nsa" --pin-base "$pinbase" --json | grep -q '"attached": true' || fail "the root array did not outlive the agent"
say "SIGTERM: the agent exited 0, the programs still run"
say "passed"
