/**
 * The fleet config: a node's XDP setup in one YAML (or JSON) file, parsed and checked as a
 * whole before anything changes. {@link loadFleetConfig} reads it; {@link FleetConfigError}
 * lists every mistake with its line.
 *
 * ```yaml
 * interfaces:
 *   - name: eth1
 *     netns: /run/netns/edge      # optional: the interface's namespace
 *     mode: native                # skb | native; default: the kernel's choice
 *     slots: 8                    # 1 to 32, default 8
 *     passMeta: true              # the root hands parsed packets to the slots (where the kernel can)
 *     programs:
 *       - slot: 0
 *         object: xdp_sampler      # a shipped program, or a path to a .bpf.o
 *         sampler: { rate: 1000 }
 *       - slot: 1
 *         object: xdp_filter
 *         filter:
 *           dropFragments: true
 *           block:
 *             - { cidr: 203.0.113.0/24, tag: abuse }
 *       - slot: 2
 *         object: ./my_prog.bpf.o  # relative to this file
 *         program: xdp_main
 *         globals: { limit: 100 }
 * ```
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, resolve } from 'node:path';
import { isMap, isSeq, LineCounter, parseDocument, visit, type Document } from 'yaml';
import { parseCidr } from '../map/cidr';
import { BpfObject } from '../object';
import { MAX_SLOTS, DEFAULT_SLOTS } from '../rootarray/root-array';
import { shippedObjectPath, type ShippedObject } from '../shipped';
import { netnsId } from '../rootarray/state';
import { checkTrusted, formatProblem, normalizeSha256, readTrusted, TrustError, untrustedMessage, type VerifiedFile } from './trust';

/** The shipped programs a slot can run, and the settings section each one takes. */
export const slotPrograms = {
  xdp_pass: undefined,
  xdp_drop: undefined,
  xdp_count: undefined,
  xdp_filter: 'filter',
  xdp_sampler: 'sampler',
  xdp_counter: 'counter',
} as const satisfies Partial<Record<ShippedObject, string | undefined>>;

/** A shipped program that can run in a slot. */
export type SlotProgramName = keyof typeof slotPrograms;

/** Settings of a slot running `xdp_filter` (see XdpFilter in `libbpf-node/programs`). */
export interface FilterSettings {
  block: { cidr: string; tag: string }[];
  dropFragments: boolean;
  matchDestination: boolean;
  maxEntries?: number;
}

/** Settings of a slot running `xdp_sampler`. */
export interface SamplerSettings {
  rate: number;
  ringBytes?: number;
}

/** Settings of a slot running `xdp_counter`. */
export interface CounterSettings {
  maxSources?: number;
}

/** One slot as the config wants it. */
export interface SlotSpec {
  slot: number;
  /** The shipped program's name, when the object is one. */
  shipped: SlotProgramName | undefined;
  /** The object's absolute path. */
  object: string;
  /** The XDP program of the object to run. */
  program: string | undefined;
  /**
   * The object's bytes, read once when the config was checked (trusted or matching `pinned`):
   * what is loaded, never the path again.
   */
  image: Buffer;
  /** SHA-256 of `image`. */
  sha256: string;
  /** The hash the config pins (`sha256:`), if any. */
  pinned: string | undefined;
  globals: Record<string, unknown>;
  filter?: FilterSettings;
  sampler?: SamplerSettings;
  counter?: CounterSettings;
  /**
   * A digest of everything above and of the object file's bytes: two specs with the same
   * fingerprint load the same program the same way.
   */
  fingerprint: string;
  /** The line of the slot's entry in the file. */
  line: number;
}

/** One interface as the config wants it. */
export interface InterfaceSpec {
  name: string;
  netns: string | undefined;
  mode: 'skb' | 'native' | undefined;
  slots: number;
  /**
   * The root's metadata hand-off (RootArray's `passMeta`): true or false turns it on or off, on a
   * running root too (reloaded atomically); undefined leaves it as it is (off for a new root).
   */
  passMeta: boolean | undefined;
  programs: SlotSpec[];
  line: number;
}

