// `npm run demo`: the whole stack on embedded defaults — a Temporal dev server (data in data/temporal.db,
// UI on :8233), the worker, the API (:3000), the dashboard (:3001) and SQLite (data/homeostat.db) — with the credit-default
// demo model, live simulated traffic, and failures injected on a schedule that the agent must detect
// and see through. Ctrl-C stops everything; running it again carries on with the same data.
//
// Options: --fast (2-second agent cycles and short phases, for a quick look or a test),
//          --duration SECONDS (stop by itself), --rate N (predictions per second; 20, or 100 with --fast).
// Environment: TEMPORAL_ADDRESS (use that server instead of starting one), PORT (API, default 3000),
//              HOMEOSTAT_DASHBOARD_PORT (default 3001),
//              HOMEOSTAT_TEMPORAL_PORT / HOMEOSTAT_TEMPORAL_UI_PORT (dev server, default 7233 / 8233).
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Connection } from '@temporalio/client';
import { jsonClient } from '../lib/api-client.ts';
import { rotateApiKey } from '../lib/auth/keys.ts';
import { newPassword, resetUser } from '../lib/auth/users.ts';
import { createStore } from '../lib/db/client.ts';
import { REPO_ROOT } from '../lib/db/config.ts';
import { devServerSearchAttributeArgs } from '../lib/search-attributes.ts';
import { creditDefault } from '../lib/sim/demo-models.ts';
import {
  DEMO_MODEL,
  DEMO_SPEEDS,
  playSchedule,
  registerBadRelease,
  setUpDemo,
} from '../lib/sim/demo-schedule.ts';
import { temporalCliPath } from '../lib/temporal-binaries.ts';

const { values: args } = parseArgs({
  options: {
    fast: { type: 'boolean', default: false },
    duration: { type: 'string' },
    rate: { type: 'string' },
  },
});
const speed = args.fast ? DEMO_SPEEDS.fast : DEMO_SPEEDS.normal;
const rate = args.rate === undefined ? speed.rate : Number(args.rate);
if (!(rate > 0 && rate <= 2000)) fail('--rate must be a number of predictions per second in (0, 2000]');
const durationSeconds = args.duration === undefined ? null : Number(args.duration);
if (durationSeconds !== null && !(durationSeconds > 0))
  fail('--duration must be a positive number of seconds');

const MODEL = DEMO_MODEL;

const dataDir = path.join(REPO_ROOT, 'data');
const logDir = path.join(dataDir, 'logs');
fs.mkdirSync(logDir, { recursive: true });
const apiPort = Number(process.env.PORT ?? 3000);
const dashboardPort = Number(process.env.HOMEOSTAT_DASHBOARD_PORT ?? 3001);
const temporalPort = Number(process.env.HOMEOSTAT_TEMPORAL_PORT ?? 7233);
const temporalUiPort = Number(process.env.HOMEOSTAT_TEMPORAL_UI_PORT ?? 8233);
const temporalAddress = process.env.TEMPORAL_ADDRESS ?? `127.0.0.1:${temporalPort}`;
const children: { name: string; child: ChildProcess }[] = [];
const stop = new AbortController();

function say(line: string) {
  console.log(`[demo ${new Date().toISOString().slice(11, 19)}] ${line}`);
}

function fail(message: string): never {
  console.error(`[demo] error: ${message}`);
  // Never leave the processes started so far running behind us.
  for (const { child } of children) child.kill('SIGTERM');
  process.exit(2);
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer().once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

function start(name: string, command: string, argv: string[], env: Record<string, string> = {}) {
  const log = fs.openSync(path.join(logDir, `${name}.log`), 'a');
  const child = spawn(command, argv, {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', log, log],
  });
  children.push({ name, child });
  child.once('exit', (code, signal) => {
    if (!stop.signal.aborted) {
      say(`${name} exited unexpectedly (${signal ?? code}); see data/logs/${name}.log`);
      void shutdown(1);
    }
  });
  return child;
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !stop.signal.aborted) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 300));
  }
  if (!stop.signal.aborted) fail(`${what} did not become ready in ${timeoutMs / 1000} s (see data/logs/)`);
}

