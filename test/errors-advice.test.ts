// The advice table row by row: each failure native code reports as facts gets words that carry
// those facts, and a hint only on the errno that has one. Pure logic, no kernel.
// @module-tag pure
import { describe, expect, it } from 'vitest';
import { BpfError, BpfFeatureError, BpfVerifierError } from '../lib/index';
import { adviceFor, explicitAttachFor, makeBpfError, makeStateError, verifierSummary } from '../lib/errors';

describe('adviceFor: one row per `what`', () => {
  it('verifier log too small; pin, unpin and reopen', () => {
    expect(adviceFor('x', 'ENOSPC', { what: 'verifier-log-truncated', program: 'p1' })).toEqual({ detail: "the verifier log of program 'p1' did not fit in logSize", hint: 'raise load({ logSize })' });
    expect(adviceFor('x', 'EBUSY', { what: 'pin', kind: 'map', path: '/p' })).toEqual({ detail: 'the map is already pinned', hint: 'unpin() it first' });
    expect(adviceFor('x', 'EACCES', { what: 'pin', kind: 'map', path: '/p' })).toEqual({ detail: "cannot pin the map at '/p'" });
    expect(adviceFor('x', 'EACCES', { what: 'unpin', kind: 'link', path: '/q' })).toEqual({ detail: "cannot unpin the link at '/q'" });
    expect(adviceFor('x', 'ENOENT', { what: 'open-pinned', expected: 'map', path: '/r' })).toEqual({ detail: "nothing is pinned at '/r'" });
    expect(adviceFor('x', 'EINVAL', { what: 'open-pinned', expected: 'link', path: '/r' })).toEqual({
      detail: "cannot open the link pinned at '/r'",
      hint: 'is it a link? programs reopen with BpfProgram.openPinned()',
    });
    expect(adviceFor('x', 'EINVAL', { what: 'open-pinned', expected: 'map', path: '/r' }).hint).toBeUndefined();
    expect(adviceFor('x', 'EPERM', { what: 'open-pinned', expected: 'link', path: '/r' }).hint).toBeUndefined();
    expect(adviceFor('x', 'EINVAL', { what: 'pin-kind', kind: 'map', expected: 'link', path: '/s' })).toEqual({ detail: "'/s' holds a BPF map, not a link", hint: 'reopen it with BpfMap.openPinned()' });
    expect(adviceFor('x', 'EINVAL', { what: 'pin-kind', kind: 'link', expected: 'map', path: '/s' }).hint).toBe('reopen it with BpfLink.openPinned()');
    expect(adviceFor('x', 'EINVAL', { what: 'pin-kind', kind: 'prog', expected: 'map', path: '/s' })).toEqual({ detail: "'/s' holds a BPF program, not a map", hint: 'reopen it with BpfProgram.openPinned()' });
    expect(adviceFor('x', 'EINVAL', { what: 'pin-kind', kind: 'toString', expected: 'map', path: '/s' })).toEqual({ detail: "'/s' holds a BPF toString, not a map", hint: undefined });
  });

  it('open by id; auto-attach names the explicit call only for EOPNOTSUPP/ESRCH on a known section', () => {
    expect(adviceFor('x', 'ENOENT', { what: 'open-by-id', kind: 'map', id: 9 })).toEqual({ detail: 'no map with id 9' });
    expect(adviceFor('x', 'EPERM', { what: 'open-by-id', kind: 'map', id: 9 })).toEqual({ detail: 'cannot open map id 9' });
    const detail = "program 'p' (section 'kprobe/f')";
    expect(adviceFor('x', 'EOPNOTSUPP', { what: 'auto-attach', section: 'kprobe/f' }, 'p')).toEqual({ detail: `${detail}: libbpf cannot auto-attach this section`, hint: 'attach it with attachKprobe(program, { func })' });
    expect(adviceFor('x', 'ESRCH', { what: 'auto-attach', section: 'kprobe/f' }, 'p').hint).toBe('attach it with attachKprobe(program, { func })');
    expect(adviceFor('x', 'ENOTSUP', { what: 'auto-attach', section: 'kprobe/f' }, 'p').hint).toBe('attach it with attachKprobe(program, { func })');
    expect(adviceFor('x', 'EINVAL', { what: 'auto-attach', section: 'kprobe/f' }, 'p')).toEqual({ detail });
    expect(adviceFor('x', 'EOPNOTSUPP', { what: 'auto-attach', section: 'unknown/f' }, 'p')).toEqual({ detail: "program 'p' (section 'unknown/f')" });
    expect(adviceFor('x', 'EOPNOTSUPP', { what: 'auto-attach', section: 7 })).toEqual({ detail: "program '?' (section '7')" });
  });

  it('attach and detach name their target; cgroups explain EPERM without flags and EBADF', () => {
    const cg = { what: 'attach', target: 'cgroup', path: '/cg', attachType: 'ingress' };
    expect(adviceFor('x', 'EPERM', { ...cg, flags: 0 })).toEqual({ detail: "attach type 'ingress' on cgroup '/cg': another program is attached without multi or override" });
    expect(adviceFor('x', 'EPERM', { ...cg, flags: 2 })).toEqual({ detail: "attach type 'ingress' on cgroup '/cg'" });
    expect(adviceFor('x', 'EBADF', { what: 'attach', target: 'cgroup', path: '/cg' })).toEqual({ detail: "cgroup '/cg': '/cg' is not a cgroup v2 directory" });
    expect(adviceFor('x', 'EBADF', { what: 'attach', target: 'kprobe', path: '/cg', func: 'f' })).toEqual({ detail: "kprobe on 'f'" });
    expect(adviceFor('x', 'EPERM', { what: 'attach', target: 'tracepoint', flags: 0, category: 'c', name: 'n' })).toEqual({ detail: 'tracepoint c:n' });
    const target = (c: Record<string, unknown>): string | undefined => adviceFor('x', 'EIO', { what: 'detach', ...c }).detail;
    expect(target({ target: 'iterator', section: 'iter/task' })).toBe("iterator 'iter/task'");
    expect(target({ target: 'iterator', section: 'iter/task', filter: 'pid 3' })).toBe("iterator 'iter/task' for pid 3");
    expect(target({ target: 'kretprobe', func: 'g' })).toBe("kretprobe on 'g'");
    expect(target({ target: 'kprobe.multi', pattern: 'tcp_*' })).toBe("kprobe.multi on 'tcp_*'");
    expect(target({ target: 'kprobe.multi', functions: 4 })).toBe('kprobe.multi on 4 functions');
    expect(target({ target: 'perf event', cpu: 1, pid: -1 })).toBe('perf event on cpu 1 pid -1');
    expect(target({ target: 'raw tracepoint', name: 'sys_enter' })).toBe('raw tracepoint sys_enter');
    expect(target({ target: 'uprobe', binary: '/bin/sh' })).toBe("uprobe on '/bin/sh'");
    expect(target({ target: 'uretprobe', binary: '/bin/sh', func: 'main', offset: 16 })).toBe("uretprobe on '/bin/sh' function 'main' offset 16");
    expect(target({ target: 'usdt', provider: 'pv', name: 'nm', binary: '/b' })).toBe("USDT probe pv:nm in '/b'");
    expect(target({ target: 'netfilter' })).toBe('netfilter');
    expect(target({})).toBe('attachment');
  });

  it('perf events, iterators, sockets, cgroups and link updates', () => {
    const ev = 'event type 0 config 1 on cpu 2 pid -1';
    const pe = { what: 'perf-event-open', type: 0, config: 1, cpu: 2, pid: -1 };
    expect(adviceFor('x', 'ENOENT', pe)).toEqual({ detail: `${ev}: this machine has no such event`, hint: expect.stringMatching(/^a hardware event needs a hardware PMU.*cpu-clock/) });
    expect(adviceFor('x', 'EOPNOTSUPP', pe).detail).toBe(`${ev}: this machine has no such event`);
    expect(adviceFor('x', 'EINVAL', pe)).toEqual({ detail: ev });
    expect(adviceFor('x', 'EINVAL', { what: 'iter-create', fd: 5 })).toEqual({ detail: 'link fd 5', hint: 'is it an iterator link?' });
    expect(adviceFor('x', 'EPERM', { what: 'iter-create', fd: 5 })).toEqual({ detail: 'link fd 5', hint: undefined });
    expect(adviceFor('x', 'ENOTSOCK', { what: 'not-a-socket', fd: 6 })).toEqual({ detail: 'fd 6 is not an open socket' });
    expect(adviceFor('x', 'EINVAL', { what: 'socket-attach', fd: 6 })).toEqual({ detail: 'SO_ATTACH_BPF on fd 6', hint: 'only socket_filter programs attach to sockets' });
    expect(adviceFor('x', 'EPERM', { what: 'socket-attach', fd: 6 }).hint).toBeUndefined();
    expect(adviceFor('x', 'ENOENT', { what: 'socket-detach', fd: 6 })).toEqual({ detail: 'SO_DETACH_BPF on fd 6' });
    expect(adviceFor('x', 'ENOENT', { what: 'cgroup-open', path: '/cg' })).toEqual({ detail: "cannot open the cgroup '/cg'" });
    expect(adviceFor('x', 'EPERM', { what: 'link-update', expected: 3 })).toEqual({ detail: 'the link no longer runs the expected program' });
    expect(adviceFor('x', 'EPERM', { what: 'link-update' })).toEqual({});
    expect(adviceFor('x', 'EINVAL', { what: 'link-update' })).toEqual({ detail: 'the new program must have the same type and attach type as the old one' });
    expect(adviceFor('x', 'EIO', { what: 'link-update', expected: 3 })).toEqual({});
  });

  it('tc: tcx EINVAL and cls_bpf EEXIST get hints; detach and query name the interface', () => {
    const tc = { what: 'tc-attach', iface: 'v0', direction: 'ingress' };
    expect(adviceFor('x', 'EINVAL', { ...tc, mechanism: 'tcx' }, 'p')).toEqual({
      detail: "attaching tc program 'p' to interface 'v0' ingress with tcx",
      hint: "tcx needs a sched_cls program and a kernel with tcx; the legacy path is { mechanism: 'cls_bpf' }",
    });
    expect(adviceFor('x', 'EEXIST', { ...tc, mechanism: 'tcx' }, 'p')).toEqual({ detail: "attaching tc program 'p' to interface 'v0' ingress with tcx" });
    expect(adviceFor('x', 'EEXIST', { ...tc, mechanism: 'cls_bpf', handle: 1, priority: 2 })).toEqual({
      detail: "attaching tc program '?' to interface 'v0' ingress as a cls_bpf filter: a filter with handle 1 and priority 2 exists",
      hint: 'pass { replace: true }',
    });
    expect(adviceFor('x', 'EINVAL', { ...tc, mechanism: 'cls_bpf' })).toEqual({ detail: "attaching tc program '?' to interface 'v0' ingress as a cls_bpf filter" });
    expect(adviceFor('x', 'ENOENT', { what: 'tc-detach', ifindex: 4, netns: '/n', handle: 1, priority: 2 })).toEqual({ detail: 'detaching the cls_bpf filter 1:2 from ifindex 4 in netns /n' });
    expect(adviceFor('x', 'EIO', { what: 'tc-query', mechanism: 'tcx', iface: 'v0' })).toEqual({ detail: "querying tcx on interface 'v0'" });
    expect(adviceFor('x', 'EIO', { what: 'tc-query', mechanism: 'cls_bpf', iface: 'v0', direction: 'egress' })).toEqual({ detail: "listing the cls_bpf filters of interface 'v0' egress" });
  });

  it('XDP attach: unsupported mode, hw offload, replacing the wrong program, a link, the kernel message', () => {
    const x = { what: 'xdp-attach', iface: 'v0', ifindex: 4, mode: 'native' };
    const subject = "attaching XDP program 'p' to interface 'v0' (ifindex 4)";
    expect(adviceFor('x', 'EOPNOTSUPP', { ...x, kernelMessage: 'no' }, 'p')).toEqual({
      detail: `${subject}: the driver does not support XDP in native mode [kernel: no]`,
      hint: "use mode 'skb' (generic XDP, any driver) or pass { fallback: 'skb' }",
      cliHint: 'use --mode skb (generic XDP, any driver)',
    });
    expect(adviceFor('x', 'EINVAL', { ...x, mode: 'hw' }, 'p')).toEqual({ detail: `${subject}: the driver does not support XDP offload (hw mode)`, hint: "use mode 'native' or 'skb'", cliHint: 'use --mode native or --mode skb' });
    expect(adviceFor('x', 'EINVAL', x, 'p')).toEqual({ detail: subject });
    expect(adviceFor('x', 'EEXIST', { what: 'xdp-attach', ifindex: 4, replacing: true, attached: [{ id: 7, name: 'a', mode: 'skb' }] })).toEqual({
      detail: "replacing on ifindex 4: the expected program is not the one attached (now: program 7 'a' in skb mode)",
    });
    expect(adviceFor('x', 'EEXIST', { what: 'xdp-attach', ifindex: 4, replacing: true }).detail).toBe('replacing on ifindex 4: the expected program is not the one attached (now: nothing)');
    const busy = adviceFor('x', 'EBUSY', { what: 'xdp-attach', ifindex: 4, replacing: true, via: 'link' }, 'p');
    expect(busy.detail).toBe("attaching XDP program 'p' to ifindex 4: ifindex 4 already has an XDP attachment");
    expect(busy.hint).toBe('pass { replace: oldProgram } (netlink) to swap it atomically, { force: true } to overwrite it, or detach it first (a program attached through a link is only replaced through that link: link.update())');
    const two = [{ id: 1, name: 'a', mode: 'skb' }, { id: 2, name: 'b', mode: 'native' }];
    expect(adviceFor('x', 'EEXIST', { what: 'xdp-attach', ifindex: 4, attached: two }, 'p').detail).toBe("attaching XDP program 'p' to ifindex 4: ifindex 4 already has program 1 'a' in skb mode and program 2 'b' in native mode");
    expect(adviceFor('x', 'EEXIST', { what: 'xdp-attach', ifindex: 4 }, 'p').hint).not.toMatch(/link\.update/);
  });

  it('XDP detach and query; namespaces; packet sockets', () => {
    expect(adviceFor('x', 'EBUSY', { what: 'xdp-detach', ifindex: 4, id: 9 })).toEqual({
      detail: 'detaching XDP program 9 from ifindex 4',
      hint: 'it is attached through a BPF link: detach the link (BpfLink.openPinned(path).detach(), or end its owner)',
    });
    expect(adviceFor('x', 'EINVAL', { what: 'xdp-detach', ifindex: 4 })).toEqual({ detail: 'detaching XDP from ifindex 4', hint: undefined });
    expect(adviceFor('x', 'EIO', { what: 'xdp-query', iface: 'v0', netns: '/n' })).toEqual({ detail: "querying XDP on interface 'v0' in netns /n" });
    expect(adviceFor('x', 'ENOENT', { what: 'netns-enter', netns: '/n' })).toEqual({ detail: 'cannot enter network namespace /n', hint: 'no such file: is the namespace gone?' });
    expect(adviceFor('x', 'EPERM', { what: 'netns-enter', netns: '/n' }).hint).toBeUndefined();
    expect(adviceFor('x', 'EPERM', { what: 'packet-socket', ifindex: 4 })).toEqual({ detail: 'opening a packet socket for ifindex 4', hint: 'this needs CAP_NET_RAW' });
    expect(adviceFor('x', 'EINVAL', { what: 'packet-socket', ifindex: 4 }).hint).toBeUndefined();
    expect(adviceFor('x', 'EINVAL', { what: 'packet-socket-bind', ifindex: 4 })).toEqual({ detail: 'binding a packet socket to ifindex 4' });
    const send = 'sending frames on ifindex 4 (after 3 were sent)';
    expect(adviceFor('x', 'EMSGSIZE', { what: 'packet-send', ifindex: 4, sent: 3 })).toEqual({ detail: `${send}: a frame is larger than the interface's MTU plus its Ethernet header` });
    expect(adviceFor('x', 'ENETDOWN', { what: 'packet-send', ifindex: 4, sent: 3 })).toEqual({ detail: `${send}: the interface is down` });
    expect(adviceFor('x', 'EIO', { what: 'packet-send', ifindex: 4, sent: 3 })).toEqual({ detail: send });
  });

  it('test runs: unsupported type, refused frame (live or not), output too small', () => {
    const tr = { what: 'test-run', program: 'p' };
    const unsupported = "test run of program 'p': this program type has no BPF_PROG_TEST_RUN (XDP, tc, socket filters and a few others do)";
    expect(adviceFor('x', 'E524', tr)).toEqual({ detail: unsupported });
    expect(adviceFor('x', 'EOPNOTSUPP', tr)).toEqual({ detail: unsupported });
    expect(adviceFor('x', 'EINVAL', { ...tr, live: true }).detail).toBe("test run of program 'p': live frames need an XDP program, a frame, and repeat >= 1 (and no output buffers)");
    expect(adviceFor('x', 'EINVAL', tr).detail).toBe("test run of program 'p': the frame or context was refused (too short for the program type, or a context field it may not set)");
    expect(adviceFor('x', 'ENOSPC', tr)).toEqual({ detail: "test run of program 'p': the output frame did not fit in dataOutSize" });
    expect(adviceFor('x', 'EIO', tr)).toEqual({ detail: "test run of program 'p'" });
  });

  it('readers, maps, pins folders, locks, batches; an unknown `what` gets no words', () => {
    expect(adviceFor('x', 'EINVAL', { what: 'reader-open', reader: 'ring buffer' })).toEqual({ detail: 'the map is not a ring buffer (BPF_MAP_TYPE_RINGBUF)' });
    expect(adviceFor('x', 'EINVAL', { what: 'reader-open', reader: 'perf buffer' })).toEqual({ detail: 'the map is not a perf event array (BPF_MAP_TYPE_PERF_EVENT_ARRAY)' });
    expect(adviceFor('x', 'ENOMEM', { what: 'reader-open', reader: 'ring buffer' })).toEqual({});
    expect(adviceFor('x', 'ENODEV', { what: 'map-update-netns', netns: '/n' })).toEqual({ detail: 'in netns /n', hint: 'is there an interface with that ifindex in that namespace?' });
    expect(adviceFor('x', 'EINVAL', { what: 'map-update-netns', netns: '/n' }).hint).toBe('is there an interface with that ifindex in that namespace?');
    expect(adviceFor('x', 'EPERM', { what: 'map-update-netns', netns: '/n' }).hint).toBeUndefined();
    expect(adviceFor('x', 'EINVAL', { what: 'map-info', fd: 3 })).toEqual({ detail: 'fd 3 is not a BPF map' });
    expect(adviceFor('x', 'EINVAL', { what: 'map-info' })).toEqual({ detail: 'the object is not a BPF map' });
    expect(adviceFor('x', 'EBADF', { what: 'map-info', fd: 3 })).toEqual({});
    expect(adviceFor('x', 'EINVAL', { what: 'map-create', type: 'hash', name: 'm' })).toEqual({
      detail: "map type 'hash' named 'm'",
      hint: 'check the key/value sizes, max entries and flags this map type takes; map-in-maps need an inner map',
    });
    expect(adviceFor('x', 'ENOMEM', { what: 'map-create', type: 'hash' })).toEqual({ detail: "map type 'hash'", hint: undefined });
    expect(adviceFor('x', 'EPERM', { what: 'map-mmap' })).toEqual({ detail: 'the map is frozen or read-only' });
    expect(adviceFor('x', 'EACCES', { what: 'map-mmap' })).toEqual({ detail: 'the map is frozen or read-only' });
    expect(adviceFor('x', 'EINVAL', { what: 'map-mmap' })).toEqual({ detail: undefined });
    expect(adviceFor('x', 'EACCES', { what: 'pin-folder', path: '/d/x' })).toEqual({ detail: "the folder of pin path '/d/x' cannot be inspected" });
    expect(adviceFor('x', 'EINVAL', { what: 'external-arraybuffer' })).toEqual({ detail: 'this runtime does not allow external ArrayBuffers' });
    expect(adviceFor('x', 'ENOENT', { what: 'batch', done: 2, count: 5, verb: 'deleted' })).toEqual({ detail: '2 of 5 elements were deleted' });
    expect(adviceFor('x', 'EWOULDBLOCK', { what: 'lock', path: '/l' })).toEqual({ detail: "'/l'" });
    expect(adviceFor('x', 'EIO', { what: 'something-new' })).toEqual({});
    expect(adviceFor('x', 'EIO', {})).toEqual({});
  });
});

