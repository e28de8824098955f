// BpfError construction: errno names, libbpf's own codes, hints (pure logic, no kernel).
// @module-tag pure
// @module-tag threads
import { describe, expect, it } from 'vitest';
import { BpfError, BpfStateError, BpfVerifierError, errnoName } from '../lib/index';
import { adviceFor, explicitAttachFor, makeBpfError, makeStateError } from '../lib/errors';
import { checkName } from '../lib/internal/validate';

describe('BpfError', () => {
  it('names the errno, the operation and the cause', () => {
    const e = new BpfError('bpf_map_update_elem', 7);
    expect([e.code, e.errno, e.op, e.name]).toEqual(['E2BIG', 7, 'bpf_map_update_elem', 'BpfError']);
    expect(e.message).toBe('bpf_map_update_elem failed: argument list too long (E2BIG)');
    expect(e).toBeInstanceOf(Error);
  });

  it('hints at the missing capability for EPERM', () => {
    const e = new BpfError('bpf_object__load', 1);
    expect(e.code).toBe('EPERM');
    expect(e.hint).toMatch(/CAP_BPF/);
    expect(e.message).toMatch(/Hint: .*CAP_BPF/);
    expect(new BpfError('bpf_xdp_attach', 1).hint).toMatch(/CAP_NET_ADMIN/);
  });

  it('does not blame privileges for a verifier refusal (EACCES from a load)', () => {
    const v = new BpfVerifierError('bpf_object__load', 13, 'prog', 'line 1\ninvalid access\n');
    expect(v.code).toBe('EACCES');
    expect(v.hint).not.toMatch(/CAP_/);
    expect(v.message).toMatch(/invalid access/);
    expect(v).toBeInstanceOf(BpfError);
  });

  it("knows libbpf's own error codes", () => {
    const e = new BpfError('bpf_object__open_mem', 4001);
    expect(e.code).toBe('LIBBPF_ERRNO__FORMAT');
    expect(e.message).toMatch(/BPF object format invalid/);
    expect(e.hint).toMatch(/clang -target bpf/);
  });

  it('names unknown errnos by number', () => {
    expect(errnoName(1)).toBe('EPERM');
    expect(errnoName(99999)).toBe('E99999');
  });

  it('is what the native factory builds: verifier, state and plain errors', () => {
    expect(makeBpfError('bpf_object__load', 13, { program: 'p', log: 'x' })).toBeInstanceOf(BpfVerifierError);
    const state = makeStateError('attach a program', 'object-closed');
    expect(state).toBeInstanceOf(BpfStateError);
    expect(state.message).toBe('cannot attach a program: the BPF object is closed');
    expect(state.state).toBe('object-closed');
    const plain = makeBpfError('bpf_map_lookup_elem', 2, { detail: 'key 7' });
    expect(plain).toBeInstanceOf(BpfError);
    expect(plain.message).toBe('bpf_map_lookup_elem failed: no such file or directory (ENOENT): key 7');
  });
});

