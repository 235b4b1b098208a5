// The read API over history the agent wrote: the real agent workflow on Temporal's time-skipping server,
// with the real worker and activities, on SQLite and on PostgreSQL, measures window after window of
// labelled traffic, goes through an incident, and is paused and resumed through the API. Then fleet
// health, time series, the incident timeline and the audit trail (JSON and CSV) are read back over HTTP.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { verifyAuditChain } from '../../lib/audit/chain.ts';
import type { AgentState } from '../../lib/brain/types.ts';
import { ensureAgent } from '../../lib/temporal.ts';
import { authHeader, startTestApi, type TestApi } from '../helpers/api.ts';
import { createTestDatabase, describeEachProvider, type TestDatabase } from '../helpers/db.ts';
import {
  agentStatus,
  runWorker,
  startTimeSkippingServer,
  waitForCycle,
  waitForFirstCycle,
} from '../helpers/temporal.ts';
import { registerTestModel, seedLabelledTraffic } from '../helpers/traffic.ts';

const AGENTS = { taskQueue: 'history-test', cycleInterval: '1 minute' };
/**
 * Accuracy of each window, per model: credit is healthy for three windows, drops for three (suspect,
 * confirmed, still bad), then recovers; fraud drops at the end and is left with its incident open.
 */
const PLAN = {
  credit: [0.9, 0.9, 0.9, 0.6, 0.6, 0.6, 0.9, 0.9],
  fraud: [0.95, 0.95, 0.95, 0.95, 0.95, 0.95, 0.5, 0.5],
};
const ROWS_PER_WINDOW = 60;

