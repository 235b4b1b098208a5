// Decide: maps findings and the agent's situation to one decision. Pure and deterministic (it runs inside
// the agent workflow: no I/O, clock or randomness); every decision names the rule that fired, the
// evidence strength behind it and the alternatives it rejected. docs/agent-logic.md explains each rule.
//
// Order of judgement: a remedy in flight or a human's turn stops everything; a critical collapse protects
// users at once, even inside an open incident; an open incident is carried on (next rung, close, watch);
// otherwise the most causal confirmed finding is judged, weighed by its evidence strength, and opens an
// incident. Remedies come from the policy ladder of the finding's kind, in order, minus the rungs that
// do not apply (judgement), were tried already, are cooling down or have spent their budget.
import type { DeploymentFacts, Remedy } from '../activities/contracts.ts';
import type { ActionType, FindingKind, Severity } from '../lib/domain.ts';
import { durationMs } from '../lib/policy/duration.ts';
import { type Policy, REMEDIES } from '../lib/policy/policy.ts';
import { DETECT_DEFAULTS, LEGACY_CALIBRATION_MIN_RELATIVE } from './detect.ts';
import type { Alternative, Decision, Finding, OpenIncident, RemedyAttempt, RemedyRecord } from './types.ts';

export interface DecisionContext {
  findings: Finding[];
  /** The model's active policy (lib/policy): ladders, confidence thresholds, cooldowns, budgets, approvals. */
  policy: Policy;
  /** Workflow time, epoch ms (cooldowns and budgets are measured from it). */
  now: number;
  cycle: number;
  openIncident: OpenIncident | null;
  /** Null before the model's first deployment, or when it could not be read. */
  deployment: DeploymentFacts | null;
  /** Remedies taken recently, oldest first. */
  remedies: RemedyRecord[];
  /** An action, approval wait or verification is in flight: decide must not start another. */
  remedyInProgress: boolean;
  /**
   * Start of the window being judged, epoch ms on the store's clock — the clock deployment changes are
   * stamped with. Workflow time can run ahead of it (a time-skipping test server), so "was the deployment
   * changed just before the failure" compares store times. Falls back to `now`.
   */
  windowStart?: number;
  /**
   * Patch 'retrain-again-on-more-rows' (the agent sets it; runs begun before escalated at once): a
   * promoted retrain that fell short of the baseline may be retrained once more, on every row since the
   * onset, and it stays the best model available whatever that retry does (a retry whose canary lost
   * must not lead to a fallback that serves worse).
   */
  retrainAgain?: boolean;
}

/** Every rule decide can fire, with what it does; docs/agent-logic.md and the dashboard show them. */
export const DECISION_RULES = [
  {
    name: 'remedy-in-progress',
    description: 'A remedy, approval wait or verification is running: do nothing.',
  },
  {
    name: 'escalated-awaiting-human',
    description: 'The incident is with a human: hold the model as it is until someone acknowledges.',
  },
  {
    name: 'critical-collapse-protect',
    description:
      'Accuracy below floors.accuracy or failure rate at floors.failureRate: fall back (or disable) at once.',
  },
  {
    name: 'verification-failed-next-rung',
    description: 'The last remedy did not recover the model: take the next applicable untried rung.',
  },
  {
    name: 'protected-then-repair',
    description: 'Users are protected (fallback/disable): take the next rung that repairs the model itself.',
  },
  {
    name: 'ladder-exhausted-escalate',
    description: 'No rung of the ladder is left to try: escalate and hold the model in its safe state.',
  },
  {
    name: 'retrain-again-on-more-rows',
    description:
      'A promoted retrain improved but fell short: retrain once more, on every row since the onset.',
  },
  {
    name: 'no-better-model-escalate',
    description:
      'After a retrain, production is the best model for the recent data: escalate, no worse fallback.',
  },
  {
    name: 'budget-exhausted-escalate',
    description: 'The only remedies left have spent their budget: escalate instead of acting again.',
  },
  {
    name: 'findings-cleared-close-incident',
    description: "The open incident's finding has cleared: close it as recovered.",
  },
  {
    name: 'incident-recovering-keep-watching',
    description: "The open incident's finding is easing: wait for consecutive healthy windows.",
  },
  {
    name: 'open-incident-now-actionable',
    description: 'An alert-only incident now has strong evidence and an applicable remedy: act on it.',
  },
  {
    name: 'one-incident-at-a-time',
    description: 'An incident is already open: no second one, the operator was alerted already.',
  },
  {
    name: 'data-quality-protect-never-retrain',
    description: 'Broken inputs upstream: fall back if possible, else alert; never retrain on them.',
  },
  {
    name: 'deployment-change-rollback',
    description: 'Degradation right after a deployment change: roll back to the last known-good revision.',
  },
  {
    name: 'performance-degraded-retrain',
    description: 'Concept drift, or input drift that hurts performance: retrain on data since the onset.',
  },
  {
    name: 'system-regression-fallback',
    description: 'Latency or failure regression with no recent deployment change: fall back and alert.',
  },
  {
    name: 'no-applicable-rung-alert',
    description: 'The finding calls for a remedy but none applies now (cooldown, no fallback...): alert.',
  },
  {
    name: 'input-drift-no-impact-alert',
    description: 'Input drift without a measured performance impact: alert and keep watching.',
  },
  {
    name: 'anomaly-confirmed-alert',
    description: 'A confirmed traffic anomaly: alert; it is not a model fault.',
  },
  {
    name: 'traffic-stopped-escalate',
    description: 'No predictions arrive: nothing the agent can change, so escalate to a human.',
  },
  { name: 'labels-delayed-alert', description: 'Labels stopped or come late: alert; performance is blind.' },
  {
    name: 'weak-evidence-keep-watching',
    description: 'Evidence strength below confidence.alertAbove: do nothing yet.',
  },
  {
    name: 'moderate-evidence-alert',
    description: 'Evidence strength between alertAbove and actAbove: alert only, do not act yet.',
  },
  {
    name: 'not-yet-persistent-keep-watching',
    description: 'Only suspect findings (not persistent yet): treat as noise and keep watching.',
  },
  {
    name: 'recovering-keep-watching',
    description: 'No incident and only easing findings: nothing to do while they clear.',
  },
  { name: 'healthy', description: 'No finding: nothing to do.' },
] as const satisfies readonly { name: string; description: string }[];

