/**
 * Iterators: {@link attachIter} makes an iterator link (`bpf_program__attach_iter`, with its
 * task/map/cgroup filter); {@link IterLink.read}, {@link IterLink.lines} and
 * {@link IterLink.stream} run it and read what the program printed (`bpf_iter_create`), with no
 * bpffs pin.
 *
 * @module
 */
import { createReadStream, read, type ReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { BpfMap } from '../map/map';
import { BpfLink } from '../link';
import type { NativeLink } from '../internal/native';
import type { BpfProgram } from '../program';
import { checkKnownKeys, checkName, checkNonEmptyString, checkUint32 } from '../internal/validate';
import { requireFeature } from '../features';
import { checkCgroupDir, checkOptions, checkPid, checkProgram, nativeAttach } from './common';

/** Which objects an iterator visits (one of these groups; default: all of its kind). */
export interface IterOptions {
  /** Task iterators: only this thread (kernel 6.1+). */
  tid?: number;
  /** Task iterators: only the threads of this process (kernel 6.1+). */
  pid?: number;
  /** Map element iterators (`iter/bpf_map_elem`): the map to walk (kernel 5.9+). */
  map?: BpfMap;
  /** Cgroup iterators (`iter/cgroup`): the cgroup v2 directory to start from (kernel 6.1+). */
  cgroup?: string;
  /** Cgroup iterators: the walk order (default `'self'`). */
  order?: 'self' | 'descendants-pre' | 'descendants-post' | 'ancestors-up';
}

/** Iterator fds of streams garbage-collected before they were closed: closed then. */
const iterFds = new FinalizationRegistry<number>((fd) => nativeAttach.iterClose(fd));

// enum bpf_cgroup_iter_order (linux/bpf.h).
const ORDER = { self: 1, 'descendants-pre': 2, 'descendants-post': 3, 'ancestors-up': 4 } as const;

/**
 * An iterator link: each read runs the iterator once from the start and gives what its program
 * wrote with `BPF_SEQ_PRINTF` / `bpf_seq_write`. Reads run on the libuv thread pool, so a long
 * walk does not block the event loop.
 */
export class IterLink extends BpfLink {
  /** @internal */
  constructor(native: NativeLink) {
    super(native);
  }

  /**
   * Runs the iterator and returns a readable stream of its output (ends when the walk ends).
   * The stream holds the iterator's program until it ends or is destroyed (or collected, or its
   * worker ends).
   * @throws {@link BpfStateError} after close
   */
  stream(): ReadStream {
    const fd = nativeAttach.iterCreate(this.fd);
    // The fd is registered in native (a worker that ends mid-read has it closed at teardown);
    // the stream closes it through native too, and a stream dropped unread is closed by GC.
    const token = {};
    const close = (n: number, cb: (err: NodeJS.ErrnoException | null) => void): void => {
      iterFds.unregister(token);
      nativeAttach.iterClose(n);
      cb(null);
    };
    let stream: ReadStream;
    try {
      stream = createReadStream('', { fd, autoClose: true, highWaterMark: 64 * 1024, fs: { read, close } });
    } catch (e) {
      nativeAttach.iterClose(fd);
      throw e;
    }
    iterFds.register(stream, fd, token);
    return stream;
  }

  /** Runs the iterator and returns all of its output. */
  async read(): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of this.stream()) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  /**
   * Runs the iterator and yields its output line by line (without the newlines). Leaving the
   * loop early closes the iterator's fd.
   */
  async *lines(): AsyncGenerator<string> {
    const input = this.stream();
    const rl = createInterface({ input, crlfDelay: Infinity });
    try {
      for await (const line of rl) yield line;
    } finally {
      // Leaving early (break, return(), a throw) must not leave the iterator's fd open:
      // closing the interface alone does not end its input.
      rl.close();
      input.destroy();
    }
  }
}