describeEachProvider('history API on %s', (provider) => {
  let env: TestWorkflowEnvironment;
  let db: TestDatabase;
  let api: TestApi;
  let stopWorker: () => Promise<void>;
  const modelIds: Record<string, string> = {};
  /** Credit's agent state after each of its cycles, as its query answers. */
  const credit: AgentState[] = [];
  let creditIncident: string;

  beforeAll(async () => {
    [env, db] = await Promise.all([startTimeSkippingServer(), createTestDatabase(provider)]);
    stopWorker = await runWorker(env, db.store, AGENTS.taskQueue);
    api = await startTestApi(db.store, env.client, AGENTS);
    for (const name of ['credit', 'fraud', 'idle'])
      modelIds[name] = (await registerTestModel(db.store, name)).id;
  }, 60_000);
  afterAll(async () => {
    await api?.close();
    await stopWorker?.();
    await Promise.all([env?.teardown(), db?.drop()]);
  });

  /**
   * Window `w` of credit's and fraud's traffic, then the cycle of each agent that measures it, a cycle
   * interval on. The agents start before the first window's traffic: their first cycle finds the window
   * open (idle has none: registered, never measured).
   */
  async function window(w: number): Promise<AgentState> {
    if (w === 0) {
      for (const name of ['credit', 'fraud']) await ensureAgent(env.client, name, AGENTS);
      await Promise.all(['credit', 'fraud'].map((name) => waitForFirstCycle(agentStatus(env, name))));
    }
    for (const name of ['credit', 'fraud'] as const) {
      await seedLabelledTraffic(db.store, modelIds[name]!, `${name}-${w}`, ROWS_PER_WINDOW, PLAN[name][w]!);
    }
    await env.sleep(AGENTS.cycleInterval);
    const [state] = await Promise.all(
      ['credit', 'fraud'].map((name) => waitForCycle(agentStatus(env, name), w + 1)),
    );
    credit.push(state!);
    return state!;
  }

  const fleetEntry = async (name: string) => {
    const res = await api.call('GET', `/v1/fleet/${name}`);
    expect(res.status).toBe(200);
    return res.body.model;
  };

  it('derives each model’s health from the store as the agent goes through an incident', {
    timeout: 180_000,
  }, async () => {
    for (let w = 0; w < 3; w++) await window(w);
    expect(await fleetEntry('credit')).toMatchObject({
      health: 'healthy',
      activity: 'watching',
      paused: false,
      openIncident: null,
      lastWindow: { seq: 2, count: 60, labelled: 60, accuracy: 0.9 },
      lastDecision: { cycle: 2, action: 'none', rule: 'healthy' },
      baseline: { accuracy: 0.9, windows: 3, ready: true, pendingWindows: 0 },
      lastAction: null,
    });

    await window(3); // suspect
    expect((await fleetEntry('credit')).health).toBe('healthy');
    const opened = await window(4); // confirmed: incident opens, operator alerted
    creditIncident = opened.openIncident!.id;
    const degraded = await fleetEntry('credit');
    expect(degraded).toMatchObject({
      health: 'degraded',
      activity: 'deciding',
      openIncident: {
        id: creditIncident,
        kind: 'concept_drift',
        status: 'open',
        phase: 'open',
        model: 'credit',
      },
      lastDecision: { cycle: 4, action: 'alert', rule: 'no-applicable-rung-alert' },
      lastFindings: [{ kind: 'concept_drift', state: 'confirmed', windowSeq: 4 }],
      lastAction: { type: 'alert', actor: 'agent', incidentId: creditIncident },
      baseline: { accuracy: 0.9, windows: 3 },
    });
    expect(degraded.healthReason).toContain('concept_drift');
    // The agent's own query says the same, by the same rule (lib/brain/status.ts).
    expect(opened.health).toBe('degraded');
    expect(degraded.lastFindings[0].evidence).toMatchObject({ accuracy: 0.6, baselineAccuracy: 0.9 });

    await window(5);
    const easing = await window(6); // metric is back: recovering
    expect(easing.health).toBe('recovering');
    expect((await fleetEntry('credit')).health).toBe('recovering');
    const last = await window(7); // cleared: incident closes
    const recovered = await fleetEntry('credit');
    expect(recovered).toMatchObject({ health: 'healthy', openIncident: null });
    // Healthy windows 0-2 and 7 make the baseline; the agent's own state gives the detector's number.
    expect(recovered.baseline).toEqual({
      accuracy: last.detector.baselineCorrect / last.detector.baselineLabelled,
      windows: last.detector.baselineWindows,
      ready: true,
      pendingWindows: last.detector.pendingBaseline?.length ?? 0,
    });
    expect(recovered.baseline.windows).toBe(4);

    const control = (type: 'pause' | 'resume', actor: string, reason: string) =>
      api.call('POST', `/v1/models/credit/agent/${type}`, { actor, reason });
    expect((await control('pause', 'alice', 'investigating the upstream feature pipeline')).status).toBe(200);
    expect(await fleetEntry('credit')).toMatchObject({
      health: 'paused',
      healthReason: 'paused by human:alice (key test-admin): investigating the upstream feature pipeline',
      activity: 'paused',
      paused: true,
      lastAction: { type: 'pause', actor: 'human:alice (key test-admin)' },
    });
    // Resumed, the agent measures window 8 at its next cycle (no cycle passed while it was paused).
    await seedLabelledTraffic(db.store, modelIds.credit!, 'credit-8', ROWS_PER_WINDOW, 0.9);
    expect((await control('resume', 'bob', 'pipeline fixed')).status).toBe(200);
    await env.sleep(AGENTS.cycleInterval);
    credit.push(await waitForCycle(agentStatus(env, 'credit'), 9));
    expect(await fleetEntry('credit')).toMatchObject({
      health: 'healthy',
      paused: false,
      lastWindow: { seq: 8, accuracy: 0.9 },
      lastAction: { type: 'resume', actor: 'human:bob (key test-admin)' },
    });

    const fleet = await api.call('GET', '/v1/fleet');
    expect(fleet.status).toBe(200);
    expect(
      fleet.body.models.map((m: { model: { name: string }; health: string }) => [m.model.name, m.health]),
    ).toEqual([
      ['credit', 'healthy'],
      ['fraud', 'degraded'],
      ['idle', 'starting'],
    ]);
    expect(fleet.body.models[2]).toMatchObject({
      lastWindow: null,
      baseline: { accuracy: null, ready: false },
    });

    // Every audit row written (the agent's alerts, the pause and resume, and any revision or policy
    // version) is sealed in its model's chain, once.
    const audit = await verifyAuditChain(db.store);
    expect(audit.ok).toBe(true);
    const where = { model: { name: 'credit' } };
    const [actions, revisions, policies] = await Promise.all([
      db.store.action.count({ where }),
      db.store.deploymentRevision.count({ where }),
      db.store.policyVersion.count({ where }),
    ]);
    expect(actions).toBeGreaterThanOrEqual(3);
    expect(audit.models.find((m) => m.modelName === 'credit')?.entries).toBe(actions + revisions + policies);
  });

  it('serves the time series of windows, oldest first', async () => {
    const all = await api.call('GET', '/v1/models/credit/windows');
    expect(all.status).toBe(200);
    expect(all.body.windows.map((w: { seq: number }) => w.seq)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(all.body.windows.map((w: { accuracy: number }) => w.accuracy)).toEqual([...PLAN.credit, 0.9]);
    expect(all.body.windows[3]).toMatchObject({ count: 60, labelled: 60, metrics: { correct: 36 } });
    expect(all.body.baseline).toMatchObject({
      windows: credit.at(-1)!.detector.baselineWindows,
      ready: true,
    });
    const last = await api.call('GET', '/v1/models/credit/windows?limit=3');
    expect(last.body.windows.map((w: { seq: number }) => w.seq)).toEqual([6, 7, 8]);
  });

  it('lists decisions newest first with their rule, reason and rejected alternatives', async () => {
    const res = await api.call('GET', '/v1/models/credit/decisions?limit=3');
    expect(res.status).toBe(200);
    expect(res.body.decisions.map((d: { cycle: number }) => d.cycle)).toEqual([8, 7, 6]);
    const older = await api.call('GET', '/v1/models/credit/decisions?before=5&limit=100');
    expect(older.body.decisions.map((d: { rule: string }) => d.rule).reverse()).toEqual(
      credit.slice(0, 5).map((state) => state.lastDecision?.rule),
    );
    expect(older.body.decisions.find((d: { cycle: number }) => d.cycle === 4)).toMatchObject({
      action: 'alert',
      rule: 'no-applicable-rung-alert',
      // What the agent read of a model with nothing deployed rules out every remedy, each for its reason.
      alternatives: [
        { action: 'retrain', rejectedBecause: 'no production version to retrain from' },
        { action: 'rollback', rejectedBecause: 'no earlier known-good revision to roll back to' },
        { action: 'fallback', rejectedBecause: 'no fallback version is registered' },
      ],
      incidentId: creditIncident,
      workflowId: 'agent:credit',
      evidence: { window: { seq: 4, accuracy: 0.6 } },
    });
  });

  // Found by the fuzzer: a cycle past 32 bits reached PostgreSQL's integer column (a 500).
  it('refuses a before= cycle that no stored cycle can reach', async () => {
    const res = await api.call('GET', `/v1/models/credit/decisions?before=${2 ** 31}`);
    expect(res.status).toBe(400);
    expect(res.body.error.issues.map((i: { path: string }) => i.path)).toEqual(['query.before']);
    expect((await api.call('GET', `/v1/models/credit/decisions?before=${2 ** 31 - 1}`)).status).toBe(200);
  });

  it('lists a model’s incidents and tells one incident as a timeline of the loop', async () => {
    const list = await api.call('GET', '/v1/models/credit/incidents');
    expect(list.status).toBe(200);
    expect(list.body.incidents).toMatchObject([
      { id: creditIncident, status: 'recovered', kind: 'concept_drift', decisions: 4, actions: 1 },
    ]);
    expect((await api.call('GET', '/v1/models/credit/incidents?status=open')).body.incidents).toEqual([]);

    const res = await api.call('GET', `/v1/incidents/${creditIncident}`);
    expect(res.status).toBe(200);
    const { incident, decisions, findings, actions, timeline } = res.body;
    expect(incident).toMatchObject({ model: 'credit', status: 'recovered', closedAt: expect.any(String) });
    expect(decisions.map((d: { cycle: number }) => d.cycle)).toEqual([4, 5, 6, 7]);
    // The suspect window before the incident opened is part of its detection.
    expect(findings.map((f: { windowSeq: number; state: string }) => [f.windowSeq, f.state])).toEqual([
      [3, 'suspect'],
      [4, 'confirmed'],
      [5, 'confirmed'],
      [6, 'recovering'],
    ]);
    expect(actions).toMatchObject([{ type: 'alert', actor: 'agent' }]);
    const steps = timeline.map(
      (e: { stage: string; source: string; cycle: number | null }) => `${e.cycle}:${e.source}:${e.stage}`,
    );
    expect(steps).toEqual([
      '3:finding:detected',
      '4:finding:detected',
      '4:decision:decided',
      '4:action:acted', // the action carries its decision's cycle
      '5:finding:detected',
      '5:decision:decided',
      '6:finding:verified',
      '6:decision:decided',
      '7:decision:recovered',
    ]);
    expect(timeline.at(-1).decision.rule).toBe('findings-cleared-close-incident');
    expect(timeline[0].finding.evidence).toMatchObject({ accuracy: 0.6, baselineAccuracy: 0.9 });
  });

  it('filters the audit trail and exports it as JSON and CSV', async () => {
    const modelId = (await db.store.model.findUniqueOrThrow({ where: { name: 'fraud' } })).id;
    await db.store.action.create({
      data: {
        idempotencyKey: `manual-${provider}`,
        modelId,
        type: 'pause',
        actor: 'human:eve',
        status: 'succeeded',
        reason: '=HYPERLINK("x"), with "quotes",\nand a new line',
        detail: { cycle: 5 },
        createdAt: new Date('2030-01-01T00:00:00Z'),
      },
    });

    const all = await api.call('GET', '/v1/actions');
    expect(all.status).toBe(200);
    expect(all.body.truncated).toBe(false);
    // Newest first: the manual row, credit's resume and pause, fraud's alert (its last window), credit's.
    expect(all.body.actions.map((a: { type: string; model: string }) => `${a.type} ${a.model}`)).toEqual([
      'pause fraud',
      'resume credit',
      'pause credit',
      'alert fraud',
      'alert credit',
    ]);
    const humans = await api.call('GET', '/v1/actions?actor=human:*&model=credit');
    expect(humans.body.actions.map((a: { actor: string }) => a.actor)).toEqual([
      'human:bob (key test-admin)',
      'human:alice (key test-admin)',
    ]);
    const alerts = await api.call('GET', '/v1/actions?type=alert&actor=agent');
    expect(alerts.body.actions.map((a: { model: string }) => a.model)).toEqual(['fraud', 'credit']);
    const future = await api.call('GET', '/v1/actions?from=2029-12-31&to=2030-01-01T00:00:00Z');
    expect(future.body.actions).toMatchObject([{ actor: 'human:eve', model: 'fraud' }]);
    const limited = await api.call('GET', '/v1/actions?limit=2');
    expect(limited.body).toMatchObject({ truncated: true, limit: 2 });
    expect(limited.body.actions).toHaveLength(2);

    const csv = await fetch(`${api.url}/v1/actions?format=csv&model=fraud`, {
      headers: await authHeader(db.store, 'viewer'),
    });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(csv.headers.get('content-disposition')).toMatch(
      /^attachment; filename="homeostat-actions-.*\.csv"$/,
    );
    const text = await csv.text();
    const [header, ...rows] = text.split('\r\n');
    expect(header).toBe(
      'createdAt,completedAt,model,type,actor,status,reason,incidentId,decisionId,workflowId,runId,' +
        'beforeRevisionId,afterRevisionId,detail,id',
    );
    expect(rows.at(-1)).toBe(''); // every record ends with CRLF
    // The formula is defused, quotes doubled, and the field quoted because of its comma and new line.
    expect(text).toContain(
      '2030-01-01T00:00:00.000Z,,fraud,pause,human:eve,succeeded,"\'=HYPERLINK(""x""), with ""quotes"",\n' +
        'and a new line",,,,,,,"{""cycle"":5}",',
    );
    // A field with a comma is quoted whole.
    expect(text).toContain(',fraud,alert,agent,succeeded,"concept_drift confirmed: accuracy 0.500 is 0.450');
  });

  it.each([
    ['/v1/models/credit/windows?limit=0', 'query.limit'],
    ['/v1/models/credit/windows?limit=ten', 'query.limit'],
    ['/v1/models/credit/windows?limit=2001', 'query.limit'],
    ['/v1/models/credit/windows?limit=1&limit=2', 'query.limit'],
    ['/v1/models/credit/windows?limt=5', 'query'],
    ['/v1/models/credit/decisions?before=-1', 'query.before'],
    ['/v1/models/credit/incidents?status=closed', 'query.status'],
    ['/v1/actions?format=xml', 'query.format'],
    ['/v1/actions?from=yesterday', 'query.from'],
    ['/v1/actions?from=2030-01-02&to=2030-01-01', 'query.to'],
    ['/v1/actions?type=DROP%20TABLE', 'query.type'],
    ['/v1/actions?limit=10001', 'query.limit'],
    ['/v1/incidents/not%20an%20id', 'params.id'],
  ])('answers 400 for GET %s, naming %s', async (path, issuePath) => {
    const res = await api.call('GET', path);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_request');
    expect(res.body.error.issues.map((i: { path: string }) => i.path)).toContain(issuePath);
  });

  it.each([
    ['/v1/fleet/ghost', 'model_not_found'],
    ['/v1/models/ghost/windows', 'model_not_found'],
    ['/v1/models/ghost/decisions', 'model_not_found'],
    ['/v1/models/ghost/incidents', 'model_not_found'],
    ['/v1/actions?model=ghost', 'model_not_found'],
    ['/v1/incidents/no-such-incident', 'incident_not_found'],
  ])('answers 404 for GET %s', async (path, code) => {
    const res = await api.call('GET', path);
    expect(res).toMatchObject({ status: 404, body: { error: { status: 404, code } } });
  });
});