export type DecisionRule = (typeof DECISION_RULES)[number]['name'];

/** Protective remedies shield users while the cause is dealt with. */
export const PROTECTIVE: readonly Remedy[] = ['fallback', 'disable'];

/** Findings about the model's own quality, which a better model could repair (unlike its inputs or serving). */
const MODEL_DEGRADATIONS: readonly FindingKind[] = ['concept_drift', 'data_drift'];
/** Outcomes after which the next rung is taken. */
const FAILED_OUTCOMES: readonly RemedyAttempt['outcome'][] = [
  'not_recovered',
  'failed',
  'rejected',
  'expired',
];
/** Incident statuses in which the agent is busy with a remedy (the agent also says so in remedyInProgress). */
const BUSY_STATUSES: readonly OpenIncident['status'][] = [
  'awaiting_approval',
  'mitigating',
  'holding',
  'verifying',
];
/** Root causes first: broken inputs explain failures, failures explain a drop in accuracy, and so on. */
const KIND_PRIORITY: readonly FindingKind[] = [
  'data_quality',
  'failures',
  'latency',
  'concept_drift',
  'data_drift',
  'stale_data',
  'anomaly',
];
const SEVERITY_RANK: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };
/** Multiplies the evidence margin: a critical finding needs less margin to be acted on. */
const SEVERITY_WEIGHT: Record<Severity, number> = { info: 0.75, warning: 1, critical: 1.5 };

export function isRemedy(action: ActionType): action is Remedy {
  return (REMEDIES as readonly string[]).includes(action);
}

// ---- evidence strength ----------------------------------------------------------------------------

