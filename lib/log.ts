/**
 * libbpf's log messages. They are dropped unless a logger is set; libbpf-node never prints to
 * stderr on its own.
 *
 * @module
 */
import { binding } from './native';

/** libbpf's log levels, most important first. */
export type LogLevel = 'warn' | 'info' | 'debug';

/** Receives one libbpf log message (without a trailing newline). */
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
  binding.setLogger(logger as ((level: string, message: string) => void) | null);
}

/** The version of the libbpf linked into the addon, such as `'v1.5'`. */
export function libbpfVersion(): string {
  return binding.libbpfVersion();
}
