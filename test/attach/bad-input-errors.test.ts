// The mistakes a new user makes, each answered with a typed error that names the argument, says
// what happened and what to do — and leaves nothing open behind it.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  attachCgroup,
  attachCgroupLegacy,
  attachIter,
  attachPerfEvent,
  attachUprobe,
  attachXdp,
  bpfCflags,
  BpfError,
  BpfMap,
  BpfObject,
  RootArray,
  shippedObjectPath,
} from '../../lib/index';
import { cgroup2Path } from '../../lib/features';
import { VethPair } from '../../lib/testing/index';
import { describeBpf, describeNet, fixturePath } from '../support/helpers';
import { scaledMs } from '../support/kernel';

const fdCount = (): number => readdirSync('/proc/self/fd').length;

/** Runs `fn`, returns what it threw, and checks that no fd was left open by the refusal. */
function refusal(fn: () => unknown): unknown {
  const before = fdCount();
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown, 'the call was refused').toBeDefined();
  expect(fdCount(), 'fds after the refusal').toBe(before);
  return thrown;
}

describeBpf('bad input to the attach calls', () => {
  let work = '';
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'lbn-bad-'));
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('attachUprobe on a text file, a folder or /dev/null: names options.binary, not "BPF ELF object"', async () => {
    using obj = BpfObject.open(fixturePath('attach_uprobe'));
    obj.program('on_target_cookie').autoload = false;
    await obj.load();
    const text = join(work, 'notes.txt');
    writeFileSync(text, 'not a program\n');
    for (const binary of [text, work, '/dev/null']) {
      const e = refusal(() => attachUprobe(obj.program('on_target'), { binary, func: 'main' }));
      expect(e, binary).toBeInstanceOf(RangeError);
      expect((e as Error).message).toMatch(new RegExp(`options\\.binary '${binary}' is not (an ELF file|a regular file)`));
      expect((e as Error).message).not.toMatch(/BPF ELF object/);
    }
    const missing = refusal(() => attachUprobe(obj.program('on_target'), { binary: join(work, 'nope'), func: 'main' }));
    expect(missing).toBeInstanceOf(BpfError);
    expect((missing as BpfError).code).toBe('ENOENT');
    expect((missing as BpfError).message).toMatch(/options\.binary '.*nope'/);
  });

  it('attachCgroup and attachCgroupLegacy on a folder that is not a cgroup v2 directory: says so, not EBADF', async () => {
    using obj = BpfObject.open(fixturePath('attach_cgroup'));
    await obj.load();
    for (const call of [() => attachCgroup(obj.program('count_egress'), work), () => attachCgroupLegacy(obj.program('count_egress'), work)]) {
      const e = refusal(call);
      expect(e).toBeInstanceOf(RangeError);
      expect((e as Error).message).toMatch(/cgroup '.*' is not a cgroup v2 directory; give a folder under the cgroup2 mount/);
    }
  });

  it("option values are checked against what the call accepts: mode 'toString', order 'constructor'", async () => {
    using obj = BpfObject.open(fixturePath('attach_cgroup'));
    await obj.load();
    const cgroup = cgroup2Path() ?? '/sys/fs/cgroup';
    const mode = refusal(() => attachCgroupLegacy(obj.program('count_egress'), cgroup, { mode: 'toString' as never }));
    expect(mode).toBeInstanceOf(RangeError);
    expect((mode as Error).message).toBe("options.mode must be one of 'exclusive', 'override', 'multi', got 'toString'");
    using iter = BpfObject.open(fixturePath('attach_iter'));
    await iter.load();
    // A task iterator given a cgroup fails on the kind first; the order check needs a cgroup iterator.
    const order = refusal(() => attachIter(iter.program('dump_task'), { cgroup, order: 'constructor' as never }));
    expect(order).toBeInstanceOf(TypeError);
    expect((order as Error).message).toMatch(/options\.cgroup applies to cgroup iterators/);
  });

  it('a task iterator given { map } is refused before the kernel reads the map fd as a tid', async () => {
    using obj = BpfObject.open(fixturePath('attach_iter'));
    await obj.load();
    using map = BpfMap.create({ type: 'array', keySize: 4, valueSize: 4, maxEntries: 1 });
    const e = refusal(() => attachIter(obj.program('dump_task'), { map }));
    expect(e).toBeInstanceOf(TypeError);
    expect((e as Error).message).toBe(
      "attachIter: options.map applies to map iterators (iter/bpf_map_elem, iter/bpf_sk_storage_map, iter/sockmap); program 'dump_task' is an 'iter/task' iterator",
    );
  });

  it('perf events: type past 32 bits, config past 64 bits and an impossible CPU are range errors naming the option', async () => {
    using obj = BpfObject.open(fixturePath('attach_perf_event'));
    await obj.load();
    const p = obj.program('on_sample');
    const type = refusal(() => attachPerfEvent(p, { event: { type: 2 ** 32 + 1, config: 0 }, frequency: 1 }));
    expect(type).toBeInstanceOf(RangeError);
    expect((type as Error).message).toBe('options.event.type must be an integer in [0, 4294967295], got 4294967297');
    const config = refusal(() => attachPerfEvent(p, { event: { type: 1, config: 2n ** 64n }, frequency: 1 }));
    expect((config as Error).message).toMatch(/^options\.event\.config must be an integer in \[0, 2\*\*64 - 1\]/);
    const cpu = refusal(() => attachPerfEvent(p, { event: 'cpu-clock', frequency: 1, cpus: [2 ** 31] }));
    expect(cpu).toBeInstanceOf(RangeError);
    expect((cpu as Error).message).toMatch(/^options\.cpus\[0\] must be a CPU number in \[0, \d+\] \(this machine's possible CPUs\), got 2147483648$/);
    const name = refusal(() => attachPerfEvent(p, { event: 'toString' as never, frequency: 1 }));
    expect((name as Error).message).toMatch(/^options\.event: unknown event 'toString'/);
  });

  it('a global read from an object built without -g says to build it with -g', () => {
    const src = join(work, 'noglobals.bpf.c');
    writeFileSync(src, '#include <linux/bpf.h>\n#include <bpf/bpf_helpers.h>\nvolatile const __u32 verdict = 2;\nSEC("xdp") int prog(struct xdp_md *ctx) { return verdict; }\nchar LICENSE[] SEC("license") = "GPL";\n');
    const out = join(work, 'noglobals.bpf.o');
    const flags = bpfCflags().filter((f) => f !== '-g');
    execFileSync('clang', [...flags, '-c', src, '-o', out]);
    using obj = BpfObject.open(out);
    expect(() => obj.globals.get('verdict')).toThrow(/it has no BTF, which names them; build it with clang -g/);
  });

  it('attachSocket(dgram socket), the documented form, does not read the deprecated _handle (DEP0112)', () => {
    // In a child with --throw-deprecation: reading dgram's _handle would end the process.
    const lib = join(__dirname, '..', '..', 'dist', 'lib', 'index.js');
    const script = `
      const dgram = require('node:dgram');
      const { BpfObject, attachSocket, detachSocket } = require(${JSON.stringify(lib)});
      const s = dgram.createSocket('udp4');
      s.bind(0, '127.0.0.1', async () => {
        const obj = BpfObject.open(${JSON.stringify(fixturePath('attach_socket'))});
        await obj.load();
        attachSocket(obj.program(obj.programs[0].name), s);
        console.log(detachSocket(s) ? 'attached and detached' : 'not attached');
        s.close(); obj.close();
      });`;
    const r = spawnSync(process.execPath, ['--throw-deprecation', '-e', script], { encoding: 'utf8', timeout: scaledMs(20_000) });
    expect(r.stderr).not.toMatch(/DEP0112|DeprecationWarning/);
    expect(r.stdout.trim()).toBe('attached and detached');
    expect(r.status).toBe(0);
  });
});

