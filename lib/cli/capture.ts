/**
 * `xdp-root capture`: the frames behind a root array's verdicts, as pcapng (to a file or to
 * standard output, for `tcpdump -r -`) or as one line per frame.
 *
 * ```
 * xdp-root capture <iface> [--slot N] [--action drop,pass,…] [--snaplen N] [--rate N]
 *                  [--src CIDR] [--dst CIDR] [--proto tcp|udp|icmp|icmpv6|N]
 *                  [-c COUNT] [--duration S] [-w FILE | -w -]
 * xdp-root capture <iface> --stop
 * ```
 * Its options are its own table (`options` below), ready to move into a shared parser.
 *
 * @internal
 * @module
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { BpfStateError } from '../errors';
import { RootArray } from '../rootarray/root-array';
import { CAPTURE_ACTIONS, type CaptureAction, type CaptureFilter, type CapturedFrame } from '../rootarray/capture';
import { PcapngWriter } from '../pcapng';
import { UsageError, ifaceArg, integer, positionals, type Command } from './command';

/** Writes all of `buf` to `fd`, waiting out a non-blocking pipe that is full. */
function writeAll(fd: number, buf: Buffer): void {
  let off = 0;
  while (off < buf.length) {
    try {
      off += writeSync(fd, buf, off, buf.length - off);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
    }
  }
}

/** Opens the output before anything is switched on, so a path that cannot be written changes nothing. */
function openOutput(path: string): number {
  if (path === '-') return 1;
  try {
    return openSync(path, 'w');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new BpfStateError(`cannot write the capture to '${path}': ${err.code ?? 'error'} (${err.message.replace(/^[A-Z]+: /, '').split(',')[0]}); nothing was switched on`);
  }
}

function actionsArg(text: string | boolean | undefined): CaptureAction[] | undefined {
  if (text === undefined) return undefined;
  if (typeof text !== 'string' || text === '') throw new UsageError(`--action takes a comma-separated list of ${CAPTURE_ACTIONS.join(', ')}`);
  // Passed through: the library names an unknown action (RangeError).
  return text.split(',').map((a) => a.trim()) as CaptureAction[];
}

function durationArg(text: string | boolean | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (typeof text !== 'string' || !/^\d+(\.\d+)?$/.test(text) || Number(text) <= 0) throw new UsageError(`--duration must be a positive number of seconds, got '${String(text)}'`);
  return Number(text) * 1000;
}

function frameLine(f: CapturedFrame): string {
  const ts = new Date(Number(f.timestamp / 1_000_000n)).toISOString();
  return `${ts} slot ${f.slot} ${f.action} ifindex ${f.ifindex} rxq ${f.rxQueue} len ${f.length} caplen ${f.data.length} ${f.data.subarray(0, 64).toString('hex')}`;
}