/** A checked config. */
export interface FleetConfig {
  /** The file it came from (absolute). */
  file: string;
  /** The bpffs folder of the root arrays; default the root array's. */
  pinBase: string | undefined;
  interfaces: InterfaceSpec[];
  /**
   * Trust problems waived with `insecure` (config file and objects), as lines for a warning:
   * empty unless the checks were waived. See {@link LoadConfigOptions.insecure}.
   */
  waived: string[];
  /** Whether the trust checks were waived. */
  insecure: boolean;
}

/**
 * Options of {@link loadFleetConfig} and {@link parseFleetConfig}: what the command line sets
 * over a config file (`xdp-root apply|agent --insecure --pin-base --netns`).
 */
export interface LoadConfigOptions {
  /**
   * Waive the trust checks (ownership and mode of the config, the objects and their folders) for
   * development: problems are listed in {@link FleetConfig.waived} instead of refused, for a loud
   * warning on every apply. Pinned hashes are still checked. Default false.
   */
  insecure?: boolean;
  /** The bpffs folder of the root arrays; wins over the file's `pinBase`. */
  pinBase?: string;
  /** The namespace of the interfaces the file lists without `netns`. */
  netns?: string;
}

/** One mistake in a config file. */
export interface ConfigIssue {
  file: string;
  /** 1-based; 0 when the file could not be read. */
  line: number;
  column: number;
  /** Where in the document, like `interfaces[0].programs[1].object`. */
  path: string;
  message: string;
  /** Set for a trust refusal: an untrusted file (`EUNTRUSTED`) or a pinned hash that does not match (`ESHA256`). */
  code?: 'EUNTRUSTED' | 'ESHA256';
}

/**
 * A config file that cannot be used: `issues` lists every mistake found, each with its line;
 * the message lists them as `file:line:column: path: message`. Nothing was changed.
 */
export class FleetConfigError extends RangeError {
  readonly issues: ConfigIssue[];
  constructor(issues: ConfigIssue[]) {
    super(
      `config refused, nothing changed (${issues.length} error${issues.length === 1 ? '' : 's'}):\n` +
        issues.map((i) => `  ${i.line > 0 ? `${i.file}:${i.line}:${i.column}` : i.file}: ${i.path ? `${i.path}: ` : ''}${i.message}`).join('\n'),
    );
    this.name = 'FleetConfigError';
    this.issues = issues;
  }
}

type Path = (string | number)[];

function pathText(path: Path): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

/** Collects issues with the line of the node at a path. */
class Checker {
  readonly issues: ConfigIssue[] = [];
  constructor(
    readonly file: string,
    readonly doc: Document,
    readonly lines: LineCounter,
  ) {}

  /** The line and column of the node at `path`, or of its nearest existing parent. */
  where(path: Path): { line: number; column: number } {
    for (let n = path.length; n >= 0; n--) {
      const node = path.slice(0, n).length === 0 ? this.doc.contents : this.doc.getIn(path.slice(0, n), true);
      const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
      if (range) {
        const { line, col } = this.lines.linePos(range[0]);
        return { line, column: col };
      }
    }
    return { line: 1, column: 1 };
  }

  /** The line of the key `key` of the map at `path` (for "unknown key" messages). */
  keyWhere(path: Path, key: string): { line: number; column: number } {
    const node = path.length === 0 ? this.doc.contents : this.doc.getIn(path, true);
    if (isMap(node)) {
      for (const pair of node.items) {
        const k = pair.key as { value?: unknown; range?: [number, number, number] };
        if (k?.value === key && k.range) {
          const { line, col } = this.lines.linePos(k.range[0]);
          return { line, column: col };
        }
      }
    }
    return this.where(path);
  }

  add(path: Path, message: string, at = this.where(path), code?: ConfigIssue['code']): void {
    this.issues.push({ file: this.file, line: at.line, column: at.column, path: pathText(path), message, ...(code ? { code } : {}) });
  }

