// The failure scenarios end to end: each simulator scenario's traffic goes through the real gateway and
// label endpoint of the in-process API, the real agent runs on a time-skipping Temporal server with the
// real worker and activities and a real SQLite store, and the test checks what the agent did about it —
// the response the scenario expects, the incident's outcome, the audit trail — and that the agent's
// history replays. Each scenario runs in an environment of its own (runIsolated says why).
import fs from 'node:fs';
import path from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { findScenario } from '../../lib/sim/scenarios.ts';
import { allowLoopbackEgress } from '../helpers/egress.ts';
import { describeRun, runIsolated, type ScenarioRunResult } from '../helpers/scenario-run.ts';
import { workflowBundle } from '../helpers/temporal.ts';

const HISTORY_DIR = path.join(import.meta.dirname, '..', 'histories');
const SEED = 1;
const REMEDIES = ['rollback', 'retrain', 'fallback', 'disable'];

// The harness's model servers and webhook receiver listen on 127.0.0.1.
allowLoopbackEgress();

async function run(id: string): Promise<ScenarioRunResult> {
  const scenario = findScenario(id);
  if (!scenario) throw new Error(`no scenario ${id}`);
  return runIsolated(scenario, { seed: SEED });
}

/** Runs the checks; a failure carries the run's timeline, so that it says what the agent did instead. */
function check(result: ScenarioRunResult, checks: () => void) {
  try {
    checks();
  } catch (error) {
    (error as Error).message += `\n${describeRun(result)}`;
    throw error;
  }
}

/** The agent's history replays against the current workflow code; optionally saved as a fixture. */
async function replays(result: ScenarioRunResult, historyFile?: string) {
  await Worker.runReplayHistory(
    { workflowBundle: await workflowBundle() },
    result.history,
    result.workflowId,
  );
  if (historyFile && process.env.HOMEOSTAT_WRITE_HISTORIES === '1') {
    fs.writeFileSync(path.join(HISTORY_DIR, historyFile), historyToJSON(result.history));
  }
}

/**
 * Every remedy has its audit row in a final state, and each one that changed the deployment names the
 * revisions before and after, with the registry change it made audited beside it.
 */
function expectCompleteAudit(result: ScenarioRunResult) {
  const remedies = result.actions.filter((a) => REMEDIES.includes(a.type));
  expect(remedies.length).toBeGreaterThan(0);
  for (const remedy of remedies) {
    expect(['succeeded', 'failed', 'rejected']).toContain(remedy.status);
    expect(remedy.incidentId).toBe(result.incident?.id);
    const applied = (remedy.detail as { outcome?: string }).outcome === 'applied';
    if (applied && remedy.type !== 'retrain') {
      expect(remedy.beforeRevision).not.toBeNull();
      expect(remedy.afterRevision).not.toBeNull();
      expect(remedy.afterRevision).not.toBe(remedy.beforeRevision);
    }
  }
  // Every deployment change the agent made is a new revision, audited with where it came from.
  const changes = result.actions.filter((a) => ['deploy', 'restore'].includes(a.type) && a.actor === 'agent');
  for (const change of changes) {
    expect(change.status).toBe('succeeded');
    expect(change.afterRevision).not.toBeNull();
    expect(change.beforeRevision).not.toBeNull();
  }
}

/** A recoverable scenario: the expected finding, the expected first remedy, and a verified recovery. */
function expectRecovered(result: ScenarioRunResult) {
  expect(result.warmupIncidents).toBe(0);
  expect(result.firstConfirmed?.kind).toBe(result.expected.finding);
  expect(result.response).toBe(result.expected.response);
  expect(result.incident).toMatchObject({ kind: result.expected.finding, status: 'recovered', closed: true });
  // Recovered means recovered: nothing reopens in the windows after (a fix the agent made is not a fault).
  expect(result.incidents).toBe(1);
  expect(result.attempts[0]?.action).toBe(result.expected.response);
  expect(result.attempts.at(-1)?.outcome).toBe('recovered');
  expect(result.baseline).not.toBeNull();
  expect(result.withinTolerance).toBe(true);
  expect(result.detectionWindows).toBeGreaterThan(0);
  expect(result.recoveryWindows).toBeGreaterThanOrEqual(result.detectionWindows!);
  expectCompleteAudit(result);
}

