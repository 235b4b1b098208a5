// Decide, table-driven: one row (at least) per rule, then cooldowns, budgets, approvals, ladder progression
// after failed verification, evidence strength, determinism and customised ladders. Findings carry the
// evidence fields detect writes for their kind; two cases take their findings from detect itself.
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import type { DeploymentFacts } from '../../lib/brain/contracts.ts';
import { DECISION_RULES, type DecisionContext, decide, evidenceStrength } from '../../lib/brain/decide.ts';
import { detect, initialDetectorState } from '../../lib/brain/detect.ts';
import type { Decision, Finding, OpenIncident, RemedyAttempt, WindowSummary } from '../../lib/brain/types.ts';
import { DURATION_PATTERN, durationMs } from '../../lib/policy/duration.ts';
import { DEFAULT_POLICY, durationSchema } from '../../lib/policy/policy.ts';
import { openIncident, policyWith, servingFacts } from '../helpers/brain.ts';

const NOW = Date.UTC(2026, 0, 15, 12);
const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

// ---- findings in detect's shapes ------------------------------------------------------------------

type State = Finding['state'];

function conceptDrift(o: { drop?: number; z?: number; state?: State; accuracy?: number } = {}): Finding {
  const drop = o.drop ?? 0.12;
  const accuracy = o.accuracy ?? 0.9 - drop;
  return {
    kind: 'concept_drift',
    severity: drop >= 0.15 || accuracy < 0.5 ? 'critical' : 'warning',
    state: o.state ?? 'confirmed',
    summary: `accuracy ${accuracy.toFixed(3)} is ${drop.toFixed(3)} below the baseline 0.900 while the inputs are stable`,
    evidence: {
      window: 12,
      labelled: 450,
      basis: 'realised',
      test: 'one_proportion_z',
      accuracy,
      baselineAccuracy: 0.9,
      baselineSource: 'production',
      baselineWindows: 8,
      drop,
      z: o.z ?? 8.5,
      pValue: 1e-9,
    },
    windows: [11, 12],
  };
}

function dataDrift(impact: Finding['impact'], psi = 0.6, state: State = 'confirmed'): Finding {
  return {
    kind: 'data_drift',
    severity: psi >= 0.5 ? 'critical' : 'warning',
    state,
    summary: `input drift in income (PSI ${psi.toFixed(2)})`,
    evidence: { window: 12, rows: 500, featuresJudged: 4, featuresDrifted: 1, maxPsi: psi },
    features: [
      {
        name: 'income',
        contribution: 1,
        test: 'kolmogorov_smirnov',
        statistic: 0.3,
        pValue: 1e-8,
        effect: psi,
      },
    ],
    impact,
    windows: [11, 12],
  };
}

function dataQuality(rate = 0.3): Finding {
  return {
    kind: 'data_quality',
    severity: rate >= 0.5 ? 'critical' : 'warning',
    state: 'confirmed',
    summary: 'income (invalid_values:out_of_range)',
    evidence: { window: 12, rows: 500, features: 1, worst: 'income', worstRate: rate },
    features: [
      {
        name: 'income',
        contribution: 1,
        test: 'invalid_values:out_of_range',
        statistic: rate * 500,
        pValue: null,
        effect: rate,
      },
    ],
    windows: [11, 12],
  };
}

/** A user's own rule (docs/extending.md) past its threshold by `margin`. */
function segmentFinding(): Finding {
  const test = {
    name: 'channel=broker',
    labelled: 150,
    accuracy: 0.5,
    baselineAccuracy: 0.9,
    baselineRows: 2000,
    drop: 0.4,
    pValue: 1e-12,
    adjustedPValue: 4e-12,
    broken: true,
  };
  return {
    kind: 'segment',
    severity: 'warning',
    state: 'confirmed',
    summary: 'segment channel=broker: accuracy 0.500 against its 0.900 (adjusted p 4e-12)',
    evidence: { window: 12, segment: 'channel=broker', tests: [test], untested: [] },
    windows: [11, 12],
  };
}

function custom(margin = 3): Finding {
  const verdict = {
    rule: 'manual-review-load',
    judged: true,
    bad: true,
    summary: 'too many reviews',
    margin,
  };
  return {
    kind: 'custom',
    severity: 'warning',
    state: 'confirmed',
    summary: `manual-review-load: ${verdict.summary}`,
    evidence: { window: 12, rules: [{ ...verdict, severity: 'warning' }] },
    windows: [11, 12],
  };
}

function latency(effect = 1.5, statistic = 20): Finding {
  return {
    kind: 'latency',
    severity: effect >= 2 ? 'critical' : 'warning',
    state: 'confirmed',
    summary: `p95 latency ${(60 * (1 + effect)).toFixed(0)} ms is ${(effect * 100).toFixed(0)} % above the baseline 60 ms`,
    evidence: {
      window: 12,
      latencyP95Ms: 60 * (1 + effect),
      test: 'baseline_z',
      baselineP95Ms: 60,
      effect,
      statistic,
    },
    windows: [11, 12],
  };
}

function failures(rate = 0.2, base = 0.002): Finding {
  return {
    kind: 'failures',
    severity: rate >= 0.5 || rate - base >= 0.1 ? 'critical' : 'warning',
    state: 'confirmed',
    summary: `${(rate * 100).toFixed(1)} % of predictions failed or were invalid`,
    evidence: {
      window: 12,
      failureRate: rate,
      test: 'one_proportion_z',
      baselineFailureRate: base,
      effect: rate - base,
      statistic: 40,
      pValue: 0,
    },
    windows: [11, 12],
  };
}

const anomaly = (state: State = 'confirmed'): Finding => ({
  kind: 'anomaly',
  severity: 'warning',
  state,
  summary: 'traffic burst: 3.0× the usual rate',
  evidence: {
    window: 12,
    throughputPerMinute: 900,
    test: 'poisson_z',
    baselineThroughputPerMinute: 300,
    effect: 2,
    statistic: 25,
  },
  windows: [12],
});

