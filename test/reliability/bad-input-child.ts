/* eslint-disable @typescript-eslint/no-explicit-any */
// One batch of the bad-input table, run in its own process (see test/reliability/bad-input.test.ts): calls
// every method of the public classes, every exported function, and every method of the raw
// native binding with garbage arguments and foreign `this` values, and prints a JSON summary.
// A crash shows up to the parent as a signal; the call that crashed is the last line of the
// trace file (argv[3]).
//
// Network safety: no garbage value names an interface (no small positive integers, no real
// interface names), and the parent runs this process in a fresh network namespace anyway.
import { closeSync, openSync, writeSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import * as api from '../../lib/index';
import * as programsApi from '../../lib/programs/index';
import { binding } from '../../lib/internal/native';
import { BtfParseError } from '../../lib/btf/btf';
import { scaledMs, slow } from '../support/scale';

const { BpfObject, BpfProgram, BpfMap, BpfError, BpfStateError, RingBuffer, PerfBuffer, shippedObjectPath } = api;
const fixture = (name: string): string => `${__dirname}/../../test-bpf/${name}.bpf.o`;

/** Values no function should accept, or at least not crash on. */
function garbage(): Array<[string, unknown]> {
  const detachedView = new Uint8Array(new ArrayBuffer(16));
  structuredClone(detachedView.buffer, { transfer: [detachedView.buffer] });
  return [
    ['undefined', undefined],
    ['null', null],
    ['true', true],
    ['0', 0],
    ['-1', -1],
    ['1.5', 1.5],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['2^32', 2 ** 32],
    ['2^53', 2 ** 53],
    ['-2^63', -(2 ** 63)],
    ['-1n', -1n],
    ['2^64n', 2n ** 64n],
    ["''", ''],
    ["'x'*5000", 'x'.repeat(5000)],
    ["'\\0'", 'a\0b'],
    ['missing file', '/nonexistent/lbn-bad-input.bpf.o'],
    ['directory', '/sys/fs/bpf'],
    ['dotdot pin', '/sys/fs/bpf/lbn-bad-input/../escape'],
    ['relative', 'relative/path'],
    ['absent iface', 'lbn-nonexist0'],
    ['symbol', Symbol('s')],
    ['{}', {}],
    ['[]', []],
    ['[garbage]', [{}, -1, 'x']],
    ['function', () => 42],
    ['Buffer(0)', Buffer.alloc(0)],
    ['Buffer(3)', Buffer.alloc(3)],
    ['Buffer(1MiB)', Buffer.alloc(1 << 20, 0xff)],
    ['detached', detachedView],
    ['shared', new Uint8Array(new SharedArrayBuffer(8))],
    ['DataView(0)', new DataView(new ArrayBuffer(0))],
    ['Float64Array', new Float64Array(4)],
    ['Date', new Date(0)],
    ['bad options', { netns: 42, mode: 'turbo', count: -5, pinRoot: 7, flags: 'x', program: {}, globals: 3 }],
  ];
}

const typedErrors = [TypeError, RangeError, BpfError, BpfStateError, BtfParseError];
function isTyped(e: unknown): boolean {
  return typedErrors.some((C) => e instanceof C);
}

interface Summary {
  batch: string;
  calls: number;
  ok: number;
  typed: number;
  untyped: Array<{ call: string; error: string }>;
  hangs: string[];
  errorClasses: Record<string, number>;
}

const summary: Summary = { batch: process.argv[2], calls: 0, ok: 0, typed: 0, untyped: [], hangs: [], errorClasses: {} };
const traceFd = openSync(process.argv[3] ?? '/dev/null', 'w');

/** Calls `fn` and files the outcome: returned, a typed error, anything else, or a hang. */
async function attempt(label: string, fn: () => unknown): Promise<void> {
  writeSync(traceFd, `${label}\n`);
  summary.calls++;
  try {
    let r = fn();
    if (r instanceof Promise) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise((_, reject) => {
        // A hang: 5 s here, scaled under emulation (a 5.10 guest's load() of a shipped program took longer).
        timer = setTimeout(() => reject(new Error('__hang__')), scaledMs(5000));
      });
      try {
        r = await Promise.race([r, timeout]);
      } finally {
        clearTimeout(timer);
      }
    }
    // Async iterables and disposables we got back are closed so they don't keep the process up.
    try {
      const closing = (r as any)?.close?.();
      if (closing instanceof Promise) await closing.catch(() => {});
    } catch {
      /* the outcome was the return */
    }
    summary.ok++;
  } catch (e) {
    if ((e as Error)?.message === '__hang__') {
      summary.hangs.push(label);
      return;
    }
    const cls = (e as Error)?.constructor?.name ?? typeof e;
    summary.errorClasses[cls] = (summary.errorClasses[cls] ?? 0) + 1;
    if (isTyped(e)) summary.typed++;
    else summary.untyped.push({ call: label, error: `${cls}: ${String((e as Error)?.message ?? e).split('\n')[0]}` });
  }
}