describe('explicitAttachFor: the call for each section libbpf cannot auto-attach', () => {
  it('maps each section kind, with or without a target after the slash', () => {
    const cases: Array<[string, string | undefined]> = [
      ['uprobe', 'attachUprobe(program, { binary, func })'],
      ['uretprobe/x', 'attachUprobe(program, { binary, func })'],
      ['uprobe.s', 'attachUprobe(program, { binary, func })'],
      ['uprobe.multi', 'attachUprobe(program, { binary, func })'],
      ['usdt', 'attachUsdt(program, { binary, provider, name })'],
      ['kprobe.multi/tcp_*', 'attachKprobeMulti(program, { pattern })'],
      ['kretprobe.multi', 'attachKprobeMulti(program, { pattern })'],
      ['kprobe/f', 'attachKprobe(program, { func })'],
      ['kretprobe', 'attachKprobe(program, { func })'],
      ['tracepoint/a/b', 'attachTracepoint(program, category, name)'],
      ['tp', 'attachTracepoint(program, category, name)'],
      ['raw_tp/x', 'attachRawTracepoint(program, name)'],
      ['raw_tracepoint.w', 'attachRawTracepoint(program, name)'],
      ['perf_event', "attachPerfEvent(program, { event: 'cpu-clock', frequency })"],
      ['socket', 'attachSocket(program, socket)'],
      ['cgroup_skb/ingress', 'attachCgroup(program, cgroupPath)'],
      ['iter/task', 'attachIter(program)'],
      ['iter.s', 'attachIter(program)'],
      ['xdp.frags', 'attachXdp(program, iface)'],
      ['tc', "attachTc(program, iface, { direction: 'ingress' })"],
      ['tcx/ingress', "attachTc(program, iface, { direction: 'ingress' })"],
      ['classifier', "attachTc(program, iface, { direction: 'ingress' })"],
      ['action', "attachTc(program, iface, { direction: 'ingress' })"],
      // Anchored: a kind that only contains or extends a known one is not it.
      ['xuprobe', undefined], ['uprobes', undefined], ['usdt2', undefined], ['kprobe.multiple', undefined],
      ['kprobes', undefined], ['tps', undefined], ['raw_tps', undefined], ['perf_events', undefined],
      ['sockets', undefined], ['mycgroup', undefined], ['iters', undefined], ['myxdp', undefined],
      ['tcp', undefined], ['uprobe.x', undefined], ['raw_tp.x', undefined], ['iter.x', undefined], ['', undefined],
    ];
    for (const [section, call] of cases) expect([section, explicitAttachFor(section)]).toEqual([section, call]);
  });
});