  object(value: unknown, path: Path, known: readonly string[]): Record<string, unknown> | undefined {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      this.add(path, `must be a mapping, got ${kind(value)}`);
      return undefined;
    }
    const o = value as Record<string, unknown>;
    for (const key of Object.keys(o)) {
      if (!known.includes(key)) this.add([...path, key], `unknown key '${key}' (known: ${known.join(', ')})`, this.keyWhere(path, key));
    }
    return o;
  }

  list(value: unknown, path: Path): unknown[] | undefined {
    if (!Array.isArray(value)) {
      this.add(path, `must be a list, got ${kind(value)}`);
      return undefined;
    }
    return value;
  }

  string(value: unknown, path: Path): string | undefined {
    if (typeof value !== 'string' || value.length === 0 || value.includes('\0')) {
      this.add(path, `must be a non-empty string, got ${kind(value)}`);
      return undefined;
    }
    return value;
  }

  integer(value: unknown, path: Path, min: number, max: number): number | undefined {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      this.add(path, `must be an integer in [${min}, ${max}], got ${kind(value)}`);
      return undefined;
    }
    return value;
  }

  boolean(value: unknown, path: Path): boolean | undefined {
    if (typeof value !== 'boolean') {
      this.add(path, `must be true or false, got ${kind(value)}`);
      return undefined;
    }
    return value;
  }
}

function kind(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `'${value}'`;
  return `${typeof value} ${String(value)}`;
}

const topKeys = ['interfaces', 'pinBase'] as const;
const ifaceKeys = ['name', 'netns', 'mode', 'slots', 'passMeta', 'programs'] as const;
const slotKeys = ['slot', 'object', 'sha256', 'program', 'globals', 'filter', 'sampler', 'counter'] as const;
const filterKeys = ['block', 'dropFragments', 'matchDestination', 'maxEntries'] as const;
const samplerKeys = ['rate', 'ringBytes'] as const;
const counterKeys = ['maxSources'] as const;
const TAG_BYTES = 16;

/** A namespace's kernel identity (`dev:ino`), or the path itself when it is not a namespace (yet). */
function namespaceKey(path: string | undefined): string {
  try {
    const id = netnsId(path);
    return `${id.dev}:${id.ino}`;
  } catch {
    return `path:${path}`;
  }
}

/**
 * The object file a name stands for: a shipped slot program's name (`xdp_counter`) is the
 * shipped object; anything with a `/` or ending in `.o` is a path, relative to `baseDir`.
 * Returns undefined for a name that is neither (the caller says what is accepted).
 *
 * @throws Error when a shipped object's file is missing from the package
 */
export function objectFileFor(text: string, baseDir: string): { file: string; shipped: SlotProgramName | undefined } | undefined {
  if (text.includes('/') || text.endsWith('.o')) return { file: isAbsolute(text) ? text : resolve(baseDir, text), shipped: undefined };
  if (!(text in slotPrograms)) return undefined;
  return { file: shippedObjectPath(text as SlotProgramName), shipped: text as SlotProgramName };
}

/** Sorted-key JSON, so the same settings always give the same fingerprint. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1))) : v,
  );
}

function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * Reads an object once under the trust rule (see `trust.ts`): its verified bytes, or undefined
 * after adding the refusal as an issue.
 */
function verifyObject(c: Checker, path: Path, file: string, pinned: string | undefined, insecure: boolean, waived: string[]): VerifiedFile | undefined {
  try {
    const v = readTrusted(file, { what: 'object', sha256: pinned, insecure });
    for (const p of v.waived) waived.push(`${file}: ${formatProblem(p)}`);
    return v;
  } catch (e) {
    if (e instanceof TrustError) c.add([...path, pinned === undefined ? 'object' : 'sha256'], e.message, undefined, e.code);
    else c.add([...path, 'object'], `cannot read ${file}: ${(e as Error).message}`);
    return undefined;
  }
}

/** The object name libbpf gives a file (`xdp_filter.bpf.o` → `xdp_filter`), for an image opened from memory. */
export function objectNameOf(file: string): string {
  return basename(file).split('.')[0] || 'bpf_object';
}

