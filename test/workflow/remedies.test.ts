// Every remedy child workflow and every remedy outcome on the real agent: a simulator scenario's traffic
// through the real gateway, the agent on a time-skipping Temporal server with the real worker and
// activities and a SQLite store, and a policy (or an operator, through the API) that steers the agent
// onto the path under test. Each test checks the incident's outcome, which remedies ran in what order,
// the audit rows, the deployment after, and any undo; and that the agent and every child replay.
// Paths decide never takes (a rollback with no revision to go back to) run the child on its own.
import { defaultPayloadConverter } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { cycleClock } from '../../lib/brain/cycle-clock.ts';
import { findScenario } from '../../lib/sim/scenarios.ts';
import { type RemedyResult, rollbackWorkflow } from '../../workflows/remedies.ts';
import { allowLoopbackEgress } from '../helpers/egress.ts';
import {
  type ChildRun,
  type OperatorTurn,
  runIsolated,
  startScenarioEnv,
  TASK_QUEUE,
} from '../helpers/scenario-run.ts';
import {
  agentChanges,
  check,
  expectFallbackThenRestored,
  expectRecovered,
  expectRetrainRejectedThenRebaselined,
  keepChildHistory,
  replays,
  run,
  SEED,
} from './scenario-checks.ts';

// The harness's model servers and webhook receiver listen on 127.0.0.1.
allowLoopbackEgress();

/** Decision rules the run's cycles fired, each once, in the order they first fired. */
function rulesFired(result: Awaited<ReturnType<typeof run>>): string[] {
  return [...new Set(result.timeline.map((e) => e.rule))];
}

/** The audit rows of the run's incident: type, actor, status, in order. */
function incidentActions(result: Awaited<ReturnType<typeof run>>): string[][] {
  return result.actions
    .filter((a) => a.incidentId === result.incident?.id)
    .map((a) => [a.type, a.actor, a.status]);
}

/** What a child workflow returned, from its completion event. */
function childResult<T>(history: ChildRun['history']): T {
  const completed = history.events?.find((e) => e.workflowExecutionCompletedEventAttributes);
  const payload = completed?.workflowExecutionCompletedEventAttributes?.result?.payloads?.[0];
  if (!payload) throw new Error('the child did not complete');
  return defaultPayloadConverter.fromPayload<T>(payload);
}

/** The operator answers the first approval the agent asks for, once, through the API. */
function answerApproval(verb: 'approve' | 'reject', before?: (turn: OperatorTurn) => Promise<void>) {
  let answered = false;
  return async (turn: OperatorTurn) => {
    const pending = turn.state.pendingApproval;
    if (answered || !pending) return;
    answered = true;
    await before?.(turn);
    const res = await turn.call('POST', turn.path(`/agent/${verb}`), {
      approvalId: pending.id,
      actor: 'on-call',
      reason: verb === 'approve' ? 'go ahead' : 'not now: the pipeline team is on it',
    });
    if (res.status !== 200) throw new Error(`${verb}: ${res.status} ${JSON.stringify(res.body)}`);
  };
}

/** Approval asked before every fallback. */
const FALLBACK_NEEDS_APPROVAL = { approvals: { fallback: { mode: 'approve' as const } } };

/**
 * segment-failure whose cause is repaired while the incident is open: the web form's income check is
 * fixed some windows after the onset, once the route's verification has found the fallback short on the
 * web rows, while the retrain waits for its rows. The refit learns the web world of the broken check,
 * which is gone by the rows it is tested on; the fallback, of the world before the failure, is right about
 * them again. Nothing the agent sees says the cause is gone: production answers no web rows under the route.
 */
const SEGMENT_REPAIRED = { ...findScenario('segment-failure')!, id: 'segment-failure-repaired' };
/**
 * Windows from the onset to the repair: after the route's verdict (6 windows after the onset on seed 1),
 * before the rows the retrain tests on.
 */
const REPAIRED_AFTER_WINDOWS = 9;
/**
 * The labelled rows since the onset the retrain waits for: the most recent half of them, which its rolling
 * origin tests on (retrain.holdoutShare), arrive after the repair (about 200 rows a window).
 */