describe('verifierSummary', () => {
  it('keeps the last lines, without the statistics trailer or blank lines, indented', () => {
    const log = ['0: r0 = 0', '', '1: exit  ', 'R0 !read_ok', 'processed 2 insns (limit 1000000)', 'verification time 5 usec', 'stack depth 0', ''].join('\n');
    expect(verifierSummary(log)).toBe('  0: r0 = 0\n  1: exit\n  R0 !read_ok');
    expect(verifierSummary(log, 2)).toBe('  1: exit\n  R0 !read_ok');
    expect(verifierSummary('a\nb\nc\nd\ne\nf\ng\nh')).toBe(['c', 'd', 'e', 'f', 'g', 'h'].map((l) => `  ${l}`).join('\n'));
    expect(verifierSummary('')).toBe('');
  });

  it('ends with the complaint before a diagnostics block, plus its first suggestion', () => {
    const log = ['1: exit', 'R0 !read_ok', 'Verification failed: R0 not set', 'Reason: x', 'Instruction context:', '  1: exit', 'Suggestion: set r0', 'Suggestion: again', 'processed 2 insns'].join('\n');
    expect(verifierSummary(log)).toBe('  1: exit\n  R0 !read_ok\n  Suggestion: set r0');
    expect(verifierSummary(['a', 'Reason: r', 'b'].join('\n'))).toBe('  a');
    expect(verifierSummary(['a', '  Source context:', 'b'].join('\n'))).toBe('  a');
    expect(verifierSummary(['a', 'Instruction context:', 'b'].join('\n'))).toBe('  a');
    expect(verifierSummary(['a', 'Suggestion: s'].join('\n'))).toBe('  a\n  Suggestion: s');
    expect(verifierSummary(['a', 'Suggestion: s', 'b'].join('\n'), 1)).toBe('  a\n  Suggestion: s');
    // Lines that only mention the markers elsewhere are ordinary lines.
    expect(verifierSummary(['x Verification failed:', 'y Reason: z'].join('\n'))).toBe('  x Verification failed:\n  y Reason: z');
  });

  it('a log that is only diagnostics keeps its own last lines', () => {
    const log = ['Verification failed: a', 'Reason: b', 'Suggestion: c'].join('\n');
    expect(verifierSummary(log)).toBe('  Verification failed: a\n  Reason: b\n  Suggestion: c');
    expect(verifierSummary(log, 1)).toBe('  Suggestion: c');
  });

  it('is what a BpfVerifierError shows, with the CLI hint and the full log kept', () => {
    const v = new BpfVerifierError('bpf_prog_load', 13, 'p', 'a\nb\n');
    expect(v.summary).toBe("bpf_prog_load failed: permission denied (EACCES): the verifier refused program 'p':\n  a\n  b\n");
    expect(v.message).toBe(`${v.summary}Hint: the full verifier log is in the error's \`log\` property`);
    expect([v.name, v.program, v.log, v.cliHint]).toEqual(['BpfVerifierError', 'p', 'a\nb\n', 'run with --debug to see the whole verifier log']);
    expect(v.context).toEqual({ what: 'verify', program: 'p' });
  });
});