// Which iterator kinds (the part of `SEC("iter/<kind>")` after the slash) take which filter: the
// kernel reads the link info's union by the iterator's kind, so a map fd given to a task iterator
// would be taken as a tid.
const FILTER_KINDS: Record<'task' | 'map' | 'cgroup', readonly string[]> = {
  task: ['task', 'task_file', 'task_vma'],
  map: ['bpf_map_elem', 'bpf_sk_storage_map', 'sockmap'],
  cgroup: ['cgroup'],
};

function checkFilterKind(program: BpfProgram, o: Record<string, unknown>): void {
  const filter = o.tid !== undefined || o.pid !== undefined ? 'task' : o.map !== undefined ? 'map' : o.cgroup !== undefined ? 'cgroup' : undefined;
  if (filter === undefined) return;
  const kind = /^iter(?:\.s)?\/([^/]+)/.exec(program.section)?.[1];
  if (kind === undefined || FILTER_KINDS[filter].includes(kind)) return;
  const option = filter === 'task' ? (o.tid !== undefined ? 'options.tid' : 'options.pid') : `options.${filter}`;
  throw new TypeError(
    `attachIter: ${option} applies to ${filter} iterators (${FILTER_KINDS[filter].map((k) => `iter/${k}`).join(', ')}); ` +
      `program '${program.name}' is an 'iter/${kind}' iterator`,
  );
}

/**
 * Attaches an iterator program (`SEC("iter/task")`, `iter/bpf_map_elem`, `iter/cgroup`,
 * `iter/tcp`…), optionally limited to one task, process, map or cgroup.
 *
 * Lifetime: see {@link BpfLink}; a stream already open keeps working after the link is closed.
 *
 * Minimum kernel: 5.8 (task filters 6.1, cgroup iterators 6.1, map element 5.9).
 *
 * @throws {@link BpfError} `EINVAL` for a filter the iterator kind does not take
 * @example
 * ```ts
 * using it = attachIter(obj.program('dump_task'), { pid: process.pid });
 * for await (const line of it.lines()) console.log(line);
 * ```
 */
export function attachIter(program: BpfProgram, options: IterOptions = {}): IterLink {
  checkProgram(program);
  const o = checkOptions(options);
  checkKnownKeys(o, 'options', ['tid', 'pid', 'map', 'cgroup', 'order']);
  const groups = [o.tid !== undefined || o.pid !== undefined, o.map !== undefined, o.cgroup !== undefined].filter(Boolean).length;
  if (groups > 1) throw new TypeError('attachIter: give a task filter (tid/pid), a map or a cgroup, not several');
  if (o.tid !== undefined && o.pid !== undefined) throw new TypeError('attachIter: give options.tid or options.pid, not both');
  checkFilterKind(program, o);
  const native: Record<string, unknown> = {};
  if (o.tid !== undefined) native.tid = checkPid(o.tid, 'options.tid');
  if (o.pid !== undefined) native.pid = checkPid(o.pid, 'options.pid');
  if (o.map !== undefined) {
    const fd = (o.map as BpfMap).fd;
    checkUint32(fd, 'options.map.fd');
    native.mapFd = fd;
  }
  if (o.cgroup !== undefined) {
    checkNonEmptyString(o.cgroup, 'options.cgroup');
    native.cgroup = o.cgroup;
    checkCgroupDir(o.cgroup, 'options.cgroup');
    native.order = ORDER[checkName(o.order ?? 'self', 'options.order', Object.keys(ORDER) as Array<keyof typeof ORDER>)];
  } else if (o.order !== undefined) {
    throw new TypeError('options.order applies to cgroup iterators only');
  }
  if (program.section.startsWith('iter/task')) requireFeature('task-iterator', 'attachIter');
  if (native.pid !== undefined || native.tid !== undefined) requireFeature('task-iterator-filter', `attachIter with options.${native.pid !== undefined ? 'pid' : 'tid'}`);
  if (native.cgroup !== undefined) requireFeature('cgroup-iterator', 'attachIter with options.cgroup');
  return new IterLink(nativeAttach.iter(program.native, native));
}