let shuttingDown = false;
async function shutdown(code = 0) {
  if (shuttingDown) return;
  shuttingDown = true;
  stop.abort();
  say('stopping: dashboard, API, worker, Temporal (Ctrl-C again to force)');
  for (const { child } of [...children].reverse()) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    child.kill('SIGTERM');
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => {
        child.kill('SIGKILL');
        resolve();
      }, 15_000);
      child.once('exit', () => {
        clearTimeout(force);
        resolve();
      });
    });
  }
  say('stopped; data kept in data/ — run the same command to carry on');
  process.exit(code);
}
process.on('SIGINT', () => (shuttingDown ? process.exit(130) : void shutdown(0)));
process.on('SIGTERM', () => void shutdown(0));

// 1. Temporal
if (!process.env.TEMPORAL_ADDRESS) {
  for (const port of [temporalPort, temporalUiPort, apiPort, dashboardPort]) {
    if (!(await portFree(port))) {
      fail(`port ${port} is in use (another demo or Temporal server?); stop it or change the port`);
    }
  }
  say(`starting the Temporal dev server on ${temporalAddress} (UI :${temporalUiPort})`);
  start('temporal', temporalCliPath(), [
    'server',
    'start-dev',
    '--db-filename',
    path.join(dataDir, 'temporal.db'),
    '--ip',
    '127.0.0.1',
    '--port',
    String(temporalPort),
    '--ui-port',
    String(temporalUiPort),
    '--log-level',
    'warn',
    ...devServerSearchAttributeArgs(),
  ]);
}
await waitFor('Temporal', async () => {
  const connection = await Connection.connect({ address: temporalAddress, connectTimeout: 1000 });
  await connection.workflowService.getSystemInfo({});
  await connection.close();
  return true;
});

// 2. Worker and API (each migrates the database on start; the worker starts every registered agent)
const serviceEnv = {
  TEMPORAL_ADDRESS: temporalAddress,
  HOMEOSTAT_CYCLE_INTERVAL: speed.cycle,
  PORT: String(apiPort),
};
say('starting the worker and the API');
start('worker', process.execPath, ['--import', 'tsx', 'worker/main.ts'], serviceEnv);
start('api', process.execPath, ['--import', 'tsx', 'api/server.ts'], serviceEnv);
const apiUrl = `http://127.0.0.1:${apiPort}`;
// The demo's own keys, re-keyed on every run: "demo" drives traffic and registers the model, "dashboard"
// is the viewer key the dashboard shows pages with to nobody signed in. The person "demo" (an operator)
// signs in to the dashboard to act, with a new password each run.
const store = await createStore();
const [demoKey, dashboardKey] = [
  await rotateApiKey(store, 'demo', 'admin'),
  await rotateApiKey(store, 'dashboard', 'viewer'),
];
const demoPassword = newPassword();
await resetUser(store, 'demo', 'operator', demoPassword);
await store.$disconnect();
const call = jsonClient(apiUrl, { authorization: `Bearer ${demoKey}` });
await waitFor('the API', async () => (await call('GET', '/readyz')).status === 200);

// 2b. The dashboard, built when its sources are newer than the last build
const dashboardDir = path.join(REPO_ROOT, 'dashboard');
const nextBin = path.join(REPO_ROOT, 'node_modules', 'next', 'dist', 'bin', 'next');
if (dashboardBuildIsStale(dashboardDir)) {
  say('building the dashboard (first run only: about a minute)');
  const build = spawn(process.execPath, [nextBin, 'build', 'dashboard'], {
    cwd: REPO_ROOT,
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' },
    stdio: ['ignore', fs.openSync(path.join(logDir, 'dashboard-build.log'), 'w'), 'inherit'],
  });
  const code = await new Promise<number | null>((resolve) => build.once('exit', resolve));
  if (code !== 0) fail('the dashboard build failed; see data/logs/dashboard-build.log');
}
start(
  'dashboard',
  process.execPath,
  [nextBin, 'start', 'dashboard', '-p', String(dashboardPort), '-H', '127.0.0.1'],
  {
    NEXT_TELEMETRY_DISABLED: '1',
    HOMEOSTAT_API_URL: apiUrl,
    HOMEOSTAT_DASHBOARD_API_KEY: dashboardKey,
    TEMPORAL_UI_URL: `http://localhost:${temporalUiPort}`,
  },
);
const dashboardUrl = `http://127.0.0.1:${dashboardPort}`;
await waitFor('the dashboard', async () => (await fetch(`${dashboardUrl}/api/v1/fleet`)).ok);

// 3. The demo model
const registered = await call('POST', '/v1/models', {
  name: MODEL,
  task: creditDefault.task,
  labels: ['0', '1'],
  featureSchema: creditDefault.schema,
});
if (registered.status === 201) say(`registered model ${MODEL}; its agent workflow is agent:${MODEL}`);
else if (registered.status === 409) say(`model ${MODEL} is already registered: carrying on with its history`);
else fail(`could not register ${MODEL}: ${JSON.stringify(registered.body)}`);