/** Checks the object (has the program, has the globals) from its verified bytes, without loading anything. */
function checkObjectFile(c: Checker, path: Path, file: string, image: Buffer, program: string | undefined, globals: Record<string, unknown>): void {
  let obj: BpfObject;
  try {
    obj = BpfObject.open(image, { objectName: objectNameOf(file) });
  } catch (e) {
    c.add([...path, 'object'], `cannot open ${file}: ${(e as Error).message.split('\n')[0]}`);
    return;
  }
  try {
    const xdp = obj.programs.filter((p) => p.type === 'xdp').map((p) => p.name);
    if (program !== undefined && !obj.programs.some((p) => p.name === program)) {
      c.add([...path, 'program'], `unknown program '${program}': ${file} has ${xdp.length ? xdp.join(', ') : 'no XDP program'}`);
    } else if (program !== undefined && !xdp.includes(program)) {
      c.add([...path, 'program'], `program '${program}' of ${file} is not an XDP program`);
    } else if (program === undefined && xdp.length !== 1) {
      c.add([...path, 'object'], xdp.length === 0 ? `${file} has no XDP program` : `${file} has several XDP programs (${xdp.join(', ')}): choose one with 'program'`);
    }
    for (const name of Object.keys(globals)) {
      if (!obj.globals.has(name)) c.add([...path, 'globals', name], `unknown global '${name}' in ${file}`, c.keyWhere([...path, 'globals'], name));
    }
  } finally {
    obj.close();
  }
}