export const capture: Command = {
  usage: '<iface> [--slot N] [--action drop,pass,...] [--snaplen N] [--rate N] [--src CIDR] [--dst CIDR] [--proto P] [-c COUNT] [--duration S] [-w FILE|-] | <iface> --stop',
  summary: 'capture the frames behind the verdicts (pcapng with -w; one line per frame without)',
  help: [
    'Captures the frames a slot (default: every slot) returned one of the --action verdicts for',
    `(${CAPTURE_ACTIONS.join(', ')}; default: all), the first --snaplen bytes of each (default 65000), 1 in --rate.`,
    '--src/--dst CIDR and --proto tcp|udp|icmp|icmpv6|N keep only matching IP packets.',
    '-w FILE writes pcapng (-w - to standard output: `xdp-root capture eth0 --action drop -w - | tcpdump -r - -n`);',
    'each packet\'s comment names its slot and verdict. Stops after -c frames, --duration seconds, or Ctrl-C;',
    'the file is valid at every point. A progress line goes to standard error.',
    '--stop switches off a capture left on (by a killed capture, or running elsewhere).',
  ].join('\n'),
  options: {
    slot: { type: 'string', value: 'N', description: 'only this slot (default: every slot)' },
    action: { type: 'string', value: 'LIST', description: `the verdicts to capture, comma-separated: ${CAPTURE_ACTIONS.join(', ')} (default: all)` },
    snaplen: { type: 'string', value: 'BYTES', default: '65000', description: 'bytes kept of each frame' },
    rate: { type: 'string', value: 'N', default: '1', description: 'capture 1 in N matching frames' },
    src: { type: 'string', value: 'CIDR', description: 'only IP packets from this prefix' },
    dst: { type: 'string', value: 'CIDR', description: 'only IP packets to this prefix' },
    proto: { type: 'string', value: 'PROTO', description: 'only this protocol: tcp, udp, icmp, icmpv6 or a number' },
    count: { type: 'string', short: 'c', value: 'COUNT', description: 'stop after this many frames' },
    duration: { type: 'string', value: 'SECONDS', description: 'stop after this long' },
    write: { type: 'string', short: 'w', value: 'FILE', description: 'write pcapng to FILE (- for standard output); without it, one line per frame' },
    stop: { type: 'boolean', description: 'switch off a capture left on, and exit' },
  },
  async run({ args, values, where }) {
    const [ifname] = positionals(args, 1, '<iface>');
    if (values.stop) {
      using root = RootArray.open(ifaceArg(ifname), where);
      const slots = await root.stopCapture();
      console.log(slots.length > 0 ? `capture switched off on ${root.ifname}, slot${slots.length > 1 ? 's' : ''} ${slots.join(', ')}` : `no capture was on on ${root.ifname}`);
      return 0;
    }
    const slot = integer(values.slot, '--slot');
    const snaplen = integer(values.snaplen, '--snaplen');
    const rate = integer(values.rate, '--rate');
    const count = integer(values.count, '-c');
    if (count === 0) throw new UsageError('-c must be at least 1');
    const durationMs = durationArg(values.duration as string | undefined);
    const actions = actionsArg(values.action as string | undefined);
    let filter: CaptureFilter | undefined;
    if (values.src !== undefined || values.dst !== undefined || values.proto !== undefined) {
      const proto = values.proto as string | undefined;
      filter = {
        ...(values.src === undefined ? {} : { src: String(values.src) }),
        ...(values.dst === undefined ? {} : { dst: String(values.dst) }),
        ...(proto === undefined ? {} : { protocol: /^\d+$/.test(proto) ? Number(proto) : (proto as CaptureFilter['protocol']) }),
      };
    }
    const out = typeof values.write === 'string' ? values.write : undefined;
    if (values.write !== undefined && (out === undefined || out === '')) throw new UsageError('-w needs a file name, or - for standard output');

    using root = RootArray.open(ifaceArg(ifname), where);
    const fd = out === undefined ? undefined : openOutput(out);
    let cap;
    try {
      cap = await root.capture({ slot, actions, snaplen, rate, filter });
    } catch (e) {
      if (fd !== undefined && fd !== 1) closeSync(fd);
      throw e;
    }
    const stop = (): void => cap.close();
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    const timer = durationMs === undefined ? undefined : setTimeout(stop, durationMs);
    const tty = process.stderr.isTTY === true;
    const progress = (): string => `${cap.captured} frames captured, ${cap.lost} lost by the ring`;
    const ticker = tty ? setInterval(() => process.stderr.write(`\r${progress()}`), 500) : undefined;
    let written = 0;
    let brokenPipe = false;
    try {
      const writer = fd === undefined ? undefined : new PcapngWriter((b) => writeAll(fd, b), { application: 'xdp-root capture (libbpf-node)' });
      // The root's interface up front: a file with no frames yet is still one readers accept.
      const ids = new Map<number, number>();
      if (writer) ids.set(root.ifindex, writer.addInterface({ name: root.ifname, snaplen: cap.snaplen }));
      const what = `${cap.slots.length === root.slotCount ? 'every slot' : `slot ${cap.slots.join(',')}`}, ${cap.actions.join(',')}`;
      process.stderr.write(`capturing on ${root.ifname} (${what}), snaplen ${cap.snaplen}${out === undefined ? '' : ` to ${out === '-' ? 'standard output' : out}`}\n`);
      for await (const f of cap) {
        if (writer) {
          let id = ids.get(f.ifindex);
          if (id === undefined) {
            id = writer.addInterface({ name: `ifindex ${f.ifindex}`, snaplen: cap.snaplen });
            ids.set(f.ifindex, id);
          }
          writer.packet({ interfaceId: id, timestamp: f.timestamp, data: f.data, originalLength: f.length, comment: `slot ${f.slot} action ${f.action} rxq ${f.rxQueue}` });
        } else {
          console.log(frameLine(f));
        }
        written++;
        if (count !== undefined && written >= count) break;
      }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EPIPE') throw e;
      brokenPipe = true; // the reader (tcpdump -c …) is done
    } finally {
      cap.close();
      if (timer) clearTimeout(timer);
      if (ticker) clearInterval(ticker);
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      if (fd !== undefined && fd !== 1) closeSync(fd);
    }
    process.stderr.write(`${tty ? '\r' : ''}${written} frames written; ${progress()}${brokenPipe ? '; the reader closed the pipe' : ''}; capture off\n`);
    return 0;
  },
};