const trafficStopped: Finding = {
  kind: 'stale_data',
  severity: 'warning',
  state: 'confirmed',
  summary: 'no predictions arrived in the window',
  evidence: { window: 12, count: 0, gapRatio: null, longestGapRatio: null },
  windows: [11, 12],
};

const labelsLate: Finding = {
  kind: 'stale_data',
  severity: 'warning',
  state: 'confirmed',
  summary: 'labels come back late: p95 delay 1500 s against 150 s',
  evidence: {
    window: 12,
    count: 500,
    gapRatio: 2,
    longestGapRatio: 6,
    test: 'label_delay_ratio',
    labelShare: 0.9,
    baselineLabelShare: 0.9,
    labelDelayP95Seconds: 1500,
    baselineLabelDelayP95Seconds: 150,
    statistic: 0,
  },
  windows: [11, 12],
};

// ---- context --------------------------------------------------------------------------------------

const serving: DeploymentFacts = servingFacts(NOW - DAY);

const incident = (kind: Finding['kind'], over: Partial<OpenIncident> = {}): OpenIncident =>
  openIncident(kind, over, NOW - 20 * MINUTE);

const attempt = (action: RemedyAttempt['action'], outcome: RemedyAttempt['outcome']): RemedyAttempt => ({
  action,
  at: NOW - 10 * MINUTE,
  outcome,
  detail: `${action} ${outcome}`,
});

const fired = new Set<string>();

function run(over: Partial<DecisionContext>): Decision {
  const ctx: DecisionContext = {
    findings: [],
    policy: DEFAULT_POLICY,
    now: NOW,
    cycle: 12,
    openIncident: null,
    deployment: serving,
    remedies: [],
    remedyInProgress: false,
    ...over,
  };
  const d = decide(ctx);
  fired.add(d.rule);
  return d;
}

const rejected = (d: Decision, action: string) =>
  d.alternatives.find((a) => a.action === action)?.rejectedBecause;

// ---- one row per rule -----------------------------------------------------------------------------

interface Row {
  name: string;
  ctx: Partial<DecisionContext>;
  rule: string;
  action: Decision['action'];
  /** 'open:<kind>', 'close', or null. */
  incident: string | null;
  check?: (d: Decision) => void;
}