/** Every own method name, getter and setter of a prototype (or of a class, for statics). */
function members(target: object, isStatic: boolean): Array<{ name: string; kind: 'method' | 'get' | 'set' }> {
  const out: Array<{ name: string; kind: 'method' | 'get' | 'set' }> = [];
  for (const name of Object.getOwnPropertyNames(target)) {
    if (name === 'constructor' || (isStatic && ['length', 'name', 'prototype'].includes(name))) continue;
    const d = Object.getOwnPropertyDescriptor(target, name)!;
    if (typeof d.value === 'function') out.push({ name, kind: 'method' });
    if (d.get) out.push({ name, kind: 'get' });
    if (d.set) out.push({ name, kind: 'set' });
  }
  return out;
}

// Under emulation (LIBBPF_NODE_TEST_SLOW=N, the kernel matrix) each member gets one garbage value
// in N, a different one for each member swept: every value is still tried, in N times fewer calls.
const stride = Math.floor(slow);
let rotation = 0;

/** Argument lists: nothing, garbage in each position (others undefined), garbage everywhere. */
function argLists(arity: number): Array<[string, unknown[]]> {
  const out: Array<[string, unknown[]]> = [['()', []]];
  const n = Math.max(1, Math.min(arity, 4));
  const round = rotation++;
  for (const [i, [gname, g]] of garbage().entries()) {
    if ((i + round) % stride !== 0) continue;
    for (let p = 0; p < n; p++) {
      const a: unknown[] = new Array(n).fill(undefined);
      a[p] = g;
      out.push([`(arg${p}=${gname})`, a]);
    }
    if (n > 1) out.push([`(all=${gname})`, new Array(n).fill(g)]);
  }
  return out;
}

/** A `this` to call a method with: a label, and a factory (fresh per method: methods mutate). */
type ThisMaker = [string, () => unknown];

const cleanups: Array<() => void> = [];
function track<T = any>(v: T): T {
  cleanups.push(() => (v as any)?.close?.());
  return v;
}
function cleanup(): void {
  for (const c of cleanups.splice(0)) {
    try {
      c();
    } catch {
      /* already closed */
    }
  }
}

function openObj(path: string = shippedObjectPath('xdp_count')): api.BpfObject {
  return track(BpfObject.open(path));
}
function loadedObj(path?: string): api.BpfObject {
  const o = openObj(path);
  o.loadSync();
  return o;
}
function closedObj(): api.BpfObject {
  const o = loadedObj();
  o.close();
  return o;
}

/** `this` values for the public classes: live instances in each phase, plus foreign ones. */
function libThis(cls: string): ThisMaker[] {
  const foreign: ThisMaker[] = [
    ['{}', () => ({})],
    ['undefined', () => undefined],
    ['a BpfObject', () => openObj()],
    ['a Buffer', () => Buffer.alloc(8)],
  ];
  const own: Record<string, ThisMaker[]> = {
    BpfObject: [
      ['opened', () => openObj()],
      ['loaded', () => loadedObj()],
      ['closed', () => closedObj()],
    ],
    BpfProgram: [
      ['of opened', () => openObj().programs[0]],
      ['of loaded', () => loadedObj().programs[0]],
      ['of closed', () => {
        const o = loadedObj();
        const p = o.programs[0];
        o.close();
        return p;
      }],
      ['standalone', () => track(BpfProgram.openById(loadedObj().programs[0].id))],
    ],
    BpfMap: [
      ['of opened', () => openObj().maps[0]],
      ['of loaded', () => loadedObj().maps[0]],
      ['typed, of loaded', () => loadedObj().maps[0].typed()],
      ['of closed', () => {
        const o = loadedObj();
        const m = o.maps[0];
        o.close();
        return m;
      }],
      ['standalone', () => track(BpfMap.openById(loadedObj().maps[0].id))],
      ['ringbuf', () => loadedObj(fixture('ringbuf')).maps.find((m: any) => m.type === 'ringbuf')],
    ],
    MappedArray: [['of .bss', () => loadedObj(fixture('globals')).maps.find((m: any) => m.name.endsWith('.bss'))!.mmap()]],
    Globals: [
      ['of opened', () => openObj(fixture('globals')).globals],
      ['of loaded', () => loadedObj(fixture('globals')).globals],
    ],
    // Live readers no record reaches: a waiting next() ends when the signal aborts (not a hang).
    RingBuffer: [['live', () => track(new RingBuffer(loadedObj(fixture('ringbuf')).maps.find((m: any) => m.type === 'ringbuf')!, { signal: AbortSignal.timeout(20) }))]],
    PerfBuffer: [['live', () => track(new PerfBuffer(loadedObj(fixture('ringbuf')).maps.find((m: any) => m.type === 'perf_event_array')!, { signal: AbortSignal.timeout(20) }))]],
    Btf: [['of object', () => openObj().btf]],
    BpfError: [['instance', () => new BpfError('op', 1)]],
  };
  return [...(own[cls] ?? []), ...foreign];
}

