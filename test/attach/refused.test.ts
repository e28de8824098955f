// Every attach call refused for every reason it can be refused — the program not loaded, its
// object closed, the program reopened from a pin (no libbpf program), bad options — leaves this
// process's fds where they were: whatever the call opened before it found out (a perf event, a
// cgroup folder) is closed again. Each refusal is repeated, so one leaked fd per call shows.
import { createSocket, type Socket } from 'node:dgram';
import { mkdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  attachCgroup, attachCgroupLegacy, attachIter, attachPerfEvent, attachRawTracepoint, attachSocket, attachTc, attachXdp,
  BpfObject, BpfProgram, BpfStateError, type SocketRef,
} from '../../lib/index';
import { nativeAttach } from '../../lib/attach/common';
import { cgroup2Path } from '../../lib/features';
import { VethPair } from '../../lib/testing/index';
import { canAdminNet, describeBpf, fixturePath, openFdCount } from '../support/helpers';
import { missing } from '../support/kernel';

const REPEAT = 5;
let sock: Socket; // a loopback socket of this test, for attachSocket
const pinBase = `/sys/fs/bpf/libbpf-node-test-${process.pid}-refused`;
const cgroupRoot = cgroup2Path();

type State = 'not loaded' | 'closed' | 'reopened';

/** A program of `fixture` in `state`, with what must be closed afterwards. */
function programIn(fixture: string, name: string, state: State): { program: BpfProgram; done: () => void } {
  const obj = BpfObject.open(fixturePath(fixture));
  if (state === 'not loaded') return { program: obj.program(name), done: () => obj.close() };
  obj.loadSync();
  const program = obj.program(name);
  if (state === 'closed') {
    obj.close();
    return { program, done: () => {} };
  }
  mkdirSync(pinBase, { recursive: true });
  const path = join(pinBase, name);
  program.pin(path);
  const reopened = BpfProgram.openPinned(path);
  program.unpin();
  obj.close();
  return { program: reopened, done: () => reopened.close() };
}

/** Runs `call` REPEAT times, each refused with `error`; the fd count must not move. */
function refusedWithoutLeak(call: () => unknown, error: unknown): void {
  const before = openFdCount();
  for (let i = 0; i < REPEAT; i++) expect(call).toThrow(error as never);
  expect(openFdCount()).toBe(before);
}

interface Case {
  name: string;
  fixture: string;
  program: string;
  /** Why the case is skipped here, if it is. */
  skip?: string;
  /** States that refuse (a reopened program is fine for calls that only need the fd). */
  states: State[];
  attach: (p: BpfProgram) => unknown;
  /** Bad options that pass the JS checks and are refused after native work began. */
  badOptions?: [string, (p: BpfProgram) => unknown, unknown][];
}

const cgroupSkip = missing('cgroup2') ?? missing('cgroup-iterator');

