// Decide's guards at their edges: when a collapse counts (floors, confirmed and tested evidence only),
// when a deployment change is the suspected cause (the maxWait window, inclusive, and never the agent's
// own change), why each remedy is ruled out (the reasons decisions record), traffic stopping inside an
// open incident, and what a busy or open incident records. DEFAULT_POLICY: floors accuracy 0.5 and
// failureRate 0.5, verification.maxWait 30 minutes, ladders concept_drift [retrain, rollback, fallback],
// latency [rollback, fallback], failures [rollback, fallback, disable], data_quality [fallback, alert].
import { describe, expect, it } from 'vitest';
import type { DeploymentFacts } from '../../lib/brain/contracts.ts';
import { type DecisionContext, decide } from '../../lib/brain/decide.ts';
import type { Finding, OpenIncident, RemedyAttempt } from '../../lib/brain/types.ts';
import { DEFAULT_POLICY } from '../../lib/policy/policy.ts';
import { openIncident } from '../helpers/brain.ts';

type Evidence = Record<string, number | string | boolean | null>;

const NOW = Date.UTC(2026, 2, 1, 12);
const MINUTE = 60_000;

const serving: DeploymentFacts = {
  task: 'binary',
  revision: 7,
  mode: 'serving',
  productionVersion: 3,
  fallbackVersion: 1,
  canaryVersion: null,
  canaryShare: 0,
  shadowVersion: null,
  changedAt: NOW - 3 * 24 * 60 * MINUTE,
  changedBy: 'human:ops',
  lastKnownGoodRevision: 6,
};

function ctx(over: Partial<DecisionContext>): DecisionContext {
  return {
    findings: [],
    policy: DEFAULT_POLICY,
    now: NOW,
    cycle: 20,
    openIncident: null,
    deployment: serving,
    remedies: [],
    remedyInProgress: false,
    ...over,
  };
}

/** A finding with only the evidence fields a case needs (detect writes more; decide reads these). */
function finding(kind: Finding['kind'], evidence: Evidence, over: Partial<Finding> = {}): Finding {
  return {
    kind,
    severity: 'critical',
    state: 'confirmed',
    summary: `${kind} finding`,
    evidence,
    ...over,
  } as Finding;
}

/** A realised accuracy finding far past its thresholds (drop 0.3, z 20). */
const accuracyAt = (accuracy: number, over: Partial<Finding> = {}, evidence: Evidence = {}) =>
  finding(
    'concept_drift',
    { basis: 'realised', test: 'two_proportion_z', accuracy, drop: 0.9 - accuracy, z: 20, ...evidence },
    over,
  );

const failingAt = (failureRate: number, over: Partial<Finding> = {}) =>
  finding('failures', { test: 'one_proportion_z', failureRate, effect: failureRate, statistic: 30 }, over);

const incident = (kind: Finding['kind'], over: Partial<OpenIncident> = {}): OpenIncident =>
  openIncident(kind, { id: 'inc-9', openedAtCycle: 15, baseline: null, ...over }, NOW - 20 * MINUTE);

const attempt = (action: RemedyAttempt['action'], outcome: RemedyAttempt['outcome']): RemedyAttempt => ({
  action,
  at: NOW - 10 * MINUTE,
  outcome,
  detail: '',
});

