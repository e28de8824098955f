/**
 * {@link RingBuffer}: records from a `BPF_MAP_TYPE_RINGBUF` map, as an async iterable.
 *
 * @module
 */
import { BpfStateError } from '../errors';
import { EventQueue, type EventReaderOptions } from './queue';
import type { BpfMap } from '../map/map';
import { binding } from '../internal/native';

export type { EventReaderOptions } from './queue';

/**
 * Reads the records a BPF program writes with `bpf_ringbuf_output`/`bpf_ringbuf_submit`.
 *
 * The ring buffer's epoll fd is watched from the libuv loop (uv_poll): records are consumed
 * when they arrive, in batches, without blocking the event loop. Nothing is lost on this side:
 * when this process's queue reaches `highWaterMark`, reading pauses and records wait in the
 * kernel's ring; the kernel drops (and `bpf_ringbuf_output` fails) only when that ring is full.
 *
 * Memory: reading also pauses once `highWaterBytes` (default 16 MiB) of records are queued;
 * one wake-up copies at most 4 MiB, so an unread reader holds about `highWaterBytes` + 4 MiB.
 *
 * Lifetime: the reader holds its own dup of the map fd, so it keeps working after the map or its
 * object is closed; `close()`, `break` or the abort signal stop it. Records still queued are
 * dropped. The reader keeps the process alive only while a `next()` (a `for await`) waits; a
 * reader dropped without `close()` is garbage-collected and its fds closed.
 *
 * Minimum kernel: 5.8.
 *
 * @example
 * ```ts
 * for await (const record of obj.ringbuf('events')) {
 *   console.log(record.readBigUInt64LE(0));
 *   if (done) break;             // closes the reader
 * }
 * ```
 */
export class RingBuffer<T = Buffer> extends EventQueue<T> {
  /** The map's name. */
  readonly name: string;

  /**
   * Starts reading the ring buffer `map` (of a loaded object, or opened from a pin).
   * @throws TypeError when the map is not a ring buffer; {@link BpfStateError} before load.
   */
  constructor(map: BpfMap, options: EventReaderOptions<T> = {}) {
    super(options);
    if (map.type !== 'ringbuf') throw new TypeError(`map '${map.name}' is a ${map.type}, not a ringbuf`);
    this.name = map.name;
    const fd = map.fd;
    this.attach(new binding.NativeRingBuffer(fd, this.onRecords));
  }
}

