// Runs Homeostat's own entry points (worker/main.ts, api/server.ts) as child processes, as a user would.
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from '../../lib/db/config.ts';

export interface RunningProcess {
  child: ChildProcess;
  output: () => string;
  /** Resolves with the first structured log line whose msg matches. */
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
      for (const w of waiters.filter((w) => w.msg === parsed.msg)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(parsed);
      }
    }
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  return {
    child,
    output: () => output,
    waitForLog(msg, timeoutMs = 60_000) {
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
