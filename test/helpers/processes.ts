// Runs Homeostat's own entry points (worker/main.ts, api/server.ts) as child processes, as a user would.
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from '../../lib/db/config.ts';

export interface RunningProcess {
  child: ChildProcess;
  output: () => string;
  /** Resolves with the first structured log line whose msg matches that no earlier wait took. */
  waitForLog(msg: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export function startEntryPoint(entry: string, env: Record<string, string>): RunningProcess {
  return startProcess(entry, process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, entry)], {
    cwd: REPO_ROOT,
    env,
  });
}

/** Any process that logs JSON lines with a "msg" (the Python worker too), named `entry` in errors. */
export function startProcess(
  entry: string,
  command: string,
  args: string[],
  options: { cwd: string; env: Record<string, string> },
): RunningProcess {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: { ...process.env, LOG_LEVEL: 'info', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  /**
   * Structured lines no waiter has taken, so that a line logged before anyone waits for it still counts
   * (a process may start while the caller seeds a database). Bounded: a long run logs without end.
   */
  const untaken: Record<string, unknown>[] = [];
  const UNTAKEN_KEPT = 1000;
  const waiters: { msg: string; resolve: (line: Record<string, unknown>) => void }[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const onData = (chunk: Buffer) => {
    output += chunk.toString();
    for (const line of chunk.toString().split('\n')) {
      if (!line.startsWith('{')) continue;
      const parsed = (() => {
        try {
          return JSON.parse(line) as Record<string, unknown>;
        } catch {
          return null;
        }
      })();
      if (!parsed) continue;
      const waiter = waiters.find((w) => w.msg === parsed.msg);
      if (!waiter) {
        if (untaken.push(parsed) > UNTAKEN_KEPT) untaken.shift();
        continue;
      }
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve(parsed);
    }
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  return {
    child,
    output: () => output,
    waitForLog(msg, timeoutMs = 60_000) {
      const earlier = untaken.findIndex((line) => line.msg === msg);
      if (earlier >= 0) return Promise.resolve(untaken.splice(earlier, 1)[0]!);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(new Error(`${entry} did not log "${msg}" in ${timeoutMs} ms:\n${output.slice(-3000)}`)),
          timeoutMs,
        );
        waiters.push({
          msg,
          resolve: (line) => {
            clearTimeout(timer);
            resolve(line);
          },
        });
        exited.then((code) =>
          reject(new Error(`${entry} exited (${code}) before "${msg}":\n${output.slice(-3000)}`)),
        );
      });
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