describe('failure scenarios on the real agent, gateway and store', () => {
  it.each(['steady', 'noise-blip'])('%s: no incident and no action', { timeout: 180_000 }, async (id) => {
    const result = await run(id);
    // Replayed (and saved) first: a history is worth keeping even when the agent got it wrong.
    await replays(result);
    check(result, () => {
      expect(result.windows).toBeGreaterThanOrEqual(10);
      expect(result.incidents + result.warmupIncidents).toBe(0);
      expect(result.response).toBe('none');
      expect(result.actions).toEqual([]);
    });
  });

  it('concept-drift: retrains on the new world, promotes the candidate, recovers', {
    timeout: 300_000,
  }, async () => {
    const result = await run('concept-drift');
    // Replayed (and saved) first: a history is worth keeping even when the agent got it wrong.
    await replays(result, 'agent-scenario-retrain.json');
    check(result, () => {
      expectRecovered(result);
      // The candidate went through the canary before it replaced production.
      expect(
        result.actions.some((a) => a.type === 'deploy' && JSON.stringify(a.detail).includes('canary')),
      ).toBe(true);
    });
  });

  it('demand-concept-drift (seed 3): a retrain that improved but fell short is retried on more rows, never a fallback', {
    timeout: 300_000,
  }, async () => {
    const result = await runIsolated(findScenario('demand-concept-drift')!, { seed: 3 });
    await replays(result, 'agent-scenario-retrain-again.json');
    check(result, () => {
      const [first, second] = result.attempts;
      // The first retrain, on the first rows after the onset, beat the old model and was kept, short.
      expect(first).toMatchObject({ action: 'retrain', outcome: 'not_recovered' });
      expect(second).toMatchObject({ action: 'retrain', rule: 'retrain-again-on-more-rows' });
      // Whatever the retry found, users were never sent to the weaker fallback.
      expect(result.actions.filter((a) => a.type === 'fallback')).toEqual([]);
      expect(['recovered', 'escalated']).toContain(result.incident?.status);
    });
  });

  it('upstream-nulls: falls back while the feed is broken, restores production once fixed', {
    timeout: 240_000,
  }, async () => {
    const result = await run('upstream-nulls');
    // Replayed (and saved) first: a history is worth keeping even when the agent got it wrong.
    await replays(result);
    check(result, () => {
      expectRecovered(result);
      // Protected, then restored: fallback, then production again, each a revision of its own.
      const changes = result.actions.filter((a) => ['deploy', 'restore'].includes(a.type)).map((a) => a.type);
      expect(changes).toEqual(['deploy', 'restore']);
    });
  });

  it('inference-failures: falls back, probes production, restores it when it answers again', {
    timeout: 240_000,
  }, async () => {
    const result = await run('inference-failures');
    // Replayed (and saved) first: a history is worth keeping even when the agent got it wrong.
    await replays(result, 'agent-scenario-fallback.json');
    check(result, () => {
      expect(result.gatewayErrors['502']).toBeGreaterThan(0); // the model server really failed requests
      expectRecovered(result);
    });
  });

  it('latency-regression: rolls back the slow release to the last known-good revision', {
    timeout: 240_000,
  }, async () => {
    const result = await run('latency-regression');
    // Replayed (and saved) first: a history is worth keeping even when the agent got it wrong.
    await replays(result, 'agent-scenario-rollback.json');
    check(result, () => {
      expectRecovered(result);
      // Back to the revision from before the release (1), as a new revision; the slow one was 2.
      const restore = result.actions.find((a) => a.type === 'restore' && a.actor === 'agent')!;
      expect(restore).toMatchObject({ beforeRevision: 2, afterRevision: 3, detail: { restored: 1 } });
    });
  });

  it('traffic-stop: escalates with a signed webhook and waits for a human to acknowledge', {
    timeout: 180_000,
  }, async () => {
    const result = await run('traffic-stop');
    // Replayed (and saved) first: a history is worth keeping even when the agent got it wrong.
    await replays(result, 'agent-scenario-escalated.json');
    check(result, () => {
      expect(result.warmupIncidents).toBe(0);
      expect(result.firstConfirmed?.kind).toBe('stale_data');
      expect(result.response).toBe('escalate');
      expect(result.firstAction?.rule).toBe('traffic-stopped-escalate');
      // Nothing the agent can change brings traffic back: no remedy, the model left as it was.
      expect(result.actions.filter((a) => REMEDIES.includes(a.type))).toEqual([]);
      expect(result.escalations.delivered).toBeGreaterThanOrEqual(1);
      expect(result.escalations.verified).toBe(result.escalations.delivered);
      expect(result.acknowledged).toBe(true);
      expect(result.incident).toMatchObject({ kind: 'stale_data', status: 'escalated', closed: true });
      expect(result.actions.some((a) => a.type === 'acknowledge' && a.actor === 'human:on-call')).toBe(true);
    });
  });
});
