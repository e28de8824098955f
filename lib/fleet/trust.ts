/**
 * Trust checks for what the fleet (and `xdp-root load`) hands to the kernel: root loads only
 * files that only root can change.
 *
 * A file is **trusted** when it, and every folder on the way to it from `/` (symlinks followed
 * one component at a time, as the kernel does), is owned by root or by this process's effective
 * user, and none of them is writable by group or others. A sticky folder writable by others
 * (like `/tmp`) is fine for an entry a trusted user owns: nobody else can rename or remove it.
 * A file or folder on a read-only mount is not writable, whatever its mode bits say.
 *
 * {@link readTrusted} checks a file, then reads it **once** through one file descriptor whose
 * inode it checks again: the bytes it returns are the bytes that were checked, and the caller
 * loads those bytes (`BpfObject.open(bytes)`), never the path again. With a pinned SHA-256 the
 * place does not matter (the bytes are what is checked): the bytes must match the pin.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { accessSync, closeSync, constants, fstatSync, lstatSync, openSync, readFileSync, readlinkSync, readSync, type Stats } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** Why a path on the way to a file makes it untrusted. */
export interface TrustProblem {
  /** The file, folder or symlink at fault (a real path: symlinks before it resolved). */
  path: string;
  /** Its owner's uid. */
  uid: number;
  /** Its owner's name, or `uid N` when the system has none. */
  owner: string;
  /** Its permission bits, sticky bit included (`0o1777` for /tmp). */
  mode: number;
  /** What is wrong, as words: `owned by nobody (uid 65534)`, `writable by group and others`. */
  reason: string;
}

/** A file read once after its checks: the bytes to use, and their hash. */
export interface VerifiedFile {
  /** The path as given (absolute). */
  path: string;
  /** The bytes read, the only ones to load. */
  bytes: Buffer;
  /** SHA-256 of `bytes`, 64 lowercase hex digits. */
  sha256: string;
  /** Problems waived by `insecure` (empty when the file is trusted or pinned). */
  waived: TrustProblem[];
  /** Whether a pinned hash was checked (then ownership was not). */
  pinned: boolean;
}

/** Options of {@link readTrusted}. */
export interface ReadTrustedOptions {
  /** The expected SHA-256 (64 hex digits): the bytes must match; ownership is then not checked. */
  sha256?: string;
  /** Waive the ownership checks (problems are returned in `waived`, for a loud warning). A pin is never waived. */
  insecure?: boolean;
  /** What the file is, for messages (`object`, `config`). Default `file`. */
  what?: string;
}

/**
 * A file refused by the trust rule: `code` `'EUNTRUSTED'` (ownership or mode, `problems` says
 * which paths) or `'ESHA256'` (the bytes do not match the pin; `expected` and `actual` hashes).
 * Nothing was loaded.
 */
export class TrustError extends Error {
  readonly code: 'EUNTRUSTED' | 'ESHA256';
  /** The file refused (absolute). */
  readonly path: string;
  readonly problems: TrustProblem[];
  readonly expected: string | undefined;
  readonly actual: string | undefined;
  constructor(code: 'EUNTRUSTED' | 'ESHA256', path: string, message: string, details: { problems?: TrustProblem[]; expected?: string; actual?: string } = {}) {
    super(message);
    this.name = 'TrustError';
    this.code = code;
    this.path = path;
    this.problems = details.problems ?? [];
    this.expected = details.expected;
    this.actual = details.actual;
  }
}

const MAX_SYMLINKS = 40;

/** The uids whose files are trusted: root and this process's effective user. */
function trustedUids(): Set<number> {
  return new Set([0, process.geteuid?.() ?? 0]);
}

let passwd: Map<number, string> | undefined;

/** A uid's name from /etc/passwd, or `uid N`. */
export function ownerName(uid: number): string {
  if (passwd === undefined) {
    passwd = new Map();
    try {
      for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
        const [name, , id] = line.split(':');
        if (name && id !== undefined && /^\d+$/.test(id) && !passwd.has(Number(id))) passwd.set(Number(id), name);
      }
    } catch {
      // no passwd: numbers only
    }
  }
  const name = passwd.get(uid);
  return name === undefined ? `uid ${uid}` : `${name} (uid ${uid})`;
}

/** The owner problem's words: `not owned by root` (or by this process's user, when not root). */
function notOwned(): string {
  const euid = process.geteuid?.() ?? 0;
  return `not owned by root${euid === 0 ? '' : ` or ${ownerName(euid)}`}`;
}

/** `0644`, `1777`. */
export function modeText(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0');
}

function writers(mode: number): string | undefined {
  const g = (mode & 0o020) !== 0;
  const o = (mode & 0o002) !== 0;
  return g && o ? 'group and others' : g ? 'group' : o ? 'others' : undefined;
}