const cases: Case[] = [
  {
    name: 'attachPerfEvent',
    fixture: 'attach_perf_event',
    program: 'on_sample',
    skip: missing('perf-event'),
    states: ['not loaded', 'closed', 'reopened'],
    attach: (p) => attachPerfEvent(p, { event: 'cpu-clock', samplePeriod: 1_000_000, cpus: [0] }),
    badOptions: [
      ['a cpu that does not exist', (p) => attachPerfEvent(p, { event: 'cpu-clock', samplePeriod: 1_000_000, cpus: [1 << 20] }), Error],
    ],
  },
  {
    name: 'attachIter',
    fixture: 'attach_iter',
    program: 'dump_task',
    skip: missing('task-iterator'),
    states: ['not loaded', 'closed', 'reopened'],
    attach: (p) => attachIter(p),
  },
  {
    name: 'attachIter({ cgroup })',
    fixture: 'attach_iter',
    program: 'dump_task',
    skip: cgroupSkip,
    states: ['not loaded', 'closed', 'reopened'],
    // The native call itself: attachIter refuses a cgroup filter on this task iterator in JS,
    // before any native work, so only the binding can show that native opens the cgroup folder
    // after the program check (a refusal then leaves no folder fd open).
    attach: (p) => nativeAttach.iter(p.native, { cgroup: cgroupRoot!, order: 0 }),
    badOptions: [
      // A task iterator given a cgroup filter: refused in JS, by the iterator's kind, before the
      // folder is opened. ('toString' as an order is refused by checkName: test/errors.test.ts.)
      ['a cgroup filter on a task iterator', (p) => attachIter(p, { cgroup: cgroupRoot! }), TypeError],
    ],
  },
  {
    name: 'attachCgroup',
    fixture: 'attach_cgroup',
    program: 'count_egress',
    skip: missing('cgroup2'),
    states: ['not loaded', 'closed', 'reopened'],
    attach: (p) => attachCgroup(p, cgroupRoot!),
    badOptions: [['a folder that is not a cgroup', (p) => attachCgroup(p, '/proc'), Error]],
  },
  {
    name: 'attachCgroupLegacy',
    fixture: 'attach_cgroup',
    program: 'count_egress',
    skip: missing('cgroup2'),
    states: ['not loaded', 'closed'],
    attach: (p) => attachCgroupLegacy(p, cgroupRoot!),
  },
  {
    name: 'attachRawTracepoint',
    fixture: 'trace_getppid',
    program: 'count_getppid',
    states: ['not loaded', 'closed', 'reopened'],
    attach: (p) => attachRawTracepoint(p, 'sys_enter'),
  },
  {
    name: 'attachSocket',
    fixture: 'attach_socket',
    program: 'drop_marked',
    states: ['not loaded', 'closed'],
    attach: (p) => attachSocket(p, sock as unknown as SocketRef),
  },
];

describeBpf('attach calls refused: fds back to baseline', () => {
  beforeAll(async () => {
    sock = createSocket('udp4');
    await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve));
  });
  afterAll(() => {
    sock?.close();
    try {
      rmdirSync(pinBase);
    } catch {
      // never made
    }
  });

  for (const c of cases) {
    describe.skipIf(c.skip !== undefined)(c.skip ? `${c.name} [skipped: ${c.skip}]` : c.name, () => {
      for (const state of c.states) {
        it(`refuses a program ${state} with BpfStateError and opens nothing`, () => {
          const { program, done } = programIn(c.fixture, c.program, state);
          try {
            refusedWithoutLeak(() => c.attach(program), BpfStateError);
          } finally {
            done();
          }
        });
      }
      for (const [what, call, error] of c.badOptions ?? []) {
        it(`refuses ${what} and opens nothing`, () => {
          const obj = BpfObject.open(fixturePath(c.fixture));
          try {
            obj.loadSync();
            refusedWithoutLeak(() => call(obj.program(c.program)), error);
          } finally {
            obj.close();
          }
        });
      }
    });
  }
});

describe.skipIf(!canAdminNet)('attach calls on interfaces refused: fds back to baseline', () => {
  let net: VethPair;
  beforeAll(async () => {
    net = await VethPair.create();
  });
  afterAll(async () => {
    await net?.close();
  });

  for (const state of ['not loaded', 'closed'] as const) {
    it(`attachXdp of a program ${state}: BpfStateError, no fd, nothing attached`, () => {
      const { program, done } = programIn('xdp_guard', 'xdp_guard', state);
      try {
        refusedWithoutLeak(() => attachXdp(program, net.a.ifname, { netns: net.a.netnsPath }), BpfStateError);
        refusedWithoutLeak(() => attachXdp(program, net.a.ifname, { netns: net.a.netnsPath, link: false }), BpfStateError);
      } finally {
        done();
      }
    });

    it(`attachTc of a program ${state}: BpfStateError, no fd, nothing attached`, () => {
      const { program, done } = programIn('tc_drop', 'tc_drop', state);
      try {
        refusedWithoutLeak(() => attachTc(program, net.a.ifname, { netns: net.a.netnsPath, direction: 'ingress', mechanism: 'tcx' }), BpfStateError);
        refusedWithoutLeak(() => attachTc(program, net.a.ifname, { netns: net.a.netnsPath, direction: 'ingress', mechanism: 'cls_bpf' }), BpfStateError);
      } finally {
        done();
      }
    });
  }
});