describe('critical collapse', () => {
  it('accuracy strictly below floors.accuracy, realised and tested, protects users at once', () => {
    const d = decide(ctx({ findings: [accuracyAt(0.49)] }));
    expect(d).toMatchObject({ rule: 'critical-collapse-protect', action: 'fallback', severity: 'critical' });
    expect(d.reason).toBe('critical collapse: accuracy 0.490 is below the floor 0.5: fallback');
    expect(d.incident).toEqual({
      open: { kind: 'concept_drift', severity: 'critical', summary: 'concept_drift finding' },
    });
    expect(decide(ctx({ findings: [accuracyAt(0.5)] })).rule).toBe('performance-degraded-retrain');
  });

  it('an estimated accuracy, a suspect finding or evidence without a test is not a collapse', () => {
    const estimate = accuracyAt(0.3, {}, { basis: 'estimate' });
    expect(decide(ctx({ findings: [estimate] })).rule).not.toBe('critical-collapse-protect');
    expect(decide(ctx({ findings: [accuracyAt(0.3, { state: 'suspect' })] })).rule).toBe(
      'not-yet-persistent-keep-watching',
    );
    const untested = accuracyAt(0.3, {}, { test: null });
    expect(decide(ctx({ findings: [untested] })).rule).not.toBe('critical-collapse-protect');
    // The accuracy of another kind's evidence is not the model's accuracy.
    const drift = finding(
      'data_drift',
      { basis: 'realised', test: 'x', accuracy: 0.1, maxPsi: 0.3 },
      { severity: 'warning' },
    );
    expect(decide(ctx({ findings: [drift] })).rule).toBe('input-drift-no-impact-alert');
  });

  it('a failure rate at floors.failureRate or above is a collapse, just under it is not', () => {
    const d = decide(ctx({ findings: [failingAt(0.5)] }));
    expect(d).toMatchObject({ rule: 'critical-collapse-protect', action: 'fallback' });
    expect(d.reason).toBe('critical collapse: failure rate 0.500 is at or above the floor 0.5: fallback');
    expect(decide(ctx({ findings: [failingAt(0.49)] })).rule).toBe('system-regression-fallback');
  });

  it('falls back to disabling when no fallback is registered, and records why', () => {
    const d = decide(ctx({ findings: [failingAt(0.8)], deployment: { ...serving, fallbackVersion: null } }));
    expect(d).toMatchObject({ rule: 'critical-collapse-protect', action: 'disable' });
    expect(d.alternatives).toContainEqual({
      action: 'fallback',
      rejectedBecause: 'no fallback version is registered',
    });
    expect(d.alternatives).toContainEqual({
      action: 'retrain',
      rejectedBecause: 'users first: diagnose and repair once they are protected',
    });
  });

  it('inside an open incident it shields without opening another', () => {
    const d = decide(ctx({ findings: [failingAt(0.8)], openIncident: incident('failures') }));
    expect(d).toMatchObject({ rule: 'critical-collapse-protect', action: 'fallback', incident: null });
  });
});

