// The dashboard in a real browser against the whole stack as users run it: a Temporal dev server, the
// worker and the API as processes on a SQLite database, the dashboard built with `next build` and served by
// `next start`, and Debian's Chromium driven by playwright-core. The agent cycles every second while
// labelled traffic flows through the API: healthy, then bad (an incident opens), then healthy again
// (it recovers); an operator then pauses the agent from the model page. No console error is allowed.
// Screenshots of every page go to test-output/screenshots/.
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type JsonCall, jsonClient } from '../../lib/api-client.ts';
import { REPO_ROOT } from '../../lib/db/config.ts';
import { authHeader } from '../helpers/api.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { type RunningProcess, startEntryPoint } from '../helpers/processes.ts';
import { startDevServer } from '../helpers/temporal.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const SCREENSHOTS = path.join(REPO_ROOT, 'test-output', 'screenshots');
const NEXT_BIN = path.join(REPO_ROOT, 'node_modules', 'next', 'dist', 'bin', 'next');
const TEMPORAL_UI_URL = 'http://127.0.0.1:8233';
const MODEL = 'credit';

let env: TestWorkflowEnvironment;
let db: TestDatabase;
let call: JsonCall;
let dashboard: ChildProcess | undefined;
let dashboardOutput = '';
let dashboardUrl: string;
let userDataDir: string;
let context: BrowserContext;
let page: Page;
const processes: RunningProcess[] = [];
const browserErrors: string[] = [];

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

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last}` : ''}`);
}

/**
 * Labelled traffic through the ingestion API, a batch every 250 ms, so that each 1-second window has
 * enough labelled rows to be judged (and is never empty, which would be stale data). Each batch has
 * exactly the current accuracy.
 */
