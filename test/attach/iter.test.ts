// attachIter on a task iterator, read without a bpffs pin, with and without a pid filter.
import { expect, it } from 'vitest';
import { attachIter, BpfFeatureError, BpfObject } from '../../lib/index';
import { fixturePath } from '../support/helpers';
import { describeWith, itWith, itWithout } from '../support/kernel';

function parse(text: string): Array<[number, number]> {
  return text
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => l.split(' ').map(Number) as [number, number]);
}

describeWith('task-iterator', 'attachIter', () => {
  it('walks every task without a filter', async () => {
    using obj = BpfObject.open(fixturePath('attach_iter'));
    await obj.load();
    using it = attachIter(obj.program('dump_task'));
    const tasks = parse((await it.read()).toString());
    const tgids = new Set(tasks.map(([tgid]) => tgid));
    expect(tgids.has(process.pid)).toBe(true);
    expect(tgids.size).toBeGreaterThan(1); // other processes too (and kernel threads: pid 2, kthreadd)
    expect(tgids.has(2)).toBe(true);
    // Each read runs the walk again.
    expect(parse((await it.read()).toString()).length).toBeGreaterThan(1);
  });

  itWith('task-iterator-filter', 'walks only this process\'s threads with { pid }', async () => {
    using obj = BpfObject.open(fixturePath('attach_iter'));
    await obj.load();
    using it = attachIter(obj.program('dump_task'), { pid: process.pid });
    const lines: string[] = [];
    for await (const line of it.lines()) lines.push(line);
    const tasks = parse(lines.join('\n'));
    expect(tasks.length).toBeGreaterThan(0);
    expect(tasks.every(([tgid]) => tgid === process.pid)).toBe(true);
    expect(tasks.some(([, pid]) => pid === process.pid)).toBe(true);
  });

  itWithout('task-iterator-filter', 'refuses { pid } up front before 6.1, naming the feature', async () => {
    using obj = BpfObject.open(fixturePath('attach_iter'));
    await obj.load();
    const call = () => attachIter(obj.program('dump_task'), { pid: process.pid });
    expect(call).toThrow(BpfFeatureError);
    expect(call).toThrow(/attachIter with options\.pid.*'task-iterator-filter'.*Linux 6\.1/);
  });

  it('checks its options', async () => {
    using obj = BpfObject.open(fixturePath('attach_iter'));
    await obj.load();
    const p = obj.program('dump_task');
    expect(() => attachIter(p, { pid: 1, tid: 1 })).toThrow(TypeError);
    expect(() => attachIter(p, { order: 'self' })).toThrow(/cgroup iterators only/);
    expect(() => attachIter(p, { pid: 0 })).toThrow(RangeError);
  });
});