function problem(path: string, st: Stats, reason: string): TrustProblem {
  return { path, uid: st.uid, owner: ownerName(st.uid), mode: st.mode & 0o7777, reason };
}

/**
 * Whether a path is on a read-only mount (nobody writes there, whatever its mode: a Kubernetes
 * ConfigMap volume is mode 0777 but mounted read-only). Probed with access(W_OK): EROFS.
 */
function readOnlyMount(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EROFS';
  }
}

/** Whether a folder lets someone untrusted replace an entry in it. */
function folderProblems(dir: string, dirSt: Stats, out: TrustProblem[]): void {
  const w = writers(dirSt.mode);
  if (w === undefined || readOnlyMount(dir)) return;
  // Sticky, like /tmp: only the entry's owner can rename or remove it. An entry someone else
  // owns is refused on its own (owner), the folder is not at fault.
  if ((dirSt.mode & 0o1000) !== 0) return;
  if (!out.some((p) => p.path === dir)) out.push(problem(dir, dirSt, `a folder writable by ${w}`));
}

interface Walk {
  /** The real path of the file (every symlink resolved). */
  real: string;
  /** lstat of the file at the end of the walk. */
  st: Stats;
  problems: TrustProblem[];
}

/** Walks `path` from `/`, one component at a time, checking each folder, symlink and the file. */
function walk(path: string): Walk {
  const trusted = trustedUids();
  const problems: TrustProblem[] = [];
  const queue = resolve(path).split('/').filter((c) => c.length > 0);
  let cur = '/';
  let curSt = lstatSync(cur);
  if (!trusted.has(curSt.uid)) problems.push(problem(cur, curSt, notOwned()));
  let hops = 0;
  for (;;) {
    const comp = queue.shift();
    if (comp === undefined) break;
    if (comp === '.') continue;
    if (comp === '..') {
      cur = dirname(cur);
      curSt = lstatSync(cur);
      continue;
    }
    const next = join(cur, comp);
    const st = lstatSync(next);
    folderProblems(cur, curSt, problems);
    if (st.isSymbolicLink()) {
      if (++hops > MAX_SYMLINKS) throw Object.assign(new Error(`too many symlinks resolving ${path}`), { code: 'ELOOP' });
      // A symlink's own mode means nothing; who owns it matters in a folder others can write.
      if (!trusted.has(st.uid) && writers(curSt.mode) !== undefined) problems.push(problem(next, st, `a symlink ${notOwned()}`));
      const target = readlinkSync(next);
      if (target.startsWith('/')) {
        cur = '/';
        curSt = lstatSync(cur);
      }
      queue.unshift(...target.split('/').filter((c) => c.length > 0));
      continue;
    }
    if (!trusted.has(st.uid)) problems.push(problem(next, st, notOwned()));
    if (queue.length === 0) {
      const w = writers(st.mode);
      if (w !== undefined && !st.isDirectory() && !readOnlyMount(next)) problems.push(problem(next, st, `writable by ${w}`));
      return { real: next, st, problems };
    }
    if (!st.isDirectory()) throw Object.assign(new Error(`${next} is not a folder (resolving ${path})`), { code: 'ENOTDIR' });
    cur = next;
    curSt = st;
  }
  // The path was `/` itself (or resolved to it).
  return { real: cur, st: curSt, problems };
}

/**
 * Checks whether a file is trusted (see the module): returns every problem on the way to it,
 * empty when it is trusted. Reads metadata only.
 *
 * @throws Error with `code` `ENOENT`, `ENOTDIR`, `ELOOP`, `EACCES` when the path cannot be walked
 * @example
 * ```ts
 * for (const p of checkTrusted('/etc/xdp-root/fleet.yaml')) console.log(p.path, p.reason);
 * ```
 */
export function checkTrusted(path: string): TrustProblem[] {
  return walk(path).problems;
}

