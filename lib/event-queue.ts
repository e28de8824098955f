/**
 * The async-iterable queue behind {@link RingBuffer} and {@link PerfBuffer}: records arrive in
 * batches from the native reader (on the event loop, never blocking it), wait in a queue, and
 * are handed out by `for await`. When the queue is full the reader is paused, so records wait in
 * the kernel's buffer instead of this process's memory.
 *
 * @internal
 * @module
 */
import type { Codec } from './codec';
import type { NativeEventReader } from './native';

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

/** @internal */
export abstract class EventQueue<T> implements AsyncIterable<T>, AsyncIterator<T>, Disposable {
  #queue: T[] = [];
  #sizes: number[] = [];
  #head = 0;
  #bytes = 0;
  #waiter: ((r: IteratorResult<T>) => void) | undefined;
  #closed = false;
  #paused = false;
  #native: NativeEventReader | undefined;
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

  /** Subclasses start the native reader with this callback, then call {@link attach}. */
  protected readonly onRecords = (data: Buffer, ends: Uint32Array, lost: number): void => {
    if (lost > 0) this.onLost(lost);
    let start = 0;
    const codec = this.#codec;
    for (let i = 0; i < ends.length; i++) {
      const end = ends[i]!;
      const record = data.subarray(start, end);
      this.#push(codec ? codec.decode(record, 0) : (record as unknown as T), end - start);
      start = end;
    }
  };

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
    if (!this.#paused && (this.#queue.length - this.#head >= this.#high || this.#bytes >= this.#highBytes)) {
      this.#paused = true;
      this.#native?.pause();
    }
  }

  // The native reader keeps the process alive (and this queue reachable) only while someone
  // waits: a reader dropped without close() is collected and does not hold the process open.
  #setWaiter(waiter: ((r: IteratorResult<T>) => void) | undefined): void {
    this.#waiter = waiter;
    if (!this.#closed) this.#native?.setWaiting(waiter !== undefined);
  }

  /** Bytes of records waiting in this process. */
  get pendingBytes(): number {
    return this.#bytes;
  }

  /** Records waiting in this process. */
  get pending(): number {
    return this.#queue.length - this.#head;
  }

  /** Whether {@link close} was called (or the signal aborted). */
  get closed(): boolean {
    return this.#closed;
  }

  /** The next record; `done` once closed. */
  next(): Promise<IteratorResult<T>> {
    if (this.#head < this.#queue.length) {
      const value = this.#queue[this.#head]!;
      this.#bytes -= this.#sizes[this.#head]!;
      this.#queue[this.#head++] = undefined as T;
      if (this.#head > 4096 && this.#head * 2 > this.#queue.length) {
        this.#queue = this.#queue.slice(this.#head);
        this.#sizes = this.#sizes.slice(this.#head);
        this.#head = 0;
      }
      if (this.#paused && this.#queue.length - this.#head <= this.#high >> 1 && this.#bytes <= this.#highBytes / 2) {
        this.#paused = false;
        this.#native?.resume();
      }
      return Promise.resolve({ value, done: false });
    }
    if (this.#closed) return Promise.resolve({ value: undefined, done: true });
    if (this.#waiter) return Promise.reject(new Error('next() called again before the previous call settled'));
    return new Promise((resolve) => {
      this.#setWaiter(resolve);
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
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.({ value: undefined, done: true });
  }

  /** Same as {@link close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}