const rows: Row[] = [
  { name: 'no finding', ctx: {}, rule: 'healthy', action: 'none', incident: null },
  {
    name: 'a suspect finding is noise until it persists',
    ctx: { findings: [conceptDrift({ state: 'suspect' })] },
    rule: 'not-yet-persistent-keep-watching',
    action: 'none',
    incident: null,
    check: (d) => expect(d.judgement).toBe('noise'),
  },
  {
    name: 'a confirmed finding its recent windows do not show in their own rows is noise until they do',
    ctx: { findings: [{ ...conceptDrift({ drop: 0.3, z: 9 }), transient: true }] },
    rule: 'not-yet-persistent-keep-watching',
    action: 'none',
    incident: null,
    check: (d) => {
      expect(d.judgement).toBe('noise');
      expect(d.reason).toMatch(/not shown by its recent windows yet/);
    },
  },
  {
    name: 'a transient finding does not hide a persistent one',
    ctx: { findings: [{ ...conceptDrift({ drop: 0.3, z: 9 }), transient: true }, dataDrift('none')] },
    rule: 'input-drift-no-impact-alert',
    action: 'alert',
    incident: 'open:data_drift',
  },
  {
    name: 'a suspect anomaly (transient spike) does nothing',
    ctx: { findings: [anomaly('suspect')] },
    rule: 'not-yet-persistent-keep-watching',
    action: 'none',
    incident: null,
  },
  {
    name: 'easing findings without an incident',
    ctx: { findings: [conceptDrift({ state: 'recovering' })] },
    rule: 'recovering-keep-watching',
    action: 'none',
    incident: null,
  },
  {
    name: 'a remedy in flight stops everything, even a collapse',
    ctx: {
      findings: [conceptDrift({ accuracy: 0.3 })],
      remedyInProgress: true,
      openIncident: incident('concept_drift'),
    },
    rule: 'remedy-in-progress',
    action: 'none',
    incident: null,
  },
  {
    name: 'an incident awaiting approval is busy too',
    ctx: {
      findings: [conceptDrift()],
      openIncident: incident('concept_drift', { status: 'awaiting_approval' }),
    },
    rule: 'remedy-in-progress',
    action: 'none',
    incident: null,
  },
  {
    name: 'an escalated incident waits for a human',
    ctx: { findings: [conceptDrift()], openIncident: incident('concept_drift', { status: 'escalated' }) },
    rule: 'escalated-awaiting-human',
    action: 'none',
    incident: null,
  },
  {
    name: 'an escalation waiting for a human does not leave users unprotected from a collapse',
    ctx: {
      findings: [conceptDrift({ accuracy: 0.3 })],
      openIncident: incident('concept_drift', { status: 'escalated' }),
    },
    rule: 'critical-collapse-protect',
    action: 'fallback',
    incident: null,
  },
  ...unansweredEscalationRows(),
  {
    name: 'accuracy below the floor: fall back at once, severity critical',
    ctx: { findings: [conceptDrift({ accuracy: 0.4, drop: 0.5 })] },
    rule: 'critical-collapse-protect',
    action: 'fallback',
    incident: 'open:concept_drift',
    check: (d) => {
      expect(d.severity).toBe('critical');
      expect(d.reason).toContain('below the floor 0.5');
      expect(rejected(d, 'retrain')).toMatch(/users first/);
    },
  },
  {
    name: 'collapse without a fallback version: disable',
    ctx: { findings: [failures(0.6)], deployment: { ...serving, fallbackVersion: null } },
    rule: 'critical-collapse-protect',
    action: 'disable',
    incident: 'open:failures',
    check: (d) => expect(rejected(d, 'fallback')).toBe('no fallback version is registered'),
  },
  {
    name: 'collapse inside an open alert-only incident still protects users',
    ctx: { findings: [dataDrift('none'), failures(0.7)], openIncident: incident('data_drift') },
    rule: 'critical-collapse-protect',
    action: 'fallback',
    incident: null,
  },
  {
    name: 'collapse again after a fallback that was lifted: fall back again, not disable',
    ctx: {
      findings: [failures(0.8)],
      openIncident: incident('failures', { attempts: [attempt('fallback', 'not_recovered')] }),
      remedies: [{ action: 'fallback', at: NOW - 40 * MINUTE }],
    },
    rule: 'critical-collapse-protect',
    action: 'fallback',
    incident: null,
  },
  {
    name: 'collapse after a fallback that could not be applied: disable',
    ctx: {
      findings: [failures(0.8)],
      openIncident: incident('failures', { attempts: [attempt('fallback', 'failed')] }),
    },
    rule: 'critical-collapse-protect',
    action: 'disable',
    incident: null,
  },
  {
    name: 'collapse already protected (serving the fallback): the finding is judged as usual',
    ctx: {
      findings: [conceptDrift({ accuracy: 0.4, drop: 0.5 })],
      deployment: { ...serving, mode: 'fallback' },
    },
    rule: 'performance-degraded-retrain',
    action: 'retrain',
    incident: 'open:concept_drift',
  },
  {
    name: 'verification failed: the next applicable rung',
    ctx: {
      findings: [conceptDrift()],
      openIncident: incident('concept_drift', { attempts: [attempt('retrain', 'not_recovered')] }),
    },
    rule: 'verification-failed-next-rung',
    action: 'fallback',
    incident: null,
    check: (d) => {
      expect(rejected(d, 'retrain')).toBe('already tried for this incident');
      expect(rejected(d, 'rollback')).toMatch(/no recent deployment change/);
    },
  },
  {
    name: 'no rung left: escalate',
    ctx: {
      findings: [conceptDrift()],
      openIncident: incident('concept_drift', {
        attempts: [attempt('retrain', 'failed'), attempt('fallback', 'not_recovered')],
      }),
    },
    rule: 'ladder-exhausted-escalate',
    action: 'alert',
    incident: null,
    check: (d) => expect(d.escalate?.reason).toMatch(/retrain \(failed\), fallback \(not_recovered\)/),
  },
  {
    name: 'a retrain found no better model for the drifted data: escalate, no fallback',
    ctx: {
      findings: [dataDrift('degraded')],
      openIncident: incident('data_drift', {
        attempts: [{ ...attempt('retrain', 'rejected'), bestAvailable: true }],
      }),
    },
    rule: 'no-better-model-escalate',
    action: 'alert',
    incident: null,
    check: (d) => {
      expect(rejected(d, 'fallback')).toMatch(/best model available for the recent data/);
      expect(d.escalate?.reason).toMatch(/retrain \(rejected\); no model available does better/);
    },
  },
  {
    name: 'a retrain could not do materially better either: the level changed; alert, close, no escalation',
    ctx: {
      findings: [dataDrift('degraded')],
      openIncident: incident('data_drift', {
        attempts: [
          {
            ...attempt('retrain', 'rejected'),
            bestAvailable: true,
            newLevel: { metric: 'accuracy', value: 0.8312, rows: 1502 },
          },
        ],
      }),
    },
    rule: 'level-changed-rebaseline',
    action: 'alert',
    incident: 'close',
    check: (d) => {
      expect(d.incident).toEqual({ close: 'rebaselined' });
      expect(d.escalate ?? null).toBeNull();
      expect(rejected(d, 'fallback')).toMatch(/best model available for the recent data/);
      expect(d.reason).toMatch(/the level changed, not the model/);
      expect(d.reason).toMatch(/accuracy 0.831 on 1502 rows since the onset becomes the baseline/);
    },
  },
  {
    name: 'a promoted retrain that fell short of the baseline twice stays: escalate, no fallback',
    ctx: {
      findings: [conceptDrift()],
      openIncident: incident('concept_drift', {
        attempts: [
          { ...attempt('retrain', 'not_recovered'), bestAvailable: true },
          { ...attempt('retrain', 'not_recovered'), bestAvailable: true },
        ],
      }),
    },
    rule: 'no-better-model-escalate',
    action: 'alert',
    incident: null,
    check: (d) => expect(rejected(d, 'fallback')).toMatch(/best model available/),
  },
  {
    name: 'a promoted retrain that fell short, first time: retrain once more on every row, cooldown or not',
    ctx: {
      findings: [conceptDrift()],
      openIncident: incident('concept_drift', {
        attempts: [{ ...attempt('retrain', 'not_recovered'), bestAvailable: true }],
      }),
      remedies: [{ action: 'retrain', at: NOW - 10 * 60_000 }],
    },
    rule: 'retrain-again-on-more-rows',
    action: 'retrain',
    incident: null,
    check: (d) => expect(d.reason).toMatch(/retrain once more on every row since the onset/),
  },
  {
    name: 'the second retrain fell short too: escalate',
    ctx: {
      findings: [conceptDrift()],
      openIncident: incident('concept_drift', {
        attempts: [
          { ...attempt('retrain', 'not_recovered'), bestAvailable: true },
          { ...attempt('retrain', 'not_recovered'), bestAvailable: true },
        ],
      }),
    },
    rule: 'no-better-model-escalate',
    action: 'alert',
    incident: null,
  },
  {
    name: 'the second retrain lost its canary: the kept retrain is still the best there is, no fallback',
    ctx: {
      findings: [conceptDrift()],
      openIncident: incident('concept_drift', {
        attempts: [
          { ...attempt('retrain', 'not_recovered'), bestAvailable: true },
          attempt('retrain', 'rejected'),
        ],
      }),
    },
    rule: 'no-better-model-escalate',
    action: 'alert',
    incident: null,
    check: (d) => expect(rejected(d, 'fallback')).toMatch(/best model available/),
  },
  {
    name: 'a short retrain with the retrain budget spent: escalate, no second retrain',
    ctx: {
      findings: [conceptDrift()],
      openIncident: incident('concept_drift', {
        attempts: [{ ...attempt('retrain', 'not_recovered'), bestAvailable: true }],
      }),
      remedies: [1, 2, 3].map((h) => ({ action: 'retrain' as const, at: NOW - h * 3_600_000 })),
    },
    rule: 'no-better-model-escalate',
    action: 'alert',
    incident: null,
  },
  {
    name: 'a retrain rejected for another reason (its canary lost): the fallback is still the next rung',
    ctx: {
      findings: [dataDrift('degraded')],
      openIncident: incident('data_drift', { attempts: [attempt('retrain', 'rejected')] }),
    },
    rule: 'verification-failed-next-rung',
    action: 'fallback',
    incident: null,
  },
  {
    name: 'users protected by a fallback: now repair the model',
    ctx: {
      findings: [conceptDrift()],
      openIncident: incident('concept_drift', { attempts: [attempt('fallback', 'protected')] }),
      deployment: { ...serving, mode: 'fallback' },
    },
    rule: 'protected-then-repair',
    action: 'retrain',
    incident: null,
  },
  {
    name: 'users protected, the retrain cooling down (an incident just before retrained): wait for it',
    ctx: {
      findings: [conceptDrift()],
      openIncident: incident('concept_drift', { attempts: [attempt('fallback', 'protected')] }),
      deployment: { ...serving, mode: 'fallback' },
      remedies: [{ action: 'retrain', at: NOW - 10 * 60_000 }],
    },
    rule: 'protected-awaiting-cooldown',
    action: 'none',
    incident: null,
    check: (d) => {
      expect(d.escalate).toBeNull();
      expect(d.reason).toMatch(/next: retrain once its cooldown lapses/);
      expect(rejected(d, 'retrain')).toBe('cooldown-active: retrain was taken 10 min ago (cooldown 1 hour)');
    },
  },
  {
    name: 'users protected, the retrain cooled down: repair now',
    ctx: {
      findings: [conceptDrift()],
      openIncident: incident('concept_drift', { attempts: [attempt('fallback', 'protected')] }),
      deployment: { ...serving, mode: 'fallback' },
      remedies: [{ action: 'retrain', at: NOW - 61 * 60_000 }],
    },
    rule: 'protected-then-repair',
    action: 'retrain',
    incident: null,
  },
  {
    name: 'users protected, the retrain out of budget (not cooling): escalate',
    ctx: {
      findings: [conceptDrift()],
      openIncident: incident('concept_drift', { attempts: [attempt('fallback', 'protected')] }),
      deployment: { ...serving, mode: 'fallback' },
      remedies: [1, 2, 3].map((h) => ({ action: 'retrain' as const, at: NOW - h * 3_600_000 })),
    },
    rule: 'budget-exhausted-escalate',
    action: 'alert',
    incident: null,
    check: (d) => expect(d.escalate).not.toBeNull(),
  },
  {
    name: "the incident's finding cleared",
    ctx: { findings: [anomaly('suspect')], openIncident: incident('concept_drift') },
    rule: 'findings-cleared-close-incident',
    action: 'none',
    incident: 'close',
  },
  {
    name: "the incident's finding is easing",
    ctx: { findings: [conceptDrift({ state: 'recovering' })], openIncident: incident('concept_drift') },
    rule: 'incident-recovering-keep-watching',
    action: 'none',
    incident: null,
  },
  {
    name: 'another confirmed finding while an incident is open',
    ctx: { findings: [dataDrift('none'), conceptDrift()], openIncident: incident('data_drift') },
    rule: 'one-incident-at-a-time',
    action: 'none',
    incident: null,
    check: (d) => expect(d.reason).toContain('also confirmed: concept_drift'),
  },
  {
    name: 'an alert-only incident whose evidence became strong',
    ctx: { findings: [conceptDrift({ drop: 0.14, z: 10 })], openIncident: incident('concept_drift') },
    rule: 'open-incident-now-actionable',
    action: 'retrain',
    incident: null,
  },
  {
    name: 'an alert-only incident whose moderate finding persisted a confirmation span',
    ctx: { findings: [conceptDrift({ drop: 0.07, z: 5 })], openIncident: incident('concept_drift') },
    rule: 'open-incident-persistent-actionable',
    action: 'retrain',
    incident: null,
    check: (d) => expect(d.strength).toBeLessThan(0.8),
  },
  {
    name: 'broken inputs: fall back, never retrain',
    ctx: { findings: [dataQuality(), conceptDrift()] },
    rule: 'data-quality-protect-never-retrain',
    action: 'fallback',
    incident: 'open:data_quality',
    check: (d) => {
      expect(rejected(d, 'retrain')).toMatch(/corrupted input/);
      expect(rejected(d, 'none')).toMatch(/gateway already does/);
    },
  },
  {
    name: 'broken inputs and no fallback version: alert',
    ctx: { findings: [dataQuality()], deployment: { ...serving, fallbackVersion: null } },
    rule: 'data-quality-protect-never-retrain',
    action: 'alert',
    incident: 'open:data_quality',
  },
  {
    name: 'broken inputs: retrain stays rejected even when the ladder names it first',
    ctx: {
      findings: [dataQuality()],
      policy: policyWith({ ladders: { data_quality: ['retrain', 'fallback'] } }),
    },
    rule: 'data-quality-protect-never-retrain',
    action: 'fallback',
    incident: 'open:data_quality',
    check: (d) => expect(rejected(d, 'retrain')).toMatch(/never retrain/),
  },
  {
    name: 'accuracy fell right after a deployment change: roll back ahead of retraining',
    ctx: { findings: [conceptDrift()], deployment: { ...serving, changedAt: NOW - 10 * MINUTE } },
    rule: 'deployment-change-rollback',
    action: 'rollback',
    incident: 'open:concept_drift',
    check: (d) => expect(d.rollbackTo).toBe(4),
  },
  {
    name: 'latency regression right after a deployment change: roll back',
    ctx: { findings: [latency()], deployment: { ...serving, changedAt: NOW - 25 * MINUTE } },
    rule: 'deployment-change-rollback',
    action: 'rollback',
    incident: 'open:latency',
    check: (d) => expect(d.rollbackTo).toBe(4),
  },
  {
    name: 'concept drift, no recent change: retrain',
    ctx: { findings: [conceptDrift()] },
    rule: 'performance-degraded-retrain',
    action: 'retrain',
    incident: 'open:concept_drift',
    check: (d) => expect(d.rollbackTo).toBeNull(),
  },
  {
    name: 'input drift that hurts performance, with a ladder that names retrain',
    ctx: {
      findings: [dataDrift('degraded')],
      policy: policyWith({ ladders: { data_drift: ['retrain', 'fallback'] } }),
    },
    rule: 'performance-degraded-retrain',
    action: 'retrain',
    incident: 'open:data_drift',
  },
  {
    name: 'latency regression without a recent change: fall back and alert',
    ctx: { findings: [latency()] },
    rule: 'system-regression-fallback',
    action: 'fallback',
    incident: 'open:latency',
    check: (d) => expect(rejected(d, 'rollback')).toMatch(/no recent deployment change/),
  },
  {
    name: "a user's own rule with its own ladder: the ladder's first rung",
    ctx: { findings: [custom()], policy: policyWith({ ladders: { custom: ['fallback'] } }) },
    rule: 'custom-rule-ladder',
    action: 'fallback',
    incident: 'open:custom',
  },
  {
    name: 'one segment broken, the others holding: the first rung of ladders.segment (fallback)',
    ctx: { findings: [segmentFinding()] },
    rule: 'segment-ladder',
    action: 'fallback',
    incident: 'open:segment',
  },
  {
    name: "a webhook rung with an address: the user's rollout system is asked",
    ctx: {
      findings: [latency()],
      policy: policyWith({
        ladders: { latency: ['webhook', 'fallback'] },
        remedyWebhook: { url: 'https://rollouts.example.com/hook' },
      }),
    },
    rule: 'system-regression-fallback',
    action: 'webhook',
    incident: 'open:latency',
  },
  {
    name: 'a webhook rung without an address never applies: the next rung',
    ctx: { findings: [latency()], policy: policyWith({ ladders: { latency: ['webhook', 'fallback'] } }) },
    rule: 'system-regression-fallback',
    action: 'fallback',
    incident: 'open:latency',
    check: (d) =>
      expect(rejected(d, 'webhook')).toBe('no remedy webhook is configured (policy remedyWebhook.url)'),
  },
  {
    name: 'failure regression with a change longer ago than maxWait: fall back',
    ctx: { findings: [failures(0.2)], deployment: { ...serving, changedAt: NOW - 31 * MINUTE } },
    rule: 'system-regression-fallback',
    action: 'fallback',
    incident: 'open:failures',
  },
  {
    name: 'a remedy is called for but none applies: alert',
    ctx: { findings: [latency()], deployment: { ...serving, fallbackVersion: null } },
    rule: 'no-applicable-rung-alert',
    action: 'alert',
    incident: 'open:latency',
  },
  {
    name: 'input drift hurting performance under a ladder that only alerts',
    ctx: { findings: [dataDrift('degraded')], policy: policyWith({ ladders: { data_drift: ['alert'] } }) },
    rule: 'no-applicable-rung-alert',
    action: 'alert',
    incident: 'open:data_drift',
    check: (d) =>
      expect(rejected(d, 'retrain')).toBe('the policy ladder for data_drift does not name retrain'),
  },
  {
    name: 'input drift without a performance impact',
    ctx: { findings: [dataDrift('none')] },
    rule: 'input-drift-no-impact-alert',
    action: 'alert',
    incident: 'open:data_drift',
    check: (d) => expect(rejected(d, 'retrain')).toMatch(/performance has not fallen/),
  },
  {
    name: 'input drift with an unknown impact, even with a ladder that names retrain',
    ctx: { findings: [dataDrift('unknown')], policy: policyWith({ ladders: { data_drift: ['retrain'] } }) },
    rule: 'input-drift-no-impact-alert',
    action: 'alert',
    incident: 'open:data_drift',
  },
  {
    name: 'a confirmed anomaly',
    ctx: { findings: [anomaly()] },
    rule: 'anomaly-confirmed-alert',
    action: 'alert',
    incident: 'open:anomaly',
  },
  {
    name: 'traffic stopped',
    ctx: { findings: [trafficStopped] },
    rule: 'traffic-stopped-escalate',
    action: 'alert',
    incident: 'open:stale_data',
    check: (d) => {
      expect(d.escalate?.reason).toMatch(/outside the model/);
      expect(d.strength).toBe(1);
    },
  },
  {
    name: 'labels come back late',
    ctx: { findings: [labelsLate] },
    rule: 'labels-delayed-alert',
    action: 'alert',
    incident: 'open:stale_data',
    check: (d) => expect(d.escalate).toBeNull(),
  },
  {
    name: 'an effect small against the policy minEffect is weak evidence',
    ctx: {
      findings: [conceptDrift({ drop: 0.06, z: 4 })],
      policy: policyWith({ detection: { minEffect: { accuracyDrop: 0.2 } } }),
    },
    rule: 'weak-evidence-keep-watching',
    action: 'none',
    incident: null,
    check: (d) => expect(d.judgement).toBe('noise'),
  },
  {
    name: 'moderate evidence alerts but does not act',
    ctx: { findings: [conceptDrift({ drop: 0.07, z: 4 })] },
    rule: 'moderate-evidence-alert',
    action: 'alert',
    incident: 'open:concept_drift',
    check: (d) =>
      expect(rejected(d, 'retrain')).toMatch(
        /performance-degraded-retrain: evidence strength 0.727 < actAbove 0.8/,
      ),
  },
  {
    name: 'fallback budget spent and no other rung: escalate',
    ctx: {
      findings: [latency()],
      remedies: Array.from({ length: 6 }, (_, i) => ({
        action: 'fallback' as const,
        at: NOW - (i + 1) * 60 * MINUTE,
      })),
    },
    rule: 'budget-exhausted-escalate',
    action: 'alert',
    incident: 'open:latency',
    check: (d) => {
      expect(rejected(d, 'fallback')).toBe('budget exhausted: 6 fallback(s) within 1 day (max 6)');
      expect(d.escalate?.reason).toMatch(/budgets are exhausted/);
    },
  },
];