describe('a recent deployment change as the suspected cause', () => {
  const latency = finding('latency', { test: 'baseline_z', effect: 2, statistic: 20 });
  const changedBefore = (ms: number, changedBy: DeploymentFacts['changedBy'] = 'human:ops') =>
    decide(
      ctx({
        findings: [latency],
        windowStart: NOW,
        deployment: { ...serving, changedAt: NOW - ms, changedBy },
      }),
    );

  it('a change up to verification.maxWait (30 min) before the onset, inclusive, is rolled back', () => {
    expect(changedBefore(30 * MINUTE)).toMatchObject({ rule: 'deployment-change-rollback', rollbackTo: 6 });
    expect(changedBefore(0).rule).toBe('deployment-change-rollback');
    expect(changedBefore(30 * MINUTE + 1).action).toBe('fallback');
    const d = changedBefore(30 * MINUTE + 1);
    expect(d.alternatives).toContainEqual({
      action: 'rollback',
      rejectedBecause:
        'no recent deployment change: revision 7 was written more than 30 minutes before the onset',
    });
  });

  it('a change after the onset is a response to it, not its cause', () => {
    expect(changedBefore(-1).action).toBe('fallback');
  });

  it('a release during the window that first shows the degradation is its suspected cause', () => {
    // The onset is the window's start; the release went out 4 minutes into it, before any incident.
    const inWindow = (openIncident: DecisionContext['openIncident']) =>
      decide(
        ctx({
          findings: [latency],
          windowStart: NOW - 10 * MINUTE,
          openIncident,
          deployment: { ...serving, changedAt: NOW - 6 * MINUTE, changedBy: 'human:ops' },
        }),
      );
    expect(inWindow(null)).toMatchObject({ rule: 'deployment-change-rollback', action: 'rollback' });
    // Once an incident is open, a change after it opened answers it.
    const open = incident('latency', {
      onsetAt: new Date(NOW - 10 * MINUTE).toISOString(),
      openedAt: NOW - 8 * MINUTE,
    });
    expect(inWindow(open).action).not.toBe('rollback');
  });

  it("the agent's own change is never the suspected cause", () => {
    const d = changedBefore(5 * MINUTE, 'agent');
    expect(d.action).toBe('fallback');
    expect(d.alternatives[0]?.action).toBe('rollback');
  });

  it('without a known-good revision there is nothing to roll back to', () => {
    const d = decide(
      ctx({
        findings: [latency],
        windowStart: NOW,
        deployment: { ...serving, changedAt: NOW - MINUTE, lastKnownGoodRevision: null },
      }),
    );
    expect(d.action).toBe('fallback');
    expect(d.alternatives).toContainEqual({
      action: 'rollback',
      rejectedBecause: 'no earlier known-good revision to roll back to',
    });
  });

  it("the onset is the open incident's onsetAt when it has one", () => {
    const open = incident('latency', { onsetAt: new Date(NOW - 60 * MINUTE).toISOString() });
    // Changed 70 min before now: 10 min before the incident's onset, so the suspected cause.
    const d = decide(
      ctx({
        findings: [latency],
        openIncident: open,
        deployment: { ...serving, changedAt: NOW - 70 * MINUTE },
      }),
    );
    expect(d).toMatchObject({ rule: 'open-incident-now-actionable', action: 'rollback' });
  });

  it('a suspected release is rolled back before the rungs the ladder puts ahead of rollback', () => {
    // concept_drift's ladder is [retrain, rollback, fallback]; 0.7 is above the 0.5 accuracy floor.
    const drift = (deployment: DeploymentFacts) =>
      decide(ctx({ findings: [accuracyAt(0.7)], windowStart: NOW, deployment }));
    expect(drift({ ...serving, changedAt: NOW - 5 * MINUTE })).toMatchObject({
      rule: 'deployment-change-rollback',
      action: 'rollback',
      rollbackTo: 6,
    });
    // Without a suspected release the ladder's order stands, and rollback is not even weighed.
    const untouched = drift(serving);
    expect(untouched).toMatchObject({ rule: 'performance-degraded-retrain', action: 'retrain' });
    expect(untouched.alternatives.map((a) => a.action)).toEqual(['alert']);
    // The agent's own change is not suspected either.
    expect(drift({ ...serving, changedAt: NOW - 5 * MINUTE, changedBy: 'agent' }).action).toBe('retrain');
  });

  it('broken inputs, traffic and anomalies are not blamed on a deployment', () => {
    const policy = {
      ...DEFAULT_POLICY,
      ladders: { ...DEFAULT_POLICY.ladders, data_quality: ['fallback' as const, 'rollback' as const] },
    };
    const quality = finding('data_quality', { worstRate: 0.4 }, { features: [] });
    const d = decide(
      ctx({
        findings: [quality],
        policy,
        windowStart: NOW,
        deployment: { ...serving, changedAt: NOW - MINUTE },
      }),
    );
    expect(d.action).toBe('fallback');
  });
});

