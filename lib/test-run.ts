/**
 * Running a loaded program on hand-made input with BPF_PROG_TEST_RUN: see
 * {@link BpfProgram.testRun} and {@link BpfProgram.testRunAsync}.
 *
 * @module
 */
import { requireFeature } from './features';
import { checkOptions, toNativeInterface, type InterfaceRef } from './internal/iface';
import type { NativeTestRunOptions, NativeTestRunResult } from './internal/native';
import { checkUint32 } from './internal/validate';

/** Options of {@link BpfProgram.testRun}. */
export interface TestRunOptions {
  /** The input: an Ethernet frame for XDP, tc and socket filters. */
  data?: Uint8Array;
  /**
   * The input context: an `xdp_md` (24 bytes) for XDP, a `__sk_buff` for tc. Lets the run set
   * fields such as `ingress_ifindex` or the mark. Default: none (the kernel fills one in).
   * Minimum kernel for an `xdp_md`: 5.15 (before, testRun throws a `BpfFeatureError`).
   */
  ctx?: Uint8Array;
  /**
   * How many times to run; the duration is averaged over the runs. Default 1. A syscall program
   * (`SEC("syscall")`) runs once and takes 0 (its default).
   */
  repeat?: number;
  /** Room for the output frame in bytes. Default: the input length + 4096. */
  dataOutSize?: number;
  /** Room for the output context in bytes. Default: 4096 when `ctx` is given, else no context out. */
  ctxOutSize?: number;
  /**
   * XDP only: BPF_F_TEST_XDP_LIVE_FRAMES (kernel 5.18+). The frames run through the real XDP
   * path of the `ingress` interface: XDP_TX and XDP_REDIRECT transmit them, XDP_PASS hands them
   * to the stack, XDP_DROP drops them. Each of the `repeat` runs is a frame: a packet generator.
   * No output frame or context.
   */
  live?: { ingress: InterfaceRef; netns?: string; batchSize?: number };
}

/** What a test run reports. */
export interface TestRunResult {
  /** The program's return value. */
  retval: number;
  /**
   * The return value by name for XDP (`'XDP_PASS'`…) and tc (`'TC_ACT_SHOT'`…) programs; for
   * other types (socket filters return the bytes to keep) the number as a string.
   */
  action: string;
  /** The output frame (as the program left it). Empty for live frames. */
  data: Buffer;
  /**
   * The output context, when `ctx` was given. For a syscall program: its argument as the program
   * left it (the kernel writes it back in place).
   */
  ctx?: Buffer;
  /** The kernel's average duration of one run, in nanoseconds. */
  durationNs: number;
  /** Live frames: frames per second achieved (runs / wall time of the syscall). */
  framesPerSecond?: number;
}

const XDP_ACTIONS = ['XDP_ABORTED', 'XDP_DROP', 'XDP_PASS', 'XDP_TX', 'XDP_REDIRECT'];
const TC_ACTIONS: Record<number, string> = {
  [-1]: 'TC_ACT_UNSPEC',
  0: 'TC_ACT_OK',
  1: 'TC_ACT_RECLASSIFY',
  2: 'TC_ACT_SHOT',
  3: 'TC_ACT_PIPE',
  4: 'TC_ACT_STOLEN',
  5: 'TC_ACT_QUEUED',
  6: 'TC_ACT_REPEAT',
  7: 'TC_ACT_REDIRECT',
  8: 'TC_ACT_TRAP',
};

/** The name of a program's return value, for its program type. */
export function actionName(programType: string, retval: number): string {
  if (programType === 'xdp') return XDP_ACTIONS[retval] ?? `XDP_UNKNOWN(${retval})`;
  if (programType === 'sched_cls' || programType === 'sched_act') {
    const signed = retval | 0;
    return TC_ACTIONS[signed] ?? `TC_ACT_UNKNOWN(${signed})`;
  }
  return String(retval);
}

const runKeys = ['data', 'ctx', 'repeat', 'dataOutSize', 'ctxOutSize', 'live'] as const;

/** Largest repeat for the synchronous testRun: longer runs belong on the thread pool. */
export const MAX_SYNC_REPEAT = 1_000_000;

const DATA_HEADROOM = 4096;
const MAX_CTX = 4096;

/**
 * A BPF_PROG_TYPE_SYSCALL program: the kernel runs it once on `ctx` (its argument, copied back
 * after the run) and refuses a frame, a repeat count and output buffers.
 */