describeNet('bad input around the root array', () => {
  let net: VethPair | undefined;
  const mounted: string[] = [];
  afterAll(async () => {
    for (const dir of mounted) {
      spawnSync('umount', [dir]);
      rmSync(dir, { recursive: true, force: true });
    }
    await net?.close();
  });

  it('on a read-only bpffs: a BpfError with the kernel\'s EROFS; a pinned file as pin base: ENOTDIR naming it', async () => {
    net = await VethPair.create();
    const ro = `/sys/fs/bpf/lbn-ro-${process.pid}`;
    mkdirSync(ro);
    mounted.push(ro);
    execFileSync('mount', ['-t', 'bpf', '-o', 'ro', 'bpf', ro]);
    const e = await RootArray.attach(net.a.ifname, { netns: net.a.netnsPath, pinBase: `${ro}/xdp-root`, mode: 'skb' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(BpfError);
    expect((e as BpfError).code).toBe('EROFS');
    expect((e as BpfError).op).toBe('mkdir');
    expect((e as BpfError).message).toMatch(/pin base '\/sys\/fs\/bpf\/lbn-ro-\d+\/xdp-root': cannot make/);
    // Nothing was attached.
    expect(RootArray.exists(net.a.ifname, { netns: net.a.netnsPath, pinBase: `${ro}/xdp-root` })).toBe(false);

    // A pinned map where the pin base should be a folder.
    const file = `/sys/fs/bpf/lbn-file-${process.pid}`;
    using obj = BpfObject.open(shippedObjectPath('xdp_pass'));
    await obj.load();
    const map = obj.maps[0];
    if (map) {
      map.pin(file);
      try {
        const f = await RootArray.attach(net.a.ifname, { netns: net.a.netnsPath, pinBase: file, mode: 'skb' }).catch((x: unknown) => x);
        expect(f).toBeInstanceOf(BpfError);
        expect((f as BpfError).code).toBe('ENOTDIR');
        expect((f as BpfError).message).toMatch(/exists and is not a folder/);
      } finally {
        rmSync(file, { force: true });
      }
    }
  });

  it('attachXdp on an interface that runs a root array says to load into a slot, not { force: true }', async () => {
    net ??= await VethPair.create();
    const where = { netns: net.a.netnsPath };
    const pinBase = `/sys/fs/bpf/lbn-bad-${process.pid}`;
    const ra = await RootArray.attach(net.a.ifname, { ...where, pinBase, mode: 'skb' });
    try {
      using obj = BpfObject.open(shippedObjectPath('xdp_pass'));
      await obj.load();
      const e = (() => {
        try {
          attachXdp(obj.program('xdp_pass'), net.a.ifname, { netns: net.a.netnsPath, mode: 'skb' });
        } catch (x) {
          return x;
        }
      })() as BpfError;
      expect(e).toBeInstanceOf(BpfError);
      expect(e.message).toMatch(/runs an XDP root array \(program \d+ 'xdp_root' in skb mode\)/);
      expect(e.hint).toMatch(/load the program into a slot of the root array/);
      expect(e.hint).not.toMatch(/force/);
      expect(e.cliHint).toMatch(/xdp-root load <iface> <slot> <object>/);
      expect(e.context.attached?.[0]?.name).toBe('xdp_root');
    } finally {
      await ra.detach();
      ra.close();
      rmSync(pinBase, { recursive: true, force: true });
    }
  });
});

it.runIf(process.getuid?.() === 0)('the CLI prints hints in CLI syntax: --netns PATH, not { netns }', () => {
  const cli = join(__dirname, '..', '..', 'dist', 'lib', 'cli', 'xdp-root.js');
  const r = spawnSync(process.execPath, [cli, 'status', 'lbn-nonexist0'], { encoding: 'utf8', timeout: scaledMs(20_000) });
  expect(r.status).toBe(1);
  expect(r.stderr).toMatch(/no interface 'lbn-nonexist0'/);
  expect(r.stderr).toMatch(/--netns PATH/);
  expect(r.stderr).not.toMatch(/\{ netns \}/);
});