describe('why a remedy is ruled out', () => {
  const concept = accuracyAt(0.7);

  it('retrain: no production version; never on corrupted input; not for a serving regression', () => {
    const noProduction = decide(
      ctx({ findings: [concept], deployment: { ...serving, productionVersion: null } }),
    );
    expect(noProduction.alternatives).toContainEqual({
      action: 'retrain',
      rejectedBecause: 'no production version to retrain from',
    });
    const quality = finding('data_quality', { worstRate: 0.2 }, { state: 'suspect', severity: 'warning' });
    const corrupted = decide(ctx({ findings: [concept, quality] }));
    expect(corrupted.action).toBe('fallback');
    expect(corrupted.alternatives).toContainEqual({
      action: 'retrain',
      rejectedBecause: 'corrupted input: never retrain on data that fails quality checks',
    });
    const recovering = finding(
      'data_quality',
      { worstRate: 0.2 },
      { state: 'recovering', severity: 'warning' },
    );
    expect(decide(ctx({ findings: [concept, recovering] })).action).toBe('retrain');
    const policy = {
      ...DEFAULT_POLICY,
      ladders: { ...DEFAULT_POLICY.ladders, latency: ['retrain' as const, 'fallback' as const] },
    };
    const slow = decide(
      ctx({ policy, findings: [finding('latency', { test: 'baseline_z', effect: 2, statistic: 20 })] }),
    );
    expect(slow.action).toBe('fallback');
    expect(slow.alternatives).toContainEqual({
      action: 'retrain',
      rejectedBecause: 'retraining does not fix a serving regression (latency or failures)',
    });
  });

  it('fallback: none registered, already serving, or predictions disabled', () => {
    const policy = {
      ...DEFAULT_POLICY,
      ladders: { ...DEFAULT_POLICY.ladders, latency: ['fallback' as const, 'disable' as const] },
    };
    const slow = finding('latency', { test: 'baseline_z', effect: 2, statistic: 20 });
    const reason = (deployment: DeploymentFacts) =>
      decide(ctx({ policy, findings: [slow], deployment })).alternatives.find((a) => a.action === 'fallback')
        ?.rejectedBecause;
    expect(reason({ ...serving, mode: 'fallback' })).toBe('the fallback version is already serving');
    expect(reason({ ...serving, mode: 'disabled' })).toBe(
      'predictions are disabled: a fallback would serve again',
    );
    expect(reason({ ...serving, fallbackVersion: null })).toBe('no fallback version is registered');
    const disabled = decide(ctx({ policy, findings: [slow], deployment: { ...serving, mode: 'disabled' } }));
    expect(disabled.action).toBe('alert');
    expect(disabled.alternatives).toContainEqual({
      action: 'disable',
      rejectedBecause: 'predictions are already disabled',
    });
  });

  it('nothing applies when the deployment could not be read', () => {
    const d = decide(ctx({ findings: [concept], deployment: null }));
    expect(d).toMatchObject({ rule: 'no-applicable-rung-alert', action: 'alert' });
    expect(d.alternatives).toContainEqual({
      action: 'retrain',
      rejectedBecause: 'the deployment could not be read',
    });
  });

  it('broken inputs never roll back: an earlier version would see the same inputs', () => {
    const policy = {
      ...DEFAULT_POLICY,
      ladders: { ...DEFAULT_POLICY.ladders, data_quality: ['rollback' as const] },
    };
    const d = decide(ctx({ policy, findings: [finding('data_quality', { worstRate: 0.4 })] }));
    expect(d.rule).toBe('data-quality-protect-never-retrain');
    expect(d.alternatives).toContainEqual({
      action: 'rollback',
      rejectedBecause: 'the inputs are broken upstream: an earlier version would see the same inputs',
    });
  });
});

