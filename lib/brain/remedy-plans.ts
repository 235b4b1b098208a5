// Remedy planning: which remedies a situation allows and which one a finding calls for. The policy's
// ladder for the finding's kind, in order (rollback first when a recent deployment change is the suspected
// cause), minus the rungs the judgement rules out, those tried already, those cooling down and those whose
// budget is spent. Pure and deterministic, like decide, which calls it.
import type { ActionType, FindingKind } from '../domain.ts';
import { REMEDIES } from '../policy/defaults.ts';
import { durationMs } from '../policy/duration.ts';
import type { Remedy } from './contracts.ts';
import type { DecisionContext } from './decide.ts';
import type { DecisionRule } from './decision-rules.ts';
import { FINDING_RULES, findingOf } from './findings/index.ts';
import { trafficStopped } from './findings/stale-data.ts';
import type { Alternative, Finding, OpenIncident } from './types.ts';

/** Protective remedies shield users while the cause is dealt with. */
export const PROTECTIVE: readonly Remedy[] = ['fallback', 'disable'];

export function isRemedy(action: ActionType): action is Remedy {
  return (REMEDIES as readonly string[]).includes(action);
}

export interface Situation {
  ctx: DecisionContext;
  kind: FindingKind;
  /** Remedies already tried for the incident. */
  tried: readonly ActionType[];
  /** Reference instant for "a recent deployment change": the incident's opening (now for a new one). */
  onset: number;
}

/** The failure's onset on the store's clock: the open incident's, or the window being judged. */
export function onsetOf(ctx: DecisionContext, incident: OpenIncident | null | undefined): number {
  if (incident?.onsetAt) return Date.parse(incident.onsetAt);
  return ctx.windowStart ?? incident?.openedAt ?? ctx.now;
}

/**
 * A deployment change is the suspected cause when the current revision was written at most
 * verification.maxWait before the onset and before the incident opened (now, when none is open): the
 * onset is the start of the window that first showed the degradation, so a release during that window
 * comes after it and may still be its cause. Changes after the incident opened are responses to it.
 */
function recentChange({ ctx, onset }: Situation): boolean {
  const d = ctx.deployment;
  // The agent's own changes were verified (or undone) as part of the incident they answered; they are
  // not the suspected cause of the next one.
  if (!d || d.changedBy === 'agent') return false;
  const latest = Math.max(onset, ctx.openIncident?.openedAt ?? ctx.now);
  return d.changedAt <= latest && onset - d.changedAt <= durationMs(ctx.policy.verification.maxWait);
}

function rollbackCaused(s: Situation): boolean {
  // Only a degradation of the model or its serving can be a release's doing.
  const degradation = ['model', 'serving'].includes(FINDING_RULES[s.kind].origin);
  return degradation && recentChange(s) && (s.ctx.deployment?.lastKnownGoodRevision ?? null) !== null;
}

/** Why the judgement rules out a remedy for this situation, or null when it applies. */
function judgementRejects(remedy: Remedy, s: Situation): string | null {
  const d = s.ctx.deployment;
  if (!d) return 'the deployment could not be read';
  const origin = FINDING_RULES[s.kind].origin;
  const dataBroken = origin === 'inputs' || s.ctx.findings.some(isActiveQualityFinding);
  switch (remedy) {
    case 'rollback': {
      if (origin === 'inputs')
        return 'the inputs are broken upstream: an earlier version would see the same inputs';
      if (d.lastKnownGoodRevision === null) return 'no earlier known-good revision to roll back to';
      if (!recentChange(s))
        return `no recent deployment change: revision ${d.revision} was written more than ${s.ctx.policy.verification.maxWait} before the onset`;
      return null;
    }
    case 'retrain':
      if (d.productionVersion === null) return 'no production version to retrain from';
      if (dataBroken) return 'corrupted input: never retrain on data that fails quality checks';
      if (origin === 'serving') return 'retraining does not fix a serving regression (latency or failures)';
      return null;
    case 'fallback':
      {
        if (d.fallbackVersion === null) return 'no fallback version is registered';
        const segment = s.kind === 'segment' ? findingSegment(s) : null;
        if (segment && d.fallbackSegments?.includes(segment))
          return `the fallback version already serves segment ${segment}`;
        if (d.mode === 'fallback') return 'the fallback version is already serving';
        if (d.mode === 'disabled') return 'predictions are disabled: a fallback would serve again';
      }
      return null;
    case 'disable':
      return d.mode === 'disabled' ? 'predictions are already disabled' : null;
    case 'webhook':
      return s.ctx.policy.remedyWebhook?.url
        ? null
        : 'no remedy webhook is configured (policy remedyWebhook.url)';
  }
}

