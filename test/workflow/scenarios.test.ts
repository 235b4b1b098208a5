// The failure scenarios end to end: each simulator scenario's traffic goes through the real gateway and
// label endpoint of the in-process API, the real agent runs on a time-skipping Temporal server with the
// real worker and activities and a real SQLite store, and the test checks what the agent did about it —
// the response the scenario expects, the incident's outcome, the audit trail — and that the agent's
// history replays. Each scenario runs in an environment of its own (runIsolated says why).
import { describe, expect, it } from 'vitest';
import { findScenario } from '../../lib/sim/scenarios.ts';
import { allowLoopbackEgress } from '../helpers/egress.ts';
import { runIsolated } from '../helpers/scenario-run.ts';
import {
  agentChanges,
  check,
  expectAlertOnly,
  expectCompleteAudit,
  expectFallbackThenRestored,
  expectRecovered,
  expectRetrainRejectedThenRebaselined,
  REMEDIES,
  replays,
  run,
} from './scenario-checks.ts';

// The harness's model servers and webhook receiver listen on 127.0.0.1.
allowLoopbackEgress();

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
    await replays(result, 'agent-scenario-retrain.json', [
      { file: 'retrain-canary-promoted.json', type: 'retrainWorkflow' },
      { file: 'canary-promoted.json', type: 'canaryWorkflow' },
      { file: 'verify-recovered.json', type: 'verifyWorkflow' },
    ]);
    check(result, () => {
      expectRecovered(result);
      // The candidate went through the canary before it replaced production, and serves now.
      const candidate = result.deployment.productionVersion!;
      expect(candidate).not.toBe(result.versions.production);
      expect(agentChanges(result)).toEqual([
        { canary: { version: candidate, share: 0.2 } },
        { mode: 'serving', production: candidate, canary: null, fallback: result.versions.fallback },
      ]);
      expect(result.deployment).toMatchObject({ mode: 'serving', canaryVersion: null });
    });
  });

  it('demand-concept-drift (seed 3): a retrain that improved but fell short is retried on more rows, never a fallback', {
    timeout: 300_000,
  }, async () => {
    const result = await runIsolated(findScenario('demand-concept-drift')!, { seed: 3 });
    // Which rows are labelled when the second candidate trains, and so whether its canary wins, depends on
    // how the gateway's traffic fell into wall-clock windows: both endings are checked in full below.
    const retryLost = result.attempts[1]?.outcome === 'rejected';
    await replays(result, 'agent-scenario-retrain-again.json', [
      { file: 'verify-not-recovered.json', type: 'verifyWorkflow' },
      ...(retryLost
        ? [
            { file: 'retrain-canary-lost.json', type: 'retrainWorkflow', nth: 1 },
            { file: 'canary-lost-undone.json', type: 'canaryWorkflow', nth: 1 },
          ]
        : []),
    ]);
    check(result, () => {
      // The first retrain, on the first rows after the onset, beat the old model and was kept, short; the
      // second trained on every row since.
      expect(result.attempts).toMatchObject([
        {
          action: 'retrain',
          rule: 'performance-degraded-retrain',
          result: 'applied',
          outcome: 'not_recovered',
        },
        retryLost
          ? { action: 'retrain', rule: 'retrain-again-on-more-rows', result: 'rejected', outcome: 'rejected' }
          : {
              action: 'retrain',
              rule: 'retrain-again-on-more-rows',
              result: 'applied',
              outcome: 'recovered',
            },
      ]);
      const [first, second] = agentChanges(result)
        .filter((c) => c.canary)
        .map((c) => c.canary!.version);
      expect(second).toBeGreaterThan(first!);
      const fallback = result.versions.fallback;
      // Users were never sent to the weaker fallback, whichever way the second canary went.
      expect(result.actions.filter((a) => a.type === 'fallback')).toEqual([]);
      if (!retryLost) {
        // The second candidate won its canary, was promoted and verified within the tolerance.
        expect(agentChanges(result)).toEqual([
          { canary: { version: first, share: 0.2 } },
          { mode: 'serving', production: first, canary: null, fallback },
          { canary: { version: second, share: 0.2 } },
          { mode: 'serving', production: second, canary: null, fallback },
        ]);
        expect(result.deployment).toMatchObject({
          mode: 'serving',
          productionVersion: second,
          canaryVersion: null,
        });
        expect(result.incident).toMatchObject({ status: 'recovered', closed: true });
        expect(result.withinTolerance).toBe(true);
        expect(result.actions.filter((a) => a.type === 'restore')).toEqual([]);
        return;
      }
      expect(agentChanges(result)).toEqual([
        { canary: { version: first, share: 0.2 } },
        { mode: 'serving', production: first, canary: null, fallback },
        { canary: { version: second, share: 0.2 } },
      ]);
      // The lost canary was undone: the revision from before it restored, the candidate rejected.
      const canaryStart = result.actions.filter((a) => a.type === 'deploy' && a.actor === 'agent')[2]!;
      const undo = result.actions.filter((a) => a.type === 'restore' && a.actor === 'agent');
      expect(undo).toHaveLength(1);
      expect(undo[0]).toMatchObject({
        status: 'succeeded',
        beforeRevision: canaryStart.afterRevision,
        afterRevision: canaryStart.afterRevision! + 1,
        detail: { restored: canaryStart.beforeRevision },
      });
      expect(undo[0]!.reason).toContain(`canary of v${second} undone`);
      expect(result.actions.filter((a) => a.type === 'version_status')).toMatchObject([
        { detail: { version: second, status: 'rejected' } },
      ]);
      // The first retrain serves on, as the best model there is; a human has the incident.
      expect(result.deployment).toMatchObject({
        mode: 'serving',
        productionVersion: first,
        canaryVersion: null,
      });
      expect(result.timeline.some((e) => e.rule === 'no-better-model-escalate')).toBe(true);
      expect(result.incident).toMatchObject({ status: 'escalated', closed: true });
      expect(result.escalations.delivered).toBeGreaterThanOrEqual(1);
    });
  });

  it('upstream-nulls: falls back while the feed is broken, restores production once fixed', {
    timeout: 240_000,
  }, async () => {
    const result = await run('upstream-nulls');
    // Replayed (and saved) first: a history is worth keeping even when the agent got it wrong.
    await replays(result, undefined, [{ file: 'fallback-applied.json', type: 'fallbackWorkflow' }]);
    check(result, () => {
      expectRecovered(result);
      // Protected, then restored: fallback, then production again, each a revision of its own.
      const changes = result.actions.filter((a) => ['deploy', 'restore'].includes(a.type)).map((a) => a.type);
      expect(changes).toEqual(['deploy', 'restore']);
    });
  });

  it('segment-failure: routes the broken segment to the fallback, then retrains and lifts the route in the promotion', {
    timeout: 300_000,
  }, async () => {
    const result = await run('segment-failure');
    const web = 'channel=web';
    // Replayed (and saved) first: a history is worth keeping even when the agent got it wrong.
    await replays(result, 'agent-scenario-segment.json', [
      { file: 'fallback-segment-applied.json', type: 'fallbackWorkflow' },
      { file: 'verify-segment-not-recovered.json', type: 'verifyWorkflow' },
      { file: 'retrain-segment-route-lifted.json', type: 'retrainWorkflow' },
    ]);
    check(result, () => {
      expect(result.warmupIncidents).toBe(0);
      // The segment finding, naming the web channel, opened the one incident; the rung was the route.
      expect(result.firstConfirmed?.kind).toBe('segment');
      const confirmed = result.timeline
        .flatMap((e) => e.findings)
        .find((f) => f.startsWith('segment:confirmed'));
      expect(confirmed).toMatch(/^segment:confirmed \(segment channel=web: accuracy /);
      // Its first rung by the segment ladder: at once, or (evidence only moderate when it first confirmed:
      // an alert) in the next window, as the open incident's next step.
      const acting = result.timeline.find((e) => e.cycle === result.firstAction?.cycle)!;
      expect(acting.action).toBe('fallback');
      expect(acting.rule === 'segment-ladder' || acting.reason.includes(': segment-ladder: ')).toBe(true);
      expect(result.incidents).toBe(1);
      // Two revisions by the agent: the web rows to the fallback; then the retrain's candidate promoted
      // (directly: a canary would never see the routed web rows) with the route lifted in the same revision.
      const changes = agentChanges(result);
      expect(changes).toHaveLength(2);
      expect(changes[0]).toEqual({ fallbackSegments: [web] });
      const candidate = changes[1]!.production as number;
      expect(candidate).toBeGreaterThan(result.versions.fallback);
      expect(changes[1]).toMatchObject({ mode: 'serving', production: candidate, fallbackSegments: [] });
      const [route, lift] = result.actions.filter((a) => a.type === 'deploy' && a.actor === 'agent');
      const routed = result.revisions.find((r) => r.revision === route!.afterRevision)!;
      const lifted = result.revisions.find((r) => r.revision === lift!.afterRevision)!;
      expect(routed.fallbackSegments).toEqual([web]);
      expect(lifted.fallbackSegments).toEqual([]);
      expect(result.deployment).toMatchObject({ mode: 'serving', productionVersion: candidate });
      expect(result.deployment.fallbackSegments ?? []).toEqual([]);
      // What the gateway answered, row by row: before the route production served every channel; under the
      // route production went on serving every other channel and the web rows switched to the fallback once
      // the route reached the gateway (its serving cache holds a revision up to a second), never back; after
      // the promotion the candidate answered every channel, the web rows included.
      const inWeb = (r: (typeof result.served)[number]) => r.segments.includes(web);
      const versionsOf = (rows: typeof result.served, web: boolean) =>
        new Set(rows.filter((r) => inWeb(r) === web).map((r) => r.version));
      const before = result.served.filter((r) => r.at < routed.createdAt);
      const during = result.served.filter((r) => r.at >= routed.createdAt && r.at < lifted.createdAt);
      const after = result.served.filter((r) => r.at >= lifted.createdAt + 2_000);
      expect(versionsOf(before, true)).toEqual(new Set([result.versions.production]));
      expect(versionsOf(during, false)).toEqual(new Set([result.versions.production]));
      const webDuring = during.filter(inWeb);
      const switched = webDuring.findIndex((r) => r.version === result.versions.fallback);
      expect(switched).toBeGreaterThanOrEqual(0);
      expect(webDuring.slice(0, switched).every((r) => r.at < routed.createdAt + 2_000)).toBe(true);
      expect(versionsOf(webDuring.slice(switched), true)).toEqual(new Set([result.versions.fallback]));
      expect(versionsOf(after, true)).toEqual(new Set([candidate]));
      expect(versionsOf(after, false)).toEqual(new Set([candidate]));
      expect(after.filter(inWeb).length).toBeGreaterThan(100);
      // Both rungs verified on the web rows against the web segment's own pre-failure level.
      expect(result.baseline).toMatchObject({ metric: 'accuracy', segment: web });
      expect(result.baseline!.value).toBeGreaterThan(0.8);
      // The fallback learnt the world before the change: short. The retrain's candidate beat the route on
      // the web rows it was tested on and production on the other channels' (refit-evidence.ts beatsRoute).
      expect(result.attempts[0]).toMatchObject({
        action: 'fallback',
        result: 'applied',
        outcome: 'not_recovered',
      });
      expect(result.attempts[0]!.detail).toMatch(/not_recovered: accuracy 0\.\d+ on \d+ rows/);
      expect(result.attempts[1]).toMatchObject({ action: 'retrain', result: 'applied' });
      expect(result.attempts[1]!.detail).toMatch(
        /on segment channel=web's \d+ tested rows accuracy 0\.\d+ vs its fallback route 0\.\d+, on the other \d+ 0\.\d+ vs production 0\.\d+\); promoted directly/,
      );
      // On seed 1 the promoted refit serves the web rows short of their old level (a refit on the few
      // web rows since the onset, around 0.85 against 0.869): it stays, as a promoted retrain does; the
      // retrain on every row since does no better, nor could any materially, so the level changed and the
      // incident closes rebaselined, nobody paged (docs/agent-logic.md "After verification").
      expect(result.attempts[1]!.outcome).toBe('not_recovered');
      expect(result.attempts[2]).toMatchObject({
        action: 'retrain',
        result: 'rejected',
        outcome: 'rejected',
      });
      expect(result.attempts[2]!.detail).toContain('nor could it do materially better');
      expect(result.timeline.some((e) => e.rule === 'level-changed-rebaseline')).toBe(true);
      expect(result.incident).toMatchObject({ kind: 'segment', status: 'rebaselined', closed: true });
      expect(result.escalations.delivered).toBe(0);
      expectCompleteAudit(result);
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
    await replays(result, 'agent-scenario-rollback.json', [
      { file: 'rollback-applied.json', type: 'rollbackWorkflow' },
    ]);
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
      expect(
        result.actions.some((a) => a.type === 'acknowledge' && a.actor === 'human:on-call (key test-admin)'),
      ).toBe(true);
    });
  });
  it('unit-change: falls back while income arrives ×1000, restores production once fixed', {
    timeout: 240_000,
  }, async () => {
    const result = await run('unit-change');
    await replays(result);
    check(result, () => expectFallbackThenRestored(result));
  });

  it('constant-column: falls back while late_payments_12m is constant, restores production once fixed', {
    timeout: 240_000,
  }, async () => {
    const result = await run('constant-column');
    await replays(result);
    check(result, () => expectFallbackThenRestored(result));
  });

  it('demand-price-in-cents: falls back while prices arrive ×100, restores production once fixed', {
    timeout: 240_000,
  }, async () => {
    const result = await run('demand-price-in-cents');
    await replays(result);
    check(result, () => expectFallbackThenRestored(result));
  });

  it('gradual-covariate-shift: alerts on the input drift, leaves the model alone', {
    timeout: 240_000,
  }, async () => {
    const result = await run('gradual-covariate-shift');
    await replays(result);
    check(result, () => expectAlertOnly(result));
  });

  it('label-delay: alerts that performance is blind, neither retrains nor rolls back', {
    timeout: 240_000,
  }, async () => {
    const result = await run('label-delay');
    await replays(result);
    check(result, () => {
      expectAlertOnly(result);
      expect(result.firstAction).toBeNull();
      expect(result.timeline.some((e) => e.rule === 'labels-delayed-alert')).toBe(true);
    });
  });

  // Product gap (docs/failure-scenarios.md, "What the runs show today"): at one-minute windows the
  // 15-second burst is only twice the usual count, so no anomaly is confirmed; what shows is the
  // replayed row (70 % of the window, one the model gets wrong) as input drift with a performance fall.
  // The agent retrains, finds no better model and escalates: detect has no notion of a replaying client.
  it.fails('traffic-spike: alerts on the replaying client, leaves the model alone', {
    timeout: 240_000,
  }, async () => {
    const result = await run('traffic-spike');
    await replays(result);
    check(result, () => expectAlertOnly(result));
  });

  // Product gap (docs/failure-scenarios.md): decide does not weigh how much a broken feature matters, so
  // a weak feature's unseen categories get the data-quality fallback; the fallback sees the same
  // categories, the finding never clears, and the incident is escalated after verification.maxWait.
  it.fails('renamed-categories: alerts on the unknown channels, leaves the model alone', {
    timeout: 240_000,
  }, async () => {
    const result = await run('renamed-categories');
    await replays(result);
    check(result, () => expectAlertOnly(result));
  });

  // On seed 1 the broker's applicants cost the model 0.047 of accuracy (test/unit/sim-recoverability),
  // right at the policy's smallest relevant drop (minEffect.accuracyDrop 0.05): whether a window shows it
  // as an impact depends on the noise of the windows, so the agent either reports input drift without an
  // impact (input-drift-no-impact-alert), or tries a retrain that could not do materially better and takes
  // the new level as the baseline (level-changed-rebaseline; seed 2 always does: remedies.test.ts). Both
  // are the scenario's answer: the operator is told, nothing is deployed, no person is paged.
  it('abrupt-covariate-shift: tells the operator, deploys nothing, pages nobody', {
    timeout: 300_000,
  }, async () => {
    const result = await run('abrupt-covariate-shift');
    await replays(result);
    check(result, () => {
      expect(result.warmupIncidents).toBe(0);
      expect(result.firstConfirmed?.kind).toBe('data_drift');
      if (result.attempts.length > 0) return expectRetrainRejectedThenRebaselined(result);
      expectAlertOnly(result);
    });
  });
});