async function callMember(label: string, thisv: unknown, target: any, name: string, kind: string, args: unknown[]): Promise<void> {
  await attempt(label, () => {
    if (kind === 'get') return Reflect.get(target, name, thisv);
    if (kind === 'set') return Reflect.set(target, name, args[0], thisv);
    return Reflect.apply(target[name] as (...a: unknown[]) => unknown, thisv, args);
  });
}

/** Calls every member of `proto` with every `this` and argument list. */
async function sweepPrototype(cname: string, proto: object, thisMakers: ThisMaker[]): Promise<void> {
  for (const m of members(proto, false)) {
    const fn = m.kind === 'method' ? (proto as any)[m.name] : undefined;
    const lists = m.kind === 'get' ? [['', []] as [string, unknown[]]] : argLists(fn ? Math.max(fn.length, 3) : 1);
    for (const [tname, make] of thisMakers) {
      // A fresh `this` after any call that may have changed it (one that did not fail argument
      // validation); argument errors leave it as it was, so it is reused.
      let thisv: unknown;
      let fresh = false;
      for (const [aname, args] of lists) {
        if (!fresh) {
          cleanup();
          try {
            thisv = make();
          } catch (e) {
            // A raw `new` that wants arguments: that `this` does not exist, nothing to call.
            if (tname === 'new (raw)') break;
            throw new Error(`fixture ${cname}/${tname} failed: ${(e as Error).message}`);
          }
          fresh = true;
        }
        const before = summary.errorClasses.TypeError ?? 0;
        const beforeRange = summary.errorClasses.RangeError ?? 0;
        await callMember(`${cname}.prototype.${m.name}[${m.kind}] this=${tname} ${aname}`, thisv, proto, m.name, m.kind, args);
        if ((summary.errorClasses.TypeError ?? 0) === before && (summary.errorClasses.RangeError ?? 0) === beforeRange) fresh = false;
      }
      cleanup();
    }
  }
}

async function sweepStatics(cname: string, cls: any): Promise<void> {
  for (const m of members(cls, true)) {
    if (m.kind !== 'method') continue;
    for (const [aname, args] of argLists(Math.max(cls[m.name].length, 2))) {
      await callMember(`${cname}.${m.name} ${aname}`, cls, cls, m.name, 'method', args);
      cleanup();
    }
  }
  for (const [aname, args] of argLists(2)) {
    await attempt(`new ${cname} ${aname}`, () => Reflect.construct(cls, args));
    cleanup();
  }
}

/** Exported functions that are safe to call with garbage (all of them: none takes a real interface). */
async function sweepFunctions(mod: Record<string, unknown>, prefix: string, skip: string[] = []): Promise<void> {
  for (const [name, v] of Object.entries(mod)) {
    if (typeof v !== 'function' || skip.includes(name)) continue;
    if (/^[A-Z]/.test(name) && (v as any).prototype && Object.getOwnPropertyNames((v as any).prototype).length > 1) continue;
    for (const [aname, args] of argLists(Math.max((v as any).length, 3))) {
      await attempt(`${prefix}${name}${aname}`, () => (v as (...a: unknown[]) => unknown)(...args));
      cleanup();
    }
  }
}

// ---------------------------------------------------------------- the raw native binding

const nativeObjPath = shippedObjectPath('xdp_count');
function nativeObj(load: boolean, path = nativeObjPath): any {
  const o = track(new (binding as any).NativeObject(path, {}));
  if (load) o.load();
  return o;
}