// 3b. Its production version (logistic regression on reference data) and a simpler fallback (a random
// forest on a tenth of it), trained by the registry and deployed behind the gateway; and a bad release
// kept aside for later (a version trained on corrupted labels, as a broken training pipeline would make).
const setup = await setUpDemo(call).catch((error) => fail(String(error)));
if (setup.production !== null) {
  say(`trained version ${setup.production} (production) and ${setup.fallback} (fallback) and deployed them`);
}
const badRelease = await ensureBadRelease();

console.log(`
  Homeostat demo is running
    Dashboard      ${dashboardUrl}/models/${MODEL}   (sign in as demo / ${demoPassword} to act)
    API            ${apiUrl}/v1/models/${MODEL}/agent   (Authorization: Bearer <your admin key>)
    Temporal UI    http://localhost:${temporalUiPort}/namespaces/default/workflows/agent:${MODEL}
    Logs           data/logs/ (temporal, worker, api, dashboard)
  Agent cycle ${speed.cycle}; ${rate} predictions/s. Ctrl-C to stop.
`);

// 4. What the agent says, whenever it changes
async function watchAgent() {
  let last = '';
  while (!stop.signal.aborted) {
    const res = await call('GET', `/v1/models/${MODEL}/agent`).catch(() => null);
    if (res?.status === 200) {
      const a = res.body.agent;
      const window = a.lastWindow
        ? `accuracy ${a.lastWindow.accuracy === null ? 'n/a' : a.lastWindow.accuracy.toFixed(3)} over ${a.lastWindow.labelled} labels`
        : 'no window yet';
      const incident = a.openIncident
        ? `; incident ${a.openIncident.id.slice(0, 8)} (${a.openIncident.kind}) ${a.openIncident.status ?? 'open'}`
        : '';
      const attempt = a.openIncident?.attempts?.at(-1);
      const line = `agent: ${a.health}; ${a.lastDecision?.rule ?? 'starting'}${incident}${attempt ? ` [${attempt.action}: ${attempt.outcome}]` : ''}`;
      if (line !== last)
        say(`${line} — cycle ${a.cycle}, ${window}${a.lastDecision ? `: ${a.lastDecision.reason}` : ''}`);
      last = line;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}
void watchAgent();

// 5. Traffic, phase by phase
if (durationSeconds !== null) setTimeout(() => void shutdown(0), durationSeconds * 1000);
await playSchedule({
  call,
  speed,
  rate,
  badRelease,
  runId: Date.now().toString(36),
  signal: stop.signal,
  say,
  // Stopping (Ctrl-C) takes the API down first: there is nobody left to ask.
  onRoundEnd: summarise,
});

/** The bad release's version number: registered once, on corrupted labels, and remembered in data/. */
async function ensureBadRelease(): Promise<number> {
  const remembered = path.join(dataDir, 'demo-bad-release.json');
  if (fs.existsSync(remembered)) return JSON.parse(fs.readFileSync(remembered, 'utf8')).version;
  const version = await registerBadRelease(call).catch((error) => fail(String(error)));
  fs.writeFileSync(remembered, JSON.stringify({ version }));
  return version;
}

/** What the agent did in a round: every incident and how it ended. */
async function summarise(round: number) {
  const res = await call('GET', `/v1/models/${MODEL}/incidents`).catch(() => null);
  if (res?.status !== 200) return;
  say(`round ${round + 1} done. Incidents so far:`);
  for (const incident of res.body.incidents ?? []) {
    say(
      `  ${incident.openedAt.slice(11, 19)} ${incident.kind.padEnd(13)} ${incident.status.padEnd(10)} ${incident.summary}`,
    );
  }
}

/** True when dashboard/ has a file newer than its last production build (or was never built). */
function dashboardBuildIsStale(dir: string): boolean {
  const buildId = path.join(dir, '.next', 'BUILD_ID');
  if (!fs.existsSync(buildId)) return true;
  const built = fs.statSync(buildId).mtimeMs;
  const newer = (d: string): boolean =>
    fs.readdirSync(d, { withFileTypes: true }).some((e) => {
      if (e.name === '.next' || e.name === 'node_modules') return false;
      const p = path.join(d, e.name);
      return e.isDirectory() ? newer(p) : fs.statSync(p).mtimeMs > built;
    });
  return newer(dir);
}