function checkSlot(c: Checker, raw: unknown, path: Path, baseDir: string, slotCount: number, trust: TrustContext): SlotSpec | undefined {
  const o = c.object(raw, path, slotKeys);
  if (!o) return undefined;
  const before = c.issues.length;
  const slot = c.integer(o.slot, [...path, 'slot'], 0, MAX_SLOTS - 1);
  if (slot !== undefined && slot >= slotCount) c.add([...path, 'slot'], `slot ${slot} is out of range: the interface has ${slotCount} slots (0 to ${slotCount - 1})`);
  const objectText = c.string(o.object, [...path, 'object']);
  const program = o.program === undefined ? undefined : c.string(o.program, [...path, 'program']);
  let pinned: string | undefined;
  if (o.sha256 !== undefined) {
    pinned = typeof o.sha256 === 'string' ? normalizeSha256(o.sha256) : undefined;
    if (pinned === undefined) c.add([...path, 'sha256'], `must be the object's SHA-256 as 64 hex digits (xdp-root apply --dry-run prints it), got ${kind(o.sha256)}`);
  }
  let globals: Record<string, unknown> = {};
  if (o.globals !== undefined) globals = c.object(o.globals, [...path, 'globals'], Object.keys(o.globals as object)) ?? {};

  let shipped: SlotProgramName | undefined;
  let file: string | undefined;
  if (objectText !== undefined) {
    const isPath = objectText.includes('/') || objectText.endsWith('.o');
    if (!isPath) {
      if (!(objectText in slotPrograms)) {
        c.add([...path, 'object'], `unknown program '${objectText}': a shipped program (${Object.keys(slotPrograms).join(', ')}) or a path to a .bpf.o`);
      } else {
        shipped = objectText as SlotProgramName;
        try {
          file = shippedObjectPath(shipped);
        } catch (e) {
          c.add([...path, 'object'], (e as Error).message);
        }
      }
    } else {
      file = isAbsolute(objectText) ? objectText : resolve(baseDir, objectText);
      if (!existsSync(file)) c.add([...path, 'object'], `missing file ${file}`);
      else if (!statSync(file).isFile()) c.add([...path, 'object'], `${file} is not a file`);
    }
  }
  // Settings sections: only for the shipped program that takes them.
  const section = shipped === undefined ? undefined : slotPrograms[shipped];
  for (const name of ['filter', 'sampler', 'counter'] as const) {
    if (o[name] !== undefined && section !== name) {
      c.add([...path, name], `'${name}' settings are for object xdp_${name}${objectText ? `, not ${objectText}` : ''}`, c.keyWhere(path, name));
    }
  }
  let filter: FilterSettings | undefined;
  let sampler: SamplerSettings | undefined;
  let counter: CounterSettings | undefined;
  if (section === 'filter') {
    const f = o.filter === undefined ? {} : c.object(o.filter, [...path, 'filter'], filterKeys);
    if (f) {
      const fp = [...path, 'filter'];
      filter = { block: [], dropFragments: false, matchDestination: false };
      if (f.dropFragments !== undefined) filter.dropFragments = c.boolean(f.dropFragments, [...fp, 'dropFragments']) ?? false;
      if (f.matchDestination !== undefined) filter.matchDestination = c.boolean(f.matchDestination, [...fp, 'matchDestination']) ?? false;
      if (f.maxEntries !== undefined) filter.maxEntries = c.integer(f.maxEntries, [...fp, 'maxEntries'], 1, 1 << 24);
      const block = f.block === undefined ? [] : (c.list(f.block, [...fp, 'block']) ?? []);
      block.forEach((entry, i) => {
        const ep = [...fp, 'block', i];
        const e = typeof entry === 'string' ? { cidr: entry } : c.object(entry, ep, ['cidr', 'tag']);
        if (!e) return;
        const cidr = c.string(e.cidr, typeof entry === 'string' ? ep : [...ep, 'cidr']);
        const tag = e.tag === undefined ? '' : c.string(e.tag, [...ep, 'tag']);
        if (tag !== undefined && Buffer.byteLength(tag) > TAG_BYTES) c.add([...ep, 'tag'], `tag '${tag}' is longer than ${TAG_BYTES} bytes`);
        if (cidr === undefined) return;
        try {
          const p = parseCidr(cidr);
          filter!.block.push({ cidr: p.cidr, tag: tag ?? "" });
        } catch (err) {
          c.add(typeof entry === 'string' ? ep : [...ep, 'cidr'], `bad CIDR: ${(err as Error).message}`);
        }
      });
    }
  } else if (section === 'sampler') {
    const s = o.sampler === undefined ? {} : c.object(o.sampler, [...path, 'sampler'], samplerKeys);
    if (s) {
      sampler = { rate: s.rate === undefined ? 100 : (c.integer(s.rate, [...path, 'sampler', 'rate'], 0, 0xffffffff) ?? 100) };
      if (s.ringBytes !== undefined) sampler.ringBytes = c.integer(s.ringBytes, [...path, 'sampler', 'ringBytes'], 4096, 1 << 30);
    }
  } else if (section === 'counter') {
    const s = o.counter === undefined ? {} : c.object(o.counter, [...path, 'counter'], counterKeys);
    if (s) {
      counter = {};
      if (s.maxSources !== undefined) counter.maxSources = c.integer(s.maxSources, [...path, 'counter', 'maxSources'], 1, 1 << 24);
    }
  }
  let verified: VerifiedFile | undefined;
  if (file !== undefined && existsSync(file) && c.issues.length === before) {
    // Read once: these bytes are checked, hashed, opened here and loaded by apply.
    verified = verifyObject(c, path, file, pinned, trust.insecure, trust.waived);
    if (verified) checkObjectFile(c, path, file, verified.bytes, program ?? shipped, globals);
  }
  if (c.issues.length !== before || slot === undefined || file === undefined || verified === undefined) return undefined;
  const settings = { shipped, program: program ?? shipped, globals, filter, sampler, counter };
  const fingerprint = sha256(canonical({ ...settings, object: file, objectSha256: verified.sha256 }));
  return { slot, object: file, ...settings, image: verified.bytes, sha256: verified.sha256, pinned, fingerprint, line: c.where(path).line };
}

interface TrustContext {
  insecure: boolean;
  waived: string[];
}