function nativeThis(cls: string): ThisMaker[] {
  const B = binding as any;
  const foreign: ThisMaker[] = [
    ['{}', () => ({})],
    ['undefined', () => undefined],
    ['Object.create(proto)', () => Object.create(B[cls].prototype)],
    ['new (raw)', () => track(new B[cls]())],
  ];
  // Instances of the other native classes: a foreign `this` that is also a wrapped object.
  const others: ThisMaker[] = [
    ['a NativeObject', () => nativeObj(false)],
    ['a NativeProgram', () => nativeObj(true).programs()[0]],
    ['a NativeMap', () => nativeObj(true).maps()[0]],
  ];
  const own: Record<string, ThisMaker[]> = {
    NativeObject: [
      ['opened', () => nativeObj(false)],
      ['loaded', () => nativeObj(true)],
      ['closed', () => {
        const o = nativeObj(true);
        o.close();
        return o;
      }],
    ],
    NativeProgram: [
      ['of opened', () => nativeObj(false).programs()[0]],
      ['of loaded', () => nativeObj(true).programs()[0]],
      ['of closed', () => {
        const o = nativeObj(true);
        const p = o.programs()[0];
        o.close();
        return p;
      }],
      ['standalone', () => track(B.NativeProgram.openById(nativeObj(true).programs()[0].kernelInfo().id))],
    ],
    NativeMap: [
      ['of opened', () => nativeObj(false).maps()[0]],
      ['of loaded', () => nativeObj(true).maps()[0]],
      ['of closed', () => {
        const o = nativeObj(true);
        const m = o.maps()[0];
        o.close();
        return m;
      }],
      ['standalone', () => track(B.openMapById(nativeObj(true).maps()[0].kernelInfo().id))],
    ],
    NativeRingBuffer: [
      ['live', () => {
        const m = nativeObj(true, fixture('ringbuf')).maps().find((x: any) => x.info().type === 'ringbuf');
        return track(new B.NativeRingBuffer(m.fd(), () => {}));
      }],
    ],
    NativePerfBuffer: [
      ['live', () => {
        const m = nativeObj(true, fixture('ringbuf')).maps().find((x: any) => x.info().type === 'perf_event_array');
        return track(new B.NativePerfBuffer(m.fd(), 1, () => {}));
      }],
    ],
  };
  return [...(own[cls] ?? []), ...foreign, ...others.filter(([n]) => n !== `a ${cls}`)];
}

async function sweepNativeClass(cls: string): Promise<void> {
  const B = binding as any;
  await sweepPrototype(cls, B[cls].prototype, nativeThis(cls));
  await sweepStatics(cls, B[cls]);
}

// ---------------------------------------------------------------- batches

/**
 * Every class the package exports with a prototype of its own (the main entry and
 * libbpf-node/programs; not the test kit, whose constructors make namespaces): a new export is
 * swept without a list to keep. The public API is the sweep's subject; the raw binding below is
 * swept too, as defence in depth for code that loads the addon directly.
 */
function exportedClasses(mod: Record<string, unknown>, prefix: string): Array<[string, any]> {
  return Object.entries(mod)
    .filter(([k, v]) => typeof v === 'function' && /^[A-Z]/.test(k) && (v as any).prototype && sweptPrototypes(v).some((p) => members(p, false).length > 0))
    .map(([k, v]) => [`${prefix}${k}`, v]);
}
const exportedValues = new Set<unknown>([...Object.values(api), ...Object.values(programsApi)]);
/** A class's prototype, and those of its ancestors the package does not export (their methods are reached only through it). */
function sweptPrototypes(cls: any): object[] {
  const out: object[] = [];
  for (let p = cls.prototype; p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    if (p !== cls.prototype && exportedValues.has(p.constructor)) break;
    out.push(p);
  }
  return out;
}
const libClasses = [...exportedClasses(api as never, ''), ...exportedClasses(programsApi as never, 'programs.')];
const nativeClasses = ['NativeObject', 'NativeProgram', 'NativeMap', 'NativeLink', 'NativePacketSocket', 'NativeRingBuffer', 'NativePerfBuffer'];

const batches: Record<string, () => Promise<void>> = {};
for (const [c, cls] of libClasses) {
  batches[`lib:${c}`] = async () => {
    for (const proto of sweptPrototypes(cls)) await sweepPrototype(c, proto, libThis(c));
    await sweepStatics(c, cls);
  };
}
// Not setLogger: a garbage function as the logger is legal and harmless, but skip swapping it.
batches['lib:functions'] = () => sweepFunctions(api as unknown as Record<string, unknown>, '', ['setLogger']);
for (const c of nativeClasses) batches[`native:${c}`] = () => sweepNativeClass(c);
batches['native:functions'] = () => sweepFunctions(binding as unknown as Record<string, unknown>, 'binding.', ['setErrorFactory', 'setLogger']);
batches['native:attach'] = () => sweepFunctions((binding as unknown as { attach: Record<string, unknown> }).attach, 'binding.attach.');

