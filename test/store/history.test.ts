// The read API over history written exactly as the agent writes it: each cycle runs the real monitor and
// audit activities around the pure detector and decision engine, on SQLite and on PostgreSQL. Then fleet
// health, time series, the incident timeline and the audit trail (JSON and CSV) are read back over HTTP.
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createActivities } from '../../activities/index.ts';
import type { MonitorRequest } from '../../activities/monitor.ts';
import { DEFAULT_POLICY } from '../../lib/policy/policy.ts';
import { decide } from '../../workflows/decide.ts';
import { detect, initialDetectorState } from '../../workflows/detect.ts';
import type { DetectorState, OpenIncident, WindowSummary } from '../../workflows/types.ts';
import { authHeader, startTestApi, type TestApi } from '../helpers/api.ts';
import { createTestDatabase, describeEachProvider, type TestDatabase } from '../helpers/db.ts';
import { registerTestModel, seedLabelledTraffic } from '../helpers/traffic.ts';

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One model's agent loop, cycle by cycle, without Temporal: the same activities and pure functions. */
function agentLoop(db: TestDatabase, modelName: string, modelId: string) {
  const activities = createActivities(db.store);
  const env = new MockActivityEnvironment({
    workflowExecution: { workflowId: `agent:${modelName}`, runId: `run-${modelName}` },
  });
  let detector: DetectorState = initialDetectorState();
  let openIncident: OpenIncident | null = null;
  let cycle = 0;
  return {
    get detector() {
      return detector;
    },
    /** Feeds `count` labelled predictions with the given accuracy, then runs one monitoring cycle. */
    async cycle(accuracy: number, count = 60) {
      await seedLabelledTraffic(db.store, modelId, `${modelName}-${cycle}`, count, accuracy);
      await pause(3); // the next window starts strictly after this one's last prediction
      const window = await env.run<[MonitorRequest], WindowSummary, typeof activities.monitorWindow>(
        activities.monitorWindow,
        { modelName, seq: cycle },
      );
      const detected = detect(window, detector);
      const decision = decide({
        findings: detected.findings,
        policy: DEFAULT_POLICY,
        now: Date.now(),
        cycle,
        openIncident,
        deployment: null,
        remedies: [],
        remedyInProgress: false,
      });
      const newIncidentId =
        decision.incident && 'open' in decision.incident ? `${modelName}-inc-${cycle}` : null;
      await env.run(activities.recordCycle, {
        modelName,
        cycle,
        idempotencyKey: `agent:${modelName}:cycle:${cycle}`,
        window,
        findings: detected.findings,
        decision,
        openIncidentId: openIncident?.id ?? null,
        newIncidentId,
      });
      detector = detected.state;
      if (decision.incident && 'open' in decision.incident && newIncidentId) {
        openIncident = { id: newIncidentId, kind: decision.incident.open.kind, openedAtCycle: cycle };
      } else if (decision.incident && 'close' in decision.incident) {
        openIncident = null;
      }
      cycle += 1;
      await pause(3);
      return decision;
    },
    operator(type: 'pause' | 'resume', actor: string, reason: string) {
      return env.run(activities.recordOperatorAction, {
        modelName,
        type,
        request: { actor, reason },
        cycle,
        key: `${modelName}-${type}-${cycle}-${Date.now()}`,
      });
    },
  };
}

