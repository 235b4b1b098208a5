// The agent loop on the time-skipping test server, with the real activities and a real SQLite store:
// a healthy baseline, a persistent accuracy drop that opens an incident, recovery that closes it, and
// several continueAsNew hand-overs along the way. The run's history must replay.

import fs from 'node:fs';
import path from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentInput, AgentState } from '../../lib/brain/types.ts';
import { SEARCH_ATTRIBUTES } from '../../lib/search-attributes.ts';
import { agentWorkflowId } from '../../lib/temporal.ts';
import { createHomeostatWorker } from '../../worker/worker.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import {
  agentStatus,
  startTimeSkippingServer,
  waitForCycle,
  waitForFirstCycle,
  workflowBundle,
} from '../helpers/temporal.ts';
import { registerTestModel, seedLabelledTraffic } from '../helpers/traffic.ts';

const HISTORY_DIR = path.join(import.meta.dirname, '..', 'histories');

let env: TestWorkflowEnvironment;
let db: TestDatabase;

beforeAll(async () => {
  [env, db] = await Promise.all([startTimeSkippingServer(), createTestDatabase('sqlite')]);
});
afterAll(async () => {
  await Promise.all([env?.teardown(), db?.drop()]);
});

/** Each attempt has its own model, agent and task queue, so that a retry starts clean. */
let attempt = 0;