describe('inside an open incident', () => {
  const stopped = finding('stale_data', { count: 0 }, { severity: 'warning' });

  it('traffic stopping outranks the open incident and goes to a human', () => {
    const d = decide(ctx({ findings: [accuracyAt(0.7), stopped], openIncident: incident('concept_drift') }));
    expect(d).toMatchObject({ rule: 'traffic-stopped-escalate', action: 'alert' });
    expect(d.escalate?.reason).toBe('traffic stopped (stale_data finding); the cause is outside the model');
    // a suspect stop does not; nor a stale-data finding about labels
    const suspect = { ...stopped, state: 'suspect' as const };
    expect(
      decide(ctx({ findings: [accuracyAt(0.7), suspect], openIncident: incident('concept_drift') })).rule,
    ).toBe('open-incident-now-actionable');
    const labels = finding('stale_data', { count: 500, test: 'label_delay_ratio' }, { severity: 'warning' });
    expect(decide(ctx({ findings: [labels], openIncident: incident('concept_drift') })).rule).toBe(
      'findings-cleared-close-incident',
    );
    // a gap in traffic is traffic stopping too
    const gap = finding(
      'stale_data',
      { count: 40, test: 'gap_ratio', gapRatio: 30 },
      { severity: 'warning' },
    );
    expect(decide(ctx({ findings: [gap], openIncident: incident('latency') })).rule).toBe(
      'traffic-stopped-escalate',
    );
  });

  it('a pending attempt is a remedy in flight, whatever the status says', () => {
    const d = decide(
      ctx({
        findings: [accuracyAt(0.7)],
        openIncident: incident('concept_drift', { attempts: [attempt('retrain', 'pending')] }),
      }),
    );
    expect(d).toMatchObject({ rule: 'remedy-in-progress', action: 'none', severity: 'critical' });
    expect(d.reason).toBe('incident inc-9: a remedy, approval or verification is in flight');
    expect(d.alternatives).toEqual([
      { action: 'alert', rejectedBecause: 'one remedy at a time: its outcome decides the next step' },
    ]);
    const noIncident = decide(ctx({ remedyInProgress: true }));
    expect(noIncident.reason).toBe('incident -: a remedy, approval or verification is in flight');
    expect(noIncident.severity).toBeNull();
  });

  it('a finding still easing keeps the incident open rather than flapping', () => {
    const d = decide(
      ctx({
        findings: [accuracyAt(0.8, { state: 'recovering', severity: 'warning' })],
        openIncident: incident('concept_drift'),
      }),
    );
    expect(d).toMatchObject({ rule: 'incident-recovering-keep-watching', action: 'none', incident: null });
    expect(d.alternatives).toEqual([
      { action: 'none', rejectedBecause: 'closing now could flap if the next window is bad again' },
    ]);
    const cleared = decide(ctx({ findings: [], openIncident: incident('concept_drift') }));
    expect(cleared.incident).toEqual({ close: 'recovered' });
  });

  it('names the other confirmed findings of a second kind, and the remedy weak evidence does not take', () => {
    const weak = accuracyAt(0.8, { severity: 'warning' }, { drop: 0.06, z: 3.3 });
    const latency = finding(
      'latency',
      { test: 'baseline_z', effect: 2, statistic: 20 },
      { severity: 'warning' },
    );
    // The alert went out the window before: persistence has not shown yet.
    const justAlerted = incident('concept_drift', { openedAtCycle: 19 });
    const d = decide(ctx({ findings: [weak, latency], openIncident: justAlerted }));
    expect(d.rule).toBe('one-incident-at-a-time');
    expect(d.reason).toBe('incident inc-9 (concept_drift) is already open; also confirmed: latency');
    expect(d.alternatives).toEqual([
      { action: 'alert', rejectedBecause: 'the operator was already alerted for this incident' },
      {
        action: 'retrain',
        rejectedBecause: 'performance-degraded-retrain: evidence not strong enough to act',
      },
    ]);
    const alone = decide(ctx({ findings: [weak], openIncident: justAlerted }));
    expect(alone.reason).toBe('incident inc-9 (concept_drift) is already open');
  });

  it('a moderate finding still confirmed a whole confirmation span after the alert is acted on', () => {
    // Strength 0.67..0.8: an alert when it opened. confirmN (3) windows later it is still confirmed.
    const moderate = accuracyAt(0.8, { severity: 'warning' }, { drop: 0.06, z: 3.3 });
    const at = (openedAtCycle: number, over: Partial<OpenIncident> = {}) =>
      decide(
        ctx({ findings: [moderate], openIncident: incident('concept_drift', { openedAtCycle, ...over }) }),
      );
    expect(at(18).rule).toBe('one-incident-at-a-time');
    const acted = at(17);
    expect(acted).toMatchObject({ rule: 'open-incident-persistent-actionable', action: 'retrain' });
    expect(acted.strength).toBeGreaterThanOrEqual(DEFAULT_POLICY.confidence.alertAbove);
    expect(acted.strength).toBeLessThan(DEFAULT_POLICY.confidence.actAbove);
    expect(acted.reason).toMatch(
      /^incident inc-9: still confirmed 3 windows after the alert \(strength 0\.\d+ < actAbove 0\.8, persistent over 3 windows\): performance-degraded-retrain: /,
    );
    // Not while the finding is transient (its recent windows no longer show it), not below alertAbove,
    // and not once a remedy was tried: the ladder's next rung is nextRung's to take.
    const transient = accuracyAt(0.8, { severity: 'warning', transient: true }, { drop: 0.06, z: 3.3 });
    expect(
      decide(ctx({ findings: [transient], openIncident: incident('concept_drift', { openedAtCycle: 10 }) }))
        .rule,
    ).not.toBe('open-incident-persistent-actionable');
    const strict = { ...DEFAULT_POLICY, confidence: { alertAbove: acted.strength! + 0.01, actAbove: 0.9 } };
    expect(
      decide(
        ctx({
          findings: [moderate],
          policy: strict,
          openIncident: incident('concept_drift', { openedAtCycle: 10 }),
        }),
      ).rule,
    ).not.toBe('open-incident-persistent-actionable');
    expect(
      at(10, { attempts: [{ action: 'retrain', at: NOW, outcome: 'pending', detail: '' }] }).rule,
    ).not.toBe('open-incident-persistent-actionable');
    // An input-drift incident opened without an impact: a fall in this window is not a fall that persisted.
    const driftNowHurting = {
      ...finding('data_drift', { basis: 'realised', test: 'x', maxPsi: 0.3 }, { severity: 'warning' }),
      impact: 'degraded',
    } as Finding;
    // Its plan retrains (moderate evidence: an alert that names the retrain it holds back).
    expect(decide(ctx({ findings: [driftNowHurting] })).alternatives[0]).toMatchObject({ action: 'retrain' });
    expect(
      decide(
        ctx({ findings: [driftNowHurting], openIncident: incident('data_drift', { openedAtCycle: 10 }) }),
      ).rule,
    ).toBe('one-incident-at-a-time');
  });
});