function num(f: Finding, key: string): number | null {
  const v = f.evidence[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** A test's margin over its thresholds: the weaker of effect / minimum effect and significance / its threshold. */
function margin(effect: number | null, minEffect: number, significance: number | null): number | null {
  const parts = [effect === null ? null : Math.abs(effect) / minEffect, significance].filter(
    (x): x is number => x !== null,
  );
  return parts.length === 0 ? null : Math.min(...parts);
}

function errorRise(since: number | null, baseline: number | null): number | null {
  return since === null || baseline === null ? null : since - baseline;
}

/** Significance of a p-value against alpha on a log scale: 1 at alpha, 2 at alpha². */
function pMargin(p: number | null, alpha: number): number | null {
  if (p === null) return null;
  return p <= 0 ? Number.POSITIVE_INFINITY : Math.log(p) / Math.log(alpha);
}

const ratio = (x: number | null, threshold: number) => (x === null ? null : x / threshold);

/** Per-test margins of a finding, read from the evidence fields detect writes for its kind. */
function testMargins(f: Finding, policy: Policy): (number | null)[] {
  const { minEffect, alpha, staleGapFactor } = policy.detection;
  const { minZ, latencySigmas, calibrationH, burstFactor, regressionCusumH } = DETECT_DEFAULTS;
  const e = (key: string) => num(f, key);
  switch (f.kind) {
    case 'concept_drift':
      return [
        f.evidence.test === 'baseline_z'
          ? margin(e('effect'), minEffect.errorIncrease, ratio(e('statistic'), latencySigmas))
          : margin(e('drop'), minEffect.accuracyDrop, ratio(e('z'), minZ)),
        // Against the threshold the finding was judged with (findings recorded without one: the legacy 0.08).
        margin(
          e('calibrationEffect'),
          e('calibrationMinEffect') ?? LEGACY_CALIBRATION_MIN_RELATIVE,
          ratio(e('calibrationCusum'), calibrationH),
        ),
        // The regression error CUSUM: the mean rise of RMSE over the windows that built it up.
        f.evidence.rmseTest === 'rmse_z_cusum'
          ? margin(e('rmseCusumEffect'), minEffect.errorIncrease, ratio(e('rmseCusum'), regressionCusumH))
          : null,
        // The per-row error CUSUM: the rise of the error rate since the change, at its chart's level.
        f.evidence.errorTest === 'bernoulli_cusum'
          ? margin(
              errorRise(e('errorRateSince'), e('baselineErrorRate')),
              minEffect.accuracyDrop,
              e('errorCusumLevel'),
            )
          : null,
      ];
    case 'data_drift':
      return f.features && f.features.length > 0
        ? f.features.map((x) => margin(x.effect, minEffect.psi, pMargin(x.pValue, alpha)))
        : [margin(e('maxPsi'), minEffect.psi, null)];
    case 'data_quality':
      return f.features && f.features.length > 0
        ? f.features.map((x) => margin(x.effect, minEffect.missingRate, pMargin(x.pValue, alpha)))
        : [margin(e('worstRate'), minEffect.missingRate, null)];
    case 'latency':
      return [margin(e('effect'), minEffect.latencyIncrease, ratio(e('statistic'), latencySigmas))];
    case 'failures':
      return [margin(e('effect'), minEffect.failureRate, ratio(e('statistic'), minZ))];
    case 'anomaly':
      return [margin(e('effect'), burstFactor - 1, ratio(e('statistic'), minZ))];
    case 'stale_data': {
      if (e('count') === 0) return [Number.POSITIVE_INFINITY];
      if (f.evidence.test === 'label_arrival_share_z') {
        const share = e('labelShare');
        const base = e('baselineLabelShare');
        const fewer = share !== null && base ? 1 - share / base : null;
        return [margin(fewer, 1 - DETECT_DEFAULTS.labelStaleShare, ratio(e('statistic'), minZ))];
      }
      if (f.evidence.test === 'label_delay_ratio') {
        const delay = e('labelDelayP95Seconds');
        const base = e('baselineLabelDelayP95Seconds');
        return [delay !== null && base ? delay / Math.max(base, 1) / DETECT_DEFAULTS.labelDelayFactor : null];
      }
      const gap = Math.max(e('gapRatio') ?? 0, e('longestGapRatio') ?? 0);
      return [gap > 0 ? gap / staleGapFactor : null];
    }
  }
}

/**
 * Evidence strength in [0, 1]: m = the best test's margin (each test: the weaker of effect over the
 * policy's minEffect and significance over its threshold; 1 when the evidence carries neither, since
 * detect flagged it), times the severity weight; strength = m / (m + 0.5). A finding just at its
 * thresholds (m = 1) is 0.67 (alert by default), twice past them 0.8 (act by default).
 */
export function evidenceStrength(f: Finding, policy: Policy): number {
  const margins = testMargins(f, policy).filter((x): x is number => x !== null && !Number.isNaN(x));
  const m = (margins.length > 0 ? Math.max(...margins) : 1) * SEVERITY_WEIGHT[f.severity];
  if (m === Number.POSITIVE_INFINITY) return 1;
  return Math.round((m / (m + 0.5)) * 1000) / 1000;
}

/** The evidence fields that show a critical collapse, or null. Only judged (tested) evidence counts. */
function collapseOf(f: Finding, policy: Policy): string | null {
  if (f.state !== 'confirmed' || typeof f.evidence.test !== 'string') return null;
  const accuracy = num(f, 'accuracy');
  if (f.kind === 'concept_drift' && f.evidence.basis === 'realised' && accuracy !== null) {
    if (accuracy < policy.floors.accuracy)
      return `accuracy ${accuracy.toFixed(3)} is below the floor ${policy.floors.accuracy}`;
  }
  const failureRate = num(f, 'failureRate');
  if (f.kind === 'failures' && failureRate !== null && failureRate >= policy.floors.failureRate)
    return `failure rate ${failureRate.toFixed(3)} is at or above the floor ${policy.floors.failureRate}`;
  return null;
}

// ---- rungs: which remedies apply ------------------------------------------------------------------

interface Situation {
  ctx: DecisionContext;
  kind: FindingKind;
  /** Remedies already tried for the incident. */
  tried: readonly ActionType[];
  /** Reference instant for "a recent deployment change": the incident's opening (now for a new one). */
  onset: number;
}

/** The failure's onset on the store's clock: the open incident's, or the window being judged. */
function onsetOf(ctx: DecisionContext, incident: OpenIncident | null | undefined): number {
  if (incident?.onsetAt) return Date.parse(incident.onsetAt);
  return ctx.windowStart ?? incident?.openedAt ?? ctx.now;
}

/**
 * A deployment change is the suspected cause when the current revision was written at most
 * verification.maxWait before the onset and not after it (later changes are responses to the incident).
 */
function recentChange({ ctx, onset }: Situation): boolean {
  const d = ctx.deployment;
  // The agent's own changes were verified (or undone) as part of the incident they answered; they are
  // not the suspected cause of the next one.
  if (!d || d.changedBy === 'agent') return false;
  return d.changedAt <= onset && onset - d.changedAt <= durationMs(ctx.policy.verification.maxWait);
}

function rollbackCaused(s: Situation): boolean {
  const degradation = s.kind !== 'data_quality' && s.kind !== 'anomaly' && s.kind !== 'stale_data';
  return degradation && recentChange(s) && (s.ctx.deployment?.lastKnownGoodRevision ?? null) !== null;
}

/** Why the judgement rules out a remedy for this situation, or null when it applies. */
function judgementRejects(remedy: Remedy, s: Situation): string | null {
  const d = s.ctx.deployment;
  if (!d) return 'the deployment could not be read';
  const dataBroken = s.kind === 'data_quality' || s.ctx.findings.some(isActiveQualityFinding);
  switch (remedy) {
    case 'rollback': {
      if (s.kind === 'data_quality')
        return 'the inputs are broken upstream: an earlier version would see the same inputs';
      if (d.lastKnownGoodRevision === null) return 'no earlier known-good revision to roll back to';
      if (!recentChange(s))
        return `no recent deployment change: revision ${d.revision} was written more than ${s.ctx.policy.verification.maxWait} before the onset`;
      return null;
    }
    case 'retrain':
      if (d.productionVersion === null) return 'no production version to retrain from';
      if (dataBroken) return 'corrupted input: never retrain on data that fails quality checks';
      if (s.kind === 'latency' || s.kind === 'failures')
        return 'retraining does not fix a serving regression (latency or failures)';
      return null;
    case 'fallback':
      if (d.fallbackVersion === null) return 'no fallback version is registered';
      if (d.mode === 'fallback') return 'the fallback version is already serving';
      if (d.mode === 'disabled') return 'predictions are disabled: a fallback would serve again';
      return null;
    case 'disable':
      return d.mode === 'disabled' ? 'predictions are already disabled' : null;
  }
}

/** A stale-data finding about traffic itself (none arrived, or a gap far beyond the usual), not labels. */
function trafficStopped(f: Finding): boolean {
  return num(f, 'count') === 0 || f.evidence.test === 'gap_ratio';
}

function isActiveQualityFinding(f: Finding): boolean {
  return f.kind === 'data_quality' && (f.state === 'confirmed' || f.state === 'suspect');
}

function sinceText(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  return minutes < 120 ? `${minutes} min` : `${Math.round(minutes / 60)} h`;
}

/** Cooldown and budget of a remedy: the reason it may not be taken now, or null. */
function guardRejects(remedy: Remedy, { ctx }: Situation): { reason: string; budget: boolean } | null {
  const taken = ctx.remedies.filter((r) => r.action === remedy && r.at <= ctx.now);
  const cooldown = ctx.policy.cooldowns[remedy];
  const last = taken.reduce((latest, r) => Math.max(latest, r.at), Number.NEGATIVE_INFINITY);
  if (ctx.now - last < durationMs(cooldown))
    return {
      reason: `cooldown-active: ${remedy} was taken ${sinceText(ctx.now - last)} ago (cooldown ${cooldown})`,
      budget: false,
    };
  const budget = ctx.policy.budgets[remedy];
  const used = taken.filter((r) => ctx.now - r.at < durationMs(budget.per)).length;
  if (used >= budget.max)
    return {
      reason: `budget exhausted: ${used} ${remedy}(s) within ${budget.per} (max ${budget.max})`,
      budget: true,
    };
  return null;
}

interface Walk {
  remedy: Remedy | null;
  rejected: Alternative[];
  /** Some rung would apply but for its budget. */
  budgetBlocked: boolean;
}

/** Takes the first candidate rung that applies, recording why each rung before it did not. */
function walk(candidates: readonly Remedy[], s: Situation): Walk {
  const rejected: Alternative[] = [];
  let budgetBlocked = false;
  for (const remedy of candidates) {
    if (s.tried.includes(remedy)) {
      rejected.push({ action: remedy, rejectedBecause: 'already tried for this incident' });
      continue;
    }
    const why = judgementRejects(remedy, s);
    if (why) {
      rejected.push({ action: remedy, rejectedBecause: why });
      continue;
    }
    const guard = guardRejects(remedy, s);
    if (guard) {
      budgetBlocked ||= guard.budget;
      rejected.push({ action: remedy, rejectedBecause: guard.reason });
      continue;
    }
    return { remedy, rejected, budgetBlocked };
  }
  return { remedy: null, rejected, budgetBlocked };
}

/**
 * The ladder's remedies in order ('alert' and 'none' rungs add no remedy: every incident alerts anyway),
 * with rollback moved first when a recent deployment change is the suspected cause.
 */
function ladderRungs(s: Situation): Remedy[] {
  const rungs = s.ctx.policy.ladders[s.kind].filter(isRemedy);
  const unique = rungs.filter((r, i) => rungs.indexOf(r) === i);
  return rollbackCaused(s) && unique.includes('rollback')
    ? ['rollback', ...unique.filter((r) => r !== 'rollback')]
    : unique;
}

/** A remedy as a reason names it: a rollback with the revision it restores. */
function remedyText(remedy: Remedy, ctx: DecisionContext): string {
  return remedy === 'rollback' ? `rollback to revision ${ctx.deployment?.lastKnownGoodRevision}` : remedy;
}

// ---- plans: what a finding calls for --------------------------------------------------------------

interface Plan {
  rule: DecisionRule;
  action: ActionType;
  reason: string;
  alternatives: Alternative[];
  escalate?: string;
  /** The plan acts (or escalates) and so needs evidence of at least confidence.actAbove. */
  acts: boolean;
}

function remedyPlan(rule: DecisionRule, s: Situation, why: string, extra: Alternative[] = []): Plan {
  const w = walk(ladderRungs(s), s);
  // One alternative per action: the judgement's own reason (extra) wins over the walk's.
  const alternatives = [...extra, ...w.rejected].filter(
    (a, i, all) => all.findIndex((b) => b.action === a.action) === i,
  );
  if (w.remedy) {
    const chosenRule: DecisionRule = w.remedy === 'rollback' ? 'deployment-change-rollback' : rule;
    return {
      rule: chosenRule,
      action: w.remedy,
      reason: `${why}: ${remedyText(w.remedy, s.ctx)}`,
      alternatives: [
        ...alternatives,
        { action: 'alert', rejectedBecause: 'an alert alone neither protects users nor repairs the model' },
      ],
      acts: true,
    };
  }
  if (w.budgetBlocked) {
    return {
      rule: 'budget-exhausted-escalate',
      action: 'alert',
      reason: `${why}, but every applicable remedy has spent its budget`,
      alternatives,
      escalate: `${why}; remedy budgets are exhausted, a human must decide`,
      acts: true,
    };
  }
  return {
    rule: rule === 'data-quality-protect-never-retrain' ? rule : 'no-applicable-rung-alert',
    action: 'alert',
    reason: `${why}, but no rung of the ${s.kind} ladder applies now: alert`,
    alternatives,
    acts: false,
  };
}

const alertPlan = (rule: DecisionRule, reason: string, alternatives: Alternative[]): Plan => ({
  rule,
  action: 'alert',
  reason,
  alternatives,
  acts: false,
});

/** The built-in judgement for one confirmed finding. */
function judge(f: Finding, s: Situation): Plan {
  const what = `${f.kind} confirmed: ${f.summary}`;
  switch (f.kind) {
    case 'data_quality':
      return remedyPlan('data-quality-protect-never-retrain', s, what, [
        {
          action: 'retrain',
          rejectedBecause: 'corrupted input: never retrain on data that fails quality checks',
        },
        {
          action: 'none',
          rejectedBecause:
            'flagging the invalid rows is what the gateway already does; it does not protect users',
        },
      ]);
    case 'latency':
    case 'failures':
      return remedyPlan('system-regression-fallback', s, what);
    case 'concept_drift':
      return remedyPlan('performance-degraded-retrain', s, what, notInLadder('retrain', s));
    case 'data_drift':
      if (f.impact === 'degraded')
        return remedyPlan('performance-degraded-retrain', s, what, notInLadder('retrain', s));
      return alertPlan('input-drift-no-impact-alert', `${what}; watching for a performance impact`, [
        {
          action: 'retrain',
          rejectedBecause:
            f.impact === 'none'
              ? 'performance has not fallen with the drift'
              : 'performance impact unknown (no labels or trustworthy estimate yet)',
        },
      ]);
    case 'anomaly':
      return alertPlan('anomaly-confirmed-alert', what, [
        { action: 'fallback', rejectedBecause: 'a traffic anomaly is not a model fault' },
        { action: 'none', rejectedBecause: 'confirmed: the operator should know about it' },
      ]);
    case 'stale_data':
      if (trafficStopped(f)) {
        return {
          rule: 'traffic-stopped-escalate',
          action: 'alert',
          reason: what,
          alternatives: [
            { action: 'fallback', rejectedBecause: 'no traffic: no remedy of the model brings it back' },
          ],
          escalate: `traffic stopped (${f.summary}); the cause is outside the model`,
          acts: true,
        };
      }
      return alertPlan('labels-delayed-alert', `${what}; performance cannot be measured meanwhile`, [
        { action: 'retrain', rejectedBecause: 'no fresh labels to retrain on' },
      ]);
  }
}

/** Records that the judgement would take a remedy the policy ladder does not name. */
function notInLadder(remedy: Remedy, s: Situation): Alternative[] {
  return s.ctx.policy.ladders[s.kind].includes(remedy)
    ? []
    : [{ action: remedy, rejectedBecause: `the policy ladder for ${s.kind} does not name ${remedy}` }];
}

// ---- decisions ------------------------------------------------------------------------------------

/** What a decision rests on: noise or persistent, how severe, how strong the evidence. */
interface Basis {
  judgement: Decision['judgement'];
  severity: Severity | null;
  strength: number | null;
}

function primary(findings: Finding[]): Finding | undefined {
  return [...findings].sort(
    (a, b) =>
      KIND_PRIORITY.indexOf(a.kind) - KIND_PRIORITY.indexOf(b.kind) ||
      SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity],
  )[0];
}

function basisOf(f: Finding | undefined, policy: Policy): Basis {
  if (!f) return { judgement: null, severity: null, strength: null };
  return {
    judgement: f.state === 'suspect' ? 'noise' : 'persistent',
    severity: f.severity,
    strength: evidenceStrength(f, policy),
  };
}

function decision(
  ctx: DecisionContext,
  plan: Omit<Plan, 'acts'>,
  basis: Basis,
  incident: Decision['incident'] = null,
): Decision {
  const approval = isRemedy(plan.action) ? ctx.policy.approvals[plan.action] : undefined;
  return {
    action: plan.action,
    rule: plan.rule,
    reason: plan.reason,
    alternatives: plan.alternatives,
    incident,
    judgement: basis.judgement,
    severity: basis.severity,
    strength: basis.strength,
    approval:
      approval?.mode === 'approve' ? { timeout: approval.timeout, onTimeout: approval.onTimeout } : null,
    escalate: plan.escalate ? { reason: plan.escalate } : null,
    rollbackTo: plan.action === 'rollback' ? (ctx.deployment?.lastKnownGoodRevision ?? null) : null,
  };
}

const opens = (f: Finding, severity: Severity = f.severity): Decision['incident'] => ({
  open: { kind: f.kind, severity, summary: f.summary },
});

function watch(rule: DecisionRule, reason: string, alternatives: Alternative[] = []): Omit<Plan, 'acts'> {
  return { rule, action: 'none', reason, alternatives };
}

/** Users first: a collapse not yet shielded gets a fallback (or a disable) before anything else. */
function protectFromCollapse(ctx: DecisionContext): Decision | null {
  const collapsed = ctx.findings
    .map((f) => ({ f, why: collapseOf(f, ctx.policy) }))
    .filter((c): c is { f: Finding; why: string } => c.why !== null);
  const first = primary(collapsed.map((c) => c.f));
  const mode = ctx.deployment?.mode;
  if (!first || mode === 'fallback' || mode === 'disabled') return null;
  const why = collapsed.find((c) => c.f === first)?.why ?? '';
  const incident = ctx.openIncident;
  const s: Situation = {
    ctx,
    kind: first.kind,
    // A shield that worked before (and was lifted since) is raised again; one that could not be applied
    // or that a human refused is not.
    tried: (incident?.attempts ?? [])
      .filter((a) => a.outcome === 'failed' || a.outcome === 'rejected')
      .map((a) => a.action),
    onset: onsetOf(ctx, incident),
  };
  const w = walk(PROTECTIVE, s);
  const basis: Basis = { ...basisOf(first, ctx.policy), severity: 'critical' };
  const change = incident ? null : opens(first, 'critical');
  const alternatives = [
    ...w.rejected,
    {
      action: 'retrain' as const,
      rejectedBecause: 'users first: diagnose and repair once they are protected',
    },
  ];
  if (w.remedy)
    return decision(
      ctx,
      {
        rule: 'critical-collapse-protect',
        action: w.remedy,
        reason: `critical collapse: ${why}: ${w.remedy}`,
        alternatives,
      },
      basis,
      change,
    );
  return decision(
    ctx,
    {
      rule: w.budgetBlocked ? 'budget-exhausted-escalate' : 'ladder-exhausted-escalate',
      action: 'alert',
      reason: `critical collapse: ${why}, and users cannot be protected automatically`,
      alternatives,
      escalate: `critical collapse (${why}); neither fallback nor disable can be taken`,
    },
    basis,
    change,
  );
}

/**
 * A promoted retrain that improved on the model it replaced but fell short of the baseline was trained on
 * the first rows after the onset (retrain.minRows of them, as soon as they were there); by the time
 * verification judged it, far more have come. One more retrain on all of them, while the budget allows:
 * part of the same repair, so the retrain cooldown (meant to keep separate incidents from retraining
 * back to back) does not hold it. Its candidate must beat the serving retrain on held-out recent rows,
 * else production stays the best model available and the agent escalates.
 */
function retrainAgain(
  s: Situation,
  incident: OpenIncident,
  last: RemedyAttempt,
  basis: Basis,
): Decision | null {
  const { ctx } = s;
  const retrains = (incident.attempts ?? []).filter((a) => a.action === 'retrain').length;
  if (
    !ctx.retrainAgain ||
    last.action !== 'retrain' ||
    last.outcome !== 'not_recovered' ||
    last.bestAvailable !== true ||
    retrains !== 1 ||
    !ctx.policy.ladders[incident.kind].includes('retrain')
  )
    return null;
  if (guardRejects('retrain', s)?.budget) return null;
  return decision(
    ctx,
    {
      rule: 'retrain-again-on-more-rows',
      action: 'retrain',
      reason: `incident ${incident.id}: retrain improved on the old model but fell short (${last.detail || 'no detail'}); next: retrain once more on every row since the onset`,
      alternatives: [],
    },
    basis,
  );
}

/** The incident's next rung after a failed or protective attempt; escalates when none is left. */
function nextRung(ctx: DecisionContext, incident: OpenIncident, last: RemedyAttempt): Decision {
  const attempts = incident.attempts ?? [];
  const s: Situation = {
    ctx,
    kind: incident.kind,
    tried: attempts.map((a) => a.action),
    onset: onsetOf(ctx, incident),
  };
  const own = ctx.findings.find((f) => f.kind === incident.kind);
  // The incident persists whatever the current window shows: verification said so.
  const basis: Basis = {
    ...basisOf(own, ctx.policy),
    judgement: 'persistent',
    severity: own?.severity ?? incident.severity ?? null,
  };
  const protectedNow = last.outcome === 'protected';
  // After a retrain production is the best model available for the recent data (a refit did no better,
  // or the refit serves and is short of the baseline): a fallback or a disable would only serve worse.
  const bestAvailable =
    (ctx.retrainAgain ? attempts.some((a) => a.bestAvailable === true) : last.bestAvailable === true) &&
    MODEL_DEGRADATIONS.includes(incident.kind);
  const ladder = ladderRungs(s);
  const rungs = ladder.filter((r) => !(protectedNow || bestAvailable) || !PROTECTIVE.includes(r));
  const w = walk(rungs, s);
  if (bestAvailable) {
    for (const r of ladder.filter((r) => PROTECTIVE.includes(r) && !s.tried.includes(r)))
      w.rejected.push({
        action: r,
        rejectedBecause:
          'production is the best model available for the recent data: a fallback would serve worse',
      });
  }
  const after = `${last.action} ${last.outcome.replace('_', ' ')} (${last.detail || 'no detail'})`;
  if (w.remedy) {
    const rule: DecisionRule = protectedNow ? 'protected-then-repair' : 'verification-failed-next-rung';
    return decision(
      ctx,
      {
        rule,
        action: w.remedy,
        reason: `incident ${incident.id}: ${after}; next: ${remedyText(w.remedy, ctx)}`,
        alternatives: w.rejected,
      },
      basis,
    );
  }
  // No other rung repairs: before handing the incident over, the one retry a short retrain earns.
  const again = retrainAgain(s, incident, last, basis);
  if (again) return again;
  const tried = attempts.map((a) => `${a.action} (${a.outcome})`).join(', ');
  if (bestAvailable && !w.budgetBlocked)
    return decision(
      ctx,
      {
        rule: 'no-better-model-escalate',
        action: 'alert',
        reason: `incident ${incident.id}: ${after}; production is the best model available for the recent data`,
        alternatives: w.rejected,
        escalate: `tried ${tried}; no model available does better on the recent data, and it is short of the baseline: accepting the new level, or changing the model's design or features, is a human's call`,
      },
      basis,
    );
  return decision(
    ctx,
    {
      rule: w.budgetBlocked ? 'budget-exhausted-escalate' : 'ladder-exhausted-escalate',
      action: 'alert',
      reason: `incident ${incident.id}: ${after}; no rung of the ${incident.kind} ladder is left`,
      alternatives: w.rejected,
      escalate: `tried ${tried}; ${w.budgetBlocked ? 'remedy budgets are exhausted' : 'the ladder is exhausted'}`,
    },
    basis,
  );
}

function carryIncident(ctx: DecisionContext, incident: OpenIncident): Decision {
  // Traffic stopping outranks whatever the open incident is about: nothing the agent does can bring it
  // back, so the open incident goes to a human now.
  const stopped = ctx.findings.find(
    (f) => f.kind === 'stale_data' && f.state === 'confirmed' && trafficStopped(f),
  );
  if (stopped && incident.kind !== 'stale_data') {
    const plan = judge(stopped, { ctx, kind: 'stale_data', tried: [], onset: onsetOf(ctx, incident) });
    return decision(ctx, plan, basisOf(stopped, ctx.policy));
  }
  const last = incident.attempts?.at(-1);
  if (last && (FAILED_OUTCOMES.includes(last.outcome) || last.outcome === 'protected'))
    return nextRung(ctx, incident, last);
  const own = ctx.findings.find((f) => f.kind === incident.kind);
  if (!own)
    return decision(
      ctx,
      watch(
        'findings-cleared-close-incident',
        `no ${incident.kind} finding remains; incident ${incident.id} recovered`,
      ),
      basisOf(undefined, ctx.policy),
      { close: 'recovered' },
    );
  const basis = basisOf(own, ctx.policy);
  if (own.state !== 'confirmed')
    return decision(
      ctx,
      watch(
        'incident-recovering-keep-watching',
        `incident ${incident.id}: ${incident.kind} is ${own.state}; waiting for consecutive healthy windows`,
        [{ action: 'none', rejectedBecause: 'closing now could flap if the next window is bad again' }],
      ),
      basis,
    );
  const s: Situation = { ctx, kind: own.kind, tried: [], onset: onsetOf(ctx, incident) };
  const plan = judge(own, s);
  if (plan.acts && (basis.strength ?? 0) >= ctx.policy.confidence.actAbove)
    return decision(
      ctx,
      {
        ...plan,
        rule: 'open-incident-now-actionable',
        reason: `incident ${incident.id}: ${plan.rule}: ${plan.reason}`,
      },
      basis,
    );
  const others = ctx.findings
    .filter((f) => f.kind !== incident.kind && f.state === 'confirmed')
    .map((f) => f.kind);
  return decision(
    ctx,
    watch(
      'one-incident-at-a-time',
      `incident ${incident.id} (${incident.kind}) is already open${others.length > 0 ? `; also confirmed: ${others.join(', ')}` : ''}`,
      [
        { action: 'alert', rejectedBecause: 'the operator was already alerted for this incident' },
        ...(plan.acts
          ? [{ action: plan.action, rejectedBecause: `${plan.rule}: evidence not strong enough to act` }]
          : []),
      ],
    ),
    basis,
  );
}

function openNew(ctx: DecisionContext): Decision {
  const confirmed = ctx.findings.filter((f) => f.state === 'confirmed');
  const top = primary(confirmed);
  if (!top) {
    const suspect = primary(ctx.findings.filter((f) => f.state === 'suspect'));
    if (suspect)
      return decision(
        ctx,
        watch('not-yet-persistent-keep-watching', `${suspect.kind} is suspect: ${suspect.summary}`, [
          { action: 'alert', rejectedBecause: 'not confirmed over consecutive windows yet: may be noise' },
        ]),
        basisOf(suspect, ctx.policy),
      );
    const easing = primary(ctx.findings.filter((f) => f.state === 'recovering'));
    if (easing)
      return decision(
        ctx,
        watch('recovering-keep-watching', `${easing.kind} is recovering: ${easing.summary}`),
        basisOf(easing, ctx.policy),
      );
    return decision(ctx, watch('healthy', 'no finding'), basisOf(undefined, ctx.policy));
  }
  const basis = basisOf(top, ctx.policy);
  const strength = basis.strength ?? 0;
  const { alertAbove, actAbove } = ctx.policy.confidence;
  const plan = judge(top, { ctx, kind: top.kind, tried: [], onset: onsetOf(ctx, null) });
  if (strength < alertAbove)
    return decision(
      ctx,
      watch(
        'weak-evidence-keep-watching',
        `${top.kind} confirmed but weak: strength ${strength} < ${alertAbove}`,
        [
          {
            action: plan.action,
            rejectedBecause: `weak evidence (strength ${strength} < alertAbove ${alertAbove})`,
          },
        ],
      ),
      { ...basis, judgement: 'noise' },
    );
  if (plan.acts && strength < actAbove)
    return decision(
      ctx,
      {
        rule: 'moderate-evidence-alert',
        action: 'alert',
        reason: `${top.kind} confirmed: ${top.summary}; strength ${strength} < actAbove ${actAbove}: alert only`,
        alternatives: [
          {
            action: plan.action,
            rejectedBecause: `${plan.rule}: evidence strength ${strength} < actAbove ${actAbove}`,
          },
          ...plan.alternatives,
        ],
      },
      basis,
      opens(top),
    );
  return decision(ctx, plan, basis, opens(top));
}

export function decide(ctx: DecisionContext): Decision {
  const incident = ctx.openIncident;
  const busy =
    ctx.remedyInProgress ||
    (incident !== null && BUSY_STATUSES.includes(incident.status)) ||
    incident?.attempts?.at(-1)?.outcome === 'pending';
  if (busy)
    return decision(
      ctx,
      watch(
        'remedy-in-progress',
        `incident ${incident?.id ?? '-'}: a remedy, approval or verification is in flight`,
        [{ action: 'alert', rejectedBecause: 'one remedy at a time: its outcome decides the next step' }],
      ),
      basisOf(primary(ctx.findings.filter((f) => f.state === 'confirmed')), ctx.policy),
    );
  if (incident?.status === 'escalated')
    return decision(
      ctx,
      watch(
        'escalated-awaiting-human',
        `incident ${incident.id} is escalated; holding until a human acknowledges`,
      ),
      basisOf(
        ctx.findings.find((f) => f.kind === incident.kind),
        ctx.policy,
      ),
    );
  return protectFromCollapse(ctx) ?? (incident ? carryIncident(ctx, incident) : openNew(ctx));
}
