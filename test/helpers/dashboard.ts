// The dashboard as users run it, for the browser test and the fleet-page benchmark: built with
// `next build` and served by `next start` against an API.
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../../lib/db/config.ts';
import { CHROMIUM } from './browser.ts';
import { freePort } from './temporal.ts';

const NEXT_BIN = path.join(REPO_ROOT, 'node_modules', 'next', 'dist', 'bin', 'next');

/** Runs a command to completion; rejects with its output when it fails. */
function run(args: string[], extraEnv: Record<string, string>, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: REPO_ROOT,
      env: { ...process.env, ...extraEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c));
    child.stderr.on('data', (c: Buffer) => (output += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`${args.join(' ')} exited with ${code}:\n${output.slice(-4000)}`));
    });
  });
}

/** `next build dashboard`: the production build that `startDashboard` serves. */
export function buildDashboard(timeoutMs = 150_000): Promise<void> {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`no Chromium at ${CHROMIUM}: install it with "apt-get install -y chromium"`);
  }
  return run([NEXT_BIN, 'build', 'dashboard'], { NEXT_TELEMETRY_DISABLED: '1' }, timeoutMs);
}

export interface RunningDashboard {
  url: string;
  child: ChildProcess;
  /** Everything it printed so far. */
  output(): string;
  stop(): void;
}

/** `next start` of the build on a free port, against the API at `apiUrl`; resolves once it serves pages. */
export async function startDashboard(apiUrl: string, env: Record<string, string>): Promise<RunningDashboard> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(
    process.execPath,
    [NEXT_BIN, 'start', 'dashboard', '-p', String(port), '-H', '127.0.0.1'],
    {
      cwd: REPO_ROOT,
      env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1', HOMEOSTAT_API_URL: apiUrl, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout?.on('data', (c: Buffer) => (output += c));
  child.stderr?.on('data', (c: Buffer) => (output += c));
  const deadline = Date.now() + 30_000;
  for (;;) {
    const up = await fetch(`${url}/api/v1/fleet`).then(
      (res) => res.ok,
      () => false,
    );
    if (up) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the dashboard did not start:\n${output.slice(-3000)}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return { url, child, output: () => output, stop: () => child.kill('SIGTERM') };
}