/** SHA-256 of bytes, as 64 lowercase hex digits. */
export function sha256Hex(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** A pinned hash as written (64 hex digits, any case; an optional `sha256:` prefix) → lowercase, or undefined when it is not one. */
export function normalizeSha256(text: string): string | undefined {
  const m = /^(?:sha256:)?([0-9a-fA-F]{64})$/.exec(text.trim());
  return m ? m[1].toLowerCase() : undefined;
}

/** One problem as words: `/srv/x (owner nobody (uid 65534), mode 0777) is a folder writable by group and others`. */
export function formatProblem(p: TrustProblem): string {
  return `${p.path} (owner ${p.owner}, mode ${modeText(p.mode)}) is ${p.reason}`;
}

/** Problems as words, those of one path together: `/srv/x.o (owner nobody (uid 65534), mode 0666) is not owned by root and writable by others`. */
export function formatProblems(problems: readonly TrustProblem[]): string {
  const byPath = new Map<string, TrustProblem[]>();
  for (const p of problems) byPath.set(p.path, [...(byPath.get(p.path) ?? []), p]);
  return [...byPath.values()].map((ps) => `${formatProblem(ps[0])}${ps.slice(1).map((p) => ` and ${p.reason.replace(/^is /, '')}`).join('')}`).join('; ');
}

/** The refusal message for untrusted problems. */
export function untrustedMessage(what: string, path: string, problems: TrustProblem[]): string {
  return (
    `untrusted ${what} ${path}: ${formatProblems(problems)}. ` +
    'Root loads only what root controls: make each of these owned by root and not writable by group or others ' +
    `(chown root:root PATH; chmod go-w PATH)${what !== 'object' ? '' : ", or pin the object's hash (sha256: in the config, --sha256 for xdp-root load)"}`
  );
}

/** Reads a whole file from an open descriptor. */
function readFd(fd: number, size: number): Buffer {
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    const buf = Buffer.allocUnsafe(Math.max(65536, size - total + 1));
    const n = readSync(fd, buf, 0, buf.length, null);
    if (n === 0) break;
    chunks.push(buf.subarray(0, n));
    total += n;
  }
  return Buffer.concat(chunks, total);
}

/**
 * Checks a file and reads it once: with `sha256`, the bytes must match it (ownership is not
 * checked); otherwise the file and every folder above it must be trusted (see the module). The
 * file is opened without following a final symlink (`O_NOFOLLOW`, on the real path found by the
 * walk) and its inode checked again on the open descriptor, so what is returned is what was
 * checked. Load the returned bytes, never the path.
 *
 * @throws {@link TrustError} `EUNTRUSTED` naming each path, owner and mode at fault; `ESHA256`
 *   naming both hashes
 * @throws Error with a `code` (`ENOENT`, `EISDIR`…) when the file cannot be read
 * @example
 * ```ts
 * const { bytes, sha256 } = readTrusted('/usr/lib/xdp/my_prog.bpf.o', { what: 'object' });
 * using obj = BpfObject.open(bytes);
 * ```
 */
export function readTrusted(path: string, options: ReadTrustedOptions = {}): VerifiedFile {
  const what = options.what ?? 'file';
  const abs = resolve(path);
  let pin: string | undefined;
  if (options.sha256 !== undefined) {
    pin = normalizeSha256(options.sha256);
    if (pin === undefined) throw new RangeError(`sha256 must be 64 hex digits, got '${options.sha256}'`);
  }
  if (pin !== undefined) {
    // The bytes are what is checked: read them once, wherever they are (a regular file only: a
    // FIFO put in a writable place must not hang the reader).
    const fd = openSync(abs, constants.O_RDONLY | constants.O_NONBLOCK);
    let bytes: Buffer;
    try {
      const st = fstatSync(fd);
      if (!st.isFile()) throw Object.assign(new Error(`${abs} is not a regular file`), { code: 'EINVAL' });
      bytes = readFd(fd, st.size);
    } finally {
      closeSync(fd);
    }
    const sha256 = sha256Hex(bytes);
    if (sha256 !== pin) {
      throw new TrustError('ESHA256', abs, `${what} ${abs} does not match its pinned hash: sha256 ${sha256}, pinned ${pin}. Nothing was loaded; if the new file is the one you want, pin its hash`, { expected: pin, actual: sha256 });
    }
    return { path: abs, bytes, sha256, waived: [], pinned: true };
  }
  const w = walk(abs);
  if (w.problems.length > 0 && !options.insecure) throw new TrustError('EUNTRUSTED', abs, untrustedMessage(what, abs, w.problems), { problems: w.problems });
  if (w.st.isDirectory()) throw Object.assign(new Error(`${abs} is a folder, not a file`), { code: 'EISDIR' });
  const fd = openSync(w.real, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  let bytes: Buffer;
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw Object.assign(new Error(`${abs} is not a regular file`), { code: 'EINVAL' });
    // Replaced between the walk and the open (possible only where someone else can write).
    if (st.ino !== w.st.ino || st.dev !== w.st.dev || st.uid !== w.st.uid || (st.mode & 0o7777) !== (w.st.mode & 0o7777)) {
      if (!options.insecure) {
        throw new TrustError('EUNTRUSTED', abs, `untrusted ${what} ${abs}: it changed while it was being checked (${w.real}); nothing was loaded`, { problems: w.problems });
      }
    }
    bytes = readFd(fd, st.size);
  } finally {
    closeSync(fd);
  }
  return { path: abs, bytes, sha256: sha256Hex(bytes), waived: w.problems, pinned: false };
}