describe('without an incident', () => {
  it('suspect findings are noise to watch; easing ones are left to clear', () => {
    const suspect = decide(ctx({ findings: [accuracyAt(0.7, { state: 'suspect' })] }));
    expect(suspect).toMatchObject({ rule: 'not-yet-persistent-keep-watching', judgement: 'noise' });
    expect(suspect.alternatives).toEqual([
      { action: 'alert', rejectedBecause: 'not confirmed over consecutive windows yet: may be noise' },
    ]);
    const easing = decide(ctx({ findings: [accuracyAt(0.8, { state: 'recovering', severity: 'warning' })] }));
    expect(easing).toMatchObject({ rule: 'recovering-keep-watching', judgement: 'persistent' });
    expect(decide(ctx({})).rule).toBe('healthy');
  });

  it('evidence exactly at alertAbove alerts, exactly at actAbove acts', () => {
    // m = min(drop / 0.05, z / 3) × 1 (warning); strength m / (m + 0.5): m = 0.5 → 0.5, m = 2 → 0.8
    const at = (drop: number) =>
      decide(ctx({ findings: [accuracyAt(0.9 - drop, { severity: 'warning' }, { drop, z: 30 })] }));
    expect(at(0.025)).toMatchObject({ rule: 'moderate-evidence-alert', strength: 0.5 });
    expect(at(0.0249).rule).toBe('weak-evidence-keep-watching');
    expect(at(0.1)).toMatchObject({ rule: 'performance-degraded-retrain', strength: 0.8 });
    const weak = at(0.0249);
    expect(weak.alternatives).toEqual([
      { action: 'retrain', rejectedBecause: 'weak evidence (strength 0.499 < alertAbove 0.5)' },
    ]);
  });
});