const RETRAIN_ROWS_PAST_REPAIR = 4400;

describe('remedies and their outcomes on the real agent', () => {
  it('disable (failures ladder: disable): probes production, holds until it answers, restores, recovers', {
    timeout: 300_000,
  }, async () => {
    const result = await run('inference-failures', { policy: { ladders: { failures: ['disable'] } } });
    await replays(result, undefined, [{ file: 'disable-probed.json', type: 'disableWorkflow' }]);
    check(result, () => {
      expectRecovered(result, 'disable');
      expect(result.attempts).toMatchObject([
        { action: 'disable', rule: 'open-incident-now-actionable', result: 'applied', outcome: 'recovered' },
      ]);
      const disable = result.actions.find((a) => a.type === 'disable')!;
      // The disable child probed production before it went: its answer is in the audit row.
      expect((disable.detail as { result: string }).result).toMatch(
        /^predictions disabled; production probe (answers|fails \(\d+ of 20\))$/,
      );
      // Disabled, then the deployment from before it back once production answered a probe again.
      const changes = result.actions.filter((a) => ['deploy', 'restore'].includes(a.type));
      expect(changes.map((a) => [a.type, a.actor, a.detail])).toEqual([
        ['deploy', 'agent', { change: { mode: 'disabled' } }],
        ['restore', 'agent', { restored: changes[0]!.beforeRevision }],
      ]);
      expect(result.gatewayErrors['503']).toBeGreaterThan(0); // the gateway refused while disabled
      expect(result.deployment).toMatchObject({
        mode: 'serving',
        productionVersion: result.versions.production,
      });
    });
  });

  it('shadow (retrain.promotion: shadow): the candidate scores beside production, wins, is promoted', {
    timeout: 400_000,
  }, async () => {
    const result = await run('concept-drift', { policy: { retrain: { promotion: 'shadow' } } });
    await replays(result, undefined, [
      { file: 'retrain-shadow-promoted.json', type: 'retrainWorkflow' },
      { file: 'shadow-promoted.json', type: 'shadowWorkflow' },
    ]);
    check(result, () => {
      expectRecovered(result);
      expect(result.children.map((c) => c.type)).toEqual([
        'retrainWorkflow',
        'shadowWorkflow',
        'verifyWorkflow',
      ]);
      const candidate = result.deployment.productionVersion!;
      expect(candidate).not.toBe(result.versions.production);
      expect(agentChanges(result)).toEqual([
        { shadow: candidate },
        {
          mode: 'serving',
          production: candidate,
          canary: null,
          shadow: null,
          fallback: result.versions.fallback,
        },
      ]);
      expect(result.deployment).toMatchObject({ mode: 'serving', shadowVersion: null, canaryVersion: null });
    });
  });

  it('retrain rejected (abrupt-covariate-shift, seed 7): no refit could do materially better, nothing deployed, the new level is the baseline', {
    timeout: 400_000,
  }, async () => {
    // Seed 7: the refit's edge (0.004 on 1,736 rows tested out of time, p ≈ 0.29) is far from alpha, so the
    // rejection does not turn on a few rows more or less (seed 2's p sat near 0.05 and sometimes passed).
    const result = await run('abrupt-covariate-shift', { seed: 7 });
    await replays(result, undefined, [{ file: 'retrain-rejected.json', type: 'retrainWorkflow' }]);
    check(result, () => {
      expect(result.firstConfirmed?.kind).toBe('data_drift');
      expect(result.children.map((c) => c.type)).toEqual(['retrainWorkflow']);
      expectRetrainRejectedThenRebaselined(result);
    });
  });

  it('retrain lost to the route (segment-failure, repaired while the retrain waits for rows): the candidate is rejected, the route stays, a human has the incident', {
    timeout: 400_000,
  }, async () => {
    const result = await runIsolated(SEGMENT_REPAIRED, {
      seed: SEED,
      plan: { durationWindows: REPAIRED_AFTER_WINDOWS },
      policy: { retrain: { minRows: RETRAIN_ROWS_PAST_REPAIR } },
    });
    await replays(result, undefined, [
      { file: 'retrain-segment-lost-to-route.json', type: 'retrainWorkflow' },
    ]);
    const web = 'channel=web';
    check(result, () => {
      expect(result.firstConfirmed?.kind).toBe('segment');
      expect(result.incidents).toBe(1);
      // The route, its verification, the retrain; no canary or shadow child: nothing was brought in.
      expect(result.children.map((c) => c.type)).toEqual([
        'fallbackWorkflow',
        'verifyWorkflow',
        'retrainWorkflow',
      ]);
      // The route was judged on web rows of the broken check, before the repair.
      const nextRung = result.timeline.find((e) => e.rule === 'verification-failed-next-rung')!;
      expect(nextRung.window!).toBeLessThan(result.plan.warmupWindows + REPAIRED_AFTER_WINDOWS);
      expect(result.attempts).toMatchObject([
        { action: 'fallback', result: 'applied', outcome: 'not_recovered' },
        { action: 'retrain', rule: 'verification-failed-next-rung', result: 'rejected', outcome: 'rejected' },
      ]);

      // The retrain child's own answer: rejected for the route, the deployment as it found it.
      const retrain = result.children.find((c) => c.type === 'retrainWorkflow')!;
      const answer = childResult<RemedyResult>(retrain.history);
      const candidate = answer.candidateVersion!;
      expect(candidate).toBeGreaterThan(result.versions.fallback);
      expect(answer).toMatchObject({ outcome: 'rejected', before: 2, after: 2 });
      expect(answer.noBetterModel).toBeUndefined(); // the route serves the web rows better than production would
      const lost = answer.detail.match(
        /^candidate v\d+ did not beat the fallback route: on segment channel=web's (\d+) tested rows accuracy (0\.\d+) vs its fallback route (0\.\d+), on the other (\d+) (0\.\d+) vs production (0\.\d+) \(accuracy 0\.\d+ vs production 0\.\d+ on \d+ rows tested out of time/,
      );
      expect(lost, answer.detail).not.toBeNull();
      const [webRows, onWeb, route, otherRows, onOthers, production] = lost!.slice(1).map(Number);
      // Lost on the web rows themselves, by far more than their noise: the refit learnt the broken check's
      // web world; the fallback, of the world before it, is back near the web rows' old level on the
      // repaired rows it was tested on. On the other channels the refit is as good as production.
      expect(webRows).toBeGreaterThan(300);
      expect(route! - onWeb!).toBeGreaterThan(0.04);
      expect(route!).toBeGreaterThan(result.baseline!.value - 0.05);
      expect(otherRows).toBeGreaterThan(300);
      expect(Math.abs(onOthers! - production!)).toBeLessThan(0.02);
      // It trained and rejected; it never touched the deployment nor started a trial.
      const scheduled = (retrain.history.events ?? []).flatMap((e) => {
        const name = e.activityTaskScheduledEventAttributes?.activityType?.name;
        return name ? [name] : [];
      });
      expect(new Set(scheduled)).toEqual(
        new Set(['describeDeployment', 'trainCandidate', 'setCandidateStatus']),
      );
      expect(retrain.history.events?.some((e) => e.startChildWorkflowExecutionInitiatedEventAttributes)).toBe(
        false,
      );

      // The incident's audit: the route, the retrain's rejection, then the escalation; and the candidate's.
      expect(incidentActions(result)).toEqual([
        ['alert', 'agent', 'succeeded'],
        ['fallback', 'agent', 'succeeded'],
        ['deploy', 'agent', 'succeeded'],
        ['retrain', 'agent', 'failed'],
        ['alert', 'agent', 'succeeded'],
        ['escalate', 'agent', 'succeeded'],
        ['acknowledge', 'human:on-call (key test-admin)', 'succeeded'],
      ]);
      const retrainRow = result.actions.find((a) => a.type === 'retrain')!;
      expect(retrainRow).toMatchObject({
        beforeRevision: 2,
        afterRevision: 2,
        detail: { outcome: 'rejected', result: answer.detail },
      });
      const statuses = result.actions.filter((a) => a.type === 'version_status');
      expect(statuses).toMatchObject([
        { actor: 'agent', detail: { version: candidate, status: 'rejected' } },
      ]);
      expect(statuses[0]!.reason).toContain('did not beat the fallback route');
      expect(agentChanges(result)).toEqual([{ fallbackSegments: [web] }]);

      // The route stands, production as it was; no rung left, so a person has the incident.
      expect(result.deployment).toMatchObject({
        revision: 2,
        mode: 'serving',
        productionVersion: result.versions.production,
        fallbackVersion: result.versions.fallback,
        canaryVersion: null,
        shadowVersion: null,
        fallbackSegments: [web],
      });
      expect(result.revisions.map((r) => r.fallbackSegments)).toEqual([[], [web]]);
      expect(rulesFired(result)).toContain('ladder-exhausted-escalate');
      expect(result.incident).toMatchObject({ kind: 'segment', status: 'escalated', closed: true });
      expect(result.escalations.delivered).toBeGreaterThanOrEqual(1);
      // From the route (once the gateway's serving cache of up to a second has it) to the end of the run,
      // the rejection included, the fallback answered every web row and production every other row.
      const routedAt = result.revisions[1]!.createdAt;
      const late = result.served.filter((r) => r.at > routedAt + 2_000);
      const versions = (inWeb: boolean) =>
        new Set(late.filter((r) => r.segments.includes(web) === inWeb).map((r) => r.version));
      expect(versions(true)).toEqual(new Set([result.versions.fallback]));
      expect(versions(false)).toEqual(new Set([result.versions.production]));
    });
  });

  it('fallback without a fallback version: the operator removed it while approval was pending', {
    timeout: 300_000,
  }, async () => {
    const result = await run('unit-change', {
      policy: FALLBACK_NEEDS_APPROVAL,
      operator: answerApproval('approve', async (turn) => {
        const res = await turn.call('POST', turn.path('/deployment'), {
          fallback: null,
          reason: 'fallback retired: it was trained on last year’s data',
        });
        if (res.status !== 201) throw new Error(`deployment: ${res.status} ${JSON.stringify(res.body)}`);
      }),
    });
    await replays(result, undefined, [{ file: 'fallback-no-version.json', type: 'fallbackWorkflow' }]);
    check(result, () => {
      expect(result.firstConfirmed?.kind).toBe('data_quality');
      expect(result.attempts).toMatchObject([
        {
          action: 'fallback',
          rule: 'data-quality-protect-never-retrain',
          result: 'failed',
          outcome: 'failed',
        },
      ]);
      expect(incidentActions(result)).toEqual([
        ['approve:fallback', 'human:on-call (key test-admin)', 'succeeded'],
        ['fallback', 'human:on-call (key test-admin)', 'failed'],
        ['alert', 'agent', 'succeeded'],
        ['escalate', 'agent', 'succeeded'],
        ['acknowledge', 'human:on-call (key test-admin)', 'succeeded'],
      ]);
      const fallback = result.actions.find((a) => a.type === 'fallback')!;
      expect(fallback.detail).toMatchObject({ outcome: 'failed', result: 'no fallback version' });
      expect(fallback).toMatchObject({ beforeRevision: 2, afterRevision: 2 });
      // Nothing else to try on the data-quality ladder: a human has it, the model as the operator left it.
      expect(rulesFired(result)).toContain('ladder-exhausted-escalate');
      expect(result.incident).toMatchObject({ kind: 'data_quality', status: 'escalated', closed: true });
      expect(result.deployment).toMatchObject({
        revision: 2,
        mode: 'serving',
        productionVersion: result.versions.production,
        fallbackVersion: null,
      });
    });
  });

  it('approval rejected: the fallback is not taken, the ladder is exhausted, a human has the incident', {
    timeout: 300_000,
  }, async () => {
    const result = await run('unit-change', {
      policy: FALLBACK_NEEDS_APPROVAL,
      operator: answerApproval('reject'),
    });
    await replays(result);
    check(result, () => {
      expect(result.firstConfirmed?.kind).toBe('data_quality');
      expect(result.children).toEqual([]);
      expect(incidentActions(result)).toEqual([
        ['approve:fallback', 'human:on-call (key test-admin)', 'rejected'],
        ['alert', 'agent', 'succeeded'],
        ['escalate', 'agent', 'succeeded'],
        ['acknowledge', 'human:on-call (key test-admin)', 'succeeded'],
      ]);
      expect(result.actions[0]!.reason).toBe('not now: the pipeline team is on it');
      expect(rulesFired(result)).toContain('ladder-exhausted-escalate');
      expect(result.incident).toMatchObject({ kind: 'data_quality', status: 'escalated', closed: true });
      expect(result.deployment).toMatchObject({ revision: 1, mode: 'serving' });
    });
  });

  it('approval timed out: nobody answers, the agent takes the policy’s onTimeout remedy (fallback) itself', {
    timeout: 300_000,
  }, async () => {
    const result = await run('unit-change', {
      policy: { approvals: { fallback: { mode: 'approve', timeout: '3 minutes', onTimeout: 'fallback' } } },
    });
    await replays(result);
    check(result, () => {
      expectRecovered(result);
      expect(incidentActions(result)).toEqual([
        ['approve:fallback', 'agent', 'expired'],
        ['fallback', 'agent', 'succeeded'],
        ['deploy', 'agent', 'succeeded'],
        ['restore', 'agent', 'succeeded'],
      ]);
      expect(result.actions[0]!.reason).toBe('nobody answered in 3 minutes; taking fallback');
      expect(result.attempts).toMatchObject([
        {
          action: 'fallback',
          rule: 'data-quality-protect-never-retrain',
          result: 'applied',
          outcome: 'recovered',
        },
      ]);
      expectFallbackThenRestored(result);
    });
  });

  // Product gap: a disabled model is sent no traffic the store keeps (the gateway refuses it with 503),
  // so a data-quality finding has no inputs to clear on — an empty window carries it as confirmed — and
  // the agent's hold ('inputs-clear') never ends: users stay cut off for verification.maxWait, then the
  // incident is escalated. Seen here when an expired approval's onTimeout is 'disable'.
  it.fails('approval timed out with onTimeout disable: disabled while the inputs are broken, then restored', {
    timeout: 300_000,
  }, async () => {
    const result = await run('unit-change', {
      policy: { approvals: { fallback: { mode: 'approve', timeout: '3 minutes', onTimeout: 'disable' } } },
    });
    await replays(result);
    check(result, () => {
      expect(result.actions.find((a) => a.type === 'approve:fallback')).toMatchObject({
        actor: 'agent',
        status: 'expired',
        reason: 'nobody answered in 3 minutes; taking disable',
      });
      expect(result.attempts).toMatchObject([{ action: 'disable', result: 'applied' }]);
      expectRecovered(result, 'disable');
    });
  });
});

