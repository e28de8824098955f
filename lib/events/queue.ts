/**
 * The reader behind {@link RingBuffer} and {@link PerfBuffer}: records arrive in batches from the
 * native reader (on the event loop, never blocking it) and are handed out three ways: to a
 * synchronous callback ({@link EventQueue.subscribe}), as batches ({@link EventQueue.batches}) or
 * one by one (`for await`). Each record is copied once, from the kernel's ring into a buffer the
 * reader reuses; a batch that must outlive its turn (queued, or read record by record) is copied
 * again into memory of its own. When the queue is full the reader is paused, so records wait in
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
 * record `i` is `data[start(i) .. ends[i])`.
 *
 * Lifetime: a batch handed out by `batches()` is valid until the iterator's next `next()` call
 * (the next turn of the `for await` loop): its bytes may live in a buffer the reader reuses for
 * the following batch. To keep a batch, or a record of it, past that point, {@link copy} it.
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

  /**
   * Record `i`, as a view of `data` (no copy; valid as long as the batch).
   * @throws RangeError for an index out of range.
   */
  record(i: number): Buffer {
    if (!Number.isInteger(i) || i < 0 || i >= this.ends.length) throw new RangeError(`record index must be an integer in [0, ${this.ends.length - 1}], got ${String(i)}`);
    return this.data.subarray(this.start(i), this.ends[i]);
  }

  /**
   * This batch in memory of its own, valid for as long as it is referenced.
   * @example
   * ```ts
   * const kept: RecordBatch[] = [];
   * for await (const batch of rb.batches()) kept.push(batch.copy());
   * ```
   */
  copy(): RecordBatch {
    return new RecordBatch(Buffer.from(this.data), this.ends.slice());
  }

  /** The records, as views of `data` (valid as long as the batch). */
  *[Symbol.iterator](): IterableIterator<Buffer> {
    for (let i = 0; i < this.ends.length; i++) yield this.data.subarray(this.start(i), this.ends[i]);
  }
}

/**
 * A synchronous record callback ({@link EventQueue.subscribe}): the record is
 * `data[offset .. offset + length)`, valid only during the call.
 */
export type RecordCallback = (data: Buffer, offset: number, length: number) => void;

/**
 * Records mode: next() drains the kernel itself every this many records (one native call), as a
 * loop that always finds records queued gives the event loop no turn to do it.
 */
const PULL_EVERY = 4096;

/** What #takeRecord returns when no record waits. */
const NONE: unique symbol = Symbol('none');