function checkInterface(c: Checker, raw: unknown, path: Path, baseDir: string, trust: TrustContext, defaultNetns: string | undefined): InterfaceSpec | undefined {
  const o = c.object(raw, path, ifaceKeys);
  if (!o) return undefined;
  const before = c.issues.length;
  const name = c.string(o.name, [...path, 'name']);
  if (name !== undefined && (name.length > 15 || /[/\s]/.test(name))) c.add([...path, 'name'], `'${name}' is not an interface name (at most 15 characters, no '/' or spaces)`);
  const netns = o.netns === undefined ? defaultNetns : c.string(o.netns, [...path, 'netns']);
  if (netns !== undefined && !isAbsolute(netns)) c.add([...path, 'netns'], `must be an absolute path like /run/netns/NAME, got '${netns}'`);
  let mode: 'skb' | 'native' | undefined;
  if (o.mode !== undefined) {
    if (o.mode === 'skb' || o.mode === 'native') mode = o.mode;
    else c.add([...path, 'mode'], `must be skb or native, got ${kind(o.mode)}`);
  }
  const slots = o.slots === undefined ? DEFAULT_SLOTS : (c.integer(o.slots, [...path, 'slots'], 1, MAX_SLOTS) ?? MAX_SLOTS);
  const passMeta = o.passMeta === undefined ? undefined : c.boolean(o.passMeta, [...path, 'passMeta']);
  const programs: SlotSpec[] = [];
  const seen = new Map<number, number>();
  const list = o.programs === undefined ? [] : (c.list(o.programs, [...path, 'programs']) ?? []);
  list.forEach((entry, i) => {
    const spec = checkSlot(c, entry, [...path, 'programs', i], baseDir, slots, trust);
    // Duplicates by the slot as written, so an entry with other mistakes still counts.
    const slot = (entry as { slot?: unknown } | null)?.slot;
    if (typeof slot === 'number') {
      if (seen.has(slot)) c.add([...path, 'programs', i, 'slot'], `slot ${slot} is given twice (also at programs[${seen.get(slot)}])`);
      else seen.set(slot, i);
    }
    if (spec) programs.push(spec);
  });
  if (c.issues.length !== before || name === undefined) return undefined;
  return { name, netns, mode, slots, passMeta, programs: programs.sort((a, b) => a.slot - b.slot), line: c.where(path).line };
}

/**
 * Parses and checks a config from its text. Every mistake is collected (not just the first),
 * each with its line; object files are read once under the trust rule (see `trust.ts`: owned by
 * root, not writable by others, folders included; or matching a pinned `sha256:`) and opened
 * from those bytes (not loaded) to check their programs and globals. The text itself is taken as
 * given: {@link loadFleetConfig} checks the config file.
 *
 * @param file the file the text came from: for messages, and to resolve relative object paths
 * @throws {@link FleetConfigError} listing every mistake, untrusted objects and hash mismatches
 *   included (issue `code` `EUNTRUSTED` / `ESHA256`)
 */
export function parseFleetConfig(text: string, file: string, options: LoadConfigOptions = {}): FleetConfig {
  return parse(text, file, { insecure: options?.insecure === true, waived: [] }, options ?? {});
}

/**
 * The root program apply attaches (the shipped `xdp_root.bpf.o`, opened by path in
 * RootArray.attach) passes the same trust rule: where only root can write, nobody can swap it
 * between this check and the attach.
 */
function checkRootObject(c: Checker, trust: TrustContext): void {
  let file: string;
  try {
    file = shippedObjectPath('xdp_root');
  } catch (e) {
    c.add(['interfaces'], (e as Error).message);
    return;
  }
  try {
    const problems = checkTrusted(file);
    if (problems.length === 0) return;
    if (trust.insecure) for (const p of problems) trust.waived.push(`${file}: ${formatProblem(p)}`);
    else c.add([], untrustedMessage('root program object', file, problems), { line: 0, column: 0 }, 'EUNTRUSTED');
  } catch (e) {
    c.add([], `cannot check ${file}: ${(e as Error).message}`, { line: 0, column: 0 });
  }
}