/** Policy `escalation.unanswered`: when an unanswered escalation is accepted as a level change, and when not. */
function unansweredEscalationRows(): Row[] {
  const accept = policyWith({ escalation: { unanswered: 'accept' } });
  const level = { metric: 'accuracy' as const, value: 0.82, rows: 400 };
  const escalated = (kind: Finding['kind'], over: Partial<OpenIncident> = {}) =>
    incident(kind, { status: 'escalated', escalatedAt: NOW - DAY, ...over });
  const holds = (name: string, ctx: Partial<DecisionContext>): Row => ({
    name,
    ctx,
    rule: 'escalated-awaiting-human',
    action: 'none',
    incident: null,
  });
  return [
    {
      name: 'accept: a concept-drift escalation unanswered for acceptAfter (1 day) closes as a level change',
      ctx: { findings: [conceptDrift()], policy: accept, level, openIncident: escalated('concept_drift') },
      rule: 'unanswered-escalation-rebaseline',
      action: 'alert',
      incident: 'close',
      check: (d) => {
        expect(d.incident).toEqual({ close: 'rebaselined' });
        expect(d.reason).toContain('accuracy 0.82 on 400 rows becomes the baseline');
      },
    },
    {
      name: "accept: drift with impact is the model's quality too",
      ctx: { findings: [], policy: accept, level, openIncident: escalated('data_drift') },
      rule: 'unanswered-escalation-rebaseline',
      action: 'alert',
      incident: 'close',
    },
    holds('accept: a minute short of acceptAfter, it still holds', {
      findings: [conceptDrift()],
      policy: accept,
      level,
      openIncident: escalated('concept_drift', { escalatedAt: NOW - DAY + MINUTE }),
    }),
    holds('hold (the default): a week unanswered still holds', {
      findings: [conceptDrift()],
      level,
      openIncident: escalated('concept_drift', { escalatedAt: NOW - 7 * DAY }),
    }),
    holds('accept: never while the model is shielded by its fallback', {
      findings: [conceptDrift()],
      policy: accept,
      level,
      openIncident: escalated('concept_drift', {
        attempts: [{ action: 'fallback', at: NOW - 2 * DAY, outcome: 'protected', detail: '' }],
      }),
    }),
    holds('accept: never a latency level', {
      findings: [latency()],
      policy: accept,
      level,
      openIncident: escalated('latency'),
    }),
    holds('accept: never broken inputs', {
      findings: [],
      policy: accept,
      level,
      openIncident: escalated('data_quality'),
    }),
    holds('accept: not without labelled rows to measure the level on', {
      findings: [conceptDrift()],
      policy: accept,
      level: null,
      openIncident: escalated('concept_drift'),
    }),
  ];
}

