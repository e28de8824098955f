/**
 * The async-iterable queue behind {@link RingBuffer} and {@link PerfBuffer}: records arrive in
 * batches from the native reader (on the event loop, never blocking it), wait in a queue, and
 * are handed out by `for await`. When the queue is full the reader is paused, so records wait in
 * the kernel's buffer instead of this process's memory.
 *
 * @internal
 * @module
 */
import type { Codec } from '../btf/codec';
import { BpfStateError } from '../errors';
import type { NativeEventReader } from '../internal/native';

/** Options shared by ring and perf buffers. */
export interface EventReaderOptions<T> {
  /** Decodes each record (e.g. `codecFromBtf(obj.btf, id)`); by default records are Buffers. */
  codec?: Codec<T, unknown>;
  /** Stops the iteration (cleanly: the loop ends) and closes the reader when aborted. */
  signal?: AbortSignal;
  /** Records queued in this process before the reader pauses. Default 65536. */
  highWaterMark?: number;
  /**
   * Bytes of records queued in this process before the reader pauses (whichever of this and
   * `highWaterMark` is reached first). Default 16 MiB. At most 4 MiB more arrive in the batch
   * that crosses it, so an unread reader holds about `highWaterBytes` + 4 MiB.
   */
  highWaterBytes?: number;
}

/**
 * The records of one wake-up of a ring or perf buffer reader ({@link RingBuffer.batches}):
 * record `i` is `data[start(i) .. ends[i])`. The bytes are this batch's own copy.
 */
export class RecordBatch implements Iterable<Buffer> {
  /** The records' bytes, back to back. */
  readonly data: Buffer;
  /** Where each record ends in `data`. */
  readonly ends: Uint32Array;

  /** @internal */
  constructor(data: Buffer, ends: Uint32Array) {
    this.data = data;
    this.ends = ends;
  }

  /** Number of records. */
  get length(): number {
    return this.ends.length;
  }

  /** Where record `i` starts in `data`. */
  start(i: number): number {
    return i === 0 ? 0 : this.ends[i - 1]!;
  }

  /** Record `i`, as a view of `data` (no copy). @throws RangeError for an index out of range. */
  record(i: number): Buffer {
    if (!Number.isInteger(i) || i < 0 || i >= this.ends.length) throw new RangeError(`record index must be an integer in [0, ${this.ends.length - 1}], got ${String(i)}`);
    return this.data.subarray(this.start(i), this.ends[i]);
  }

  /** The records, as views of `data`. */
  *[Symbol.iterator](): IterableIterator<Buffer> {
    for (let i = 0; i < this.ends.length; i++) yield this.data.subarray(this.start(i), this.ends[i]);
  }
}

/** @internal */
export abstract class EventQueue<T> implements AsyncIterable<T>, AsyncIterator<T>, Disposable {
  #queue: T[] = [];
  #sizes: number[] = [];
  #head = 0;
  /** Bytes of the records waiting, in the queue and in queued batches. */
  #bytes = 0;
  #waiter: ((r: IteratorResult<T>) => void) | undefined;
  #closed = false;
  #paused = false;
  #native: NativeEventReader | undefined;
  /** How the consumer reads: undecided until the first next() or batches(). */
  #mode: 'undecided' | 'records' | 'batches' = 'undecided';
  #batches: RecordBatch[] = [];
  #batchHead = 0;
  /** Records in the queued batches. */
  #batchRecords = 0;
  #batchWaiter: ((r: IteratorResult<RecordBatch>) => void) | undefined;
  readonly #codec: Codec<T, unknown> | undefined;
  readonly #high: number;
  readonly #highBytes: number;
  readonly #signal: AbortSignal | undefined;
  readonly #onAbort = (): void => this.close();