describe('agent workflow', () => {
  // The time-skipping server has, rarely and only with another test file running beside it, held its
  // clock back for good while a query raced a continueAsNew hand-over (the attempt then waits out its
  // timeout); a behaviour change fails every attempt.
  it('builds a baseline, confirms a persistent drop, opens and closes one incident across continueAsNew', {
    timeout: 60_000,
    retry: 2,
  }, async () => {
    attempt++;
    const name = attempt === 1 ? 'credit' : `credit-${attempt}`;
    const model = await registerTestModel(db.store, name);
    const taskQueue = `agent-test-${attempt}`;
    const worker = await createHomeostatWorker({
      connection: env.nativeConnection,
      taskQueue,
      store: db.store,
      workflowBundle: await workflowBundle(),
    });
    const input: AgentInput = { modelName: name, cycleInterval: '1 minute', maxCyclesPerRun: 3 };
    // Window n's traffic, then the timer to cycle n: accuracy 0.9 for four windows, 0.5 for two, 0.9 again.
    const plan = [0.9, 0.9, 0.9, 0.9, 0.5, 0.5, 0.9, 0.9];
    const states: AgentState[] = [];
    /** What the Temporal UI filters by after each cycle: the agent's search attributes, as the server holds them. */
    const indexed: { health?: string; incidentKind: string | null; remedy: string | null }[] = [];

    await worker.runUntil(async () => {
      await env.client.workflow.start('agentWorkflow', {
        workflowId: agentWorkflowId(name),
        taskQueue,
        args: [input],
      });
      const query = agentStatus(env, name);
      // The first cycle ran at start and found its window open: no traffic has arrived.
      expect((await waitForFirstCycle(query)).openWindow).toMatchObject({ seq: 0, count: 0 });
      for (const [n, accuracy] of plan.entries()) {
        await seedLabelledTraffic(db.store, model.id, `w${n}`, 100, accuracy);
        await env.sleep('1 minute');
        states.push(await waitForCycle(query, n + 1));
        const { typedSearchAttributes } = await env.client.workflow
          .getHandle(agentWorkflowId(name))
          .describe();
        indexed.push({
          health: typedSearchAttributes.get(SEARCH_ATTRIBUTES.health),
          incidentKind: typedSearchAttributes.get(SEARCH_ATTRIBUTES.incidentKind) ?? null,
          remedy: typedSearchAttributes.get(SEARCH_ATTRIBUTES.remedy) ?? null,
        });
      }
    });

    const decisions = states.map((s) => s.lastDecision?.rule);
    expect(decisions).toEqual([
      'healthy',
      'healthy',
      'healthy',
      'healthy',
      'not-yet-persistent-keep-watching',
      // The test model has no deployment: no remedy applies, so the incident is alert-only.
      'no-applicable-rung-alert',
      'incident-recovering-keep-watching', // one good window is not yet a recovery
      'findings-cleared-close-incident',
    ]);
    expect(states.map((s) => s.health)).toEqual([
      'healthy',
      'healthy',
      'healthy',
      'healthy',
      'healthy', // a suspicion alone does not degrade the model
      'degraded',
      'recovering',
      'healthy',
    ]);
    // The server's index follows the state, across continueAsNew; no remedy applied here, so none is in flight.
    expect(indexed).toEqual(
      states.map((s) => ({ health: s.health, incidentKind: s.openIncident?.kind ?? null, remedy: null })),
    );
    expect(indexed.map((i) => i.incidentKind)).toContain('concept_drift');
    const last = states.at(-1)!;
    expect(last.health).toBe('healthy');
    expect(last.openIncident).toBeNull();
    expect(last.runs).toBeGreaterThanOrEqual(2); // 9 cycles (the first found its window open) at 3 per run
    // Four healthy windows and the one after recovery; bad and recovering windows never join the baseline.
    expect(last.detector.baselineWindows).toBe(5);

    const rows = await db.store.decision.findMany({
      where: { modelId: model.id },
      orderBy: { cycle: 'asc' },
    });
    expect(rows.map((r) => r.cycle)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(new Set(rows.map((r) => r.runId)).size).toBeGreaterThanOrEqual(3);
    const incidents = await db.store.incident.findMany({ where: { modelId: model.id } });
    expect(incidents).toHaveLength(1);
    expect(incidents[0]).toMatchObject({ kind: 'concept_drift', status: 'recovered' });
    const actions = await db.store.action.findMany({ where: { modelId: model.id } });
    expect(actions.map((a) => [a.type, a.actor, a.incidentId])).toEqual([
      ['alert', 'agent', incidents[0]!.id],
    ]);

    // The latest run (started by continueAsNew, with carried state) must replay against the current code.
    const handle = env.client.workflow.getHandle(agentWorkflowId(name));
    const history = await handle.fetchHistory();
    await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, handle.workflowId);
    if (process.env.HOMEOSTAT_WRITE_HISTORIES === '1') {
      fs.writeFileSync(path.join(HISTORY_DIR, 'agent-incident-recovered.json'), historyToJSON(history));
    }
    // A running agent whose worker is gone holds the server's time skipping back for the tests after it.
    await handle.terminate('test over');
  });

  it('catches up after a gap: a backlog of 30 minutes is measured as 30 windows, ten a cycle', {
    timeout: 300_000,
  }, async () => {
    const name = 'credit-away';
    const model = await registerTestModel(db.store, name);
    // The agent was away for 30 minutes (a worker outage): 100 rows arrived in each of them.
    const awayMs = Date.now() - 30 * 60_000;
    await db.store.model.update({ where: { id: model.id }, data: { createdAt: new Date(awayMs) } });
    for (let m = 0; m < 30; m++) {
      await seedLabelledTraffic(
        db.store,
        model.id,
        `m${m}`,
        100,
        0.9,
        new Date(awayMs + m * 60_000 + 30_000),
      );
    }
    const taskQueue = 'agent-test-away';
    const worker = await createHomeostatWorker({
      connection: env.nativeConnection,
      taskQueue,
      store: db.store,
      workflowBundle: await workflowBundle(),
    });
    const windowsAfter: number[] = [];
    await worker.runUntil(async () => {
      const input: AgentInput = { modelName: name, cycleInterval: '1 minute' };
      await env.client.workflow.start('agentWorkflow', {
        workflowId: agentWorkflowId(name),
        taskQueue,
        args: [input],
      });
      const query = agentStatus(env, name);
      // Each cycle's windows, once it is done: the next cycle is a simulated minute away, which passes only
      // when the test skips it, so a count read two seconds after the cycle began is its whole work.
      const cycleDone = async (atLeast: number) => {
        // Ten windows of work a cycle: slow on a loaded machine.
        await waitForCycle(query, atLeast, 120_000);
        await new Promise((r) => setTimeout(r, 2_000));
        windowsAfter.push((await query()).cycle);
      };
      await cycleDone(10);
      await env.sleep('1 minute');
      await cycleDone(20);
      await env.sleep('1 minute');
      await cycleDone(30);
    });
    await env.client.workflow.getHandle(agentWorkflowId(name)).terminate('test over');
    const windows = await db.store.metricWindow.findMany({
      where: { modelId: model.id },
      orderBy: { seq: 'asc' },
    });
    // Ten windows a cycle while behind. The third cycle's now is a few seconds past the 30 minutes: it
    // measures the last full minutes, then the rest (behind by two cycles or less is no gap) in one window.
    expect(windowsAfter).toEqual([10, 20, 30]);
    expect(windows.slice(0, -1).map((w) => w.endAt.getTime() - w.startAt.getTime())).toEqual(
      Array(29).fill(60_000),
    );
    expect(windows.map((w) => w.count)).toEqual(Array(30).fill(100));
    const behind = windows.map((w) => (w.metrics as { summary: { behind?: boolean } }).summary.behind);
    expect(behind).toEqual([...Array(29).fill(true), undefined]);
    const decisions = await db.store.decision.count({ where: { modelId: model.id } });
    expect(decisions).toBe(30); // every window judged
  });
});
