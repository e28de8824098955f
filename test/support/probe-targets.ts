// The small binaries the uprobe and USDT tests probe (test/bin/*.c, built to dist/test-bin/).
// Each waits for a line on stdin before doing its work, so a test can attach to it (by pid) first.
import { spawn } from 'node:child_process';
import { join } from 'node:path';

/** The path of a test binary built from test/bin/<name>.c. */
export function targetPath(name: string): string {
  return join(__dirname, '..', '..', 'dist', 'test-bin', name);
}

/** A started target, waiting for `go()`. */
export interface Target {
  pid: number;
  /** Lets it run; resolves with its stdout once it exits (rejects on failure or after 10 s). */
  go(): Promise<string>;
  /** Kills it if still running (cleanup after a failure). */
  kill(): void;
}

/** Starts test binary `name` with `args`; it waits for go(). */
export function startTarget(name: string, args: string[]): Target {
  const child = spawn(targetPath(name), args, { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} did not finish within 10 s`));
    }, 10_000);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${name} exited with ${code}`));
    });
  });
  return {
    pid: child.pid!,
    go() {
      child.stdin!.end('go\n');
      return exited;
    },
    kill() {
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}