describe('decide: one row per rule', () => {
  it.each(rows)('$name → $rule', ({ ctx, rule, action, incident: change, check }) => {
    const d = run(ctx);
    expect(d.rule).toBe(rule);
    expect(d.action).toBe(action);
    const got = d.incident === null ? null : 'close' in d.incident ? 'close' : `open:${d.incident.open.kind}`;
    expect(got).toBe(change);
    expect(d.reason.length).toBeGreaterThan(0);
    // Every decision says how it judged the situation.
    expect(d.judgement).not.toBeUndefined();
    expect(d.severity).not.toBeUndefined();
    expect(d.strength === null || (d.strength !== undefined && d.strength >= 0 && d.strength <= 1)).toBe(
      true,
    );
    if (action !== 'rollback') expect(d.rollbackTo).toBeNull();
    check?.(d);
  });
});

// ---- guards -----------------------------------------------------------------------------------------

describe('cooldowns', () => {
  it.each([
    { ago: 30 * MINUTE, action: 'fallback', why: 'a retrain 30 min ago is within the 1 hour cooldown' },
    { ago: 61 * MINUTE, action: 'retrain', why: 'a retrain 61 min ago is past the cooldown' },
  ])('$why', ({ ago, action }) => {
    const d = run({ findings: [conceptDrift()], remedies: [{ action: 'retrain', at: NOW - ago }] });
    expect(d.action).toBe(action);
    if (action === 'fallback') {
      expect(d.rule).toBe('performance-degraded-retrain');
      expect(rejected(d, 'retrain')).toBe('cooldown-active: retrain was taken 30 min ago (cooldown 1 hour)');
    }
  });

  it('uses the policy cooldowns', () => {
    const policy = policyWith({ cooldowns: { retrain: '10 minutes' } });
    const d = run({
      findings: [conceptDrift()],
      policy,
      remedies: [{ action: 'retrain', at: NOW - 30 * MINUTE }],
    });
    expect(d.action).toBe('retrain');
  });
});

