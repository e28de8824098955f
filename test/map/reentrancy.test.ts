// User JavaScript that runs while a map operation encodes its key or value (a codec, a getter, a
// Proxy over a Buffer) may use the same map, or another one. The outer operation must still act
// on its own key and value: the scratch memory shared by a map's operations is not theirs to
// overwrite mid-call.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BpfObject, BpfStateError, type BpfMap, type Codec } from '../../lib/index';
import { describeBpf, fixturePath } from '../support/helpers';

/** A u32 codec whose encode() first runs `hook` (the user JS under test). */
function hooked(hook: () => void): Codec<number, number> {
  return {
    size: 4,
    encode(v: number, buf: Uint8Array, offset: number) {
      hook();
      Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength).writeUInt32LE(v, offset);
    },
    decode(buf: Uint8Array, offset: number) {
      return Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength).readUInt32LE(offset);
    },
  };
}

/** A u64 codec (numbers) whose encode() first runs `hook`. */
function hooked64(hook: () => void): Codec<number, number> {
  return {
    size: 8,
    encode(v: number, buf: Uint8Array, offset: number) {
      hook();
      Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength).writeBigUInt64LE(BigInt(v), offset);
    },
    decode(buf: Uint8Array, offset: number) {
      return Number(Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength).readBigUInt64LE(offset));
    },
  };
}

/** A Proxy over a Buffer of `bytes` whose element reads run `hook` (once). */
function proxied(bytes: Buffer, hook: () => void): Buffer {
  let ran = false;
  return new Proxy(bytes, {
    get(target, prop, receiver) {
      if (!ran && prop === '0') {
        ran = true;
        hook();
      }
      const v = Reflect.get(target, prop, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  }) as Buffer;
}

function u64(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b;
}

describeBpf('user JS re-entering a map while one of its operations encodes', () => {
  let obj: BpfObject;
  let hash: BpfMap;
  let other: BpfMap;
  beforeAll(() => {
    obj = BpfObject.open(fixturePath('maps'));
    obj.loadSync();
    hash = obj.map('hash');
    other = obj.map('lru');
  });
  afterAll(() => obj.close());

  const reset = () => {
    for (const k of [1, 2, 3]) hash.delete(k);
    hash.set(2, 22n);
  };

  // What the user JS does, on the same map and on another one.
  const actions: [string, () => void][] = [
    ['get(2) on the same map', () => void hash.get(2)],
    ['has(2) on the same map', () => void hash.has(2)],
    ['set(3) on the same map', () => hash.set(3, 33n)],
    ['delete(3) on the same map', () => void hash.delete(3)],
    ['a walk of the same map', () => void [...hash.entries()]],
    ['a per-element walk of the same map', () => {
      hash.batchMode = 'off';
      try {
        void [...hash.entries()];
        void hash.dump();
      } finally {
        hash.batchMode = 'auto';
      }
    }],
    ['get(2) on another map', () => void other.get(2)],
  ];

  for (const [name, action] of actions) {
    it(`set(1, v) with a value Proxy that calls ${name}: key 1 gets v, key 2 keeps its value`, () => {
      reset();
      hash.set(1, proxied(u64(11), action));
      expect(hash.get(1)).toBe(11n);
      expect(hash.get(2)).toBe(22n);
    });

    it(`set(k, 1) with a key Proxy that calls ${name}: the right key is written`, () => {
      reset();
      const key = Buffer.alloc(4);
      key.writeUInt32LE(1);
      hash.set(proxied(key, action), 11n);
      expect(hash.get(1)).toBe(11n);
      expect(hash.get(2)).toBe(22n);
    });

    it(`get/has/delete/take with a key codec that calls ${name}: they act on their own key`, () => {
      reset();
      hash.set(1, 11n);
      const view = hash.typed({ key: hooked(action), value: hooked64(() => {}) });
      expect(view.get(1)).toBe(11);
      expect(view.has(1)).toBe(true);
      expect(view.has(4)).toBe(false);
      expect(view.delete(1)).toBe(true);
      expect(hash.has(1)).toBe(false);
      expect(hash.get(2)).toBe(22n);
    });
  }

  it('a value codec whose encode() calls set() on the same key twice over: the outer value wins', () => {
    reset();
    const view = hash.typed({ key: hooked(() => {}), value: hooked64(() => hash.set(1, 99n)) });
    view.set(1, 5);
    expect(hash.get(1)).toBe(5n);
    expect(hash.get(2)).toBe(22n);
  });

  it('a value decoder that reads the same map: get() returns its own value', () => {
    reset();
    hash.set(1, 11n);
    const plain = hooked64(() => {});
    const view = hash.typed({
      key: hooked(() => {}),
      value: { ...plain, decode: (b: Uint8Array, o: number) => (void hash.get(2), plain.decode(b, o)) },
    });
    expect(view.get(1)).toBe(11);
    expect([...view.entries()].sort((a, b) => a[0] - b[0])).toEqual([[1, 11], [2, 22]]);
    view.batchMode = 'off';
    try {
      expect([...view.entries()].sort((a, b) => a[0] - b[0])).toEqual([[1, 11], [2, 22]]);
      expect(view.dump().sort((a, b) => a[0] - b[0])).toEqual([[1, 11], [2, 22]]);
    } finally {
      view.batchMode = 'auto';
    }
  });

  it('setBatch / deleteBatch / getBatch with keys and values that use the map: each entry lands', () => {
    reset();
    const n = hash.setBatch([
      [1, proxied(u64(11), () => void hash.get(2))],
      [3, proxied(u64(33), () => hash.set(2, 22n))],
    ]);
    expect(n).toBe(2);
    expect(hash.get(1)).toBe(11n);
    expect(hash.get(3)).toBe(33n);
    const key = Buffer.alloc(4);
    key.writeUInt32LE(3);
    expect(hash.deleteBatch([1, proxied(key, () => void hash.has(2))])).toBe(2);
    expect(hash.get(2)).toBe(22n);
    hash.set(1, 11n);
    expect(hash.getBatch([proxied(key, () => void hash.get(2)), 1, 2])).toEqual([undefined, 11n, 22n]);
  });

  it('pop/peek with a value decoder that peeks the same queue: each returns its own value', () => {
    const queue = obj.map('queue');
    while (queue.pop() !== undefined);
    queue.push(1);
    queue.push(2);
    const plain = hooked(() => {});
    const view = queue.typed({ value: { ...plain, decode: (b: Uint8Array, o: number) => (void queue.peek(), plain.decode(b, o)) } });
    expect(view.peek()).toBe(1);
    expect(view.pop()).toBe(1);
    expect(view.pop()).toBe(2);
    expect(view.pop()).toBeUndefined();
  });

  it('push with a value codec that pops the same queue: the pushed value lands', () => {
    const queue = obj.map('queue');
    while (queue.pop() !== undefined);
    queue.push(5);
    const view = queue.typed({ value: hooked(() => void queue.pop()) });
    view.push(7);
    expect(queue.pop()).toBe(7);
    expect(queue.pop()).toBeUndefined();
  });

  it('user JS that closes the object mid-set: BpfStateError, nothing written', () => {
    const o = BpfObject.open(fixturePath('maps'));
    o.loadSync();
    const m = o.map('hash');
    expect(() => m.set(1, proxied(u64(11), () => o.close()))).toThrow(BpfStateError);
    expect(() => m.get(1)).toThrow(BpfStateError);
    o.close();
  });
});
