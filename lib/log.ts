/**
 * libbpf's log messages. They are dropped unless a logger is set; libbpf-node never prints to
 * stderr on its own.
 *
 * @module
 */
import { binding } from './internal/native';

/** libbpf's log levels, most important first. */
export type LogLevel = 'warn' | 'info' | 'debug';

/**
 * Receives one libbpf log message, without a trailing newline and without the `libbpf: ` that
 * libbpf puts in front of most of its messages (so a logger can add its own prefix once).
 */
export type Logger = (level: LogLevel, message: string) => void;

/**
 * Sends libbpf's log messages to `logger`, or drops them again with `null` (the default).
 *
 * Messages arrive on the main thread, after the operation that produced them: right after a
 * synchronous call, or before an async `load()` settles. An exception thrown by the logger is
 * ignored. The logger is per thread (each worker thread has its own).
 *
 * @example
 * ```ts
 * setLogger((level, msg) => { if (level !== 'debug') console.error(`libbpf: ${msg}`); });
 * ```
 */
export function setLogger(logger: Logger | null): void {
  if (logger !== null && typeof logger !== 'function') {
    throw new TypeError('setLogger: logger must be a function or null');
  }
  binding.setLogger(
    logger === null
      ? null
      : (level: string, message: string) => {
          const text = withoutLibbpfPrefix(message);
          if (!TYPES_ONLY_SECTION.test(text)) logger(level as LogLevel, text);
        },
  );
}

/**
 * The one libbpf message that is not news: a BPF object may put a never-used variable in a
 * section named `.types.unused` only so that clang writes a type into the object's BTF (a ring
 * buffer record has no map value to carry it). The shipped sampler, counter and root do; libbpf
 * skips that section by design and says so at info level on every open. Any other section it
 * skips is still reported.
 */
const TYPES_ONLY_SECTION = /^elf: skipping unrecognized data section\(\d+\) \.types\.unused$/;

/** libbpf writes most messages as `libbpf: …`; the verifier's log lines come without it. */
const LIBBPF_PREFIX = 'libbpf: ';

function withoutLibbpfPrefix(message: string): string {
  return message.startsWith(LIBBPF_PREFIX) ? message.slice(LIBBPF_PREFIX.length) : message;
}

/** The version of the libbpf linked into the addon, such as `'v1.5'`. */
export function libbpfVersion(): string {
  return binding.libbpfVersion();
}
