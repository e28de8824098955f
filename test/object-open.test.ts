// BpfProgram names itself from names() (not the whole info() object, which open() used to build
// per program): an object's programs by name and section, a reopened program by its kernel name.
import { expect, it } from 'vitest';
import { BpfObject, BpfProgram } from '../lib/index';
import { describeBpf, fixturePath } from './support/helpers';

describeBpf('program names at open()', () => {
  it('names every program of an object and a program reopened by id; info() stays available', async () => {
    using obj = BpfObject.open(fixturePath('ringbuf'));
    expect(obj.programs.map((p) => [p.name, p.section])).toEqual([
      ['xdp_ringbuf', 'xdp'],
      ['xdp_perf', 'xdp'],
    ]);
    expect(obj.program('xdp_perf').type).toBe('xdp');
    await obj.load();
    using again = BpfProgram.openById(obj.program('xdp_ringbuf').id);
    expect([again.name, again.section, again.type]).toEqual(['xdp_ringbuf', '', 'xdp']);
    obj.close();
    expect(() => obj.program('xdp_perf').native.names()).toThrow(/closed/);
  });
});