describe('cooldowns, budgets and what each plan records', () => {
  const slow = finding('latency', { test: 'baseline_z', effect: 2, statistic: 20 }, { severity: 'warning' });
  const taken = (action: RemedyAttempt['action'], agoMs: number) => ({ action, at: NOW - agoMs });

  it('a remedy in its cooldown is skipped, with how long ago it was taken', () => {
    const d = decide(ctx({ findings: [slow], remedies: [taken('fallback', 3 * MINUTE)] }));
    expect(d).toMatchObject({ rule: 'no-applicable-rung-alert', action: 'alert' });
    expect(d.alternatives).toContainEqual({
      action: 'fallback',
      rejectedBecause: 'cooldown-active: fallback was taken 3 min ago (cooldown 5 minutes)',
    });
    const policy = { ...DEFAULT_POLICY, cooldowns: { ...DEFAULT_POLICY.cooldowns, fallback: '1 day' } };
    const hours = decide(ctx({ policy, findings: [slow], remedies: [taken('fallback', 180 * MINUTE)] }));
    expect(hours.alternatives).toContainEqual({
      action: 'fallback',
      rejectedBecause: 'cooldown-active: fallback was taken 3 h ago (cooldown 1 day)',
    });
    // Remedies of another kind, and records stamped after now, do not count.
    expect(decide(ctx({ findings: [slow], remedies: [taken('disable', MINUTE)] })).action).toBe('fallback');
    expect(decide(ctx({ findings: [slow], remedies: [taken('fallback', -MINUTE)] })).action).toBe('fallback');
  });

  it('the budget counts the remedies within its period, not one taken exactly a period ago', () => {
    const policy = {
      ...DEFAULT_POLICY,
      budgets: { ...DEFAULT_POLICY.budgets, fallback: { max: 1, per: '1 hour' } },
    };
    const spent = decide(ctx({ policy, findings: [slow], remedies: [taken('fallback', 59 * MINUTE)] }));
    expect(spent).toMatchObject({ rule: 'budget-exhausted-escalate', action: 'alert' });
    expect(decide(ctx({ policy, findings: [slow], remedies: [taken('fallback', 60 * MINUTE)] })).action).toBe(
      'fallback',
    );
  });

  it('an acting plan names the remedy (a rollback with its revision) and why an alert alone is not enough', () => {
    const d = decide(
      ctx({ findings: [slow], windowStart: NOW, deployment: { ...serving, changedAt: NOW - MINUTE } }),
    );
    expect(d.reason).toBe('latency confirmed: latency finding: rollback to revision 6');
    expect(d.alternatives).toEqual([
      { action: 'alert', rejectedBecause: 'an alert alone neither protects users nor repairs the model' },
    ]);
  });

  it('anomalies, traffic stops and late labels record the remedies they do not take', () => {
    const anomaly = decide(
      ctx({ findings: [finding('anomaly', { effect: 1, statistic: 9 }, { severity: 'warning' })] }),
    );
    expect(anomaly.alternatives).toEqual([
      { action: 'fallback', rejectedBecause: 'a traffic anomaly is not a model fault' },
      { action: 'none', rejectedBecause: 'confirmed: the operator should know about it' },
    ]);
    const stopped = decide(ctx({ findings: [finding('stale_data', { count: 0 }, { severity: 'warning' })] }));
    expect(stopped.alternatives).toEqual([
      { action: 'fallback', rejectedBecause: 'no traffic: no remedy of the model brings it back' },
    ]);
    const late = finding(
      'stale_data',
      {
        count: 500,
        test: 'label_delay_ratio',
        labelDelayP95Seconds: 1500,
        baselineLabelDelayP95Seconds: 150,
      },
      { severity: 'warning' },
    );
    expect(decide(ctx({ findings: [late] })).alternatives).toEqual([
      { action: 'retrain', rejectedBecause: 'no fresh labels to retrain on' },
    ]);
  });

  it('a collapse already shielded (fallback serving) is not shielded again', () => {
    const d = decide(ctx({ findings: [failingAt(0.8)], deployment: { ...serving, mode: 'fallback' } }));
    expect(d.rule).not.toBe('critical-collapse-protect');
  });

  it('a shield that worked before is raised again; one that failed is not', () => {
    const again = decide(
      ctx({
        findings: [failingAt(0.8)],
        openIncident: incident('failures', { attempts: [attempt('fallback', 'protected')] }),
      }),
    );
    expect(again).toMatchObject({ rule: 'critical-collapse-protect', action: 'fallback' });
    const failed = decide(
      ctx({
        findings: [failingAt(0.8)],
        openIncident: incident('failures', { attempts: [attempt('fallback', 'failed')] }),
      }),
    );
    expect(failed).toMatchObject({ rule: 'critical-collapse-protect', action: 'disable' });
  });

  it('a collapse nothing can shield escalates', () => {
    const d = decide(
      ctx({
        findings: [failingAt(0.8)],
        deployment: { ...serving, fallbackVersion: null },
        remedies: [taken('disable', MINUTE)],
      }),
    );
    expect(d).toMatchObject({ rule: 'ladder-exhausted-escalate', action: 'alert', severity: 'critical' });
    expect(d.reason).toBe(
      'critical collapse: failure rate 0.800 is at or above the floor 0.5, and users cannot be protected automatically',
    );
    expect(d.escalate?.reason).toBe(
      'critical collapse (failure rate 0.800 is at or above the floor 0.5); neither fallback nor disable can be taken',
    );
  });
});