describe('budgets', () => {
  it('skips a spent remedy for the next rung, and escalates when none is left', () => {
    const policy = policyWith({
      budgets: { retrain: { max: 1, per: '1 day' } },
      cooldowns: { retrain: '1 minute' },
    });
    const remedies = [{ action: 'retrain' as const, at: NOW - 3 * 60 * MINUTE }];
    const next = run({ findings: [conceptDrift()], policy, remedies });
    expect(next.action).toBe('fallback');
    expect(rejected(next, 'retrain')).toMatch(/budget exhausted: 1 retrain\(s\) within 1 day \(max 1\)/);
    const none = run({
      findings: [conceptDrift()],
      policy,
      remedies,
      deployment: { ...serving, fallbackVersion: null },
    });
    expect(none.rule).toBe('budget-exhausted-escalate');
    expect(none.escalate).not.toBeNull();
  });

  it('forgets remedies older than the budget period', () => {
    const policy = policyWith({ budgets: { retrain: { max: 1, per: '6 hours' } } });
    const d = run({
      findings: [conceptDrift()],
      policy,
      remedies: [{ action: 'retrain', at: NOW - 7 * 60 * MINUTE }],
    });
    expect(d.action).toBe('retrain');
  });

  it('escalates after a failed rung when the next rung has spent its budget', () => {
    const d = run({
      findings: [latency()],
      openIncident: incident('latency', { attempts: [attempt('rollback', 'not_recovered')] }),
      remedies: Array.from({ length: 6 }, (_, i) => ({
        action: 'fallback' as const,
        at: NOW - (i + 2) * 60 * MINUTE,
      })),
    });
    expect(d.rule).toBe('budget-exhausted-escalate');
    expect(d.incident).toBeNull();
  });
});

