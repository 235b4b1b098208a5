// The Temporal UI as an engineer uses it to find agents: a dev server with its UI, three agents on a real
// worker, one paused by an operator; the UI's workflow list, filtered by the agents' search attributes
// (lib/search-attributes.ts), shows the paused one alone, then the others alone. Debian's Chromium, driven
// by playwright-core, loads the UI the Temporal CLI serves.
import fs from 'node:fs';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../lib/db/config.ts';
import { SEARCH_ATTRIBUTES } from '../../lib/search-attributes.ts';
import { agentWorkflowId } from '../../lib/temporal.ts';
import { pauseUpdate } from '../../workflows/messages.ts';
import { launchChromium } from '../helpers/browser.ts';
import { eventually } from '../helpers/credit-model.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { freePort, listWorkflowIds, runWorker, startDevServer } from '../helpers/temporal.ts';
import { registerTestModel } from '../helpers/traffic.ts';

const TASK_QUEUE = 'temporal-ui-test';
const MODELS = ['alpha', 'beta', 'gamma'];
const PAUSED = 'beta';
const HEALTH = SEARCH_ATTRIBUTES.health.name;
const SCREENSHOTS = path.join(REPO_ROOT, 'test-output', 'screenshots');

let env: TestWorkflowEnvironment;
let db: TestDatabase;
let uiUrl: string;
let browser: Browser;
let page: Page;
let stopWorker: () => Promise<void>;

beforeAll(async () => {
  const uiPort = await freePort();
  uiUrl = `http://127.0.0.1:${uiPort}`;
  [env, db, browser] = await Promise.all([
    startDevServer([], { uiPort }),
    createTestDatabase('sqlite'),
    launchChromium(),
  ]);
  page = await browser.newPage();
  stopWorker = await runWorker(env, db.store, TASK_QUEUE);
  for (const name of MODELS) {
    await registerTestModel(db.store, name);
    await env.client.workflow.start('agentWorkflow', {
      workflowId: agentWorkflowId(name),
      taskQueue: TASK_QUEUE,
      args: [{ modelName: name, cycleInterval: '1 second' }],
    });
  }
  await env.client.workflow
    .getHandle(agentWorkflowId(PAUSED))
    .executeUpdate(pauseUpdate, { args: [{ reason: 'maintenance', actor: 'alice' }] });
  // Visibility trails the workflows by a moment: wait until the server's own list agrees.
  await eventually(async () => {
    const paused = await listWorkflowIds(env, `${HEALTH} = "paused"`);
    return paused.length === 1 ? paused : null;
  }, 15_000);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await stopWorker?.();
  await env?.teardown();
  await db?.drop();
});

/** The workflow ids the UI lists for a visibility query typed into its filter (by URL, as a link shares it). */
async function listedInUi(query: string): Promise<string[]> {
  await page.goto(`${uiUrl}/namespaces/default/workflows?query=${encodeURIComponent(query)}`);
  const links = page.locator('a[href*="/workflows/agent%3A"], a[href*="/workflows/agent:"]');
  await links.first().waitFor({ timeout: 20_000 });
  const texts = await links.allInnerTexts();
  return [...new Set(texts.map((t) => t.trim()).filter((t) => t.startsWith('agent:')))].sort();
}

describe('the Temporal UI', () => {
  it('filters agents by health through their search attributes', async () => {
    expect(await listedInUi(`${HEALTH} = "paused"`)).toEqual([agentWorkflowId(PAUSED)]);
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SCREENSHOTS, 'temporal-ui-paused-agents.png') });
    expect(await listedInUi(`${HEALTH} != "paused"`)).toEqual(
      MODELS.filter((m) => m !== PAUSED).map(agentWorkflowId),
    );
    expect(await listedInUi(`${SEARCH_ATTRIBUTES.model.name} = "gamma"`)).toEqual([agentWorkflowId('gamma')]);
  }, 90_000);
});