describe("BpfError: libbpf's reason and the native factory", () => {
  it("adds libbpf's first specific warning, not its generic wrap-ups, once", () => {
    const log = ['libbpf: failed to find BTF for extern  ', '', 'libbpf: failed to load object', 'libbpf: failed to load: -22'];
    const e = new BpfError('bpf_object__load', 22, undefined, undefined, log);
    expect(e.summary).toBe('bpf_object__load failed: invalid argument (EINVAL) (libbpf: failed to find BTF for extern)');
    expect(e.details).toEqual(log);
    expect(Object.isFrozen(e.details)).toBe(true);
    const generic = new BpfError('bpf_object__load', 22, undefined, undefined, ['libbpf: Failed to bump RLIMIT_MEMLOCK (err -1), you might need to do it explicitly!', 'libbpf: failed to load object']);
    expect(generic.summary).toBe('bpf_object__load failed: invalid argument (EINVAL) (libbpf: failed to load object)');
    expect(new BpfError('op', 22, 'it said x', undefined, ['x']).summary).toBe('op failed: invalid argument (EINVAL): it said x');
    expect(new BpfError('op', 22, 'multi\n', undefined, ['y']).summary).toBe('op failed: invalid argument (EINVAL): multi\n(libbpf: y)');
    expect(new BpfError('op', 22, undefined, undefined, ['', '  ']).summary).toBe('op failed: invalid argument (EINVAL)');
    for (const w of ["try raising 'ulimit -l'", 'failed to prepare load attributes', 'failed to load: 7']) {
      expect(new BpfError('op', 22, undefined, undefined, [w, 'the cause']).summary).toMatch(/\(libbpf: the cause\)$/);
    }
  });

  it('a hint given wins over the errno table; the context is kept, frozen', () => {
    const e = new BpfError('bpf_object__open_file', 2, undefined, 'mine', [], { what: 'w', path: '/p' });
    expect(e.hint).toBe('mine');
    expect(e.message).toBe('bpf_object__open_file failed: no such file or directory (ENOENT). Hint: mine');
    expect(e.context).toEqual({ what: 'w', path: '/p' });
    expect(Object.isFrozen(e.context)).toBe(true);
    expect(new BpfError('bpf_object__open_file', 2).hint).toBe('check that the path exists');
    expect(new BpfError('bpf_map_lookup_elem', 2).hint).toBeUndefined();
    expect(new BpfError('uprobe_open', 4001).hint).toBeUndefined();
    expect(new BpfError('bpf_object__open_file', 8).hint).toMatch(/not a valid BPF ELF object/);
    expect(new BpfError('bpf_prog_load', 13).hint).toBeUndefined();
  });

  it('makeBpfError: a log without a program is not a verifier error; the advice and libbpf log come along', () => {
    const e = makeBpfError('bpf_obj_pin', 17, { log: 'x', context: { what: 'pin', path: '/p', kind: 'map' }, libbpfLog: ['libbpf: why'] });
    expect(e).not.toBeInstanceOf(BpfVerifierError);
    expect(e.summary).toBe("bpf_obj_pin failed: file exists (EEXIST): '/p' already exists (libbpf: why)");
    expect(e.hint).toBe('unpin what is there, or choose another path');
    expect(e.details).toEqual(['libbpf: why']);
    const noLog = makeBpfError('bpf_prog_load', 13, { program: 'p' });
    expect(noLog).not.toBeInstanceOf(BpfVerifierError);
    expect(noLog.details).toEqual([]);
    const cli = makeBpfError('bpf_xdp_attach', 19, { context: { what: 'no-interface', iface: 'v9' } });
    expect([cli.summary, cli.hint, cli.cliHint]).toEqual([
      "bpf_xdp_attach failed: no such device (ENODEV): no interface 'v9'",
      'an interface inside a network namespace needs { netns }',
      'an interface inside a network namespace needs --netns PATH',
    ]);
    const inNs = makeBpfError('bpf_xdp_attach', 19, { context: { what: 'no-interface', iface: 'v9', netns: '/n' } });
    expect([inNs.hint, inNs.cliHint]).toEqual([undefined, undefined]);
    expect(makeBpfError('op', 4001, {}).code).toBe('LIBBPF_ERRNO__FORMAT');
  });
});