describe('the next rung of an open incident', () => {
  const retrained = (over: Partial<RemedyAttempt> = {}): RemedyAttempt => ({
    ...attempt('retrain', 'not_recovered'),
    ...over,
  });

  it("is judged on the incident's own finding, or on the incident's severity when it has none now", () => {
    const latency = finding(
      'latency',
      { test: 'baseline_z', effect: 2, statistic: 20 },
      { severity: 'critical' },
    );
    const own = accuracyAt(0.8, { severity: 'warning' }, { drop: 0.1, z: 30 });
    const open = incident('concept_drift', { attempts: [retrained()] });
    const d = decide(ctx({ findings: [latency, own], openIncident: open }));
    expect(d).toMatchObject({
      rule: 'verification-failed-next-rung',
      action: 'fallback',
      severity: 'warning',
    });
    expect(d.strength).toBe(0.8);
    expect(d.judgement).toBe('persistent');
    expect(d.reason).toBe('incident inc-9: retrain not recovered (no detail); next: fallback');
    const none = decide(ctx({ openIncident: { ...open, severity: 'critical' } }));
    expect(none).toMatchObject({ severity: 'critical', strength: null, judgement: 'persistent' });
  });

  it('a promoted retrain that fell short is retrained once more on every row, if the run may', () => {
    const open = (attempts: RemedyAttempt[]) => incident('concept_drift', { attempts });
    const short = retrained({ bestAvailable: true, detail: 'accuracy 0.86 < 0.88' });
    const d = decide(ctx({ openIncident: open([short]) }));
    expect(d).toMatchObject({ rule: 'retrain-again-on-more-rows', action: 'retrain', alternatives: [] });
    expect(d.reason).toBe(
      'incident inc-9: retrain improved on the old model but fell short (accuracy 0.86 < 0.88); next: retrain once more on every row since the onset',
    );
    // Not twice, not after a retrain that was not the best available.
    expect(decide(ctx({ openIncident: open([short, short]) })).rule).toBe('no-better-model-escalate');
    const notBest = decide(ctx({ openIncident: open([retrained()]) }));
    expect(notBest).toMatchObject({ rule: 'verification-failed-next-rung', action: 'fallback' });
  });

  it('after the best model available, a fallback would serve worse: it is rejected, and the incident escalates', () => {
    const d = decide(
      ctx({
        openIncident: incident('concept_drift', {
          attempts: [retrained({ bestAvailable: true }), retrained({ bestAvailable: true })],
        }),
      }),
    );
    expect(d).toMatchObject({ rule: 'no-better-model-escalate', action: 'alert' });
    expect(d.alternatives).toContainEqual({
      action: 'fallback',
      rejectedBecause:
        'production is the best model available for the recent data: a fallback would serve worse',
    });
    expect(d.escalate?.reason).toMatch(
      /^tried retrain \(not_recovered\), retrain \(not_recovered\); no model available does better/,
    );
  });
});