describe('approvals', () => {
  it('asks a human first when the policy says so, for that remedy only', () => {
    const policy = policyWith({
      approvals: { retrain: { mode: 'approve', timeout: '2 hours', onTimeout: 'alert' } },
    });
    const retrain = run({ findings: [conceptDrift()], policy });
    expect(retrain.action).toBe('retrain');
    expect(retrain.approval).toEqual({ timeout: '2 hours', onTimeout: 'alert' });
    const fallback = run({ findings: [latency()], policy });
    expect(fallback.action).toBe('fallback');
    expect(fallback.approval).toBeNull();
  });

  it('applies to the next rung too, with the defaults filled in', () => {
    const policy = policyWith({ approvals: { fallback: { mode: 'approve' } } });
    const d = run({
      findings: [conceptDrift()],
      policy,
      openIncident: incident('concept_drift', { attempts: [attempt('retrain', 'rejected')] }),
    });
    expect(d.action).toBe('fallback');
    expect(d.approval).toEqual({ timeout: '30 minutes', onTimeout: 'fallback' });
  });
});

describe('ladder progression after failed verification', () => {
  it('climbs the concept_drift ladder rung by rung, rollback first after a recent change, then escalates', () => {
    const deployment = { ...serving, changedAt: NOW - 15 * MINUTE };
    const first = run({ findings: [conceptDrift()], deployment });
    expect(first.action).toBe('rollback');
    const attempts: RemedyAttempt[] = [];
    const taken: string[] = [first.action];
    let d = first;
    const outcomes: RemedyAttempt['outcome'][] = ['not_recovered', 'failed', 'expired'];
    for (const outcome of outcomes) {
      attempts.push(attempt(d.action, outcome));
      d = run({
        findings: [conceptDrift()],
        deployment,
        openIncident: incident('concept_drift', { openedAt: NOW, attempts: [...attempts] }),
      });
      taken.push(d.rule === 'verification-failed-next-rung' ? d.action : d.rule);
    }
    expect(taken).toEqual(['rollback', 'retrain', 'fallback', 'ladder-exhausted-escalate']);
  });

  it('a change written after the incident opened is a response, not a cause', () => {
    const d = run({
      findings: [conceptDrift()],
      deployment: { ...serving, changedAt: NOW - 5 * MINUTE },
      openIncident: incident('concept_drift', { attempts: [attempt('retrain', 'not_recovered')] }),
    });
    expect(d.action).toBe('fallback');
    expect(rejected(d, 'rollback')).toMatch(/no recent deployment change/);
  });
});

describe('customised ladders', () => {
  it.each([
    { ladders: { failures: ['disable'] }, finding: failures(0.2), action: 'disable' },
    { ladders: { concept_drift: ['fallback', 'retrain'] }, finding: conceptDrift(), action: 'fallback' },
    { ladders: { latency: ['alert'] }, finding: latency(), action: 'alert' },
    { ladders: { concept_drift: ['alert', 'retrain'] }, finding: conceptDrift(), action: 'retrain' },
  ])('$ladders → $action', ({ ladders, finding, action }) => {
    expect(run({ findings: [finding], policy: policyWith({ ladders }) }).action).toBe(action);
  });

  it('a ladder without rollback is not overridden by a recent change', () => {
    const policy = policyWith({ ladders: { latency: ['fallback'] } });
    const d = run({ findings: [latency()], policy, deployment: { ...serving, changedAt: NOW - MINUTE } });
    expect(d.action).toBe('fallback');
  });
});

// ---- evidence strength ------------------------------------------------------------------------------