function toSyscallRunOptions(options: TestRunOptions): NativeTestRunOptions {
  if (options.data !== undefined) throw new TypeError('a syscall program takes no frame (options.data): its input is options.ctx');
  if (options.live !== undefined) throw new TypeError('options.live is for XDP programs; this is a syscall program');
  if (options.repeat !== undefined) {
    checkUint32(options.repeat, 'options.repeat');
    if (options.repeat !== 0) throw new RangeError(`a syscall program runs once: options.repeat must be 0 or left out, got ${options.repeat}`);
  }
  if (options.dataOutSize !== undefined && options.dataOutSize !== 0) throw new RangeError('a syscall program has no output frame: options.dataOutSize must be 0 or left out');
  if (options.ctxOutSize !== undefined) throw new TypeError('a syscall program writes its context back in place: options.ctxOutSize does not apply');
  const out: NativeTestRunOptions = { repeat: 0, dataOutSize: 0, ctxOutSize: 0, ctxInOut: true };
  if (options.ctx !== undefined) {
    if (!(options.ctx instanceof Uint8Array)) throw new TypeError('options.ctx must be a Buffer or Uint8Array');
    if (options.ctx.length > 0xffff) throw new RangeError(`options.ctx is ${options.ctx.length} bytes; a syscall program's context is at most 65535`);
    out.ctx = options.ctx;
  }
  return out;
}

/** @internal Validates options into the native form. */
export function toNativeRunOptions(programType: string, options: TestRunOptions): NativeTestRunOptions {
  checkOptions(options, 'testRun options', runKeys);
  if (programType === 'syscall') return toSyscallRunOptions(options);
  const out: NativeTestRunOptions = {};
  if (options.data !== undefined) {
    if (!(options.data instanceof Uint8Array)) throw new TypeError('options.data must be a Buffer or Uint8Array');
    // Newer kernels refuse an XDP frame shorter than an Ethernet header; 5.10 runs the program on
    // it. Refuse it here, so that every kernel gives the same answer.
    if (programType === 'xdp' && options.data.length < 14) {
      throw new RangeError(`options.data is ${options.data.length} bytes; an XDP test run needs an Ethernet frame of at least 14 bytes`);
    }
    out.data = options.data;
  }
  if (options.ctx !== undefined) {
    if (!(options.ctx instanceof Uint8Array)) throw new TypeError('options.ctx must be a Buffer or Uint8Array');
    // Before 5.15 the kernel refuses an xdp_md context with an EINVAL that seems to blame the frame.
    if (programType === 'xdp') requireFeature('test-run-xdp-ctx', 'testRun with an xdp_md ctx');
    out.ctx = options.ctx;
  }
  if (options.repeat !== undefined) checkUint32(options.repeat, 'options.repeat', 1);
  out.repeat = options.repeat ?? 1;
  if (options.dataOutSize !== undefined) {
    checkUint32(options.dataOutSize, 'options.dataOutSize');
    out.dataOutSize = options.dataOutSize;
  }
  if (options.ctxOutSize !== undefined) {
    checkUint32(options.ctxOutSize, 'options.ctxOutSize');
    out.ctxOutSize = options.ctxOutSize;
  }
  // Defaults: room for what a program may add to a frame (bpf_xdp_adjust_head/tail, skb
  // pushes), and a context out as large as the one given (at least a page).
  out.dataOutSize ??= (out.data?.length ?? 0) + DATA_HEADROOM;
  out.ctxOutSize ??= out.ctx !== undefined ? Math.max(out.ctx.length, MAX_CTX) : 0;
  if (options.live !== undefined) {
    const live = checkOptions(options.live, 'options.live', ['ingress', 'netns', 'batchSize']);
    if (programType !== 'xdp') throw new TypeError(`options.live is for XDP programs; this is a ${programType} program`);
    if (out.data === undefined || out.data.length < 14) throw new RangeError('options.live needs options.data: an Ethernet frame of at least 14 bytes');
    requireFeature('xdp-live-frames', 'testRun with options.live');
    out.live = true;
    out.ingress = toNativeInterface(live.ingress, live.netns, 'options.live.ingress');
    if (live.batchSize !== undefined) {
      checkUint32(live.batchSize, 'options.live.batchSize', 1);
      out.batchSize = live.batchSize as number;
    }
  }
  return out;
}

/** @internal Adds the action's name and the achieved rate. */
export function toRunResult(programType: string, r: NativeTestRunResult, live: boolean, repeat: number): TestRunResult {
  const result: TestRunResult = {
    retval: r.retval,
    action: actionName(programType, r.retval),
    data: r.data,
    durationNs: r.durationNs,
  };
  if (r.ctx !== undefined) result.ctx = r.ctx;
  if (live) result.framesPerSecond = r.elapsedNs > 0 ? (repeat * 1e9) / r.elapsedNs : 0;
  return result;
}