/** The segment a segment situation is about: the open incident's, else the finding's. */
function findingSegment(s: Situation): string | null {
  return s.ctx.openIncident?.segment ?? findingOf(s.ctx.findings, 'segment')?.evidence.segment ?? null;
}

/** Inputs broken upstream now (a confirmed or suspect finding of that origin): nothing may learn from them. */
function isActiveQualityFinding(f: Finding): boolean {
  return FINDING_RULES[f.kind].origin === 'inputs' && (f.state === 'confirmed' || f.state === 'suspect');
}

function sinceText(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  return minutes < 120 ? `${minutes} min` : `${Math.round(minutes / 60)} h`;
}

/** Cooldown and budget of a remedy: the reason it may not be taken now, or null. */
export function guardRejects(remedy: Remedy, { ctx }: Situation): { reason: string; budget: boolean } | null {
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

export interface Walk {
  remedy: Remedy | null;
  rejected: Alternative[];
  /** Some rung would apply but for its budget. */
  budgetBlocked: boolean;
  /** Rungs that would apply but for a cooldown: they apply again once it lapses. */
  cooling: Remedy[];
}

/** Takes the first candidate rung that applies, recording why each rung before it did not. */
export function walk(candidates: readonly Remedy[], s: Situation): Walk {
  const rejected: Alternative[] = [];
  const cooling: Remedy[] = [];
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
      if (!guard.budget) cooling.push(remedy);
      rejected.push({ action: remedy, rejectedBecause: guard.reason });
      continue;
    }
    return { remedy, rejected, budgetBlocked, cooling };
  }
  return { remedy: null, rejected, budgetBlocked, cooling };
}

/**
 * The ladder's remedies in order ('alert' and 'none' rungs add no remedy: every incident alerts anyway),
 * with rollback moved first when a recent deployment change is the suspected cause.
 */
export function ladderRungs(s: Situation): Remedy[] {
  const rungs = s.ctx.policy.ladders[s.kind].filter(isRemedy);
  const unique = rungs.filter((r, i) => rungs.indexOf(r) === i);
  return rollbackCaused(s) && unique.includes('rollback')
    ? ['rollback', ...unique.filter((r) => r !== 'rollback')]
    : unique;
}

/** A remedy as a reason names it: a rollback with the revision it restores. */
export function remedyText(remedy: Remedy, ctx: DecisionContext): string {
  return remedy === 'rollback' ? `rollback to revision ${ctx.deployment?.lastKnownGoodRevision}` : remedy;
}

// ---- plans: what a finding calls for --------------------------------------------------------------

export interface Plan {
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
export function judge(f: Finding, s: Situation): Plan {
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
    case 'custom':
      // The user's rule measured what only they can judge: their ladder says what to try (by default: alert).
      return remedyPlan('custom-rule-ladder', s, what);
    case 'segment':
      return remedyPlan('segment-ladder', s, what);
  }
}

/** Records that the judgement would take a remedy the policy ladder does not name. */
function notInLadder(remedy: Remedy, s: Situation): Alternative[] {
  return s.ctx.policy.ladders[s.kind].includes(remedy)
    ? []
    : [{ action: remedy, rejectedBecause: `the policy ladder for ${s.kind} does not name ${remedy}` }];
}