describe('evidence strength', () => {
  it.each([
    // margin = min(drop / 0.05, z / 3) × severity weight; strength = m / (m + 0.5)
    { level: 'weak', finding: conceptDrift({ drop: 0.02, z: 1.2 }), strength: 0.444, action: 'none' },
    { level: 'moderate', finding: conceptDrift({ drop: 0.07, z: 4 }), strength: 0.727, action: 'alert' },
    { level: 'strong', finding: conceptDrift({ drop: 0.12, z: 8.5 }), strength: 0.828, action: 'retrain' },
    {
      level: 'strong (critical)',
      finding: conceptDrift({ drop: 0.2, z: 12 }),
      strength: 0.923,
      action: 'retrain',
    },
    {
      level: 'strong, significance-bound',
      finding: conceptDrift({ drop: 0.3, z: 6 }),
      strength: 0.857,
      action: 'retrain',
    },
  ])('$level evidence: strength $strength → $action', ({ finding, strength, action }) => {
    expect(evidenceStrength(finding, DEFAULT_POLICY)).toBe(strength);
    const d = run({ findings: [finding] });
    expect(d.strength).toBe(strength);
    expect(d.action).toBe(action);
  });

  it('follows the policy thresholds', () => {
    const finding = conceptDrift({ drop: 0.07, z: 4 });
    expect(
      run({ findings: [finding], policy: policyWith({ confidence: { alertAbove: 0.5, actAbove: 0.7 } }) })
        .action,
    ).toBe('retrain');
    expect(
      run({ findings: [finding], policy: policyWith({ confidence: { alertAbove: 0.75, actAbove: 0.8 } }) })
        .rule,
    ).toBe('weak-evidence-keep-watching');
  });

  it('reads each kind from its own evidence fields', () => {
    const strengths = [dataDrift('none'), dataQuality(), latency(), failures(), anomaly(), labelsLate].map(
      (f) => evidenceStrength(f, DEFAULT_POLICY),
    );
    for (const s of strengths) expect(s).toBeGreaterThan(0.5);
    // A larger effect is stronger evidence, all else equal.
    expect(evidenceStrength(latency(3, 20), DEFAULT_POLICY)).toBeGreaterThan(
      evidenceStrength(latency(0.6, 20), DEFAULT_POLICY),
    );
    expect(evidenceStrength(dataDrift('none', 0.25), DEFAULT_POLICY)).toBeLessThan(
      evidenceStrength(dataDrift('none', 0.45), DEFAULT_POLICY),
    );
  });
});

// ---- determinism and the rule catalogue ---------------------------------------------------------------

describe('determinism', () => {
  it('gives the same decision for the same input, whatever the order of findings, and mutates nothing', () => {
    const ctx: Partial<DecisionContext> = {
      findings: [anomaly(), dataDrift('degraded'), latency(), conceptDrift()],
      remedies: [{ action: 'fallback', at: NOW - DAY / 2 }],
      openIncident: null,
    };
    const before = structuredClone(ctx);
    const a = run(ctx);
    const b = run(ctx);
    const reversed = run({ ...ctx, findings: [...(ctx.findings ?? [])].reverse() });
    expect(b).toEqual(a);
    expect(reversed).toEqual(a);
    expect(ctx).toEqual(before);
    expect(a.incident).toMatchObject({ open: { kind: 'latency' } });
  });
});

describe('findings from detect itself', () => {
  const window = (seq: number, over: Partial<WindowSummary>): WindowSummary => ({
    seq,
    startAt: new Date(NOW + seq * MINUTE).toISOString(),
    endAt: new Date(NOW + (seq + 1) * MINUTE).toISOString(),
    count: 500,
    labelled: 0,
    correct: 0,
    accuracy: null,
    ...over,
  });
  const detected = (windows: WindowSummary[]) =>
    windows.reduce((acc, w) => detect(w, acc.state), {
      findings: [] as Finding[],
      state: initialDetectorState(),
    }).findings;

  it('no arrivals over two windows after traffic flowed → traffic stopped, escalated', () => {
    const findings = detected([
      window(0, {}),
      window(1, {}),
      window(2, { count: 0 }),
      window(3, { count: 0 }),
    ]);
    expect(run({ findings }).rule).toBe('traffic-stopped-escalate');
  });

  it('most predictions failing over two windows → critical collapse, fallback', () => {
    const findings = detected([window(0, { failureRate: 0.6 }), window(1, { failureRate: 0.65 })]);
    const d = run({ findings });
    expect(d.rule).toBe('critical-collapse-protect');
    expect(d.action).toBe('fallback');
  });
});

describe('DECISION_RULES', () => {
  it('names each rule once, with a one-line description', () => {
    const names = DECISION_RULES.map((r) => r.name);
    expect(new Set(names).size).toBe(names.length);
    for (const r of DECISION_RULES) expect(r.description).toMatch(/^[^\n]{10,110}$/);
  });

  it('are all explained in docs/agent-logic.md', () => {
    const doc = readFileSync(new URL('../../docs/agent-logic.md', import.meta.url), 'utf8');
    for (const r of DECISION_RULES) expect(doc).toContain(`\`${r.name}\``);
  });

  afterAll(() => {
    // Every rule the tests saw is catalogued, and every catalogued rule was seen.
    const names: string[] = DECISION_RULES.map((r) => r.name);
    expect([...fired].filter((r) => !names.includes(r))).toEqual([]);
    expect(names.filter((r) => !fired.has(r))).toEqual([]);
  });
});

describe('durationMs', () => {
  it.each([
    ['90s', 90_000],
    ['15 minutes', 900_000],
    ['1 minute', 60_000],
    ['6 hours', 21_600_000],
    ['1.5h', 5_400_000],
    ['1 day', 86_400_000],
    ['250ms', 250],
  ])('%s = %d ms', (text, ms) => expect(durationMs(text)).toBe(ms));

  it.each(['soon', '-5 minutes', '5 weeks', '', '10'])('rejects %j as the policy schema does', (text) => {
    expect(() => durationMs(text)).toThrow(TypeError);
    expect(durationSchema.safeParse(text).success).toBe(false);
  });

  it('accepts what the policy schema accepts', () => {
    expect(String(DURATION_PATTERN)).toContain('milliseconds?|s|seconds?|m|minutes?|h|hours?|d|days?');
    for (const d of [DEFAULT_POLICY.verification.maxWait, ...Object.values(DEFAULT_POLICY.cooldowns)]) {
      expect(durationSchema.safeParse(d).success).toBe(true);
      expect(durationMs(d)).toBeGreaterThan(0);
    }
  });
});