describeEachProvider('history API on %s', (provider) => {
  let db: TestDatabase;
  let api: TestApi;
  let credit: ReturnType<typeof agentLoop>;
  let fraud: ReturnType<typeof agentLoop>;
  const rules: string[] = [];

  beforeAll(async () => {
    db = await createTestDatabase(provider);
    api = await startTestApi(db.store);
    const [c, f] = await Promise.all([
      registerTestModel(db.store, 'credit'),
      registerTestModel(db.store, 'fraud'),
      registerTestModel(db.store, 'idle'),
    ]);
    credit = agentLoop(db, 'credit', c.id);
    fraud = agentLoop(db, 'fraud', f.id);
  });
  afterAll(async () => {
    await api?.close();
    await db?.drop();
  });

  const fleetEntry = async (name: string) => {
    const res = await api.call('GET', `/v1/fleet/${name}`);
    expect(res.status).toBe(200);
    return res.body.model;
  };

  it('derives each model’s health from the store as the agent goes through an incident', async () => {
    for (let i = 0; i < 3; i++) rules.push((await credit.cycle(0.9)).rule);
    expect(await fleetEntry('credit')).toMatchObject({
      health: 'healthy',
      paused: false,
      openIncident: null,
      lastWindow: { seq: 2, count: 60, labelled: 60, accuracy: 0.9 },
      lastDecision: { cycle: 2, action: 'none', rule: 'healthy' },
      baseline: { accuracy: 0.9, windows: 3, ready: true },
      lastAction: null,
    });

    rules.push((await credit.cycle(0.6)).rule); // suspect
    expect((await fleetEntry('credit')).health).toBe('healthy');
    rules.push((await credit.cycle(0.6)).rule); // confirmed: incident opens, operator alerted
    const degraded = await fleetEntry('credit');
    expect(degraded).toMatchObject({
      health: 'degraded',
      openIncident: { id: 'credit-inc-4', kind: 'concept_drift', status: 'open', model: 'credit' },
      lastDecision: { cycle: 4, action: 'alert', rule: 'no-applicable-rung-alert' },
      lastFindings: [{ kind: 'concept_drift', state: 'confirmed', windowSeq: 4 }],
      lastAction: { type: 'alert', actor: 'agent', incidentId: 'credit-inc-4' },
      baseline: { accuracy: 0.9, windows: 3 },
    });
    expect(degraded.healthReason).toContain('concept_drift');
    expect(degraded.lastFindings[0].evidence).toMatchObject({ accuracy: 0.6, baselineAccuracy: 0.9 });

    rules.push((await credit.cycle(0.6)).rule);
    rules.push((await credit.cycle(0.9)).rule); // metric is back: recovering
    expect((await fleetEntry('credit')).health).toBe('recovering');
    rules.push((await credit.cycle(0.9)).rule); // cleared: incident closes
    const recovered = await fleetEntry('credit');
    expect(recovered).toMatchObject({ health: 'healthy', openIncident: null });
    // Healthy windows 0-2 and 7 make the baseline; the replay gives the detector's own number.
    expect(recovered.baseline).toEqual({
      accuracy: credit.detector.baselineCorrect / credit.detector.baselineLabelled,
      windows: credit.detector.baselineWindows,
      ready: true,
    });
    expect(recovered.baseline.windows).toBe(4);

    await credit.operator('pause', 'alice', 'investigating the upstream feature pipeline');
    expect(await fleetEntry('credit')).toMatchObject({
      health: 'paused',
      paused: true,
      lastAction: { type: 'pause', actor: 'human:alice' },
    });
    await pause(5);
    await credit.operator('resume', 'bob', 'pipeline fixed');
    expect(await fleetEntry('credit')).toMatchObject({ health: 'healthy', paused: false });

    for (let i = 0; i < 3; i++) await fraud.cycle(0.95);
    await fraud.cycle(0.5);
    await fraud.cycle(0.5);
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
  });

  it('serves the time series of windows, oldest first', async () => {
    const all = await api.call('GET', '/v1/models/credit/windows');
    expect(all.status).toBe(200);
    expect(all.body.windows.map((w: { seq: number }) => w.seq)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(all.body.windows.map((w: { accuracy: number }) => w.accuracy)).toEqual([
      0.9, 0.9, 0.9, 0.6, 0.6, 0.6, 0.9, 0.9,
    ]);
    expect(all.body.windows[3]).toMatchObject({ count: 60, labelled: 60, metrics: { correct: 36 } });
    expect(all.body.baseline).toMatchObject({ windows: 4, ready: true });
    const last = await api.call('GET', '/v1/models/credit/windows?limit=3');
    expect(last.body.windows.map((w: { seq: number }) => w.seq)).toEqual([5, 6, 7]);
  });

  it('lists decisions newest first with their rule, reason and rejected alternatives', async () => {
    const res = await api.call('GET', '/v1/models/credit/decisions?limit=3');
    expect(res.status).toBe(200);
    expect(res.body.decisions.map((d: { cycle: number }) => d.cycle)).toEqual([7, 6, 5]);
    const older = await api.call('GET', '/v1/models/credit/decisions?before=5&limit=100');
    expect(older.body.decisions.map((d: { rule: string }) => d.rule).reverse()).toEqual(rules.slice(0, 5));
    expect(older.body.decisions.find((d: { cycle: number }) => d.cycle === 4)).toMatchObject({
      action: 'alert',
      rule: 'no-applicable-rung-alert',
      alternatives: expect.arrayContaining([
        { action: 'retrain', rejectedBecause: 'the deployment could not be read' },
      ]),
      incidentId: 'credit-inc-4',
      workflowId: 'agent:credit',
      evidence: { window: { seq: 4, accuracy: 0.6 } },
    });
  });

  it('lists a model’s incidents and tells one incident as a timeline of the loop', async () => {
    const list = await api.call('GET', '/v1/models/credit/incidents');
    expect(list.status).toBe(200);
    expect(list.body.incidents).toMatchObject([
      { id: 'credit-inc-4', status: 'recovered', kind: 'concept_drift', decisions: 4, actions: 1 },
    ]);
    expect((await api.call('GET', '/v1/models/credit/incidents?status=open')).body.incidents).toEqual([]);

    const res = await api.call('GET', '/v1/incidents/credit-inc-4');
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
    expect(all.body.actions.map((a: { type: string }) => a.type)).toEqual([
      'pause',
      'alert',
      'resume',
      'pause',
      'alert',
    ]);
    const humans = await api.call('GET', '/v1/actions?actor=human:*&model=credit');
    expect(humans.body.actions.map((a: { actor: string }) => a.actor)).toEqual(['human:bob', 'human:alice']);
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