function startTraffic(initialAccuracy: number) {
  let accuracy = initialAccuracy;
  let running = true;
  let batch = 0;
  const done = (async () => {
    while (running) {
      const id = `b${batch++}`;
      const predictions = Array.from({ length: 40 }, (_, i) => ({
        id: `${id}-${i}`,
        features: { income: 1000 + i },
        prediction: 'yes',
        confidence: 0.8,
      }));
      const correct = Math.round(predictions.length * accuracy);
      const sent = await call('POST', `/v1/models/${MODEL}/predictions`, { predictions });
      if (sent.status !== 202) throw new Error(`predictions: ${sent.status} ${JSON.stringify(sent.body)}`);
      const labels = predictions.map((p, i) => ({ predictionId: p.id, label: i < correct ? 'yes' : 'no' }));
      const labelled = await call('POST', `/v1/models/${MODEL}/labels`, { labels });
      if (labelled.status !== 202)
        throw new Error(`labels: ${labelled.status} ${JSON.stringify(labelled.body)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  })();
  done.catch(() => {}); // a failed batch is reported by stop()
  return {
    set accuracy(value: number) {
      accuracy = value;
    },
    async stop() {
      running = false;
      await done;
    },
  };
}

async function screenshot(name: string, target: Page = page): Promise<void> {
  await target.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

async function fleetHealth(): Promise<string> {
  const { body } = await call('GET', `/v1/fleet/${MODEL}`);
  return body.model.health;
}

beforeAll(async () => {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`no Chromium at ${CHROMIUM}: install it with "apt-get install -y chromium"`);
  }
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  const build = run([NEXT_BIN, 'build', 'dashboard'], { NEXT_TELEMETRY_DISABLED: '1' }, 150_000);
  [env, db] = await Promise.all([startDevServer(), createTestDatabase('sqlite')]);
  const processEnv = {
    TEMPORAL_ADDRESS: env.address,
    DATABASE_URL: `file:${db.config.url}`,
    HOMEOSTAT_TASK_QUEUE: 'browser-test',
    HOMEOSTAT_CYCLE_INTERVAL: '1 second',
    PORT: '0',
  };
  const api = startEntryPoint('api/server.ts', processEnv);
  const worker = startEntryPoint('worker/main.ts', processEnv);
  processes.push(api, worker);
  const [listening] = await Promise.all([
    api.waitForLog('api listening'),
    worker.waitForLog('worker started'),
  ]);
  const apiUrl = String(listening.url);
  call = jsonClient(apiUrl, await authHeader(db.store));
  await build;

  const port = await freePort();
  dashboardUrl = `http://127.0.0.1:${port}`;
  dashboard = spawn(
    process.execPath,
    [NEXT_BIN, 'start', 'dashboard', '-p', String(port), '-H', '127.0.0.1'],
    {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        NEXT_TELEMETRY_DISABLED: '1',
        HOMEOSTAT_API_URL: apiUrl,
        HOMEOSTAT_DASHBOARD_API_KEY: (await authHeader(db.store, 'operator')).authorization!.slice(
          'Bearer '.length,
        ),
        TEMPORAL_UI_URL,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  dashboard.stdout?.on('data', (c: Buffer) => (dashboardOutput += c));
  dashboard.stderr?.on('data', (c: Buffer) => (dashboardOutput += c));
  await waitFor('the dashboard', async () =>
    (await fetch(`${dashboardUrl}/api/v1/fleet`)).ok ? true : undefined,
  );

  userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'homeostat-chromium-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport: { width: 1280, height: 900 },
  });
  page = context.pages()[0] ?? (await context.newPage());
  context.on('console', (message) => {
    if (message.type() === 'error')
      browserErrors.push(`console: ${message.text()} (${message.location().url})`);
  });
  context.on('weberror', (error) => browserErrors.push(`page error: ${error.error().message}`));
}, 170_000);

afterAll(async () => {
  await context?.close().catch(() => {});
  dashboard?.kill('SIGTERM');
  await Promise.all(processes.map((p) => p.stop('SIGKILL')));
  await Promise.all([env?.teardown(), db?.drop()]);
  if (userDataDir) fs.rmSync(userDataDir, { recursive: true, force: true });
}, 60_000);

describe('dashboard', () => {
  it('follows a model through an incident and an operator pause, without console errors', {
    timeout: 150_000,
  }, async () => {
    const registered = await call('POST', '/v1/models', {
      name: MODEL,
      task: 'binary',
      labels: ['no', 'yes'],
      featureSchema: [{ name: 'income', type: 'numeric', min: 0 }],
    });
    expect(registered.status).toBe(201);
    const traffic = startTraffic(0.9);
    try {
      // Fleet: healthy, then degraded and healthy again as the data changes, all without a reload.
      await page.goto(`${dashboardUrl}/`);
      const badge = page.locator(`tr[data-model="${MODEL}"] .badge[data-health]`);
      await badge.and(page.locator('[data-health="healthy"]')).waitFor({ timeout: 30_000 });
      await waitFor('a ready baseline', async () =>
        (await call('GET', `/v1/fleet/${MODEL}`)).body.model.baseline.ready ? true : undefined,
      );
      await page.evaluate(() => {
        (globalThis as unknown as { notReloaded: boolean }).notReloaded = true;
      });
      await screenshot('fleet-healthy');

      traffic.accuracy = 0.6;
      await badge.and(page.locator('[data-health="degraded"]')).waitFor({ timeout: 30_000 });
      expect(await badge.textContent()).toBe('degraded');
      await page.locator(`tr[data-model="${MODEL}"] a[href^="/incidents/"]`).waitFor();
      await screenshot('fleet-degraded');

      traffic.accuracy = 0.9;
      await badge.and(page.locator('[data-health="healthy"]')).waitFor({ timeout: 30_000 });
      expect(
        await page.evaluate(() => (globalThis as unknown as { notReloaded?: boolean }).notReloaded),
      ).toBe(true);
      const incidents = (await call('GET', `/v1/models/${MODEL}/incidents`)).body.incidents;
      expect(incidents).toMatchObject([{ status: 'recovered', kind: 'concept_drift' }]);

      // Incident: the loop as a timeline, with the rules that fired and a link to the agent's workflow.
      await page.goto(`${dashboardUrl}/incidents/${incidents[0].id}`);
      await page.getByRole('heading', { name: 'Timeline' }).waitFor();
      for (const stage of ['detected', 'decided', 'acted', 'verified', 'recovered']) {
        expect(await page.locator(`.stepper li[data-stage="${stage}"]`).getAttribute('data-reached')).toBe(
          'true',
        );
      }
      const rules = await page.locator('[data-testid="rule"]').allTextContents();
      expect(rules).toEqual(
        expect.arrayContaining(['confirmed-finding-opens-incident', 'findings-cleared-close-incident']),
      );
      expect(await page.getByText('Rejected alternatives').count()).toBeGreaterThan(0);
      expect(await page.getByRole('link', { name: /Temporal UI/ }).getAttribute('href')).toBe(
        `${TEMPORAL_UI_URL}/namespaces/default/workflows/agent:${MODEL}`,
      );
      await screenshot('incident');

      // Model: charts with markers, decisions, and the operator's pause.
      await page.goto(`${dashboardUrl}/models/${MODEL}`);
      await page.locator('.recharts-line').first().waitFor();
      await page.locator('.recharts-reference-line').first().waitFor({ state: 'attached' });
      await page.getByRole('cell', { name: 'findings-cleared-close-incident' }).first().waitFor();
      await page.getByText(/^Running · cycle/).waitFor();
      await screenshot('model');
      const pauseButton = page.getByRole('button', { name: 'Pause agent' });
      await pauseButton.click(); // no reason yet: the browser keeps the form from being sent
      expect((await call('GET', `/v1/models/${MODEL}/agent`)).body.agent.paused).toBe(false);
      await page.getByLabel('Reason').fill('investigating the income feature pipeline');
      await page.getByLabel('Operator').fill('alice');
      await pauseButton.click();
      await page.getByRole('status').filter({ hasText: 'The agent is paused.' }).waitFor({ timeout: 15_000 });
      await page.locator('[data-testid="model-health"] [data-health="paused"]').waitFor();
      await page.getByRole('button', { name: 'Resume agent' }).waitFor();
      const agent = (await call('GET', `/v1/models/${MODEL}/agent`)).body.agent;
      expect(agent).toMatchObject({ paused: true, health: 'paused' });
      expect(await fleetHealth()).toBe('paused');
      await screenshot('model-paused');

      // Audit trail: the pause with its actor; filters; exports.
      await page.goto(`${dashboardUrl}/actions`);
      const pauseRow = page.locator('tr[data-action-type="pause"]');
      await pauseRow.waitFor();
      expect(await pauseRow.textContent()).toContain('human:alice');
      expect(await pauseRow.textContent()).toContain('investigating the income feature pipeline');
      expect(await page.locator('tr[data-action-type="alert"]').count()).toBe(1);
      await page.getByLabel('Type').selectOption('pause');
      await page.getByRole('button', { name: 'Apply filters' }).click();
      await page.locator('tr[data-action-type="alert"]').waitFor({ state: 'detached' });
      await pauseRow.waitFor();
      expect(await page.locator('tbody tr').count()).toBe(1);
      await screenshot('actions');
      const csvHref = await page.getByRole('link', { name: 'Export CSV' }).getAttribute('href');
      expect(csvHref).toContain('format=csv');
      const csv = await context.request.get(`${dashboardUrl}${csvHref}`);
      expect(csv.headers()['content-disposition']).toMatch(/^attachment; filename=".*\.csv"$/);
      expect(await csv.text()).toContain('human:alice');
      const jsonHref = await page.getByRole('link', { name: 'Export JSON' }).getAttribute('href');
      const json = await (await context.request.get(`${dashboardUrl}${jsonHref}`)).json();
      expect(json.actions).toMatchObject([{ type: 'pause', actor: 'human:alice' }]);

      // The proxy refuses a state-changing request from another site, and forwards only the API.
      const forged = await fetch(`${dashboardUrl}/api/v1/models/${MODEL}/agent/resume`, {
        method: 'POST',
        headers: { origin: 'http://evil.example', 'content-type': 'application/json' },
        body: JSON.stringify({ reason: 'forged', actor: 'mallory' }),
      });
      expect(forged.status).toBe(403);
      expect((await fetch(`${dashboardUrl}/api/healthz`)).status).toBe(404);
      expect((await call('GET', `/v1/models/${MODEL}/agent`)).body.agent.paused).toBe(true);

      // The fleet and a model on a phone.
      const phone = await context.newPage();
      await phone.setViewportSize({ width: 390, height: 844 });
      await phone.goto(`${dashboardUrl}/`);
      await phone.locator(`tr[data-model="${MODEL}"] [data-health="paused"]`).waitFor();
      await screenshot('fleet-phone', phone);
      await phone.goto(`${dashboardUrl}/models/${MODEL}`);
      await phone.locator('.recharts-line').first().waitFor();
      await screenshot('model-phone', phone);
      await phone.close();
    } finally {
      await traffic.stop();
    }
    expect(browserErrors, dashboardOutput.slice(-2000)).toEqual([]);
  });
});
