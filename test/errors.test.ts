// BpfError construction: errno names, libbpf's own codes, hints (pure logic, no kernel).
// @module-tag pure
// @module-tag threads
import { describe, expect, it } from 'vitest';
import { BpfError, BpfStateError, BpfVerifierError, errnoName } from '../lib/index';
import { makeBpfError, makeStateError } from '../lib/errors';

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
    expect(makeStateError('closed')).toBeInstanceOf(BpfStateError);
    const plain = makeBpfError('bpf_map_lookup_elem', 2, { detail: 'key 7' });
    expect(plain).toBeInstanceOf(BpfError);
    expect(plain.message).toBe('bpf_map_lookup_elem failed: no such file or directory (ENOENT): key 7');
  });
});