// Hand-written misuse through the public API that a sweep cannot reach: every kind of handle
// used after its owner (or itself) closed.
batches['lib:scenarios'] = async () => {
  const o = loadedObj(fixture('maps'));
  const prog = o.programs[0];
  const map = o.map('mmapped');
  const view = map.mmap();
  const typed = o.maps[0].typed();
  const standalone = track(BpfMap.create({ type: 'hash', keySize: 4, valueSize: 4, maxEntries: 4 }));
  const rbObj = loadedObj(fixture('ringbuf'));
  const reader = track(new RingBuffer(rbObj.maps.find((m: any) => m.type === 'ringbuf')!));
  const iterObj = loadedObj(fixture('attach_iter'));
  const it = track(api.attachIter(iterObj.program('dump_task')));
  o.close();
  standalone.close();
  reader.close();
  it.close();
  iterObj.close();
  await attempt('program id after its object closed', () => prog.id);
  await attempt('program testRun after its object closed', () => prog.testRun({ data: Buffer.alloc(64) }));
  await attempt('map get after its object closed', () => typed.get(0 as never));
  await attempt('map set after its object closed', () => typed.set(0 as never, 0 as never));
  await attempt('map dump after its object closed', () => typed.dump());
  await attempt('view get after its object closed', () => view.get(0));
  await attempt('view array after its object closed', () => view.array(BigUint64Array));
  await attempt('mmap after its object closed', () => map.mmap());
  await attempt('standalone map get after close', () => standalone.get(Buffer.alloc(4)));
  await attempt('standalone map set after close', () => standalone.set(Buffer.alloc(4), Buffer.alloc(4)));
  await attempt('standalone map fd after close', () => standalone.fd);
  await attempt('reader subscribe after close', () => reader.subscribe(() => {}));
  await attempt('reader batches after close', () => reader.batches().next());
  await attempt('reader next after close', () => reader[Symbol.asyncIterator]().next());
  await attempt('iterator read after close', () => it.read());
  await attempt('link pin after close', () => it.pin('/sys/fs/bpf/lbn-bad-input-link'));
  const open = Object.entries({ prog, map, standalone, reader, it }).filter(([, h]) => !h.closed);
  if (open.length > 0) throw new Error(`closed handles say they are open: ${open.map(([k]) => k).join(', ')}`);
};

// Hand-written misuse that a sweep cannot reach: state changed between calls.
batches['scenarios'] = async () => {
  const B = binding as any;
  const o = nativeObj(true);
  const m = o.maps()[0];
  const ops = m.bindOps();
  // The scratch ArrayBuffer transferred (or detached) away: its memory belongs to the bound
  // functions, not to the buffer, so they go on working on it.
  await attempt('transfer the scratch', () => structuredClone(ops.scratch, { transfer: [ops.scratch] }));
  await attempt('lookup after the scratch was transferred', () => ops.lookup());
  await attempt('update after the scratch was transferred', () => ops.update(0));
  await attempt('nextKey after the scratch was transferred', () => ops.nextKey(true));
  await attempt('update with a foreign this', () => ops.update.call(o, 0));
  // Unlocking an fd that is not a lock (it would close someone else's fd).
  await attempt('unlock(a map fd)', () => B.unlock(m.fd()));
  await attempt('unlock(stdout)', () => B.unlock(1));
  // Globals access on a map that is not a global-variable section (per-CPU values overran).
  await attempt('readValue on a per-CPU map', () => m.readValue(0, 8));
  await attempt('writeValue on a per-CPU map', () => m.writeValue(0, Buffer.alloc(8)));
  // Use after close of the owner, through every handle kind.
  const p = o.programs()[0];
  o.close();
  await attempt('program info after object close', () => p.info());
  await attempt('map lookup after object close', () => ops.lookup());
  await attempt('map bindOps after object close', () => m.bindOps());
  // Closing twice, from a finalizer's point of view: drop everything and collect.
  for (let i = 0; i < 200; i++) nativeObj(i % 2 === 0).maps();
  cleanups.length = 0;
  (globalThis as any).gc?.();
};

async function main(): Promise<void> {
  const name = process.argv[2];
  if (name === '--list') {
    console.log(JSON.stringify(Object.keys(batches)));
    return;
  }
  const run = batches[name];
  if (!run) throw new Error(`unknown batch ${name}`);
  await run();
  cleanup();
  // Let finalizers and pending callbacks run: a crash there is a crash too.
  (globalThis as any).gc?.();
  await sleep(20);
  (globalThis as any).gc?.();
  closeSync(traceFd);
  console.log(JSON.stringify(summary));
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(3);
  },
);
