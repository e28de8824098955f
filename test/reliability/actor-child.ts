/**
 * A loader process for the crash and concurrency scenarios (scenarios.ts), on a root array of a
 * test-kit veth end (never any other interface).
 *
 *   node actor-child.js '<json: { action: "cycle" | "writer", ifname, netns, pinBase, seed, rounds, slotCount, fixtures }>'
 *
 * - cycle: attach, fill slots, upgrade the root, empty a slot, detach … until killed (or 30 s).
 *   Prints "ready" once the library is loaded, so the parent's random kill lands in the work.
 * - writer: `rounds` random slot changes (install a program of its own, or empty the slot);
 *   prints what it asked for, per slot, and the errors it got.
 */
import { BpfObject, BpfStateError, RootArray, shippedObjectPath } from '../../lib/index';

interface Options {
  action: 'cycle' | 'writer';
  ifname: string;
  netns: string;
  pinBase: string;
  seed: number;
  rounds: number;
  slotCount: number;
  fixtures: { slotCount: string };
}

async function cycle(o: Options): Promise<void> {
  const where = { netns: o.netns, pinBase: o.pinBase };
  const end = Date.now() + 30_000;
  process.stdout.write('ready\n');
  for (let i = 0; Date.now() < end; i++) {
    let ra: RootArray;
    try {
      ra = await RootArray.attach(o.ifname, { ...where, slots: o.slotCount, mode: 'skb' });
    } catch (e) {
      // The previous (killed) run may have left an incomplete root: the scenario repairs it, not us.
      if (e instanceof BpfStateError) return;
      throw e;
    }
    await ra.load(0, o.fixtures.slotCount);
    await ra.load(1, shippedObjectPath('xdp_pass'));
    ra.close();
    ra = await RootArray.attach(o.ifname, { ...where, rootObject: shippedObjectPath('xdp_root') });
    await ra.remove(1);
    if (i % 2 === 1) await ra.detach();
    else ra.close();
  }
}

async function writer(o: Options): Promise<void> {
  let x = o.seed >>> 0;
  const rand = (n: number): number => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return (x >>> 8) % n;
  };
  const asked: Record<number, Array<number | null>> = {};
  const errors: string[] = [];
  using ra = RootArray.open(o.ifname, { netns: o.netns, pinBase: o.pinBase });
  const objects: BpfObject[] = [];
  process.stdout.write('ready\n');
  for (let r = 0; r < o.rounds; r++) {
    const slot = rand(o.slotCount);
    try {
      if (rand(3) === 0) {
        (asked[slot] ??= []).push(null);
        await ra.remove(slot);
      } else {
        const { object, program } = ra.prepare(slot, o.fixtures.slotCount);
        objects.push(object);
        await object.load();
        (asked[slot] ??= []).push(program.id);
        await ra.load(slot, program);
      }
    } catch (e) {
      errors.push(`${(e as Error).constructor.name}: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  for (const obj of objects) obj.close();
  console.log(JSON.stringify({ asked, errors }));
}

async function main(): Promise<void> {
  const o = JSON.parse(process.argv[2]) as Options;
  if (o.action === 'cycle') await cycle(o);
  else await writer(o);
}

void main().then(() => process.exit(0), (e) => {
  console.error(e);
  process.exit(3);
});