describe('BpfFeatureError', () => {
  it('without the probe: names the feature, the kernel and the first mainline version', () => {
    const e = new BpfFeatureError('ringbuf', 'ring buffers', '5.8', '5.4.0');
    expect([e.name, e.feature, e.minKernel, e.kernel, e.answer, e.op, e.code]).toEqual(['BpfFeatureError', 'ringbuf', '5.8', '5.4.0', undefined, 'feature ringbuf', 'ENOTSUP']);
    expect(e.summary).toBe("feature ringbuf failed: operation not supported (ENOTSUP): the running kernel (5.4.0) lacks ring buffers ('ringbuf'), which needs Linux 5.8 or newer");
    expect(e.hint).toBe("run on a kernel >= 5.8, or use an option that does without 'ringbuf'");
    expect(e).toBeInstanceOf(BpfError);
  });

  it("with the kernel's answer: unavailable, or a refused probe", () => {
    const no = new BpfFeatureError('tcx', 'tcx links', '6.6', '6.1.0', 'attachTc', { state: 'unavailable', reason: 'EINVAL from BPF_LINK_CREATE' });
    expect(no.op).toBe('attachTc');
    expect(no.summary).toMatch(/: the running kernel \(6\.1\.0\) lacks tcx links \('tcx'\): EINVAL from BPF_LINK_CREATE$/);
    expect(no.hint).toBe("use an option that does without 'tcx', or a kernel that has it (mainline Linux 6.6 and newer, or a vendor kernel with it backported)");
    const refused = new BpfFeatureError('tcx', 'tcx links', '6.6', '6.8.0', undefined, { state: 'undetermined', reason: 'EPERM', errno: 'EPERM' });
    expect(refused.summary).toMatch(/: the running kernel \(6\.8\.0\) refused the probe for tcx links \('tcx'\), so the library does without it: EPERM$/);
    expect(refused.hint).toMatch(/^check what restricts BPF here \(kernel lockdown in \/sys\/kernel\/security\/lockdown.*mainline Linux 6\.6 and newer.*does without 'tcx'$/);
    expect(refused.answer).toEqual({ state: 'undetermined', reason: 'EPERM', errno: 'EPERM' });
  });
});

describe('makeStateError: the words for each state code', () => {
  it('names the action and the state, with the handle name or reader where the words use one', () => {
    const cases: Array<[string, string]> = [
      ['object-loading', 'the BPF object is being loaded'],
      ['object-load-failed', "the BPF object's load failed; open it again"],
      ['object-loaded', 'the BPF object is already loaded (configure before load())'],
      ['object-not-loaded', 'the BPF object is not loaded yet (call load() first)'],
      ['program-standalone', 'this program was reopened from a pin and belongs to no BPF object'],
      ['program-standalone-attach', 'this program was reopened from a pin; libbpf attaches programs of a loaded BPF object'],
      ['program-closed', 'the program handle is closed'],
      ['program-not-autoloaded', "program 'n' was not loaded (autoload was off)"],
      ['map-standalone', 'this map was opened from the kernel (a pin or an id), not from a BPF object'],
      ['map-closed', 'the map is closed'],
      ['map-not-autocreated', "map 'n' was not created (autocreate was off)"],
      ['map-no-initial-value', "map 'n' has no initial value"],
      ['map-read-only-after-load', "map 'n' is read-only after load (set .rodata before load())"],
      ['map-not-mmapable', 'only array maps created with BPF_F_MMAPABLE (and the .data/.bss maps of an object) can be memory-mapped'],
      ['scratch-unbound', 'bindScratch() must be called before element access'],
      ['scratch-detached', 'the scratch buffers bound with bindScratch() were detached: bind them again'],
      ['reader-closed', 'the ring buffer is closed'],
      ['link-closed', 'the link is closed'],
      ['packet-socket-closed', 'the packet socket is closed'],
    ];
    for (const [state, words] of cases) expect(makeStateError('do it', state, { name: 'n', reader: 'ring buffer' }).message).toBe(`cannot do it: ${words}`);
    expect(makeStateError('read', 'map-read-only-mmap').message).toMatch(/^cannot read: the map is read-only, and a view of read-only memory would crash/);
    expect(makeStateError('use', 'program-not-autoloaded').message).toBe("cannot use: program '?' was not loaded (autoload was off)");
  });
});

describe('the edges mutation testing found', () => {
  it('section kinds are matched whole, from the start', () => {
    for (const kind of ['xusdt', 'xkprobe.multi', 'xkprobe', 'xkretprobe', 'xraw_tp', 'myraw_tracepoint', 'xperf_event', 'xsocket', 'xiter', 'xiter.s', 'xtc', 'mytcx', 'xclassifier', 'xaction']) {
      expect([kind, explicitAttachFor(`${kind}/f`)]).toEqual([kind, undefined]);
    }
  });

  it('missing facts read as "?"; an unnamed program too', () => {
    expect(adviceFor('x', 'ENOENT', { what: 'open-by-id', kind: 'map' })).toEqual({ detail: 'no map with id ?' });
    expect(adviceFor('x', 'EINVAL', { what: 'xdp-attach', ifindex: 4 })).toEqual({ detail: "attaching XDP program '?' to ifindex 4" });
  });

  it('XDP attach: a root array on the hook means "load into a slot"; a netlink attachment gets no link advice', () => {
    const root = adviceFor('x', 'EBUSY', { what: 'xdp-attach', ifindex: 4, attached: [{ id: 3, name: 'xdp_root', mode: 'skb' }] }, 'p');
    expect(root.detail).toBe("attaching XDP program 'p' to ifindex 4: ifindex 4 runs an XDP root array (program 3 'xdp_root' in skb mode)");
    expect(root.hint).toMatch(/^load the program into a slot of the root array instead/);
    expect(root.cliHint).toMatch(/^load it into a slot instead: xdp-root load/);
    expect(adviceFor('x', 'EBUSY', { what: 'xdp-attach', ifindex: 4, attached: [{ id: 3, name: 'other', mode: 'skb' }] }, 'p').hint).toBe(
      'pass { replace: oldProgram } (netlink) to swap it atomically, { force: true } to overwrite it, or detach it first',
    );
    expect(adviceFor('x', 'EIO', { what: 'xdp-attach', ifindex: 4, mode: 'hw' }, 'p')).toEqual({ detail: "attaching XDP program 'p' to ifindex 4" });
  });

  it('a cgroup attach explains only EPERM without flags', () => {
    expect(adviceFor('x', 'EINVAL', { what: 'attach', target: 'cgroup', path: '/cg', flags: 0 })).toEqual({ detail: "cgroup '/cg'" });
  });

  it("libbpf's reason: the prefix only at the start, blank lines skipped, the generic wrap-ups matched whole", () => {
    expect(new BpfError('op', 22, undefined, undefined, ['x libbpf: y']).summary).toMatch(/\(libbpf: x libbpf: y\)$/);
    expect(new BpfError('op', 22, undefined, undefined, ['', 'libbpf: real']).summary).toMatch(/\(libbpf: real\)$/);
    expect(new BpfError('op', 22, undefined, undefined, ['failed to load: 7 more', 'z']).summary).toMatch(/\(libbpf: failed to load: 7 more\)$/);
    expect(new BpfError('op', 22, undefined, undefined, ['failed to load: -22', 'z']).summary).toMatch(/\(libbpf: z\)$/);
  });

  it('verifierSummary: trailer and block markers count only at the start of a line', () => {
    const kept = ['a processed 2 insns', 'processed 12 insns', 'b verification time', 'c stack depth'].join('\n');
    expect(verifierSummary(kept)).toBe('  a processed 2 insns\n  b verification time\n  c stack depth');
    expect(verifierSummary(['a', 'x Verification failed: y', 'b'].join('\n'))).toBe('  a\n  x Verification failed: y\n  b');
    expect(verifierSummary(['a', 'x Source context:', 'b'].join('\n'))).toBe('  a\n  x Source context:\n  b');
    expect(verifierSummary(['a', 'Reason: r', 'x Suggestion: s'].join('\n'))).toBe('  a');
  });

  it('BpfStateError is named', () => {
    const e = makeStateError('do it', 'map-closed');
    expect([e.name, e.state]).toEqual(['BpfStateError', 'map-closed']);
  });
});
