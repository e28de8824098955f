// attachSocket / detachSocket on a UDP socket of the test kit: the socket lives in the kit's
// agent process inside side b's namespace, which opens the program by id and attaches it through
// the built library (dist/); traffic comes from side a. Nothing is sent from the root namespace.
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { attachSocket, BpfError, BpfObject, detachSocket } from '../../lib/index';
import { VethPair } from '../../lib/testing/index';
import { describeNet, fixturePath } from '../support/helpers';

const LIB = join(__dirname, '..', '..', 'dist', 'lib', 'index.js');
const PORT = 9123;

interface AgentArgs {
  lib: string;
  id: number;
  port: number;
}

describeNet('attachSocket on a UDP socket of the test kit', () => {
  let net: VethPair;
  let obj: BpfObject;
  let id = 0;

  beforeAll(async () => {
    obj = BpfObject.open(fixturePath('attach_socket'));
    await obj.load();
    id = obj.program('drop_marked').id;
    net = await VethPair.create();
  });

  afterAll(async () => {
    await net?.close();
    obj?.close();
  });

  /** What side b's socket received so far, once `count` arrived or after 2 s (then 200 ms more for strays). */
  const received = (count: number) =>
    net.b.run(async (n: number) => {
      const g = globalThis as unknown as { got: string[] };
      const end = Date.now() + 2000;
      while (g.got.length < n && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
      await new Promise((r) => setTimeout(r, 200));
      const got = g.got;
      g.got = [];
      return got;
    }, count);

  it('drops what the filter drops, counts every packet, and stops after detach', async () => {
    const attached = await net.b.run(
      async ({ lib, id, port }: AgentArgs) => {
        const dgram = require('node:dgram');
        const { BpfProgram, attachSocket } = require(lib);
        const g = globalThis as unknown as { got: string[]; sock: unknown };
        g.got = [];
        const sock = dgram.createSocket('udp4');
        sock.on('message', (m: Buffer) => g.got.push(m.toString()));
        await new Promise<void>((r) => sock.bind(port, '0.0.0.0', () => r()));
        const prog = BpfProgram.openById(id);
        attachSocket(prog, sock);
        prog.close(); // the socket holds the program now
        g.sock = sock;
        return true;
      },
      { lib: LIB, id, port: PORT },
    );
    expect(attached).toBe(true);

    await net.send({ from: 'a', udp: { port: PORT, payload: 'keep-K' }, count: 3 });
    await net.send({ from: 'a', udp: { port: PORT, payload: 'drop-D' }, count: 4 });
    expect(await received(3)).toEqual(['keep-K', 'keep-K', 'keep-K']);
    expect(obj.globals.get('seen')).toBe(7n);
    expect(obj.globals.get('dropped')).toBe(4n);

    const detached = await net.b.run(({ lib }: AgentArgs) => {
      const { detachSocket } = require(lib);
      const g = globalThis as unknown as { sock: unknown };
      return [detachSocket(g.sock), detachSocket(g.sock)];
    }, { lib: LIB, id, port: PORT });
    expect(detached).toEqual([true, false]);

    await net.send({ from: 'a', udp: { port: PORT, payload: 'drop-D' }, count: 2 });
    expect(await received(2)).toEqual(['drop-D', 'drop-D']);
    expect(obj.globals.get('seen')).toBe(7n);
    await net.b.run(() => (globalThis as unknown as { sock: { close(): void } }).sock.close());
  });

  it('refuses what is not a socket, and a program that is not a socket filter', async () => {
    // A file, not a socket (never fd 0-2: a test runner's stdio can be a socket).
    const file = openSync('/dev/null', 'r');
    try {
      expect(() => attachSocket(obj.program('drop_marked'), file)).toThrow(/ENOTSOCK|not an open socket/);
    } finally {
      closeSync(file);
    }
    expect(() => attachSocket(obj.program('drop_marked'), 1_000_000)).toThrow(BpfError);
    expect(() => attachSocket(obj.program('drop_marked'), -1)).toThrow(RangeError);
    expect(() => attachSocket(obj.program('drop_marked'), {} as never)).toThrow(TypeError);
    expect(() => detachSocket(1_000_000)).toThrow(/not an open socket/);
    expect(() => obj.program('drop_marked').attach()).toThrow(/attachSocket\(program, socket\)/);
  });
});