function parse(text: string, file: string, trust: TrustContext, options: LoadConfigOptions): FleetConfig {
  const abs = resolve(file);
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const c = new Checker(abs, doc, lines);
  if (doc.errors.length > 0) {
    for (const e of doc.errors) {
      const { line, col } = lines.linePos(e.pos[0]);
      c.issues.push({ file: abs, line, column: col, path: '', message: `YAML: ${e.message.split('\n')[0]}` });
    }
    throw new FleetConfigError(c.issues);
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    // yaml refuses an alias bomb (aliases expanding to millions of nodes) with a ReferenceError.
    let at = { line: 1, column: 1 };
    visit(doc, {
      Alias(_key, node) {
        if (node.range) {
          const { line, col } = lines.linePos(node.range[0]);
          at = { line, column: col };
        }
        return visit.BREAK;
      },
    });
    c.issues.push({ file: abs, ...at, path: '', message: `YAML: ${(e as Error).message.split('\n')[0]}` });
    throw new FleetConfigError(c.issues);
  }
  const top = c.object(data ?? {}, [], topKeys);
  const interfaces: InterfaceSpec[] = [];
  let pinBase: string | undefined;
  if (top) {
    if (top.pinBase !== undefined) {
      pinBase = c.string(top.pinBase, ['pinBase']);
      if (pinBase !== undefined && (!pinBase.startsWith('/sys/fs/bpf/') || pinBase.split('/').includes('..'))) c.add(['pinBase'], `must be a folder under /sys/fs/bpf/ without '..', got '${pinBase}'`);
    }
    const list = top.interfaces === undefined ? [] : (c.list(top.interfaces, ['interfaces']) ?? []);
    if (top.interfaces !== undefined && !isSeq(doc.get('interfaces', true)) && list.length > 0) c.add(['interfaces'], 'must be a list');
    const seen = new Map<string, number>();
    list.forEach((entry, i) => {
      const spec = checkInterface(c, entry, ['interfaces', i], dirname(abs), trust, options.netns);
      const { name, netns = options.netns } = (entry ?? {}) as { name?: unknown; netns?: unknown };
      if (typeof name === 'string') {
        // The same namespace by two paths (/run/netns/X, /proc/PID/ns/net) is the same interface.
        const key = `${name}@${typeof netns === 'string' ? namespaceKey(netns) : namespaceKey(undefined)}`;
        if (seen.has(key)) c.add(['interfaces', i, 'name'], `interface ${name}${typeof netns === 'string' ? ` in ${netns}` : ''} is given twice (also at interfaces[${seen.get(key)}])`);
        else seen.set(key, i);
      }
      if (spec) interfaces.push(spec);
    });
  }
  if (interfaces.length > 0) checkRootObject(c, trust);
  if (c.issues.length > 0) throw new FleetConfigError(c.issues.sort((a, b) => a.line - b.line || a.column - b.column));
  return { file: abs, pinBase: options.pinBase ?? pinBase, interfaces, waived: trust.waived, insecure: trust.insecure };
}

/**
 * Reads and checks a config file (YAML, or JSON, which is YAML too). The file, every object it
 * names (shipped ones included) and every folder above them must be owned by root (or this
 * process's user) and not writable by group or others (a sticky folder like /tmp is fine for a
 * file root owns); an object with a pinned `sha256:` may be anywhere, its bytes must match. Each
 * file is read once; the objects' bytes are kept in the specs and are what apply loads.
 *
 * @param options.insecure waive the ownership checks (development only): the problems are kept
 *   in {@link FleetConfig.waived} for a warning on every apply
 * @param options.pinBase the bpffs folder of the root arrays, over the file's `pinBase`
 * @param options.netns the namespace of the interfaces the file lists without `netns`
 * @throws {@link FleetConfigError} for a missing, unreadable or untrusted file, an object hash
 *   that does not match its pin, or any other mistake in it; nothing is changed
 * @example
 * ```ts
 * const config = loadFleetConfig('/etc/xdp-root/fleet.yaml');
 * config.interfaces[0].programs[0].sha256;
 * ```
 */
export function loadFleetConfig(file: string, options: LoadConfigOptions = {}): FleetConfig {
  if (typeof file !== 'string' || file.length === 0) throw new TypeError(`file must be a non-empty string, got ${kind(file)}`);
  const trust: TrustContext = { insecure: options?.insecure === true, waived: [] };
  let text: string;
  try {
    const v = readTrusted(file, { what: 'config', insecure: trust.insecure });
    for (const p of v.waived) trust.waived.push(`${v.path}: ${formatProblem(p)}`);
    text = v.bytes.toString('utf8');
  } catch (e) {
    const code = e instanceof TrustError ? e.code : undefined;
    const message = e instanceof TrustError ? e.message : `cannot read the config: ${(e as Error).message}`;
    throw new FleetConfigError([{ file: resolve(file), line: 0, column: 0, path: '', message, ...(code ? { code } : {}) }]);
  }
  return parse(text, file, trust, options ?? {});
}