  protected constructor(options: EventReaderOptions<T>) {
    this.#codec = options.codec;
    this.#high = options.highWaterMark ?? 65536;
    if (!Number.isInteger(this.#high) || this.#high < 1) throw new RangeError(`highWaterMark must be a positive integer, got ${this.#high}`);
    this.#highBytes = options.highWaterBytes ?? 16 << 20;
    if (!Number.isInteger(this.#highBytes) || this.#highBytes < 1) {
      throw new RangeError(`highWaterBytes must be a positive integer, got ${this.#highBytes}`);
    }
    this.#signal = options.signal;
    if (this.#signal !== undefined && !(this.#signal instanceof AbortSignal)) throw new TypeError('signal must be an AbortSignal');
  }

  /**
   * Subclasses start the native reader with this callback, then call {@link attach}. Records
   * arrive as one batch per wake-up; until the consumer picks records or batches, batches wait
   * as they came (no object per record).
   */
  protected readonly onRecords = (data: Buffer, ends: Uint32Array, lost: number): void => {
    if (lost > 0) this.onLost(lost);
    if (this.#closed || ends.length === 0) return;
    if (this.#mode === 'records') {
      this.#pushRecords(data, ends);
      return;
    }
    const batch = new RecordBatch(data, ends);
    const waiter = this.#batchWaiter;
    if (waiter) {
      this.#setBatchWaiter(undefined);
      waiter({ value: batch, done: false });
      return;
    }
    this.#batches.push(batch);
    this.#batchRecords += batch.length;
    this.#bytes += batch.data.length;
    this.#pauseIfFull();
  };

  #pushRecords(data: Buffer, ends: Uint32Array): void {
    let start = 0;
    const codec = this.#codec;
    for (let i = 0; i < ends.length; i++) {
      const end = ends[i]!;
      const record = data.subarray(start, end);
      this.#push(codec ? codec.decode(record, 0) : (record as unknown as T), end - start);
      start = end;
    }
  }

  #pauseIfFull(): void {
    if (!this.#paused && (this.pending >= this.#high || this.#bytes >= this.#highBytes)) {
      this.#paused = true;
      this.#native?.pause();
    }
  }

  #resumeIfLow(): void {
    if (this.#paused && this.pending <= this.#high >> 1 && this.#bytes <= this.#highBytes / 2) {
      this.#paused = false;
      this.#native?.resume();
    }
  }

  protected onLost(_count: number): void {}

  protected attach(native: NativeEventReader): void {
    this.#native = native;
    if (this.#signal?.aborted) this.close();
    else this.#signal?.addEventListener('abort', this.#onAbort, { once: true });
  }

  #push(record: T, size: number): void {
    if (this.#closed) return;
    const waiter = this.#waiter;
    if (waiter) {
      this.#setWaiter(undefined);
      waiter({ value: record, done: false });
      return;
    }
    this.#queue.push(record);
    this.#sizes.push(size);
    this.#bytes += size;
    this.#pauseIfFull();
  }

  // The native reader keeps the process alive (and this queue reachable) only while someone
  // waits: a reader dropped without close() is collected and does not hold the process open.
  #setWaiter(waiter: ((r: IteratorResult<T>) => void) | undefined): void {
    this.#waiter = waiter;
    this.#updateWaiting();
  }

  #setBatchWaiter(waiter: ((r: IteratorResult<RecordBatch>) => void) | undefined): void {
    this.#batchWaiter = waiter;
    this.#updateWaiting();
  }

  #updateWaiting(): void {
    if (!this.#closed) this.#native?.setWaiting(this.#waiter !== undefined || this.#batchWaiter !== undefined);
  }

  /** Bytes of records waiting in this process. */
  get pendingBytes(): number {
    return this.#bytes;
  }

  /** Records waiting in this process. */
  get pending(): number {
    return this.#queue.length - this.#head + this.#batchRecords;
  }

  /** Whether {@link close} was called (or the signal aborted). */
  get closed(): boolean {
    return this.#closed;
  }

  /** The next record; `done` once closed. */
  next(): Promise<IteratorResult<T>> {
    if (this.#mode !== 'records') this.#useRecords();
    if (this.#head < this.#queue.length) {
      const value = this.#queue[this.#head]!;
      this.#bytes -= this.#sizes[this.#head]!;
      this.#queue[this.#head++] = undefined as T;
      if (this.#head > 4096 && this.#head * 2 > this.#queue.length) {
        this.#queue = this.#queue.slice(this.#head);
        this.#sizes = this.#sizes.slice(this.#head);
        this.#head = 0;
      }
      this.#resumeIfLow();
      return Promise.resolve({ value, done: false });
    }
    if (this.#closed) return Promise.resolve({ value: undefined, done: true });
    if (this.#waiter) return Promise.reject(new Error('next() called again before the previous call settled'));
    return new Promise((resolve) => {
      this.#setWaiter(resolve);
    });
  }

  #useRecords(): void {
    if (this.#mode === 'batches') throw new BpfStateError('this reader is read with batches(): it cannot also hand out single records');
    this.#mode = 'records';
    // Batches that arrived before the first next(): into records, in order.
    const waiting = this.#batches.slice(this.#batchHead);
    this.#batches = [];
    this.#batchHead = 0;
    this.#batchRecords = 0;
    this.#bytes = 0;
    for (const b of waiting) this.#pushRecords(b.data, b.ends);
  }

  /**
   * The records in batches, one per wake-up of the reader: no promise and no object per
   * record, for high rates (a `for await` over single records costs a promise each). Each
   * {@link RecordBatch} holds raw bytes (the `codec` option is not applied). A reader is read
   * either record by record or in batches, not both.
   *
   * @throws {@link BpfStateError} when records were already read one by one.
   * @example
   * ```ts
   * for await (const batch of obj.ringbuf('events').batches()) {
   *   for (let i = 0; i < batch.length; i++) total += batch.data.readBigUInt64LE(batch.start(i) + 8);
   * }
   * ```
   */
  batches(): AsyncIterableIterator<RecordBatch> {
    if (this.#mode === 'records') throw new BpfStateError('this reader was read record by record: it cannot also hand out batches');
    this.#mode = 'batches';
    const iterator: AsyncIterableIterator<RecordBatch> = {
      next: () => this.#nextBatch(),
      return: () => {
        this.close();
        return Promise.resolve({ value: undefined, done: true });
      },
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }

  #nextBatch(): Promise<IteratorResult<RecordBatch>> {
    if (this.#batchHead < this.#batches.length) {
      const batch = this.#batches[this.#batchHead]!;
      this.#batches[this.#batchHead++] = undefined as unknown as RecordBatch;
      if (this.#batchHead > 1024 && this.#batchHead * 2 > this.#batches.length) {
        this.#batches = this.#batches.slice(this.#batchHead);
        this.#batchHead = 0;
      }
      this.#batchRecords -= batch.length;
      this.#bytes -= batch.data.length;
      this.#resumeIfLow();
      return Promise.resolve({ value: batch, done: false });
    }
    if (this.#closed) return Promise.resolve({ value: undefined, done: true });
    if (this.#batchWaiter) return Promise.reject(new Error('next() called again before the previous call settled'));
    return new Promise((resolve) => {
      this.#setBatchWaiter(resolve);
    });
  }

  /** Called by `break` in `for await`: closes the reader. */
  return(): Promise<IteratorResult<T>> {
    this.close();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return this;
  }

  /**
   * Stops reading: the native reader is freed, records still queued are dropped, and a pending
   * `for await` ends. Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#native?.close();
    this.#signal?.removeEventListener('abort', this.#onAbort);
    this.#queue = [];
    this.#sizes = [];
    this.#head = 0;
    this.#bytes = 0;
    this.#batches = [];
    this.#batchHead = 0;
    this.#batchRecords = 0;
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.({ value: undefined, done: true });
    const batchWaiter = this.#batchWaiter;
    this.#batchWaiter = undefined;
    batchWaiter?.({ value: undefined, done: true });
  }

  /** Same as {@link close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}
