// Running external commands (`ip`, `ping`, anything inside a namespace) with a time bound.

import { spawn } from 'node:child_process';
import { TestNetError, hintFor } from './errors.js';

/** What a finished command produced. */
export interface ExecResult {
  /** Exit code, or null if the command was ended by a signal. */
  code: number | null;
  /** The signal that ended the command, if any. */
  signal: NodeJS.Signals | null;
  /** Standard output, decoded as UTF-8. */
  stdout: string;
  /** Standard error, decoded as UTF-8. */
  stderr: string;
}

/** Options for running a command. */
export interface ExecOptions {
  /** Written to the command's standard input, which is then closed. Default: nothing. */
  input?: string | Uint8Array;
  /** Kill the command (SIGKILL) and throw if it runs longer than this. Default 10 000 ms. */
  timeoutMs?: number;
}

/** Upper bound for any command timeout, so a typo cannot hang a test run for hours. */
export const MAX_TIMEOUT_MS = 60_000;
/** Default time limit for commands. */
export const DEFAULT_TIMEOUT_MS = 10_000;
const MAX_OUTPUT_BYTES = 16 * 1024 * 1024;

/** Validates a user-supplied timeout; returns the default when it is undefined. */
export function checkTimeout(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new TypeError(`${name} must be a finite number of milliseconds, got ${String(value)}`);
  }
  if (value <= 0 || value > MAX_TIMEOUT_MS) {
    throw new RangeError(`${name} must be in (0, ${MAX_TIMEOUT_MS}] ms, got ${value}`);
  }
  return value;
}

/**
 * Runs `file args…`, collecting its output. Resolves with the exit status whatever it is; rejects
 * only if the command cannot be started or exceeds its time limit (it is then killed).
 */
export function runCommand(
  op: string,
  file: string,
  args: readonly string[],
  options: ExecOptions = {},
): Promise<ExecResult> {
  // Callers validate user-supplied limits; internal ones may exceed MAX_TIMEOUT_MS (e.g. a long ping).
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const command = [file, ...args];
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outBytes = 0;
    let timedOut = false;
    const collect = (into: Buffer[]) => (chunk: Buffer) => {
      outBytes += chunk.length;
      if (outBytes <= MAX_OUTPUT_BYTES) into.push(chunk);
    };
    child.stdout.on('data', collect(out));
    child.stderr.on('data', collect(err));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const missing = error.code === 'ENOENT' ? ` (is ${file} installed and in PATH?)` : '';
      reject(new TestNetError(op, `cannot run ${file}: ${error.message}${missing}`, { command, code: error.code }, { cause: error }));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const result: ExecResult = {
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      };
      if (timedOut) {
        reject(
          new TestNetError(op, `${command.join(' ')} did not finish within ${timeoutMs} ms and was killed`, {
            command,
            code: 'ETIMEDOUT',
            stderr: result.stderr.trim(),
          }),
        );
      } else {
        resolve(result);
      }
    });
    // A command that exits without reading its input makes stdin emit EPIPE; the exit status tells more.
    child.stdin.on('error', () => {});
    child.stdin.end(options.input ?? '');
  });
}

/**
 * Runs `ip args…` and returns its standard output; throws a {@link TestNetError} carrying the
 * command and its standard error if `ip` exits non-zero.
 */
export async function runIp(op: string, args: readonly string[], input?: string): Promise<string> {
  const result = await runCommand(op, 'ip', args, { input });
  if (result.code !== 0) {
    const stderr = result.stderr.trim();
    throw new TestNetError(op, `ip ${args.join(' ')} failed: ${stderr || `exit code ${result.code}`}${hintFor(stderr)}`, {
      command: ['ip', ...args],
      exitCode: result.code,
      stderr,
      code: errnoFromIpMessage(stderr),
    });
  }
  return result.stdout;
}

/** Maps the well-known strerror texts that `ip` prints back to errno names. */
function errnoFromIpMessage(stderr: string): string | undefined {
  if (/File exists/.test(stderr)) return 'EEXIST';
  if (/No such file or directory/.test(stderr)) return 'ENOENT';
  if (/Operation not permitted/.test(stderr)) return 'EPERM';
  if (/Permission denied/.test(stderr)) return 'EACCES';
  if (/Cannot find device/.test(stderr)) return 'ENODEV';
  return undefined;
}
