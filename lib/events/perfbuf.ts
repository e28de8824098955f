/**
 * {@link PerfBuffer}: records from a `BPF_MAP_TYPE_PERF_EVENT_ARRAY` map, as an async iterable.
 *
 * @module
 */
import { EventQueue, type EventReaderOptions } from './queue';
import type { BpfMap } from '../map/map';
import { binding } from '../internal/native';

/** Options of {@link PerfBuffer}. */
export interface PerfBufferOptions<T> extends EventReaderOptions<T> {
  /** Pages of each CPU's ring (a power of 2). Default 64 (256 KiB with 4 KiB pages). */
  pagesPerCpu?: number;
}

/**
 * Reads the samples a BPF program writes with `bpf_perf_event_output`: one ring per CPU,
 * watched from the libuv loop like {@link RingBuffer}. Unlike a ring buffer, a perf ring that
 * is full drops samples and the kernel counts them: {@link PerfBuffer.lost} is the total so far.
 *
 * Creating it stores a perf event fd per CPU in the map (libbpf `perf_buffer__new`), replacing
 * what was there: one reader per map.
 *
 * Lifetime: the reader holds its own dup of the map fd, so closing the map or its object does
 * not silence it, and its `close()` removes its entries from this map only. It keeps the process
 * alive only while a `next()` waits; dropped without `close()`, it is garbage-collected. Each
 * wake-up drains whole CPU rings until about 65536 records or 4 MiB, the rest on the next turn.
 *
 * Minimum kernel: 4.4.
 *
 * @example
 * ```ts
 * const perf = obj.perfbuf('events', { pagesPerCpu: 16 });
 * for await (const sample of perf) handle(sample);
 * console.log('lost', perf.lost);
 * ```
 */
export class PerfBuffer<T = Buffer> extends EventQueue<T> {
  /** The map's name. */
  readonly name: string;
  #lost = 0;

  /**
   * Starts reading the perf event array `map`.
   * @throws TypeError when the map is not a perf event array; RangeError for a bad page count.
   */
  constructor(map: BpfMap, options: PerfBufferOptions<T> = {}) {
    super(options);
    if (map.type !== 'perf_event_array') throw new TypeError(`map '${map.name}' is a ${map.type}, not a perf_event_array`);
    const pages = options.pagesPerCpu ?? 64;
    if (!Number.isInteger(pages) || pages < 1 || (pages & (pages - 1)) !== 0) {
      throw new RangeError(`pagesPerCpu must be a power of 2, got ${pages}`);
    }
    this.name = map.name;
    this.attach(new binding.NativePerfBuffer(map.fd, pages, this.onRecords));
  }

  /** Samples the kernel dropped because a CPU's ring was full, since this reader started. */
  get lost(): number {
    return this.#lost;
  }

  protected override onLost(count: number): void {
    this.#lost += count;
  }
}