describe('remedy children on their own', () => {
  it('rollback with no revision to roll back to fails and changes nothing (decide never asks for it)', {
    timeout: 120_000,
  }, async () => {
    const senv = await startScenarioEnv();
    try {
      const workflowId = 'rollback-nowhere:rollback';
      const result = await senv.env.client.workflow.execute(rollbackWorkflow, {
        workflowId,
        taskQueue: TASK_QUEUE,
        args: [
          {
            modelName: 'rollback-nowhere',
            incidentId: 'incident-1',
            reason: 'a rollback asked for with no known-good revision',
            actor: 'agent',
            cycle: cycleClock(0, '1 minute'),
            rollbackTo: null,
          },
        ],
      });
      expect(result).toEqual({
        outcome: 'failed',
        before: null,
        after: null,
        detail: 'no revision to roll back to',
      });
      // It touched nothing: no activity ran, no audit row, no revision.
      const history = await senv.env.client.workflow.getHandle(workflowId).fetchHistory();
      expect(history.events?.some((e) => e.activityTaskScheduledEventAttributes)).toBe(false);
      expect(await senv.db.store.action.count()).toBe(0);
      expect(await senv.db.store.deploymentRevision.count()).toBe(0);
      keepChildHistory('rollback-no-revision.json', { workflowId, history });
    } finally {
      await senv.close();
    }
  });
});