describe('the advice table: facts from native, words from lib', () => {
  it('words a pin that exists, a pin of the wrong kind, and nothing pinned', () => {
    expect(adviceFor('bpf_obj_pin', 'EEXIST', { what: 'pin', path: '/sys/fs/bpf/x', kind: 'program' })).toEqual({
      detail: "'/sys/fs/bpf/x' already exists",
      hint: 'unpin what is there, or choose another path',
    });
    expect(adviceFor('bpf_obj_get', 'EINVAL', { what: 'pin-kind', path: '/p', kind: 'prog', expected: 'link' })).toEqual({
      detail: "'/p' holds a BPF program, not a link",
      hint: 'reopen it with BpfProgram.openPinned()',
    });
    expect(adviceFor('bpf_link__open', 'ENOENT', { what: 'open-pinned', path: '/p', expected: 'link' }).detail).toBe("nothing is pinned at '/p'");
  });

  it('names the explicit attach call for a section libbpf cannot auto-attach, and only then', () => {
    const ctx = { what: 'auto-attach', section: 'uprobe' };
    expect(adviceFor('bpf_program__attach', 'ENOTSUP', ctx, 'p').hint).toBe('attach it with attachUprobe(program, { binary, func })');
    expect(adviceFor('bpf_program__attach', 'ENOENT', ctx, 'p').hint).toBeUndefined();
    expect(explicitAttachFor('kprobe.multi/x')).toBe('attachKprobeMulti(program, { pattern })');
    expect(explicitAttachFor('unknown')).toBeUndefined();
  });

  it('XDP: an occupied hook lists what is attached; a root array there means "load into a slot"', () => {
    const base = { what: 'xdp-attach', iface: 'veth0', ifindex: 7, mode: 'skb', via: 'netlink' };
    const plain = adviceFor('bpf_xdp_attach', 'EBUSY', { ...base, attached: [{ id: 42, name: 'xdp_drop', mode: 'skb' }] }, 'p');
    expect(plain.detail).toBe("attaching XDP program 'p' to interface 'veth0' (ifindex 7): interface 'veth0' (ifindex 7) already has program 42 'xdp_drop' in skb mode");
    expect(plain.hint).toMatch(/\{ replace: oldProgram \}.*\{ force: true \}/);
    const root = adviceFor('bpf_xdp_attach', 'EBUSY', { ...base, attached: [{ id: 9, name: 'xdp_root', mode: 'skb' }] }, 'p');
    expect(root.hint).toMatch(/^load the program into a slot of the root array instead/);
    expect(root.cliHint).toMatch(/xdp-root load <iface> <slot> <object>/);
    const link = adviceFor('bpf_link_create', 'EEXIST', { ...base, via: 'link', attached: [] }, 'p');
    expect(link.hint).toMatch(/link\.update\(\)/);
    expect(adviceFor('bpf_xdp_attach', 'EOPNOTSUPP', base, 'p')).toMatchObject({ hint: "use mode 'skb' (generic XDP, any driver) or pass { fallback: 'skb' }", cliHint: 'use --mode skb (generic XDP, any driver)' });
  });

  it('an interface that is not there: the library hint names { netns }, the CLI hint --netns PATH', () => {
    const a = adviceFor('if_nametoindex', 'ENODEV', { what: 'no-interface', iface: 'eth9' });
    expect(a).toEqual({ detail: "no interface 'eth9'", hint: 'an interface inside a network namespace needs { netns }', cliHint: 'an interface inside a network namespace needs --netns PATH' });
    expect(adviceFor('if_nametoindex', 'ENODEV', { what: 'no-interface', iface: 'eth9', netns: '/run/netns/x' })).toEqual({ detail: "no interface 'eth9' in netns /run/netns/x" });
  });

  it('a BpfError built from facts keeps them, and prints the CLI hint only through cliHint', () => {
    const e = makeBpfError('if_nametoindex', 19, { context: { what: 'no-interface', iface: 'eth9' } });
    expect(e.message).toBe("if_nametoindex failed: no such device (ENODEV): no interface 'eth9'. Hint: an interface inside a network namespace needs { netns }");
    expect(e.summary).toBe("if_nametoindex failed: no such device (ENODEV): no interface 'eth9'");
    expect(e.cliHint).toBe('an interface inside a network namespace needs --netns PATH');
    expect(e.context).toEqual({ what: 'no-interface', iface: 'eth9' });
    expect(Object.isFrozen(e.context)).toBe(true);
  });

  it('the "not a BPF ELF object" hint belongs to object opens only', () => {
    expect(new BpfError('bpf_object__open_file', 4001).hint).toMatch(/not a valid BPF ELF object/);
    expect(new BpfError('bpf_program__attach_uprobe_opts', 8).hint).toBeUndefined();
  });

  it('every state code has its own words; an unknown code is shown as is', () => {
    const states = ['object-closed', 'object-loading', 'object-load-failed', 'object-loaded', 'object-not-loaded', 'program-standalone', 'program-standalone-attach', 'program-closed', 'program-not-autoloaded', 'map-standalone', 'map-closed', 'map-not-autocreated', 'map-no-initial-value', 'map-read-only-after-load', 'map-not-mmapable', 'map-read-only-mmap', 'reader-closed', 'link-closed', 'packet-socket-closed'];
    const texts = states.map((s) => makeStateError('x', s, { name: 'm', reader: 'ring buffer' }).message);
    expect(new Set(texts).size).toBe(states.length);
    for (const [i, t] of texts.entries()) expect(t, states[i]).not.toBe(`cannot x: ${states[i]}`);
    expect(makeStateError('x', 'no-such-state').message).toBe('cannot x: no-such-state');
  });
});

describe('checkName: option values are names, never prototype keys', () => {
  it('accepts a listed name, refuses toString/constructor and non-strings with the list', () => {
    const names = ['self', 'ancestors-up'] as const;
    expect(checkName('self', 'options.order', names)).toBe('self');
    expect(() => checkName('constructor', 'options.order', names)).toThrow(new RangeError("options.order must be one of 'self', 'ancestors-up', got 'constructor'"));
    expect(() => checkName('toString', 'options.order', names)).toThrow(RangeError);
    expect(() => checkName(3, 'options.order', names)).toThrow(new TypeError("options.order must be one of 'self', 'ancestors-up', got number 3"));
  });
});