/** @internal */
export abstract class EventQueue<T> implements AsyncIterable<T>, AsyncIterator<T>, Disposable {
  /** Batches waiting (records mode: the records not yet handed out start at #cur). */
  #batches: RecordBatch[] = [];
  #batchHead = 0;
  /** Records in the queued batches. */
  #batchRecords = 0;
  /** Bytes of the records waiting, in queued batches and the current one. */
  #bytes = 0;
  /** Records mode: the batch records are being handed out from, and the next record's index. */
  #cur: RecordBatch | undefined;
  #curIndex = 0;
  /** Records mode: records handed out since the kernel was last drained from next(). */
  #sincePull = 0;
  #waiter: ((r: IteratorResult<T>) => void) | undefined;
  #batchWaiter: ((r: IteratorResult<RecordBatch>) => void) | undefined;
  #subscriber: RecordCallback | undefined;
  #paused = false;
  /** The native reader; undefined once closed (native keeps the record: see {@link closed}). */
  #native: NativeEventReader | undefined;
  /** How the consumer reads: undecided until the first next(), batches() or subscribe(). */
  #mode: 'undecided' | 'records' | 'batches' | 'subscribe' = 'undecided';
  /** The native reader's reused buffers, and views of them (made once per buffer). */
  #dataAb: ArrayBuffer | undefined;
  #dataBuf: Buffer = Buffer.alloc(0);
  #endsAb: ArrayBuffer | undefined;
  #endsAll: Uint32Array = new Uint32Array(0);
  /** The lease word: 1 while a batch in the reused buffers is queued or out. */
  #lease: Int32Array | undefined;
  /** That batch, and whether the consumer has it (then its next next() releases it). */
  #leased: RecordBatch | undefined;
  #leasedOut = false;
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
   * arrive as one batch per wake-up (see native/events/epoll_reader.h): in the reader's reused
   * buffers when `lease` is given, else in buffers of their own.
   */
  protected readonly onRecords = (dataAb: ArrayBuffer, endsAb: ArrayBuffer, count: number, lost: number, lease: Int32Array | undefined): void => {
    if (lost > 0) this.onLost(lost);
    if (this.#native === undefined || count === 0) return;
    if (lease === undefined) {
      const ends = new Uint32Array(endsAb);
      if (this.#mode === 'subscribe') this.#deliver(Buffer.from(dataAb), ends, count);
      else this.#enqueue(new RecordBatch(Buffer.from(dataAb), ends));
      return;
    }
    if (dataAb !== this.#dataAb) {
      this.#dataAb = dataAb;
      this.#dataBuf = Buffer.from(dataAb);
    }
    if (endsAb !== this.#endsAb) {
      this.#endsAb = endsAb;
      this.#endsAll = new Uint32Array(endsAb);
    }
    if (this.#mode === 'subscribe') {
      this.#deliver(this.#dataBuf, this.#endsAll, count);
      return;
    }
    const bytes = this.#endsAll[count - 1]!;
    if (this.#mode === 'records') {
      // Records may be kept by whoever reads them: copy, and keep the reused buffers out of it
      // from now on (the reader then hands over batches of their own).
      lease[0] = 1;
      this.#enqueue(new RecordBatch(Buffer.from(this.#dataBuf.subarray(0, bytes)), this.#endsAll.slice(0, count)));
      return;
    }
    const batch = new RecordBatch(this.#dataBuf.subarray(0, bytes), this.#endsAll.subarray(0, count));
    lease[0] = 1;
    this.#lease = lease;
    this.#leased = batch;
    this.#leasedOut = false;
    this.#enqueue(batch);
  };

  #deliver(data: Buffer, ends: Uint32Array, count: number): void {
    const fn = this.#subscriber!;
    let start = 0;
    for (let i = 0; i < count; i++) {
      const end = ends[i]!;
      fn(data, start, end - start);
      if (this.#native === undefined) return;
      start = end;
    }
  }

  #enqueue(batch: RecordBatch): void {
    if (this.#mode === 'batches' && this.#batchWaiter !== undefined && this.#batchHead === this.#batches.length) {
      const waiter = this.#batchWaiter;
      this.#setBatchWaiter(undefined);
      if (batch === this.#leased) this.#leasedOut = true;
      waiter({ value: batch, done: false });
      return;
    }
    this.#batches.push(batch);
    this.#batchRecords += batch.length;
    this.#bytes += batch.data.length;
    const waiter = this.#waiter;
    if (waiter !== undefined) {
      this.#setWaiter(undefined);
      waiter({ value: this.#takeRecord() as T, done: false });
    }
    this.#pauseIfFull();
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
    this.#native?.setWaiting(this.#waiter !== undefined || this.#batchWaiter !== undefined || this.#subscriber !== undefined);
  }

  /** Bytes of records waiting in this process. */
  get pendingBytes(): number {
    return this.#bytes;
  }

  /** Records waiting in this process. */
  get pending(): number {
    return this.#batchRecords + (this.#cur === undefined ? 0 : this.#cur.length - this.#curIndex);
  }

  /** Whether {@link close} was called (or the signal aborted). */
  get closed(): boolean {
    return this.#native === undefined || this.#native.closed();
  }

  /** The next queued batch, or undefined. */
  #shiftBatch(): RecordBatch | undefined {
    if (this.#batchHead === this.#batches.length) return undefined;
    const batch = this.#batches[this.#batchHead]!;
    this.#batches[this.#batchHead++] = undefined as unknown as RecordBatch;
    if (this.#batchHead === this.#batches.length) {
      this.#batches = [];
      this.#batchHead = 0;
    } else if (this.#batchHead > 1024 && this.#batchHead * 2 > this.#batches.length) {
      this.#batches = this.#batches.slice(this.#batchHead);
      this.#batchHead = 0;
    }
    this.#batchRecords -= batch.length;
    return batch;
  }

  /** Records mode: the next waiting record (decoded), or NONE. */
  #takeRecord(): T | typeof NONE {
    let cur = this.#cur;
    while (cur === undefined || this.#curIndex >= cur.length) {
      cur = this.#shiftBatch();
      this.#cur = cur;
      this.#curIndex = 0;
      if (cur === undefined) return NONE;
    }
    const i = this.#curIndex++;
    const start = i === 0 ? 0 : cur.ends[i - 1]!;
    const end = cur.ends[i]!;
    this.#bytes -= end - start;
    if (this.#curIndex === cur.length) this.#cur = undefined;
    const record = cur.data.subarray(start, end);
    return this.#codec ? this.#codec.decode(record, 0) : (record as unknown as T);
  }

  /**
   * The next record (`for await`); `done` once closed. Records are Buffers of their own (or
   * decoded by `codec`), kept as long as referenced. The reader drains the kernel in batches
   * whatever the pace of this loop (next() itself does it every 4096 records, as a loop that
   * always finds records waiting gives the event loop no turn); records then wait here up to
   * `highWaterMark`, so the loop loses no more records than `batches()` would.
   */
  next(): Promise<IteratorResult<T>> {
    if (this.#mode !== 'records') this.#useRecords();
    if (this.#cur === undefined || ++this.#sincePull >= PULL_EVERY) this.#pull();
    const record = this.#takeRecord();
    this.#resumeIfLow();
    if (record !== NONE) return Promise.resolve({ value: record, done: false });
    if (this.#native === undefined) return Promise.resolve({ value: undefined, done: true });
    if (this.#waiter) return Promise.reject(new Error('next() called again before the previous call settled'));
    return new Promise((resolve) => {
      this.#setWaiter(resolve);
    });
  }

  /**
   * Records mode, between two batches and every {@link PULL_EVERY} records: takes what waits in
   * the kernel now, up to the high-water mark. A `for await` loop that finds records queued never yields to the event loop (each
   * next() settles at once), so the reader's loop-side drain would not run until the queue is
   * empty, and a fast producer would fill the kernel's buffer meanwhile and lose records.
   */
  #pull(): void {
    this.#sincePull = 0;
    const native = this.#native;
    if (native === undefined) return;
    try {
      // consume() delivers synchronously to onRecords, which queues and pauses at the mark (and
      // may close the reader: a closed queue has let go of its native reader).
      while (!this.#paused && this.#native === native && native.consume(0) > 0);
    } catch {
      // A failing drain is the reader's own business: the loop-side drain meets the same error.
    }
  }

  #useRecords(): void {
    if (this.#mode === 'batches') throw new BpfStateError('this reader is read with batches(): it cannot also hand out single records');
    if (this.#mode === 'subscribe') throw new BpfStateError('this reader delivers to subscribe(): it cannot also hand out single records');
    this.#mode = 'records';
    // A batch still in the reused buffers: into memory of its own, as records may be kept.
    const leased = this.#leased;
    if (leased !== undefined) {
      const i = this.#batches.indexOf(leased, this.#batchHead);
      if (i >= 0) this.#batches[i] = leased.copy();
      this.#leased = undefined;
    }
  }

  /**
   * The records in batches, one per wake-up of the reader: no promise and no object per
   * record, for high rates (a `for await` over single records costs a promise each). Each
   * {@link RecordBatch} holds raw bytes (the `codec` option is not applied) and is valid until
   * the next turn of the loop (see {@link RecordBatch}: `copy()` what you keep). A reader is read
   * one way only: batches, records or {@link subscribe}.
   *
   * @throws {@link BpfStateError} when records were already read another way.
   * @example
   * ```ts
   * for await (const batch of obj.ringbuf('events').batches()) {
   *   for (let i = 0; i < batch.length; i++) total += batch.data.readBigUInt64LE(batch.start(i) + 8);
   * }
   * ```
   */
  batches(): AsyncIterableIterator<RecordBatch> {
    if (this.#mode === 'records') throw new BpfStateError('this reader was read record by record: it cannot also hand out batches');
    if (this.#mode === 'subscribe') throw new BpfStateError('this reader delivers to subscribe(): it cannot also hand out batches');
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
    if (this.#leasedOut) {
      // The consumer is done with the batch in the reused buffers: the reader may refill them.
      this.#leasedOut = false;
      this.#leased = undefined;
      if (this.#lease !== undefined) this.#lease[0] = 0;
    }
    const batch = this.#shiftBatch();
    if (batch !== undefined) {
      if (batch === this.#leased) this.#leasedOut = true;
      this.#bytes -= batch.data.length;
      this.#resumeIfLow();
      return Promise.resolve({ value: batch, done: false });
    }
    if (this.#native === undefined) return Promise.resolve({ value: undefined, done: true });
    if (this.#batchWaiter) return Promise.reject(new Error('next() called again before the previous call settled'));
    return new Promise((resolve) => {
      this.#setBatchWaiter(resolve);
    });
  }

  /**
   * Calls `fn(data, offset, length)` for each record, synchronously, as batches arrive: no
   * promise, no object and no copy per record. The record is `data[offset .. offset + length)`
   * and is valid only during the call (`data` is reused for the next records): copy what you
   * keep. The `codec` option is not applied (`codec.decode(data, offset)` does it).
   *
   * The reader keeps the process alive until {@link close} (or the abort signal). Records already
   * waiting are delivered on the next microtask. An exception thrown by `fn` ends that batch (its
   * later records are dropped) and is reported as an uncaught exception, as an event emitter
   * would; the reader keeps running.
   *
   * @throws TypeError when `fn` is not a function; {@link BpfStateError} when the reader is
   * closed or already read another way (or subscribed).
   * @example
   * ```ts
   * let bytes = 0;
   * rb.subscribe((data, offset, length) => { bytes += length; seen.add(data.readBigUInt64LE(offset)); });
   * // later: rb.close();
   * ```
   */
  subscribe(fn: RecordCallback): void {
    if (typeof fn !== 'function') throw new TypeError('subscribe() takes a function (data, offset, length)');
    if (this.#native === undefined) throw new BpfStateError('this reader is closed');
    if (this.#mode !== 'undecided') throw new BpfStateError(`this reader is already read ${this.#mode === 'subscribe' ? 'by a subscriber' : this.#mode === 'batches' ? 'with batches()' : 'record by record'}: it has one consumer`);
    this.#mode = 'subscribe';
    this.#subscriber = fn;
    this.#updateWaiting();
    if (this.#batchHead < this.#batches.length) {
      queueMicrotask(() => {
        for (let b = this.#shiftBatch(); b !== undefined && this.#native !== undefined; b = this.#shiftBatch()) {
          this.#bytes -= b.data.length;
          if (b === this.#leased) {
            this.#leased = undefined;
            this.#deliver(b.data, b.ends, b.length);
            if (this.#lease !== undefined) this.#lease[0] = 0;
          } else {
            this.#deliver(b.data, b.ends, b.length);
          }
        }
        this.#resumeIfLow();
      });
    }
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
    const native = this.#native;
    if (native === undefined) return;
    this.#native = undefined;
    native.close();
    this.#signal?.removeEventListener('abort', this.#onAbort);
    this.#bytes = 0;
    this.#batches = [];
    this.#batchHead = 0;
    this.#batchRecords = 0;
    this.#cur = undefined;
    this.#leased = undefined;
    this.#subscriber = undefined;
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
